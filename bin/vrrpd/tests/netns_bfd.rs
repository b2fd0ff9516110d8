//! BFD against the real keepalived 2.2.7: a session between ours and keepalived's BFD process comes up
//! from either side, goes down within the detection time when the peer stops or the link is cut, and
//! comes back; `track_bfd` holds a VRRP instance in FAULT while its session is down (ours tracking
//! keepalived's session, and keepalived tracking ours), and a weighted one moves mastership to
//! keepalived and back (BFD dropped with nft); a peer sending with a TTL below 255 is not heard
//! on a single-hop session (RFC 5881 GTSM) until `max_hops` allows it; an IPv6 session works too.

mod netns;

use std::time::{Duration, Instant};

use netns::{Implementation, Topology, VIP, wait_for};

/// A `bfd_instance` towards router `peer`, at 100 ms × 3 (300 ms detection).
fn bfd(peer: usize, extra: &str) -> String {
    format!(
        "bfd_instance B1 {{\n    neighbor_ip 10.99.0.{peer}\n    source_ip 10.99.0.{ours}\n    min_rx 100\n    \
         min_tx 100\n    idle_tx 1000\n    multiplier 3\n{extra}}}\n",
        ours = 3 - peer,
    )
}

/// An instance alone on the network (no peer) tracking B1: master while the session is up.
fn tracking_instance(track: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 200\n    \
         advert_int 0.1\n    version 3\n    track_bfd {{\n        {track}\n    }}\n    \
         virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

fn up_lines(log: &str) -> usize {
    log.matches("(B1) Entering Up state").count()
}

#[test]
fn ours_tracks_a_session_with_keepalived_through_its_stop_and_a_link_cut() {
    require_netns!(keepalived);
    let mut topology = Topology::new(2);
    let theirs = topology.start(2, Implementation::Keepalived, &bfd(1, ""));
    let config = format!("{}{}", bfd(2, ""), tracking_instance("B1"));
    let ours = topology.start(1, Implementation::Vrrpd, &config);

    // FAULT until the session is up, then master alone.
    let up = wait_for(Duration::from_secs(15), || topology.has_vip(1));
    assert!(up.is_some(), "never master\n{}", topology.logs());
    let log = topology.daemon(ours).log_text();
    assert!(up_lines(&log) >= 1, "{log}");
    assert!(
        log.contains("VRRP_Instance(VI_1) Tracked BFD instance B1 is UP"),
        "{log}"
    );
    assert!(
        wait_for(Duration::from_secs(5), || up_lines(
            &topology.daemon(theirs).log_text()
        ) >= 1)
        .is_some(),
        "keepalived's session never came up\n{}",
        topology.logs()
    );
    // Both sides moved to the fast intervals: 3 × 100 ms.
    assert!(
        wait_for(Duration::from_secs(3), || topology
            .daemon(ours)
            .log_text()
            .contains("Detection time is 300000 us"))
        .is_some(),
        "{}",
        topology.logs()
    );

    // keepalived stops without a word on the wire: the detection time takes the session down.
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    topology.daemon(theirs).kill();
    let gone = wait_for(Duration::from_secs(5), || !topology.has_vip(1));
    let took = killed.elapsed();
    eprintln!("keepalived killed: VIP gone after {took:?}");
    assert!(gone.is_some(), "the VIP stayed\n{}", topology.logs());
    assert!(
        took < Duration::from_millis(1300),
        "down after {took:?} (detection 300 ms)\n{}",
        topology.logs()
    );
    let log = topology.daemon(ours).log_text();
    eprintln!("{log}");
    // Our detection time runs out; on a loaded machine keepalived's dying BFD process may be
    // starved long enough to expire first and say Down on its way out.
    let expired = log.contains("(B1) Expired after")
        && log.contains(
            "(B1) Entering Down state (Local diagnostic - Control Detection Time Expired, Remote diagnostic - No Diagnostic)",
        );
    let told = log.contains(
        "(B1) Entering Down state (Local diagnostic - Neighbor Signaled Session Down, Remote diagnostic - Control Detection Time Expired)",
    );
    assert!(expired || told, "{log}");
    assert!(
        log.contains("VRRP_Instance(VI_1) Tracked BFD instance B1 is DOWN"),
        "{log}"
    );
    assert!(log.contains("(VI_1) Entering FAULT STATE"), "{log}");

    // keepalived back: the session and the master come back.
    let theirs = topology.start(2, Implementation::Keepalived, &bfd(1, ""));
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "not master again\n{}",
        topology.logs()
    );
    assert!(
        wait_for(Duration::from_secs(5), || up_lines(
            &topology.daemon(theirs).log_text()
        ) >= 1)
        .is_some(),
        "{}",
        topology.logs()
    );

    // The link cut: both sides see the session expire.
    std::thread::sleep(Duration::from_secs(1));
    let cut = Instant::now();
    topology.set_link(2, "eth0", false);
    let gone = wait_for(Duration::from_secs(5), || !topology.has_vip(1));
    let took = cut.elapsed();
    eprintln!("link cut: VIP gone after {took:?}");
    assert!(gone.is_some(), "the VIP stayed\n{}", topology.logs());
    assert!(took < Duration::from_millis(1300), "{took:?}");
    assert!(
        wait_for(Duration::from_secs(3), || topology
            .daemon(theirs)
            .log_text()
            .contains("(B1) Expired after"))
        .is_some(),
        "keepalived did not see the session expire\n{}",
        topology.logs()
    );
    topology.set_link(2, "eth0", true);
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "not master after the link came back\n{}",
        topology.logs()
    );
}

#[test]
fn keepalived_tracks_a_session_with_ours() {
    require_netns!(keepalived);
    let mut topology = Topology::new(2);
    let ours = topology.start(2, Implementation::Vrrpd, &bfd(1, ""));
    let config = format!("{}{}", bfd(2, ""), tracking_instance("B1"));
    let theirs = topology.start(1, Implementation::Keepalived, &config);
    let up = wait_for(Duration::from_secs(15), || topology.has_vip(1));
    assert!(up.is_some(), "keepalived never master\n{}", topology.logs());
    assert!(
        wait_for(Duration::from_secs(5), || up_lines(
            &topology.daemon(ours).log_text()
        ) >= 1)
        .is_some(),
        "{}",
        topology.logs()
    );
    let log = topology.daemon(theirs).log_text();
    assert!(
        log.contains("VRRP_Instance(VI_1) Tracked BFD instance B1 is UP"),
        "{log}"
    );

    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    topology.daemon(ours).kill();
    let gone = wait_for(Duration::from_secs(5), || !topology.has_vip(1));
    let took = killed.elapsed();
    eprintln!("ours killed: keepalived's VIP gone after {took:?}");
    assert!(gone.is_some(), "the VIP stayed\n{}", topology.logs());
    assert!(took < Duration::from_millis(1300), "{took:?}");
    let log = topology.daemon(theirs).log_text();
    assert!(log.contains("(B1) Expired after"), "{log}");
    assert!(
        log.contains("VRRP_Instance(VI_1) Tracked BFD instance B1 is DOWN"),
        "{log}"
    );

    topology.start(2, Implementation::Vrrpd, &bfd(1, ""));
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "keepalived not master again\n{}",
        topology.logs()
    );
}

#[test]
fn a_peer_sending_with_a_lower_ttl_is_heard_only_with_max_hops() {
    require_netns!(keepalived);
    let mut topology = Topology::new(2);
    // keepalived sends with TTL 254: one hop too many for a single-hop session.
    topology.start(2, Implementation::Keepalived, &bfd(1, "    ttl 254\n"));
    let config = format!("{}{}", bfd(2, ""), tracking_instance("B1"));
    let ours = topology.start(1, Implementation::Vrrpd, &config);
    std::thread::sleep(Duration::from_secs(4));
    assert!(!topology.has_vip(1), "{}", topology.logs());
    assert_eq!(up_lines(&topology.daemon(ours).log_text()), 0);
    topology.daemon(ours).kill();

    // max_hops 1 takes TTL 254.
    let config = format!("{}{}", bfd(2, "    max_hops 1\n"), tracking_instance("B1"));
    let ours = topology.start(1, Implementation::Vrrpd, &config);
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "never master with max_hops 1\n{}",
        topology.logs()
    );
    assert!(up_lines(&topology.daemon(ours).log_text()) >= 1);
}

/// Drops (or no longer drops) BFD packets arriving at router `n`.
fn block_bfd(topology: &Topology, n: usize, block: bool) {
    let ns = topology.router(n);
    let script = if block {
        "add table inet bfdtest\n\
         add chain inet bfdtest input { type filter hook input priority 0; }\n\
         add rule inet bfdtest input udp dport 3784 drop\n"
    } else {
        "delete table inet bfdtest\n"
    };
    let path = topology.write("bfd.nft", script);
    let status = std::process::Command::new("ip")
        .args(["netns", "exec", &ns, "nft", "-f"])
        .arg(&path)
        .status()
        .expect("nft");
    assert!(status.success(), "nft in {ns}");
}

#[test]
fn a_weighted_session_moves_mastership_to_keepalived_and_back() {
    require_netns!(keepalived);
    if !std::path::Path::new("/usr/sbin/nft").exists() {
        eprintln!("skipped: no nft");
        return;
    }
    let mut topology = Topology::new(2);
    // keepalived: the BFD peer and the VRRP peer at priority 150.
    let peer = format!(
        "{}vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    \
         advert_int 0.1\n    version 3\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n",
        bfd(1, "")
    );
    topology.start(2, Implementation::Keepalived, &peer);
    // Ours: 200 while the session is up, 100 while it is down.
    let config = format!("{}{}", bfd(2, ""), tracking_instance("B1 weight -100"));
    let ours = topology.start(1, Implementation::Vrrpd, &config);
    assert!(
        wait_for(Duration::from_secs(15), || topology
            .daemon(ours)
            .log_text()
            .contains("Tracked BFD instance B1 is UP"))
        .is_some(),
        "the session never came up\n{}",
        topology.logs()
    );
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "ours never master with the session up\n{}",
        topology.logs()
    );

    block_bfd(&topology, 1, true);
    assert!(
        wait_for(Duration::from_secs(5), || topology.has_vip(2)
            && !topology.has_vip(1))
        .is_some(),
        "keepalived did not take over at priority 100 against 150\n{}",
        topology.logs()
    );
    let log = topology.daemon(ours).log_text();
    assert!(
        log.contains("VRRP_Instance(VI_1) Tracked BFD instance B1 is DOWN"),
        "{log}"
    );
    assert!(
        !log.contains("FAULT STATE)"),
        "a weighted session never faults\n{log}"
    );

    block_bfd(&topology, 1, false);
    assert!(
        wait_for(Duration::from_secs(10), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "ours did not take back mastership with the session up again\n{}",
        topology.logs()
    );
}

#[test]
fn an_ipv6_session_with_keepalived_comes_up_and_expires() {
    require_netns!(keepalived);
    let mut topology = Topology::new(2);
    topology.add_unicast_ipv6(1);
    topology.add_unicast_ipv6(2);
    let session = |peer: usize| {
        format!(
            "bfd_instance B1 {{\n    neighbor_ip {}\n    source_ip {}\n    min_rx 100\n    min_tx 100\n    \
             multiplier 3\n}}\n",
            netns::Protocol::unicast_ipv6(peer),
            netns::Protocol::unicast_ipv6(3 - peer)
        )
    };
    let theirs = topology.start(2, Implementation::Keepalived, &session(1));
    let config = format!("{}{}", session(2), tracking_instance("B1"));
    let ours = topology.start(1, Implementation::Vrrpd, &config);
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "never master over an IPv6 session\n{}",
        topology.logs()
    );
    assert!(up_lines(&topology.daemon(ours).log_text()) >= 1);
    assert!(
        wait_for(Duration::from_secs(5), || up_lines(
            &topology.daemon(theirs).log_text()
        ) >= 1)
        .is_some(),
        "{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    topology.daemon(theirs).kill();
    assert!(
        wait_for(Duration::from_secs(5), || !topology.has_vip(1)).is_some(),
        "{}",
        topology.logs()
    );
    let took = killed.elapsed();
    eprintln!("IPv6: VIP gone after {took:?}");
    assert!(took < Duration::from_millis(1300), "{took:?}");
}
