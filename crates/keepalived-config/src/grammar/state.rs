//! What a parse has collected so far, before the checks complete it.
//!
//! Blocks whose defaults depend on what was *not* written (an instance's priority, a virtual
//! server's protocol) are kept as drafts that remember which keywords were given; the checks
//! ([`crate::check`]) turn them into model values with keepalived's defaults and warnings.

use std::time::Duration;

use crate::model::lvs::{
    Checker, ForwardingMethod, Persistence, Protocol, RealServer, ServiceAddress, SorryServer,
    TimingDefaults, VirtualServer,
};
use crate::model::vrrp::{GarpSettings, InitialState, NotifyScripts, VrrpInstance, VrrpVersion};
use crate::model::{AddressFamily, Config};
use crate::source::LinePosition;

/// Authentication as written, before the checks decide whether it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// `auth_type PASS`.
    Password,
    /// `auth_type AH`.
    Ah,
}

/// A `vrrp_instance` being read.
#[derive(Clone, Debug)]
pub struct InstanceDraft {
    /// The instance, with the values read so far and defaults elsewhere.
    pub instance: VrrpInstance,
    /// `state` as written.
    pub state: Option<InitialState>,
    /// The address family, fixed by the first VIP, unicast peer or source address.
    pub family: Option<AddressFamily>,
    /// Whether `priority` was given (validly).
    pub priority_given: bool,
    /// Whether `virtual_router_id` was given validly.
    pub vrid_given: bool,
    /// `version` as written.
    pub version: Option<u8>,
    /// `advert_int` as written, in centiseconds.
    pub advert_centis: Option<u64>,
    /// `auth_type`.
    pub auth_type: Option<AuthKind>,
    /// `auth_pass`, truncated to 8 bytes.
    pub auth_pass: Option<[u8; 8]>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay` given.
    pub preempt_delay_given: bool,
    /// A unicast keyword was used (`unicast_src_ip`, `unicast_peer`, …).
    pub unicast_keyword: bool,
    /// `unicast_ttl` given.
    pub unicast_ttl_given: bool,
    /// `accept` / `no_accept`.
    pub accept: Option<bool>,
    /// `strict_mode`.
    pub strict: Option<bool>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `skip_check_adv_addr`.
    pub skip_check_adv_addr: Option<bool>,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: Option<bool>,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: Option<bool>,
    /// `garp_master_delay` etc. as given.
    pub garp_master_delay: Option<Duration>,
    /// `garp_master_repeat`.
    pub garp_master_repeat: Option<u32>,
    /// `garp_master_refresh`.
    pub garp_master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat`.
    pub garp_master_refresh_repeat: Option<u32>,
    /// `garp_lower_prio_delay`.
    pub garp_lower_prio_delay: Option<Duration>,
    /// `garp_lower_prio_repeat`.
    pub garp_lower_prio_repeat: Option<u32>,
    /// `garp_extra_if`.
    pub garp_extra_if: Option<(Duration, bool)>,
    /// `down_timer_adverts`.
    pub down_timer_adverts: Option<u32>,
    /// `check_unicast_src`.
    pub check_unicast_src: bool,
    /// `mcast_dst_ip`.
    pub multicast_group: Option<std::net::IpAddr>,
    /// `vmac_xmit_base` given.
    pub vmac_xmit_base: bool,
    /// `use_vmac_addr` given.
    pub use_vmac_addr: bool,
}

impl InstanceDraft {
    /// A new instance named `name`, everything at its default.
    pub fn new(name: &str, position: LinePosition) -> Self {
        InstanceDraft {
            instance: VrrpInstance {
                name: name.to_owned(),
                initial_state: InitialState::Backup,
                interface: None,
                vrid: 0,
                priority: 100,
                advert_interval: Duration::from_secs(1),
                version: VrrpVersion::V2,
                family: AddressFamily::Ipv4,
                authentication: None,
                virtual_addresses: Vec::new(),
                excluded_addresses: Vec::new(),
                virtual_routes: Vec::new(),
                virtual_rules: Vec::new(),
                preempt: true,
                preempt_delay: Duration::ZERO,
                track_interfaces: Vec::new(),
                track_scripts: Vec::new(),
                track_files: Vec::new(),
                track_processes: Vec::new(),
                track_bfds: Vec::new(),
                dont_track_primary: false,
                source_address: None,
                unicast_peers: Vec::new(),
                multicast_group: std::net::IpAddr::from([224, 0, 0, 18]),
                unicast_ttl: 255,
                unicast_fault_no_peer: false,
                check_unicast_source: false,
                track_source_address: false,
                old_unicast_checksum: false,
                notify: NotifyScripts::default(),
                smtp_alert: false,
                notify_priority_changes: false,
                accept: true,
                strict: false,
                skip_check_adv_addr: false,
                lower_prio_no_advert: false,
                higher_prio_send_advert: false,
                vmac: None,
                ipvlan: None,
                vrf: None,
                garp: GarpSettings {
                    master_delay: Duration::from_secs(5),
                    master_repeat: 5,
                    master_refresh: Duration::ZERO,
                    master_refresh_repeat: 1,
                    lower_prio_delay: Duration::from_secs(5),
                    lower_prio_repeat: 5,
                    extra_if: None,
                },
                down_timer_adverts: 3,
                promote_secondaries: false,
                native_ipv6: false,
                kernel_rx_buf_size: None,
                lvs_sync_daemon_interface: None,
                debug: 0,
                linkbeat_use_polling: false,
                sync_group: None,
                position: Some(position),
            },
            state: None,
            family: None,
            priority_given: false,
            vrid_given: false,
            version: None,
            advert_centis: None,
            auth_type: None,
            auth_pass: None,
            nopreempt: false,
            preempt_delay_given: false,
            unicast_keyword: false,
            unicast_ttl_given: false,
            accept: None,
            strict: None,
            smtp_alert: None,
            skip_check_adv_addr: None,
            lower_prio_no_advert: None,
            higher_prio_send_advert: None,
            garp_master_delay: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            garp_master_refresh_repeat: None,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            garp_extra_if: None,
            down_timer_adverts: None,
            check_unicast_src: false,
            multicast_group: None,
            vmac_xmit_base: false,
            use_vmac_addr: false,
        }
    }
}

/// Timing values as written (a `None` is inherited).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimingDraft {
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `warmup`.
    pub warmup: Option<Duration>,
    /// `delay_loop`.
    pub delay_loop: Option<Duration>,
}

/// A checker being read.
#[derive(Clone, Debug)]
pub struct CheckerDraft {
    /// The checker with its own options.
    pub checker: Checker,
    /// Its timing as written.
    pub timing: TimingDraft,
    /// `alpha` as written.
    pub alpha: Option<bool>,
    /// The retry count when neither the checker nor the real server sets one.
    pub default_retry: u32,
    /// The retry delay when neither sets one (`None`: the delay loop).
    pub default_delay_before_retry: Option<Duration>,
    /// Whether the checker takes the connection/timing keywords (not FILE/BFD checks).
    pub launched: bool,
}

/// A real server being read.
#[derive(Clone, Debug)]
pub struct RealServerDraft {
    /// The real server.
    pub server: RealServer,
    /// Its timing as written.
    pub timing: TimingDraft,
    /// `weight` given.
    pub weight: Option<i32>,
    /// `lvs_method` given.
    pub forwarding: Option<ForwardingMethod>,
    /// `alpha` given.
    pub alpha: Option<bool>,
    /// `inhibit_on_failure` given.
    pub inhibit: Option<bool>,
    /// Its checkers.
    pub checkers: Vec<CheckerDraft>,
    /// Whether the virtual server's method was a tunnel when the real server was declared
    /// (keepalived copies the method then).
    pub tunnel_by_default: bool,
}

/// A virtual server being read.
#[derive(Clone, Debug)]
pub struct VirtualServerDraft {
    /// The virtual server.
    pub server: VirtualServer,
    /// `protocol` given.
    pub protocol: Option<Protocol>,
    /// `lvs_sched` given.
    pub scheduler: Option<String>,
    /// `lvs_method` given.
    pub forwarding: Option<ForwardingMethod>,
    /// `persistence_timeout` given.
    pub persistence: Option<Persistence>,
    /// Timing as written.
    pub timing: TimingDraft,
    /// The sorry server, with its method if given.
    pub sorry_server: Option<SorryServer>,
    /// Its real servers.
    pub real_servers: Vec<RealServerDraft>,
    /// The address family as keepalived settles it while reading: the service address's, or
    /// `ip_family`, or the first sorry or real server's not reached by tunnel.
    pub family: Option<AddressFamily>,
}

impl VirtualServerDraft {
    /// A new virtual server for `service`.
    pub fn new(service: ServiceAddress, position: LinePosition) -> Self {
        let family = match &service {
            ServiceAddress::Address { address, .. } => Some(AddressFamily::of(address)),
            _ => None,
        };
        VirtualServerDraft {
            family,
            server: VirtualServer {
                service,
                protocol: Protocol::Udp,
                scheduler: String::new(),
                scheduler_flags: Default::default(),
                forwarding: ForwardingMethod::Nat,
                persistence: None,
                family: None,
                quorum: 1,
                hysteresis: 0,
                quorum_up: None,
                quorum_down: None,
                alpha: false,
                omega: false,
                ha_suspend: false,
                inhibit_on_failure: false,
                sorry_server: None,
                virtualhost: None,
                smtp_alert: None,
                snmp_name: None,
                weight: 1,
                timing: TimingDefaults::default(),
                real_servers: Vec::new(),
                position: Some(position),
            },
            protocol: None,
            scheduler: None,
            forwarding: None,
            persistence: None,
            timing: TimingDraft::default(),
            sorry_server: None,
            real_servers: Vec::new(),
        }
    }
}

/// A script being read, with what its end handler needs.
#[derive(Debug)]
pub struct ScriptDraft {
    /// The script so far.
    pub script: crate::model::VrrpScript,
    /// `script` was given.
    pub has_command: bool,
    /// `user` was given but could not be resolved.
    pub user_failed: bool,
    /// `timeout` was given.
    pub timeout_given: bool,
}

/// Everything read by one process.
#[derive(Debug, Default)]
pub struct State {
    /// Finished pieces (addresses, routes, trackers, groups …).
    pub config: Config,
    /// Instances being read.
    pub instances: Vec<InstanceDraft>,
    /// Virtual servers being read (boxed: a draft passes from the reading to the memo and to
    /// the checks by its pointer).
    pub virtual_servers: Vec<Box<VirtualServerDraft>>,
    /// An interface named in the configuration does not exist (`-t` stops the VRRP checks).
    pub non_existent_interface: bool,
    /// The `vrrp_script` being read.
    pub script: Option<ScriptDraft>,
    /// The `vrrp_track_process` being read.
    pub process: Option<crate::model::TrackProcess>,
    /// The `track_file` being read.
    pub track_file: Option<crate::model::TrackFile>,
    /// The `vrrp_sync_group` being read.
    pub sync_group: Option<crate::model::SyncGroup>,
    /// The `bfd_instance` being read, and whether a bad neighbour address dropped it.
    pub bfd: Option<(crate::model::BfdInstance, bool)>,
    /// The `garp_group` being read.
    pub garp_group: Option<crate::model::vrrp::GarpGroup>,
    /// The `track_group` being read.
    pub track_group: Option<crate::model::vrrp::TrackGroup>,
    /// Rules without a preference get 16384, 16383, … counted per family (IPv4, IPv6).
    rules_without_preference: [u32; 2],
}

impl State {
    /// The preference keepalived gives the next rule of `family` that has none.
    pub fn next_rule_preference(&mut self, family: AddressFamily) -> u32 {
        let count = &mut self.rules_without_preference[usize::from(family == AddressFamily::Ipv6)];
        let preference = 16384 - *count;
        *count += 1;
        preference
    }
}
