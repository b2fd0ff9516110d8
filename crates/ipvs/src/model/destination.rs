use std::net::IpAddr;

use super::flags::flag_set;
use super::{AddressFamily, Stats};

/// How the director forwards packets to a destination (the low bits of the kernel's
/// connection flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForwardingMethod {
    /// NAT (`-m`, "Masq").
    Masquerade,
    /// Delivered to this host ("Local"); the kernel picks it for local addresses.
    Local,
    /// IP-in-IP, GUE or GRE tunnelling (`-i`, "Tunnel").
    Tunnel,
    /// Direct routing (`-g`, "Route"), ipvsadm's default.
    DirectRoute,
    /// A value this library does not know, kept as the kernel sent it.
    Other(u32),
}

impl ForwardingMethod {
    /// The kernel's value (`IP_VS_CONN_F_MASQ` .. `IP_VS_CONN_F_DROUTE`).
    pub const fn to_raw(self) -> u32 {
        match self {
            ForwardingMethod::Masquerade => 0,
            ForwardingMethod::Local => 1,
            ForwardingMethod::Tunnel => 2,
            ForwardingMethod::DirectRoute => 3,
            ForwardingMethod::Other(raw) => raw,
        }
    }

    /// The method for a kernel value.
    pub const fn from_raw(raw: u32) -> Self {
        match raw {
            0 => ForwardingMethod::Masquerade,
            1 => ForwardingMethod::Local,
            2 => ForwardingMethod::Tunnel,
            3 => ForwardingMethod::DirectRoute,
            _ => ForwardingMethod::Other(raw),
        }
    }
}

/// The encapsulation of a tunnelled destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelType {
    /// IP-in-IP, the default.
    Ipip,
    /// Generic UDP Encapsulation; needs a port.
    Gue,
    /// GRE.
    Gre,
    /// A value this library does not know, kept as the kernel sent it.
    Other(u8),
}

impl TunnelType {
    /// The kernel's value (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
    pub const fn to_raw(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
            TunnelType::Other(raw) => raw,
        }
    }

    /// The type for a kernel value.
    pub const fn from_raw(raw: u8) -> Self {
        match raw {
            0 => TunnelType::Ipip,
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            _ => TunnelType::Other(raw),
        }
    }
}

flag_set! {
    /// Tunnel encapsulation flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`); empty means no checksum.
    pub struct TunnelFlags(u16) {
        /// Checksum the encapsulation (`--tun-csum`).
        const CHECKSUM = 0x0001;
        /// Remote checksum offload, GUE only (`--tun-remcsum`).
        const REMOTE_CHECKSUM = 0x0002;
    }
}

/// The tunnel settings of a destination. The kernel keeps them for every destination; they
/// only matter with [`ForwardingMethod::Tunnel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// The encapsulation.
    pub kind: TunnelType,
    /// The GUE destination port (host order); 0 otherwise.
    pub port: u16,
    /// The checksum flags.
    pub flags: TunnelFlags,
}

impl Default for Tunnel {
    fn default() -> Self {
        Tunnel {
            kind: TunnelType::Ipip,
            port: 0,
            flags: TunnelFlags::EMPTY,
        }
    }
}

/// A destination (real server) of a virtual service.
///
/// Built with [`Destination::new`] for a request; read back from the kernel with the
/// connection counters and statistics filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The real server's address; it may be of another family than the service when tunnelling.
    pub address: IpAddr,
    /// The real server's port (host order).
    pub port: u16,
    /// How packets reach it.
    pub forwarding: ForwardingMethod,
    /// Its weight; 0 takes it out of scheduling. The kernel rejects negative weights.
    pub weight: i32,
    /// Stop sending new connections above this many (0: no limit).
    pub upper_threshold: u32,
    /// Resume below this many connections (0: no limit).
    pub lower_threshold: u32,
    /// Tunnel settings.
    pub tunnel: Tunnel,
    /// Established connections (replies only).
    pub active_connections: u32,
    /// Other connections (replies only).
    pub inactive_connections: u32,
    /// Persistence templates pointing here (replies only).
    pub persistent_connections: u32,
    /// The counters from the kernel's 32-bit `STATS` nest (replies only).
    pub stats: Option<Stats>,
    /// The counters from the kernel's 64-bit `STATS64` nest (replies only).
    pub stats64: Option<Stats>,
}

impl Destination {
    /// A destination with ipvsadm's defaults: direct routing, weight 1, no thresholds,
    /// IP-in-IP tunnel settings.
    pub fn new(address: IpAddr, port: u16) -> Self {
        Destination {
            address,
            port,
            forwarding: ForwardingMethod::DirectRoute,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel: Tunnel::default(),
            active_connections: 0,
            inactive_connections: 0,
            persistent_connections: 0,
            stats: None,
            stats64: None,
        }
    }

    /// Sets the forwarding method.
    pub fn with_forwarding(mut self, forwarding: ForwardingMethod) -> Self {
        self.forwarding = forwarding;
        self
    }

    /// Sets the weight.
    pub fn with_weight(mut self, weight: i32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the upper and lower connection thresholds.
    pub fn with_thresholds(mut self, upper: u32, lower: u32) -> Self {
        self.upper_threshold = upper;
        self.lower_threshold = lower;
        self
    }

    /// Tunnels to this destination with these settings.
    pub fn with_tunnel(mut self, tunnel: Tunnel) -> Self {
        self.forwarding = ForwardingMethod::Tunnel;
        self.tunnel = tunnel;
        self
    }

    /// The destination's address family.
    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(&self.address)
    }

    /// The most precise counters the kernel sent: the 64-bit ones when present.
    pub fn statistics(&self) -> Option<&Stats> {
        self.stats64.as_ref().or(self.stats.as_ref())
    }
}
