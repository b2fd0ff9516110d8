//! SIGHUP in namespaces. A reload that leaves an instance as it was must not bounce its master: no state
//! change on either router, the VIP never leaves, the adverts on the wire (tcpdump on the bridge) keep their
//! rhythm with no gap beyond one interval and no priority 0, and the backup never advertises. A reload that
//! changes a master's VIP set logs a loud warning, adds the new address without a state change, and the
//! warning is borne out: keepalived 2.2.7 as the peer, still on the old list, rejects the adverts and becomes
//! master too.

mod netns;

use std::time::{Duration, Instant};

use netns::{Implementation, Topology, VIP, wait_for};
use nix::sys::signal::Signal;

const INTERVAL: f64 = 0.1;
const VIP_ADDED: &str = "10.99.0.101";
const WARNING: &str = "(VI_1) WARNING - the reload changes the virtual addresses";

fn config(priority: u8, vips: &[&str]) -> String {
    let addresses: String = vips
        .iter()
        .map(|vip| format!("        {vip}/24\n"))
        .collect();
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n\
         advert_int {INTERVAL}\n    version 3\n    virtual_ipaddress {{\n{addresses}    }}\n}}\n"
    )
}

/// r1 (ours, priority 200) master, `peer` (priority 100) backup; returns r1's run.
fn pair(topology: &mut Topology, peer: Implementation, r1_vips: &[&str]) -> usize {
    topology.start(2, peer, &config(100, &[VIP]));
    let run = topology.start(1, Implementation::Vrrpd, &config(200, r1_vips));
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "no master\n{}",
        topology.logs()
    );
    // Past the start-up transitions.
    std::thread::sleep(Duration::from_millis(500));
    run
}

fn reload_keeps_master(peer: Implementation) {
    let mut topology = Topology::new(2);
    let run = pair(&mut topology, peer, &[VIP]);
    let logged_before = topology.daemon(run).log_text().len();
    let peer_logged_before = topology.daemon(0).log_text().len();
    let capture = topology.capture_adverts();
    std::thread::sleep(Duration::from_millis(500));

    topology.daemon(run).signal(Signal::SIGHUP);
    let start = Instant::now();
    let mut vip_lost = false;
    while start.elapsed() < Duration::from_millis(1500) {
        vip_lost |= !topology.has_vip(1);
        std::thread::sleep(Duration::from_millis(5));
    }
    let adverts = capture.stop();
    let log = topology.daemon(run).log_text();
    let after = &log[logged_before..];
    let peer_after = topology.daemon(0).log_text()[peer_logged_before..].to_owned();
    assert!(after.contains("Reload complete"), "no reload\n{log}");
    assert!(!vip_lost, "the VIP left r1 during the reload\n{log}");
    assert!(
        !after.contains("Entering") && !peer_after.contains("Entering"),
        "a state changed during the reload\n{}",
        topology.logs()
    );
    assert!(
        !after.contains(WARNING),
        "warned of an unchanged VIP set\n{log}"
    );

    let ours: Vec<_> = adverts.iter().filter(|a| a.source == "10.99.0.1").collect();
    assert!(ours.len() >= 15, "too few adverts captured: {adverts:?}");
    assert!(
        ours.iter().all(|a| a.priority == Some(200)),
        "r1 advertised another priority: {ours:?}"
    );
    assert!(
        adverts.iter().all(|a| a.source == "10.99.0.1"),
        "the backup advertised: {adverts:?}"
    );
    let gap = ours
        .windows(2)
        .map(|pair| pair[1].time - pair[0].time)
        .fold(0.0, f64::max);
    eprintln!(
        "largest gap between r1's adverts across the reload: {:.1} ms",
        gap * 1000.0
    );
    // One interval, with room for scheduling on a busy machine; a missed advert would make two.
    assert!(
        gap < INTERVAL * 1.5,
        "advert gap of {:.1} ms across the reload\n{log}",
        gap * 1000.0
    );
}

#[test]
fn reload_keeps_an_unchanged_master_with_vrrpd_peer() {
    require_netns!();
    reload_keeps_master(Implementation::Vrrpd);
}

#[test]
fn reload_keeps_an_unchanged_master_with_keepalived_peer() {
    require_netns!(keepalived);
    reload_keeps_master(Implementation::Keepalived);
}

#[test]
fn reload_changing_the_vip_set_warns_and_the_peer_disagrees() {
    require_netns!(keepalived);
    let mut topology = Topology::new(2);
    let run = pair(&mut topology, Implementation::Keepalived, &[VIP]);
    let logged_before = topology.daemon(run).log_text().len();

    topology.rewrite_config(1, run, &config(200, &[VIP, VIP_ADDED]));
    topology.daemon(run).signal(Signal::SIGHUP);
    assert!(
        wait_for(Duration::from_secs(3), || topology
            .daemon(run)
            .log_text()
            .contains("Reload complete"))
        .is_some(),
        "no reload\n{}",
        topology.logs()
    );
    let log = topology.daemon(run).log_text();
    let after = &log[logged_before..];
    assert!(after.contains(WARNING), "no warning\n{log}");
    assert!(
        log.lines()
            .any(|line| line.contains(WARNING) && line.contains("reject")),
        "the warning does not say what goes wrong\n{log}"
    );
    assert!(
        wait_for(Duration::from_secs(2), || topology
            .has_address(1, VIP_ADDED))
        .is_some()
            && topology.has_vip(1),
        "r1 does not hold both addresses\n{log}"
    );
    assert!(!after.contains("Entering"), "r1 changed state\n{log}");
    // What the warning is about: keepalived drops adverts with the wrong address count and takes over.
    assert!(
        wait_for(Duration::from_secs(3), || topology.has_vip(2)).is_some(),
        "keepalived kept accepting the changed adverts\n{}",
        topology.logs()
    );
}

/// The instances of `list` (name, VRID, VIP), all at `priority`.
fn instances(priority: u8, list: &[(&str, u8, &str)]) -> String {
    list.iter()
        .map(|(name, vrid, vip)| {
            format!(
                "vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n    priority {priority}\n\
                 advert_int {INTERVAL}\n    version 3\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
            )
        })
        .collect()
}

/// A reload adds an instance (it starts and preempts keepalived, the other one does not move) and then
/// removes one (it says goodbye with priority 0 and drops its VIP, so keepalived takes over at once).
#[test]
fn reload_adds_and_removes_instances() {
    require_netns!(keepalived);
    const FIRST: (&str, u8, &str) = ("VI_1", 51, VIP);
    const SECOND: (&str, u8, &str) = ("VI_2", 52, VIP_ADDED);
    let mut topology = Topology::new(2);
    topology.start(
        2,
        Implementation::Keepalived,
        &instances(100, &[FIRST, SECOND]),
    );
    let run = topology.start(1, Implementation::Vrrpd, &instances(200, &[FIRST]));
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)
            && !topology.has_vip(2)
            && topology.has_address(2, VIP_ADDED))
        .is_some(),
        "r1 should hold VI_1 and keepalived VI_2\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(500));

    // Added: VI_2 starts on r1 and preempts; VI_1 does not move.
    let logged_before = topology.daemon(run).log_text().len();
    topology.rewrite_config(1, run, &instances(200, &[FIRST, SECOND]));
    topology.daemon(run).signal(Signal::SIGHUP);
    assert!(
        wait_for(Duration::from_secs(4), || topology
            .has_address(1, VIP_ADDED)
            && !topology.has_address(2, VIP_ADDED))
        .is_some(),
        "the added instance did not take VI_2 over\n{}",
        topology.logs()
    );
    let after = topology.daemon(run).log_text()[logged_before..].to_owned();
    assert!(
        after.contains("(VI_2) Entering MASTER STATE") && !after.contains("(VI_1) Entering"),
        "only VI_2 should change state\n{after}"
    );
    assert!(
        topology.has_vip(1) && !topology.has_vip(2),
        "VI_1 moved\n{}",
        topology.logs()
    );

    // Removed: VI_1 leaves r1 with priority 0, keepalived takes it after Skew_Time, VI_2 stays.
    topology.rewrite_config(1, run, &instances(200, &[SECOND]));
    topology.daemon(run).signal(Signal::SIGHUP);
    let took = wait_for(Duration::from_secs(3), || {
        topology.has_vip(2) && !topology.has_vip(1)
    });
    assert!(
        took.is_some(),
        "keepalived did not take the removed instance's VIP\n{}",
        topology.logs()
    );
    // A down interval is 3 adverts (300 ms) and more; priority 0 lets the backup go after Skew_Time.
    let took = took.unwrap_or_default();
    assert!(
        took < Duration::from_millis(300),
        "takeover after the removal took {took:?}: no priority-0 advert?\n{}",
        topology.logs()
    );
    assert!(
        topology.has_address(1, VIP_ADDED) && !topology.has_address(2, VIP_ADDED),
        "VI_2 moved\n{}",
        topology.logs()
    );
}

#[test]
fn reload_naming_a_missing_interface_keeps_the_running_configuration() {
    // keepalived's VRRP process stops (and the daemon with it) when a reload names an interface
    // that does not exist; ours keeps running as it was and says so.
    require_netns!();
    let mut topology = Topology::new(2);
    let run = pair(&mut topology, Implementation::Vrrpd, &[VIP]);
    let logged_before = topology.daemon(run).log_text().len();
    let broken = config(200, &[VIP]).replace("interface eth0", "interface nosuch0");
    topology.rewrite_config(1, run, &broken);
    topology.daemon(run).signal(Signal::SIGHUP);
    assert!(
        wait_for(Duration::from_secs(3), || topology
            .daemon(run)
            .log_text()
            .contains("Reload failed: keeping the running configuration"))
        .is_some(),
        "no refusal\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(500));
    let log = topology.daemon(run).log_text();
    let after = &log[logged_before..];
    assert!(
        after.contains("Non-existent interface specified in configuration"),
        "{log}"
    );
    assert!(!after.contains("Entering"), "r1 changed state\n{log}");
    assert!(
        topology.has_vip(1) && !topology.has_vip(2),
        "the master moved\n{}",
        topology.logs()
    );
}
