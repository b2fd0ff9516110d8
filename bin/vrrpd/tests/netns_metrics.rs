//! The Prometheus endpoint during a failover: two vrrpd routers in network namespaces of their own,
//! joined by a veth pair, each serving `--metrics-listen` on its loopback; the test scrapes both
//! (curl inside the namespace) while the master runs, then kills it and scrapes the backup as it
//! takes over. States, adverts and transitions must move as the routers do. Needs root.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PORT: u16 = 9650;

struct Pair {
    prefix: String,
    dir: std::path::PathBuf,
    daemons: Vec<Child>,
}

impl Drop for Pair {
    fn drop(&mut self) {
        for child in &mut self.daemons {
            let _ = child.kill();
            let _ = child.wait();
        }
        for n in 1..=2 {
            let _ = Command::new("ip")
                .args(["netns", "del", &format!("{}r{n}", self.prefix)])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("ip");
    assert!(status.success(), "ip {args:?}");
}

impl Pair {
    fn ns(&self, n: usize) -> String {
        format!("{}r{n}", self.prefix)
    }

    fn start(&mut self, n: usize, priority: u8) {
        let conf = self.dir.join(format!("r{n}.conf"));
        std::fs::write(
            &conf,
            format!(
                "global_defs {{\n    vrrp_version 3\n}}\nvrrp_instance VI_1 {{\n    interface eth0\n    \
                 virtual_router_id 51\n    priority {priority}\n    advert_int 0.1\n    \
                 virtual_ipaddress {{\n        10.97.0.100/24\n    }}\n}}\n"
            ),
        )
        .expect("config");
        let log = std::fs::File::create(self.dir.join(format!("r{n}.log"))).expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(n), env!("CARGO_BIN_EXE_vrrpd")])
            .args(["-P", "-n", "-l", "-G", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(self.dir.join(format!("r{n}.pid")))
            .arg("-r")
            .arg(self.dir.join(format!("r{n}-vrrp.pid")))
            .arg(format!("--metrics-listen=127.0.0.1:{PORT}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start vrrpd");
        self.daemons.push(child);
    }

    /// The metrics of router `n`, or "" when it does not answer.
    fn scrape(&self, n: usize) -> String {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(n),
                "curl",
                "-sf",
                "--max-time",
                "2",
            ])
            .arg(format!("http://127.0.0.1:{PORT}/metrics"))
            .output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    fn logs(&self) -> String {
        (1..=2)
            .map(|n| {
                std::fs::read_to_string(self.dir.join(format!("r{n}.log"))).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n----\n")
    }
}

/// The value of the sample `name{instance="VI_1",...extra}`.
fn sample(text: &str, name: &str, extra: &str) -> Option<u64> {
    let prefix = format!("{name}{{instance=\"VI_1\",interface=\"eth0\",vrid=\"51\"{extra}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.parse().ok())
}

fn state(text: &str, state: &str) -> bool {
    sample(text, "vrrpd_instance_state", &format!(",state=\"{state}\"")) == Some(1)
}

fn wait_for(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    condition()
}

#[test]
fn metrics_follow_election_adverts_and_failover() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: not root");
        return;
    }
    if !Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: no curl");
        return;
    }
    let prefix = format!("vm{}", std::process::id() % 100_000);
    let dir = std::env::temp_dir().join(format!("vrrpd-{prefix}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test directory");
    let mut pair = Pair {
        prefix,
        dir,
        daemons: Vec::new(),
    };
    for n in 1..=2 {
        ip(&["netns", "add", &pair.ns(n)]);
        ip(&["-n", &pair.ns(n), "link", "set", "lo", "up"]);
    }
    ip(&[
        "-n",
        &pair.ns(1),
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        &pair.ns(2),
    ]);
    for n in 1..=2 {
        ip(&[
            "-n",
            &pair.ns(n),
            "addr",
            "add",
            &format!("10.97.0.{n}/24"),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &pair.ns(n), "link", "set", "eth0", "up"]);
    }
    pair.start(1, 200);
    pair.start(2, 100);

    assert!(
        wait_for(Duration::from_secs(10), || state(&pair.scrape(1), "master")
            && state(&pair.scrape(2), "backup")),
        "no master/backup in the metrics:\n{}\n{}\n{}",
        pair.scrape(1),
        pair.scrape(2),
        pair.logs()
    );
    let (r1, r2) = (pair.scrape(1), pair.scrape(2));
    let sent = sample(&r1, "vrrpd_adverts_sent_total", "").unwrap_or(0);
    let received = sample(&r2, "vrrpd_adverts_received_total", "").unwrap_or(0);
    let drops = sample(&r2, "vrrpd_drops_total", ",reason=\"other\"");
    assert_eq!(sample(&r1, "vrrpd_became_master_total", ""), Some(1));
    assert_eq!(sample(&r2, "vrrpd_became_master_total", ""), Some(0));
    assert_eq!(sample(&r1, "vrrpd_instance_priority", ""), Some(200));
    std::thread::sleep(Duration::from_secs(1));
    let (r1, r2) = (pair.scrape(1), pair.scrape(2));
    let sent_later = sample(&r1, "vrrpd_adverts_sent_total", "").unwrap_or(0);
    let received_later = sample(&r2, "vrrpd_adverts_received_total", "").unwrap_or(0);
    // 0.1 s adverts: about 10 in a second; at least 5 however busy the machine.
    assert!(sent_later >= sent + 5, "sent {sent} then {sent_later}");
    assert!(
        received_later >= received + 5,
        "received {received} then {received_later}"
    );
    // Steady state: nothing is dropped (adverts before the backup listened may have been).
    let drops_later = sample(&r2, "vrrpd_drops_total", ",reason=\"other\"");
    assert_eq!(drops_later, drops, "{r2}");

    // The master dies without a word; the backup's metrics show it take over.
    let _ = pair.daemons[0].kill();
    let _ = pair.daemons[0].wait();
    assert!(
        wait_for(Duration::from_secs(5), || state(&pair.scrape(2), "master")),
        "the backup's metrics never showed MASTER:\n{}\n{}",
        pair.scrape(2),
        pair.logs()
    );
    let r2 = pair.scrape(2);
    assert_eq!(
        sample(&r2, "vrrpd_became_master_total", ""),
        Some(1),
        "{r2}"
    );
    assert!(!state(&r2, "backup"), "{r2}");
    let sent = sample(&r2, "vrrpd_adverts_sent_total", "").unwrap_or(0);
    assert!(
        wait_for(Duration::from_secs(5), || sample(
            &pair.scrape(2),
            "vrrpd_adverts_sent_total",
            ""
        )
        .unwrap_or(0)
            > sent),
        "the new master's adverts_sent does not move"
    );
    assert_eq!(pair.scrape(1), "", "the dead router still answers");
}
