//! What the daemon knows of the machine's interfaces, kept current from rtnetlink events: up or down, MAC,
//! and the addresses adverts are sent from.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use vrrp::wire::Family;

use crate::netlink::{InterfaceAddress, Link, NetEvent};

#[derive(Default)]
pub struct Interfaces {
    links: HashMap<u32, Link>,
    addresses: Vec<InterfaceAddress>,
}

impl Interfaces {
    pub fn new(links: Vec<Link>, addresses: Vec<InterfaceAddress>) -> Self {
        Self {
            links: links.into_iter().map(|link| (link.index, link)).collect(),
            addresses,
        }
    }

    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.links
            .values()
            .find(|link| link.name == name)
            .map(|link| link.index)
    }

    pub fn link(&self, index: u32) -> Option<&Link> {
        self.links.get(&index)
    }

    pub fn is_up(&self, index: u32) -> bool {
        self.links.get(&index).is_some_and(|link| link.up)
    }

    /// Applies an event; returns whether it changed anything.
    pub fn apply(&mut self, event: &NetEvent) -> bool {
        match event {
            NetEvent::Link(link) => {
                self.links.insert(link.index, link.clone()).as_ref() != Some(link)
            }
            NetEvent::LinkRemoved(index) => {
                self.addresses.retain(|address| address.index != *index);
                self.links.remove(index).is_some()
            }
            NetEvent::AddressAdded(address) => {
                if self.addresses.contains(address) {
                    return false;
                }
                self.addresses.push(address.clone());
                true
            }
            NetEvent::AddressRemoved(address) => {
                let before = self.addresses.len();
                self.addresses.retain(|known| {
                    (known.index, known.address) != (address.index, address.address)
                });
                self.addresses.len() != before
            }
        }
    }

    /// The address adverts go out from: IPv4 the interface's primary address, IPv6 its link-local address
    /// (as keepalived chooses), never one of `ignore` (our own VIPs).
    pub fn source_address(&self, index: u32, family: Family, ignore: &[IpAddr]) -> Option<IpAddr> {
        let candidates = self
            .addresses
            .iter()
            .filter(|address| address.index == index && !ignore.contains(&address.address));
        match family {
            Family::Ipv4 => candidates
                .filter(|address| address.address.is_ipv4() && !address.secondary)
                .map(|address| address.address)
                .next(),
            Family::Ipv6 => candidates
                .filter_map(|address| match address.address {
                    IpAddr::V6(v6) if is_link_local(v6) => Some(address.address),
                    _ => None,
                })
                .next(),
        }
    }
}

fn is_link_local(address: Ipv6Addr) -> bool {
    address.segments()[0] & 0xffc0 == 0xfe80
}
