//! ipvsadm, ipvsadm-save and ipvsadm-restore: argument parsing, listings and rule files,
//! byte-compatible with ipvsadm 1.31, on the `ipvs` library.
//!
//! - [`args`] turns a command line into a checked [`args::Invocation`], or into the message and
//!   exit status ipvsadm gives;
//! - [`output`] prints the table, rules, connections, timeouts and daemons in ipvsadm's formats.

pub mod args;
#[doc(hidden)]
pub mod fuzzing;
mod libc_names;
pub mod output;
pub mod restore;
pub mod rule_file;
pub mod run;
pub mod scripts;
pub mod text;
