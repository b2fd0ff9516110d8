//! `vrrp_instance NAME { … }`.

use std::time::Duration;

use super::keywords::{Keyword, block, kw};
use super::routing::{parse_route, parse_rule};
use super::state::{AuthKind, InstanceDraft};
use super::static_net::{AddressContext, parse_ip_address};
use super::tracking::{self, Tracker};
use super::values::{parse_address, parse_mac};
use super::walker::{HandlerResult, Line, Parser};
use crate::diagnostics::ErrorClass;
use crate::model::vrrp::{InitialState, Ipvlan, UnicastPeer, Vmac};
use crate::model::{AddressFamily, Script};

/// The keywords of `vrrp_instance`.
pub static KEYWORDS: &[Keyword] = &[
    kw("use_vmac", use_vmac),
    kw("use_vmac_addr", |p, _| with(p, |d| d.use_vmac_addr = true)),
    kw("vmac_xmit_base", |p, _| {
        with(p, |d| d.vmac_xmit_base = true)
    }),
    kw("use_ipvlan", use_ipvlan),
    kw("unicast_peer", unicast_peer),
    kw("unicast_fault_no_peer", |p, _| {
        with(p, |d| d.instance.unicast_fault_no_peer = true)
    }),
    kw("check_unicast_src", |p, _| {
        with(p, |d| {
            d.check_unicast_src = true;
            d.unicast_keyword = true;
        })
    }),
    kw("old_unicast_checksum", old_unicast_checksum),
    kw("native_ipv6", |p, _| {
        let name = current_name(p);
        let ipv4 = p.state.instances.last().is_some_and(|d| {
            d.instance
                .virtual_addresses
                .first()
                .is_some_and(|a| a.family() == AddressFamily::Ipv4)
        });
        if ipv4 {
            p.error(format!(
                "({name}) Cannot specify native_ipv6 with IPv4 addresses"
            ));
            return Ok(());
        }
        with(p, |d| d.instance.native_ipv6 = true)
    }),
    kw("state", state),
    kw("interface", interface),
    kw("vrf", vrf),
    kw("dont_track_primary", |p, _| {
        with(p, |d| d.instance.dont_track_primary = true)
    }),
    kw("track_interface", |p, l| trackers(p, l, Tracker::Interface)),
    kw("track_script", |p, l| trackers(p, l, Tracker::Script)),
    kw("track_file", |p, l| trackers(p, l, Tracker::File)),
    kw("track_process", |p, l| trackers(p, l, Tracker::Process)),
    kw("track_bfd", |p, l| trackers(p, l, Tracker::Bfd)),
    kw("mcast_src_ip", |p, l| source_address(p, l, false)),
    kw("unicast_src_ip", |p, l| source_address(p, l, true)),
    kw("mcast_dst_ip", mcast_dst_ip),
    kw("track_src_ip", |p, _| {
        with(p, |d| d.instance.track_source_address = true)
    }),
    kw("virtual_router_id", vrid),
    kw("unicast_ttl", unicast_ttl),
    kw("version", version),
    kw("priority", priority),
    kw("advert_int", advert_int),
    kw("virtual_ipaddress", |p, l| addresses(p, l, false)),
    kw("virtual_ipaddress_excluded", |p, l| addresses(p, l, true)),
    kw("promote_secondaries", |p, _| {
        with(p, |d| d.instance.promote_secondaries = true)
    }),
    kw("linkbeat_use_polling", |p, _| {
        let name = current_name(p);
        p.error(format!("({name}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block"));
        with(p, |d| d.instance.linkbeat_use_polling = true)
    }),
    kw("virtual_routes", virtual_routes),
    kw("virtual_rules", virtual_rules),
    kw("accept", |p, _| with(p, |d| d.accept = Some(true))),
    kw("no_accept", |p, _| with(p, |d| d.accept = Some(false))),
    kw("skip_check_adv_addr", |p, l| {
        instance_bool(p, l, |d, v| d.skip_check_adv_addr = Some(v))
    }),
    kw("strict_mode", |p, l| {
        instance_bool(p, l, |d, v| d.strict = Some(v))
    }),
    kw("preempt", |p, _| with(p, |d| d.nopreempt = false)),
    kw("nopreempt", |p, _| with(p, |d| d.nopreempt = true)),
    kw("preempt_delay", preempt_delay),
    kw("debug", debug),
    kw("notify_backup", |p, l| notify(p, l, |n| &mut n.backup)),
    kw("notify_master", |p, l| notify(p, l, |n| &mut n.master)),
    kw("notify_fault", |p, l| notify(p, l, |n| &mut n.fault)),
    kw("notify_stop", |p, l| notify(p, l, |n| &mut n.stop)),
    kw("notify_deleted", |p, l| {
        // The script is optional: keepalived only notes the deletion then.
        if l.len() < 2 {
            return Ok(());
        }
        notify(p, l, |n| &mut n.deleted)
    }),
    kw("notify", |p, l| notify(p, l, |n| &mut n.any)),
    kw("notify_master_rx_lower_pri", |p, l| {
        notify(p, l, |n| &mut n.master_rx_lower_priority)
    }),
    kw("smtp_alert", smtp_alert),
    kw("notify_priority_changes", |p, l| {
        let name = current_name(p);
        if let Some(v) = p.optional_bool(l, |s| {
            format!("({name}) Invalid value '{s}' for notify_priority_changes specified")
        }) {
            with(p, |d| d.instance.notify_priority_changes = v)?;
        }
        Ok(())
    }),
    kw("lvs_sync_daemon_interface", lvs_sync_daemon_interface),
    kw("garp_master_delay", |p, l| {
        garp_seconds(
            p,
            l,
            |n, s| format!("({n}): garp_master_delay '{s}' invalid - ignoring"),
            |d, v| d.garp_master_delay = Some(v),
        )
    }),
    kw("garp_master_refresh", |p, l| {
        garp_seconds(
            p,
            l,
            |n, s| format!("({n}): Invalid garp_master_refresh '{s}' - ignoring"),
            |d, v| d.garp_master_refresh = Some(v),
        )
    }),
    kw("garp_master_repeat", |p, l| {
        garp_count(
            p,
            l,
            |n, s| format!("({n}): garp_master_repeat '{s}' invalid - ignoring"),
            |d, v| d.garp_master_repeat = Some(v),
        )?;
        at_least_one(p, "garp_master_repeat", |d| &mut d.garp_master_repeat)
    }),
    kw("garp_master_refresh_repeat", |p, l| {
        garp_count(
            p,
            l,
            |n, s| format!("({n}): garp_master_refresh_repeat '{s}' invalid - ignoring"),
            |d, v| d.garp_master_refresh_repeat = Some(v),
        )?;
        at_least_one(p, "garp_master_refresh_repeat", |d| {
            &mut d.garp_master_refresh_repeat
        })
    }),
    kw("garp_lower_prio_delay", |p, l| {
        garp_seconds(
            p,
            l,
            |n, s| format!("({n}): garp_lower_prio_delay '{s}' invalid - ignoring"),
            |d, v| d.garp_lower_prio_delay = Some(v),
        )
    }),
    kw("garp_lower_prio_repeat", |p, l| {
        garp_count(
            p,
            l,
            |n, s| format!("({n}): Invalid garp_lower_prio_repeat '{s}'"),
            |d, v| d.garp_lower_prio_repeat = Some(v),
        )
    }),
    kw("down_timer_adverts", down_timer_adverts),
    kw("garp_extra_if", garp_extra_if),
    kw("vmac_garp_intvl", garp_extra_if),
    kw("lower_prio_no_advert", |p, l| {
        instance_bool(p, l, |d, v| d.lower_prio_no_advert = Some(v))
    }),
    kw("higher_prio_send_advert", |p, l| {
        instance_bool(p, l, |d, v| d.higher_prio_send_advert = Some(v))
    }),
    kw("kernel_rx_buf_size", kernel_rx_buf_size),
    block("authentication", None, AUTH_KEYWORDS, None),
];

static AUTH_KEYWORDS: &[Keyword] = &[kw("auth_type", auth_type), kw("auth_pass", auth_pass)];

fn current<'p>(p: &'p mut Parser<'_>) -> Option<&'p mut InstanceDraft> {
    p.state.instances.last_mut()
}

fn current_name(p: &Parser<'_>) -> String {
    p.state
        .instances
        .last()
        .map(|d| d.instance.name.clone())
        .unwrap_or_default()
}

fn with(p: &mut Parser<'_>, f: impl FnOnce(&mut InstanceDraft)) -> HandlerResult {
    if let Some(d) = current(p) {
        f(d);
    }
    Ok(())
}

/// `vrrp_instance NAME`.
pub(super) fn instance(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(name) = l.word(1) else {
        p.error("vrrp_instance must have a name");
        p.skip_block(true);
        return Ok(());
    };
    if p.state
        .instances
        .iter()
        .any(|d| d.instance.name == name.as_str())
    {
        p.error_at(
            name,
            format!("vrrp instance {} already defined", name.as_str()),
        );
        p.skip_block(true);
        return Ok(());
    }
    let draft = InstanceDraft::new(name.as_str(), name.span.position);
    p.state.instances.push(draft);
    Ok(())
}

/// The end of a `vrrp_instance` block.
pub(super) fn close(p: &mut Parser<'_>) -> HandlerResult {
    let name = current_name(p);
    let ttl_without_peers = p
        .state
        .instances
        .last()
        .is_some_and(|d| d.unicast_ttl_given && d.instance.unicast_peers.is_empty());
    if ttl_without_peers {
        p.error(format!(
            "({name}): Cannot use unicast_ttl without unicast peers - resetting"
        ));
        with(p, |d| {
            d.instance.unicast_ttl = 255;
            d.unicast_ttl_given = false;
        })?;
    }
    Ok(())
}

fn use_vmac(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let mut vmac = Vmac {
        name: None,
        mac: None,
        xmit_base: false,
        use_vmac_addr: false,
    };
    for w in &l.words[1..] {
        if let Some(mac) = parse_mac(w.as_str()).filter(|m| m.len() == 6) {
            if mac[0] & 1 != 0 {
                let message = format!("VMAC MAC address is multicast {} - ignoring", w.as_str());
                p.error_at(w, message);
                continue;
            }
            let mut bytes = [0u8; 6];
            bytes.copy_from_slice(&mac);
            vmac.mac = Some(bytes);
        } else if vmac.name.is_none() {
            let name = current_name(p);
            if w.as_str().len() >= 16 {
                p.error_at(
                    w,
                    format!("VMAC interface name '{}' too long - ignoring", w.as_str()),
                );
            } else if p.env.interface_exists(w.as_str()) && !p.env.is_private_macvlan(w.as_str()) {
                p.error_at(
                    w,
                    format!("({name}) interface {} already exists and is not a private macvlan; ignoring vmac if_name", w.as_str()),
                );
            } else {
                vmac.name = Some(w.text.as_str().to_owned());
            }
        }
    }
    with(p, |d| d.instance.vmac = Some(vmac))
}

fn use_ipvlan(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let ipvlan = Ipvlan {
        name: l.text_of(1).map(str::to_owned),
        address: l.text_of(2).map(str::to_owned),
        mode: l.text_of(3).map(str::to_owned),
    };
    with(p, |d| d.instance.ipvlan = Some(ipvlan))
}

fn old_unicast_checksum(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = current_name(p);
    if let Some(w) = l.word(1).filter(|w| w.as_str() != "never") {
        p.error_at(
            w,
            format!(
                "({name}) Unknown old_unicast_chksum mode {} - ignoring",
                w.as_str()
            ),
        );
    }
    let never = l.text_of(1) == Some("never");
    with(p, |d| {
        d.unicast_keyword = true;
        d.instance.old_unicast_checksum = !never;
    })
}

fn state(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let state = match w.as_str() {
        "MASTER" => InitialState::Master,
        "BACKUP" => InitialState::Backup,
        other => {
            let name = current_name(p);
            let hint =
                if other.eq_ignore_ascii_case("master") || other.eq_ignore_ascii_case("backup") {
                    Some(format!(
                        "states are upper case: `{}`",
                        other.to_ascii_uppercase()
                    ))
                } else {
                    None
                };
            let message = format!("({name}) unknown state '{other}', defaulting to BACKUP");
            match hint {
                Some(h) => {
                    p.out
                        .report_with_hint(ErrorClass::GeneralError, message, Some(w.span), h)
                }
                None => p.error_at(w, message),
            }
            InitialState::Backup
        }
    };
    with(p, |d| d.state = Some(state))
}

/// keepalived's `IFNAMSIZ - 1`.
const MAX_INTERFACE_NAME: usize = 15;

fn interface(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    let ifname = w.as_str();
    if ifname.len() > MAX_INTERFACE_NAME {
        p.error_at(w, format!("Interface name '{ifname}' too long - ignoring"));
        return Ok(());
    }
    if ifname == "lo" {
        p.error_at(
            w,
            format!("({name}) cannot use a loopback interface ({ifname}) for vrrp - ignoring"),
        );
        return Ok(());
    }
    p.check_interface(
        w,
        format!("WARNING - interface {ifname} for vrrp_instance {name} doesn't exist"),
    );
    let ifname = ifname.to_owned();
    with(p, |d| d.instance.interface = Some(ifname))
}

fn vrf(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    if p.state
        .instances
        .last()
        .is_some_and(|d| d.instance.interface.is_some())
    {
        p.error_at(
            w,
            format!("({name}) Cannot specify VRF interface and interface - ignoring"),
        );
        return Ok(());
    }
    let vrf = w.text.as_str().to_owned();
    with(p, |d| d.instance.vrf = Some(vrf))
}

/// A `track_*` block of the instance.
fn trackers(p: &mut Parser<'_>, l: &Line, kind: Tracker) -> HandlerResult {
    let owner = current_name(p);
    let existing = p
        .state
        .instances
        .last_mut()
        .map(|d| d.instance.trackers(kind).to_vec())
        .unwrap_or_default();
    let refs = tracking::read_block(p, l, kind, &owner, &existing)?;
    with(p, |d| d.instance.trackers_mut(kind).extend(refs))
}

fn source_address(p: &mut Parser<'_>, l: &Line, unicast: bool) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    if unicast {
        with(p, |d| d.unicast_keyword = true)?;
    }
    let Some(address) = parse_address(w.as_str()) else {
        p.error_at(
            w,
            format!(
                "Configuration error: VRRP instance[{name}] malformed src address[{}]. Skipping...",
                w.as_str()
            ),
        );
        return Ok(());
    };
    if !claim_family(p, AddressFamily::of(&address)) {
        p.error_at(w, format!("Configuration error: VRRP instance[{name}] and src address[{}] MUST be of the same family !!! Skipping...", w.as_str()));
        return Ok(());
    }
    with(p, |d| d.instance.source_address = Some(address))
}

/// Whether an address of `family` fits the instance; the first one decides its family.
fn claim_family(p: &mut Parser<'_>, family: AddressFamily) -> bool {
    p.state
        .instances
        .last_mut()
        .is_none_or(|d| *d.family.get_or_insert(family) == family)
}

fn unicast_peer(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    with(p, |d| d.unicast_keyword = true)?;
    p.value_block(l, |p, words| {
        let name = current_name(p);
        let first = &words[0];
        let Some(address) = parse_address(first.as_str()) else {
            p.error_at(first, format!("Configuration error: VRRP instance[{name}] malformed unicast peer address[{}]. Skipping...", first.as_str()));
            return Ok(());
        };
        if !claim_family(p, AddressFamily::of(&address)) {
            p.error_at(first, format!("Configuration error: VRRP instance[{name}] and unicast peer address[{}] MUST be of the same family !!! Skipping...", first.as_str()));
            return Ok(());
        }
        let mut peer = UnicastPeer { address, min_ttl: None, max_ttl: None };
        // `min_ttl N` / `max_ttl N` pairs; the value is read before the option is known.
        for pair in words[1..].chunks(2) {
            let [option, value] = pair else {
                p.error_at(&pair[0], format!("({name}) {} is missing a value", pair[0].as_str()));
                break;
            };
            let Some(ttl) = p.unsigned(value, 0, 255).map(|n| n as u8) else {
                continue;
            };
            match option.as_str() {
                "min_ttl" => peer.min_ttl = Some(ttl),
                "max_ttl" => peer.max_ttl = Some(ttl),
                other => {
                    p.error_at(option, format!("({name}) unknown unicast_peer option {other}"));
                    break;
                }
            }
            with(p, |d| d.check_unicast_src = true)?;
        }
        let (min, max) = (peer.min_ttl.unwrap_or(0), peer.max_ttl.unwrap_or(255));
        if min > max {
            p.error_at(first, format!("({name}) min_ttl {min} > max_ttl {max} - all packets will be discarded"));
        }
        with(p, |d| d.instance.unicast_peers.push(peer))
    })
}

fn mcast_dst_ip(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match parse_address(w.as_str()).filter(|a| a.is_multicast()) {
        Some(a) => with(p, |d| d.multicast_group = Some(a)),
        None => {
            p.error_at(
                w,
                format!(
                    "({name}) malformed mcast dest address {}. Skipping...",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn vrid(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.unsigned(w, 1, 255) {
        Some(v) => with(p, |d| {
            d.instance.vrid = v as u8;
            d.vrid_given = true;
        }),
        None => {
            p.error_at(
                w,
                format!(
                    "({name}): VRID '{}' not valid - must be between 1 & 255",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn unicast_ttl(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.unsigned(w, 0, 255) {
        Some(v) => with(p, |d| {
            d.instance.unicast_ttl = v as u8;
            d.unicast_ttl_given = true;
        }),
        None => {
            p.error_at(
                w,
                format!(
                    "({name}): TTL '{}' not valid - must be between 0 & 255",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn version(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    let Some(v) = p.int(w, 2, 3) else {
        p.error_at(w, format!("({name}): Version must be either 2 or 3"));
        return Ok(());
    };
    let configured = p.state.instances.last().and_then(|d| d.version);
    let v6 = p
        .state
        .instances
        .last()
        .is_some_and(|d| d.family == Some(AddressFamily::Ipv6));
    let conflict = configured.is_some_and(|given| given != v as u8) || (v == 2 && v6);
    if conflict {
        // keepalived names the configured version, 0 when the version was only deduced.
        let given = configured.unwrap_or(0);
        p.error_at(w, format!("({name}) vrrp_version {v} conflicts with configured or deduced version {given}; ignoring."));
        return Ok(());
    }
    with(p, |d| d.version = Some(v as u8))
}

fn priority(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.unsigned(w, 1, 255) {
        Some(v) => with(p, |d| {
            d.instance.priority = v as u8;
            d.priority_given = true;
        }),
        None => {
            p.error_at(
                w,
                format!("({name}) Priority not valid! must be between 1 & 255. Using default 100"),
            );
            with(p, |d| {
                d.instance.priority = 100;
                d.priority_given = true;
            })
        }
    }
}

fn advert_int(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.timer(w, 10_000, 255_000_000) {
        Some(interval) => with(p, |d| {
            d.advert_centis = Some((interval.as_micros() / 10_000) as u64)
        }),
        None => {
            p.error_at(
                w,
                format!(
                    "({name}) Advert interval ({}) not valid! Must be > 0 - ignoring",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn addresses(p: &mut Parser<'_>, l: &Line, excluded: bool) -> HandlerResult {
    p.value_block(l, |p, words| {
        let Some(address) = parse_ip_address(p, words, AddressContext::Virtual) else {
            return Ok(());
        };
        let name = current_name(p);
        let Some(d) = p.state.instances.last_mut() else {
            return Ok(());
        };
        if excluded {
            d.instance.excluded_addresses.push(address);
            return Ok(());
        }
        if *d.family.get_or_insert(address.family()) != address.family() {
            p.error_at(
                &words[0],
                format!(
                    "({name}): address family must match VRRP instance [{}] - ignoring",
                    words[0].as_str()
                ),
            );
            return Ok(());
        }
        d.instance.virtual_addresses.push(address);
        Ok(())
    })
}

fn virtual_routes(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    p.value_block(l, |p, words| {
        if let Some(route) = parse_route(p, words, false)? {
            with(p, |d| d.instance.virtual_routes.push(route))?;
        }
        Ok(())
    })
}

fn virtual_rules(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    p.value_block(l, |p, words| {
        if let Some(rule) = parse_rule(p, words, false)? {
            with(p, |d| d.instance.virtual_rules.push(rule))?;
        }
        Ok(())
    })
}

fn instance_bool(p: &mut Parser<'_>, l: &Line, set: fn(&mut InstanceDraft, bool)) -> HandlerResult {
    let name = current_name(p);
    let keyword = l.keyword().to_owned();
    if let Some(v) = p.optional_bool(l, |s| format!("({name}) invalid {keyword} {s} specified")) {
        with(p, |d| set(d, v))?;
    }
    Ok(())
}

fn preempt_delay(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.timer(w, 0, 1000 * 1_000_000) {
        Some(v) => with(p, |d| {
            d.instance.preempt_delay = v;
            d.preempt_delay_given = true;
        }),
        None => {
            p.error_at(
                w,
                format!("({name}) Preempt_delay not valid! must be between 0-1000"),
            );
            Ok(())
        }
    }
}

fn debug(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.unsigned(w, 0, 4) {
        Some(v) => with(p, |d| d.instance.debug = v as u32),
        None => {
            p.error_at(
                w,
                format!(
                    "({name}) Debug value '{}' not valid; must be between 0-4",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn notify(
    p: &mut Parser<'_>,
    l: &Line,
    slot: fn(&mut crate::model::vrrp::NotifyScripts) -> &mut Option<Script>,
) -> HandlerResult {
    let script_word = p.required(l, 1)?;
    let name = current_name(p);
    let keyword = l.keyword().to_owned();
    let already = p
        .state
        .instances
        .last_mut()
        .is_some_and(|d| slot(&mut d.instance.notify).is_some());
    if already {
        p.error_at(
            script_word,
            format!(
                "({name}) {keyword} script already specified - ignoring {}",
                script_word.as_str()
            ),
        );
        return Ok(());
    }
    let script = p.notify_script(l, "notify");
    with(p, |d| *slot(&mut d.instance.notify) = script)
}

fn smtp_alert(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if let Some(v) = p.optional_bool(l, |s| {
        format!("Invalid vrrp_instance smtp_alert parameter {s}")
    }) {
        with(p, |d| d.smtp_alert = Some(v))?;
    }
    Ok(())
}

fn lvs_sync_daemon_interface(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = current_name(p);
    p.error(format!(
        "({name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated."
    ));
    p.error("        Please use global lvs_sync_daemon");
    let w = p.required(l, 1)?;
    let ifname = w.text.as_str().to_owned();
    with(p, |d| d.instance.lvs_sync_daemon_interface = Some(ifname))
}

fn garp_seconds(
    p: &mut Parser<'_>,
    l: &Line,
    message: fn(&str, &str) -> String,
    set: fn(&mut InstanceDraft, Duration),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.unsigned(w, 0, i32::MAX as u64) {
        Some(v) => with(p, |d| set(d, Duration::from_secs(v))),
        None => {
            p.error_at(w, message(&name, w.as_str()));
            Ok(())
        }
    }
}

/// A GARP count of 0 is taken as 1, with a word.
fn at_least_one(
    p: &mut Parser<'_>,
    keyword: &str,
    field: fn(&mut InstanceDraft) -> &mut Option<u32>,
) -> HandlerResult {
    let name = current_name(p);
    let zero = p
        .state
        .instances
        .last_mut()
        .map(field)
        .is_some_and(|v| *v == Some(0));
    if zero {
        p.error(format!(
            "({name}): {keyword} must be greater than 0, setting to 1"
        ));
        with(p, |d| *field(d) = Some(1))?;
    }
    Ok(())
}

fn garp_count(
    p: &mut Parser<'_>,
    l: &Line,
    message: fn(&str, &str) -> String,
    set: fn(&mut InstanceDraft, u32),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.unsigned(w, 0, i32::MAX as u64) {
        Some(v) => with(p, |d| set(d, v as u32)),
        None => {
            p.error_at(w, message(&name, w.as_str()));
            Ok(())
        }
    }
}

fn down_timer_adverts(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.unsigned(w, 1, 100) {
        Some(v) => with(p, |d| d.down_timer_adverts = Some(v as u32)),
        None => {
            p.error_at(
                w,
                format!(
                    "({name}): Invalid down_timer_adverts [1:100] '{}'",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn garp_extra_if(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = current_name(p);
    let keyword = l.keyword().to_owned();
    if keyword == "vmac_garp_intvl" {
        p.error("Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"");
    }
    let (all, index) = if l.text_of(1) == Some("all") {
        (true, 2)
    } else {
        (false, 1)
    };
    let Some(w) = l.word(index) else {
        p.error(format!(
            "({name}): {keyword} specified without time - ignoring"
        ));
        return Ok(());
    };
    match p.unsigned(w, 0, 86400) {
        Some(v) => with(p, |d| d.garp_extra_if = Some((Duration::from_secs(v), all))),
        None => {
            p.error_at(
                w,
                format!("({name}): {keyword} '{}' invalid - ignoring", w.as_str()),
            );
            Ok(())
        }
    }
}

fn kernel_rx_buf_size(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = current_name(p);
    let value = match l.word(1) {
        Some(w) => p.unsigned(w, 0, u64::from(u32::MAX)),
        None => None,
    };
    match value {
        Some(v) => with(p, |d| d.instance.kernel_rx_buf_size = Some(v)),
        None => {
            p.error(format!("({name}) invalid kernel_rx_buf_size specified"));
            Ok(())
        }
    }
}

fn auth_type(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = current_name(p);
    let kind = match w.as_str() {
        "PASS" => AuthKind::Password,
        "AH" => AuthKind::Ah,
        other => {
            p.error_at(w, format!("({name}) unknown authentication type '{other}'"));
            return Ok(());
        }
    };
    with(p, |d| d.auth_type = Some(kind))
}

fn auth_pass(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let bytes = w.as_str().as_bytes();
    if bytes.len() > 8 {
        p.out.report_with_hint(
            ErrorClass::GeneralError,
            "Truncating auth_pass to 8 characters",
            Some(w.span),
            format!(
                "only `{}` is sent and compared by VRRPv2 peers",
                String::from_utf8_lossy(&bytes[..8])
            ),
        );
    }
    let mut pass = [0u8; 8];
    let n = bytes.len().min(8);
    pass[..n].copy_from_slice(&bytes[..n]);
    with(p, |d| d.auth_pass = Some(pass))
}
