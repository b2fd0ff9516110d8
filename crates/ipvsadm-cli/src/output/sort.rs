//! ipvsadm's listing order: glibc's merge sort with ipvsadm's comparators.
//!
//! ipvsadm compares addresses with `int r = ntohl(a) - ntohl(b)`, which wraps for differences of
//! 2^31 or more (192.0.2.20 sorts before 10.1.1.1), and then no order is total. Which order comes
//! out then depends on the sorting algorithm, so glibc 2.36's `qsort` (a top-down merge sort) is
//! reproduced step for step; a library sort would give other output, or refuse the comparator.

use std::net::IpAddr;

use ipvs::model::{AddressFamily, Destination, Service, ServiceKey};
use ipvs::table::VirtualService;

/// glibc's `msort_with_tmp`: split in halves (the first one shorter for odd lengths), sort each,
/// merge taking from the left while `compare(left, right) <= 0`.
pub fn glibc_merge_sort<T: Clone>(items: &mut [T], compare: &impl Fn(&T, &T) -> i32) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    glibc_merge_sort(&mut items[..n1], compare);
    glibc_merge_sort(&mut items[n1..], compare);
    let mut merged = Vec::with_capacity(n);
    let (mut left, mut right) = (0, n1);
    while left < n1 && right < n {
        if compare(&items[left], &items[right]) <= 0 {
            merged.push(items[left].clone());
            left += 1;
        } else {
            merged.push(items[right].clone());
            right += 1;
        }
    }
    merged.extend_from_slice(&items[left..n1]);
    let taken = merged.len();
    items[..taken].clone_from_slice(&merged);
}

/// An address as ipvsadm holds it: a `union nf_inet_addr` read as four host-order words.
fn words(address: &IpAddr) -> [u32; 4] {
    match address {
        IpAddr::V4(v4) => [u32::from(*v4), 0, 0, 0],
        IpAddr::V6(v6) => {
            let o = v6.octets();
            [0, 4, 8, 12].map(|i| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]))
        }
    }
}

/// `ntohl(a) - ntohl(b)` stored in an `int`.
fn wrapping_difference(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// The address comparison of both comparators; `as_ipv6` is the first operand's family.
fn compare_addresses(a: &IpAddr, b: &IpAddr, as_ipv6: bool) -> i32 {
    let (a, b) = (words(a), words(b));
    let count = if as_ipv6 { 4 } else { 1 };
    (0..count)
        .map(|i| wrapping_difference(a[i], b[i]))
        .find(|&r| r != 0)
        .unwrap_or(0)
}

fn family_number(family: AddressFamily) -> i32 {
    i32::from(family.to_raw())
}

/// `ipvs_cmp_services`: fwmark, family, protocol, address, port.
pub fn compare_services(a: &Service, b: &Service) -> i32 {
    let (mark_a, mark_b) = (fwmark(&a.key), fwmark(&b.key));
    let r = wrapping_difference(mark_a, mark_b);
    if r != 0 {
        return r;
    }
    let r = family_number(a.key.family()) - family_number(b.key.family());
    if r != 0 {
        return r;
    }
    let (protocol_a, address_a, port_a) = address_part(&a.key);
    let (protocol_b, address_b, port_b) = address_part(&b.key);
    let r = i32::from(protocol_a) - i32::from(protocol_b);
    if r != 0 {
        return r;
    }
    let r = compare_addresses(
        &address_a,
        &address_b,
        a.key.family() == AddressFamily::Ipv6,
    );
    if r != 0 {
        return r;
    }
    i32::from(port_a) - i32::from(port_b)
}

fn fwmark(key: &ServiceKey) -> u32 {
    match key {
        ServiceKey::Fwmark { mark, .. } => *mark,
        ServiceKey::Address { .. } => 0,
    }
}

/// Protocol, address and port as ipvsadm's entry holds them (zero for fwmark services).
fn address_part(key: &ServiceKey) -> (u16, IpAddr, u16) {
    match key {
        ServiceKey::Address {
            protocol,
            address,
            port,
        } => (protocol.to_raw(), *address, *port),
        ServiceKey::Fwmark { family, .. } => (
            0,
            crate::args::values::unspecified(*family == AddressFamily::Ipv6),
            0,
        ),
    }
}

/// `ipvs_cmp_dests`: address (as the first operand's family), then port.
pub fn compare_destinations(a: &Destination, b: &Destination) -> i32 {
    let r = compare_addresses(&a.address, &b.address, a.address.is_ipv6());
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// Sorts services into ipvsadm's listing order.
pub fn sort_services(services: &mut [Service]) {
    glibc_merge_sort(services, &compare_services);
}

/// Sorts destinations into ipvsadm's listing order.
pub fn sort_destinations(destinations: &mut [Destination]) {
    glibc_merge_sort(destinations, &compare_destinations);
}

/// Sorts a whole table into ipvsadm's listing order: services, and each one's destinations.
pub fn sort_table(table: &mut [VirtualService]) {
    glibc_merge_sort(table, &|a: &VirtualService, b: &VirtualService| {
        compare_services(&a.service, &b.service)
    });
    for entry in table {
        sort_destinations(&mut entry.destinations);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(address: &str, port: u16) -> Service {
        Service::new(ServiceKey::tcp(address.parse().unwrap(), port))
    }

    fn addresses(services: &[Service]) -> Vec<String> {
        services.iter().map(|s| s.key.to_string()).collect()
    }

    #[test]
    fn merge_sort_is_stable_and_sorts() {
        let mut items = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        glibc_merge_sort(&mut items, &|a: &(i32, char), b: &(i32, char)| a.0 - b.0);
        assert_eq!(
            items,
            vec![(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]
        );
    }

    #[test]
    fn protocols_then_addresses_then_ports() {
        let mut services = vec![
            Service::new(ServiceKey::udp("10.0.0.1".parse().unwrap(), 53)),
            tcp("10.0.0.2", 80),
            tcp("10.0.0.1", 443),
            tcp("10.0.0.1", 80),
        ];
        sort_services(&mut services);
        assert_eq!(
            addresses(&services),
            [
                "TCP 10.0.0.1:80",
                "TCP 10.0.0.1:443",
                "TCP 10.0.0.2:80",
                "UDP 10.0.0.1:53"
            ]
        );
    }

    #[test]
    fn fwmark_services_come_last_and_ipv6_after_ipv4() {
        let mut services = vec![
            Service::new(ServiceKey::fwmark(AddressFamily::Ipv4, 5)),
            tcp("2001:db8::1", 80),
            tcp("10.0.0.1", 80),
        ];
        sort_services(&mut services);
        assert_eq!(
            addresses(&services),
            ["TCP 10.0.0.1:80", "TCP [2001:db8::1]:80", "FWM 5"]
        );
    }

    #[test]
    fn wrapped_differences_reorder_like_ipvsadm() {
        // 192.0.2.1 - 10.0.0.1 does not fit in an int: ipvsadm sees 192.0.2.1 as smaller.
        let mut services = vec![tcp("10.0.0.1", 80), tcp("192.0.2.1", 80)];
        sort_services(&mut services);
        assert_eq!(
            addresses(&services),
            ["TCP 192.0.2.1:80", "TCP 10.0.0.1:80"]
        );
    }
}
