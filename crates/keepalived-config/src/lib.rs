//! keepalived.conf: lexer, grammar and typed model, with keepalived 2.2.7's verdicts.
//!
//! [`load`] reads a configuration the way keepalived 2.2.7 does — same lexical rules, same
//! recovery from errors, same defaults — and returns the typed [`model::Config`] keepalived would
//! run with, every message keepalived would print ([`diagnostics`]), and the exit status of
//! `keepalived -t` ([`diagnostics::Verdict`]).
//!
//! ```no_run
//! use keepalived_config::{load, LoadOptions, env::SystemEnvironment};
//!
//! let loaded = load("/etc/keepalived/keepalived.conf", &LoadOptions::default(), &SystemEnvironment);
//! for instance in &loaded.config.instances {
//!     println!("{} VRID {} priority {}", instance.name, instance.vrid, instance.priority);
//! }
//! std::process::exit(loaded.verdict.exit_status().into());
//! ```
//!
//! The pipeline, one module each: [`lexer`] (files, includes, comments, `@id`, `$NAME`,
//! `~SEQ`, brace splitting — every token keeps its position), [`grammar`] (keyword tables and
//! handlers per block, with nom parsers for values), [`check`] (what keepalived checks after
//! reading: instances, virtual servers, scripts), [`model`] (the result), [`diagnostics`]
//! (keepalived-style and human output, hints, lints) and [`dump`] (the model, printed).
//!
//! # Fidelity to keepalived 2.2.7
//!
//! On the 134 real configurations of `testdata/keepalived/corpus`, each checked with no network
//! interface and with the interfaces it names, all 268 runs give keepalived's exit status and
//! exactly keepalived's messages. Of the 2160 probe configurations (every keyword of every block,
//! missing, bad and good, and combinations of keywords), keepalived crashed on 6; of the other
//! 2154, all but one give keepalived's status and messages. The differences, all on purpose:
//!
//! - `config_save_dir` makes keepalived run `cp` even under `-t`; we run no command, so `cp`'s
//!   complaint about a bad directory is not reproduced.
//! - Where keepalived crashes (`bfd_instance` without a name, `neighbor_ip` without a value,
//!   `virtual_server` with a bad address), we report the line like its neighbours.
//! - A parameter defined in terms of itself (`$A=$A`) makes keepalived loop for ever; we stop
//!   substituting after 1000 uses in a line.
//! - keepalived reads lines through a 1024-byte buffer and so splits longer ones; we read lines
//!   whole (parameter substitution keeps keepalived's 1024-byte limit and message).
//! - A `~SEQ` counting past the largest 64-bit number makes keepalived's counter wrap and loop
//!   for ever; ours ends there.
//! - Includes through a wildcard that matches the including file branch at every level, so
//!   keepalived reads for practically ever; we stop after 100,000 files
//!   ([`lexer::files::MAX_FILES_READ`]), reporting the next ones as keepalived reports files it
//!   cannot open. Plain include loops end, as in keepalived, when the open-file limit is reached
//!   ([`LoadOptions::open_file_limit`]).
//!
//! docs/config.md describes the accepted language, the model and our extensions.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod check;
pub mod diagnostics;
pub mod dump;
pub mod env;
pub mod fuzzing;
pub mod grammar;
pub mod lexer;
mod load;
pub mod model;
pub mod process;
pub mod source;

pub use grammar::ReadMemo;
pub use load::{LoadOptions, Loaded, Subsystems, default_open_file_limit, load, load_reusing};
