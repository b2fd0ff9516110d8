//! Administer the kernel's IP Virtual Server table (drop-in for ipvsadm 1.31).

use std::process::ExitCode;

use ipvsadm_cli::run::{Session, print_exit};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let program = argv.first().map(String::as_str).unwrap_or("ipvsadm");
    let status = match Session::open(program) {
        Ok(mut session) => session.run_command_line(&argv),
        Err(exit) => {
            print_exit(&exit);
            exit.status
        }
    };
    ExitCode::from(status)
}
