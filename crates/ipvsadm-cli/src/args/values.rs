//! ipvsadm's value parsers: numbers, service and server addresses, netmasks, scheduler flags.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::libc_names;

/// `strtol(text, &end, 10)` that must consume the whole text: leading blanks and a sign are
/// accepted, trailing characters are not. `None` when nothing was read, something is left over,
/// or the value overflows a C `long`.
pub fn strtol_whole(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let mut index = bytes
        .iter()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .count();
    let negative = match bytes.get(index) {
        Some(b'-') => {
            index += 1;
            true
        }
        Some(b'+') => {
            index += 1;
            false
        }
        _ => false,
    };
    let digits = &bytes[index..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for &digit in digits {
        let digit = i64::from(digit - b'0');
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(digit)?
        } else {
            value.checked_add(digit)?
        };
    }
    Some(value)
}

/// ipvsadm's `string_to_number`: a whole decimal number within `min..=max`.
pub fn number_in(text: &str, min: i64, max: i64) -> Option<i64> {
    strtol_whole(text).filter(|value| (min..=max).contains(value))
}

/// The protocols a service address's port may be named in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProtocol {
    /// No protocol (a server address given before the service): only numbers work.
    None,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl PortProtocol {
    /// The protocol's name in `/etc/services`.
    pub fn service_database_name(self) -> Option<&'static str> {
        match self {
            PortProtocol::None => None,
            PortProtocol::Tcp => Some("tcp"),
            PortProtocol::Udp => Some("udp"),
            PortProtocol::Sctp => Some("sctp"),
        }
    }
}

/// What `parse_service` read from `host[:port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedAddress {
    /// The address.
    pub address: IpAddr,
    /// The port, if the text had one.
    pub port: Option<u16>,
}

/// ipvsadm's `parse_service`: `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
///
/// Quirks kept: an all-digit text is refused; text in brackets must be followed by `:`; a bare
/// IPv6 address never has a port (`2001:db8::1:80` is an address); when the bracketed text is not
/// IPv6 the port is dropped (`[10.0.0.1]:80` has no port); host names resolve to IPv4 only.
pub fn parse_service_address(text: &str, protocol: PortProtocol) -> Option<ParsedAddress> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(parsed) = plain_ipv4_service_address(text, protocol) {
        return parsed;
    }
    let mut host = text;
    let mut port_text = None;
    if let Some(inner) = text.strip_prefix('[') {
        let (inside, after) = inner.split_once(']')?;
        let after = after.strip_prefix(':')?;
        host = inside;
        port_text = Some(after);
    }
    if let Some(v6) = libc_names::ipv6_from_text(host) {
        // Bracketed IPv6: the port after "]:" is kept.
        let port = match port_text {
            Some(port) => Some(parse_port(port, protocol)?),
            None => None,
        };
        return Some(ParsedAddress {
            address: IpAddr::V6(v6),
            port,
        });
    }
    // Not IPv6: split at the last ':' of what is left (the bracket quirk drops the port).
    let (host, port) = match host.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host, None),
    };
    let address =
        libc_names::ipv4_from_aton(host).or_else(|| libc_names::ipv4_from_host_name(host))?;
    let port = match port {
        Some(port) => Some(parse_port(port, protocol)?),
        None => None,
    };
    Some(ParsedAddress {
        address: IpAddr::V4(address),
        port,
    })
}

/// The common case of `parse_service_address` without the C library: `a.b.c.d` or
/// `a.b.c.d:port` with the address in plain decimal. `None` when the text is of another form;
/// `Some(None)` when its port is wrong.
///
/// Text with at most one `:` is never IPv6, and `inet_aton` reads four decimal parts without
/// leading zeros (which would make them octal) as the four bytes they say.
fn plain_ipv4_service_address(text: &str, protocol: PortProtocol) -> Option<Option<ParsedAddress>> {
    let (address, used) = plain_dotted_quad_prefix(text.as_bytes())?;
    let port = match text.get(used..) {
        Some("") => None,
        Some(rest) => {
            let port = rest.strip_prefix(':')?;
            if port.contains(':') {
                return None;
            }
            match parse_port(port, protocol) {
                Some(port) => Some(port),
                None => return Some(None),
            }
        }
        None => return None,
    };
    Some(Some(ParsedAddress {
        address: IpAddr::V4(address),
        port,
    }))
}

/// Four decimal numbers of at most 255 without leading zeros, separated by dots, at the start of
/// `bytes`, and how many bytes they took; one pass over the bytes, as a restore reads tens of
/// thousands of addresses.
fn plain_dotted_quad_prefix(bytes: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut at = 0;
    for (index, octet) in octets.iter_mut().enumerate() {
        if index > 0 {
            if bytes.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        let digits = bytes
            .get(at..)?
            .iter()
            .take(3)
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        let part = bytes.get(at..at + digits)?;
        if digits == 0 || (digits > 1 && part.first() == Some(&b'0')) {
            return None;
        }
        let value = part
            .iter()
            .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'));
        *octet = u8::try_from(value).ok()?;
        at += digits;
    }
    // A fourth part of more than three digits is not plain.
    if bytes.get(at).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((Ipv4Addr::from(octets), at))
}

fn parse_port(text: &str, protocol: PortProtocol) -> Option<u16> {
    if let Some(number) = number_in(text, 0, 65535) {
        return u16::try_from(number).ok();
    }
    libc_names::port_of_service(text, protocol.service_database_name()?)
}

/// ipvsadm's `parse_netmask`: `inet_aton`, else a host name's IPv4 address.
pub fn parse_ipv4_netmask(text: &str) -> Option<Ipv4Addr> {
    libc_names::ipv4_from_aton(text).or_else(|| libc_names::ipv4_from_host_name(text))
}

/// C's `atoi` (for `-M` on IPv6 services): leading blanks, a sign, then digits up to the first
/// non-digit; 0 when there are none. Wraps like the C library does on overflow of `int`.
pub fn atoi(text: &str) -> i32 {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let mut value: i64 = 0;
    for digit in digits.bytes().take_while(u8::is_ascii_digit) {
        value = value.wrapping_mul(10).wrapping_add(i64::from(digit - b'0'));
    }
    (if negative {
        value.wrapping_neg()
    } else {
        value
    }) as i32
}

/// ipvsadm's `parse_fwmark`: a whole decimal number in 1..=4294967295.
pub fn parse_fwmark(text: &str) -> Option<u32> {
    strtol_whole(text)
        .filter(|&mark| mark > 0)
        .and_then(|mark| u32::try_from(mark).ok())
}

/// A multicast group for the sync daemon: IPv6 if the text has a `:`, else IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McastGroupError {
    /// `invalid IPv6 mcast-group`.
    Ipv6,
    /// `invalid IPv4 mcast-group`.
    Ipv4,
}

/// Parses `--mcast-group`, which must be a multicast address.
pub fn parse_mcast_group(text: &str) -> Result<IpAddr, McastGroupError> {
    if text.contains(':') {
        match libc_names::ipv6_from_text(text) {
            Some(group) if group.is_multicast() => Ok(IpAddr::V6(group)),
            _ => Err(McastGroupError::Ipv6),
        }
    } else {
        match libc_names::ipv4_from_text(text) {
            Some(group) if group.is_multicast() => Ok(IpAddr::V4(group)),
            _ => Err(McastGroupError::Ipv4),
        }
    }
}

/// An IPv6 address of a parsed service, for callers that need one.
pub fn unspecified(family_is_v6: bool) -> IpAddr {
    if family_is_v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_accepts_blanks_and_signs_but_not_trailers() {
        assert_eq!(strtol_whole(" +42"), Some(42));
        assert_eq!(strtol_whole("-0"), Some(0));
        assert_eq!(strtol_whole("42 "), None);
        assert_eq!(strtol_whole("0x10"), None);
        assert_eq!(strtol_whole(""), None);
        assert_eq!(strtol_whole("-"), None);
        assert_eq!(strtol_whole("99999999999999999999"), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(number_in("65535", 0, 65535), Some(65535));
        assert_eq!(number_in("65536", 0, 65535), None);
        assert_eq!(number_in("-1", 0, 65535), None);
    }

    #[test]
    fn service_addresses() {
        let parse = |text| parse_service_address(text, PortProtocol::Tcp);
        assert_eq!(
            parse("10.0.0.1:80"),
            Some(ParsedAddress {
                address: "10.0.0.1".parse().unwrap(),
                port: Some(80)
            })
        );
        assert_eq!(
            parse("10.0.0.1"),
            Some(ParsedAddress {
                address: "10.0.0.1".parse().unwrap(),
                port: None
            })
        );
        assert_eq!(
            parse("[2001:db8::1]:443"),
            Some(ParsedAddress {
                address: "2001:db8::1".parse().unwrap(),
                port: Some(443)
            })
        );
        assert_eq!(
            parse("2001:db8::1:80"),
            Some(ParsedAddress {
                address: "2001:db8::1:80".parse().unwrap(),
                port: None
            })
        );
        assert_eq!(
            parse("[10.0.0.1]:80"),
            Some(ParsedAddress {
                address: "10.0.0.1".parse().unwrap(),
                port: None
            })
        );
        assert_eq!(
            parse("10.1:80"),
            Some(ParsedAddress {
                address: "10.0.0.1".parse().unwrap(),
                port: Some(80)
            })
        );
        assert_eq!(
            parse("10.0.0.010:80"),
            Some(ParsedAddress {
                address: "10.0.0.8".parse().unwrap(),
                port: Some(80)
            })
        );
        assert_eq!(
            parse("10.0.0.1:http"),
            Some(ParsedAddress {
                address: "10.0.0.1".parse().unwrap(),
                port: Some(80)
            })
        );
        assert_eq!(parse("10.0.0.1:"), None);
        assert_eq!(parse("256.0.0.1:80"), None);
        assert_eq!(parse("8080"), None);
        assert_eq!(parse("10.0.0.1:65536"), None);
        assert_eq!(parse("10.0.0.1:0x50"), None);
        assert_eq!(parse("[2001:db8::1]80"), None);
        assert_eq!(parse("fe80::1%eth0"), None);
    }

    /// A whole text in the plain form.
    fn plain_dotted_quad(text: &str) -> Option<Ipv4Addr> {
        plain_dotted_quad_prefix(text.as_bytes())
            .and_then(|(address, used)| (used == text.len()).then_some(address))
    }

    /// The plain form read without the C library reads as `inet_aton` reads it.
    #[test]
    fn plain_dotted_quads_read_as_inet_aton_reads_them() {
        for text in [
            "0.0.0.0",
            "10.1.2.3",
            "255.255.255.255",
            "1.2.3.04",
            "1.2.3.256",
            "1.2.3",
            "1..2.3",
            "1.2.3.4.",
            "01.2.3.4",
            "1.2.3.+4",
            "1.2.3.4 ",
            "1.2.3.1000",
            "00.0.0.0",
        ] {
            if let Some(address) = plain_dotted_quad(text) {
                assert_eq!(Some(address), libc_names::ipv4_from_aton(text), "{text}");
            }
        }
        assert_eq!(
            plain_dotted_quad("10.1.2.3"),
            Some(Ipv4Addr::new(10, 1, 2, 3))
        );
        assert_eq!(plain_dotted_quad("1.2.3.04"), None);
        assert_eq!(plain_dotted_quad("1.2.3.256"), None);
        assert_eq!(plain_dotted_quad("1.2.3"), None);
    }

    #[test]
    fn plain_service_addresses_take_a_port_after_one_colon() {
        let plain = |text| plain_ipv4_service_address(text, PortProtocol::Tcp);
        let address = |port| {
            Some(Some(ParsedAddress {
                address: IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
                port,
            }))
        };
        assert_eq!(plain("10.1.2.3"), address(None));
        assert_eq!(plain("10.1.2.3:80"), address(Some(80)));
        // A wrong port is a wrong address; two colons, or anything else after the address,
        // are for the general reading.
        assert_eq!(plain("10.1.2.3:70000"), Some(None));
        assert_eq!(plain("10.1.2.3:80:1"), None);
        assert_eq!(plain("10.1.2.3x"), None);
        assert_eq!(plain("10.1.2.3456:80"), None);
        assert_eq!(plain("10.1.2.3.4:80"), None);
        assert_eq!(plain("10.1.2:80"), None);
    }

    #[test]
    fn fwmarks() {
        assert_eq!(parse_fwmark("1"), Some(1));
        assert_eq!(parse_fwmark("4294967295"), Some(u32::MAX));
        assert_eq!(parse_fwmark("4294967296"), None);
        assert_eq!(parse_fwmark("0"), None);
        assert_eq!(parse_fwmark("-5"), None);
        assert_eq!(parse_fwmark("0x10"), None);
    }

    #[test]
    fn atoi_reads_a_prefix() {
        assert_eq!(atoi("64"), 64);
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(" -3"), -3);
    }

    #[test]
    fn multicast_groups() {
        assert_eq!(
            parse_mcast_group("224.0.0.81"),
            Ok("224.0.0.81".parse().unwrap())
        );
        assert_eq!(parse_mcast_group("10.0.0.1"), Err(McastGroupError::Ipv4));
        assert_eq!(
            parse_mcast_group("ff02::81"),
            Ok("ff02::81".parse().unwrap())
        );
        assert_eq!(parse_mcast_group("2001:db8::1"), Err(McastGroupError::Ipv6));
    }
}
