//! Receive validation of adverts, check by check and in the order of keepalived 2.2.7's `vrrp_check_packet`, so
//! that a packet with several faults is dropped for the same reason (and counted in the same counter).
//!
//! keepalived looks the instance up by VRID before checking anything; an instance handed a packet for another
//! VRID reports [`DropReason::VridMismatch`].

use std::net::IpAddr;

use crate::config::{Authentication, UnicastChecksum, UnicastPeer};
use crate::wire::ah;
use crate::wire::{AdvertInterval, Advertisement, AuthType, Envelope, Family, Version, WireError};

/// The TTL (IPv4) / hop limit (IPv6) of multicast adverts.
pub const MULTICAST_TTL: u8 = 255;

/// What an instance expects of the adverts it accepts.
#[derive(Clone, Copy, Debug)]
pub struct Expectations<'a> {
    pub version: Version,
    pub vrid: u8,
    pub advert_interval: AdvertInterval,
    pub authentication: &'a Authentication,
    pub virtual_addresses: &'a [IpAddr],
    pub unicast_peers: &'a [UnicastPeer],
    pub check_unicast_source: bool,
    /// Whether to compare the advertised addresses with ours: always, except for adverts from the current master
    /// with `skip_check_adv_addr`.
    pub check_addresses: bool,
    /// The AH sequence number last seen or sent: an AH advert must carry a higher one.
    pub ah_sequence: u32,
    /// VRRPv3 unicast over IPv4: the multicast group, whose address old keepalived sums instead of the
    /// destination, and whether to sum it ([`UnicastChecksum::Legacy`]) or to try it when the checksum fails
    /// ([`UnicastChecksum::Detect`]).
    pub multicast_group: IpAddr,
    pub unicast_checksum: UnicastChecksum,
}

/// An advert that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub advert: Advertisement,
    /// Its checksum only verified the old way: the sender is an old keepalived (see [`UnicastChecksum`]).
    pub legacy_checksum_detected: bool,
}

/// Which part of authentication failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// PASS: the 8 bytes differ from our password.
    Password,
    /// AH: the HMAC-MD5 does not match (wrong key, or a field changed on the way).
    Icv,
    /// AH: the SPI is not the sender's address.
    Spi,
    /// AH: a sequence number not above the last one (a replay, or a restarted sender).
    Replay { received: u32, last: u32 },
}

/// Why a received packet was dropped. Each maps to one of keepalived's statistics counters ([`Statistics`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    #[error("instance is not running (init, fault or stopped): packet ignored")]
    NotListening,
    #[error("malformed packet: {0}")]
    Malformed(WireError),
    #[error("received VRID mismatch. Received {received}, Expected {expected}")]
    VridMismatch { received: u8, expected: u8 },
    #[error("AH header presence does not match the authentication type")]
    AuthHeaderMismatch,
    #[error("vrrp packet length {received} and expect {expected}")]
    Length { received: usize, expected: usize },
    #[error("invalid TTL/HL. Received {received} and expect 255")]
    Ttl { received: u8 },
    #[error("wrong version. Received {received} and expect {expected}")]
    Version { received: u8, expected: u8 },
    #[error("Invalid auth type: {0}")]
    InvalidAuthType(u8),
    #[error("received a {received} auth, expecting {expected}!")]
    AuthTypeMismatch { received: u8, expected: u8 },
    #[error("authentication failed: {0:?}")]
    AuthFailure(AuthFailure),
    #[error("AH header for a protocol other than VRRP ({0})")]
    AhNotVrrp(u8),
    #[error("advertisement interval mismatch mine={expected} sec rcv'd={received} sec")]
    IntervalMismatch { received: u8, expected: u8 },
    #[error("Invalid packet type. {0} and expect 1")]
    PacketType(u8),
    #[error("received an unexpected ip number count {received}, expected {expected}!")]
    AddressCount { received: u8, expected: usize },
    #[error("ip_tot_len mismatch against received length. {header} and received {received}")]
    IpTotalLength { header: u16, received: usize },
    #[error("Invalid VRRPv{0} checksum")]
    Checksum(u8),
    #[error("Expected {expected}icast packet but received {received}icast packet", expected = cast(*expected_multicast), received = cast(!*expected_multicast))]
    CastMismatch { expected_multicast: bool },
    #[error("ip address associated with VRID not present in MASTER advert : {0}")]
    AddressMissing(IpAddr),
    #[error("unicast source address {0} not a unicast peer")]
    NotAPeer(IpAddr),
    #[error("TTL/HL {ttl} not in range {min} - {max}")]
    PeerTtl { ttl: u8, min: u8, max: u8 },
}

impl From<WireError> for DropReason {
    /// A message shorter than its header declares is a length error, as keepalived counts it; anything else
    /// that cannot be decoded is malformed.
    fn from(error: WireError) -> Self {
        match error {
            WireError::ShorterThanDeclared {
                declared,
                available,
            } => DropReason::Length {
                received: available,
                expected: declared,
            },
            other => DropReason::Malformed(other),
        }
    }
}

fn cast(multicast: bool) -> &'static str {
    if multicast { "mult" } else { "un" }
}

/// Checks a received datagram against what the instance expects; returns the advertisement if it is acceptable.
pub fn validate(
    expect: &Expectations<'_>,
    envelope: &Envelope<'_>,
) -> Result<Accepted, DropReason> {
    let packet = &envelope.advert;
    if packet.vrid() != expect.vrid {
        return Err(DropReason::VridMismatch {
            received: packet.vrid(),
            expected: expect.vrid,
        });
    }

    let ah = envelope.ipv4.and_then(|ipv4| ipv4.ah);
    let expects_ah = matches!(expect.authentication, Authentication::Ah(_));
    if envelope.ipv4.is_some() && ah.is_some() != expects_ah {
        return Err(DropReason::AuthHeaderMismatch);
    }

    if packet.received_len() != packet.declared_len() {
        return Err(DropReason::Length {
            received: packet.received_len(),
            expected: packet.declared_len(),
        });
    }

    let multicast = expect.unicast_peers.is_empty();
    if let Some(ttl) = envelope.ttl {
        if multicast && ttl != MULTICAST_TTL {
            return Err(DropReason::Ttl { received: ttl });
        }
    }

    if packet.version_number() != expect.version.number() {
        return Err(DropReason::Version {
            received: packet.version_number(),
            expected: expect.version.number(),
        });
    }

    if expect.version == Version::V2 {
        check_v2_authentication(expect, envelope)?;
        let expected = expect.advert_interval.v2_field();
        if packet.v2_advert_interval() != expected {
            return Err(DropReason::IntervalMismatch {
                received: packet.v2_advert_interval(),
                expected,
            });
        }
    }

    if packet.packet_type() != crate::wire::advert::TYPE_ADVERTISEMENT {
        return Err(DropReason::PacketType(packet.packet_type()));
    }

    if expect.check_addresses
        && usize::from(packet.address_count()) != expect.virtual_addresses.len()
    {
        return Err(DropReason::AddressCount {
            received: packet.address_count(),
            expected: expect.virtual_addresses.len(),
        });
    }

    if let Some(ipv4) = envelope.ipv4 {
        let header_len = usize::from(ipv4.header.total_len);
        if header_len != ipv4.received_len {
            return Err(DropReason::IpTotalLength {
                header: ipv4.header.total_len,
                received: ipv4.received_len,
            });
        }
    }

    let legacy_checksum_detected = check_checksum(expect, envelope)?;

    if envelope.destination.is_multicast() != multicast {
        return Err(DropReason::CastMismatch {
            expected_multicast: multicast,
        });
    }

    if expect.check_addresses {
        let received: Vec<IpAddr> = packet.addresses().collect();
        if let Some(missing) = expect
            .virtual_addresses
            .iter()
            .find(|address| !received.contains(address))
        {
            return Err(DropReason::AddressMissing(*missing));
        }
        if !multicast && expect.check_unicast_source {
            let peer = expect
                .unicast_peers
                .iter()
                .find(|peer| peer.address == envelope.source)
                .ok_or(DropReason::NotAPeer(envelope.source))?;
            if let Some(ttl) = envelope.ttl {
                if ttl < peer.min_ttl || ttl > peer.max_ttl {
                    return Err(DropReason::PeerTtl {
                        ttl,
                        min: peer.min_ttl,
                        max: peer.max_ttl,
                    });
                }
            }
        }
    }

    let advert = Advertisement::parse(packet).map_err(DropReason::Malformed)?;
    Ok(Accepted {
        advert,
        legacy_checksum_detected,
    })
}

/// Verifies the checksum; returns whether it only verified with old keepalived's unicast pseudo-header.
/// (keepalived leaves IPv6 checksums to the kernel, IPV6_CHECKSUM; checking again here costs nothing.)
fn check_checksum(expect: &Expectations<'_>, envelope: &Envelope<'_>) -> Result<bool, DropReason> {
    let packet = &envelope.advert;
    let old_keepalived_sums_the_group = envelope.ipv4.is_some()
        && packet.version_number() == Version::V3.number()
        && !expect.unicast_peers.is_empty()
        && envelope.destination != expect.multicast_group;
    let summed_destination = match expect.unicast_checksum {
        UnicastChecksum::Legacy if old_keepalived_sums_the_group => expect.multicast_group,
        _ => envelope.destination,
    };
    if packet.checksum_is_valid(envelope.source, summed_destination) {
        return Ok(false);
    }
    if expect.unicast_checksum == UnicastChecksum::Detect
        && old_keepalived_sums_the_group
        && packet.checksum_is_valid(envelope.source, expect.multicast_group)
    {
        return Ok(true);
    }
    Err(DropReason::Checksum(packet.version_number()))
}

/// VRRPv2 authentication: the Auth Type must be known and ours, then the password or the AH ICV must match.
fn check_v2_authentication(
    expect: &Expectations<'_>,
    envelope: &Envelope<'_>,
) -> Result<(), DropReason> {
    let packet = &envelope.advert;
    let received = packet.v2_auth_type();
    if let AuthType::Unknown(value) = received {
        return Err(DropReason::InvalidAuthType(value));
    }
    let expected = match expect.authentication {
        Authentication::None => AuthType::None,
        Authentication::Password(_) => AuthType::Pass,
        Authentication::Ah(_) => AuthType::Ah,
    };
    if received != expected {
        return Err(DropReason::AuthTypeMismatch {
            received: received.into(),
            expected: expected.into(),
        });
    }
    match expect.authentication {
        Authentication::None => Ok(()),
        Authentication::Password(password) => {
            // Only IPv4 VRRPv2 messages carry authentication data; configuration keeps v2 to IPv4.
            if packet.family() == Family::Ipv4 && packet.auth_data() != *password {
                return Err(DropReason::AuthFailure(AuthFailure::Password));
            }
            Ok(())
        }
        Authentication::Ah(key) => check_ah(key, expect, envelope),
    }
}

fn check_ah(
    key: &[u8; 8],
    expect: &Expectations<'_>,
    envelope: &Envelope<'_>,
) -> Result<(), DropReason> {
    let Some(ipv4) = envelope.ipv4 else {
        return Err(DropReason::AuthHeaderMismatch);
    };
    let Some(header) = ipv4.ah else {
        return Err(DropReason::AuthHeaderMismatch);
    };
    if header.next_header != crate::wire::advert::IP_PROTOCOL {
        return Err(DropReason::AhNotVrrp(header.next_header));
    }
    let unicast = !expect.unicast_peers.is_empty();
    let icv = ah::compute_icv(
        key,
        ipv4.raw_header,
        &header,
        envelope.advert.message(),
        unicast,
    );
    if icv != header.icv {
        return Err(DropReason::AuthFailure(AuthFailure::Icv));
    }
    if header.spi != u32::from(ipv4.header.source) {
        return Err(DropReason::AuthFailure(AuthFailure::Spi));
    }
    if header.sequence <= expect.ah_sequence {
        return Err(DropReason::AuthFailure(AuthFailure::Replay {
            received: header.sequence,
            last: expect.ah_sequence,
        }));
    }
    Ok(())
}

/// Per-instance counters, named after keepalived's (`vrrp_stats`, as shown by its JSON and SNMP output).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub packet_len_err: u64,
    pub ip_ttl_err: u64,
    pub invalid_type_rcvd: u64,
    pub advert_interval_err: u64,
    pub addr_list_err: u64,
    pub invalid_authtype: u64,
    pub authtype_mismatch: u64,
    pub auth_failure: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
    pub chk_err: u64,
    pub vers_err: u64,
    pub vrid_err: u64,
    /// Drops keepalived does not count (malformed headers, ignored while not listening, foreign AH, unicast
    /// source not a peer).
    pub other_drops: u64,
}

impl Statistics {
    /// Counts a drop in the counter keepalived would have incremented. As in keepalived, a packet that passed
    /// the checksum and the unicast/multicast check counts as a received advert even if a later check drops it.
    pub fn count_drop(&mut self, reason: &DropReason) {
        let counter = match reason {
            DropReason::NotListening
            | DropReason::Malformed(_)
            | DropReason::AhNotVrrp(_)
            | DropReason::NotAPeer(_) => &mut self.other_drops,
            DropReason::VridMismatch { .. } => &mut self.vrid_err,
            DropReason::AuthHeaderMismatch | DropReason::AuthTypeMismatch { .. } => {
                &mut self.authtype_mismatch
            }
            DropReason::Length { .. } | DropReason::IpTotalLength { .. } => {
                &mut self.packet_len_err
            }
            DropReason::Ttl { .. } | DropReason::PeerTtl { .. } => &mut self.ip_ttl_err,
            DropReason::Version { .. } => &mut self.vers_err,
            DropReason::InvalidAuthType(_) => &mut self.invalid_authtype,
            DropReason::AuthFailure(_) => &mut self.auth_failure,
            DropReason::IntervalMismatch { .. } => &mut self.advert_interval_err,
            DropReason::PacketType(_) => &mut self.invalid_type_rcvd,
            DropReason::AddressCount { .. }
            | DropReason::CastMismatch { .. }
            | DropReason::AddressMissing(_) => &mut self.addr_list_err,
            DropReason::Checksum(_) => &mut self.chk_err,
        };
        *counter += 1;
        if matches!(
            reason,
            DropReason::AddressMissing(_) | DropReason::NotAPeer(_) | DropReason::PeerTtl { .. }
        ) {
            self.advert_rcvd += 1;
        }
    }

    /// Counts an accepted advert.
    pub fn count_accepted(&mut self, priority: u8) {
        self.advert_rcvd += 1;
        if priority == 0 {
            self.pri_zero_rcvd += 1;
        }
    }
}
