//! The IPv4 header (RFC 791) that keepalived writes itself for its adverts (raw socket with IP_HDRINCL), and reads
//! on receive (an IPv4 raw socket delivers the header).
//!
//! keepalived's adverts: version 4, IHL 5 (no options, so no Router Alert), TOS 0xc0 (network control), DF clear,
//! TTL 255, an IP ID counting 1, 2, … per instance (never 0, which would let the kernel pick one), protocol 112
//! (or 51 when an AH header follows). The kernel fills the header checksum of IP_HDRINCL packets; we compute it
//! anyway so that the bytes we hand over are exactly those on the wire.

use std::net::Ipv4Addr;

use super::WireError;
use super::checksum::{Checksum, internet_checksum};

/// The header length without options, which is all we send.
pub const HEADER_LEN: usize = 20;
/// Type of service of VRRP packets: precedence "internetwork control".
pub const TOS_NETWORK_CONTROL: u8 = 0xc0;
/// TTL / hop limit of every VRRP packet; receivers of multicast adverts insist on it (RFC 9568 §7.1).
pub const VRRP_TTL: u8 = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Header length in bytes (IHL × 4), options included.
    pub header_len: usize,
    pub tos: u8,
    pub total_len: u16,
    pub identification: u16,
    /// Flags and fragment offset, as one field.
    pub flags_fragment: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub checksum: u16,
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
}

impl Ipv4Header {
    /// The header of a VRRP advert (or of its AH envelope) as keepalived builds it, carrying `payload_len` bytes.
    pub fn for_advert(
        source: Ipv4Addr,
        destination: Ipv4Addr,
        protocol: u8,
        identification: u16,
        ttl: u8,
        payload_len: usize,
    ) -> Result<Self, WireError> {
        let total_len = u16::try_from(HEADER_LEN + payload_len)
            .map_err(|_| WireError::TooLong(HEADER_LEN + payload_len))?;
        Ok(Self {
            header_len: HEADER_LEN,
            tos: TOS_NETWORK_CONTROL,
            total_len,
            identification,
            flags_fragment: 0,
            ttl,
            protocol,
            checksum: 0,
            source,
            destination,
        })
    }

    /// Reads the header of a received datagram; returns it with everything after it (options skipped).
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), WireError> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "IPv4 header",
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let version = bytes[0] >> 4;
        if version != 4 {
            return Err(WireError::NotIpv4(version));
        }
        let header_len = usize::from(bytes[0] & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(WireError::BadHeaderLength(header_len));
        }
        if bytes.len() < header_len {
            return Err(WireError::Truncated {
                what: "IPv4 options",
                needed: header_len,
                available: bytes.len(),
            });
        }
        let word = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
        let header = Self {
            header_len,
            tos: bytes[1],
            total_len: word(2),
            identification: word(4),
            flags_fragment: word(6),
            ttl: bytes[8],
            protocol: bytes[9],
            checksum: word(10),
            source: Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]),
            destination: Ipv4Addr::new(bytes[16], bytes[17], bytes[18], bytes[19]),
        };
        Ok((header, &bytes[header_len..]))
    }

    /// The 20 header bytes (options are never sent) with the header checksum filled in.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut bytes = self.to_bytes_with_checksum(0);
        let checksum = internet_checksum(&bytes);
        bytes[10..12].copy_from_slice(&checksum.to_be_bytes());
        bytes
    }

    /// The 20 header bytes with the given value in the checksum field.
    pub fn to_bytes_with_checksum(&self, checksum: u16) -> [u8; HEADER_LEN] {
        let mut bytes = [0; HEADER_LEN];
        bytes[0] = 0x45;
        bytes[1] = self.tos;
        bytes[2..4].copy_from_slice(&self.total_len.to_be_bytes());
        bytes[4..6].copy_from_slice(&self.identification.to_be_bytes());
        bytes[6..8].copy_from_slice(&self.flags_fragment.to_be_bytes());
        bytes[8] = self.ttl;
        bytes[9] = self.protocol;
        bytes[10..12].copy_from_slice(&checksum.to_be_bytes());
        bytes[12..16].copy_from_slice(&self.source.octets());
        bytes[16..20].copy_from_slice(&self.destination.octets());
        bytes
    }

    /// Whether a received header (given with its options) sums correctly.
    pub fn checksum_is_valid(raw_header: &[u8]) -> bool {
        Checksum::new().add(raw_header).verifies()
    }
}

/// IP IDs of one instance's adverts: 1, 2, … 65535, 1, … (0 would make the kernel choose one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpIdCounter {
    last: u16,
}

impl IpIdCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts so that the next ID is `next` (for tests reproducing a capture taken mid-stream).
    pub fn starting_at(next: u16) -> Self {
        Self {
            last: next.wrapping_sub(1),
        }
    }

    pub fn next_id(&mut self) -> u16 {
        self.last = self.last.wrapping_add(1);
        if self.last == 0 {
            self.last = 1;
        }
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advert_header_is_what_keepalived_sends() {
        let header = Ipv4Header::for_advert(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(224, 0, 0, 18),
            112,
            1,
            255,
            20,
        )
        .unwrap();
        let bytes = header.to_bytes();
        assert_eq!(
            &bytes[..10],
            &[0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70]
        );
        assert!(Ipv4Header::checksum_is_valid(&bytes));
        let (parsed, rest) = Ipv4Header::parse(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(parsed.checksum, u16::from_be_bytes([bytes[10], bytes[11]]));
        assert_eq!(
            Ipv4Header {
                checksum: 0,
                ..parsed
            },
            header
        );
    }

    #[test]
    fn parse_skips_options_and_rejects_nonsense() {
        let mut bytes = vec![
            0x46, 0, 0, 28, 0, 0, 0, 0, 255, 112, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18, 1, 1, 1, 0,
            0xaa,
        ];
        let (header, rest) = Ipv4Header::parse(&bytes).unwrap();
        assert_eq!(header.header_len, 24);
        assert_eq!(rest, &[0xaa]);
        bytes[0] = 0x44;
        assert_eq!(
            Ipv4Header::parse(&bytes),
            Err(WireError::BadHeaderLength(16))
        );
        bytes[0] = 0x65;
        assert_eq!(Ipv4Header::parse(&bytes), Err(WireError::NotIpv4(6)));
        bytes[0] = 0x4f;
        assert!(matches!(
            Ipv4Header::parse(&bytes),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn ip_ids_start_at_one_and_skip_zero_when_wrapping() {
        let mut ids = IpIdCounter::new();
        assert_eq!((ids.next_id(), ids.next_id()), (1, 2));
        let mut ids = IpIdCounter::starting_at(65535);
        assert_eq!((ids.next_id(), ids.next_id()), (65535, 1));
    }
}
