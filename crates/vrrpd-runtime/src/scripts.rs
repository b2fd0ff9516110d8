//! Child processes: notify scripts and `vrrp_script` checks, started without waiting and reaped when SIGCHLD
//! arrives, so that a slow script never holds up the event loop. Each child runs in its own process group,
//! so a timed-out check is killed with everything it started.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_config::model::{Script, ScriptUser};
use log::{debug, warn};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// Why a child was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Notify,
    /// A run of the `vrrp_script` with this index.
    Check(usize),
    /// The checker process (a child of the VRRP daemon).
    CheckerProcess,
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signalled(i32),
    TimedOut,
}

impl Outcome {
    pub fn succeeded(self) -> bool {
        self == Outcome::Exited(0)
    }
}

struct Child {
    purpose: Purpose,
    deadline: Option<Instant>,
    timed_out: bool,
}

#[derive(Default)]
pub struct Children {
    running: HashMap<i32, Child>,
}

impl Children {
    /// Starts `argv` as `user` (or as ourselves), with stdin, stdout and stderr on /dev/null.
    pub fn spawn(
        &mut self,
        argv: &[String],
        user: Option<&ScriptUser>,
        purpose: Purpose,
        timeout: Option<Duration>,
        now: Instant,
    ) -> bool {
        let Some((program, arguments)) = argv.split_first() else {
            return false;
        };
        let mut command = Command::new(program);
        command
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(user) = user {
            command.uid(user.uid).gid(user.gid);
        }
        match command.spawn() {
            Ok(child) => {
                // Reaped by `reap` through waitpid; the handle is not needed.
                let pid = i32::try_from(child.id()).unwrap_or(0);
                self.running.insert(
                    pid,
                    Child {
                        purpose,
                        deadline: timeout.map(|timeout| now + timeout),
                        timed_out: false,
                    },
                );
                true
            }
            Err(e) => {
                warn!("Failed to exec script {program}: {e}");
                false
            }
        }
    }

    /// Watches a child started otherwise (forked): `reap` reports its end.
    pub fn adopt(&mut self, pid: i32, purpose: Purpose) {
        self.running.insert(
            pid,
            Child {
                purpose,
                deadline: None,
                timed_out: false,
            },
        );
    }

    /// The earliest timeout of a running check.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.running
            .values()
            .filter(|child| !child.timed_out)
            .filter_map(|child| child.deadline)
            .min()
    }

    /// Kills the process groups of children past their deadline; they are reaped as timed out.
    pub fn kill_overdue(&mut self, now: Instant) {
        for (pid, child) in &mut self.running {
            if !child.timed_out && child.deadline.is_some_and(|deadline| deadline <= now) {
                child.timed_out = true;
                let _ = killpg(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
    }

    /// Collects every child that ended.
    pub fn reap(&mut self) -> Vec<(Purpose, Outcome)> {
        let mut ended = Vec::new();
        loop {
            let status = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return ended,
                Ok(status) => status,
            };
            let (pid, outcome) = match status {
                WaitStatus::Exited(pid, code) => (pid, Outcome::Exited(code)),
                WaitStatus::Signaled(pid, signal, _) => (pid, Outcome::Signalled(signal as i32)),
                _ => continue,
            };
            if let Some(child) = self.running.remove(&pid.as_raw()) {
                let outcome = if child.timed_out {
                    Outcome::TimedOut
                } else {
                    outcome
                };
                ended.push((child.purpose, outcome));
            }
        }
    }

    pub fn is_running(&self, purpose: Purpose) -> bool {
        self.running.values().any(|child| child.purpose == purpose)
    }
}

/// Runs a notify script with extra arguments (keepalived's `notify` gets `INSTANCE NAME STATE PRIORITY`).
pub fn notify(
    children: &mut Children,
    script: &Script,
    extra: &[String],
    default_user: Option<&ScriptUser>,
    now: Instant,
) {
    let mut argv = script.argv.clone();
    argv.extend_from_slice(extra);
    debug!("Running notify script {}", argv.join(" "));
    children.spawn(
        &argv,
        script.user.as_ref().or(default_user),
        Purpose::Notify,
        None,
        now,
    );
}
