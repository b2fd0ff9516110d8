//! Times the user-space part of `ipvsadm -R` on a rule file, without a kernel: every line read,
//! parsed and checked as the restore does, and the requests of each batch of 4096 encoded.
//!
//! `cargo run --release -p ipvsadm-cli --example parse_rules -- RULES [REPEATS]`

use std::process::ExitCode;
use std::time::Duration;

use ipvs::Change;
use ipvsadm_cli::args::{self, Parsed, Source};
use ipvsadm_cli::restore::RuleReader;
use ipvsadm_cli::run::to_change;
use netlink_packet_core::NLM_F_REQUEST;

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

/// How many changes `ipvsadm -R` sends in one batch.
const BATCH: usize = 4096;

/// Encodes a batch's requests as the library does, into one buffer; returns its length.
fn encode(changes: &[Change], sequence: &mut u32) -> usize {
    let mut bytes = Vec::with_capacity(changes.len() * 168);
    for change in changes {
        *sequence += 1;
        change
            .request()
            .encode(30, NLM_F_REQUEST, *sequence, 0, &mut bytes);
    }
    bytes.len()
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
        let (mut parse, mut encoding) = (Duration::ZERO, Duration::ZERO);
        let (mut count, mut bytes, mut sequence) = (0, 0, 0);
        let mut mark = cpu_time();
        let mut reader = RuleReader::new(input.as_slice());
        let mut batch = Vec::new();
        while let Ok(Some(line)) = reader.next_line() {
            if line.words.is_empty() {
                continue;
            }
            if let Parsed::Run(invocation) =
                args::parse_words("ipvsadm", &line.words, Source::RestoreInput)
            {
                if let Ok(change) = to_change(invocation.command) {
                    batch.push(change);
                }
            }
            if batch.len() == BATCH {
                let parsed = cpu_time();
                parse += parsed - mark;
                count += batch.len();
                bytes += encode(&batch, &mut sequence);
                batch.clear();
                mark = cpu_time();
                encoding += mark - parsed;
            }
        }
        let parsed = cpu_time();
        parse += parsed - mark;
        count += batch.len();
        bytes += encode(&batch, &mut sequence);
        encoding += cpu_time() - parsed;
        println!(
            "{count} changes, {bytes} bytes: parse {:.1} ms, encode {:.1} ms",
            parse.as_secs_f64() * 1e3,
            encoding.as_secs_f64() * 1e3
        );
    }
    ExitCode::SUCCESS
}
