//! The `vrrpd` binary: keepalived's command line (answers compared with keepalived 2.2.7's),
//! `-t` in both output styles, `--dump-conf`, and the daemon placeholder.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A configuration in a directory of its own.
struct Config {
    dir: PathBuf,
}

impl Config {
    fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vrrpd-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        std::fs::write(dir.join("keepalived.conf"), text).expect("write configuration");
        Config { dir }
    }

    fn path(&self) -> String {
        self.dir
            .join("keepalived.conf")
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn vrrpd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vrrpd"))
        .args(args)
        .output()
        .expect("run vrrpd")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const TYPO: &str = "virtual_server 192.0.2.1 80 {
  protocol TCP
  lb_algoo rr
  lb_kind dr
  real_server 192.0.2.2 80 {
    TCP_CHECK {
    }
  }
}
";

#[test]
fn version_and_help_go_to_stderr_and_succeed() {
    let version = vrrpd(&["-v"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(stderr(&version).contains("vrrpd v"));
    let help = vrrpd(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let usage = stderr(&help);
    for option in [
        "--use-file=FILE",
        "--config-test[=LOG_FILE]",
        "--config-id",
        "--signum",
    ] {
        assert!(usage.contains(option), "usage lacks {option}");
    }
}

#[test]
fn bad_options_fail_like_keepalived() {
    let unknown = vrrpd(&["--bogus"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(stderr(&unknown), "Unknown option --bogus\n");
    let missing = vrrpd(&["-f"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stderr(&missing), "Missing parameter for option -f\n");
}

#[test]
fn signum_prints_the_signal_number() {
    let reload = vrrpd(&["--signum=RELOAD"]);
    assert_eq!(
        (reload.status.code(), stdout(&reload)),
        (Some(0), "1\n".into())
    );
    let stop = vrrpd(&["--signum=STOP"]);
    assert_eq!(stdout(&stop), "15\n");
    let unknown = vrrpd(&["--signum=FOO"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(stderr(&unknown), "Unknown sigfunc FOO\n");
}

#[test]
fn a_missing_configuration_is_reported_but_not_an_error() {
    let out = vrrpd(&["-t", "-f", "/nonexistent/keepalived.conf"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "Config files missing '/nonexistent/keepalived.conf'.\n"
    );
}

#[test]
fn config_test_speaks_like_keepalived_when_asked() {
    let config = Config::new("keepalived", TYPO);
    let out = vrrpd(&["-t", "--diagnostics=keepalived", "-f", &config.path()]);
    assert_eq!(out.status.code(), Some(5));
    let text = stderr(&out);
    let path = config.path();
    assert!(text.contains(&format!("({path}: Line 3) Unknown keyword 'lb_algoo'")));
    assert!(text.contains(&format!(
        "({path}: Line 4) PARSER : unknown [dr] routing method for virtual server."
    )));
}

#[test]
fn human_diagnostics_point_at_the_text_and_suggest_a_fix() {
    let config = Config::new("human", TYPO);
    let out = vrrpd(&["-t", "--diagnostics=human", "-f", &config.path()]);
    assert_eq!(out.status.code(), Some(5));
    let text = stderr(&out);
    assert!(text.contains(&format!("{}:3:3", config.path())), "{text}");
    assert!(text.contains("^^^^^^^^"), "{text}");
    assert!(text.contains("did you mean `lb_algo`?"), "{text}");
    assert!(text.contains("methods are upper case: `DR`"), "{text}");
    assert!(
        text.contains("keepalived 2.2.7 would exit with status 5"),
        "{text}"
    );
}

#[test]
fn config_test_can_write_to_a_file() {
    let config = Config::new("logfile", TYPO);
    let log = config.dir.join("check.log");
    let flag = format!("--config-test={}", log.display());
    let out = vrrpd(&[&flag, "-f", &config.path()]);
    assert_eq!(out.status.code(), Some(5));
    let written = std::fs::read_to_string(&log).expect("log file");
    assert!(written.contains("Unknown keyword 'lb_algoo'"));
}

#[test]
fn dump_conf_prints_the_meaning() {
    let config = Config::new("dump", TYPO);
    let out = vrrpd(&["--dump-conf", "-f", &config.path()]);
    let dump = stdout(&out);
    // The typo leaves the default scheduler; the lower-case method leaves NAT.
    assert!(dump.contains("lb_algo wlc"), "{dump}");
    assert!(dump.contains("lb_kind NAT"), "{dump}");
    assert!(dump.contains("real_server 192.0.2.2 80 {"), "{dump}");
}

#[test]
fn checkers_only_runs_the_checker_process() {
    // The checker process starts (it logs as keepalived's healthcheckers) and stops at once
    // because its pid file cannot be written.
    let config = Config::new("daemon", TYPO);
    let out = vrrpd(&[
        "-C",
        "-n",
        "-l",
        "-G",
        "-p",
        "/dev/null/keepalived.pid",
        "-f",
        &config.path(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("healthcheckers"), "{err}");
    assert!(err.contains("cannot write pid file"), "{err}");
}

/// Runs keepalived's daemon and ours on `config`, each in a network namespace of its own (so that
/// nothing they program outlives them) for at most ten seconds, without respawning children:
/// (ours, keepalived's).
fn run_both(config: &Config) -> (Output, Output) {
    let run = |program: &str, tag: &str| {
        let pid = |name: &str| {
            config
                .dir
                .join(format!("{tag}-{name}.pid"))
                .to_string_lossy()
                .into_owned()
        };
        Command::new("unshare")
            .args(["-n", "timeout", "10", program])
            .args(["-n", "-l", "--dont-respawn", "-f", &config.path()])
            .args([
                "-p",
                &pid("main"),
                "-c",
                &pid("checkers"),
                "-r",
                &pid("vrrp"),
            ])
            .output()
            .expect("run unshare")
    };
    (
        run(env!("CARGO_BIN_EXE_vrrpd"), "ours"),
        run("/usr/sbin/keepalived", "keepalived"),
    )
}

/// The same exit status for both; ours logged each of `lines` when keepalived's status is `status`.
fn assert_same_end(ours: &Output, reference: &Output, status: i32, lines: &[&str]) {
    assert_eq!(
        ours.status.code(),
        reference.status.code(),
        "ours:\n{}\nkeepalived:\n{}",
        stderr(ours),
        stderr(reference)
    );
    let log = stderr(ours);
    if reference.status.code() == Some(status) {
        for line in lines {
            assert!(log.contains(line), "no '{line}' in\n{log}");
        }
    }
}

#[test]
fn virtual_servers_without_ipvs_stop_the_daemon_as_keepalived() {
    // This machine's kernel has no IPVS: keepalived's checker child exits with its fatal status,
    // and the parent stops with it. Where IPVS exists, both run until the timeout.
    let config = Config::new(
        "no-ipvs",
        "virtual_server 192.0.2.1 80 {\n  protocol TCP\n  real_server 192.0.2.2 80 {\n    inhibit_on_failure\n    TCP_CHECK {\n    }\n  }\n}\n",
    );
    let (ours, reference) = run_both(&config);
    assert_same_end(
        &ours,
        &reference,
        1,
        &[
            "Shutting down (inhibited) service [192.0.2.2]:tcp:80 from VS [192.0.2.1]:tcp:80",
            "exited with permanent error FATAL. Terminating",
        ],
    );
}

#[test]
fn a_missing_interface_stops_the_daemon_as_keepalived() {
    // Without dynamic_interfaces keepalived's VRRP process refuses an interface that does not
    // exist, and the daemon stops with its configuration status, 2.
    let config = Config::new(
        "no-interface",
        "vrrp_instance VI_1 {\n  interface nosuch0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n",
    );
    let (ours, reference) = run_both(&config);
    assert_eq!(reference.status.code(), Some(2), "{}", stderr(&reference));
    assert_same_end(
        &ours,
        &reference,
        2,
        &["Non-existent interface specified in configuration"],
    );
}

#[test]
fn without_ipvs_the_checkers_run_anyway() {
    // Where keepalived stops for want of IPVS, `--without-ipvs` runs the checks (here until the
    // timeout) and says the table is not programmed.
    let config = Config::new(
        "without-ipvs",
        "virtual_server 192.0.2.1 80 {\n  protocol TCP\n  delay_loop 1\n  real_server 192.0.2.2 80 {\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n}\n",
    );
    let pid = |name: &str| config.dir.join(name).to_string_lossy().into_owned();
    let out = Command::new("unshare")
        .args(["-n", "timeout", "4", env!("CARGO_BIN_EXE_vrrpd")])
        .args(["-C", "--without-ipvs", "-n", "-l", "-f", &config.path()])
        .args(["-p", &pid("main.pid"), "-c", &pid("checkers.pid")])
        .output()
        .expect("run unshare");
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(124), "{log}");
    for line in [
        "Running without IPVS: the table is computed but not programmed",
        "TCP_CHECK on service [192.0.2.2]:tcp:80 failed",
    ] {
        assert!(log.contains(line), "no '{line}' in\n{log}");
    }
}

#[test]
fn each_process_says_what_its_own_reading_found_once() {
    // keepalived's parent reads the global definitions, its checker process the virtual
    // servers, its VRRP process the instances: each says what it found, so every message about
    // the file is logged once.
    let config = Config::new(
        "messages",
        "global_defs {\n  router_id t\n  bogus_global 1\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface lo\n  virtual_router_id 51\n  priority 100\n  bogus_vrrp 1\n  virtual_ipaddress {\n    192.0.2.100/32\n  }\n}\nvirtual_server 192.0.2.1 80 {\n  protocol TCP\n  bogus_vs 1\n  real_server 192.0.2.2 80 {\n  }\n}\n",
    );
    let (ours, reference) = run_both(&config);
    for word in ["bogus_global", "bogus_vrrp", "bogus_vs"] {
        let line = format!("Unknown keyword '{word}'");
        let count = |out: &Output| stderr(out).matches(&line).count();
        assert_eq!(
            (count(&ours), count(&reference)),
            (1, 1),
            "'{line}' in ours:\n{}\nkeepalived:\n{}",
            stderr(&ours),
            stderr(&reference)
        );
    }
}

#[test]
fn a_virtual_server_missing_a_parameter_stops_the_daemon_as_keepalived() {
    // keepalived's checker process stops reading and exits with its configuration status; the
    // parent then stops with it, 2.
    let config = Config::new(
        "missing-parameter",
        "virtual_server 192.0.2.1 80 {\n  protocol TCP\n  delay_loop\n  real_server 192.0.2.2 80 {\n  }\n}\n",
    );
    let (ours, reference) = run_both(&config);
    assert_eq!(reference.status.code(), Some(2), "{}", stderr(&reference));
    assert_same_end(
        &ours,
        &reference,
        2,
        &[
            "is missing a parameter after keyword `delay_loop`",
            "exited with permanent error CONFIG. Terminating",
        ],
    );
}
