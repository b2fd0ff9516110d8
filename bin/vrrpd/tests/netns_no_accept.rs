//! The `no_accept` firewall against keepalived 2.2.7: with `vrrp_strict` (or `no_accept`) a master
//! that is not the address owner drops traffic to and from its addresses through nftables. Each
//! daemon runs the same configuration alone on a router; once it is master the router's
//! `nft list ruleset` must be the same text under both, the client's ping of the VIP must go
//! unanswered, and the ruleset must be empty again after the stop. The same after a takeover by
//! a router of higher priority (the addresses leave the sets, the tables stay) and after a reload
//! that replaces an address; with `accept` (VRRPv3) neither makes a table and the VIP answers; a
//! table left from an earlier run is replaced. The firewall's log lines are keepalived's.

mod netns;

use std::process::Command;
use std::time::Duration;

use netns::{Implementation, Topology, VIP, wait_for};

/// A single router with `vrrp_strict`: an IPv4 VIP and an excluded IPv4, global IPv6 and
/// link-local IPv6 address, so that both tables and a link-local set are made.
fn strict_config(accept: &str) -> String {
    config_with_priority(accept, 100)
}

fn config_with_priority(accept: &str, priority: u8) -> String {
    config_with_excluded(accept, priority, "10.99.0.101/24")
}

fn config_with_excluded(accept: &str, priority: u8, excluded: &str) -> String {
    format!(
        "global_defs {{\n    vrrp_strict\n}}\n\
         vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n\
         advert_int 0.1\n    version 3\n    {accept}\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n\
         virtual_ipaddress_excluded {{\n        {excluded}\n        fd00::100/64\n        fe80::100/64\n    }}\n}}\n"
    )
}

/// Starts `implementation` on router 1 and waits until it holds `address` (as master): the run.
fn start_master(
    topology: &mut Topology,
    implementation: Implementation,
    config: &str,
    address: &str,
) -> usize {
    let run = topology.start(1, implementation, config);
    assert!(
        wait_for(Duration::from_secs(10), || topology.has_address(1, address)).is_some(),
        "{implementation:?} never became master\n{}",
        topology.logs()
    );
    run
}

/// What one daemon leaves in the router's ruleset as master and after its stop, whether the
/// client reached the VIP meanwhile, and its log.
struct Run {
    as_master: String,
    reached: bool,
    after_stop: String,
    log: String,
}

fn run(implementation: Implementation, config: &str, before: Option<&str>) -> Run {
    let mut topology = Topology::new(1);
    if let Some(script) = before {
        let status = Command::new("ip")
            .args(["netns", "exec", &topology.router(1), "nft", script])
            .status()
            .expect("nft");
        assert!(status.success(), "nft {script}");
    }
    let daemon = start_master(&mut topology, implementation, config, VIP);
    // The drop rule goes in before the addresses; the excluded ones follow the VIP.
    std::thread::sleep(Duration::from_millis(300));
    let as_master = topology.ruleset(1);
    let reached = topology.client_reaches_vip().is_some();
    topology.daemon(daemon).terminate();
    let _ = topology.daemon(daemon).wait_exit();
    let after_stop = topology.ruleset(1);
    let log = topology.daemon(daemon).log_text();
    Run {
        as_master,
        reached,
        after_stop,
        log,
    }
}

/// keepalived's firewall lines of a log, in order.
fn firewall_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|line| {
            line.contains("firewall") || line.contains("nftables") || line.contains("old ip")
        })
        .map(|line| {
            line.split_once(": ")
                .map_or(line, |(_, text)| text)
                .trim()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_strict_master_drops_traffic_for_its_addresses_as_keepalived_does() {
    require_netns!(keepalived);
    let config = strict_config("");
    let reference = run(Implementation::Keepalived, &config, None);
    let ours = run(Implementation::Vrrpd, &config, None);
    assert!(
        reference.as_master.contains("ip daddr @vips drop"),
        "keepalived made no firewall:\n{}\n{}",
        reference.as_master,
        reference.log
    );
    assert_eq!(ours.as_master, reference.as_master, "{}", ours.log);
    for address in [VIP, "10.99.0.101", "fd00::100", "fe80::100"] {
        assert!(
            ours.as_master.contains(address),
            "{address}:\n{}",
            ours.as_master
        );
    }
    assert!(!reference.reached, "keepalived's VIP answered");
    assert!(!ours.reached, "our VIP answered");
    assert_eq!(reference.after_stop, "");
    assert_eq!(ours.after_stop, "", "{}", ours.log);
    let lines = firewall_lines(&ours.log);
    assert!(
        lines
            .iter()
            .any(|line| line == "(VI_1) setting firewall drop rule"),
        "{lines:?}"
    );
    assert_eq!(lines, firewall_lines(&reference.log));
}

/// What router 1 holds once a router of higher priority has taken over: its addresses leave the
/// sets, the tables stay until the stop.
fn ruleset_after_takeover(implementation: Implementation) -> (String, String) {
    let mut topology = Topology::new(2);
    let first = start_master(&mut topology, implementation, &strict_config(""), VIP);
    topology.start(2, Implementation::Vrrpd, &config_with_priority("", 200));
    assert!(
        wait_for(Duration::from_secs(10), || !topology.has_vip(1)
            && topology.has_vip(2))
        .is_some(),
        "router 2 did not take over\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(300));
    let as_backup = topology.ruleset(1);
    (as_backup, topology.daemon(first).log_text())
}

#[test]
fn a_master_that_steps_down_takes_its_addresses_out_of_the_sets() {
    require_netns!(keepalived);
    let (reference, reference_log) = ruleset_after_takeover(Implementation::Keepalived);
    let (ours, ours_log) = ruleset_after_takeover(Implementation::Vrrpd);
    assert!(
        reference.contains("set vips") && !reference.contains(VIP),
        "{reference}\n{reference_log}"
    );
    assert_eq!(ours, reference, "{ours_log}");
    assert_eq!(firewall_lines(&ours_log), firewall_lines(&reference_log));
}

/// What a master holds after a reload that replaces one of its excluded addresses.
fn ruleset_after_reload(implementation: Implementation) -> (String, String) {
    let mut topology = Topology::new(1);
    let run = start_master(
        &mut topology,
        implementation,
        &strict_config(""),
        "10.99.0.101",
    );
    topology.rewrite_config(1, run, &config_with_excluded("", 100, "10.99.0.102/24"));
    topology
        .daemon(run)
        .signal_main(nix::sys::signal::Signal::SIGHUP);
    assert!(
        wait_for(Duration::from_secs(10), || topology
            .has_address(1, "10.99.0.102"))
        .is_some(),
        "{implementation:?} did not reload\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(300));
    (topology.ruleset(1), topology.daemon(run).log_text())
}

#[test]
fn a_reload_changes_only_the_addresses_that_changed() {
    require_netns!(keepalived);
    let (reference, reference_log) = ruleset_after_reload(Implementation::Keepalived);
    let (ours, ours_log) = ruleset_after_reload(Implementation::Vrrpd);
    assert!(
        reference.contains("10.99.0.102") && !reference.contains("10.99.0.101"),
        "{reference}\n{reference_log}"
    );
    assert_eq!(ours, reference, "{ours_log}");
    assert_eq!(firewall_lines(&ours_log), firewall_lines(&reference_log));
}

#[test]
fn with_accept_there_is_no_firewall_and_the_vip_answers() {
    require_netns!(keepalived);
    let config = strict_config("accept");
    for implementation in [Implementation::Keepalived, Implementation::Vrrpd] {
        let run = run(implementation, &config, None);
        assert_eq!(run.as_master, "", "{implementation:?}\n{}", run.log);
        assert!(
            run.reached,
            "{implementation:?}'s VIP did not answer\n{}",
            run.log
        );
    }
}

#[test]
fn a_table_left_by_an_earlier_run_is_replaced() {
    require_netns!(keepalived);
    let config = strict_config("");
    let leftover = Some("add table ip keepalived; add chain ip keepalived stale");
    let reference = run(Implementation::Keepalived, &config, leftover);
    let ours = run(Implementation::Vrrpd, &config, leftover);
    assert!(
        !reference.as_master.contains("stale"),
        "{}",
        reference.as_master
    );
    assert_eq!(ours.as_master, reference.as_master, "{}", ours.log);
    assert!(
        ours.log.contains("Deleting old ip keepalived table"),
        "{}",
        ours.log
    );
    assert_eq!(firewall_lines(&ours.log), firewall_lines(&reference.log));
}
