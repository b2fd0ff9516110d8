//! The IPVS table as a program sees it: virtual services, their destinations (real servers),
//! statistics, connection-synchronisation daemons, protocol timeouts and general information.
//!
//! These types carry meaning, not wire details: addresses are [`IpAddr`](std::net::IpAddr),
//! ports are host-order numbers, flags are named. [`crate::message`] maps them onto the kernel's
//! attributes.

mod address;
mod daemon;
mod destination;
mod flags;
mod info;
mod service;
mod stats;
mod timeouts;

pub use address::AddressFamily;
pub use daemon::{DaemonState, SyncDaemon};
pub use destination::{Destination, ForwardingMethod, Tunnel, TunnelFlags, TunnelType};
pub use info::{Info, Version};
pub use service::{Netmask, Protocol, Service, ServiceFlags, ServiceKey};
pub use stats::Stats;
pub use timeouts::Timeouts;
