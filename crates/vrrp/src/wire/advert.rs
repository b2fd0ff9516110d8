//! VRRP advertisements: VRRPv2 (RFC 3768 §5, with RFC 2338's authentication types as keepalived keeps them) and
//! VRRPv3 (RFC 9568 §5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2: |   Auth Type   |   Adver Int   |          Checksum             |
//! v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 IPvX Address(es), Count of them               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2 over IPv4 only: Authentication Data (8 bytes, always present)
//! ```
//!
//! Checksums: VRRPv2 sums the VRRP message alone; VRRPv3 adds the IPv4 or IPv6 pseudo-header.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::WireError;
use super::checksum::Checksum;

/// IP protocol number of VRRP.
pub const IP_PROTOCOL: u8 = 112;
/// The fixed part of every VRRP message.
pub const HEADER_LEN: usize = 8;
/// VRRPv2's authentication data, present in every VRRPv2 message over IPv4 whatever the authentication type.
pub const AUTH_DATA_LEN: usize = 8;
/// The only packet type VRRP defines.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// The priority a master sends when it stops, so that a backup takes over after the skew time only.
pub const PRIORITY_STOP: u8 = 0;
/// The priority of the router that owns the virtual addresses.
pub const PRIORITY_OWNER: u8 = 255;
/// The largest VRRPv3 Max Adver Int (12 bits of centiseconds).
pub const MAX_V3_CENTISECONDS: u16 = 0x0fff;

/// The protocol version, from the high nibble of the first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }

    pub fn from_number(number: u8) -> Option<Self> {
        match number {
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            _ => None,
        }
    }
}

/// The address family of the IP packet that carries a VRRP message (the message itself does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(address: &IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    pub fn address_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }

    /// The VRRP multicast group: 224.0.0.18 or ff02::12.
    pub fn vrrp_multicast_group(self) -> IpAddr {
        match self {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)),
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
        }
    }
}

/// VRRPv2's Auth Type field. RFC 3768 keeps only "none"; keepalived still speaks RFC 2338's two others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthType {
    None,
    /// Simple text password, 8 bytes in the Authentication Data.
    Pass,
    /// IPsec Authentication Header (HMAC-MD5-96) in front of the VRRP message; see [`super::ah`].
    Ah,
    Unknown(u8),
}

impl From<u8> for AuthType {
    fn from(value: u8) -> Self {
        match value {
            0 => AuthType::None,
            1 => AuthType::Pass,
            2 => AuthType::Ah,
            other => AuthType::Unknown(other),
        }
    }
}

impl From<AuthType> for u8 {
    fn from(value: AuthType) -> Self {
        match value {
            AuthType::None => 0,
            AuthType::Pass => 1,
            AuthType::Ah => 2,
            AuthType::Unknown(other) => other,
        }
    }
}

/// An advertisement interval, kept in centiseconds: VRRPv3's unit, and fine enough for VRRPv2's whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdvertInterval {
    centiseconds: u16,
}

impl AdvertInterval {
    pub const ONE_SECOND: AdvertInterval = AdvertInterval { centiseconds: 100 };

    pub fn from_centiseconds(centiseconds: u16) -> Self {
        Self { centiseconds }
    }

    pub fn from_seconds(seconds: u8) -> Self {
        Self {
            centiseconds: u16::from(seconds) * 100,
        }
    }

    pub fn centiseconds(self) -> u16 {
        self.centiseconds
    }

    /// VRRPv2's 8-bit Adver Int: whole seconds, truncated like keepalived (its parser rounds v2 intervals first).
    pub fn v2_field(self) -> u8 {
        u8::try_from(self.centiseconds / 100).unwrap_or(u8::MAX)
    }

    /// VRRPv3's 12-bit Max Adver Int; the 4 reserved bits above it are zero.
    pub fn v3_field(self) -> u16 {
        self.centiseconds & MAX_V3_CENTISECONDS
    }

    pub fn as_duration(self) -> Duration {
        Duration::from_millis(u64::from(self.centiseconds) * 10)
    }

    pub fn as_micros(self) -> u64 {
        u64::from(self.centiseconds) * 10_000
    }
}

/// A checked, read-only view of a received VRRP message: every accessor is in bounds.
///
/// `new_checked` only ensures the fixed header and the declared addresses (and v2 authentication data) are
/// present; trailing bytes are allowed here and judged by receive validation, as keepalived does.
#[derive(Clone, Copy, Debug)]
pub struct AdvertPacket<'a> {
    bytes: &'a [u8],
    family: Family,
}

impl<'a> AdvertPacket<'a> {
    pub fn new_checked(bytes: &'a [u8], family: Family) -> Result<Self, WireError> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "VRRP header",
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let packet = Self { bytes, family };
        if bytes.len() < packet.declared_len() {
            return Err(WireError::ShorterThanDeclared {
                declared: packet.declared_len(),
                available: bytes.len(),
            });
        }
        Ok(packet)
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// The version nibble as sent (validation compares it with ours).
    pub fn version_number(&self) -> u8 {
        self.bytes[0] >> 4
    }

    pub fn packet_type(&self) -> u8 {
        self.bytes[0] & 0x0f
    }

    pub fn vrid(&self) -> u8 {
        self.bytes[1]
    }

    pub fn priority(&self) -> u8 {
        self.bytes[2]
    }

    pub fn address_count(&self) -> u8 {
        self.bytes[3]
    }

    /// VRRPv2's Auth Type (byte 4). Meaningless for VRRPv3.
    pub fn v2_auth_type(&self) -> AuthType {
        AuthType::from(self.bytes[4])
    }

    /// VRRPv2's Adver Int in seconds (byte 5). Meaningless for VRRPv3.
    pub fn v2_advert_interval(&self) -> u8 {
        self.bytes[5]
    }

    /// VRRPv3's Max Adver Int in centiseconds, reserved bits masked off as keepalived does.
    pub fn v3_max_advert_interval(&self) -> u16 {
        u16::from_be_bytes([self.bytes[4], self.bytes[5]]) & MAX_V3_CENTISECONDS
    }

    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.bytes[6], self.bytes[7]])
    }

    /// Whether this message carries VRRPv2's 8 bytes of authentication data (v2 over IPv4).
    fn has_auth_data(&self) -> bool {
        self.version_number() == 2 && self.family == Family::Ipv4
    }

    /// The length the header announces: fixed part, `count` addresses and v2 authentication data.
    pub fn declared_len(&self) -> usize {
        let auth = if self.has_auth_data() {
            AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + usize::from(self.address_count()) * self.family.address_len() + auth
    }

    /// All the bytes received, including any beyond [`Self::declared_len`].
    pub fn received_len(&self) -> usize {
        self.bytes.len()
    }

    /// The message as declared by its header, without trailing bytes.
    pub fn message(&self) -> &'a [u8] {
        &self.bytes[..self.declared_len()]
    }

    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + 'a {
        let length = self.family.address_len();
        let end = HEADER_LEN + usize::from(self.address_count()) * length;
        let family = self.family;
        self.bytes[HEADER_LEN..end]
            .chunks_exact(length)
            .map(move |chunk| address_from(family, chunk))
    }

    /// VRRPv2's authentication data (all zeros when absent).
    pub fn auth_data(&self) -> [u8; AUTH_DATA_LEN] {
        let mut data = [0; AUTH_DATA_LEN];
        if self.has_auth_data() {
            let start = self.declared_len() - AUTH_DATA_LEN;
            data.copy_from_slice(&self.bytes[start..start + AUTH_DATA_LEN]);
        }
        data
    }

    /// Whether the checksum is right, given the addresses of the IP packet (used by VRRPv3's pseudo-header).
    pub fn checksum_is_valid(&self, source: IpAddr, destination: IpAddr) -> bool {
        let mut sum = Checksum::new();
        if self.version_number() == 3 {
            sum.add_pseudo_header(source, destination, IP_PROTOCOL, self.declared_len());
        }
        sum.add(self.message()).verifies()
    }
}

fn address_from(family: Family, bytes: &[u8]) -> IpAddr {
    match family {
        Family::Ipv4 => {
            let mut octets = [0; 4];
            octets.copy_from_slice(bytes);
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        Family::Ipv6 => {
            let mut octets = [0; 16];
            octets.copy_from_slice(bytes);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
    }
}

/// An advertisement's content, to send or as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advertisement {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    pub interval: AdvertInterval,
    /// VRRPv2 only; `AuthType::None` for VRRPv3.
    pub auth_type: AuthType,
    /// VRRPv2 over IPv4 only: the password for `AuthType::Pass`, zeros otherwise.
    pub auth_data: [u8; AUTH_DATA_LEN],
    /// The virtual addresses, all of the family of the IP packet, in configuration order.
    pub addresses: Vec<IpAddr>,
}

impl Advertisement {
    /// Reads an advertisement; any version other than 2 or 3 and any type other than Advertisement is an error.
    pub fn parse(packet: &AdvertPacket<'_>) -> Result<Self, WireError> {
        let version = Version::from_number(packet.version_number())
            .ok_or(WireError::UnknownVersion(packet.version_number()))?;
        if packet.packet_type() != TYPE_ADVERTISEMENT {
            return Err(WireError::UnknownType(packet.packet_type()));
        }
        let (interval, auth_type) = match version {
            Version::V2 => (
                AdvertInterval::from_seconds(packet.v2_advert_interval()),
                packet.v2_auth_type(),
            ),
            Version::V3 => (
                AdvertInterval::from_centiseconds(packet.v3_max_advert_interval()),
                AuthType::None,
            ),
        };
        Ok(Self {
            version,
            vrid: packet.vrid(),
            priority: packet.priority(),
            interval,
            auth_type,
            auth_data: packet.auth_data(),
            addresses: packet.addresses().collect(),
        })
    }

    /// The family the addresses belong to, or `None` when there are none or they are mixed.
    fn address_family(&self) -> Option<Family> {
        let family = Family::of(self.addresses.first()?);
        self.addresses
            .iter()
            .all(|address| Family::of(address) == family)
            .then_some(family)
    }

    /// The encoded length for a packet of `family`.
    pub fn encoded_len(&self, family: Family) -> usize {
        let auth = if self.version == Version::V2 && family == Family::Ipv4 {
            AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + self.addresses.len() * family.address_len() + auth
    }

    /// Encodes the message with its checksum. `source` and `destination` are those of the IP packet that will
    /// carry it; VRRPv3 sums them in its pseudo-header, VRRPv2 ignores them. For IPv6 the kernel can be asked to
    /// compute the checksum instead (keepalived sets IPV6_CHECKSUM), and it computes this same value.
    pub fn emit(&self, source: IpAddr, destination: IpAddr) -> Result<Vec<u8>, WireError> {
        let family = Family::of(&source);
        if Family::of(&destination) != family {
            return Err(WireError::MixedFamilies);
        }
        if !self.addresses.is_empty() && self.address_family() != Some(family) {
            return Err(WireError::MixedFamilies);
        }
        let count = u8::try_from(self.addresses.len())
            .map_err(|_| WireError::TooManyAddresses(self.addresses.len()))?;
        if self.version == Version::V3 && self.interval.centiseconds() > MAX_V3_CENTISECONDS {
            return Err(WireError::IntervalOutOfRange(self.interval));
        }

        let mut bytes = Vec::with_capacity(self.encoded_len(family));
        bytes.push((self.version.number() << 4) | TYPE_ADVERTISEMENT);
        bytes.extend_from_slice(&[self.vrid, self.priority, count]);
        match self.version {
            Version::V2 => {
                bytes.extend_from_slice(&[u8::from(self.auth_type), self.interval.v2_field()])
            }
            Version::V3 => bytes.extend_from_slice(&self.interval.v3_field().to_be_bytes()),
        }
        bytes.extend_from_slice(&[0, 0]);
        for address in &self.addresses {
            match address {
                IpAddr::V4(address) => bytes.extend_from_slice(&address.octets()),
                IpAddr::V6(address) => bytes.extend_from_slice(&address.octets()),
            }
        }
        if self.version == Version::V2 && family == Family::Ipv4 {
            bytes.extend_from_slice(&self.auth_data);
        }

        let mut sum = Checksum::new();
        if self.version == Version::V3 {
            sum.add_pseudo_header(source, destination, IP_PROTOCOL, bytes.len());
        }
        let checksum = sum.add(&bytes).finish();
        bytes[6..8].copy_from_slice(&checksum.to_be_bytes());
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn sample(version: Version) -> Advertisement {
        Advertisement {
            version,
            vrid: 51,
            priority: 100,
            interval: AdvertInterval::ONE_SECOND,
            auth_type: AuthType::None,
            auth_data: [0; 8],
            addresses: vec![v4(192, 0, 2, 100), v4(192, 0, 2, 101)],
        }
    }

    #[test]
    fn v2_round_trips_with_auth_data_and_a_checksum_over_the_message_only() {
        let mut advert = sample(Version::V2);
        advert.auth_type = AuthType::Pass;
        advert.auth_data = *b"secret12";
        let bytes = advert.emit(v4(192, 0, 2, 1), v4(224, 0, 0, 18)).unwrap();
        assert_eq!(bytes.len(), 8 + 2 * 4 + 8);
        assert_eq!(&bytes[..6], &[0x21, 51, 100, 2, 1, 1]);
        let packet = AdvertPacket::new_checked(&bytes, Family::Ipv4).unwrap();
        // Any pseudo-header gives the same verdict: v2 does not use one.
        assert!(packet.checksum_is_valid(v4(1, 2, 3, 4), v4(5, 6, 7, 8)));
        assert_eq!(Advertisement::parse(&packet).unwrap(), advert);
    }

    #[test]
    fn v3_round_trips_and_its_checksum_depends_on_the_pseudo_header() {
        let mut advert = sample(Version::V3);
        advert.interval = AdvertInterval::from_centiseconds(10);
        let source = v4(192, 0, 2, 1);
        let group = v4(224, 0, 0, 18);
        let bytes = advert.emit(source, group).unwrap();
        assert_eq!(bytes.len(), 8 + 2 * 4);
        assert_eq!(&bytes[4..6], &[0x00, 0x0a]);
        let packet = AdvertPacket::new_checked(&bytes, Family::Ipv4).unwrap();
        assert!(packet.checksum_is_valid(source, group));
        assert!(!packet.checksum_is_valid(v4(192, 0, 2, 2), group));
        assert_eq!(Advertisement::parse(&packet).unwrap(), advert);
    }

    #[test]
    fn v3_over_ipv6_carries_sixteen_byte_addresses_and_no_auth_data() {
        let vip: IpAddr = "2001:db8::100".parse().unwrap();
        let source: IpAddr = "fe80::1".parse().unwrap();
        let mut advert = sample(Version::V3);
        advert.addresses = vec![vip];
        let bytes = advert
            .emit(source, Family::Ipv6.vrrp_multicast_group())
            .unwrap();
        assert_eq!(bytes.len(), 8 + 16);
        let packet = AdvertPacket::new_checked(&bytes, Family::Ipv6).unwrap();
        assert!(packet.checksum_is_valid(source, Family::Ipv6.vrrp_multicast_group()));
        assert_eq!(packet.addresses().collect::<Vec<_>>(), vec![vip]);
    }

    #[test]
    fn reserved_bits_of_the_v3_interval_are_ignored_on_receive() {
        let bytes = sample(Version::V3)
            .emit(v4(192, 0, 2, 1), v4(224, 0, 0, 18))
            .unwrap();
        let mut with_reserved = bytes.clone();
        with_reserved[4] |= 0xf0;
        let packet = AdvertPacket::new_checked(&with_reserved, Family::Ipv4).unwrap();
        assert_eq!(packet.v3_max_advert_interval(), 100);
    }

    #[test]
    fn a_message_shorter_than_its_address_count_is_rejected() {
        let bytes = sample(Version::V2)
            .emit(v4(192, 0, 2, 1), v4(224, 0, 0, 18))
            .unwrap();
        for cut in 0..bytes.len() {
            assert!(
                AdvertPacket::new_checked(&bytes[..cut], Family::Ipv4).is_err(),
                "accepted {cut} bytes"
            );
        }
    }

    #[test]
    fn emit_refuses_what_cannot_be_encoded() {
        let mut mixed = sample(Version::V3);
        mixed.addresses.push("2001:db8::1".parse().unwrap());
        assert_eq!(
            mixed.emit(v4(192, 0, 2, 1), v4(224, 0, 0, 18)),
            Err(WireError::MixedFamilies)
        );

        let mut slow = sample(Version::V3);
        slow.interval = AdvertInterval::from_centiseconds(4096);
        assert!(matches!(
            slow.emit(v4(192, 0, 2, 1), v4(224, 0, 0, 18)),
            Err(WireError::IntervalOutOfRange(_))
        ));

        let mut crowded = sample(Version::V2);
        crowded.addresses = (0..256)
            .map(|i| v4(10, 0, (i >> 8) as u8, i as u8))
            .collect();
        assert_eq!(
            crowded.emit(v4(192, 0, 2, 1), v4(224, 0, 0, 18)),
            Err(WireError::TooManyAddresses(256))
        );
    }

    #[test]
    fn parse_rejects_unknown_versions_and_types() {
        let mut bytes = sample(Version::V2)
            .emit(v4(192, 0, 2, 1), v4(224, 0, 0, 18))
            .unwrap();
        bytes[0] = 0x22;
        let packet = AdvertPacket::new_checked(&bytes, Family::Ipv4).unwrap();
        assert_eq!(
            Advertisement::parse(&packet),
            Err(WireError::UnknownType(2))
        );
        bytes[0] = 0x41;
        let packet = AdvertPacket::new_checked(&bytes, Family::Ipv4).unwrap();
        assert_eq!(
            Advertisement::parse(&packet),
            Err(WireError::UnknownVersion(4))
        );
    }

    #[test]
    fn v2_interval_field_is_whole_seconds() {
        assert_eq!(AdvertInterval::from_centiseconds(250).v2_field(), 2);
        assert_eq!(AdvertInterval::from_seconds(255).v2_field(), 255);
        assert_eq!(
            AdvertInterval::from_seconds(3).as_duration(),
            Duration::from_secs(3)
        );
    }
}
