//! Unsolicited Neighbour Advertisements (RFC 4861 §7.2.6), IPv6's gratuitous ARP, as keepalived sends them.
//!
//! keepalived builds the whole frame: Ethernet to 33:33:00:00:00:01, IPv6 from the VIP to ff02::1 with hop limit
//! 255 (traffic class and flow label 0), ICMPv6 type 136 with only the Override flag (plus Router when the
//! interface forwards IPv6), target the VIP, and a Target Link-Layer Address option with the MAC.

use std::net::Ipv6Addr;

use super::WireError;
use super::checksum::Checksum;
use super::ethernet::{ETHERTYPE_IPV6, EthernetHeader, MacAddr};

pub const IPV6_HEADER_LEN: usize = 40;
const ICMPV6_PROTOCOL: u8 = 58;
const TYPE_NEIGHBOR_ADVERTISEMENT: u8 = 136;
const OPTION_TARGET_LINK_LAYER_ADDRESS: u8 = 2;
/// ICMPv6 header, flags, target address and the 8-byte link-layer address option.
pub const NA_LEN: usize = 4 + 4 + 16 + 8;
pub const FRAME_LEN: usize = super::ethernet::HEADER_LEN + IPV6_HEADER_LEN + NA_LEN;

pub const FLAG_ROUTER: u8 = 0x80;
pub const FLAG_SOLICITED: u8 = 0x40;
pub const FLAG_OVERRIDE: u8 = 0x20;

/// The all-nodes multicast address, ff02::1.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborAdvertisement {
    pub source_mac: MacAddr,
    pub source: Ipv6Addr,
    pub destination: Ipv6Addr,
    pub hop_limit: u8,
    /// R, S and O bits as in the first byte after the ICMPv6 checksum.
    pub flags: u8,
    pub target: Ipv6Addr,
    /// The Target Link-Layer Address option, when present.
    pub target_mac: Option<MacAddr>,
}

impl NeighborAdvertisement {
    /// The unsolicited advertisement that `vip` is at `mac`. `router` sets the R flag (keepalived sets it when
    /// the interface forwards IPv6).
    pub fn unsolicited(mac: MacAddr, vip: Ipv6Addr, router: bool) -> Self {
        let router = if router { FLAG_ROUTER } else { 0 };
        Self {
            source_mac: mac,
            source: vip,
            destination: ALL_NODES,
            hop_limit: super::ipv4::VRRP_TTL,
            flags: FLAG_OVERRIDE | router,
            target: vip,
            target_mac: Some(mac),
        }
    }

    /// The whole Ethernet frame, with the ICMPv6 checksum.
    pub fn to_frame(&self) -> Vec<u8> {
        let mut icmp = Vec::with_capacity(NA_LEN);
        icmp.extend_from_slice(&[TYPE_NEIGHBOR_ADVERTISEMENT, 0, 0, 0, self.flags, 0, 0, 0]);
        icmp.extend_from_slice(&self.target.octets());
        if let Some(mac) = self.target_mac {
            icmp.extend_from_slice(&[OPTION_TARGET_LINK_LAYER_ADDRESS, 1]);
            icmp.extend_from_slice(&mac.0);
        }
        let checksum = Checksum::new()
            .add_pseudo_header(
                self.source.into(),
                self.destination.into(),
                ICMPV6_PROTOCOL,
                icmp.len(),
            )
            .add(&icmp)
            .finish();
        icmp[2..4].copy_from_slice(&checksum.to_be_bytes());

        let destination_low = {
            let octets = self.destination.octets();
            [octets[12], octets[13], octets[14], octets[15]]
        };
        let mut frame = Vec::with_capacity(FRAME_LEN);
        EthernetHeader {
            destination: MacAddr::ipv6_multicast(destination_low),
            source: self.source_mac,
            ethertype: ETHERTYPE_IPV6,
        }
        .write(&mut frame);
        frame.extend_from_slice(&[0x60, 0, 0, 0]);
        frame.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
        frame.extend_from_slice(&[ICMPV6_PROTOCOL, self.hop_limit]);
        frame.extend_from_slice(&self.source.octets());
        frame.extend_from_slice(&self.destination.octets());
        frame.extend_from_slice(&icmp);
        frame
    }

    /// Reads an Ethernet frame carrying a Neighbour Advertisement (no IPv6 extension headers). Returns it with
    /// whether its ICMPv6 checksum is right.
    pub fn parse_frame(frame: &[u8]) -> Result<(Self, bool), WireError> {
        let (ethernet, ip) = EthernetHeader::parse(frame)?;
        if ethernet.ethertype != ETHERTYPE_IPV6 {
            return Err(WireError::UnexpectedEthertype(ethernet.ethertype));
        }
        if ip.len() < IPV6_HEADER_LEN {
            return Err(WireError::Truncated {
                what: "IPv6 header",
                needed: IPV6_HEADER_LEN,
                available: ip.len(),
            });
        }
        let payload_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let address = |at: usize| {
            let mut octets = [0; 16];
            octets.copy_from_slice(&ip[at..at + 16]);
            Ipv6Addr::from(octets)
        };
        let (source, destination) = (address(8), address(24));
        if ip[6] != ICMPV6_PROTOCOL {
            return Err(WireError::UnexpectedProtocol(ip[6]));
        }
        let icmp = &ip[IPV6_HEADER_LEN..];
        if icmp.len() < payload_len || payload_len < 24 {
            return Err(WireError::Truncated {
                what: "Neighbour Advertisement",
                needed: payload_len.max(24),
                available: icmp.len(),
            });
        }
        let icmp = &icmp[..payload_len];
        if icmp[0] != TYPE_NEIGHBOR_ADVERTISEMENT {
            return Err(WireError::UnknownType(icmp[0]));
        }
        let mut target = [0; 16];
        target.copy_from_slice(&icmp[8..24]);
        let target_mac = icmp[24..].chunks(8).find_map(|option| match option {
            [OPTION_TARGET_LINK_LAYER_ADDRESS, 1, mac @ ..] if mac.len() == 6 => {
                let mut octets = [0; 6];
                octets.copy_from_slice(mac);
                Some(MacAddr(octets))
            }
            _ => None,
        });
        let checksum_ok = Checksum::new()
            .add_pseudo_header(
                source.into(),
                destination.into(),
                ICMPV6_PROTOCOL,
                icmp.len(),
            )
            .add(icmp)
            .verifies();
        let advert = Self {
            source_mac: ethernet.source,
            source,
            destination,
            hop_limit: ip[7],
            flags: icmp[4],
            target: Ipv6Addr::from(target),
            target_mac,
        };
        Ok((advert, checksum_ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsolicited_na_round_trips_with_a_valid_checksum() {
        let vip: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let na = NeighborAdvertisement::unsolicited(MacAddr([2, 0, 0, 0, 0, 1]), vip, false);
        let frame = na.to_frame();
        assert_eq!(frame.len(), FRAME_LEN);
        assert_eq!(&frame[..6], &[0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(NeighborAdvertisement::parse_frame(&frame), Ok((na, true)));

        let mut corrupted = frame.clone();
        corrupted[FRAME_LEN - 1] ^= 1;
        assert_eq!(
            NeighborAdvertisement::parse_frame(&corrupted).map(|(_, ok)| ok),
            Ok(false)
        );
    }

    #[test]
    fn router_flag_follows_forwarding() {
        let vip: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            NeighborAdvertisement::unsolicited(MacAddr([2; 6]), vip, true).flags,
            FLAG_ROUTER | FLAG_OVERRIDE
        );
        assert_eq!(
            NeighborAdvertisement::unsolicited(MacAddr([2; 6]), vip, false).flags,
            FLAG_OVERRIDE
        );
    }
}
