//! VRRP: instances, sync groups, trackers and the blocks around them.

use std::net::IpAddr;
use std::time::Duration;

use super::net::{AddressFamily, IpAddress};
use super::routing::{Route, Rule};
use super::script::{Script, ScriptUser};
use crate::source::LinePosition;

/// `vrrp_script NAME { … }`: a command run periodically whose result tracks instances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpScript {
    /// The name used by `track_script`.
    pub name: String,
    /// `script`.
    pub script: Script,
    /// `interval` (1 s, whole seconds).
    pub interval: Duration,
    /// `timeout` (= interval).
    pub timeout: Duration,
    /// `weight` (0: failure means FAULT).
    pub weight: i32,
    /// `weight … reverse`.
    pub weight_reverse: bool,
    /// `rise` (1).
    pub rise: u32,
    /// `fall` (1).
    pub fall: u32,
    /// `user`, or the global script user.
    pub user: Option<ScriptUser>,
    /// `init_fail`: start in the failed state.
    pub init_fail: bool,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

/// `track_file NAME { … }` (also `vrrp_track_file`): a file holding a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackFile {
    /// The name used by `track_file` in instances and `FILE_CHECK`.
    pub name: String,
    /// `file`.
    pub path: String,
    /// `weight` (1).
    pub weight: i32,
    /// `weight … reverse`.
    pub weight_reverse: bool,
    /// `init_file [VALUE] [overwrite]`.
    pub init_file: Option<(i64, bool)>,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

/// How `vrrp_track_process` compares process parameters (`param_match`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ParamMatch {
    /// All parameters must match (default).
    #[default]
    Exact,
    /// The configured parameters must be the first ones.
    Initial,
    /// The configured parameters may match a prefix of the last one.
    Partial,
}

/// `vrrp_track_process NAME { … }`: whether enough copies of a process run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackProcess {
    /// The name used by `track_process`.
    pub name: String,
    /// `process`: the program and optional parameters.
    pub process: Vec<String>,
    /// `param_match`.
    pub param_match: ParamMatch,
    /// `weight` (0).
    pub weight: i32,
    /// `weight … reverse`.
    pub weight_reverse: bool,
    /// `quorum` (1).
    pub quorum: u32,
    /// `quorum_max`.
    pub quorum_max: Option<u32>,
    /// `delay`.
    pub delay: Option<Duration>,
    /// `terminate_delay`.
    pub terminate_delay: Option<Duration>,
    /// `fork_delay`.
    pub fork_delay: Option<Duration>,
    /// `full_command`.
    pub full_command: bool,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

/// What an instance or sync group can track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackerKind {
    /// A network interface (`track_interface`).
    Interface,
    /// A `vrrp_script` (`track_script`).
    Script,
    /// A `track_file` (`track_file`).
    File,
    /// A `vrrp_track_process` (`track_process`).
    Process,
    /// A `bfd_instance` (`track_bfd`).
    Bfd,
}

/// An instance's or sync group's reference to a tracker, with an optional weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerRef {
    /// The tracker's name (script, file, process, BFD instance or interface).
    pub name: String,
    /// `weight N`, overriding the tracker's own.
    pub weight: Option<i32>,
    /// `reverse`.
    pub reverse: bool,
}

/// The initial state of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InitialState {
    /// `BACKUP` (default).
    #[default]
    Backup,
    /// `MASTER`.
    Master,
}

/// VRRP authentication (VRRPv2 only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// `auth_type PASS`: the password is sent in clear, at most 8 bytes, zero-padded.
    Password([u8; 8]),
    /// `auth_type AH`: IPSEC AH with the password as key material.
    Ah([u8; 8]),
}

/// `use_vmac`: a macvlan interface carrying the instance's virtual MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vmac {
    /// The interface name (`vrrp.<VRID>` unless given).
    pub name: Option<String>,
    /// A MAC address given instead of `00:00:5e:00:01:<VRID>`.
    pub mac: Option<[u8; 6]>,
    /// `vmac_xmit_base`: send and receive adverts on the base interface.
    pub xmit_base: bool,
    /// `use_vmac_addr`.
    pub use_vmac_addr: bool,
}

/// `use_ipvlan`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipvlan {
    /// The interface name.
    pub name: Option<String>,
    /// An address for the interface.
    pub address: Option<String>,
    /// `bridge`, `private` or `vepa`.
    pub mode: Option<String>,
}

/// A unicast peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnicastPeer {
    /// The peer's address.
    pub address: IpAddr,
    /// `min_ttl`.
    pub min_ttl: Option<u8>,
    /// `max_ttl`.
    pub max_ttl: Option<u8>,
}

/// The notify scripts of an instance or sync group.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NotifyScripts {
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
    /// `notify_deleted` (instances only).
    pub deleted: Option<Script>,
    /// `notify_master_rx_lower_pri` (instances only).
    pub master_rx_lower_priority: Option<Script>,
    /// `notify`: run after the others with `INSTANCE|GROUP NAME STATE PRIORITY` appended.
    pub any: Option<Script>,
}

/// Gratuitous ARP / unsolicited NA settings of an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GarpSettings {
    /// `garp_master_delay`: delay of the second burst after becoming master.
    pub master_delay: Duration,
    /// `garp_master_repeat`: GARPs per burst.
    pub master_repeat: u32,
    /// `garp_master_refresh`: periodic GARP while master (zero: none).
    pub master_refresh: Duration,
    /// `garp_master_refresh_repeat`.
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_delay`.
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`.
    pub lower_prio_repeat: u32,
    /// `garp_extra_if`: interval and whether on all interfaces.
    pub extra_if: Option<(Duration, bool)>,
}

/// VRRP protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VrrpVersion {
    /// RFC 3768 (default for IPv4).
    #[default]
    V2,
    /// RFC 5798 (always for IPv6).
    V3,
}

/// `vrrp_instance NAME { … }`, with every default applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpInstance {
    /// The instance name.
    pub name: String,
    /// `state` (BACKUP).
    pub initial_state: InitialState,
    /// `interface`.
    pub interface: Option<String>,
    /// `virtual_router_id`.
    pub vrid: u8,
    /// `priority` (100; 255 = address owner).
    pub priority: u8,
    /// `advert_int` (1 s).
    pub advert_interval: Duration,
    /// `version` or the global `vrrp_version`; IPv6 instances are always version 3.
    pub version: VrrpVersion,
    /// The family of the virtual addresses.
    pub family: AddressFamily,
    /// `authentication`.
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress`.
    pub virtual_addresses: Vec<IpAddress>,
    /// `virtual_ipaddress_excluded`: added and removed like VIPs, not carried in adverts.
    pub excluded_addresses: Vec<IpAddress>,
    /// `virtual_routes`.
    pub virtual_routes: Vec<Route>,
    /// `virtual_rules`.
    pub virtual_rules: Vec<Rule>,
    /// Preemption (on unless `nopreempt`).
    pub preempt: bool,
    /// `preempt_delay`.
    pub preempt_delay: Duration,
    /// `track_interface`.
    pub track_interfaces: Vec<TrackerRef>,
    /// `track_script`.
    pub track_scripts: Vec<TrackerRef>,
    /// `track_file`.
    pub track_files: Vec<TrackerRef>,
    /// `track_process`.
    pub track_processes: Vec<TrackerRef>,
    /// `track_bfd`.
    pub track_bfds: Vec<TrackerRef>,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `mcast_src_ip` / `unicast_src_ip`.
    pub source_address: Option<IpAddr>,
    /// `unicast_peer`; empty means multicast.
    pub unicast_peers: Vec<UnicastPeer>,
    /// The multicast group (`mcast_dst_ip`, or the global group of the family).
    pub multicast_group: IpAddr,
    /// `unicast_ttl` (255).
    pub unicast_ttl: u8,
    /// `unicast_fault_no_peer`.
    pub unicast_fault_no_peer: bool,
    /// `check_unicast_src` (or the global setting).
    pub check_unicast_source: bool,
    /// `track_src_ip`.
    pub track_source_address: bool,
    /// `old_unicast_checksum`.
    pub old_unicast_checksum: bool,
    /// Notify scripts.
    pub notify: NotifyScripts,
    /// `smtp_alert` (or the global default).
    pub smtp_alert: bool,
    /// `notify_priority_changes`.
    pub notify_priority_changes: bool,
    /// Accept mode: traffic to the VIPs is accepted when not the address owner (on, unless
    /// strict mode).
    pub accept: bool,
    /// RFC-strict mode (`strict_mode` or the global `vrrp_strict`).
    pub strict: bool,
    /// `skip_check_adv_addr`.
    pub skip_check_adv_addr: bool,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: bool,
    /// `use_vmac`.
    pub vmac: Option<Vmac>,
    /// `use_ipvlan`.
    pub ipvlan: Option<Ipvlan>,
    /// `vrf`.
    pub vrf: Option<String>,
    /// GARP settings (instance values or the global ones).
    pub garp: GarpSettings,
    /// `down_timer_adverts` (3).
    pub down_timer_adverts: u32,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `native_ipv6`.
    pub native_ipv6: bool,
    /// `kernel_rx_buf_size`.
    pub kernel_rx_buf_size: Option<u64>,
    /// `lvs_sync_daemon_interface` (deprecated).
    pub lvs_sync_daemon_interface: Option<String>,
    /// `debug`.
    pub debug: u32,
    /// `linkbeat_use_polling`.
    pub linkbeat_use_polling: bool,
    /// The sync group the instance belongs to.
    pub sync_group: Option<String>,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

impl VrrpInstance {
    /// The references to trackers of `kind`.
    pub fn trackers(&self, kind: TrackerKind) -> &[TrackerRef] {
        match kind {
            TrackerKind::Interface => &self.track_interfaces,
            TrackerKind::Script => &self.track_scripts,
            TrackerKind::File => &self.track_files,
            TrackerKind::Process => &self.track_processes,
            TrackerKind::Bfd => &self.track_bfds,
        }
    }

    /// The references to trackers of `kind`, to change.
    pub fn trackers_mut(&mut self, kind: TrackerKind) -> &mut Vec<TrackerRef> {
        match kind {
            TrackerKind::Interface => &mut self.track_interfaces,
            TrackerKind::Script => &mut self.track_scripts,
            TrackerKind::File => &mut self.track_files,
            TrackerKind::Process => &mut self.track_processes,
            TrackerKind::Bfd => &mut self.track_bfds,
        }
    }
}

/// `vrrp_sync_group NAME { … }`: instances that change state together.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SyncGroup {
    /// The name.
    pub name: String,
    /// `group`: the member instances.
    pub members: Vec<String>,
    /// `track_interface`.
    pub track_interfaces: Vec<TrackerRef>,
    /// `track_script`.
    pub track_scripts: Vec<TrackerRef>,
    /// `track_file`.
    pub track_files: Vec<TrackerRef>,
    /// `track_process`.
    pub track_processes: Vec<TrackerRef>,
    /// `track_bfd`.
    pub track_bfds: Vec<TrackerRef>,
    /// Notify scripts.
    pub notify: NotifyScripts,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `sync_group_tracking_weight`.
    pub tracking_weight: bool,
    /// `notify_priority_changes`.
    pub notify_priority_changes: bool,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

impl SyncGroup {
    /// The references to trackers of `kind`.
    pub fn trackers(&self, kind: TrackerKind) -> &[TrackerRef] {
        match kind {
            TrackerKind::Interface => &self.track_interfaces,
            TrackerKind::Script => &self.track_scripts,
            TrackerKind::File => &self.track_files,
            TrackerKind::Process => &self.track_processes,
            TrackerKind::Bfd => &self.track_bfds,
        }
    }

    /// The references to trackers of `kind`, to change.
    pub fn trackers_mut(&mut self, kind: TrackerKind) -> &mut Vec<TrackerRef> {
        match kind {
            TrackerKind::Interface => &mut self.track_interfaces,
            TrackerKind::Script => &mut self.track_scripts,
            TrackerKind::File => &mut self.track_files,
            TrackerKind::Process => &mut self.track_processes,
            TrackerKind::Bfd => &mut self.track_bfds,
        }
    }
}

/// `garp_group { … }`: GARP pacing for interfaces.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GarpGroup {
    /// `garp_interval`.
    pub garp_interval: Option<Duration>,
    /// `gna_interval`.
    pub gna_interval: Option<Duration>,
    /// `interface` / `interfaces`.
    pub interfaces: Vec<String>,
    /// The group's number when its interfaces were given with `interfaces { … }` (they are
    /// then paced together); 0 otherwise.
    pub aggregation_group: u32,
}

/// `track_group NAME { group { … } }`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TrackGroup {
    /// The name.
    pub name: String,
    /// The instances in the group.
    pub instances: Vec<String>,
}

/// How `linkbeat_interfaces` polls an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LinkbeatMethod {
    /// MII ioctl (default).
    #[default]
    Mii,
    /// ethtool.
    Ethtool,
    /// SIOCGIFFLAGS.
    Ioctl,
}

/// One line of `interface_up_down_delays`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceDelay {
    /// The interface.
    pub interface: String,
    /// Delay before acting on the interface going down.
    pub down: Duration,
    /// Delay before acting on the interface coming up.
    pub up: Duration,
}
