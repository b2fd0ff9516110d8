//! The nftables rules keepalived 2.2.7 keeps, made the same way:
//!
//! - The `no_accept` firewall: while an instance that does not accept traffic for its addresses
//!   (`no_accept`, or strict mode below priority 255) is master, what is sent to or from them is
//!   dropped. Its chains and sets are made when a first address of their family goes in
//!   (nothing while every instance is backup), and the addresses go in and out of sets as
//!   instances gain and lose mastership.
//! - The VMAC rules: from the moment a `use_vmac` interface exists, the multicast reports it
//!   would send (IGMP, MLDv2) leave from its base interface instead and its router solicitations
//!   are dropped, so that a switch never learns the virtual router's MAC from a backup.
//!
//! A table left by an earlier run is deleted before the first is made, and the tables are
//! deleted when the daemon stops. keepalived reads only the first acknowledgement of a batch; here each is read, so a
//! batch the kernel refuses (all of it, nf_tables batches being atomic) is reported.

mod messages;

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::io;
use std::net::IpAddr;

use log::info;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

use messages::{Awaited, Batch, INTERFACE_NAME_SIZE, SetName, TABLE_REPLY, VmacSetIds};
pub use messages::{Family, Rules};

/// Room for a datagram of replies (a batch's acknowledgements are a few dozen).
const REPLY_BUFFER: usize = 64 * 1024;
/// How long a reply may take before the exchange is given up.
const REPLY_TIMEOUT_SECONDS: libc::time_t = 2;

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("nftables socket: {0}")]
    Io(#[from] io::Error),
    #[error("nftables: {what}: {source}")]
    Kernel { what: String, source: io::Error },
    #[error("nftables: {0}")]
    Decode(#[from] messages::BadReply),
}

/// An address as the firewall's sets hold it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Element {
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    /// A link-local address with its interface's index.
    LinkLocal([u8; 16], u32),
    /// A link-local address with its interface's name (`dont_track_primary`).
    LinkLocalName([u8; 16], String),
}

impl Element {
    /// The element of `address` on the interface `index` named `name`; `by_name` chooses the
    /// name for a link-local address (keepalived's `vips_link_local_name`).
    pub fn of(address: IpAddr, index: u32, name: &str, by_name: bool) -> Self {
        match address {
            IpAddr::V4(v4) => Element::Ipv4(v4.octets()),
            IpAddr::V6(v6) if v6.is_unicast_link_local() => {
                if by_name {
                    Element::LinkLocalName(v6.octets(), name.to_owned())
                } else {
                    Element::LinkLocal(v6.octets(), index)
                }
            }
            IpAddr::V6(v6) => Element::Ipv6(v6.octets()),
        }
    }

    fn set(&self) -> SetName {
        match self {
            Element::Ipv4(_) => SetName::Ipv4,
            Element::Ipv6(_) => SetName::Ipv6,
            Element::LinkLocal(..) => SetName::LinkLocal,
            Element::LinkLocalName(..) => SetName::LinkLocalName,
        }
    }

    /// The set's key: the address, then the interface's index (host order) or its name padded
    /// to `IFNAMSIZ`.
    fn key(&self) -> Vec<u8> {
        match self {
            Element::Ipv4(address) => address.to_vec(),
            Element::Ipv6(address) => address.to_vec(),
            Element::LinkLocal(address, index) => [&address[..], &index.to_ne_bytes()].concat(),
            Element::LinkLocalName(address, name) => {
                let mut key = address.to_vec();
                let mut padded = [0; INTERFACE_NAME_SIZE];
                let length = name.len().min(INTERFACE_NAME_SIZE - 1);
                padded[..length].copy_from_slice(&name.as_bytes()[..length]);
                key.extend_from_slice(&padded);
                key
            }
        }
    }
}

/// A VMAC and the interface it is on, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Vmac {
    pub index: u32,
    pub base: u32,
}

/// A part of the tables, made once with what it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Part {
    /// A family's table and its `out` chain.
    Table(Family),
    /// A set of addresses with the chains and rules that look it up.
    Addresses(SetName),
    /// A family's VMAC map (and IPv6 set) with their rules.
    Vmacs(Family),
}

/// The firewall's tables as this process made them, and what is in their sets.
pub struct Firewall {
    rules: Rules,
    socket: Option<Socket>,
    sequence: u32,
    next_set_id: u32,
    made: HashSet<Part>,
    /// Whether tables left by a run before were looked for (once, before the first is made).
    looked_for_leftovers: bool,
    installed: HashSet<Element>,
    vmacs: HashSet<(Family, Vmac)>,
    /// The replies' buffer, kept from one exchange to the next.
    buffer: Vec<u8>,
}

impl Firewall {
    pub fn new(rules: Rules) -> Self {
        Firewall {
            rules,
            socket: None,
            sequence: 0,
            next_set_id: 1,
            made: HashSet::new(),
            looked_for_leftovers: false,
            installed: HashSet::new(),
            vmacs: HashSet::new(),
            buffer: Vec::new(),
        }
    }

    /// The table's name (`nftables`, default `keepalived`).
    pub fn table(&self) -> &str {
        &self.rules.table
    }

    /// Puts in the sets those of `elements` not there yet, making what they need first.
    pub fn add(&mut self, elements: &[Element]) -> Result<(), FirewallError> {
        let fresh: Vec<&Element> = elements
            .iter()
            .filter(|e| !self.installed.contains(e))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        // Tables and link-local sets are made in the order of the addresses that need them (and
        // nft lists them in that order); the addresses go in set by set.
        let mut needed: Vec<SetName> = Vec::new();
        for element in &fresh {
            if !needed.contains(&element.set()) {
                needed.push(element.set());
            }
        }
        let new = self.by_set(fresh.into_iter());
        let mut batch = self.start_batch()?;
        let mut making = Vec::new();
        for set in needed {
            self.make(&mut batch, Part::Addresses(set), &mut making);
        }
        for (&set, keys) in &new {
            let keys: Vec<Vec<u8>> = keys.iter().map(|e| e.key()).collect();
            batch.elements(&self.rules, set, &keys, true);
        }
        self.commit(batch, making, "adding the addresses")?;
        self.installed.extend(new.into_values().flatten().cloned());
        Ok(())
    }

    /// Puts a VMAC in the VMAC rules of these families, making them first.
    pub fn add_vmac(&mut self, vmac: Vmac, families: &[Family]) -> Result<(), FirewallError> {
        let fresh: Vec<Family> = families
            .iter()
            .copied()
            .filter(|&family| !self.vmacs.contains(&(family, vmac)))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let mut batch = self.start_batch()?;
        let mut making = Vec::new();
        for &family in &fresh {
            let ids = self.make(&mut batch, Part::Vmacs(family), &mut making);
            batch.vmac_elements(family, &self.rules, vmac.index, vmac.base, ids, true);
        }
        self.commit(batch, making, "adding a VMAC")?;
        self.vmacs
            .extend(fresh.into_iter().map(|family| (family, vmac)));
        Ok(())
    }

    /// Takes a VMAC out of the VMAC rules it is in (before the VMAC goes).
    pub fn remove_vmac(&mut self, vmac: Vmac) -> Result<(), FirewallError> {
        let old: Vec<Family> = [Family::Ipv4, Family::Ipv6]
            .into_iter()
            .filter(|&family| self.vmacs.contains(&(family, vmac)))
            .collect();
        if old.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new(self.sequence);
        for &family in &old {
            batch.vmac_elements(family, &self.rules, vmac.index, vmac.base, None, false);
        }
        self.send(batch, "removing a VMAC")?;
        for family in old {
            self.vmacs.remove(&(family, vmac));
        }
        Ok(())
    }

    /// Takes out of the sets those of `elements` that are in them.
    pub fn remove(&mut self, elements: &[Element]) -> Result<(), FirewallError> {
        let old = self.by_set(elements.iter().filter(|e| self.installed.contains(e)));
        if old.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new(self.sequence);
        for (&set, keys) in &old {
            let keys: Vec<Vec<u8>> = keys.iter().map(|e| e.key()).collect();
            batch.elements(&self.rules, set, &keys, false);
        }
        self.send(batch, "removing the addresses")?;
        for element in old.into_values().flatten() {
            self.installed.remove(element);
        }
        Ok(())
    }

    /// Deletes the tables this process made (at its stop).
    pub fn delete_tables(&mut self) -> Result<(), FirewallError> {
        let mut batch = Batch::new(self.sequence);
        for family in [Family::Ipv4, Family::Ipv6] {
            if self.made.contains(&Part::Table(family)) {
                batch.delete_table(family, &self.rules.table);
            }
        }
        self.made.clear();
        self.installed.clear();
        self.vmacs.clear();
        if batch.is_empty() {
            return Ok(());
        }
        self.send(batch, "deleting the tables")
    }

    /// `elements` by set, in the order keepalived sends them.
    fn by_set<'a>(
        &self,
        elements: impl Iterator<Item = &'a Element>,
    ) -> BTreeMap<SetName, Vec<&'a Element>> {
        let mut by_set: BTreeMap<SetName, Vec<&Element>> = BTreeMap::new();
        for element in elements {
            let in_set = by_set.entry(element.set()).or_default();
            if !in_set.contains(&element) {
                in_set.push(element);
            }
        }
        by_set
    }

    /// A batch, after a first look for tables left by an earlier run, which it deletes.
    fn start_batch(&mut self) -> Result<Batch, FirewallError> {
        let mut leftovers = Vec::new();
        if !self.looked_for_leftovers && self.made.is_empty() {
            for family in [Family::Ipv4, Family::Ipv6] {
                if self.table_exists(family)? {
                    leftovers.push(family);
                }
            }
        }
        let mut batch = Batch::new(self.sequence);
        for family in leftovers {
            info!("Deleting old {} {} table", family.word(), self.rules.table);
            batch.delete_table(family, &self.rules.table);
        }
        Ok(batch)
    }

    /// Sends a batch that makes the parts of `making`, which are made once it is applied.
    fn commit(&mut self, batch: Batch, making: Vec<Part>, what: &str) -> Result<(), FirewallError> {
        self.send(batch, what)?;
        self.looked_for_leftovers = true;
        self.made.extend(making);
        Ok(())
    }

    /// Writes `part` unless it is made, after what it needs; a VMAC part gives its sets' ids.
    fn make(
        &mut self,
        batch: &mut Batch,
        part: Part,
        making: &mut Vec<Part>,
    ) -> Option<VmacSetIds> {
        if self.made.contains(&part) || making.contains(&part) {
            return None;
        }
        let mut ids = None;
        match part {
            Part::Table(family) => batch.table(family, &self.rules),
            Part::Addresses(SetName::Ipv4) => {
                self.make(batch, Part::Table(Family::Ipv4), making);
                let id = self.set_id();
                batch.ipv4_addresses(&self.rules, id);
            }
            Part::Addresses(SetName::Ipv6) => {
                self.make(batch, Part::Table(Family::Ipv6), making);
                let vips = self.set_id();
                let discovery = self.set_id();
                batch.ipv6_addresses(&self.rules, vips, discovery);
            }
            Part::Addresses(link_local) => {
                self.make(batch, Part::Addresses(SetName::Ipv6), making);
                let id = self.set_id();
                batch.link_local_rules(&self.rules, link_local, id);
            }
            Part::Vmacs(family) => {
                self.make(batch, Part::Table(family), making);
                let map = self.set_id();
                let set = (family == Family::Ipv6).then(|| self.set_id());
                let made = VmacSetIds { map, set };
                batch.vmac_rules(family, &self.rules, made);
                ids = Some(made);
            }
        }
        making.push(part);
        ids
    }

    fn set_id(&mut self) -> u32 {
        let id = self.next_set_id;
        self.next_set_id = self.next_set_id.wrapping_add(1);
        id
    }

    fn socket(&mut self) -> Result<&mut Socket, FirewallError> {
        if self.socket.is_none() {
            let mut socket = Socket::new(NETLINK_NETFILTER)?;
            socket.bind_auto()?;
            socket.connect(&SocketAddr::new(0, 0))?;
            // The kernel answers at once; a reply that never comes must not stop the daemon.
            let timeout = TimeVal::new(REPLY_TIMEOUT_SECONDS, 0);
            setsockopt(&socket, sockopt::ReceiveTimeout, &timeout).map_err(io::Error::from)?;
            self.socket = Some(socket);
        }
        self.socket
            .as_mut()
            .ok_or_else(|| FirewallError::Io(io::ErrorKind::NotConnected.into()))
    }

    /// Whether the kernel has a table of this name in `family`.
    fn table_exists(&mut self, family: Family) -> Result<bool, FirewallError> {
        let sequence = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        let request = messages::get_table(sequence, family, &self.rules.table);
        let mut exists = false;
        let awaited = Awaited::new(vec![sequence], None);
        let error = self.exchange(&request, awaited, |kind| exists |= kind == TABLE_REPLY)?;
        match error {
            None => Ok(true),
            Some(code) if code == -libc::ENOENT => Ok(exists),
            Some(code) => Err(FirewallError::Kernel {
                what: format!(
                    "looking for the {} {} table",
                    family.word(),
                    self.rules.table
                ),
                source: io::Error::from_raw_os_error(-code),
            }),
        }
    }

    fn send(&mut self, batch: Batch, what: &str) -> Result<(), FirewallError> {
        let (bytes, awaited, next) = batch.finish();
        self.sequence = next;
        // The batch was applied whole or not at all: the first error says why.
        match self.exchange(&bytes, awaited, |_| {})? {
            None => Ok(()),
            Some(code) => Err(FirewallError::Kernel {
                what: format!("{what} ({} table)", self.rules.table),
                source: io::Error::from_raw_os_error(-code),
            }),
        }
    }

    /// Sends `request` and reads replies until `awaited` has them all: the first error.
    fn exchange(
        &mut self,
        request: &[u8],
        mut awaited: Awaited,
        mut seen: impl FnMut(u16),
    ) -> Result<Option<i32>, FirewallError> {
        self.socket()?.send(request, 0)?;
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.resize(REPLY_BUFFER, 0);
        let outcome = loop {
            if awaited.is_complete() {
                break Ok(awaited.first_error());
            }
            let received = match self.socket()?.recv(&mut &mut buffer[..], 0) {
                Ok(received) => received,
                Err(e) => break Err(FirewallError::Io(e)),
            };
            if let Err(e) = awaited.take(&buffer[..received.min(buffer.len())], &mut seen) {
                break Err(e.into());
            }
        };
        self.buffer = buffer;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firewall() -> Firewall {
        Firewall::new(Rules {
            table: "keepalived".to_owned(),
            priority: -1,
            counters: false,
        })
    }

    #[test]
    fn a_part_is_made_after_what_it_needs_and_once() {
        let mut firewall = firewall();
        let mut batch = Batch::new(1);
        let mut making = Vec::new();
        let ids = firewall.make(&mut batch, Part::Vmacs(Family::Ipv6), &mut making);
        assert_eq!(
            ids,
            Some(VmacSetIds {
                map: 1,
                set: Some(2)
            })
        );
        assert_eq!(
            making,
            [Part::Table(Family::Ipv6), Part::Vmacs(Family::Ipv6)]
        );
        firewall.made.extend(making);
        // The VMAC rules made the table: the addresses' part adds its chain and sets to it.
        let mut making = Vec::new();
        let link_local = Part::Addresses(SetName::LinkLocal);
        assert_eq!(firewall.make(&mut batch, link_local, &mut making), None);
        assert_eq!(making, [Part::Addresses(SetName::Ipv6), link_local]);
        assert_eq!(firewall.make(&mut batch, link_local, &mut making), None);
        assert_eq!(
            firewall.make(&mut batch, Part::Vmacs(Family::Ipv6), &mut making),
            None
        );
        assert_eq!(making.len(), 2);
        let (bytes, awaited, _) = batch.finish();
        // One table and `out` chain; `in` and the link-local chains; the sets and rules.
        let tables = bytes
            .windows(4)
            .filter(|w| w == &[0x00, 0x0a, 0x05, 0x04])
            .count();
        assert_eq!(tables, 1, "{awaited:?}");
    }

    #[test]
    fn a_link_local_key_carries_its_interface() {
        let address = "fe80::1".parse().unwrap_or(IpAddr::V4([0; 4].into()));
        let by_index = Element::of(address, 3, "eth0", false);
        assert_eq!(by_index.set(), SetName::LinkLocal);
        assert_eq!(by_index.key()[16..], 3u32.to_ne_bytes());
        let by_name = Element::of(address, 3, "a-very-long-interface-name", true);
        let key = by_name.key();
        assert_eq!(key.len(), 16 + INTERFACE_NAME_SIZE);
        // Cut to what IFNAMSIZ holds, with its terminator.
        assert_eq!(&key[16..31], b"a-very-long-int");
        assert_eq!(key[31], 0);
        let global = Element::of("fd00::1".parse().unwrap_or(address), 3, "eth0", true);
        assert_eq!(global.set(), SetName::Ipv6);
    }
}
