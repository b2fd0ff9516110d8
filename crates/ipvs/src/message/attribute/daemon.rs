use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::{
    AppendNla, parse_array, parse_string, parse_u8, parse_u16, parse_u32, put, put_string,
    read_back, string_len, unknown,
};
use crate::message::write::AttributeWriter;
use crate::model::{DaemonState, SyncDaemon};

const IPVS_DAEMON_ATTR_STATE: u16 = 1;
const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2;
const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3;
const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5;
const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7;
const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8;

/// An attribute of the sync daemon nest (`IPVS_DAEMON_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttribute {
    /// Master (1) or backup (2).
    State(u32),
    /// The multicast interface name.
    Interface(String),
    /// The sync id.
    SyncId(u32),
    /// The largest sync payload.
    SyncMaxLength(u16),
    /// The IPv4 multicast group (network order on the wire).
    Group(Ipv4Addr),
    /// The IPv6 multicast group.
    Group6(Ipv6Addr),
    /// The multicast port (host order, unlike service ports).
    Port(u16),
    /// The multicast TTL.
    Ttl(u8),
    /// An attribute this library does not know.
    Other(DefaultNla),
}

impl Nla for DaemonAttribute {
    fn value_len(&self) -> usize {
        use DaemonAttribute::*;
        match self {
            State(_) | SyncId(_) | Group(_) => 4,
            Interface(name) => string_len(name),
            SyncMaxLength(_) | Port(_) => 2,
            Group6(_) => 16,
            Ttl(_) => 1,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DaemonAttribute::*;
        match self {
            State(_) => IPVS_DAEMON_ATTR_STATE,
            Interface(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            SyncMaxLength(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            Group(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            Group6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            Port(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            Ttl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use DaemonAttribute::*;
        match self {
            State(value) | SyncId(value) => put(buffer, &value.to_ne_bytes()),
            Interface(name) => put_string(buffer, name),
            SyncMaxLength(value) | Port(value) => put(buffer, &value.to_ne_bytes()),
            Group(group) => put(buffer, &group.octets()),
            Group6(group) => put(buffer, &group.octets()),
            Ttl(ttl) => put(buffer, &[*ttl]),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl AppendNla for DaemonAttribute {}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttribute {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        use DaemonAttribute::*;
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_DAEMON_ATTR_STATE => State(parse_u32(payload, "IPVS_DAEMON_ATTR_STATE")?),
            IPVS_DAEMON_ATTR_MCAST_IFN => {
                Interface(parse_string(payload, "IPVS_DAEMON_ATTR_MCAST_IFN")?)
            }
            IPVS_DAEMON_ATTR_SYNC_ID => SyncId(parse_u32(payload, "IPVS_DAEMON_ATTR_SYNC_ID")?),
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => {
                SyncMaxLength(parse_u16(payload, "IPVS_DAEMON_ATTR_SYNC_MAXLEN")?)
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP => Group(Ipv4Addr::from(parse_array::<4>(
                payload,
                "IPVS_DAEMON_ATTR_MCAST_GROUP",
            )?)),
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => Group6(Ipv6Addr::from(parse_array::<16>(
                payload,
                "IPVS_DAEMON_ATTR_MCAST_GROUP6",
            )?)),
            IPVS_DAEMON_ATTR_MCAST_PORT => Port(parse_u16(payload, "IPVS_DAEMON_ATTR_MCAST_PORT")?),
            IPVS_DAEMON_ATTR_MCAST_TTL => Ttl(parse_u8(payload, "IPVS_DAEMON_ATTR_MCAST_TTL")?),
            _ => Other(unknown(buf)?),
        })
    }
}

/// Writes a daemon's attributes in libipvs's order: state, interface, sync id, then the
/// optional maximum length, port, TTL and group.
pub(crate) fn write_daemon(writer: &mut AttributeWriter<'_>, daemon: &SyncDaemon) {
    writer.u32(IPVS_DAEMON_ATTR_STATE, daemon.state.to_raw());
    writer.string(IPVS_DAEMON_ATTR_MCAST_IFN, &daemon.interface);
    writer.u32(IPVS_DAEMON_ATTR_SYNC_ID, daemon.sync_id);
    if let Some(length) = daemon.max_length {
        writer.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, length);
    }
    if let Some(port) = daemon.port {
        writer.u16(IPVS_DAEMON_ATTR_MCAST_PORT, port);
    }
    if let Some(ttl) = daemon.ttl {
        writer.u8(IPVS_DAEMON_ATTR_MCAST_TTL, ttl);
    }
    match daemon.group {
        Some(IpAddr::V4(group)) => writer.bytes(IPVS_DAEMON_ATTR_MCAST_GROUP, group.octets()),
        Some(IpAddr::V6(group)) => writer.bytes(IPVS_DAEMON_ATTR_MCAST_GROUP6, group.octets()),
        None => {}
    }
}

/// The attributes [`write_daemon`] writes.
pub fn daemon_to_attributes(daemon: &SyncDaemon) -> Vec<DaemonAttribute> {
    read_back(|writer| write_daemon(writer, daemon))
}

/// Reads a daemon from its nest; the state is required.
pub fn daemon_from_attributes(attributes: &[DaemonAttribute]) -> Result<SyncDaemon, DecodeError> {
    use DaemonAttribute as Attr;
    let mut state = None;
    let mut daemon = SyncDaemon::new(DaemonState::Other(0), String::new());
    for attribute in attributes {
        match attribute {
            Attr::State(raw) => state = Some(DaemonState::from_raw(*raw)),
            Attr::Interface(name) => daemon.interface = name.clone(),
            Attr::SyncId(id) => daemon.sync_id = *id,
            Attr::SyncMaxLength(length) => daemon.max_length = Some(*length),
            Attr::Group(group) => daemon.group = Some(IpAddr::V4(*group)),
            Attr::Group6(group) => daemon.group = Some(IpAddr::V6(*group)),
            Attr::Port(port) => daemon.port = Some(*port),
            Attr::Ttl(ttl) => daemon.ttl = Some(*ttl),
            Attr::Other(_) => {}
        }
    }
    daemon.state =
        state.ok_or_else(|| DecodeError::from("sync daemon without IPVS_DAEMON_ATTR_STATE"))?;
    Ok(daemon)
}
