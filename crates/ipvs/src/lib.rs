//! The Linux kernel's IPVS (IP Virtual Server) over generic netlink: a typed model of the
//! table, the protocol's messages, and a synchronous client.
//!
//! - [`model`]: services, destinations, statistics, sync daemons, timeouts, information.
//! - [`message`]: the IPVS commands and attributes of `linux/ip_vs.h` in the rust-netlink
//!   packet idiom, encoded byte for byte as ipvsadm 1.31 encodes them.
//! - [`Client`]: one netlink socket, the family resolved once; queries, [`Change`]s applied one
//!   at a time or in batches ([`Client::apply_all`]) that report each change's [`Outcome`].
//! - [`table`]: whole tables and the fewest changes between two of them, for programs that
//!   keep the kernel in step with a description instead of flushing and reloading.
//! - [`procfs`]: the kernel's text listing, every destination of a large table in a few reads
//!   (only the fields `ipvsadm -L` shows by default).
//! - [`Error`]: what failed ([`Operation`]) and why; a refusal carries the kernel's errno and
//!   extended-acknowledgement message, and [`ipvsadm_message`] words it as ipvsadm does.
//!
//! Changing IPVS needs `CAP_NET_ADMIN`.
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//!
//! use ipvs::model::{Destination, ForwardingMethod, Service, ServiceKey};
//! use ipvs::{Change, Client};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut client = Client::connect()?;
//! let web = ServiceKey::tcp(Ipv4Addr::new(192, 0, 2, 1).into(), 80);
//!
//! // One change at a time: `ipvsadm -A -t 192.0.2.1:80 -s rr`.
//! client.add_service(&Service::new(web).with_scheduler("rr"))?;
//!
//! // Many at once, each acknowledged on its own, like `ipvsadm -R`.
//! let servers = [10, 11, 12].map(|host| Change::AddDestination {
//!     service: web,
//!     destination: Destination::new(Ipv4Addr::new(198, 51, 100, host).into(), 8080)
//!         .with_forwarding(ForwardingMethod::Masquerade),
//! });
//! let report = client.apply_all(&servers)?;
//! for (index, error) in report.failures() {
//!     eprintln!("change {index}: {}", error.ipvsadm_message());
//! }
//!
//! for service in client.services()? {
//!     println!("{} {}", service.key, service.scheduler);
//!     for destination in client.destinations(&service.key)? {
//!         println!("  -> {}:{} weight {}", destination.address, destination.port, destination.weight);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod batch;
mod change;
mod client;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod message;
pub mod model;
pub mod procfs;
pub mod table;

pub use batch::{BatchAborted, BatchReport, Outcome};
pub use change::Change;
pub use client::{Client, ClientOptions};
pub use error::{Error, KernelError, ModuleLoad, Operation, Result, ipvsadm_message};

#[cfg(test)]
mod fixtures;
