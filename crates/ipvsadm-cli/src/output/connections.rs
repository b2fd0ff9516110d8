//! `ipvsadm -L -c`: the kernel's connection table, read from `/proc/net/ip_vs_conn`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use super::Format;
use super::names::{address_and_port, pad};
use crate::libc_names;

/// Where the kernel shows its connections.
pub const CONNECTIONS_FILE: &str = "/proc/net/ip_vs_conn";

/// The listing of the file's text (its first line is the kernel's own header).
pub fn connection_listing(proc_text: &str, format: &Format) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if format.persistent_conn {
        let _ = writeln!(
            out,
            "pro expire {} {} {} {} {} pe_data",
            pad("state", 11),
            pad("source", 18),
            pad("virtual", 18),
            pad("destination", 18),
            pad("pe name", 16)
        );
    } else {
        let _ = writeln!(
            out,
            "pro expire {} {} {} destination",
            pad("state", 11),
            pad("source", 18),
            pad("virtual", 18)
        );
    }
    for line in proc_text.lines().skip(1) {
        if let Some(text) = connection_line(line, format) {
            out.push_str(&text);
        }
    }
    out
}

/// One connection: `TCP 0A000102 C350 0A000164 0050 0A00020B 0050 SYN_RECV 59 [pe_name pe_data]`.
fn connection_line(line: &str, format: &Format) -> Option<String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 9 {
        return None;
    }
    let protocol = fields[0];
    let port_protocol = match protocol {
        "TCP" => Some("tcp"),
        "UDP" => Some("udp"),
        "SCTP" => Some("sctp"),
        _ => None,
    };
    // Client and virtual addresses share a family; the destination may differ (tunnels).
    let client_is_v6 = libc_names::ipv6_from_text(fields[1]).is_some();
    let client = proc_address(fields[1], client_is_v6);
    let virtual_address = proc_address(fields[3], client_is_v6);
    let destination_is_v6 = libc_names::ipv6_from_text(fields[5]).is_some();
    let destination = proc_address(fields[5], destination_is_v6);
    let port = |text: &str| u16::from_str_radix(text, 16).unwrap_or(0);
    let expires: u32 = fields[8].parse().unwrap_or(0);
    let expire = format!("{:02}:{:02}", expires / 60, expires % 60);

    let cname = address_and_port(client, port(fields[2]), port_protocol, format.numeric);
    let vname = address_and_port(
        virtual_address,
        port(fields[4]),
        port_protocol,
        format.numeric,
    );
    let dname = address_and_port(destination, port(fields[6]), port_protocol, format.numeric);
    let state = fields[7];
    Some(if format.persistent_conn && fields.len() >= 11 {
        format!(
            "{} {} {} {} {} {} {} {}\n",
            pad(protocol, 3),
            pad(&expire, 6),
            pad(state, 11),
            pad(&cname, 18),
            pad(&vname, 18),
            pad(&dname, 16),
            pad(fields[9], 18),
            fields[10]
        )
    } else {
        format!(
            "{} {} {} {} {} {dname}\n",
            pad(protocol, 3),
            pad(&expire, 6),
            pad(state, 11),
            pad(&cname, 18),
            pad(&vname, 18)
        )
    })
}

/// An address as the file shows it: IPv6 text, or IPv4 as 8 hex digits.
fn proc_address(text: &str, is_v6: bool) -> IpAddr {
    if is_v6 {
        if let Some(v6) = libc_names::ipv6_from_text(text) {
            return IpAddr::V6(v6);
        }
    }
    if let Some(v4) = libc_names::ipv4_from_text(text) {
        return IpAddr::V4(v4);
    }
    IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(text, 16).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A000102 C350 0A000164 0050 0A00020B 0050 SYN_RECV         59
UDP 2001:0db8:0000:0000:0000:0000:0000:0002 1F90 2001:0db8:0000:0000:0000:0000:0000:0001 0035 2001:0db8:0000:0000:0000:0000:0000:000b 0035 UDP             299
";

    #[test]
    fn numeric_listing() {
        let format = Format {
            numeric: true,
            ..Format::default()
        };
        let listing = connection_listing(PROC, &format);
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines[0], "IPVS connection entries");
        assert_eq!(
            lines[1],
            "pro expire state       source             virtual            destination"
        );
        assert_eq!(
            lines[2],
            "TCP 00:59  SYN_RECV    10.0.1.2:50000     10.0.1.100:80      10.0.2.11:80"
        );
        assert_eq!(
            lines[3],
            "UDP 04:59  UDP         [2001:db8::2]:8080 [2001:db8::1]:53   [2001:db8::b]:53"
        );
    }
}
