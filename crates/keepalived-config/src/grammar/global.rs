//! `global_defs { … }` and the global keywords allowed at top level.

use std::net::IpAddr;
use std::time::Duration;

use super::keywords::{Keyword, kw};
use super::values::parse_address;
use super::walker::{DefaultUser, HandlerResult, Line, Parser};
use crate::lexer::Token;
use crate::model::global::{LvsSyncDaemon, NotifyFifo, ProcessTuning, SmtpServer};

/// The keywords of `global_defs`.
pub static KEYWORDS: &[Keyword] = &[
    kw("process_names", |p, _| flag(p, |g| g.process_names = true)),
    kw("process_name", |p, l| {
        process_name(p, l, |g| &mut g.vrrp_process)
    }),
    kw("vrrp_process_name", |p, l| {
        process_name(p, l, |g| &mut g.vrrp_process)
    }),
    kw("checker_process_name", |p, l| {
        process_name(p, l, |g| &mut g.checker_process)
    }),
    kw("lvs_process_name", |p, l| {
        process_name(p, l, |g| &mut g.checker_process)
    }),
    kw("bfd_process_name", |p, l| {
        process_name(p, l, |g| &mut g.bfd_process)
    }),
    kw("router_id", router_id),
    kw("notification_email_from", email_from),
    kw("smtp_server", smtp_server),
    kw("smtp_helo_name", |p, l| {
        if let Some(w) = l.text_of(1) {
            p.globals.smtp_helo_name = Some(w.to_owned());
        }
        Ok(())
    }),
    kw("smtp_connect_timeout", smtp_connect_timeout),
    kw("notification_email", notification_email),
    kw("smtp_alert", |p, l| {
        global_bool(p, l, |g, v| g.smtp_alert = Some(v))
    }),
    kw("startup_script", |p, l| start_stop_script(p, l, "startup")),
    kw("startup_script_timeout", |p, l| {
        start_stop_timeout(p, l, "startup")
    }),
    kw("shutdown_script", |p, l| {
        start_stop_script(p, l, "shutdown")
    }),
    kw("shutdown_script_timeout", |p, l| {
        start_stop_timeout(p, l, "shutdown")
    }),
    kw("max_auto_priority", max_auto_priority),
    kw("min_auto_priority_delay", min_auto_priority_delay),
    kw("smtp_alert_vrrp", |p, l| {
        global_bool(p, l, |g, v| g.smtp_alert_vrrp = Some(v))
    }),
    kw("smtp_alert_checker", |p, l| {
        global_bool(p, l, |g, v| g.smtp_alert_checker = Some(v))
    }),
    kw("checker_log_all_failures", |p, l| {
        bool_plain(p, l, |g, v| g.checker_log_all_failures = v)
    }),
    kw("dynamic_interfaces", dynamic_interfaces),
    kw("no_email_faults", |p, _| {
        flag(p, |g| g.no_email_faults = true)
    }),
    kw("default_interface", default_interface),
    kw("disable_local_igmp", |p, _| {
        flag(p, |g| g.disable_local_igmp = true)
    }),
    kw("lvs_timeouts", lvs_timeouts),
    kw("lvs_flush", |p, _| flag(p, |g| g.lvs_flush = true)),
    kw("lvs_flush_on_stop", lvs_flush_on_stop),
    kw("lvs_flush_onstop", lvs_flush_on_stop),
    kw("lvs_sync_daemon", lvs_sync_daemon),
    kw("vrrp_mcast_group4", |p, l| mcast_group(p, l, true)),
    kw("vrrp_mcast_group6", |p, l| mcast_group(p, l, false)),
    kw("vrrp_garp_master_delay", |p, l| {
        seconds(
            p,
            l,
            |s| format!("vrrp_garp_master_delay '{s}' invalid - ignoring"),
            |g, v| g.vrrp_garp_master_delay = v,
        )
    }),
    kw("vrrp_garp_master_repeat", |p, l| {
        count(
            p,
            l,
            |s| format!("vrrp_garp_master_repeat '{s}' invalid - ignoring"),
            |g, v| g.vrrp_garp_master_repeat = v,
        )?;
        at_least_one(p, "vrrp_garp_master_repeat", |g| {
            &mut g.vrrp_garp_master_repeat
        })
    }),
    kw("vrrp_garp_master_refresh", |p, l| {
        seconds(
            p,
            l,
            |s| format!("Invalid vrrp_garp_master_refresh '{s}' - ignoring"),
            |g, v| g.vrrp_garp_master_refresh = v,
        )
    }),
    kw("vrrp_garp_master_refresh_repeat", |p, l| {
        count(
            p,
            l,
            |s| format!("vrrp_garp_master_refresh_repeat '{s}' invalid - ignoring"),
            |g, v| g.vrrp_garp_master_refresh_repeat = v,
        )?;
        at_least_one(p, "vrrp_garp_master_refresh_repeat", |g| {
            &mut g.vrrp_garp_master_refresh_repeat
        })
    }),
    kw("vrrp_garp_lower_prio_delay", |p, l| {
        seconds(
            p,
            l,
            |s| format!("vrrp_garp_lower_prio_delay '{s}' invalid - ignoring"),
            |g, v| g.vrrp_garp_lower_prio_delay = Some(v),
        )
    }),
    kw("vrrp_garp_lower_prio_repeat", |p, l| {
        count(
            p,
            l,
            |s| format!("Invalid vrrp_garp_lower_prio_repeat '{s}'"),
            |g, v| g.vrrp_garp_lower_prio_repeat = Some(v),
        )
    }),
    kw("vrrp_garp_interval", |p, l| {
        interval(p, l, "vrrp_garp_interval", |g, v| g.vrrp_garp_interval = v)
    }),
    kw("vrrp_gna_interval", |p, l| {
        interval(p, l, "vrrp_gna_interval", |g, v| g.vrrp_gna_interval = v)
    }),
    kw("vrrp_min_garp", |p, l| {
        bool_plain(p, l, |g, v| {
            g.vrrp_min_garp = v;
            // One GARP without repeats: the GARP settings still at their defaults change.
            let defaults = crate::model::GlobalDefs::default();
            if v && g.vrrp_garp_master_repeat == defaults.vrrp_garp_master_repeat {
                g.vrrp_garp_master_repeat = 1;
            }
            if v && g.vrrp_garp_master_refresh_repeat == defaults.vrrp_garp_master_refresh_repeat {
                g.vrrp_garp_master_refresh_repeat = 0;
            }
            if v && g.vrrp_garp_master_delay == defaults.vrrp_garp_master_delay {
                g.vrrp_garp_master_delay = Duration::ZERO;
            }
        })
    }),
    kw("vrrp_garp_extra_if", garp_extra_if),
    kw("vrrp_vmac_garp_intvl", garp_extra_if),
    kw("vrrp_lower_prio_no_advert", |p, l| {
        bool_plain(p, l, |g, v| g.vrrp_lower_prio_no_advert = Some(v))
    }),
    kw("vrrp_higher_prio_send_advert", |p, l| {
        bool_plain(p, l, |g, v| g.vrrp_higher_prio_send_advert = Some(v))
    }),
    kw("vrrp_version", vrrp_version),
    kw("vrrp_iptables", vrrp_iptables),
    kw("nftables", |p, l| {
        if p.globals.nftables.is_some() {
            p.error("nftables already specified - ignoring");
            return Ok(());
        }
        p.globals.nftables = Some(l.text_of(1).unwrap_or("keepalived").to_owned());
        Ok(())
    }),
    kw("nftables_priority", |p, l| {
        nft_number(p, l, "invalid nftables chain priority", |g, v| {
            g.nftables_priority = Some(v)
        })
    }),
    kw("nftables_ifindex", |p, _| {
        flag(p, |g| g.nftables_ifindex = true)
    }),
    kw("nftables_ipvs", |p, l| {
        p.globals.nftables_ipvs = Some(l.text_of(1).unwrap_or("keepalived_ipvs").to_owned());
        Ok(())
    }),
    kw("nftables_ipvs_priority", |p, l| {
        nft_number(p, l, "invalid ipvs nftables chain priority", |g, v| {
            other(g, "nftables_ipvs_priority", v)
        })
    }),
    kw("nftables_ipvs_start_fwmark", |p, l| {
        let w = p.required(l, 1)?;
        match p.unsigned(w, 0, u64::from(u32::MAX)) {
            Some(v) => other(&mut p.globals, "nftables_ipvs_start_fwmark", v),
            None => p.error_at(
                w,
                format!(
                    "invalid ipvs nftables start_fwmark priority '{}'",
                    w.as_str()
                ),
            ),
        }
        Ok(())
    }),
    kw("nftables_counters", |p, _| {
        flag(p, |g| g.nftables_counters = true)
    }),
    kw("vrrp_check_unicast_src", |p, _| {
        flag(p, |g| g.vrrp_check_unicast_src = true)
    }),
    kw("vrrp_skip_check_adv_addr", |p, _| {
        flag(p, |g| g.vrrp_skip_check_adv_addr = true)
    }),
    kw("vrrp_strict", |p, _| flag(p, |g| g.vrrp_strict = true)),
    kw("vrrp_priority", |p, l| {
        process_priority(p, l, "vrrp", |g| &mut g.vrrp_process)
    }),
    kw("vrrp_no_swap", |p, _| {
        flag(p, |g| g.vrrp_process.no_swap = true)
    }),
    kw("vrrp_rt_priority", |p, l| {
        realtime_priority(p, l, "vrrp", |g| &mut g.vrrp_process)
    }),
    kw("vrrp_cpu_affinity", |p, l| {
        cpu_affinity(p, l, "vrrp", |g| &mut g.vrrp_process)
    }),
    kw("vrrp_rlimit_rttime", |p, l| {
        rlimit_rttime(p, l, "vrrp", |g| &mut g.vrrp_process)
    }),
    kw("vrrp_rlimit_rtime", |p, l| {
        rlimit_rttime(p, l, "vrrp", |g| &mut g.vrrp_process)
    }),
    kw("notify_fifo", |p, l| {
        fifo(p, l, "notify_fifo", |g| &mut g.notify_fifo)
    }),
    kw("notify_fifo_script", |p, l| {
        fifo_script(p, l, "notify_fifo_script", |g| &mut g.notify_fifo)
    }),
    kw("vrrp_notify_fifo", |p, l| {
        fifo(p, l, "vrrp_notify_fifo", |g| &mut g.vrrp_notify_fifo)
    }),
    kw("vrrp_notify_fifo_script", |p, l| {
        fifo_script(p, l, "vrrp_notify_fifo_script", |g| &mut g.vrrp_notify_fifo)
    }),
    kw("vrrp_notify_priority_changes", |p, l| {
        global_bool(p, l, |g, v| g.vrrp_notify_priority_changes = v)
    }),
    kw("lvs_notify_fifo", |p, l| {
        fifo(p, l, "lvs_notify_fifo", |g| &mut g.lvs_notify_fifo)
    }),
    kw("lvs_notify_fifo_script", |p, l| {
        fifo_script(p, l, "lvs_notify_fifo_script", |g| &mut g.lvs_notify_fifo)
    }),
    kw("checker_priority", |p, l| {
        process_priority(p, l, "checker", |g| &mut g.checker_process)
    }),
    kw("checker_no_swap", |p, _| {
        flag(p, |g| g.checker_process.no_swap = true)
    }),
    kw("checker_rt_priority", |p, l| {
        realtime_priority(p, l, "checker", |g| &mut g.checker_process)
    }),
    kw("checker_cpu_affinity", |p, l| {
        cpu_affinity(p, l, "checker", |g| &mut g.checker_process)
    }),
    kw("checker_rlimit_rttime", |p, l| {
        rlimit_rttime(p, l, "checker", |g| &mut g.checker_process)
    }),
    kw("checker_rlimit_rtime", |p, l| {
        rlimit_rttime(p, l, "checker", |g| &mut g.checker_process)
    }),
    kw("bfd_priority", |p, l| {
        process_priority(p, l, "bfd", |g| &mut g.bfd_process)
    }),
    kw("bfd_no_swap", |p, _| {
        flag(p, |g| g.bfd_process.no_swap = true)
    }),
    kw("bfd_rt_priority", |p, l| {
        realtime_priority(p, l, "bfd", |g| &mut g.bfd_process)
    }),
    kw("bfd_cpu_affinity", |p, l| {
        cpu_affinity(p, l, "bfd", |g| &mut g.bfd_process)
    }),
    kw("bfd_rlimit_rttime", |p, l| {
        rlimit_rttime(p, l, "bfd", |g| &mut g.bfd_process)
    }),
    kw("bfd_rlimit_rtime", |p, l| {
        rlimit_rttime(p, l, "bfd", |g| &mut g.bfd_process)
    }),
    kw("snmp_socket", |p, l| {
        match l.text_of(1) {
            Some(s) => p.globals.snmp_socket = Some(s.to_owned()),
            None => p.error("SNMP error : snmp socket name missing"),
        }
        Ok(())
    }),
    kw("enable_traps", snmp),
    kw("enable_snmp_vrrp", snmp),
    kw("enable_snmp_keepalived", snmp),
    kw("enable_snmp_rfc", snmp),
    kw("enable_snmp_rfcv2", snmp),
    kw("enable_snmp_rfcv3", snmp),
    kw("enable_snmp_checker", snmp),
    kw("enable_dbus", |p, _| flag(p, |g| g.enable_dbus = true)),
    kw("dbus_service_name", |p, l| {
        match l.text_of(1) {
            Some(s) => p.globals.dbus_service_name = Some(s.to_owned()),
            None => p.error("dbus_service_name missing - ignoring"),
        }
        Ok(())
    }),
    kw("script_user", script_user),
    kw("enable_script_security", |p, _| {
        flag(p, |g| g.script_security = true)
    }),
    kw("vrrp_netlink_cmd_rcv_bufs", |p, l| {
        buffer_size(p, l, "vrrp_netlink_cmd_rcv_bufs")
    }),
    kw("vrrp_netlink_cmd_rcv_bufs_force", |p, l| {
        named_bool(p, l, "vrrp_netlink_cmd_rcv_bufs_force")
    }),
    kw("vrrp_netlink_monitor_rcv_bufs", |p, l| {
        buffer_size(p, l, "vrrp_netlink_monitor_rcv_bufs")
    }),
    kw("vrrp_netlink_monitor_rcv_bufs_force", |p, l| {
        named_bool(p, l, "vrrp_netlink_monitor_rcv_bufs_force")
    }),
    kw("process_monitor_rcv_bufs", |p, l| {
        buffer_size(p, l, "process_monitor_rcv_bufs")
    }),
    kw("process_monitor_rcv_bufs_force", |p, l| {
        named_bool(p, l, "process_monitor_rcv_bufs_force")
    }),
    kw("lvs_netlink_cmd_rcv_bufs", |p, l| {
        buffer_size(p, l, "lvs_netlink_cmd_rcv_bufs")
    }),
    kw("lvs_netlink_cmd_rcv_bufs_force", |p, l| {
        named_bool(p, l, "lvs_netlink_cmd_rcv_bufs_force")
    }),
    kw("lvs_netlink_monitor_rcv_bufs", |p, l| {
        buffer_size(p, l, "lvs_netlink_monitor_rcv_bufs")
    }),
    kw("lvs_netlink_monitor_rcv_bufs_force", |p, l| {
        named_bool(p, l, "lvs_netlink_monitor_rcv_bufs_force")
    }),
    kw("rs_init_notifies", |p, l| {
        global_bool(p, l, |g, v| g.rs_init_notifies = v)
    }),
    kw("no_checker_emails", |p, l| {
        global_bool(p, l, |g, v| g.no_checker_emails = v)
    }),
    kw("vrrp_rx_bufs_policy", rx_bufs_policy),
    kw("vrrp_rx_bufs_multiplier", rx_bufs_multiplier),
    kw("vrrp_startup_delay", |p, l| {
        let w = p.required(l, 1)?;
        match p.timer(w, 1000, u64::from(u32::MAX)) {
            Some(v) => p.globals.vrrp_startup_delay = Some(v),
            None => p.error_at(w, format!("vrrp_startup_delay '{}' is invalid", w.as_str())),
        }
        Ok(())
    }),
    kw("log_unknown_vrids", |p, _| {
        flag(p, |g| g.log_unknown_vrids = true)
    }),
    kw("vmac_prefix", |p, l| {
        let w = p.required(l, 1)?;
        p.globals.vmac_prefix = Some(w.text.as_str().to_owned());
        Ok(())
    }),
    kw("vmac_addr_prefix", |p, l| {
        let w = p.required(l, 1)?;
        p.globals.vmac_addr_prefix = Some(w.text.as_str().to_owned());
        Ok(())
    }),
    kw("umask", umask),
    kw("random_seed", |p, l| {
        let w = p.required(l, 1)?;
        match p.unsigned(w, 0, u64::from(u32::MAX)) {
            Some(v) => p.globals.random_seed = Some(v as u32),
            None => p.error_at(w, format!("random_seed {} invalid", w.as_str())),
        }
        Ok(())
    }),
    kw("reload_check_config", |p, l| {
        p.globals.reload_check_config = Some(l.text_of(1).map(str::to_owned));
        Ok(())
    }),
    kw("reload_time_file", |p, l| {
        match l.text_of(1) {
            Some(f) => other(&mut p.globals, "reload_time_file", f),
            None => p.error("reload_time_file invalid"),
        }
        Ok(())
    }),
    kw("reload_repeat", |p, _| {
        flag(p, |g| other(g, "reload_repeat", ""))
    }),
    kw("reload_file", |p, l| {
        flag(p, |g| other(g, "reload_file", l.text_of(1).unwrap_or("")))
    }),
    kw("include_check", include_check),
    kw("tmp_config_directory", |p, l| {
        match l.text_of(1) {
            Some(d) => p.globals.tmp_config_directory = Some(d.to_owned()),
            None => p.error("tmp_config_directory missing directory name"),
        }
        Ok(())
    }),
    kw("config_save_dir", |p, l| {
        let w = p.required(l, 1)?;
        other(&mut p.globals, "config_save_dir", w.as_str());
        Ok(())
    }),
    kw("data_use_instance", |p, l| {
        if let Some(v) = p.optional_bool(l, |s| {
            format!("Invalid value '{s}' for global date_use_instance specified")
        }) {
            p.globals.data_use_instance = v;
        }
        Ok(())
    }),
];

fn flag(p: &mut Parser<'_>, set: impl FnOnce(&mut crate::model::GlobalDefs)) -> HandlerResult {
    set(&mut p.globals);
    Ok(())
}

fn other(g: &mut crate::model::GlobalDefs, name: &str, value: impl ToString) {
    g.other.push((name.to_owned(), vec![value.to_string()]));
}

/// `KEYWORD [BOOL]`, reporting "Invalid value 'X' for global KEYWORD specified".
fn global_bool(
    p: &mut Parser<'_>,
    l: &Line,
    set: impl FnOnce(&mut crate::model::GlobalDefs, bool),
) -> HandlerResult {
    let keyword = l.keyword().to_owned();
    if let Some(v) = p.optional_bool(l, |s| {
        format!("Invalid value '{s}' for global {keyword} specified")
    }) {
        set(&mut p.globals, v);
    }
    Ok(())
}

fn named_bool(p: &mut Parser<'_>, l: &Line, name: &str) -> HandlerResult {
    if let Some(v) = p.optional_bool(l, |s| {
        format!("Invalid value '{s}' for global {name} specified")
    }) {
        other(&mut p.globals, name, v);
    }
    Ok(())
}

/// `KEYWORD [BOOL]`, reporting "Invalid value for KEYWORD specified".
fn bool_plain(
    p: &mut Parser<'_>,
    l: &Line,
    set: impl FnOnce(&mut crate::model::GlobalDefs, bool),
) -> HandlerResult {
    let keyword = l.keyword().to_owned();
    if let Some(v) = p.optional_bool(l, |_| format!("Invalid value for {keyword} specified")) {
        set(&mut p.globals, v);
    }
    Ok(())
}

pub(super) fn linkbeat_use_polling(p: &mut Parser<'_>, _: &Line) -> HandlerResult {
    flag(p, |g| g.linkbeat_use_polling = true)
}

pub(super) fn net_namespace(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.text_of(1) {
        Some(ns) => p.globals.net_namespace = Some(ns.to_owned()),
        None => p.error("net_namespace name missing - ignoring"),
    }
    Ok(())
}

pub(super) fn net_namespace_ipvs(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    p.globals.net_namespace_ipvs = Some(l.text_of(1).unwrap_or("").to_owned());
    Ok(())
}

pub(super) fn namespace_with_ipsets(p: &mut Parser<'_>, _: &Line) -> HandlerResult {
    flag(p, |g| g.namespace_with_ipsets = true)
}

pub(super) fn use_pid_dir(p: &mut Parser<'_>, _: &Line) -> HandlerResult {
    flag(p, |g| g.use_pid_dir = true)
}

pub(super) fn instance(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.text_of(1) {
        Some(name) => p.globals.instance_name = Some(name.to_owned()),
        None => p.error("instance name missing - ignoring"),
    }
    Ok(())
}

pub(super) fn child_wait_time(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(v) => p.globals.child_wait_time = Some(v as u32),
        None => p.error_at(w, format!("Invalid child_wait_time {}", w.as_str())),
    }
    Ok(())
}

fn process_name(
    p: &mut Parser<'_>,
    l: &Line,
    target: fn(&mut crate::model::GlobalDefs) -> &mut ProcessTuning,
) -> HandlerResult {
    let w = p.required(l, 1)?;
    target(&mut p.globals).process_name = Some(w.text.as_str().to_owned());
    Ok(())
}

fn router_id(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.text_of(1) {
        Some(id) => p.globals.router_id = Some(id.to_owned()),
        None => p.error("routerid name missing - ignoring"),
    }
    Ok(())
}

fn email_from(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.text_of(1) {
        Some(from) => p.globals.notification_email_from = Some(from.to_owned()),
        None => p.error("emailfrom missing - ignoring"),
    }
    Ok(())
}

fn smtp_server(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let host = p.required(l, 1)?;
    let port_text = l.text_of(2).unwrap_or("25");
    let port = super::values::parse_port(port_text, false);
    if let (None, Some(port_word)) = (port, l.word(2)) {
        // keepalived reads the port twice: as a numeric address, then as a host name.
        let _ = p.unsigned(port_word, 1, 65535);
        let _ = p.unsigned(port_word, 1, 65535);
    }
    let address = parse_address(host.as_str()).or_else(|| p.env.resolve_host(host.as_str()));
    match (address, port) {
        (Some(address), Some(port)) => p.globals.smtp_server = Some(SmtpServer { address, port }),
        _ => p.error_at(
            host,
            format!("Invalid smtp server {} {port_text}", host.as_str()),
        ),
    }
    Ok(())
}

fn smtp_connect_timeout(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, 4294) {
        Some(0) => {
            // keepalived's own spelling.
            p.error_at(
                w,
                "smtp_conect_timeout must be greater than 0, setting to 1",
            );
            p.globals.smtp_connect_timeout = Duration::from_secs(1);
        }
        Some(v) => p.globals.smtp_connect_timeout = Duration::from_secs(v),
        None => p.error_at(
            w,
            format!(
                "smtp_connect_timeout '{}' must be in [0, 4294] - ignoring",
                w.as_str()
            ),
        ),
    }
    Ok(())
}

fn notification_email(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let words = p.value_block_words(l)?;
    if words.is_empty() {
        p.error("Warning - empty notification_email block");
    }
    p.globals
        .notification_email
        .extend(words.into_iter().map(|t| t.text.into()));
    Ok(())
}

fn start_stop_script(p: &mut Parser<'_>, l: &Line, which: &str) -> HandlerResult {
    if l.len() < 2 {
        p.error(format!("{which} script missing"));
        return Ok(());
    }
    let script = p.notify_script(l, which);
    if which == "startup" {
        p.globals.startup_script = script;
    } else {
        p.globals.shutdown_script = script;
    }
    Ok(())
}

fn start_stop_timeout(p: &mut Parser<'_>, l: &Line, which: &str) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error(format!("{which}_script_timeout requires value"));
        return Ok(());
    };
    match p.unsigned(w, 1, 1000) {
        Some(v) if which == "startup" => p.globals.startup_script_timeout = Duration::from_secs(v),
        Some(v) => p.globals.shutdown_script_timeout = Duration::from_secs(v),
        None => p.error_at(
            w,
            format!(
                "{which}_script_timeout '{}' must be in [1, 1000] - ignoring",
                w.as_str()
            ),
        ),
    }
    Ok(())
}

fn max_auto_priority(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.globals.max_auto_priority = Some(99);
        return Ok(());
    };
    match p.int(w, -1, 99) {
        Some(v) => p.globals.max_auto_priority = Some(v as i32),
        None => p.error_at(
            w,
            format!(
                "max_auto_priority '{}' must be in [0, 99] (or -1 to disable) - ignoring",
                w.as_str()
            ),
        ),
    }
    Ok(())
}

fn min_auto_priority_delay(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error("min_auto_priority_delay requires delay time");
        return Ok(());
    };
    match p.int(w, 1, 10_000_000) {
        Some(v) => p.globals.min_auto_priority_delay = Some(v as u64),
        None => p.error_at(
            w,
            format!(
                "min_auto_priority_delay '{}' must be in [1, 10000000] - ignoring",
                w.as_str()
            ),
        ),
    }
    Ok(())
}

fn dynamic_interfaces(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.word(1) {
        None => p.globals.dynamic_interfaces = Some(false),
        Some(w) if w.as_str() == "allow_if_changes" => p.globals.dynamic_interfaces = Some(true),
        Some(w) => p.error_at(
            w,
            format!("Unknown dynamic_interfaces option '{}'", w.as_str()),
        ),
    }
    Ok(())
}

fn default_interface(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.text_of(1) {
        Some(i) => p.globals.default_interface = Some(i.to_owned()),
        None => p.error("default_interface requires interface name"),
    }
    Ok(())
}

fn lvs_timeouts(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if l.len() < 3 {
        p.error("lvs_timeouts requires at least one option");
        return Ok(());
    }
    let mut i = 1;
    while i < l.len() {
        let name = l.words[i].as_str();
        if !["tcp", "tcpfin", "udp"].contains(&name) {
            // An unknown word is skipped alone.
            let w = l.words[i].clone();
            p.error_at(
                &w,
                format!("Unknown option {name} specified for lvs_timeouts"),
            );
            i += 1;
            continue;
        }
        let Some(value) = l.word(i + 1) else {
            p.error(format!(
                "No value specified for lvs_timeout {name} - ignoring"
            ));
            break;
        };
        i += 2;
        let Some(seconds) = p.unsigned(value, 0, 86400 * 31) else {
            p.error_at(
                value,
                format!("Invalid lvs_timeout {name} ({}) - ignoring", value.as_str()),
            );
            continue;
        };
        let d = Some(Duration::from_secs(seconds));
        match name {
            "tcp" => p.globals.lvs_timeouts.tcp = d,
            "tcpfin" => p.globals.lvs_timeouts.tcp_fin = d,
            _ => p.globals.lvs_timeouts.udp = d,
        }
    }
    Ok(())
}

fn lvs_flush_on_stop(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.word(1) {
        None => p.globals.lvs_flush_on_stop = Some("all".into()),
        Some(w) if w.as_str() == "VS" => p.globals.lvs_flush_on_stop = Some("VS".into()),
        Some(w) => p.error_at(w, format!("Unknown lvs_flush_on_stop type {}", w.as_str())),
    }
    Ok(())
}

/// `lvs_sync_daemon IFACE [INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`
/// (an old form gives the sync id right after the instance).
fn lvs_sync_daemon(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if let Some(sync) = &p.globals.lvs_sync_daemon {
        let message = format!(
            "lvs_sync_daemon has already been specified as {} {} - ignoring",
            sync.interface,
            sync.instance.as_deref().unwrap_or("")
        );
        p.error(message);
        return Ok(());
    }
    let Some(interface) = l.word(1) else {
        p.error("lvs_sync_daemon requires interface");
        return Ok(());
    };
    if interface.as_str().len() >= 16 {
        let message = format!(
            "lvs_sync_daemon interface name '{}' too long - ignoring",
            interface.as_str()
        );
        p.error_at(interface, message);
        return Ok(());
    }
    let mut sync = LvsSyncDaemon {
        interface: interface.text.as_str().to_owned(),
        instance: None,
        sync_id: None,
        max_len: None,
        port: None,
        ttl: None,
        group: None,
    };
    let options = ["inst", "id", "maxlen", "port", "ttl", "group"];
    let mut i = 2;
    if let Some(w) = l.word(2).filter(|w| !options.contains(&w.as_str())) {
        sync.instance = Some(w.text.as_str().to_owned());
        i = 3;
        if let Some(id) = l
            .word(3)
            .filter(|w| w.as_str().starts_with(|c: char| c.is_ascii_digit()))
        {
            p.error_at(
                id,
                "Please use keyword \"id\" before lvs_sync_daemon SYNCID",
            );
            sync.sync_id = sync_id(p, id);
            i = 4;
        }
    }
    while let Some(option) = l.word(i) {
        let name = option.as_str();
        if !options.contains(&name) {
            let message = format!("Unknown option {name} specified for lvs_sync_daemon");
            p.error_at(option, message);
            i += 1;
            continue;
        }
        let Some(value) = l.word(i + 1) else {
            p.error_at(
                option,
                match name {
                    "id" => {
                        "No value specified for lvs_sync_daemon id, defaulting to vrid".to_owned()
                    }
                    _ => format!("No value specified for lvs_sync_daemon {name} - ignoring"),
                },
            );
            break;
        };
        i += 2;
        let number = |p: &mut Parser<'_>, max: u64| {
            let n = p.unsigned(value, 1, max);
            if n.is_none() {
                let message = format!(
                    "Invalid lvs_sync_daemon {name} ({}) - ignoring",
                    value.as_str()
                );
                p.error_at(value, message);
            }
            n
        };
        match name {
            "inst" => match &sync.instance {
                Some(instance) => {
                    let message = format!(
                        "lvs_sync_daemon vrrp instance has already been specified as {instance} - ignoring"
                    );
                    p.error_at(value, message);
                }
                None => sync.instance = Some(value.text.as_str().to_owned()),
            },
            "id" => sync.sync_id = sync_id(p, value),
            "maxlen" => sync.max_len = number(p, 65535 - 20 - 8).map(|n| n as u16),
            "port" => sync.port = number(p, 65535).map(|n| n as u16),
            "ttl" => sync.ttl = number(p, 255).map(|n| n as u8),
            _ => match parse_address(value.as_str()) {
                None => {
                    let message = format!(
                        "Invalid lvs_sync_daemon group ({}) - ignoring",
                        value.as_str()
                    );
                    p.error_at(value, message);
                }
                Some(group) if !group.is_multicast() => {
                    let message = format!(
                        "lvs_sync_daemon group address {} is not multicast - ignoring",
                        value.as_str()
                    );
                    p.error_at(value, message);
                }
                Some(group) => sync.group = Some(group),
            },
        }
    }
    p.globals.lvs_sync_daemon = Some(sync);
    Ok(())
}

/// The sync id of `lvs_sync_daemon`; a bad one leaves the VRID.
fn sync_id(p: &mut Parser<'_>, token: &Token) -> Option<u8> {
    let id = p.unsigned(token, 0, 255).map(|n| n as u8);
    if id.is_none() {
        let message = format!("Invalid syncid ({}) - defaulting to vrid", token.as_str());
        p.error_at(token, message);
    }
    id
}

fn mcast_group(p: &mut Parser<'_>, l: &Line, v4: bool) -> HandlerResult {
    let w = p.required(l, 1)?;
    let keyword = l.keyword().to_owned();
    match parse_address(w.as_str()) {
        Some(a @ IpAddr::V4(v)) if v4 && v.is_multicast() => p.globals.vrrp_mcast_group4 = a,
        Some(a @ IpAddr::V6(v)) if !v4 && v.is_multicast() => p.globals.vrrp_mcast_group6 = a,
        _ => p.error_at(
            w,
            format!("Can't parse {keyword} [{}]. Skipping", w.as_str()),
        ),
    }
    Ok(())
}

fn seconds(
    p: &mut Parser<'_>,
    l: &Line,
    message: fn(&str) -> String,
    set: fn(&mut crate::model::GlobalDefs, Duration),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(i32::MAX as u32)) {
        Some(v) => set(&mut p.globals, Duration::from_secs(v)),
        None => p.error_at(w, message(w.as_str())),
    }
    Ok(())
}

/// A GARP count of 0 is taken as 1, with a word.
fn at_least_one(
    p: &mut Parser<'_>,
    keyword: &str,
    field: fn(&mut crate::model::GlobalDefs) -> &mut u32,
) -> HandlerResult {
    let value = field(&mut p.globals);
    if *value == 0 {
        *value = 1;
        p.error(format!("{keyword} must be greater than 0, setting to 1"));
    }
    Ok(())
}

fn count(
    p: &mut Parser<'_>,
    l: &Line,
    message: fn(&str) -> String,
    set: fn(&mut crate::model::GlobalDefs, u32),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(i32::MAX as u32)) {
        Some(v) => set(&mut p.globals, v as u32),
        None => p.error_at(w, message(w.as_str())),
    }
    Ok(())
}

fn interval(
    p: &mut Parser<'_>,
    l: &Line,
    name: &str,
    set: fn(&mut crate::model::GlobalDefs, Duration),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.timer(w, 1, u64::from(u32::MAX)) {
        Some(d) => {
            if d >= Duration::from_secs(1) {
                p.log(format!("The {name} is very large - {} seconds", w.as_str()));
            }
            set(&mut p.globals, d);
        }
        None => p.error_at(w, format!("{name} '{}' is invalid", w.as_str())),
    }
    Ok(())
}

fn garp_extra_if(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let keyword = l.keyword().to_owned();
    if keyword == "vrrp_vmac_garp_intvl" {
        p.error(
            "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"",
        );
    }
    let (all, index) = if l.text_of(1) == Some("all") {
        (true, 2)
    } else {
        (false, 1)
    };
    let Some(w) = l.word(index) else {
        p.error(format!("{keyword} specified without time - ignoring"));
        return Ok(());
    };
    match p.unsigned(w, 0, 86400) {
        Some(v) => p.globals.vrrp_garp_extra_if = Some((Duration::from_secs(v), all)),
        None => p.error_at(w, format!("{keyword} '{}' invalid - ignoring", w.as_str())),
    }
    Ok(())
}

fn vrrp_version(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.int(w, 2, 3) {
        Some(v) => p.globals.vrrp_version = v as u8,
        None => p.error_at(w, "VRRP Error: Version must be either 2 or 3"),
    }
    Ok(())
}

fn vrrp_iptables(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    p.globals.vrrp_iptables = Some(
        l.words[1..]
            .iter()
            .map(|t| t.text.as_str().to_owned())
            .collect(),
    );
    p.error("iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option");
    if p.globals.nftables.is_none() {
        p.globals.nftables = Some("keepalived".into());
    }
    Ok(())
}

fn nft_number(
    p: &mut Parser<'_>,
    l: &Line,
    message: &str,
    set: fn(&mut crate::model::GlobalDefs, i32),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.int(w, i64::from(i32::MIN), i64::from(i32::MAX)) {
        Some(v) => set(&mut p.globals, v as i32),
        None => p.error_at(w, format!("{message} '{}'", w.as_str())),
    }
    Ok(())
}

fn process_priority(
    p: &mut Parser<'_>,
    l: &Line,
    name: &str,
    target: fn(&mut crate::model::GlobalDefs) -> &mut ProcessTuning,
) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error(format!("No {name} process priority specified"));
        return Ok(());
    };
    match p.int(w, -20, 19) {
        Some(v) => target(&mut p.globals).priority = Some(v as i32),
        None => p.error_at(w, format!("Invalid {name} process priority specified")),
    }
    Ok(())
}

fn realtime_priority(
    p: &mut Parser<'_>,
    l: &Line,
    name: &str,
    target: fn(&mut crate::model::GlobalDefs) -> &mut ProcessTuning,
) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error(format!("No {name} process real-time priority specified"));
        return Ok(());
    };
    let Some(mut v) = p.int(w, i64::from(i32::MIN), i64::from(i32::MAX)) else {
        p.error_at(
            w,
            format!("{name} process real-time priority '{}' invalid", w.as_str()),
        );
        return Ok(());
    };
    if v < 1 {
        p.error_at(
            w,
            format!(
                "{name} process real-time priority {v} less than minimum 1 - setting to minimum"
            ),
        );
        v = 1;
    } else if v > 99 {
        p.error_at(
            w,
            format!(
                "{name} process real-time priority {v} greater than maximum 99 - setting to maximum"
            ),
        );
        v = 99;
    }
    target(&mut p.globals).realtime_priority = Some(v as u32);
    Ok(())
}

fn cpu_affinity(
    p: &mut Parser<'_>,
    l: &Line,
    name: &str,
    target: fn(&mut crate::model::GlobalDefs) -> &mut ProcessTuning,
) -> HandlerResult {
    if l.len() < 2 {
        p.error(format!("No {name} cpu_id set specified"));
        return Ok(());
    }
    let last_cpu = i64::from(p.env.cpu_count().max(1)) - 1;
    for w in &l.words[1..] {
        if p.int(w, 0, last_cpu).is_none() {
            // keepalived prints the number as read, truncated to an int.
            let value = super::values::strtol_value(w.as_str()) as i32;
            p.error_at(
                w,
                format!("Invalid cpu_id:{value} specified for {name} process"),
            );
            return Ok(());
        }
    }
    target(&mut p.globals).cpu_affinity = Some(
        l.words[1..]
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    Ok(())
}

fn rlimit_rttime(
    p: &mut Parser<'_>,
    l: &Line,
    name: &str,
    target: fn(&mut crate::model::GlobalDefs) -> &mut ProcessTuning,
) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 1, u64::from(u32::MAX)) {
        Some(v) => target(&mut p.globals).rlimit_rttime = Some(v),
        None => p.error_at(
            w,
            format!("Invalid {name} real-time limit - {}", w.as_str()),
        ),
    }
    Ok(())
}

fn fifo(
    p: &mut Parser<'_>,
    l: &Line,
    name: &str,
    target: fn(&mut crate::model::GlobalDefs) -> &mut NotifyFifo,
) -> HandlerResult {
    let Some(path) = l.text_of(1) else {
        p.error(format!("No {name} name specified"));
        return Ok(());
    };
    let fifo = target(&mut p.globals);
    fifo.path = Some(path.to_owned());
    fifo.owner = l.text_of(2).map(str::to_owned);
    Ok(())
}

fn fifo_script(
    p: &mut Parser<'_>,
    l: &Line,
    name: &str,
    target: fn(&mut crate::model::GlobalDefs) -> &mut NotifyFifo,
) -> HandlerResult {
    if l.len() < 2 {
        p.error(format!("No {name} specified"));
        return Ok(());
    }
    let script = p.notify_script(l, name);
    target(&mut p.globals).script = script;
    Ok(())
}

fn snmp(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let keyword = l.keyword().to_owned();
    flag(p, |g| g.snmp.push(keyword))
}

fn script_user(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(user) = l.text_of(1) else {
        p.error("No script username specified");
        return Ok(());
    };
    match p.script_user(user, l.text_of(2)) {
        Some(u) => {
            p.globals.script_user = Some(u.clone());
            p.default_user = DefaultUser::Resolved(u);
        }
        None => {
            p.default_user = DefaultUser::Failed;
            p.error("Error setting global script uid/gid");
        }
    }
    Ok(())
}

fn buffer_size(p: &mut Parser<'_>, l: &Line, name: &str) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error(format!("{name} size missing"));
        return Ok(());
    };
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(v) => other(&mut p.globals, name, v),
        None => p.error_at(w, format!("{name} size ({}) invalid", w.as_str())),
    }
    Ok(())
}

fn rx_bufs_policy(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if l.len() < 2 {
        p.error("vrrp_rx_bufs_policy missing");
        return Ok(());
    }
    for w in &l.words[1..] {
        match w.as_str() {
            "MTU" | "ADVERT" => other(&mut p.globals, "vrrp_rx_bufs_policy", w.as_str()),
            _ => match p.unsigned(w, 0, u64::from(u32::MAX)) {
                Some(v) => other(&mut p.globals, "vrrp_rx_bufs_policy", v),
                None => {
                    p.error_at(w, format!("Invalid vrrp_rx_bufs_policy {}", w.as_str()));
                    break;
                }
            },
        }
    }
    Ok(())
}

fn rx_bufs_multiplier(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error("Invalid vrrp_rx_bufs_multiplier");
        return Ok(());
    };
    match p.unsigned(w, 1, u64::from(u32::MAX)) {
        Some(v) => other(&mut p.globals, "vrrp_rx_bufs_multiplier", v),
        None => p.error_at(w, format!("Invalid vrrp_rx_bufs_multiplier {}", w.as_str())),
    }
    Ok(())
}

fn umask(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let text = w.as_str();
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        // strtoul with base 0: octal with a leading 0, hex with 0x.
        let parsed = if let Some(hex) = text.strip_prefix("0x") {
            u32::from_str_radix(hex, 16).ok()
        } else if text.len() > 1 && text.starts_with('0') {
            u32::from_str_radix(&text[1..], 8).ok()
        } else {
            text.parse::<u32>().ok()
        };
        match parsed.filter(|&m| m <= 0o7777) {
            Some(m) => p.globals.umask = Some(m),
            None => p.error_at(w, format!("invalid umask value {text}")),
        }
        return Ok(());
    }
    let mut mask = 0u32;
    for bit in text.split('|') {
        let value = match bit {
            "IRUSR" => 0o400,
            "IWUSR" => 0o200,
            "IXUSR" => 0o100,
            "IRGRP" => 0o040,
            "IWGRP" => 0o020,
            "IXGRP" => 0o010,
            "IROTH" => 0o004,
            "IWOTH" => 0o002,
            "IXOTH" => 0o001,
            _ => {
                p.error_at(w, format!("Unknown umask bit {bit}"));
                return Ok(());
            }
        };
        mask |= value;
    }
    p.globals.umask = Some(mask);
    Ok(())
}

fn include_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    for w in &l.words[1..] {
        let name = w.as_str().trim_start_matches(['+', '-']);
        if !matches!(
            name,
            "readable" | "match" | "wildcard_match" | "brace_match"
        ) {
            p.error_at(w, format!("Unknown include_check type '{name}' - ignoring"));
        }
    }
    other(
        &mut p.globals,
        "include_check",
        l.words[1..]
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    Ok(())
}
