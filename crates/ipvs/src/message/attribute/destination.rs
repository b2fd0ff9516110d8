use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_F_NESTED, Nla, NlaBuffer, Parseable,
};

use super::{
    AppendNla, InetAddress, StatsAttribute, address_family, append_leaf, append_nest, emit_nested,
    inet_address, ip_address, nested_len, parse_array, parse_be16, parse_nested, parse_u8,
    parse_u16, parse_u32, put, read_back, stats_from_attributes, unknown,
};
use crate::message::write::AttributeWriter;
use crate::model::{self, Destination, ForwardingMethod, TunnelFlags, TunnelType};

const IPVS_DEST_ATTR_ADDR: u16 = 1;
const IPVS_DEST_ATTR_PORT: u16 = 2;
const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
const IPVS_DEST_ATTR_PERSIST_CONNS: u16 = 9;
const IPVS_DEST_ATTR_STATS: u16 = 10;
const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
const IPVS_DEST_ATTR_STATS64: u16 = 12;
const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;

/// The forwarding-method bits of the kernel's connection flags (`IP_VS_CONN_F_FWD_MASK`).
const FWD_MASK: u32 = 0x0007;

/// An attribute of the destination nest (`IPVS_DEST_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationAttribute {
    /// The real server's address as `union nf_inet_addr`.
    Address(InetAddress),
    /// The real server's port (host order here, network order on the wire).
    Port(u16),
    /// The forwarding method (connection flags masked with `IP_VS_CONN_F_FWD_MASK`).
    ForwardingMethod(u32),
    /// The weight, a C `int` sent as `u32`.
    Weight(u32),
    /// The upper connection threshold.
    UpperThreshold(u32),
    /// The lower connection threshold.
    LowerThreshold(u32),
    /// Active connections (replies).
    ActiveConnections(u32),
    /// Inactive connections (replies).
    InactiveConnections(u32),
    /// Persistence templates (replies).
    PersistentConnections(u32),
    /// The 32-bit statistics nest (replies).
    Stats(Vec<StatsAttribute>),
    /// The address family of [`DestinationAttribute::Address`].
    AddressFamily(u16),
    /// The 64-bit statistics nest (replies).
    Stats64(Vec<StatsAttribute>),
    /// The tunnel type.
    TunnelType(u8),
    /// The tunnel port (host order here, network order on the wire).
    TunnelPort(u16),
    /// The tunnel flags.
    TunnelFlags(u16),
    /// An attribute this library does not know.
    Other(DefaultNla),
}

impl Nla for DestinationAttribute {
    fn value_len(&self) -> usize {
        use DestinationAttribute::*;
        match self {
            Address(_) => 16,
            TunnelType(_) => 1,
            Port(_) | AddressFamily(_) | TunnelPort(_) | TunnelFlags(_) => 2,
            ForwardingMethod(_)
            | Weight(_)
            | UpperThreshold(_)
            | LowerThreshold(_)
            | ActiveConnections(_)
            | InactiveConnections(_)
            | PersistentConnections(_) => 4,
            Stats(nest) | Stats64(nest) => nested_len(nest),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DestinationAttribute::*;
        match self {
            Address(_) => IPVS_DEST_ATTR_ADDR,
            Port(_) => IPVS_DEST_ATTR_PORT,
            ForwardingMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            UpperThreshold(_) => IPVS_DEST_ATTR_U_THRESH,
            LowerThreshold(_) => IPVS_DEST_ATTR_L_THRESH,
            ActiveConnections(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            InactiveConnections(_) => IPVS_DEST_ATTR_INACT_CONNS,
            PersistentConnections(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            Stats(_) => IPVS_DEST_ATTR_STATS | NLA_F_NESTED,
            AddressFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            Stats64(_) => IPVS_DEST_ATTR_STATS64 | NLA_F_NESTED,
            TunnelType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            TunnelPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            TunnelFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use DestinationAttribute::*;
        match self {
            Address(address) => put(buffer, address),
            Port(port) | TunnelPort(port) => put(buffer, &port.to_be_bytes()),
            AddressFamily(value) | TunnelFlags(value) => put(buffer, &value.to_ne_bytes()),
            TunnelType(value) => put(buffer, &[*value]),
            ForwardingMethod(value)
            | Weight(value)
            | UpperThreshold(value)
            | LowerThreshold(value)
            | ActiveConnections(value)
            | InactiveConnections(value)
            | PersistentConnections(value) => put(buffer, &value.to_ne_bytes()),
            Stats(nest) | Stats64(nest) => emit_nested(nest, buffer),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl AppendNla for DestinationAttribute {
    fn append_to(&self, bytes: &mut Vec<u8>) {
        match self {
            DestinationAttribute::Stats(nest) | DestinationAttribute::Stats64(nest) => {
                append_nest(self.kind(), nest, bytes)
            }
            _ => append_leaf(self, bytes),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestinationAttribute {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        use DestinationAttribute::*;
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_DEST_ATTR_ADDR => Address(parse_array(payload, "IPVS_DEST_ATTR_ADDR")?),
            IPVS_DEST_ATTR_PORT => Port(parse_be16(payload, "IPVS_DEST_ATTR_PORT")?),
            IPVS_DEST_ATTR_FWD_METHOD => {
                ForwardingMethod(parse_u32(payload, "IPVS_DEST_ATTR_FWD_METHOD")?)
            }
            IPVS_DEST_ATTR_WEIGHT => Weight(parse_u32(payload, "IPVS_DEST_ATTR_WEIGHT")?),
            IPVS_DEST_ATTR_U_THRESH => {
                UpperThreshold(parse_u32(payload, "IPVS_DEST_ATTR_U_THRESH")?)
            }
            IPVS_DEST_ATTR_L_THRESH => {
                LowerThreshold(parse_u32(payload, "IPVS_DEST_ATTR_L_THRESH")?)
            }
            IPVS_DEST_ATTR_ACTIVE_CONNS => {
                ActiveConnections(parse_u32(payload, "IPVS_DEST_ATTR_ACTIVE_CONNS")?)
            }
            IPVS_DEST_ATTR_INACT_CONNS => {
                InactiveConnections(parse_u32(payload, "IPVS_DEST_ATTR_INACT_CONNS")?)
            }
            IPVS_DEST_ATTR_PERSIST_CONNS => {
                PersistentConnections(parse_u32(payload, "IPVS_DEST_ATTR_PERSIST_CONNS")?)
            }
            IPVS_DEST_ATTR_STATS => {
                Stats(parse_nested(payload).context("in IPVS_DEST_ATTR_STATS")?)
            }
            IPVS_DEST_ATTR_ADDR_FAMILY => {
                AddressFamily(parse_u16(payload, "IPVS_DEST_ATTR_ADDR_FAMILY")?)
            }
            IPVS_DEST_ATTR_STATS64 => {
                Stats64(parse_nested(payload).context("in IPVS_DEST_ATTR_STATS64")?)
            }
            IPVS_DEST_ATTR_TUN_TYPE => TunnelType(parse_u8(payload, "IPVS_DEST_ATTR_TUN_TYPE")?),
            IPVS_DEST_ATTR_TUN_PORT => TunnelPort(parse_be16(payload, "IPVS_DEST_ATTR_TUN_PORT")?),
            IPVS_DEST_ATTR_TUN_FLAGS => {
                TunnelFlags(parse_u16(payload, "IPVS_DEST_ATTR_TUN_FLAGS")?)
            }
            _ => Other(unknown(buf)?),
        })
    }
}

/// Writes the attributes of a destination in libipvs's order: family, address, port, forwarding
/// method, weight, tunnel type, port and flags, upper and lower thresholds. Counters are
/// never sent.
pub(crate) fn write_destination(writer: &mut AttributeWriter<'_>, destination: &Destination) {
    writer.u16(IPVS_DEST_ATTR_ADDR_FAMILY, destination.family().to_raw());
    writer.bytes(IPVS_DEST_ATTR_ADDR, inet_address(&destination.address));
    writer.be16(IPVS_DEST_ATTR_PORT, destination.port);
    writer.u32(
        IPVS_DEST_ATTR_FWD_METHOD,
        destination.forwarding.to_raw() & FWD_MASK,
    );
    writer.u32(IPVS_DEST_ATTR_WEIGHT, destination.weight as u32);
    writer.u8(IPVS_DEST_ATTR_TUN_TYPE, destination.tunnel.kind.to_raw());
    writer.be16(IPVS_DEST_ATTR_TUN_PORT, destination.tunnel.port);
    writer.u16(IPVS_DEST_ATTR_TUN_FLAGS, destination.tunnel.flags.bits());
    writer.u32(IPVS_DEST_ATTR_U_THRESH, destination.upper_threshold);
    writer.u32(IPVS_DEST_ATTR_L_THRESH, destination.lower_threshold);
}

/// The attributes [`write_destination`] writes.
pub fn destination_to_attributes(destination: &Destination) -> Vec<DestinationAttribute> {
    read_back(|writer| write_destination(writer, destination))
}

/// Reads a destination from its nest. The address and port are required; kernels older than
/// 4.x send no address family, and then the destination has the service's family.
pub fn destination_from_attributes(
    attributes: &[DestinationAttribute],
    service_family: model::AddressFamily,
) -> Result<Destination, DecodeError> {
    use DestinationAttribute as Attr;
    // The address first: its family decides how it reads.
    let (mut family, mut address, mut port) = (service_family, None, None);
    for attribute in attributes {
        match attribute {
            Attr::AddressFamily(raw) => family = address_family(*raw, "destination")?,
            Attr::Address(raw) => address = Some(raw),
            Attr::Port(value) => port = Some(*value),
            _ => {}
        }
    }
    let (Some(address), Some(port)) = (address, port) else {
        return Err(DecodeError::from("destination without an address or port"));
    };

    let mut destination = Destination::new(ip_address(family, address), port);
    for attribute in attributes {
        match attribute {
            Attr::ForwardingMethod(raw) => {
                destination.forwarding = ForwardingMethod::from_raw(raw & FWD_MASK)
            }
            Attr::Weight(raw) => destination.weight = *raw as i32,
            Attr::UpperThreshold(value) => destination.upper_threshold = *value,
            Attr::LowerThreshold(value) => destination.lower_threshold = *value,
            Attr::ActiveConnections(value) => destination.active_connections = *value,
            Attr::InactiveConnections(value) => destination.inactive_connections = *value,
            Attr::PersistentConnections(value) => destination.persistent_connections = *value,
            Attr::Stats(nest) => destination.stats = Some(stats_from_attributes(nest)),
            Attr::Stats64(nest) => destination.stats64 = Some(stats_from_attributes(nest)),
            Attr::TunnelType(raw) => destination.tunnel.kind = TunnelType::from_raw(*raw),
            Attr::TunnelPort(value) => destination.tunnel.port = *value,
            Attr::TunnelFlags(raw) => destination.tunnel.flags = TunnelFlags::from_bits(*raw),
            _ => {}
        }
    }
    Ok(destination)
}
