//! The daemon as a process: going into the background, pid files, the signals it takes through a signalfd.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;

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

/// `uname`'s system name, release and version.
pub fn uname() -> Option<(String, String, String)> {
    // SAFETY: an all-zero `utsname` is a valid value for uname to overwrite.
    let mut names: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is valid for the call.
    if unsafe { libc::uname(&mut names) } != 0 {
        return None;
    }
    let text = |field: &[libc::c_char]| {
        let bytes: Vec<u8> = field
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Some((
        text(&names.sysname),
        text(&names.release),
        text(&names.version),
    ))
}

/// keepalived's `log_stopping`, a process's last line of its own: with `-D` the CPU time it and its
/// children used, else `Stopped`.
pub fn log_stopping(detailed: bool) {
    if !detailed {
        log::info!("Stopped");
        return;
    }
    let (Some(own), Some(children)) =
        (cpu_time(libc::RUSAGE_SELF), cpu_time(libc::RUSAGE_CHILDREN))
    else {
        return;
    };
    // keepalived tests the children's user time only.
    if children.user.is_zero() {
        log::info!(
            "Stopped - used {} user time, {} system time",
            seconds(own.user),
            seconds(own.system)
        );
    } else {
        log::info!(
            "Stopped - used (self/children) {}/{} user time, {}/{} system time",
            seconds(own.user),
            seconds(children.user),
            seconds(own.system),
            seconds(children.system)
        );
    }
}

/// A time as keepalived prints CPU times: seconds with six decimals.
pub fn seconds(time: std::time::Duration) -> String {
    format!("{}.{:06}", time.as_secs(), time.subsec_micros())
}

/// CPU time used, in user and system mode.
pub struct CpuTime {
    pub user: std::time::Duration,
    pub system: std::time::Duration,
}

/// `getrusage(who)`'s CPU times (`libc::RUSAGE_SELF` or `libc::RUSAGE_CHILDREN`).
pub fn cpu_time(who: libc::c_int) -> Option<CpuTime> {
    // SAFETY: an all-zero `rusage` is a valid value for getrusage to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is valid for the call.
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return None;
    }
    let duration = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec.max(0) as u64)
            + std::time::Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Some(CpuTime {
        user: duration(usage.ru_utime),
        system: duration(usage.ru_stime),
    })
}
