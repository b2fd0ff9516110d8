//! What arrives from the kernel, message by message: replies of a family, acknowledgements
//! (with the errno and the extended-acknowledgement attributes), and the end of dumps.

use netlink_packet_core::{
    DecodeError, DoneBuffer, ErrorBuffer, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, NetlinkBuffer, NetlinkHeader, NlasIterator, Parseable,
};

/// The extended-acknowledgement attributes (`enum nlmsgerr_attrs`) we read.
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;

/// The size of a netlink message header.
const HEADER_LEN: usize = 16;

/// A refusal from the kernel, before it is tied to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The positive errno.
    pub(crate) errno: i32,
    /// `NLMSGERR_ATTR_MSG`.
    pub(crate) message: Option<String>,
    /// `NLMSGERR_ATTR_OFFS`.
    pub(crate) offset: Option<u32>,
}

/// One message from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming<'a> {
    /// A message of a generic-netlink family: a reply or a dump entry, its genl header and
    /// attributes still encoded.
    Data {
        header: NetlinkHeader,
        payload: &'a [u8],
    },
    /// The acknowledgement of a request: success, or the kernel's refusal.
    Ack {
        header: NetlinkHeader,
        result: Result<(), Refusal>,
    },
    /// The end of a dump, with the dump's own status.
    Done {
        header: NetlinkHeader,
        result: Result<(), Refusal>,
    },
    /// `NLMSG_NOOP` or `NLMSG_OVERRUN`: nothing to act on.
    Ignored { header: NetlinkHeader },
}

impl Incoming<'_> {
    /// The header of the message.
    pub(crate) fn header(&self) -> &NetlinkHeader {
        match self {
            Incoming::Data { header, .. }
            | Incoming::Ack { header, .. }
            | Incoming::Done { header, .. }
            | Incoming::Ignored { header } => header,
        }
    }
}

/// The messages of one datagram, in order. A malformed message ends the iteration with an
/// error, since what follows it cannot be framed.
pub(crate) fn messages(datagram: &[u8]) -> impl Iterator<Item = Result<Incoming<'_>, DecodeError>> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let result = frame(rest).map(|(message, length)| {
            // Messages are 4-byte aligned within a datagram; the last one may lack its padding.
            rest = rest.get(align(length)..).unwrap_or_default();
            message
        });
        if result.is_err() {
            rest = &[];
        }
        Some(result)
    })
}

fn align(length: usize) -> usize {
    (length + 3) & !3
}

/// Decodes the message at the start of `bytes` and returns it with its length.
fn frame(bytes: &[u8]) -> Result<(Incoming<'_>, usize), DecodeError> {
    let buffer = NetlinkBuffer::new_checked(bytes)?;
    let header = NetlinkHeader::parse(&buffer)?;
    let length = header.length as usize;
    let payload = bytes.get(HEADER_LEN..length).unwrap_or_default();
    let message = match header.message_type {
        NLMSG_ERROR => Incoming::Ack {
            header,
            result: acknowledgement(&header, payload)?,
        },
        NLMSG_DONE => Incoming::Done {
            header,
            result: done(&header, payload)?,
        },
        NLMSG_NOOP | NLMSG_OVERRUN => Incoming::Ignored { header },
        _ => Incoming::Data { header, payload },
    };
    Ok((message, length))
}

/// An `NLMSG_ERROR` payload: the error code, the request's header (and the request itself
/// unless the kernel capped it), then the extended-acknowledgement attributes.
fn acknowledgement(
    header: &NetlinkHeader,
    payload: &[u8],
) -> Result<Result<(), Refusal>, DecodeError> {
    let buffer = ErrorBuffer::new_checked(payload)?;
    let Some(code) = buffer.code() else {
        return Ok(Ok(()));
    };
    let echoed = buffer.payload();
    let echoed_length = if header.flags & NLM_F_CAPPED != 0 {
        HEADER_LEN
    } else {
        let length = echoed.get(..4).map_or(0, |raw| {
            u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]])
        });
        align(length as usize)
    };
    let attributes = if header.flags & NLM_F_ACK_TLVS != 0 {
        echoed.get(echoed_length..)
    } else {
        None
    };
    Ok(Err(refusal(code.get(), attributes.unwrap_or_default())))
}

/// An `NLMSG_DONE` payload: the dump's status, then extended-acknowledgement attributes.
fn done(header: &NetlinkHeader, payload: &[u8]) -> Result<Result<(), Refusal>, DecodeError> {
    // Some senders end a dump with an empty NLMSG_DONE: that is a success.
    if payload.is_empty() {
        return Ok(Ok(()));
    }
    let buffer = DoneBuffer::new_checked(payload)?;
    if buffer.code() >= 0 {
        return Ok(Ok(()));
    }
    let attributes = if header.flags & NLM_F_ACK_TLVS != 0 {
        buffer.extended_ack()
    } else {
        &[]
    };
    Ok(Err(refusal(buffer.code(), attributes)))
}

fn refusal(code: i32, attributes: &[u8]) -> Refusal {
    let mut refusal = Refusal {
        errno: code.checked_neg().unwrap_or(i32::MAX),
        message: None,
        offset: None,
    };
    // The attributes only add detail: a malformed one is skipped, never fatal.
    for attribute in NlasIterator::new(attributes).flatten() {
        let value = attribute.value();
        match attribute.kind() {
            NLMSGERR_ATTR_MSG => {
                let end = value
                    .iter()
                    .position(|&byte| byte == 0)
                    .unwrap_or(value.len());
                refusal.message = Some(String::from_utf8_lossy(&value[..end]).into_owned());
            }
            NLMSGERR_ATTR_OFFS => {
                refusal.offset = value.try_into().ok().map(u32::from_ne_bytes);
            }
            _ => {}
        }
    }
    refusal
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::NLM_F_REQUEST;

    use super::*;

    /// `NLM_F_MULTI`, which netlink-packet-core does not name.
    const NLM_F_MULTI: u16 = 0x2;

    fn message(message_type: u16, flags: u16, sequence: u32, payload: &[u8]) -> Vec<u8> {
        let length = (HEADER_LEN + payload.len()) as u32;
        let mut bytes = Vec::new();
        bytes.extend(length.to_ne_bytes());
        bytes.extend(message_type.to_ne_bytes());
        bytes.extend(flags.to_ne_bytes());
        bytes.extend(sequence.to_ne_bytes());
        bytes.extend(1234u32.to_ne_bytes());
        bytes.extend(payload);
        bytes.resize(align(bytes.len()), 0);
        bytes
    }

    fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend(((4 + value.len()) as u16).to_ne_bytes());
        bytes.extend(kind.to_ne_bytes());
        bytes.extend(value);
        bytes.resize(align(bytes.len()), 0);
        bytes
    }

    /// An error for a request of `request_length` bytes, the request echoed or capped.
    fn error(errno: i32, flags: u16, echoed: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut payload = (-errno).to_ne_bytes().to_vec();
        payload.extend(echoed);
        payload.extend(tlvs);
        message(NLMSG_ERROR, flags, 7, &payload)
    }

    fn only(datagram: &[u8]) -> Incoming<'_> {
        let mut all: Vec<_> = messages(datagram).collect();
        assert_eq!(all.len(), 1);
        all.remove(0).expect("decodes")
    }

    #[test]
    fn a_capped_error_with_extended_acknowledgement() {
        let request = message(0x20, NLM_F_REQUEST, 7, &[]);
        let tlvs = [
            attribute(NLMSGERR_ATTR_MSG, b"bad attribute\0"),
            attribute(NLMSGERR_ATTR_OFFS, &20u32.to_ne_bytes()),
        ]
        .concat();
        let datagram = error(
            libc::EINVAL,
            NLM_F_CAPPED | NLM_F_ACK_TLVS,
            &request[..HEADER_LEN],
            &tlvs,
        );
        let Incoming::Ack { header, result } = only(&datagram) else {
            panic!("not an ack")
        };
        assert_eq!(header.sequence_number, 7);
        assert_eq!(
            result,
            Err(Refusal {
                errno: libc::EINVAL,
                message: Some("bad attribute".into()),
                offset: Some(20)
            })
        );
    }

    #[test]
    fn an_uncapped_error_skips_the_echoed_request() {
        // The echoed request holds an attribute that looks like an extended-ack message.
        let request = message(
            0x20,
            NLM_F_REQUEST,
            7,
            &attribute(NLMSGERR_ATTR_MSG, b"not me\0"),
        );
        let tlvs = attribute(NLMSGERR_ATTR_MSG, b"me\0");
        let datagram = error(libc::ENOENT, NLM_F_ACK_TLVS, &request, &tlvs);
        let Incoming::Ack { result, .. } = only(&datagram) else {
            panic!("not an ack")
        };
        assert_eq!(
            result,
            Err(Refusal {
                errno: libc::ENOENT,
                message: Some("me".into()),
                offset: None
            })
        );
        // Without NLM_F_ACK_TLVS nothing after the request is read.
        let datagram = error(libc::ENOENT, 0, &request, &tlvs);
        let Incoming::Ack { result, .. } = only(&datagram) else {
            panic!("not an ack")
        };
        assert_eq!(
            result,
            Err(Refusal {
                errno: libc::ENOENT,
                message: None,
                offset: None
            })
        );
    }

    #[test]
    fn a_success_and_a_dump_in_one_datagram() {
        let datagram = [
            message(0x20, NLM_F_MULTI, 9, &[1, 1, 0, 0]),
            message(0x20, NLM_F_MULTI, 9, &[1, 1, 0, 0, 8, 0, 1, 0]),
            message(NLMSG_DONE, NLM_F_MULTI, 9, &0i32.to_ne_bytes()),
            error(0, 0, &[0; 16], &[]),
        ]
        .concat();
        let all: Vec<Incoming<'_>> = messages(&datagram).map(|m| m.expect("decodes")).collect();
        assert!(matches!(
            all[0],
            Incoming::Data {
                payload: [1, 1, 0, 0],
                ..
            }
        ));
        assert!(matches!(
            all[1],
            Incoming::Data {
                payload: [1, 1, 0, 0, 8, 0, 1, 0],
                ..
            }
        ));
        assert!(matches!(all[2], Incoming::Done { result: Ok(()), .. }));
        assert!(matches!(all[3], Incoming::Ack { result: Ok(()), .. }));
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn a_dump_can_end_in_error() {
        let datagram = message(NLMSG_DONE, NLM_F_MULTI, 9, &(-libc::EMSGSIZE).to_ne_bytes());
        let Incoming::Done { result, .. } = only(&datagram) else {
            panic!("not a done")
        };
        assert_eq!(result.map_err(|refusal| refusal.errno), Err(libc::EMSGSIZE));
        let empty = message(NLMSG_DONE, NLM_F_MULTI, 9, &[]);
        assert!(matches!(
            only(&empty),
            Incoming::Done { result: Ok(()), .. }
        ));
    }

    #[test]
    fn bad_framing_ends_the_datagram_with_an_error() {
        let mut datagram = message(0x20, 0, 1, &[1, 1, 0, 0]);
        datagram.extend(message(0x20, 0, 2, &[1, 1, 0, 0]));
        // The second message claims more bytes than there are.
        datagram[20] = 200;
        let all: Vec<_> = messages(&datagram).collect();
        assert_eq!(all.len(), 2);
        assert!(all[0].is_ok() && all[1].is_err());
        // A length shorter than a header.
        let mut short = message(0x20, 0, 1, &[]);
        short[0] = 8;
        assert!(messages(&short).next().expect("one").is_err());
        // An error message too short for its code.
        assert!(
            messages(&message(NLMSG_ERROR, 0, 1, &[1, 2]))
                .next()
                .expect("one")
                .is_err()
        );
        assert!(messages(&[]).next().is_none());
    }
}
