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
use std::sync::Arc;

use ipvs::Change;
use ipvs::model::{
    self as k, AddressFamily as KFamily, Destination, Netmask, Service, ServiceFlags, ServiceKey,
    Tunnel, TunnelFlags,
};
use ipvs::table::{VirtualService, changes_between_entries};
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

/// [`desired_table`] with what was learnt building it: where each service is, which virtual
/// servers share a service with another, and which made an entry alone.
#[derive(Debug, Default)]
pub struct DesiredTable {
    /// The table, in configuration order.
    pub entries: Vec<VirtualService>,
    /// Each service's place in `entries`.
    pub index: FxHashMap<ServiceKey, usize>,
    /// Per virtual server: whether one of its services is also another's (or its own twice).
    pub shared: Vec<bool>,
    /// Per entry: the model of the virtual server that made it alone (none for a service that
    /// several virtual servers write to, or an entry read from the kernel). The entry is then
    /// that model's, for the state its destinations show.
    made_by: Vec<Option<Arc<VirtualServer>>>,
    /// How many entries [`DesiredTable::update`] took over from the previous table.
    unchanged: usize,
}

/// An entry of the table being built: made anew, or moved unchanged from the previous table's
/// place given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Made,
    Moved(usize),
}

impl DesiredTable {
    /// The table of `config` in state `pool`.
    pub fn of(config: &Config, pool: &Pool) -> Self {
        Builder::new(config, None).build(config, pool).0
    }

    /// The table of `config` in state `pool`, and the changes that turn `previous` (the table
    /// programmed until now) into it, as [`ipvs::table::changes_between`] gives them. A virtual
    /// server that is the same model as the one that made its entry alone in `previous`
    /// (configurations share the models of blocks that did not change) and wants the same
    /// destinations takes that entry as it is: it is not made again, and not compared, which it
    /// would pass. A reload where one virtual server of thousands changed compares that one.
    pub fn update(previous: DesiredTable, config: &Config, pool: &Pool) -> (Self, Vec<Change>) {
        Builder::new(config, Some(previous)).build(config, pool)
    }

    /// How many entries [`DesiredTable::update`] took over from the previous table as they
    /// were, without making or comparing them.
    pub fn unchanged(&self) -> usize {
        self.unchanged
    }

    /// The table as read from the kernel: nothing in it is known to be any model's.
    pub fn read(entries: Vec<VirtualService>) -> Self {
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| (entry.service.key, i))
            .collect();
        let made_by = vec![None; entries.len()];
        DesiredTable {
            entries,
            index,
            shared: Vec::new(),
            made_by,
            unchanged: 0,
        }
    }

    /// Virtual server `service` of `config` has a new state in `pool`: its entries are made
    /// again and the changes returned. Only its services are compared, so a check result costs
    /// the size of that virtual server, not of the whole table. `None` when the virtual server
    /// shares a service with another (or this table does not know): the whole table is then to
    /// be made again.
    pub fn refresh(&mut self, config: &Config, pool: &Pool, service: usize) -> Option<Vec<Change>> {
        if self.shared.get(service).copied().unwrap_or(true) {
            return None;
        }
        let (Some(vs), Some(state)) = (
            config.virtual_servers.get(service),
            pool.services.get(service),
        ) else {
            return Some(Vec::new());
        };
        let destinations = destinations(vs, state);
        let desired: Vec<VirtualService> = services(vs, &config.virtual_server_groups)
            .into_iter()
            .map(|service| VirtualService {
                service,
                destinations: destinations.clone(),
            })
            .collect();
        let current = desired
            .iter()
            .filter_map(|d| self.index.get(&d.service.key))
            .filter_map(|&i| self.entries.get(i));
        let changes = changes_between_entries(current, desired.iter());
        for entry in desired {
            let place = self.index.get(&entry.service.key).copied();
            match place.and_then(|i| Some((self.entries.get_mut(i)?, self.made_by.get_mut(i)?))) {
                Some((slot, made_by)) => {
                    *slot = entry;
                    *made_by = Some(Arc::clone(vs));
                }
                None => {
                    self.index.insert(entry.service.key, self.entries.len());
                    self.entries.push(entry);
                    self.made_by.push(Some(Arc::clone(vs)));
                }
            }
        }
        Some(changes)
    }
}

/// Builds a [`DesiredTable`], moving over what it can from the previous one.
struct Builder {
    table: DesiredTable,
    /// Per entry: where it comes from.
    origins: Vec<Origin>,
    /// Per entry: the virtual server that wrote it first (a later writer shares it).
    first_writer: Vec<usize>,
    /// The previous table's entries (`None` once moved to this one), places and makers.
    previous: Vec<Option<VirtualService>>,
    previous_index: FxHashMap<ServiceKey, usize>,
    previous_made_by: Vec<Option<Arc<VirtualServer>>>,
    /// Where the next entry is looked for in the previous table first: after the last one
    /// found. Tables keep their order from one reload to the next, and a look at the entry
    /// there costs less than one in the map.
    previous_next: usize,
    /// The destinations a virtual server wants, made here to be compared with its previous
    /// entry's before anything is allocated for them.
    wanted: Vec<Destination>,
    /// Whether there is a previous table to compare with.
    comparing: bool,
}

impl Builder {
    fn new(config: &Config, previous: Option<DesiredTable>) -> Self {
        let count = config.virtual_servers.len();
        let comparing = previous.is_some();
        let previous = previous.unwrap_or_default();
        Builder {
            table: DesiredTable {
                entries: Vec::with_capacity(count),
                index: FxHashMap::with_capacity_and_hasher(count, Default::default()),
                shared: vec![false; count],
                made_by: Vec::with_capacity(count),
                unchanged: 0,
            },
            origins: Vec::with_capacity(count),
            first_writer: Vec::with_capacity(count),
            previous: previous.entries.into_iter().map(Some).collect(),
            previous_index: previous.index,
            previous_made_by: previous.made_by,
            previous_next: 0,
            wanted: Vec::new(),
            comparing,
        }
    }

    fn build(mut self, config: &Config, pool: &Pool) -> (DesiredTable, Vec<Change>) {
        let groups = &config.virtual_server_groups;
        for (index, vs) in config.virtual_servers.iter().enumerate() {
            let Some(state) = pool.services.get(index) else {
                continue;
            };
            if self.move_unchanged(index, vs, state) {
                continue;
            }
            let mut destinations = Some(destinations(vs, state));
            let keys = service_keys(vs, groups);
            let last = keys.len().saturating_sub(1);
            for (n, key) in keys.into_iter().enumerate() {
                match self.table.index.get(&key).copied() {
                    Some(i) => self.share(i, index, destinations.as_deref().unwrap_or_default()),
                    None => {
                        // The last service takes the destinations; the others copy them.
                        let destinations = if n == last {
                            destinations.take().unwrap_or_default()
                        } else {
                            destinations.clone().unwrap_or_default()
                        };
                        let entry = VirtualService {
                            service: service_settings(vs, key),
                            destinations,
                        };
                        self.push(index, Arc::clone(vs), entry, Origin::Made);
                    }
                }
            }
        }
        let changes = if self.comparing {
            let current = self.previous.iter().flatten();
            let desired = self
                .table
                .entries
                .iter()
                .zip(&self.origins)
                .filter(|(_, origin)| **origin == Origin::Made)
                .map(|(entry, _)| entry);
            changes_between_entries(current, desired)
        } else {
            Vec::new()
        };
        self.table.unchanged = self
            .origins
            .iter()
            .filter(|origin| matches!(origin, Origin::Moved(_)))
            .count();
        (self.table, changes)
    }

    /// Moves the previous table's entry of virtual server `index` over when it made that entry
    /// alone, as the same model, and wants the same destinations now.
    fn move_unchanged(
        &mut self,
        index: usize,
        vs: &Arc<VirtualServer>,
        state: &ServiceState,
    ) -> bool {
        let key = match vs.service {
            ServiceAddress::Address { address, port } => ServiceKey::Address {
                protocol: protocol(vs.protocol),
                address,
                port,
            },
            // A fwmark's family may come from the groups: made anew.
            ServiceAddress::Fwmark(_) | ServiceAddress::Group(_) => return false,
        };
        // Keys are unique in a table: the entry of this key is the one found either way.
        let guess = self.previous_next;
        let at = match self.previous.get(guess) {
            Some(Some(entry)) if entry.service.key == key => guess,
            _ => match self.previous_index.get(&key) {
                Some(&at) => at,
                None => return false,
            },
        };
        self.previous_next = at + 1;
        let same_model = self
            .previous_made_by
            .get(at)
            .and_then(Option::as_ref)
            .is_some_and(|made_by| Arc::ptr_eq(made_by, vs));
        if !same_model || self.table.index.contains_key(&key) {
            return false;
        }
        destinations_into(vs, state, &mut self.wanted);
        let Some(slot) = self.previous.get_mut(at) else {
            return false;
        };
        if slot
            .as_ref()
            .is_none_or(|entry| entry.destinations != self.wanted)
        {
            return false;
        }
        // The maker is moved over too: the model's count is not touched twice for it.
        let (Some(entry), Some(made_by)) = (
            slot.take(),
            self.previous_made_by.get_mut(at).and_then(Option::take),
        ) else {
            return false;
        };
        self.push(index, made_by, entry, Origin::Moved(at));
        true
    }

    fn push(
        &mut self,
        index: usize,
        made_by: Arc<VirtualServer>,
        entry: VirtualService,
        origin: Origin,
    ) {
        self.table
            .index
            .insert(entry.service.key, self.table.entries.len());
        self.table.entries.push(entry);
        self.table.made_by.push(Some(made_by));
        self.origins.push(origin);
        self.first_writer.push(index);
    }

    /// Virtual server `index` writes to entry `i` too: its destinations join those there.
    fn share(&mut self, i: usize, index: usize, destinations: &[Destination]) {
        let Some(entry) = self.table.entries.get_mut(i) else {
            return;
        };
        // A moved entry changes now: the previous table gets it back to be compared with.
        if let Some(Origin::Moved(at)) = self.origins.get(i).copied() {
            if let Some(slot) = self.previous.get_mut(at) {
                *slot = Some(entry.clone());
            }
            self.origins[i] = Origin::Made;
        }
        for d in destinations {
            if !entry
                .destinations
                .iter()
                .any(|e| e.address == d.address && e.port == d.port)
            {
                entry.destinations.push(d.clone());
            }
        }
        self.table.made_by[i] = None;
        self.table.shared[index] = true;
        if let Some(&writer) = self.first_writer.get(i) {
            self.table.shared[writer] = true;
        }
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
    let mut out = Vec::new();
    destinations_into(vs, state, &mut out);
    out
}

/// [`destinations`], written to `out` (emptied first, its room kept).
fn destinations_into(vs: &VirtualServer, state: &ServiceState, out: &mut Vec<Destination>) {
    out.clear();
    let sorry_in_use = vs.sorry_server.is_some() && !state.quorum_up;
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
