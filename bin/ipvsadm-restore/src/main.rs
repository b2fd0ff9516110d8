//! Restore the IPVS table from ipvsadm rules (drop-in for ipvsadm-restore).

fn main() -> std::process::ExitCode {
    eprintln!("ipvsadm-restore: not implemented yet");
    std::process::ExitCode::from(1)
}
