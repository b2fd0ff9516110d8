//! Any bytes, through every decoder and the receive path of instances configured every way: nothing may panic.
#![no_main]

use std::net::{IpAddr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use vrrp::wire::ah::AhHeader;
use vrrp::wire::arp::ArpPacket;
use vrrp::wire::ipv4::Ipv4Header;
use vrrp::wire::ndisc::NeighborAdvertisement;
use vrrp::wire::{AdvertInterval, AdvertPacket, Advertisement, Datagram, Family, Version};
use vrrp::{Authentication, Config, Instance, UnicastPeer};

fn configs() -> Vec<Config> {
    let vip = |text: &str| text.parse::<IpAddr>().ok().into_iter().collect::<Vec<_>>();
    let mut v2 = Config::new("v2", Family::Ipv4, 51);
    v2.virtual_addresses = vip("192.0.2.100");
    let mut pass = v2.clone();
    pass.authentication = Authentication::password(b"secret");
    let mut ah = v2.clone();
    ah.authentication = Authentication::ah(b"secret");
    let mut v3 = v2.clone();
    v3.version = Version::V3;
    v3.advert_interval = AdvertInterval::from_centiseconds(10);
    let mut unicast = v3.clone();
    unicast.unicast_peers = "192.0.2.1"
        .parse()
        .map(UnicastPeer::new)
        .into_iter()
        .collect();
    unicast.check_unicast_source = true;
    let mut skipping = v2.clone();
    skipping.skip_check_advert_addresses = true;
    let mut v6 = Config::new("v6", Family::Ipv6, 51);
    v6.virtual_addresses = vip("2001:db8::100");
    vec![v2, pass, ah, v3, unicast, skipping, v6]
}

fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

fuzz_target!(|bytes: &[u8]| {
    let _ = ArpPacket::parse_frame(bytes);
    let _ = NeighborAdvertisement::parse_frame(bytes);
    let _ = Ipv4Header::parse(bytes);
    let _ = AhHeader::parse(bytes);
    for family in [Family::Ipv4, Family::Ipv6] {
        if let Ok(packet) = AdvertPacket::new_checked(bytes, family) {
            let _ = packet.addresses().count();
            let _ = Advertisement::parse(&packet);
        }
    }
    let now = start();
    for config in configs() {
        let family = config.family;
        let Ok(mut instance) = Instance::new(config) else {
            continue;
        };
        instance.start(now);
        let datagram = match family {
            Family::Ipv4 => Datagram::Ipv4(bytes),
            Family::Ipv6 => Datagram::Ipv6 {
                message: bytes,
                source: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
                destination: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
                hop_limit: Some(255),
            },
        };
        let _ = instance.handle_datagram(now, &datagram);
    }
});
