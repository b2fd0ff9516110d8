//! The entry point of the fuzz target (`crates/ipvs/fuzz`): everything the library does with
//! bytes from the kernel. None of it may panic, and whatever decodes must survive a re-encode.

use netlink_packet_core::{Emitable, ParseableParametrized};
use netlink_packet_generic::{GenlHeader, GenlMessage};

use crate::client::incoming::{Incoming, messages};
use crate::message::IpvsMessage;
use crate::model::AddressFamily;

/// Decodes a datagram as if the kernel had sent it, down to the model, and checks that every
/// IPVS message in it decodes again to itself once re-encoded.
pub fn decode_datagram(datagram: &[u8]) {
    for message in messages(datagram) {
        let Ok(Incoming::Data { header, payload }) = message else {
            continue;
        };
        let _ = crate::client::family_id(payload);
        let Ok(genl) = GenlMessage::<IpvsMessage>::parse_with_param(payload, header.message_type)
        else {
            continue;
        };
        let reply = genl.payload;
        let _ = reply.to_service();
        let _ = reply.to_destination(AddressFamily::Ipv4);
        let _ = reply.to_destination(AddressFamily::Ipv6);
        let _ = reply.to_daemon();
        let _ = reply.to_timeouts();
        let _ = reply.to_info();

        let mut bytes = vec![0; reply.buffer_len()];
        reply.emit(&mut bytes);
        let genl_header = GenlHeader {
            cmd: reply.command.to_raw(),
            version: genl.header.version,
        };
        let again = IpvsMessage::parse_with_param(bytes.as_slice(), genl_header);
        assert_eq!(
            again.ok().as_ref(),
            Some(&reply),
            "a decoded message did not survive a re-encode"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::decode_datagram;
    use crate::fixtures::{Exchange, all_names};

    /// A deterministic stand-in for the fuzzer on stable Rust: every captured datagram, and many
    /// mutations of each (bytes changed, lengths bent, cut short), through the decoders.
    #[test]
    fn mutated_kernel_answers_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut runs = 0;
        for name in all_names() {
            for datagram in Exchange::load(&name).received {
                decode_datagram(&datagram);
                for _ in 0..200 {
                    let mut mutated = datagram.clone();
                    for _ in 0..(random() % 4 + 1) {
                        let index = (random() % mutated.len() as u64) as usize;
                        mutated[index] = match random() % 4 {
                            0 => 0,
                            1 => 0xff,
                            2 => mutated[index].wrapping_add(4),
                            _ => random() as u8,
                        };
                    }
                    if random() % 5 == 0 {
                        mutated.truncate((random() % mutated.len() as u64) as usize);
                    }
                    decode_datagram(&mutated);
                    runs += 1;
                }
            }
        }
        assert!(runs > 10_000, "only {runs} mutations");
    }
}
