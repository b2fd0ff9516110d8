//! The library against the real kernel, run by `scripts/vm-test ipvs-kernel` inside the test VM
//! (as root, with the `ip_vs` modules available and the reference ipvsadm at /usr/sbin/ipvsadm).
//!
//! Each test works in a network namespace of its own, so it starts from an empty table. After
//! each change, the state the library reads back must render to exactly what the reference
//! `ipvsadm -Sn` prints for the same namespace.

#[path = "kernel/save_format.rs"]
mod save_format;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use ipvs::message::{Command as IpvsCommand, CommandAttribute, IpvsMessage};
use ipvs::model::{
    AddressFamily, DaemonState, Destination, ForwardingMethod, Netmask, Service, ServiceFlags,
    ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelFlags, TunnelType,
};
use ipvs::{Change, Client, ClientOptions, Error, KernelError, Operation, Outcome};
use netlink_packet_core::DefaultNla;

const REFERENCE: &str = "/usr/sbin/ipvsadm";

/// Runs `test` on a thread of its own in a new network namespace whose loopback is up.
fn in_new_namespace<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        // SAFETY: unshare takes no pointer; it moves only this thread to a new namespace.
        let status = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            status,
            0,
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
        // IPv4 destinations need the local routing table, which appears with lo.
        run("ip", &["link", "set", "lo", "up"]);
        test()
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs a program (in the calling thread's namespace) and insists it succeeds.
fn run(program: &str, args: &[&str]) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The reference ipvsadm's output.
fn reference(args: &[&str]) -> Output {
    Command::new(REFERENCE)
        .args(args)
        .output()
        .expect("the reference ipvsadm runs")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A note on the VM console, outside libtest's capture (measurements).
fn note(message: &str) {
    if let Ok(mut console) = std::fs::OpenOptions::new().write(true).open("/dev/console") {
        let _ = writeln!(console, "ipvs-kernel: {message}");
    }
}

fn connect() -> Client {
    Client::connect().expect("connects to IPVS")
}

/// The table as the library reads it, in ipvsadm's rule format, sorted.
fn our_rules(client: &mut Client) -> Vec<String> {
    let mut lines = Vec::new();
    for service in client.services().expect("services") {
        lines.push(save_format::service_line(&service));
        for destination in client.destinations(&service.key).expect("destinations") {
            lines.push(save_format::destination_line(&service.key, &destination));
        }
    }
    lines.sort();
    lines
}

/// The table as `ipvsadm -Sn` prints it, sorted.
fn reference_rules() -> Vec<String> {
    let output = reference(&["-Sn"]);
    assert!(
        output.status.success(),
        "ipvsadm -Sn: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines = stdout_lines(&output);
    lines.sort();
    lines
}

#[track_caller]
fn assert_same_as_reference(client: &mut Client) {
    assert_eq!(our_rules(client), reference_rules());
}

#[track_caller]
fn assert_kernel_error(result: Result<(), Error>, operation: Operation, errno: i32) -> KernelError {
    match result {
        Err(Error::Kernel(error)) => {
            assert_eq!(
                (error.operation, error.errno),
                (operation, errno),
                "{error}"
            );
            error
        }
        other => panic!("expected errno {errno} from {operation}, got {other:?}"),
    }
}

/// The reference's error message for the same command, to compare with ours.
fn reference_error(args: &[&str]) -> String {
    let output = reference(args);
    assert!(!output.status.success(), "ipvsadm {args:?} succeeded");
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(text: &str) -> IpAddr {
    IpAddr::V6(text.parse::<Ipv6Addr>().expect("an IPv6 address"))
}

fn web() -> ServiceKey {
    ServiceKey::tcp(v4(10, 0, 0, 1), 80)
}

const IP_VS_PROC: &str = "/proc/net/ip_vs";

/// Unloads IPVS entirely, so that connecting must load it.
fn unload_ip_vs() {
    let modules = [
        "ip_vs_rr",
        "ip_vs_wrr",
        "ip_vs_lc",
        "ip_vs_wlc",
        "ip_vs_lblc",
        "ip_vs_lblcr",
        "ip_vs_dh",
        "ip_vs_sh",
        "ip_vs_sed",
        "ip_vs_nq",
        "ip_vs_fo",
        "ip_vs_ovf",
        "ip_vs_mh",
        "ip_vs_ftp",
        "ip_vs_pe_sip",
        "ip_vs",
    ];
    // Services of earlier suites' namespaces hold the schedulers until the kernel has finished
    // tearing those namespaces down, which it does in the background: try for a while.
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let _ = Command::new("modprobe")
            .arg("-r")
            .args(modules)
            .stderr(Stdio::null())
            .status();
        if !std::path::Path::new(IP_VS_PROC).exists() {
            return;
        }
        assert!(Instant::now() < deadline, "ip_vs could not be unloaded");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Points the kernel's own module loader somewhere else for as long as it lives.
struct KernelModprobe {
    saved: String,
}

const KERNEL_MODPROBE: &str = "/proc/sys/kernel/modprobe";

impl KernelModprobe {
    fn set(path: &str) -> Self {
        let saved = std::fs::read_to_string(KERNEL_MODPROBE).expect("reads kernel.modprobe");
        std::fs::write(KERNEL_MODPROBE, path).expect("sets kernel.modprobe");
        KernelModprobe { saved }
    }
}

impl Drop for KernelModprobe {
    fn drop(&mut self) {
        let _ = std::fs::write(KERNEL_MODPROBE, self.saved.trim());
    }
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn connecting_loads_ip_vs() {
    unload_ip_vs();
    // Generic netlink itself asks for the family's module when it is looked up.
    let mut client = connect();
    assert!(
        std::path::Path::new(IP_VS_PROC).exists(),
        "ip_vs was not loaded"
    );
    assert!(client.info().is_ok());
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn without_the_kernels_autoload_modprobe_is_run_like_ipvsadm() {
    unload_ip_vs();
    let _no_autoload = KernelModprobe::set("/nonexistent/modprobe");

    let without_loading = ClientOptions {
        load_module: false,
        ..ClientOptions::default()
    };
    match Client::connect_with(&without_loading) {
        Err(error @ Error::FamilyNotFound { module_load: None }) => {
            assert_eq!(error.ipvsadm_message(), "Protocol not available");
        }
        other => panic!(
            "expected FamilyNotFound, got {:?}",
            other.map(|client| client.family_id())
        ),
    }
    assert!(!std::path::Path::new(IP_VS_PROC).exists());

    // The default runs /sbin/modprobe -- ip_vs and looks again.
    let mut client = connect();
    assert!(
        std::path::Path::new(IP_VS_PROC).exists(),
        "ip_vs was not loaded"
    );
    assert!(client.info().is_ok());
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn info_matches_the_kernel() {
    in_new_namespace(|| {
        let info = connect().info().expect("info");
        let header = format!(
            "IP Virtual Server version {} (size={})",
            info.version, info.connection_table_size
        );
        assert_eq!(stdout_lines(&reference(&["-Ln"])).first(), Some(&header));
        assert_eq!(info.version.major(), 1);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn services_of_every_kind() {
    in_new_namespace(|| {
        let mut client = connect();
        let services = [
            Service::new(web()).with_scheduler("rr"),
            Service::new(ServiceKey::udp(v6("2001:db8::1"), 53))
                .with_scheduler("wrr")
                .with_persistence(600)
                .with_netmask(Netmask::Ipv6Prefix(64))
                .with_flags(ServiceFlags::ONE_PACKET),
            Service::new(ServiceKey::fwmark(AddressFamily::Ipv4, 7))
                .with_scheduler("sh")
                .with_flags(ServiceFlags::SCHED1 | ServiceFlags::SCHED2)
                .with_persistence(360)
                .with_netmask(Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0))),
            Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 8))
                .with_scheduler("mh")
                .with_flags(ServiceFlags::SCHED2),
            Service::new(ServiceKey::udp(v4(10, 0, 0, 5), 5060))
                .with_persistence(300)
                .with_persistence_engine("sip"),
            Service::new(ServiceKey::sctp(v4(10, 0, 0, 6), 9)).with_scheduler("lc"),
            Service::new(ServiceKey::tcp(v4(10, 0, 0, 7), 0))
                .with_persistence(1)
                .with_flags(ServiceFlags::SCHED3),
        ];
        for service in &services {
            client.add_service(service).expect("adds");
            assert_same_as_reference(&mut client);
            let read = client.service(&service.key).expect("reads back");
            assert_eq!(read.scheduler, service.scheduler);
            assert_eq!(read.flags, service.flags | ServiceFlags::HASHED);
            assert_eq!(
                (read.timeout, read.netmask),
                (service.timeout, service.netmask)
            );
            assert_eq!(read.persistence_engine, service.persistence_engine);
        }
        assert_eq!(client.services().expect("services").len(), services.len());
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn update_service_replaces_every_setting() {
    in_new_namespace(|| {
        let mut client = connect();
        let persistent = Service::new(web())
            .with_scheduler("sh")
            .with_persistence(900)
            .with_flags(ServiceFlags::SCHED1);
        client.add_service(&persistent).expect("adds");
        client
            .add_destination(&web(), &Destination::new(v4(10, 0, 0, 2), 80))
            .expect("adds a destination");
        assert_same_as_reference(&mut client);

        // Like ipvsadm -E without -p and -b: persistence and scheduler flags go, destinations stay.
        client
            .update_service(&Service::new(web()).with_scheduler("rr"))
            .expect("updates");
        assert_same_as_reference(&mut client);
        let read = client.service(&web()).expect("reads");
        assert_eq!(
            (read.scheduler.as_str(), read.is_persistent()),
            ("rr", false)
        );
        assert_eq!(client.destinations(&web()).expect("destinations").len(), 1);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn destinations_added_edited_deleted() {
    in_new_namespace(|| {
        let mut client = connect();
        let mark = ServiceKey::fwmark(AddressFamily::Ipv4, 7);
        let mark6 = ServiceKey::fwmark(AddressFamily::Ipv6, 8);
        let dns6 = ServiceKey::udp(v6("2001:db8::1"), 53);
        for key in [web(), mark, mark6, dns6] {
            client
                .add_service(&Service::new(key))
                .expect("adds a service");
        }
        let masq = Destination::new(v4(10, 0, 0, 2), 8080)
            .with_forwarding(ForwardingMethod::Masquerade)
            .with_weight(3)
            .with_thresholds(100, 50);
        let additions = [
            (web(), masq.clone()),
            (
                web(),
                Destination::new(v4(10, 0, 0, 3), 80).with_weight(i32::MAX),
            ),
            (
                mark,
                Destination::new(v4(192, 168, 1, 10), 0).with_tunnel(Tunnel {
                    kind: TunnelType::Gue,
                    port: 6080,
                    flags: TunnelFlags::REMOTE_CHECKSUM,
                }),
            ),
            (
                mark,
                Destination::new(v4(192, 168, 1, 11), 0).with_tunnel(Tunnel {
                    kind: TunnelType::Gre,
                    port: 0,
                    flags: TunnelFlags::CHECKSUM,
                }),
            ),
            (
                mark6,
                Destination::new(v4(10, 0, 0, 7), 0).with_tunnel(Tunnel::default()),
            ),
            (
                dns6,
                Destination::new(v6("2001:db8::10"), 53)
                    .with_forwarding(ForwardingMethod::Masquerade)
                    .with_weight(0),
            ),
        ];
        for (service, destination) in &additions {
            client
                .add_destination(service, destination)
                .expect("adds a destination");
            assert_same_as_reference(&mut client);
            let read = client.destinations(service).expect("destinations");
            let found = read
                .iter()
                .find(|d| d.address == destination.address)
                .expect("listed");
            assert_eq!(
                (found.port, found.forwarding, found.weight),
                (destination.port, destination.forwarding, destination.weight)
            );
            assert_eq!(
                (found.upper_threshold, found.lower_threshold),
                (destination.upper_threshold, destination.lower_threshold)
            );
            assert_eq!(found.tunnel, destination.tunnel);
            assert_eq!(found.family(), destination.family());
        }

        client
            .update_destination(
                &web(),
                &Destination::new(masq.address, masq.port)
                    .with_forwarding(ForwardingMethod::Masquerade)
                    .with_weight(5),
            )
            .expect("updates");
        assert_same_as_reference(&mut client);
        let read = client.destinations(&web()).expect("destinations");
        let updated = read
            .iter()
            .find(|d| d.address == masq.address)
            .expect("listed");
        assert_eq!(updated.weight, 5);
        // Every setting is replaced: the thresholds given at addition are gone.
        assert_eq!((updated.upper_threshold, updated.lower_threshold), (0, 0));

        client
            .delete_destination(&web(), v4(10, 0, 0, 3), 80)
            .expect("deletes");
        client
            .delete_destination(&mark, v4(192, 168, 1, 10), 0)
            .expect("deletes");
        assert_same_as_reference(&mut client);
        assert_eq!(client.destinations(&web()).expect("destinations").len(), 1);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn services_deleted_and_flushed() {
    in_new_namespace(|| {
        let mut client = connect();
        for port in 1..=5 {
            let key = ServiceKey::tcp(v4(10, 0, 0, 1), port);
            client.add_service(&Service::new(key)).expect("adds");
            client
                .add_destination(&key, &Destination::new(v4(10, 0, 1, 1), port))
                .expect("adds a destination");
        }
        client
            .delete_service(&ServiceKey::tcp(v4(10, 0, 0, 1), 3))
            .expect("deletes");
        assert_same_as_reference(&mut client);
        assert_eq!(client.services().expect("services").len(), 4);
        client.flush().expect("flushes");
        assert!(client.services().expect("services").is_empty());
        assert!(reference_rules().is_empty());
    });
}

/// A call's result, the operation and errno it must fail with, and ipvsadm's arguments for
/// the same request.
type RefusalCase = (Result<(), Error>, Operation, i32, Vec<&'static str>);

/// A service without its counters, which move on their own between two reads.
fn without_counters(service: Service) -> Service {
    Service {
        stats: None,
        stats64: None,
        ..service
    }
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn one_service_or_its_absence() {
    in_new_namespace(|| {
        let mut client = connect();
        client
            .add_service(&Service::new(web()).with_scheduler("rr"))
            .expect("adds");
        let listed = client.services().expect("services").remove(0);
        assert_eq!(
            without_counters(client.service(&web()).expect("one service")),
            without_counters(listed)
        );

        let missing = ServiceKey::tcp(v4(10, 9, 9, 9), 1);
        let error = assert_kernel_error(
            client.service(&missing).map(drop),
            Operation::GetService,
            libc::ESRCH,
        );
        assert_eq!(error.ipvsadm_message(), "No such service");
        // The kernel answers an empty dump for the destinations of a missing service.
        assert!(
            client
                .destinations(&missing)
                .expect("an empty dump")
                .is_empty()
        );
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn kernel_errors_are_typed_and_worded_like_ipvsadm() {
    in_new_namespace(|| {
        let mut client = connect();
        client.add_service(&Service::new(web())).expect("adds");
        client
            .add_destination(&web(), &Destination::new(v4(10, 0, 0, 2), 80))
            .expect("adds a destination");

        // What we did, what should have failed how, and the same with the reference ipvsadm.
        let cases: Vec<RefusalCase> = vec![
            (
                client.add_service(&Service::new(web())),
                Operation::AddService,
                libc::EEXIST,
                vec!["-A", "-t", "10.0.0.1:80"],
            ),
            (
                client.add_service(
                    &Service::new(ServiceKey::tcp(v4(10, 0, 0, 9), 80)).with_scheduler("nosuch"),
                ),
                Operation::AddService,
                libc::ENOENT,
                vec!["-A", "-t", "10.0.0.9:80", "-s", "nosuch"],
            ),
            (
                client.update_service(&Service::new(ServiceKey::tcp(v4(10, 9, 9, 9), 1))),
                Operation::UpdateService,
                libc::ESRCH,
                vec!["-E", "-t", "10.9.9.9:1"],
            ),
            (
                client.delete_service(&ServiceKey::tcp(v4(10, 9, 9, 9), 1)),
                Operation::DeleteService,
                libc::ESRCH,
                vec!["-D", "-t", "10.9.9.9:1"],
            ),
            (
                client.add_destination(&web(), &Destination::new(v4(10, 0, 0, 2), 80)),
                Operation::AddDestination,
                libc::EEXIST,
                vec!["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80"],
            ),
            (
                client.add_destination(
                    &ServiceKey::tcp(v4(10, 9, 9, 9), 1),
                    &Destination::new(v4(10, 0, 0, 2), 1),
                ),
                Operation::AddDestination,
                libc::ESRCH,
                vec!["-a", "-t", "10.9.9.9:1", "-r", "10.0.0.2:1"],
            ),
            (
                client.add_destination(&web(), &Destination::new(v4(224, 0, 0, 1), 80)),
                Operation::AddDestination,
                libc::EINVAL,
                vec!["-a", "-t", "10.0.0.1:80", "-r", "224.0.0.1:80"],
            ),
            (
                client.add_destination(
                    &web(),
                    &Destination::new(v4(10, 0, 0, 8), 80).with_thresholds(10, 20),
                ),
                Operation::AddDestination,
                libc::ERANGE,
                vec![
                    "-a",
                    "-t",
                    "10.0.0.1:80",
                    "-r",
                    "10.0.0.8:80",
                    "-x",
                    "10",
                    "-y",
                    "20",
                ],
            ),
            (
                client.update_destination(&web(), &Destination::new(v4(10, 0, 0, 99), 80)),
                Operation::UpdateDestination,
                libc::ENOENT,
                vec!["-e", "-t", "10.0.0.1:80", "-r", "10.0.0.99:80"],
            ),
            (
                client.delete_destination(&web(), v4(10, 0, 0, 99), 80),
                Operation::DeleteDestination,
                libc::ENOENT,
                vec!["-d", "-t", "10.0.0.1:80", "-r", "10.0.0.99:80"],
            ),
            (
                client.zero(Some(&ServiceKey::tcp(v4(10, 9, 9, 9), 1))),
                Operation::Zero,
                libc::ESRCH,
                vec!["-Z", "-t", "10.9.9.9:1"],
            ),
            (
                client.stop_daemon(DaemonState::Master),
                Operation::StopDaemon,
                libc::ESRCH,
                vec!["--stop-daemon", "master"],
            ),
        ];
        for (result, operation, errno, args) in cases {
            let error = assert_kernel_error(result, operation, errno);
            assert_eq!(
                error.ipvsadm_message(),
                reference_error(&args),
                "ipvsadm {args:?}"
            );
        }
        // Nothing the kernel refused changed the table.
        assert_same_as_reference(&mut client);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn policy_violations_carry_the_kernels_message() {
    in_new_namespace(|| {
        let mut client = connect();
        // A TCP timeout of 2 bytes where the policy wants a u32: generic netlink refuses it
        // (with ERANGE) and an extended acknowledgement pointing at the attribute.
        let malformed = IpvsMessage::new(
            IpvsCommand::SetConfig,
            vec![CommandAttribute::Other(DefaultNla::new(4, vec![1, 0]))],
        );
        let error = assert_kernel_error(
            client.execute(Operation::SetTimeouts, malformed).map(drop),
            Operation::SetTimeouts,
            libc::ERANGE,
        );
        note(&format!(
            "policy violation: {error}; offset {:?}",
            error.offset
        ));
        assert_eq!(
            error.message.as_deref(),
            Some("Attribute failed policy validation")
        );
        // The offset is that of the attribute: right after the netlink and genl headers.
        assert_eq!(error.offset, Some(20));
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn timeouts_set_and_read() {
    in_new_namespace(|| {
        let mut client = connect();
        let defaults = client.timeouts().expect("timeouts");
        assert_eq!(
            stdout_lines(&reference(&["-L", "--timeout"])),
            vec![format!(
                "Timeout (tcp tcpfin udp): {} {} {}",
                defaults.tcp, defaults.tcp_fin, defaults.udp
            )]
        );

        client
            .set_timeouts(&Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300,
            })
            .expect("sets");
        assert_eq!(
            client.timeouts().expect("timeouts"),
            Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300
            }
        );
        // 0 leaves a timeout as it is.
        client
            .set_timeouts(&Timeouts {
                tcp: 0,
                tcp_fin: 0,
                udp: 45,
            })
            .expect("sets");
        let read = client.timeouts().expect("timeouts");
        assert_eq!(
            read,
            Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 45
            }
        );
        assert_eq!(
            stdout_lines(&reference(&["-L", "--timeout"])),
            vec!["Timeout (tcp tcpfin udp): 900 120 45".to_owned()]
        );
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn sync_daemons_started_listed_stopped() {
    in_new_namespace(|| {
        run("ip", &["link", "add", "dummy0", "type", "dummy"]);
        run("ip", &["link", "set", "dummy0", "up"]);
        let mut client = connect();
        assert!(client.daemons().expect("daemons").is_empty());

        let master = SyncDaemon {
            sync_id: 5,
            ..SyncDaemon::new(DaemonState::Master, "dummy0")
        };
        let backup = SyncDaemon {
            max_length: Some(1400),
            group: Some(v4(239, 1, 1, 1)),
            port: Some(9000),
            ttl: Some(2),
            ..SyncDaemon::new(DaemonState::Backup, "dummy0")
        };
        client.start_daemon(&master).expect("starts the master");
        client.start_daemon(&backup).expect("starts the backup");
        let error = assert_kernel_error(
            client.start_daemon(&master),
            Operation::StartDaemon,
            libc::EEXIST,
        );
        assert_eq!(error.ipvsadm_message(), "Daemon has already run");

        let daemons = client.daemons().expect("daemons");
        let listed: Vec<String> = daemons
            .iter()
            .map(|daemon| {
                format!(
                    "{} sync daemon (mcast={}, syncid={}, maxlen={}, group={}, port={}, ttl={})",
                    if daemon.state == DaemonState::Master {
                        "master"
                    } else {
                        "backup"
                    },
                    daemon.interface,
                    daemon.sync_id,
                    daemon.max_length.unwrap_or_default(),
                    daemon
                        .group
                        .map(|group| group.to_string())
                        .unwrap_or_default(),
                    daemon.port.unwrap_or_default(),
                    daemon.ttl.unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(listed, stdout_lines(&reference(&["-L", "--daemon"])));
        // The kernel's defaults for what the master left out.
        let read_master = daemons
            .iter()
            .find(|daemon| daemon.state == DaemonState::Master)
            .expect("master");
        assert_eq!(
            (
                read_master.max_length,
                read_master.group,
                read_master.port,
                read_master.ttl
            ),
            (Some(1472), Some(v4(224, 0, 0, 81)), Some(8848), Some(1))
        );
        assert!(daemons.contains(&backup));

        client.stop_daemon(DaemonState::Master).expect("stops");
        client.stop_daemon(DaemonState::Backup).expect("stops");
        assert!(client.daemons().expect("daemons").is_empty());
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn zero_one_service_or_all() {
    in_new_namespace(|| {
        let mut client = connect();
        client.add_service(&Service::new(web())).expect("adds");
        client.zero(Some(&web())).expect("zeroes one");
        client.zero(None).expect("zeroes all");
        let service = client.service(&web()).expect("reads");
        assert_eq!(service.statistics().map(|stats| stats.connections), Some(0));
    });
}

/// The lines of a restore file with failures mixed in, and the indices that must fail.
fn restore_lines(services: u32) -> (Vec<String>, Vec<Change>, Vec<usize>) {
    let (mut lines, mut changes, mut failing) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..services {
        let address = v4(10, 1, (n / 250) as u8, (n % 250) as u8 + 1);
        let key = ServiceKey::tcp(address, 80);
        lines.push(format!("-A -t {address}:80 -s rr"));
        changes.push(Change::AddService(Service::new(key).with_scheduler("rr")));
        let real = v4(10, 2, (n / 250) as u8, (n % 250) as u8 + 1);
        lines.push(format!(
            "-a -t {address}:80 -r {real}:8080 -m -w {}",
            n % 100
        ));
        changes.push(Change::AddDestination {
            service: key,
            destination: Destination::new(real, 8080)
                .with_forwarding(ForwardingMethod::Masquerade)
                .with_weight((n % 100) as i32),
        });
        if n % 97 == 50 {
            // The same service again: refused, and the restore goes on.
            failing.push(changes.len());
            lines.push(format!("-A -t {address}:80 -s rr"));
            changes.push(Change::AddService(Service::new(key).with_scheduler("rr")));
        }
        if n % 101 == 7 {
            // A destination for a service that does not exist.
            failing.push(changes.len());
            lines.push(format!("-a -t 10.9.9.9:{n} -r {real}:80"));
            changes.push(Change::AddDestination {
                service: ServiceKey::tcp(v4(10, 9, 9, 9), n as u16),
                destination: Destination::new(real, 80),
            });
        }
    }
    (lines, changes, failing)
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn batch_reproduces_ipvsadm_restore() {
    let (lines, changes, failing) = restore_lines(1500);

    // The reference, line by line.
    let (reference_table, reference_errors, reference_elapsed) = in_new_namespace(move || {
        let started = Instant::now();
        let mut restore = Command::new(REFERENCE)
            .arg("-R")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ipvsadm -R");
        let input = lines.join("\n") + "\n";
        restore
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writes");
        let output = restore.wait_with_output().expect("ipvsadm -R finishes");
        let elapsed = started.elapsed();
        let errors: Vec<String> = String::from_utf8_lossy(&output.stderr)
            .lines()
            .map(str::to_owned)
            .collect();
        (reference_rules(), errors, elapsed)
    });

    // The same as one batch.
    let (our_table, report, elapsed) = in_new_namespace(move || {
        let mut client = connect();
        let started = Instant::now();
        let report = client.apply_all(&changes).expect("the batch completes");
        let elapsed = started.elapsed();
        (reference_rules(), report, elapsed)
    });
    note(&format!(
        "batch of {} changes in {elapsed:?}; ipvsadm -R of the same in {reference_elapsed:?}",
        report.outcomes.len()
    ));

    let failed: Vec<usize> = report.failures().map(|(index, _)| index).collect();
    assert_eq!(failed, failing);
    assert_eq!(report.applied(), report.outcomes.len() - failing.len());
    let our_errors: Vec<String> = report
        .failures()
        .map(|(_, error)| error.ipvsadm_message().into_owned())
        .collect();
    assert_eq!(our_errors, reference_errors);
    assert_eq!(our_table, reference_table);
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn batches_fit_a_small_receive_buffer() {
    in_new_namespace(|| {
        // Room for a handful of acknowledgements only: the batch must be cut to fit, not overrun.
        let options = ClientOptions {
            receive_buffer: 4096,
            send_buffer: 4096,
            ..ClientOptions::default()
        };
        let mut client = Client::connect_with(&options).expect("connects");
        let changes: Vec<Change> = (1..=2000)
            .map(|port| Change::AddService(Service::new(ServiceKey::udp(v4(10, 0, 0, 1), port))))
            .collect();
        let report = client.apply_all(&changes).expect("the batch completes");
        assert!(report.all_applied(), "{:?}", report.first_failure());
        assert_eq!(client.services().expect("services").len(), 2000);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn large_batch_and_large_dump() {
    in_new_namespace(|| {
        let mut client = connect();
        let count = 20_000u32;
        let changes: Vec<Change> = (0..count)
            .map(|n| {
                Change::AddService(Service::new(ServiceKey::tcp(
                    v4(10, 3, (n / 250) as u8, (n % 250) as u8 + 1),
                    443,
                )))
            })
            .collect();
        let started = Instant::now();
        let report = client.apply_all(&changes).expect("the batch completes");
        note(&format!(
            "{count} services in one batch: {:?}",
            started.elapsed()
        ));
        assert!(report.all_applied(), "{:?}", report.first_failure());

        // Read back across many multipart datagrams.
        let started = Instant::now();
        let services = client.services().expect("services");
        note(&format!(
            "dump of {} services: {:?}",
            services.len(),
            started.elapsed()
        ));
        assert_eq!(services.len(), count as usize);
        assert_eq!(stdout_lines(&reference(&["-Sn"])).len(), count as usize);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn the_whole_table_reads_back_complete() {
    in_new_namespace(|| {
        let mut client = connect();
        let long = ServiceKey::udp(v6("2001:db8::53"), 53);
        // (service, destinations): none, a few, and far more than one datagram of the
        // destination socket holds (each entry is about 200 bytes, a datagram a page).
        let table: Vec<(ServiceKey, Vec<Destination>)> = vec![
            (
                web(),
                vec![
                    Destination::new(v4(10, 1, 0, 1), 80).with_weight(2),
                    Destination::new(v4(10, 1, 0, 2), 8080)
                        .with_forwarding(ForwardingMethod::Masquerade)
                        .with_thresholds(100, 10),
                ],
            ),
            (ServiceKey::fwmark(AddressFamily::Ipv4, 7), Vec::new()),
            (
                long,
                (1..=150u16)
                    .map(|host| {
                        let address = v6(&format!("2001:db8:1::{host:x}"));
                        Destination::new(address, 53).with_weight(i32::from(host))
                    })
                    .collect(),
            ),
            (
                ServiceKey::fwmark(AddressFamily::Ipv6, 8),
                vec![Destination::new(v6("2001:db8:2::1"), 0).with_weight(0)],
            ),
            (ServiceKey::sctp(v4(10, 0, 0, 6), 9), Vec::new()),
        ];
        let mut changes = Vec::new();
        for (key, destinations) in &table {
            changes.push(Change::AddService(Service::new(*key).with_scheduler("rr")));
            for destination in destinations {
                changes.push(Change::AddDestination {
                    service: *key,
                    destination: destination.clone(),
                });
            }
        }
        let report = client.apply_all(&changes).expect("the batch completes");
        assert!(report.all_applied(), "{:?}", report.first_failure());

        // Twice, with the main socket used in between: the destination socket stays usable.
        for _ in 0..2 {
            let read = client.table().expect("the table");
            assert_eq!(read.len(), table.len());
            for (key, destinations) in &table {
                let entry = read
                    .iter()
                    .find(|entry| entry.service.key == *key)
                    .unwrap_or_else(|| panic!("{key} is missing"));
                let mut expected: Vec<(IpAddr, u16, i32)> = destinations
                    .iter()
                    .map(|d| (d.address, d.port, d.weight))
                    .collect();
                let mut got: Vec<(IpAddr, u16, i32)> = entry
                    .destinations
                    .iter()
                    .map(|d| (d.address, d.port, d.weight))
                    .collect();
                expected.sort();
                got.sort();
                assert_eq!(got, expected, "{key}");
            }
            let mut lines: Vec<String> = read
                .iter()
                .flat_map(|entry| {
                    std::iter::once(save_format::service_line(&entry.service)).chain(
                        entry.destinations.iter().map(|destination| {
                            save_format::destination_line(&entry.service.key, destination)
                        }),
                    )
                })
                .collect();
            lines.sort();
            assert_eq!(lines, reference_rules());
            client.info().expect("the main socket answers in between");
            assert_eq!(client.destinations(&long).expect("destinations").len(), 150);
        }
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn batch_outcomes_name_each_failure() {
    in_new_namespace(|| {
        let mut client = connect();
        let changes = vec![
            Change::AddService(Service::new(web())),
            Change::AddService(Service::new(web())),
            Change::AddDestination {
                service: web(),
                destination: Destination::new(v4(10, 0, 0, 2), 80),
            },
            Change::DeleteService(ServiceKey::tcp(v4(10, 9, 9, 9), 1)),
            Change::SetTimeouts(Timeouts {
                tcp: 0,
                tcp_fin: 0,
                udp: 77,
            }),
            Change::Zero(None),
        ];
        let report = client.apply_all(&changes).expect("the batch completes");
        let summary: Vec<Option<(Operation, i32)>> = report
            .outcomes
            .iter()
            .map(|outcome| match outcome {
                Outcome::Applied => None,
                Outcome::Failed(error) => Some((error.operation, error.errno)),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                None,
                Some((Operation::AddService, libc::EEXIST)),
                None,
                Some((Operation::DeleteService, libc::ESRCH)),
                None,
                None
            ]
        );
        assert_eq!(report.first_failure().map(|(index, _)| index), Some(1));
        assert_eq!(client.timeouts().expect("timeouts").udp, 77);
        assert_same_as_reference(&mut client);
    });
}

#[test]
#[ignore = "needs the IPVS kernel: run by scripts/vm-test"]
fn the_text_listing_agrees_with_netlink() {
    in_new_namespace(|| {
        let mut client = connect();
        let tunnel = ForwardingMethod::Tunnel;
        let mark_v4 = ServiceKey::fwmark(AddressFamily::Ipv4, 9);
        let mark_v6 = ServiceKey::fwmark(AddressFamily::Ipv6, 9);
        let table: [(Service, Vec<Destination>); 6] = [
            (
                Service::new(web()).with_scheduler("wrr"),
                vec![
                    Destination::new(v4(10, 0, 0, 2), 8080)
                        .with_forwarding(ForwardingMethod::Masquerade)
                        .with_weight(3),
                    Destination::new(v4(10, 0, 0, 3), 8080)
                        .with_forwarding(ForwardingMethod::Masquerade)
                        .with_weight(0),
                    Destination::new(v4(10, 0, 0, 4), 80).with_forwarding(tunnel),
                ],
            ),
            (
                Service::new(ServiceKey::udp(v6("2001:db8::1"), 53))
                    .with_flags(ServiceFlags::ONE_PACKET),
                vec![Destination::new(v6("2001:db8::2"), 53).with_weight(65535)],
            ),
            (
                Service::new(ServiceKey::sctp(v4(10, 0, 0, 6), 9)).with_persistence(60),
                vec![],
            ),
            (
                Service::new(mark_v4),
                vec![Destination::new(v4(10, 0, 0, 2), 0)],
            ),
            (
                Service::new(mark_v6),
                vec![
                    Destination::new(v6("2001:db8::3"), 0),
                    // Tunnels may cross families.
                    Destination::new(v4(10, 0, 0, 5), 0).with_forwarding(tunnel),
                ],
            ),
            (
                Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 10)),
                vec![Destination::new(v6("2001:db8::4"), 0).with_weight(7)],
            ),
        ];
        for (service, destinations) in &table {
            client.add_service(service).expect("adds the service");
            for destination in destinations {
                client
                    .add_destination(&service.key, destination)
                    .expect("adds the destination");
            }
        }

        // The namespace is this thread's: the listing must be read as the thread's.
        let listed = ipvs::procfs::ProcTable::read()
            .expect("the listing reads")
            .expect("the listing parses");
        let shown = |destination: &Destination| {
            (
                destination.address,
                destination.port,
                destination.forwarding,
                destination.weight,
                destination.active_connections,
                destination.inactive_connections,
            )
        };
        for (service, _) in &table {
            let key = &service.key;
            if *key == mark_v4 || *key == mark_v6 {
                // One mark, two families: the listing cannot tell them apart.
                assert!(listed.destinations(key).is_none(), "{key}");
                continue;
            }
            let from_netlink: Vec<_> = client
                .destinations(key)
                .expect("destinations")
                .iter()
                .map(shown)
                .collect();
            let from_listing: Vec<_> = listed
                .destinations(key)
                .unwrap_or_else(|| panic!("{key} is listed"))
                .iter()
                .map(shown)
                .collect();
            assert_eq!(from_listing, from_netlink, "{key}");
        }
    });
}
