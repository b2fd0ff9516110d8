//! Print the IPVS table as ipvsadm rules (drop-in for ipvsadm-save).

fn main() -> std::process::ExitCode {
    eprintln!("ipvsadm-save: not implemented yet");
    std::process::ExitCode::from(1)
}
