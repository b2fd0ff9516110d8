//! `bfd_instance NAME { … }`: Bidirectional Forwarding Detection sessions.

use std::net::IpAddr;
use std::time::Duration;

use crate::source::LinePosition;

/// A BFD session, with keepalived's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfdInstance {
    /// The name used by `track_bfd` and `BFD_CHECK`.
    pub name: String,
    /// `neighbor_ip` / `neighbour_ip`.
    pub neighbor: Option<IpAddr>,
    /// `source_ip`.
    pub source: Option<IpAddr>,
    /// `min_rx` (10 ms).
    pub min_rx: Duration,
    /// `min_tx` (10 ms).
    pub min_tx: Duration,
    /// `idle_tx` (1 s).
    pub idle_tx: Duration,
    /// `multiplier` (5).
    pub multiplier: u8,
    /// `passive`.
    pub passive: bool,
    /// `ttl` (255) / `hoplimit` (64).
    pub ttl: Option<u8>,
    /// `max_hops` (`None`: 0, single hop; 255 for -1: no TTL check).
    pub max_hops: Option<u8>,
    /// `weight`.
    pub weight: i32,
    /// `weight … reverse`.
    pub weight_reverse: bool,
    /// `vrrp`: notify only the VRRP process.
    pub vrrp_only: bool,
    /// `checker`: notify only the checker process.
    pub checker_only: bool,
    /// Where it was defined.
    pub position: Option<LinePosition>,
}

impl BfdInstance {
    /// A session with keepalived's defaults.
    pub fn new(name: &str) -> Self {
        BfdInstance {
            name: name.to_owned(),
            neighbor: None,
            source: None,
            min_rx: Duration::from_millis(10),
            min_tx: Duration::from_millis(10),
            idle_tx: Duration::from_secs(1),
            multiplier: 5,
            passive: false,
            ttl: None,
            max_hops: None,
            weight: 0,
            weight_reverse: false,
            vrrp_only: false,
            checker_only: false,
            position: None,
        }
    }
}
