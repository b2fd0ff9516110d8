//! VRRP and LVS daemon with keepalived's command line and configuration.

fn main() -> std::process::ExitCode {
    eprintln!("vrrpd: not implemented yet");
    std::process::ExitCode::from(1)
}
