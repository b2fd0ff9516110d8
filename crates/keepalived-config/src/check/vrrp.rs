//! What the VRRP process verifies after reading (keepalived's `vrrp_complete_init`): scripts,
//! sync groups, each instance's settings and defaults, VRID clashes.
//!
//! Under `-t` keepalived stops these checks at the first sign of a missing interface; the
//! model is still completed here, only the messages stop.

use std::time::Duration;

use super::scripts::{self, ScriptFlags, ScriptVerdict};
use crate::diagnostics::{ErrorClass, Reporter};
use crate::env::Environment;
use crate::grammar::state::{AuthKind, InstanceDraft, State};
use crate::model::global::GlobalDefs;
use crate::model::vrrp::{
    Authentication, GarpSettings, InitialState, SyncGroup, TrackerKind, TrackerRef, VrrpInstance,
    VrrpVersion,
};
use crate::model::{AddressFamily, Config, Script};

/// Completes the VRRP part of `state` into `config`.
pub fn complete(
    state: State,
    globals: &GlobalDefs,
    env: &dyn Environment,
    out: &mut Reporter,
    config: &mut Config,
) {
    let mut state = state;
    let mut muted = Reporter::new(out.process);
    let out: &mut Reporter = if state.non_existent_interface {
        out.report(
            ErrorClass::BadInterface,
            "Non-existent interface specified in configuration",
        );
        &mut muted
    } else {
        out
    };

    check_scripts(&mut state, globals, env, out);
    let sync_groups = complete_sync_groups(
        std::mem::take(&mut state.config.sync_groups),
        &state.instances,
        out,
    );

    ignore_weighted_tracking_in_sync_groups(&mut state, &sync_groups, out);

    // keepalived stops at the first instance it cannot complete, and the VRRP process with it:
    // no instance runs and the later instances are not checked.
    let mut instances = Vec::new();
    for draft in std::mem::take(&mut state.instances) {
        match complete_instance(draft, globals, out) {
            Some(instance) => instances.push(instance),
            None => {
                instances.clear();
                break;
            }
        }
    }
    let mut sync_groups = sync_groups;
    for group in &mut sync_groups {
        clear_weights_beside_owners(group, &instances, &state.config, out);
        for member in &group.members {
            if let Some(i) = instances.iter_mut().find(|i| &i.name == member) {
                i.sync_group = Some(group.name.clone());
                for t in &i.track_interfaces {
                    if group.track_interfaces.iter().any(|g| g.name == t.name) {
                        out.report(ErrorClass::GeneralError, format!("({}) track_interface {} is configured on VRRP instance and sync group. Remove vrrp instance or sync group config", i.name, t.name));
                    }
                }
            }
        }
    }
    check_vrid_clashes(&instances, out);

    let pieces = state.config;
    config.static_addresses = pieces.static_addresses;
    config.static_routes = pieces.static_routes;
    config.static_rules = pieces.static_rules;
    config.track_groups = pieces.track_groups;
    config.garp_groups = pieces.garp_groups;
    config.linkbeat_interfaces = pieces.linkbeat_interfaces;
    config.interface_delays = pieces.interface_delays;
    config.vrrp_scripts = pieces.vrrp_scripts;
    config.track_files = pieces.track_files;
    config.track_processes = pieces.track_processes;
    config.sync_groups = sync_groups;
    config.instances = instances;
}

/// Checks every script the VRRP process may run (keepalived's `check_vrrp_script_security`),
/// when there are instances.
/// Every `vrrp_script` is checked; an instance tracking one that cannot run is told so (once
/// per instance) and stops tracking it; notify scripts that cannot run are dropped silently;
/// then comes the SECURITY VIOLATION verdict.
fn check_scripts(
    state: &mut State,
    globals: &GlobalDefs,
    env: &dyn Environment,
    out: &mut Reporter,
) {
    // Without instances keepalived runs no script, and checks none.
    if state.instances.is_empty() {
        return;
    }
    let security = globals.script_security;
    let mut flags = ScriptFlags::default();
    let mut disabled: Vec<(String, &str)> = Vec::new();
    for s in &state.config.vrrp_scripts {
        let mut script = s.script.clone();
        script.user = s.user.clone();
        let verdict = scripts::check(env, &script, security);
        flags.add(verdict);
        match verdict {
            ScriptVerdict::NotFound => {
                disabled.push((s.name.clone(), "since not found/accessible"))
            }
            ScriptVerdict::Insecure => disabled.push((s.name.clone(), "due to insecure")),
            ScriptVerdict::Runs { .. } => {}
        }
    }
    let reason = |name: &str| disabled.iter().find(|(n, _)| n == name).map(|(_, r)| *r);
    let mut check_notify = |script: &mut Option<Script>| {
        if let Some(s) = script {
            let verdict = scripts::check(env, s, security);
            flags.add(verdict);
            if !matches!(verdict, ScriptVerdict::Runs { .. }) {
                *script = None;
            }
        }
    };
    for (name, why) in &disabled {
        let tracked = state
            .instances
            .iter()
            .any(|d| d.instance.track_scripts.iter().any(|t| &t.name == name));
        if tracked {
            out.report(
                ErrorClass::GeneralError,
                format!("Disabling track script {name} {why}"),
            );
        }
    }
    for d in &mut state.instances {
        let n = &mut d.instance.notify;
        for slot in [
            &mut n.master,
            &mut n.backup,
            &mut n.fault,
            &mut n.stop,
            &mut n.deleted,
            &mut n.master_rx_lower_priority,
            &mut n.any,
        ] {
            check_notify(slot);
        }
        d.instance
            .track_scripts
            .retain(|t| reason(&t.name).is_none());
    }
    for g in &mut state.config.sync_groups {
        let n = &mut g.notify;
        for slot in [
            &mut n.master,
            &mut n.backup,
            &mut n.fault,
            &mut n.stop,
            &mut n.any,
        ] {
            check_notify(slot);
        }
        g.track_scripts.retain(|t| reason(&t.name).is_none());
    }
    for s in scripts::fifo_scripts([&globals.notify_fifo, &globals.vrrp_notify_fifo]) {
        flags.add(scripts::check(env, s, security));
    }
    if let Some(message) = flags.violation(security, "") {
        out.report(ErrorClass::Security, message);
    }
    state
        .config
        .vrrp_scripts
        .retain(|s| reason(&s.name).is_none());
}

fn complete_sync_groups(
    groups: Vec<SyncGroup>,
    instances: &[InstanceDraft],
    out: &mut Reporter,
) -> Vec<SyncGroup> {
    let mut kept = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for mut group in groups {
        if group.members.is_empty() {
            out.report(
                ErrorClass::GeneralError,
                format!(
                    "Sync group {} has no virtual router(s). removing",
                    group.name
                ),
            );
            continue;
        }
        let mut members = Vec::new();
        for member in std::mem::take(&mut group.members) {
            if !instances
                .iter()
                .any(|d| d.instance.name == member && d.vrid_given)
            {
                out.report(ErrorClass::GeneralError, format!("Virtual router {member} specified in sync group {} doesn't exist - ignoring", group.name));
                continue;
            }
            if used.contains(&member) {
                out.report(ErrorClass::GeneralError, format!("Virtual router {member} cannot exist in more than one sync group; ignoring {}", group.name));
                continue;
            }
            used.push(member.clone());
            members.push(member);
        }
        match members.len() {
            0 => {
                out.report(ErrorClass::GeneralError, format!("Sync group {}, no matching virtual router found in group declaration - removing", group.name));
                continue;
            }
            1 => out.report(ErrorClass::GeneralError, format!("Sync group {} has only 1 virtual router(s) - this probably isn't what you want", group.name)),
            _ => {}
        }
        group.members = members;
        kept.push(group);
    }
    kept
}

/// The weight a reference to a tracker of `kind` counts with: its own, else the tracker's.
fn weight_of(config: &Config, kind: TrackerKind, reference: &TrackerRef) -> i32 {
    let tracker = || config.tracker(kind, &reference.name).map(|(w, _)| w);
    reference.weight.or_else(tracker).unwrap_or(0)
}

/// A member of a sync group does not change priority with its trackers unless the group has
/// `sync_group_tracking_weight`: keepalived zeroes the weights of its interfaces, files and BFD
/// sessions and stops tracking its weighted scripts (tracked processes keep their weights).
fn ignore_weighted_tracking_in_sync_groups(
    state: &mut State,
    groups: &[SyncGroup],
    out: &mut Reporter,
) {
    let members: Vec<&str> = groups
        .iter()
        .filter(|g| !g.tracking_weight)
        .flat_map(|g| g.members.iter().map(String::as_str))
        .collect();
    let config = &state.config;
    for d in &mut state.instances {
        let i = &mut d.instance;
        if !members.contains(&i.name.as_str()) {
            continue;
        }
        let name = i.name.clone();
        let mut report = |message: String| out.report(ErrorClass::GeneralError, message);
        for kind in [
            TrackerKind::Interface,
            TrackerKind::Script,
            TrackerKind::File,
            TrackerKind::Bfd,
        ] {
            let list = i.trackers_mut(kind);
            let mut kept = Vec::new();
            for mut t in std::mem::take(list) {
                let w = weight_of(config, kind, &t);
                if w != 0 {
                    let tracked = &t.name;
                    report(match kind {
                        TrackerKind::Interface => format!(
                            "({name}) ignoring {tracked} tracked interface weight due to SYNC group"
                        ),
                        TrackerKind::Script => format!(
                            "({name}) ignoring tracked script {tracked} with weights due to SYNC group"
                        ),
                        // keepalived has another wording for weight 1, a track_file's default.
                        TrackerKind::File if w == 1 => format!(
                            "({name}) ignoring weight from tracked file {tracked} due to SYNC group. specify weight 0"
                        ),
                        TrackerKind::File => format!(
                            "({name}) ignoring tracked file {tracked} with weight {w} due to SYNC group"
                        ),
                        _ => format!(
                            "({name}) ignoring tracked bfd {tracked} with weight {w} due to SYNC group"
                        ),
                    });
                    // A weighted script is not tracked at all, nor a file with a weight of its
                    // own (one left at the default 1 is tracked unweighted).
                    if kind == TrackerKind::Script || (kind == TrackerKind::File && w != 1) {
                        continue;
                    }
                    t.weight = Some(0);
                }
                kept.push(t);
            }
            *list = kept;
        }
    }
}

/// A sync group with an address owner (priority 255) among its members cannot change
/// priorities: keepalived zeroes the weights of the group's trackers.
fn clear_weights_beside_owners(
    g: &mut SyncGroup,
    instances: &[VrrpInstance],
    config: &Config,
    out: &mut Reporter,
) {
    let has_owner = instances
        .iter()
        .any(|i| i.priority == 255 && g.members.contains(&i.name));
    if !has_owner {
        return;
    }
    let group = g.name.clone();
    for (kind, noun, action) in [
        (TrackerKind::Script, "script", "clearing weight"),
        (TrackerKind::File, "file", "setting weight 0"),
        (TrackerKind::Process, "process", "setting weight 0"),
        (TrackerKind::Bfd, "bfd", "setting weight 0"),
        (TrackerKind::Interface, "interface", "clearing weight"),
    ] {
        for t in g.trackers_mut(kind).iter_mut() {
            if weight_of(config, kind, t) != 0 {
                out.report(ErrorClass::GeneralError, format!("({group}) Cannot have weighted track {noun} '{}' with member having priority 255 - {action}", t.name));
                t.weight = Some(0);
            }
        }
    }
}

fn complete_instance(
    d: InstanceDraft,
    globals: &GlobalDefs,
    out: &mut Reporter,
) -> Option<VrrpInstance> {
    let name = d.instance.name.clone();
    let about = d.instance.position;
    let mut report =
        |message: String| out.report_about(ErrorClass::GeneralError, message, about, None);
    if !d.vrid_given {
        report(format!("({name}) the virtual router id must be set"));
        return None;
    }
    let mut i = d.instance;
    let unicast = !i.unicast_peers.is_empty();
    if i.interface.is_none() && !unicast && i.vrf.is_none() {
        report(format!("({name}) Unknown interface!"));
        return None;
    }
    let strict = d.strict.unwrap_or(globals.vrrp_strict);
    let family = d.family.unwrap_or(AddressFamily::Ipv4);
    // An explicit `version 2` before IPv6 addresses stands, except in strict mode.
    let version = match (family, d.version) {
        (AddressFamily::Ipv6, Some(2)) if strict => {
            report(format!(
                "({name}) cannot use IPv6 with VRRP version 2; setting version 3"
            ));
            VrrpVersion::V3
        }
        (_, Some(3)) => VrrpVersion::V3,
        (_, Some(_)) => VrrpVersion::V2,
        (AddressFamily::Ipv6, None) => VrrpVersion::V3,
        (_, None) if globals.vrrp_version == 3 => VrrpVersion::V3,
        _ => VrrpVersion::V2,
    };
    if i.virtual_addresses.is_empty() {
        if version == VrrpVersion::V3 || family == AddressFamily::Ipv6 || strict {
            report(format!(
                "({name}) No VIP specified; at least one is required"
            ));
            return None;
        }
        report(format!(
            "({name}) No VIP specified; at least one is sensible"
        ));
    }

    // The priority follows from the state when not given, and the state from the priority.
    if !d.priority_given {
        i.priority = if d.state == Some(InitialState::Master) {
            255
        } else {
            100
        };
    }
    let owner = i.priority == 255;
    let owner_state = if owner {
        InitialState::Master
    } else {
        InitialState::Backup
    };
    let mut state = match d.state {
        None => owner_state,
        Some(given) if strict && (given == InitialState::Master) != owner => {
            report(format!(
                "({name}) State MASTER must match being address owner"
            ));
            owner_state
        }
        Some(given) => given,
    };

    if let Some(kind) = d.auth_type {
        if strict {
            report(format!(
                "({name}) Strict mode does not support authentication. Ignoring."
            ));
        } else if version == VrrpVersion::V3 {
            report(format!(
                "({name}) VRRP version 3 does not support authentication. Ignoring."
            ));
        } else if kind == AuthKind::Ah && family == AddressFamily::Ipv6 && d.auth_pass.is_some() {
            report(format!(
                "({name}) Cannot use AH authentication with IPv6. ignoring"
            ));
        } else if let Some(pass) = d.auth_pass {
            if kind == AuthKind::Ah && state == InitialState::Master && !owner {
                report(format!(
                    "({name}) Initial state master is incompatible with AH authentication - clearing"
                ));
                state = InitialState::Backup;
            }
            i.authentication = Some(match kind {
                AuthKind::Password => Authentication::Password(pass),
                AuthKind::Ah => Authentication::Ah(pass),
            });
        } else {
            report(format!(
                "({name}) Authentication specified but no password given. Ignoring"
            ));
        }
    }

    if d.unicast_keyword && !unicast {
        report(format!(
            "({name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."
        ));
    }
    if i.vmac.is_none() && d.vmac_xmit_base {
        report(format!("({name}) vmac_xmit_base is only valid with a vmac"));
    }
    if let Some(vmac) = i.vmac.as_mut() {
        vmac.xmit_base = d.vmac_xmit_base || unicast;
        vmac.use_vmac_addr = d.use_vmac_addr;
    }
    if i.ipvlan.as_ref().is_some_and(|v| v.address.is_none())
        && family == AddressFamily::Ipv4
        && i.source_address.is_none()
    {
        report(format!(
            "({name}) IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state"
        ));
    }
    if i.native_ipv6 && family == AddressFamily::Ipv4 {
        report(format!(
            "({name}) Cannot specify native_ipv6 with IPv4 addresses"
        ));
        i.native_ipv6 = false;
    }

    let mut preempt = !d.nopreempt;
    if !preempt && owner {
        report(format!(
            "({name}) nopreempt is incompatible with priority 255. resetting nopreempt"
        ));
        preempt = true;
    }
    if state == InitialState::Master {
        if !preempt {
            report(format!(
                "({name}) Warning - nopreempt will not work with initial state MASTER - clearing"
            ));
            preempt = true;
        }
        if !i.preempt_delay.is_zero() {
            report(format!(
                "({name}) Warning - preempt delay will not work with initial state MASTER - clearing"
            ));
            i.preempt_delay = Duration::ZERO;
        }
    }
    if !i.preempt_delay.is_zero() {
        if strict {
            report(format!(
                "({name}) preempt_delay is incompatible with strict mode - resetting"
            ));
        }
        if !preempt {
            report(format!(
                "({name}) preempt_delay is incompatible with nopreempt mode - resetting"
            ));
        }
        if strict || !preempt {
            i.preempt_delay = Duration::ZERO;
        }
    }

    // Accept mode is off by default in strict mode but for the address owner, and VRRPv2
    // forbids it for non-owners.
    let mut accept = d.accept.unwrap_or(owner || !strict);
    if accept && !owner && strict && version == VrrpVersion::V2 {
        report(format!(
            "({name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"
        ));
        accept = false;
    }

    // Strict mode: no GARP repeats or delay at lower priority, and the advert rules of the RFC.
    let lower_prio_repeat = match d.garp_lower_prio_repeat {
        None if strict => 0,
        None => globals
            .vrrp_garp_lower_prio_repeat
            .unwrap_or(globals.vrrp_garp_master_repeat),
        Some(n) if strict && n != 0 => {
            report(format!(
                "({name}) Strict mode requires no repeat garps. resetting"
            ));
            0
        }
        Some(n) => n,
    };
    let lower_prio_delay = match d.garp_lower_prio_delay {
        None if strict => Duration::ZERO,
        None => globals
            .vrrp_garp_lower_prio_delay
            .unwrap_or(globals.vrrp_garp_master_delay),
        Some(delay) if strict && !delay.is_zero() => {
            report(format!(
                "({name}) Strict mode requires no repeat garp delay. resetting"
            ));
            Duration::ZERO
        }
        Some(delay) => delay,
    };
    let lower_prio_no_advert = match d.lower_prio_no_advert {
        None => strict || globals.vrrp_lower_prio_no_advert.unwrap_or(false),
        Some(false) if strict => {
            report(format!(
                "({name}) Strict mode requires no lower priority advert. resetting"
            ));
            true
        }
        Some(given) => given,
    };
    let higher_prio_send_advert = match d.higher_prio_send_advert {
        None => !strict && globals.vrrp_higher_prio_send_advert.unwrap_or(false),
        Some(true) if strict => {
            report(format!(
                "({name}) strict mode requires higher_prio_send_advert to be clear. resetting"
            ));
            false
        }
        Some(given) => given,
    };

    let mut centis = d.advert_centis.unwrap_or(100);
    if version == VrrpVersion::V2 && centis % 100 != 0 {
        report(format!(
            "({name}) VRRPv2 advertisement interval {:.6}s must be an integer. rounding",
            centis as f64 / 100.0
        ));
        centis = ((centis + 50) / 100).max(1) * 100;
    }
    if version == VrrpVersion::V3 && centis > 4095 {
        report(format!(
            "({name}) VRRPv3 advertisement interval {:.2}s is out of range. Must be less than 40.96s. Setting to 40.95s",
            centis as f64 / 100.0
        ));
        centis = 4095;
    }

    if let Some(vmac) = i.vmac.as_mut() {
        if strict && d.vmac_xmit_base {
            report(format!(
                "({name}) xmit_base is incompatible with strict mode - resetting"
            ));
            vmac.xmit_base = false;
        }
        if i.promote_secondaries {
            report(format!(
                "({name}) promote_secondaries is automatically set for vmacs - ignoring"
            ));
            i.promote_secondaries = false;
        }
    }

    if let Some(own) = i.interface.clone() {
        let before = i.track_interfaces.len();
        i.track_interfaces.retain(|t| t.name != own);
        if i.track_interfaces.len() != before {
            report(format!(
                "({name}) Ignoring track_interface {own} since own interface"
            ));
        }
    }
    if i.virtual_addresses.is_empty() {
        report(format!(
            "({name}) No VIP specified; at least one is sensible"
        ));
    }

    i.initial_state = state;
    i.preempt = preempt;
    i.version = version;
    i.family = family;
    i.advert_interval = Duration::from_millis(centis * 10);
    i.strict = strict;
    i.accept = accept;
    i.multicast_group = d.multicast_group.unwrap_or(match family {
        AddressFamily::Ipv4 => globals.vrrp_mcast_group4,
        AddressFamily::Ipv6 => globals.vrrp_mcast_group6,
    });
    i.smtp_alert = d
        .smtp_alert
        .or(globals.smtp_alert_vrrp)
        .or(globals.smtp_alert)
        .unwrap_or(false);
    i.notify_priority_changes = i.notify_priority_changes || globals.vrrp_notify_priority_changes;
    i.skip_check_adv_addr = d
        .skip_check_adv_addr
        .unwrap_or(globals.vrrp_skip_check_adv_addr);
    i.lower_prio_no_advert = lower_prio_no_advert;
    i.higher_prio_send_advert = higher_prio_send_advert;
    i.check_unicast_source = d.check_unicast_src || globals.vrrp_check_unicast_src;
    i.down_timer_adverts = d
        .down_timer_adverts
        .unwrap_or(globals.vrrp_down_timer_adverts);
    let master_delay = d
        .garp_master_delay
        .unwrap_or(globals.vrrp_garp_master_delay);
    let master_repeat = d
        .garp_master_repeat
        .unwrap_or(globals.vrrp_garp_master_repeat);
    i.garp = GarpSettings {
        master_delay,
        master_repeat,
        master_refresh: d
            .garp_master_refresh
            .unwrap_or(globals.vrrp_garp_master_refresh),
        master_refresh_repeat: d
            .garp_master_refresh_repeat
            .unwrap_or(globals.vrrp_garp_master_refresh_repeat),
        lower_prio_delay,
        lower_prio_repeat,
        extra_if: d.garp_extra_if.or(globals.vrrp_garp_extra_if),
    };
    place_addresses(&mut i, globals);
    Some(i)
}

/// Names the VMAC interface and puts the addresses written without `dev` on the interface
/// keepalived adds them to: the VMAC interface if there is one, else the instance's.
fn place_addresses(i: &mut VrrpInstance, globals: &GlobalDefs) {
    if let Some(vmac) = i.vmac.as_mut().filter(|v| v.name.is_none()) {
        let prefix = globals.vmac_prefix.as_deref().unwrap_or("vrrp");
        vmac.name = Some(format!("{prefix}.{}", i.vrid));
    }
    let device = match &i.vmac {
        Some(vmac) => vmac.name.clone(),
        None => i.interface.clone(),
    };
    for address in i
        .virtual_addresses
        .iter_mut()
        .chain(i.excluded_addresses.iter_mut())
    {
        if address.device.is_none() {
            address.device = device.clone();
        }
    }
}

/// keepalived refuses two instances with the same VRID, family and interface.
fn check_vrid_clashes(instances: &[VrrpInstance], out: &mut Reporter) {
    for (n, a) in instances.iter().enumerate() {
        for b in &instances[n + 1..] {
            if a.vrid == b.vrid
                && a.family == b.family
                && a.interface.is_some()
                && a.interface == b.interface
                && a.unicast_peers.is_empty() == b.unicast_peers.is_empty()
            {
                out.report(
                    ErrorClass::GeneralError,
                    format!(
                        "{} and {} both use VRID {} with {} on interface {}",
                        a.name,
                        b.name,
                        a.vrid,
                        a.family,
                        a.interface.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
}
