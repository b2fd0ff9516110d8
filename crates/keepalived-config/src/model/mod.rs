//! The typed model of a keepalived configuration.
//!
//! This is what keepalived 2.2.7 would run with: what each process kept after reading the
//! configuration and checking it, defaults applied, invalid parts dropped. The VRRP daemon
//! consumes [`Config::instances`] and the blocks around them; the LVS side consumes
//! [`Config::virtual_servers`]. Durations are [`std::time::Duration`]s, addresses are
//! [`std::net::IpAddr`]s, and each block remembers where it was written.

pub mod bfd;
pub mod global;
pub mod lvs;
pub mod net;
pub mod routing;
pub mod script;
pub mod vrrp;

pub use bfd::BfdInstance;
pub use global::GlobalDefs;
pub use lvs::{
    Checker, CheckerKind, ForwardingMethod, Protocol, RealServer, ServiceAddress, VirtualServer,
    VirtualServerGroup,
};
pub use net::{AddressFamily, IpAddress, IpPrefix};
pub use routing::{Route, Rule};
pub use script::{Script, ScriptUser};
pub use vrrp::{SyncGroup, TrackFile, TrackProcess, VrrpInstance, VrrpScript};

impl Config {
    /// Whether an instance or a sync group tracks the tracker of `kind` named `name`.
    pub fn is_tracked(&self, kind: vrrp::TrackerKind, name: &str) -> bool {
        let named = |r: &vrrp::TrackerRef| r.name == name;
        self.instances
            .iter()
            .any(|i| i.trackers(kind).iter().any(named))
            || self
                .sync_groups
                .iter()
                .any(|g| g.trackers(kind).iter().any(named))
    }

    /// The weight and `reverse` flag of the tracker of `kind` named `name`, if it is defined
    /// (any interface, with weight 0).
    pub fn tracker(&self, kind: vrrp::TrackerKind, name: &str) -> Option<(i32, bool)> {
        use vrrp::TrackerKind;
        match kind {
            TrackerKind::Interface => Some((0, false)),
            TrackerKind::Script => self
                .vrrp_scripts
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.weight, s.weight_reverse)),
            TrackerKind::File => self
                .track_files
                .iter()
                .find(|f| f.name == name)
                .map(|f| (f.weight, f.weight_reverse)),
            TrackerKind::Process => self
                .track_processes
                .iter()
                .find(|t| t.name == name)
                .map(|t| (t.weight, t.weight_reverse)),
            TrackerKind::Bfd => self
                .bfd_instances
                .iter()
                .find(|b| b.name == name)
                .map(|b| (b.weight, b.weight_reverse)),
        }
    }
}

/// A parsed and checked configuration.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// `global_defs` and the top-level global keywords.
    pub global: GlobalDefs,
    /// `static_ipaddress`.
    pub static_addresses: Vec<IpAddress>,
    /// `static_routes`.
    pub static_routes: Vec<Route>,
    /// `static_rules`.
    pub static_rules: Vec<Rule>,
    /// `track_group`s.
    pub track_groups: Vec<vrrp::TrackGroup>,
    /// `garp_group`s.
    pub garp_groups: Vec<vrrp::GarpGroup>,
    /// `linkbeat_interfaces`.
    pub linkbeat_interfaces: Vec<(String, vrrp::LinkbeatMethod)>,
    /// `interface_up_down_delays`.
    pub interface_delays: Vec<vrrp::InterfaceDelay>,
    /// `vrrp_script`s that survived the checks.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `track_file`s.
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process`es.
    pub track_processes: Vec<TrackProcess>,
    /// `bfd_instance`s.
    pub bfd_instances: Vec<BfdInstance>,
    /// `vrrp_sync_group`s.
    pub sync_groups: Vec<SyncGroup>,
    /// `vrrp_instance`s that survived the checks.
    pub instances: Vec<VrrpInstance>,
    /// `SSL`.
    pub ssl: Option<lvs::SslContext>,
    /// `virtual_server_group`s.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server`s that survived the checks.
    pub virtual_servers: Vec<std::sync::Arc<VirtualServer>>,
}
