//! `-t` / `--config-test` and `--dump-conf`: read a configuration like keepalived 2.2.7 and
//! say what it thinks of it, or what it means.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use keepalived_config::diagnostics::{Diagnostic, human, keepalived, lint};
use keepalived_config::env::{Environment, FixedEnvironment, SystemEnvironment, WithInterfaces};
use keepalived_config::lexer::IncludeChecks;
use keepalived_config::{LoadOptions, Loaded, Subsystems, dump, load};

use crate::cli::{DEFAULT_CONFIG_FILE, DiagnosticsFormat, Options};

/// The machine to check against: this one, or one described by the hidden options.
fn environment(options: &Options) -> Result<Box<dyn Environment>, String> {
    if let Some(file) = &options.assume_environment {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        let mut env = FixedEnvironment::parse(&text).map_err(|e| format!("{file}: {e}"))?;
        if let Some(interfaces) = &options.assume_interfaces {
            env.interfaces.extend(interfaces.iter().cloned());
        }
        return Ok(Box::new(env));
    }
    if let Some(interfaces) = &options.assume_interfaces {
        let mut set: BTreeSet<String> = interfaces.iter().cloned().collect();
        set.insert("lo".into());
        return Ok(Box::new(WithInterfaces {
            inner: SystemEnvironment,
            interfaces: set,
        }));
    }
    Ok(Box::new(SystemEnvironment))
}

pub fn load_options(options: &Options) -> LoadOptions {
    let mut load_options = LoadOptions::default();
    if let Some(id) = &options.config_id {
        load_options.config_id = id.clone();
    }
    if options.all_config {
        load_options.include_check = IncludeChecks::ALL;
    }
    load_options.subsystems = Subsystems {
        vrrp: !options.check_only || options.vrrp_only,
        checker: !options.vrrp_only || options.check_only,
        bfd: !options.no_bfd && !(options.vrrp_only ^ options.check_only),
    };
    load_options
}

/// Runs `-t` and/or `--dump-conf`.
pub fn run(options: &Options) -> ExitCode {
    let env = match environment(options) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("vrrpd: {e}");
            return ExitCode::from(1);
        }
    };
    let path = options
        .config_file
        .as_deref()
        .unwrap_or(DEFAULT_CONFIG_FILE);
    let load_options = load_options(options);
    let loaded = load(path, &load_options, env.as_ref());

    if options.dump_conf {
        print!("{}", dump::dump(&loaded.config));
    }
    let Some(log_file) = &options.config_test else {
        return ExitCode::from(if loaded.verdict.aborted { 2 } else { 0 });
    };

    let mut output: Box<dyn Write> = match log_file {
        Some(file) => match std::fs::File::create(file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("vrrpd: {file}: {e}");
                Box::new(std::io::stderr())
            }
        },
        None => Box::new(std::io::stderr()),
    };
    let to_terminal = log_file.is_none() && std::io::stderr().is_terminal();
    let format = options.diagnostics.unwrap_or(if to_terminal {
        DiagnosticsFormat::Human
    } else {
        DiagnosticsFormat::Keepalived
    });
    let text = match format {
        DiagnosticsFormat::Keepalived => keepalived::render(&loaded.diagnostics, &loaded.sources)
            .into_iter()
            .map(|l| l + "\n")
            .collect(),
        DiagnosticsFormat::Human => {
            human_report(options, &loaded, &load_options, env.as_ref(), to_terminal)
        }
    };
    let _ = output.write_all(text.as_bytes());
    let status = loaded.verdict.exit_status();
    // The process ends here: freeing a large configuration piece by piece only costs time.
    std::mem::forget(loaded);
    ExitCode::from(status)
}

/// The human report: every message once, with lints, and the peer comparison if asked.
fn human_report(
    options: &Options,
    loaded: &Loaded,
    load_options: &LoadOptions,
    env: &dyn Environment,
    colour: bool,
) -> String {
    let style = human::Style {
        colour,
        include_log: false,
    };
    let mut diagnostics: Vec<Diagnostic> = loaded.diagnostics.clone();
    diagnostics.extend(lint::config(&loaded.config));
    let mut text = human::render(&diagnostics, &loaded.sources, style);
    if let Some(peer_path) = &options.compare_peer {
        let peer = load(peer_path, load_options, env);
        let peer_diagnostics = lint::compare_peers(
            &loaded.config,
            options
                .config_file
                .as_deref()
                .unwrap_or(DEFAULT_CONFIG_FILE),
            &peer.config,
            peer_path,
        );
        text.push_str(&human::render(&peer_diagnostics, &loaded.sources, style));
        diagnostics.extend(peer_diagnostics);
    }
    let verdict = loaded.verdict.exit_status();
    text.push_str(&format!(
        "{}; keepalived 2.2.7 would exit with status {verdict}\n",
        human::summary(&diagnostics)
    ));
    text
}
