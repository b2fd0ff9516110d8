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
    Authentication, GarpSettings, InitialState, SyncGroup, VrrpInstance, VrrpVersion,
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

    let mut instances = Vec::new();
    for draft in std::mem::take(&mut state.instances) {
        if let Some(instance) = complete_instance(draft, globals, out) {
            instances.push(instance);
        }
    }
    for group in &sync_groups {
        for member in &group.members {
            if let Some(i) = instances.iter_mut().find(|i| &i.name == member) {
                i.sync_group = Some(group.name.clone());
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

/// Checks every script the VRRP process may run (keepalived's `check_vrrp_script_security`).
/// Every `vrrp_script` is checked; an instance tracking one that cannot run is told so (once
/// per instance) and stops tracking it; notify scripts that cannot run are dropped silently;
/// then comes the SECURITY VIOLATION verdict.
fn check_scripts(
    state: &mut State,
    globals: &GlobalDefs,
    env: &dyn Environment,
    out: &mut Reporter,
) {
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
                out.report(ErrorClass::GeneralError, format!("Virtual router {member} cannot exist in more than one sync_group; ignoring {}", group.name));
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
    if i.virtual_addresses.is_empty() {
        report(format!(
            "({name}) No VIP specified; at least one is sensible"
        ));
    }
    let strict = d.strict.unwrap_or(globals.vrrp_strict);
    let mut state = d.state.unwrap_or(InitialState::Backup);
    if state == InitialState::Master && !d.priority_given {
        i.priority = 255;
    }
    if strict && state == InitialState::Master && i.priority != 255 {
        report(format!(
            "({name}) State MASTER must match being address owner"
        ));
        state = InitialState::Backup;
    }

    let family = if i.virtual_addresses.is_empty() {
        i.source_address
            .map(|a| AddressFamily::of(&a))
            .unwrap_or(AddressFamily::Ipv4)
    } else {
        i.family
    };
    let version = match (family, d.version) {
        (AddressFamily::Ipv6, _) => VrrpVersion::V3,
        (_, Some(3)) => VrrpVersion::V3,
        (_, Some(_)) => VrrpVersion::V2,
        (_, None) if globals.vrrp_version == 3 => VrrpVersion::V3,
        _ => VrrpVersion::V2,
    };

    if let Some(kind) = d.auth_type {
        if version == VrrpVersion::V3 {
            report(format!(
                "({name}) VRRP version 3 does not support authentication. Ignoring."
            ));
        } else if strict {
            report(format!(
                "({name}) Strict mode does not support authentication. Ignoring."
            ));
        } else if let Some(pass) = d.auth_pass {
            if kind == AuthKind::Ah && state == InitialState::Master {
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
    if d.nopreempt {
        if i.priority == 255 {
            report(format!(
                "({name}) nopreempt is incompatible with priority 255. resetting nopreempt"
            ));
            preempt = true;
        } else if state == InitialState::Master {
            report(format!(
                "({name}) Warning - nopreempt will not work with initial state MASTER - clearing"
            ));
            preempt = true;
        }
    }
    if d.preempt_delay_given {
        if state == InitialState::Master {
            report(format!(
                "({name}) Warning - preempt delay will not work with initial state MASTER - clearing"
            ));
            i.preempt_delay = Duration::ZERO;
        } else if !preempt {
            report(format!(
                "({name}) preempt_delay is incompatible with nopreempt mode - resetting"
            ));
            i.preempt_delay = Duration::ZERO;
        }
    }

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
    i.accept = d.accept.unwrap_or(!strict || i.priority == 255);
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
    i.lower_prio_no_advert = d
        .lower_prio_no_advert
        .or(globals.vrrp_lower_prio_no_advert)
        .unwrap_or(strict);
    i.higher_prio_send_advert = d
        .higher_prio_send_advert
        .or(globals.vrrp_higher_prio_send_advert)
        .unwrap_or(false);
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
        lower_prio_delay: d
            .garp_lower_prio_delay
            .or(globals.vrrp_garp_lower_prio_delay)
            .unwrap_or(master_delay),
        lower_prio_repeat: d
            .garp_lower_prio_repeat
            .or(globals.vrrp_garp_lower_prio_repeat)
            .unwrap_or(master_repeat),
        extra_if: d.garp_extra_if.or(globals.vrrp_garp_extra_if),
    };
    if globals.vrrp_min_garp {
        i.garp.master_delay = Duration::ZERO;
        i.garp.master_repeat = 1;
    }
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
