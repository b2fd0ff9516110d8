//! `global_defs` and the top-level global keywords.

use std::net::IpAddr;
use std::time::Duration;

use super::script::{Script, ScriptUser};

/// An SMTP server for alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpServer {
    /// The server's address.
    pub address: IpAddr,
    /// The port (25 unless given).
    pub port: u16,
}

/// A FIFO that receives state changes, and the script that reads it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NotifyFifo {
    /// The FIFO's path.
    pub path: Option<String>,
    /// Who owns the FIFO (`notify_fifo FIFO [USER [GROUP]]`).
    pub owner: Option<String>,
    /// The script keepalived starts to read the FIFO.
    pub script: Option<Script>,
}

/// IPVS connection synchronisation (`lvs_sync_daemon`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LvsSyncDaemon {
    /// The interface for sync messages.
    pub interface: String,
    /// The VRRP instance whose state decides master/backup.
    pub instance: Option<String>,
    /// `id`.
    pub sync_id: Option<u8>,
    /// `maxlen`.
    pub max_len: Option<u16>,
    /// `port`.
    pub port: Option<u16>,
    /// `ttl`.
    pub ttl: Option<u8>,
    /// `group`.
    pub group: Option<IpAddr>,
}

/// IPVS timeouts (`lvs_timeouts`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LvsTimeouts {
    /// `tcp`.
    pub tcp: Option<Duration>,
    /// `tcpfin`.
    pub tcp_fin: Option<Duration>,
    /// `udp`.
    pub udp: Option<Duration>,
}

/// Scheduling options of one child process (`vrrp_priority`, `checker_no_swap`, …).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProcessTuning {
    /// Nice value.
    pub priority: Option<i32>,
    /// Lock memory.
    pub no_swap: bool,
    /// Real-time priority.
    pub realtime_priority: Option<u32>,
    /// CPU affinity, as written.
    pub cpu_affinity: Option<String>,
    /// RLIMIT_RTTIME in microseconds.
    pub rlimit_rttime: Option<u64>,
    /// Process name.
    pub process_name: Option<String>,
}

/// Everything set in `global_defs` (and the global keywords allowed outside it), with
/// keepalived's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalDefs {
    /// `router_id` (default: the host name).
    pub router_id: Option<String>,
    /// `notification_email`.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` (30 s).
    pub smtp_connect_timeout: Duration,
    /// `smtp_alert`: default for all alerts.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker`.
    pub smtp_alert_checker: Option<bool>,
    /// `no_email_faults`.
    pub no_email_faults: bool,
    /// `checker_log_all_failures`.
    pub checker_log_all_failures: bool,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_version` (2).
    pub vrrp_version: u8,
    /// `vrrp_mcast_group4` (224.0.0.18).
    pub vrrp_mcast_group4: IpAddr,
    /// `vrrp_mcast_group6` (ff02::12).
    pub vrrp_mcast_group6: IpAddr,
    /// `vrrp_garp_interval` (0).
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval` (0).
    pub vrrp_gna_interval: Duration,
    /// `vrrp_garp_master_delay` (5 s).
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat` (5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` (none).
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat` (1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay` (= master delay).
    pub vrrp_garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat` (= master repeat).
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_min_garp`.
    pub vrrp_min_garp: bool,
    /// `vrrp_garp_extra_if` interval, and whether it applies to all interfaces.
    pub vrrp_garp_extra_if: Option<(Duration, bool)>,
    /// `vrrp_down_timer_adverts` (3).
    pub vrrp_down_timer_adverts: u32,
    /// `vrrp_lower_prio_no_advert`.
    pub vrrp_lower_prio_no_advert: Option<bool>,
    /// `vrrp_higher_prio_send_advert`.
    pub vrrp_higher_prio_send_advert: Option<bool>,
    /// `vrrp_iptables` chains (keepalived 2.2.7 as built by Debian uses nftables instead).
    pub vrrp_iptables: Option<Vec<String>>,
    /// `vrrp_ipsets`.
    pub vrrp_ipsets: Option<Vec<String>>,
    /// `nftables` table name.
    pub nftables: Option<String>,
    /// `nftables_priority`.
    pub nftables_priority: Option<i32>,
    /// `nftables_ifindex`.
    pub nftables_ifindex: bool,
    /// `nftables_counters`.
    pub nftables_counters: bool,
    /// `nftables_ipvs` table name.
    pub nftables_ipvs: Option<String>,
    /// `disable_local_igmp`.
    pub disable_local_igmp: bool,
    /// `default_interface` (eth0).
    pub default_interface: Option<String>,
    /// `dynamic_interfaces`, and whether `allow_if_changes` was given.
    pub dynamic_interfaces: Option<bool>,
    /// `enable_script_security`.
    pub script_security: bool,
    /// `script_user`, resolved.
    pub script_user: Option<ScriptUser>,
    /// `startup_script`.
    pub startup_script: Option<Script>,
    /// `startup_script_timeout` (10 s).
    pub startup_script_timeout: Duration,
    /// `shutdown_script`.
    pub shutdown_script: Option<Script>,
    /// `shutdown_script_timeout` (10 s).
    pub shutdown_script_timeout: Duration,
    /// `lvs_sync_daemon`.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_timeouts`.
    pub lvs_timeouts: LvsTimeouts,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop` (`VS` = only virtual servers).
    pub lvs_flush_on_stop: Option<String>,
    /// `notify_fifo`.
    pub notify_fifo: NotifyFifo,
    /// `vrrp_notify_fifo`.
    pub vrrp_notify_fifo: NotifyFifo,
    /// `lvs_notify_fifo`.
    pub lvs_notify_fifo: NotifyFifo,
    /// `vrrp_notify_priority_changes`.
    pub vrrp_notify_priority_changes: bool,
    /// `max_auto_priority`.
    pub max_auto_priority: Option<i32>,
    /// `min_auto_priority_delay` (µs).
    pub min_auto_priority_delay: Option<u64>,
    /// VRRP process tuning.
    pub vrrp_process: ProcessTuning,
    /// Checker process tuning.
    pub checker_process: ProcessTuning,
    /// BFD process tuning.
    pub bfd_process: ProcessTuning,
    /// `process_names`.
    pub process_names: bool,
    /// `enable_snmp_*`, `enable_traps`, `snmp_socket`: the keywords given.
    pub snmp: Vec<String>,
    /// `snmp_socket`.
    pub snmp_socket: Option<String>,
    /// `enable_dbus`.
    pub enable_dbus: bool,
    /// `dbus_service_name`.
    pub dbus_service_name: Option<String>,
    /// `vrrp_startup_delay`.
    pub vrrp_startup_delay: Option<Duration>,
    /// `log_unknown_vrids`.
    pub log_unknown_vrids: bool,
    /// `vmac_prefix` (vrrp).
    pub vmac_prefix: Option<String>,
    /// `vmac_addr_prefix`.
    pub vmac_addr_prefix: Option<String>,
    /// `umask`.
    pub umask: Option<u32>,
    /// `random_seed`.
    pub random_seed: Option<u32>,
    /// `reload_check_config` (and its log file).
    pub reload_check_config: Option<Option<String>>,
    /// `rs_init_notifies`.
    pub rs_init_notifies: bool,
    /// `no_checker_emails`.
    pub no_checker_emails: bool,
    /// `data_use_instance`.
    pub data_use_instance: bool,
    /// `tmp_config_directory`.
    pub tmp_config_directory: Option<String>,
    /// Other recognised keywords kept as written: name and arguments.
    pub other: Vec<(String, Vec<String>)>,
    /// `net_namespace` (top level).
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs` (top level).
    pub net_namespace_ipvs: Option<String>,
    /// `namespace_with_ipsets` (top level).
    pub namespace_with_ipsets: bool,
    /// `instance` (top level).
    pub instance_name: Option<String>,
    /// `use_pid_dir` (top level).
    pub use_pid_dir: bool,
    /// `linkbeat_use_polling` (top level).
    pub linkbeat_use_polling: bool,
    /// `child_wait_time` (top level, seconds).
    pub child_wait_time: Option<u32>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            no_email_faults: false,
            checker_log_all_failures: false,
            vrrp_strict: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_check_unicast_src: false,
            vrrp_version: 2,
            vrrp_mcast_group4: IpAddr::from([224, 0, 0, 18]),
            vrrp_mcast_group6: IpAddr::from([0xff02, 0, 0, 0, 0, 0, 0, 0x12]),
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_min_garp: false,
            vrrp_garp_extra_if: None,
            vrrp_down_timer_adverts: 3,
            vrrp_lower_prio_no_advert: None,
            vrrp_higher_prio_send_advert: None,
            vrrp_iptables: None,
            vrrp_ipsets: None,
            nftables: None,
            nftables_priority: None,
            nftables_ifindex: false,
            nftables_counters: false,
            nftables_ipvs: None,
            disable_local_igmp: false,
            default_interface: None,
            dynamic_interfaces: None,
            script_security: false,
            script_user: None,
            startup_script: None,
            startup_script_timeout: Duration::from_secs(10),
            shutdown_script: None,
            shutdown_script_timeout: Duration::from_secs(10),
            lvs_sync_daemon: None,
            lvs_timeouts: LvsTimeouts::default(),
            lvs_flush: false,
            lvs_flush_on_stop: None,
            notify_fifo: NotifyFifo::default(),
            vrrp_notify_fifo: NotifyFifo::default(),
            lvs_notify_fifo: NotifyFifo::default(),
            vrrp_notify_priority_changes: false,
            max_auto_priority: None,
            min_auto_priority_delay: None,
            vrrp_process: ProcessTuning::default(),
            checker_process: ProcessTuning::default(),
            bfd_process: ProcessTuning::default(),
            process_names: false,
            snmp: Vec::new(),
            snmp_socket: None,
            enable_dbus: false,
            dbus_service_name: None,
            vrrp_startup_delay: None,
            log_unknown_vrids: false,
            vmac_prefix: None,
            vmac_addr_prefix: None,
            umask: None,
            random_seed: None,
            reload_check_config: None,
            rs_init_notifies: false,
            no_checker_emails: false,
            data_use_instance: false,
            tmp_config_directory: None,
            other: Vec::new(),
            net_namespace: None,
            net_namespace_ipvs: None,
            namespace_with_ipsets: false,
            instance_name: None,
            use_pid_dir: false,
            linkbeat_use_polling: false,
            child_wait_time: None,
        }
    }
}
