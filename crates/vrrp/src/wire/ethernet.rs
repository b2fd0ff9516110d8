//! Ethernet II framing for the frames we build whole (gratuitous ARP, unsolicited NA) and MAC addresses.

use std::fmt;

use super::WireError;
use super::advert::Family;

pub const HEADER_LEN: usize = 14;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// The virtual router MAC of RFC 9568 §7.3: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6
    /// (keepalived's `use_vmac` default).
    pub fn virtual_router(family: Family, vrid: u8) -> Self {
        let kind = match family {
            Family::Ipv4 => 0x01,
            Family::Ipv6 => 0x02,
        };
        MacAddr([0x00, 0x00, 0x5e, 0x00, kind, vrid])
    }

    /// The multicast MAC of an IPv6 multicast address whose last 32 bits are `low` (RFC 2464 §7).
    pub fn ipv6_multicast(low: [u8; 4]) -> Self {
        MacAddr([0x33, 0x33, low[0], low[1], low[2], low[3]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetHeader {
    pub destination: MacAddr,
    pub source: MacAddr,
    pub ethertype: u16,
}

impl EthernetHeader {
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), WireError> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "Ethernet header",
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let mac = |at: usize| {
            let mut octets = [0; 6];
            octets.copy_from_slice(&bytes[at..at + 6]);
            MacAddr(octets)
        };
        let header = Self {
            destination: mac(0),
            source: mac(6),
            ethertype: u16::from_be_bytes([bytes[12], bytes[13]]),
        };
        Ok((header, &bytes[HEADER_LEN..]))
    }

    pub fn write(&self, frame: &mut Vec<u8>) {
        frame.extend_from_slice(&self.destination.0);
        frame.extend_from_slice(&self.source.0);
        frame.extend_from_slice(&self.ethertype.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_router_macs_follow_the_rfc() {
        assert_eq!(
            MacAddr::virtual_router(Family::Ipv4, 51).to_string(),
            "00:00:5e:00:01:33"
        );
        assert_eq!(
            MacAddr::virtual_router(Family::Ipv6, 1).to_string(),
            "00:00:5e:00:02:01"
        );
    }

    #[test]
    fn header_round_trips() {
        let header = EthernetHeader {
            destination: MacAddr::BROADCAST,
            source: MacAddr([2, 0, 0, 0, 0, 1]),
            ethertype: ETHERTYPE_ARP,
        };
        let mut frame = Vec::new();
        header.write(&mut frame);
        frame.push(0xaa);
        assert_eq!(EthernetHeader::parse(&frame), Ok((header, &[0xaa][..])));
        assert!(EthernetHeader::parse(&frame[..13]).is_err());
    }
}
