use std::fmt;
use std::net::IpAddr;

/// The address family of a service or destination: the kernel's `AF_INET` or `AF_INET6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressFamily {
    /// IPv4 (`AF_INET`, 2).
    Ipv4,
    /// IPv6 (`AF_INET6`, 10).
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

    /// The kernel's number for this family (`AF_INET` or `AF_INET6`).
    pub const fn to_raw(self) -> u16 {
        match self {
            AddressFamily::Ipv4 => libc::AF_INET as u16,
            AddressFamily::Ipv6 => libc::AF_INET6 as u16,
        }
    }

    /// The family for a kernel number, if IPVS knows it.
    pub const fn from_raw(raw: u16) -> Option<Self> {
        match raw as i32 {
            libc::AF_INET => Some(AddressFamily::Ipv4),
            libc::AF_INET6 => Some(AddressFamily::Ipv6),
            _ => None,
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
