//! Routes and policy rules (`virtual_routes`, `virtual_rules`, `static_routes`, `static_rules`) as the
//! rtnetlink requests keepalived 2.2.7 sends for them (`netlink_route`, `netlink_rule`): the same header
//! fields, attributes and defaults, so the kernel's tables end up the same whichever daemon is master.

use std::net::IpAddr;

use keepalived_config::model::net::{AddressFamily as ModelFamily, IpPrefix};
use keepalived_config::model::routing::{
    Metric, PROTOCOL_KEEPALIVED, RoundTrip, Route, RouteType as ModelRouteType, Rule, RuleAction,
};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::IpProtocol;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric,
    RouteMplsTtlPropagation, RouteNextHop, RouteNextHopFlags, RoutePreference, RouteProtocol,
    RouteRealm, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::rule::{
    RuleAction as KernelRuleAction, RuleAttribute, RuleFlags, RuleMessage, RulePortRange,
    RuleUidRange,
};

/// `RTNH_F_ONLINK`: the gateway is on the link even if no prefix says so.
const RTNH_F_ONLINK: u32 = 4;
/// `RT_SCOPE_NOWHERE`: what a deletion asks for, so that any scope matches.
const RT_SCOPE_NOWHERE: u8 = 255;
/// `RTAX_FEATURE_ECN`.
const RTAX_FEATURE_ECN: u32 = 1;

/// `RTAX_*`: the numbers of the route metrics, whose bits make the lock mask.
mod rtax {
    pub const MTU: u32 = 2;
    pub const RTT: u32 = 4;
    pub const RTTVAR: u32 = 5;
    pub const SSTHRESH: u32 = 6;
    pub const CWND: u32 = 7;
    pub const ADVMSS: u32 = 8;
    pub const REORDERING: u32 = 9;
    pub const RTO_MIN: u32 = 13;
    pub const CC_ALGO: u32 = 16;
}

/// Why a configured route or rule cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("interface {0} not found")]
    NoInterface(String),
    #[error("encap {0} is not supported")]
    UnsupportedEncap(String),
}

/// The request that adds (`adding`) or deletes `route`. `index_of` resolves interface names.
pub fn route_message(
    route: &Route,
    adding: bool,
    index_of: &dyn Fn(&str) -> Option<u32>,
) -> Result<RouteMessage, RoutingError> {
    if let Some(encap) = &route.encap {
        return Err(RoutingError::UnsupportedEncap(encap.join(" ")));
    }
    let interface =
        |name: &str| index_of(name).ok_or_else(|| RoutingError::NoInterface(name.to_owned()));
    let family = kernel_family(route.family);
    let mut message = RouteMessage::default();
    let header = &mut message.header;
    header.address_family = family;
    let attributes = &mut message.attributes;
    if route.table < 256 {
        header.table = route.table as u8;
    } else {
        header.table = RouteHeader::RT_TABLE_UNSPEC;
        attributes.push(RouteAttribute::Table(route.table));
    }
    // A deletion matches any scope, and any type unless one was given.
    if adding {
        header.scope = RouteScope::Universe;
        header.kind = RouteType::from(route.route_type.number());
    } else {
        header.scope = RouteScope::from(RT_SCOPE_NOWHERE);
        if route.route_type != ModelRouteType::Unicast {
            header.kind = RouteType::from(route.route_type.number());
        }
    }
    header.protocol = RouteProtocol::from(route.protocol.unwrap_or(PROTOCOL_KEEPALIVED));
    if let Some(scope) = route.scope {
        header.scope = RouteScope::from(scope.value());
    }
    if let Some(destination) = &route.destination {
        header.destination_prefix_length = destination.len;
        attributes.push(RouteAttribute::Destination(destination.address.into()));
    }
    if let Some(from) = &route.from {
        header.source_prefix_length = from.len;
        attributes.push(RouteAttribute::Source(from.address.into()));
    }
    if let Some(source) = route.preferred_source {
        attributes.push(RouteAttribute::PrefSource(source.into()));
    }
    if let Some(via) = route.via {
        attributes.push(gateway(family, via));
    }
    if let Some(tos) = route.tos {
        header.tos = tos;
    }
    if let Some(device) = &route.device {
        attributes.push(RouteAttribute::Oif(interface(device)?));
    }
    if let Some(metric) = route.metric {
        attributes.push(RouteAttribute::Priority(metric));
    }
    if route.onlink {
        header.flags = RouteFlags::from_bits_retain(RTNH_F_ONLINK);
    }
    if let Some(realms) = route.realms {
        attributes.push(RouteAttribute::Realm(realm(realms)));
    }
    if let Some(expires) = route.expires {
        attributes.push(RouteAttribute::Expires(expires));
    }
    let metrics = metrics(route);
    if let Some(pref) = route.pref {
        attributes.push(RouteAttribute::Preference(RoutePreference::from(pref)));
    }
    if let Some(enabled) = route.ttl_propagate {
        attributes.push(RouteAttribute::TtlPropagate(if enabled {
            RouteMplsTtlPropagation::Enabled
        } else {
            RouteMplsTtlPropagation::Disabled
        }));
    }
    if !metrics.is_empty() {
        attributes.push(RouteAttribute::Metrics(metrics));
    }
    if !route.nexthops.is_empty() {
        let mut hops = Vec::with_capacity(route.nexthops.len());
        for hop in &route.nexthops {
            let mut next = RouteNextHop::default();
            if let Some(via) = hop.via {
                next.attributes.push(gateway(family, via));
            }
            if let Some(device) = &hop.device {
                next.interface_index = interface(device)?;
            }
            // The kernel counts weights from 0 (`weight 1` is 0).
            if let Some(weight) = hop.weight {
                next.hops = weight.saturating_sub(1).min(255) as u8;
            }
            if hop.onlink {
                next.flags = RouteNextHopFlags::Onlink;
            }
            if let Some(realms) = hop.realms {
                next.attributes.push(RouteAttribute::Realm(realm(realms)));
            }
            hops.push(next);
        }
        attributes.push(RouteAttribute::MultiPath(hops));
    }
    Ok(message)
}

/// The request that adds or deletes `rule` (keepalived sends the same message for both).
pub fn rule_message(rule: &Rule) -> RuleMessage {
    let mut message = RuleMessage::default();
    let header = &mut message.header;
    header.family = kernel_family(rule.family);
    header.tos = rule.tos.unwrap_or(0);
    let attributes = &mut message.attributes;
    match rule.action {
        RuleAction::Table(table) => {
            header.action = KernelRuleAction::ToTable;
            if table < 256 {
                header.table = if table == 0 { 254 } else { table as u8 };
            } else {
                attributes.push(RuleAttribute::Table(table));
            }
        }
        RuleAction::L3mdev => header.action = KernelRuleAction::ToTable,
        RuleAction::Goto(target) => {
            header.action = KernelRuleAction::Goto;
            attributes.push(RuleAttribute::Goto(target));
        }
        RuleAction::Nop => header.action = KernelRuleAction::Nop,
        RuleAction::Blackhole => header.action = KernelRuleAction::Blackhole,
        RuleAction::Unreachable => header.action = KernelRuleAction::Unreachable,
        RuleAction::Prohibit => header.action = KernelRuleAction::Prohibit,
    }
    if rule.invert {
        header.flags = RuleFlags::Invert;
    }
    if let Some(from) = &rule.from {
        header.src_len = from.len;
        attributes.push(RuleAttribute::Source(from.address));
    }
    if let Some(to) = &rule.to {
        header.dst_len = to.len;
        attributes.push(RuleAttribute::Destination(to.address));
    }
    attributes.push(RuleAttribute::Priority(rule.priority));
    if let Some((mark, mask)) = rule.fwmark {
        attributes.push(RuleAttribute::FwMark(mark));
        if let Some(mask) = mask {
            attributes.push(RuleAttribute::FwMask(mask));
        }
    }
    if let Some(realms) = rule.realms {
        attributes.push(RuleAttribute::Realm(realm(realms)));
    }
    if let Some(length) = rule.suppress_prefix_length {
        attributes.push(RuleAttribute::SuppressPrefixLen(length));
    }
    if let Some(group) = rule.suppress_ifgroup {
        attributes.push(RuleAttribute::SuppressIfGroup(group));
    }
    if let Some(name) = &rule.input_interface {
        attributes.push(RuleAttribute::Iifname(name.clone()));
    }
    if let Some(name) = &rule.output_interface {
        attributes.push(RuleAttribute::Oifname(name.clone()));
    }
    if let Some(id) = rule.tunnel_id {
        attributes.push(RuleAttribute::TunId(id));
    }
    if let Some((start, end)) = rule.uid_range {
        attributes.push(RuleAttribute::UidRange(RuleUidRange { start, end }));
    }
    if rule.action == RuleAction::L3mdev {
        attributes.push(RuleAttribute::L3MDev(true));
    }
    if let Some(protocol) = rule.protocol {
        attributes.push(RuleAttribute::Protocol(RouteProtocol::from(protocol)));
    }
    if let Some(protocol) = rule.ip_proto {
        attributes.push(RuleAttribute::IpProtocol(IpProtocol::from(protocol)));
    }
    if let Some((start, end)) = rule.source_ports {
        attributes.push(RuleAttribute::SourcePortRange(RulePortRange { start, end }));
    }
    if let Some((start, end)) = rule.destination_ports {
        attributes.push(RuleAttribute::DestinationPortRange(RulePortRange {
            start,
            end,
        }));
    }
    message
}

/// What a log line calls a route: its destination and table.
pub fn describe_route(route: &Route) -> String {
    let destination = route
        .destination
        .as_ref()
        .map_or_else(|| "default".to_owned(), IpPrefix::to_string);
    match route.table {
        254 => destination,
        table => format!("{destination} table {table}"),
    }
}

fn kernel_family(family: ModelFamily) -> AddressFamily {
    match family {
        ModelFamily::Ipv4 => AddressFamily::Inet,
        ModelFamily::Ipv6 => AddressFamily::Inet6,
    }
}

/// A gateway of the route's family is `RTA_GATEWAY`; one of the other family (an IPv4 route via an IPv6
/// neighbour) is `RTA_VIA`.
fn gateway(family: AddressFamily, via: IpAddr) -> RouteAttribute {
    match (family, via) {
        (AddressFamily::Inet, IpAddr::V4(_)) | (AddressFamily::Inet6, IpAddr::V6(_)) => {
            RouteAttribute::Gateway(RouteAddress::from(via))
        }
        (_, IpAddr::V4(address)) => RouteAttribute::Via(RouteVia::Inet(address)),
        (_, IpAddr::V6(address)) => RouteAttribute::Via(RouteVia::Inet6(address)),
    }
}

/// `realms`: the source realm in the high 16 bits, the destination realm in the low ones.
fn realm(realms: u32) -> RouteRealm {
    RouteRealm {
        source: (realms >> 16) as u16,
        destination: realms as u16,
    }
}

/// How a metric's value becomes its attribute.
type MakeMetric = fn(u32) -> RouteMetric;

/// `RTA_METRICS`, with the lock mask last.
fn metrics(route: &Route) -> Vec<RouteMetric> {
    let m = &route.metrics;
    let mut lock = 0u32;
    let mut out = Vec::new();
    let mut add = |number: Option<u32>, is_locked: bool, metric: RouteMetric| {
        if let (Some(number), true) = (number, is_locked) {
            lock |= 1 << number;
        }
        out.push(metric);
    };
    if let Some((name, locked)) = &m.congestion_control {
        add(
            Some(rtax::CC_ALGO),
            *locked,
            RouteMetric::CcAlgo(name.clone()),
        );
    }
    if let Some(rtt) = m.rtt {
        add(
            Some(rtax::RTT),
            rtt.locked,
            RouteMetric::Rtt(kernel_time(rtt, 8)),
        );
    }
    if let Some(rttvar) = m.rttvar {
        add(
            Some(rtax::RTTVAR),
            rttvar.locked,
            RouteMetric::RttVar(kernel_time(rttvar, 4)),
        );
    }
    if let Some(rto_min) = m.rto_min {
        add(
            Some(rtax::RTO_MIN),
            rto_min.locked,
            RouteMetric::RtoMin(kernel_time(rto_min, 1)),
        );
    }
    if m.ecn {
        add(None, false, RouteMetric::Features(RTAX_FEATURE_ECN));
    }
    let lockable: [(u32, Option<Metric>, MakeMetric); 5] = [
        (rtax::MTU, m.mtu, RouteMetric::Mtu),
        (rtax::SSTHRESH, m.ssthresh, RouteMetric::SsThresh),
        (rtax::CWND, m.cwnd, RouteMetric::Cwnd),
        (rtax::ADVMSS, m.advmss, RouteMetric::Advmss),
        (rtax::REORDERING, m.reordering, RouteMetric::Reordering),
    ];
    for (number, value, make) in lockable {
        if let Some(metric) = value {
            add(Some(number), metric.locked, make(metric.value));
        }
    }
    let plain = [
        m.window.map(RouteMetric::Window),
        m.hoplimit
            .map(|hops| RouteMetric::Hoplimit(u32::from(hops))),
        m.initcwnd.map(RouteMetric::InitCwnd),
        m.initrwnd.map(RouteMetric::InitRwnd),
        m.quickack.map(|on| RouteMetric::QuickAck(u32::from(on))),
        m.fastopen_no_cookie
            .map(|on| RouteMetric::FastopenNoCookie(u32::from(on))),
    ];
    for metric in plain.into_iter().flatten() {
        add(None, false, metric);
    }
    if lock != 0 {
        out.push(RouteMetric::Lock(lock));
    }
    out
}

/// A time metric in the kernel's units: as written when raw, else milliseconds × `units_per_ms`.
fn kernel_time(time: RoundTrip, units_per_ms: u32) -> u32 {
    if time.raw {
        time.value
    } else {
        time.value.saturating_mul(units_per_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::model::net::Scope;
    use keepalived_config::model::routing::NextHop;

    fn prefix(text: &str) -> IpPrefix {
        let (address, len) = text.split_once('/').unwrap_or((text, "32"));
        IpPrefix {
            address: address.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            len: len.parse().unwrap_or(32),
        }
    }

    fn eth0(name: &str) -> Option<u32> {
        (name == "eth0").then_some(7)
    }

    fn route() -> Route {
        Route {
            destination: Some(prefix("192.0.2.0/24")),
            via: Some("10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
            device: Some("eth0".into()),
            table: 254,
            ..Route::default()
        }
    }

    #[test]
    fn an_added_route_is_keepalived_s_request() {
        let message = route_message(&route(), true, &eth0).expect("message");
        assert_eq!(message.header.address_family, AddressFamily::Inet);
        assert_eq!(message.header.table, 254);
        assert_eq!(message.header.protocol, RouteProtocol::from(18));
        assert_eq!(message.header.scope, RouteScope::Universe);
        assert_eq!(message.header.kind, RouteType::Unicast);
        assert_eq!(message.header.destination_prefix_length, 24);
        assert_eq!(
            message.attributes,
            vec![
                RouteAttribute::Destination(RouteAddress::Inet([192, 0, 2, 0].into())),
                RouteAttribute::Gateway(RouteAddress::Inet([10, 0, 0, 1].into())),
                RouteAttribute::Oif(7),
            ]
        );
    }

    #[test]
    fn a_deletion_matches_any_scope_and_type() {
        let message = route_message(&route(), false, &eth0).expect("message");
        assert_eq!(message.header.scope, RouteScope::from(255));
        assert_eq!(message.header.kind, RouteType::Unspec);
        let blackhole = Route {
            route_type: ModelRouteType::Blackhole,
            via: None,
            device: None,
            ..route()
        };
        let message = route_message(&blackhole, false, &eth0).expect("message");
        assert_eq!(message.header.kind, RouteType::BlackHole);
    }

    #[test]
    fn big_tables_scopes_metrics_and_nexthops() {
        let mut wide = route();
        wide.table = 1000;
        wide.scope = Some(Scope::Link);
        wide.metric = Some(5);
        wide.metrics.mtu = Some(Metric {
            value: 1400,
            locked: true,
        });
        wide.metrics.rtt = Some(RoundTrip {
            value: 3,
            raw: false,
            locked: false,
        });
        wide.nexthops = vec![NextHop {
            via: Some("10.0.0.2".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
            device: Some("eth0".into()),
            weight: Some(3),
            ..NextHop::default()
        }];
        let message = route_message(&wide, true, &eth0).expect("message");
        assert_eq!(message.header.table, 0);
        assert_eq!(message.header.scope, RouteScope::Link);
        assert!(message.attributes.contains(&RouteAttribute::Table(1000)));
        assert!(message.attributes.contains(&RouteAttribute::Priority(5)));
        assert!(message.attributes.contains(&RouteAttribute::Metrics(vec![
            RouteMetric::Rtt(24),
            RouteMetric::Mtu(1400),
            RouteMetric::Lock(1 << rtax::MTU),
        ])));
        let Some(RouteAttribute::MultiPath(hops)) = message.attributes.last() else {
            panic!("no multipath: {:?}", message.attributes);
        };
        assert_eq!((hops[0].hops, hops[0].interface_index), (2, 7));
    }

    #[test]
    fn unknown_interfaces_and_encap_are_errors() {
        let mut elsewhere = route();
        elsewhere.device = Some("eth9".into());
        assert_eq!(
            route_message(&elsewhere, true, &eth0),
            Err(RoutingError::NoInterface("eth9".into()))
        );
        let mut encap = route();
        encap.encap = Some(vec!["mpls".into(), "100".into()]);
        assert!(matches!(
            route_message(&encap, true, &eth0),
            Err(RoutingError::UnsupportedEncap(_))
        ));
    }

    #[test]
    fn a_rule_to_a_table() {
        let rule = Rule {
            family: ModelFamily::Ipv4,
            invert: false,
            from: Some(prefix("10.1.0.0/16")),
            to: None,
            priority: 100,
            tos: None,
            fwmark: Some((3, None)),
            realms: None,
            suppress_prefix_length: None,
            suppress_ifgroup: None,
            input_interface: Some("eth0".into()),
            output_interface: None,
            tunnel_id: None,
            uid_range: None,
            protocol: None,
            ip_proto: None,
            source_ports: None,
            destination_ports: None,
            action: RuleAction::Table(100),
            no_track: false,
            track_group: None,
            position: None,
        };
        let message = rule_message(&rule);
        assert_eq!(message.header.action, KernelRuleAction::ToTable);
        assert_eq!((message.header.table, message.header.src_len), (100, 16));
        assert_eq!(
            message.attributes,
            vec![
                RuleAttribute::Source("10.1.0.0".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                RuleAttribute::Priority(100),
                RuleAttribute::FwMark(3),
                RuleAttribute::Iifname("eth0".into()),
            ]
        );
        let big = Rule {
            action: RuleAction::Table(1000),
            ..rule
        };
        let message = rule_message(&big);
        assert_eq!(message.header.table, 0);
        assert!(message.attributes.contains(&RuleAttribute::Table(1000)));
    }
}
