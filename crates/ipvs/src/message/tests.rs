//! Round trips of every command and attribute through the wire format, the `Other` fallback,
//! and decoding errors. (Byte-exact comparisons with the reference are in `crate::fixtures`.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DefaultNla, Emitable, NLM_F_ACK, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NlaBuffer, Parseable,
};
use netlink_packet_generic::GenlMessage;

use super::attribute::{
    Counter, DaemonAttribute, DestinationAttribute, InfoAttribute, ServiceAttribute,
    StatsAttribute, StatsWidth, daemon_from_attributes, daemon_to_attributes,
    destination_from_attributes, destination_to_attributes, info_from_attributes,
    service_from_attributes, service_to_attributes, stats_from_attributes, stats_to_attributes,
};
use super::{Command, CommandAttribute, IpvsMessage, Request};
use crate::model::{
    AddressFamily, DaemonState, Destination, ForwardingMethod, Info, Netmask, Protocol, Service,
    ServiceFlags, ServiceKey, Stats, SyncDaemon, Timeouts, Tunnel, TunnelFlags, TunnelType,
    Version,
};

const FAMILY: u16 = 0x20;

fn v6(text: &str) -> IpAddr {
    IpAddr::V6(text.parse::<Ipv6Addr>().expect("an IPv6 address"))
}

fn sample_services() -> Vec<Service> {
    vec![
        Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1).into(), 80)),
        Service::new(ServiceKey::udp(v6("2001:db8::1"), 53))
            .with_scheduler("wrr")
            .with_persistence(600)
            .with_netmask(Netmask::Ipv6Prefix(64))
            .with_flags(ServiceFlags::ONE_PACKET),
        Service::new(ServiceKey::fwmark(AddressFamily::Ipv4, u32::MAX))
            .with_scheduler("sh")
            .with_flags(ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3)
            .with_netmask(Netmask::Ipv4(Ipv4Addr::new(255, 255, 0, 0))),
        Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 8)).with_persistence_engine("sip"),
        Service::new(ServiceKey::sctp(Ipv4Addr::UNSPECIFIED.into(), 0)).with_scheduler(""),
        Service::new(ServiceKey::Address {
            protocol: Protocol::Other(253),
            address: v6("::ffff:10.0.0.1"),
            port: 1,
        }),
    ]
}

fn sample_destinations() -> Vec<Destination> {
    vec![
        Destination::new(Ipv4Addr::new(10, 0, 0, 2).into(), 8080)
            .with_forwarding(ForwardingMethod::Masquerade)
            .with_weight(i32::MAX)
            .with_thresholds(u32::MAX, 7),
        Destination::new(v6("2001:db8::10"), 53).with_weight(0),
        Destination::new(Ipv4Addr::new(192, 168, 1, 10).into(), 0).with_tunnel(Tunnel {
            kind: TunnelType::Gue,
            port: 6080,
            flags: TunnelFlags::CHECKSUM | TunnelFlags::REMOTE_CHECKSUM,
        }),
        Destination::new(Ipv4Addr::new(127, 0, 0, 1).into(), 1)
            .with_forwarding(ForwardingMethod::Local),
        Destination::new(v6("fe80::1"), 65535)
            .with_forwarding(ForwardingMethod::Other(4))
            .with_weight(-1),
    ]
}

fn sample_daemons() -> Vec<SyncDaemon> {
    vec![
        SyncDaemon::new(DaemonState::Master, "eth0"),
        SyncDaemon {
            sync_id: 255,
            max_length: Some(1400),
            group: Some(Ipv4Addr::new(239, 1, 1, 1).into()),
            port: Some(9000),
            ttl: Some(2),
            ..SyncDaemon::new(DaemonState::Backup, "dummy0")
        },
        SyncDaemon {
            group: Some(v6("ff12::1:3")),
            ..SyncDaemon::new(DaemonState::Other(4), "")
        },
    ]
}

/// The message as a whole netlink request, written by netlink-packet-core.
fn generic_request(message: &IpvsMessage) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(message.clone());
    genl.set_resolved_family_id(FAMILY);
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_ACK;
    header.sequence_number = 42;
    header.port_number = 4242;
    let mut request = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
    request.finalize();
    let mut bytes = vec![0; request.buffer_len()];
    request.serialize(&mut bytes);
    bytes
}

/// The request as a whole netlink request written by [`Request::encode`] after other bytes (as
/// in a batch); they must be netlink-packet-core's for its typed message.
fn written_request(request: Request<'_>) -> Vec<u8> {
    let mut batch = vec![0xaa; 12];
    request.encode(FAMILY, NLM_F_REQUEST | NLM_F_ACK, 42, 4242, &mut batch);
    let bytes = batch.split_off(12);
    assert_eq!(bytes, generic_request(&request.to_message()), "{request:?}");
    bytes
}

/// The request as a whole netlink request ([`written_request`]), and back.
fn through_the_wire(request: Request<'_>) -> IpvsMessage {
    let bytes = written_request(request);
    assert_eq!(bytes.len() % 4, 0, "messages are 4-byte aligned");
    match NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&bytes)
        .expect("decodes")
        .payload
    {
        NetlinkPayload::InnerMessage(genl) => {
            assert_eq!(genl.header.version, super::GENL_VERSION);
            genl.payload
        }
        other => panic!("not an IPVS message: {other:?}"),
    }
}

#[test]
fn every_request_round_trips() {
    let key = ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1).into(), 80);
    let timeouts = Timeouts {
        tcp: 900,
        tcp_fin: 0,
        udp: u32::MAX,
    };
    let (services, destinations, daemons) =
        (sample_services(), sample_destinations(), sample_daemons());
    let mut requests = vec![
        Request::GetServices,
        Request::GetDaemons,
        Request::GetTimeouts,
        Request::GetInfo,
        Request::Zero(None),
        Request::Zero(Some(&key)),
        Request::Flush,
        Request::SetTimeouts(&timeouts),
        Request::DelDaemon(DaemonState::Backup, 3),
    ];
    for service in &services {
        requests.extend([
            Request::NewService(service),
            Request::SetService(service),
            Request::DelService(&service.key),
            Request::GetService(&service.key),
            Request::GetDests(&service.key),
        ]);
        for destination in &destinations {
            requests.extend([
                Request::NewDest(&service.key, destination),
                Request::SetDest(&service.key, destination),
                Request::DelDest(&service.key, destination.address, destination.port),
            ]);
        }
    }
    requests.extend(daemons.iter().map(Request::NewDaemon));
    for request in requests {
        let message = request.to_message();
        assert_eq!(message.command, request.command());
        assert_eq!(through_the_wire(request), message);
    }
}

#[test]
fn services_round_trip_through_their_attributes() {
    for service in sample_services() {
        assert_eq!(
            service_from_attributes(&service_to_attributes(&service)).expect("decodes"),
            service
        );
    }
}

#[test]
fn destinations_round_trip_with_the_kernels_counters() {
    for destination in sample_destinations() {
        assert_eq!(
            destination_from_attributes(
                &destination_to_attributes(&destination),
                AddressFamily::Ipv4
            )
            .expect("decodes"),
            destination
        );
        // What the kernel adds in replies.
        let stats = Stats {
            connections: 1,
            in_bytes: u64::MAX,
            out_bps: 9,
            ..Stats::default()
        };
        let mut attributes = destination_to_attributes(&destination);
        attributes.extend([
            DestinationAttribute::ActiveConnections(3),
            DestinationAttribute::InactiveConnections(4),
            DestinationAttribute::PersistentConnections(5),
            DestinationAttribute::Stats(stats_to_attributes(&stats, StatsWidth::Legacy32)),
            DestinationAttribute::Stats64(stats_to_attributes(&stats, StatsWidth::Full64)),
        ]);
        let message = IpvsMessage::new(
            Command::NewDest,
            vec![CommandAttribute::Destination(attributes)],
        );
        let read = through_the_wire(Request::Message(&message))
            .to_destination(AddressFamily::Ipv4)
            .expect("decodes");
        assert_eq!(
            (
                read.active_connections,
                read.inactive_connections,
                read.persistent_connections
            ),
            (3, 4, 5)
        );
        assert_eq!((read.stats, read.stats64), (Some(stats), Some(stats)));
        assert_eq!(read.statistics(), Some(&stats));
    }
}

#[test]
fn a_destination_without_a_family_takes_the_services() {
    let attributes: Vec<DestinationAttribute> =
        destination_to_attributes(&Destination::new(v6("2001:db8::5"), 80))
            .into_iter()
            .filter(|attribute| !matches!(attribute, DestinationAttribute::AddressFamily(_)))
            .collect();
    let read = destination_from_attributes(&attributes, AddressFamily::Ipv6).expect("decodes");
    assert_eq!(read.address, v6("2001:db8::5"));
}

#[test]
fn daemons_round_trip() {
    for daemon in sample_daemons() {
        assert_eq!(
            through_the_wire(Request::NewDaemon(&daemon))
                .to_daemon()
                .expect("decodes"),
            daemon
        );
        assert_eq!(
            daemon_from_attributes(&daemon_to_attributes(&daemon)).expect("decodes"),
            daemon
        );
    }
}

#[test]
fn timeouts_and_info_round_trip() {
    let timeouts = Timeouts {
        tcp: 1,
        tcp_fin: 2,
        udp: 3,
    };
    assert_eq!(
        through_the_wire(Request::SetTimeouts(&timeouts)).to_timeouts(),
        timeouts
    );

    // The info reply's attributes are numbered 1 and 2 like SERVICE and DEST: the command decides.
    let reply = IpvsMessage::new(
        Command::SetInfo,
        vec![
            CommandAttribute::Info(InfoAttribute::Version(0x010201)),
            CommandAttribute::Info(InfoAttribute::ConnectionTableSize(4096)),
        ],
    );
    let decoded = through_the_wire(Request::Message(&reply));
    assert_eq!(decoded, reply);
    assert_eq!(
        decoded.to_info().expect("info"),
        Info {
            version: Version(0x010201),
            connection_table_size: 4096
        }
    );
}

#[test]
fn statistics_keep_their_widths() {
    let stats = Stats {
        connections: u64::from(u32::MAX) + 5,
        in_packets: 2,
        out_packets: 3,
        in_bytes: u64::MAX,
        out_bytes: 5,
        cps: 6,
        in_pps: 7,
        out_pps: 8,
        in_bps: 9,
        out_bps: 10,
    };
    let legacy = stats_to_attributes(&stats, StatsWidth::Legacy32);
    // Only the byte counters are 64-bit in the kernel's 32-bit nest.
    let widths: Vec<usize> = legacy
        .iter()
        .map(netlink_packet_core::Nla::value_len)
        .collect();
    assert_eq!(widths, vec![4, 4, 4, 8, 8, 4, 4, 4, 4, 4]);
    assert_eq!(
        stats_from_attributes(&legacy),
        Stats {
            connections: 4,
            ..stats
        }
    );
    let full = stats_to_attributes(&stats, StatsWidth::Full64);
    assert!(
        full.iter()
            .all(|attribute| netlink_packet_core::Nla::value_len(attribute) == 8)
    );
    assert_eq!(stats_from_attributes(&full), stats);
    assert_eq!(Counter::U32(7).value(), 7);
}

/// Attributes this library does not know, at every level, survive a decode and re-encode.
#[test]
fn unknown_attributes_survive() {
    let unknown = |kind: u16| DefaultNla::new(kind, vec![1, 2, 3, 4, 5]);
    let mut service = service_to_attributes(&sample_services()[1]);
    service.push(ServiceAttribute::Other(unknown(99)));
    service.push(ServiceAttribute::Stats(vec![StatsAttribute::Other(
        unknown(11),
    )]));
    let mut destination = destination_to_attributes(&sample_destinations()[0]);
    destination.push(DestinationAttribute::Other(unknown(16)));
    let mut daemon = daemon_to_attributes(&sample_daemons()[1]);
    daemon.push(DaemonAttribute::Other(unknown(9)));
    let message = IpvsMessage::new(
        Command::Other(200),
        vec![
            CommandAttribute::Service(service),
            CommandAttribute::Destination(destination),
            CommandAttribute::Daemon(daemon),
            CommandAttribute::Other(unknown(7)),
        ],
    );
    let decoded = through_the_wire(Request::Message(&message));
    assert_eq!(decoded, message);
    // And the known parts still read; the statistics nest held only an unknown counter.
    let expected = Service {
        stats: Some(Stats::default()),
        ..sample_services()[1].clone()
    };
    assert_eq!(decoded.to_service().expect("a service"), expected);

    let info = IpvsMessage::new(
        Command::GetInfo,
        vec![CommandAttribute::Info(InfoAttribute::Other(unknown(3)))],
    );
    assert_eq!(through_the_wire(Request::Message(&info)), info);
}

fn parse_service_attribute(
    bytes: &[u8],
) -> Result<ServiceAttribute, netlink_packet_core::DecodeError> {
    NlaBuffer::new_checked(bytes).and_then(|buffer| ServiceAttribute::parse(&buffer))
}

#[test]
fn malformed_attributes_are_errors() {
    // A port of 3 bytes, an address of 4, flags of 4, a string that is not UTF-8.
    assert!(parse_service_attribute(&[7, 0, 4, 0, 0, 80, 0, 0]).is_err());
    assert!(parse_service_attribute(&[8, 0, 3, 0, 10, 0, 0, 1]).is_err());
    assert!(parse_service_attribute(&[8, 0, 7, 0, 1, 0, 0, 0]).is_err());
    assert!(parse_service_attribute(&[6, 0, 6, 0, 0xff, 0xfe, 0, 0]).is_err());
    // A length beyond the buffer, and one shorter than the header.
    assert!(parse_service_attribute(&[12, 0, 1, 0, 2, 0]).is_err());
    assert!(parse_service_attribute(&[2, 0, 1, 0]).is_err());
    // A well-formed scheduler name reads up to its NUL.
    assert_eq!(
        parse_service_attribute(&[8, 0, 6, 0, b'r', b'r', 0, 0]).expect("decodes"),
        ServiceAttribute::SchedulerName("rr".to_owned())
    );
}

#[test]
fn incomplete_objects_are_errors() {
    let full = service_to_attributes(&sample_services()[0]);
    let without = |unwanted: fn(&ServiceAttribute) -> bool| -> Vec<ServiceAttribute> {
        full.iter()
            .filter(|attribute| !unwanted(attribute))
            .cloned()
            .collect()
    };
    assert!(
        service_from_attributes(&without(|a| matches!(
            a,
            ServiceAttribute::AddressFamily(_)
        )))
        .is_err()
    );
    assert!(service_from_attributes(&without(|a| matches!(a, ServiceAttribute::Port(_)))).is_err());
    let mut unknown_family = without(|a| matches!(a, ServiceAttribute::AddressFamily(_)));
    unknown_family.push(ServiceAttribute::AddressFamily(99));
    assert!(service_from_attributes(&unknown_family).is_err());

    assert!(
        destination_from_attributes(&[DestinationAttribute::Port(80)], AddressFamily::Ipv4)
            .is_err()
    );
    assert!(daemon_from_attributes(&[DaemonAttribute::Interface("eth0".into())]).is_err());
    assert!(info_from_attributes(&[InfoAttribute::Version(1)]).is_err());
    assert!(Request::GetInfo.to_message().to_info().is_err());
    assert!(Request::Flush.to_message().to_service().is_err());
    assert!(
        Request::Flush
            .to_message()
            .to_destination(AddressFamily::Ipv4)
            .is_err()
    );
    assert!(Request::Flush.to_message().to_daemon().is_err());
}

#[test]
fn model_numbers_map_both_ways() {
    for raw in 0..=20u8 {
        assert_eq!(Command::from_raw(raw).to_raw(), raw);
    }
    for raw in 0..=8u32 {
        assert_eq!(ForwardingMethod::from_raw(raw).to_raw(), raw);
        assert_eq!(DaemonState::from_raw(raw).to_raw(), raw);
    }
    for raw in 0..=4u8 {
        assert_eq!(TunnelType::from_raw(raw).to_raw(), raw);
    }
    for raw in [0u16, 6, 17, 132, 255] {
        assert_eq!(Protocol::from_raw(raw).to_raw(), raw);
    }
    assert_eq!(
        AddressFamily::from_raw(AddressFamily::Ipv6.to_raw()),
        Some(AddressFamily::Ipv6)
    );
    assert_eq!(AddressFamily::from_raw(0), None);
    assert_eq!(
        format!(
            "{:?}",
            ServiceFlags::PERSISTENT | ServiceFlags::from_bits(0x100)
        ),
        "{PERSISTENT, 0x100}"
    );
    assert_eq!(Version(0x010201).to_string(), "1.2.1");
}

#[test]
fn emitted_attributes_are_padded_with_zeros() {
    let attribute = ServiceAttribute::SchedulerName("wlc".to_owned());
    let mut bytes = vec![0xaa; attribute.buffer_len()];
    attribute.emit(&mut bytes);
    assert_eq!(bytes, [8, 0, 6, 0, b'w', b'l', b'c', 0]);
    let port = ServiceAttribute::Port(80);
    let mut bytes = vec![0xaa; port.buffer_len()];
    port.emit(&mut bytes);
    // Network byte order, then two bytes of padding.
    assert_eq!(bytes, [6, 0, 4, 0, 0, 80, 0, 0]);
}

/// The one-pass writer gives netlink-packet-core's bytes: nests within nests, padding over a
/// dirty buffer, unknown attributes with either flag or both.
#[test]
fn attributes_are_written_as_netlink_packet_core_writes_them() {
    let unknown = |kind: u16, length: usize| DefaultNla::new(kind, vec![7; length]);
    let mut destination = destination_to_attributes(&sample_destinations()[0]);
    destination.push(DestinationAttribute::Stats64(stats_to_attributes(
        &Stats {
            connections: 1,
            in_bytes: u64::MAX,
            ..Stats::default()
        },
        StatsWidth::Full64,
    )));
    destination.push(DestinationAttribute::Other(unknown(30, 3)));
    let mut messages = vec![IpvsMessage::new(
        Command::Other(200),
        vec![
            CommandAttribute::Service(service_to_attributes(&sample_services()[1])),
            CommandAttribute::Destination(destination),
            CommandAttribute::Daemon(daemon_to_attributes(&sample_daemons()[1])),
            CommandAttribute::Other(unknown(7 | 0x8000, 5)),
            CommandAttribute::Other(unknown(8 | 0x4000, 2)),
            CommandAttribute::Other(unknown(9 | 0xc000, 1)),
            CommandAttribute::Other(unknown(10, 0)),
        ],
    )];
    for service in sample_services() {
        messages.push(Request::NewService(&service).to_message());
        for destination in sample_destinations() {
            messages.push(Request::NewDest(&service.key, &destination).to_message());
        }
    }
    for message in &messages {
        let generic = message.attributes.as_slice();
        assert_eq!(message.buffer_len(), generic.buffer_len());
        let mut ours = vec![0xaa; message.buffer_len()];
        message.emit(&mut ours);
        let mut theirs = vec![0x55; generic.buffer_len()];
        generic.emit(&mut theirs);
        assert_eq!(ours, theirs, "{message:?}");
        // The whole request, appended: the same attributes after the same headers.
        written_request(Request::Message(message));
    }
}
