//! Pacing of gratuitous ARPs and unsolicited NAs on one interface (`vrrp_garp_interval`,
//! `vrrp_gna_interval`, `garp_group`), as keepalived 2.2.7 paces them (`vrrp_arp.c`, `vrrp_ndisc.c`,
//! `vrrp_arp_thread`): after a message leaves, the next one of its kind on that interface waits for the
//! interval. A message due earlier is queued: an address is queued once however many repeats of a burst
//! fall on it, and queued addresses leave one per interval, instances and their addresses in
//! configuration order. Without an interval everything leaves at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use keepalived_config::model;

/// What messages are paced together: one interface, or the interfaces of one `garp_group` given with
/// `interfaces { … }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaceKey {
    Interface(u32),
    Group(u32),
}

/// The pacing of one interface for one kind of message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    pub key: PaceKey,
    /// Zero: no pacing.
    pub interval: Duration,
    /// Unsolicited NAs (IPv6), paced apart from ARPs.
    pub ipv6: bool,
}

impl Pace {
    /// The pacing of `interface` (named `name`): its `garp_group`'s intervals (a group leaving one unset
    /// leaves it unpaced), else the global `vrrp_garp_interval` / `vrrp_gna_interval`.
    pub fn of(config: &model::Config, interface: u32, name: &str, ipv6: bool) -> Self {
        let group = config
            .garp_groups
            .iter()
            .find(|group| group.interfaces.iter().any(|member| member == name));
        let (key, interval) = match group {
            Some(group) => {
                let key = if group.aggregation_group != 0 {
                    PaceKey::Group(group.aggregation_group)
                } else {
                    PaceKey::Interface(interface)
                };
                let interval = if ipv6 {
                    group.gna_interval
                } else {
                    group.garp_interval
                };
                (key, interval.unwrap_or_default())
            }
            None => {
                let global = &config.global;
                let interval = if ipv6 {
                    global.vrrp_gna_interval
                } else {
                    global.vrrp_garp_interval
                };
                (PaceKey::Interface(interface), interval)
            }
        };
        Self {
            key,
            interval,
            ipv6,
        }
    }
}

/// When each paced interface may send its next message.
#[derive(Default)]
pub struct Pacing {
    next: HashMap<(PaceKey, bool), Instant>,
}

impl Pacing {
    /// Whether a message may leave at `now`.
    pub fn may_send(&self, pace: Pace, now: Instant) -> bool {
        pace.interval.is_zero()
            || self
                .next
                .get(&(pace.key, pace.ipv6))
                .is_none_or(|next| now >= *next)
    }

    /// A message left at `sent`: the next one waits for the interval from then (keepalived takes the
    /// time after sending, so a slow send never shortens the gap on the wire).
    pub fn sent(&mut self, pace: Pace, sent: Instant) {
        if !pace.interval.is_zero() {
            self.next
                .insert((pace.key, pace.ipv6), sent + pace.interval);
        }
    }

    /// When a message queued on `pace` may leave.
    pub fn next(&self, pace: Pace) -> Option<Instant> {
        self.next.get(&(pace.key, pace.ipv6)).copied()
    }

    /// Forgets all (a reload may change the intervals).
    pub fn clear(&mut self) {
        self.next.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(interval_ms: u64, ipv6: bool) -> Pace {
        Pace {
            key: PaceKey::Interface(2),
            interval: Duration::from_millis(interval_ms),
            ipv6,
        }
    }

    #[test]
    fn one_message_per_interval_and_kinds_apart() {
        let mut pacing = Pacing::default();
        let start = Instant::now();
        assert!(pacing.may_send(pace(100, false), start));
        pacing.sent(pace(100, false), start);
        assert!(!pacing.may_send(pace(100, false), start));
        assert!(!pacing.may_send(pace(100, false), start + Duration::from_millis(99)));
        assert!(
            pacing.may_send(pace(100, true), start),
            "NAs are paced apart"
        );
        assert_eq!(
            pacing.next(pace(100, false)),
            Some(start + Duration::from_millis(100))
        );
        assert!(pacing.may_send(pace(100, false), start + Duration::from_millis(100)));
    }

    #[test]
    fn the_interval_runs_from_when_the_message_left() {
        let mut pacing = Pacing::default();
        let decided = Instant::now();
        let left = decided + Duration::from_millis(8);
        assert!(pacing.may_send(pace(100, false), decided));
        pacing.sent(pace(100, false), left);
        assert!(!pacing.may_send(pace(100, false), decided + Duration::from_millis(100)));
        assert_eq!(
            pacing.next(pace(100, false)),
            Some(left + Duration::from_millis(100))
        );
    }

    #[test]
    fn no_interval_no_pacing() {
        let mut pacing = Pacing::default();
        let now = Instant::now();
        for _ in 0..5 {
            assert!(pacing.may_send(pace(0, false), now));
            pacing.sent(pace(0, false), now);
        }
        assert_eq!(pacing.next(pace(0, false)), None);
    }

    #[test]
    fn garp_groups_override_the_global_interval() {
        let mut config = model::Config::default();
        config.global.vrrp_garp_interval = Duration::from_millis(10);
        config.global.vrrp_gna_interval = Duration::from_millis(20);
        config.garp_groups.push(model::vrrp::GarpGroup {
            garp_interval: Some(Duration::from_millis(300)),
            gna_interval: None,
            interfaces: vec!["eth1".into(), "eth2".into()],
            aggregation_group: 1,
        });
        let eth0 = Pace::of(&config, 2, "eth0", false);
        assert_eq!(eth0.interval, Duration::from_millis(10));
        assert_eq!(eth0.key, PaceKey::Interface(2));
        assert_eq!(
            Pace::of(&config, 2, "eth0", true).interval,
            Duration::from_millis(20)
        );
        let eth1 = Pace::of(&config, 3, "eth1", false);
        let eth2 = Pace::of(&config, 4, "eth2", false);
        assert_eq!(eth1.interval, Duration::from_millis(300));
        assert_eq!(
            eth1.key, eth2.key,
            "the interfaces of one group are paced together"
        );
        assert_eq!(Pace::of(&config, 3, "eth1", true).interval, Duration::ZERO);
    }
}
