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
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod check;
pub mod diagnostics;
pub mod dump;
pub mod env;
pub mod grammar;
pub mod lexer;
mod load;
pub mod model;
pub mod process;
pub mod source;

pub use load::{LoadOptions, Loaded, Subsystems, load};
