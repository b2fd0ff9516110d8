//! The Linux kernel's IPVS generic-netlink protocol: typed messages, model and a synchronous client.

pub mod message;
pub mod model;
