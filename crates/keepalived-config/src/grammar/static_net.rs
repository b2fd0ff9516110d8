//! Address lines: `static_ipaddress`, and the same syntax in `virtual_ipaddress` and
//! `virtual_ipaddress_excluded`. Routes and rules are in [`super::routing`].

use std::net::IpAddr;

use super::values::{self, parse_address, read_unsigned};
use super::walker::{HandlerResult, Line, Parser};
use crate::diagnostics::ErrorClass;
use crate::lexer::Token;
use crate::model::net::{AddressFamily, Broadcast, IpAddress, IpPrefix, PreferredLifetime, Scope};

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

/// The scope of a kernel scope number.
pub(super) fn scope_of(number: u8) -> Scope {
    match number {
        0 => Scope::Global,
        200 => Scope::Site,
        253 => Scope::Link,
        254 => Scope::Host,
        255 => Scope::Nowhere,
        other => Scope::Other(other),
    }
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
                address.device = Some(dev.text.as_str().to_owned());
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
            ("label", Some(l)) => address.label = Some(l.text.as_str().to_owned()),
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
                    address.track_group = Some(g.text.as_str().to_owned());
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
