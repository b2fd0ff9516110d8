//! LVS: virtual servers, their groups, real servers and health checkers.

use std::net::IpAddr;
use std::time::Duration;

use super::net::AddressFamily;
use super::script::{Script, ScriptUser};
use crate::source::LinePosition;

/// The transport protocol of a virtual server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP (keepalived's default when `protocol` is missing).
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The lower-case name keepalived prints (`tcp`, `udp`, `sctp`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// The encapsulation of the tunnel forwarding method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TunnelType {
    /// IP in IP (default).
    #[default]
    Ipip,
    /// GUE, to a UDP port.
    Gue {
        /// The destination port.
        port: u16,
    },
    /// GRE.
    Gre,
}

/// The checksum option of a GUE/GRE tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelChecksum {
    /// `nocsum`.
    None,
    /// `csum`.
    Checksum,
    /// `remcsum`.
    Remote,
}

/// How IPVS forwards packets to real servers (`lvs_method` / `lb_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ForwardingMethod {
    /// Masquerading (default).
    #[default]
    Nat,
    /// Direct routing.
    DirectRouting,
    /// Tunnelling.
    Tunnel {
        /// The encapsulation.
        tunnel_type: TunnelType,
        /// The checksum option.
        checksum: Option<TunnelChecksum>,
    },
}

/// What a virtual server is keyed on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServiceAddress {
    /// `virtual_server ADDR [PORT]`.
    Address {
        /// The address.
        address: IpAddr,
        /// The port (0 for all ports, with persistence).
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

/// Scheduler flags (`ops`, `flag-1`…, and for the sh and mh schedulers `sh-port`,
/// `sh-fallback`, `mh-port`, `mh-fallback`; `hashed` is accepted and has no effect).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SchedulerFlags {
    /// `ops`: one-packet scheduling.
    pub one_packet: bool,
    /// `flag-1`, or `sh-fallback` / `mh-fallback` with that scheduler.
    pub flag_1: bool,
    /// `flag-2`, or `sh-port` / `mh-port` with that scheduler.
    pub flag_2: bool,
    /// `flag-3`.
    pub flag_3: bool,
}

/// Persistence of a virtual server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Persistence {
    /// `persistence_timeout` (360 s when given without a value).
    pub timeout: Duration,
    /// `persistence_granularity`, as a mask: an IPv4 address, or for an IPv6 service the
    /// IPv6 mask of the prefix length given.
    pub granularity: Option<IpAddr>,
    /// `persistence_engine`.
    pub engine: Option<String>,
}

/// `sorry_server`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SorryServer {
    /// The address.
    pub address: IpAddr,
    /// The port.
    pub port: u16,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// `sorry_server_lvs_method`.
    pub forwarding: Option<ForwardingMethod>,
}

/// What a virtual server, and a real server after it, passes on to the checkers under it
/// that do not set their own timing. Unset values fall to each checker's own default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimingDefaults {
    /// `connect_timeout` (5 s).
    pub connect_timeout: Duration,
    /// `delay_loop` (60 s).
    pub delay_loop: Duration,
    /// `retry` (unset: 1, 0 for MISC_CHECK, 3 for DNS_CHECK).
    pub retry: Option<u32>,
    /// `delay_before_retry` (unset: 1 s, 3 s for HTTP_GET and SSL_GET, the delay loop for
    /// DNS_CHECK).
    pub delay_before_retry: Option<Duration>,
    /// `warmup` (unset: the checker's delay loop).
    pub warmup: Option<Duration>,
}

impl Default for TimingDefaults {
    fn default() -> Self {
        TimingDefaults {
            connect_timeout: Duration::from_secs(5),
            delay_loop: Duration::from_secs(60),
            retry: None,
            delay_before_retry: None,
            warmup: None,
        }
    }
}

/// The timing a checker runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckTiming {
    /// `connect_timeout` (5 s).
    pub connect_timeout: Duration,
    /// `retry`.
    pub retry: u32,
    /// `delay_before_retry`.
    pub delay_before_retry: Duration,
    /// `warmup` (= delay_loop).
    pub warmup: Duration,
    /// `delay_loop` (60 s).
    pub delay_loop: Duration,
}

/// `virtual_server … { … }`, with keepalived's defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualServer {
    /// What the service is keyed on.
    pub service: ServiceAddress,
    /// `protocol` (UDP when missing, as keepalived does).
    pub protocol: Protocol,
    /// `lvs_sched` / `lb_algo` (wlc when missing).
    pub scheduler: String,
    /// Scheduler flags.
    pub scheduler_flags: SchedulerFlags,
    /// `lvs_method` / `lb_kind` (NAT when missing).
    pub forwarding: ForwardingMethod,
    /// Persistence.
    pub persistence: Option<Persistence>,
    /// `ip_family` (for fwmark services).
    pub family: Option<AddressFamily>,
    /// `quorum` (1).
    pub quorum: u32,
    /// `hysteresis` (0).
    pub hysteresis: u32,
    /// `quorum_up`.
    pub quorum_up: Option<Box<Script>>,
    /// `quorum_down`.
    pub quorum_down: Option<Box<Script>>,
    /// `alpha`.
    pub alpha: bool,
    /// `omega`.
    pub omega: bool,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// `weight` (1).
    pub weight: u32,
    /// Checker timing for the real servers' checkers.
    pub timing: TimingDefaults,
    /// `real_server`s.
    pub real_servers: Vec<RealServer>,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

impl VirtualServer {
    /// The address family of the service: its address's; for a fwmark, `ip_family`, else the
    /// first real server's (as keepalived decides); for a group, its first entry's.
    pub fn address_family(&self, groups: &[VirtualServerGroup]) -> AddressFamily {
        let first_real_server = || {
            self.real_servers
                .first()
                .map(|rs| AddressFamily::of(&rs.address))
        };
        let family = match &self.service {
            ServiceAddress::Address { address, .. } => Some(AddressFamily::of(address)),
            ServiceAddress::Fwmark(_) => self.family.or_else(first_real_server),
            ServiceAddress::Group(name) => groups
                .iter()
                .filter(|g| &g.name == name)
                .flat_map(|g| &g.entries)
                .find_map(|e| match e {
                    GroupEntry::Range { first, .. } => Some(AddressFamily::of(first)),
                    GroupEntry::Fwmark { family, .. } => *family,
                })
                .or(self.family)
                .or_else(first_real_server),
        };
        family.unwrap_or_default()
    }
}

/// `real_server ADDR [PORT] { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealServer {
    /// The address.
    pub address: IpAddr,
    /// The port (the virtual server's if not given).
    pub port: u16,
    /// `weight` (1).
    pub weight: i32,
    /// `lvs_method` (the virtual server's if not given).
    pub forwarding: ForwardingMethod,
    /// `inhibit_on_failure` (the virtual server's if not given).
    pub inhibit_on_failure: bool,
    /// `notify_up`.
    pub notify_up: Option<Box<Script>>,
    /// `notify_down`.
    pub notify_down: Option<Box<Script>>,
    /// `uthreshold`.
    pub upper_threshold: Option<u32>,
    /// `lthreshold`.
    pub lower_threshold: Option<u32>,
    /// `alpha`.
    pub alpha: bool,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// Checker timing for its checkers (what it does not set comes from the virtual server).
    pub timing: TimingDefaults,
    /// Health checkers (none: the server is always up).
    pub checkers: Vec<Checker>,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

/// Connection options of a checker.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConnectionOptions {
    /// `connect_ip` (the real server's address).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port` (the real server's port).
    pub connect_port: Option<u16>,
    /// `bindto`.
    pub bind_to: Option<IpAddr>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `bind_if`.
    pub bind_interface: Option<String>,
    /// `fwmark`.
    pub fwmark: Option<u32>,
}

/// One `url { … }` of an HTTP or SSL check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlCheck {
    /// `path`.
    pub path: String,
    /// `digest` (MD5, 32 hex digits).
    pub digest: Option<String>,
    /// `status_code`: ranges of accepted codes (default 200-299).
    pub status_codes: Vec<(u16, u16)>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
    /// `regex_options`.
    pub regex_options: Vec<String>,
    /// `regex_min_offset`.
    pub regex_min_offset: Option<u32>,
    /// `regex_max_offset`.
    pub regex_max_offset: Option<u32>,
    /// `regex_stack`.
    pub regex_stack: Option<(u32, u32)>,
}

impl UrlCheck {
    /// A `url` block with its `path` and nothing else said: status 200-299 accepted, no digest,
    /// no regex.
    pub fn new(path: impl Into<String>) -> Self {
        UrlCheck {
            path: path.into(),
            digest: None,
            status_codes: Vec::new(),
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_options: Vec::new(),
            regex_min_offset: None,
            regex_max_offset: None,
            regex_stack: None,
        }
    }
}

/// `HTTP_GET` / `SSL_GET`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HttpCheck {
    /// `url` blocks.
    pub urls: Vec<UrlCheck>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `http_protocol` (1.0, 1.0C or 1.1).
    pub http_protocol: Option<String>,
    /// `fast_recovery`.
    pub fast_recovery: bool,
    /// `enable_sni` (SSL_GET).
    pub enable_sni: bool,
}

/// `MISC_CHECK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MiscCheck {
    /// `misc_path`.
    pub path: Option<Script>,
    /// `misc_timeout` (delay_loop).
    pub timeout: Option<Duration>,
    /// `misc_dynamic`.
    pub dynamic: bool,
    /// `user`.
    pub user: Option<ScriptUser>,
}

/// `SMTP_CHECK`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SmtpCheck {
    /// `helo_name`.
    pub helo_name: Option<String>,
}

/// `DNS_CHECK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsCheck {
    /// `type` (SOA).
    pub query_type: String,
    /// `name` (`.`).
    pub name: String,
}

/// `UDP_CHECK`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UdpCheck {
    /// `payload`.
    pub payload: Option<Vec<u8>>,
    /// `require_reply`: the expected data and the mask of bytes to compare (`X` nibbles).
    pub require_reply: Option<(Vec<u8>, Vec<u8>)>,
    /// `min_reply_length` (0).
    pub min_reply_length: u32,
    /// `max_reply_length` (255).
    pub max_reply_length: u32,
}

/// `FILE_CHECK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCheck {
    /// `track_file`.
    pub track_file: String,
    /// `weight`.
    pub weight: Option<i32>,
    /// `weight … reverse`.
    pub reverse: bool,
    /// `dynamic`.
    pub dynamic: bool,
}

/// The kind of a checker and its own options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckerKind {
    /// `HTTP_GET`.
    HttpGet(HttpCheck),
    /// `SSL_GET`.
    SslGet(HttpCheck),
    /// `TCP_CHECK`.
    Tcp,
    /// `MISC_CHECK` (boxed: the largest kind, and the rarest).
    Misc(Box<MiscCheck>),
    /// `SMTP_CHECK`.
    Smtp(SmtpCheck),
    /// `DNS_CHECK`.
    Dns(DnsCheck),
    /// `UDP_CHECK`.
    Udp(UdpCheck),
    /// `PING_CHECK`.
    Ping,
    /// `FILE_CHECK`.
    File(FileCheck),
    /// `BFD_CHECK`: the BFD instance name.
    Bfd(Option<String>),
}

impl CheckerKind {
    /// The configuration keyword of the checker.
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckerKind::HttpGet(_) => "HTTP_GET",
            CheckerKind::SslGet(_) => "SSL_GET",
            CheckerKind::Tcp => "TCP_CHECK",
            CheckerKind::Misc(_) => "MISC_CHECK",
            CheckerKind::Smtp(_) => "SMTP_CHECK",
            CheckerKind::Dns(_) => "DNS_CHECK",
            CheckerKind::Udp(_) => "UDP_CHECK",
            CheckerKind::Ping => "PING_CHECK",
            CheckerKind::File(_) => "FILE_CHECK",
            CheckerKind::Bfd(_) => "BFD_CHECK",
        }
    }
}

/// A health checker of a real server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checker {
    /// The kind and its options.
    pub kind: CheckerKind,
    /// Connection options.
    pub connection: ConnectionOptions,
    /// Timing, with the real server's values as defaults.
    pub timing: CheckTiming,
    /// `alpha`.
    pub alpha: bool,
    /// `log_all_failures`.
    pub log_all_failures: bool,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

/// One entry of a `virtual_server_group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEntry {
    /// An address range (a single address is a range of one) and a port.
    Range {
        /// The first address.
        first: IpAddr,
        /// The last address.
        last: IpAddr,
        /// The port (0: none given).
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// The family, if given.
        family: Option<AddressFamily>,
    },
}

/// `virtual_server_group NAME { … }`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct VirtualServerGroup {
    /// The name.
    pub name: String,
    /// The entries.
    pub entries: Vec<GroupEntry>,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

/// `SSL { … }`: the context for `SSL_GET`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SslContext {
    /// `password`.
    pub password: Option<String>,
    /// `ca`.
    pub ca: Option<String>,
    /// `certificate`.
    pub certificate: Option<String>,
    /// `key`.
    pub key: Option<String>,
}
