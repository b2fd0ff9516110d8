//! The grammar: keyword tables per block and their handlers, driven by keepalived's block
//! walker ([`walker`]).
//!
//! Each block of the configuration has a module: [`global`], [`instance`], [`sync_group`],
//! [`trackers`] (`vrrp_script`, `vrrp_track_process`, `track_file`) and [`tracking`] (the
//! `track_*` blocks that refer to them), [`static_net`] (address,
//! route and rule lines), [`vrrp_misc`], [`bfd`], [`virtual_server`] and [`checkers`].
//! Values are read by [`values`] (nom parsers for numbers, timers, addresses) with the helpers of
//! [`read`], which report keepalived's messages for bad values.

pub mod bfd;
pub mod checkers;
pub mod global;
pub mod instance;
pub mod keywords;
pub mod memo;
pub mod read;
pub mod routing;
pub mod rttables;
pub mod state;
pub mod static_net;
pub mod sync_group;
pub mod trackers;
pub mod tracking;
pub mod values;
pub mod virtual_server;
pub mod vrrp_misc;
pub mod walker;

pub use keywords::{Keyword, Owner, ROOT};
pub use memo::ReadMemo;
pub use walker::{Abort, DefaultUser, Line, Parser};
