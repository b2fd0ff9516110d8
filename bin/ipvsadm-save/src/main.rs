//! Print the IPVS table as ipvsadm rules (drop-in for ipvsadm-save).

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    ExitCode::from(ipvsadm_cli::scripts::save_main(&argv))
}
