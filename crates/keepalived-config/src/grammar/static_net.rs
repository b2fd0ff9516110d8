//! Address, route and rule lines: `static_ipaddress`, `static_routes`, `static_rules`, and
//! the same syntax in `virtual_ipaddress`, `virtual_routes` and `virtual_rules`.

use std::net::IpAddr;

use super::values::{self, parse_address, read_unsigned};
use super::walker::{Abort, HandlerResult, Line, Parser};
use crate::diagnostics::ErrorClass;
use crate::lexer::Token;
use crate::model::net::{
    AddressFamily, Broadcast, IpAddress, IpPrefix, NextHop, PreferredLifetime, Route, RouteType,
    Rule, Scope,
};

/// Where an address line is: VIPs take `use_vmac`, static addresses take `track_group`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressContext {
    /// `virtual_ipaddress` / `virtual_ipaddress_excluded`.
    Virtual,
    /// `static_ipaddress`.
    Static,
}

/// Reads `ADDR[/LEN]` as keepalived's `parse_ipaddress` does, reporting bad prefix lengths.
/// `None` (already reported) when the address is invalid.
pub fn parse_address_prefix(p: &mut Parser<'_>, token: &Token) -> Option<IpPrefix> {
    let text = token.as_str();
    let (address_text, len_text) = values::split_prefix(text);
    let family = if address_text.contains(':') {
        AddressFamily::Ipv6
    } else {
        AddressFamily::Ipv4
    };
    let max = family.max_prefix_len();
    let mut len = max;
    if let Some(len_text) = len_text {
        match read_unsigned(len_text, 0, u64::from(max)) {
            Ok(l) => len = l as u8,
            Err(message) => {
                p.report_at(ErrorClass::InvalidNumber, token, message);
                p.error_at(
                    token,
                    format!(
                        "Invalid address prefix len {len_text} for address {text} - using {max}"
                    ),
                );
            }
        }
    }
    match parse_address(address_text) {
        Some(address) if AddressFamily::of(&address) == family => Some(IpPrefix { address, len }),
        _ => {
            p.error_at(
                token,
                format!("VRRP parsed invalid IP {text}. skipping IP..."),
            );
            None
        }
    }
}

fn scope(text: &str) -> Option<Scope> {
    Some(match text {
        "global" | "universe" => Scope::Global,
        "site" => Scope::Site,
        "link" => Scope::Link,
        "host" => Scope::Host,
        "nowhere" => Scope::Nowhere,
        _ => Scope::Other(read_unsigned(text, 0, 255).ok()? as u8),
    })
}

/// Parses an address line (keepalived's `alloc_ipaddress`). `None` when the address is
/// dropped; every problem has been reported.
pub fn parse_ip_address(
    p: &mut Parser<'_>,
    words: &[Token],
    context: AddressContext,
) -> Option<IpAddress> {
    let first = words.first()?;
    let prefix = parse_address_prefix(p, first)?;
    let given_prefix = first.as_str().contains('/');
    let mut address = IpAddress::new(prefix);
    address.position = Some(first.span.position);
    let text = first.as_str().to_owned();

    let mut i = 1;
    while i < words.len() {
        let word = &words[i];
        let option = word.as_str();
        let takes_value = matches!(
            option,
            "dev" | "scope" | "broadcast" | "brd" | "label" | "peer" | "preferred_lft"
        ) || (option == "track_group" && context == AddressContext::Static);
        let value = if takes_value {
            // An option without its value drops the address.
            let Some(value) = words.get(i + 1) else {
                p.error_at(word, format!("No {option} parameter specified for {text}"));
                return None;
            };
            i += 1;
            Some(value)
        } else {
            None
        };
        match (option, value) {
            ("dev", Some(dev)) => {
                p.check_interface(
                    dev,
                    format!(
                        "WARNING - interface {} for ip address {text} doesn't exist",
                        dev.as_str()
                    ),
                );
                address.device = Some(dev.text.clone());
            }
            ("scope", Some(s)) => match scope(s.as_str()) {
                Some(sc) => address.scope = Some(sc),
                None => p.error_at(
                    s,
                    format!(
                        "Invalid scope '{}' specified for {text} - ignoring",
                        s.as_str()
                    ),
                ),
            },
            ("broadcast" | "brd", Some(b)) => {
                if address.family() == AddressFamily::Ipv6 {
                    p.error_at(word, format!("VRRP is trying to assign a broadcast {option} to the IPv6 address {text} !!?? WTF... skipping VIP..."));
                    return None;
                }
                address.broadcast = Some(match b.as_str() {
                    "+" => Broadcast::HostOnes,
                    "-" => Broadcast::HostZeros,
                    other => match parse_address(other) {
                        Some(IpAddr::V4(a)) => Broadcast::Address(a),
                        _ => {
                            let message = format!(
                                "VRRP is trying to assign invalid broadcast {other}. skipping VIP..."
                            );
                            p.error_at(b, message);
                            return None;
                        }
                    },
                });
            }
            ("label", Some(l)) => address.label = Some(l.text.clone()),
            ("peer", Some(peer)) => {
                if given_prefix {
                    p.error_at(
                        word,
                        "Cannot specify address prefix when specifying peer address - ignoring",
                    );
                } else {
                    match parse_address(peer.as_str()) {
                        Some(a) if AddressFamily::of(&a) == address.family() => {
                            address.peer = Some(a)
                        }
                        Some(_) => p.error_at(
                            peer,
                            format!(
                                "Peer address {} does not match address family",
                                peer.as_str()
                            ),
                        ),
                        None => {
                            let bad = peer.as_str();
                            p.error_at(
                                peer,
                                format!("VRRP parsed invalid IP {bad}. skipping IP..."),
                            );
                            p.error_at(peer, format!("Invalid peer address {bad}"));
                        }
                    }
                }
            }
            ("preferred_lft", Some(v)) => match v.as_str() {
                "forever" => address.preferred_lifetime = Some(PreferredLifetime::Forever),
                n => match p.unsigned(v, 0, u64::from(u32::MAX)) {
                    Some(secs) => {
                        address.preferred_lifetime = Some(PreferredLifetime::Seconds(secs as u32))
                    }
                    None => p.error_at(v, format!("preferred_lft {n} is invalid")),
                },
            },
            ("track_group", Some(g)) => {
                let known = p
                    .state
                    .config
                    .track_groups
                    .iter()
                    .any(|t| t.name == g.as_str());
                if known {
                    address.track_group = Some(g.text.clone());
                } else {
                    p.error_at(g, format!("track_group {} not found", g.as_str()));
                }
            }
            ("home", _) => address.home = true,
            ("-nodad", _) => address.no_dad = true,
            ("mngtmpaddr", _) => address.manage_temporary_address = true,
            ("noprefixroute", _) => address.no_prefix_route = true,
            ("autojoin", _) => address.autojoin = true,
            ("no_track", _) => address.no_track = true,
            ("use_vmac", _) if context == AddressContext::Virtual => address.use_vmac = true,
            (other, _) => p.error_at(
                word,
                format!("Unknown configuration entry '{other}' for ip address - ignoring"),
            ),
        }
        i += 1;
    }
    Some(address)
}

/// `static_ipaddress { … }`.
pub(super) fn static_addresses(p: &mut Parser<'_>, line: &Line) -> HandlerResult {
    p.value_block(line, |p, words| {
        if let Some(mut address) = parse_ip_address(p, words, AddressContext::Static) {
            if address.device.is_none() {
                let default = p
                    .globals
                    .default_interface
                    .clone()
                    .unwrap_or_else(|| "eth0".to_owned());
                if !p.env.interface_exists(&default) {
                    p.error(format!(
                        "WARNING - default interface {default} doesn't exist"
                    ));
                    p.state.non_existent_interface = true;
                }
                address.device = Some(default);
            }
            p.state.config.static_addresses.push(address);
        }
        Ok(())
    })
}

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

fn route_type(word: &str) -> Option<RouteType> {
    Some(match word {
        "unicast" => RouteType::Unicast,
        "blackhole" => RouteType::Blackhole,
        "unreachable" => RouteType::Unreachable,
        "prohibit" => RouteType::Prohibit,
        "throw" => RouteType::Throw,
        "local" => RouteType::Local,
        "broadcast" => RouteType::Broadcast,
        "anycast" => RouteType::Anycast,
        "multicast" => RouteType::Multicast,
        _ => return None,
    })
}

/// A destination or source prefix in a route or rule: an address, `default`, `any`, `all`.
fn route_prefix(p: &mut Parser<'_>, token: &Token) -> Option<Option<IpPrefix>> {
    match token.as_str() {
        "default" | "any" | "all" => Some(None),
        "default6" => Some(Some(IpPrefix {
            address: IpAddr::from([0u16; 8]),
            len: 0,
        })),
        _ => parse_address_prefix(p, token).map(Some),
    }
}

/// Checks that an interface exists, like keepalived does for route and rule devices.
fn route_interface(p: &mut Parser<'_>, token: &Token, what: &str) {
    p.check_interface(
        token,
        format!(
            "WARNING - interface {} for {what} doesn't exist",
            token.as_str()
        ),
    );
}

/// Parses a route line (keepalived's `alloc_route`).
pub fn parse_route(
    p: &mut Parser<'_>,
    words: &[Token],
    track: bool,
) -> Result<Option<Route>, Abort> {
    let mut route = Route {
        position: words.first().map(|w| w.span.position),
        ..Route::default()
    };
    let mut destination_text = String::new();
    let mut have_destination = false;
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let next = words.get(i + 1);
        let text = word.as_str();
        match text {
            "src" => {
                let n = arg(p, words, i)?;
                match parse_address(n.as_str()) {
                    Some(a) => route.source = Some(a),
                    None => p.error_at(
                        n,
                        format!("VRRP parsed invalid IP {}. skipping IP...", n.as_str()),
                    ),
                }
                i += 1;
            }
            "from" => {
                let n = arg(p, words, i)?;
                route.from = route_prefix(p, n).flatten();
                i += 1;
            }
            "via" | "gw" | "or" => {
                if text == "gw" {
                    p.error_at(word, "\"gw\" for routes is deprecated. Please use \"via\"");
                } else if text == "or" {
                    p.error_at(
                        word,
                        "\"or\" for routes is deprecated. Please use \"nexthop\"",
                    );
                }
                let n = arg(p, words, i)?;
                match parse_address(n.as_str()) {
                    Some(a) if text == "or" => route.nexthops.push(NextHop {
                        via: Some(a),
                        ..NextHop::default()
                    }),
                    Some(a) => route.via = Some(a),
                    None => p.error_at(
                        n,
                        format!("VRRP parsed invalid IP {}. skipping IP...", n.as_str()),
                    ),
                }
                i += 1;
            }
            "dev" | "oif" => {
                let n = arg(p, words, i)?;
                route_interface(p, n, "VROUTE nexthop");
                route.device = Some(n.text.clone());
                i += 1;
            }
            "table" => {
                let n = arg(p, words, i)?;
                route.table = table_number(n.as_str());
                if route.table.is_none() {
                    p.error_at(
                        n,
                        format!("Routing table {} not found for route", n.as_str()),
                    );
                }
                i += 1;
            }
            "metric" | "priority" | "preference" => {
                let n = arg(p, words, i)?;
                route.metric = p.unsigned(n, 0, u64::from(u32::MAX)).map(|v| v as u32);
                i += 1;
            }
            "protocol" => {
                let n = arg(p, words, i)?;
                route.protocol = protocol_number(n.as_str());
                if route.protocol.is_none() {
                    p.error_at(n, format!("Invalid route protocol {}", n.as_str()));
                }
                i += 1;
            }
            "scope" => {
                let n = arg(p, words, i)?;
                route.scope = scope(n.as_str());
                if route.scope.is_none() {
                    p.error_at(n, format!("Invalid route scope {}", n.as_str()));
                }
                i += 1;
            }
            "tos" | "dsfield" => {
                let n = arg(p, words, i)?;
                route.tos = u8::from_str_radix(n.as_str().trim_start_matches("0x"), 16).ok();
                i += 1;
            }
            "onlink" => route.onlink = true,
            "no_track" => route.no_track = true,
            "track_group" => {
                let g = arg(p, words, i)?;
                if p.state
                    .config
                    .track_groups
                    .iter()
                    .any(|t| t.name == g.as_str())
                {
                    route.track_group = Some(g.text.clone());
                } else {
                    p.error_at(g, format!("track_group {} not found", g.as_str()));
                }
                i += 1;
            }
            "inet6" => route.family = AddressFamily::Ipv6,
            "inet" => route.family = AddressFamily::Ipv4,
            "append" => route.attributes.push(("append".into(), String::new())),
            "nexthop" => {
                let mut hop = NextHop::default();
                i += 1;
                while i < words.len() {
                    let w = words[i].as_str();
                    let v = words.get(i + 1);
                    match (w, v) {
                        ("via", Some(v)) => hop.via = parse_address(v.as_str()),
                        ("dev", Some(v)) => {
                            route_interface(p, v, "VROUTE nexthop");
                            hop.device = Some(v.text.clone());
                        }
                        ("weight", Some(v)) => hop.weight = p.unsigned(v, 1, 256).map(|n| n as u32),
                        ("realms", Some(v)) => hop.realms = Some(v.text.clone()),
                        ("onlink", _) => {
                            hop.onlink = true;
                            i += 1;
                            continue;
                        }
                        _ => break,
                    }
                    i += 2;
                }
                route.nexthops.push(hop);
                continue;
            }
            "mtu" | "advmss" | "rtt" | "rttvar" | "reordering" | "window" | "cwnd" | "ssthresh"
            | "realms" | "initcwnd" | "initrwnd" | "features" | "quickack" | "congctl"
            | "rto_min" | "hoplimit" | "fastopen_no_cookie" | "pref" | "expires"
            | "ttl-propagate" | "encap" | "lock" => {
                let value = next.map(|n| n.text.clone()).unwrap_or_default();
                route.attributes.push((text.to_owned(), value));
                i += 1;
            }
            _ => {
                if let Some(t) = route_type(text).filter(|_| !have_destination) {
                    route.route_type = t;
                } else {
                    let destination = if text == "to" {
                        arg(p, words, i)?
                    } else {
                        word
                    };
                    if text == "to" {
                        i += 1;
                    }
                    if have_destination {
                        // keepalived tries the word as an address first, then gives up on it.
                        let _ = parse_address_prefix(p, destination);
                        p.error_at(
                            destination,
                            format!("unknown route keyword {}", destination.as_str()),
                        );
                        return Ok(None);
                    }
                    destination_text = destination.text.clone();
                    route.destination = match route_prefix(p, destination) {
                        Some(d) => d,
                        None => return Ok(None),
                    };
                    have_destination = true;
                }
            }
        }
        i += 1;
    }
    if let Some(d) = &route.destination {
        route.family = AddressFamily::of(&d.address);
    }
    // Only the route's own `dev` counts, not its next hops'.
    if track && route.device.is_none() && !route.no_track {
        p.error(format!("Warning - cannot track route {destination_text} with no interface specified, not tracking"));
        route.no_track = true;
    }
    Ok(Some(route))
}

/// The argument after `words[i]`, or keepalived's missing-parameter abort.
fn arg<'t>(p: &mut Parser<'_>, words: &'t [Token], i: usize) -> Result<&'t Token, Abort> {
    match words.get(i + 1) {
        Some(t) => Ok(t),
        None => p.required(&line_of(words), i + 1).map(|_| &words[i]),
    }
}

fn line_of(words: &[Token]) -> Line {
    let text = words
        .first()
        .map(|w| {
            crate::lexer::MappedText::synthetic(
                &words
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                w.span.position,
                w.span.start,
            )
        })
        .unwrap_or_else(|| {
            crate::lexer::MappedText::synthetic(
                "",
                crate::source::LinePosition {
                    file: crate::source::FileId(0),
                    line: 0,
                },
                0,
            )
        });
    Line {
        text,
        words: words.to_vec(),
    }
}

fn table_number(text: &str) -> Option<u32> {
    match text {
        "main" => Some(254),
        "local" => Some(255),
        "default" => Some(253),
        _ => read_unsigned(text, 0, u64::from(u32::MAX))
            .ok()
            .map(|v| v as u32),
    }
}

fn protocol_number(text: &str) -> Option<u8> {
    match text {
        "kernel" => Some(2),
        "boot" => Some(3),
        "static" => Some(4),
        "keepalived" => Some(18),
        _ => read_unsigned(text, 0, 255).ok().map(|v| v as u8),
    }
}

/// Parses a rule line (keepalived's `alloc_rule`).
pub fn parse_rule(
    p: &mut Parser<'_>,
    words: &[Token],
    _track: bool,
) -> Result<Option<Rule>, Abort> {
    let mut rule = Rule {
        position: words.first().map(|w| w.span.position),
        ..Rule::default()
    };
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let text = word.as_str();
        let next = words.get(i + 1);
        match text {
            "not" => rule.invert = true,
            "inet6" => rule.family = AddressFamily::Ipv6,
            "inet" => rule.family = AddressFamily::Ipv4,
            "no_track" => rule.no_track = true,
            "from" | "to" => {
                let n = arg(p, words, i)?;
                match route_prefix(p, n) {
                    Some(prefix) => {
                        if let Some(pr) = prefix {
                            rule.family = AddressFamily::of(&pr.address);
                        }
                        if text == "from" {
                            rule.from = prefix;
                        } else {
                            rule.to = prefix;
                        }
                    }
                    None => {
                        p.error_at(n, format!("Invalid rule {text} address {}", n.as_str()));
                        return Ok(None);
                    }
                }
                i += 1;
            }
            "table" | "lookup" => {
                let n = arg(p, words, i)?;
                rule.table = table_number(n.as_str());
                i += 1;
            }
            "preference" | "priority" => {
                let n = arg(p, words, i)?;
                rule.priority = p.unsigned(n, 0, u64::from(u32::MAX)).map(|v| v as u32);
                i += 1;
            }
            "fwmark" => {
                let n = arg(p, words, i)?;
                let (mark, mask) = n
                    .as_str()
                    .split_once('/')
                    .map_or((n.as_str(), None), |(m, k)| (m, Some(k)));
                let parse = |s: &str| match s.strip_prefix("0x") {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => s.parse().ok(),
                };
                rule.fwmark = parse(mark).map(|m| (m, mask.and_then(parse)));
                i += 1;
            }
            "iif" | "dev" => {
                let n = arg(p, words, i)?;
                route_interface(p, n, "rule");
                rule.input_interface = Some(n.text.clone());
                i += 1;
            }
            "oif" => {
                let n = arg(p, words, i)?;
                route_interface(p, n, "rule");
                rule.output_interface = Some(n.text.clone());
                i += 1;
            }
            "tos" | "dsfield" => {
                let n = arg(p, words, i)?;
                rule.tos = u8::from_str_radix(n.as_str().trim_start_matches("0x"), 16).ok();
                i += 1;
            }
            "track_group" => {
                let g = arg(p, words, i)?;
                if p.state
                    .config
                    .track_groups
                    .iter()
                    .any(|t| t.name == g.as_str())
                {
                    rule.track_group = Some(g.text.clone());
                } else {
                    p.error_at(g, format!("track_group {} not found", g.as_str()));
                }
                i += 1;
            }
            "realms"
            | "goto"
            | "uidrange"
            | "protocol"
            | "ip_proto"
            | "sport"
            | "dport"
            | "suppress_prefixlength"
            | "suppress_ifgroup"
            | "tun_id"
            | "nat"
            | "map-to" => {
                let value = next.map(|n| n.text.clone()).unwrap_or_default();
                rule.attributes.push((text.to_owned(), value));
                i += 1;
            }
            "l3mdev" => rule.attributes.push((text.to_owned(), String::new())),
            _ => {
                p.error_at(word, format!("Unknown rule option {text}"));
                return Ok(None);
            }
        }
        i += 1;
    }
    if rule.priority.is_none() {
        let preference = p.state.next_rule_preference();
        p.error(format!("Rule has no preference specified - setting to {preference}. This is probably not what you want."));
        rule.priority = Some(preference);
    }
    Ok(Some(rule))
}
