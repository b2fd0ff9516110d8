//! The checks keepalived runs after reading, one module per process: [`vrrp`] completes
//! instances and sync groups, [`lvs`] completes virtual servers, [`scripts`] decides which
//! scripts can run. They apply the defaults that depend on the whole configuration and report
//! keepalived's messages.

pub mod lvs;
pub mod scripts;
pub mod vrrp;

use crate::diagnostics::{ErrorClass, Reporter};
use crate::env::Environment;
use crate::model::global::GlobalDefs;

/// The parent's own check: start-up and shut-down scripts.
pub fn global(globals: &GlobalDefs, env: &dyn Environment, out: &mut Reporter) {
    let mut flags = scripts::ScriptFlags::default();
    for s in globals
        .startup_script
        .iter()
        .chain(globals.shutdown_script.iter())
    {
        flags.add(scripts::check(env, s, globals.script_security));
    }
    if let Some(message) = flags.violation(globals.script_security, "start/shutdown ") {
        out.report(ErrorClass::Security, message);
    }
}
