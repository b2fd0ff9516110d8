use std::net::Ipv4Addr;

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_F_NESTED, Nla, NlaBuffer, Parseable,
};

use super::{
    AppendNla, InetAddress, StatsAttribute, address_family, append_leaf, append_nest, emit_nested,
    inet_address, ip_address, nested_len, parse_array, parse_be16, parse_nested, parse_string,
    parse_u16, parse_u32, put, put_string, read_back, stats_from_attributes, string_len, unknown,
};
use crate::message::write::AttributeWriter;
use crate::model::{self, Service, ServiceFlags, ServiceKey};

const IPVS_SVC_ATTR_AF: u16 = 1;
const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
const IPVS_SVC_ATTR_ADDR: u16 = 3;
const IPVS_SVC_ATTR_PORT: u16 = 4;
const IPVS_SVC_ATTR_FWMARK: u16 = 5;
const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
const IPVS_SVC_ATTR_FLAGS: u16 = 7;
const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
const IPVS_SVC_ATTR_NETMASK: u16 = 9;
const IPVS_SVC_ATTR_STATS: u16 = 10;
const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
const IPVS_SVC_ATTR_STATS64: u16 = 12;

/// `struct ip_vs_flags`: the flags to set and which bits of them count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlagsAndMask {
    /// The flag values.
    pub flags: u32,
    /// The bits of `flags` to apply; libipvs always sends every bit.
    pub mask: u32,
}

/// An attribute of the service nest (`IPVS_SVC_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAttribute {
    /// `AF_INET` or `AF_INET6`.
    AddressFamily(u16),
    /// The IP protocol number.
    Protocol(u16),
    /// The virtual address as `union nf_inet_addr`.
    Address(InetAddress),
    /// The virtual port (host order here, network order on the wire).
    Port(u16),
    /// The firewall mark.
    Fwmark(u32),
    /// The scheduler name.
    SchedulerName(String),
    /// The service flags and their mask.
    Flags(FlagsAndMask),
    /// The persistence timeout in seconds.
    Timeout(u32),
    /// The persistence netmask exactly as sent: an IPv4 mask in network order, or an IPv6
    /// prefix length as a host-order `u32`.
    Netmask([u8; 4]),
    /// The 32-bit statistics nest.
    Stats(Vec<StatsAttribute>),
    /// The persistence engine name.
    PersistenceEngine(String),
    /// The 64-bit statistics nest.
    Stats64(Vec<StatsAttribute>),
    /// An attribute this library does not know.
    Other(DefaultNla),
}

impl Nla for ServiceAttribute {
    fn value_len(&self) -> usize {
        use ServiceAttribute::*;
        match self {
            AddressFamily(_) | Protocol(_) | Port(_) => 2,
            Address(_) => 16,
            Fwmark(_) | Timeout(_) | Netmask(_) => 4,
            Flags(_) => 8,
            SchedulerName(name) | PersistenceEngine(name) => string_len(name),
            Stats(nest) | Stats64(nest) => nested_len(nest),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use ServiceAttribute::*;
        match self {
            AddressFamily(_) => IPVS_SVC_ATTR_AF,
            Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            Address(_) => IPVS_SVC_ATTR_ADDR,
            Port(_) => IPVS_SVC_ATTR_PORT,
            Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            SchedulerName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            Flags(_) => IPVS_SVC_ATTR_FLAGS,
            Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            Stats(_) => IPVS_SVC_ATTR_STATS | NLA_F_NESTED,
            PersistenceEngine(_) => IPVS_SVC_ATTR_PE_NAME,
            Stats64(_) => IPVS_SVC_ATTR_STATS64 | NLA_F_NESTED,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use ServiceAttribute::*;
        match self {
            AddressFamily(value) | Protocol(value) => put(buffer, &value.to_ne_bytes()),
            Port(port) => put(buffer, &port.to_be_bytes()),
            Address(address) => put(buffer, address),
            Fwmark(value) | Timeout(value) => put(buffer, &value.to_ne_bytes()),
            Netmask(raw) => put(buffer, raw),
            Flags(FlagsAndMask { flags, mask }) => {
                put(buffer, &flags.to_ne_bytes());
                put(buffer.get_mut(4..).unwrap_or_default(), &mask.to_ne_bytes());
            }
            SchedulerName(name) | PersistenceEngine(name) => put_string(buffer, name),
            Stats(nest) | Stats64(nest) => emit_nested(nest, buffer),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl AppendNla for ServiceAttribute {
    fn append_to(&self, bytes: &mut Vec<u8>) {
        match self {
            ServiceAttribute::Stats(nest) | ServiceAttribute::Stats64(nest) => {
                append_nest(self.kind(), nest, bytes)
            }
            _ => append_leaf(self, bytes),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for ServiceAttribute {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        use ServiceAttribute::*;
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => AddressFamily(parse_u16(payload, "IPVS_SVC_ATTR_AF")?),
            IPVS_SVC_ATTR_PROTOCOL => Protocol(parse_u16(payload, "IPVS_SVC_ATTR_PROTOCOL")?),
            IPVS_SVC_ATTR_ADDR => Address(parse_array(payload, "IPVS_SVC_ATTR_ADDR")?),
            IPVS_SVC_ATTR_PORT => Port(parse_be16(payload, "IPVS_SVC_ATTR_PORT")?),
            IPVS_SVC_ATTR_FWMARK => Fwmark(parse_u32(payload, "IPVS_SVC_ATTR_FWMARK")?),
            IPVS_SVC_ATTR_SCHED_NAME => {
                SchedulerName(parse_string(payload, "IPVS_SVC_ATTR_SCHED_NAME")?)
            }
            IPVS_SVC_ATTR_FLAGS => {
                let raw: [u8; 8] = parse_array(payload, "IPVS_SVC_ATTR_FLAGS")?;
                let (flags, mask) = raw.split_at(4);
                Flags(FlagsAndMask {
                    flags: parse_u32(flags, "flags")?,
                    mask: parse_u32(mask, "flags mask")?,
                })
            }
            IPVS_SVC_ATTR_TIMEOUT => Timeout(parse_u32(payload, "IPVS_SVC_ATTR_TIMEOUT")?),
            IPVS_SVC_ATTR_NETMASK => Netmask(parse_array(payload, "IPVS_SVC_ATTR_NETMASK")?),
            IPVS_SVC_ATTR_STATS => Stats(parse_nested(payload).context("in IPVS_SVC_ATTR_STATS")?),
            IPVS_SVC_ATTR_PE_NAME => {
                PersistenceEngine(parse_string(payload, "IPVS_SVC_ATTR_PE_NAME")?)
            }
            IPVS_SVC_ATTR_STATS64 => {
                Stats64(parse_nested(payload).context("in IPVS_SVC_ATTR_STATS64")?)
            }
            _ => Other(unknown(buf)?),
        })
    }
}

/// Writes the attributes that identify a service, as libipvs sends them to look one up (the
/// destination dump): family, then fwmark or protocol, address and port.
pub(crate) fn write_service_key(writer: &mut AttributeWriter<'_>, key: &ServiceKey) {
    writer.u16(IPVS_SVC_ATTR_AF, key.family().to_raw());
    match key {
        ServiceKey::Fwmark { mark, .. } => writer.u32(IPVS_SVC_ATTR_FWMARK, *mark),
        ServiceKey::Address {
            protocol,
            address,
            port,
        } => {
            writer.u16(IPVS_SVC_ATTR_PROTOCOL, protocol.to_raw());
            writer.bytes(IPVS_SVC_ATTR_ADDR, inet_address(address));
            writer.be16(IPVS_SVC_ATTR_PORT, *port);
        }
    }
}

/// Writes every attribute of a service, in libipvs's order: the key, scheduler, persistence
/// engine (only if set), flags with a full mask, timeout, netmask. Statistics are never sent.
pub(crate) fn write_service(writer: &mut AttributeWriter<'_>, service: &Service) {
    write_service_key(writer, &service.key);
    writer.string(IPVS_SVC_ATTR_SCHED_NAME, &service.scheduler);
    if let Some(engine) = &service.persistence_engine {
        writer.string(IPVS_SVC_ATTR_PE_NAME, engine);
    }
    // struct ip_vs_flags: the flags, then the mask of those that count (all of them).
    let mut flags = [0xff; 8];
    flags[..4].copy_from_slice(&service.flags.bits().to_ne_bytes());
    writer.bytes(IPVS_SVC_ATTR_FLAGS, flags);
    writer.u32(IPVS_SVC_ATTR_TIMEOUT, service.timeout);
    writer.bytes(IPVS_SVC_ATTR_NETMASK, netmask_to_raw(service.netmask));
}

/// The attributes [`write_service_key`] writes.
pub fn service_key_to_attributes(key: &ServiceKey) -> Vec<ServiceAttribute> {
    read_back(|writer| write_service_key(writer, key))
}

/// The attributes [`write_service`] writes.
pub fn service_to_attributes(service: &Service) -> Vec<ServiceAttribute> {
    read_back(|writer| write_service(writer, service))
}

/// Reads a service from its nest. The family and either a fwmark or protocol, address and
/// port are required; everything else takes the kernel's defaults when absent.
pub fn service_from_attributes(attributes: &[ServiceAttribute]) -> Result<Service, DecodeError> {
    use ServiceAttribute as Attr;
    // The key first: the family it names decides how the address and the netmask read.
    let (mut family, mut fwmark, mut protocol, mut address, mut port) =
        (None, None, None, None, None);
    for attribute in attributes {
        match attribute {
            Attr::AddressFamily(raw) => family = Some(*raw),
            Attr::Fwmark(mark) => fwmark = Some(*mark),
            Attr::Protocol(raw) => protocol = Some(model::Protocol::from_raw(*raw)),
            Attr::Address(raw) => address = Some(raw),
            Attr::Port(value) => port = Some(*value),
            _ => {}
        }
    }
    let family = family.ok_or_else(|| DecodeError::from("service without IPVS_SVC_ATTR_AF"))?;
    let family = address_family(family, "service")?;
    let key = match (fwmark, protocol, address, port) {
        (Some(mark), ..) => ServiceKey::Fwmark { family, mark },
        (None, Some(protocol), Some(address), Some(port)) => ServiceKey::Address {
            protocol,
            address: ip_address(family, address),
            port,
        },
        _ => {
            return Err(DecodeError::from(
                "service without a fwmark nor protocol, address and port",
            ));
        }
    };

    let mut service = Service {
        scheduler: String::new(),
        ..Service::new(key)
    };
    for attribute in attributes {
        match attribute {
            Attr::SchedulerName(name) => service.scheduler = name.clone(),
            Attr::PersistenceEngine(name) => service.persistence_engine = Some(name.clone()),
            Attr::Flags(FlagsAndMask { flags, .. }) => {
                service.flags = ServiceFlags::from_bits(*flags)
            }
            Attr::Timeout(seconds) => service.timeout = *seconds,
            Attr::Netmask(raw) => service.netmask = netmask_from_raw(family, *raw),
            Attr::Stats(nest) => service.stats = Some(stats_from_attributes(nest)),
            Attr::Stats64(nest) => service.stats64 = Some(stats_from_attributes(nest)),
            _ => {}
        }
    }
    Ok(service)
}

fn netmask_to_raw(netmask: model::Netmask) -> [u8; 4] {
    match netmask {
        model::Netmask::Ipv4(mask) => mask.octets(),
        model::Netmask::Ipv6Prefix(length) => length.to_ne_bytes(),
    }
}

fn netmask_from_raw(family: model::AddressFamily, raw: [u8; 4]) -> model::Netmask {
    match family {
        model::AddressFamily::Ipv4 => model::Netmask::Ipv4(Ipv4Addr::from(raw)),
        model::AddressFamily::Ipv6 => model::Netmask::Ipv6Prefix(u32::from_ne_bytes(raw)),
    }
}
