//! VRRP v2 (RFC 3768) and v3 (RFC 9568) without I/O: packet codec and a state machine with time passed in.
//!
//! The protocol core of `vrrpd`, keepalived 2.2.7's drop-in: it must interoperate on the wire with real
//! keepalived peers, so where keepalived departs from the RFCs this crate follows keepalived (see `docs/vrrp.md`).
//!
//! No sockets, clocks or threads here. The daemon owns those and drives, per `vrrp_instance`, an [`Instance`]:
//!
//! * it calls [`Instance::start`], then [`Instance::handle_timeout`] whenever [`Instance::poll_timeout`] is
//!   reached, [`Instance::handle_datagram`] for every datagram whose VRID ([`wire::Datagram::vrid`]) is the
//!   instance's, and the `set_*` methods when interfaces, trackers or addresses change;
//! * it carries out the returned [`Action`]s in order: [`Instance::encode_advert`] gives the bytes of each
//!   advert, [`wire::arp`] and [`wire::ndisc`] those of gratuitous ARPs and unsolicited NAs;
//! * members of a `vrrp_sync_group` are kept together by a [`SyncGroup`].
//!
//! Layout: [`wire`] encodes and decodes; [`config`] says what an instance needs to run; [`receive`] validates
//! adverts like keepalived and says why it drops one; [`instance`] is the state machine; [`sync_group`] moves
//! members together.

/// The log target of the lines keepalived writes only with `-D` (its `LOG_DETAIL`): logged at info level
/// with this target, and let through by the daemon's logger only with `-D`.
pub const DETAIL: &str = "detail";

pub mod action;
pub mod config;
pub mod instance;
pub mod receive;
pub mod sync_group;
pub mod wire;

pub use action::{Action, State};
pub use config::{
    Authentication, Config, ConfigError, GarpConfig, InitialState, UnicastChecksum, UnicastPeer,
};
pub use instance::{EncodeError, Instance, Transmit};
pub use receive::{Accepted, AuthFailure, DropReason, Statistics};
pub use sync_group::{GroupActions, GroupState, SyncGroup};
