//! The Internet checksum (RFC 1071) and the pseudo-headers that VRRPv3 and ICMPv6 fold into it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A running one's-complement sum of 16-bit big-endian words.
///
/// Every chunk but the last must have an even length: an odd chunk is padded with a zero byte, which is only
/// right at the end of the data. All the messages summed in this crate have even lengths.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checksum {
    sum: u32,
}

impl Checksum {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, bytes: &[u8]) -> &mut Self {
        let mut words = bytes.chunks_exact(2);
        for word in &mut words {
            self.add_word(u16::from_be_bytes([word[0], word[1]]));
        }
        if let [last] = words.remainder() {
            self.add_word(u16::from_be_bytes([*last, 0]));
        }
        self
    }

    pub fn add_word(&mut self, word: u16) -> &mut Self {
        self.sum += u32::from(word);
        // Fold eagerly so the accumulator can never overflow, whatever the length of the data.
        self.sum = (self.sum & 0xffff) + (self.sum >> 16);
        self
    }

    /// The pseudo-header of RFC 8200 §8.1 (IPv6) or RFC 768 (IPv4) for an upper-layer message of `length` bytes.
    pub fn add_pseudo_header(
        &mut self,
        source: IpAddr,
        destination: IpAddr,
        protocol: u8,
        length: usize,
    ) -> &mut Self {
        match (source, destination) {
            (IpAddr::V4(source), IpAddr::V4(destination)) => {
                self.add_ipv4_pseudo_header(source, destination, protocol, length)
            }
            (IpAddr::V6(source), IpAddr::V6(destination)) => {
                self.add_ipv6_pseudo_header(source, destination, protocol, length)
            }
            // Mixed families cannot be on one packet; callers check families before summing.
            (source, destination) => self.add(&ip_octets(source)).add(&ip_octets(destination)),
        }
    }

    fn add_ipv4_pseudo_header(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        protocol: u8,
        length: usize,
    ) -> &mut Self {
        self.add(&source.octets())
            .add(&destination.octets())
            .add_word(u16::from(protocol))
            .add_word(truncate_u16(length))
    }

    fn add_ipv6_pseudo_header(
        &mut self,
        source: Ipv6Addr,
        destination: Ipv6Addr,
        protocol: u8,
        length: usize,
    ) -> &mut Self {
        let length = u32::try_from(length).unwrap_or(u32::MAX);
        self.add(&source.octets())
            .add(&destination.octets())
            .add(&length.to_be_bytes())
            .add_word(u16::from(protocol))
    }

    /// The value to put in a checksum field (the field itself summed as zero).
    pub fn finish(&self) -> u16 {
        !(self.sum as u16)
    }

    /// Whether data that includes its own checksum field sums correctly.
    pub fn verifies(&self) -> bool {
        self.finish() == 0
    }
}

/// The Internet checksum of `bytes` alone.
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    Checksum::new().add(bytes).finish()
}

fn ip_octets(address: IpAddr) -> Vec<u8> {
    match address {
        IpAddr::V4(address) => address.octets().to_vec(),
        IpAddr::V6(address) => address.octets().to_vec(),
    }
}

fn truncate_u16(length: usize) -> u16 {
    u16::try_from(length).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sums_to_its_published_value() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, so the checksum is its complement.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn data_with_its_checksum_verifies_and_a_flipped_bit_does_not() {
        let mut data = vec![
            0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0, 0,
        ];
        let sum = internet_checksum(&data);
        data[10..12].copy_from_slice(&sum.to_be_bytes());
        assert!(Checksum::new().add(&data).verifies());
        data[3] ^= 0x01;
        assert!(!Checksum::new().add(&data).verifies());
    }

    #[test]
    fn odd_length_is_padded_with_a_zero_byte() {
        assert_eq!(internet_checksum(&[0xab]), internet_checksum(&[0xab, 0x00]));
    }

    #[test]
    fn long_data_does_not_overflow_the_accumulator() {
        let data = vec![0xff; 1 << 20];
        assert_eq!(internet_checksum(&data), 0);
    }
}
