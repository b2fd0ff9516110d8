//! Whether scripts can run, and whether they run safely (keepalived's `check_script_secure`).
//!
//! A script whose program cannot be found is not run. With `enable_script_security`, a script
//! whose path could be changed by someone other than root is not run either. Without it, every
//! script that would run as root makes keepalived report a SECURITY VIOLATION (exit status 6
//! under `-t`) — while still running the script.

use crate::env::{Environment, ProgramLookup};
use crate::model::Script;
use crate::model::global::NotifyFifo;

/// The verdict on one script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptVerdict {
    /// It runs; `as_root` tells whether as root.
    Runs {
        /// The script runs as root.
        as_root: bool,
    },
    /// Its program does not exist or is not executable.
    NotFound,
    /// Script security is on and the path is not safe.
    Insecure,
}

/// Checks one script.
pub fn check(env: &dyn Environment, script: &Script, script_security: bool) -> ScriptVerdict {
    // A command starting with a redirection (the `</dev/tcp/HOST/PORT` idiom of keepalived's
    // samples) is not checked by keepalived 2.2.7 at all: neither disabled nor counted.
    if script.program().starts_with('<') {
        return ScriptVerdict::Runs { as_root: false };
    }
    match env.program(script.program()) {
        ProgramLookup::NotFound => ScriptVerdict::NotFound,
        ProgramLookup::Found { secure, .. } => {
            if script_security && !secure {
                return ScriptVerdict::Insecure;
            }
            let as_root = script.user.as_ref().is_none_or(|u| u.uid == 0) && env.running_as_root();
            ScriptVerdict::Runs { as_root }
        }
    }
}

/// Accumulates what the scripts of one process need reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// Some script runs as root.
    pub runs_as_root: bool,
    /// Some script is insecure.
    pub insecure: bool,
}

impl ScriptFlags {
    /// Records a verdict.
    pub fn add(&mut self, verdict: ScriptVerdict) {
        match verdict {
            ScriptVerdict::Runs { as_root } => self.runs_as_root |= as_root,
            ScriptVerdict::Insecure => self.insecure = true,
            ScriptVerdict::NotFound => {}
        }
    }

    /// keepalived's SECURITY VIOLATION message for `kind` ("" for VRRP, "check " for the
    /// checker, "start/shutdown " for the parent), if it applies.
    pub fn violation(&self, script_security: bool, kind: &str) -> Option<String> {
        (!script_security && self.runs_as_root).then(|| {
            format!(
                "SECURITY VIOLATION - {kind}scripts are being executed but script_security not enabled.{}",
                if self.insecure { " There are insecure scripts." } else { "" }
            )
        })
    }
}

/// The reader scripts of the FIFOs that are configured: a script without its FIFO never runs.
pub fn fifo_scripts(fifos: [&NotifyFifo; 2]) -> impl Iterator<Item = &Script> {
    fifos
        .into_iter()
        .filter(|f| f.path.is_some())
        .filter_map(|f| f.script.as_ref())
}
