//! Addresses and ports as ipvsadm prints them: numeric with `-n`, else names from the name
//! services, with ipvsadm's buffer limits.

use std::net::IpAddr;

use ipvs::model::{Protocol, ServiceKey};

use crate::libc_names;

/// The protocol whose service names a port is shown with (none for fwmark services, whose
/// protocol the kernel does not report).
pub fn port_protocol(key: &ServiceKey) -> Option<&'static str> {
    match key {
        ServiceKey::Address {
            protocol: Protocol::Tcp,
            ..
        } => Some("tcp"),
        ServiceKey::Address {
            protocol: Protocol::Udp,
            ..
        } => Some("udp"),
        ServiceKey::Address {
            protocol: Protocol::Sctp,
            ..
        } => Some("sctp"),
        _ => None,
    }
}

/// `addrport_to_anyname`: `a.b.c.d:port` or `[v6]:port`, with names unless `numeric`.
/// ipvsadm formats into a 60-byte buffer, so the text is cut at 59 bytes.
pub fn address_and_port(
    address: IpAddr,
    port: u16,
    protocol: Option<&str>,
    numeric: bool,
) -> String {
    let host = if numeric {
        libc_names::address_text(address)
    } else {
        libc_names::host_name_of(address).unwrap_or_else(|| libc_names::address_text(address))
    };
    let port = match (numeric, protocol) {
        (false, Some(protocol)) => {
            libc_names::service_of_port(port, protocol).unwrap_or_else(|| port.to_string())
        }
        _ => port.to_string(),
    };
    let text = match address {
        IpAddr::V4(_) => format!("{host}:{port}"),
        IpAddr::V6(_) => format!("[{host}]:{port}"),
    };
    cut(text, 59)
}

/// Cuts `text` to at most `limit` bytes, as writing into a C buffer does.
pub fn cut(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// printf's `%-Ns`: left-aligned, padded with blanks to `width` bytes.
pub fn pad(text: &str, width: usize) -> String {
    let mut padded = text.to_owned();
    while padded.len() < width {
        padded.push(' ');
    }
    padded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_forms() {
        assert_eq!(
            address_and_port("10.0.0.1".parse().unwrap(), 80, Some("tcp"), true),
            "10.0.0.1:80"
        );
        assert_eq!(
            address_and_port("2001:db8::1".parse().unwrap(), 443, None, true),
            "[2001:db8::1]:443"
        );
    }

    #[test]
    fn cut_and_pad_count_bytes() {
        assert_eq!(cut("abcdef".to_owned(), 4), "abcd");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcdef", 4), "abcdef");
    }
}
