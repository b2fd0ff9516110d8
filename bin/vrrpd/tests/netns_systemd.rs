//! vrrpd under systemd's notify protocol, as `vrrpd.service` runs it (`--dont-fork`, `Type=notify`,
//! `WatchdogSec=`): the test plays systemd's part with a datagram socket in `NOTIFY_SOCKET` and
//! checks the daemon's messages over its life — `READY=1` once running, `WATCHDOG=1` at half of
//! `WATCHDOG_USEC`, `RELOADING=1` then `READY=1` around SIGHUP, `STOPPING=1` on SIGTERM — with the
//! daemon in a network namespace of its own (a veth pair). Needs root; skipped otherwise.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

struct Namespace {
    name: String,
    dir: PathBuf,
    daemon: Option<Child>,
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("ip");
    assert!(status.success(), "ip {args:?}");
}

/// Messages until one satisfies `done`, or the deadline; all of them, in order.
fn receive_until(
    socket: &UnixDatagram,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        socket
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        let Ok(n) = socket.recv(&mut buffer) else {
            break;
        };
        let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
        let finished = done(&message);
        seen.push(message);
        if finished {
            break;
        }
    }
    seen
}

#[test]
fn notify_socket_sees_ready_watchdog_reload_and_stop() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: not root");
        return;
    }
    let name = format!("vnotify{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("vrrpd-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test directory");
    let mut ns = Namespace {
        name: name.clone(),
        dir: dir.clone(),
        daemon: None,
    };
    ip(&["netns", "add", &name]);
    // A veth pair inside the namespace: both ends up give eth0 its carrier.
    ip(&[
        "-n", &name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ip(&["-n", &name, "addr", "add", "10.98.0.1/24", "dev", "eth0"]);
    ip(&["-n", &name, "link", "set", "eth1", "up"]);
    ip(&["-n", &name, "link", "set", "eth0", "up"]);

    // A path, not an abstract name: abstract unix sockets belong to a network namespace.
    let socket_path = dir.join("notify");
    let socket = UnixDatagram::bind(&socket_path).expect("bind the notify socket");
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    \
         advert_int 1\n    virtual_ipaddress {\n        10.98.0.100/24\n    }\n}\n",
    )
    .expect("config");
    let log = std::fs::File::create(dir.join("vrrpd.log")).expect("log");
    let child = Command::new("ip")
        .args(["netns", "exec", &name, env!("CARGO_BIN_EXE_vrrpd")])
        .args(["-P", "--dont-fork", "-l", "-G", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("k.pid"))
        .arg("-r")
        .arg(dir.join("k-vrrp.pid"))
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start vrrpd");
    let pid = Pid::from_raw(child.id() as i32);
    ns.daemon = Some(child);
    let logs = || std::fs::read_to_string(dir.join("vrrpd.log")).unwrap_or_default();

    let started = receive_until(&socket, Duration::from_secs(10), |m| {
        m.starts_with("READY=1")
    });
    let ready = started.last().cloned().unwrap_or_default();
    assert!(
        ready.starts_with("READY=1\nSTATUS=1 VRRP instances"),
        "no READY=1: {started:?}\n{}",
        logs()
    );

    // WATCHDOG_USEC=400000: a ping every 0.2 s, so at least 4 in one second.
    let pings = receive_until(&socket, Duration::from_secs(1), |_| false);
    let count = pings.iter().filter(|m| *m == "WATCHDOG=1").count();
    assert!(count >= 4, "{count} watchdog pings in 1 s: {pings:?}");

    kill(pid, Signal::SIGHUP).expect("SIGHUP");
    let reload = receive_until(&socket, Duration::from_secs(10), |m| {
        m.starts_with("READY=1")
    });
    let reloading = reload
        .iter()
        .position(|m| m.starts_with("RELOADING=1\n") && m.contains("\nMONOTONIC_USEC="));
    let ready_again = reload.iter().rposition(|m| m.starts_with("READY=1"));
    assert!(
        matches!((reloading, ready_again), (Some(r), Some(d)) if r < d),
        "no RELOADING=1 then READY=1 after SIGHUP: {reload:?}\n{}",
        logs()
    );

    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let stop = receive_until(&socket, Duration::from_secs(10), |m| {
        m.starts_with("STOPPING=1")
    });
    assert!(
        stop.last().is_some_and(|m| m.starts_with("STOPPING=1")),
        "no STOPPING=1 after SIGTERM: {stop:?}\n{}",
        logs()
    );
    let mut child = ns.daemon.take().expect("daemon");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.is_some_and(|s| s.success()),
        "vrrpd did not stop cleanly: {status:?}\n{}",
        logs()
    );
}
