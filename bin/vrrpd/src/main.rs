//! VRRP and LVS daemon with keepalived's command line and configuration.
//!
//! `vrrpd` checks configurations (`-t`), prints what they mean (`--dump-conf`), answers `-v`, `-h`
//! and `--signum`, and otherwise runs the VRRP daemon (`vrrpd-runtime`) with the checker process
//! (`lvs-runtime`) as its child, or one of them alone (`-P`, `-C`).

mod config_test;

use vrrpd_cli as cli;

use std::process::ExitCode;

use std::sync::Arc;

use vrrpd_runtime::DaemonOptions;
use vrrpd_runtime::checker_child::CheckerProcess;
use vrrpd_runtime::logging::{Facility, LogSettings};
use vrrpd_runtime::placement::{PidChoice, PidName};

/// `-g` without a file name.
const DEFAULT_LOG_FILE: &str = "/tmp/keepalived.log";

fn main() -> ExitCode {
    let program = std::env::args().next().unwrap_or_else(|| "vrrpd".into());
    let program = program.rsplit('/').next().unwrap_or("vrrpd").to_owned();
    let (options, warnings) = match cli::parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    for warning in &warnings.0 {
        eprintln!("{warning}");
    }
    if options.help {
        eprint!("{}", cli::usage(&program));
        return ExitCode::SUCCESS;
    }
    if options.version {
        eprintln!(
            "{program} v{} (keepalived 2.2.7 configuration language)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if let Some(name) = &options.signum {
        return match cli::signal_number(name) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                ExitCode::from(1)
            }
        };
    }
    if options.genhash.is_some() {
        eprintln!("{program}: genhash mode is not implemented");
        return ExitCode::from(1);
    }
    if !options.unexpected.is_empty() {
        let mut line = String::from("Unexpected argument(s): ");
        for arg in &options.unexpected {
            line.push_str(arg);
            line.push(' ');
        }
        eprintln!("{line}");
    }
    if options.config_test.is_some() || options.dump_conf {
        return config_test::run(&options);
    }
    if options.check_only && !options.vrrp_only {
        // The checker process is keepalived's parent too: its pid file, its namespace.
        let mut checkers = checker_options(&options);
        checkers.pid_files.insert(
            0,
            PidChoice {
                given: options.pid_file.clone().map(Into::into),
                name: PidName::Main,
            },
        );
        checkers.enter_namespace = true;
        return lvs_runtime::run(checkers);
    }
    let mut vrrp = daemon_options(&options);
    if !options.vrrp_only {
        // The virtual servers are the child's to read, as keepalived's checker process's.
        vrrp.load_options.subsystems.checker = false;
        // keepalived runs its checkers in a child process; so do we: the VRRP daemon forks it
        // once running (in the background already), and again should it die.
        let mut checkers = checker_options(&options);
        checkers.foreground = true;
        checkers.metrics_listen = None;
        vrrp.checker = Some(CheckerProcess {
            entry: Arc::new(move |start| lvs_runtime::run_child(checkers.clone(), start)),
            respawn: !options.dont_respawn,
        });
    }
    vrrpd_runtime::run(vrrp)
}

/// What the checker process needs of the command line, with keepalived's defaults.
fn checker_options(options: &cli::Options) -> lvs_runtime::CheckerOptions {
    let vrrp = daemon_options(options);
    let mut log = vrrp.log;
    log.ident = "Keepalived_healthcheckers".to_owned();
    lvs_runtime::CheckerOptions {
        config_file: vrrp.config_file,
        load_options: vrrp.load_options,
        log,
        foreground: vrrp.foreground,
        pid_files: vec![PidChoice {
            given: options.checkers_pid_file.clone().map(Into::into),
            name: PidName::Checkers,
        }],
        namespace: options.namespace.clone(),
        enter_namespace: false,
        release_ipvs: !options.dont_release_ipvs,
        metrics_listen: options.metrics_listen.clone(),
        address_monitoring: options.address_monitoring,
        without_ipvs: options.without_ipvs,
        config_messages: lvs_runtime::ConfigMessages::All,
    }
}

/// What the daemon needs of the command line, with keepalived's defaults.
fn daemon_options(options: &cli::Options) -> DaemonOptions {
    let facility = match options.log_facility {
        Some(cli::LogFacility::Local(n)) => Facility::Local(n),
        Some(cli::LogFacility::User) => Facility::User,
        Some(cli::LogFacility::Daemon) | None => Facility::Daemon,
    };
    DaemonOptions {
        config_file: options
            .config_file
            .clone()
            .unwrap_or_else(|| cli::DEFAULT_CONFIG_FILE.to_owned()),
        load_options: {
            // The daemon runs the BFD sessions unless -B, with -P or -C alone too (keepalived's
            // -P and -C leave its BFD process running).
            let mut load_options = config_test::load_options(options);
            load_options.subsystems.bfd = !options.no_bfd;
            load_options
        },
        log: LogSettings {
            console: options.log_console && options.dont_fork,
            syslog: !options.no_syslog,
            facility,
            file: options
                .log_file
                .as_ref()
                .map(|file| file.clone().unwrap_or_else(|| DEFAULT_LOG_FILE.to_owned())),
            flush_file: options.flush_log_file,
            detailed: options.log_detail,
            ident: "Keepalived_vrrp".to_owned(),
        },
        foreground: options.dont_fork,
        pid_file: options.pid_file.clone().map(Into::into),
        vrrp_pid_file: options.vrrp_pid_file.clone().map(Into::into),
        namespace: options.namespace.clone(),
        release_vips: !options.dont_release_vrrp,
        metrics_listen: options.metrics_listen.clone(),
        checker: None,
    }
}
