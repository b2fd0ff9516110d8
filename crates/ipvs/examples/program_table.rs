//! Programs a table of SERVICES services with two destinations each (the table of
//! `scripts/bench`'s rule file) through the library in batches, reads it back whole, then flushes; prints each step's time in milliseconds as
//! `program MS`, `read MS` (`scripts/bench` compares them with ipvsadm-restore and ipvsadm -Sn).
//!
//! `cargo run --release --example program_table -- 10000` (needs IPVS and CAP_NET_ADMIN; it
//! replaces the current network namespace's table).

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::Instant;

use ipvs::model::{Destination, ForwardingMethod, Service, ServiceKey};
use ipvs::{Change, Client};

fn main() -> ExitCode {
    let count: u32 = match std::env::args().nth(1).map(|arg| arg.parse()) {
        None => 10_000,
        Some(Ok(count)) => count,
        Some(Err(_)) => {
            eprintln!("usage: program_table [SERVICES]");
            return ExitCode::from(2);
        }
    };
    match run(count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("program_table: {error}");
            ExitCode::FAILURE
        }
    }
}

fn address(network: u8, index: u32) -> IpAddr {
    let [_, _, high, low] = index.to_be_bytes();
    Ipv4Addr::new(10, network, high, low).into()
}

fn run(count: u32) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = Client::connect()?;
    client.flush()?;
    // The table of `scripts/bench`'s rule file: round robin and weighted least-connection,
    // every tenth service persistent, NAT to port 8080 or direct routing.
    let mut changes = Vec::with_capacity(count as usize * 3);
    for index in 0..count {
        let key = ServiceKey::tcp(address(1, index), 80);
        let scheduler = if index % 2 == 1 { "wlc" } else { "rr" };
        let mut service = Service::new(key).with_scheduler(scheduler);
        if index % 10 == 0 {
            service = service.with_persistence(300);
        }
        changes.push(Change::AddService(service));
        for (weight, network) in [2, 3].into_iter().enumerate() {
            let destination = if index % 3 == 0 {
                Destination::new(address(network, index), 80)
            } else {
                Destination::new(address(network, index), 8080)
                    .with_forwarding(ForwardingMethod::Masquerade)
            };
            changes.push(Change::AddDestination {
                service: key,
                destination: destination.with_weight(weight as i32 + 1),
            });
        }
    }

    let started = Instant::now();
    let report = client.apply_all(&changes)?;
    let failures = report.failures().count();
    println!("program {}", started.elapsed().as_millis());
    if failures > 0 {
        return Err(format!("{failures} changes failed").into());
    }

    let started = Instant::now();
    let table = client.table()?;
    println!("read {}", started.elapsed().as_millis());
    let destinations: usize = table.iter().map(|entry| entry.destinations.len()).sum();
    if table.len() != count as usize || destinations != 2 * count as usize {
        return Err(format!(
            "read back {} services and {destinations} destinations",
            table.len()
        )
        .into());
    }
    client.flush()?;
    Ok(())
}
