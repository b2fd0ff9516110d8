use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::{AppendNla, put, unknown};
use crate::model::Stats;

const IPVS_STATS_ATTR_CONNS: u16 = 1;
const IPVS_STATS_ATTR_INPKTS: u16 = 2;
const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
const IPVS_STATS_ATTR_INBYTES: u16 = 4;
const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
const IPVS_STATS_ATTR_CPS: u16 = 6;
const IPVS_STATS_ATTR_INPPS: u16 = 7;
const IPVS_STATS_ATTR_OUTPPS: u16 = 8;
const IPVS_STATS_ATTR_INBPS: u16 = 9;
const IPVS_STATS_ATTR_OUTBPS: u16 = 10;

/// A counter as it was on the wire: the same attribute is 32 bits wide in the kernel's
/// `STATS` nest and 64 bits in `STATS64`, so the width is kept for a faithful re-encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// A 4-byte value.
    U32(u32),
    /// An 8-byte value.
    U64(u64),
}

impl Counter {
    /// The value, widened.
    pub const fn value(self) -> u64 {
        match self {
            Counter::U32(value) => value as u64,
            Counter::U64(value) => value,
        }
    }

    fn len(self) -> usize {
        match self {
            Counter::U32(_) => 4,
            Counter::U64(_) => 8,
        }
    }

    fn emit(self, buffer: &mut [u8]) {
        match self {
            Counter::U32(value) => put(buffer, &value.to_ne_bytes()),
            Counter::U64(value) => put(buffer, &value.to_ne_bytes()),
        }
    }

    fn parse(payload: &[u8]) -> Result<Self, DecodeError> {
        match payload.len() {
            4 => Ok(Counter::U32(super::parse_u32(payload, "counter")?)),
            8 => super::parse_array(payload, "counter")
                .map(|raw| Counter::U64(u64::from_ne_bytes(raw))),
            other => Err(DecodeError::from(format!(
                "a counter has {other} bytes, expected 4 or 8"
            ))),
        }
    }
}

/// An attribute of a statistics nest (`IPVS_STATS_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAttribute {
    /// Connections scheduled.
    Connections(Counter),
    /// Incoming packets.
    InPackets(Counter),
    /// Outgoing packets.
    OutPackets(Counter),
    /// Incoming bytes.
    InBytes(Counter),
    /// Outgoing bytes.
    OutBytes(Counter),
    /// Connection rate.
    Cps(Counter),
    /// Incoming packet rate.
    InPps(Counter),
    /// Outgoing packet rate.
    OutPps(Counter),
    /// Incoming byte rate.
    InBps(Counter),
    /// Outgoing byte rate.
    OutBps(Counter),
    /// Anything else, such as the alignment padding `IPVS_STATS_ATTR_PAD`.
    Other(DefaultNla),
}

impl StatsAttribute {
    /// The counter of a known attribute, or the raw attribute otherwise.
    fn counter(&self) -> Result<Counter, &DefaultNla> {
        use StatsAttribute::*;
        match self {
            Connections(c) | InPackets(c) | OutPackets(c) | InBytes(c) | OutBytes(c) | Cps(c)
            | InPps(c) | OutPps(c) | InBps(c) | OutBps(c) => Ok(*c),
            Other(nla) => Err(nla),
        }
    }
}

impl Nla for StatsAttribute {
    fn value_len(&self) -> usize {
        match self.counter() {
            Ok(counter) => counter.len(),
            Err(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use StatsAttribute::*;
        match self {
            Connections(_) => IPVS_STATS_ATTR_CONNS,
            InPackets(_) => IPVS_STATS_ATTR_INPKTS,
            OutPackets(_) => IPVS_STATS_ATTR_OUTPKTS,
            InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            Cps(_) => IPVS_STATS_ATTR_CPS,
            InPps(_) => IPVS_STATS_ATTR_INPPS,
            OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            InBps(_) => IPVS_STATS_ATTR_INBPS,
            OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self.counter() {
            Ok(counter) => counter.emit(buffer),
            Err(nla) => nla.emit_value(buffer),
        }
    }
}

impl AppendNla for StatsAttribute {}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for StatsAttribute {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        use StatsAttribute::*;
        let payload = buf.value();
        let wrap: fn(Counter) -> StatsAttribute = match buf.kind() {
            IPVS_STATS_ATTR_CONNS => Connections,
            IPVS_STATS_ATTR_INPKTS => InPackets,
            IPVS_STATS_ATTR_OUTPKTS => OutPackets,
            IPVS_STATS_ATTR_INBYTES => InBytes,
            IPVS_STATS_ATTR_OUTBYTES => OutBytes,
            IPVS_STATS_ATTR_CPS => Cps,
            IPVS_STATS_ATTR_INPPS => InPps,
            IPVS_STATS_ATTR_OUTPPS => OutPps,
            IPVS_STATS_ATTR_INBPS => InBps,
            IPVS_STATS_ATTR_OUTBPS => OutBps,
            _ => return unknown(buf).map(Other),
        };
        Counter::parse(payload).map(wrap)
    }
}

/// Which of the kernel's two statistics layouts to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsWidth {
    /// `STATS`: bytes are 64-bit, every other counter and rate 32-bit (truncated).
    Legacy32,
    /// `STATS64`: everything 64-bit.
    Full64,
}

/// Reads a statistics nest. Counters that are absent stay 0.
pub fn stats_from_attributes(attributes: &[StatsAttribute]) -> Stats {
    let mut stats = Stats::default();
    for attribute in attributes {
        use StatsAttribute::*;
        let (field, counter) = match attribute {
            Connections(c) => (&mut stats.connections, c),
            InPackets(c) => (&mut stats.in_packets, c),
            OutPackets(c) => (&mut stats.out_packets, c),
            InBytes(c) => (&mut stats.in_bytes, c),
            OutBytes(c) => (&mut stats.out_bytes, c),
            Cps(c) => (&mut stats.cps, c),
            InPps(c) => (&mut stats.in_pps, c),
            OutPps(c) => (&mut stats.out_pps, c),
            InBps(c) => (&mut stats.in_bps, c),
            OutBps(c) => (&mut stats.out_bps, c),
            Other(_) => continue,
        };
        *field = counter.value();
    }
    stats
}

/// Writes a statistics nest in the order and widths the kernel uses.
pub fn stats_to_attributes(stats: &Stats, width: StatsWidth) -> Vec<StatsAttribute> {
    use StatsAttribute::*;
    // In the 32-bit layout only the byte counters are 64-bit; the truncation is the kernel's.
    let narrow = |value: u64| match width {
        StatsWidth::Legacy32 => Counter::U32(value as u32),
        StatsWidth::Full64 => Counter::U64(value),
    };
    vec![
        Connections(narrow(stats.connections)),
        InPackets(narrow(stats.in_packets)),
        OutPackets(narrow(stats.out_packets)),
        InBytes(Counter::U64(stats.in_bytes)),
        OutBytes(Counter::U64(stats.out_bytes)),
        Cps(narrow(stats.cps)),
        InPps(narrow(stats.in_pps)),
        OutPps(narrow(stats.out_pps)),
        InBps(narrow(stats.in_bps)),
        OutBps(narrow(stats.out_bps)),
    ]
}
