//! The table listings of `-L` and the rules of `-S`, byte for byte as ipvsadm 1.31 prints them.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use ipvs::Change;
use ipvs::model::{
    AddressFamily, DaemonState, Destination, ForwardingMethod, Info, Netmask, Protocol, Service,
    ServiceFlags, ServiceKey, Stats, SyncDaemon, Timeouts, TunnelFlags, TunnelType,
};

use super::Format;
use super::names::{address_and_port, cut, pad, port_protocol};
use super::sort::sort_destinations;

/// The first line of a full listing.
pub fn version_header(info: &Info) -> String {
    format!(
        "IP Virtual Server version {} (size={})\n",
        info.version, info.connection_table_size
    )
}

/// The column titles for `format` (none for rules).
pub fn title(format: &Format) -> String {
    const FIRST: &str = "Prot LocalAddress:Port";
    const REMOTE: &str = "  -> RemoteAddress:Port\n";
    if format.stats {
        format!(
            "{FIRST:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{REMOTE}",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        )
    } else if format.rate {
        format!(
            "{FIRST:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{REMOTE}",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        )
    } else if format.thresholds {
        format!(
            "{FIRST:<33} {:<10} {:<10} {:<10} {:<10}\n{REMOTE}",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if format.persistent_conn {
        format!(
            "{FIRST:<33} {:<9} {:<11} {:<10} {:<10}\n{REMOTE}",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if format.tun_info {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n".to_owned()
    } else if format.rule {
        String::new()
    } else {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_owned()
    }
}

/// A service and its destinations (sorted unless `--nosort`).
pub fn service_block(
    service: &Service,
    destinations: &mut [Destination],
    format: &Format,
) -> String {
    let name = service_name(&service.key, format);
    let mut out = String::new();
    if format.rule {
        rule_service_line(&mut out, &name, service);
    } else if format.stats || format.rate {
        out.push_str(&pad(&name, 33));
        let stats = service.statistics().copied().unwrap_or_default();
        let columns = if format.stats {
            counters(&stats)
        } else {
            rates(&stats)
        };
        for value in columns {
            largenum(&mut out, value, format.exact);
        }
    } else {
        listing_service_line(&mut out, &name, service);
    }
    out.push('\n');

    if !format.no_sort {
        sort_destinations(destinations);
    }
    let protocol = port_protocol(&service.key);
    for destination in destinations.iter() {
        let mut dname = address_and_port(
            destination.address,
            destination.port,
            protocol,
            format.numeric,
        );
        if !format.rule && destination.address.is_ipv4() {
            dname = cut(dname, 28);
        }
        destination_line(&mut out, &name, &dname, destination, format);
    }
    out
}

/// `-L --timeout`.
pub fn timeouts_line(timeouts: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        timeouts.tcp as i32, timeouts.tcp_fin as i32, timeouts.udp as i32
    )
}

/// `-L --daemon`: one line per running daemon, in the kernel's order (master, then backup).
pub fn daemon_lines(daemons: &[SyncDaemon]) -> String {
    let mut out = String::new();
    for daemon in daemons {
        let kind = match daemon.state {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
            DaemonState::Other(_) => continue,
        };
        let _ = write!(
            out,
            "{kind} sync daemon (mcast={}, syncid={}",
            daemon.interface, daemon.sync_id as i32
        );
        if let Some(length) = daemon.max_length.filter(|&length| length != 0) {
            let _ = write!(out, ", maxlen={length}");
        }
        if let Some(group) = daemon.group {
            let _ = write!(out, ", group={}", crate::libc_names::address_text(group));
        }
        if let Some(port) = daemon.port.filter(|&port| port != 0) {
            let _ = write!(out, ", port={port}");
        }
        if let Some(ttl) = daemon.ttl.filter(|&ttl| ttl != 0) {
            let _ = write!(out, ", ttl={ttl}");
        }
        out.push_str(")\n");
    }
    out
}

/// How the service is named in a listing (`TCP  10.0.0.1:80`, `FWM  5`) or a rule (`-t
/// 10.0.0.1:80`, `-f 5`).
fn service_name(key: &ServiceKey, format: &Format) -> String {
    match key {
        // ipvsadm prints the unsigned mark with %d.
        ServiceKey::Fwmark { family, mark } => {
            let mark = *mark as i32;
            match (format.rule, family) {
                (true, AddressFamily::Ipv6) => format!("-f {mark} -6"),
                (true, AddressFamily::Ipv4) => format!("-f {mark}"),
                (false, AddressFamily::Ipv6) => format!("FWM  {mark} IPv6"),
                (false, AddressFamily::Ipv4) => format!("FWM  {mark}"),
            }
        }
        ServiceKey::Address {
            protocol,
            address,
            port,
        } => {
            let vname = address_and_port(*address, *port, port_protocol(key), format.numeric);
            if format.rule {
                let switch = match protocol {
                    Protocol::Tcp => "-t",
                    Protocol::Udp => "-u",
                    Protocol::Sctp => "--sctp-service",
                    Protocol::Other(_) => "--xxx-service",
                };
                format!("{switch} {vname}")
            } else {
                let protocol = match protocol {
                    Protocol::Tcp => "TCP",
                    Protocol::Udp => "UDP",
                    Protocol::Sctp => "SCTP",
                    Protocol::Other(_) => "?",
                };
                let name = format!("{} {vname}", pad(protocol, 4));
                // A 33-byte cut for IPv4: a long host name loses its port.
                if address.is_ipv6() {
                    name
                } else {
                    cut(name, 33)
                }
            }
        }
    }
}

/// The scheduler flags by the names the service's scheduler gives them, comma-separated.
fn sched_flag_names(service: &Service) -> String {
    let names: &[(ServiceFlags, &str)] = match service.scheduler.as_str() {
        "sh" => &[
            (ServiceFlags::SCHED1, "sh-fallback"),
            (ServiceFlags::SCHED2, "sh-port"),
        ],
        "mh" => &[
            (ServiceFlags::SCHED1, "mh-fallback"),
            (ServiceFlags::SCHED2, "mh-port"),
        ],
        _ => &[
            (ServiceFlags::SCHED1, "flag-1"),
            (ServiceFlags::SCHED2, "flag-2"),
            (ServiceFlags::SCHED3, "flag-3"),
        ],
    };
    names
        .iter()
        .filter(|(flag, _)| service.flags.contains(*flag))
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(",")
}

fn has_sched_flags(service: &Service) -> bool {
    [
        ServiceFlags::SCHED1,
        ServiceFlags::SCHED2,
        ServiceFlags::SCHED3,
    ]
    .into_iter()
    .any(|flag| service.flags.contains(flag))
}

/// The persistence mask when it is not the family's full one, as ipvsadm shows it.
fn shown_mask(service: &Service) -> Option<String> {
    match (service.key.family(), service.netmask) {
        (AddressFamily::Ipv4, Netmask::Ipv4(mask)) if mask != Ipv4Addr::BROADCAST => {
            Some(mask.to_string())
        }
        (AddressFamily::Ipv6, Netmask::Ipv6Prefix(prefix)) if prefix != 128 => {
            Some((prefix as i32).to_string())
        }
        _ => None,
    }
}

fn rule_service_line(out: &mut String, name: &str, service: &Service) {
    let _ = write!(out, "-A {name}");
    service_rule_options(out, service);
}

/// The options of a service's rule, after its address: `-s`, `-p`, `-M`, `--pe`, `-o`, `-b`.
fn service_rule_options(out: &mut String, service: &Service) {
    let _ = write!(out, " -s {}", service.scheduler);
    if service.is_persistent() {
        let _ = write!(out, " -p {}", service.timeout);
        if let Some(mask) = shown_mask(service) {
            let _ = write!(out, " -M {mask}");
        }
    }
    if let Some(engine) = service
        .persistence_engine
        .as_deref()
        .filter(|engine| !engine.is_empty())
    {
        let _ = write!(out, " --pe {engine}");
    }
    if service.flags.contains(ServiceFlags::ONE_PACKET) {
        out.push_str(" -o");
    }
    if has_sched_flags(service) {
        let _ = write!(out, " -b {}", sched_flag_names(service));
    }
}

fn listing_service_line(out: &mut String, name: &str, service: &Service) {
    let _ = write!(out, "{name} {}", service.scheduler);
    if has_sched_flags(service) {
        let _ = write!(out, " ({})", sched_flag_names(service));
    }
    if service.is_persistent() {
        let _ = write!(out, " persistent {}", service.timeout);
        if let Some(mask) = shown_mask(service) {
            let _ = write!(out, " mask {mask}");
        }
        if let Some(engine) = service
            .persistence_engine
            .as_deref()
            .filter(|engine| !engine.is_empty())
        {
            let _ = write!(out, " pe {engine}");
        }
    }
    if service.flags.contains(ServiceFlags::ONE_PACKET) {
        out.push_str(" ops");
    }
}

fn destination_line(
    out: &mut String,
    service_name: &str,
    dname: &str,
    destination: &Destination,
    format: &Format,
) {
    let stats = destination.statistics().copied().unwrap_or_default();
    if format.rule {
        let _ = write!(out, "-a {service_name} -r {dname}");
        destination_rule_options(out, destination);
        out.push('\n');
    } else if format.stats {
        let _ = write!(out, "  -> {}", pad(dname, 28));
        for value in counters(&stats) {
            largenum(out, value, format.exact);
        }
        out.push('\n');
    } else if format.rate {
        let _ = write!(
            out,
            "  -> {} {:>8} {:>8} {:>8}",
            pad(dname, 28),
            stats.cps,
            stats.in_pps,
            stats.out_pps
        );
        largenum(out, stats.in_bps, format.exact);
        largenum(out, stats.out_bps, format.exact);
        out.push('\n');
    } else if format.thresholds {
        let _ = writeln!(
            out,
            "  -> {} {} {} {} {}",
            pad(dname, 28),
            pad(&destination.upper_threshold.to_string(), 10),
            pad(&destination.lower_threshold.to_string(), 10),
            pad(&destination.active_connections.to_string(), 10),
            pad(&destination.inactive_connections.to_string(), 10)
        );
    } else if format.persistent_conn {
        let _ = writeln!(
            out,
            "  -> {} {} {} {} {}",
            pad(dname, 28),
            pad(&(destination.weight as u32).to_string(), 9),
            pad(&destination.persistent_connections.to_string(), 11),
            pad(&destination.active_connections.to_string(), 10),
            pad(&destination.inactive_connections.to_string(), 10)
        );
    } else {
        let _ = write!(
            out,
            "  -> {} {} ",
            pad(dname, 28),
            pad(forwarding_name(destination.forwarding), 7)
        );
        if format.tun_info {
            let _ = write!(out, "{} ", pad(&tunnel_info(destination), 13));
        }
        let _ = writeln!(
            out,
            "{} {} {}",
            pad(&destination.weight.to_string(), 6),
            pad(&destination.active_connections.to_string(), 10),
            pad(&destination.inactive_connections.to_string(), 10)
        );
    }
}

/// The options of a destination's rule, after its address, as `-S` prints them: forwarding,
/// weight and tunnel (ipvsadm saves no thresholds).
fn destination_rule_options(out: &mut String, destination: &Destination) {
    let _ = write!(
        out,
        " {} -w {}",
        forwarding_switch(destination.forwarding),
        destination.weight
    );
    if destination.forwarding == ForwardingMethod::Tunnel {
        let tunnel = &destination.tunnel;
        match tunnel.kind {
            TunnelType::Ipip => out.push_str(" --tun-type ipip"),
            TunnelType::Gre => {
                let _ = write!(out, " --tun-type gre {}", checksum_option(tunnel.flags));
            }
            TunnelType::Gue => {
                let _ = write!(
                    out,
                    " --tun-type gue --tun-port {} {}",
                    tunnel.port,
                    checksum_option(tunnel.flags)
                );
            }
            TunnelType::Other(_) => {}
        }
    }
}

/// A change to services or destinations as the rule line that makes it (`-A`, `-E`, `-D`, `-a`,
/// `-e`, `-d`), numeric, with thresholds when set; `None` for other changes.
pub fn change_rule(change: &Change) -> Option<String> {
    let rule = Format {
        rule: true,
        numeric: true,
        ..Format::default()
    };
    let mut out = String::new();
    match change {
        Change::AddService(service) | Change::UpdateService(service) => {
            let verb = if matches!(change, Change::AddService(_)) {
                "-A"
            } else {
                "-E"
            };
            let _ = write!(out, "{verb} {}", service_name(&service.key, &rule));
            service_rule_options(&mut out, service);
        }
        Change::DeleteService(key) => {
            let _ = write!(out, "-D {}", service_name(key, &rule));
        }
        Change::AddDestination {
            service,
            destination,
        }
        | Change::UpdateDestination {
            service,
            destination,
        } => {
            let verb = if matches!(change, Change::AddDestination { .. }) {
                "-a"
            } else {
                "-e"
            };
            let address = address_and_port(
                destination.address,
                destination.port,
                port_protocol(service),
                true,
            );
            let _ = write!(out, "{verb} {} -r {address}", service_name(service, &rule));
            destination_rule_options(&mut out, destination);
            if destination.upper_threshold != 0 {
                let _ = write!(out, " -x {}", destination.upper_threshold);
            }
            if destination.lower_threshold != 0 {
                let _ = write!(out, " -y {}", destination.lower_threshold);
            }
        }
        Change::DeleteDestination {
            service,
            address,
            port,
        } => {
            let address = address_and_port(*address, *port, port_protocol(service), true);
            let _ = write!(out, "-d {} -r {address}", service_name(service, &rule));
        }
        _ => return None,
    }
    Some(out)
}

/// The "Forward" column; glibc prints "(null)" for a method ipvsadm does not name.
fn forwarding_name(method: ForwardingMethod) -> &'static str {
    match method {
        ForwardingMethod::Masquerade => "Masq",
        ForwardingMethod::Local => "Local",
        ForwardingMethod::Tunnel => "Tunnel",
        ForwardingMethod::DirectRoute => "Route",
        ForwardingMethod::Other(_) => "(null)",
    }
}

/// The rule switch of a forwarding method (local destinations are saved as direct routing).
fn forwarding_switch(method: ForwardingMethod) -> &'static str {
    match method {
        ForwardingMethod::Masquerade => "-m",
        ForwardingMethod::Tunnel => "-i",
        ForwardingMethod::Local | ForwardingMethod::DirectRoute => "-g",
        ForwardingMethod::Other(_) => "(null)",
    }
}

fn checksum_option(flags: TunnelFlags) -> &'static str {
    if flags.contains(TunnelFlags::REMOTE_CHECKSUM) {
        "--tun-remcsum"
    } else if flags.contains(TunnelFlags::CHECKSUM) {
        "--tun-csum"
    } else {
        "--tun-nocsum"
    }
}

fn checksum_mark(flags: TunnelFlags) -> &'static str {
    if flags.contains(TunnelFlags::REMOTE_CHECKSUM) {
        "r+c"
    } else if flags.contains(TunnelFlags::CHECKSUM) {
        "+c"
    } else {
        "-c"
    }
}

/// The "TunnelInfo" column of `--tun-info`.
fn tunnel_info(destination: &Destination) -> String {
    if destination.forwarding != ForwardingMethod::Tunnel {
        return "n/a".to_owned();
    }
    let tunnel = &destination.tunnel;
    match tunnel.kind {
        TunnelType::Ipip => "ipip".to_owned(),
        TunnelType::Gue => format!("gue:{}:{}", tunnel.port, checksum_mark(tunnel.flags)),
        TunnelType::Gre => format!("gre:{}", checksum_mark(tunnel.flags)),
        TunnelType::Other(_) => "n/a".to_owned(),
    }
}

fn counters(stats: &Stats) -> [u64; 5] {
    [
        stats.connections,
        stats.in_packets,
        stats.out_packets,
        stats.in_bytes,
        stats.out_bytes,
    ]
}

fn rates(stats: &Stats) -> [u64; 5] {
    [
        stats.cps,
        stats.in_pps,
        stats.out_pps,
        stats.in_bps,
        stats.out_bps,
    ]
}

/// `print_largenum`: right-aligned in 9 columns, abbreviated with K/M/G/T unless `--exact`.
pub fn largenum(out: &mut String, value: u64, exact: bool) {
    if exact {
        let digits = value.to_string().len();
        let width = if digits <= 8 { 9 } else { digits + 1 };
        let _ = write!(out, "{value:>width$}");
    } else if value < 100_000_000 {
        let _ = write!(out, "{value:>9}");
    } else if value < 1_000_000_000 {
        let _ = write!(out, "{:>8}K", value / 1_000);
    } else if value < 100_000_000_000 {
        let _ = write!(out, "{:>8}M", value / 1_000_000);
    } else if value < 100_000_000_000_000 {
        let _ = write!(out, "{:>8}G", value / 1_000_000_000);
    } else {
        let _ = write!(out, "{:>8}T", value / 1_000_000_000_000);
    }
}

#[cfg(test)]
mod tests;
