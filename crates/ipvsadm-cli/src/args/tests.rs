use super::*;

fn argv(line: &str) -> Vec<String> {
    std::iter::once("ipvsadm")
        .chain(line.split_whitespace())
        .map(str::to_owned)
        .collect()
}

fn parse_line(line: &str) -> Parsed {
    parse(&argv(line), Source::CommandLine)
}

fn command(line: &str) -> Command {
    match parse_line(line) {
        Parsed::Run(invocation) => invocation.command,
        other => panic!("{line}: {other:?}"),
    }
}

/// The stderr text and status of a line that ends the program.
fn exit(line: &str) -> (String, u8) {
    match parse_line(line) {
        Parsed::Exit(exit) => (exit.stderr, exit.status),
        other => panic!("{line}: {other:?}"),
    }
}

fn fails_with(line: &str, message: &str) {
    assert_eq!(exit(line), (format!("{message}\n"), 2), "{line}");
}

fn tcp(address: &str, port: u16) -> ServiceKey {
    ServiceKey::tcp(address.parse().unwrap(), port)
}

#[test]
fn add_service_with_defaults() {
    let Command::AddService(service) = command("-A -t 10.0.0.1:80") else {
        panic!()
    };
    assert_eq!(service.key, tcp("10.0.0.1", 80));
    assert_eq!(service.scheduler, "wlc");
    assert!(!service.is_persistent());
    assert_eq!(service.netmask, Netmask::Ipv4(Ipv4Addr::BROADCAST));
}

#[test]
fn persistence_and_mask() {
    let Command::AddService(service) = command("-A -t 10.0.0.1:0 -s rr -p -M 255.255.255.0") else {
        panic!()
    };
    assert!(service.is_persistent());
    assert_eq!(service.timeout, 360);
    assert_eq!(
        service.netmask,
        Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0))
    );
    let Command::AddService(service) = command("-A -t 10.0.0.1:80 -p600") else {
        panic!()
    };
    assert_eq!(service.timeout, 600);
    let Command::AddService(service) = command("-A -t 10.0.0.1:80 --persistent 60") else {
        panic!()
    };
    assert_eq!(service.timeout, 60);
}

#[test]
fn ipv6_netmask_is_a_prefix_and_resets() {
    let Command::AddService(service) = command("-A -t [2001:db8::1]:80 -p -M 64") else {
        panic!()
    };
    assert_eq!(service.netmask, Netmask::Ipv6Prefix(64));
    let Command::AddService(service) = command("-A -f 7 -M 64 -6 -p") else {
        panic!()
    };
    assert_eq!(service.key, ServiceKey::fwmark(AddressFamily::Ipv6, 7));
    assert_eq!(service.netmask, Netmask::Ipv6Prefix(128));
    fails_with(
        "-A -t [2001:db8::1]:80 -M 129",
        "illegal ipv6 netmask specified",
    );
}

#[test]
fn server_defaults_and_port_rules() {
    let Command::AddServer(key, destination) = command("-a -t 10.0.0.1:80 -r 10.0.0.2:8080") else {
        panic!()
    };
    assert_eq!(key, tcp("10.0.0.1", 80));
    // Direct routing (the default) forces the service port.
    assert_eq!(
        (destination.port, destination.forwarding, destination.weight),
        (80, ForwardingMethod::DirectRoute, 1)
    );
    let Command::AddServer(_, destination) = command("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 5")
    else {
        panic!()
    };
    assert_eq!((destination.port, destination.weight), (8080, 5));
    // Without a port, the server takes the service's port as read so far.
    let Command::AddServer(_, destination) = command("-a -t 10.0.0.1:80 -r 10.0.0.2 -m") else {
        panic!()
    };
    assert_eq!(destination.port, 80);
    let Command::AddServer(_, destination) = command("-a -r 10.0.0.2 -t 10.0.0.1:80 -m") else {
        panic!()
    };
    assert_eq!(destination.port, 0);
}

#[test]
fn tunnel_options() {
    let Command::AddServer(_, destination) =
        command("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum")
    else {
        panic!()
    };
    assert_eq!(destination.tunnel.kind, TunnelType::Gue);
    assert_eq!(destination.tunnel.port, 6080);
    assert!(destination.tunnel.flags.contains(TunnelFlags::CHECKSUM));
    fails_with(
        "-a -t 10.0.0.1:80 -r 10.0.0.2 --tun-type gue",
        "Tunnel options conflict with forward method",
    );
    fails_with(
        "-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue",
        "You need to supply the 'tun-port' option for the 'gue' tunnel type",
    );
    fails_with(
        "-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-port 5",
        "Illegal 'tun-port' option with the 'ipip' tunnel type",
    );
    fails_with(
        "-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 5 --tun-csum --tun-remcsum",
        "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type",
    );
}

#[test]
fn first_option_must_be_a_command() {
    assert_eq!(
        exit("-n -L"),
        (
            "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n".to_owned(),
            255
        )
    );
    assert_eq!(
        exit("--lis"),
        (
            "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n".to_owned(),
            255
        )
    );
    assert_eq!(exit("foo").1, 255);
}

#[test]
fn second_command_is_an_invalid_option() {
    fails_with("-L -A", "invalid option `-A'");
    fails_with("-LA", "invalid option `-LA'");
    fails_with("-L -h", "invalid option `-h'");
}

#[test]
fn popt_errors_after_the_command_are_rejections() {
    assert_eq!(
        parse_line("-A -t"),
        Parsed::Rejected("-t: missing argument\n".to_owned())
    );
    assert_eq!(
        parse_line("-L --bogus"),
        Parsed::Rejected("--bogus: unknown option\n".to_owned())
    );
    assert_eq!(
        parse_line("-A -t 10.0.0.1:80 -p -5"),
        Parsed::Rejected("-5: unknown option\n".to_owned())
    );
}

#[test]
fn validation_messages() {
    fails_with(
        "-A -t 10.0.0.1",
        "Zero port specified for non-persistent service",
    );
    fails_with(
        "-A -t 10.0.0.1:80 -o",
        "One-Packet Scheduling is only for UDP virtual services",
    );
    fails_with(
        "-A -t 10.0.0.1:80 -t 10.0.0.2:80",
        "multiple 'service-address' options specified",
    );
    fails_with(
        "-A -t 10.0.0.1:80 -w 3",
        "Illegal 'weight' option with the 'add-service' command",
    );
    fails_with(
        "-a -t 10.0.0.1:80",
        "You need to supply the 'real-server' option for the 'add-server' command",
    );
    fails_with(
        "-a -t 10.0.0.1:80 -r 10.0.0.2 -w -1",
        "illegal weight specified",
    );
    fails_with(
        "-A -t 10.0.0.1:80 -p 0",
        "invalid timeout value `0' specified",
    );
    fails_with("-A -f 0", "invalid fwmark value `0' specified");
    fails_with("-A -t 10.0.0.1:80 -6", "-6 used before -f\n");
    fails_with(
        "-A -t 8080",
        "illegal virtual server address[:port] specified",
    );
    fails_with(
        "-a -t 10.0.0.1:80 -r 2001:db8::2",
        "Different address family is allowed only for tunneling servers",
    );
    fails_with(
        "-L -t 10.0.0.1:80 --timeout",
        "The option 'timeout' conflicts with the 'service-address' option in the 'list' command",
    );
    fails_with("-L -c --stats", "options conflicts in the list command");
    fails_with("-L foo", "unexpected argument foo");
    fails_with("--set 1 2", "--set option requires 3 timeout values");
    fails_with("--set 1 2 3 4", "unexpected argument 4");
    fails_with(
        "--start-daemon primary",
        "illegal start-daemon parameter specified",
    );
    fails_with("--stop-daemon primary", "illegal start_daemon specified");
}

#[test]
fn sched_flags_are_checked_against_the_final_scheduler() {
    let Command::AddService(service) = command("-A -t 10.0.0.1:80 -b sh-port -s sh") else {
        panic!()
    };
    assert!(service.flags.contains(ServiceFlags::SCHED2));
    fails_with(
        "-A -t 10.0.0.1:80 -b sh-port",
        "incompatible scheduler flag `sh-port'",
    );
    fails_with("-A -t 10.0.0.1:80 -b nope", "invalid scheduler flag `nope'");
    let Command::AddService(service) = command("-A -t 10.0.0.1:80 -b flag-1,flag-3") else {
        panic!()
    };
    assert!(
        service.flags.contains(ServiceFlags::SCHED1)
            && service.flags.contains(ServiceFlags::SCHED3)
    );
}

#[test]
fn list_variants() {
    assert_eq!(command("-Ln"), Command::List(ListWhat::All));
    assert_eq!(
        command("-L -t 10.0.0.1:80"),
        Command::List(ListWhat::Service(tcp("10.0.0.1", 80)))
    );
    assert_eq!(command("-lnc"), Command::List(ListWhat::Connections));
    assert_eq!(command("-L --timeout"), Command::List(ListWhat::Timeouts));
    assert_eq!(command("-L --daemon"), Command::List(ListWhat::Daemons));
    let Parsed::Run(invocation) = parse_line("-L -n --stats --exact --sort") else {
        panic!()
    };
    assert!(invocation.format.numeric && invocation.format.stats && invocation.format.exact);
}

#[test]
fn timeouts_and_daemons() {
    assert_eq!(
        command("--set 900 120 300"),
        Command::SetTimeouts(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        })
    );
    let Command::StartDaemon(daemon) =
        command("--start-daemon master --mcast-group 239.1.1.1 --mcast-port 9000")
    else {
        panic!()
    };
    assert_eq!(
        (daemon.state, daemon.interface.as_str()),
        (DaemonState::Master, "eth0")
    );
    assert_eq!(
        (daemon.group, daemon.port),
        (Some("239.1.1.1".parse().unwrap()), Some(9000))
    );
}

#[test]
fn help_and_version_only_as_the_command() {
    let Parsed::Exit(help) = parse_line("-h") else {
        panic!()
    };
    assert_eq!(help.status, 0);
    assert!(help.stdout.starts_with(
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n  ipvsadm -A|E"
    ));
    let Parsed::Exit(version) = parse_line("--version") else {
        panic!()
    };
    assert_eq!(
        version.stdout,
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    );
}

#[test]
fn nested_restore_is_refused() {
    assert_eq!(
        parse(&argv("-R"), Source::RestoreInput),
        Parsed::Exit(Exit::try_help("ipvsadm"))
    );
    assert_eq!(command("-R"), Command::Restore);
}
