//! One request, its answer: sending a message with the next sequence number and collecting
//! what the kernel sends back for that number, up to the acknowledgement or the end of a dump.

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{
    Emitable, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlMessage};

use super::Client;
use super::incoming::{Incoming, Refusal, messages};
use crate::error::{Error, KernelError, Operation, Result};
use crate::message::IpvsMessage;

/// How many times a dump is restarted when the kernel flags it inconsistent.
const DUMP_ATTEMPTS: u32 = 5;

/// What a request is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Replies, if any, then an acknowledgement.
    Reply,
    /// A multipart dump ending with `NLMSG_DONE`.
    Dump,
}

/// The replies to one request.
#[derive(Debug, Default)]
pub(crate) struct Replies {
    /// Each reply's genl header and attributes.
    pub(crate) payloads: Vec<Vec<u8>>,
    /// Whether the kernel flagged the dump as interrupted by a change (`NLM_F_DUMP_INTR`).
    pub(crate) interrupted: bool,
}

impl Client {
    /// The sequence number for the next request (never 0, which the kernel uses for its own
    /// notifications).
    pub(crate) fn next_sequence(&mut self) -> u32 {
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.checked_add(1).unwrap_or(1);
        sequence
    }

    /// One netlink request carrying a genl message, as bytes.
    pub(crate) fn encode<F>(&self, message: GenlMessage<F>, flags: u16, sequence: u32) -> Vec<u8>
    where
        F: GenlFamily + Emitable + Debug,
    {
        let mut bytes = Vec::new();
        self.encode_into(message, flags, sequence, &mut bytes);
        bytes
    }

    /// Appends one netlink request carrying a genl message to `bytes`.
    pub(crate) fn encode_into<F>(
        &self,
        message: GenlMessage<F>,
        flags: u16,
        sequence: u32,
        bytes: &mut Vec<u8>,
    ) where
        F: GenlFamily + Emitable + Debug,
    {
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = sequence;
        header.port_number = self.socket.port_id();
        let mut request = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        request.finalize();
        let start = bytes.len();
        bytes.resize(start + request.buffer_len(), 0);
        request.serialize(&mut bytes[start..]);
    }

    /// Wraps an IPVS message for our family.
    pub(crate) fn ipvs_message(&self, message: IpvsMessage) -> GenlMessage<IpvsMessage> {
        let mut genl = GenlMessage::from_payload(message);
        genl.set_resolved_family_id(self.family_id);
        genl
    }

    /// Sends a request and collects its replies.
    pub(crate) fn exchange<F>(
        &mut self,
        operation: Operation,
        message: GenlMessage<F>,
        expect: Expect,
    ) -> Result<Replies>
    where
        F: GenlFamily + Emitable + Debug,
    {
        let family = message.family_id();
        let flags = match expect {
            Expect::Reply => NLM_F_REQUEST | NLM_F_ACK,
            Expect::Dump => NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP,
        };
        let sequence = self.next_sequence();
        let request = self.encode(message, flags, sequence);
        self.socket
            .send(&request)
            .map_err(|source| send_error(&self.socket, operation, source))?;
        self.collect(operation, family, sequence)
    }

    /// Receives until the request `sequence` is acknowledged or its dump is done. Messages
    /// of other sequence numbers are answers to requests given up on, and are dropped.
    fn collect(&mut self, operation: Operation, family: u16, sequence: u32) -> Result<Replies> {
        let mut replies = Replies::default();
        let timeout = self.socket.timeout();
        loop {
            let datagrams = self
                .socket
                .receive()
                .map_err(|source| receive_error(operation, timeout, source))?;
            for datagram in datagrams.iter() {
                for incoming in messages(datagram) {
                    let incoming =
                        incoming.map_err(|source| Error::Decode { operation, source })?;
                    if incoming.header().sequence_number != sequence {
                        continue;
                    }
                    match incoming {
                        Incoming::Data { header, payload } if header.message_type == family => {
                            replies.payloads.push(payload.to_vec());
                            replies.interrupted |= header.flags & NLM_F_DUMP_INTR != 0;
                        }
                        Incoming::Ack { result: Ok(()), .. }
                        | Incoming::Done { result: Ok(()), .. } => {
                            return Ok(replies);
                        }
                        Incoming::Ack {
                            result: Err(refusal),
                            ..
                        }
                        | Incoming::Done {
                            result: Err(refusal),
                            ..
                        } => {
                            return Err(kernel_error(operation, refusal).into());
                        }
                        Incoming::Data { .. } | Incoming::Ignored { .. } => {}
                    }
                }
            }
        }
    }

    /// Sends an IPVS request and decodes its replies; a dump the kernel flags as interrupted
    /// is read again.
    pub(crate) fn ipvs_exchange(
        &mut self,
        operation: Operation,
        message: IpvsMessage,
        expect: Expect,
    ) -> Result<Vec<IpvsMessage>> {
        for _ in 0..DUMP_ATTEMPTS {
            let replies = self.exchange(operation, self.ipvs_message(message.clone()), expect)?;
            if !replies.interrupted {
                return replies
                    .payloads
                    .iter()
                    .map(|payload| decode_ipvs(operation, self.family_id, payload))
                    .collect();
            }
        }
        Err(Error::DumpInterrupted {
            operation,
            attempts: DUMP_ATTEMPTS,
        })
    }
}

/// Decodes the genl header and attributes of an IPVS reply.
fn decode_ipvs(operation: Operation, family: u16, payload: &[u8]) -> Result<IpvsMessage> {
    GenlMessage::<IpvsMessage>::parse_with_param(payload, family)
        .map(|genl| genl.payload)
        .map_err(|source| Error::Decode { operation, source })
}

pub(crate) fn kernel_error(operation: Operation, refusal: Refusal) -> KernelError {
    KernelError {
        operation,
        errno: refusal.errno,
        message: refusal.message,
        offset: refusal.offset,
    }
}

/// Names a failed send; a full send buffer for longer than the timeout is a timeout.
pub(crate) fn send_error(
    socket: &super::socket::NetlinkSocket,
    operation: Operation,
    source: io::Error,
) -> Error {
    match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout {
            operation,
            timeout: socket.timeout(),
        },
        _ => Error::Send { operation, source },
    }
}

/// Names a failed receive: the timeout, an overrun (`ENOBUFS`: the kernel dropped answers),
/// or anything else.
pub(crate) fn receive_error(
    operation: Operation,
    timeout: std::time::Duration,
    source: io::Error,
) -> Error {
    match (source.kind(), source.raw_os_error()) {
        (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, _) => {
            Error::Timeout { operation, timeout }
        }
        (_, Some(libc::ENOBUFS)) => Error::Overrun { operation },
        _ => Error::Receive { operation, source },
    }
}
