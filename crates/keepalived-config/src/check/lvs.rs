//! What the checker process verifies after reading (keepalived's `validate_check_config`):
//! virtual servers get their protocol, scheduler and forwarding method, real servers and
//! checkers inherit timing, ports are reconciled, quorum is bounded, scripts are checked.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::scripts::{self, ScriptFlags};
use crate::diagnostics::{ErrorClass, Reporter};
use crate::env::Environment;
use crate::grammar::state::{RealServerDraft, TimingDraft, VirtualServerDraft};
use crate::grammar::virtual_server::{format_trio, format_vs};
use crate::model::AddressFamily;
use crate::model::global::GlobalDefs;
use crate::model::lvs::{
    CheckTiming, CheckerKind, ForwardingMethod, GroupEntry, MiscCheck, Persistence, Protocol,
    ServiceAddress, SorryServer, TimingDefaults, VirtualServer, VirtualServerGroup,
};

/// Up to this many real servers of a virtual server are searched for duplicates rather than
/// put in a set.
const FEW_REAL_SERVERS: usize = 8;

fn general_about(out: &mut Reporter, message: String, about: Option<crate::source::LinePosition>) {
    out.report_about(ErrorClass::GeneralError, message, about, None);
}

/// Completes the virtual servers read by the checker process.
#[allow(clippy::vec_box)] // the reading's drafts, as the reading keeps them
pub fn complete(
    drafts: Vec<Box<VirtualServerDraft>>,
    groups: &[VirtualServerGroup],
    globals: &GlobalDefs,
    env: &dyn Environment,
    out: &mut Reporter,
) -> Vec<Arc<VirtualServer>> {
    let pending = drafts.into_iter().map(Pending::Draft);
    complete_with(pending, groups, globals, env, out, |_, _| {})
}

/// A virtual server to complete: a draft, or what completing the same draft made before.
pub(crate) enum Pending {
    Draft(Box<VirtualServerDraft>),
    Completed(Arc<VirtualServer>),
}

/// [`complete`], for drafts some of which were completed before; `quiet` hears of each draft
/// (by its place in `pending`) completed without a word.
pub(crate) fn complete_with(
    pending: impl ExactSizeIterator<Item = Pending>,
    groups: &[VirtualServerGroup],
    globals: &GlobalDefs,
    env: &dyn Environment,
    out: &mut Reporter,
    mut quiet: impl FnMut(usize, &Arc<VirtualServer>),
) -> Vec<Arc<VirtualServer>> {
    let mut done = Vec::with_capacity(pending.len());
    for (index, item) in pending.enumerate() {
        match item {
            Pending::Completed(vs) => done.push(vs),
            Pending::Draft(draft) => {
                let said = out.count();
                if let Some(vs) = complete_one(*draft, groups, globals, out) {
                    let vs = Arc::new(vs);
                    if out.count() == said {
                        quiet(index, &vs);
                    }
                    done.push(vs);
                }
            }
        }
    }
    check_scripts(&done, globals, env, out);
    done
}

fn complete_one(
    mut d: VirtualServerDraft,
    groups: &[VirtualServerGroup],
    globals: &GlobalDefs,
    out: &mut Reporter,
) -> Option<VirtualServer> {
    let service = d.server.service.clone();
    let about = d.server.position;
    let group = match &service {
        ServiceAddress::Group(name) => match groups.iter().find(|g| &g.name == name) {
            Some(g) => Some(g),
            None => {
                // keepalived 2.2.7 says nothing under -t; the service cannot be set up.
                out.log(format!(
                    "Virtual server group {name} specified but not configured - ignoring virtual server {}",
                    format_vs(&service, d.protocol)
                ));
                return None;
            }
        },
        _ => None,
    };
    if let Some(g) = group {
        if let Some(problem) = group_family_mismatch(g, &d) {
            // Like an unknown group: keepalived only logs it, and sets nothing up.
            out.log(format!(
                "{}: {problem} virtual server {} - ignoring",
                g.name,
                format_vs(&service, d.protocol)
            ));
            return None;
        }
    }
    let fwmark = matches!(service, ServiceAddress::Fwmark(_));
    let group_ranges: Vec<&GroupEntry> = group
        .map(|g| {
            g.entries
                .iter()
                .filter(|e| matches!(e, GroupEntry::Range { .. }))
                .collect()
        })
        .unwrap_or_default();
    let group_fwmarks = group.is_some_and(|g| {
        g.entries
            .iter()
            .any(|e| matches!(e, GroupEntry::Fwmark { .. }))
    });
    // Fwmark entries that name their family do not make keepalived drop the protocol.
    let group_fwmarks_without_family = group.is_some_and(|g| {
        g.entries
            .iter()
            .any(|e| matches!(e, GroupEntry::Fwmark { family: None, .. }))
    });
    let name = |protocol: Option<Protocol>| format_vs(&service, protocol);

    if d.real_servers.is_empty() {
        general_about(
            out,
            format!(
                "Virtual server {} has no real servers - ignoring",
                name(d.protocol)
            ),
            about,
        );
        return None;
    }
    if d.server.ha_suspend && (fwmark || group_fwmarks) {
        general_about(
            out,
            format!(
                "Virtual server {}: cannot use ha_suspend with fwmarks - clearing ha_suspend",
                name(d.protocol)
            ),
            about,
        );
        d.server.ha_suspend = false;
    }
    let by_address = (group.is_some() && !group_ranges.is_empty()) || (group.is_none() && !fwmark);
    if by_address {
        if d.protocol.is_none() {
            out.report_about(
                ErrorClass::GeneralError,
                format!(
                    "Virtual server {}: no protocol set - defaulting to UDP",
                    name(d.protocol)
                ),
                d.server.position,
                Some("add `protocol TCP` for a TCP service: keepalived defaults to UDP".into()),
            );
            d.protocol = Some(Protocol::Udp);
        }
        if d.server.scheduler_flags.one_packet && d.protocol != Some(Protocol::Udp) {
            general_about(
                out,
                format!(
                    "Virtual server {}: one packet scheduling requires UDP - resetting",
                    name(d.protocol)
                ),
                about,
            );
            d.server.scheduler_flags.one_packet = false;
        }
        if matches!(service, ServiceAddress::Address { port: 0, .. }) && d.persistence.is_none() {
            general_about(
                out,
                format!(
                    "Virtual server {}: zero port only valid for persistent services - setting",
                    name(d.protocol)
                ),
                about,
            );
            d.persistence = Some(Persistence {
                timeout: Duration::from_secs(360),
                granularity: None,
                engine: None,
            });
        }
    }
    if d.persistence.is_none()
        && group.is_some()
        && group_ranges
            .iter()
            .any(|e| matches!(e, GroupEntry::Range { port: 0, .. }))
    {
        general_about(
            out,
            format!(
                "Virtual server {}: zero port only valid for persistent services - setting",
                name(d.protocol)
            ),
            about,
        );
        d.persistence = Some(Persistence {
            timeout: Duration::from_secs(360),
            granularity: None,
            engine: None,
        });
    }
    if d.protocol.is_some()
        && ((group.is_some() && group_ranges.is_empty() && group_fwmarks_without_family)
            || (group.is_none() && fwmark))
    {
        general_about(
            out,
            format!(
                "Warning: Virtual server {}: protocol specified for fwmark - protocol will be ignored",
                name(d.protocol)
            ),
            about,
        );
        d.protocol = None;
    }
    if d.scheduler.is_none() {
        general_about(
            out,
            format!(
                "Virtual server {}: no scheduler set, setting default 'wlc'",
                name(d.protocol)
            ),
            about,
        );
        d.scheduler = Some("wlc".into());
    }
    let smtp_alert = d
        .server
        .smtp_alert
        .or(globals.smtp_alert_checker)
        .or(globals.smtp_alert)
        .unwrap_or(false);

    let mut weight_sum: u64 = 0;
    let drafts = std::mem::take(&mut d.real_servers);
    let mut kept = Vec::with_capacity(drafts.len());
    // The addresses and ports kept so far: a virtual server may have thousands of real servers,
    // but most have a few, which a search finds sooner than a set is built.
    let mut kept_at: Option<HashSet<(IpAddr, u16)>> =
        (drafts.len() > FEW_REAL_SERVERS).then(|| HashSet::with_capacity(drafts.len()));
    for mut rs in drafts {
        let at = (rs.server.address, rs.server.port);
        let duplicated = match &kept_at {
            Some(set) => set.contains(&at),
            None => kept
                .iter()
                .any(|k: &RealServerDraft| (k.server.address, k.server.port) == at),
        };
        if duplicated {
            general_about(
                out,
                format!(
                    "VS {}: real server {} is duplicated - removing second rs",
                    name(d.protocol),
                    format_trio(&rs.server.address, d.protocol, rs.server.port)
                ),
                about,
            );
            continue;
        }
        if rs.forwarding.is_none() {
            if d.forwarding.is_none() {
                general_about(
                    out,
                    format!(
                        "Virtual server {}: no forwarding method set, setting default NAT",
                        name(d.protocol)
                    ),
                    about,
                );
                d.forwarding = Some(ForwardingMethod::Nat);
            }
            rs.forwarding = d.forwarding;
        }
        rs.alpha = rs.alpha.or(Some(d.server.alpha));
        rs.inhibit = rs.inhibit.or(Some(d.server.inhibit_on_failure));
        inherit(&mut rs.timing, &d.timing);
        let weight = rs.weight.unwrap_or(d.server.weight as i32);
        rs.weight = Some(weight);
        rs.server.smtp_alert = Some(
            rs.server
                .smtp_alert
                .or(globals.smtp_alert_checker)
                .or(globals.smtp_alert)
                .unwrap_or(true),
        );
        weight_sum += u64::try_from(weight).unwrap_or(0);
        let same_as_sorry = |sorry: &&mut SorryServer| {
            sorry.address == rs.server.address && sorry.port == rs.server.port
        };
        if let Some(sorry) = d.sorry_server.as_mut().filter(same_as_sorry) {
            let inhibit = rs.inhibit.unwrap_or(false);
            if sorry.inhibit != inhibit {
                general_about(
                    out,
                    format!(
                        "Virtual server {}: real server {} matches sorry server, but inhibit setting differs, {}ing on sorry server",
                        name(d.protocol),
                        format_trio(&rs.server.address, d.protocol, rs.server.port),
                        if inhibit { "sett" } else { "clear" }
                    ),
                    about,
                );
                sorry.inhibit = inhibit;
            }
        }
        if let Some(set) = &mut kept_at {
            set.insert(at);
        }
        kept.push(rs);
    }
    if let Some(sorry) = d.sorry_server.as_mut().filter(|s| s.forwarding.is_none()) {
        if d.forwarding.is_none() {
            general_about(
                out,
                format!(
                    "Virtual server {}: no forwarding method set, setting default NAT",
                    name(d.protocol)
                ),
                about,
            );
            d.forwarding = Some(ForwardingMethod::Nat);
        }
        sorry.forwarding = d.forwarding;
    }
    let weight_sum = u32::try_from(weight_sum).unwrap_or(u32::MAX);
    if d.server.quorum > weight_sum {
        general_about(
            out,
            format!(
                "Warning - quorum {} for {} exceeds total weight of real servers {weight_sum}, reducing quorum to {weight_sum}",
                d.server.quorum,
                name(d.protocol)
            ),
            about,
        );
        d.server.quorum = weight_sum;
    }
    if d.server.hysteresis >= d.server.quorum {
        let new = d.server.quorum.saturating_sub(1);
        general_about(
            out,
            format!(
                "Virtual server {}: hysteresis {} >= quorum {}; setting hysteresis to {new}",
                name(d.protocol),
                d.server.hysteresis,
                d.server.quorum
            ),
            about,
        );
        d.server.hysteresis = new;
    }

    // Ports: unless NAT, real servers use the service's port (none for fwmarks).
    if let Some(group) = group {
        if group_fwmarks {
            for rs in &kept {
                if rs.forwarding != Some(ForwardingMethod::Nat) && rs.server.port != 0 {
                    general_about(
                        out,
                        format!(
                            "WARNING - fwmark virtual server {}, real server {} has port specified - port will be ignored",
                            name(d.protocol),
                            format_trio(&rs.server.address, d.protocol, rs.server.port)
                        ),
                        about,
                    );
                }
            }
        }
        for entry in &group.entries {
            if let GroupEntry::Range { first, last, port } = entry {
                for rs in &kept {
                    if rs.forwarding != Some(ForwardingMethod::Nat)
                        && rs.server.port != 0
                        && rs.server.port != *port
                    {
                        let range = if first == last {
                            format!("{first},{port}")
                        } else {
                            format!("{first}-{last},{port}")
                        };
                        general_about(
                            out,
                            format!(
                                "virtual server {}:[{range}] and real server {} ports don't match",
                                name(d.protocol),
                                format_trio(&rs.server.address, d.protocol, rs.server.port)
                            ),
                            about,
                        );
                    }
                }
            }
        }
    } else {
        let vs_port = match service {
            ServiceAddress::Address { port, .. } => port,
            _ => 0,
        };
        for rs in &mut kept {
            if rs.forwarding == Some(ForwardingMethod::Nat) {
                if !fwmark && rs.server.port == 0 {
                    rs.server.port = vs_port;
                }
                continue;
            }
            if fwmark {
                if rs.server.port != 0 {
                    general_about(
                        out,
                        format!(
                            "WARNING - fwmark virtual server {}, real server {} has port specified - clearing",
                            name(d.protocol),
                            format_trio(&rs.server.address, d.protocol, rs.server.port)
                        ),
                        about,
                    );
                    rs.server.port = 0;
                }
            } else if rs.server.port == 0 {
                rs.server.port = vs_port;
            } else if rs.server.port != vs_port {
                general_about(
                    out,
                    format!(
                        "WARNING - virtual server {} and real server {} ports don't match - resetting",
                        name(d.protocol),
                        format_trio(&rs.server.address, d.protocol, rs.server.port)
                    ),
                    about,
                );
                rs.server.port = vs_port;
            }
        }
        let not_nat = |s: &&mut SorryServer| s.forwarding != Some(ForwardingMethod::Nat);
        if let Some(sorry) = d.sorry_server.as_mut().filter(not_nat) {
            if fwmark {
                if sorry.port != 0 {
                    general_about(
                        out,
                        format!(
                            "WARNING - virtual server {}, sorry server has port specified - clearing",
                            name(d.protocol)
                        ),
                        about,
                    );
                    sorry.port = 0;
                }
            } else if sorry.port == 0 {
                sorry.port = vs_port;
            } else if sorry.port != vs_port {
                general_about(
                    out,
                    format!(
                        "WARNING - virtual server {} and sorry server ports don't match - resetting",
                        name(d.protocol)
                    ),
                    about,
                );
                sorry.port = vs_port;
            }
        }
    }

    // Build the model, checkers inheriting from their real server.
    let vs_timing = timing_defaults(&d.timing);
    let mut vs = d.server;
    vs.protocol = d.protocol.unwrap_or(Protocol::Udp);
    vs.scheduler = d.scheduler.unwrap_or_else(|| "wlc".into());
    vs.forwarding = d.forwarding.unwrap_or_default();
    vs.persistence = d.persistence;
    vs.sorry_server = d.sorry_server;
    vs.smtp_alert = Some(smtp_alert);
    vs.timing = vs_timing;
    vs.real_servers.reserve_exact(kept.len());
    for rs in kept {
        let mut server = rs.server;
        server.weight = rs.weight.unwrap_or(1);
        server.forwarding = rs.forwarding.unwrap_or_default();
        server.alpha = rs.alpha.unwrap_or(false);
        server.inhibit_on_failure = rs.inhibit.unwrap_or(false);
        server.timing = timing_defaults(&rs.timing);
        server.checkers.reserve_exact(rs.checkers.len());
        for c in rs.checkers {
            let mut checker = c.checker;
            checker.alpha = c.alpha.unwrap_or(server.alpha);
            if c.launched {
                let mut timing = c.timing.clone();
                inherit(&mut timing, &rs.timing);
                checker.timing = resolve_timing(
                    &timing,
                    Duration::from_secs(60),
                    c.default_retry,
                    c.default_delay_before_retry,
                );
            }
            server.checkers.push(checker);
        }
        vs.real_servers.push(server);
    }
    Some(vs)
}

/// Why the addresses of `group` cannot serve the virtual server `d`, if they cannot: they
/// must be of the server's family, when something settled it (a server reached only by tunnels
/// takes any family).
fn group_family_mismatch(
    group: &VirtualServerGroup,
    d: &VirtualServerDraft,
) -> Option<&'static str> {
    let server = d.family?;
    let families: Vec<AddressFamily> = group
        .entries
        .iter()
        .filter_map(|e| match e {
            GroupEntry::Range { first, .. } => Some(AddressFamily::of(first)),
            GroupEntry::Fwmark { .. } => None,
        })
        .collect();
    if families.contains(&AddressFamily::Ipv4) && families.contains(&AddressFamily::Ipv6) {
        Some("virtual server group with IPv4 & IPv6 doesn't match")
    } else if families.first().is_some_and(|f| *f != server) {
        Some("address family doesn't match")
    } else {
        None
    }
}

/// Fills what `timing` leaves unset from `parent`.
fn inherit(timing: &mut TimingDraft, parent: &TimingDraft) {
    timing.connect_timeout = timing.connect_timeout.or(parent.connect_timeout);
    timing.retry = timing.retry.or(parent.retry);
    timing.delay_before_retry = timing.delay_before_retry.or(parent.delay_before_retry);
    timing.warmup = timing.warmup.or(parent.warmup);
    timing.delay_loop = timing.delay_loop.or(parent.delay_loop);
}

/// What a virtual or real server passes on: unset values stay unset but the connect timeout
/// and delay loop, which keepalived always sets.
fn timing_defaults(timing: &TimingDraft) -> TimingDefaults {
    let defaults = TimingDefaults::default();
    TimingDefaults {
        connect_timeout: timing.connect_timeout.unwrap_or(defaults.connect_timeout),
        delay_loop: timing.delay_loop.unwrap_or(defaults.delay_loop),
        retry: timing.retry,
        delay_before_retry: timing.delay_before_retry,
        warmup: timing.warmup,
    }
}

/// Concrete timing: unset values get keepalived's defaults (5 s connect timeout, the delay loop
/// for warmup and, unless the checker has its own default, for the retry delay).
fn resolve_timing(
    timing: &TimingDraft,
    default_delay_loop: Duration,
    default_retry: u32,
    default_delay_before_retry: Option<Duration>,
) -> CheckTiming {
    let delay_loop = timing.delay_loop.unwrap_or(default_delay_loop);
    CheckTiming {
        connect_timeout: timing.connect_timeout.unwrap_or(Duration::from_secs(5)),
        retry: timing.retry.unwrap_or(default_retry),
        delay_before_retry: timing
            .delay_before_retry
            .or(default_delay_before_retry)
            .unwrap_or(delay_loop),
        warmup: timing.warmup.unwrap_or(delay_loop),
        delay_loop,
    }
}

/// keepalived's `check_check_script_security`.
fn check_scripts(
    servers: &[Arc<VirtualServer>],
    globals: &GlobalDefs,
    env: &dyn Environment,
    out: &mut Reporter,
) {
    if servers.is_empty() {
        return;
    }
    let mut flags = ScriptFlags::default();
    let security = globals.script_security;
    for vs in servers {
        for s in vs.quorum_up.iter().chain(vs.quorum_down.iter()) {
            flags.add(scripts::check(env, s, security));
        }
        for rs in &vs.real_servers {
            for s in rs.notify_up.iter().chain(rs.notify_down.iter()) {
                flags.add(scripts::check(env, s, security));
            }
            for c in &rs.checkers {
                if let CheckerKind::Misc(misc) = &c.kind {
                    let MiscCheck {
                        path: Some(path),
                        user,
                        ..
                    } = &**misc
                    else {
                        continue;
                    };
                    let mut script = path.clone();
                    script.user = user.clone();
                    flags.add(scripts::check(env, &script, security));
                }
            }
        }
    }
    for s in scripts::fifo_scripts([&globals.notify_fifo, &globals.lvs_notify_fifo]) {
        flags.add(scripts::check(env, s, security));
    }
    if let Some(message) = flags.violation(security, "check ") {
        out.report(ErrorClass::Security, message);
    }
}
