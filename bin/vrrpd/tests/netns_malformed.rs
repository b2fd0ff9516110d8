//! Thousands of random, truncated and corrupted VRRP packets sent at a running pair of `vrrpd` change nothing
//! and crash nothing: the master stays master, the backup stays backup, both keep running, and the drops are
//! counted (SIGUSR2 statistics). The packets come from a third namespace, to the multicast group and to the
//! master's own address.

mod netns;

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsFd;
use std::time::Duration;

use netns::{Implementation, Protocol, Topology, wait_for};
use nix::sched::{CloneFlags, setns};
use socket2::{Domain, Protocol as IpProtocol, SockAddr, Socket, Type};
use vrrp::wire::Family;

const PACKETS: usize = 6000;

/// A valid VRRPv2 advert from the client (10.99.0.9) for VRID 51, with `priority`, as a whole IPv4 packet.
fn valid_advert(priority: u8) -> Vec<u8> {
    let mut config = vrrp::Config::new("flood", Family::Ipv4, 51);
    config.priority = priority;
    config.virtual_addresses = vec![netns::VIP.parse().expect("VIP")];
    config.source_address = Some("10.99.0.9".parse().expect("address"));
    let mut instance = vrrp::Instance::new(config).expect("valid configuration");
    let mut transmits = instance.encode_advert(priority).expect("encodable");
    transmits.remove(0).payload
}

/// The next bad packet: IPv4 header kept (the kernel insists on one), VRRP part damaged.
fn bad_packet(noise: &mut fastrand::Rng, lower: &[u8], higher: &[u8]) -> Vec<u8> {
    const IP_HEADER: usize = 20;
    let mut packet = if noise.usize(..2) == 0 {
        lower.to_vec()
    } else {
        higher.to_vec()
    };
    match noise.usize(..6) {
        // Truncated anywhere in the VRRP message.
        0 => packet.truncate(IP_HEADER + noise.usize(..packet.len() - IP_HEADER)),
        // Random bytes instead of VRRP, of any length.
        1 => {
            packet.truncate(IP_HEADER);
            let length = noise.usize(..120);
            packet.extend(
                std::iter::repeat_with(|| noise.u8(..))
                    .take(length)
                    .collect::<Vec<u8>>(),
            );
        }
        // A few bytes of the VRRP message flipped (the checksum then fails, or another check does).
        2 => {
            for _ in 0..=noise.usize(..3) {
                let at = IP_HEADER + noise.usize(..packet.len() - IP_HEADER);
                packet[at] ^= (noise.u8(..)) | 1;
            }
        }
        // The higher priority with a wrong checksum: must not make the master yield.
        3 => {
            packet = higher.to_vec();
            packet[IP_HEADER + 6] ^= 0x55;
        }
        // Garbage appended: lengths no longer match.
        4 => {
            let length = 1 + noise.usize(..64);
            packet.extend(
                std::iter::repeat_with(|| noise.u8(..))
                    .take(length)
                    .collect::<Vec<u8>>(),
            );
        }
        // Wrong TTL (multicast adverts must have 255).
        _ => {
            packet = higher.to_vec();
            packet[8] = 1 + noise.usize(..254) as u8;
        }
    }
    packet
}

/// Sends the flood from inside the client's namespace (a thread of its own: namespaces are per thread).
fn flood(namespace: String) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let netns = File::open(format!("/run/netns/{namespace}")).expect("namespace");
        setns(netns.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns");
        let socket =
            Socket::new(Domain::IPV4, Type::RAW, Some(IpProtocol::from(112))).expect("raw socket");
        socket.set_header_included_v4(true).expect("IP_HDRINCL");
        socket.bind_device(Some(b"eth0")).expect("SO_BINDTODEVICE");
        let lower = valid_advert(100);
        let higher = valid_advert(250);
        let mut noise = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
        let mut sent = 0;
        for round in 0..PACKETS {
            let mut packet = bad_packet(&mut noise, &lower, &higher);
            let destination = if round % 2 == 0 {
                Ipv4Addr::new(224, 0, 0, 18)
            } else {
                Ipv4Addr::new(10, 99, 0, 1)
            };
            packet[16..20].copy_from_slice(&destination.octets());
            if socket
                .send_to(&packet, &SockAddr::from(SocketAddrV4::new(destination, 0)))
                .is_ok()
            {
                sent += 1;
            }
            if round % 500 == 499 {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        sent
    })
}

#[test]
fn thousands_of_bad_adverts_change_nothing() {
    require_netns!();
    let protocol = Protocol {
        version: 2,
        advert_int: 1.0,
        unicast: false,
        password: None,
        ah: false,
        ipv6: false,
    };
    let mut topology = Topology::new(2);
    let backup = topology.start(2, Implementation::Vrrpd, &protocol.config(2, 1, 100));
    let master = topology.start(1, Implementation::Vrrpd, &protocol.config(1, 2, 200));
    assert!(
        wait_for(Duration::from_secs(6), || topology.has_vip(1)).is_some(),
        "no master\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_secs(2));

    let sent = flood(topology.client()).join().expect("flood thread");
    assert!(sent > PACKETS / 2, "only {sent} packets could be sent");
    // Two more adverts: any damage would show by now.
    std::thread::sleep(Duration::from_secs(2));

    assert!(
        topology.daemon(master).is_running(),
        "master died\n{}",
        topology.logs()
    );
    assert!(
        topology.daemon(backup).is_running(),
        "backup died\n{}",
        topology.logs()
    );
    assert!(
        topology.has_vip(1) && !topology.has_vip(2),
        "roles changed under the flood\n{}",
        topology.logs()
    );
    for daemon in [master, backup] {
        let log = topology.daemon(daemon).log_text();
        assert!(
            log.matches("Entering").count() <= 2,
            "a state changed under the flood:\n{log}"
        );
    }

    // The master counted what it dropped.
    let stats = std::path::Path::new("/tmp/keepalived.stats");
    let _ = std::fs::remove_file(stats);
    topology
        .daemon(master)
        .signal(nix::sys::signal::Signal::SIGUSR2);
    assert!(wait_for(Duration::from_secs(2), || stats.exists()).is_some());
    std::thread::sleep(Duration::from_millis(100));
    let text = std::fs::read_to_string(stats).unwrap_or_default();
    let counter = |name: &str| -> u64 {
        text.lines()
            .filter(|line| line.trim_start().starts_with(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    assert!(counter("Length:") > 0, "no length errors counted:\n{text}");
    assert!(counter("TTL:") > 0, "no TTL errors counted:\n{text}");
    eprintln!("{sent} bad packets sent; master's statistics:\n{text}");
}
