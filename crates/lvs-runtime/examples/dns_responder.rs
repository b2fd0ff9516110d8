//! A DNS server for the VM suites' `DNS_CHECK`s: every query is answered at once with its own bytes
//! flagged as a response with the response code written in a file (0 NOERROR, 2 SERVFAIL, …; read
//! for each query, so that a test changes it without a moment when nothing listens), which is all a
//! `DNS_CHECK` looks at (the id, the response flag and the code).
//!
//! `dns_responder ADDRESS:PORT RCODE_FILE`

use std::net::UdpSocket;
use std::process::ExitCode;

/// The response flag (QR), in the header's third byte.
const RESPONSE: u8 = 0x80;

fn main() -> ExitCode {
    let mut arguments = std::env::args().skip(1);
    let (Some(address), Some(rcode_file)) = (arguments.next(), arguments.next()) else {
        eprintln!("usage: dns_responder ADDRESS:PORT RCODE_FILE");
        return ExitCode::from(2);
    };
    let socket = match UdpSocket::bind(&address) {
        Ok(socket) => socket,
        Err(error) => {
            eprintln!("dns_responder: {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut datagram = [0u8; 512];
    loop {
        let (length, peer) = match socket.recv_from(&mut datagram) {
            Ok(received) => received,
            Err(error) => {
                eprintln!("dns_responder: {error}");
                return ExitCode::FAILURE;
            }
        };
        // Shorter than a header: not a query.
        if length < 12 {
            continue;
        }
        let Some(rcode) = std::fs::read_to_string(&rcode_file)
            .ok()
            .and_then(|text| text.trim().parse::<u8>().ok())
            .filter(|&code| code < 16)
        else {
            eprintln!("dns_responder: {rcode_file} holds no response code (0 to 15)");
            continue;
        };
        datagram[2] |= RESPONSE;
        datagram[3] = (datagram[3] & 0xf0) | rcode;
        if let Err(error) = socket.send_to(&datagram[..length], peer) {
            eprintln!("dns_responder: {peer}: {error}");
        }
    }
}
