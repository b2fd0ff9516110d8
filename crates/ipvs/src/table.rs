//! Whole tables, and the fewest changes that turn one into another.
//!
//! A program that owns part of the IPVS table (a rule file kept in sync, keepalived's virtual
//! servers) describes what it wants as a list of [`VirtualService`]s and lets
//! [`changes_between`] work out the requests. Nothing is flushed: services and destinations
//! that stay keep their connections and counters, and a changed setting is an update, not a
//! delete and re-add.

use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;

use crate::Change;
use crate::model::{Destination, ForwardingMethod, Service, ServiceFlags, ServiceKey};

/// A service with its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualService {
    /// The service.
    pub service: Service,
    /// Its destinations, in the order they are wanted or were listed.
    pub destinations: Vec<Destination>,
}

impl VirtualService {
    /// A service without destinations.
    pub fn new(service: Service) -> Self {
        VirtualService {
            service,
            destinations: Vec::new(),
        }
    }
}

/// The changes that turn `current` into `desired`, in an order the kernel accepts: removed
/// destinations and services first (freeing what they held), then, in `desired`'s order, new
/// and updated services each followed by their new and updated destinations.
///
/// Services are matched by key and destinations by address and port; a service or destination
/// is updated only when a setting the kernel keeps differs (counters and connection numbers
/// are never compared).
pub fn changes_between(current: &[VirtualService], desired: &[VirtualService]) -> Vec<Change> {
    changes_between_entries(current.iter(), desired.iter())
}

/// [`changes_between`] for tables given by their entries in order, so that a caller who knows
/// some entries to be the same in both (they would add no change) can leave them out of both.
pub fn changes_between_entries<'a, C, D>(current: C, desired: D) -> Vec<Change>
where
    C: Iterator<Item = &'a VirtualService> + Clone,
    D: Iterator<Item = &'a VirtualService> + Clone,
{
    let current_by_key: FxHashMap<ServiceKey, &VirtualService> = current
        .clone()
        .map(|entry| (entry.service.key, entry))
        .collect();
    let desired_keys: FxHashSet<ServiceKey> =
        desired.clone().map(|entry| entry.service.key).collect();
    let mut changes = Vec::new();

    for entry in current {
        if !desired_keys.contains(&entry.service.key) {
            changes.push(Change::DeleteService(entry.service.key));
        }
    }
    for wanted in desired.clone() {
        if let Some(existing) = current_by_key.get(&wanted.service.key) {
            let kept = Destinations::of(&wanted.destinations);
            for destination in &existing.destinations {
                if kept.get(destination.address, destination.port).is_none() {
                    changes.push(Change::DeleteDestination {
                        service: wanted.service.key,
                        address: destination.address,
                        port: destination.port,
                    });
                }
            }
        }
    }

    for wanted in desired {
        let key = wanted.service.key;
        let existing = current_by_key.get(&key);
        let existing_destinations =
            Destinations::of(existing.map_or(&[][..], |entry| &entry.destinations));
        match existing {
            None => changes.push(Change::AddService(wanted.service.clone())),
            Some(entry) if !same_service_settings(&entry.service, &wanted.service) => {
                changes.push(Change::UpdateService(wanted.service.clone()));
            }
            Some(_) => {}
        }
        for destination in &wanted.destinations {
            match existing_destinations.get(destination.address, destination.port) {
                None => changes.push(Change::AddDestination {
                    service: key,
                    destination: destination.clone(),
                }),
                Some(had) if !same_destination_settings(had, destination) => {
                    changes.push(Change::UpdateDestination {
                        service: key,
                        destination: destination.clone(),
                    });
                }
                Some(_) => {}
            }
        }
    }
    changes
}

/// A service's destinations found by address and port: searched when there are few (most
/// services), mapped when there are many. Of duplicates, the last is found.
enum Destinations<'a> {
    Few(&'a [Destination]),
    Many(FxHashMap<(IpAddr, u16), &'a Destination>),
}

impl<'a> Destinations<'a> {
    const FEW: usize = 8;

    fn of(destinations: &'a [Destination]) -> Self {
        if destinations.len() <= Self::FEW {
            Destinations::Few(destinations)
        } else {
            Destinations::Many(
                destinations
                    .iter()
                    .map(|destination| ((destination.address, destination.port), destination))
                    .collect(),
            )
        }
    }

    fn get(&self, address: IpAddr, port: u16) -> Option<&'a Destination> {
        match self {
            Destinations::Few(list) => list
                .iter()
                .rev()
                .find(|destination| destination.address == address && destination.port == port),
            Destinations::Many(map) => map.get(&(address, port)).copied(),
        }
    }
}

/// Whether two services have the same settings. The kernel marks every service it holds as
/// hashed; that flag is bookkeeping, not a setting.
pub fn same_service_settings(a: &Service, b: &Service) -> bool {
    let settable = |flags: ServiceFlags| {
        let mut flags = flags;
        flags.remove(ServiceFlags::HASHED);
        flags
    };
    a.key == b.key
        && a.scheduler == b.scheduler
        && a.persistence_engine == b.persistence_engine
        && settable(a.flags) == settable(b.flags)
        && a.timeout == b.timeout
        && a.netmask == b.netmask
}

/// Whether two destinations have the same settings. Tunnel settings count only for tunnelled
/// destinations: the kernel keeps whatever was sent for the others.
pub fn same_destination_settings(a: &Destination, b: &Destination) -> bool {
    a.address == b.address
        && a.port == b.port
        && a.forwarding == b.forwarding
        && a.weight == b.weight
        && a.upper_threshold == b.upper_threshold
        && a.lower_threshold == b.lower_threshold
        && (a.forwarding != ForwardingMethod::Tunnel || a.tunnel == b.tunnel)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::model::{Netmask, Tunnel, TunnelType};

    fn ip(last: u8) -> IpAddr {
        Ipv4Addr::new(10, 0, 0, last).into()
    }

    fn web(last: u8) -> ServiceKey {
        ServiceKey::tcp(Ipv4Addr::new(192, 0, 2, last).into(), 80)
    }

    fn entry(key: ServiceKey, scheduler: &str, servers: &[(u8, i32)]) -> VirtualService {
        VirtualService {
            service: Service::new(key).with_scheduler(scheduler),
            destinations: servers
                .iter()
                .map(|&(last, weight)| {
                    Destination::new(ip(last), 8080)
                        .with_forwarding(ForwardingMethod::Masquerade)
                        .with_weight(weight)
                })
                .collect(),
        }
    }

    #[test]
    fn equal_tables_need_nothing() {
        let table = vec![
            entry(web(1), "rr", &[(1, 1), (2, 1)]),
            entry(web(2), "wlc", &[]),
        ];
        assert!(changes_between(&table, &table).is_empty());
    }

    #[test]
    fn counters_and_the_hashed_flag_are_not_settings() {
        let wanted = vec![entry(web(1), "rr", &[(1, 1)])];
        let mut listed = wanted.clone();
        listed[0].service.flags.insert(ServiceFlags::HASHED);
        listed[0].service.stats = Some(Default::default());
        listed[0].destinations[0].active_connections = 12;
        assert!(changes_between(&listed, &wanted).is_empty());
    }

    #[test]
    fn an_empty_table_is_built_service_by_service() {
        let wanted = vec![
            entry(web(1), "rr", &[(1, 1), (2, 3)]),
            entry(web(2), "wlc", &[]),
        ];
        let changes = changes_between(&[], &wanted);
        assert_eq!(
            changes,
            vec![
                Change::AddService(wanted[0].service.clone()),
                Change::AddDestination {
                    service: web(1),
                    destination: wanted[0].destinations[0].clone()
                },
                Change::AddDestination {
                    service: web(1),
                    destination: wanted[0].destinations[1].clone()
                },
                Change::AddService(wanted[1].service.clone()),
            ]
        );
    }

    #[test]
    fn only_what_differs_is_changed() {
        let current = vec![
            entry(web(1), "rr", &[(1, 1), (2, 1), (3, 1)]),
            entry(web(2), "wlc", &[(1, 1)]),
            entry(web(3), "wlc", &[]),
        ];
        let wanted = vec![
            entry(web(1), "rr", &[(1, 1), (2, 5), (4, 1)]),
            entry(web(2), "sh", &[(1, 1)]),
            entry(web(4), "rr", &[]),
        ];
        assert_eq!(
            changes_between(&current, &wanted),
            vec![
                Change::DeleteService(web(3)),
                Change::DeleteDestination {
                    service: web(1),
                    address: ip(3),
                    port: 8080
                },
                Change::UpdateDestination {
                    service: web(1),
                    destination: wanted[0].destinations[1].clone()
                },
                Change::AddDestination {
                    service: web(1),
                    destination: wanted[0].destinations[2].clone()
                },
                Change::UpdateService(wanted[1].service.clone()),
                Change::AddService(wanted[2].service.clone()),
            ]
        );
    }

    #[test]
    fn persistence_and_granularity_are_settings() {
        let plain = vec![entry(web(1), "rr", &[])];
        let mut persistent = plain.clone();
        persistent[0].service = persistent[0].service.clone().with_persistence(300);
        assert_eq!(
            changes_between(&plain, &persistent),
            vec![Change::UpdateService(persistent[0].service.clone())]
        );
        let mut coarse = persistent.clone();
        coarse[0].service.netmask = Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(changes_between(&persistent, &coarse).len(), 1);
    }

    #[test]
    fn tunnel_settings_count_only_when_tunnelling() {
        let mut a = Destination::new(ip(1), 80);
        let mut b = a.clone();
        b.tunnel.kind = TunnelType::Gre;
        assert!(same_destination_settings(&a, &b));
        a = a.with_tunnel(Tunnel::default());
        b.forwarding = ForwardingMethod::Tunnel;
        assert!(!same_destination_settings(&a, &b));
    }
}
