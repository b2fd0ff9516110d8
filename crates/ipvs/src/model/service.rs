use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use super::flags::flag_set;
use super::{AddressFamily, Stats};

/// The transport protocol of a service addressed by protocol, address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (`IPPROTO_TCP`, 6).
    Tcp,
    /// UDP (`IPPROTO_UDP`, 17).
    Udp,
    /// SCTP (`IPPROTO_SCTP`, 132).
    Sctp,
    /// Any other IP protocol number, kept so that what the kernel reports is never lost.
    Other(u16),
}

impl Protocol {
    /// The IP protocol number.
    pub const fn to_raw(self) -> u16 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u16,
            Protocol::Udp => libc::IPPROTO_UDP as u16,
            Protocol::Sctp => libc::IPPROTO_SCTP as u16,
            Protocol::Other(number) => number,
        }
    }

    /// The protocol for an IP protocol number.
    pub const fn from_raw(raw: u16) -> Self {
        match raw as i32 {
            libc::IPPROTO_TCP => Protocol::Tcp,
            libc::IPPROTO_UDP => Protocol::Udp,
            libc::IPPROTO_SCTP => Protocol::Sctp,
            _ => Protocol::Other(raw),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("TCP"),
            Protocol::Udp => f.write_str("UDP"),
            Protocol::Sctp => f.write_str("SCTP"),
            Protocol::Other(number) => write!(f, "protocol {number}"),
        }
    }
}

/// What identifies a virtual service: either protocol, virtual address and port, or a
/// firewall mark (`-t/-u/--sctp-service` or `-f` in ipvsadm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKey {
    /// Packets of `protocol` to `address`:`port`.
    Address {
        /// The transport protocol.
        protocol: Protocol,
        /// The virtual address; its family is the service's family.
        address: IpAddr,
        /// The virtual port (0 matches any port, for persistent services).
        port: u16,
    },
    /// Packets carrying firewall mark `mark`, of one address family.
    Fwmark {
        /// The family of the packets the service takes.
        family: AddressFamily,
        /// The firewall mark, never 0 (0 means "no mark" to the kernel).
        mark: u32,
    },
}

impl ServiceKey {
    /// A TCP service.
    pub const fn tcp(address: IpAddr, port: u16) -> Self {
        ServiceKey::Address {
            protocol: Protocol::Tcp,
            address,
            port,
        }
    }

    /// A UDP service.
    pub const fn udp(address: IpAddr, port: u16) -> Self {
        ServiceKey::Address {
            protocol: Protocol::Udp,
            address,
            port,
        }
    }

    /// An SCTP service.
    pub const fn sctp(address: IpAddr, port: u16) -> Self {
        ServiceKey::Address {
            protocol: Protocol::Sctp,
            address,
            port,
        }
    }

    /// A firewall-mark service.
    pub const fn fwmark(family: AddressFamily, mark: u32) -> Self {
        ServiceKey::Fwmark { family, mark }
    }

    /// The service's address family.
    pub fn family(&self) -> AddressFamily {
        match self {
            ServiceKey::Address { address, .. } => AddressFamily::of(address),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Address {
                protocol,
                address: IpAddr::V6(address),
                port,
            } => {
                write!(f, "{protocol} [{address}]:{port}")
            }
            ServiceKey::Address {
                protocol,
                address,
                port,
            } => write!(f, "{protocol} {address}:{port}"),
            ServiceKey::Fwmark {
                family: AddressFamily::Ipv4,
                mark,
            } => write!(f, "FWM {mark}"),
            ServiceKey::Fwmark {
                family: AddressFamily::Ipv6,
                mark,
            } => write!(f, "FWM {mark} IPv6"),
        }
    }
}

flag_set! {
    /// The flags of a virtual service (`IP_VS_SVC_F_*`).
    ///
    /// The meaning of the three scheduler flags depends on the scheduler: `sh` and `mh` call
    /// them fallback and port; the others take them as generic `flag-1` to `flag-3`.
    pub struct ServiceFlags(u32) {
        /// Persistent: a client keeps going to the same destination (ipvsadm `-p`).
        const PERSISTENT = 0x0001;
        /// Set by the kernel on every service it has hashed; ignored when sent.
        const HASHED = 0x0002;
        /// One-packet scheduling, for UDP and fwmark services (ipvsadm `-o`).
        const ONE_PACKET = 0x0004;
        /// Scheduler flag 1 (`sh-fallback`, `mh-fallback`, `flag-1`).
        const SCHED1 = 0x0008;
        /// Scheduler flag 2 (`sh-port`, `mh-port`, `flag-2`).
        const SCHED2 = 0x0010;
        /// Scheduler flag 3 (`flag-3`).
        const SCHED3 = 0x0020;
    }
}

/// The persistence granularity: clients whose addresses agree under this mask share a
/// persistence template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Netmask {
    /// An IPv4 mask such as 255.255.255.0 (sent in network byte order).
    Ipv4(Ipv4Addr),
    /// An IPv6 prefix length such as 64 (sent as a host-order number).
    Ipv6Prefix(u32),
}

impl Netmask {
    /// The kernel's and ipvsadm's default for a family: 255.255.255.255, or prefix 128.
    pub const fn full(family: AddressFamily) -> Self {
        match family {
            AddressFamily::Ipv4 => Netmask::Ipv4(Ipv4Addr::BROADCAST),
            AddressFamily::Ipv6 => Netmask::Ipv6Prefix(128),
        }
    }
}

/// A virtual service.
///
/// Built with [`Service::new`] for a request; read back from the kernel with the counters
/// ([`Service::stats`], [`Service::stats64`]) filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// What the service matches.
    pub key: ServiceKey,
    /// The scheduler's name (`rr`, `wlc`, `sh`, ...).
    pub scheduler: String,
    /// The persistence engine's name (`sip`), if any.
    pub persistence_engine: Option<String>,
    /// The service flags.
    pub flags: ServiceFlags,
    /// The persistence timeout in seconds (meaningful with [`ServiceFlags::PERSISTENT`]).
    pub timeout: u32,
    /// The persistence granularity.
    pub netmask: Netmask,
    /// The counters as the kernel's 32-bit `STATS` nest reports them (replies only).
    pub stats: Option<Stats>,
    /// The counters as the kernel's 64-bit `STATS64` nest reports them (replies only).
    pub stats64: Option<Stats>,
}

impl Service {
    /// The scheduler ipvsadm uses when none is given.
    pub const DEFAULT_SCHEDULER: &'static str = "wlc";
    /// The persistence timeout ipvsadm uses for `-p` without a value (seconds).
    pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;

    /// A service with ipvsadm's defaults: scheduler `wlc`, no flags, no persistence, the
    /// family's full netmask.
    pub fn new(key: ServiceKey) -> Self {
        Service {
            key,
            scheduler: Self::DEFAULT_SCHEDULER.to_owned(),
            persistence_engine: None,
            flags: ServiceFlags::EMPTY,
            timeout: 0,
            netmask: Netmask::full(key.family()),
            stats: None,
            stats64: None,
        }
    }

    /// Sets the scheduler.
    pub fn with_scheduler(mut self, scheduler: impl Into<String>) -> Self {
        self.scheduler = scheduler.into();
        self
    }

    /// Makes the service persistent for `timeout` seconds.
    pub fn with_persistence(mut self, timeout: u32) -> Self {
        self.flags.insert(ServiceFlags::PERSISTENT);
        self.timeout = timeout;
        self
    }

    /// Sets the persistence granularity.
    pub fn with_netmask(mut self, netmask: Netmask) -> Self {
        self.netmask = netmask;
        self
    }

    /// Sets the persistence engine.
    pub fn with_persistence_engine(mut self, engine: impl Into<String>) -> Self {
        self.persistence_engine = Some(engine.into());
        self
    }

    /// Sets flags in addition to those already set.
    pub fn with_flags(mut self, flags: ServiceFlags) -> Self {
        self.flags.insert(flags);
        self
    }

    /// Whether clients stick to a destination.
    pub fn is_persistent(&self) -> bool {
        self.flags.contains(ServiceFlags::PERSISTENT)
    }

    /// The most precise counters the kernel sent: the 64-bit ones when present.
    pub fn statistics(&self) -> Option<&Stats> {
        self.stats64.as_ref().or(self.stats.as_ref())
    }
}
