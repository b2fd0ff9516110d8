//! ipvsadm's rule format (`ipvsadm -Sn`) rendered from what the library reads, so that the
//! kernel's state as we see it can be compared with the reference's view of it.

use std::net::IpAddr;

use ipvs::model::{
    AddressFamily, Destination, ForwardingMethod, Netmask, Protocol, Service, ServiceFlags,
    ServiceKey, TunnelFlags, TunnelType,
};

fn address(address: &IpAddr, port: u16) -> String {
    match address {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

fn service_spec(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Address {
            protocol,
            address: ip,
            port,
        } => {
            let switch = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
                Protocol::Other(number) => panic!("protocol {number} has no ipvsadm switch"),
            };
            format!("{switch} {}", address(ip, *port))
        }
        // ipvsadm prints the mark with %d.
        ServiceKey::Fwmark {
            family: AddressFamily::Ipv4,
            mark,
        } => format!("-f {}", *mark as i32),
        ServiceKey::Fwmark {
            family: AddressFamily::Ipv6,
            mark,
        } => format!("-f {} -6", *mark as i32),
    }
}

fn scheduler_flags(service: &Service) -> Option<String> {
    let names: [&str; 3] = match service.scheduler.as_str() {
        "sh" => ["sh-fallback", "sh-port", "flag-3"],
        "mh" => ["mh-fallback", "mh-port", "flag-3"],
        _ => ["flag-1", "flag-2", "flag-3"],
    };
    let set: Vec<&str> = [
        ServiceFlags::SCHED1,
        ServiceFlags::SCHED2,
        ServiceFlags::SCHED3,
    ]
    .iter()
    .zip(names)
    .filter(|(flag, _)| service.flags.contains(**flag))
    .map(|(_, name)| name)
    .collect();
    (!set.is_empty()).then(|| set.join(","))
}

/// The `-A` line of a service.
pub fn service_line(service: &Service) -> String {
    let mut line = format!("-A {} -s {}", service_spec(&service.key), service.scheduler);
    if service.is_persistent() {
        line += &format!(" -p {}", service.timeout);
        match service.netmask {
            Netmask::Ipv4(mask) if mask != std::net::Ipv4Addr::BROADCAST => {
                line += &format!(" -M {mask}")
            }
            Netmask::Ipv6Prefix(length) if length != 128 => line += &format!(" -M {length}"),
            _ => {}
        }
    }
    if let Some(engine) = &service.persistence_engine {
        line += &format!(" --pe {engine}");
    }
    if service.flags.contains(ServiceFlags::ONE_PACKET) {
        line += " -o";
    }
    if let Some(flags) = scheduler_flags(service) {
        line += &format!(" -b {flags}");
    }
    line
}

/// The `-a` line of a destination.
pub fn destination_line(service: &ServiceKey, destination: &Destination) -> String {
    let method = match destination.forwarding {
        ForwardingMethod::Masquerade => "-m",
        ForwardingMethod::Tunnel => "-i",
        _ => "-g",
    };
    let mut line = format!(
        "-a {} -r {} {method} -w {}",
        service_spec(service),
        address(&destination.address, destination.port),
        destination.weight
    );
    if destination.forwarding == ForwardingMethod::Tunnel {
        let checksum = if destination
            .tunnel
            .flags
            .contains(TunnelFlags::REMOTE_CHECKSUM)
        {
            "--tun-remcsum"
        } else if destination.tunnel.flags.contains(TunnelFlags::CHECKSUM) {
            "--tun-csum"
        } else {
            "--tun-nocsum"
        };
        line += &match destination.tunnel.kind {
            TunnelType::Ipip => " --tun-type ipip".to_owned(),
            TunnelType::Gre => format!(" --tun-type gre {checksum}"),
            TunnelType::Gue => format!(
                " --tun-type gue --tun-port {} {checksum}",
                destination.tunnel.port
            ),
            TunnelType::Other(kind) => format!(" --tun-type {kind}"),
        };
    }
    line
}
