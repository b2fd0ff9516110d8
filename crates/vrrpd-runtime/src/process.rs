//! The daemon as a process: going into the background, pid files, the signals it takes through a signalfd.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;

/// keepalived's default pid files (the parent's and the VRRP child's; we are both).
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";
pub const DEFAULT_VRRP_PID_FILE: &str = "/run/keepalived_vrrp.pid";

/// The signals the event loop handles (all others keep their default action).
pub const HANDLED_SIGNALS: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCHLD,
];

/// Blocks the handled signals and returns a non-blocking signalfd that receives them. Children get the
/// default mask back when they start (std's Command resets it).
pub fn signal_fd() -> nix::Result<SignalFd> {
    let mut set = SigSet::empty();
    for signal in HANDLED_SIGNALS {
        set.add(signal);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
}

/// A pid file, removed when dropped.
pub struct PidFile {
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error("daemon is already running (pid {pid} in {path})")]
    AlreadyRunning { pid: i32, path: String },
    #[error("cannot write pid file {path}: {source}")]
    Write { path: String, source: io::Error },
}

impl PidFile {
    /// Writes our pid, unless the file names a process that is still alive.
    pub fn create(path: &Path) -> Result<Self, PidFileError> {
        if let Some(pid) = fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok())
        {
            let ours = std::process::id() as i32;
            if pid != ours && pid > 0 && kill(Pid::from_raw(pid), None).is_ok() {
                return Err(PidFileError::AlreadyRunning {
                    pid,
                    path: path.display().to_string(),
                });
            }
        }
        if let Some(directory) = path.parent() {
            let _ = fs::create_dir_all(directory);
        }
        fs::write(path, format!("{}\n", std::process::id())).map_err(|source| {
            PidFileError::Write {
                path: path.display().to_string(),
                source,
            }
        })?;
        Ok(Self {
            path: path.to_owned(),
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Detaches from the terminal like keepalived without `-n`: a new session, `/` as working directory, the
/// standard descriptors on /dev/null.
pub fn daemonize() -> nix::Result<()> {
    nix::unistd::daemon(false, false)
}
