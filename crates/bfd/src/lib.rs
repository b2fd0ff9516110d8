//! BFD without I/O, as keepalived 2.2.7's BFD process runs it: RFC 5880 asynchronous mode (no echo,
//! no demand of our own, no authentication) over RFC 5881's UDP port 3784.
//!
//! * [`packet`] encodes and decodes control packets, with RFC 5880 6.8.6's validation (and keepalived's
//!   extra checks) saying why a packet is dropped;
//! * [`session`] is one session's state machine (Down / Init / Up / AdminDown, timer negotiation,
//!   detection time, poll / final, jitter), with time passed in.
//!
//! The daemon owns the sockets and the clock: it feeds a [`Session`] the packets whose addresses or
//! discriminator are its own, calls [`Session::handle_timeout`] when [`Session::next_deadline`] is
//! reached, and carries out the [`Event`]s returned (send a packet, log, tell the trackers).

pub mod packet;
pub mod session;

pub use packet::{Control, Diagnostic, DropReason, State};
pub use session::{Event, Session, SessionConfig};

/// RFC 5881's destination port of single-hop control packets (keepalived 2.2.7 uses it for every
/// session, multihop ones too).
pub const CONTROL_PORT: u16 = 3784;
/// RFC 5881: the source port is in 49152..=65535.
pub const SOURCE_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;
/// The TTL (IPv4) a session sends with unless `ttl` is configured, and the lowest a single-hop packet
/// may arrive with (RFC 5881 5, GTSM).
pub const DEFAULT_TTL: u8 = 255;
/// keepalived's default hop limit for IPv6 sessions.
pub const DEFAULT_HOPLIMIT: u8 = 64;
