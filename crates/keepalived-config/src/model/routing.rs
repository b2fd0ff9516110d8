//! Routes and policy rules: `virtual_routes`, `static_routes`, `virtual_rules`,
//! `static_rules`, in `ip route` and `ip rule` syntax.

use std::fmt;
use std::net::IpAddr;

use super::net::{AddressFamily, IpPrefix, Scope};
use crate::source::LinePosition;

/// The routing protocol number keepalived marks the routes and rules it tracks with.
pub const PROTOCOL_KEEPALIVED: u8 = 18;

/// The main routing table.
pub const TABLE_MAIN: u32 = 254;

/// The type of a route (`ip route` types, `RTN_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RouteType {
    /// An ordinary route.
    #[default]
    Unicast,
    /// `local`.
    Local,
    /// `broadcast`.
    Broadcast,
    /// `anycast`.
    Anycast,
    /// `multicast`.
    Multicast,
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
    /// `throw`.
    Throw,
    /// `nat`.
    Nat,
    /// `xresolve`.
    Xresolve,
}

impl RouteType {
    /// The kernel's number for the type (`RTN_*`).
    pub fn number(self) -> u8 {
        match self {
            RouteType::Unicast => 1,
            RouteType::Local => 2,
            RouteType::Broadcast => 3,
            RouteType::Anycast => 4,
            RouteType::Multicast => 5,
            RouteType::Blackhole => 6,
            RouteType::Unreachable => 7,
            RouteType::Prohibit => 8,
            RouteType::Throw => 9,
            RouteType::Nat => 10,
            RouteType::Xresolve => 11,
        }
    }

    /// The type of a name or number, as `ip route` reads it.
    pub fn parse(text: &str) -> Option<RouteType> {
        const ALL: [RouteType; 11] = [
            RouteType::Unicast,
            RouteType::Local,
            RouteType::Broadcast,
            RouteType::Anycast,
            RouteType::Multicast,
            RouteType::Blackhole,
            RouteType::Unreachable,
            RouteType::Prohibit,
            RouteType::Throw,
            RouteType::Nat,
            RouteType::Xresolve,
        ];
        ALL.into_iter()
            .find(|t| t.to_string() == text || text.parse::<u8>() == Ok(t.number()))
    }
}

impl fmt::Display for RouteType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteType::Unicast => "unicast",
            RouteType::Local => "local",
            RouteType::Broadcast => "broadcast",
            RouteType::Anycast => "anycast",
            RouteType::Multicast => "multicast",
            RouteType::Blackhole => "blackhole",
            RouteType::Unreachable => "unreachable",
            RouteType::Prohibit => "prohibit",
            RouteType::Throw => "throw",
            RouteType::Nat => "nat",
            RouteType::Xresolve => "xresolve",
        })
    }
}

/// A route metric that can be locked (`mtu lock 1400`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Metric {
    /// The value.
    pub value: u32,
    /// `lock`: the kernel must not change it.
    pub locked: bool,
}

/// A round-trip time metric: milliseconds, or the kernel's raw units when written without a
/// unit (`rtt 3` rather than `rtt 3ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoundTrip {
    /// The value.
    pub value: u32,
    /// Written without unit.
    pub raw: bool,
    /// `lock`.
    pub locked: bool,
}

/// The TCP and path metrics of a route.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RouteMetrics {
    /// `mtu`.
    pub mtu: Option<Metric>,
    /// `advmss`.
    pub advmss: Option<Metric>,
    /// `rtt`.
    pub rtt: Option<RoundTrip>,
    /// `rttvar`.
    pub rttvar: Option<RoundTrip>,
    /// `reordering`.
    pub reordering: Option<Metric>,
    /// `window`.
    pub window: Option<u32>,
    /// `cwnd`.
    pub cwnd: Option<Metric>,
    /// `ssthresh`.
    pub ssthresh: Option<Metric>,
    /// `rto_min`.
    pub rto_min: Option<RoundTrip>,
    /// `initcwnd`.
    pub initcwnd: Option<u32>,
    /// `initrwnd`.
    pub initrwnd: Option<u32>,
    /// `hoplimit`.
    pub hoplimit: Option<u8>,
    /// `features ecn`.
    pub ecn: bool,
    /// `quickack`.
    pub quickack: Option<bool>,
    /// `congctl [lock] NAME`.
    pub congestion_control: Option<(String, bool)>,
    /// `fastopen_no_cookie`.
    pub fastopen_no_cookie: Option<bool>,
}

/// One `nexthop` of a multipath route.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NextHop {
    /// `via`.
    pub via: Option<IpAddr>,
    /// `dev`.
    pub device: Option<String>,
    /// `weight` (1 to 256).
    pub weight: Option<u16>,
    /// `onlink`.
    pub onlink: bool,
    /// `realms`: source realm in the high 16 bits, destination realm in the low ones.
    pub realms: Option<u32>,
    /// `encap`: the encapsulation words as written (type first).
    pub encap: Option<Vec<String>>,
}

/// A route: one line of `virtual_routes` or `static_routes`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Route {
    /// The route type.
    pub route_type: RouteType,
    /// The family (from the addresses, `inet`/`inet6`, IPv6-only options; IPv4 otherwise).
    pub family: AddressFamily,
    /// The destination; `None` for `default`.
    pub destination: Option<IpPrefix>,
    /// `src`: the preferred source address.
    pub preferred_source: Option<IpAddr>,
    /// `from`: the source prefix (IPv6 only).
    pub from: Option<IpPrefix>,
    /// `via` (or the deprecated `gw`).
    pub via: Option<IpAddr>,
    /// `dev`/`oif`.
    pub device: Option<String>,
    /// `tos`/`dsfield`.
    pub tos: Option<u8>,
    /// `table` (main when not given).
    pub table: u32,
    /// `protocol`: [`PROTOCOL_KEEPALIVED`] for a tracked route.
    pub protocol: Option<u8>,
    /// `scope` (global when not given).
    pub scope: Option<Scope>,
    /// `metric`/`priority`/`preference`.
    pub metric: Option<u32>,
    /// `onlink`.
    pub onlink: bool,
    /// TCP and path metrics.
    pub metrics: RouteMetrics,
    /// `realms`.
    pub realms: Option<u32>,
    /// `expires` (seconds, IPv6 only).
    pub expires: Option<u32>,
    /// `pref` (IPv6 router preference: 3 low, 0 medium, 1 high, or a number).
    pub pref: Option<u8>,
    /// `ttl-propagate enabled|disabled`.
    pub ttl_propagate: Option<bool>,
    /// `encap`: the encapsulation words as written (type first).
    pub encap: Option<Vec<String>>,
    /// `nexthop`s of a multipath route.
    pub nexthops: Vec<NextHop>,
    /// `no_track`, or set because keepalived cannot track the route (no `dev`).
    pub no_track: bool,
    /// `track_group` (static routes).
    pub track_group: Option<String>,
    /// Where it was configured.
    pub position: Option<LinePosition>,
}

/// What a rule does with the packets it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleAction {
    /// `table`/`lookup N`.
    Table(u32),
    /// `goto N`: jump to the rule with that preference.
    Goto(u32),
    /// `nop`.
    Nop,
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
    /// `l3mdev`: the table of the VRF device.
    L3mdev,
}

/// A policy routing rule: one line of `virtual_rules` or `static_rules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The family (IPv4 unless an address or `inet6` says otherwise).
    pub family: AddressFamily,
    /// `not`.
    pub invert: bool,
    /// `from`; `None` for all.
    pub from: Option<IpPrefix>,
    /// `to`; `None` for all.
    pub to: Option<IpPrefix>,
    /// `preference`/`priority`/`order`; keepalived gives rules without one 16384, 16383, …
    pub priority: u32,
    /// `tos`/`dsfield`.
    pub tos: Option<u8>,
    /// `fwmark MARK[/MASK]`.
    pub fwmark: Option<(u32, Option<u32>)>,
    /// `realms`.
    pub realms: Option<u32>,
    /// `suppress_prefixlength`.
    pub suppress_prefix_length: Option<u32>,
    /// `suppress_ifgroup`.
    pub suppress_ifgroup: Option<u32>,
    /// `iif`/`dev`.
    pub input_interface: Option<String>,
    /// `oif`.
    pub output_interface: Option<String>,
    /// `tunnel-id`.
    pub tunnel_id: Option<u64>,
    /// `uidrange FIRST-LAST`.
    pub uid_range: Option<(u32, u32)>,
    /// `protocol`: [`PROTOCOL_KEEPALIVED`] for a tracked rule.
    pub protocol: Option<u8>,
    /// `ipproto`.
    pub ip_proto: Option<u8>,
    /// `sport FIRST-LAST`.
    pub source_ports: Option<(u16, u16)>,
    /// `dport FIRST-LAST`.
    pub destination_ports: Option<(u16, u16)>,
    /// What the rule does.
    pub action: RuleAction,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group` (static rules).
    pub track_group: Option<String>,
    /// Where it was configured.
    pub position: Option<LinePosition>,
}

// The Display forms below are keepalived.conf syntax: a line that reads back as the same value.

/// ` NAME VALUE` when the value is set.
fn option<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    value: &Option<T>,
) -> fmt::Result {
    match value {
        Some(v) => write!(f, " {name} {v}"),
        None => Ok(()),
    }
}

/// ` NAME` when the flag is set.
fn flag(f: &mut fmt::Formatter<'_>, name: &str, set: bool) -> fmt::Result {
    if set { write!(f, " {name}") } else { Ok(()) }
}

/// `[lock] VALUE`.
fn locked(f: &mut fmt::Formatter<'_>, name: &str, value: &Option<Metric>) -> fmt::Result {
    match value {
        Some(m) if m.locked => write!(f, " {name} lock {}", m.value),
        Some(m) => write!(f, " {name} {}", m.value),
        None => Ok(()),
    }
}

/// `[lock] VALUE[ms]`.
fn round_trip(f: &mut fmt::Formatter<'_>, name: &str, value: &Option<RoundTrip>) -> fmt::Result {
    let Some(rt) = value else {
        return Ok(());
    };
    let lock = if rt.locked { " lock" } else { "" };
    let unit = if rt.raw { "" } else { "ms" };
    write!(f, " {name}{lock} {}{unit}", rt.value)
}

fn realms(value: u32) -> String {
    format!("{}/{}", value >> 16, value & 0xffff)
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.route_type != RouteType::Unicast {
            write!(f, "{} ", self.route_type)?;
        }
        match &self.destination {
            Some(d) => write!(f, "{d}")?,
            None if self.family == AddressFamily::Ipv6 => f.write_str("default6")?,
            None => f.write_str("default")?,
        }
        option(f, "src", &self.preferred_source)?;
        option(f, "from", &self.from)?;
        option(f, "via", &self.via)?;
        option(f, "dev", &self.device)?;
        option(f, "tos", &self.tos.map(|t| format!("{t:#x}")))?;
        if self.table != TABLE_MAIN {
            write!(f, " table {}", self.table)?;
        }
        // keepalived sets its own protocol on tracked routes.
        if self.no_track {
            option(f, "protocol", &self.protocol)?;
        }
        option(f, "scope", &self.scope)?;
        option(f, "metric", &self.metric)?;
        flag(f, "onlink", self.onlink)?;
        let m = &self.metrics;
        locked(f, "mtu", &m.mtu)?;
        locked(f, "advmss", &m.advmss)?;
        round_trip(f, "rtt", &m.rtt)?;
        round_trip(f, "rttvar", &m.rttvar)?;
        locked(f, "reordering", &m.reordering)?;
        option(f, "window", &m.window)?;
        locked(f, "cwnd", &m.cwnd)?;
        locked(f, "ssthresh", &m.ssthresh)?;
        round_trip(f, "rto_min", &m.rto_min)?;
        option(f, "initcwnd", &m.initcwnd)?;
        option(f, "initrwnd", &m.initrwnd)?;
        option(f, "hoplimit", &m.hoplimit)?;
        flag(f, "features ecn", m.ecn)?;
        option(f, "quickack", &m.quickack.map(u8::from))?;
        match &m.congestion_control {
            Some((name, true)) => write!(f, " congctl lock {name}")?,
            Some((name, false)) => write!(f, " congctl {name}")?,
            None => {}
        }
        option(f, "fastopen_no_cookie", &m.fastopen_no_cookie.map(u8::from))?;
        option(f, "realms", &self.realms.map(realms))?;
        option(f, "expires", &self.expires)?;
        option(f, "pref", &self.pref)?;
        option(
            f,
            "ttl-propagate",
            &self
                .ttl_propagate
                .map(|on| if on { "enabled" } else { "disabled" }),
        )?;
        option(f, "encap", &self.encap.as_ref().map(|e| e.join(" ")))?;
        flag(f, "no_track", self.no_track)?;
        option(f, "track_group", &self.track_group)?;
        for hop in &self.nexthops {
            f.write_str(" nexthop")?;
            option(f, "via", &hop.via)?;
            option(f, "dev", &hop.device)?;
            option(f, "weight", &hop.weight)?;
            flag(f, "onlink", hop.onlink)?;
            option(f, "realms", &hop.realms.map(realms))?;
            option(f, "encap", &hop.encap.as_ref().map(|e| e.join(" ")))?;
        }
        Ok(())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.invert { "not " } else { "" })?;
        match (&self.from, &self.to, self.family) {
            (None, None, AddressFamily::Ipv6) => f.write_str("from ::/0")?,
            (None, _, _) => f.write_str("from all")?,
            (Some(from), _, _) => write!(f, "from {from}")?,
        }
        option(f, "to", &self.to)?;
        write!(f, " priority {}", self.priority)?;
        option(f, "tos", &self.tos.map(|t| format!("{t:#x}")))?;
        match self.fwmark {
            Some((mark, Some(mask))) => write!(f, " fwmark {mark:#x}/{mask:#x}")?,
            Some((mark, None)) => write!(f, " fwmark {mark:#x}")?,
            None => {}
        }
        option(f, "realms", &self.realms.map(realms))?;
        option(f, "suppress_prefixlength", &self.suppress_prefix_length)?;
        option(f, "suppress_ifgroup", &self.suppress_ifgroup)?;
        option(f, "iif", &self.input_interface)?;
        option(f, "oif", &self.output_interface)?;
        option(f, "tunnel-id", &self.tunnel_id)?;
        option(
            f,
            "uidrange",
            &self.uid_range.map(|(a, b)| format!("{a}-{b}")),
        )?;
        if self.no_track {
            option(f, "protocol", &self.protocol)?;
        }
        option(f, "ipproto", &self.ip_proto)?;
        option(
            f,
            "sport",
            &self.source_ports.map(|(a, b)| format!("{a}-{b}")),
        )?;
        option(
            f,
            "dport",
            &self.destination_ports.map(|(a, b)| format!("{a}-{b}")),
        )?;
        match self.action {
            RuleAction::Table(t) => write!(f, " table {t}")?,
            RuleAction::Goto(g) => write!(f, " goto {g}")?,
            RuleAction::Nop => f.write_str(" nop")?,
            RuleAction::Blackhole => f.write_str(" blackhole")?,
            RuleAction::Unreachable => f.write_str(" unreachable")?,
            RuleAction::Prohibit => f.write_str(" prohibit")?,
            RuleAction::L3mdev => f.write_str(" l3mdev")?,
        }
        flag(f, "no_track", self.no_track)?;
        option(f, "track_group", &self.track_group)
    }
}
