//! systemd's notify protocol (`sd_notify(3)`), written out: one datagram per state change to the unix
//! socket named by `$NOTIFY_SOCKET` (a path, or an abstract name when it starts with `@`), and
//! `WATCHDOG=1` at half the `$WATCHDOG_USEC` interval. Without `$NOTIFY_SOCKET` every call does nothing,
//! so the daemon behaves the same outside systemd.
//!
//! Messages: `READY=1` once the instances run, `RELOADING=1` (with `MONOTONIC_USEC`) then `READY=1`
//! around a reload, `STOPPING=1` when stopping, `STATUS=...` with them.

use std::ffi::OsStr;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

use log::warn;

/// Where the messages go and when the watchdog wants the next one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<Target>,
    /// Half of `WATCHDOG_USEC`: systemd's advice for how often to ping.
    watchdog_interval: Option<Duration>,
    next_watchdog: Option<Instant>,
}

#[derive(Debug)]
struct Target {
    socket: UnixDatagram,
    address: SocketAddr,
}

/// Why the notify socket cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("NOTIFY_SOCKET {0:?} is neither an absolute path nor an abstract name (@...)")]
    BadAddress(String),
    #[error("NOTIFY_SOCKET {address:?}: {source}")]
    Socket { address: String, source: io::Error },
}

impl Notifier {
    /// A notifier that sends nothing.
    pub fn disabled() -> Self {
        Notifier {
            target: None,
            watchdog_interval: None,
            next_watchdog: None,
        }
    }

    /// From the environment systemd gives a `Type=notify` service. A socket that cannot be used is
    /// logged and ignored: the daemon runs, systemd will time out waiting for it and say so.
    pub fn from_env(now: Instant) -> Self {
        let socket = std::env::var_os("NOTIFY_SOCKET");
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        match Notifier::new(
            socket.as_deref(),
            usec.as_deref(),
            pid.as_deref(),
            std::process::id(),
            now,
        ) {
            Ok(notifier) => notifier,
            Err(e) => {
                warn!("{e}");
                Notifier::disabled()
            }
        }
    }

    /// From the values of `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`, for process `pid`.
    /// The watchdog applies only when `WATCHDOG_PID` is absent or names this process, as in
    /// `sd_watchdog_enabled(3)`.
    pub fn new(
        socket: Option<&OsStr>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
        pid: u32,
        now: Instant,
    ) -> Result<Self, NotifyError> {
        let Some(socket) = socket.filter(|s| !s.is_empty()) else {
            return Ok(Notifier::disabled());
        };
        let text = socket.to_string_lossy().into_owned();
        let bytes = socket.as_bytes();
        let address = match bytes.first() {
            Some(b'@') => SocketAddr::from_abstract_name(&bytes[1..]),
            Some(b'/') => SocketAddr::from_pathname(socket),
            _ => return Err(NotifyError::BadAddress(text)),
        }
        .map_err(|source| NotifyError::Socket {
            address: text.clone(),
            source,
        })?;
        let socket = UnixDatagram::unbound().map_err(|source| NotifyError::Socket {
            address: text.clone(),
            source,
        })?;
        // A full socket buffer must not stall the event loop; a lost ping is better.
        socket
            .set_nonblocking(true)
            .map_err(|source| NotifyError::Socket {
                address: text,
                source,
            })?;
        let for_us = watchdog_pid.is_none_or(|p| p.trim().parse::<u32>().ok() == Some(pid));
        let watchdog_interval = watchdog_usec
            .and_then(|usec| usec.trim().parse::<u64>().ok())
            .filter(|&usec| usec > 0 && for_us)
            .map(|usec| Duration::from_micros(usec / 2));
        Ok(Notifier {
            target: Some(Target { socket, address }),
            watchdog_interval,
            next_watchdog: watchdog_interval.map(|_| now),
        })
    }

    /// Whether messages go anywhere.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often the watchdog is pinged, when systemd asked for it.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog_interval
    }

    /// `READY=1`: started, or done reloading.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    /// `RELOADING=1` with the monotonic time systemd compares against the reload request.
    pub fn reloading(&self) {
        let usec = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1_000)
            .unwrap_or(0);
        self.send(&format!(
            "RELOADING=1\nSTATUS=Reloading the configuration\nMONOTONIC_USEC={usec}"
        ));
    }

    /// `STOPPING=1`.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=Stopping");
    }

    /// When the next `WATCHDOG=1` is due, for the event loop's timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_watchdog
    }

    /// Sends `WATCHDOG=1` if it is due at `now`.
    pub fn tick(&mut self, now: Instant) {
        let (Some(due), Some(interval)) = (self.next_watchdog, self.watchdog_interval) else {
            return;
        };
        if now >= due {
            self.send("WATCHDOG=1");
            self.next_watchdog = Some(now + interval);
        }
    }

    fn send(&self, message: &str) {
        let Some(target) = &self.target else { return };
        if let Err(e) = target
            .socket
            .send_to_addr(message.as_bytes(), &target.address)
        {
            warn!("Cannot notify systemd: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn receive(socket: &UnixDatagram) -> String {
        let mut buffer = [0u8; 512];
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let n = socket.recv(&mut buffer).expect("a datagram");
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }

    #[test]
    fn messages_reach_a_socket_given_by_path() {
        let dir = std::env::temp_dir().join(format!("vrrpd-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("notify");
        let _ = std::fs::remove_file(&path);
        let listener = UnixDatagram::bind(&path).expect("bind");
        let now = Instant::now();
        let mut notifier =
            Notifier::new(Some(path.as_os_str()), Some("4000000"), None, 1, now).expect("notifier");
        assert!(notifier.enabled());
        notifier.ready("Running 2 VRRP instances");
        assert_eq!(
            receive(&listener),
            "READY=1\nSTATUS=Running 2 VRRP instances"
        );
        notifier.reloading();
        let reloading = receive(&listener);
        assert!(
            reloading.starts_with("RELOADING=1\n"),
            "{reloading:?} does not start with RELOADING=1"
        );
        let usec: u64 = reloading
            .lines()
            .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
            .and_then(|v| v.parse().ok())
            .expect("MONOTONIC_USEC");
        assert!(usec > 0);
        notifier.ready("done");
        assert_eq!(receive(&listener), "READY=1\nSTATUS=done");
        // The watchdog: due at once, then every WATCHDOG_USEC / 2.
        assert_eq!(notifier.watchdog_interval(), Some(Duration::from_secs(2)));
        notifier.tick(now);
        assert_eq!(receive(&listener), "WATCHDOG=1");
        assert_eq!(notifier.next_deadline(), Some(now + Duration::from_secs(2)));
        notifier.tick(now + Duration::from_secs(1));
        notifier.stopping();
        // No second ping before the interval: the next datagram is STOPPING.
        assert_eq!(receive(&listener), "STOPPING=1\nSTATUS=Stopping");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn messages_reach_an_abstract_socket() {
        let name = format!("vrrpd-notify-test-{}", std::process::id());
        let address = SocketAddr::from_abstract_name(name.as_bytes()).expect("address");
        let listener = UnixDatagram::bind_addr(&address).expect("bind");
        let socket = OsString::from(format!("@{name}"));
        let notifier =
            Notifier::new(Some(&socket), None, None, 1, Instant::now()).expect("notifier");
        notifier.stopping();
        assert_eq!(receive(&listener), "STOPPING=1\nSTATUS=Stopping");
        assert_eq!(notifier.watchdog_interval(), None);
        assert_eq!(notifier.next_deadline(), None);
    }

    #[test]
    fn watchdog_is_for_the_named_process_only() {
        let socket = OsString::from("@unused");
        let now = Instant::now();
        let other = Notifier::new(Some(&socket), Some("1000000"), Some("42"), 7, now).expect("ok");
        assert_eq!(other.watchdog_interval(), None);
        let ours = Notifier::new(Some(&socket), Some("1000000"), Some("7"), 7, now).expect("ok");
        assert_eq!(ours.watchdog_interval(), Some(Duration::from_millis(500)));
        let zero = Notifier::new(Some(&socket), Some("0"), None, 7, now).expect("ok");
        assert_eq!(zero.watchdog_interval(), None);
    }

    #[test]
    fn without_a_socket_nothing_is_sent_and_bad_addresses_are_refused() {
        let disabled = Notifier::new(None, Some("1000000"), None, 1, Instant::now()).expect("ok");
        assert!(!disabled.enabled());
        assert_eq!(disabled.next_deadline(), None);
        let relative = OsString::from("run/notify");
        assert!(matches!(
            Notifier::new(Some(&relative), None, None, 1, Instant::now()),
            Err(NotifyError::BadAddress(_))
        ));
    }
}
