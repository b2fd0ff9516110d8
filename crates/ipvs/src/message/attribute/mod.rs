//! The IPVS netlink attributes, one module per nest of `linux/ip_vs.h`, each with the
//! conversions between its attributes and the [`crate::model`] type it describes.

mod command;
mod daemon;
mod destination;
mod info;
mod service;
mod stats;

pub use command::CommandAttribute;
pub(crate) use command::{
    IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE, IPVS_CMD_ATTR_TIMEOUT_TCP,
    IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, IPVS_CMD_ATTR_TIMEOUT_UDP,
};
pub(crate) use daemon::write_daemon;
pub use daemon::{DaemonAttribute, daemon_from_attributes, daemon_to_attributes};
pub(crate) use destination::write_destination;
pub use destination::{
    DestinationAttribute, destination_from_attributes, destination_to_attributes,
};
pub use info::{InfoAttribute, info_from_attributes};
pub use service::{
    FlagsAndMask, ServiceAttribute, service_from_attributes, service_key_to_attributes,
    service_to_attributes,
};
pub(crate) use service::{write_service, write_service_key};
pub use stats::{Counter, StatsAttribute, StatsWidth, stats_from_attributes, stats_to_attributes};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, NLA_ALIGNTO, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HEADER_SIZE,
    NLA_TYPE_MASK, Nla, NlaBuffer, NlasIterator, Parseable, nla_align,
};

use crate::message::write::AttributeWriter;
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
    parse_attributes(payload, |nla| T::parse(&nla))
}

/// The typed attributes `write` writes: requests are written directly
/// ([`crate::message::write`]), and their typed form is read back from those bytes, so that
/// the two cannot differ.
fn read_back<T>(write: impl FnOnce(&mut AttributeWriter<'_>)) -> Vec<T>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut bytes = Vec::new();
    write(&mut AttributeWriter::new(&mut bytes));
    let attributes = parse_nested(&bytes);
    // The writer writes only attributes the parser reads back (tests check every request).
    debug_assert!(attributes.is_ok(), "written attributes read back");
    attributes.unwrap_or_default()
}

/// Parses attributes written one after the other (a nest's value, or a message's
/// attributes) with `parse`, into a vector sized for them: a reply holds a few dozen, and
/// growing the vector one reallocation at a time was much of a dump's decoding.
pub(crate) fn parse_attributes<T>(
    payload: &[u8],
    mut parse: impl FnMut(NlaBuffer<&[u8]>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut attributes = Vec::with_capacity(count_attributes(payload));
    for nla in NlasIterator::new(payload) {
        attributes.push(parse(nla?)?);
    }
    Ok(attributes)
}

/// How many attributes `payload` holds, counting only from their headers; a malformed one ends
/// the count (parsing reports it).
fn count_attributes(payload: &[u8]) -> usize {
    let mut count = 0;
    let mut rest = payload;
    while let Some(header) = rest.get(..NLA_HEADER_SIZE) {
        let length = usize::from(u16::from_ne_bytes([header[0], header[1]]));
        if length < NLA_HEADER_SIZE {
            break;
        }
        count += 1;
        rest = rest.get(nla_align!(length)..).unwrap_or_default();
    }
    count
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
        let (header, rest) = slot.split_at_mut(NLA_HEADER_SIZE);
        write_header(header, attribute.kind(), value_len);
        let (value, padding) = rest.split_at_mut(value_len);
        attribute.emit_value(value);
        padding.fill(0);
        start = end;
    }
}

/// Writes an attribute's header: its length without the padding, and its kind.
fn write_header(header: &mut [u8], kind: u16, value_len: usize) {
    let flag = if kind & NLA_F_NESTED != 0 {
        NLA_F_NESTED
    } else {
        kind & NLA_F_NET_BYTEORDER
    };
    let length = ((NLA_HEADER_SIZE + value_len) as u16).to_ne_bytes();
    let kind = ((kind & NLA_TYPE_MASK) | flag).to_ne_bytes();
    if let Some(header) = header.get_mut(..NLA_HEADER_SIZE) {
        header.copy_from_slice(&[length[0], length[1], kind[0], kind[1]]);
    }
}

/// An attribute that can append itself to a growing buffer: the bytes [`emit_nested`] writes,
/// but a nest's length is written once its children are, instead of being summed from their
/// lengths beforehand. This is how a typed message is sent ([`crate::message::Request::Message`]).
pub(crate) trait AppendNla: Nla {
    /// Appends the attribute, header and padded value. Nests override this to append their
    /// children one by one.
    fn append_to(&self, bytes: &mut Vec<u8>) {
        append_leaf(self, bytes);
    }
}

/// Appends an attribute whose value is written whole by [`Nla::emit_value`].
fn append_leaf<T: Nla + ?Sized>(attribute: &T, bytes: &mut Vec<u8>) {
    let value_len = attribute.value_len();
    let start = bytes.len();
    bytes.resize(start + NLA_HEADER_SIZE + nla_align!(value_len), 0);
    if let Some(slot) = bytes.get_mut(start..) {
        let (header, value) = slot.split_at_mut(NLA_HEADER_SIZE);
        write_header(header, attribute.kind(), value_len);
        attribute.emit_value(value.get_mut(..value_len).unwrap_or_default());
    }
}

/// Appends attributes one after the other.
pub(crate) fn append_all<T: AppendNla>(attributes: &[T], bytes: &mut Vec<u8>) {
    for attribute in attributes {
        attribute.append_to(bytes);
    }
}

/// Appends a nest of kind `kind` holding `children`.
fn append_nest<T: AppendNla>(kind: u16, children: &[T], bytes: &mut Vec<u8>) {
    let start = bytes.len();
    bytes.extend_from_slice(&[0; NLA_HEADER_SIZE]);
    append_all(children, bytes);
    // Each child is padded, so the nest's value needs no padding of its own.
    let value_len = bytes.len() - start - NLA_HEADER_SIZE;
    write_header(bytes.get_mut(start..).unwrap_or_default(), kind, value_len);
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
