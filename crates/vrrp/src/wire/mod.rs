//! Encoding and decoding of everything a VRRP router puts on the wire, byte-compatible with keepalived 2.2.7.
//!
//! Decoding never panics: every function that reads bytes checks lengths first and returns a [`WireError`].
//!
//! * [`advert`]: VRRPv2/v3 advertisements (the VRRP message itself).
//! * [`ipv4`]: the IPv4 header keepalived writes for its adverts (IP_HDRINCL) and reads on receive.
//! * [`ah`] and [`md5`]: keepalived's IPsec-AH authentication of VRRPv2 adverts.
//! * [`datagram`]: taking a received datagram apart into IP facts and the VRRP message.
//! * [`ethernet`], [`arp`], [`ndisc`]: gratuitous ARPs and unsolicited Neighbour Advertisements.

pub mod advert;
pub mod ah;
pub mod arp;
pub mod checksum;
pub mod datagram;
pub mod ethernet;
pub mod ipv4;
pub mod md5;
pub mod ndisc;

pub use advert::{AdvertInterval, AdvertPacket, Advertisement, AuthType, Family, Version};
pub use datagram::{Datagram, Envelope};
pub use ethernet::MacAddr;

/// Why bytes could not be decoded, or a value could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("{what} truncated: {available} bytes, need {needed}")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    #[error("VRRP message of {available} bytes, its header declares {declared}")]
    ShorterThanDeclared { declared: usize, available: usize },
    #[error("not an IPv4 packet (version {0})")]
    NotIpv4(u8),
    #[error("invalid IPv4 header length {0}")]
    BadHeaderLength(usize),
    #[error("unexpected IP protocol {0}")]
    UnexpectedProtocol(u8),
    #[error("unexpected ethertype {0:#06x}")]
    UnexpectedEthertype(u16),
    #[error("not an Ethernet/IPv4 ARP message")]
    UnsupportedArp,
    #[error("unknown VRRP version {0}")]
    UnknownVersion(u8),
    #[error("unknown packet type {0}")]
    UnknownType(u8),
    #[error("addresses of different families in one packet")]
    MixedFamilies,
    #[error("{0} addresses do not fit the 8-bit count")]
    TooManyAddresses(usize),
    #[error("advertisement interval {0:?} does not fit the field")]
    IntervalOutOfRange(AdvertInterval),
    #[error("packet of {0} bytes is too long for IPv4")]
    TooLong(usize),
}
