//! `virtual_server … { … }`, `real_server … { … }`, `virtual_server_group NAME { … }` and
//! `SSL { … }`. The checkers inside real servers are in [`super::checkers`].

use std::net::IpAddr;
use std::time::Duration;

use super::checkers;
use super::keywords::{Keyword, block, kw};
use super::state::{RealServerDraft, TimingDraft, VirtualServerDraft};
use super::values::{self, parse_address, parse_port, read_unsigned};
use super::walker::{HandlerResult, Line, Parser};
use crate::lexer::Token;
use crate::model::AddressFamily;
use crate::model::lvs::{
    ForwardingMethod, GroupEntry, Persistence, Protocol, RealServer, ServiceAddress, SorryServer,
    SslContext, TimingDefaults, TunnelChecksum, TunnelType, VirtualServerGroup,
};

/// The longest check timer keepalived accepts: `UINT_MAX` microseconds.
pub const TIMER_MAX_US: u64 = u32::MAX as u64;

/// The schedulers IPVS knows.
pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];

/// The keywords of `virtual_server`.
pub static KEYWORDS: &[Keyword] = &[
    kw("ip_family", ip_family),
    kw("retry", |p, l| retry(p, l, |v, n| v.timing.retry = Some(n))),
    kw("delay_before_retry", |p, l| {
        timer(
            p,
            l,
            0,
            "virtual server delay before retry '{}' invalid - ignoring",
            |v, d| v.timing.delay_before_retry = Some(d),
        )
    }),
    kw("warmup", |p, l| {
        timer(
            p,
            l,
            0,
            "virtual server warmup '{}' invalid - ignoring",
            |v, d| v.timing.warmup = Some(d),
        )
    }),
    kw("connect_timeout", |p, l| {
        timer(
            p,
            l,
            1,
            "virtual server connect_timeout {} invalid - ignoring",
            |v, d| v.timing.connect_timeout = Some(d),
        )
    }),
    kw("delay_loop", |p, l| {
        timer(
            p,
            l,
            1,
            "virtual server delay loop '{}' invalid - ignoring",
            |v, d| v.timing.delay_loop = Some(d),
        )
    }),
    kw("inhibit_on_failure", |p, _| {
        with_vs(p, |v| v.server.inhibit_on_failure = true)
    }),
    kw("lb_algo", scheduler),
    kw("lvs_sched", scheduler),
    kw("hashed", scheduler_flag),
    kw("ops", scheduler_flag),
    kw("flag-1", scheduler_flag),
    kw("flag-2", scheduler_flag),
    kw("flag-3", scheduler_flag),
    kw("sh-port", scheduler_flag),
    kw("sh-fallback", scheduler_flag),
    kw("mh-port", scheduler_flag),
    kw("mh-fallback", scheduler_flag),
    kw("lb_kind", |p, l| method(p, l, Target::Virtual)),
    kw("lvs_method", |p, l| method(p, l, Target::Virtual)),
    kw("persistence_engine", |p, l| {
        let w = p.required(l, 1)?;
        let engine = w.text.as_str().to_owned();
        with_vs(p, |v| {
            v.persistence.get_or_insert_with(default_persistence).engine = Some(engine)
        })
    }),
    kw("persistence_timeout", persistence_timeout),
    kw("persistence_granularity", persistence_granularity),
    kw("protocol", protocol),
    kw("ha_suspend", |p, _| {
        with_vs(p, |v| v.server.ha_suspend = true)
    }),
    kw("smtp_alert", |p, l| {
        if let Some(b) = p.optional_bool(l, |s| {
            format!("Invalid virtual_server smtp_alert parameter {s}")
        }) {
            with_vs(p, |v| v.server.smtp_alert = Some(b))?;
        }
        Ok(())
    }),
    kw("virtualhost", |p, l| {
        match l.text_of(1) {
            Some(h) => {
                let h = h.to_owned();
                with_vs(p, |v| v.server.virtualhost = Some(h))?;
            }
            None => p.error("virtual server virtualhost missing"),
        }
        Ok(())
    }),
    kw("snmp_name", |p, l| {
        if l.len() != 2 {
            p.error("virtual server snmp_name missing or extra parameters");
            return Ok(());
        }
        let name = l.words[1].text.as_str().to_owned();
        with_vs(p, |v| v.server.snmp_name = Some(name))
    }),
    kw("alpha", |p, _| with_vs(p, |v| v.server.alpha = true)),
    kw("omega", |p, _| with_vs(p, |v| v.server.omega = true)),
    kw("quorum_up", |p, l| quorum_script(p, l, true)),
    kw("quorum_down", |p, l| quorum_script(p, l, false)),
    kw("quorum", quorum),
    kw("hysteresis", hysteresis),
    kw("weight", vs_weight),
    kw("sorry_server", sorry_server),
    kw("sorry_server_inhibit", |p, _| {
        if p.state
            .virtual_servers
            .last()
            .is_some_and(|v| v.sorry_server.is_some())
        {
            with_vs(p, |v| {
                if let Some(s) = v.sorry_server.as_mut() {
                    s.inhibit = true;
                }
            })
        } else {
            p.error("Ignoring sorry_server inhibit used before or without sorry_server");
            Ok(())
        }
    }),
    kw("sorry_server_lvs_method", |p, l| {
        if p.state
            .virtual_servers
            .last()
            .is_some_and(|v| v.sorry_server.is_some())
        {
            method(p, l, Target::Sorry)
        } else {
            p.error("sorry_server forwarding used without sorry_server");
            Ok(())
        }
    }),
    block(
        "real_server",
        Some(real_server),
        REAL_SERVER_KEYWORDS,
        Some(real_server_close),
    ),
];

/// The keywords of `real_server`.
pub static REAL_SERVER_KEYWORDS: &[Keyword] = &[
    kw("weight", rs_weight),
    kw("lvs_method", |p, l| method(p, l, Target::Real)),
    kw("uthreshold", |p, l| {
        threshold(p, l, "uthreshold", |r, n| {
            r.server.upper_threshold = Some(n)
        })
    }),
    kw("lthreshold", |p, l| {
        threshold(p, l, "lthreshold", |r, n| {
            r.server.lower_threshold = Some(n)
        })
    }),
    kw("inhibit_on_failure", |p, l| {
        if let Some(b) = p.optional_bool(l, |s| format!("Invalid inhibit_on_failure parameter {s}"))
        {
            with_rs(p, |r| r.inhibit = Some(b))?;
        }
        Ok(())
    }),
    kw("notify_up", |p, l| rs_notify(p, l, true)),
    kw("notify_down", |p, l| rs_notify(p, l, false)),
    kw("alpha", |p, l| {
        if let Some(b) = p.optional_bool(l, |s| format!("Invalid alpha parameter {s}")) {
            with_rs(p, |r| r.alpha = Some(b))?;
        }
        Ok(())
    }),
    kw("retry", rs_retry),
    kw("delay_before_retry", |p, l| {
        rs_timer(
            p,
            l,
            0,
            "real server delay_before_retry '{}' invalid - ignoring",
            |t, d| t.delay_before_retry = Some(d),
        )
    }),
    kw("warmup", |p, l| {
        rs_timer(
            p,
            l,
            0,
            "real server warmup '{}' invalid - ignoring",
            |t, d| t.warmup = Some(d),
        )
    }),
    kw("connect_timeout", |p, l| {
        rs_timer(
            p,
            l,
            1,
            "real server connect_timeout {} invalid - ignoring",
            |t, d| t.connect_timeout = Some(d),
        )
    }),
    kw("delay_loop", |p, l| {
        rs_timer(
            p,
            l,
            1,
            "real server delay_loop '{}' invalid - ignoring",
            |t, d| t.delay_loop = Some(d),
        )
    }),
    kw("smtp_alert", |p, l| {
        if let Some(b) = p.optional_bool(l, |s| {
            format!("Invalid real_server smtp_alert parameter {s}")
        }) {
            with_rs(p, |r| r.server.smtp_alert = Some(b))?;
        }
        Ok(())
    }),
    kw("virtualhost", |p, l| {
        match l.text_of(1) {
            Some(h) => {
                let h = h.to_owned();
                with_rs(p, |r| r.server.virtualhost = Some(h))?;
            }
            None => p.error("real server virtualhost missing"),
        }
        Ok(())
    }),
    kw("snmp_name", |p, l| {
        if l.len() != 2 {
            p.error("real server snmp_name missing or extra parameters");
            return Ok(());
        }
        let name = l.words[1].text.as_str().to_owned();
        with_rs(p, |r| r.server.snmp_name = Some(name))
    }),
    block(
        "HTTP_GET",
        Some(checkers::http_get),
        checkers::HTTP_KEYWORDS,
        Some(checkers::http_close),
    ),
    block(
        "SSL_GET",
        Some(checkers::ssl_get),
        checkers::SSL_KEYWORDS,
        Some(checkers::http_close),
    ),
    block(
        "TCP_CHECK",
        Some(checkers::tcp_check),
        checkers::TCP_KEYWORDS,
        Some(checkers::close),
    ),
    block(
        "MISC_CHECK",
        Some(checkers::misc_check),
        checkers::MISC_KEYWORDS,
        Some(checkers::misc_close),
    ),
    block(
        "SMTP_CHECK",
        Some(checkers::smtp_check),
        checkers::SMTP_KEYWORDS,
        Some(checkers::close),
    ),
    block(
        "DNS_CHECK",
        Some(checkers::dns_check),
        checkers::DNS_KEYWORDS,
        Some(checkers::close),
    ),
    block(
        "UDP_CHECK",
        Some(checkers::udp_check),
        checkers::UDP_KEYWORDS,
        Some(checkers::close),
    ),
    block(
        "PING_CHECK",
        Some(checkers::ping_check),
        checkers::PING_KEYWORDS,
        Some(checkers::close),
    ),
    block(
        "FILE_CHECK",
        Some(checkers::file_check),
        checkers::FILE_KEYWORDS,
        Some(checkers::file_close),
    ),
    block(
        "BFD_CHECK",
        Some(checkers::bfd_check),
        checkers::BFD_KEYWORDS,
        Some(checkers::bfd_close),
    ),
];

fn default_persistence() -> Persistence {
    Persistence {
        timeout: Duration::from_secs(360),
        granularity: None,
        engine: None,
    }
}

fn with_vs(p: &mut Parser<'_>, f: impl FnOnce(&mut VirtualServerDraft)) -> HandlerResult {
    if let Some(v) = p.state.virtual_servers.last_mut() {
        f(v);
    }
    Ok(())
}

pub(super) fn with_rs(p: &mut Parser<'_>, f: impl FnOnce(&mut RealServerDraft)) -> HandlerResult {
    if let Some(r) = p
        .state
        .virtual_servers
        .last_mut()
        .and_then(|v| v.real_servers.last_mut())
    {
        f(r);
    }
    Ok(())
}

/// keepalived's way of printing an address, protocol and port: `[10.0.0.1]:tcp:80`.
pub fn format_trio(address: &IpAddr, protocol: Option<Protocol>, port: u16) -> String {
    format!(
        "[{address}]:{}:{port}",
        protocol.map_or("none", Protocol::name)
    )
}

/// keepalived's name for a virtual server in messages (`format_vs`).
pub fn format_vs(service: &ServiceAddress, protocol: Option<Protocol>) -> String {
    match service {
        ServiceAddress::Address { address, port } => format_trio(address, protocol, *port),
        ServiceAddress::Fwmark(mark) => format!("FWM {mark}"),
        ServiceAddress::Group(name) => format!("[{name}]:0"),
    }
}

/// Reads `ADDR [PORT]` (a port of 0, or none, means none).
fn address_and_port(address: &str, port: Option<&str>) -> Option<(IpAddr, u16)> {
    let address = parse_address(address)?;
    let port = match port {
        None => 0,
        Some(p) if p.bytes().all(|b| b == b'0') => 0,
        Some(p) => parse_port(p, false)?,
    };
    Some((address, port))
}

/// `virtual_server ADDR [PORT] | fwmark N | group NAME`.
pub(super) fn virtual_server(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let first = p.required(l, 1)?;
    let position = first.span.position;
    let service = match first.as_str() {
        "group" => ServiceAddress::Group(p.required(l, 2)?.text.as_str().to_owned()),
        "fwmark" => {
            let mark = p.required(l, 2)?;
            match p.unsigned(mark, 0, u64::from(u32::MAX)) {
                Some(m) => ServiceAddress::Fwmark(m as u32),
                None => {
                    p.error_at(
                        mark,
                        format!(
                            "virtual server fwmark '{}' must be in [0, {}] - ignoring",
                            mark.as_str(),
                            u32::MAX
                        ),
                    );
                    p.skip_block(true);
                    return Ok(());
                }
            }
        }
        address => match address_and_port(address, l.text_of(2)) {
            Some((address, port)) => ServiceAddress::Address { address, port },
            None => {
                let port = l.text_of(2).filter(|p| !p.bytes().all(|b| b == b'0'));
                let message = match port {
                    Some(port) => format!(
                        "Invalid virtual server IP address/port {address}/{port} - skipping"
                    ),
                    None => format!("Invalid virtual server IP address {address} - skipping"),
                };
                p.error_at(first, message);
                p.skip_block(true);
                return Ok(());
            }
        },
    };
    p.state
        .virtual_servers
        .push(Box::new(VirtualServerDraft::new(service, position)));
    Ok(())
}

/// The end of a `virtual_server` block: a sorry server not reached by tunnel must be of the
/// service's family.
pub(super) fn close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(vs) = p.state.virtual_servers.last_mut() else {
        return Ok(());
    };
    let Some(sorry) = &vs.sorry_server else {
        return Ok(());
    };
    if is_tunnel(sorry.forwarding.as_ref().or(vs.forwarding.as_ref())) {
        return Ok(());
    }
    let family = AddressFamily::of(&sorry.address);
    match vs.family {
        None => vs.family = Some(family),
        Some(f) if f != family => {
            let address = sorry.address;
            vs.sorry_server = None;
            p.error(format!("Address family of virtual server and sorry server {address} don't match - skipping sorry server."));
        }
        Some(_) => {}
    }
    Ok(())
}

fn is_tunnel(method: Option<&ForwardingMethod>) -> bool {
    matches!(method, Some(ForwardingMethod::Tunnel { .. }))
}

fn ip_family(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let family = match w.as_str() {
        "inet" => AddressFamily::Ipv4,
        "inet6" => AddressFamily::Ipv6,
        other => {
            p.error_at(w, format!("unknown address family {other}"));
            return Ok(());
        }
    };
    let conflict = p
        .state
        .virtual_servers
        .last()
        .and_then(|v| v.family)
        .is_some_and(|f| f != family);
    if conflict {
        let message = format!(
            "Virtual server specified family {} conflicts with server family",
            w.as_str()
        );
        p.error_at(w, message);
        return Ok(());
    }
    with_vs(p, |v| {
        v.family = Some(family);
        v.server.family = Some(family);
    })
}

fn retry(p: &mut Parser<'_>, l: &Line, set: fn(&mut VirtualServerDraft, u32)) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(n) => with_vs(p, |v| set(v, n as u32)),
        None => {
            p.error_at(w, format!("retry value invalid - {}", w.as_str()));
            Ok(())
        }
    }
}

fn timer(
    p: &mut Parser<'_>,
    l: &Line,
    min_us: u64,
    message: &str,
    set: fn(&mut VirtualServerDraft, Duration),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    // Only connect_timeout has an upper bound (UINT_MAX microseconds).
    let max_us = if l.keyword() == "connect_timeout" {
        TIMER_MAX_US
    } else {
        0
    };
    match p.timer(w, min_us, max_us) {
        Some(d) => with_vs(p, |v| set(v, d)),
        None => {
            p.error_at(w, message.replace("{}", w.as_str()));
            Ok(())
        }
    }
}

fn scheduler(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    if !SCHEDULERS.contains(&w.as_str()) {
        let hint =
            super::super::diagnostics::suggest::closest(w.as_str(), SCHEDULERS.iter().copied())
                .map(|s| format!("did you mean `{s}`?"));
        let message = format!("Invalid lvs_scheduler '{}' - ignoring", w.as_str());
        match hint {
            Some(h) => p.out.report_with_hint(
                crate::diagnostics::ErrorClass::GeneralError,
                message,
                Some(w.span),
                h,
            ),
            None => p.error_at(w, message),
        }
        return Ok(());
    }
    let s = w.text.as_str().to_owned();
    with_vs(p, |v| v.scheduler = Some(s))
}

/// `ops`, `flag-1..3`, and the flags of the sh and mh schedulers (`sh-port`, `sh-fallback`,
/// `mh-port`, `mh-fallback`, `hashed`), which count only after `lvs_sched sh` or `mh` and are
/// otherwise refused. The sh and mh flags are the scheduler flags 2 (port) and 1 (fallback).
fn scheduler_flag(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let flag = l.keyword().to_owned();
    let scheduler = p
        .state
        .virtual_servers
        .last()
        .and_then(|v| v.scheduler.clone())
        .unwrap_or_default();
    let fixed = ["ops", "flag-1", "flag-2", "flag-3"].contains(&flag.as_str());
    if !fixed && scheduler != "sh" && scheduler != "mh" {
        p.error(format!("{flag} only applies to sh scheduler - ignoring"));
        return Ok(());
    }
    let prefix = format!("{scheduler}-");
    with_vs(p, |v| {
        let f = &mut v.server.scheduler_flags;
        match flag.as_str() {
            "ops" => f.one_packet = true,
            "flag-1" => f.flag_1 = true,
            "flag-2" => f.flag_2 = true,
            "flag-3" => f.flag_3 = true,
            // Another scheduler's flag, or `hashed`, is accepted and has no effect.
            other => match other.strip_prefix(prefix.as_str()) {
                Some("port") => f.flag_2 = true,
                Some("fallback") => f.flag_1 = true,
                _ => {}
            },
        }
    })
}

/// Which server a forwarding method is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Virtual,
    Real,
    Sorry,
}

/// Reads `NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]` for a `virtual`,
/// `real` or `sorry` server, as keepalived's `svr_forwarding_handler`: a bad method is ignored;
/// after `TUN`, a bad option leaves the tunnel as it was (`previous`, or plain ipip).
fn parse_method(
    p: &mut Parser<'_>,
    words: &[Token],
    server: &str,
    previous: Option<ForwardingMethod>,
) -> Option<ForwardingMethod> {
    let kind = words.first()?;
    match kind.as_str() {
        "NAT" => return Some(ForwardingMethod::Nat),
        "DR" => return Some(ForwardingMethod::DirectRouting),
        "TUN" => {}
        other => {
            let message = format!("PARSER : unknown [{other}] routing method for {server} server.");
            if ["nat", "dr", "tun"].contains(&other.to_ascii_lowercase().as_str()) {
                p.out.report_with_hint(
                    crate::diagnostics::ErrorClass::GeneralError,
                    message,
                    Some(kind.span),
                    format!("methods are upper case: `{}`", other.to_ascii_uppercase()),
                );
            } else {
                p.error_at(kind, message);
            }
            return None;
        }
    }
    let unchanged = match previous {
        Some(tunnel @ ForwardingMethod::Tunnel { .. }) => tunnel,
        _ => ForwardingMethod::Tunnel {
            tunnel_type: TunnelType::Ipip,
            checksum: None,
        },
    };
    let mut gue = false;
    let mut tunnel_type = TunnelType::Ipip;
    let mut port = 0u16;
    let mut checksum = None;
    let mut i = 1;
    while i < words.len() {
        let option = &words[i];
        match option.as_str() {
            "type" => {
                let Some(t) = words.get(i + 1) else {
                    p.error_at(option, format!("Missing tunnel type for {server} server."));
                    return Some(unchanged);
                };
                (gue, tunnel_type) = match t.as_str() {
                    "ipip" => (false, TunnelType::Ipip),
                    "gue" => (true, TunnelType::Ipip),
                    "gre" => (false, TunnelType::Gre),
                    other => {
                        let message = format!("Unknown tunnel type {other} for {server} server.");
                        p.error_at(t, message);
                        return Some(unchanged);
                    }
                };
                i += 1;
            }
            "port" => {
                let Some(value) = words.get(i + 1) else {
                    p.error_at(
                        option,
                        format!("Missing port for {server} server gue tunnel."),
                    );
                    return Some(unchanged);
                };
                let Some(n) = p.unsigned(value, 1, 65535) else {
                    let message = format!(
                        "Invalid gue tunnel port {} for {server} server.",
                        value.as_str()
                    );
                    p.error_at(value, message);
                    return Some(unchanged);
                };
                port = n as u16;
                i += 1;
            }
            "nocsum" => checksum = Some(TunnelChecksum::None),
            "csum" => checksum = Some(TunnelChecksum::Checksum),
            "remcsum" => checksum = Some(TunnelChecksum::Remote),
            other => {
                let message = format!("Invalid tunnel option {other} for {server} server.");
                p.error_at(option, message);
                return Some(unchanged);
            }
        }
        i += 1;
    }
    if gue != (port != 0) {
        p.error("gue tunnels require port, otherwise cannot have port.");
        return Some(unchanged);
    }
    if gue {
        tunnel_type = TunnelType::Gue { port };
    }
    let summed = matches!(
        checksum,
        Some(TunnelChecksum::Checksum | TunnelChecksum::Remote)
    );
    if tunnel_type == TunnelType::Ipip && summed {
        p.error("ipip tunnels do not support checksum option.");
        return Some(unchanged);
    }
    if tunnel_type == TunnelType::Gre && checksum == Some(TunnelChecksum::Remote) {
        p.error("gre tunnels do not support remote checksum option.");
        return Some(unchanged);
    }
    Some(ForwardingMethod::Tunnel {
        tunnel_type,
        checksum,
    })
}

fn method(p: &mut Parser<'_>, l: &Line, target: Target) -> HandlerResult {
    p.required(l, 1)?;
    let Some(vs) = p.state.virtual_servers.last() else {
        return Ok(());
    };
    // What the target had: real and sorry servers start with the service's method.
    let (server, previous) = match target {
        Target::Virtual => ("virtual", vs.forwarding),
        Target::Real => {
            let rs = vs.real_servers.last();
            ("real", rs.and_then(|r| r.forwarding).or(vs.forwarding))
        }
        Target::Sorry => {
            let sorry = vs.sorry_server.as_ref();
            ("sorry", sorry.and_then(|s| s.forwarding).or(vs.forwarding))
        }
    };
    let Some(m) = parse_method(p, &l.words[1..], server, previous) else {
        return Ok(());
    };
    match target {
        Target::Virtual => with_vs(p, |v| v.forwarding = Some(m)),
        Target::Sorry => with_vs(p, |v| {
            if let Some(s) = v.sorry_server.as_mut() {
                s.forwarding = Some(m);
            }
        }),
        Target::Real => with_rs(p, |r| r.forwarding = Some(m)),
    }
}

fn persistence_timeout(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let timeout = match l.word(1) {
        None => 360,
        Some(w) => match p.unsigned(w, 1, 2_678_400) {
            Some(t) => t,
            None => {
                p.error_at(w, "persistence_timeout invalid");
                return Ok(());
            }
        },
    };
    with_vs(p, |v| {
        v.persistence
            .get_or_insert_with(default_persistence)
            .timeout = Duration::from_secs(timeout)
    })
}

/// `persistence_granularity`: a prefix length for an IPv6 service, an IPv4 mask (read by
/// `inet_aton`) for an IPv4 one; a service of no family yet takes the family of the value.
fn persistence_granularity(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let text = w.as_str();
    // A service of no family yet takes the family the value looks like.
    let family = p.state.virtual_servers.last().and_then(|v| v.family);
    let family = family.unwrap_or(if text.contains('.') {
        AddressFamily::Ipv4
    } else {
        AddressFamily::Ipv6
    });
    let ipv6 = family == AddressFamily::Ipv6;
    let granularity = if ipv6 {
        let Some(len) = p.unsigned(w, 1, 128) else {
            let message = format!("Invalid IPv6 persistence_granularity specified - {text}");
            p.error_at(w, message);
            return Ok(());
        };
        IpAddr::from((u128::MAX << (128 - len)).to_be_bytes())
    } else {
        let Some(mask) = values::parse_inet_aton(text) else {
            let message = format!("Invalid IPv4 persistence_granularity specified - {text}");
            p.error_at(w, message);
            return Ok(());
        };
        IpAddr::V4(mask)
    };
    with_vs(p, |v| {
        v.family.get_or_insert(family);
        v.persistence
            .get_or_insert_with(default_persistence)
            .granularity = Some(granularity)
    })
}

fn protocol(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let protocol = match w.as_str().to_ascii_uppercase().as_str() {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        "SCTP" => Protocol::Sctp,
        _ => {
            p.error_at(w, format!("Unknown protocol {} - ignoring", w.as_str()));
            return Ok(());
        }
    };
    with_vs(p, |v| v.protocol = Some(protocol))
}

fn quorum_script(p: &mut Parser<'_>, l: &Line, up: bool) -> HandlerResult {
    let w = p.required(l, 1)?;
    let which = if up { "quorum_up" } else { "quorum_down" };
    let exists = p.state.virtual_servers.last().is_some_and(|v| {
        if up {
            v.server.quorum_up.is_some()
        } else {
            v.server.quorum_down.is_some()
        }
    });
    if exists {
        let name = p
            .state
            .virtual_servers
            .last()
            .map(|v| format_vs(&v.server.service, v.protocol))
            .unwrap_or_default();
        p.error_at(
            w,
            format!(
                "({name}) {which} script already specified - ignoring {}",
                w.as_str()
            ),
        );
        return Ok(());
    }
    let script = p.notify_script(l, "quorum");
    with_vs(p, |v| {
        if up {
            v.server.quorum_up = script.map(Box::new);
        } else {
            v.server.quorum_down = script.map(Box::new);
        }
    })
}

fn quorum(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let quorum = match p.unsigned(w, 1, u64::from(u32::MAX)) {
        Some(q) => q as u32,
        None => {
            p.error_at(
                w,
                format!(
                    "Quorum {} must be in [1, {}]. Setting to 1.",
                    w.as_str(),
                    u32::MAX
                ),
            );
            1
        }
    };
    with_vs(p, |v| v.server.quorum = quorum)
}

fn hysteresis(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(h) => with_vs(p, |v| v.server.hysteresis = h as u32),
        None => {
            p.error_at(
                w,
                format!(
                    "Hysteresis {} must be in [0, {}] - ignoring",
                    w.as_str(),
                    u32::MAX
                ),
            );
            Ok(())
        }
    }
}

fn vs_weight(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 1, i32::MAX as u64) {
        Some(n) => with_vs(p, |v| v.server.weight = n as u32),
        None => {
            p.error_at(
                w,
                format!(
                    "Virtual server weight {} is outside range 1-{}",
                    w.as_str(),
                    i32::MAX
                ),
            );
            Ok(())
        }
    }
}

fn sorry_server(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match address_and_port(w.as_str(), l.text_of(2)) {
        Some((address, port)) => with_vs(p, |v| {
            v.sorry_server = Some(SorryServer {
                address,
                port,
                inhibit: false,
                forwarding: None,
            })
        }),
        None => {
            p.error_at(
                w,
                format!("Invalid sorry server IP address {} - skipping", w.as_str()),
            );
            Ok(())
        }
    }
}

/// `real_server ADDR [PORT]`.
fn real_server(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let Some((address, port)) = address_and_port(w.as_str(), l.text_of(2)) else {
        p.error_at(
            w,
            format!(
                "Invalid real server ip address/port {}/{} - skipping",
                w.as_str(),
                l.text_of(2).unwrap_or("(null)")
            ),
        );
        p.skip_block(true);
        return Ok(());
    };
    let Some(vs) = p.state.virtual_servers.last_mut() else {
        return Ok(());
    };
    let tunnel_by_default = is_tunnel(vs.forwarding.as_ref());
    let server = RealServer {
        address,
        port,
        weight: 1,
        forwarding: ForwardingMethod::Nat,
        inhibit_on_failure: false,
        notify_up: None,
        notify_down: None,
        upper_threshold: None,
        lower_threshold: None,
        alpha: false,
        smtp_alert: None,
        virtualhost: None,
        snmp_name: None,
        timing: TimingDefaults::default(),
        checkers: Vec::new(),
        position: Some(w.span.position),
    };
    vs.real_servers.push(RealServerDraft {
        server,
        timing: TimingDraft::default(),
        weight: None,
        forwarding: None,
        alpha: None,
        inhibit: None,
        checkers: Vec::new(),
        tunnel_by_default,
    });
    Ok(())
}

/// The end of a `real_server` block: a real server not reached by tunnel must be of the
/// service's family (the first one decides it for fwmark and group services).
fn real_server_close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(vs) = p.state.virtual_servers.last_mut() else {
        return Ok(());
    };
    let Some(rs) = vs.real_servers.last() else {
        return Ok(());
    };
    let tunnel = match &rs.forwarding {
        Some(method) => is_tunnel(Some(method)),
        None => rs.tunnel_by_default,
    };
    if tunnel {
        return Ok(());
    }
    let address = rs.server.address;
    let family = AddressFamily::of(&address);
    match vs.family {
        None => vs.family = Some(family),
        Some(f) if f != family => {
            vs.real_servers.pop();
            p.error(format!("Address family of virtual server and real server {address} don't match - skipping real server."));
        }
        Some(_) => {}
    }
    Ok(())
}

fn rs_weight(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, i32::MAX as u64) {
        Some(n) => with_rs(p, |r| r.weight = Some(n as i32)),
        None => {
            p.error_at(
                w,
                format!(
                    "Real server weight {} is outside range 0-{}",
                    w.as_str(),
                    i32::MAX
                ),
            );
            Ok(())
        }
    }
}

fn threshold(
    p: &mut Parser<'_>,
    l: &Line,
    which: &str,
    set: fn(&mut RealServerDraft, u32),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(n) => with_rs(p, |r| set(r, n as u32)),
        None => {
            p.error_at(
                w,
                format!("Invalid real_server {which} '{}' - ignoring", w.as_str()),
            );
            Ok(())
        }
    }
}

fn rs_notify(p: &mut Parser<'_>, l: &Line, up: bool) -> HandlerResult {
    let w = p.required(l, 1)?.clone();
    let keyword = if up { "notify_up" } else { "notify_down" };
    let given = p
        .state
        .virtual_servers
        .last()
        .and_then(|v| v.real_servers.last())
        .is_some_and(|r| {
            let s = &r.server;
            if up {
                s.notify_up.is_some()
            } else {
                s.notify_down.is_some()
            }
        });
    if given {
        // keepalived names the service's group here, "(null)" for a service without one.
        let group = match p.state.virtual_servers.last().map(|v| &v.server.service) {
            Some(ServiceAddress::Group(name)) => name.clone(),
            _ => "(null)".to_owned(),
        };
        let message = format!(
            "({group}) {keyword} script already specified - ignoring {}",
            w.as_str()
        );
        p.error_at(&w, message);
        return Ok(());
    }
    let script = p.notify_script(l, keyword);
    with_rs(p, |r| {
        if up {
            r.server.notify_up = script.map(Box::new);
        } else {
            r.server.notify_down = script.map(Box::new);
        }
    })
}

fn rs_retry(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(n) => with_rs(p, |r| r.timing.retry = Some(n as u32)),
        None => {
            p.error_at(w, format!("retry value invalid - {}", w.as_str()));
            Ok(())
        }
    }
}

fn rs_timer(
    p: &mut Parser<'_>,
    l: &Line,
    min_us: u64,
    message: &str,
    set: fn(&mut TimingDraft, Duration),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    // Only connect_timeout has an upper bound (UINT_MAX microseconds).
    let max_us = if l.keyword() == "connect_timeout" {
        TIMER_MAX_US
    } else {
        0
    };
    match p.timer(w, min_us, max_us) {
        Some(d) => with_rs(p, |r| set(&mut r.timing, d)),
        None => {
            p.error_at(w, message.replace("{}", w.as_str()));
            Ok(())
        }
    }
}

/// `virtual_server_group NAME { … }`.
pub(super) fn group(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = p.required(l, 1)?.clone();
    // The group's own words follow from the second one on, like a value block of entries.
    let block_line = Line {
        text: l.text.clone(),
        words: l.words[1..].to_vec(),
    };
    let mut entries = Vec::new();
    p.value_block(&block_line, |p, words| {
        if let Some(entry) = group_entry(p, words, name.as_str()) {
            entries.push(entry);
        }
        Ok(())
    })?;
    if entries.is_empty() {
        p.error(format!(
            "virtual server group {} has no entries - removing",
            name.as_str()
        ));
        return Ok(());
    }
    p.state
        .config
        .virtual_server_groups
        .push(VirtualServerGroup {
            name: name.text.as_str().to_owned(),
            entries,
            position: Some(name.span.position),
        });
    Ok(())
}

/// One entry of a virtual server group: `ADDR[-END|/LEN] [PORT]` or `fwmark N [inet|inet6]`.
fn group_entry(p: &mut Parser<'_>, words: &[Token], _group: &str) -> Option<GroupEntry> {
    let first = &words[0];
    if first.as_str() == "fwmark" {
        let mark = words.get(1)?;
        let mark_value = p.unsigned(mark, 0, u64::from(u32::MAX))? as u32;
        let family = match words.get(2).map(|w| w.as_str()) {
            Some("inet") => Some(AddressFamily::Ipv4),
            Some("inet6") => Some(AddressFamily::Ipv6),
            _ => None,
        };
        return Some(GroupEntry::Fwmark {
            mark: mark_value,
            family,
        });
    }
    let port_text = words.get(1).map(|w| w.as_str());
    let invalid = |p: &mut Parser<'_>| {
        let port = port_text.map(|p| format!(" /port/{p}")).unwrap_or_default();
        p.error_at(
            first,
            format!(
                "Invalid virtual server group IP address {}{port} - skipping",
                first.as_str()
            ),
        );
        None
    };
    let port = match port_text {
        None => 0,
        Some(t) if t.bytes().all(|b| b == b'0') => 0,
        Some(t) => match parse_port(t, false) {
            Some(port) => port,
            None => return invalid(p),
        },
    };
    let text = first.as_str();
    let (first_address, last_address) = if let Some((start, len)) = text.split_once('/') {
        let Some(start) = parse_address(start) else {
            return invalid(p);
        };
        let max = AddressFamily::of(&start).max_prefix_len();
        let Ok(len) = read_unsigned(len, 0, u64::from(max)) else {
            return invalid(p);
        };
        range_of_prefix(start, len as u8)
    } else if let Some((start, end)) = text.split_once('-') {
        let Some(start) = parse_address(start) else {
            return invalid(p);
        };
        let end = match (start, parse_address(end)) {
            (_, Some(full)) if AddressFamily::of(&full) == AddressFamily::of(&start) => full,
            (IpAddr::V4(s), _) => match end.parse::<u8>() {
                Ok(last) => {
                    let mut o = s.octets();
                    o[3] = last;
                    IpAddr::from(o)
                }
                Err(_) => return invalid(p),
            },
            (IpAddr::V6(s), _) => match u16::from_str_radix(end, 16) {
                Ok(last) => {
                    let mut seg = s.segments();
                    seg[7] = last;
                    IpAddr::from(seg)
                }
                Err(_) => return invalid(p),
            },
        };
        if end <= start {
            p.error_at(
                first,
                format!(
                    "Address range end is not greater than address range start - {text} - skipping"
                ),
            );
            return None;
        }
        (start, end)
    } else {
        match parse_address(text) {
            Some(a) => (a, a),
            None => return invalid(p),
        }
    };
    Some(GroupEntry::Range {
        first: first_address,
        last: last_address,
        port,
    })
}

fn range_of_prefix(start: IpAddr, len: u8) -> (IpAddr, IpAddr) {
    match start {
        IpAddr::V4(a) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            let base = u32::from(a) & mask;
            (
                IpAddr::from(base.to_be_bytes()),
                IpAddr::from((base | !mask).to_be_bytes()),
            )
        }
        IpAddr::V6(a) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            let base = u128::from(a) & mask;
            (
                IpAddr::from(base.to_be_bytes()),
                IpAddr::from((base | !mask).to_be_bytes()),
            )
        }
    }
}

/// The keywords of `SSL`.
pub static SSL_KEYWORDS: &[Keyword] = &[
    kw("password", |p, l| {
        ssl_value(p, l, "SSL password missing", |s, v| s.password = Some(v))
    }),
    kw("ca", |p, l| {
        ssl_value(p, l, "SSL cafile missing", |s, v| s.ca = Some(v))
    }),
    kw("certificate", |p, l| {
        ssl_value(p, l, "SSL certfile missing", |s, v| s.certificate = Some(v))
    }),
    kw("key", |p, l| {
        ssl_value(p, l, "SSL keyfile missing", |s, v| s.key = Some(v))
    }),
];

/// `SSL`.
pub(super) fn ssl(p: &mut Parser<'_>, _l: &Line) -> HandlerResult {
    p.state.config.ssl.get_or_insert_with(SslContext::default);
    Ok(())
}

fn ssl_value(
    p: &mut Parser<'_>,
    l: &Line,
    missing: &str,
    set: fn(&mut SslContext, String),
) -> HandlerResult {
    match l.text_of(1) {
        Some(v) => {
            let v = v.to_owned();
            set(
                p.state.config.ssl.get_or_insert_with(SslContext::default),
                v,
            );
        }
        None => p.error(missing),
    }
    Ok(())
}
