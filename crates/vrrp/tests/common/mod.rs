//! Helpers shared by the integration tests: a fake clock, instance builders, and peers that send real adverts.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]
// Test code: a panic is a test failure (clippy.toml allows unwrap in #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp::wire::{AdvertInterval, Datagram, Family, Version};
use vrrp::{Action, Config, Instance, State};

/// A clock the tests move by hand.
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// The instant `seconds` after the start.
    pub fn at(&self, seconds: f64) -> Instant {
        self.start + Duration::from_secs_f64(seconds)
    }

    pub fn at_micros(&self, micros: u64) -> Instant {
        self.start + Duration::from_micros(micros)
    }

    /// Seconds since the start, for readable assertion messages.
    pub fn seconds(&self, instant: Instant) -> f64 {
        instant.duration_since(self.start).as_secs_f64()
    }
}

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

pub const VIP: &str = "192.0.2.100";
pub const OURS: &str = "192.0.2.10";

/// An IPv4 VRRPv2 instance on VRID 51 with one VIP: keepalived's defaults and the given priority.
pub fn config(priority: u8) -> Config {
    let mut config = Config::new("VI_1", Family::Ipv4, 51);
    config.priority = priority;
    config.virtual_addresses = vec![ip(VIP)];
    config
}

pub fn v3_config(priority: u8, interval_centiseconds: u16) -> Config {
    let mut config = config(priority);
    config.version = Version::V3;
    config.advert_interval = AdvertInterval::from_centiseconds(interval_centiseconds);
    config
}

pub fn instance(config: Config) -> Instance {
    let mut instance = Instance::new(config).unwrap();
    instance.set_source_address(Some(ip(OURS)));
    instance
}

/// An instance started at `now`, in BACKUP.
pub fn started_backup(config: Config, now: Instant) -> Instance {
    let mut instance = instance(config);
    instance.start(now);
    assert_eq!(instance.state(), State::Backup);
    instance
}

/// An instance brought to MASTER by its own down timer, at the returned instant.
pub fn master(config: Config, clock: &Clock) -> (Instance, Instant) {
    let mut instance = started_backup(config, clock.at(0.0));
    let deadline = instance.poll_timeout().unwrap();
    instance.handle_timeout(deadline);
    assert_eq!(instance.state(), State::Master);
    (instance, deadline)
}

/// Another router on the segment: an instance configured like `template` with its own priority and address,
/// whose adverts are real packets.
pub struct Peer {
    instance: Instance,
}

impl Peer {
    pub fn new(template: &Config, priority: u8, address: &str) -> Self {
        let mut config = template.clone();
        config.priority = priority;
        config.source_address = Some(ip(address));
        config.in_sync_group = false;
        Self {
            instance: Instance::new(config).unwrap(),
        }
    }

    /// The bytes of this peer's next advert with `priority` (the first copy, for unicast).
    pub fn advert(&mut self, priority: u8) -> Vec<u8> {
        self.instance
            .encode_advert(priority)
            .unwrap()
            .remove(0)
            .payload
    }

    pub fn address(&self) -> IpAddr {
        self.instance.source_address().unwrap()
    }
}

/// Delivers an IPv4 datagram and expects it to be accepted.
pub fn deliver(instance: &mut Instance, now: Instant, packet: &[u8]) -> Vec<Action> {
    instance
        .handle_datagram(now, &Datagram::Ipv4(packet))
        .unwrap()
}

pub fn becoming_master(priority: u8, garp_repeat: u32) -> Vec<Action> {
    vec![
        Action::SendAdvert { priority },
        Action::AddVips,
        Action::SendGratuitous {
            repeat: garp_repeat,
        },
        Action::Notify(State::Master),
    ]
}
