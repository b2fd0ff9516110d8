//! Addresses, routes and rules: `virtual_ipaddress`, `static_ipaddress`, `virtual_routes`,
//! `static_routes`, `virtual_rules`, `static_rules`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use crate::source::LinePosition;

/// IPv4 or IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AddressFamily {
    /// IPv4 (`inet`).
    #[default]
    Ipv4,
    /// IPv6 (`inet6`).
    Ipv6,
}

impl AddressFamily {
    /// The family of an address.
    pub fn of(address: &IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => AddressFamily::Ipv4,
            IpAddr::V6(_) => AddressFamily::Ipv6,
        }
    }

    /// The longest prefix of the family (32 or 128).
    pub fn max_prefix_len(self) -> u8 {
        match self {
            AddressFamily::Ipv4 => 32,
            AddressFamily::Ipv6 => 128,
        }
    }
}

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressFamily::Ipv4 => "IPv4",
            AddressFamily::Ipv6 => "IPv6",
        })
    }
}

/// An address with a prefix length, e.g. `10.0.0.0/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    /// The address.
    pub address: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.len)
    }
}

/// The scope of an address or route (`scope` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `global` (0), also `universe`.
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
    /// A number.
    Other(u8),
}

impl Scope {
    /// The kernel's number for the scope.
    pub fn value(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(n) => n,
        }
    }
}

/// The `brd` option of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Broadcast {
    /// An explicit broadcast address.
    Address(Ipv4Addr),
    /// `+`: host part all ones.
    HostOnes,
    /// `-`: host part all zeros.
    HostZeros,
}

/// The `preferred_lft` option of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PreferredLifetime {
    /// `forever`.
    Forever,
    /// A number of seconds (0 makes an IPv6 address deprecated).
    Seconds(u32),
}

/// An address to configure: one line of `virtual_ipaddress`, `virtual_ipaddress_excluded` or
/// `static_ipaddress`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAddress {
    /// The address and prefix length (default /32 for IPv4, /128 for IPv6).
    pub prefix: IpPrefix,
    /// `brd`/`broadcast`.
    pub broadcast: Option<Broadcast>,
    /// `dev`: the interface the address goes on. When not written, a VIP goes on its
    /// instance's VMAC interface if it has one, else on the instance's interface; a static
    /// address on `default_interface`.
    pub device: Option<String>,
    /// `scope`.
    pub scope: Option<Scope>,
    /// `label`.
    pub label: Option<String>,
    /// `peer`: the address of the other end of a point-to-point link.
    pub peer: Option<IpAddr>,
    /// `home` (IPv6 home address).
    pub home: bool,
    /// `-nodad`: no duplicate address detection (IPv6).
    pub no_dad: bool,
    /// `mngtmpaddr`.
    pub manage_temporary_address: bool,
    /// `noprefixroute`.
    pub no_prefix_route: bool,
    /// `autojoin`.
    pub autojoin: bool,
    /// `no_track`: a missing address does not put the instance in FAULT.
    pub no_track: bool,
    /// `preferred_lft`. When not written, keepalived adds an IPv6 /128 VIP with a preferred
    /// lifetime of 0 (deprecated, so not chosen as a source address) and others for ever.
    pub preferred_lifetime: Option<PreferredLifetime>,
    /// `use_vmac`: put the address on the instance's VMAC (excluded addresses).
    pub use_vmac: bool,
    /// `track_group` (static addresses).
    pub track_group: Option<String>,
    /// Where it was configured.
    pub position: Option<LinePosition>,
}

impl IpAddress {
    /// An address with no options.
    pub fn new(prefix: IpPrefix) -> Self {
        IpAddress {
            prefix,
            broadcast: None,
            device: None,
            scope: None,
            label: None,
            peer: None,
            home: false,
            no_dad: false,
            manage_temporary_address: false,
            no_prefix_route: false,
            autojoin: false,
            no_track: false,
            preferred_lifetime: None,
            use_vmac: false,
            track_group: None,
            position: None,
        }
    }

    /// The address family.
    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(&self.prefix.address)
    }
}

// The Display forms below are keepalived.conf syntax: a line that reads back as the same value.

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global"),
            Scope::Site => f.write_str("site"),
            Scope::Link => f.write_str("link"),
            Scope::Host => f.write_str("host"),
            Scope::Nowhere => f.write_str("nowhere"),
            Scope::Other(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for Broadcast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broadcast::Address(a) => write!(f, "{a}"),
            Broadcast::HostOnes => f.write_str("+"),
            Broadcast::HostZeros => f.write_str("-"),
        }
    }
}

impl fmt::Display for PreferredLifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreferredLifetime::Forever => f.write_str("forever"),
            PreferredLifetime::Seconds(s) => write!(f, "{s}"),
        }
    }
}

/// Writes ` NAME VALUE` when the value is set.
fn option<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    value: &Option<T>,
) -> fmt::Result {
    match value {
        Some(v) => write!(f, " {name} {v}"),
        None => Ok(()),
    }
}

/// Writes ` NAME` when the flag is set.
fn flag(f: &mut fmt::Formatter<'_>, name: &str, set: bool) -> fmt::Result {
    if set { write!(f, " {name}") } else { Ok(()) }
}

impl fmt::Display for IpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An address with a peer takes its prefix length from the peer.
        match self.peer {
            Some(_) => write!(f, "{}", self.prefix.address)?,
            None => write!(f, "{}", self.prefix)?,
        }
        option(f, "brd", &self.broadcast)?;
        option(f, "dev", &self.device)?;
        option(f, "scope", &self.scope)?;
        option(f, "label", &self.label)?;
        option(f, "peer", &self.peer)?;
        flag(f, "home", self.home)?;
        flag(f, "-nodad", self.no_dad)?;
        flag(f, "mngtmpaddr", self.manage_temporary_address)?;
        flag(f, "noprefixroute", self.no_prefix_route)?;
        flag(f, "autojoin", self.autojoin)?;
        option(f, "preferred_lft", &self.preferred_lifetime)?;
        flag(f, "use_vmac", self.use_vmac)?;
        flag(f, "no_track", self.no_track)?;
        option(f, "track_group", &self.track_group)
    }
}
