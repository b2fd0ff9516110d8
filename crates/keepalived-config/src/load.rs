//! Reading a configuration for every keepalived process, in keepalived's order.

use crate::check;
use crate::diagnostics::{Diagnostic, Reporter, Verdict};
use crate::env::Environment;
use crate::grammar::state::State;
use crate::grammar::walker::{DefaultUser, Parser};
use crate::lexer::{FileReader, IncludeChecks, LineReader, Physical};
use crate::model::{Config, GlobalDefs};
use crate::process::Process;
use crate::source::SourceMap;

/// Which keepalived subsystems run (`-P`, `-C`, `-B`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subsystems {
    /// The VRRP process.
    pub vrrp: bool,
    /// The health-checker process.
    pub checker: bool,
    /// The BFD process.
    pub bfd: bool,
}

impl Default for Subsystems {
    fn default() -> Self {
        Subsystems {
            vrrp: true,
            checker: true,
            bfd: true,
        }
    }
}

/// How to read a configuration.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The config id for `@ID` lines (`-i`; default: the host name up to its first dot).
    pub config_id: String,
    /// Include checks applied to every include (`-e` sets them all).
    pub include_check: IncludeChecks,
    /// Which processes read the configuration.
    pub subsystems: Subsystems,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_id: default_config_id(),
            include_check: IncludeChecks::NONE,
            subsystems: Subsystems::default(),
        }
    }
}

/// keepalived's default config id: the node name up to the first `.`.
pub fn default_config_id() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim();
    name.split('.').next().unwrap_or("").to_owned()
}

/// A configuration read and checked.
#[derive(Debug)]
pub struct Loaded {
    /// What keepalived would run with.
    pub config: Config,
    /// Everything said about it, in keepalived's order.
    pub diagnostics: Vec<Diagnostic>,
    /// The files read.
    pub sources: SourceMap,
    /// The verdict of `keepalived -t`.
    pub verdict: Verdict,
}

/// Reads and checks the configuration at `path` (a pattern, as for keepalived's `-f`).
pub fn load(path: &str, options: &LoadOptions, env: &dyn Environment) -> Loaded {
    let mut sources = SourceMap::default();
    let mut diagnostics = Vec::new();
    let mut config = Config::default();
    let cwd = std::env::current_dir().unwrap_or_default();

    // The parent reads the files, keeps the consolidated copy and the global definitions.
    let mut first = Reporter::new(Process::Parent);
    let files = FileReader::open_main(path, &cwd, options.include_check, &mut sources, &mut first);
    let reader = LineReader::new(
        Physical::Files {
            reader: files,
            sources: &mut sources,
        },
        &options.config_id,
    );
    let mut parser = Parser::new(
        reader,
        Process::Parent,
        env,
        GlobalDefs::default(),
        DefaultUser::Unresolved,
    );
    parser.out = first;
    let aborted = parser.run().is_err();
    let mut parts = parser.into_parts();
    if !aborted {
        check::global(&parts.globals, env, &mut parts.out);
    }
    let mut include_failed = parts.out.include_failed;
    diagnostics.extend(parts.out.take());
    let globals = parts.globals;
    let mut default_user = parts.default_user;
    let copy = parts
        .reader
        .into_file_reader()
        .map(|f| f.copy)
        .unwrap_or_default();
    config.global = globals.clone();
    if aborted {
        let verdict = Verdict::of(&diagnostics, true, include_failed);
        return Loaded {
            config,
            diagnostics,
            sources,
            verdict,
        };
    }

    let processes = [
        (Process::Checker, options.subsystems.checker),
        (Process::Vrrp, options.subsystems.vrrp),
        (Process::Bfd, options.subsystems.bfd),
    ];
    for (process, enabled) in processes {
        if !enabled {
            continue;
        }
        let reader = LineReader::new(
            Physical::Copy {
                copy: &copy,
                next: 0,
            },
            &options.config_id,
        );
        let mut parser = Parser::new(reader, process, env, globals.clone(), default_user);
        let aborted = parser.run().is_err();
        let mut parts = parser.into_parts();
        default_user = parts.default_user;
        if aborted {
            include_failed |= parts.out.include_failed;
            diagnostics.extend(parts.out.take());
            let verdict = Verdict::of(&diagnostics, true, include_failed);
            return Loaded {
                config,
                diagnostics,
                sources,
                verdict,
            };
        }
        complete(
            process,
            parts.state,
            &globals,
            env,
            &mut parts.out,
            &mut config,
        );
        diagnostics.extend(parts.out.take());
    }

    let verdict = Verdict::of(&diagnostics, false, include_failed);
    Loaded {
        config,
        diagnostics,
        sources,
        verdict,
    }
}

/// Runs `process`'s checks and keeps its part of the model.
fn complete(
    process: Process,
    mut state: State,
    globals: &GlobalDefs,
    env: &dyn Environment,
    out: &mut Reporter,
    config: &mut Config,
) {
    match process {
        Process::Parent => {}
        Process::Checker => {
            let drafts = std::mem::take(&mut state.virtual_servers);
            let groups = std::mem::take(&mut state.config.virtual_server_groups);
            config.virtual_servers = check::lvs::complete(drafts, &groups, globals, env, out);
            config.virtual_server_groups = groups;
            config.ssl = state.config.ssl.take();
        }
        Process::Vrrp => check::vrrp::complete(state, globals, env, out, config),
        Process::Bfd => config.bfd_instances = std::mem::take(&mut state.config.bfd_instances),
    }
}
