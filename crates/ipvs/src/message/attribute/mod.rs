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

use netlink_packet_core::{
    DecodeError, DefaultNla, NLA_ALIGNTO, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HEADER_SIZE,
    NLA_TYPE_MASK, Nla, NlaBuffer, NlasIterator, Parseable, nla_align,
};

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

/// Writes attributes one after the other (a nest's value, or a message's attributes);
/// `buffer` is exactly their length.
///
/// The bytes are those of netlink-packet-core's `Emitable for &[T]`, which asks each attribute
/// for its value length five times; a nest's length sums its children's, so requests were
/// spending most of their encoding there. Here it is asked once. As there, a kind with both
/// flags keeps only `NLA_F_NESTED`.
pub(crate) fn emit_nested<T: Nla>(attributes: &[T], buffer: &mut [u8]) {
    let mut start = 0;
    for attribute in attributes {
        let value_len = attribute.value_len();
        let end = start + NLA_HEADER_SIZE + nla_align!(value_len);
        let Some(slot) = buffer.get_mut(start..end) else {
            return;
        };
        let kind = attribute.kind();
        let flag = if kind & NLA_F_NESTED != 0 {
            NLA_F_NESTED
        } else {
            kind & NLA_F_NET_BYTEORDER
        };
        let (header, rest) = slot.split_at_mut(NLA_HEADER_SIZE);
        // The length leaves out the padding.
        header[..2].copy_from_slice(&((NLA_HEADER_SIZE + value_len) as u16).to_ne_bytes());
        header[2..].copy_from_slice(&((kind & NLA_TYPE_MASK) | flag).to_ne_bytes());
        let (value, padding) = rest.split_at_mut(value_len);
        attribute.emit_value(value);
        padding.fill(0);
        start = end;
    }
}

/// The length of attributes written one after the other (a nest's value length).
pub(crate) fn nested_len<T: Nla>(attributes: &[T]) -> usize {
    attributes
        .iter()
        .map(|attribute| NLA_HEADER_SIZE + nla_align!(attribute.value_len()))
        .sum()
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
