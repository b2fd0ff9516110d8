//! Cutting a batch into datagrams the socket's buffers can carry.

use std::ops::Range;

/// What one acknowledgement costs in the receive buffer. The kernel counts each queued
/// message by its socket-buffer "truesize": an acknowledgement is a 512-byte allocation plus
/// the `sk_buff` (768 bytes on x86-64, measured against the kernel in the VM tests); the rest
/// is headroom for extended-acknowledgement messages.
pub(crate) const ACKNOWLEDGEMENT_COST: usize = 1024;

/// The bytes a datagram must leave of the send buffer (`netlink_sendmsg` refuses more than
/// `sk_sndbuf - 32`).
const SEND_RESERVE: usize = 32;

/// The most a datagram may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Requests, so that their acknowledgements fit the receive buffer.
    pub(crate) requests: usize,
    /// Bytes, so that the datagram fits the send buffer.
    pub(crate) bytes: usize,
}

impl Limits {
    /// The limits for the buffer sizes the kernel reports (already doubled).
    pub(crate) fn for_buffers(receive_buffer: usize, send_buffer: usize) -> Self {
        Limits {
            requests: (receive_buffer / ACKNOWLEDGEMENT_COST).max(1),
            bytes: send_buffer.saturating_sub(SEND_RESERVE).max(1),
        }
    }
}

/// Groups consecutive requests of these lengths into datagrams within `limits`; every
/// datagram holds at least one request, even one longer than the byte limit.
pub(crate) fn plan(lengths: &[usize], limits: Limits) -> Vec<Range<usize>> {
    let mut datagrams = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, &length) in lengths.iter().enumerate() {
        let count = index - start;
        if count > 0 && (count >= limits.requests || bytes + length > limits.bytes) {
            datagrams.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += length;
    }
    if start < lengths.len() {
        datagrams.push(start..lengths.len());
    }
    datagrams
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_in_order(datagrams: &[Range<usize>], total: usize) -> bool {
        let mut next = 0;
        for datagram in datagrams {
            if datagram.start != next || datagram.is_empty() {
                return false;
            }
            next = datagram.end;
        }
        next == total
    }

    #[test]
    fn an_empty_batch_needs_no_datagram() {
        assert!(
            plan(
                &[],
                Limits {
                    requests: 10,
                    bytes: 100
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn the_request_limit_cuts_datagrams() {
        let datagrams = plan(
            &[10; 25],
            Limits {
                requests: 10,
                bytes: 1 << 20,
            },
        );
        assert_eq!(datagrams, vec![0..10, 10..20, 20..25]);
    }

    #[test]
    fn the_byte_limit_cuts_datagrams() {
        let lengths = [40, 40, 40, 30, 50];
        let datagrams = plan(
            &lengths,
            Limits {
                requests: 100,
                bytes: 100,
            },
        );
        assert!(covers_in_order(&datagrams, lengths.len()));
        for datagram in &datagrams {
            assert!(
                lengths[datagram.clone()].iter().sum::<usize>() <= 100,
                "{datagram:?} is too long"
            );
        }
        assert_eq!(datagrams, vec![0..2, 2..4, 4..5]);
    }

    #[test]
    fn an_oversized_request_still_goes_alone() {
        let datagrams = plan(
            &[10, 500, 10],
            Limits {
                requests: 100,
                bytes: 100,
            },
        );
        assert_eq!(datagrams, vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn limits_follow_the_buffers() {
        let limits = Limits::for_buffers(8 << 20, 2 << 20);
        assert_eq!(limits.requests, (8 << 20) / ACKNOWLEDGEMENT_COST);
        assert_eq!(limits.bytes, (2 << 20) - SEND_RESERVE);
        let tiny = Limits::for_buffers(100, 10);
        assert_eq!((tiny.requests, tiny.bytes), (1, 1));
    }
}
