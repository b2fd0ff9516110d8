//! The IPVS generic-netlink messages: commands and attributes in the rust-netlink
//! `Nla`/`Emitable`/`Parseable` idiom, with an `Other` fallback at every level so that
//! attributes this library does not know survive a decode and re-encode.
//!
//! [`IpvsMessage`] is the genl payload; wrap it in
//! [`GenlMessage`](netlink_packet_generic::GenlMessage) and
//! [`NetlinkMessage`](netlink_packet_core::NetlinkMessage) to put it on the wire. The
//! requests ([`Request`]) are written straight into the datagram, each command exactly as
//! ipvsadm 1.31 (libipvs) writes it; the accessors in `reply` turn the kernel's answers into
//! [`crate::model`] types.

pub mod attribute;
mod command;
mod reply;
mod request;
mod write;

/// The writer of netlink attributes, for other netlink families spoken beside IPVS (the VRRP
/// daemon's nftables rules).
pub use write::AttributeWriter;

use netlink_packet_core::{
    DecodeError, Emitable, ErrorContext, NetlinkHeader, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

pub use attribute::CommandAttribute;
pub use command::Command;
pub use request::Request;

/// The generic-netlink family name of IPVS.
pub const FAMILY_NAME: &str = "IPVS";

/// The genl header version IPVS speaks (`IPVS_GENL_VERSION`).
pub const GENL_VERSION: u8 = 1;

/// One IPVS generic-netlink message: a command and its top-level attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// The command.
    pub command: Command,
    /// The top-level attributes, in wire order.
    pub attributes: Vec<CommandAttribute>,
}

impl IpvsMessage {
    /// A message from its parts.
    pub fn new(command: Command, attributes: Vec<CommandAttribute>) -> Self {
        IpvsMessage {
            command,
            attributes,
        }
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        FAMILY_NAME
    }

    fn command(&self) -> u8 {
        self.command.to_raw()
    }

    fn version(&self) -> u8 {
        GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        attribute::nested_len(&self.attributes)
    }

    fn emit(&self, buffer: &mut [u8]) {
        attribute::emit_nested(&self.attributes, buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        IpvsMessage::parse_attributes(Command::from_raw(header.cmd), buf)
    }
}

impl IpvsMessage {
    /// A message of `command` with the attributes in `buf`.
    fn parse_attributes(command: Command, buf: &[u8]) -> Result<Self, DecodeError> {
        let attributes = attribute::parse_attributes(buf, |nla| {
            CommandAttribute::parse_with_param(&nla, command)
        })
        .with_context(|| format!("failed to parse the attributes of IPVS command {command:?}"))?;
        Ok(IpvsMessage {
            command,
            attributes,
        })
    }
}

/// Appends one netlink request of the IPVS family `family_id`, from the socket of `port_id`,
/// with `command` and the attributes `write_attributes` appends: the bytes netlink-packet-core's
/// `NetlinkMessage` of a `GenlMessage` writes, without measuring the attributes beforehand.
fn encode_message(
    command: Command,
    family_id: u16,
    flags: u16,
    sequence: u32,
    port_id: u32,
    bytes: &mut Vec<u8>,
    write_attributes: impl FnOnce(&mut Vec<u8>),
) {
    let mut header = NetlinkHeader::default();
    header.message_type = family_id;
    header.flags = flags;
    header.sequence_number = sequence;
    header.port_number = port_id;
    let genl = GenlHeader {
        cmd: command.to_raw(),
        version: GENL_VERSION,
    };
    let start = bytes.len();
    let genl_start = start + header.buffer_len();
    let attributes = genl_start + genl.buffer_len();
    bytes.resize(attributes, 0);
    write_attributes(bytes);

    header.length = u32::try_from(bytes.len() - start).unwrap_or(u32::MAX);
    if let Some(headers) = bytes.get_mut(start..attributes) {
        let (netlink_bytes, genl_bytes) = headers.split_at_mut(genl_start - start);
        header.emit(netlink_bytes);
        genl.emit(genl_bytes);
    }
}

#[cfg(test)]
mod tests;
