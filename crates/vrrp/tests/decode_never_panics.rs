//! Nothing that comes from the network may crash the daemon: every decoder and the receive path of instances in
//! every configuration get random bytes and mutated real packets. (crates/vrrp/fuzz runs the same with
//! libFuzzer for longer.)

// Test code: a panic is a test failure (clippy.toml allows unwrap in #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

mod common;

use std::net::Ipv6Addr;
use std::time::Instant;

use common::*;
use vrrp::wire::ah::AhHeader;
use vrrp::wire::arp::ArpPacket;
use vrrp::wire::ethernet::EthernetHeader;
use vrrp::wire::ipv4::Ipv4Header;
use vrrp::wire::ndisc::NeighborAdvertisement;
use vrrp::wire::{AdvertPacket, Advertisement, Datagram, Family};
use vrrp::{Authentication, Config, Instance, UnicastPeer};

fn receivers(now: Instant) -> Vec<Instance> {
    let mut configs: Vec<Config> = vec![config(100), v3_config(150, 10)];
    let mut pass = config(100);
    pass.authentication = Authentication::password(b"secret");
    let mut ah = config(100);
    ah.authentication = Authentication::ah(b"secret");
    let mut unicast = config(100);
    unicast.unicast_peers = vec![UnicastPeer::new(ip("192.0.2.1"))];
    unicast.check_unicast_source = true;
    let mut skipping = config(100);
    skipping.skip_check_advert_addresses = true;
    let mut ipv6 = Config::new("VI_6", Family::Ipv6, 51);
    ipv6.virtual_addresses = vec![ip("2001:db8::100")];
    configs.extend([pass, ah, unicast, skipping, ipv6]);
    configs
        .into_iter()
        .map(|config| {
            let family = config.family;
            let mut instance = Instance::new(config).unwrap();
            instance.set_source_address(Some(match family {
                Family::Ipv4 => ip(OURS),
                Family::Ipv6 => ip("fe80::10"),
            }));
            instance.start(now);
            instance
        })
        .collect()
}

/// Every decoder on `bytes`, and every receiver on `bytes` as a datagram.
fn decode_everything(bytes: &[u8], receivers: &mut [Instance], now: Instant) {
    let _ = EthernetHeader::parse(bytes);
    let _ = ArpPacket::parse_frame(bytes);
    let _ = NeighborAdvertisement::parse_frame(bytes);
    let _ = Ipv4Header::parse(bytes);
    let _ = AhHeader::parse(bytes);
    for family in [Family::Ipv4, Family::Ipv6] {
        if let Ok(packet) = AdvertPacket::new_checked(bytes, family) {
            let _ = packet.addresses().count();
            let _ = packet.auth_data();
            let _ = packet.checksum_is_valid(ip("192.0.2.1"), family.vrrp_multicast_group());
            let _ = Advertisement::parse(&packet);
        }
    }
    let ipv6 = Datagram::Ipv6 {
        message: bytes,
        source: "fe80::1".parse::<Ipv6Addr>().unwrap(),
        destination: "ff02::12".parse::<Ipv6Addr>().unwrap(),
        hop_limit: Some(255),
    };
    for receiver in receivers.iter_mut() {
        let datagram = match receiver.config().family {
            Family::Ipv4 => Datagram::Ipv4(bytes),
            Family::Ipv6 => ipv6,
        };
        let _ = datagram.vrid();
        let _ = receiver.handle_datagram(now, &datagram);
    }
}

#[test]
fn random_bytes_never_panic() {
    let now = Instant::now();
    let mut receivers = receivers(now);
    let mut random = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let length = random.usize(..128);
        let bytes = std::iter::repeat_with(|| random.u8(..))
            .take(length)
            .collect::<Vec<u8>>();
        decode_everything(&bytes, &mut receivers, now);
    }
}

#[test]
fn mutated_real_adverts_never_panic() {
    let now = Instant::now();
    let mut receivers = receivers(now);
    let mut random = fastrand::Rng::with_seed(0x0123_4567_89ab_cdef);
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for template in [config(200), v3_config(200, 10)] {
        seeds.push(Peer::new(&template, 200, "192.0.2.1").advert(200));
    }
    let mut ah = config(200);
    ah.authentication = Authentication::ah(b"secret");
    seeds.push(Peer::new(&ah, 200, "192.0.2.1").advert(200));
    let mut ipv6 = Config::new("VI_6", Family::Ipv6, 51);
    ipv6.virtual_addresses = vec![ip("2001:db8::100")];
    seeds.push(Peer::new(&ipv6, 200, "fe80::1").advert(200));

    for round in 0..40_000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..=random.usize(..4) {
            match random.usize(..4) {
                0 if !bytes.is_empty() => {
                    let at = random.usize(..bytes.len());
                    bytes[at] = random.u8(..);
                }
                1 => bytes.truncate(random.usize(..bytes.len() + 1)),
                2 => {
                    let extra = random.usize(..40);
                    bytes.extend(
                        std::iter::repeat_with(|| random.u8(..))
                            .take(extra)
                            .collect::<Vec<u8>>(),
                    );
                }
                _ if !bytes.is_empty() => {
                    // Header fields that steer parsing: IHL, total length, protocol, VRRP count.
                    let at = [0, 3, 9, 20 + 3, 3]
                        .get(random.usize(..5))
                        .copied()
                        .unwrap_or(0)
                        .min(bytes.len() - 1);
                    bytes[at] = random.u8(..);
                }
                _ => {}
            }
        }
        decode_everything(&bytes, &mut receivers, now);
    }
}
