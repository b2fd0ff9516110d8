//! The LVS half of keepalived 2.2.7 without I/O.
//!
//! - [`alert`]: the notify FIFO lines and the SMTP alerts of the checker process, and when they go;
//! - [`mapping`]: the configuration model and the health of real servers → the IPVS table
//!   keepalived would have programmed (`Vec<ipvs::table::VirtualService>`);
//! - [`pool`]: the health state keepalived keeps — real servers alive or not, effective weights,
//!   each virtual server's quorum with its hysteresis — and the events its changes raise
//!   (notify scripts);
//! - [`checker_log`]: the line keepalived logs when a checker reports its standing;
//! - [`checker`]: the timing of one health checker (`delay_loop`, `connect_timeout`, `retry`,
//!   `delay_before_retry`, `warmup`, `alpha`) as a state machine with time passed in;
//! - [`dns`]: the query of `DNS_CHECK` and the verdict on an answer;
//! - [`file`]: what the number in a `FILE_CHECK` file means for the checker and the weight;
//! - [`http`]: the request and the verdict on the response of `HTTP_GET`;
//! - [`smtp`]: the conversation of `SMTP_CHECK`;
//! - [`ping`]: the echo request of `PING_CHECK` and the verdict on a reply;
//! - [`udp`]: the verdict of `UDP_CHECK` on a reply;
//! - [`suspend`]: `ha_suspend`, which checkers run while the virtual server's address is local.
//!
//! The daemon (`vrrpd-runtime`) owns sockets, child processes and the kernel; it feeds results in
//! and applies `ipvs::table::changes_between(programmed, desired)`.

pub mod alert;
pub mod checker;
pub mod checker_log;
pub mod dns;
pub mod file;
pub mod http;
pub mod mapping;
pub mod ping;
pub mod pool;
pub mod pool_log;
pub mod smtp;
pub mod suspend;
pub mod udp;

pub use mapping::desired_table;
pub use pool::{Pool, PoolEvent};
