//! ipvsadm's command line: from argv to a checked [`Invocation`], or to the exact message and
//! exit status ipvsadm 1.31 gives.
//!
//! The checks run in ipvsadm's order (`parse_options`, then `process_options`), because the first
//! failing check decides the message a user sees.

pub mod docs;
pub mod popt;
pub mod table;
pub mod values;

use std::net::{IpAddr, Ipv4Addr};

use ipvs::model::{
    AddressFamily, DaemonState, Destination, ForwardingMethod, Netmask, Protocol, Service,
    ServiceFlags, ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelFlags, TunnelType,
};

use crate::output::Format;
use crate::text;
use popt::{PoptError, Scanner};
use table::{Cmd, OPTION_TABLE, Opt, OptSet, Tag};
use values::{McastGroupError, PortProtocol};

/// The longest persistence timeout and protocol timeout ipvsadm accepts: 31 days.
const MAX_TIMEOUT: i64 = 86400 * 31;

/// How a command line ends when it is not run: what ipvsadm prints and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The exit status.
    pub status: u8,
    /// What goes to standard output.
    pub stdout: String,
    /// What goes to standard error.
    pub stderr: String,
}

impl Exit {
    /// ipvsadm's `fail()`: the message and a newline on stderr, status 2.
    pub fn fail(message: impl Into<String>) -> Self {
        let mut stderr = message.into();
        stderr.push('\n');
        Exit {
            status: 2,
            stdout: String::new(),
            stderr,
        }
    }

    /// ipvsadm's `tryhelp_exit(program, -1)`.
    pub fn try_help(program: &str) -> Self {
        Exit {
            status: 255,
            stdout: String::new(),
            stderr: text::try_help(program),
        }
    }
}

/// The outcome of reading one command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A command to carry out.
    Run(Box<Invocation>),
    /// The program ends here (a failed check, try-help, `-h`, `-v`); a restore ends with it.
    Exit(Exit),
    /// popt rejected an option after the command: the message is printed and the status is 255,
    /// but a restore goes on with the next line.
    Rejected(String),
}

/// A checked command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// What to do.
    pub command: Command,
    /// How listings are printed.
    pub format: Format,
}

/// What a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListWhat {
    /// Every service (`-L`).
    All,
    /// One service (`-L -t ...`).
    Service(ServiceKey),
    /// The connection table (`-L -c`).
    Connections,
    /// The protocol timeouts (`-L --timeout`).
    Timeouts,
    /// The sync daemons (`-L --daemon`).
    Daemons,
}

/// A command with everything it needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `-A`.
    AddService(Service),
    /// `-E`.
    EditService(Service),
    /// `-D`.
    DeleteService(ServiceKey),
    /// `-C`.
    Flush,
    /// `-L`.
    List(ListWhat),
    /// `-a`.
    AddServer(ServiceKey, Destination),
    /// `-e`.
    EditServer(ServiceKey, Destination),
    /// `-d`.
    DeleteServer(ServiceKey, Destination),
    /// `--set`.
    SetTimeouts(Timeouts),
    /// `--start-daemon`.
    StartDaemon(SyncDaemon),
    /// `--stop-daemon`.
    StopDaemon(SyncDaemon),
    /// `-R`.
    Restore,
    /// `-S`.
    Save,
    /// `-Z` (all services when `None`).
    Zero(Option<ServiceKey>),
}

/// The service fields as ipvsadm accumulates them (`ipvs_service_t`), before they are checked.
#[derive(Debug, Clone)]
struct ServiceFields {
    family: Option<AddressFamily>,
    protocol: PortProtocol,
    address: IpAddr,
    port: u16,
    fwmark: u32,
    scheduler: String,
    persistence_engine: String,
    flags: ServiceFlags,
    timeout: u32,
    /// IPv4: the mask as a number (255.255.255.255 = 0xffffffff); IPv6: the prefix length.
    netmask: u32,
}

/// The destination fields as ipvsadm accumulates them (`ipvs_dest_t`).
#[derive(Debug, Clone)]
struct DestinationFields {
    address: IpAddr,
    port: u16,
    forwarding: ForwardingMethod,
    weight: i32,
    upper_threshold: u32,
    lower_threshold: u32,
    tunnel: Tunnel,
}

/// The sync daemon fields as ipvsadm accumulates them (`ipvs_daemon_t`).
#[derive(Debug, Clone, Default)]
struct DaemonFields {
    state: u32,
    interface: String,
    sync_id: u32,
    max_length: u16,
    group: Option<IpAddr>,
    port: u16,
    ttl: u8,
}

/// The state of a command line being read (`struct ipvs_command_entry` plus options and format).
struct Entry {
    cmd: Cmd,
    service: ServiceFields,
    destination: DestinationFields,
    timeouts: Timeouts,
    daemon: DaemonFields,
    options: OptSet,
    format: Format,
    sched_flags: Option<String>,
}

impl Entry {
    fn new(cmd: Cmd) -> Self {
        Entry {
            cmd,
            service: ServiceFields {
                family: None,
                protocol: PortProtocol::None,
                address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port: 0,
                fwmark: 0,
                scheduler: String::new(),
                persistence_engine: String::new(),
                flags: ServiceFlags::EMPTY,
                timeout: 0,
                netmask: 0xffff_ffff,
            },
            destination: DestinationFields {
                address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port: 0,
                forwarding: ForwardingMethod::DirectRoute,
                weight: 1,
                upper_threshold: 0,
                lower_threshold: 0,
                tunnel: Tunnel::default(),
            },
            timeouts: Timeouts::default(),
            daemon: DaemonFields::default(),
            options: OptSet::default(),
            format: Format::default(),
            sched_flags: None,
        }
    }

    /// `set_option`: every option may be given once.
    fn set(&mut self, opt: Opt) -> Result<(), Exit> {
        if self.options.insert(opt) {
            Ok(())
        } else {
            Err(Exit::fail(format!(
                "multiple '{}' options specified",
                opt.name()
            )))
        }
    }
}

/// Whether the line being read comes from `-R` (a nested `-R` is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The process's own command line.
    CommandLine,
    /// A line of `-R` input.
    RestoreInput,
}

/// Reads a command line. `argv[0]` is the program name used in messages.
pub fn parse<S: AsRef<str>>(argv: &[S], source: Source) -> Parsed {
    let program = argv.first().map_or("ipvsadm", AsRef::as_ref);
    parse_words(program, argv.get(1..).unwrap_or_default(), source)
}

/// Reads the words of a command line after the program name (a line of `-R` input); `program`
/// names the program in messages.
pub fn parse_words<S: AsRef<str>>(program: &str, words: &[S], source: Source) -> Parsed {
    match parse_options(program, words) {
        Ok(entry) => match process_options(program, entry, source) {
            Ok(invocation) => Parsed::Run(Box::new(invocation)),
            Err(exit) => Parsed::Exit(exit),
        },
        Err(Stop::Exit(exit)) => Parsed::Exit(exit),
        Err(Stop::Rejected(message)) => Parsed::Rejected(message),
    }
}

enum Stop {
    Exit(Exit),
    Rejected(String),
}

impl From<Exit> for Stop {
    fn from(exit: Exit) -> Self {
        Stop::Exit(exit)
    }
}

/// `parse_options`: the command first, then every option in order.
fn parse_options<S: AsRef<str>>(program: &str, words: &[S]) -> Result<Entry, Stop> {
    let mut scanner = Scanner::new(&OPTION_TABLE, words);
    let first = match scanner.next_option() {
        Some(Ok(found)) => found,
        None | Some(Err(_)) => return Err(Exit::try_help(program).into()),
    };
    let mut entry = match first.tag {
        Tag::Command(cmd) => {
            let mut entry = Entry::new(cmd);
            if matches!(cmd, Cmd::StartDaemon | Cmd::StopDaemon) {
                entry.daemon.state = match first.arg {
                    Some("master") => DaemonState::Master.to_raw(),
                    Some("backup") => DaemonState::Backup.to_raw(),
                    _ if cmd == Cmd::StartDaemon => {
                        return Err(Exit::fail("illegal start-daemon parameter specified").into());
                    }
                    _ => return Err(Exit::fail("illegal start_daemon specified").into()),
                };
            }
            entry
        }
        Tag::Help => {
            return Err(Exit {
                status: 0,
                stdout: text::usage(program),
                stderr: String::new(),
            }
            .into());
        }
        Tag::Version => {
            return Err(Exit {
                status: 0,
                stdout: text::version(),
                stderr: String::new(),
            }
            .into());
        }
        _ => return Err(Exit::try_help(program).into()),
    };

    while let Some(next) = scanner.next_option() {
        let found = match next {
            Ok(found) => found,
            Err(error) => return Err(Stop::Rejected(popt_message(scanner.last_word(), error))),
        };
        apply_option(&mut entry, found.tag, found.arg, scanner.last_word())?;
    }

    if entry.cmd == Cmd::SetTimeouts {
        match (
            scanner.take_leftover(),
            scanner.take_leftover(),
            scanner.take_leftover(),
        ) {
            (Some(tcp), Some(tcp_fin), Some(udp)) => {
                entry.timeouts = Timeouts {
                    tcp: parse_timeout(tcp, 0)?,
                    tcp_fin: parse_timeout(tcp_fin, 0)?,
                    udp: parse_timeout(udp, 0)?,
                };
            }
            _ => return Err(Exit::fail("--set option requires 3 timeout values").into()),
        }
    }
    if let Some(leftover) = scanner.take_leftover() {
        return Err(Exit::fail(format!("unexpected argument {leftover}")).into());
    }
    if let Some(flags) = entry.sched_flags.take() {
        entry
            .service
            .flags
            .remove(ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3);
        entry
            .service
            .flags
            .insert(parse_sched_flags(&entry.service.scheduler, &flags)?);
    }
    Ok(entry)
}

fn popt_message(word: &str, error: PoptError) -> String {
    format!("{word}: {}\n", error.message())
}

/// One option after the command. `optional` is the argument of `-p`, which may be absent; every
/// other option that takes an argument always has one.
fn apply_option(
    entry: &mut Entry,
    tag: Tag,
    optional: Option<&str>,
    word: &str,
) -> Result<(), Exit> {
    let arg = optional.unwrap_or_default();
    match tag {
        Tag::Tcp | Tag::Udp | Tag::Sctp => {
            entry.set(Opt::Service)?;
            entry.service.protocol = match tag {
                Tag::Tcp => PortProtocol::Tcp,
                Tag::Udp => PortProtocol::Udp,
                _ => PortProtocol::Sctp,
            };
            let parsed = values::parse_service_address(arg, entry.service.protocol)
                .ok_or_else(|| Exit::fail("illegal virtual server address[:port] specified"))?;
            entry.service.address = parsed.address;
            entry.service.family = Some(AddressFamily::of(&parsed.address));
            if parsed.address.is_ipv6() {
                entry.service.netmask = 128;
            }
            if let Some(port) = parsed.port {
                entry.service.port = port;
            }
        }
        Tag::Fwmark => {
            entry.set(Opt::Service)?;
            entry.service.family = Some(AddressFamily::Ipv4);
            entry.service.protocol = PortProtocol::Tcp;
            entry.service.fwmark = values::parse_fwmark(arg)
                .ok_or_else(|| Exit::fail(format!("invalid fwmark value `{arg}' specified")))?;
        }
        Tag::Scheduler => {
            entry.set(Opt::Scheduler)?;
            entry.service.scheduler = truncated(arg, 15);
        }
        Tag::Persistent => {
            entry.set(Opt::Persistent)?;
            entry.service.flags.insert(ServiceFlags::PERSISTENT);
            entry.service.timeout = match optional {
                Some(text) => parse_timeout(text, 1)?,
                None => Service::DEFAULT_PERSISTENCE_TIMEOUT,
            };
        }
        Tag::Netmask => {
            entry.set(Opt::Netmask)?;
            if entry.service.family == Some(AddressFamily::Ipv6) {
                let prefix = values::atoi(arg);
                if !(1..=128).contains(&prefix) {
                    return Err(Exit::fail("illegal ipv6 netmask specified"));
                }
                entry.service.netmask = prefix as u32;
            } else {
                let mask = values::parse_ipv4_netmask(arg).ok_or_else(|| {
                    Exit::fail("illegal virtual server persistent mask specified")
                })?;
                entry.service.netmask = u32::from(mask);
            }
        }
        Tag::RealServer => {
            entry.set(Opt::Server)?;
            let parsed = values::parse_service_address(arg, entry.service.protocol)
                .ok_or_else(|| Exit::fail("illegal real server address[:port] specified"))?;
            entry.destination.address = parsed.address;
            // Without a port of its own, the server takes the service's port as read so far.
            entry.destination.port = parsed.port.unwrap_or(entry.service.port);
        }
        Tag::Ipip | Tag::Gatewaying | Tag::Masquerading => {
            entry.set(Opt::Forward)?;
            entry.destination.forwarding = match tag {
                Tag::Ipip => ForwardingMethod::Tunnel,
                Tag::Gatewaying => ForwardingMethod::DirectRoute,
                _ => ForwardingMethod::Masquerade,
            };
        }
        Tag::Weight => {
            entry.set(Opt::Weight)?;
            entry.destination.weight =
                number(arg, 0, i64::from(i32::MAX), "illegal weight specified")? as i32;
        }
        Tag::UThreshold => {
            entry.set(Opt::UThreshold)?;
            entry.destination.upper_threshold =
                number(arg, 0, i64::from(i32::MAX), "illegal u_threshold specified")? as u32;
        }
        Tag::LThreshold => {
            entry.set(Opt::LThreshold)?;
            entry.destination.lower_threshold =
                number(arg, 0, i64::from(i32::MAX), "illegal l_threshold specified")? as u32;
        }
        Tag::Connection => entry.set(Opt::Connection)?,
        Tag::Numeric => {
            entry.set(Opt::Numeric)?;
            entry.format.numeric = true;
        }
        Tag::McastInterface => {
            entry.set(Opt::McastInterface)?;
            entry.daemon.interface = truncated(arg, 15);
        }
        Tag::SyncId => {
            entry.set(Opt::SyncId)?;
            entry.daemon.sync_id = number(arg, 0, 255, "illegal syncid specified")? as u32;
        }
        Tag::Timeout => entry.set(Opt::Timeout)?,
        Tag::Daemon => entry.set(Opt::Daemon)?,
        Tag::Stats => {
            entry.set(Opt::Stats)?;
            entry.format.stats = true;
        }
        Tag::Rate => {
            entry.set(Opt::Rate)?;
            entry.format.rate = true;
        }
        Tag::Thresholds => {
            entry.set(Opt::Thresholds)?;
            entry.format.thresholds = true;
        }
        Tag::PersistentConn => {
            entry.set(Opt::PersistentConn)?;
            entry.format.persistent_conn = true;
        }
        Tag::NoSort => {
            entry.set(Opt::NoSort)?;
            entry.format.no_sort = true;
        }
        // Sorting is the default; the option exists for compatibility and is not even recorded.
        Tag::Sort => {}
        Tag::Exact => {
            entry.set(Opt::Exact)?;
            entry.format.exact = true;
        }
        Tag::Json => {
            if entry.format.json {
                return Err(Exit::fail("multiple 'json' options specified"));
            }
            entry.format.json = true;
        }
        Tag::Ipv6 => {
            if entry.service.fwmark == 0 {
                return Err(Exit::fail("-6 used before -f\n"));
            }
            entry.service.family = Some(AddressFamily::Ipv6);
            entry.service.netmask = 128;
        }
        Tag::Ops => {
            entry.set(Opt::OnePacket)?;
            entry.service.flags.insert(ServiceFlags::ONE_PACKET);
        }
        Tag::Pe => {
            entry.set(Opt::PersistenceEngine)?;
            entry.service.persistence_engine = truncated(arg, 16);
        }
        Tag::SchedFlags => {
            entry.set(Opt::SchedFlags)?;
            entry.sched_flags = Some(truncated(arg, 127));
        }
        Tag::McastGroup => {
            entry.set(Opt::McastGroup)?;
            entry.daemon.group =
                Some(values::parse_mcast_group(arg).map_err(|error| match error {
                    McastGroupError::Ipv6 => {
                        Exit::fail(format!("invalid IPv6 mcast-group `{arg}'"))
                    }
                    McastGroupError::Ipv4 => {
                        Exit::fail(format!("invalid IPv4 mcast-group `{arg}'"))
                    }
                })?);
        }
        Tag::McastPort => {
            entry.set(Opt::McastPort)?;
            entry.daemon.port = number(arg, 1, 65535, "illegal mcast-port specified")? as u16;
        }
        Tag::McastTtl => {
            entry.set(Opt::McastTtl)?;
            entry.daemon.ttl = number(arg, 1, 255, "illegal mcast-ttl specified")? as u8;
        }
        Tag::SyncMaxLen => {
            entry.set(Opt::SyncMaxLen)?;
            entry.daemon.max_length =
                number(arg, 1, 65535 - 20 - 8, "illegal sync-maxlen specified")? as u16;
        }
        Tag::TunInfo => {
            entry.set(Opt::TunInfo)?;
            entry.format.tun_info = true;
        }
        Tag::TunType => {
            entry.set(Opt::TunType)?;
            entry.destination.tunnel.kind = match arg {
                "ipip" => TunnelType::Ipip,
                "gue" => TunnelType::Gue,
                "gre" => TunnelType::Gre,
                _ => return Err(Exit::fail("illegal tunnel type specified")),
            };
        }
        Tag::TunPort => {
            entry.set(Opt::TunPort)?;
            entry.destination.tunnel.port =
                number(arg, 1, 65535, "illegal tunnel port specified")? as u16;
        }
        Tag::TunNoCsum => entry.set(Opt::TunNoCsum)?,
        Tag::TunCsum => {
            entry.set(Opt::TunCsum)?;
            entry.destination.tunnel.flags.insert(TunnelFlags::CHECKSUM);
        }
        Tag::TunRemCsum => {
            entry.set(Opt::TunRemCsum)?;
            entry
                .destination
                .tunnel
                .flags
                .insert(TunnelFlags::REMOTE_CHECKSUM);
        }
        // A second command, or -h/-v after the command.
        Tag::Command(_) | Tag::Help | Tag::Version => {
            return Err(Exit::fail(format!("invalid option `{word}'")));
        }
    }
    Ok(())
}

fn number(text: &str, min: i64, max: i64, message: &str) -> Result<i64, Exit> {
    values::number_in(text, min, max).ok_or_else(|| Exit::fail(message))
}

/// `parse_timeout`: a whole number of seconds, at most 31 days.
fn parse_timeout(text: &str, min: i64) -> Result<u32, Exit> {
    values::number_in(text, min, MAX_TIMEOUT)
        .map(|seconds| seconds as u32)
        .ok_or_else(|| Exit::fail(format!("invalid timeout value `{text}' specified")))
}

/// `strncpy` into a fixed buffer of `limit` characters plus the terminator.
fn truncated(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    text.char_indices()
        .take_while(|(index, c)| index + c.len_utf8() <= limit)
        .map(|(_, c)| c)
        .collect()
}

/// `parse_sched_flags`: checked against the final scheduler (`wlc` when none was given).
fn parse_sched_flags(scheduler: &str, list: &str) -> Result<ServiceFlags, Exit> {
    let scheduler = if scheduler.is_empty() {
        Service::DEFAULT_SCHEDULER
    } else {
        scheduler
    };
    let mut flags = ServiceFlags::EMPTY;
    // strtok skips empty fields; an empty list gives no flags.
    for flag in list.split(',').filter(|flag| !flag.is_empty()) {
        let (bit, only_for) = match flag {
            "flag-1" => (ServiceFlags::SCHED1, None),
            "flag-2" => (ServiceFlags::SCHED2, None),
            "flag-3" => (ServiceFlags::SCHED3, None),
            "sh-fallback" => (ServiceFlags::SCHED1, Some("sh")),
            "sh-port" => (ServiceFlags::SCHED2, Some("sh")),
            "mh-fallback" => (ServiceFlags::SCHED1, Some("mh")),
            "mh-port" => (ServiceFlags::SCHED2, Some("mh")),
            _ => return Err(Exit::fail(format!("invalid scheduler flag `{flag}'"))),
        };
        flags.insert(bit);
        if only_for.is_some_and(|required| required != scheduler) {
            return Err(Exit::fail(format!("incompatible scheduler flag `{flag}'")));
        }
    }
    Ok(flags)
}

/// `process_options`: the checks that need the whole line, then the typed command.
fn process_options(program: &str, mut entry: Entry, source: Source) -> Result<Invocation, Exit> {
    entry.cmd.check_options(entry.options).map_err(Exit::fail)?;
    if entry.format.json {
        if entry.cmd != Cmd::List {
            return Err(Exit::fail(format!(
                "Illegal 'json' option with the '{}' command",
                entry.cmd.name()
            )));
        }
        if entry.options.contains(Opt::Connection) {
            return Err(Exit::fail(
                "the 'json' option lists services, timeouts and daemons, not connections",
            ));
        }
    }

    if matches!(entry.cmd, Cmd::AddService | Cmd::EditService) {
        let service = &mut entry.service;
        if service.fwmark == 0
            && service.port == 0
            && !service.flags.contains(ServiceFlags::PERSISTENT)
        {
            return Err(Exit::fail("Zero port specified for non-persistent service"));
        }
        if service.flags.contains(ServiceFlags::ONE_PACKET)
            && service.fwmark == 0
            && service.protocol != PortProtocol::Udp
        {
            return Err(Exit::fail(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
        if service.scheduler.is_empty() {
            service.scheduler = Service::DEFAULT_SCHEDULER.to_owned();
        }
    }
    if entry.cmd == Cmd::StartDaemon && entry.daemon.interface.is_empty() {
        entry.daemon.interface = "eth0".to_owned();
    }
    if matches!(entry.cmd, Cmd::AddServer | Cmd::EditServer) {
        check_server(&mut entry)?;
    }

    let format = entry.format;
    let command = match entry.cmd {
        Cmd::List => {
            let options = entry.options;
            if (options.any(&[Opt::Connection, Opt::Timeout, Opt::Daemon])
                && options.any(&[Opt::Stats, Opt::Rate, Opt::Thresholds]))
                || (options.any(&[Opt::Timeout, Opt::Daemon])
                    && options.contains(Opt::PersistentConn))
            {
                return Err(Exit::fail("options conflicts in the list command"));
            }
            Command::List(if options.contains(Opt::Connection) {
                ListWhat::Connections
            } else if options.contains(Opt::Service) {
                ListWhat::Service(service_key(&entry.service))
            } else if options.contains(Opt::Timeout) {
                ListWhat::Timeouts
            } else if options.contains(Opt::Daemon) {
                ListWhat::Daemons
            } else {
                ListWhat::All
            })
        }
        Cmd::Restore if source == Source::RestoreInput => return Err(Exit::try_help(program)),
        Cmd::Restore => Command::Restore,
        Cmd::Save => Command::Save,
        Cmd::Flush => Command::Flush,
        Cmd::AddService => Command::AddService(service(entry.service)),
        Cmd::EditService => Command::EditService(service(entry.service)),
        Cmd::DeleteService => Command::DeleteService(service_key(&entry.service)),
        Cmd::Zero => Command::Zero(
            entry
                .options
                .contains(Opt::Service)
                .then(|| service_key(&entry.service)),
        ),
        Cmd::AddServer => {
            Command::AddServer(service_key(&entry.service), destination(&entry.destination))
        }
        Cmd::EditServer => {
            Command::EditServer(service_key(&entry.service), destination(&entry.destination))
        }
        Cmd::DeleteServer => {
            Command::DeleteServer(service_key(&entry.service), destination(&entry.destination))
        }
        Cmd::SetTimeouts => Command::SetTimeouts(entry.timeouts),
        Cmd::StartDaemon => Command::StartDaemon(daemon(&entry.daemon)),
        Cmd::StopDaemon => Command::StopDaemon(daemon(&entry.daemon)),
    };
    Ok(Invocation { command, format })
}

/// The checks of `-a`/`-e`: ports of direct-routed and tunnelled servers, families, tunnel options.
fn check_server(entry: &mut Entry) -> Result<(), Exit> {
    let forwarding = entry.destination.forwarding;
    if entry.service.fwmark == 0
        && matches!(
            forwarding,
            ForwardingMethod::Tunnel | ForwardingMethod::DirectRoute
        )
    {
        entry.destination.port = entry.service.port;
    }
    let destination_family = AddressFamily::of(&entry.destination.address);
    if Some(destination_family) != entry.service.family && forwarding != ForwardingMethod::Tunnel {
        return Err(Exit::fail(
            "Different address family is allowed only for tunneling servers",
        ));
    }
    let options = entry.options;
    if options.any(&[
        Opt::TunType,
        Opt::TunPort,
        Opt::TunNoCsum,
        Opt::TunCsum,
        Opt::TunRemCsum,
    ]) && forwarding != ForwardingMethod::Tunnel
    {
        return Err(Exit::fail("Tunnel options conflict with forward method"));
    }
    check_tunnel_options(entry.destination.tunnel.kind, options)
}

/// `tunnel_opt_check`: which tunnel options each tunnel type needs, allows or forbids.
fn check_tunnel_options(kind: TunnelType, options: OptSet) -> Result<(), Exit> {
    let (name, rules): (&str, &[u8; 4]) = match kind {
        TunnelType::Gue => ("gue", b"+111"),
        TunnelType::Gre => ("gre", b"x11x"),
        _ => ("ipip", b"xxxx"),
    };
    let mut first_exclusive: Option<Opt> = None;
    for (opt, &rule) in [Opt::TunPort, Opt::TunNoCsum, Opt::TunCsum, Opt::TunRemCsum]
        .into_iter()
        .zip(rules)
    {
        if !options.contains(opt) {
            if rule == b'+' {
                return Err(Exit::fail(format!(
                    "You need to supply the '{}' option for the '{name}' tunnel type",
                    opt.name()
                )));
            }
            continue;
        }
        if rule == b'x' {
            return Err(Exit::fail(format!(
                "Illegal '{}' option with the '{name}' tunnel type",
                opt.name()
            )));
        }
        if rule == b'1' {
            match first_exclusive {
                None => first_exclusive = Some(opt),
                Some(first) => {
                    return Err(Exit::fail(format!(
                        "The option '{}' conflicts with the '{}' option in the '{name}' tunnel type",
                        opt.name(),
                        first.name()
                    )));
                }
            }
        }
    }
    Ok(())
}

fn service_key(fields: &ServiceFields) -> ServiceKey {
    if fields.fwmark != 0 {
        return ServiceKey::fwmark(fields.family.unwrap_or(AddressFamily::Ipv4), fields.fwmark);
    }
    let protocol = match fields.protocol {
        PortProtocol::Udp => Protocol::Udp,
        PortProtocol::Sctp => Protocol::Sctp,
        PortProtocol::Tcp => Protocol::Tcp,
        PortProtocol::None => Protocol::Other(0),
    };
    ServiceKey::Address {
        protocol,
        address: fields.address,
        port: fields.port,
    }
}

fn service(fields: ServiceFields) -> Service {
    let key = service_key(&fields);
    let netmask = match key.family() {
        AddressFamily::Ipv4 => Netmask::Ipv4(Ipv4Addr::from(fields.netmask)),
        AddressFamily::Ipv6 => Netmask::Ipv6Prefix(fields.netmask),
    };
    Service {
        key,
        scheduler: fields.scheduler,
        flags: fields.flags,
        timeout: fields.timeout,
        netmask,
        persistence_engine: (!fields.persistence_engine.is_empty())
            .then_some(fields.persistence_engine),
        stats: None,
        stats64: None,
    }
}

fn destination(fields: &DestinationFields) -> Destination {
    let mut destination = Destination::new(fields.address, fields.port);
    destination.forwarding = fields.forwarding;
    destination.weight = fields.weight;
    destination.upper_threshold = fields.upper_threshold;
    destination.lower_threshold = fields.lower_threshold;
    destination.tunnel = fields.tunnel;
    destination
}

fn daemon(fields: &DaemonFields) -> SyncDaemon {
    let mut daemon = SyncDaemon::new(
        DaemonState::from_raw(fields.state),
        fields.interface.clone(),
    );
    daemon.sync_id = fields.sync_id;
    daemon.max_length = (fields.max_length != 0).then_some(fields.max_length);
    daemon.group = fields.group;
    daemon.port = (fields.port != 0).then_some(fields.port);
    daemon.ttl = (fields.ttl != 0).then_some(fields.ttl);
    daemon
}

#[cfg(test)]
mod tests;
