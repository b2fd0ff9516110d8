//! The IPVS generic-netlink messages: commands and attributes in the rust-netlink
//! `Nla`/`Emitable`/`Parseable` idiom, with an `Other` fallback at every level so that
//! attributes this library does not know survive a decode and re-encode.
//!
//! [`IpvsMessage`] is the genl payload; wrap it in
//! [`GenlMessage`](netlink_packet_generic::GenlMessage) and
//! [`NetlinkMessage`](netlink_packet_core::NetlinkMessage) to put it on the wire. The
//! constructors in `request` encode each command exactly as ipvsadm 1.31 (libipvs) does; the
//! accessors in `reply` turn the kernel's answers into [`crate::model`] types.

pub mod attribute;
mod command;
mod reply;
mod request;

use netlink_packet_core::{
    DecodeError, Emitable, ErrorContext, NlasIterator, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

pub use attribute::CommandAttribute;
pub use command::Command;

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
        let command = Command::from_raw(header.cmd);
        let attributes = NlasIterator::new(buf)
            .map(|nla| nla.and_then(|nla| CommandAttribute::parse_with_param(&nla, command)))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| {
                format!("failed to parse the attributes of IPVS command {command:?}")
            })?;
        Ok(IpvsMessage {
            command,
            attributes,
        })
    }
}

#[cfg(test)]
mod tests;
