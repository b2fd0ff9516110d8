//! The Linux kernel's IPVS generic-netlink protocol: typed messages, model and a synchronous client.

mod batch;
mod change;
mod client;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod message;
pub mod model;

pub use batch::{BatchAborted, BatchReport, Outcome};
pub use change::Change;
pub use client::{Client, ClientOptions};
pub use error::{Error, KernelError, ModuleLoad, Operation, Result, ipvsadm_message};

#[cfg(test)]
mod fixtures;
