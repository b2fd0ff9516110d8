//! `vrrp_sync_group` in namespaces: two instances on two networks (`VI_1` on eth0, `VI_2` on eth1) in one sync
//! group on each router. When the master loses eth1 alone, `VI_2` faults and the group takes `VI_1` out of
//! MASTER with it, so the peer holds both VIPs (not one each: the split a sync group exists to prevent); when
//! eth1 returns, the master takes both back. The group's `notify` script sees keepalived's arguments for every
//! group transition, the BACKUP of start-up included. Ours as the router losing its link, with ours or
//! keepalived 2.2.7 as the peer, and keepalived losing its link with ours as the peer (the same expectations
//! hold for both).

mod netns;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use netns::{Implementation, Topology, VIP, wait_for};

const VIP2: &str = "10.98.0.100";

fn config(priority: u8, notify: &Path) -> String {
    let instance = |name: &str, interface: &str, vrid: u8, vip: &str| {
        format!(
            "vrrp_instance {name} {{\n    interface {interface}\n    virtual_router_id {vrid}\n    priority {priority}\n\
             advert_int 0.1\n    version 3\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
        )
    };
    format!(
        "vrrp_sync_group G1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n    notify \"{}\"\n}}\n{}{}",
        notify.display(),
        instance("VI_1", "eth0", 51, VIP),
        instance("VI_2", "eth1", 52, VIP2),
    )
}

/// A notify script appending its arguments to `<name>.log`; returns the script and the log.
fn recorder(topology: &Topology, name: &str) -> (PathBuf, PathBuf) {
    let log = topology.dir.join(format!("{name}.log"));
    let script = topology.write(
        &format!("{name}.sh"),
        &format!("#!/bin/sh\necho \"$@\" >> {}\n", log.display()),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, log)
}

fn holds_both(topology: &Topology, n: usize) -> bool {
    topology.has_address_on(n, "eth0", VIP) && topology.has_address_on(n, "eth1", VIP2)
}

fn holds_none(topology: &Topology, n: usize) -> bool {
    !topology.has_address_on(n, "eth0", VIP) && !topology.has_address_on(n, "eth1", VIP2)
}

fn members_move_together(master: Implementation, peer: Implementation) {
    let mut topology = Topology::new(2);
    topology.add_second_network();
    let (peer_notify, _) = recorder(&topology, "notify-r2");
    let (notify, notified) = recorder(&topology, "notify-r1");
    topology.start(2, peer, &config(100, &peer_notify));
    let run = topology.start(1, master, &config(200, &notify));
    assert!(
        wait_for(Duration::from_secs(15), || holds_both(&topology, 1)
            && holds_none(&topology, 2))
        .is_some(),
        "r1 is not master of both\n{}",
        topology.logs()
    );
    // Notify scripts run side by side: let the MASTER one finish before the FAULT one can start.
    wait_for(Duration::from_secs(3), || {
        std::fs::read_to_string(&notified).is_ok_and(|text| text.lines().count() >= 2)
    });

    topology.set_link(1, "eth1", false);
    // VI_2 faults at once (link event), VI_1 follows through the group with priority 0, the peer takes both
    // within Skew_Time: far less than a second.
    let moved = wait_for(Duration::from_secs(3), || {
        holds_both(&topology, 2) && !topology.has_address_on(1, "eth0", VIP)
    });
    assert!(
        moved.is_some(),
        "the group did not move to the peer together\n{}",
        topology.logs()
    );
    // And it stays that way: r1's VI_1, whose own link is fine, does not come back as master on its own.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        holds_both(&topology, 2) && holds_none(&topology, 1),
        "the group split after the fault\n{}",
        topology.logs()
    );
    let log = topology.daemon(run).log_text();
    assert!(
        log.contains("(VI_2) Entering FAULT STATE"),
        "no FAULT for the member that lost its link\n{log}"
    );

    topology.set_link(1, "eth1", true);
    assert!(
        wait_for(Duration::from_secs(5), || holds_both(&topology, 1)
            && holds_none(&topology, 2))
        .is_some(),
        "r1 did not take both back when its link returned\n{}",
        topology.logs()
    );
    // The group's notify script, with keepalived's arguments, once per group transition.
    let expected = [
        "GROUP G1 BACKUP 0",
        "GROUP G1 MASTER 0",
        "GROUP G1 FAULT 0",
        "GROUP G1 BACKUP 0",
        "GROUP G1 MASTER 0",
    ];
    wait_for(Duration::from_secs(2), || {
        std::fs::read_to_string(&notified).is_ok_and(|text| text.lines().count() >= expected.len())
    });
    let text = std::fs::read_to_string(&notified).unwrap_or_default();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        expected,
        "group notify of {master:?}\n{}",
        topology.logs()
    );
}

#[test]
fn sync_group_moves_together_with_vrrpd_peer() {
    require_netns!();
    members_move_together(Implementation::Vrrpd, Implementation::Vrrpd);
}

#[test]
fn sync_group_moves_together_with_keepalived_peer() {
    require_netns!(keepalived);
    members_move_together(Implementation::Vrrpd, Implementation::Keepalived);
}

#[test]
fn keepalived_sync_group_moves_to_vrrpd_peer() {
    require_netns!(keepalived);
    members_move_together(Implementation::Keepalived, Implementation::Vrrpd);
}
