/// Traffic counters and rates of a service or destination.
///
/// The kernel reports them twice: in a 32-bit nest (`STATS`, where connection and packet
/// counters wrap at 2^32) and a 64-bit one (`STATS64`). Rates are per second, refreshed by the
/// kernel's estimator every two seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub connections: u64,
    /// Packets in (client to server).
    pub in_packets: u64,
    /// Packets out (server to client).
    pub out_packets: u64,
    /// Bytes in.
    pub in_bytes: u64,
    /// Bytes out.
    pub out_bytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Packets in per second.
    pub in_pps: u64,
    /// Packets out per second.
    pub out_pps: u64,
    /// Bytes in per second.
    pub in_bps: u64,
    /// Bytes out per second.
    pub out_bps: u64,
}
