//! Received datagrams, as the daemon's raw sockets deliver them, taken apart for validation.

use std::net::{IpAddr, Ipv6Addr};

use super::WireError;
use super::advert::{self, AdvertPacket, Family};
use super::ah::{self, AhHeader};
use super::ipv4::Ipv4Header;

/// One received datagram.
#[derive(Clone, Copy, Debug)]
pub enum Datagram<'a> {
    /// From an IPv4 raw socket (protocol 112 or 51): the whole IP packet, header included.
    Ipv4(&'a [u8]),
    /// From an IPv6 raw socket: the VRRP message only, the kernel having stripped the IPv6 header. The addresses
    /// come from recvmsg's name and IPV6_PKTINFO, the hop limit from IPV6_HOPLIMIT (`None` if not received).
    Ipv6 {
        message: &'a [u8],
        source: Ipv6Addr,
        destination: Ipv6Addr,
        hop_limit: Option<u8>,
    },
}

/// IPv4-only parts of a received datagram.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Parts<'a> {
    pub header: Ipv4Header,
    /// The header as received, options included (AH's ICV covers it).
    pub raw_header: &'a [u8],
    /// Everything the socket returned (keepalived compares it with the header's total length).
    pub received_len: usize,
    pub ah: Option<AhHeader>,
}

/// A datagram taken apart: where it came from and went to, and the VRRP message.
#[derive(Clone, Copy, Debug)]
pub struct Envelope<'a> {
    pub source: IpAddr,
    pub destination: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6), when known.
    pub ttl: Option<u8>,
    pub ipv4: Option<Ipv4Parts<'a>>,
    pub advert: AdvertPacket<'a>,
}

impl<'a> Datagram<'a> {
    pub fn family(&self) -> Family {
        match self {
            Datagram::Ipv4(_) => Family::Ipv4,
            Datagram::Ipv6 { .. } => Family::Ipv6,
        }
    }

    /// Takes the datagram apart. Fails when it is too short for its headers and the VRRP addresses it declares,
    /// or when an IPv4 packet is neither VRRP nor AH.
    pub fn open(&self) -> Result<Envelope<'a>, WireError> {
        match *self {
            Datagram::Ipv4(bytes) => {
                let (header, payload) = Ipv4Header::parse(bytes)?;
                let (ah, message) = match header.protocol {
                    advert::IP_PROTOCOL => (None, payload),
                    ah::IP_PROTOCOL => {
                        let (ah, message) = AhHeader::parse(payload)?;
                        (Some(ah), message)
                    }
                    other => return Err(WireError::UnexpectedProtocol(other)),
                };
                Ok(Envelope {
                    source: header.source.into(),
                    destination: header.destination.into(),
                    ttl: Some(header.ttl),
                    ipv4: Some(Ipv4Parts {
                        header,
                        raw_header: &bytes[..header.header_len],
                        received_len: bytes.len(),
                        ah,
                    }),
                    advert: AdvertPacket::new_checked(message, Family::Ipv4)?,
                })
            }
            Datagram::Ipv6 {
                message,
                source,
                destination,
                hop_limit,
            } => Ok(Envelope {
                source: source.into(),
                destination: destination.into(),
                ttl: hop_limit,
                ipv4: None,
                advert: AdvertPacket::new_checked(message, Family::Ipv6)?,
            }),
        }
    }

    /// The VRID, for finding the instance a datagram is for (keepalived looks it up before any other check).
    pub fn vrid(&self) -> Option<u8> {
        self.open().ok().map(|envelope| envelope.advert.vrid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::HEADER_LEN;

    #[test]
    fn opens_ipv4_vrrp_and_refuses_other_protocols() {
        let mut packet = vec![
            0x45, 0xc0, 0, 28, 0, 1, 0, 0, 255, 112, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18,
        ];
        packet.extend_from_slice(&[0x31, 9, 100, 0, 0, 100, 0, 0]);
        let envelope = Datagram::Ipv4(&packet).open().unwrap();
        assert_eq!(envelope.source, IpAddr::from([192, 0, 2, 1]));
        assert_eq!(envelope.ttl, Some(255));
        assert_eq!(envelope.advert.vrid(), 9);
        assert_eq!(Datagram::Ipv4(&packet).vrid(), Some(9));

        packet[9] = 17;
        assert_eq!(
            Datagram::Ipv4(&packet).open().map(|_| ()),
            Err(WireError::UnexpectedProtocol(17))
        );
        assert_eq!(Datagram::Ipv4(&packet[..HEADER_LEN + 3]).vrid(), None);
    }
}
