//! The model, printed: what a configuration means once keepalived has read it.
//!
//! The output is keepalived.conf syntax, normalised: one statement per line, the blocks that
//! survived the checks, every VRRP instance, virtual server, real server and checker setting
//! with its effective value (defaults and inherited global values written out), global settings
//! only where they differ from keepalived's defaults. Facts the configuration implies but does
//! not state (address family, sync group membership) are `#` comments.

use std::fmt::{self, Display};
use std::net::IpAddr;
use std::time::Duration;

use crate::model::bfd::BfdInstance;
use crate::model::global::{GlobalDefs, NotifyFifo, ProcessTuning};
use crate::model::lvs::{
    Checker, CheckerKind, ConnectionOptions, ForwardingMethod, GroupEntry, RealServer,
    ServiceAddress, SorryServer, TimingDefaults, TunnelChecksum, TunnelType, UrlCheck,
    VirtualServer, VirtualServerGroup,
};
use crate::model::vrrp::{
    Authentication, InitialState, LinkbeatMethod, NotifyScripts, ParamMatch, SyncGroup,
    TrackerKind, TrackerRef, VrrpInstance, VrrpVersion,
};
use crate::model::{AddressFamily, Config, Script, ScriptUser};

/// The whole model, as normalised keepalived.conf text.
pub fn dump(config: &Config) -> String {
    let mut out = Writer::default();
    global_defs(&mut out, &config.global);
    static_network(&mut out, config);
    trackers(&mut out, config);
    for group in &config.sync_groups {
        sync_group(&mut out, group);
    }
    for instance in &config.instances {
        vrrp_instance(&mut out, instance);
    }
    if let Some(ssl) = &config.ssl {
        out.open("SSL");
        out.text("password", &ssl.password);
        out.option("ca", &ssl.ca);
        out.option("certificate", &ssl.certificate);
        out.option("key", &ssl.key);
        out.close();
    }
    for group in &config.virtual_server_groups {
        virtual_server_group(&mut out, group);
    }
    for server in &config.virtual_servers {
        virtual_server(&mut out, server);
    }
    out.text
}

/// Indented lines of text.
#[derive(Default)]
struct Writer {
    text: String,
    depth: usize,
}

impl Writer {
    fn line(&mut self, line: impl Display) {
        use std::fmt::Write as _;
        let _ = writeln!(self.text, "{:width$}{line}", "", width = self.depth * 4);
    }

    fn open(&mut self, header: impl Display) {
        self.line(format_args!("{header} {{"));
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
        if self.depth == 0 {
            self.text.push('\n');
        }
    }

    /// `keyword value`.
    fn set(&mut self, keyword: &str, value: impl Display) {
        self.line(format_args!("{keyword} {value}"));
    }

    /// `keyword value`, when there is a value.
    fn option<T: Display>(&mut self, keyword: &str, value: &Option<T>) {
        if let Some(value) = value {
            self.set(keyword, value);
        }
    }

    /// `keyword`, when the flag is set.
    fn flag(&mut self, keyword: &str, set: bool) {
        if set {
            self.line(keyword);
        }
    }

    /// A `keyword { … }` block of one item per line, when there are items.
    fn list<T: Display>(&mut self, keyword: &str, items: &[T]) {
        if items.is_empty() {
            return;
        }
        self.open(keyword);
        for item in items {
            self.line(item);
        }
        self.close();
    }

    /// `keyword TEXT`, quoted if needed, when there is a text.
    fn text(&mut self, keyword: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.set(keyword, Word(value));
        }
    }

    /// `keyword SCRIPT [USER [GROUP]]`, when there is a script.
    fn script(&mut self, keyword: &str, script: Option<&Script>) {
        if let Some(script) = script {
            self.set(keyword, ScriptText(script));
        }
    }
}

/// A duration as keepalived reads it: seconds, with a fraction when needed.
struct Secs(Duration);

impl Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0.as_micros();
        let (whole, fraction) = (micros / 1_000_000, micros % 1_000_000);
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            let fraction = format!("{fraction:06}");
            write!(f, "{whole}.{}", fraction.trim_end_matches('0'))
        }
    }
}

/// A word of free text, quoted when keepalived would otherwise split it or read a comment.
struct Word<'a>(&'a str);

impl Display for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let special = |c: char| c.is_whitespace() || "#!{}\"".contains(c);
        if self.0.is_empty() || self.0.contains(special) {
            write!(f, "\"{}\"", self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

/// `yes` or `no`.
struct YesNo(bool);

impl Display for YesNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "yes" } else { "no" })
    }
}

/// A command, quoted when it has spaces, followed by its user.
struct ScriptText<'a>(&'a Script);

impl Display for ScriptText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = &self.0.text;
        if text.contains(char::is_whitespace) {
            write!(f, "\"{text}\"")?;
        } else {
            f.write_str(text)?;
        }
        match &self.0.user {
            Some(user) => write!(f, " {}", UserText(user)),
            None => Ok(()),
        }
    }
}

/// `USER [GROUP]`, with the ids keepalived resolved.
struct UserText<'a>(&'a ScriptUser);

impl Display for UserText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.0;
        f.write_str(&user.user)?;
        if let Some(group) = &user.group {
            write!(f, " {group}")?;
        }
        write!(f, "   # uid {} gid {}", user.uid, user.gid)
    }
}

/// Bytes as text; non-printable bytes as `\xNN`.
fn bytes_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b' '..=b'~' => char::from(b).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect()
}

fn global_defs(out: &mut Writer, g: &GlobalDefs) {
    // These are read at the top level only.
    out.option("net_namespace", &g.net_namespace);
    out.option("net_namespace_ipvs", &g.net_namespace_ipvs);
    out.flag("namespace_with_ipsets", g.namespace_with_ipsets);
    out.option("instance", &g.instance_name);
    out.flag("use_pid_dir", g.use_pid_dir);
    out.flag("linkbeat_use_polling", g.linkbeat_use_polling);
    out.option("child_wait_time", &g.child_wait_time);

    let d = GlobalDefs::default();
    out.open("global_defs");
    out.line("# settings at their defaults are not shown");
    out.text("router_id", &g.router_id);
    let emails: Vec<Word<'_>> = g.notification_email.iter().map(|e| Word(e)).collect();
    out.list("notification_email", &emails);
    out.text("notification_email_from", &g.notification_email_from);
    if let Some(smtp) = &g.smtp_server {
        out.line(format_args!("smtp_server {} {}", smtp.address, smtp.port));
    }
    out.text("smtp_helo_name", &g.smtp_helo_name);
    if g.smtp_connect_timeout != d.smtp_connect_timeout {
        out.set("smtp_connect_timeout", Secs(g.smtp_connect_timeout));
    }
    out.option("smtp_alert", &g.smtp_alert.map(YesNo));
    out.option("smtp_alert_vrrp", &g.smtp_alert_vrrp.map(YesNo));
    out.option("smtp_alert_checker", &g.smtp_alert_checker.map(YesNo));
    out.flag("no_email_faults", g.no_email_faults);
    out.flag("checker_log_all_failures", g.checker_log_all_failures);
    out.flag("vrrp_strict", g.vrrp_strict);
    out.flag("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
    out.flag("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
    if g.vrrp_version != d.vrrp_version {
        out.set("vrrp_version", g.vrrp_version);
    }
    if g.vrrp_mcast_group4 != d.vrrp_mcast_group4 {
        out.set("vrrp_mcast_group4", g.vrrp_mcast_group4);
    }
    if g.vrrp_mcast_group6 != d.vrrp_mcast_group6 {
        out.set("vrrp_mcast_group6", g.vrrp_mcast_group6);
    }
    // Before the GARP settings: it changes those still at their defaults.
    out.flag("vrrp_min_garp", g.vrrp_min_garp);
    let timers = [
        (
            "vrrp_garp_interval",
            g.vrrp_garp_interval,
            d.vrrp_garp_interval,
        ),
        (
            "vrrp_gna_interval",
            g.vrrp_gna_interval,
            d.vrrp_gna_interval,
        ),
        (
            "vrrp_garp_master_delay",
            g.vrrp_garp_master_delay,
            d.vrrp_garp_master_delay,
        ),
        (
            "vrrp_garp_master_refresh",
            g.vrrp_garp_master_refresh,
            d.vrrp_garp_master_refresh,
        ),
        (
            "startup_script_timeout",
            g.startup_script_timeout,
            d.startup_script_timeout,
        ),
        (
            "shutdown_script_timeout",
            g.shutdown_script_timeout,
            d.shutdown_script_timeout,
        ),
    ];
    for (keyword, value, default) in timers {
        if value != default {
            out.set(keyword, Secs(value));
        }
    }
    let counts = [
        (
            "vrrp_garp_master_repeat",
            g.vrrp_garp_master_repeat,
            d.vrrp_garp_master_repeat,
        ),
        (
            "vrrp_garp_master_refresh_repeat",
            g.vrrp_garp_master_refresh_repeat,
            d.vrrp_garp_master_refresh_repeat,
        ),
        (
            "vrrp_down_timer_adverts",
            g.vrrp_down_timer_adverts,
            d.vrrp_down_timer_adverts,
        ),
    ];
    for (keyword, value, default) in counts {
        // A refresh repeat of 0 comes from vrrp_min_garp only.
        if value != default && value != 0 {
            out.set(keyword, value);
        }
    }
    out.option(
        "vrrp_garp_lower_prio_delay",
        &g.vrrp_garp_lower_prio_delay.map(Secs),
    );
    out.option(
        "vrrp_garp_lower_prio_repeat",
        &g.vrrp_garp_lower_prio_repeat,
    );
    if let Some((interval, all)) = g.vrrp_garp_extra_if {
        let all = if all { " all" } else { "" };
        out.line(format_args!("vrrp_garp_extra_if {}{all}", Secs(interval)));
    }
    out.option(
        "vrrp_lower_prio_no_advert",
        &g.vrrp_lower_prio_no_advert.map(YesNo),
    );
    out.option(
        "vrrp_higher_prio_send_advert",
        &g.vrrp_higher_prio_send_advert.map(YesNo),
    );
    out.option(
        "vrrp_iptables",
        &g.vrrp_iptables.as_ref().map(|chains| chains.join(" ")),
    );
    out.option(
        "vrrp_ipsets",
        &g.vrrp_ipsets.as_ref().map(|sets| sets.join(" ")),
    );
    out.option("nftables", &g.nftables);
    out.option("nftables_priority", &g.nftables_priority);
    out.flag("nftables_ifindex", g.nftables_ifindex);
    out.flag("nftables_counters", g.nftables_counters);
    out.option("nftables_ipvs", &g.nftables_ipvs);
    out.flag("disable_local_igmp", g.disable_local_igmp);
    out.option("default_interface", &g.default_interface);
    match g.dynamic_interfaces {
        Some(true) => out.set("dynamic_interfaces", "allow_if_changes"),
        Some(false) => out.line("dynamic_interfaces"),
        None => {}
    }
    out.flag("enable_script_security", g.script_security);
    if let Some(user) = &g.script_user {
        out.set("script_user", UserText(user));
    }
    out.script("startup_script", g.startup_script.as_ref());
    out.script("shutdown_script", g.shutdown_script.as_ref());
    if let Some(sync) = &g.lvs_sync_daemon {
        let mut line = format!("lvs_sync_daemon {}", sync.interface);
        for (name, value) in [
            ("", sync.instance.clone()),
            ("id", sync.sync_id.map(|v| v.to_string())),
            ("maxlen", sync.max_len.map(|v| v.to_string())),
            ("port", sync.port.map(|v| v.to_string())),
            ("ttl", sync.ttl.map(|v| v.to_string())),
            ("group", sync.group.map(|v| v.to_string())),
        ] {
            if let Some(value) = value {
                line.push(' ');
                if !name.is_empty() {
                    line.push_str(name);
                    line.push(' ');
                }
                line.push_str(&value);
            }
        }
        out.line(line);
    }
    let t = &g.lvs_timeouts;
    if t.tcp.is_some() || t.tcp_fin.is_some() || t.udp.is_some() {
        let mut line = String::from("lvs_timeouts");
        for (name, value) in [("tcp", t.tcp), ("tcpfin", t.tcp_fin), ("udp", t.udp)] {
            if let Some(value) = value {
                line.push_str(&format!(" {name} {}", Secs(value)));
            }
        }
        out.line(line);
    }
    out.flag("lvs_flush", g.lvs_flush);
    match g.lvs_flush_on_stop.as_deref() {
        Some("VS") => out.set("lvs_flush_on_stop", "VS"),
        Some(_) => out.line("lvs_flush_on_stop"),
        None => {}
    }
    notify_fifo(out, "", &g.notify_fifo);
    notify_fifo(out, "vrrp_", &g.vrrp_notify_fifo);
    notify_fifo(out, "lvs_", &g.lvs_notify_fifo);
    out.flag(
        "vrrp_notify_priority_changes",
        g.vrrp_notify_priority_changes,
    );
    out.option("max_auto_priority", &g.max_auto_priority);
    out.option("min_auto_priority_delay", &g.min_auto_priority_delay);
    process_tuning(out, "vrrp", &g.vrrp_process);
    process_tuning(out, "checker", &g.checker_process);
    process_tuning(out, "bfd", &g.bfd_process);
    out.flag("process_names", g.process_names);
    for snmp in &g.snmp {
        out.line(snmp);
    }
    out.option("snmp_socket", &g.snmp_socket);
    out.flag("enable_dbus", g.enable_dbus);
    out.text("dbus_service_name", &g.dbus_service_name);
    out.option("vrrp_startup_delay", &g.vrrp_startup_delay.map(Secs));
    out.flag("log_unknown_vrids", g.log_unknown_vrids);
    out.option("vmac_prefix", &g.vmac_prefix);
    out.option("vmac_addr_prefix", &g.vmac_addr_prefix);
    out.option("umask", &g.umask.map(|mask| format!("0{mask:o}")));
    out.option("random_seed", &g.random_seed);
    match &g.reload_check_config {
        Some(Some(file)) => out.set("reload_check_config", file),
        Some(None) => out.line("reload_check_config"),
        None => {}
    }
    out.flag("rs_init_notifies", g.rs_init_notifies);
    out.flag("no_checker_emails", g.no_checker_emails);
    out.flag("data_use_instance", g.data_use_instance);
    out.option("tmp_config_directory", &g.tmp_config_directory);
    for (keyword, words) in &g.other {
        if words.is_empty() {
            out.line(keyword);
        } else {
            out.set(keyword, words.join(" "));
        }
    }
    out.close();
}

fn notify_fifo(out: &mut Writer, prefix: &str, fifo: &NotifyFifo) {
    if let Some(path) = &fifo.path {
        match &fifo.owner {
            Some(owner) => out.line(format_args!("{prefix}notify_fifo {path} {owner}")),
            None => out.set(&format!("{prefix}notify_fifo"), path),
        }
    }
    out.script(&format!("{prefix}notify_fifo_script"), fifo.script.as_ref());
}

fn process_tuning(out: &mut Writer, process: &str, tuning: &ProcessTuning) {
    out.option(&format!("{process}_priority"), &tuning.priority);
    out.flag(&format!("{process}_no_swap"), tuning.no_swap);
    out.option(&format!("{process}_rt_priority"), &tuning.realtime_priority);
    out.option(&format!("{process}_cpu_affinity"), &tuning.cpu_affinity);
    out.option(&format!("{process}_rlimit_rttime"), &tuning.rlimit_rttime);
    out.option(&format!("{process}_process_name"), &tuning.process_name);
}

fn static_network(out: &mut Writer, config: &Config) {
    // Track groups first: static addresses, routes and rules name them.
    for group in &config.track_groups {
        out.open(format_args!("track_group {}", group.name));
        out.list("group", &group.instances);
        out.close();
    }
    out.list("static_ipaddress", &config.static_addresses);
    out.list("static_routes", &config.static_routes);
    out.list("static_rules", &config.static_rules);
    for group in &config.garp_groups {
        out.open("garp_group");
        out.option("garp_interval", &group.garp_interval.map(Secs));
        out.option("gna_interval", &group.gna_interval.map(Secs));
        if group.aggregation_group == 0 {
            for interface in &group.interfaces {
                out.set("interface", interface);
            }
        } else {
            out.list("interfaces", &group.interfaces);
        }
        out.close();
    }
    if !config.linkbeat_interfaces.is_empty() {
        out.open("linkbeat_interfaces");
        for (interface, method) in &config.linkbeat_interfaces {
            match method {
                LinkbeatMethod::Mii => out.set(interface, "MII"),
                LinkbeatMethod::Ethtool => out.set(interface, "ETHTOOL"),
                LinkbeatMethod::Ioctl => out.set(interface, "IOCTL"),
            }
        }
        out.close();
    }
    if !config.interface_delays.is_empty() {
        out.open("interface_up_down_delays");
        for delay in &config.interface_delays {
            out.line(format_args!(
                "{} {} {}",
                delay.interface,
                Secs(delay.down),
                Secs(delay.up)
            ));
        }
        out.close();
    }
}

fn trackers(out: &mut Writer, config: &Config) {
    for s in &config.vrrp_scripts {
        out.open(format_args!("vrrp_script {}", s.name));
        out.set("script", ScriptText(&s.script));
        out.set("interval", Secs(s.interval));
        out.set("timeout", Secs(s.timeout));
        weight(out, s.weight, s.weight_reverse);
        out.set("rise", s.rise);
        out.set("fall", s.fall);
        if let Some(user) = &s.user {
            out.set("user", UserText(user));
        }
        out.flag("init_fail", s.init_fail);
        out.close();
    }
    for t in &config.track_files {
        out.open(format_args!("track_file {}", t.name));
        out.set("file", &t.path);
        weight(out, t.weight, t.weight_reverse);
        if let Some((value, overwrite)) = t.init_file {
            let overwrite = if overwrite { " overwrite" } else { "" };
            out.line(format_args!("init_file {value}{overwrite}"));
        }
        out.close();
    }
    for t in &config.track_processes {
        out.open(format_args!("vrrp_track_process {}", t.name));
        out.set("process", t.process.join(" "));
        out.set(
            "param_match",
            match t.param_match {
                ParamMatch::Exact => "exact",
                ParamMatch::Initial => "initial",
                ParamMatch::Partial => "partial",
            },
        );
        weight(out, t.weight, t.weight_reverse);
        out.set("quorum", t.quorum);
        out.option("quorum_max", &t.quorum_max);
        out.option("delay", &t.delay.map(Secs));
        out.option("terminate_delay", &t.terminate_delay.map(Secs));
        out.option("fork_delay", &t.fork_delay.map(Secs));
        out.flag("full_command", t.full_command);
        out.close();
    }
    for b in &config.bfd_instances {
        bfd_instance(out, b);
    }
}

fn weight(out: &mut Writer, weight: i32, reverse: bool) {
    let reverse = if reverse { " reverse" } else { "" };
    out.line(format_args!("weight {weight}{reverse}"));
}

fn bfd_instance(out: &mut Writer, b: &BfdInstance) {
    out.open(format_args!("bfd_instance {}", b.name));
    out.option("neighbor_ip", &b.neighbor);
    out.option("source_ip", &b.source);
    out.set("min_rx", b.min_rx.as_millis());
    out.set("min_tx", b.min_tx.as_millis());
    out.set("idle_tx", b.idle_tx.as_millis());
    out.set("multiplier", b.multiplier);
    out.flag("passive", b.passive);
    out.option("ttl", &b.ttl);
    out.option("max_hops", &b.max_hops);
    weight(out, b.weight, b.weight_reverse);
    out.flag("vrrp", b.vrrp_only);
    out.flag("checker", b.checker_only);
    out.close();
}

/// The `track_*` blocks shared by instances and sync groups.
/// The `track_*` blocks of an instance or sync group. Without its own weight a reference has
/// the tracker's weight and direction, so `reverse` is written only after a weight.
fn tracking(out: &mut Writer, trackers: impl Fn(TrackerKind) -> Vec<TrackerRef>) {
    for (keyword, kind) in [
        ("track_interface", TrackerKind::Interface),
        ("track_script", TrackerKind::Script),
        ("track_file", TrackerKind::File),
        ("track_process", TrackerKind::Process),
        ("track_bfd", TrackerKind::Bfd),
    ] {
        let list = trackers(kind);
        if list.is_empty() {
            continue;
        }
        out.open(keyword);
        for t in &list {
            match t.weight {
                Some(w) => {
                    let reverse = if t.reverse { " reverse" } else { "" };
                    out.line(format_args!("{} weight {w}{reverse}", t.name));
                }
                None => out.line(&t.name),
            }
        }
        out.close();
    }
}

fn notify_scripts(out: &mut Writer, n: &NotifyScripts) {
    out.script("notify_master", n.master.as_ref());
    out.script("notify_backup", n.backup.as_ref());
    out.script("notify_fault", n.fault.as_ref());
    out.script("notify_stop", n.stop.as_ref());
    out.script("notify_deleted", n.deleted.as_ref());
    out.script(
        "notify_master_rx_lower_pri",
        n.master_rx_lower_priority.as_ref(),
    );
    out.script("notify", n.any.as_ref());
}

fn sync_group(out: &mut Writer, s: &SyncGroup) {
    out.open(format_args!("vrrp_sync_group {}", s.name));
    out.list("group", &s.members);
    tracking(out, |kind| s.trackers(kind).to_vec());
    notify_scripts(out, &s.notify);
    out.option("smtp_alert", &s.smtp_alert.map(YesNo));
    out.flag("sync_group_tracking_weight", s.tracking_weight);
    out.flag("notify_priority_changes", s.notify_priority_changes);
    out.close();
}

fn vrrp_instance(out: &mut Writer, i: &VrrpInstance) {
    out.open(format_args!("vrrp_instance {}", i.name));
    if let Some(group) = &i.sync_group {
        out.line(format_args!("# member of vrrp_sync_group {group}"));
    }
    out.set(
        "state",
        match i.initial_state {
            InitialState::Master => "MASTER",
            InitialState::Backup => "BACKUP",
        },
    );
    out.option("interface", &i.interface);
    out.set("virtual_router_id", i.vrid);
    out.set("priority", i.priority);
    out.set("advert_int", Secs(i.advert_interval));
    out.set(
        "version",
        match i.version {
            VrrpVersion::V2 => 2,
            VrrpVersion::V3 => 3,
        },
    );
    out.line(format_args!("# address family {}", i.family));
    match &i.authentication {
        Some(Authentication::Password(password)) => authentication(out, "PASS", password),
        Some(Authentication::Ah(password)) => authentication(out, "AH", password),
        None => {}
    }
    out.list("virtual_ipaddress", &i.virtual_addresses);
    out.list("virtual_ipaddress_excluded", &i.excluded_addresses);
    out.list("virtual_routes", &i.virtual_routes);
    out.list("virtual_rules", &i.virtual_rules);
    out.flag("nopreempt", !i.preempt);
    if !i.preempt_delay.is_zero() {
        out.set("preempt_delay", Secs(i.preempt_delay));
    }
    tracking(out, |kind| i.trackers(kind).to_vec());
    out.flag("dont_track_primary", i.dont_track_primary);
    if i.unicast_peers.is_empty() {
        out.option("mcast_src_ip", &i.source_address);
        out.set("mcast_dst_ip", i.multicast_group);
    } else {
        out.option("unicast_src_ip", &i.source_address);
        out.open("unicast_peer");
        for peer in &i.unicast_peers {
            let min = peer.min_ttl.map(|t| format!(" min_ttl {t}"));
            let max = peer.max_ttl.map(|t| format!(" max_ttl {t}"));
            out.line(format_args!(
                "{}{}{}",
                peer.address,
                min.unwrap_or_default(),
                max.unwrap_or_default()
            ));
        }
        out.close();
        out.set("unicast_ttl", i.unicast_ttl);
    }
    out.flag("unicast_fault_no_peer", i.unicast_fault_no_peer);
    out.flag("check_unicast_src", i.check_unicast_source);
    out.flag("track_src_ip", i.track_source_address);
    out.flag("old_unicast_checksum", i.old_unicast_checksum);
    notify_scripts(out, &i.notify);
    out.set("smtp_alert", YesNo(i.smtp_alert));
    out.flag("notify_priority_changes", i.notify_priority_changes);
    out.flag("accept", i.accept);
    out.flag("no_accept", !i.accept);
    out.flag("strict_mode", i.strict);
    out.flag("skip_check_adv_addr", i.skip_check_adv_addr);
    out.set("lower_prio_no_advert", YesNo(i.lower_prio_no_advert));
    out.set("higher_prio_send_advert", YesNo(i.higher_prio_send_advert));
    if let Some(vmac) = &i.vmac {
        let mut line = String::from("use_vmac");
        if let Some(name) = &vmac.name {
            line.push_str(&format!(" {name}"));
        }
        if let Some(mac) = vmac.mac {
            let hex: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
            line.push_str(&format!(" {}", hex.join(":")));
        }
        out.line(line);
        out.flag("vmac_xmit_base", vmac.xmit_base);
        out.flag("use_vmac_addr", vmac.use_vmac_addr);
    }
    if let Some(ipvlan) = &i.ipvlan {
        let parts = [&ipvlan.name, &ipvlan.address, &ipvlan.mode];
        let words: Vec<&str> = parts.iter().filter_map(|p| p.as_deref()).collect();
        out.line(
            ["use_ipvlan"]
                .iter()
                .chain(&words)
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    out.option("vrf", &i.vrf);
    let g = &i.garp;
    out.set("garp_master_delay", Secs(g.master_delay));
    out.set("garp_master_repeat", g.master_repeat);
    out.set("garp_master_refresh", Secs(g.master_refresh));
    // 0 comes from the global vrrp_min_garp, and cannot be written here.
    if g.master_refresh_repeat != 0 {
        out.set("garp_master_refresh_repeat", g.master_refresh_repeat);
    }
    out.set("garp_lower_prio_delay", Secs(g.lower_prio_delay));
    out.set("garp_lower_prio_repeat", g.lower_prio_repeat);
    if let Some((interval, all)) = g.extra_if {
        let all = if all { " all" } else { "" };
        out.line(format_args!("garp_extra_if {}{all}", Secs(interval)));
    }
    out.set("down_timer_adverts", i.down_timer_adverts);
    out.flag("promote_secondaries", i.promote_secondaries);
    out.flag("native_ipv6", i.native_ipv6);
    out.option("kernel_rx_buf_size", &i.kernel_rx_buf_size);
    out.option("lvs_sync_daemon_interface", &i.lvs_sync_daemon_interface);
    if i.debug != 0 {
        out.set("debug", i.debug);
    }
    out.flag("linkbeat_use_polling", i.linkbeat_use_polling);
    out.close();
}

fn authentication(out: &mut Writer, kind: &str, password: &[u8; 8]) {
    let end = password.iter().position(|&b| b == 0).unwrap_or(8);
    out.open("authentication");
    out.set("auth_type", kind);
    out.set("auth_pass", bytes_text(&password[..end]));
    out.close();
}

fn virtual_server_group(out: &mut Writer, group: &VirtualServerGroup) {
    out.open(format_args!("virtual_server_group {}", group.name));
    for entry in &group.entries {
        match entry {
            GroupEntry::Range { first, last, port } => {
                if first == last {
                    out.line(format_args!("{first} {port}"));
                } else {
                    out.line(format_args!("{} {port}", AddressRange(*first, *last)));
                }
            }
            GroupEntry::Fwmark { mark, family } => match family {
                Some(family) => out.line(format_args!(
                    "fwmark {mark} {}",
                    match family {
                        AddressFamily::Ipv4 => "inet",
                        AddressFamily::Ipv6 => "inet6",
                    }
                )),
                None => out.set("fwmark", mark),
            },
        }
    }
    out.close();
}

/// `FIRST-LAST` with LAST's final byte (IPv4) or group (IPv6), as keepalived writes ranges.
struct AddressRange(IpAddr, IpAddr);

impl Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            IpAddr::V4(last) => write!(f, "{}-{}", self.0, last.octets()[3]),
            IpAddr::V6(last) => write!(f, "{}-{:x}", self.0, last.segments()[7]),
        }
    }
}

impl Display for ServiceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceAddress::Address { address, port } => write!(f, "{address} {port}"),
            ServiceAddress::Fwmark(mark) => write!(f, "fwmark {mark}"),
            ServiceAddress::Group(name) => write!(f, "group {name}"),
        }
    }
}

impl Display for ForwardingMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardingMethod::Nat => f.write_str("NAT"),
            ForwardingMethod::DirectRouting => f.write_str("DR"),
            ForwardingMethod::Tunnel {
                tunnel_type,
                checksum,
            } => {
                f.write_str("TUN")?;
                match tunnel_type {
                    TunnelType::Ipip => {}
                    TunnelType::Gre => f.write_str(" type gre")?,
                    TunnelType::Gue { port } => write!(f, " type gue port {port}")?,
                }
                match checksum {
                    None => Ok(()),
                    Some(TunnelChecksum::None) => f.write_str(" nocsum"),
                    Some(TunnelChecksum::Checksum) => f.write_str(" csum"),
                    Some(TunnelChecksum::Remote) => f.write_str(" remcsum"),
                }
            }
        }
    }
}

fn timing(out: &mut Writer, t: &TimingDefaults) {
    out.set("delay_loop", Secs(t.delay_loop));
    out.set("connect_timeout", Secs(t.connect_timeout));
    out.option("retry", &t.retry);
    out.option("delay_before_retry", &t.delay_before_retry.map(Secs));
    out.option("warmup", &t.warmup.map(Secs));
}

fn virtual_server(out: &mut Writer, vs: &VirtualServer) {
    out.open(format_args!("virtual_server {}", vs.service));
    // keepalived ignores, with a warning, the protocol of a fwmark service.
    if !matches!(vs.service, ServiceAddress::Fwmark(_)) {
        out.set("protocol", vs.protocol.name().to_ascii_uppercase());
    }
    match vs.family {
        Some(AddressFamily::Ipv4) => out.set("ip_family", "inet"),
        Some(AddressFamily::Ipv6) => out.set("ip_family", "inet6"),
        None => {}
    }
    out.set("lb_algo", &vs.scheduler);
    let flags = &vs.scheduler_flags;
    out.flag("ops", flags.one_packet);
    out.flag("flag-1", flags.flag_1);
    out.flag("flag-2", flags.flag_2);
    out.flag("flag-3", flags.flag_3);
    out.set("lb_kind", vs.forwarding);
    if let Some(p) = &vs.persistence {
        out.set("persistence_timeout", Secs(p.timeout));
        // An IPv6 granularity is written as a prefix length.
        let granularity = p.granularity.map(|g| match g {
            IpAddr::V4(mask) => mask.to_string(),
            IpAddr::V6(mask) => u128::from(mask).leading_ones().to_string(),
        });
        out.option("persistence_granularity", &granularity);
        out.option("persistence_engine", &p.engine);
    }
    out.set("quorum", vs.quorum);
    out.set("hysteresis", vs.hysteresis);
    out.script("quorum_up", vs.quorum_up.as_deref());
    out.script("quorum_down", vs.quorum_down.as_deref());
    out.flag("alpha", vs.alpha);
    out.flag("omega", vs.omega);
    out.flag("ha_suspend", vs.ha_suspend);
    out.flag("inhibit_on_failure", vs.inhibit_on_failure);
    if let Some(sorry) = &vs.sorry_server {
        sorry_server(out, sorry);
    }
    out.text("virtualhost", &vs.virtualhost);
    out.option("smtp_alert", &vs.smtp_alert.map(YesNo));
    out.text("snmp_name", &vs.snmp_name);
    out.set("weight", vs.weight);
    timing(out, &vs.timing);
    for rs in &vs.real_servers {
        real_server(out, rs);
    }
    out.close();
}

fn sorry_server(out: &mut Writer, sorry: &SorryServer) {
    out.line(format_args!(
        "sorry_server {} {}",
        sorry.address, sorry.port
    ));
    out.option("sorry_server_lvs_method", &sorry.forwarding);
    out.flag("sorry_server_inhibit", sorry.inhibit);
}

fn real_server(out: &mut Writer, rs: &RealServer) {
    out.open(format_args!("real_server {} {}", rs.address, rs.port));
    out.set("weight", rs.weight);
    out.set("lvs_method", rs.forwarding);
    // Written out: a real server would otherwise take its service's setting.
    out.set("inhibit_on_failure", YesNo(rs.inhibit_on_failure));
    out.script("notify_up", rs.notify_up.as_deref());
    out.script("notify_down", rs.notify_down.as_deref());
    out.option("uthreshold", &rs.upper_threshold);
    out.option("lthreshold", &rs.lower_threshold);
    out.set("alpha", YesNo(rs.alpha));
    out.option("smtp_alert", &rs.smtp_alert.map(YesNo));
    out.text("virtualhost", &rs.virtualhost);
    out.text("snmp_name", &rs.snmp_name);
    timing(out, &rs.timing);
    for c in &rs.checkers {
        checker(out, c);
    }
    out.close();
}

fn connection(out: &mut Writer, c: &ConnectionOptions) {
    out.option("connect_ip", &c.connect_ip);
    out.option("connect_port", &c.connect_port);
    out.option("bindto", &c.bind_to);
    out.option("bind_port", &c.bind_port);
    out.option("bind_if", &c.bind_interface);
    out.option("fwmark", &c.fwmark);
}

fn checker(out: &mut Writer, c: &Checker) {
    out.open(c.kind.keyword());
    connection(out, &c.connection);
    let t = &c.timing;
    out.set("connect_timeout", Secs(t.connect_timeout));
    out.set("retry", t.retry);
    out.set("delay_before_retry", Secs(t.delay_before_retry));
    out.set("delay_loop", Secs(t.delay_loop));
    out.set("warmup", Secs(t.warmup));
    // Written out: a checker would otherwise take its real server's and the global settings.
    out.set("alpha", YesNo(c.alpha));
    out.set("log_all_failures", YesNo(c.log_all_failures));
    match &c.kind {
        CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => {
            out.text("virtualhost", &h.virtualhost);
            out.option("http_protocol", &h.http_protocol);
            out.flag("fast_recovery", h.fast_recovery);
            out.flag("enable_sni", h.enable_sni);
            for url in &h.urls {
                url_check(out, url);
            }
        }
        CheckerKind::Misc(m) => {
            out.script("misc_path", m.path.as_ref());
            out.option("misc_timeout", &m.timeout.map(Secs));
            out.flag("misc_dynamic", m.dynamic);
            if let Some(user) = &m.user {
                out.set("user", UserText(user));
            }
        }
        CheckerKind::Smtp(s) => out.text("helo_name", &s.helo_name),
        CheckerKind::Dns(d) => {
            out.set("type", &d.query_type);
            out.set("name", Word(&d.name));
        }
        CheckerKind::Udp(u) => {
            out.option("payload", &u.payload.as_deref().map(hex));
            if let Some((data, mask)) = &u.require_reply {
                out.set("require_reply", masked_hex(data, mask));
            }
            out.set("min_reply_length", u.min_reply_length);
            out.set("max_reply_length", u.max_reply_length);
        }
        CheckerKind::File(file) => {
            out.set("track_file", &file.track_file);
            if let Some(w) = file.weight {
                weight(out, w, file.reverse);
            }
            out.flag("dynamic", file.dynamic);
        }
        CheckerKind::Bfd(name) => out.option("name", name),
        CheckerKind::Tcp | CheckerKind::Ping => {}
    }
    out.close();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex digits, with `X` for the nibbles the mask leaves out.
fn masked_hex(data: &[u8], mask: &[u8]) -> String {
    let nibble = |value: u8, compared: bool| {
        if compared {
            format!("{value:x}")
        } else {
            "X".to_owned()
        }
    };
    data.iter()
        .zip(mask.iter().chain(std::iter::repeat(&0xff)))
        .map(|(&d, &m)| nibble(d >> 4, m & 0xf0 != 0) + &nibble(d & 0xf, m & 0x0f != 0))
        .collect()
}

fn url_check(out: &mut Writer, u: &UrlCheck) {
    out.open("url");
    out.set("path", Word(&u.path));
    out.text("digest", &u.digest);
    if !u.status_codes.is_empty() {
        let codes: Vec<String> = u
            .status_codes
            .iter()
            .map(|(low, high)| {
                if low == high {
                    low.to_string()
                } else {
                    format!("{low}-{high}")
                }
            })
            .collect();
        out.set("status_code", codes.join(" "));
    }
    out.text("virtualhost", &u.virtualhost);
    out.text("regex", &u.regex);
    out.flag("regex_no_match", u.regex_no_match);
    if !u.regex_options.is_empty() {
        out.set("regex_options", u.regex_options.join(" "));
    }
    out.option("regex_min_offset", &u.regex_min_offset);
    out.option("regex_max_offset", &u.regex_max_offset);
    if let Some((start, max)) = u.regex_stack {
        out.line(format_args!("regex_stack {start} {max}"));
    }
    out.close();
}
