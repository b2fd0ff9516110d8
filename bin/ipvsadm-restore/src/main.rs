//! Restore the IPVS table from ipvsadm rules (drop-in for ipvsadm-restore).

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    ExitCode::from(ipvsadm_cli::scripts::restore_main(&argv))
}
