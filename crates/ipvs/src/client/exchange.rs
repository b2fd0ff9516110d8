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
use super::socket::{NetlinkSocket, Slots};
use crate::error::{Error, KernelError, Operation, Result};
use crate::message::{IpvsMessage, Request};

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

/// Which of the client's sockets carries a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// The socket of everything else, which receives into 32 KiB slots: a long dump (the
    /// services) comes in few datagrams, and the kernel walks its table from the start for
    /// each datagram of a dump.
    Main,
    /// A second socket for the destination dumps, opened on first use, which receives into
    /// page-sized slots: the kernel sizes each datagram of a dump after the largest buffer
    /// its socket ever received into, and with one destination dump per service that
    /// allocation is most of the cost of a read (see [`super::socket::page_slot`]).
    Destinations,
}

impl Client {
    /// The sequence number for the next request (never 0, which the kernel uses for its own
    /// notifications).
    pub(crate) fn next_sequence(&mut self) -> u32 {
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.checked_add(1).unwrap_or(1);
        sequence
    }

    /// The socket of `channel`, opened now if this is its first use.
    fn socket_of(&mut self, channel: Channel) -> Result<&mut NetlinkSocket> {
        match channel {
            Channel::Main => Ok(&mut self.socket),
            Channel::Destinations => {
                let socket = match self.destination_socket.take() {
                    Some(socket) => socket,
                    None => NetlinkSocket::open(&self.options, Slots::destinations())
                        .map_err(|source| Error::Socket { source })?,
                };
                Ok(self.destination_socket.insert(socket))
            }
        }
    }

    /// Appends one IPVS request, for the main socket, to `bytes`.
    pub(crate) fn encode_ipvs(
        &self,
        request: Request<'_>,
        flags: u16,
        sequence: u32,
        bytes: &mut Vec<u8>,
    ) {
        request.encode(
            self.family_id,
            flags,
            sequence,
            self.socket.port_id(),
            bytes,
        );
    }

    /// Sends a request of another generic-netlink family on the main socket and returns each
    /// reply's genl header and attributes; for requests that are not dumps.
    pub(crate) fn exchange<F>(
        &mut self,
        operation: Operation,
        message: GenlMessage<F>,
    ) -> Result<Vec<Vec<u8>>>
    where
        F: GenlFamily + Emitable + Debug,
    {
        let family = message.family_id();
        let mut payloads = Vec::new();
        self.exchange_each(
            Channel::Main,
            operation,
            family,
            Expect::Reply,
            |flags, sequence, port_id, bytes| encode_into(message, flags, sequence, port_id, bytes),
            |payload| {
                payloads.push(payload.to_vec());
                Ok(())
            },
        )?;
        Ok(payloads)
    }

    /// Sends a request of `family` on the socket of `channel`, written by `encode` (given its
    /// flags, sequence number and the socket's port id), and hands each reply (its genl header
    /// and attributes) to `reply` as it arrives, without copying it; returns whether the
    /// kernel flagged the dump as interrupted by a change (`NLM_F_DUMP_INTR`). When `reply`
    /// fails, the rest of the answer is still read, so that the socket is ready for the next
    /// request, and the first failure is returned.
    fn exchange_each(
        &mut self,
        channel: Channel,
        operation: Operation,
        family: u16,
        expect: Expect,
        encode: impl FnOnce(u16, u32, u32, &mut Vec<u8>),
        reply: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<bool> {
        let flags = match expect {
            Expect::Reply => NLM_F_REQUEST | NLM_F_ACK,
            Expect::Dump => NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP,
        };
        let sequence = self.next_sequence();
        let socket = self.socket_of(channel)?;
        let mut request = Vec::new();
        encode(flags, sequence, socket.port_id(), &mut request);
        socket
            .send(&request)
            .map_err(|source| send_error(socket, operation, source))?;
        collect(socket, operation, family, sequence, reply)
    }

    /// Sends an IPVS request on the main socket and decodes its replies; a dump the kernel
    /// flags as interrupted is read again.
    pub(crate) fn ipvs_exchange(
        &mut self,
        operation: Operation,
        request: Request<'_>,
        expect: Expect,
    ) -> Result<Vec<IpvsMessage>> {
        self.ipvs_exchange_on(Channel::Main, operation, request, expect, Ok)
    }

    /// [`Client::ipvs_exchange`] on the socket of `channel`, turning each reply into a `T`
    /// with `convert` as it arrives.
    pub(crate) fn ipvs_exchange_on<T>(
        &mut self,
        channel: Channel,
        operation: Operation,
        request: Request<'_>,
        expect: Expect,
        mut convert: impl FnMut(IpvsMessage) -> Result<T>,
    ) -> Result<Vec<T>> {
        let family = self.family_id;
        for _ in 0..DUMP_ATTEMPTS {
            let mut items = Vec::new();
            let interrupted = self.exchange_each(
                channel,
                operation,
                family,
                expect,
                |flags, sequence, port_id, bytes| {
                    request.encode(family, flags, sequence, port_id, bytes)
                },
                |payload| {
                    items.push(convert(decode_ipvs(operation, family, payload)?)?);
                    Ok(())
                },
            )?;
            if !interrupted {
                return Ok(items);
            }
        }
        Err(Error::DumpInterrupted {
            operation,
            attempts: DUMP_ATTEMPTS,
        })
    }
}

/// Appends one netlink request carrying a genl message of another family (the family
/// query), from the socket of `port_id`, to `bytes`.
fn encode_into<F>(
    message: GenlMessage<F>,
    flags: u16,
    sequence: u32,
    port_id: u32,
    bytes: &mut Vec<u8>,
) where
    F: GenlFamily + Emitable + Debug,
{
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = sequence;
    header.port_number = port_id;
    let mut request = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
    request.finalize();
    let start = bytes.len();
    bytes.resize(start + request.buffer_len(), 0);
    request.serialize(&mut bytes[start..]);
}

/// Receives until the request `sequence` is acknowledged or its dump is done, handing each
/// reply to `reply`; returns whether the dump was flagged as interrupted. Messages of other
/// sequence numbers are answers to requests given up on, and are dropped.
fn collect(
    socket: &mut NetlinkSocket,
    operation: Operation,
    family: u16,
    sequence: u32,
    mut reply: impl FnMut(&[u8]) -> Result<()>,
) -> Result<bool> {
    let mut interrupted = false;
    let mut failure = None;
    let timeout = socket.timeout();
    loop {
        let datagrams = socket
            .receive()
            .map_err(|source| receive_error(operation, timeout, source))?;
        for datagram in datagrams.iter() {
            for incoming in messages(datagram) {
                let incoming = incoming.map_err(|source| Error::Decode { operation, source })?;
                if incoming.header().sequence_number != sequence {
                    continue;
                }
                match incoming {
                    Incoming::Data { header, payload } if header.message_type == family => {
                        interrupted |= header.flags & NLM_F_DUMP_INTR != 0;
                        if failure.is_none() {
                            failure = reply(payload).err();
                        }
                    }
                    Incoming::Ack { result: Ok(()), .. }
                    | Incoming::Done { result: Ok(()), .. } => {
                        return match failure {
                            Some(error) => Err(error),
                            None => Ok(interrupted),
                        };
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
pub(crate) fn send_error(socket: &NetlinkSocket, operation: Operation, source: io::Error) -> Error {
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
