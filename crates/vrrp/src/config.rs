//! What one VRRP instance needs to know to run: the protocol-relevant part of a keepalived `vrrp_instance`.
//!
//! The keepalived.conf layer turns a `vrrp_instance` into this (applying keepalived's defaults, warnings and
//! clearing rules, e.g. `nopreempt` with `state MASTER`); [`Config::validate`] only refuses what the protocol
//! cannot represent.

use std::net::IpAddr;
use std::time::Duration;

use crate::wire::advert::{MAX_V3_CENTISECONDS, PRIORITY_OWNER};
use crate::wire::{AdvertInterval, Family, Version};

/// `state MASTER` or `state BACKUP`. Only the address owner (priority 255) acts on `Master` at start-up;
/// anybody else starts as backup either way (measured on keepalived 2.2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialState {
    Backup,
    Master,
}

/// VRRPv2 authentication (`authentication { auth_type …; auth_pass … }`). The password is kept exactly as it goes
/// on the wire: truncated to 8 bytes and NUL-padded, like keepalived, because peers compare those 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authentication {
    None,
    /// `auth_type PASS`: the password travels in clear in the advert's authentication data.
    Password([u8; 8]),
    /// `auth_type AH`: the password keys the HMAC-MD5 of an IPsec AH header (see [`crate::wire::ah`]).
    Ah([u8; 8]),
}

impl Authentication {
    pub fn password(text: &[u8]) -> Self {
        Authentication::Password(wire_password(text))
    }

    pub fn ah(text: &[u8]) -> Self {
        Authentication::Ah(wire_password(text))
    }
}

/// The first 8 bytes of `text`, NUL-padded.
fn wire_password(text: &[u8]) -> [u8; 8] {
    let mut data = [0; 8];
    let used = text.len().min(data.len());
    data[..used].copy_from_slice(&text[..used]);
    data
}

/// `old_unicast_checksum`: which destination VRRPv3 unicast adverts over IPv4 sum in their pseudo-header.
/// keepalived before 2.0 summed the multicast group instead of the peer's address; 2.2.7 interoperates with both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnicastChecksum {
    /// The peer's address (RFC), switching to the old way for good if a peer's adverts only verify with it
    /// (keepalived's default).
    Detect,
    /// `old_unicast_checksum never`: the peer's address, no detection.
    Standard,
    /// `old_unicast_checksum`: the multicast group, like old keepalived.
    Legacy,
}

/// One `unicast_peer` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnicastPeer {
    pub address: IpAddr,
    /// TTL/hop-limit range accepted from this peer when `check_unicast_src` is on (`min_ttl`/`max_ttl`).
    pub min_ttl: u8,
    pub max_ttl: u8,
}

impl UnicastPeer {
    pub fn new(address: IpAddr) -> Self {
        Self {
            address,
            min_ttl: 0,
            max_ttl: 255,
        }
    }
}

/// Gratuitous ARP / unsolicited NA timing (`vrrp_garp_*`, `garp_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GarpConfig {
    /// Messages per VIP in each burst on becoming master (`garp_master_repeat`, default 5).
    pub master_repeat: u32,
    /// When to repeat the burst after becoming master (`garp_master_delay`, default 5 s; `None` for 0).
    pub master_delay: Option<Duration>,
    /// Periodic bursts while master (`garp_master_refresh`, default off).
    pub master_refresh: Option<Duration>,
    /// Messages per VIP in a refresh burst (`garp_master_refresh_repeat`, default 1).
    pub master_refresh_repeat: u32,
    /// Burst when a master hears a lower-priority advert (`garp_lower_prio_repeat`, default = master_repeat).
    pub lower_priority_repeat: u32,
    /// Its repetition (`garp_lower_prio_delay`, default = master_delay).
    pub lower_priority_delay: Option<Duration>,
}

impl Default for GarpConfig {
    fn default() -> Self {
        Self {
            master_repeat: 5,
            master_delay: Some(Duration::from_secs(5)),
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_priority_repeat: 5,
            lower_priority_delay: Some(Duration::from_secs(5)),
        }
    }
}

impl GarpConfig {
    /// `vrrp_min_garp`: one message per VIP, no second burst, no refresh.
    pub fn minimal() -> Self {
        Self {
            master_repeat: 1,
            master_delay: None,
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_priority_repeat: 1,
            lower_priority_delay: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The instance name, used in log messages like keepalived's "(VI_1) Entering MASTER STATE".
    pub name: String,
    pub version: Version,
    pub family: Family,
    pub vrid: u8,
    /// Base priority, 1..=255; 255 is the address owner.
    pub priority: u8,
    pub advert_interval: AdvertInterval,
    pub initial_state: InitialState,
    /// `false` for `nopreempt`.
    pub preempt: bool,
    /// `preempt_delay`; zero for none.
    pub preempt_delay: Duration,
    /// `virtual_ipaddress`, in configuration order (the order they are advertised in).
    pub virtual_addresses: Vec<IpAddr>,
    pub authentication: Authentication,
    /// Empty for multicast.
    pub unicast_peers: Vec<UnicastPeer>,
    /// TTL of unicast adverts (`unicast_ttl`, default 255); multicast adverts always use 255.
    pub unicast_ttl: u8,
    /// `check_unicast_src` / `vrrp_check_unicast_src`.
    pub check_unicast_source: bool,
    /// `skip_check_adv_addr` / `vrrp_skip_check_adv_addr`: skip the VIP-list check for adverts from the current
    /// master.
    pub skip_check_advert_addresses: bool,
    /// `down_timer_adverts` (1..=100, default 3): adverts missed before the master is declared down.
    pub down_timer_adverts: u8,
    pub garp: GarpConfig,
    /// `lower_prio_no_advert`: a master hearing a lower priority does not answer with an advert.
    pub lower_priority_no_advert: bool,
    /// `higher_prio_send_advert`: a master hearing a higher priority sends one more advert before yielding.
    pub higher_priority_send_advert: bool,
    /// `vrrp_mcast_group4` / `vrrp_mcast_group6`; `None` for 224.0.0.18 / ff02::12.
    pub multicast_group: Option<IpAddr>,
    /// `mcast_src_ip` / `unicast_src_ip`. Without it the daemon supplies the interface's primary address (or
    /// IPv6 link-local address) with [`crate::Instance::set_source_address`].
    pub source_address: Option<IpAddr>,
    /// Member of a `vrrp_sync_group`: the instance then waits for [`crate::SyncGroup`] to move it to master.
    pub in_sync_group: bool,
    pub unicast_checksum: UnicastChecksum,
}

impl Config {
    /// keepalived's defaults for an instance of `vrid` (VRRPv2 over IPv4, priority 100, advert_int 1 s, preempt).
    pub fn new(name: impl Into<String>, family: Family, vrid: u8) -> Self {
        Self {
            name: name.into(),
            version: match family {
                Family::Ipv4 => Version::V2,
                Family::Ipv6 => Version::V3,
            },
            family,
            vrid,
            priority: 100,
            advert_interval: AdvertInterval::ONE_SECOND,
            initial_state: InitialState::Backup,
            preempt: true,
            preempt_delay: Duration::ZERO,
            virtual_addresses: Vec::new(),
            authentication: Authentication::None,
            unicast_peers: Vec::new(),
            unicast_ttl: 255,
            check_unicast_source: false,
            skip_check_advert_addresses: false,
            down_timer_adverts: 3,
            garp: GarpConfig::default(),
            lower_priority_no_advert: false,
            higher_priority_send_advert: false,
            multicast_group: None,
            source_address: None,
            in_sync_group: false,
            unicast_checksum: UnicastChecksum::Detect,
        }
    }

    pub fn is_address_owner(&self) -> bool {
        self.priority == PRIORITY_OWNER
    }

    pub fn multicast_group(&self) -> IpAddr {
        self.multicast_group
            .unwrap_or_else(|| self.family.vrrp_multicast_group())
    }

    /// Refuses what cannot go on the wire or would make the timers meaningless.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.vrid == 0 {
            return Err(ConfigError::Vrid);
        }
        if self.priority == 0 {
            return Err(ConfigError::Priority);
        }
        let centiseconds = self.advert_interval.centiseconds();
        match self.version {
            Version::V2
                if centiseconds == 0 || centiseconds % 100 != 0 || centiseconds > 25_500 =>
            {
                return Err(ConfigError::AdvertInterval(self.advert_interval));
            }
            Version::V3 if centiseconds == 0 || centiseconds > MAX_V3_CENTISECONDS => {
                return Err(ConfigError::AdvertInterval(self.advert_interval));
            }
            _ => {}
        }
        if self.family == Family::Ipv6 && self.version == Version::V2 {
            return Err(ConfigError::Ipv6NeedsV3);
        }
        if self.authentication != Authentication::None && self.version == Version::V3 {
            return Err(ConfigError::AuthenticationNeedsV2);
        }
        if self.virtual_addresses.len() > usize::from(u8::MAX) {
            return Err(ConfigError::TooManyAddresses(self.virtual_addresses.len()));
        }
        let addresses = self
            .virtual_addresses
            .iter()
            .chain(self.unicast_peers.iter().map(|peer| &peer.address));
        let addresses = addresses
            .chain(self.multicast_group.iter())
            .chain(self.source_address.iter());
        if let Some(stranger) = addresses
            .into_iter()
            .find(|address| Family::of(address) != self.family)
        {
            return Err(ConfigError::WrongFamily(*stranger));
        }
        if self.down_timer_adverts == 0 {
            return Err(ConfigError::DownTimerAdverts);
        }
        Ok(())
    }
}

/// Why a [`Config`] cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the virtual router id must be between 1 and 255")]
    Vrid,
    #[error("priority must be between 1 and 255")]
    Priority,
    #[error(
        "advertisement interval {0:?} cannot be sent (VRRPv2: whole seconds 1..255; VRRPv3: 0.01..40.95 s)"
    )]
    AdvertInterval(AdvertInterval),
    #[error("IPv6 instances need VRRPv3")]
    Ipv6NeedsV3,
    #[error("authentication exists only in VRRPv2")]
    AuthenticationNeedsV2,
    #[error("{0} virtual addresses do not fit an advert (255 at most)")]
    TooManyAddresses(usize),
    #[error("address {0} is not of the instance's family")]
    WrongFamily(IpAddr),
    #[error("down_timer_adverts must be at least 1")]
    DownTimerAdverts,
    #[error("a reload cannot change an instance's family, version or VRID: it is another instance")]
    ReloadChangesIdentity,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4() -> Config {
        let mut config = Config::new("VI_1", Family::Ipv4, 51);
        config.virtual_addresses = vec!["192.0.2.100".parse().unwrap()];
        config
    }

    #[test]
    fn defaults_are_keepalived_s_and_valid() {
        let config = ipv4();
        assert_eq!(
            (config.version, config.priority, config.advert_interval),
            (Version::V2, 100, AdvertInterval::ONE_SECOND)
        );
        assert!(config.preempt);
        assert_eq!(
            config.multicast_group(),
            "224.0.0.18".parse::<IpAddr>().unwrap()
        );
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(Config::new("VI_6", Family::Ipv6, 1).version, Version::V3);
    }

    #[test]
    fn passwords_are_truncated_and_padded_to_eight_bytes() {
        assert_eq!(
            Authentication::password(b"secret12345"),
            Authentication::Password(*b"secret12")
        );
        assert_eq!(
            Authentication::password(b"abc"),
            Authentication::Password(*b"abc\0\0\0\0\0")
        );
        assert_eq!(
            Authentication::ah(b"k"),
            Authentication::Ah(*b"k\0\0\0\0\0\0\0")
        );
    }

    #[test]
    fn validate_refuses_what_cannot_be_sent() {
        let mut config = ipv4();
        config.vrid = 0;
        assert_eq!(config.validate(), Err(ConfigError::Vrid));

        let mut config = ipv4();
        config.advert_interval = AdvertInterval::from_centiseconds(150);
        assert!(matches!(
            config.validate(),
            Err(ConfigError::AdvertInterval(_))
        ));
        config.version = Version::V3;
        assert_eq!(config.validate(), Ok(()));
        config.advert_interval = AdvertInterval::from_centiseconds(4096);
        assert!(matches!(
            config.validate(),
            Err(ConfigError::AdvertInterval(_))
        ));

        let mut config = ipv4();
        config.version = Version::V3;
        config.authentication = Authentication::password(b"x");
        assert_eq!(config.validate(), Err(ConfigError::AuthenticationNeedsV2));

        let mut config = ipv4();
        config
            .virtual_addresses
            .push("2001:db8::1".parse().unwrap());
        assert!(matches!(
            config.validate(),
            Err(ConfigError::WrongFamily(_))
        ));

        let mut config = Config::new("VI_6", Family::Ipv6, 1);
        config.version = Version::V2;
        assert_eq!(config.validate(), Err(ConfigError::Ipv6NeedsV3));
    }
}
