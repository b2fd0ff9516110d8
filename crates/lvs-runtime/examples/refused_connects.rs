//! The kernel's share of a refused `TCP_CHECK`, alone: ATTEMPTS connection attempts a second for
//! SECONDS seconds to 127.0.0.1 on the ports from FIRST_PORT on (where nothing listens), each made as
//! the checkers make one at a server that refuses it — a non-blocking `connect` on a socket taken
//! from a small pool, then a second `connect` that reports the refusal and leaves the socket ready
//! for the next attempt — in a batch every 10 ms, and nothing else. `scripts/lib/bench-lvs.sh` runs
//! it beside 10,000 `TCP_CHECK`s so that the checker process's CPU is read against what the loopback's
//! SYN and RST cost by themselves on the same machine at the same moment.
//!
//! `cargo run --release --example refused_connects -- 10000 20 20000` (in a network namespace of
//! its own, where no port of the range has a listener). Prints how many attempts were refused.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket, Type};

/// Batches a second: the checkers also wake about this often under this load.
const BATCHES_PER_SECOND: u32 = 100;
/// Sockets in the pool: about as many as the checkers keep between batches.
const POOL: usize = 64;

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Result<Vec<u32>, _> = arguments.iter().map(|arg| arg.parse::<u32>()).collect();
    let (attempts, seconds, first_port) = match numbers.as_deref() {
        Ok([attempts, seconds, first_port])
            if *attempts >= BATCHES_PER_SECOND && first_port.saturating_add(*attempts) <= 65536 =>
        {
            (*attempts, *seconds, *first_port)
        }
        _ => {
            eprintln!(
                "usage: refused_connects ATTEMPTS_PER_SECOND SECONDS FIRST_PORT \
                 (at least {BATCHES_PER_SECOND} attempts, ports within 65535)"
            );
            return ExitCode::from(2);
        }
    };
    match run(attempts, seconds, first_port) {
        Ok(refused) => {
            println!("{refused} refused");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("refused_connects: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the attempts; the number refused, or the first other outcome as an error.
fn run(attempts: u32, seconds: u32, first_port: u32) -> Result<u64, String> {
    let mut pool = Vec::with_capacity(POOL);
    for _ in 0..POOL {
        let socket = Socket::new(Domain::IPV4, Type::STREAM.nonblocking(), None)
            .map_err(|e| format!("socket: {e}"))?;
        pool.push(socket);
    }
    let per_batch = attempts / BATCHES_PER_SECOND;
    let period = Duration::from_secs(1) / BATCHES_PER_SECOND;
    let start = Instant::now();
    let mut refused = 0u64;
    for batch in 0..seconds * BATCHES_PER_SECOND {
        for index in 0..per_batch {
            let port = first_port + (batch % BATCHES_PER_SECOND) * per_batch + index;
            let port = u16::try_from(port).map_err(|_| format!("port {port} out of range"))?;
            let target = SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
            let socket = &pool[index as usize % POOL];
            attempt(socket, &target).map_err(|e| format!("127.0.0.1:{port}: {e}"))?;
            refused += 1;
        }
        // Paced from the start, as the checkers' schedule is: late batches do not push later ones.
        let due = start + period * (batch + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    Ok(refused)
}

/// One attempt at a port that refuses: the error when it was anything but refused.
fn attempt(socket: &Socket, target: &SockAddr) -> Result<(), String> {
    let first = socket.connect(target);
    let outcome = match first {
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => socket.connect(target),
        other => other,
    };
    match outcome {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => Ok(()),
        Err(e) => Err(format!("not refused: {e}")),
        Ok(()) => Err("something listens there".to_string()),
    }
}
