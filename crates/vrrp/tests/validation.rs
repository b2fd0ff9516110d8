//! Receive validation: one test per drop reason, and keepalived's order when a packet has several faults.

mod common;

use std::time::Instant;

use common::*;
use vrrp::wire::{Datagram, WireError};
use vrrp::{DropReason, Instance, UnicastChecksum, UnicastPeer};

/// Byte offsets in an IPv4 VRRPv2 advert as sent (20-byte IPv4 header first).
const TTL: usize = 8;
const TOTAL_LEN: usize = 2;
const VRRP: usize = 20;

fn listening(config: vrrp::Config) -> Instance {
    started_backup(config, Instant::now())
}

fn from_master() -> Vec<u8> {
    Peer::new(&config(100), 200, "192.0.2.1").advert(200)
}

fn verdict(instance: &mut Instance, packet: &[u8]) -> Result<(), DropReason> {
    instance
        .handle_datagram(Instant::now(), &Datagram::Ipv4(packet))
        .map(|_| ())
}

#[test]
fn a_valid_advert_is_accepted() {
    assert_eq!(verdict(&mut listening(config(100)), &from_master()), Ok(()));
}

#[test]
fn multicast_adverts_need_ttl_255() {
    let mut packet = from_master();
    packet[TTL] = 254;
    assert_eq!(
        verdict(&mut listening(config(100)), &packet),
        Err(DropReason::Ttl { received: 254 })
    );
}

#[test]
fn unicast_adverts_need_a_peer_s_address_and_ttl_range_only_when_checked() {
    let mut sender = config(100);
    sender.unicast_peers = vec![UnicastPeer::new(ip(OURS))];
    let mut packet = Peer::new(&sender, 200, "192.0.2.1").advert(200);
    packet[TTL] = 64;
    // Fix the IPv4 header checksum after changing the TTL, as a router on the way would.
    packet[10..12].fill(0);
    let checksum = vrrp::wire::checksum::internet_checksum(&packet[..20]);
    packet[10..12].copy_from_slice(&checksum.to_be_bytes());

    let mut receiver = config(100);
    receiver.unicast_peers = vec![UnicastPeer::new(ip("192.0.2.1"))];
    assert_eq!(verdict(&mut listening(receiver.clone()), &packet), Ok(()));

    receiver.check_unicast_source = true;
    receiver.unicast_peers = vec![UnicastPeer {
        address: ip("192.0.2.1"),
        min_ttl: 100,
        max_ttl: 255,
    }];
    assert_eq!(
        verdict(&mut listening(receiver.clone()), &packet),
        Err(DropReason::PeerTtl {
            ttl: 64,
            min: 100,
            max: 255
        })
    );

    receiver.unicast_peers = vec![UnicastPeer::new(ip("192.0.2.3"))];
    assert_eq!(
        verdict(&mut listening(receiver), &packet),
        Err(DropReason::NotAPeer(ip("192.0.2.1")))
    );
}

#[test]
fn unicast_adverts_to_a_multicast_instance_are_dropped() {
    let mut sender = config(100);
    sender.unicast_peers = vec![UnicastPeer::new(ip(OURS))];
    let packet = Peer::new(&sender, 200, "192.0.2.1").advert(200);
    assert_eq!(
        verdict(&mut listening(config(100)), &packet),
        Err(DropReason::CastMismatch {
            expected_multicast: true
        })
    );
}

#[test]
fn another_version_is_dropped() {
    let packet = Peer::new(&v3_config(100, 100), 200, "192.0.2.1").advert(200);
    assert_eq!(
        verdict(&mut listening(config(100)), &packet),
        Err(DropReason::Version {
            received: 3,
            expected: 2
        })
    );
}

#[test]
fn another_vrid_is_dropped() {
    let mut other = config(100);
    other.vrid = 52;
    let packet = Peer::new(&other, 200, "192.0.2.1").advert(200);
    let mut instance = listening(config(100));
    assert_eq!(
        verdict(&mut instance, &packet),
        Err(DropReason::VridMismatch {
            received: 52,
            expected: 51
        })
    );
    assert_eq!(instance.statistics().vrid_err, 1);
}

#[test]
fn unknown_type_auth_type_and_interval_are_dropped() {
    let mut packet = from_master();
    packet[VRRP] = 0x22;
    assert_eq!(
        verdict(&mut listening(config(100)), &packet),
        Err(DropReason::PacketType(2))
    );

    let mut packet = from_master();
    packet[VRRP + 4] = 3;
    assert_eq!(
        verdict(&mut listening(config(100)), &packet),
        Err(DropReason::InvalidAuthType(3))
    );

    let mut packet = from_master();
    packet[VRRP + 5] = 3;
    assert_eq!(
        verdict(&mut listening(config(100)), &packet),
        Err(DropReason::IntervalMismatch {
            received: 3,
            expected: 1
        })
    );
}

#[test]
fn lengths_must_agree() {
    let mut longer = from_master();
    longer.push(0);
    assert_eq!(
        verdict(&mut listening(config(100)), &longer),
        Err(DropReason::Length {
            received: 21,
            expected: 20
        })
    );

    let mut lying_header = from_master();
    lying_header[TOTAL_LEN + 1] += 4;
    assert_eq!(
        verdict(&mut listening(config(100)), &lying_header),
        Err(DropReason::IpTotalLength {
            header: 44,
            received: 40
        })
    );

    // Cut inside the VIPs: shorter than the header declares, a length error like keepalived's.
    let packet = from_master();
    assert_eq!(
        verdict(&mut listening(config(100)), &packet[..30]),
        Err(DropReason::Length {
            received: 10,
            expected: 20
        })
    );
    // Cut inside the VRRP header: nothing to read a length from.
    assert!(matches!(
        verdict(&mut listening(config(100)), &packet[..25]),
        Err(DropReason::Malformed(WireError::Truncated { .. }))
    ));
}

#[test]
fn a_corrupted_advert_fails_its_checksum() {
    let mut packet = from_master();
    packet[VRRP + 9] ^= 0x40; // inside the VIP
    let mut instance = listening(config(100));
    assert_eq!(
        verdict(&mut instance, &packet),
        Err(DropReason::Checksum(2))
    );
    assert_eq!(instance.statistics().chk_err, 1);
    assert_eq!(instance.statistics().advert_rcvd, 0);
}

#[test]
fn checks_run_in_keepalived_s_order() {
    // TTL before version.
    let mut packet = Peer::new(&v3_config(100, 100), 200, "192.0.2.1").advert(200);
    packet[TTL] = 1;
    assert_eq!(
        verdict(&mut listening(config(100)), &packet),
        Err(DropReason::Ttl { received: 1 })
    );

    // Authentication before the interval, the interval before the type, the type before the VIP count.
    let mut packet = from_master();
    packet[VRRP] = 0x22;
    packet[VRRP + 5] = 9;
    packet[VRRP + 4] = 1;
    let mut more_vips = config(100);
    more_vips.virtual_addresses.push(ip("192.0.2.101"));
    assert_eq!(
        verdict(&mut listening(more_vips.clone()), &packet),
        Err(DropReason::AuthTypeMismatch {
            received: 1,
            expected: 0
        })
    );
    packet[VRRP + 4] = 0;
    assert_eq!(
        verdict(&mut listening(more_vips.clone()), &packet),
        Err(DropReason::IntervalMismatch {
            received: 9,
            expected: 1
        })
    );
    packet[VRRP + 5] = 1;
    assert_eq!(
        verdict(&mut listening(more_vips.clone()), &packet),
        Err(DropReason::PacketType(2))
    );
    packet[VRRP] = 0x21;
    assert_eq!(
        verdict(&mut listening(more_vips), &packet),
        Err(DropReason::AddressCount {
            received: 1,
            expected: 2
        })
    );
}

#[test]
fn a_master_checks_vips_even_with_skip_check_adv_addr() {
    let clock = Clock::new();
    let mut template = config(200);
    template.skip_check_advert_addresses = true;
    let (mut master, since) = master(template.clone(), &clock);
    let mut other = template.clone();
    other.virtual_addresses = vec![ip("192.0.2.200")];
    let packet = Peer::new(&other, 100, "192.0.2.1").advert(100);
    assert_eq!(
        master
            .handle_datagram(since, &Datagram::Ipv4(&packet))
            .map(|_| ()),
        Err(DropReason::AddressMissing(ip(VIP)))
    );
}

#[test]
fn old_keepalived_unicast_v3_checksums_are_detected_and_then_used() {
    let mut old_sender = v3_config(200, 100);
    old_sender.unicast_peers = vec![UnicastPeer::new(ip(OURS))];
    old_sender.unicast_checksum = UnicastChecksum::Legacy;
    let old_advert = Peer::new(&old_sender, 200, "192.0.2.1").advert(200);
    let mut new_sender = old_sender.clone();
    new_sender.unicast_checksum = UnicastChecksum::Detect;
    let new_advert = Peer::new(&new_sender, 200, "192.0.2.1").advert(200);
    assert_ne!(
        old_advert[VRRP + 6..VRRP + 8],
        new_advert[VRRP + 6..VRRP + 8]
    );

    let mut receiver = v3_config(100, 100);
    receiver.unicast_peers = vec![UnicastPeer::new(ip("192.0.2.1"))];

    receiver.unicast_checksum = UnicastChecksum::Standard;
    assert_eq!(
        verdict(&mut listening(receiver.clone()), &old_advert),
        Err(DropReason::Checksum(3))
    );

    receiver.unicast_checksum = UnicastChecksum::Detect;
    let mut detecting = listening(receiver.clone());
    let ours_before = detecting.encode_advert(100).unwrap().remove(0).payload;
    assert_eq!(verdict(&mut detecting, &new_advert), Ok(()));
    assert_eq!(verdict(&mut detecting, &old_advert), Ok(()));
    // From now on it sends the old way, which the old peer verifies.
    let ours_after = detecting.encode_advert(100).unwrap().remove(0).payload;
    assert_ne!(
        ours_before[VRRP + 6..VRRP + 8],
        ours_after[VRRP + 6..VRRP + 8]
    );
    let mut old_peer_view = old_sender.clone();
    old_peer_view.source_address = Some(ip("192.0.2.1"));
    old_peer_view.unicast_peers = vec![UnicastPeer::new(ip(OURS))];
    old_peer_view.unicast_checksum = UnicastChecksum::Legacy;
    let mut old_peer = listening(old_peer_view);
    assert_eq!(verdict(&mut old_peer, &ours_after), Ok(()));
}
