//! Administer the kernel's IP Virtual Server table (drop-in for ipvsadm 1.31).

fn main() -> std::process::ExitCode {
    eprintln!("ipvsadm: not implemented yet");
    std::process::ExitCode::from(1)
}
