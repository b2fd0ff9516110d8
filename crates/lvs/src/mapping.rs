//! Virtual servers → the IPVS table keepalived 2.2.7 programs (`check/ipvswrapper.c`,
//! `check/ipwrapper.c`), given the health state of [`crate::pool`].
//!
//! - a `virtual_server ADDR PORT` is one service of its protocol; `fwmark N` one firewall-mark
//!   service of its family; `group NAME` one service per address of each range of the group
//!   (with the entry's port) and one per fwmark entry;
//! - scheduler, `ops` and scheduler flags, persistence timeout, granularity and engine are the
//!   service's settings;
//! - a real server is in the table while alive, with its effective weight; a failed one is left
//!   out, or kept at weight 0 with `inhibit_on_failure`;
//! - when quorum is lost and there is a `sorry_server`, the sorry server (weight 1) replaces the
//!   real servers (inhibited ones stay at weight 0); with `sorry_server_inhibit` it stays in the
//!   table at weight 0 while quorum holds.
//!
//! `ha_suspend` does not change the table: keepalived only pauses the checkers of a service whose
//! address is not local, so its real servers keep the state they had.

use rustc_hash::FxHashMap;
use std::net::IpAddr;

use ipvs::model::{
    self as k, AddressFamily as KFamily, Destination, Netmask, Service, ServiceFlags, ServiceKey,
    Tunnel, TunnelFlags,
};
use ipvs::table::VirtualService;
use keepalived_config::model::lvs::{
    ForwardingMethod, GroupEntry, Persistence, Protocol, ServiceAddress, TunnelChecksum,
    TunnelType, VirtualServer, VirtualServerGroup,
};
use keepalived_config::model::{AddressFamily, Config};

use crate::pool::{Pool, ServiceState};

/// The IPVS table for `config` in state `pool`, in configuration order. Services that several
/// virtual servers map to (a fwmark entry shared by two groups' users) appear once, with the
/// destinations of each, first writer first.
pub fn desired_table(config: &Config, pool: &Pool) -> Vec<VirtualService> {
    DesiredTable::of(config, pool).entries
}

/// [`desired_table`] with what was learnt building it: where each service is, and which
/// virtual servers share a service with another.
#[derive(Debug, Default)]
pub struct DesiredTable {
    /// The table, in configuration order.
    pub entries: Vec<VirtualService>,
    /// Each service's place in `entries`.
    pub index: FxHashMap<ServiceKey, usize>,
    /// Per virtual server: whether one of its services is also another's (or its own twice).
    pub shared: Vec<bool>,
}

impl DesiredTable {
    /// The table of `config` in state `pool`.
    pub fn of(config: &Config, pool: &Pool) -> Self {
        let count = config.virtual_servers.len();
        let mut table = DesiredTable {
            entries: Vec::with_capacity(count),
            index: FxHashMap::with_capacity_and_hasher(count, Default::default()),
            shared: vec![false; count],
        };
        // Who wrote each entry first: a later writer shares the service with it.
        let mut first_writer: Vec<usize> = Vec::with_capacity(count);
        let groups = &config.virtual_server_groups;
        for (index, vs) in config.virtual_servers.iter().enumerate() {
            let Some(state) = pool.services.get(index) else {
                continue;
            };
            let mut destinations = Some(destinations(vs, state));
            let keys = service_keys(vs, groups);
            let last = keys.len().saturating_sub(1);
            for (n, key) in keys.into_iter().enumerate() {
                let existing = table.index.get(&key).copied();
                match existing.and_then(|i| Some((i, table.entries.get_mut(i)?))) {
                    Some((i, entry)) => {
                        for d in destinations.iter().flatten() {
                            if !entry
                                .destinations
                                .iter()
                                .any(|e| e.address == d.address && e.port == d.port)
                            {
                                entry.destinations.push(d.clone());
                            }
                        }
                        table.shared[index] = true;
                        if let Some(&writer) = first_writer.get(i) {
                            table.shared[writer] = true;
                        }
                    }
                    None => {
                        // The last service takes the destinations; the others copy them.
                        let destinations = if n == last {
                            destinations.take().unwrap_or_default()
                        } else {
                            destinations.clone().unwrap_or_default()
                        };
                        table.index.insert(key, table.entries.len());
                        first_writer.push(index);
                        table.entries.push(VirtualService {
                            service: service_settings(vs, key),
                            destinations,
                        });
                    }
                }
            }
        }
        table
    }
}

/// The keys a virtual server maps to.
pub fn service_keys(vs: &VirtualServer, groups: &[VirtualServerGroup]) -> Vec<ServiceKey> {
    let protocol = protocol(vs.protocol);
    let family = kernel_family(vs.address_family(groups));
    match &vs.service {
        ServiceAddress::Address { address, port } => vec![ServiceKey::Address {
            protocol,
            address: *address,
            port: *port,
        }],
        ServiceAddress::Fwmark(mark) => vec![ServiceKey::fwmark(family, *mark)],
        ServiceAddress::Group(name) => {
            let mut keys = Vec::new();
            for entry in groups
                .iter()
                .filter(|g| &g.name == name)
                .flat_map(|g| &g.entries)
            {
                match entry {
                    GroupEntry::Range { first, last, port } => {
                        keys.extend(range(*first, *last).map(|address| ServiceKey::Address {
                            protocol,
                            address,
                            port: *port,
                        }));
                    }
                    // keepalived sends every entry of a group with the virtual server's family.
                    GroupEntry::Fwmark { mark, .. } => keys.push(ServiceKey::fwmark(family, *mark)),
                }
            }
            keys
        }
    }
}

/// The services of a virtual server, with its settings.
pub fn services(vs: &VirtualServer, groups: &[VirtualServerGroup]) -> Vec<Service> {
    service_keys(vs, groups)
        .into_iter()
        .map(|key| service_settings(vs, key))
        .collect()
}

fn service_settings(vs: &VirtualServer, key: ServiceKey) -> Service {
    let mut service = Service::new(key).with_scheduler(vs.scheduler.clone());
    let flags = &vs.scheduler_flags;
    service.flags = ServiceFlags::EMPTY
        .with(ServiceFlags::ONE_PACKET, flags.one_packet)
        .with(ServiceFlags::SCHED1, flags.flag_1)
        .with(ServiceFlags::SCHED2, flags.flag_2)
        .with(ServiceFlags::SCHED3, flags.flag_3);
    if let Some(persistence) = &vs.persistence {
        apply_persistence(&mut service, persistence, key.family());
    }
    service
}

fn apply_persistence(service: &mut Service, persistence: &Persistence, family: KFamily) {
    let timeout = u32::try_from(persistence.timeout.as_secs()).unwrap_or(u32::MAX);
    // keepalived sets the persistent flag only for a non-zero timeout.
    if timeout != 0 {
        service.flags.insert(ServiceFlags::PERSISTENT);
        service.timeout = timeout;
        if let Some(mask) = persistence.granularity {
            service.netmask = match (mask, family) {
                (IpAddr::V4(mask), KFamily::Ipv4) => Netmask::Ipv4(mask),
                (IpAddr::V6(mask), _) => Netmask::Ipv6Prefix(u128::from(mask).leading_ones()),
                // An IPv4 mask on an IPv6 service: keepalived sends the number as it is.
                (IpAddr::V4(mask), KFamily::Ipv6) => Netmask::Ipv6Prefix(u32::from(mask)),
            };
        }
    }
    if let Some(engine) = &persistence.engine {
        service.persistence_engine = Some(engine.clone());
    }
}

/// The destinations of a virtual server in its current state.
pub fn destinations(vs: &VirtualServer, state: &ServiceState) -> Vec<Destination> {
    let sorry_in_use = vs.sorry_server.is_some() && !state.quorum_up;
    let mut out = Vec::new();
    for (rs, rs_state) in vs.real_servers.iter().zip(&state.real_servers) {
        let in_pool = rs_state.alive && !sorry_in_use;
        let weight = if in_pool {
            rs_state.weight()
        } else if rs.inhibit_on_failure {
            0
        } else {
            continue;
        };
        let mut destination = destination(rs.address, rs.port, rs.forwarding, weight);
        destination.upper_threshold = rs.upper_threshold.unwrap_or(0);
        destination.lower_threshold = rs.lower_threshold.unwrap_or(0);
        out.push(destination);
    }
    if let Some(sorry) = &vs.sorry_server {
        let weight = if sorry_in_use {
            Some(1)
        } else if sorry.inhibit {
            Some(0)
        } else {
            None
        };
        if let Some(weight) = weight {
            // A sorry server that is also a real server is not added twice.
            if !out
                .iter()
                .any(|d| d.address == sorry.address && d.port == sorry.port)
            {
                let forwarding = sorry.forwarding.unwrap_or(vs.forwarding);
                out.push(destination(sorry.address, sorry.port, forwarding, weight));
            }
        }
    }
    out
}

fn destination(address: IpAddr, port: u16, method: ForwardingMethod, weight: i32) -> Destination {
    let destination = Destination::new(address, port).with_weight(weight);
    match method {
        ForwardingMethod::Nat => destination.with_forwarding(k::ForwardingMethod::Masquerade),
        ForwardingMethod::DirectRouting => {
            destination.with_forwarding(k::ForwardingMethod::DirectRoute)
        }
        ForwardingMethod::Tunnel {
            tunnel_type,
            checksum,
        } => {
            let (kind, tunnel_port) = match tunnel_type {
                TunnelType::Ipip => (k::TunnelType::Ipip, 0),
                TunnelType::Gue { port } => (k::TunnelType::Gue, port),
                TunnelType::Gre => (k::TunnelType::Gre, 0),
            };
            let flags = match checksum {
                None | Some(TunnelChecksum::None) => TunnelFlags::EMPTY,
                Some(TunnelChecksum::Checksum) => TunnelFlags::CHECKSUM,
                Some(TunnelChecksum::Remote) => TunnelFlags::REMOTE_CHECKSUM,
            };
            destination.with_tunnel(Tunnel {
                kind,
                port: tunnel_port,
                flags,
            })
        }
    }
}

fn protocol(protocol: Protocol) -> k::Protocol {
    match protocol {
        Protocol::Tcp => k::Protocol::Tcp,
        Protocol::Udp => k::Protocol::Udp,
        Protocol::Sctp => k::Protocol::Sctp,
    }
}

fn kernel_family(family: AddressFamily) -> KFamily {
    match family {
        AddressFamily::Ipv4 => KFamily::Ipv4,
        AddressFamily::Ipv6 => KFamily::Ipv6,
    }
}

/// The addresses from `first` to `last`, inclusive (none when `last` is below `first` or of
/// another family).
fn range(first: IpAddr, last: IpAddr) -> Box<dyn Iterator<Item = IpAddr>> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            Box::new((u32::from(a)..=u32::from(b)).map(|n| IpAddr::V4(n.into())))
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            Box::new((u128::from(a)..=u128::from(b)).map(|n| IpAddr::V6(n.into())))
        }
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
