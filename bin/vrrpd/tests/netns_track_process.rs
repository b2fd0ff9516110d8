//! `vrrp_track_process` in namespaces: a master tracking `sleep` processes started and killed by the test
//! (told apart from any other `sleep` by their arguments). Unweighted: no process → FAULT, the peer takes
//! over; the process again → the master preempts back. Weighted with a quorum of two and `param_match
//! partial`: the priority moves over the peer's only with both running. `terminate_delay` holds the FAULT
//! back. The daemons run in network namespaces, where the kernel's process events are not delivered, so
//! these runs exercise the `/proc` scan; the event path is tested in `vrrpd-runtime` on the host.

mod netns;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netns::{Implementation, Topology, wait_for};

fn instance(priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority {priority}\n\
         advert_int 0.1\n    version 3\n{extra}    virtual_ipaddress {{\n        {}/24\n    }}\n}}\n",
        netns::VIP
    )
}

/// A `sleep` of the test's, killed when dropped (a failing test leaves none behind).
struct Sleeper(Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `sleep` with these arguments (durations that add up; the first marks it as the test's).
fn sleeper(args: &[&str]) -> Sleeper {
    let child = Command::new("sleep")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sleep");
    Sleeper(child)
}

fn stop(sleeper: Sleeper) {
    drop(sleeper);
}

/// A marker unique to this run and test, as a duration `sleep` accepts.
fn marker(test: u32) -> String {
    format!(
        "{}.{test}{}",
        3000 + std::process::id() % 1000,
        std::process::id()
    )
}

#[test]
fn unweighted_process_faults_the_master_and_terminate_delay_holds_it() {
    require_netns!();
    let mut topology = Topology::new(2);
    let mark = marker(1);
    let config = format!(
        "vrrp_track_process P {{\n    process sleep {mark}\n    terminate_delay 2\n}}\n{}",
        instance(200, "    track_process {\n        P\n    }\n")
    );
    let first = sleeper(&[&mark]);
    topology.start(2, Implementation::Vrrpd, &instance(150, ""));
    topology.start(1, Implementation::Vrrpd, &config);
    assert!(
        wait_for(Duration::from_secs(5), || topology.has_vip(1)).is_some(),
        "no master\n{}",
        topology.logs()
    );
    // A sleep with other arguments is not ours.
    let other = sleeper(&[&mark, "1"]);
    stop(first);
    let killed = Instant::now();
    // Seen within a scan (1 s), then held for terminate_delay (2 s).
    std::thread::sleep(Duration::from_millis(1800));
    assert!(
        topology.has_vip(1),
        "FAULT before terminate_delay\n{}",
        topology.logs()
    );
    assert!(
        wait_for(Duration::from_secs(3), || topology.has_vip(2)
            && !topology.has_vip(1))
        .is_some(),
        "the process ending did not fault the master\n{}",
        topology.logs()
    );
    let after = killed.elapsed();
    assert!(
        after >= Duration::from_secs(2) && after < Duration::from_millis(3500),
        "FAULT {after:?} after the exit"
    );
    let again = sleeper(&[&mark]);
    assert!(
        wait_for(Duration::from_secs(3), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "the process again did not bring the master back\n{}",
        topology.logs()
    );
    stop(again);
    stop(other);
}

#[test]
fn weighted_quorum_with_partial_parameters_moves_the_priority() {
    require_netns!();
    let mut topology = Topology::new(2);
    let mark = marker(2);
    // 100 alone, 160 with two matching processes: above the peer's 150 only then.
    let config = format!(
        "vrrp_track_process P {{\n    process sleep {mark}\n    param_match partial\n    quorum 2\n    weight 60\n}}\n{}",
        instance(100, "    track_process {\n        P\n    }\n")
    );
    let first = sleeper(&[&mark, "1000"]);
    topology.start(2, Implementation::Vrrpd, &instance(150, ""));
    topology.start(1, Implementation::Vrrpd, &config);
    assert!(
        wait_for(Duration::from_secs(5), || topology.has_vip(2)).is_some(),
        "no master\n{}",
        topology.logs()
    );
    let capture = topology.capture_adverts();
    // The second one (parameters beginning with the configured ones) makes quorum.
    let second = sleeper(&[&mark, "2000"]);
    assert!(
        wait_for(Duration::from_secs(3), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "quorum did not raise the priority over the peer's\n{}",
        topology.logs()
    );
    assert!(
        wait_for(Duration::from_secs(2), || capture.adverts().iter().any(
            |seen| seen.source == "10.99.0.1" && seen.priority == Some(160)
        ))
        .is_some(),
        "no advert at 160"
    );
    stop(second);
    assert!(
        wait_for(Duration::from_secs(3), || topology.has_vip(2)
            && !topology.has_vip(1))
        .is_some(),
        "losing quorum did not hand back to the peer\n{}",
        topology.logs()
    );
    stop(first);
}

/// A veth from the host's own network namespace into the test's bridge, so that a daemon on the host
/// gets the kernel's process events; removed when dropped.
struct HostPort {
    name: String,
}

impl HostPort {
    fn new(topology: &Topology) -> Self {
        let id = std::process::id() % 100_000;
        let name = format!("vxh{id}");
        let peer = format!("vxs{id}");
        let switch = topology.namespace("sw");
        let ip = |args: &[&str]| {
            let status = Command::new("ip").args(args).status();
            assert!(status.is_ok_and(|s| s.success()), "ip {args:?}");
        };
        ip(&[
            "link", "add", &name, "type", "veth", "peer", "name", &peer, "netns", &switch,
        ]);
        let port = Self { name };
        ip(&["-n", &switch, "link", "set", &peer, "master", "br0", "up"]);
        ip(&["addr", "add", "10.99.0.5/24", "dev", &port.name]);
        ip(&["link", "set", &port.name, "up"]);
        port
    }

    fn has_vip(&self) -> bool {
        let out = Command::new("ip")
            .args(["-o", "addr", "show", "dev", &self.name])
            .output();
        out.is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout).contains(&format!(" {}/", netns::VIP))
        })
    }
}

impl Drop for HostPort {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.name])
            .status();
    }
}

/// A daemon in the host's network namespace, stopped when dropped.
struct HostDaemon {
    child: Child,
    log: std::path::PathBuf,
}

impl HostDaemon {
    fn start(topology: &Topology, implementation: Implementation, config: &str) -> Self {
        let tag = format!("host-{implementation:?}");
        let conf = topology.write(&format!("{tag}.conf"), config);
        let log = topology.dir.join(format!("{tag}.log"));
        let program = match implementation {
            Implementation::Vrrpd => env!("CARGO_BIN_EXE_vrrpd"),
            Implementation::Keepalived => netns::KEEPALIVED,
        };
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(program)
            .args(["-P", "-n", "-l", "-D", "-G", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(topology.dir.join(format!("{tag}.pid")))
            .arg("-r")
            .arg(topology.dir.join(format!("{tag}-vrrp.pid")))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("start daemon");
        Self { child, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for HostDaemon {
    fn drop(&mut self) {
        // SIGTERM, so that keepalived's VRRP child stops with its parent.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        if wait_for(Duration::from_secs(5), || {
            self.child.try_wait().ok().flatten().is_some()
        })
        .is_none()
        {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// With process events (the host's namespace): an exit is seen at once, so the FAULT follows the
/// `terminate_delay` to within a few milliseconds, and a new process brings the instance back at once.
/// Ours and keepalived 2.2.7, one after the other, with the same expectations.
#[test]
fn process_events_in_the_host_namespace_ours_and_keepalived() {
    require_netns!();
    let mut implementations = vec![Implementation::Vrrpd];
    if std::path::Path::new(netns::KEEPALIVED).exists() {
        implementations.push(Implementation::Keepalived);
    }
    for implementation in implementations {
        let mut topology = Topology::new(1);
        let port = HostPort::new(&topology);
        let mark = marker(3);
        let config = format!(
            "vrrp_track_process P {{\n    process sleep {mark}\n    terminate_delay 0.5\n}}\n\
             vrrp_instance VI_1 {{\n    interface {}\n    virtual_router_id 51\n    priority 200\n\
             advert_int 0.1\n    version 3\n    track_process {{\n        P\n    }}\n\
             virtual_ipaddress {{\n        {}/24\n    }}\n}}\n",
            port.name,
            netns::VIP
        );
        let first = sleeper(&[&mark]);
        topology.start(1, Implementation::Vrrpd, &instance(150, ""));
        let daemon = HostDaemon::start(&topology, implementation, &config);
        let context =
            |topology: &Topology| format!("{}\n==== host\n{}", topology.logs(), daemon.log_text());
        assert!(
            wait_for(Duration::from_secs(5), || port.has_vip()
                && !topology.has_vip(1))
            .is_some(),
            "{implementation:?}: no master\n{}",
            context(&topology)
        );
        stop(first);
        let faulted = wait_for(Duration::from_secs(3), || !port.has_vip());
        assert!(
            faulted
                .is_some_and(|after| after >= Duration::from_millis(480)
                    && after < Duration::from_millis(900)),
            "{implementation:?}: FAULT after {faulted:?}, expected terminate_delay 0.5 s\n{}",
            context(&topology)
        );
        assert!(
            wait_for(Duration::from_secs(1), || topology.has_vip(1)).is_some(),
            "{implementation:?}: the peer did not take over\n{}",
            context(&topology)
        );
        let again = sleeper(&[&mark]);
        let back = wait_for(Duration::from_secs(3), || port.has_vip());
        assert!(
            back.is_some_and(|after| after < Duration::from_millis(700)),
            "{implementation:?}: back after {back:?}\n{}",
            context(&topology)
        );
        // keepalived's lines for the quorum, the same from both.
        for line in [
            "Quorum lost for tracked process P",
            "Quorum gained for tracked process P",
        ] {
            assert!(
                wait_for(Duration::from_secs(1), || daemon.log_text().contains(line)).is_some(),
                "{implementation:?}: no {line:?}\n{}",
                context(&topology)
            );
        }
        stop(again);
        drop(daemon);
    }
}
