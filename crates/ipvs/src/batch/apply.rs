use std::ops::Range;

use netlink_packet_core::{DecodeError, NLM_F_ACK, NLM_F_REQUEST};

use super::plan::{Limits, plan};
use super::{BatchAborted, BatchReport, Outcome};
use crate::change::Change;
use crate::client::incoming::{Incoming, messages};
use crate::client::{Client, kernel_error, receive_error, send_error};
use crate::error::Error;

impl Client {
    /// Applies many changes, as many per datagram as the socket's buffers allow, and reports
    /// what became of each: the kernel applies them in order and goes on after a refusal, like
    /// `ipvsadm -R` goes on after a line the kernel refuses.
    ///
    /// Fails only when the batch could not be carried to its end (a send or receive failed, or
    /// acknowledgements were lost); the error then holds the report so far.
    ///
    /// Only the last request of a datagram asks for an acknowledgement: the kernel answers a refusal
    /// whether asked or not, and takes a datagram's messages in order, so the last one's answer
    /// means every request before it without a refusal was applied. That spares the kernel one
    /// reply per change, which is most of its work on a change beside the change itself.
    pub fn apply_all(&mut self, changes: &[Change]) -> Result<BatchReport, BatchAborted> {
        // Every request in one buffer, so that a datagram is a slice of it.
        let mut bytes = Vec::with_capacity(changes.len() * TYPICAL_REQUEST);
        let requests: Vec<Request> = changes
            .iter()
            .map(|change| {
                let sequence = self.next_sequence();
                let start = bytes.len();
                self.encode_ipvs(change.request(), NLM_F_REQUEST, sequence, &mut bytes);
                Request {
                    sequence,
                    bytes: start..bytes.len(),
                }
            })
            .collect();
        let lengths: Vec<usize> = requests.iter().map(|request| request.bytes.len()).collect();
        let limits = Limits::for_buffers(self.socket.receive_buffer(), self.socket.send_buffer());

        let mut report = BatchReport {
            outcomes: vec![Outcome::NotAttempted; changes.len()],
        };
        for datagram in plan(&lengths, limits) {
            if let Err(cause) =
                self.send_datagram(changes, &mut bytes, &requests, datagram, &mut report)
            {
                return Err(BatchAborted { report, cause });
            }
        }
        Ok(report)
    }

    /// Sends the requests `range` in one datagram and records their acknowledgements.
    fn send_datagram(
        &mut self,
        changes: &[Change],
        bytes: &mut [u8],
        requests: &[Request],
        range: Range<usize>,
        report: &mut BatchReport,
    ) -> Result<(), Error> {
        let operation_of = |index: usize| changes[index].operation();
        let Some(last) = range.clone().last() else {
            return Ok(());
        };
        ask_for_acknowledgement(&mut bytes[requests[last].bytes.clone()]);
        let datagram = &bytes[requests[range.start].bytes.start..requests[last].bytes.end];
        self.socket
            .send(datagram)
            .map_err(|source| send_error(&self.socket, operation_of(range.start), source))?;

        // The requests of the datagram not yet answered are those whose outcome is unknown.
        for index in range.clone() {
            report.outcomes[index] = Outcome::Unknown;
        }
        let timeout = self.socket.timeout();
        while report.outcomes[last] == Outcome::Unknown {
            let first_pending = range
                .clone()
                .find(|&index| report.outcomes[index] == Outcome::Unknown)
                .unwrap_or(range.start);
            let decode_error = |source| Error::Decode {
                operation: operation_of(first_pending),
                source,
            };
            let datagrams = match self.socket.receive() {
                Ok(datagrams) => datagrams,
                Err(source) => {
                    let error = receive_error(operation_of(first_pending), timeout, source);
                    // After an overrun the acknowledgements that were not dropped are still
                    // queued: take them, so that only the lost ones stay unknown.
                    if matches!(error, Error::Overrun { .. }) {
                        if let Ok(queued) = self.socket.receive_queued() {
                            for datagram in queued.iter() {
                                record(datagram, changes, requests, range.clone(), report)
                                    .map_err(decode_error)?;
                            }
                        }
                    }
                    return Err(error);
                }
            };
            for datagram in datagrams.iter() {
                record(datagram, changes, requests, range.clone(), report).map_err(decode_error)?;
            }
        }
        // The last request was answered: the others that were not refused were applied.
        for outcome in &mut report.outcomes[range] {
            if *outcome == Outcome::Unknown {
                *outcome = Outcome::Applied;
            }
        }
        Ok(())
    }
}

/// The length of most requests (a destination is 168 bytes), to size the buffer once.
const TYPICAL_REQUEST: usize = 168;

/// One encoded request of a batch: its sequence number and where its bytes lie.
struct Request {
    sequence: u32,
    bytes: Range<usize>,
}

/// Sets `NLM_F_ACK` in the flags of the netlink message `request` starts with.
fn ask_for_acknowledgement(request: &mut [u8]) {
    if let Some(flags) = request.get_mut(6..8) {
        let value = u16::from_ne_bytes([flags[0], flags[1]]) | NLM_F_ACK;
        flags.copy_from_slice(&value.to_ne_bytes());
    }
}

/// Records the acknowledgements a datagram holds for the requests of `range` still pending.
fn record(
    datagram: &[u8],
    changes: &[Change],
    requests: &[Request],
    range: Range<usize>,
    report: &mut BatchReport,
) -> Result<(), DecodeError> {
    for incoming in messages(datagram) {
        let incoming = incoming?;
        let Incoming::Ack { header, result } = incoming else {
            continue;
        };
        let Some(index) = request_index(requests, range.clone(), header.sequence_number) else {
            continue;
        };
        if report.outcomes[index] != Outcome::Unknown {
            continue;
        }
        report.outcomes[index] = match result {
            Ok(()) => Outcome::Applied,
            Err(refusal) => Outcome::Failed(kernel_error(changes[index].operation(), refusal)),
        };
    }
    Ok(())
}

/// The request of `range` with this sequence number. The numbers of a batch go up by one, but
/// where they wrap past 0, so the distance from the first finds the request but there.
fn request_index(requests: &[Request], range: Range<usize>, sequence: u32) -> Option<usize> {
    let first = requests.get(range.start)?.sequence;
    let guess = range
        .start
        .checked_add(sequence.wrapping_sub(first) as usize)?;
    if range.contains(&guess) && requests[guess].sequence == sequence {
        return Some(guess);
    }
    range
        .into_iter()
        .find(|&index| requests[index].sequence == sequence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(sequences: &[u32]) -> Vec<Request> {
        sequences
            .iter()
            .map(|&sequence| Request {
                sequence,
                bytes: 0..0,
            })
            .collect()
    }

    #[test]
    fn requests_are_found_by_sequence_number_across_the_wrap() {
        let batch = requests(&[7, u32::MAX - 1, u32::MAX, 1, 2, 3]);
        for (index, request) in batch.iter().enumerate().skip(1) {
            assert_eq!(request_index(&batch, 1..6, request.sequence), Some(index));
        }
        // Outside the datagram, or never sent.
        assert_eq!(request_index(&batch, 1..6, 7), None);
        assert_eq!(request_index(&batch, 1..6, 4), None);
        assert_eq!(request_index(&batch, 3..3, 1), None);
    }
}
