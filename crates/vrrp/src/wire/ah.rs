//! keepalived's `auth_type AH`: VRRPv2 inside an IPsec Authentication Header (RFC 2402 format), IPv4 only.
//!
//! keepalived does not use the kernel's IPsec. It writes the AH header itself between the IPv4 header
//! (protocol 51) and the VRRP message (whose Auth Type is 2 and whose authentication data is zero):
//!
//! ```text
//! | Next Header = 112 | Payload Len = 4 | Reserved = 0 |
//! | SPI = the sender's IPv4 source address            |
//! | Sequence Number: 1, 2, … per instance             |
//! | ICV: HMAC-MD5 truncated to 96 bits (12 bytes)     |
//! ```
//!
//! The ICV is HMAC-MD5 keyed with the 8-byte `auth_pass` (NUL-padded) over the IPv4 header, the AH header with a
//! zero ICV, and the VRRP message, with the IPv4 header's mutable fields zeroed: TOS, flags/fragment offset and
//! header checksum, and also TTL when the instance uses unicast peers. A receiver accepts the packet when the ICV
//! matches, the SPI equals the IPv4 source address, and the sequence number is above the last one it accepted.

use std::net::Ipv4Addr;

use super::WireError;
use super::md5::hmac_md5;

/// IP protocol number of the Authentication Header.
pub const IP_PROTOCOL: u8 = 51;
/// Length of keepalived's AH header: 12 fixed bytes and a 12-byte ICV.
pub const HEADER_LEN: usize = 24;
/// AH Payload Len: the header's length in 32-bit words, minus 2.
pub const PAYLOAD_LEN: u8 = 4;
/// HMAC-MD5-96.
pub const ICV_LEN: usize = 12;
/// keepalived's key: the password truncated or NUL-padded to 8 bytes, like PASS authentication data.
pub const KEY_LEN: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AhHeader {
    pub next_header: u8,
    pub payload_len: u8,
    pub spi: u32,
    pub sequence: u32,
    pub icv: [u8; ICV_LEN],
}

impl AhHeader {
    /// keepalived's header for a VRRP advert from `source`, before its ICV is computed.
    pub fn for_advert(source: Ipv4Addr, sequence: u32) -> Self {
        Self {
            next_header: super::advert::IP_PROTOCOL,
            payload_len: PAYLOAD_LEN,
            spi: u32::from(source),
            sequence,
            icv: [0; ICV_LEN],
        }
    }

    /// Reads the header; returns it with the bytes after it.
    pub fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), WireError> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "IPsec AH header",
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let word = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let mut icv = [0; ICV_LEN];
        icv.copy_from_slice(&bytes[12..HEADER_LEN]);
        let header = Self {
            next_header: bytes[0],
            payload_len: bytes[1],
            spi: word(4),
            sequence: word(8),
            icv,
        };
        Ok((header, &bytes[HEADER_LEN..]))
    }

    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0; HEADER_LEN];
        bytes[0] = self.next_header;
        bytes[1] = self.payload_len;
        bytes[4..8].copy_from_slice(&self.spi.to_be_bytes());
        bytes[8..12].copy_from_slice(&self.sequence.to_be_bytes());
        bytes[12..].copy_from_slice(&self.icv);
        bytes
    }
}

/// The ICV keepalived puts in (and expects in) an AH advert.
///
/// `ip_header` is the IPv4 header as sent or received (options included); `vrrp` the VRRP message after the AH
/// header. The header's own ICV and the IPv4 mutable fields are zeroed here, whatever the caller passes.
pub fn compute_icv(
    key: &[u8; KEY_LEN],
    ip_header: &[u8],
    ah: &AhHeader,
    vrrp: &[u8],
    unicast: bool,
) -> [u8; ICV_LEN] {
    let mut ip = ip_header.to_vec();
    if ip.len() >= super::ipv4::HEADER_LEN {
        ip[1] = 0; // TOS
        ip[6..8].fill(0); // flags and fragment offset
        ip[10..12].fill(0); // header checksum
        if unicast {
            ip[8] = 0; // TTL
        }
    }
    let ah = AhHeader {
        icv: [0; ICV_LEN],
        ..*ah
    }
    .to_bytes();
    let digest = hmac_md5(key, &[&ip, &ah, vrrp]);
    let mut icv = [0; ICV_LEN];
    icv.copy_from_slice(&digest[..ICV_LEN]);
    icv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let mut header = AhHeader::for_advert(Ipv4Addr::new(192, 0, 2, 1), 7);
        header.icv = [9; ICV_LEN];
        let bytes = header.to_bytes();
        assert_eq!(&bytes[..12], &[112, 4, 0, 0, 192, 0, 2, 1, 0, 0, 0, 7]);
        assert_eq!(AhHeader::parse(&bytes), Ok((header, &[][..])));
        assert!(AhHeader::parse(&bytes[..23]).is_err());
    }

    #[test]
    fn icv_ignores_mutable_fields_and_covers_the_rest() {
        let key = *b"ahsecret";
        let header = AhHeader::for_advert(Ipv4Addr::new(192, 0, 2, 1), 1);
        let ip = [
            0x45, 0xc0, 0, 64, 0, 1, 0, 0, 255, 51, 0x12, 0x34, 192, 0, 2, 1, 224, 0, 0, 18,
        ];
        let vrrp = [
            0x21, 54, 255, 1, 2, 1, 0, 0, 192, 0, 2, 120, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let icv = compute_icv(&key, &ip, &header, &vrrp, false);

        let mut mutated = ip;
        mutated[1] = 0x10;
        mutated[6] = 0x40;
        mutated[10] = 0;
        assert_eq!(compute_icv(&key, &mutated, &header, &vrrp, false), icv);

        let mut other_ttl = ip;
        other_ttl[8] = 64;
        assert_ne!(compute_icv(&key, &other_ttl, &header, &vrrp, false), icv);
        assert_eq!(
            compute_icv(&key, &other_ttl, &header, &vrrp, true),
            compute_icv(&key, &ip, &header, &vrrp, true)
        );

        let next = AhHeader {
            sequence: 2,
            ..header
        };
        assert_ne!(compute_icv(&key, &ip, &next, &vrrp, false), icv);
        assert_ne!(compute_icv(b"otherkey", &ip, &header, &vrrp, false), icv);
    }
}
