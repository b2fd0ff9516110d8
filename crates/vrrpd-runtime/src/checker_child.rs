//! The checker process as a child of the VRRP daemon, as keepalived 2.2.7 runs its
//! `Keepalived_healthcheckers` child: started by `fork` (so it runs the code of the running
//! daemon, with the configuration file as it is now), stopped with its parent (`PR_SET_PDEATHSIG`),
//! and started again when it dies unexpectedly, at a bounded rate (`calc_restart_delay` in
//! keepalived's scheduler): at once if it had run for a minute, otherwise after 0, 1, 2, 4 … 32,
//! then 60 seconds. With `--dont-respawn` its death stops the daemon; so does an exit with one of
//! keepalived's permanent statuses (1, fatal; 2, configuration; 4, missing permission), which then
//! becomes the daemon's own exit status.

use std::fmt;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, error, info, warn};
use nix::sys::signal::Signal;
use nix::unistd::{ForkResult, Pid, fork};

use crate::scripts::Outcome;

/// keepalived's exit status for an error that a restart would not cure.
pub const EXIT_FATAL: u8 = 1;
/// keepalived's exit status for a configuration it cannot use.
pub const EXIT_CONFIG: u8 = 2;
/// keepalived's exit status for a permission the process lacks.
pub const EXIT_MISSING_PERMISSION: u8 = 4;

/// What a checker child is started with.
pub struct CheckerStart {
    /// Its end of the metrics link, when the parent serves metrics.
    pub metrics: Option<UnixStream>,
    /// Whether an earlier child died: the new one takes over the table it left.
    pub respawned: bool,
    /// Its end of the BFD link: one datagram per report of a BFD session, `NAME UP` or
    /// `NAME DOWN` (keepalived's BFD process writes its `bfd_event_t`s to a pipe likewise).
    pub bfd: Option<UnixDatagram>,
}

/// Runs the checker process in the child; its value is the child's exit status.
pub type CheckerEntry = Arc<dyn Fn(CheckerStart) -> u8 + Send + Sync>;

/// The checker process the daemon runs beside itself.
#[derive(Clone)]
pub struct CheckerProcess {
    pub entry: CheckerEntry,
    /// Not `--dont-respawn`.
    pub respawn: bool,
}

impl fmt::Debug for CheckerProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckerProcess")
            .field("respawn", &self.respawn)
            .finish_non_exhaustive()
    }
}

/// What the daemon does after its checker child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterDeath {
    /// Start a new one at this time.
    RestartAt(Instant),
    /// Stop the daemon, with this exit status.
    Stop(u8),
}

/// The checker child: its pid while it runs, when it was started, the delay before the next
/// restart should it die soon.
pub struct CheckerChild {
    process: CheckerProcess,
    pid: Option<Pid>,
    started: Instant,
    next_delay: u64,
    restart_at: Option<Instant>,
    /// Children started after the first.
    pub restarts: u64,
    /// The parent's end of the running child's BFD link.
    bfd: Option<UnixDatagram>,
}

impl CheckerChild {
    pub fn new(process: CheckerProcess, now: Instant) -> Self {
        CheckerChild {
            process,
            pid: None,
            started: now,
            next_delay: 0,
            restart_at: None,
            restarts: 0,
            bfd: None,
        }
    }

    pub fn pid(&self) -> Option<Pid> {
        self.pid
    }

    /// When a delayed restart is due.
    pub fn restart_at(&self) -> Option<Instant> {
        self.restart_at
    }

    /// Forks the checker process. `metrics`: give it a link to answer scrapes on; the parent's
    /// end is returned. In the child this never returns: the process exits with the entry's
    /// status. `None` when it did not fork: a child runs already, another thread runs (tried again
    /// in 100 ms), or the fork failed (logged, tried again in 1 s).
    pub fn start(&mut self, metrics: bool, now: Instant) -> Option<Option<UnixStream>> {
        if self.pid.is_some() {
            return None;
        }
        // fork copies only the calling thread: a lock another thread holds (an SMTP alert's
        // logging) would never be released in the child. Those threads are short-lived; wait.
        if other_threads() {
            debug!(
                "Healthcheck child process: waiting for the other threads to end before forking"
            );
            self.restart_at = Some(now + Duration::from_millis(100));
            return None;
        }
        let (ours, theirs) = if metrics {
            match UnixStream::pair() {
                Ok((ours, theirs)) => (Some(ours), Some(theirs)),
                Err(e) => {
                    warn!("Healthcheck child process: no metrics link: {e}");
                    (None, None)
                }
            }
        } else {
            (None, None)
        };
        let (bfd_ours, bfd_theirs) = match UnixDatagram::pair() {
            Ok((ours, theirs)) => (Some(ours), Some(theirs)),
            Err(e) => {
                warn!("Healthcheck child process: no BFD link: {e}");
                (None, None)
            }
        };
        // An earlier child died (the first start has neither).
        let respawned = self.restarts > 0 || self.restart_at.is_some();
        // SAFETY: no other thread runs (checked above), so the child starts from a consistent state.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
                drop(ours);
                drop(bfd_ours);
                let keep: Vec<RawFd> = theirs
                    .iter()
                    .map(AsRawFd::as_raw_fd)
                    .chain(bfd_theirs.iter().map(AsRawFd::as_raw_fd))
                    .collect();
                close_inherited(&keep);
                let status = (self.process.entry)(CheckerStart {
                    metrics: theirs,
                    respawned,
                    bfd: bfd_theirs,
                });
                std::process::exit(i32::from(status));
            }
            Ok(ForkResult::Parent { child }) => {
                info!("Starting Healthcheck child process, pid={child}");
                if respawned {
                    self.restarts += 1;
                }
                self.pid = Some(child);
                if let Some(link) = &bfd_ours {
                    let _ = link.set_nonblocking(true);
                }
                self.bfd = bfd_ours;
                self.started = now;
                self.restart_at = None;
                Some(ours)
            }
            Err(e) => {
                info!("Healthcheck child process: fork error({e})");
                self.restart_at = Some(now + Duration::from_secs(1));
                None
            }
        }
    }

    /// Tells the running child that BFD session `name` went up or down.
    pub fn send_bfd(&mut self, name: &str, up: bool) {
        let Some(link) = &self.bfd else {
            return;
        };
        let message = format!("{name} {}", if up { "UP" } else { "DOWN" });
        if let Err(e) = link.send(message.as_bytes()) {
            debug!("({name}) checker pipe write() error {e}");
        }
    }

    /// Whether `pid` is the checker child.
    pub fn is(&self, pid: Pid) -> bool {
        self.pid == Some(pid)
    }

    /// The child ended with `outcome`: logs as keepalived's parent does and says what next.
    pub fn ended(&mut self, outcome: Outcome, now: Instant) -> AfterDeath {
        let pid = self.pid.take().map_or(0, Pid::as_raw);
        self.bfd = None;
        if let Some(status) = report_status(pid, outcome) {
            return AfterDeath::Stop(status);
        }
        if !self.process.respawn {
            error!("Healthcheck child process({pid}) died: Exiting");
            return AfterDeath::Stop(0);
        }
        error!("Healthcheck child process({pid}) died: Respawning");
        let delay = restart_delay(now.duration_since(self.started), &mut self.next_delay);
        if let Some(delay) = delay {
            info!("Restart of Healthcheck process delayed {delay} seconds to limit respawn rate");
        }
        let at = now + Duration::from_secs(delay.unwrap_or(0));
        self.restart_at = Some(at);
        AfterDeath::RestartAt(at)
    }

    /// True once a delayed restart is due (the caller starts the child).
    pub fn restart_due(&self, now: Instant) -> bool {
        self.pid.is_none() && self.restart_at.is_some_and(|at| at <= now)
    }
}

/// Whether this process has threads besides the calling one.
fn other_threads() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() > 1)
}

/// keepalived's `calc_restart_delay`: a child that ran for a minute or more restarts at once and
/// the delay starts over (`None`, nothing logged); one that died sooner waits the current delay
/// (0 the first time), and the next delay goes 1, 2, 4 … 32, then 60 seconds.
pub fn restart_delay(ran_for: Duration, next_delay: &mut u64) -> Option<u64> {
    if ran_for >= Duration::from_secs(60) {
        *next_delay = 0;
        return None;
    }
    let delay = *next_delay;
    *next_delay = match delay {
        0 => 1,
        d if d > 30 => 60,
        d => d * 2,
    };
    Some(delay)
}

/// keepalived's `report_child_status` for the checker child `pid`: the status of a permanent error,
/// on which the daemon stops with that status. keepalived forgets the child's pid before it reports,
/// so its lines name the pid rather than the process.
fn report_status(pid: i32, outcome: Outcome) -> Option<u8> {
    let name = format!("pid {pid}");
    match outcome {
        Outcome::Exited(code) => {
            let permanent = [
                (EXIT_FATAL, "FATAL"),
                (EXIT_CONFIG, "CONFIG"),
                (EXIT_MISSING_PERMISSION, "missing permission"),
            ]
            .into_iter()
            .find(|&(status, _)| i32::from(status) == code);
            if let Some((status, kind)) = permanent {
                info!("{name} exited with permanent error {kind}. Terminating");
                return Some(status);
            }
            if code != 0 {
                info!("{name} exited with status {code}");
            }
        }
        Outcome::Signalled(signal) if signal == libc::SIGSEGV => {
            info!("{name} exited due to segmentation fault (SIGSEGV).");
        }
        Outcome::Signalled(signal) => {
            let suffix = if signal == libc::SIGKILL {
                " - has rlimit_rttime been exceeded?"
            } else {
                ""
            };
            info!(
                "{name} exited due to signal {signal} ({}){suffix}",
                signal_description(signal)
            );
        }
        Outcome::TimedOut => {}
    }
    None
}

/// `strsignal`'s text ("Killed", "Terminated").
fn signal_description(signal: i32) -> String {
    // SAFETY: strsignal returns a pointer to a NUL-terminated string valid until the next call;
    // it is copied at once and the daemon is single-threaded.
    let text = unsafe { libc::strsignal(signal) };
    if text.is_null() {
        return format!("signal {signal}");
    }
    // SAFETY: non-null, NUL-terminated (see above).
    unsafe { std::ffi::CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// Closes every descriptor the child inherited from the daemon (its sockets, signalfd, timerfd,
/// metrics connections) except the standard ones, `keep` and the log file, so that nothing of the
/// VRRP process stays open in the checker process. syslog's socket is closed through `closelog`,
/// which reconnects on the next line.
fn close_inherited(keep: &[RawFd]) {
    // SAFETY: closelog only closes the socket glibc's syslog keeps; the next syslog call reopens it.
    unsafe { libc::closelog() };
    let log_file = crate::logging::file_descriptor();
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let open: Vec<RawFd> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    for fd in open {
        if fd > 2 && !keep.contains(&fd) && Some(fd) != log_file {
            // SAFETY: the descriptor belongs to the daemon's objects, which this process never
            // uses again (the entry runs the checker process and then exits); the directory's own
            // descriptor is closed already, so closing it fails harmlessly.
            unsafe { libc::close(fd) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_delay_doubles_to_a_minute_and_starts_over_after_a_long_run() {
        let mut next = 0;
        let soon = Duration::from_secs(5);
        let delays: Vec<Option<u64>> = (0..9).map(|_| restart_delay(soon, &mut next)).collect();
        assert_eq!(
            delays,
            [0, 1, 2, 4, 8, 16, 32, 60, 60].map(Some).to_vec(),
            "keepalived's sequence"
        );
        assert_eq!(restart_delay(Duration::from_secs(60), &mut next), None);
        assert_eq!(next, 0);
        assert_eq!(restart_delay(soon, &mut next), Some(0));
    }

    #[test]
    fn permanent_statuses_stop_the_daemon() {
        // keepalived's KEEPALIVED_EXIT_FATAL, _CONFIG and _MISSING_PERMISSION.
        assert_eq!(report_status(7, Outcome::Exited(1)), Some(1));
        assert_eq!(report_status(7, Outcome::Exited(2)), Some(2));
        assert_eq!(report_status(7, Outcome::Exited(4)), Some(4));
        assert_eq!(report_status(7, Outcome::Exited(0)), None);
        assert_eq!(report_status(7, Outcome::Exited(3)), None);
        assert_eq!(report_status(7, Outcome::Signalled(libc::SIGKILL)), None);
    }
}
