//! Scripts in a running pair of `vrrpd`: a `vrrp_script` tracked with weight 0 puts the master in FAULT when
//! it fails (the backup takes over) and lets it back when it succeeds again (it preempts); a weighted script
//! lowers the priority below the peer's; notify scripts run with keepalived's arguments; `track_interface`
//! takes an instance to FAULT when the tracked interface loses its carrier.

mod netns;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use netns::{Implementation, Topology, VIP, wait_for};

/// An executable shell script in the test directory.
fn script(topology: &Topology, name: &str, body: &str) -> PathBuf {
    let path = topology.write(name, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn config(priority: u8, check: &Path, weight: i32, notify: &Path, extra: &str) -> String {
    format!(
        "vrrp_script chk {{\n    script \"{check}\"\n    interval 1\n    weight {weight}\n    fall 1\n    rise 1\n}}\n\
         vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n\
         advert_int 1\n    track_script {{\n        chk\n    }}\n{extra}    notify \"{notify}\"\n\
         virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n",
        check = check.display(),
        notify = notify.display(),
    )
}

#[test]
fn failing_check_faults_the_master_and_notify_scripts_see_each_state() {
    require_netns!();
    let mut topology = Topology::new(2);
    let flag = topology.dir.join("healthy");
    std::fs::write(&flag, "").expect("flag");
    let check = script(
        &topology,
        "check.sh",
        &format!("test -e {}", flag.display()),
    );
    let always = script(&topology, "ok.sh", "exit 0");
    let notified = topology.dir.join("notify.log");
    let notify = script(
        &topology,
        "notify.sh",
        &format!("echo \"$@\" >> {}", notified.display()),
    );
    let backup_notify = script(&topology, "notify2.sh", "exit 0");
    topology.start(
        2,
        Implementation::Vrrpd,
        &config(100, &always, 0, &backup_notify, ""),
    );
    topology.start(
        1,
        Implementation::Vrrpd,
        &config(200, &check, 0, &notify, ""),
    );
    assert!(
        wait_for(Duration::from_secs(6), || topology.has_vip(1)).is_some(),
        "no master\n{}",
        topology.logs()
    );

    std::fs::remove_file(&flag).expect("flag");
    let faulted = wait_for(Duration::from_secs(4), || !topology.has_vip(1));
    assert!(
        faulted.is_some(),
        "the failing check did not fault the master\n{}",
        topology.logs()
    );
    // Priority 0 on the way to FAULT: the backup takes over within Skew_Time, not a down interval.
    assert!(
        wait_for(Duration::from_millis(1500), || topology.has_vip(2)).is_some(),
        "backup did not take over\n{}",
        topology.logs()
    );

    std::fs::write(&flag, "").expect("flag");
    assert!(
        wait_for(Duration::from_secs(8), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "the recovered master did not take back the VIP\n{}",
        topology.logs()
    );
    // The notify script runs after the VIP is added: give it time to write.
    wait_for(Duration::from_secs(2), || {
        std::fs::read_to_string(&notified).is_ok_and(|text| text.lines().count() >= 5)
    });
    let lines = std::fs::read_to_string(&notified).unwrap_or_default();
    let states: Vec<&str> = lines.lines().collect();
    assert_eq!(
        states,
        [
            "INSTANCE VI_1 BACKUP 200",
            "INSTANCE VI_1 MASTER 200",
            "INSTANCE VI_1 FAULT 200",
            "INSTANCE VI_1 BACKUP 200",
            "INSTANCE VI_1 MASTER 200",
        ],
        "{}",
        topology.logs()
    );
}

#[test]
fn weighted_check_hands_over_to_the_peer() {
    require_netns!();
    let mut topology = Topology::new(2);
    let flag = topology.dir.join("healthy");
    std::fs::write(&flag, "").expect("flag");
    let check = script(
        &topology,
        "check.sh",
        &format!("test -e {}", flag.display()),
    );
    let always = script(&topology, "ok.sh", "exit 0");
    let quiet = script(&topology, "notify.sh", "exit 0");
    topology.start(
        2,
        Implementation::Vrrpd,
        &config(150, &always, 0, &quiet, ""),
    );
    // 200 while healthy, 200 - 100 = 100 when the check fails: below the peer's 150.
    topology.start(
        1,
        Implementation::Vrrpd,
        &config(200, &check, -100, &quiet, ""),
    );
    assert!(
        wait_for(Duration::from_secs(6), || topology.has_vip(1)).is_some(),
        "no master\n{}",
        topology.logs()
    );
    std::fs::remove_file(&flag).expect("flag");
    // The master keeps advertising, with priority 100; the peer (150) preempts after its down interval.
    assert!(
        wait_for(Duration::from_secs(8), || topology.has_vip(2)
            && !topology.has_vip(1))
        .is_some(),
        "the weighted failure did not hand the VIP over\n{}",
        topology.logs()
    );
}

#[test]
fn tracked_interface_down_faults_the_instance() {
    require_netns!();
    let mut topology = Topology::new(2);
    let always = script(&topology, "ok.sh", "exit 0");
    let quiet = script(&topology, "notify.sh", "exit 0");
    let router = topology.router(1);
    let status = std::process::Command::new("ip")
        .args([
            "-n", &router, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1",
        ])
        .status();
    assert!(status.is_ok_and(|s| s.success()));
    for interface in ["trk0", "trk1"] {
        let _ = std::process::Command::new("ip")
            .args(["-n", &router, "link", "set", interface, "up"])
            .status();
    }
    let tracked = "    track_interface {\n        trk0\n    }\n";
    topology.start(
        2,
        Implementation::Vrrpd,
        &config(100, &always, 0, &quiet, ""),
    );
    topology.start(
        1,
        Implementation::Vrrpd,
        &config(200, &always, 0, &quiet, tracked),
    );
    assert!(
        wait_for(Duration::from_secs(6), || topology.has_vip(1)).is_some(),
        "no master\n{}",
        topology.logs()
    );
    let _ = std::process::Command::new("ip")
        .args(["-n", &router, "link", "set", "trk1", "down"])
        .status();
    assert!(
        wait_for(Duration::from_millis(1500), || topology.has_vip(2)
            && !topology.has_vip(1))
        .is_some(),
        "carrier loss did not fault the master\n{}",
        topology.logs()
    );
    let _ = std::process::Command::new("ip")
        .args(["-n", &router, "link", "set", "trk1", "up"])
        .status();
    assert!(
        wait_for(Duration::from_secs(6), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "carrier back did not bring the master back\n{}",
        topology.logs()
    );
}
