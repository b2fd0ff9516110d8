//! Everything ipvsadm prints about the table: listings, rules, connections, timeouts, daemons.

pub mod connections;
pub mod json;
pub mod listing;
pub mod names;
pub mod sort;

/// How a listing is printed (ipvsadm's `FMT_*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format {
    /// `-n`: addresses and ports as numbers.
    pub numeric: bool,
    /// `-S`: as rules that `-R` reads back.
    pub rule: bool,
    /// `--stats`.
    pub stats: bool,
    /// `--rate`.
    pub rate: bool,
    /// `--thresholds`.
    pub thresholds: bool,
    /// `--persistent-conn`.
    pub persistent_conn: bool,
    /// `--nosort`: in the kernel's order.
    pub no_sort: bool,
    /// `--exact`: counters unabbreviated.
    pub exact: bool,
    /// `--tun-info`.
    pub tun_info: bool,
    /// `--json` (ours): the listing as JSON, for programs.
    pub json: bool,
}
