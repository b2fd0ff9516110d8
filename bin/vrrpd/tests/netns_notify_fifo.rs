//! `notify_fifo` against keepalived 2.2.7: the same configuration (two instances in a sync group) run by each
//! daemon in turn, a reader on the FIFO from before the start to after the stop; the lines each writes must be
//! the same, in the same order. Alone on the link (both instances become master), and as the backup of a
//! keepalived master that is killed and comes back.

mod netns;

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use netns::{Implementation, Topology, wait_for};

const VIP_2: &str = "10.99.0.102";

/// Two instances in a sync group at priorities `first` and `second`, with a notify FIFO if given.
fn config(fifo: Option<&Path>, first: u8, second: u8) -> String {
    let global = fifo
        .map(|fifo| format!("global_defs {{\n    notify_fifo {}\n}}\n", fifo.display()))
        .unwrap_or_default();
    format!(
        "{global}vrrp_sync_group G1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n}}\n\
         vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority {first}\n\
         advert_int 0.1\n    version 3\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n\
         vrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 52\n    priority {second}\n\
         advert_int 0.1\n    version 3\n    virtual_ipaddress {{\n        {VIP_2}/24\n    }}\n}}\n",
        vip = netns::VIP,
    )
}

/// Whether router `n` holds both instances' VIPs.
fn holds_both(topology: &Topology, n: usize) -> bool {
    topology.has_vip(n) && topology.has_address(n, VIP_2)
}

/// Whether router `n` holds neither VIP.
fn holds_none(topology: &Topology, n: usize) -> bool {
    !topology.has_vip(n) && !topology.has_address(n, VIP_2)
}

/// Reads the FIFO until told to stop; the text read.
struct Reader {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<String>,
}

impl Reader {
    fn open(path: &Path) -> Self {
        nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
        // Non-blocking: the open does not wait for a writer, and reads return at once when empty.
        let mut fifo = File::options()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)
            .expect("open FIFO");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut text = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                match fifo.read(&mut buffer) {
                    Ok(n) if n > 0 => text.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() != ErrorKind::WouldBlock => break,
                    // Empty, or no writer (yet, or any more).
                    _ => {
                        if stopped.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
            String::from_utf8_lossy(&text).into_owned()
        });
        Self { stop, thread }
    }

    fn finish(self) -> String {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("reader thread")
    }
}

/// The FIFO's lines from the start of `implementation` to its exit after SIGTERM.
fn fifo_lines(implementation: Implementation) -> Vec<String> {
    let mut topology = Topology::new(1);
    let fifo = topology.dir.join("notify.fifo");
    let reader = Reader::open(&fifo);
    let run = topology.start(1, implementation, &config(Some(&fifo), 200, 150));
    assert!(
        wait_for(Duration::from_secs(15), || holds_both(&topology, 1)).is_some(),
        "{implementation:?} did not become master\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(500));
    topology.daemon(run).terminate();
    assert!(
        topology.daemon(run).wait_exit().is_some(),
        "{implementation:?} did not stop\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(200));
    reader.finish().lines().map(str::to_owned).collect()
}

#[test]
fn notify_fifo_lines_are_keepalived_s() {
    require_netns!(keepalived);
    let reference = fifo_lines(Implementation::Keepalived);
    let ours = fifo_lines(Implementation::Vrrpd);
    assert!(
        reference.iter().any(|line| line.contains("MASTER")),
        "keepalived wrote no MASTER line: {reference:?}"
    );
    assert_eq!(ours, reference, "FIFO lines (ours, keepalived's)");
}

/// The FIFO's lines of `implementation` as the backup of keepalived: the master killed (ours takes over),
/// back (it preempts, ours returns to BACKUP), then ours stopped.
fn failover_fifo_lines(implementation: Implementation) -> Vec<String> {
    let mut topology = Topology::new(2);
    let fifo = topology.dir.join("notify.fifo");
    let reader = Reader::open(&fifo);
    // The master first, so that the backup never is master before it hears it.
    let master = topology.start(1, Implementation::Keepalived, &config(None, 200, 150));
    let elected = wait_for(Duration::from_secs(15), || holds_both(&topology, 1));
    assert!(
        elected.is_some(),
        "keepalived did not become master\n{}",
        topology.logs()
    );
    let run = topology.start(2, implementation, &config(Some(&fifo), 100, 50));
    std::thread::sleep(Duration::from_millis(500));
    let settled = wait_for(Duration::from_secs(15), || {
        holds_both(&topology, 1) && holds_none(&topology, 2)
    });
    assert!(settled.is_some(), "no master\n{}", topology.logs());
    std::thread::sleep(Duration::from_millis(500));

    topology.daemon(master).kill();
    let took = wait_for(Duration::from_secs(4), || holds_both(&topology, 2));
    assert!(
        took.is_some(),
        "{implementation:?} did not take over\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(500));

    // The killed master leaves its VIPs behind; a restart takes them away first.
    for vip in [netns::VIP, VIP_2] {
        topology.remove_address(1, &format!("{vip}/24"));
    }
    topology.start(1, Implementation::Keepalived, &config(None, 200, 150));
    let preempted = wait_for(Duration::from_secs(15), || {
        holds_both(&topology, 1) && holds_none(&topology, 2)
    });
    assert!(
        preempted.is_some(),
        "keepalived did not preempt\n{}",
        topology.logs()
    );
    std::thread::sleep(Duration::from_millis(500));

    topology.daemon(run).terminate();
    assert!(
        topology.daemon(run).wait_exit().is_some(),
        "{implementation:?} did not stop"
    );
    std::thread::sleep(Duration::from_millis(200));
    reader.finish().lines().map(str::to_owned).collect()
}

#[test]
fn notify_fifo_lines_through_a_failover_are_keepalived_s() {
    require_netns!(keepalived);
    let reference = failover_fifo_lines(Implementation::Keepalived);
    let ours = failover_fifo_lines(Implementation::Vrrpd);
    assert!(
        reference
            .iter()
            .filter(|line| line.contains("BACKUP"))
            .count()
            >= 4,
        "keepalived did not go back to BACKUP: {reference:?}"
    );
    assert_eq!(ours, reference, "FIFO lines (ours, keepalived's)");
}
