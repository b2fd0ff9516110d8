//! The `no_accept` firewall: while an instance that does not accept traffic for its addresses
//! (`no_accept`, or strict mode below priority 255) is master, nftables drops what is sent to or
//! from them, as keepalived 2.2.7 does.
//!
//! The tables are made when a first address of their family goes in (nothing while every
//! instance is backup), a table left by an earlier run is deleted first, the addresses go in and
//! out of sets as instances gain and lose mastership, and the tables are deleted when the daemon
//! stops. keepalived reads only the first acknowledgement of a batch; here each is read, so a
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

pub use messages::Rules;
use messages::{Awaited, Batch, Family, INTERFACE_NAME_SIZE, SetName, TABLE_REPLY};

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

/// The firewall's tables as this process made them, and the addresses in their sets.
pub struct Firewall {
    rules: Rules,
    socket: Option<Socket>,
    sequence: u32,
    next_set_id: u32,
    /// The families whose table is made, and the link-local sets made in the IPv6 one.
    made: HashSet<SetName>,
    /// Whether tables left by a run before were looked for (once, before the first is made).
    looked_for_leftovers: bool,
    installed: HashSet<Element>,
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
        let mut leftovers = Vec::new();
        if !self.looked_for_leftovers && self.made.is_empty() {
            for family in [Family::Ipv4, Family::Ipv6] {
                if self.table_exists(family)? {
                    leftovers.push(family);
                }
            }
        }
        let mut batch = Batch::new(self.sequence);
        for &family in &leftovers {
            info!("Deleting old {} {} table", family.word(), self.rules.table);
            batch.delete_table(family, &self.rules.table);
        }
        let mut making = Vec::new();
        for set in needed {
            self.make(&mut batch, set, &mut making);
        }
        for (&set, keys) in &new {
            let keys: Vec<Vec<u8>> = keys.iter().map(|e| e.key()).collect();
            batch.elements(&self.rules, set, &keys, true);
        }
        self.send(batch, "adding the addresses")?;
        self.looked_for_leftovers = true;
        self.made.extend(making);
        self.installed.extend(new.into_values().flatten().cloned());
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
        for (set, family) in [(SetName::Ipv4, Family::Ipv4), (SetName::Ipv6, Family::Ipv6)] {
            if self.made.contains(&set) {
                batch.delete_table(family, &self.rules.table);
            }
        }
        self.made.clear();
        self.installed.clear();
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

    /// Writes what `set` needs that is not made yet: its family's table, and a link-local set
    /// with its rules.
    fn make(&mut self, batch: &mut Batch, set: SetName, making: &mut Vec<SetName>) {
        let table = match set.family() {
            Family::Ipv4 => SetName::Ipv4,
            Family::Ipv6 => SetName::Ipv6,
        };
        if !self.made.contains(&table) && !making.contains(&table) {
            match table {
                SetName::Ipv4 => {
                    let id = self.set_id();
                    batch.ipv4_table(&self.rules, id);
                }
                _ => {
                    let vips = self.set_id();
                    let discovery = self.set_id();
                    batch.ipv6_table(&self.rules, vips, discovery);
                }
            }
            making.push(table);
        }
        if matches!(set, SetName::LinkLocal | SetName::LinkLocalName)
            && !self.made.contains(&set)
            && !making.contains(&set)
        {
            let id = self.set_id();
            batch.link_local_rules(&self.rules, set, id);
            making.push(set);
        }
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
