//! `PING_CHECK` as keepalived 2.2.7's `check_ping.c`: one ICMP (ICMPv6) echo request on a kernel
//! "ping socket" (`SOCK_DGRAM` with `IPPROTO_ICMP`/`IPPROTO_ICMPV6`), 8 header bytes and 128 bytes
//! of keepalived's filler; the kernel fills in the identifier (the socket's own) and the checksum,
//! and hands the socket only echo replies carrying its identifier. An echo reply within
//! `connect_timeout` is success; silence, a short datagram or another type is failure.
//!
//! keepalived takes any echo reply the socket gets; here a reply must also come from the address
//! pinged and carry the request's sequence number, so that a late reply to an earlier socket that
//! had the same identifier is not taken for this one (it is ignored, and the wait goes on).
//!
//! Ping sockets are allowed only to the groups of `net.ipv4.ping_group_range` (which also rules
//! ICMPv6); keepalived lowers its first group to 0 while it runs and puts it back when it stops
//! ([`GroupRange`]).

use std::net::IpAddr;

/// The ICMP header: type, code, checksum, identifier, sequence number.
pub const HEADER_LENGTH: usize = 8;
/// keepalived's `ICMP_BUFSIZE`: the payload after the header.
pub const PAYLOAD_LENGTH: usize = 128;

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;

/// keepalived's `set_buf`: "keepalived check - " repeated over `length` bytes (also the
/// `UDP_CHECK` payload when none is configured).
pub fn filler(length: usize) -> Vec<u8> {
    b"keepalived check - "
        .iter()
        .copied()
        .cycle()
        .take(length)
        .collect()
}

/// The echo request for `destination` with `sequence`; identifier and checksum are left 0 for
/// the kernel to fill in.
pub fn echo_request(destination: IpAddr, sequence: u16) -> Vec<u8> {
    let kind = match destination {
        IpAddr::V4(_) => ECHO_REQUEST_V4,
        IpAddr::V6(_) => ECHO_REQUEST_V6,
    };
    let mut packet = Vec::with_capacity(HEADER_LENGTH + PAYLOAD_LENGTH);
    packet.extend_from_slice(&[kind, 0, 0, 0, 0, 0]);
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&filler(PAYLOAD_LENGTH));
    packet
}

/// What a datagram received on the ping socket means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The echo reply to this request: success.
    Answer,
    /// Not for this request (another source or sequence number): keep waiting.
    Ignore,
    /// Failure, as keepalived's: a datagram shorter than a header, or not an echo reply.
    Bad(String),
}

/// Judges `datagram` (the ICMP message, without the IP header, as ping sockets deliver it) from
/// `source`, received after sending to `destination` with `sequence`.
pub fn judge(destination: IpAddr, sequence: u16, source: IpAddr, datagram: &[u8]) -> Reply {
    if datagram.len() < HEADER_LENGTH {
        return Reply::Bad(format!("got a short ICMP packet, {} bytes", datagram.len()));
    }
    let expected = match destination {
        IpAddr::V4(_) => ECHO_REPLY_V4,
        IpAddr::V6(_) => ECHO_REPLY_V6,
    };
    if datagram[0] != expected {
        return Reply::Bad(format!("got an ICMP packet with type {:#x}", datagram[0]));
    }
    if source != destination || datagram[6..8] != sequence.to_be_bytes() {
        return Reply::Ignore;
    }
    Reply::Answer
}

/// The groups allowed ping sockets, `net.ipv4.ping_group_range` ("first last").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupRange {
    pub first: u32,
    pub last: u32,
}

impl GroupRange {
    /// Reads the file's text as keepalived does: two numbers below 2³², separated by a tab or a
    /// space, the second followed by a newline; `None` otherwise (keepalived then leaves it).
    pub fn parse(text: &str) -> Option<GroupRange> {
        let (first, rest) = text.split_once(['\t', ' '])?;
        let last = rest.strip_suffix('\n')?;
        Some(GroupRange {
            first: first.parse().ok()?,
            last: last.parse().ok()?,
        })
    }

    /// The text that sets `first` and keeps `last`, as keepalived writes it.
    pub fn with_first(self, first: u32) -> String {
        format!("{first}\t{}\t\n", self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = "192.0.2.7";
    const V6: &str = "2001:db8::7";

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn reply(kind: u8, sequence: u16) -> Vec<u8> {
        let mut packet = vec![kind, 0, 0x12, 0x34, 0xab, 0xcd];
        packet.extend_from_slice(&sequence.to_be_bytes());
        packet.extend_from_slice(&filler(PAYLOAD_LENGTH));
        packet
    }

    #[test]
    fn requests_carry_the_filler_and_the_sequence() {
        let request = echo_request(ip(V4), 0x0102);
        assert_eq!(request.len(), 136);
        assert_eq!(&request[..8], &[8, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(&request[8..27], b"keepalived check - ");
        // 128 = 6 × 19 + 14: the last copy is cut after 14 bytes.
        assert_eq!(&request[122..], b"keepalived che");
        let request = echo_request(ip(V6), 7);
        assert_eq!(&request[..8], &[128, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(request.len(), 136);
    }

    #[test]
    fn the_filler_is_keepalived_s() {
        assert_eq!(
            filler(32),
            b"keepalived check - keepalived ch".to_vec(),
            "UDP_CHECK's default payload"
        );
        assert!(filler(0).is_empty());
    }

    #[test]
    fn an_echo_reply_from_the_address_with_the_sequence_answers() {
        assert_eq!(judge(ip(V4), 9, ip(V4), &reply(0, 9)), Reply::Answer);
        assert_eq!(judge(ip(V6), 9, ip(V6), &reply(129, 9)), Reply::Answer);
        // The header alone is enough, as for keepalived.
        assert_eq!(judge(ip(V4), 9, ip(V4), &reply(0, 9)[..8]), Reply::Answer);
    }

    #[test]
    fn replies_to_something_else_are_ignored() {
        assert_eq!(judge(ip(V4), 9, ip(V4), &reply(0, 8)), Reply::Ignore);
        assert_eq!(
            judge(ip(V4), 9, ip("192.0.2.8"), &reply(0, 9)),
            Reply::Ignore
        );
        assert_eq!(judge(ip(V6), 9, ip("::1"), &reply(129, 9)), Reply::Ignore);
    }

    #[test]
    fn short_or_other_types_fail() {
        for length in 0..HEADER_LENGTH {
            assert!(matches!(
                judge(ip(V4), 0, ip(V4), &reply(0, 0)[..length]),
                Reply::Bad(m) if m.contains("short")
            ));
        }
        // An echo request, or the other family's reply type.
        assert!(
            matches!(judge(ip(V4), 9, ip(V4), &reply(8, 9)), Reply::Bad(m) if m.contains("0x8"))
        );
        assert!(matches!(
            judge(ip(V6), 9, ip(V6), &reply(0, 9)),
            Reply::Bad(_)
        ));
        assert!(matches!(
            judge(ip(V4), 9, ip(V4), &reply(129, 9)),
            Reply::Bad(_)
        ));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x9e37_79b9_u32;
        for length in 0..64 {
            let bytes: Vec<u8> = (0..length)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let _ = judge(ip(V4), 1, ip(V4), &bytes);
            let _ = judge(ip(V6), 1, ip(V6), &bytes);
        }
    }

    #[test]
    fn group_range_is_read_and_written_as_keepalived_does() {
        let range = GroupRange::parse("1\t0\n").expect("default range");
        assert_eq!(range, GroupRange { first: 1, last: 0 });
        assert_eq!(range.with_first(0), "0\t0\t\n");
        assert_eq!(
            GroupRange::parse("100 2147483647\n"),
            Some(GroupRange {
                first: 100,
                last: 2_147_483_647
            })
        );
        assert_eq!(GroupRange::parse("1\t0"), None, "no newline");
        assert_eq!(GroupRange::parse("1,0\n"), None);
        assert_eq!(GroupRange::parse("4294967296\t0\n"), None);
        assert_eq!(GroupRange::parse(""), None);
    }
}
