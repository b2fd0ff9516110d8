//! The nftables rules that come with `use_vmac`, against keepalived 2.2.7: from the moment a VMAC
//! exists, the IGMP and MLDv2 reports it would send leave from its base interface instead (dup
//! to the base, drop the original) and its router solicitations are dropped, so that a switch
//! never learns the virtual router's MAC from a backup. Each daemon runs the same configuration
//! alone on a router; the router's `nft list ruleset` must be the same text under both as backup,
//! as master (with and without `vrrp_strict`, whose firewall joins the same tables), after a
//! reload that removes a VMAC, and empty after the stop. On the wire, a multicast group joined on
//! the VMAC is reported from the base interface's MAC, while another macvlan reports from its own.

mod netns;

use std::process::Command;
use std::time::Duration;

use netns::{Implementation, Topology, VIP, wait_for};

const VMAC: &str = "vrrp.51";
const VRRP_MAC: &str = "00:00:5e:00:01:33";

/// An IPv4 instance with an excluded IPv6 address (so its VMAC is in both families' rules) and,
/// with `ipv6`, an IPv6 instance with a VMAC of its own; with `strict`, the firewall too.
fn config(strict: bool, ipv6: bool) -> String {
    let mut text = String::new();
    if strict {
        text.push_str("global_defs {\n    vrrp_strict\n}\n");
    }
    text.push_str(&format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 100\n\
         advert_int 0.1\n    version 3\n    use_vmac\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n\
         virtual_ipaddress_excluded {{\n        fd00::100/64\n    }}\n}}\n"
    ));
    if ipv6 {
        text.push_str(
            "vrrp_instance VI_6 {\n    interface eth0\n    virtual_router_id 52\n    priority 100\n\
             advert_int 0.1\n    version 3\n    use_vmac\n    virtual_ipaddress {\n        fd00::200/64\n    }\n}\n",
        );
    }
    text
}

/// What one daemon leaves in the router's ruleset: as soon as its VMACs exist, as master, after
/// a reload without the IPv6 instance, after its stop.
#[derive(Debug, PartialEq)]
struct Rulesets {
    at_start: String,
    as_master: String,
    after_reload: String,
    after_stop: String,
}

fn rulesets(implementation: Implementation, strict: bool) -> (Rulesets, String) {
    let mut topology = Topology::new(1);
    let run = topology.start(1, implementation, &config(strict, true));
    let both_vmacs_in_the_rules = || {
        let rules = topology.ruleset(1);
        rules.contains("\"vrrp.51\"") && rules.contains("\"vrrp.52\"")
    };
    assert!(
        wait_for(Duration::from_secs(10), both_vmacs_in_the_rules).is_some(),
        "{implementation:?} made no VMAC rules\n{}",
        topology.logs()
    );
    let at_start = topology.ruleset(1);
    assert!(
        wait_for(Duration::from_secs(10), || topology.has_address_on(
            1,
            "vrrp.52",
            "fd00::200"
        ))
        .is_some(),
        "{implementation:?} never became master\n{}",
        topology.logs()
    );
    // The excluded addresses follow the VIPs.
    std::thread::sleep(Duration::from_millis(300));
    let as_master = topology.ruleset(1);
    topology.rewrite_config(1, run, &config(strict, false));
    topology
        .daemon(run)
        .signal_main(nix::sys::signal::Signal::SIGHUP);
    let vmac_gone = || !interface_exists(&topology, "vrrp.52");
    assert!(
        wait_for(Duration::from_secs(10), vmac_gone).is_some(),
        "{implementation:?} kept the VMAC of the removed instance\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(300));
    let after_reload = topology.ruleset(1);
    topology.daemon(run).terminate();
    let _ = topology.daemon(run).wait_exit();
    let after_stop = topology.ruleset(1);
    let log = topology.daemon(run).log_text();
    let rulesets = Rulesets {
        at_start,
        as_master,
        after_reload,
        after_stop,
    };
    (rulesets, log)
}

fn interface_exists(topology: &Topology, name: &str) -> bool {
    Command::new("ip")
        .args(["-n", &topology.router(1), "link", "show", name])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn same_rulesets_as_keepalived(strict: bool) -> Rulesets {
    let (reference, reference_log) = rulesets(Implementation::Keepalived, strict);
    let (ours, ours_log) = rulesets(Implementation::Vrrpd, strict);
    assert_eq!(
        ours, reference,
        "ours:\n{ours_log}\nkeepalived's:\n{reference_log}"
    );
    ours
}

#[test]
fn the_vmac_rules_are_keepalived_s() {
    require_netns!(keepalived);
    let ours = same_rulesets_as_keepalived(false);
    // What the comparison covers: both families' maps, both VMACs, and no firewall sets.
    for text in [
        "table ip keepalived",
        "table ip6 keepalived",
        "ip protocol igmp meta oifkind \"macvlan\" dup to ip daddr device oif map @vmac_map drop",
        "icmpv6 type nd-router-solicit meta oifkind \"macvlan\" oif @vmac_set drop",
        "\"vrrp.52\" : \"eth0\"",
    ] {
        assert!(ours.at_start.contains(text), "{text}:\n{}", ours.at_start);
    }
    assert_eq!(ours.as_master, ours.at_start);
    assert!(!ours.as_master.contains("vips"), "{}", ours.as_master);
    assert!(
        ours.after_reload.contains("\"vrrp.51\"") && !ours.after_reload.contains("\"vrrp.52\""),
        "{}",
        ours.after_reload
    );
    assert_eq!(ours.after_stop, "");
}

#[test]
fn a_strict_firewall_joins_the_tables_of_the_vmac_rules() {
    require_netns!(keepalived);
    let ours = same_rulesets_as_keepalived(true);
    assert!(!ours.at_start.contains("vips"), "{}", ours.at_start);
    for address in [VIP, "fd00::100", "fd00::200"] {
        assert!(
            ours.as_master.contains(address),
            "{address}:\n{}",
            ours.as_master
        );
    }
    assert!(ours.as_master.contains("vmac_map"), "{}", ours.as_master);
    assert_eq!(ours.after_stop, "");
}

/// The IGMP reports seen on the bridge while a group is joined on `interface` of router 1, as
/// tcpdump prints them with their MAC addresses.
fn reports_of_a_join(topology: &Topology, interface: &str, group: &str) -> String {
    let capture = topology.capture_in_detail("igmp");
    let router = topology.router(1);
    let join = ["-n", &router, "addr", "add", &format!("{group}/32")];
    let status = Command::new("ip")
        .args(join)
        .args(["dev", interface, "autojoin"])
        .status()
        .expect("ip addr add autojoin");
    assert!(status.success(), "joining {group} on {interface}");
    let reported = wait_for(Duration::from_secs(5), || capture.text().contains(group));
    std::thread::sleep(Duration::from_millis(200));
    let text = capture.text();
    assert!(reported.is_some(), "no report of {group}:\n{text}");
    text
}

fn reports_leave_from_the_base_interface(implementation: Implementation) {
    let mut topology = Topology::new(1);
    topology.start(1, implementation, &config(false, false));
    assert!(
        wait_for(Duration::from_secs(10), || topology
            .has_address_on(1, VMAC, VIP))
        .is_some(),
        "{implementation:?} never became master\n{}",
        topology.logs()
    );
    let base = Topology::mac(1);
    let reports = reports_of_a_join(&topology, VMAC, "239.255.0.1");
    assert!(
        reports.contains(&format!("{base} > 01:00:5e:00:00:16")),
        "{implementation:?}: no report from the base interface:\n{reports}"
    );
    assert!(
        !reports.contains(VRRP_MAC),
        "{implementation:?}: a report left with the virtual router's MAC:\n{reports}"
    );
    // Only the VMACs: another macvlan on the same interface reports from its own MAC.
    let router = topology.router(1);
    let other = "02:00:00:00:aa:01";
    for args in [
        &[
            "link", "add", "link", "eth0", "mv0", "address", other, "type", "macvlan",
        ][..],
        &["link", "set", "mv0", "up"],
    ] {
        let status = Command::new("ip")
            .args(["-n", &router])
            .args(args)
            .status()
            .expect("ip link");
        assert!(status.success(), "ip {args:?}");
    }
    let reports = reports_of_a_join(&topology, "mv0", "239.255.0.2");
    assert!(
        reports.contains(&format!("{other} > 01:00:5e:00:00:16")),
        "{implementation:?}: the other macvlan's report was moved:\n{reports}"
    );
}

#[test]
fn a_vmac_s_multicast_reports_leave_from_its_base_interface() {
    require_netns!(keepalived);
    reports_leave_from_the_base_interface(Implementation::Keepalived);
    reports_leave_from_the_base_interface(Implementation::Vrrpd);
}
