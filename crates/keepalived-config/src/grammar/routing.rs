//! Route and rule lines (`static_routes`, `virtual_routes`, `static_rules`,
//! `virtual_rules`), in `ip route` / `ip rule` syntax, read as keepalived's `alloc_route` and
//! `alloc_rule` read them — including their quirks: a rule's `inet`/`inet6` swallows the word
//! after it, a single `dport` is refused, only a route's own `dev` makes it trackable.

use std::net::IpAddr;

use super::rttables;
use super::static_net::{parse_address_prefix, scope_of};
use super::values;
use super::walker::{Abort, HandlerResult, Line, Parser};
use crate::diagnostics::ErrorClass;
use crate::lexer::{MappedText, Token};
use crate::model::AddressFamily;
use crate::model::net::IpPrefix;
use crate::model::routing::{
    Metric, NextHop, PROTOCOL_KEEPALIVED, RoundTrip, Route, RouteType, Rule, RuleAction, TABLE_MAIN,
};

/// `static_routes { … }`.
pub(super) fn static_routes(p: &mut Parser<'_>, line: &Line) -> HandlerResult {
    p.value_block(line, |p, words| {
        if let Some(route) = parse_route(p, words, true)? {
            p.state.config.static_routes.push(route);
        }
        Ok(())
    })
}

/// `static_rules { … }`.
pub(super) fn static_rules(p: &mut Parser<'_>, line: &Line) -> HandlerResult {
    p.value_block(line, |p, words| {
        if let Some(rule) = parse_rule(p, words, true)? {
            p.state.config.static_rules.push(rule);
        }
        Ok(())
    })
}

/// The word after `words[i]`; without one keepalived reads past the line, we stop as for a
/// missing parameter.
fn value<'t>(p: &mut Parser<'_>, words: &'t [Token], i: usize) -> Result<&'t Token, Abort> {
    match words.get(i + 1) {
        Some(t) => Ok(t),
        None => {
            let text = words
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let first = &words[0];
            let line = Line {
                text: MappedText::synthetic(&text, first.span.position, first.span.start),
                words: words.to_vec(),
            };
            p.required(&line, i + 1).map(|_| &words[i])
        }
    }
}

/// A destination or source of a route or rule: an address with optional prefix, or `default`,
/// `any`, `all` (any address: `None`), or `default6`. A /0 prefix is any address too.
fn prefix(p: &mut Parser<'_>, token: &Token) -> Option<(Option<IpPrefix>, Option<AddressFamily>)> {
    match token.as_str() {
        "default" | "any" | "all" => Some((None, None)),
        "default6" => Some((None, Some(AddressFamily::Ipv6))),
        _ => {
            let prefix = parse_address_prefix(p, token)?;
            let family = AddressFamily::of(&prefix.address);
            Some(((prefix.len > 0).then_some(prefix), Some(family)))
        }
    }
}

/// An address without prefix (`via`, `src`).
fn address(p: &mut Parser<'_>, token: &Token) -> Option<IpAddr> {
    parse_address_prefix(p, token).map(|prefix| prefix.address)
}

/// Sets the family of a route or rule, or says it conflicts.
fn same_family(family: &mut Option<AddressFamily>, other: AddressFamily) -> bool {
    *family.get_or_insert(other) == other
}

/// Like [`same_family`] for a destination or source that may be any address (`None`), which
/// conflicts with a family already set.
fn merge_family(family: &mut Option<AddressFamily>, other: Option<AddressFamily>) -> bool {
    match family {
        None => {
            *family = other;
            true
        }
        Some(f) => other == Some(*f),
    }
}

/// `get_u32`: a number up to `max`, or keepalived's messages.
fn number(p: &mut Parser<'_>, token: &Token, max: u64, message: &str) -> Option<u32> {
    let n = p.unsigned(token, 0, max);
    if n.is_none() {
        p.error_at(token, message.replace("%s", token.as_str()));
    }
    n.map(|n| n as u32)
}

/// `[lock] VALUE` for a lockable metric; returns the metric and the index of its value.
fn lockable(
    p: &mut Parser<'_>,
    words: &[Token],
    i: usize,
    message: &str,
) -> Result<(Option<Metric>, usize), Abort> {
    let mut at = i + 1;
    let first = value(p, words, i)?;
    let locked = first.as_str() == "lock";
    if locked {
        value(p, words, at)?;
        at += 1;
    }
    let token = &words[at];
    let metric =
        number(p, token, u64::from(u32::MAX), message).map(|value| Metric { value, locked });
    Ok((metric, at))
}

/// keepalived's `get_time_rtt`: a time with a unit (`3ms`, `1.5s`, `2sec`) in milliseconds,
/// or a number in the kernel's units (`raw`), at most 120 s (in the kernel's units for `raw`,
/// which are `unit` per millisecond). Reports the number messages at `token`.
fn round_trip_time(p: &mut Parser<'_>, token: &Token, unit: u64) -> Option<(u32, bool)> {
    let text = token.as_str();
    let (number, shift, raw) = match text.find(['s', 'S']) {
        Some(at) => {
            let suffix = text[at..].to_ascii_lowercase();
            if !["s", "sec", "secs"].contains(&suffix.as_str()) {
                return None;
            }
            let millis = at > 0 && text.as_bytes()[at - 1].eq_ignore_ascii_case(&b'm');
            let end = if millis { at - 1 } else { at };
            if end == 0 {
                return None;
            }
            (&text[..end], if millis { 0 } else { 3 }, false)
        }
        None => (text, 0, true),
    };
    let (messages, value) = values::read_decimal(number, shift, 0, RTT_MAX_MS * unit);
    for message in messages {
        p.report_at(ErrorClass::InvalidNumber, token, message);
    }
    // Unlike most numbers, a time followed by junk is not used at all.
    let well_formed = number.chars().all(|c| c.is_ascii_digit() || c == '.');
    let value = value.filter(|_| well_formed)?;
    // keepalived keeps the time within 200 ms..120 s, and says so only in its log.
    let kernel_units = if raw { value } else { value * unit };
    let kernel_units = if kernel_units > RTT_MAX_MS * unit {
        p.log(format!(
            "rtt value {text} exceeds maximum {}s, resetting",
            RTT_MAX_MS / 1000
        ));
        RTT_MAX_MS * unit
    } else if kernel_units < RTT_MIN_MS * unit {
        p.log(format!(
            "rtt value {text} below minimum {RTT_MIN_MS}ms, resetting"
        ));
        RTT_MIN_MS * unit
    } else {
        kernel_units
    };
    let value = if raw {
        kernel_units
    } else {
        kernel_units / unit
    };
    Some((value as u32, raw))
}

/// The bounds keepalived puts on round-trip times, in milliseconds.
const RTT_MIN_MS: u64 = 200;
const RTT_MAX_MS: u64 = 120_000;

/// `[lock] TIME` for rtt, rttvar and rto_min.
fn round_trip(
    p: &mut Parser<'_>,
    words: &[Token],
    i: usize,
    unit: u64,
    message: &str,
) -> Result<(Option<RoundTrip>, usize), Abort> {
    let mut at = i + 1;
    let locked = value(p, words, i)?.as_str() == "lock";
    if locked {
        value(p, words, at)?;
        at += 1;
    }
    let token = &words[at];
    match round_trip_time(p, token, unit) {
        Some((value, raw)) => Ok((Some(RoundTrip { value, raw, locked }), at)),
        None => {
            p.error_at(token, message.replace("%s", token.as_str()));
            Ok((None, at))
        }
    }
}

/// Reads a route line (keepalived's `alloc_route`). `None` when keepalived drops the route;
/// every problem has been reported.
pub fn parse_route(
    p: &mut Parser<'_>,
    words: &[Token],
    allow_track_group: bool,
) -> Result<Option<Route>, Abort> {
    let mut route = Route {
        table: TABLE_MAIN,
        position: words.first().map(|w| w.span.position),
        ..Route::default()
    };
    let mut family: Option<AddressFamily> = None;
    let mut destination: Option<(Option<IpPrefix>, String)> = None;
    let mut protocol_given = false;
    let mut nexthops_from = None;
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let text = word.as_str();
        match text {
            "inet" | "inet6" => {
                let f = if text == "inet" {
                    AddressFamily::Ipv4
                } else {
                    AddressFamily::Ipv6
                };
                if !same_family(&mut family, f) {
                    let other = if text == "inet" { "IPv6" } else { "IPv4" };
                    p.error_at(word, format!("{text} specified for {other} route"));
                    return Ok(None);
                }
                // keepalived steps over the word after it too.
                i += 1;
            }
            "src" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(a) = address(p, v) else {
                    p.error_at(v, format!("invalid route src address {}", v.as_str()));
                    return Ok(None);
                };
                if !same_family(&mut family, AddressFamily::of(&a)) {
                    p.error_at(v, "Cannot mix IPv4 and IPv6 addresses for route");
                    return Ok(None);
                }
                route.preferred_source = Some(a);
            }
            "as" => {
                let v = value(p, words, i)?;
                i += 1;
                if v.as_str() == "to" {
                    i += 1;
                }
                p.error_at(word, "\"as to\" for MPLS only - ignoring");
            }
            "via" | "gw" => {
                if text == "gw" {
                    p.error_at(word, "\"gw\" for routes is deprecated. Please use \"via\"");
                }
                let mut v = value(p, words, i)?;
                i += 1;
                let mut via_family = family;
                if matches!(v.as_str(), "inet" | "inet6") {
                    via_family = Some(if v.as_str() == "inet" {
                        AddressFamily::Ipv4
                    } else {
                        AddressFamily::Ipv6
                    });
                    v = value(p, words, i)?;
                    i += 1;
                }
                if let Some(f) = via_family {
                    if !same_family(&mut family, f) {
                        p.error_at(v, "Cannot mix IPv4 and IPv6 addresses for route");
                        return Ok(None);
                    }
                }
                let Some(a) = address(p, v) else {
                    p.error_at(v, format!("invalid route via address {}", v.as_str()));
                    return Ok(None);
                };
                if !same_family(&mut family, AddressFamily::of(&a)) {
                    p.error_at(v, "Cannot mix IPv4 and IPv6 addresses for route");
                    return Ok(None);
                }
                route.via = Some(a);
            }
            "from" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some((from, from_family)) = prefix(p, v) else {
                    p.error_at(v, format!("invalid route from address {}", v.as_str()));
                    return Ok(None);
                };
                if from_family != Some(AddressFamily::Ipv6) {
                    let message = format!(
                        "route from address only supported with IPv6 ({})",
                        v.as_str()
                    );
                    p.error_at(v, message);
                    return Ok(None);
                }
                if !same_family(&mut family, AddressFamily::Ipv6) {
                    p.error_at(v, "Cannot mix IPv4 and IPv6 addresses for route");
                    return Ok(None);
                }
                route.from = from;
            }
            "tos" | "dsfield" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(tos) = rttables::dsfield(v.as_str()) else {
                    p.error_at(v, format!("TOS value {} is invalid", v.as_str()));
                    return Ok(None);
                };
                route.tos = Some(tos);
            }
            "table" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(table) = rttables::table(v.as_str()) else {
                    let message = format!("Routing table {} not found for route", v.as_str());
                    p.error_at(v, message);
                    return Ok(None);
                };
                route.table = table;
            }
            "protocol" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(protocol) = rttables::protocol(v.as_str()) else {
                    let message = format!("Protocol {} not found or invalid for route", v.as_str());
                    p.error_at(v, message);
                    return Ok(None);
                };
                route.protocol = Some(protocol);
                protocol_given = true;
            }
            "scope" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(scope) = rttables::scope(v.as_str()) else {
                    let message = format!("Scope {} not found or invalid for route", v.as_str());
                    p.error_at(v, message);
                    return Ok(None);
                };
                route.scope = Some(scope_of(scope));
            }
            "metric" | "priority" | "preference" => {
                let v = value(p, words, i)?;
                i += 1;
                let message = "Invalid metric %s specified for route";
                let Some(metric) = number(p, v, u64::from(u32::MAX), message) else {
                    return Ok(None);
                };
                route.metric = Some(metric);
            }
            "dev" | "oif" => {
                let v = value(p, words, i)?;
                i += 1;
                let message = format!(
                    "WARNING - interface {} for VROUTE nexthop doesn't exist",
                    v.as_str()
                );
                if !p.check_interface(v, message) {
                    return Ok(None);
                }
                route.device = Some(v.text.as_str().to_owned());
            }
            "onlink" => route.onlink = true,
            "encap" => {
                let (encap, next) = encapsulation(p, words, i)?;
                route.encap = encap;
                i = next;
            }
            "expires" => {
                let v = value(p, words, i)?;
                i += 1;
                if family == Some(AddressFamily::Ipv4) {
                    p.error_at(word, "expires is only valid for IPv6");
                    return Ok(None);
                }
                family = Some(AddressFamily::Ipv6);
                let message = "Invalid expires time %s specified for route";
                let Some(expires) = number(p, v, u64::from(u32::MAX), message) else {
                    return Ok(None);
                };
                route.expires = Some(expires);
            }
            "mtu" | "advmss" | "reordering" | "cwnd" | "ssthresh" => {
                let message = match text {
                    "mtu" => "Invalid MTU %s specified for route",
                    "advmss" => "Invalid advmss %s specified for route",
                    "reordering" => "Invalid reordering value %s specified for route",
                    "cwnd" => "Invalid cwnd value %s specified for route",
                    _ => "Invalid ssthresh value %s specified for route",
                };
                let (metric, at) = lockable(p, words, i, message)?;
                i = at;
                let Some(metric) = metric else {
                    return Ok(None);
                };
                let m = &mut route.metrics;
                *match text {
                    "mtu" => &mut m.mtu,
                    "advmss" => &mut m.advmss,
                    "reordering" => &mut m.reordering,
                    "cwnd" => &mut m.cwnd,
                    _ => &mut m.ssthresh,
                } = Some(metric);
            }
            "window" | "initcwnd" | "initrwnd" => {
                let v = value(p, words, i)?;
                i += 1;
                let message = match text {
                    "window" => "Invalid window value %s specified for route",
                    "initcwnd" => "Invalid initcwnd value %s specified for route",
                    _ => "Invalid initrwnd value %s specified for route",
                };
                let Some(n) = number(p, v, u64::from(u32::MAX), message) else {
                    return Ok(None);
                };
                let m = &mut route.metrics;
                *match text {
                    "window" => &mut m.window,
                    "initcwnd" => &mut m.initcwnd,
                    _ => &mut m.initrwnd,
                } = Some(n);
            }
            "rtt" | "rttvar" | "rto_min" => {
                // The kernel counts rtt in 1/8 ms and rttvar in 1/4 ms.
                let (unit, message) = match text {
                    "rtt" => (8, "Invalid rtt %s for route"),
                    "rttvar" => (4, "Invalid rttvar %s for route"),
                    _ => (1, "Invalid rto_min value %s specified for route"),
                };
                let (time, at) = round_trip(p, words, i, unit, message)?;
                i = at;
                let Some(time) = time else {
                    return Ok(None);
                };
                let m = &mut route.metrics;
                *match text {
                    "rtt" => &mut m.rtt,
                    "rttvar" => &mut m.rttvar,
                    _ => &mut m.rto_min,
                } = Some(time);
            }
            "hoplimit" => {
                let v = value(p, words, i)?;
                i += 1;
                let message = "Invalid hoplimit %s specified for route";
                let Some(n) = number(p, v, 255, message) else {
                    return Ok(None);
                };
                route.metrics.hoplimit = Some(n as u8);
            }
            "realms" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(realms) = rttables::realms(v.as_str()) else {
                    p.error_at(v, format!("Invalid realms {} for route", v.as_str()));
                    return Ok(None);
                };
                if family == Some(AddressFamily::Ipv6) {
                    p.error_at(word, "realms are only valid for IPv4");
                    return Ok(None);
                }
                family = Some(AddressFamily::Ipv4);
                route.realms = Some(realms);
            }
            "features" => {
                let v = value(p, words, i)?;
                i += 1;
                if v.as_str() == "ecn" {
                    route.metrics.ecn = true;
                } else {
                    p.error_at(v, format!("feature {} not supported", v.as_str()));
                }
            }
            "quickack" | "fastopen_no_cookie" => {
                let v = value(p, words, i)?;
                i += 1;
                let message = if text == "quickack" {
                    "Invalid quickack value %s specified for route"
                } else {
                    "Invalid fastopen_no_cookie value %s specified for route"
                };
                let Some(n) = number(p, v, 1, message) else {
                    return Ok(None);
                };
                let m = &mut route.metrics;
                *if text == "quickack" {
                    &mut m.quickack
                } else {
                    &mut m.fastopen_no_cookie
                } = Some(n == 1);
            }
            "congctl" => {
                let mut v = value(p, words, i)?;
                i += 1;
                let locked = v.as_str() == "lock";
                if locked {
                    v = value(p, words, i)?;
                    i += 1;
                }
                route.metrics.congestion_control = Some((v.text.as_str().to_owned(), locked));
            }
            "pref" => {
                let v = value(p, words, i)?;
                i += 1;
                if family == Some(AddressFamily::Ipv4) {
                    p.error_at(word, "pref is only valid for IPv6");
                    return Ok(None);
                }
                family = Some(AddressFamily::Ipv6);
                let pref = match v.as_str() {
                    "low" => 3,
                    "medium" => 0,
                    "high" => 1,
                    _ => {
                        let message = "Invalid pref value %s specified for route";
                        match number(p, v, 255, message) {
                            Some(n) => n as u8,
                            None => return Ok(None),
                        }
                    }
                };
                route.pref = Some(pref);
            }
            "ttl-propagate" => {
                let v = value(p, words, i)?;
                i += 1;
                match v.as_str() {
                    "enabled" => route.ttl_propagate = Some(true),
                    "disabled" => route.ttl_propagate = Some(false),
                    other => p.error_at(v, format!("ttl-propagate value {other} not recognised")),
                }
            }
            "or" => {
                p.error_at(
                    word,
                    "\"or\" for routes is deprecated. Please use \"nexthop\"",
                );
                if !route.nexthops.is_empty() {
                    p.error_at(word, "\"or\" route already specified - ignoring subsequent");
                    i += 2;
                    continue;
                }
                // The `via` address becomes the first of two next hops.
                let v = value(p, words, i)?;
                i += 1;
                let first = NextHop {
                    via: route.via.take(),
                    ..NextHop::default()
                };
                let Some(a) = address(p, v) else {
                    p.error_at(v, format!("Invalid \"or\" address {}", v.as_str()));
                    return Ok(None);
                };
                let second = NextHop {
                    via: Some(a),
                    ..NextHop::default()
                };
                route.nexthops = vec![first, second];
            }
            "nexthop" => {
                if route.nexthops.is_empty() {
                    nexthops_from = Some(i);
                } else {
                    p.error_at(word, "Cannot specify nexthops with \"or\" route");
                }
                break;
            }
            "no_track" => route.no_track = true,
            "track_group" if allow_track_group => {
                let v = value(p, words, i)?;
                i += 1;
                if route.track_group.is_some() {
                    p.error_at(v, format!("track_group {} is a duplicate", v.as_str()));
                    break;
                }
                if p.state
                    .config
                    .track_groups
                    .iter()
                    .any(|t| t.name == v.as_str())
                {
                    route.track_group = Some(v.text.as_str().to_owned());
                } else {
                    p.error_at(v, format!("track_group {} not found", v.as_str()));
                }
            }
            _ => {
                // A type and a destination (`to` is optional).
                if text == "to" {
                    i += 1;
                }
                if let Some(t) = RouteType::parse(text) {
                    route.route_type = t;
                    i += 1;
                }
                let Some(d) = words.get(i) else {
                    value(p, words, i - 1)?;
                    return Ok(None);
                };
                let Some((dst, dst_family)) = prefix(p, d) else {
                    p.error_at(d, format!("unknown route keyword {}", d.as_str()));
                    return Ok(None);
                };
                if !merge_family(&mut family, dst_family) {
                    let message = format!(
                        "Cannot mix IPv4 and IPv6 addresses for route ({})",
                        d.as_str()
                    );
                    p.error_at(d, message);
                    return Ok(None);
                }
                destination = Some((dst, d.text.as_str().to_owned()));
            }
        }
        i += 1;
    }
    if let Some(start) = nexthops_from {
        parse_nexthops(p, words, start, &mut route, &mut family)?;
    }
    let Some((dst, dst_text)) = destination else {
        p.error("Route must have a destination");
        return Ok(None);
    };
    route.destination = dst;
    if !route.no_track {
        if protocol_given && route.protocol != Some(PROTOCOL_KEEPALIVED) {
            p.error(format!("Route cannot be tracked if protocol is not RTPROT_KEEPALIVED({PROTOCOL_KEEPALIVED}), resetting protocol"));
        }
        route.protocol = Some(PROTOCOL_KEEPALIVED);
        // Only the route's own `dev` counts, not its next hops'.
        if route.device.is_none() {
            p.error(format!(
                "Warning - cannot track route {dst_text} with no interface specified, not tracking"
            ));
            route.no_track = true;
        }
    }
    if route.track_group.is_some() && route.device.is_none() {
        p.error("Static route cannot have track group if no oif specified");
        route.track_group = None;
    }
    route.family = family.unwrap_or(AddressFamily::Ipv4);
    Ok(Some(route))
}

/// `encap TYPE …` at `words[i]`: the words of the encapsulation, and the index of the last word
/// keepalived takes (a bad type takes the word after it too).
fn encapsulation(
    p: &mut Parser<'_>,
    words: &[Token],
    i: usize,
) -> Result<(Option<Vec<String>>, usize), Abort> {
    let Some(kind) = words.get(i + 1) else {
        p.error_at(&words[i], "Missing encap type");
        return Ok((None, i + 1));
    };
    let mut taken = vec![kind.text.as_str().to_owned()];
    let mut at = i + 1;
    match kind.as_str() {
        "mpls" | "ila" => {
            let v = value(p, words, at)?;
            taken.push(v.text.as_str().to_owned());
            at += 1;
        }
        "ip" | "ip6" => {
            // KEY VALUE pairs, while the key is one of the encapsulation's.
            let keys = ["id", "dst", "src", "tos", "ttl", "flags", "tc", "hoplimit"];
            while let (Some(key), Some(v)) = (words.get(at + 1), words.get(at + 2)) {
                if !keys.contains(&key.as_str()) {
                    break;
                }
                taken.push(key.text.as_str().to_owned());
                taken.push(v.text.as_str().to_owned());
                at += 2;
            }
            let addressed = taken.iter().any(|w| w == "dst" || w == "id");
            if !addressed {
                let message = format!("address or id missing for {} encapsulation", kind.as_str());
                p.error_at(kind, message);
            }
        }
        other => {
            p.error_at(kind, format!("Unknown encap type - {other}"));
            return Ok((None, i + 2));
        }
    }
    Ok((Some(taken), at))
}

/// `nexthop …` groups, from `words[start]` to the end of the line. A bad hop ends the reading
/// of hops (without it), but the route stays.
fn parse_nexthops(
    p: &mut Parser<'_>,
    words: &[Token],
    start: usize,
    route: &mut Route,
    family: &mut Option<AddressFamily>,
) -> Result<(), Abort> {
    let mut i = start;
    while words.get(i).is_some_and(|w| w.as_str() == "nexthop") {
        i += 1;
        let mut hop = NextHop::default();
        while let Some(word) = words.get(i) {
            match word.as_str() {
                "via" => {
                    let mut v = value(p, words, i)?;
                    i += 1;
                    if matches!(v.as_str(), "inet" | "inet6") {
                        let f = if v.as_str() == "inet" {
                            AddressFamily::Ipv4
                        } else {
                            AddressFamily::Ipv6
                        };
                        if !same_family(family, f) {
                            p.error_at(v, "IPv4/6 mismatch for nexthop");
                            return Ok(());
                        }
                        v = value(p, words, i)?;
                        i += 1;
                    }
                    let Some(a) = address(p, v) else {
                        p.error_at(v, format!("invalid nexthop address {}", v.as_str()));
                        return Ok(());
                    };
                    if !same_family(family, AddressFamily::of(&a)) {
                        p.error_at(v, "Address family mismatch for next hop");
                        return Ok(());
                    }
                    hop.via = Some(a);
                }
                "dev" => {
                    let v = value(p, words, i)?;
                    i += 1;
                    let message = format!(
                        "WARNING - interface {} for VROUTE nexthop doesn't exist",
                        v.as_str()
                    );
                    if !p.check_interface(v, message) {
                        return Ok(());
                    }
                    hop.device = Some(v.text.as_str().to_owned());
                }
                "weight" => {
                    let v = value(p, words, i)?;
                    i += 1;
                    let message = "Invalid weight %s specified for route";
                    let Some(weight) = number(p, v, 256, message) else {
                        return Ok(());
                    };
                    if weight == 0 {
                        p.error_at(v, "Invalid weight 0 specified for route");
                        return Ok(());
                    }
                    hop.weight = Some(weight as u16);
                }
                "onlink" => hop.onlink = true,
                "encap" => {
                    let (encap, next) = encapsulation(p, words, i)?;
                    hop.encap = encap;
                    i = next;
                }
                "realms" => {
                    let v = value(p, words, i)?;
                    i += 1;
                    let Some(realms) = rttables::realms(v.as_str()) else {
                        p.error_at(v, format!("Invalid realms {} for route", v.as_str()));
                        return Ok(());
                    };
                    if !same_family(family, AddressFamily::Ipv4) {
                        p.error_at(word, "realms are only supported for IPv4");
                        return Ok(());
                    }
                    hop.realms = Some(realms);
                }
                "as" => {
                    p.error_at(word, "'as [to]' (nat) not supported");
                    return Ok(());
                }
                _ => break,
            }
            i += 1;
        }
        route.nexthops.push(hop);
    }
    if let Some(rest) = words.get(i) {
        let message = format!(
            "Route has trailing nonsense after nexthops - {}",
            rest.as_str()
        );
        p.error_at(rest, message);
        return Ok(());
    }
    Ok(())
}

/// Reads a rule line (keepalived's `alloc_rule`). `None` when keepalived drops the rule.
pub fn parse_rule(
    p: &mut Parser<'_>,
    words: &[Token],
    allow_track_group: bool,
) -> Result<Option<Rule>, Abort> {
    let mut rule = Rule {
        family: AddressFamily::Ipv4,
        invert: false,
        from: None,
        to: None,
        priority: 0,
        tos: None,
        fwmark: None,
        realms: None,
        suppress_prefix_length: None,
        suppress_ifgroup: None,
        input_interface: None,
        output_interface: None,
        tunnel_id: None,
        uid_range: None,
        protocol: None,
        ip_proto: None,
        source_ports: None,
        destination_ports: None,
        action: RuleAction::Nop,
        no_track: false,
        track_group: None,
        position: words.first().map(|w| w.span.position),
    };
    let mut family: Option<AddressFamily> = None;
    let mut action: Option<RuleAction> = None;
    let mut priority: Option<u32> = None;
    let mut table_option = false;
    let mut table_given = false;
    let mut protocol_given = false;
    let more_than_one = "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule";
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let text = word.as_str();
        match text {
            "inet" | "inet6" => {
                let f = if text == "inet" {
                    AddressFamily::Ipv4
                } else {
                    AddressFamily::Ipv6
                };
                if !same_family(&mut family, f) {
                    let other = if text == "inet" { "IPv6" } else { "IPv4" };
                    p.error_at(word, format!("{text} specified for {other} rule"));
                    return Ok(None);
                }
                // keepalived steps over the word after it too.
                i += 1;
            }
            "from" | "to" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some((address, address_family)) = prefix(p, v) else {
                    p.error_at(v, format!("Invalid rule {text} address {}", v.as_str()));
                    return Ok(None);
                };
                if !merge_family(&mut family, address_family) {
                    p.error_at(v, "rule specification has mixed IPv4 and IPv6");
                    return Ok(None);
                }
                if text == "from" {
                    rule.from = address;
                } else {
                    rule.to = address;
                }
            }
            "table" | "lookup" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(table) = rttables::table(v.as_str()) else {
                    let message = format!("Routing table {} not found for rule", v.as_str());
                    p.error_at(v, message);
                    return Ok(None);
                };
                if table == 0 {
                    p.error_at(v, "Table 0 is not valid");
                    return Ok(None);
                }
                if action.is_some() {
                    p.error_at(word, "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule");
                    return Ok(None);
                }
                action = Some(RuleAction::Table(table));
                table_given = true;
            }
            "not" => rule.invert = true,
            "preference" | "order" | "priority" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(n) = p.unsigned(v, 0, u64::from(u32::MAX)) else {
                    p.error_at(v, format!("Invalid rule preference {text} specified"));
                    return Ok(None);
                };
                priority = Some(n as u32);
            }
            "tos" | "dsfield" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(tos) = rttables::dsfield(v.as_str()) else {
                    p.error_at(v, format!("TOS value {} is invalid", v.as_str()));
                    return Ok(None);
                };
                rule.tos = Some(tos);
            }
            "fwmark" => {
                let v = value(p, words, i)?;
                i += 1;
                let (mark, mask) = match v.as_str().split_once('/') {
                    Some((mark, mask)) => (mark, Some(mask)),
                    None => (v.as_str(), None),
                };
                let read = |s: &str| rttables::number(s, 0, u64::from(u32::MAX));
                match (read(mark), mask.map(read)) {
                    (Some(mark), None) => rule.fwmark = Some((mark as u32, None)),
                    (Some(mark), Some(Some(mask))) => {
                        rule.fwmark = Some((mark as u32, Some(mask as u32)))
                    }
                    _ => {
                        p.error_at(v, format!("Invalid rule fwmark {} specified", v.as_str()));
                        return Ok(None);
                    }
                }
            }
            "realms" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(realms) = rttables::realms(v.as_str()) else {
                    p.error_at(v, format!("invalid realms {} for rule", v.as_str()));
                    return Ok(None);
                };
                rule.realms = Some(realms);
                table_option = true;
                if !same_family(&mut family, AddressFamily::Ipv4) {
                    p.error_at(word, "realms is only valid for IPv4");
                    return Ok(None);
                }
            }
            "suppress_prefixlength" | "sup_pl" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(n) = p.unsigned(v, 0, i32::MAX as u64) else {
                    p.error_at(v, format!("Invalid suppress_prefixlength {text} specified"));
                    return Ok(None);
                };
                rule.suppress_prefix_length = Some(n as u32);
                table_option = true;
            }
            "suppress_ifgroup" | "sup_group" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(group) = rttables::group(v.as_str()) else {
                    p.error_at(v, format!("suppress_group {} is invalid", v.as_str()));
                    return Ok(None);
                };
                rule.suppress_ifgroup = Some(group);
                table_option = true;
            }
            "dev" | "iif" | "oif" => {
                let v = value(p, words, i)?;
                i += 1;
                let message = format!("WARNING - interface {} for rule doesn't exist", v.as_str());
                if !p.check_interface(v, message) {
                    return Ok(None);
                }
                if text == "oif" {
                    rule.output_interface = Some(v.text.as_str().to_owned());
                } else {
                    rule.input_interface = Some(v.text.as_str().to_owned());
                }
            }
            "tunnel-id" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(id) = p.unsigned64(v, 0, u64::MAX) else {
                    p.error_at(v, format!("Invalid tunnel-id {text} specified"));
                    return Ok(None);
                };
                rule.tunnel_id = Some(id);
            }
            "uidrange" => {
                let v = value(p, words, i)?;
                i += 1;
                let Some(range) = scan_range::<u32>(v.as_str()).filter(|(_, two)| *two) else {
                    p.error_at(v, format!("Invalid uidrange {text} specified"));
                    return Ok(None);
                };
                rule.uid_range = Some(range.0);
            }
            "l3mdev" => {
                if action.is_some() {
                    p.error_at(word, "Cannot specify l3mdev with other action");
                    return Ok(None);
                }
                action = Some(RuleAction::L3mdev);
            }
            "protocol" => {
                let v = value(p, words, i)?;
                i += 1;
                match p.unsigned(v, 0, 255) {
                    Some(n) => {
                        rule.protocol = Some(n as u8);
                        protocol_given = true;
                    }
                    None => p.error_at(v, format!("Invalid protocol {}", v.as_str())),
                }
            }
            "ipproto" => {
                let v = value(p, words, i)?;
                i += 1;
                match rttables::ip_protocol(v.as_str()) {
                    Some(n) => rule.ip_proto = Some(n),
                    None => p.error_at(v, format!("Invalid ipproto {}", v.as_str())),
                }
            }
            "sport" | "dport" => {
                let v = value(p, words, i)?;
                i += 1;
                // keepalived refuses a single port: it wants FIRST-LAST.
                match scan_range::<u16>(v.as_str()) {
                    Some((range, true)) => {
                        if text == "sport" {
                            rule.source_ports = Some(range);
                        } else {
                            rule.destination_ports = Some(range);
                        }
                    }
                    _ => p.error_at(v, format!("invalid {text} range {}", v.as_str())),
                }
            }
            "no_track" => rule.no_track = true,
            "track_group" if allow_track_group => {
                let v = value(p, words, i)?;
                i += 1;
                if rule.track_group.is_some() {
                    p.error_at(v, format!("track_group {} is a duplicate", v.as_str()));
                    break;
                }
                if p.state
                    .config
                    .track_groups
                    .iter()
                    .any(|t| t.name == v.as_str())
                {
                    rule.track_group = Some(v.text.as_str().to_owned());
                } else {
                    p.error_at(v, format!("track_group {} not found", v.as_str()));
                }
            }
            _ => {
                let mut kind = word;
                if text == "type" {
                    kind = value(p, words, i)?;
                    i += 1;
                }
                let new_action = match kind.as_str() {
                    "goto" => {
                        let v = value(p, words, i)?;
                        i += 1;
                        let Some(target) = p.unsigned(v, 0, u64::from(u32::MAX)) else {
                            p.error_at(v, format!("Invalid target {} specified", kind.as_str()));
                            return Ok(None);
                        };
                        RuleAction::Goto(target as u32)
                    }
                    "nop" => RuleAction::Nop,
                    other => match RouteType::parse(other) {
                        Some(RouteType::Blackhole) => RuleAction::Blackhole,
                        Some(RouteType::Unreachable) => RuleAction::Unreachable,
                        Some(RouteType::Prohibit) => RuleAction::Prohibit,
                        Some(_) => {
                            p.error_at(kind, format!("Invalid rule action {other}"));
                            return Ok(None);
                        }
                        None => {
                            p.error_at(kind, format!("Unknown rule option {other}"));
                            return Ok(None);
                        }
                    },
                };
                if action.is_some() {
                    p.error_at(kind, more_than_one);
                    return Ok(None);
                }
                action = Some(new_action);
            }
        }
        i += 1;
    }
    if let Some(RuleAction::Goto(target)) = action {
        match priority {
            Some(pref) if pref >= target => {
                p.error(format!(
                    "Invalid rule - preference {pref} >= goto target {target}"
                ));
                return Ok(None);
            }
            Some(_) => {}
            None => {
                p.error(format!(
                    "Invalid rule - goto target {target} specified without preference"
                ));
                return Ok(None);
            }
        }
    }
    let Some(action) = action else {
        p.error("No action specified for rule - ignoring");
        return Ok(None);
    };
    let table_action = matches!(action, RuleAction::Table(_) | RuleAction::L3mdev);
    if table_option && !table_action {
        p.error("suppressor/realm specified for non table action - skipping");
        return Ok(None);
    }
    if table_given && action == RuleAction::L3mdev {
        p.error("table cannot be specified for l3mdev rules");
        return Ok(None);
    }
    rule.action = action;
    if !rule.no_track {
        if protocol_given && rule.protocol != Some(PROTOCOL_KEEPALIVED) {
            p.error(format!("Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED({PROTOCOL_KEEPALIVED}), resetting protocol"));
        }
        rule.protocol = Some(PROTOCOL_KEEPALIVED);
    }
    if rule.track_group.is_some() && rule.input_interface.is_none() {
        p.error("Static rule cannot have track_group if dev/iif not specified");
        rule.track_group = None;
    }
    rule.family = family.unwrap_or(AddressFamily::Ipv4);
    rule.priority = match priority {
        Some(pref) => pref,
        None => {
            let pref = p.state.next_rule_preference(rule.family);
            p.error(format!("Rule has no preference specified - setting to {pref}. This is probably not what you want."));
            pref
        }
    };
    Ok(Some(rule))
}

/// `sscanf(text, "%u-%u")`: the range, and whether both numbers were read (with only the
/// first, the range is that one number).
fn scan_range<T: std::str::FromStr + Copy>(text: &str) -> Option<((T, T), bool)> {
    fn digits<T: std::str::FromStr>(s: &str) -> (Option<T>, &str) {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        (s[..end].parse::<T>().ok(), &s[end..])
    }
    let (first, rest) = digits::<T>(text);
    let first = first?;
    match rest.strip_prefix('-').map(digits) {
        Some((Some(last), _)) => Some(((first, last), true)),
        _ => Some(((first, first), false)),
    }
}
