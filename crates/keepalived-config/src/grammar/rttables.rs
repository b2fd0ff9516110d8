//! The names `ip route` and `ip rule` accept for numbers: routing tables, protocols, scopes,
//! DS fields, realms and interface groups, as iproute2 installs them in /etc/iproute2.
//!
//! keepalived reads those files on the machine it runs on; a check must not depend on the host,
//! so these are iproute2's defaults (Debian 12). A number is accepted wherever a name is.

/// A number as `strtoul(text, &end, base)` reads a whole word, within `max`; base 0 means
/// `0x` hex, leading-`0` octal, or decimal.
pub fn number(text: &str, base: u32, max: u64) -> Option<u64> {
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    let (digits, radix) = match (base, hex) {
        (0 | 16, Some(h)) => (h, 16),
        (0, None) if text.len() > 1 && text.starts_with('0') => (&text[1..], 8),
        (0, None) => (text, 10),
        _ => (text, base),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .filter(|v| *v <= max)
}

fn named(text: &str, names: &[(&str, u64)], base: u32, max: u64) -> Option<u64> {
    names
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, n)| *n)
        .or_else(|| number(text, base, max))
}

/// A routing table (`rt_tables`).
pub fn table(text: &str) -> Option<u32> {
    let names = [
        ("unspec", 0),
        ("default", 253),
        ("main", 254),
        ("local", 255),
    ];
    named(text, &names, 0, u64::from(u32::MAX)).map(|n| n as u32)
}

/// A routing protocol (`rt_protos`).
pub fn protocol(text: &str) -> Option<u8> {
    let names = [
        ("unspec", 0),
        ("redirect", 1),
        ("kernel", 2),
        ("boot", 3),
        ("static", 4),
        ("gated", 8),
        ("ra", 9),
        ("mrt", 10),
        ("zebra", 11),
        ("bird", 12),
        ("dnrouted", 13),
        ("xorp", 14),
        ("ntk", 15),
        ("dhcp", 16),
        ("keepalived", 18),
        ("babel", 42),
        ("openr", 99),
        ("bgp", 186),
        ("isis", 187),
        ("ospf", 188),
        ("rip", 189),
        ("eigrp", 192),
    ];
    named(text, &names, 0, 255).map(|n| n as u8)
}

/// A route scope (`rt_scopes`).
pub fn scope(text: &str) -> Option<u8> {
    let names = [
        ("global", 0),
        ("site", 200),
        ("link", 253),
        ("host", 254),
        ("nowhere", 255),
    ];
    named(text, &names, 0, 255).map(|n| n as u8)
}

/// A DS field / TOS value (`rt_dsfield`; numbers are hexadecimal).
pub fn dsfield(text: &str) -> Option<u8> {
    let names = [
        ("default", 0x00),
        ("AF11", 0x28),
        ("AF12", 0x30),
        ("AF13", 0x38),
        ("AF21", 0x48),
        ("AF22", 0x50),
        ("AF23", 0x58),
        ("AF31", 0x68),
        ("AF32", 0x70),
        ("AF33", 0x78),
        ("AF41", 0x88),
        ("AF42", 0x90),
        ("AF43", 0x98),
        ("CS1", 0x20),
        ("CS2", 0x40),
        ("CS3", 0x60),
        ("CS4", 0x80),
        ("CS5", 0xA0),
        ("CS6", 0xC0),
        ("CS7", 0xE0),
        ("EF", 0xB8),
    ];
    named(text, &names, 16, 255).map(|n| n as u8)
}

/// A realm (`rt_realms`).
fn realm(text: &str) -> Option<u32> {
    named(text, &[("cosmos", 0)], 0, 0xffff).map(|n| n as u32)
}

/// `[FROM/]TO` realms: the source realm in the high 16 bits.
pub fn realms(text: &str) -> Option<u32> {
    match text.split_once('/') {
        Some((from, to)) => Some(realm(from)? << 16 | realm(to)?),
        None => realm(text),
    }
}

/// An interface group (`group`).
pub fn group(text: &str) -> Option<u32> {
    named(text, &[("default", 0)], 0, u64::from(u32::MAX)).map(|n| n as u32)
}

/// An IP protocol, by name (`/etc/protocols`) or number.
pub fn ip_protocol(text: &str) -> Option<u8> {
    let names = [
        ("ip", 0),
        ("icmp", 1),
        ("igmp", 2),
        ("tcp", 6),
        ("udp", 17),
        ("ipv6", 41),
        ("gre", 47),
        ("esp", 50),
        ("ah", 51),
        ("ipv6-icmp", 58),
        ("ospf", 89),
        ("vrrp", 112),
        ("sctp", 132),
        ("udplite", 136),
    ];
    named(text, &names, 10, 255).map(|n| n as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(table("main"), Some(254));
        assert_eq!(table("0x10"), Some(16));
        assert_eq!(table("bogus"), None);
        assert_eq!(protocol("keepalived"), Some(18));
        assert_eq!(protocol("300"), None);
        assert_eq!(dsfield("0x10"), Some(0x10));
        assert_eq!(dsfield("10"), Some(0x10));
        assert_eq!(dsfield("EF"), Some(0xB8));
        assert_eq!(realms("1/2"), Some(0x0001_0002));
        assert_eq!(realms("3"), Some(3));
        assert_eq!(realms("1/x"), None);
        assert_eq!(ip_protocol("tcp"), Some(6));
        assert_eq!(scope("link"), Some(253));
    }
}
