//! Times the user-space part of `ipvsadm -R` on a rule file, without a kernel: every line read,
//! parsed and checked as the restore does, and its request encoded.
//!
//! `cargo run --release -p ipvsadm-cli --example parse_rules -- RULES [REPEATS]`

use std::process::ExitCode;
use std::time::Duration;

use ipvsadm_cli::args::{self, Parsed, Source};
use ipvsadm_cli::restore::RuleReader;
use ipvsadm_cli::run::to_change;
use netlink_packet_core::{NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;

/// The CPU time this thread has used: the machine may be busy with other work.
fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid out-pointer for the clock's value.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn main() -> ExitCode {
    let mut arguments = std::env::args().skip(1);
    let Some(path) = arguments.next() else {
        eprintln!("usage: parse_rules RULES [REPEATS]");
        return ExitCode::from(2);
    };
    let repeats: usize = arguments.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let input = match std::fs::read(&path) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("parse_rules: {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    for _ in 0..repeats {
        let started = cpu_time();
        let mut reader = RuleReader::new(input.as_slice());
        let mut changes = Vec::new();
        while let Ok(Some(line)) = reader.next_line() {
            if line.words.is_empty() {
                continue;
            }
            if let Parsed::Run(invocation) =
                args::parse_words("ipvsadm", &line.words, Source::RestoreInput)
            {
                if let Ok(change) = to_change(invocation.command) {
                    changes.push(change);
                }
            }
        }
        let parsed = cpu_time() - started;
        // As the library's batches do: every request appended to one buffer.
        let mut bytes = Vec::with_capacity(changes.len() * 168);
        for (sequence, change) in changes.iter().enumerate() {
            let mut genl = GenlMessage::from_payload(change.to_message());
            genl.set_resolved_family_id(30);
            let mut header = NetlinkHeader::default();
            header.flags = NLM_F_REQUEST;
            header.sequence_number = sequence as u32;
            let mut request = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
            request.finalize();
            let start = bytes.len();
            bytes.resize(start + request.buffer_len(), 0);
            request.serialize(&mut bytes[start..]);
        }
        let bytes = bytes.len();
        let total = cpu_time() - started;
        println!(
            "{} changes, {bytes} bytes: parse {:.1} ms, encode {:.1} ms",
            changes.len(),
            parsed.as_secs_f64() * 1e3,
            (total - parsed).as_secs_f64() * 1e3
        );
    }
    ExitCode::SUCCESS
}
