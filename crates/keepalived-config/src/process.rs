//! keepalived's processes, each of which reads the configuration for itself.
//!
//! The parent process reads the files (following `include`s) and keeps a consolidated copy;
//! the health-checker, VRRP and BFD processes then each parse that copy with their own
//! keywords active and the others skipped. Under `-t` the four parses run one after the other
//! in this order, which is why a top-level unknown keyword is reported four times and why a
//! problem inside a `vrrp_instance` is only reported by the VRRP process. This crate parses the
//! same way so that its messages come out in keepalived's order.

use std::fmt;

/// A keepalived process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Process {
    /// The parent: global definitions.
    Parent,
    /// The health checkers: virtual servers and their checkers.
    Checker,
    /// VRRP: instances, scripts, sync groups, static addresses and routes.
    Vrrp,
    /// BFD instances.
    Bfd,
}

impl Process {
    /// All processes, in the order `keepalived -t` runs their parses.
    pub const ALL: [Process; 4] = [
        Process::Parent,
        Process::Checker,
        Process::Vrrp,
        Process::Bfd,
    ];
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Process::Parent => "parent",
            Process::Checker => "checker",
            Process::Vrrp => "vrrp",
            Process::Bfd => "bfd",
        })
    }
}
