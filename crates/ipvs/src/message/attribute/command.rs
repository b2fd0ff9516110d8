use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_F_NESTED, Nla, NlaBuffer, Parseable,
    ParseableParametrized,
};

use super::{
    AppendNla, DaemonAttribute, DestinationAttribute, InfoAttribute, ServiceAttribute, append_leaf,
    append_nest, emit_nested, nested_len, parse_nested, parse_u32, put, unknown,
};
use crate::message::Command;

pub(crate) const IPVS_CMD_ATTR_SERVICE: u16 = 1;
pub(crate) const IPVS_CMD_ATTR_DEST: u16 = 2;
pub(crate) const IPVS_CMD_ATTR_DAEMON: u16 = 3;
pub(crate) const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
pub(crate) const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
pub(crate) const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;

/// A top-level attribute of an IPVS message (`IPVS_CMD_ATTR_*`, or `IPVS_INFO_ATTR_*` in the
/// info reply).
///
/// Nests are written with `NLA_F_NESTED`, as libnl does; the kernel's own replies leave the
/// flag out, and parsing accepts both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandAttribute {
    /// The service nest.
    Service(Vec<ServiceAttribute>),
    /// The destination nest.
    Destination(Vec<DestinationAttribute>),
    /// The sync daemon nest.
    Daemon(Vec<DaemonAttribute>),
    /// The TCP timeout in seconds.
    TimeoutTcp(u32),
    /// The TCP FIN timeout in seconds.
    TimeoutTcpFin(u32),
    /// The UDP timeout in seconds.
    TimeoutUdp(u32),
    /// An attribute of the info reply, whose numbers are its own.
    Info(InfoAttribute),
    /// An attribute this library does not know.
    Other(DefaultNla),
}

impl Nla for CommandAttribute {
    fn value_len(&self) -> usize {
        use CommandAttribute::*;
        match self {
            Service(nest) => nested_len(nest),
            Destination(nest) => nested_len(nest),
            Daemon(nest) => nested_len(nest),
            TimeoutTcp(_) | TimeoutTcpFin(_) | TimeoutUdp(_) => 4,
            Info(attribute) => attribute.value_len(),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use CommandAttribute::*;
        match self {
            Service(_) => IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED,
            Destination(_) => IPVS_CMD_ATTR_DEST | NLA_F_NESTED,
            Daemon(_) => IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED,
            TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            Info(attribute) => attribute.kind(),
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use CommandAttribute::*;
        match self {
            Service(nest) => emit_nested(nest, buffer),
            Destination(nest) => emit_nested(nest, buffer),
            Daemon(nest) => emit_nested(nest, buffer),
            TimeoutTcp(seconds) | TimeoutTcpFin(seconds) | TimeoutUdp(seconds) => {
                put(buffer, &seconds.to_ne_bytes())
            }
            Info(attribute) => attribute.emit_value(buffer),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl AppendNla for CommandAttribute {
    fn append_to(&self, bytes: &mut Vec<u8>) {
        use CommandAttribute::*;
        match self {
            Service(nest) => append_nest(self.kind(), nest, bytes),
            Destination(nest) => append_nest(self.kind(), nest, bytes),
            Daemon(nest) => append_nest(self.kind(), nest, bytes),
            _ => append_leaf(self, bytes),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> ParseableParametrized<NlaBuffer<&'a T>, Command>
    for CommandAttribute
{
    fn parse_with_param(buf: &NlaBuffer<&'a T>, command: Command) -> Result<Self, DecodeError> {
        use CommandAttribute::*;
        if command.carries_info() {
            return InfoAttribute::parse(buf).map(Info);
        }
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_CMD_ATTR_SERVICE => {
                Service(parse_nested(payload).context("in IPVS_CMD_ATTR_SERVICE")?)
            }
            IPVS_CMD_ATTR_DEST => {
                Destination(parse_nested(payload).context("in IPVS_CMD_ATTR_DEST")?)
            }
            IPVS_CMD_ATTR_DAEMON => {
                Daemon(parse_nested(payload).context("in IPVS_CMD_ATTR_DAEMON")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_TCP => {
                TimeoutTcp(parse_u32(payload, "IPVS_CMD_ATTR_TIMEOUT_TCP")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => {
                TimeoutTcpFin(parse_u32(payload, "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN")?)
            }
            IPVS_CMD_ATTR_TIMEOUT_UDP => {
                TimeoutUdp(parse_u32(payload, "IPVS_CMD_ATTR_TIMEOUT_UDP")?)
            }
            _ => Other(unknown(buf)?),
        })
    }
}
