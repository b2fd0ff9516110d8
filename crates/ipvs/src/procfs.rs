//! The kernel's text listing of the table, `/proc/net/ip_vs`.
//!
//! It shows, per destination, only the forwarding method, the weight and the active and
//! inactive connections, but the whole table comes in a few reads, where netlink needs one
//! dump per service (the kernel has no request for every destination at once). A program that
//! needs no more than those four fields of a large table reads them here, and takes the
//! services themselves from netlink: the file lacks their flags and persistence engine.
//!
//! The file lists services by protocol, address and port or by firewall mark, without the
//! family of a fwmark service; two fwmark services with the same mark (one per family) are
//! therefore left out, and [`ProcTable::destinations`] answers `None` for them, as for any
//! service the file did not list: the caller asks netlink.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{Destination, ForwardingMethod, Protocol, ServiceKey};

/// Where the kernel puts the listing, for the network namespace of the process.
pub const PATH: &str = "/proc/net/ip_vs";

/// The same for the calling thread's namespace, which a thread may have changed on its own
/// (netlink sockets belong to the namespace of the thread that opens them).
const THREAD_PATH: &str = "/proc/thread-self/net/ip_vs";

/// The destinations of every service in the file.
#[derive(Debug, Default)]
pub struct ProcTable {
    services: HashMap<ListedService, Option<Vec<Destination>>>,
}

/// A service as the file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ListedService {
    Address {
        protocol: Protocol,
        address: IpAddr,
        port: u16,
    },
    Fwmark(u32),
}

/// A line the parser did not expect: the file is not in the format it knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{PATH} line {line}: unexpected text {text:?}")]
pub struct ProcFormatError {
    /// The 1-based line number.
    pub line: usize,
    /// The line.
    pub text: String,
}

impl ProcTable {
    /// Reads and parses the listing of the calling thread's network namespace.
    pub fn read() -> std::io::Result<Result<ProcTable, ProcFormatError>> {
        let text = match std::fs::read_to_string(THREAD_PATH) {
            Ok(text) => text,
            // Kernels before 3.17 have no thread-self.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::read_to_string(PATH)?
            }
            Err(error) => return Err(error),
        };
        Ok(ProcTable::parse(&text))
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<ProcTable, ProcFormatError> {
        let mut table = ProcTable::default();
        let mut current: Option<ListedService> = None;
        for (index, line) in text.lines().enumerate() {
            let unexpected = || ProcFormatError {
                line: index + 1,
                text: line.to_owned(),
            };
            if let Some(rest) = line.strip_prefix("  -> ") {
                // The column title of destinations has no address: it starts with a letter.
                if rest.starts_with("RemoteAddress") {
                    continue;
                }
                let service = current.ok_or_else(unexpected)?;
                let destination = parse_destination(rest).ok_or_else(unexpected)?;
                if let Some(Some(destinations)) = table.services.get_mut(&service) {
                    destinations.push(destination);
                }
            } else if line.starts_with("IP Virtual Server") || line.starts_with("Prot ") {
                current = None;
            } else {
                let service = parse_service(line).ok_or_else(unexpected)?;
                match table.services.entry(service) {
                    // Only fwmark services of both families can share a name.
                    Entry::Occupied(mut seen) => *seen.get_mut() = None,
                    Entry::Vacant(new) => {
                        new.insert(Some(Vec::new()));
                    }
                }
                current = Some(service);
            }
        }
        Ok(table)
    }

    /// The destinations of `service` in the file's order (the kernel's), or `None` when the
    /// file does not list it unambiguously.
    pub fn destinations(&self, service: &ServiceKey) -> Option<&[Destination]> {
        let listed = match *service {
            ServiceKey::Address {
                protocol,
                address,
                port,
            } => ListedService::Address {
                protocol,
                address,
                port,
            },
            ServiceKey::Fwmark { mark, .. } => ListedService::Fwmark(mark),
        };
        self.services.get(&listed)?.as_deref()
    }
}

/// `TCP  0A000001:0050 rr ...`, `UDP  [2001:0db8:...:0001]:0035 wlc ...`, `FWM  00000005 rr ...`.
fn parse_service(line: &str) -> Option<ListedService> {
    let mut words = line.split_ascii_whitespace();
    let protocol = words.next()?;
    let name = words.next()?;
    // The scheduler follows; flags after it do not matter here.
    words.next()?;
    if protocol == "FWM" {
        return Some(ListedService::Fwmark(u32::from_str_radix(name, 16).ok()?));
    }
    let protocol = match protocol {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        "SCTP" => Protocol::Sctp,
        _ => return None,
    };
    let (address, port) = parse_address_and_port(name)?;
    Some(ListedService::Address {
        protocol,
        address,
        port,
    })
}

/// `0A000002:1F90      Masq    1      0          0` (after `  -> `).
fn parse_destination(rest: &str) -> Option<Destination> {
    let mut words = rest.split_ascii_whitespace();
    let (address, port) = parse_address_and_port(words.next()?)?;
    // The kernel names every method it does not know "Masq"; so does this.
    let forwarding = match words.next()? {
        "Masq" => ForwardingMethod::Masquerade,
        "Local" => ForwardingMethod::Local,
        "Tunnel" => ForwardingMethod::Tunnel,
        "Route" => ForwardingMethod::DirectRoute,
        _ => return None,
    };
    let weight = words.next()?.parse().ok()?;
    let active = words.next()?.parse::<i32>().ok()?;
    let inactive = words.next()?.parse::<i32>().ok()?;
    if words.next().is_some() {
        return None;
    }
    let mut destination = Destination::new(address, port)
        .with_forwarding(forwarding)
        .with_weight(weight);
    // The kernel prints its signed counters; netlink carries the same bits unsigned.
    destination.active_connections = active as u32;
    destination.inactive_connections = inactive as u32;
    Some(destination)
}

/// `0A000001:0050` (IPv4 and port in hexadecimal) or `[2001:0db8:0000:...:0001]:0050`.
fn parse_address_and_port(text: &str) -> Option<(IpAddr, u16)> {
    let (address, port) = text.rsplit_once(':')?;
    if port.len() != 4 {
        return None;
    }
    let port = u16::from_str_radix(port, 16).ok()?;
    let address = match address.strip_prefix('[') {
        Some(v6) => IpAddr::V6(v6.strip_suffix(']')?.parse::<Ipv6Addr>().ok()?),
        None if address.len() == 8 => {
            IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(address, 16).ok()?))
        }
        None => return None,
    };
    Some((address, port))
}

#[cfg(test)]
mod tests;
