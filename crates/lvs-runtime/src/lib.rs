//! The running health-checker process of `vrrpd` (keepalived's `Keepalived_healthcheckers`): IPVS
//! programmed from the virtual servers of the configuration, real servers moved in and out by
//! their checkers, reload by difference, removal at stop.
//!
//! | module | what |
//! |---|---|
//! | [`daemon`] | the `ppoll` loop: signals, checker sockets, script children, timers; IPVS by difference; reload; stop |
//! | [`metrics`] | the Prometheus text of virtual and real servers (IPVS counters, health, checks) |
//! | [`ping_groups`] | `net.ipv4.ping_group_range` widened for `PING_CHECK`s and put back at stop |
//! | [`probes`] | one TCP, HTTP, SSL, UDP, DNS, SMTP or PING check attempt on a non-blocking socket |
//! | [`tls`] | the TLS client of `SSL_GET`, from the `SSL` block |
//!
//! The decisions are the `lvs` crate's (sans I/O); this crate gives them time, sockets and the kernel.
//! The `track_file` files of `FILE_CHECK`s are read and watched by `vrrpd_runtime::track_files`, shared
//! with the VRRP side's `track_file`.

pub mod daemon;
pub mod metrics;
pub mod ping_groups;
pub mod probes;
pub mod spare_sockets;
pub mod tls;

pub use daemon::{CheckerOptions, ConfigMessages, run, run_child};
