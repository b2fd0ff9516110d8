//! VRRP and LVS daemon with keepalived's command line and configuration.
//!
//! For now `vrrpd` checks configurations (`-t`), prints what they mean (`--dump-conf`), and
//! answers `-v`, `-h` and `--signum`; running the daemon is not implemented yet.

mod cli;
mod config_test;

use std::process::ExitCode;

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
    eprintln!("{program}: the daemon is not implemented yet");
    ExitCode::from(1)
}
