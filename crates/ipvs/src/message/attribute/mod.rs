//! The IPVS netlink attributes, one module per nest of `linux/ip_vs.h`, each with the
//! conversions between its attributes and the [`crate::model`] type it describes.

mod command;
mod daemon;
mod destination;
mod info;
mod service;
mod stats;

pub use command::CommandAttribute;
pub use daemon::{DaemonAttribute, daemon_from_attributes, daemon_to_attributes};
pub use destination::{
    DestinationAttribute, destination_from_attributes, destination_to_attributes,
};
pub use info::{InfoAttribute, info_from_attributes};
pub use service::{
    FlagsAndMask, ServiceAttribute, service_from_attributes, service_key_to_attributes,
    service_to_attributes,
};
pub use stats::{Counter, StatsAttribute, StatsWidth, stats_from_attributes, stats_to_attributes};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DecodeError, DefaultNla, Emitable, NlaBuffer, NlasIterator, Parseable};

use crate::model::AddressFamily;

/// An attribute this library does not know, kept whole for the `Other` variants.
///
/// The nested and byte-order flags are mutually exclusive (`linux/netlink.h`), and
/// netlink-packet-core cannot write both back: such an attribute is refused rather than
/// silently changed on re-encoding.
fn unknown<T: AsRef<[u8]> + ?Sized>(buffer: &NlaBuffer<&T>) -> Result<DefaultNla, DecodeError> {
    if buffer.nested_flag() && buffer.network_byte_order_flag() {
        return Err(DecodeError::from(format!(
            "attribute {} has both NLA_F_NESTED and NLA_F_NET_BYTEORDER",
            buffer.kind()
        )));
    }
    DefaultNla::parse(buffer)
}

/// Parses the attributes inside a nest.
fn parse_nested<T>(payload: &[u8]) -> Result<Vec<T>, DecodeError>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(payload)
        .map(|nla| nla.and_then(|nla| T::parse(&nla)))
        .collect()
}

/// Writes the attributes of a nest; `buffer` is exactly their length.
fn emit_nested<T: netlink_packet_core::Nla>(attributes: &[T], buffer: &mut [u8]) {
    attributes.emit(buffer)
}

/// The value length of a nest.
fn nested_len<T: netlink_packet_core::Nla>(attributes: &[T]) -> usize {
    attributes.buffer_len()
}

/// Copies `bytes` to the start of an attribute's value buffer, which `Nla::value_len` sized.
fn put(buffer: &mut [u8], bytes: &[u8]) {
    if let Some(target) = buffer.get_mut(..bytes.len()) {
        target.copy_from_slice(bytes);
    }
}

/// Writes a NUL-terminated string (`NLA_PUT_STRING`); its value length is `len + 1`.
fn put_string(buffer: &mut [u8], value: &str) {
    put(buffer, value.as_bytes());
    put(buffer.get_mut(value.len()..).unwrap_or_default(), &[0]);
}

/// The value length of a NUL-terminated string.
fn string_len(value: &str) -> usize {
    value.len() + 1
}

/// Reads a string up to its first NUL (the kernel always terminates them).
fn parse_string(payload: &[u8], what: &str) -> Result<String, DecodeError> {
    let end = payload
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(payload.len());
    String::from_utf8(payload[..end].to_vec())
        .map_err(|_| DecodeError::from(format!("{what} is not UTF-8")))
}

/// Reads a fixed-size value.
fn parse_array<const N: usize>(payload: &[u8], what: &str) -> Result<[u8; N], DecodeError> {
    payload
        .try_into()
        .map_err(|_| DecodeError::from(format!("{what} has {} bytes, expected {N}", payload.len())))
}

fn parse_u8(payload: &[u8], what: &str) -> Result<u8, DecodeError> {
    parse_array::<1>(payload, what).map(|[byte]| byte)
}

fn parse_u16(payload: &[u8], what: &str) -> Result<u16, DecodeError> {
    parse_array(payload, what).map(u16::from_ne_bytes)
}

/// Reads a `__be16` (ports).
fn parse_be16(payload: &[u8], what: &str) -> Result<u16, DecodeError> {
    parse_array(payload, what).map(u16::from_be_bytes)
}

fn parse_u32(payload: &[u8], what: &str) -> Result<u32, DecodeError> {
    parse_array(payload, what).map(u32::from_ne_bytes)
}

/// An address as the kernel's `union nf_inet_addr`: 16 bytes, an IPv4 address in the first 4.
pub type InetAddress = [u8; 16];

/// Encodes an address as `union nf_inet_addr`.
pub fn inet_address(address: &IpAddr) -> InetAddress {
    match address {
        IpAddr::V4(v4) => {
            let mut raw = [0; 16];
            raw[..4].copy_from_slice(&v4.octets());
            raw
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Decodes a `union nf_inet_addr` of a given family.
pub fn ip_address(family: AddressFamily, raw: &InetAddress) -> IpAddr {
    match family {
        AddressFamily::Ipv4 => IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        AddressFamily::Ipv6 => IpAddr::V6(Ipv6Addr::from(*raw)),
    }
}

/// The family for an `AF_*` number, or a decode error naming where it was found.
fn address_family(raw: u16, what: &str) -> Result<AddressFamily, DecodeError> {
    AddressFamily::from_raw(raw)
        .ok_or_else(|| DecodeError::from(format!("{what}: unknown address family {raw}")))
}
