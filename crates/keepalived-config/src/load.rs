//! Reading a configuration for every keepalived process, in keepalived's order.

use crate::check;
use crate::diagnostics::{Diagnostic, Reporter, Verdict};
use crate::env::{Counted, Environment};
use crate::grammar::ReadMemo;
use crate::grammar::keywords::Owner;
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
    /// How many configuration files may be open at once, nested by `include`. keepalived
    /// keeps each open while reading it, so an include chain (or loop) ends where its
    /// descriptors run out; the default reproduces that limit ([`default_open_file_limit`]).
    pub open_file_limit: usize,
    /// How many lines `~SEQ` and `~LST` may produce in all, in each process's reading (`None`,
    /// the default: no limit, as in keepalived, where `~SEQ(i,0,4000000000)` runs for hours).
    pub sequence_limit: Option<u64>,
    /// Skips the BFD process's reading when the file has no `bfd_instance` and the parent's
    /// reading said nothing: it would find no instance and say nothing (it reads only the top
    /// level, which the parent read without a word). On by default; off to compare.
    pub skip_idle_bfd: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_id: default_config_id(),
            include_check: IncludeChecks::NONE,
            subsystems: Subsystems::default(),
            open_file_limit: default_open_file_limit(),
            sequence_limit: None,
            skip_idle_bfd: true,
        }
    }
}

/// How many configuration files keepalived 2.2.7 could hold open if started like this process:
/// the soft `RLIMIT_NOFILE` less the descriptors below it already open (inherited) and the two
/// keepalived opens itself before reading (measured: with a limit of 64 and the three standard
/// descriptors inherited, it nests 59 files).
pub fn default_open_file_limit() -> usize {
    const KEEPALIVED_OWN: u64 = 2;
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| soft_open_files(&limits))
        .unwrap_or(1024);
    // Descriptors at or above the limit take no room below it. The directory handle counts
    // itself among the entries.
    let open = std::fs::read_dir("/proc/self/fd").map_or(3, |entries| {
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .filter(|&fd| fd < soft)
            .count()
            .saturating_sub(1)
    }) as u64;
    usize::try_from(soft.saturating_sub(open + KEEPALIVED_OWN)).unwrap_or(usize::MAX)
}

/// keepalived's default config id: the node name up to the first `.`.
pub fn default_config_id() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim();
    name.split('.').next().unwrap_or("").to_owned()
}

/// The soft limit of open files in `/proc/self/limits` ("Max open files  1024  4096  files");
/// `unlimited` is as good as none.
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .strip_prefix("Max open files")?
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        return Some(u64::MAX);
    }
    soft.parse().ok()
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
    read(path, options, env, None)
}

/// [`load`], taking the `virtual_server` blocks whose text has not changed since the last
/// reading with `memo` from it instead of reading them again ([`ReadMemo`]), and leaving this
/// reading's there for the next: a reload of a configuration of many virtual servers reads
/// only those that changed. The result is the same as [`load`]'s.
pub fn load_reusing(
    path: &str,
    options: &LoadOptions,
    env: &dyn Environment,
    memo: &mut ReadMemo,
) -> Loaded {
    read(path, options, env, Some(memo))
}

fn read(
    path: &str,
    options: &LoadOptions,
    env: &dyn Environment,
    mut memo: Option<&mut ReadMemo>,
) -> Loaded {
    let mut sources = SourceMap::default();
    let mut diagnostics = Vec::new();
    let mut config = Config::default();
    let cwd = std::env::current_dir().unwrap_or_default();

    // The parent reads the files, keeps the consolidated copy and the global definitions.
    let mut first = Reporter::new(Process::Parent);
    let earlier = memo
        .as_deref_mut()
        .map(ReadMemo::take_files)
        .unwrap_or_default();
    let files = FileReader::open_main(
        path,
        &cwd,
        options.include_check,
        options.open_file_limit,
        earlier,
        &mut sources,
        &mut first,
    );
    let reader = LineReader::new(
        Physical::Files {
            reader: Box::new(files),
            sources: &mut sources,
        },
        &options.config_id,
    )
    .limit_sequences(options.sequence_limit);
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
    // A block the parent reads (global definitions) and the others skip by its braces is where
    // their views of the top level could part; they do not without a message from the parent.
    let bfd_idle = !parts.owners_met.contains(Owner::Bfd) && diagnostics.is_empty();
    let globals = parts.globals;
    let mut default_user = parts.default_user;
    let mut file_reader = parts.reader.into_file_reader();
    if let (Some(memo), Some(reader)) = (memo.as_deref_mut(), file_reader.as_mut()) {
        memo.keep_files(reader.take_earlier());
    }
    let copy = file_reader.map(|f| f.copy).unwrap_or_default();
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
        (
            Process::Bfd,
            options.subsystems.bfd && !(options.skip_idle_bfd && bfd_idle),
        ),
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
        )
        .limit_sequences(options.sequence_limit);
        // The checker's reading counts what it asks of the machine: a block read without asking
        // may be taken again from the memo.
        let counted = Counted::new(env);
        let mut memo = memo.as_deref_mut().filter(|_| process == Process::Checker);
        let env: &dyn Environment = if memo.is_some() { &counted } else { env };
        let mut parser = Parser::new(reader, process, env, globals.clone(), default_user);
        if let Some(memo) = memo.as_deref_mut() {
            parser = parser.with_memo(std::mem::take(memo));
        }
        let aborted = parser.run().is_err();
        if let (Some(memo), Some(read)) = (memo.as_deref_mut(), parser.take_memo()) {
            *memo = read;
        }
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
            memo,
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
    memo: Option<&mut ReadMemo>,
) {
    match process {
        Process::Parent => {}
        Process::Checker => {
            let drafts = std::mem::take(&mut state.virtual_servers);
            let groups = std::mem::take(&mut state.config.virtual_server_groups);
            config.virtual_servers = match memo {
                Some(memo) => memo.complete(drafts, &groups, globals, env, out),
                None => check::lvs::complete(drafts, &groups, globals, env, out),
            };
            config.virtual_server_groups = groups;
            config.ssl = state.config.ssl.take();
            // FILE_CHECK reads the files of `track_file` blocks.
            config.track_files = std::mem::take(&mut state.config.track_files);
        }
        Process::Vrrp => check::vrrp::complete(state, globals, env, out, config),
        Process::Bfd => config.bfd_instances = std::mem::take(&mut state.config.bfd_instances),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_read_from_proc() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max cpu time              unlimited            unlimited            seconds\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(soft_open_files(limits), Some(1024));
        assert_eq!(
            soft_open_files("Max open files            unlimited            unlimited   files"),
            Some(u64::MAX)
        );
        assert_eq!(soft_open_files("Max processes 10 10 processes"), None);
        // This process has a limit, and fewer descriptors open than it.
        assert!(default_open_file_limit() > 0);
    }
}
