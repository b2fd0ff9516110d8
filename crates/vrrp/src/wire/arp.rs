//! Gratuitous ARP, as keepalived sends it when it becomes master (IPv4 VIPs).
//!
//! An ARP *request* (op 1) broadcast on Ethernet, sender and target protocol address both the VIP, sender
//! hardware address the interface's MAC (or the VMAC), target hardware address ff:ff:ff:ff:ff:ff. 42 bytes: no
//! padding (a NIC pads to 60 on the wire; veths and bridges do not).

use std::net::Ipv4Addr;

use super::WireError;
use super::ethernet::{ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetHeader, MacAddr};

pub const ARP_LEN: usize = 28;
pub const FRAME_LEN: usize = super::ethernet::HEADER_LEN + ARP_LEN;
const HARDWARE_ETHERNET: u16 = 1;
pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;

/// An Ethernet/IPv4 ARP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpPacket {
    pub operation: u16,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// The gratuitous ARP announcing that `vip` is now at `mac`.
    pub fn gratuitous(mac: MacAddr, vip: Ipv4Addr) -> Self {
        Self {
            operation: OP_REQUEST,
            sender_mac: mac,
            sender_ip: vip,
            target_mac: MacAddr::BROADCAST,
            target_ip: vip,
        }
    }

    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }

    /// The whole Ethernet frame, broadcast from `sender_mac`.
    pub fn to_frame(&self) -> Vec<u8> {
        let mut frame = Vec::with_capacity(FRAME_LEN);
        EthernetHeader {
            destination: MacAddr::BROADCAST,
            source: self.sender_mac,
            ethertype: ETHERTYPE_ARP,
        }
        .write(&mut frame);
        frame.extend_from_slice(&HARDWARE_ETHERNET.to_be_bytes());
        frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        frame.extend_from_slice(&[6, 4]);
        frame.extend_from_slice(&self.operation.to_be_bytes());
        frame.extend_from_slice(&self.sender_mac.0);
        frame.extend_from_slice(&self.sender_ip.octets());
        frame.extend_from_slice(&self.target_mac.0);
        frame.extend_from_slice(&self.target_ip.octets());
        frame
    }

    /// Reads an Ethernet frame carrying an Ethernet/IPv4 ARP message.
    pub fn parse_frame(frame: &[u8]) -> Result<Self, WireError> {
        let (ethernet, arp) = EthernetHeader::parse(frame)?;
        if ethernet.ethertype != ETHERTYPE_ARP {
            return Err(WireError::UnexpectedEthertype(ethernet.ethertype));
        }
        if arp.len() < ARP_LEN {
            return Err(WireError::Truncated {
                what: "ARP message",
                needed: ARP_LEN,
                available: arp.len(),
            });
        }
        let word = |at: usize| u16::from_be_bytes([arp[at], arp[at + 1]]);
        if word(0) != HARDWARE_ETHERNET || word(2) != ETHERTYPE_IPV4 || arp[4] != 6 || arp[5] != 4 {
            return Err(WireError::UnsupportedArp);
        }
        let mac = |at: usize| {
            let mut octets = [0; 6];
            octets.copy_from_slice(&arp[at..at + 6]);
            MacAddr(octets)
        };
        let ip = |at: usize| Ipv4Addr::new(arp[at], arp[at + 1], arp[at + 2], arp[at + 3]);
        Ok(Self {
            operation: word(6),
            sender_mac: mac(8),
            sender_ip: ip(14),
            target_mac: mac(18),
            target_ip: ip(24),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gratuitous_arp_round_trips() {
        let garp =
            ArpPacket::gratuitous(MacAddr([2, 0, 0, 0, 0, 1]), Ipv4Addr::new(192, 0, 2, 100));
        let frame = garp.to_frame();
        assert_eq!(frame.len(), FRAME_LEN);
        assert_eq!(&frame[..6], &[0xff; 6]);
        let parsed = ArpPacket::parse_frame(&frame).unwrap();
        assert_eq!(parsed, garp);
        assert!(parsed.is_gratuitous());
        assert!(ArpPacket::parse_frame(&frame[..FRAME_LEN - 1]).is_err());
    }
}
