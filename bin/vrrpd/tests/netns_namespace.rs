//! Running in a named network namespace, against keepalived 2.2.7: started in the host's
//! namespace with `-s NAME` (or the configuration's `net_namespace`), each daemon takes the VIP
//! on the interface of that namespace, writes its pid files (keepalived's default names, with an
//! `instance` name when there is one) in `/run/keepalived/NAME` as the host sees it, logs the
//! same lines (the override of the configuration's namespace, the new syslog identity) and
//! leaves no directory behind; a namespace that does not exist ends both with the same lines and
//! status 0.

mod netns;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use netns::{Implementation, KEEPALIVED, Topology, VIP, wait_for};

fn config(top: &str) -> String {
    format!(
        "{top}vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 100\n\
         advert_int 0.1\n    version 3\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// The daemons of these tests share `/run/keepalived`, which each removes when it stops: one
/// runs at a time (keepalived fails to start when another removes it under its feet).
static RUN_KEEPALIVED: Mutex<()> = Mutex::new(());

/// A daemon started in the host's namespace, with the default pid files.
struct Run {
    child: Child,
    log: PathBuf,
}

impl Run {
    fn start(
        topology: &Topology,
        implementation: Implementation,
        config: &str,
        args: &[&str],
    ) -> Self {
        let conf = topology.write(&format!("{implementation:?}.conf"), config);
        let log = topology.dir.join(format!("{implementation:?}.log"));
        let program = match implementation {
            Implementation::Vrrpd => env!("CARGO_BIN_EXE_vrrpd"),
            Implementation::Keepalived => KEEPALIVED,
        };
        let out = fs::File::create(&log).expect("log file");
        let child = Command::new(program)
            .args(["-P", "-n", "-l", "-D", "-G"])
            .args(args)
            .arg("-f")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .expect("start daemon");
        Run { child, log }
    }

    fn stop(&mut self) -> Option<ExitStatus> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.wait(Duration::from_secs(10))
    }

    fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let mut status = None;
        wait_for(limit, || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        status
    }

    /// keepalived's lines about where it runs, without their time stamps.
    fn placement_lines(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| {
                ["namespace", "ident", "netns"]
                    .iter()
                    .any(|w| line.contains(w))
            })
            .filter(|line| !line.contains("Command line"))
            .map(|line| {
                line.split_once(": ")
                    .map_or(line, |(_, text)| text)
                    .to_owned()
            })
            .collect()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a daemon run in router 1's namespace from outside shows: the pid files (name and
/// content) in the namespace's pid directory, its lines, and whether the directory outlived it.
#[derive(Debug, PartialEq)]
struct Seen {
    pid_files: Vec<String>,
    lines: Vec<String>,
    directory_left: bool,
}

fn run_in_namespace(implementation: Implementation, top: &str, args: &[&str]) -> Seen {
    let _alone = RUN_KEEPALIVED.lock().unwrap_or_else(|e| e.into_inner());
    let topology = Topology::new(1);
    let namespace = topology.router(1);
    let args: Vec<&str> = args
        .iter()
        .map(|arg| {
            if *arg == "NS" {
                namespace.as_str()
            } else {
                arg
            }
        })
        .collect();
    let top = top.replace("NS", &namespace);
    let mut run = Run::start(&topology, implementation, &config(&top), &args);
    assert!(
        wait_for(Duration::from_secs(10), || topology.has_vip(1)).is_some(),
        "{implementation:?} did not take the VIP in {namespace}:\n{}",
        fs::read_to_string(&run.log).unwrap_or_default()
    );
    let directory = Path::new("/run/keepalived").join(&namespace);
    let mut pid_files: Vec<String> = fs::read_dir(&directory)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    pid_files.sort();
    // keepalived's parent writes the first; ours is its own VRRP process too.
    let main = fs::read_to_string(directory.join(pid_files.first().map_or("", String::as_str)));
    assert_eq!(
        main.ok().map(|text| text.trim().to_owned()),
        Some(run.child.id().to_string()),
        "{implementation:?}: {pid_files:?}"
    );
    let status = run.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "{implementation:?}: {status:?}"
    );
    let lines = run.placement_lines();
    Seen {
        pid_files: pid_files
            .into_iter()
            .map(|file| file.replace(&namespace, "NS"))
            .collect(),
        lines: lines
            .into_iter()
            .map(|line| line.replace(&namespace, "NS"))
            .collect(),
        directory_left: directory.exists(),
    }
}

#[test]
fn a_daemon_runs_in_the_namespace_given_on_its_command_line() {
    require_netns!(keepalived);
    let reference = run_in_namespace(Implementation::Keepalived, "", &["-s", "NS"]);
    let ours = run_in_namespace(Implementation::Vrrpd, "", &["-s", "NS"]);
    assert_eq!(reference.pid_files, ["keepalived.pid", "vrrp.pid"]);
    assert_eq!(reference.lines, ["Changing syslog ident to Keepalived_NS"]);
    assert!(!reference.directory_left);
    assert_eq!(ours, reference);
}

#[test]
fn the_command_line_s_namespace_wins_over_the_configuration_s_with_an_instance_name() {
    require_netns!(keepalived);
    let top = "net_namespace elsewhere\ninstance blue\n";
    let reference = run_in_namespace(Implementation::Keepalived, top, &["-s", "NS"]);
    let ours = run_in_namespace(Implementation::Vrrpd, top, &["-s", "NS"]);
    assert_eq!(
        reference.pid_files,
        ["keepalived_blue.pid", "vrrp_blue.pid"]
    );
    assert_eq!(
        reference.lines,
        [
            "Overriding config net_namespace 'elsewhere' with command line namespace 'NS'",
            "Changing syslog ident to Keepalived_NS_blue",
        ]
    );
    assert_eq!(ours, reference);
    // The configuration's namespace alone.
    let reference = run_in_namespace(Implementation::Keepalived, "net_namespace NS\n", &[]);
    let ours = run_in_namespace(Implementation::Vrrpd, "net_namespace NS\n", &[]);
    assert_eq!(reference.pid_files, ["keepalived.pid", "vrrp.pid"]);
    assert_eq!(ours, reference);
}

#[test]
fn a_namespace_that_does_not_exist_ends_the_daemon() {
    require_netns!(keepalived);
    let _alone = RUN_KEEPALIVED.lock().unwrap_or_else(|e| e.into_inner());
    let topology = Topology::new(1);
    let missing = format!("{}-missing", topology.router(1));
    let mut seen = Vec::new();
    for implementation in [Implementation::Keepalived, Implementation::Vrrpd] {
        let mut run = Run::start(&topology, implementation, &config(""), &["-s", &missing]);
        let status = run.wait(Duration::from_secs(10));
        seen.push((status.and_then(|s| s.code()), run.placement_lines()));
    }
    assert_eq!(
        seen[0].1,
        [
            format!("Changing syslog ident to Keepalived_{missing}"),
            format!("Failed to open /run/netns/{missing}"),
            format!("Unable to set network namespace {missing} - exiting"),
        ]
    );
    assert_eq!(seen[0].0, Some(0));
    assert_eq!(seen[1], seen[0]);
    assert!(!topology.has_vip(1));
}
