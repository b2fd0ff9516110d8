//! `use_vmac` in namespaces: both routers put the VIP on a private macvlan `vrrp.51` with the virtual
//! router's MAC 00:00:5e:00:01:33. The master's VMAC carries the VIP and sends the adverts, the client
//! gets ARP answers for the VIP from that MAC before and after a SIGTERM takeover (so the LAN's ARP caches
//! need not change), the kernel parameters are keepalived's, and a stopping master removes its VMAC (and
//! leaves its base interface's `arp_ignore`/`arp_filter` at 1, as keepalived does). The first router is ours or keepalived 2.2.7 with the same
//! expectations; the peer is ours.

mod netns;

use std::process::Command;
use std::time::Duration;

use netns::{Implementation, Topology, VIP, wait_for};

const VMAC: &str = "vrrp.51";
const VRRP_MAC: &str = "00:00:5e:00:01:33";

fn config(priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n\
         advert_int 0.1\n    version 3\n    use_vmac\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

fn output(args: &[&str]) -> String {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default()
}

/// The MAC the VIP answers ARP with, asked from the client.
fn arp_reply(topology: &Topology) -> String {
    output(&[
        "ip",
        "netns",
        "exec",
        &topology.client(),
        "busybox",
        "arping",
        "-c",
        "1",
        "-w",
        "1",
        "-I",
        "eth0",
        VIP,
    ])
}

/// Three frames matching `filter` on the switch's bridge, with their MAC addresses, as tcpdump prints them.
fn adverts_on_the_bridge(topology: &Topology, filter: &str) -> String {
    output(&[
        "ip",
        "netns",
        "exec",
        &topology.namespace("sw"),
        "timeout",
        "3",
        "tcpdump",
        "-i",
        "br0",
        "-e",
        "-n",
        "-c",
        "3",
        filter,
    ])
}

fn sysctl(topology: &Topology, n: usize, path: &str) -> String {
    output(&[
        "ip",
        "netns",
        "exec",
        &topology.router(n),
        "cat",
        &format!("/proc/sys/net/{path}"),
    ])
    .trim()
    .to_owned()
}

fn vmac_takes_the_vip_and_its_mac(first: Implementation) {
    let mut topology = Topology::new(2);
    topology.start(2, Implementation::Vrrpd, &config(100));
    let run = topology.start(1, first, &config(200));
    assert!(
        wait_for(Duration::from_secs(5), || topology
            .has_address_on(1, VMAC, VIP))
        .is_some(),
        "{first:?}: the VIP is not on {VMAC}\n{}",
        topology.logs()
    );
    assert!(!topology.has_address_on(1, "eth0", VIP));
    let link = output(&["ip", "-d", "-n", &topology.router(1), "link", "show", VMAC]);
    assert!(
        link.contains("macvlan mode private") && link.contains(VRRP_MAC) && link.contains("UP"),
        "{first:?}: {link}"
    );
    for (path, expected) in [
        ("ipv4/conf/vrrp.51/arp_ignore", "1"),
        ("ipv4/conf/vrrp.51/accept_local", "1"),
        ("ipv4/conf/vrrp.51/rp_filter", "0"),
        ("ipv4/conf/vrrp.51/promote_secondaries", "1"),
        ("ipv6/conf/vrrp.51/disable_ipv6", "1"),
        ("ipv4/conf/eth0/arp_ignore", "1"),
        ("ipv4/conf/eth0/arp_filter", "1"),
    ] {
        assert_eq!(sysctl(&topology, 1, path), expected, "{first:?}: {path}");
    }
    // The backup has its VMAC too, without the VIP.
    assert!(
        wait_for(Duration::from_secs(2), || output(&[
            "ip",
            "-n",
            &topology.router(2),
            "link",
            "show",
            VMAC
        ])
        .contains(VRRP_MAC))
        .is_some(),
        "the backup has no VMAC\n{}",
        topology.logs()
    );
    assert!(!topology.has_address_on(2, VMAC, VIP));
    // Adverts leave with the virtual router's MAC.
    let frames = adverts_on_the_bridge(&topology, "ip proto 112");
    assert!(
        frames.contains(&format!("{VRRP_MAC} > 01:00:5e:00:00:12")),
        "{first:?}: adverts not from the VRRP MAC:\n{frames}"
    );
    let reply = arp_reply(&topology);
    assert!(
        reply.contains(&format!("[{VRRP_MAC}]")),
        "{first:?}: ARP for the VIP answered with {reply}\n{}",
        topology.logs()
    );
    assert!(topology.client_reaches_vip().is_some());

    topology.daemon(run).terminate();
    assert!(
        wait_for(Duration::from_secs(2), || topology
            .has_address_on(2, VMAC, VIP))
        .is_some(),
        "{first:?}: no takeover\n{}",
        topology.logs()
    );
    assert!(topology.daemon(run).wait_exit().is_some());
    assert!(
        !output(&["ip", "-n", &topology.router(1), "link", "show"]).contains(VMAC),
        "{first:?}: the VMAC is left behind"
    );
    // keepalived 2.2.7 leaves the base interface's ARP settings as it set them.
    assert_eq!(
        sysctl(&topology, 1, "ipv4/conf/eth0/arp_ignore"),
        "1",
        "{first:?}"
    );
    assert_eq!(
        sysctl(&topology, 1, "ipv4/conf/eth0/arp_filter"),
        "1",
        "{first:?}"
    );
    // The same MAC, now on the other router.
    let reply = arp_reply(&topology);
    assert!(
        reply.contains(&format!("[{VRRP_MAC}]")),
        "{first:?}: after the takeover ARP for the VIP answered with {reply}\n{}",
        topology.logs()
    );
    assert!(topology.client_reaches_vip().is_some());
}

#[test]
fn vmac_carries_the_vip_and_the_mac_ours() {
    require_netns!();
    vmac_takes_the_vip_and_its_mac(Implementation::Vrrpd);
}

#[test]
fn vmac_carries_the_vip_and_the_mac_keepalived() {
    require_netns!(keepalived);
    vmac_takes_the_vip_and_its_mac(Implementation::Keepalived);
}

const VRRP_MAC6: &str = "00:00:5e:00:02:33";

fn config6(priority: u8) -> String {
    format!(
        "vrrp_instance VI_6 {{\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n\
         advert_int 0.1\n    version 3\n    use_vmac\n    virtual_ipaddress {{\n        {}/64\n    }}\n}}\n",
        netns::VIP6
    )
}

/// The link-local addresses of router `n`'s `interface`.
fn link_locals(topology: &Topology, n: usize, interface: &str) -> Vec<String> {
    output(&[
        "ip",
        "-6",
        "-o",
        "-n",
        &topology.router(n),
        "addr",
        "show",
        "dev",
        interface,
        "scope",
        "link",
    ])
    .lines()
    .filter_map(|line| line.split_whitespace().nth(3).map(str::to_owned))
    .collect()
}

/// IPv6: the VMAC has 00:00:5e:00:02:33 and, as its only link-local address, the base interface's (none made
/// from its own MAC), carries the VIP and sends the adverts.
fn ipv6_vmac(first: Implementation) {
    let mut topology = Topology::new(2);
    topology.start(2, Implementation::Vrrpd, &config6(100));
    let run = topology.start(1, first, &config6(200));
    assert!(
        wait_for(Duration::from_secs(5), || topology.has_address_on(
            1,
            VMAC,
            netns::VIP6
        ))
        .is_some(),
        "{first:?}: the VIP is not on {VMAC}\n{}",
        topology.logs()
    );
    let link = output(&["ip", "-d", "-n", &topology.router(1), "link", "show", VMAC]);
    assert!(
        link.contains("macvlan mode private") && link.contains(VRRP_MAC6),
        "{first:?}: {link}"
    );
    let base = link_locals(&topology, 1, "eth0");
    assert_eq!(
        base.len(),
        1,
        "{first:?}: eth0's link-local addresses {base:?}"
    );
    assert_eq!(
        link_locals(&topology, 1, VMAC),
        base,
        "{first:?}: the VMAC's link-local addresses"
    );
    let frames = adverts_on_the_bridge(&topology, "ip6 proto 112");
    assert!(
        frames.contains(&format!("{VRRP_MAC6} > 33:33:00:00:00:12")),
        "{first:?}: adverts not from the VRRP MAC:\n{frames}"
    );
    assert!(!topology.has_address_on(2, VMAC, netns::VIP6));
    topology.daemon(run).terminate();
    assert!(
        wait_for(Duration::from_secs(2), || topology.has_address_on(
            2,
            VMAC,
            netns::VIP6
        ))
        .is_some(),
        "{first:?}: no takeover\n{}",
        topology.logs()
    );
    assert!(topology.daemon(run).wait_exit().is_some());
    assert!(
        !output(&["ip", "-n", &topology.router(1), "link", "show"]).contains(VMAC),
        "{first:?}: the VMAC is left behind"
    );
}

#[test]
fn ipv6_vmac_ours() {
    require_netns!();
    ipv6_vmac(Implementation::Vrrpd);
}

#[test]
fn ipv6_vmac_keepalived() {
    require_netns!(keepalived);
    ipv6_vmac(Implementation::Keepalived);
}
