use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::{parse_u32, put, unknown};
use crate::model::{Info, Version};

const IPVS_INFO_ATTR_VERSION: u16 = 1;
const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;

/// A top-level attribute of the reply to `IPVS_CMD_GET_INFO` (`IPVS_INFO_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoAttribute {
    /// The IPVS version code.
    Version(u32),
    /// The connection hash table size.
    ConnectionTableSize(u32),
    /// An attribute this library does not know.
    Other(DefaultNla),
}

impl Nla for InfoAttribute {
    fn value_len(&self) -> usize {
        match self {
            InfoAttribute::Version(_) | InfoAttribute::ConnectionTableSize(_) => 4,
            InfoAttribute::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            InfoAttribute::Version(_) => IPVS_INFO_ATTR_VERSION,
            InfoAttribute::ConnectionTableSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            InfoAttribute::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            InfoAttribute::Version(value) | InfoAttribute::ConnectionTableSize(value) => {
                put(buffer, &value.to_ne_bytes())
            }
            InfoAttribute::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for InfoAttribute {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_INFO_ATTR_VERSION => {
                InfoAttribute::Version(parse_u32(payload, "IPVS_INFO_ATTR_VERSION")?)
            }
            IPVS_INFO_ATTR_CONN_TAB_SIZE => InfoAttribute::ConnectionTableSize(parse_u32(
                payload,
                "IPVS_INFO_ATTR_CONN_TAB_SIZE",
            )?),
            _ => InfoAttribute::Other(unknown(buf)?),
        })
    }
}

/// Reads the info reply; both attributes are required.
pub fn info_from_attributes<'a>(
    attributes: impl IntoIterator<Item = &'a InfoAttribute>,
) -> Result<Info, DecodeError> {
    let (mut version, mut size) = (None, None);
    for attribute in attributes {
        match attribute {
            InfoAttribute::Version(value) => version = Some(Version(*value)),
            InfoAttribute::ConnectionTableSize(value) => size = Some(*value),
            InfoAttribute::Other(_) => {}
        }
    }
    match (version, size) {
        (Some(version), Some(connection_table_size)) => Ok(Info {
            version,
            connection_table_size,
        }),
        _ => Err(DecodeError::from(
            "info reply without the version or the connection table size",
        )),
    }
}
