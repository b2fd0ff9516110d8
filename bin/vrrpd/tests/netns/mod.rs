//! Network-namespace topologies for the daemon tests: routers and a client on one bridge, each a namespace of
//! its own with `eth0` (`02:00:00:00:00:0N`, `10.99.0.N/24`), and the routers' daemons — ours or the real
//! keepalived 2.2.7 — started inside them. Everything the tests create is named after the test and removed
//! when the topology is dropped; no traffic leaves the namespaces.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const VIP: &str = "10.99.0.100";
pub const VIP6: &str = "2001:db8:99::100";
pub const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// Why a test cannot run here (not root, no `ip`), or `None`.
pub fn missing_privileges() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root".into());
    }
    let ip = Command::new("ip").arg("-V").output();
    if !ip.is_ok_and(|out| out.status.success()) {
        return Some("no ip command".into());
    }
    None
}

/// Skips the calling test (it passes, saying why) when namespaces cannot be made here.
#[macro_export]
macro_rules! require_netns {
    () => {
        if let Some(why) = netns::missing_privileges() {
            eprintln!("skipped: {why}");
            return;
        }
    };
    (keepalived) => {
        require_netns!();
        if !std::path::Path::new(netns::KEEPALIVED).exists() {
            eprintln!("skipped: no {}", netns::KEEPALIVED);
            return;
        }
    };
}

fn run(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Routers `r1`… and a client `c` on bridge `br0` of a switch namespace.
pub struct Topology {
    prefix: String,
    routers: usize,
    pub dir: PathBuf,
    daemons: Vec<Daemon>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Topology {
    pub fn new(routers: usize) -> Self {
        let prefix = format!(
            "vt{}x{}",
            std::process::id() % 100_000,
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let dir = std::env::temp_dir().join(format!("vrrpd-{prefix}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("test directory");
        let topology = Self {
            prefix,
            routers,
            dir,
            daemons: Vec::new(),
        };
        let switch = topology.namespace("sw");
        run(&["ip", "netns", "add", &switch]);
        run(&[
            "ip",
            "-n",
            &switch,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ]);
        run(&["ip", "-n", &switch, "link", "set", "br0", "up"]);
        let hosts: Vec<(String, usize)> = (1..=routers)
            .map(|n| (format!("r{n}"), n))
            .chain([("c".to_owned(), 9)])
            .collect();
        for (host, number) in hosts {
            let ns = topology.namespace(&host);
            run(&["ip", "netns", "add", &ns]);
            // No duplicate address detection: link-local addresses usable at once.
            run(&[
                "ip",
                "netns",
                "exec",
                &ns,
                "sysctl",
                "-qw",
                "net.ipv6.conf.default.accept_dad=0",
            ]);
            let port = format!("{}{host}", topology.prefix);
            run(&[
                "ip", "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &switch,
            ]);
            run(&[
                "ip", "-n", &switch, "link", "set", &port, "master", "br0", "up",
            ]);
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
            run(&[
                "ip",
                "-n",
                &ns,
                "link",
                "set",
                "eth0",
                "address",
                &format!("02:00:00:00:00:0{number}"),
            ]);
            run(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.99.0.{number}/24"),
                "dev",
                "eth0",
            ]);
            run(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
        }
        topology
    }

    /// A second network: bridge `br1` in the switch namespace and `eth1` in every router
    /// (`02:00:00:00:01:0N`, `10.98.0.N/24`), so that one router can lose one of its links alone.
    pub fn add_second_network(&self) {
        let switch = self.namespace("sw");
        run(&[
            "ip",
            "-n",
            &switch,
            "link",
            "add",
            "br1",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ]);
        run(&["ip", "-n", &switch, "link", "set", "br1", "up"]);
        for n in 1..=self.routers {
            let ns = self.router(n);
            let port = format!("{}s{n}", self.prefix);
            run(&[
                "ip", "link", "add", "eth1", "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &switch,
            ]);
            run(&[
                "ip", "-n", &switch, "link", "set", &port, "master", "br1", "up",
            ]);
            run(&[
                "ip",
                "-n",
                &ns,
                "link",
                "set",
                "eth1",
                "address",
                &format!("02:00:00:00:01:0{n}"),
            ]);
            run(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.98.0.{n}/24"),
                "dev",
                "eth1",
            ]);
            run(&["ip", "-n", &ns, "link", "set", "eth1", "up"]);
        }
    }

    /// Sets router `n`'s `interface` up or down.
    pub fn set_link(&self, n: usize, interface: &str, up: bool) {
        let state = if up { "up" } else { "down" };
        run(&["ip", "-n", &self.router(n), "link", "set", interface, state]);
    }

    /// Whether router `n` has `address` on `interface`.
    pub fn has_address_on(&self, n: usize, interface: &str, address: &str) -> bool {
        let out = Command::new("ip")
            .args([
                "-n",
                &self.router(n),
                "-o",
                "addr",
                "show",
                "dev",
                interface,
            ])
            .output();
        out.is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(&format!(" {address}/")))
    }

    /// Starts tcpdump on `br0` of the switch namespace, capturing what `filter` selects; returns once tcpdump
    /// says it is listening, so nothing sent afterwards is missed.
    pub fn capture(&self, filter: &str) -> Capture {
        self.start_capture(filter, &[])
    }

    /// The same, with each frame's MAC addresses and its details (an IGMP report's groups).
    pub fn capture_in_detail(&self, filter: &str) -> Capture {
        self.start_capture(filter, &["-e", "-v"])
    }

    fn start_capture(&self, filter: &str, options: &[&str]) -> Capture {
        let number = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.join(format!("capture-{number}.txt"));
        let status = self.dir.join(format!("capture-{number}.err"));
        let out = fs::File::create(&path).expect("capture file");
        let err = fs::File::create(&status).expect("capture status file");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.namespace("sw"),
                "tcpdump",
                "-i",
                "br0",
                "-n",
                "-l",
            ])
            .args(options)
            .args(["-tt", "--time-stamp-precision=nano", filter])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start tcpdump");
        let capture = Capture { child, path };
        // tcpdump prints "listening on br0, ..." once its socket is bound and filtered.
        let listening = wait_for(Duration::from_secs(10), || {
            fs::read_to_string(&status).is_ok_and(|text| text.contains("listening on"))
        });
        assert!(
            listening.is_some(),
            "tcpdump did not start: {}",
            fs::read_to_string(&status).unwrap_or_default()
        );
        capture
    }

    /// Starts tcpdump on `br0` of the switch namespace, capturing VRRP (protocol 112).
    pub fn capture_adverts(&self) -> Capture {
        self.capture("ip proto 112")
    }

    /// The namespace of `host` (`r1`, `r2`, `c`, `sw`).
    pub fn namespace(&self, host: &str) -> String {
        format!("{}{host}", self.prefix)
    }

    pub fn router(&self, n: usize) -> String {
        self.namespace(&format!("r{n}"))
    }

    pub fn client(&self) -> String {
        self.namespace("c")
    }

    pub fn mac(n: usize) -> String {
        format!("02:00:00:00:00:0{n}")
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        fs::write(&path, text).expect("write test file");
        path
    }

    /// Starts a daemon in router `n`'s namespace.
    pub fn start(&mut self, n: usize, implementation: Implementation, config: &str) -> usize {
        let ns = self.router(n);
        let run = self.daemons.len();
        let conf = self.write(&format!("r{n}-{run}.conf"), config);
        let pid = self.dir.join(format!("r{n}-{run}.pid"));
        let vrrp_pid = self.dir.join(format!("r{n}-{run}-vrrp.pid"));
        let log = self.dir.join(format!("r{n}-{run}.log"));
        let program = match implementation {
            Implementation::Vrrpd => env!("CARGO_BIN_EXE_vrrpd"),
            Implementation::Keepalived => KEEPALIVED,
        };
        let log_file = fs::File::create(&log).expect("log file");
        let child = Command::new("ip")
            .args([
                "netns", "exec", &ns, program, "-P", "-n", "-l", "-D", "-G", "-f",
            ])
            .arg(&conf)
            .arg("-p")
            .arg(&pid)
            .arg("-r")
            .arg(&vrrp_pid)
            // keepalived's BFD child (with a bfd_instance) has a pid file of its own.
            .arg("-b")
            .arg(self.dir.join(format!("r{n}-{run}-bfd.pid")))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .expect("start daemon");
        self.daemons.push(Daemon {
            implementation,
            child,
            vrrp_pid,
            log,
        });
        run
    }

    /// Replaces the configuration file of daemon `run` on router `n` (read again on SIGHUP).
    pub fn rewrite_config(&self, n: usize, run: usize, config: &str) {
        self.write(&format!("r{n}-{run}.conf"), config);
    }

    pub fn daemon(&mut self, run: usize) -> &mut Daemon {
        &mut self.daemons[run]
    }

    /// Gives router `n` its global IPv6 address on eth0 (unicast pairs send from and to these).
    pub fn add_unicast_ipv6(&self, n: usize) {
        let address = format!("{}/64", Protocol::unicast_ipv6(n));
        run(&[
            "ip",
            "-n",
            &self.router(n),
            "addr",
            "add",
            &address,
            "dev",
            "eth0",
            "nodad",
        ]);
    }

    /// Removes `address` (with its prefix length) from router `n`'s eth0, if it is there: what a killed
    /// daemon leaves behind and a restart would take away.
    pub fn remove_address(&self, n: usize, address: &str) {
        let _ = Command::new("ip")
            .args(["-n", &self.router(n), "addr", "del", address, "dev", "eth0"])
            .status();
    }

    /// Router `n`'s nftables ruleset, as `nft list ruleset` prints it.
    pub fn ruleset(&self, n: usize) -> String {
        run(&[
            "ip",
            "netns",
            "exec",
            &self.router(n),
            "nft",
            "list",
            "ruleset",
        ])
    }

    /// Whether router `n` has the VIP on eth0.
    pub fn has_vip(&self, n: usize) -> bool {
        self.has_address(n, VIP)
    }

    /// Whether router `n` has `address` on eth0.
    pub fn has_address(&self, n: usize, address: &str) -> bool {
        let out = Command::new("ip")
            .args(["-n", &self.router(n), "-o", "addr", "show", "dev", "eth0"])
            .output();
        out.is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(&format!(" {address}/")))
    }

    /// Pings the VIP from the client and returns the MAC the client then has for it.
    pub fn client_reaches_vip(&self) -> Option<String> {
        let ns = self.client();
        let ping = Command::new("ip")
            .args([
                "netns", "exec", &ns, "busybox", "ping", "-c", "1", "-W", "1", VIP,
            ])
            .output()
            .ok()?;
        if !ping.status.success() {
            return None;
        }
        let neigh = run(&["ip", "-n", &ns, "neigh", "show", VIP]);
        neigh
            .split_whitespace()
            .skip_while(|word| *word != "lladdr")
            .nth(1)
            .map(str::to_owned)
    }

    /// Logs of every daemon, for failure messages.
    pub fn logs(&self) -> String {
        self.daemons
            .iter()
            .map(|daemon| {
                format!(
                    "==== {} ({:?})\n{}",
                    daemon.log.display(),
                    daemon.implementation,
                    fs::read_to_string(&daemon.log).unwrap_or_default()
                )
            })
            .collect()
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for daemon in &mut self.daemons {
            daemon.kill();
        }
        for host in (1..=self.routers)
            .map(|n| format!("r{n}"))
            .chain(["c".into(), "sw".into()])
        {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.namespace(&host)])
                .status();
        }
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implementation {
    Vrrpd,
    Keepalived,
}

pub struct Daemon {
    pub implementation: Implementation,
    child: Child,
    vrrp_pid: PathBuf,
    pub log: PathBuf,
}

impl Daemon {
    /// The process doing VRRP: ours, or keepalived's VRRP child.
    fn vrrp_process(&self) -> Option<i32> {
        match self.implementation {
            Implementation::Vrrpd => read_pid(&self.vrrp_pid).or(Some(self.child.id() as i32)),
            Implementation::Keepalived => read_pid(&self.vrrp_pid),
        }
    }

    /// SIGKILL: no goodbye on the wire. keepalived's VRRP child first, since killing only its parent makes
    /// the child stop gracefully.
    pub fn kill(&mut self) {
        if let Some(pid) = self.vrrp_process() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM to the main process (keepalived's parent passes it on to its VRRP child).
    pub fn terminate(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }

    /// Waits up to 10 s for the process to end; its exit status.
    pub fn wait_exit(&mut self) -> Option<std::process::ExitStatus> {
        wait_for(Duration::from_secs(10), || {
            self.child.try_wait().ok().flatten().is_some()
        })?;
        self.child.try_wait().ok().flatten()
    }

    /// `signal` to the main process (keepalived's parent, which passes SIGHUP and SIGTERM on to its children).
    pub fn signal_main(&self, signal: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal);
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        if let Some(pid) = self.vrrp_process() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A running tcpdump of VRRP adverts on the bridge.
pub struct Capture {
    child: Child,
    path: PathBuf,
}

/// An advert seen on the wire.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Seconds since the epoch (tcpdump's clock).
    pub time: f64,
    pub source: String,
    pub priority: Option<u8>,
}

impl Capture {
    /// The adverts captured so far, in order.
    pub fn adverts(&self) -> Vec<Seen> {
        let text = fs::read(&self.path).unwrap_or_default();
        String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|line| {
                // 1764628800.123456789 IP 10.99.0.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 200, ...
                let mut words = line.split_whitespace();
                let time = words.next()?.parse().ok()?;
                let source = words.nth(1)?.to_owned();
                let priority = line
                    .split("prio ")
                    .nth(1)
                    .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|digits| digits.parse().ok());
                Some(Seen {
                    time,
                    source,
                    priority,
                })
            })
            .collect()
    }

    /// Everything tcpdump printed so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.path).unwrap_or_default()).into_owned()
    }

    /// Stops tcpdump and returns every advert it saw.
    pub fn stop(mut self) -> Vec<Seen> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.adverts()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Polls `condition` every 5 ms until it holds (returns how long that took) or `limit` passes.
pub fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How two routers talk in a test.
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    pub version: u8,
    /// Seconds (VRRPv2: whole seconds).
    pub advert_int: f64,
    pub unicast: bool,
    pub password: Option<&'static str>,
    /// The password authenticates with an IPsec AH header (`auth_type AH`) instead of PASS.
    pub ah: bool,
    /// An IPv6 VIP (VRRPv3 from the link-local addresses) instead of the IPv4 one.
    pub ipv6: bool,
}

impl Protocol {
    pub fn vip(&self) -> &'static str {
        if self.ipv6 { VIP6 } else { VIP }
    }

    /// Master_Down_Interval of a backup with priority `priority`.
    pub fn down_interval(&self, priority: u8) -> Duration {
        Duration::from_secs_f64(3.0 * self.advert_int) + self.skew(priority)
    }

    pub fn skew(&self, priority: u8) -> Duration {
        let unit = if self.version == 2 {
            1.0
        } else {
            self.advert_int
        };
        Duration::from_secs_f64(f64::from(256 - u16::from(priority)) / 256.0 * unit)
    }

    /// Router `n`'s global IPv6 address, the unicast source and peer of IPv6 unicast pairs
    /// ([`Topology::add_unicast_ipv6`]).
    pub fn unicast_ipv6(n: usize) -> String {
        format!("2001:db8:99::{n}")
    }

    /// The keepalived.conf of router `n` (the other router being `peer`).
    pub fn config(&self, n: usize, peer: usize, priority: u8) -> String {
        let mut text = String::new();
        text.push_str("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n");
        text.push_str(&format!(
            "    priority {priority}\n    advert_int {}\n",
            self.advert_int
        ));
        text.push_str(&format!("    version {}\n", self.version));
        if self.unicast {
            let (source, peer) = if self.ipv6 {
                (Self::unicast_ipv6(n), Self::unicast_ipv6(peer))
            } else {
                (format!("10.99.0.{n}"), format!("10.99.0.{peer}"))
            };
            text.push_str(&format!(
                "    unicast_src_ip {source}\n    unicast_peer {{\n        {peer}\n    }}\n"
            ));
        }
        if let Some(password) = self.password {
            let kind = if self.ah { "AH" } else { "PASS" };
            text.push_str(&format!(
                "    authentication {{\n        auth_type {kind}\n        auth_pass {password}\n    }}\n"
            ));
        }
        let vip = if self.ipv6 {
            format!("{VIP6}/64")
        } else {
            format!("{VIP}/24")
        };
        text.push_str(&format!(
            "    virtual_ipaddress {{\n        {vip}\n    }}\n}}\n"
        ));
        text
    }
}
