//! Wire compatibility with the real keepalived 2.2.7: frames it sent (captured by
//! scripts/capture-vrrp-fixtures into testdata/vrrp) are decoded, accepted by an instance configured like the
//! receiving peer, and re-encoded byte for byte from the same configuration.

// Test code: a panic is a test failure (clippy.toml allows unwrap in #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Instant;

use vrrp::wire::arp::ArpPacket;
use vrrp::wire::ethernet::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, EthernetHeader};
use vrrp::wire::ipv4::Ipv4Header;
use vrrp::wire::ndisc::{FLAG_OVERRIDE, NeighborAdvertisement};
use vrrp::wire::{
    AdvertInterval, AdvertPacket, Advertisement, AuthType, Datagram, Family, MacAddr, Version,
};
use vrrp::{
    Action, AuthFailure, Authentication, Config, DropReason, InitialState, Instance, State,
    UnicastPeer,
};

const ROUTER1_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const ROUTER1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// The bytes of a fixture: hex pairs after the '#' comment lines.
fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/vrrp")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(|pair| {
            u8::from_str_radix(pair, 16).unwrap_or_else(|_| panic!("{name}: bad hex {pair:?}"))
        })
        .collect()
}

/// The IP packet inside an Ethernet frame.
fn ip_packet(frame: &[u8], ethertype: u16) -> &[u8] {
    let (ethernet, payload) = EthernetHeader::parse(frame).unwrap();
    assert_eq!(ethernet.ethertype, ethertype);
    assert_eq!(ethernet.source, ROUTER1_MAC);
    payload
}

fn addresses(list: &[&str]) -> Vec<IpAddr> {
    list.iter()
        .map(|address| address.parse().unwrap())
        .collect()
}

/// The configuration of the scenario that produced a fixture (see scripts/capture-vrrp-fixtures).
fn scenario(family: Family, version: Version, vrid: u8, priority: u8, vips: &[&str]) -> Config {
    let mut config = Config::new("fixture", family, vrid);
    config.version = version;
    config.priority = priority;
    config.virtual_addresses = addresses(vips);
    config
}

fn v2_pass() -> Config {
    let mut config = scenario(Family::Ipv4, Version::V2, 51, 255, &["192.0.2.100"]);
    config.initial_state = InitialState::Master;
    config.authentication = Authentication::password(b"secret12345");
    config
}

fn v2_multi() -> Config {
    let mut config = scenario(
        Family::Ipv4,
        Version::V2,
        7,
        100,
        &["192.0.2.100", "192.0.2.101", "198.51.100.7"],
    );
    config.advert_interval = AdvertInterval::from_seconds(2);
    config
}

fn v3_ipv4() -> Config {
    let mut config = scenario(
        Family::Ipv4,
        Version::V3,
        52,
        150,
        &["192.0.2.110", "192.0.2.111"],
    );
    config.advert_interval = AdvertInterval::from_centiseconds(10);
    config
}

fn v3_ipv6() -> Config {
    scenario(
        Family::Ipv6,
        Version::V3,
        53,
        255,
        &["2001:db8::100", "fe80::99:1"],
    )
}

fn v2_ah() -> Config {
    let mut config = scenario(Family::Ipv4, Version::V2, 54, 255, &["192.0.2.120"]);
    config.authentication = Authentication::ah(b"ahsecret");
    config
}

fn v3_unicast() -> Config {
    let mut config = scenario(Family::Ipv4, Version::V3, 55, 255, &["192.0.2.130"]);
    config.source_address = Some(ROUTER1.into());
    config.unicast_peers = vec![
        UnicastPeer::new([192, 0, 2, 2].into()),
        UnicastPeer::new([192, 0, 2, 3].into()),
    ];
    config
}

fn ipv6_link_local_of_router1() -> Ipv6Addr {
    "fe80::ff:fe00:1".parse().unwrap()
}

/// The packets of the `nth` advert (1-based) an instance of `config` sends from `source` with `priority`.
fn our_nth_advert(config: Config, source: IpAddr, nth: usize, priority: u8) -> Vec<vrrp::Transmit> {
    let mut instance = Instance::new(config).unwrap();
    instance.set_source_address(Some(source));
    for _ in 1..nth {
        instance.encode_advert(priority).unwrap();
    }
    instance.encode_advert(priority).unwrap()
}

/// A backup configured like `config` but with another priority, started, so that it listens.
fn listening_backup(mut config: Config, source: IpAddr) -> Instance {
    config.priority = 100;
    config.initial_state = InitialState::Backup;
    let mut instance = Instance::new(config).unwrap();
    instance.set_source_address(Some(source));
    instance.start(Instant::now());
    assert_eq!(instance.state(), State::Backup);
    instance
}

#[test]
fn v2_pass_advert_decodes_and_re_encodes_identically() {
    let frame = fixture("v2-pass-advert.hex");
    let packet = ip_packet(&frame, ETHERTYPE_IPV4);
    let (header, vrrp) = Ipv4Header::parse(packet).unwrap();
    assert_eq!(
        (
            header.tos,
            header.ttl,
            header.flags_fragment,
            header.identification
        ),
        (0xc0, 255, 0, 1)
    );
    assert!(Ipv4Header::checksum_is_valid(&packet[..20]));

    let view = AdvertPacket::new_checked(vrrp, Family::Ipv4).unwrap();
    assert!(view.checksum_is_valid(header.source.into(), header.destination.into()));
    let advert = Advertisement::parse(&view).unwrap();
    assert_eq!(
        (advert.version, advert.vrid, advert.priority),
        (Version::V2, 51, 255)
    );
    assert_eq!(advert.auth_type, AuthType::Pass);
    assert_eq!(
        &advert.auth_data, b"secret12",
        "keepalived sends the first 8 bytes of 'secret12345'"
    );
    assert_eq!(advert.addresses, addresses(&["192.0.2.100"]));

    let ours = our_nth_advert(v2_pass(), ROUTER1.into(), 1, 255);
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].destination, IpAddr::from([224, 0, 0, 18]));
    assert_eq!(ours[0].payload, packet);
}

#[test]
fn v2_shutdown_advert_is_the_third_packet_with_priority_zero() {
    let frame = fixture("v2-pass-shutdown.hex");
    let packet = ip_packet(&frame, ETHERTYPE_IPV4);
    let ours = our_nth_advert(v2_pass(), ROUTER1.into(), 3, 0);
    assert_eq!(ours[0].payload, packet);
}

#[test]
fn v2_pass_adverts_are_accepted_only_with_the_same_eight_bytes() {
    let frame = fixture("v2-pass-advert.hex");
    let datagram = Datagram::Ipv4(ip_packet(&frame, ETHERTYPE_IPV4));
    let router2: IpAddr = [192, 0, 2, 2].into();

    let mut same_truncation = listening_backup(v2_pass(), router2);
    assert_eq!(
        same_truncation.handle_datagram(Instant::now(), &datagram),
        Ok(vec![])
    );

    let mut config = v2_pass();
    config.authentication = Authentication::password(b"secret13");
    let mut other_password = listening_backup(config, router2);
    assert_eq!(
        other_password.handle_datagram(Instant::now(), &datagram),
        Err(DropReason::AuthFailure(AuthFailure::Password))
    );
    assert_eq!(other_password.statistics().auth_failure, 1);

    let mut config = v2_pass();
    config.authentication = Authentication::None;
    let mut no_auth = listening_backup(config, router2);
    assert_eq!(
        no_auth.handle_datagram(Instant::now(), &datagram),
        Err(DropReason::AuthTypeMismatch {
            received: 1,
            expected: 0
        })
    );
}

#[test]
fn v2_advert_with_three_vips_and_its_shutdown_re_encode_identically() {
    let advert_frame = fixture("v2-multi-advert.hex");
    let shutdown_frame = fixture("v2-multi-shutdown.hex");
    let source = IpAddr::from(ROUTER1);
    assert_eq!(
        our_nth_advert(v2_multi(), source, 1, 100)[0].payload,
        ip_packet(&advert_frame, ETHERTYPE_IPV4)
    );
    assert_eq!(
        our_nth_advert(v2_multi(), source, 2, 0)[0].payload,
        ip_packet(&shutdown_frame, ETHERTYPE_IPV4)
    );

    let datagram = Datagram::Ipv4(ip_packet(&advert_frame, ETHERTYPE_IPV4));
    let mut backup = listening_backup(v2_multi(), [192, 0, 2, 2].into());
    assert_eq!(
        backup.handle_datagram(Instant::now(), &datagram),
        Ok(vec![])
    );

    let mut config = v2_multi();
    config.advert_interval = AdvertInterval::ONE_SECOND;
    let mut other_interval = listening_backup(config, [192, 0, 2, 2].into());
    assert_eq!(
        other_interval.handle_datagram(Instant::now(), &datagram),
        Err(DropReason::IntervalMismatch {
            received: 2,
            expected: 1
        })
    );

    let mut config = v2_multi();
    config.virtual_addresses.pop();
    let mut fewer_vips = listening_backup(config, [192, 0, 2, 2].into());
    assert_eq!(
        fewer_vips.handle_datagram(Instant::now(), &datagram),
        Err(DropReason::AddressCount {
            received: 3,
            expected: 2
        })
    );
}

#[test]
fn v3_ipv4_adverts_re_encode_identically_with_the_pseudo_header_checksum() {
    let advert_frame = fixture("v3-ipv4-advert.hex");
    let packet = ip_packet(&advert_frame, ETHERTYPE_IPV4);
    let (header, vrrp) = Ipv4Header::parse(packet).unwrap();
    let view = AdvertPacket::new_checked(vrrp, Family::Ipv4).unwrap();
    assert_eq!(view.v3_max_advert_interval(), 10);
    assert!(view.checksum_is_valid(header.source.into(), header.destination.into()));
    assert!(!view.checksum_is_valid(header.source.into(), [224, 0, 0, 19].into()));

    let source = IpAddr::from(ROUTER1);
    assert_eq!(our_nth_advert(v3_ipv4(), source, 1, 150)[0].payload, packet);
    let shutdown_frame = fixture("v3-ipv4-shutdown.hex");
    assert_eq!(
        our_nth_advert(v3_ipv4(), source, 7, 0)[0].payload,
        ip_packet(&shutdown_frame, ETHERTYPE_IPV4)
    );

    let mut backup = listening_backup(v3_ipv4(), [192, 0, 2, 2].into());
    assert_eq!(
        backup.handle_datagram(Instant::now(), &Datagram::Ipv4(packet)),
        Ok(vec![])
    );
}

#[test]
fn v3_ipv6_adverts_re_encode_identically() {
    for (name, nth, priority) in [
        ("v3-ipv6-advert.hex", 1, 255),
        ("v3-ipv6-shutdown.hex", 2, 0),
    ] {
        let frame = fixture(name);
        let packet = ip_packet(&frame, ETHERTYPE_IPV6);
        // The kernel writes the IPv6 header: traffic class 0xc0 (keepalived sets IPV6_TCLASS), hop limit 255,
        // next header VRRP, from the link-local address to ff02::12. The flow label is the kernel's own.
        assert_eq!(packet[0] >> 4, 6);
        assert_eq!(((packet[0] & 0x0f) << 4) | (packet[1] >> 4), 0xc0);
        assert_eq!((packet[6], packet[7]), (112, 255));
        let source = Ipv6Addr::from(<[u8; 16]>::try_from(&packet[8..24]).unwrap());
        let destination = Ipv6Addr::from(<[u8; 16]>::try_from(&packet[24..40]).unwrap());
        assert_eq!(source, ipv6_link_local_of_router1());
        assert_eq!(IpAddr::V6(destination), Family::Ipv6.vrrp_multicast_group());

        let message = &packet[40..];
        let ours = our_nth_advert(v3_ipv6(), source.into(), nth, priority);
        assert_eq!(ours[0].destination, IpAddr::V6(destination));
        assert_eq!(ours[0].payload, message, "{name}");

        let mut backup = listening_backup(v3_ipv6(), "fe80::ff:fe00:2".parse().unwrap());
        let datagram = Datagram::Ipv6 {
            message,
            source,
            destination,
            hop_limit: Some(255),
        };
        assert_eq!(
            backup
                .handle_datagram(Instant::now(), &datagram)
                .map(|_| ()),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn ah_adverts_re_encode_identically_including_the_hmac() {
    let first = fixture("v2-ah-advert.hex");
    let second = fixture("v2-ah-advert-2.hex");
    let mut instance = Instance::new(v2_ah()).unwrap();
    instance.set_source_address(Some(ROUTER1.into()));
    assert_eq!(
        instance.encode_advert(255).unwrap()[0].payload,
        ip_packet(&first, ETHERTYPE_IPV4)
    );
    assert_eq!(
        instance.encode_advert(255).unwrap()[0].payload,
        ip_packet(&second, ETHERTYPE_IPV4)
    );
}

#[test]
fn ah_adverts_are_authenticated_and_replays_dropped() {
    let first = fixture("v2-ah-advert.hex");
    let second = fixture("v2-ah-advert-2.hex");
    let first = Datagram::Ipv4(ip_packet(&first, ETHERTYPE_IPV4));
    let second = Datagram::Ipv4(ip_packet(&second, ETHERTYPE_IPV4));
    let now = Instant::now();

    let mut backup = listening_backup(v2_ah(), [192, 0, 2, 2].into());
    assert_eq!(backup.handle_datagram(now, &first), Ok(vec![]));
    assert_eq!(
        backup.handle_datagram(now, &first),
        Err(DropReason::AuthFailure(AuthFailure::Replay {
            received: 1,
            last: 1
        }))
    );
    assert_eq!(backup.handle_datagram(now, &second), Ok(vec![]));

    let mut config = v2_ah();
    config.authentication = Authentication::ah(b"ahsecreT");
    let mut wrong_key = listening_backup(config, [192, 0, 2, 2].into());
    assert_eq!(
        wrong_key.handle_datagram(now, &first),
        Err(DropReason::AuthFailure(AuthFailure::Icv))
    );

    let mut config = v2_ah();
    config.authentication = Authentication::password(b"ahsecret");
    let mut expects_pass = listening_backup(config, [192, 0, 2, 2].into());
    assert_eq!(
        expects_pass.handle_datagram(now, &first),
        Err(DropReason::AuthHeaderMismatch)
    );
}

#[test]
fn unicast_copies_share_the_ip_id_and_checksum_their_own_destination() {
    let to_peer2 = fixture("v3-unicast-peer2.hex");
    let to_peer3 = fixture("v3-unicast-peer3.hex");
    let ours = our_nth_advert(v3_unicast(), ROUTER1.into(), 1, 255);
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[0].destination, IpAddr::from([192, 0, 2, 2]));
    assert_eq!(ours[0].payload, ip_packet(&to_peer2, ETHERTYPE_IPV4));
    assert_eq!(ours[1].destination, IpAddr::from([192, 0, 2, 3]));
    assert_eq!(ours[1].payload, ip_packet(&to_peer3, ETHERTYPE_IPV4));

    // Peer 192.0.2.2's view: router1 is among its peers.
    let mut config = v3_unicast();
    config.source_address = Some([192, 0, 2, 2].into());
    config.unicast_peers = vec![UnicastPeer::new(ROUTER1.into())];
    config.check_unicast_source = true;
    let mut peer = listening_backup(config.clone(), [192, 0, 2, 2].into());
    let datagram = Datagram::Ipv4(ip_packet(&to_peer2, ETHERTYPE_IPV4));
    assert_eq!(peer.handle_datagram(Instant::now(), &datagram), Ok(vec![]));

    config.unicast_peers = vec![UnicastPeer::new([192, 0, 2, 3].into())];
    let mut stranger = listening_backup(config, [192, 0, 2, 2].into());
    assert_eq!(
        stranger.handle_datagram(Instant::now(), &datagram),
        Err(DropReason::NotAPeer(ROUTER1.into()))
    );
}

#[test]
fn gratuitous_arps_are_identical() {
    for (name, vip) in [
        ("v2-pass-garp.hex", Ipv4Addr::new(192, 0, 2, 100)),
        ("v2-multi-garp-3.hex", Ipv4Addr::new(198, 51, 100, 7)),
    ] {
        let frame = fixture(name);
        let parsed = ArpPacket::parse_frame(&frame).unwrap();
        assert!(parsed.is_gratuitous());
        assert_eq!(parsed.operation, vrrp::wire::arp::OP_REQUEST);
        assert_eq!(
            ArpPacket::gratuitous(ROUTER1_MAC, vip).to_frame(),
            frame,
            "{name}"
        );
    }
}

#[test]
fn unsolicited_neighbour_advertisement_is_identical() {
    let frame = fixture("v3-ipv6-na.hex");
    let (parsed, checksum_ok) = NeighborAdvertisement::parse_frame(&frame).unwrap();
    assert!(checksum_ok);
    assert_eq!(parsed.flags, FLAG_OVERRIDE);
    assert_eq!(parsed.hop_limit, 255);
    let vip: Ipv6Addr = "2001:db8::100".parse().unwrap();
    assert_eq!(
        NeighborAdvertisement::unsolicited(ROUTER1_MAC, vip, false).to_frame(),
        frame
    );
}

#[test]
fn a_backup_hearing_the_captured_shutdown_takes_over_after_skew_time() {
    let frame = fixture("v2-multi-shutdown.hex");
    let datagram = Datagram::Ipv4(ip_packet(&frame, ETHERTYPE_IPV4));
    let now = Instant::now();
    let mut backup = listening_backup(v2_multi(), [192, 0, 2, 2].into());
    assert_eq!(backup.handle_datagram(now, &datagram), Ok(vec![]));
    // Priority 100: (256 - 100) / 256 s.
    assert_eq!(
        backup.poll_timeout(),
        Some(now + std::time::Duration::from_micros(609_375))
    );
    let actions = backup.handle_timeout(now + std::time::Duration::from_micros(609_375));
    assert_eq!(actions.first(), Some(&Action::SendAdvert { priority: 100 }));
    assert_eq!(backup.state(), State::Master);
}
