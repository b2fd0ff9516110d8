//! Logging like keepalived 2.2.7: syslog (facility `-S`, default daemon), and with `-l -n` every line on stderr
//! after a `%c` timestamp (`Sat Nov  1 12:00:00 2026: (VI_1) Entering MASTER STATE`); `-g FILE` also writes a
//! file with nanosecond timestamps. `-D` (detailed log) lets debug messages through, and the lines keepalived
//! logs only with `-D` (its `LOG_DETAIL`): those are logged at info level with the target [`DETAIL`].

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// A syslog facility (`-S`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facility {
    /// `local0` … `local7`.
    Local(u8),
    User,
    Daemon,
}

impl Facility {
    fn code(self) -> libc::c_int {
        match self {
            Facility::Local(0) => libc::LOG_LOCAL0,
            Facility::Local(1) => libc::LOG_LOCAL1,
            Facility::Local(2) => libc::LOG_LOCAL2,
            Facility::Local(3) => libc::LOG_LOCAL3,
            Facility::Local(4) => libc::LOG_LOCAL4,
            Facility::Local(5) => libc::LOG_LOCAL5,
            Facility::Local(6) => libc::LOG_LOCAL6,
            Facility::Local(_) => libc::LOG_LOCAL7,
            Facility::User => libc::LOG_USER,
            Facility::Daemon => libc::LOG_DAEMON,
        }
    }
}

/// Where log lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// `-l` with `-n`: stderr.
    pub console: bool,
    /// Unless `-G`.
    pub syslog: bool,
    pub facility: Facility,
    /// `-g [FILE]`.
    pub file: Option<String>,
    /// `--flush-log-file`.
    pub flush_file: bool,
    /// `-D`.
    pub detailed: bool,
    /// The syslog identity (`Keepalived_vrrp`, or with `-i`/`instance` a suffix as keepalived adds).
    pub ident: String,
}

pub use vrrp::DETAIL;

struct Logger {
    detailed: bool,
    console: bool,
    syslog: bool,
    file: Option<Mutex<File>>,
    flush_file: bool,
    /// The console's and the file's lines of a [`batch`], written when it ends.
    held: Mutex<HeldLines>,
}

#[derive(Default)]
struct HeldLines {
    console: Vec<u8>,
    file: Vec<u8>,
}

/// Whether a [`batch`] is running.
static HOLDING: AtomicBool = AtomicBool::new(false);

/// Runs `work`, writing the console's and the file's lines it logs together when it ends: one
/// system call for each instead of one per line. A reload logs a line per checker, tens of
/// thousands on a large director; each keeps its own time stamp. Syslog gets each line at once.
pub fn batch<R>(work: impl FnOnce() -> R) -> R {
    let _held = Batch {
        nested: HOLDING.swap(true, Ordering::SeqCst),
    };
    work()
}

/// Ends a [`batch`] when dropped, so that its lines are written even if the work unwinds.
struct Batch {
    nested: bool,
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.nested {
            HOLDING.store(false, Ordering::SeqCst);
            log::logger().flush();
        }
    }
}

/// The descriptor of the `-g` log file, -1 without one (a checker child keeps it open).
static LOG_FILE_FD: AtomicI32 = AtomicI32::new(-1);

/// The descriptor the log file is written through, if there is one.
pub fn file_descriptor() -> Option<i32> {
    Some(LOG_FILE_FD.load(Ordering::Relaxed)).filter(|&fd| fd >= 0)
}

/// Sends syslog lines under `ident` from now on (when they go to syslog at all).
pub fn set_syslog_ident(settings: &LogSettings, ident: &str) {
    if settings.syslog {
        // openlog keeps the pointer: the identity must live as long as the process (it changes
        // at most once more, with a namespace or an instance name).
        let ident: &'static CString = Box::leak(Box::new(
            CString::new(ident.replace('\0', "")).unwrap_or_default(),
        ));
        // SAFETY: `ident` is a valid NUL-terminated string that is never freed.
        unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, settings.facility.code()) };
    }
}

/// Installs the logger. Call once, after forking into the background.
pub fn init(settings: &LogSettings) {
    set_syslog_ident(settings, &settings.ident);
    if log::logger().enabled(&Metadata::builder().level(Level::Error).build()) {
        // Installed already (a checker child forked from the daemon): only the syslog identity
        // above changes; the file and console stay the parent's.
        return;
    }
    let file = settings.file.as_ref().and_then(|path| {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| eprintln!("Failed to open log file {path}: {e}"))
            .ok()
            .map(Mutex::new)
    });
    if let Some(file) = &file {
        if let Ok(file) = file.lock() {
            LOG_FILE_FD.store(file.as_raw_fd(), Ordering::Relaxed);
        }
    }
    let logger = Logger {
        detailed: settings.detailed,
        console: settings.console,
        syslog: settings.syslog,
        file,
        flush_file: settings.flush_file,
        held: Mutex::new(HeldLines::default()),
    };
    let level = if settings.detailed {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && (self.detailed || metadata.target() != DETAIL)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Each line is made whole first and written at once: one system call per line (the file
        // and stderr are unbuffered, and a formatted write makes one per piece), or none in a batch.
        let holding = HOLDING.load(Ordering::SeqCst);
        if self.console || self.file.is_some() {
            let (second, nanoseconds) = now();
            with_stamps(second, |stamps| {
                if self.console {
                    self.emit(holding, Outlet::Console, |out| {
                        writeln!(out, "{}: {}", stamps.console, record.args())
                    });
                }
                if self.file.is_some() {
                    self.emit(holding, Outlet::File, |out| {
                        writeln!(
                            out,
                            "{}.{nanoseconds:09} {}: {}",
                            stamps.file,
                            stamps.year,
                            record.args()
                        )
                    });
                }
            });
        }
        if self.syslog {
            let priority = match record.level() {
                Level::Error => libc::LOG_ERR,
                Level::Warn => libc::LOG_WARNING,
                Level::Info => libc::LOG_INFO,
                Level::Debug | Level::Trace => libc::LOG_DEBUG,
            };
            if let Ok(text) = CString::new(record.args().to_string().replace('\0', "")) {
                // SAFETY: both strings are valid and NUL-terminated; "%s" consumes exactly one argument.
                unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
            }
        }
    }

    /// Writes what a batch held.
    fn flush(&self) {
        let Ok(mut held) = self.held.lock() else {
            return;
        };
        // Written under the lock and cleared, not taken: the buffers keep their room for the next
        // batch. Grown anew at every reload, a megabyte at a time, they cost a tenth of a reload
        // of 10,000 virtual servers (the allocator searching its bins, just filled by the old
        // checkers, for each larger block).
        let held = &mut *held;
        if !held.console.is_empty() {
            let _ = std::io::stderr().write_all(&held.console);
            held.console.clear();
        }
        if !held.file.is_empty() {
            self.write_file(&held.file);
            held.file.clear();
        }
    }
}

/// Where a line goes.
#[derive(Clone, Copy)]
enum Outlet {
    Console,
    File,
}

impl Logger {
    /// Writes the line `format` makes to `outlet`: in a batch at the end of what it holds (no
    /// buffer of its own; the messages' `Display`s do not log, so formatting under the lock
    /// cannot wait on it), else at once.
    fn emit(
        &self,
        holding: bool,
        outlet: Outlet,
        format: impl Fn(&mut Vec<u8>) -> std::io::Result<()>,
    ) {
        if holding {
            if let Ok(mut held) = self.held.lock() {
                let held = &mut *held;
                let _ = format(match outlet {
                    Outlet::Console => &mut held.console,
                    Outlet::File => &mut held.file,
                });
                return;
            }
        }
        let mut line = Vec::with_capacity(LINE_CAPACITY);
        let _ = format(&mut line);
        match outlet {
            Outlet::Console => {
                let _ = std::io::stderr().write_all(&line);
            }
            Outlet::File => self.write_file(&line),
        }
    }

    fn write_file(&self, lines: &[u8]) {
        let Some(file) = &self.file else {
            return;
        };
        if let Ok(mut file) = file.lock() {
            let _ = file.write_all(lines);
            if self.flush_file {
                let _ = file.flush();
            }
        }
    }
}

/// Now as a mail's `Date:` header (RFC 2822), as keepalived writes it.
pub fn mail_date() -> String {
    timestamp("%a, %d %b %Y %H:%M:%S %z")
}

/// Room for most lines, so that writing one grows its buffer rarely.
const LINE_CAPACITY: usize = 160;

/// The wall clock: seconds and nanoseconds.
fn now() -> (libc::time_t, i64) {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME)
        .map(|t| (t.tv_sec(), t.tv_nsec()))
        .unwrap_or((0, 0))
}

/// The local time of `second`, or `None` when the C library cannot tell it.
fn local_time(second: libc::time_t) -> Option<libc::tm> {
    // SAFETY: an all-zero `tm` is a valid value for localtime_r to overwrite.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call.
    if unsafe { libc::localtime_r(&second, &mut tm) }.is_null() {
        return None;
    }
    Some(tm)
}

/// The local time formatted by strftime, as keepalived prints it.
fn timestamp(format: &str) -> String {
    local_time(now().0).map_or_else(String::new, |tm| strftime(format, &tm))
}

/// The parts of a log line's timestamp that change once a second, formatted once for each second:
/// a reload writes thousands of lines within the same one.
#[derive(Default)]
struct Stamps {
    second: Option<libc::time_t>,
    /// The console's timestamp (`%c`).
    console: String,
    /// The log file's, up to the seconds (`%a %b %d %T`); the nanoseconds and the year follow.
    file: String,
    year: String,
}

impl Stamps {
    fn set(&mut self, second: libc::time_t) {
        if self.second == Some(second) {
            return;
        }
        let Some(tm) = local_time(second) else {
            *self = Stamps::default();
            return;
        };
        self.second = Some(second);
        self.console = strftime("%c", &tm);
        self.file = strftime("%a %b %d %T", &tm);
        self.year = strftime("%Y", &tm);
    }
}

thread_local! {
    static STAMPS: std::cell::RefCell<Stamps> = std::cell::RefCell::new(Stamps::default());
}

/// Runs `write` with the stamps of `second`: this thread's, or fresh ones when they cannot be had
/// (a line logged while they are in use, or while the thread ends).
fn with_stamps(second: libc::time_t, write: impl FnOnce(&Stamps)) {
    let mut write = Some(write);
    let _ = STAMPS.try_with(|cell| {
        if let Ok(mut stamps) = cell.try_borrow_mut() {
            stamps.set(second);
            if let Some(write) = write.take() {
                write(&stamps);
            }
        }
    });
    if let Some(write) = write {
        let mut stamps = Stamps::default();
        stamps.set(second);
        write(&stamps);
    }
}

fn strftime(format: &str, tm: &libc::tm) -> String {
    let Ok(format) = CString::new(format) else {
        return String::new();
    };
    let mut buffer = [0u8; 64];
    // SAFETY: the buffer's length is passed; strftime writes at most that many bytes and returns how many.
    let written = unsafe {
        libc::strftime(
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            format.as_ptr(),
            tm,
        )
    };
    String::from_utf8_lossy(&buffer[..written]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_follow_the_second_and_keep_keepaliveds_forms() {
        let mut stamps = Stamps::default();
        // 2026-11-01 12:00:00 UTC; the local time zone may move the hour, not the forms.
        stamps.set(1_793_534_400);
        let console = stamps.console.clone();
        // `%c` in the C locale: "Sun Nov  1 12:00:00 2026".
        assert_eq!(console.len(), 24, "{console}");
        assert!(console.ends_with(&stamps.year), "{console}");
        // The file's form: "Sun Nov 01 12:00:00", the nanoseconds and year written after it.
        assert_eq!(stamps.file.len(), 19, "{}", stamps.file);
        assert_eq!(stamps.file.get(..4), console.get(..4));
        assert_eq!(stamps.year.len(), 4);
        stamps.set(1_793_534_400);
        assert_eq!(stamps.console, console);
        stamps.set(1_793_534_401);
        assert_ne!(stamps.console, console);
        assert_eq!(stamps.second, Some(1_793_534_401));
    }

    #[test]
    fn a_line_logged_while_the_stamps_are_in_use_gets_fresh_ones() {
        let mut seen = Vec::new();
        with_stamps(1_793_534_400, |outer| {
            with_stamps(1_793_534_400, |inner| seen.push(inner.console.clone()));
            seen.push(outer.console.clone());
        });
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], seen[1]);
    }
}
