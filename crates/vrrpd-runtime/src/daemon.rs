//! The event loop: one thread, one `ppoll` over the signalfd, the rtnetlink monitor and the VRRP receive
//! sockets, with the timeout set by the earliest timer of any instance or script. Every input becomes a call
//! into an instance's state machine (`vrrp::Instance`) with the current time, and the actions it returns are
//! carried out here, in order: adverts on the raw sockets, VIPs through rtnetlink, gratuitous ARPs on the
//! packet socket, notify scripts as children.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use keepalived_config::diagnostics::keepalived as keepalived_messages;
use keepalived_config::diagnostics::{ErrorClass, Source};
use keepalived_config::env::SystemEnvironment;
use keepalived_config::model::net::IpAddress;
use keepalived_config::model::routing::{Route, Rule};
use keepalived_config::model::vrrp::{NotifyScripts, TrackerKind, TrackerRef};
use keepalived_config::model::{self, ScriptUser, VrrpInstance};
use keepalived_config::{LoadOptions, Loaded, load};
use log::{debug, error, info, warn};
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::Signal;
use nix::sys::signalfd::SignalFd;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use vrrp::wire::arp::ArpPacket;
use vrrp::wire::ndisc::NeighborAdvertisement;
use vrrp::wire::{Datagram, Family, MacAddr};
use vrrp::{Action, DropReason, GroupState, Instance, State, SyncGroup};

use crate::bfd_sessions::{BfdReport, BfdSessions};
use crate::checker_child::{AfterDeath, CheckerChild, CheckerProcess, EXIT_CONFIG};
use crate::firewall::{self, Element, Firewall};
use crate::gratuitous::{Pace, Pacing};
use crate::instance_config::{address_spec, family, protocol_config};
use crate::interfaces::Interfaces;
use crate::logging::{self, LogSettings};
use crate::metrics::{DaemonCounters, MetricsServer};
use crate::netlink::{AddressSpec, Monitor, NetEvent, NetlinkError, Rtnetlink};
use crate::notify::Notifier;
use crate::notify_fifo::NotifyFifos;
use crate::placement::{PidChoice, PidName, Placement, RunDirectory};
use crate::process::{self, PidFile};
use crate::reports::{self, InstanceReport};
use crate::routing;
use crate::scripts::{self, Children, Purpose};
use crate::smtp_alert::Mailer;
use crate::sockets::{IPPROTO_AH, IPPROTO_VRRP, PacketSocket, ReceiveSocket, SendSocket};
use crate::sync_daemon::{self, SyncOp, SyncSettings, daemon_state_for};
use crate::track_files::{self, FileWatch};
use crate::track_process::{self, ProcMonitor, ProcessTracker, Received};
use crate::trackers::{
    Contribution, ScriptTracker, bfd_contribution, contribution, file_contribution,
};
use crate::vmac::{self, RpFilterChange};

/// What the command line decided.
#[derive(Clone, Debug)]
pub struct DaemonOptions {
    pub config_file: String,
    pub load_options: LoadOptions,
    pub log: LogSettings,
    /// `-n`: stay in the foreground.
    pub foreground: bool,
    /// `-p`, `-r`; keepalived's defaults (which the configuration may move) when not given.
    pub pid_file: Option<PathBuf>,
    pub vrrp_pid_file: Option<PathBuf>,
    /// `-s`: the network namespace to run in (over the configuration's `net_namespace`).
    pub namespace: Option<String>,
    /// Not `-V`: remove the VIPs when stopping.
    pub release_vips: bool,
    /// `--metrics-listen`: where to serve Prometheus metrics (off when `None`).
    pub metrics_listen: Option<String>,
    /// The checker process to run beside this one (keepalived's healthcheckers child): it gets
    /// SIGHUP and SIGTERM when this process does, and is started again if it dies.
    pub checker: Option<CheckerProcess>,
}

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("{0}")]
    Netlink(#[from] NetlinkError),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("signals: {0}")]
    Signals(nix::Error),
    #[error("timer: {0}")]
    Timer(nix::Error),
    #[error("metrics address '{0}': not ADDRESS:PORT")]
    MetricsAddress(String),
    #[error("IPVS: Can't initialize ipvs: {0}")]
    Ipvs(ipvs::Error),
}

/// How long the daemon waits for its checker process to stop.
const CHECKER_STOP_WAIT: Duration = Duration::from_secs(5);

/// Runs the daemon until SIGTERM or SIGINT. Returns the process's exit status.
pub fn run(options: DaemonOptions) -> ExitCode {
    if !options.foreground {
        if let Err(e) = process::daemonize() {
            eprintln!("vrrpd: cannot go into the background: {e}");
            return ExitCode::from(1);
        }
    }
    logging::init(&options.log);
    log_start();
    // Dropped last: the pid files go before the directory they are in.
    let (config, _run_directory, _pid_files) = match read_and_place(&options) {
        Ok((read, run_directory, pid_files)) => (read.log_messages(), run_directory, pid_files),
        Err(status) => {
            log_stopped(options.log.detailed);
            return ExitCode::from(status);
        }
    };
    // The checker child is forked before the daemon opens anything, so it inherits nothing of it.
    let now = Instant::now();
    let mut checker = options
        .checker
        .clone()
        .map(|process| CheckerChild::new(process, now));
    let link = checker
        .as_mut()
        .and_then(|child| child.start(options.metrics_listen.is_some(), now))
        .flatten();
    let mut daemon = match Daemon::new(options, config) {
        Ok(daemon) => daemon,
        Err(e) => {
            error!("Cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(child) = checker.as_ref().and_then(CheckerChild::pid) {
        daemon
            .children
            .adopt(child.as_raw(), Purpose::CheckerProcess);
    }
    daemon.checker = checker;
    if daemon.checker.is_some() {
        daemon.set_metrics_link(link);
        // A child that died before SIGCHLD was blocked is reaped now rather than at the next
        // child's end.
        daemon.reap(Instant::now());
    }
    daemon.notifier.ready(&daemon.status());
    daemon.run();
    log_stopped(daemon.options.log.detailed);
    ExitCode::from(daemon.exit_status)
}

/// The program and version where keepalived names itself (`Keepalived v2.2.7 (01/16,2022)`).
fn version_string() -> String {
    format!("vrrpd v{} (keepalived 2.2.7)", env!("CARGO_PKG_VERSION"))
}

/// keepalived's first lines: the version, the kernel, the command line.
fn log_start() {
    info!("Starting {}", version_string());
    if let Some((system, release, version)) = process::uname() {
        info!("Running on {system} {release} {version}");
    }
    let quoted: Vec<String> = std::env::args_os()
        .map(|arg| format!("'{}'", arg.to_string_lossy()))
        .collect();
    for line in wrap_options("Command line", &quoted.join(" ")) {
        info!("{line}");
    }
}

/// keepalived's `log_options`: `NAME: ` then the text cut at spaces into pieces of at most
/// 100 - len(NAME) characters, the continuation lines indented under the first piece.
fn wrap_options(name: &str, text: &str) -> Vec<String> {
    let width = 100usize.saturating_sub(name.len()).max(1);
    let mut lines = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        let end = if rest.len() <= width {
            rest.len()
        } else if rest.as_bytes()[width] == b' ' {
            width
        } else {
            match rest[..width].rfind(' ') {
                Some(space) if space > 0 => space,
                _ => width,
            }
        };
        let end = (0..=end)
            .rev()
            .find(|&i| rest.is_char_boundary(i))
            .unwrap_or(0)
            .max(1);
        let (piece, tail) = rest.split_at(end.min(rest.len()));
        if lines.is_empty() {
            lines.push(format!("{name}: {piece}"));
        } else {
            lines.push(format!("{:width$}{piece}", "", width = name.len() + 2));
        }
        rest = tail;
    }
    lines
}

/// keepalived's last lines: its VRRP process's CPU time (with `-D`, else `Stopped`), its parent's (with
/// `-D`), and the version.
fn log_stopped(detailed: bool) {
    process::log_stopping(detailed);
    if detailed {
        let own = process::cpu_time(libc::RUSAGE_SELF);
        let children = process::cpu_time(libc::RUSAGE_CHILDREN);
        if let (Some(own), Some(children)) = (own, children) {
            info!(
                "CPU usage (self/children) user: {}/{} system: {}/{}",
                process::seconds(own.user),
                process::seconds(children.user),
                process::seconds(own.system),
                process::seconds(children.system)
            );
        }
    }
    info!("Stopped {}", version_string());
}

/// A configuration read, with the messages keepalived's VRRP process logs about it once it has it: the script
/// user's, then the checks'. A reload logs its own lines before them (see [`Daemon::reload`]).
struct ReadConfig {
    config: model::Config,
    script_user: Option<String>,
    diagnostics: Vec<String>,
}

impl ReadConfig {
    fn log_script_user(&self) {
        if let Some(line) = &self.script_user {
            info!("{line}");
        }
    }

    fn log_diagnostics(&self) {
        for line in &self.diagnostics {
            warn!("{line}");
        }
    }

    /// Logs every message; the configuration.
    fn log_messages(self) -> model::Config {
        self.log_script_user();
        self.log_diagnostics();
        self.config
    }
}

/// Reads the configuration, logging keepalived's lines about the file; when keepalived's VRRP process
/// would not start with it, the exit status it would stop with: a file it stopped reading (1) or an
/// interface that does not exist without `dynamic_interfaces` (2, keepalived's configuration error).
fn read_config(options: &DaemonOptions) -> Result<ReadConfig, u8> {
    judge_config(load_config(options, true))
}

/// The configuration as read, with keepalived's lines around the reading when `announced`.
fn load_config(options: &DaemonOptions, announced: bool) -> Loaded {
    if announced {
        info!("Opening file '{}'.", options.config_file);
    }
    let loaded = load(
        &options.config_file,
        &options.load_options,
        &SystemEnvironment,
    );
    if announced {
        info!("Configuration file {}", options.config_file);
    }
    loaded
}

/// Reads the configuration and puts the daemon where it says, as keepalived's parent does: the
/// syslog identity, the pid directory and network namespace (where the configuration is read
/// again, as keepalived's children read it: its interfaces are there), then the pid files.
/// Failing to enter the namespace ends the daemon with status 0, as it ends keepalived.
fn read_and_place(options: &DaemonOptions) -> Result<(ReadConfig, RunDirectory, Vec<PidFile>), u8> {
    let loaded = load_config(options, true);
    if loaded.verdict.aborted {
        // Nowhere to go: the judgement says why and ends the daemon.
        return Err(judge_config(loaded).err().unwrap_or(1));
    }
    let placement = Placement::new(options.namespace.as_deref(), &loaded.config.global);
    placement.rename_syslog(&options.log, true);
    let run_directory = placement.enter().map_err(|e| {
        error!("{e}");
        0
    })?;
    let loaded = if placement.namespace.is_some() {
        load_config(options, false)
    } else {
        loaded
    };
    let read = judge_config(loaded)?;
    let choices = [
        PidChoice {
            given: options.pid_file.clone(),
            name: PidName::Main,
        },
        PidChoice {
            given: options.vrrp_pid_file.clone(),
            name: PidName::Vrrp,
        },
    ];
    let pid_files = placement.create_pid_files(&choices).map_err(|e| {
        error!("{e}");
        1
    })?;
    Ok((read, run_directory, pid_files))
}

/// What a reading of the configuration means for the daemon: a configuration to run, or the
/// exit status when it cannot run (unreadable; an interface missing), with the lines saying why.
fn judge_config(loaded: Loaded) -> Result<ReadConfig, u8> {
    let diagnostics: Vec<String> =
        keepalived_messages::render(&loaded.diagnostics, &loaded.sources);
    if loaded.verdict.aborted {
        for line in &diagnostics {
            warn!("{line}");
        }
        error!("Stopping: the configuration could not be read");
        return Err(1);
    }
    let missing_interface = loaded
        .diagnostics
        .iter()
        .any(|d| d.class == ErrorClass::BadInterface && d.source == Source::Keepalived);
    let script_user = missing_script_user(&loaded.config);
    if missing_interface {
        if let Some(line) = &script_user {
            info!("{line}");
        }
        for line in &diagnostics {
            warn!("{line}");
        }
        return Err(EXIT_CONFIG);
    }
    Ok(ReadConfig {
        config: loaded.config,
        script_user,
        diagnostics,
    })
}

/// Every notify script of an instance or sync group.
fn notify_scripts(notify: &NotifyScripts) -> impl Iterator<Item = &model::Script> {
    [
        &notify.master,
        &notify.backup,
        &notify.fault,
        &notify.stop,
        &notify.deleted,
        &notify.master_rx_lower_priority,
        &notify.any,
    ]
    .into_iter()
    .flatten()
}

/// keepalived's line when scripts would run as its default user `keepalived_script` and that user does not
/// exist. The configuration has resolved such scripts to root already (no `script_user`, no user of their
/// own); a script given `root` explicitly cannot be told apart and counts too.
fn missing_script_user(config: &model::Config) -> Option<String> {
    if config.global.script_user.is_some() {
        return None;
    }
    let as_root = runs_as_root;
    let script_as_root = config
        .vrrp_scripts
        .iter()
        .any(|script| as_root(&script.user))
        || config
            .instances
            .iter()
            .any(|instance| notify_scripts(&instance.notify).any(|script| as_root(&script.user)))
        || config
            .sync_groups
            .iter()
            .any(|group| notify_scripts(&group.notify).any(|script| as_root(&script.user)));
    if !script_as_root {
        return None;
    }
    default_script_user_missing()
}

/// Whether a script of `user` runs as root: the configuration resolved a script without a user of
/// its own (and no `script_user`) to root; one given `root` cannot be told apart.
pub fn runs_as_root(user: &Option<ScriptUser>) -> bool {
    user.as_ref().is_none_or(|user| user.uid == 0)
}

/// keepalived's line when its default script user `keepalived_script` does not exist (or cannot be
/// looked up): said once by each process with a script that would run as that user.
pub fn default_script_user_missing() -> Option<String> {
    const DEFAULT_USER: &str = "keepalived_script";
    match nix::unistd::User::from_name(DEFAULT_USER) {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!("Script user '{DEFAULT_USER}' does not exist")),
        Err(_) => Some(format!(
            "Unable to resolve script username '{DEFAULT_USER}' - ignoring"
        )),
    }
}

/// An instance and what the daemon keeps about it.
struct Running {
    vrrp: Instance,
    model: VrrpInstance,
    /// The index of `interface`, once it exists.
    interface: Option<u32>,
    /// `virtual_ipaddress` then `virtual_ipaddress_excluded`, resolved to interfaces.
    addresses: Vec<AddressSpec>,
    group: Option<usize>,
    /// The `use_vmac` interface, once set up.
    vmac: Option<VmacLink>,
    /// Per address: a gratuitous ARP / NA waiting for its interface's pacing interval.
    gratuitous_pending: Vec<bool>,
    /// Last drop logged, to keep a flood of bad packets from flooding the log too.
    last_drop_log: Option<Instant>,
    /// Whether this instance's `virtual_routes` and `virtual_rules` are in (only those are taken out).
    routing_set: bool,
    /// The state the last SMTP alert was about (one alert per state change).
    last_email_state: Option<State>,
}

/// An instance's VMAC interface.
#[derive(Clone, Debug)]
struct VmacLink {
    index: u32,
    name: String,
    base: u32,
    /// Adverts leave from the base interface (`vmac_xmit_base`).
    xmit_base: bool,
}

/// A base interface's `arp_ignore` and `arp_filter` before its first VMAC, and how many VMACs it carries.
struct BaseArp {
    name: String,
    arp_ignore: Option<u32>,
    arp_filter: Option<u32>,
    vmacs: u32,
}

/// A `track_file` some instance or sync group tracks, with the value it last held.
struct TrackedFile {
    model: model::TrackFile,
    path: PathBuf,
    value: i64,
}

struct Group {
    sync: SyncGroup,
    /// Indices into `Daemon::instances`, ascending.
    members: Vec<usize>,
    model: model::SyncGroup,
    /// The state the last SMTP alert was about.
    last_email_state: Option<GroupState>,
}

/// Deadlines of instances, earliest first. Entries are not removed when an instance's deadline changes: a
/// popped entry counts only if it is still the instance's current deadline.
#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    current: Vec<Option<Instant>>,
}

impl Timers {
    fn set(&mut self, index: usize, deadline: Option<Instant>) {
        if self.current.len() <= index {
            self.current.resize(index + 1, None);
        }
        if self.current[index] != deadline {
            self.current[index] = deadline;
            if let Some(deadline) = deadline {
                self.heap.push(Reverse((deadline, index)));
            }
        }
    }

    fn next(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, index))) = self.heap.peek().copied() {
            if self.current.get(index).copied().flatten() == Some(deadline) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// The next instance due at `now`, taken off the timers.
    fn pop_due(&mut self, now: Instant) -> Option<usize> {
        let deadline = self.next()?;
        if deadline > now {
            return None;
        }
        let Reverse((_, index)) = self.heap.pop()?;
        self.current[index] = None;
        Some(index)
    }
}

struct Daemon {
    options: DaemonOptions,
    config: model::Config,
    rtnl: Rtnetlink,
    monitor: Monitor,
    signals: SignalFd,
    /// The next deadline, so that the loop wakes on time (see `run`).
    wakeup: TimerFd,
    interfaces: Interfaces,
    receivers: Vec<ReceiveSocket>,
    /// Multicast groups joined, per receive socket family: (group, interface).
    joined: Vec<(Family, IpAddr, u32)>,
    senders: HashMap<(u32, Family), SendSocket>,
    packets: PacketSocket,
    instances: Vec<Running>,
    groups: Vec<Group>,
    by_vrid: HashMap<(u32, Family, u8), usize>,
    timers: Timers,
    children: Children,
    checks: Vec<ScriptTracker>,
    files: Vec<TrackedFile>,
    /// The `vrrp_track_process`es some instance or sync group tracks.
    processes: Vec<ProcessTracker>,
    /// Process events, when the kernel gives them to this network namespace.
    proc_monitor: Option<ProcMonitor>,
    /// The next scan of `/proc`: every second without process events, or once after lost events.
    proc_scan_at: Option<Instant>,
    /// When each interface may send its next gratuitous ARP / NA.
    pacing: Pacing,
    /// Base interfaces of VMACs, by index.
    vmac_bases: HashMap<u32, BaseArp>,
    /// What clearing `all.rp_filter` for the VMACs changed.
    rp_filter: Option<RpFilterChange>,
    /// inotify on the directories of `files`.
    file_watch: Option<FileWatch>,
    fifos: NotifyFifos,
    /// Where SMTP alerts go (`None`: no `smtp_server` or no `notification_email`).
    mailer: Option<Mailer>,
    stopping: bool,
    /// The process's exit status once stopped: a checker child's permanent error status, else 0.
    exit_status: u8,
    /// Datagrams that could not even be taken apart (no instance to count them against).
    malformed: u64,
    /// systemd's notify socket (does nothing outside systemd).
    notifier: Notifier,
    /// The Prometheus endpoint, when asked for.
    metrics: Option<MetricsServer>,
    reloads: u64,
    /// `lvs_sync_daemon`, while it drives the kernel's sync daemons.
    sync: Option<SyncFollower>,
    /// The IPVS connection, opened only for `lvs_sync_daemon` (so that a kernel without IPVS runs VRRP).
    ipvs: Option<ipvs::Client>,
    /// The checker process beside this one, when it runs.
    checker: Option<CheckerChild>,
    /// The `bfd_instance` sessions (keepalived's BFD process, run in this loop).
    bfd: BfdSessions,
    /// What the VRRP side last heard of each BFD session (keepalived's `bfd_up`, false until an Up
    /// report).
    bfd_up: HashMap<String, bool>,
    /// The `no_accept` firewall (nothing reaches the kernel until an instance it covers is master).
    firewall: Firewall,
}

/// The sync daemon settings and the daemon started last.
struct SyncFollower {
    settings: SyncSettings,
    running: ipvs::model::DaemonState,
}

impl Daemon {
    fn new(options: DaemonOptions, config: model::Config) -> Result<Self, StartError> {
        let mut rtnl = Rtnetlink::open()?;
        let monitor = Monitor::open()?;
        let interfaces = Interfaces::new(rtnl.links()?, rtnl.addresses()?);
        let signals = process::signal_fd().map_err(StartError::Signals)?;
        let wakeup = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(StartError::Timer)?;
        let packets = PacketSocket::open().map_err(|source| StartError::Io {
            what: "packet socket",
            source,
        })?;
        let metrics = match &options.metrics_listen {
            Some(text) => {
                let address = text
                    .parse()
                    .map_err(|_| StartError::MetricsAddress(text.clone()))?;
                let server = MetricsServer::bind(address).map_err(|source| StartError::Io {
                    what: "metrics listener",
                    source,
                })?;
                info!("Serving metrics on http://{address}/metrics");
                Some(server)
            }
            None => None,
        };
        let mut daemon = Self {
            options,
            config: model::Config::default(),
            rtnl,
            monitor,
            signals,
            wakeup,
            interfaces,
            receivers: Vec::new(),
            joined: Vec::new(),
            senders: HashMap::new(),
            packets,
            instances: Vec::new(),
            groups: Vec::new(),
            by_vrid: HashMap::new(),
            timers: Timers::default(),
            children: Children::default(),
            checks: Vec::new(),
            files: Vec::new(),
            pacing: Pacing::default(),
            vmac_bases: HashMap::new(),
            rp_filter: None,
            processes: Vec::new(),
            proc_monitor: None,
            proc_scan_at: None,
            file_watch: None,
            fifos: NotifyFifos::default(),
            mailer: None,
            stopping: false,
            exit_status: 0,
            malformed: 0,
            notifier: Notifier::from_env(Instant::now()),
            metrics,
            reloads: 0,
            sync: None,
            ipvs: None,
            checker: None,
            bfd: BfdSessions::open(&[]).map_err(|source| StartError::Io {
                what: "BFD sessions",
                source,
            })?,
            bfd_up: HashMap::new(),
            firewall: Firewall::new(firewall_rules(&config)),
        };
        daemon.open_receivers()?;
        if let Some(settings) = sync_settings(&config) {
            daemon.ipvs = Some(ipvs::Client::connect().map_err(StartError::Ipvs)?);
            daemon.send_sync(settings.at_start());
            daemon.sync = Some(SyncFollower {
                settings,
                running: ipvs::model::DaemonState::Backup,
            });
        }
        daemon.install(config, Instant::now());
        Ok(daemon)
    }

    fn open_receivers(&mut self) -> Result<(), StartError> {
        for (family, protocol) in [
            (Family::Ipv4, IPPROTO_VRRP),
            (Family::Ipv4, IPPROTO_AH),
            (Family::Ipv6, IPPROTO_VRRP),
        ] {
            match ReceiveSocket::open(family, protocol) {
                Ok(socket) => self.receivers.push(socket),
                // A host without IPv6 still runs its IPv4 instances.
                Err(e) if family == Family::Ipv6 => warn!("No IPv6 VRRP socket: {e}"),
                Err(source) => {
                    return Err(StartError::Io {
                        what: "VRRP receive socket",
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Takes a configuration: creates and starts its instances, groups and checks.
    fn install(&mut self, config: model::Config, now: Instant) {
        announce_firewall(&config);
        self.config = config;
        self.install_statics();
        self.open_fifos();
        self.mailer = Mailer::of(&self.config.global);
        self.checks = self
            .config
            .vrrp_scripts
            .iter()
            .cloned()
            .map(|script| ScriptTracker::new(script, now))
            .collect();
        self.load_track_files(false);
        self.load_track_processes(now);
        self.start_bfd(now);
        for model in self.config.instances.clone() {
            self.add_instance(model);
        }
        self.build_groups();
        self.log_assigned_addresses();
        for index in 0..self.instances.len() {
            self.refresh_interface_state(index, now);
            self.refresh_trackers(index, now);
        }
        self.announce_groups(now);
        // vrrp_startup_delay: at the first start only, as keepalived (a reload does not delay).
        if let Some(delay) = self
            .config
            .global
            .vrrp_startup_delay
            .filter(|d| !d.is_zero())
        {
            info!("Delaying startup for {} seconds", delay.as_secs_f64());
            for running in &mut self.instances {
                running.vrrp.delay_start(now + delay);
            }
        }
        // keepalived's parent logs this once its VRRP process has read the configuration, as the
        // process goes on to start its instances.
        info!("Startup complete");
        for index in 0..self.instances.len() {
            // The leftover VIPs go before the start state is logged, in keepalived's order.
            let cleanup = self.instances[index].vrrp.start_cleanup(now);
            self.apply(index, cleanup, now);
            let actions = self.instances[index].vrrp.start_state(now);
            self.apply(index, actions, now);
        }
        self.join_groups();
    }

    /// The first state of each new sync group, notified before its members start (as keepalived does).
    fn announce_groups(&mut self, now: Instant) {
        for group in 0..self.groups.len() {
            let announced = {
                let members = &self.groups[group].members;
                let instances: Vec<&Instance> = members
                    .iter()
                    .filter_map(|&index| self.instances.get(index))
                    .map(|running| &running.vrrp)
                    .collect();
                self.groups[group].sync.announce(&instances)
            };
            if let Some(state) = announced {
                self.notify_group(group, state, now);
            }
        }
    }

    fn add_instance(&mut self, model: VrrpInstance) -> Option<usize> {
        let vrrp = match Instance::new(protocol_config(&model)) {
            Ok(vrrp) => vrrp,
            Err(e) => {
                error!("({}) cannot run: {e}", model.name);
                return None;
            }
        };
        let interface = model
            .interface
            .as_deref()
            .and_then(|name| self.interfaces.index_of(name));
        let index = self.instances.len();
        if let Some(interface) = interface {
            self.by_vrid
                .insert((interface, family(model.family), model.vrid), index);
        } else {
            warn!(
                "({}) interface {} not found",
                model.name,
                model.interface.as_deref().unwrap_or("(none)")
            );
        }
        let vmac = match (&model.vmac, interface) {
            (Some(config), Some(base)) => self.set_up_vmac(&model, config, base),
            _ => None,
        };
        // A private macvlan takes the frames sent from its own MAC, the peers' adverts: they arrive there.
        if let Some(vmac) = &vmac {
            self.by_vrid
                .insert((vmac.index, family(model.family), model.vrid), index);
        }
        let addresses = self.resolve_addresses(&model, vmac.as_ref());
        self.instances.push(Running {
            vrrp,
            model,
            interface,
            addresses,
            vmac,
            group: None,
            gratuitous_pending: Vec::new(),
            last_drop_log: None,
            routing_set: false,
            last_email_state: None,
        });
        Some(index)
    }

    /// The instance's addresses on their interfaces: the one given with `dev`, else the VMAC, else the
    /// instance's interface.
    fn resolve_addresses(&self, model: &VrrpInstance, vmac: Option<&VmacLink>) -> Vec<AddressSpec> {
        let default = vmac
            .map(|vmac| vmac.name.as_str())
            .or(model.interface.as_deref());
        model
            .virtual_addresses
            .iter()
            .chain(&model.excluded_addresses)
            .filter_map(|address| {
                let device = address.device.as_deref().or(default)?;
                match self.interfaces.index_of(device) {
                    Some(index) => Some(address_spec(address, index)),
                    None => {
                        warn!(
                            "({}) cannot configure {}: interface {device} not found",
                            model.name, address.prefix
                        );
                        None
                    }
                }
            })
            .collect()
    }

    /// Creates (or takes over) the instance's VMAC on `base`, sets the kernel parameters keepalived sets
    /// and brings it up. `None`, with the reason logged, when it cannot be used: the instance then runs on
    /// its interface.
    fn set_up_vmac(
        &mut self,
        model: &VrrpInstance,
        config: &model::vrrp::Vmac,
        base: u32,
    ) -> Option<VmacLink> {
        let instance = &model.name;
        let ipv6 = model.family == model::AddressFamily::Ipv6;
        let name = vmac::name(
            config,
            self.config.global.vmac_prefix.as_deref(),
            model.vrid,
        );
        let mac = vmac::mac(config, ipv6, model.vrid);
        let index = match self.interfaces.index_of(&name) {
            Some(index) => {
                if self.interfaces.link(index).and_then(|link| link.mac) != Some(mac) {
                    warn!(
                        "({instance}) interface {name} already exists and is not this instance's VMAC;                          using the interface"
                    );
                    return None;
                }
                index
            }
            None => {
                if self.rp_filter.is_none() {
                    self.rp_filter = vmac::clear_rp_filter();
                }
                if let Err(e) = self.rtnl.create_macvlan(&name, base, mac) {
                    warn!("({instance}): Unable to create VMAC interface {name}: {e}");
                    return None;
                }
                info!("({instance}): Success creating VMAC interface {name}");
                match (self.rtnl.links(), self.rtnl.addresses()) {
                    (Ok(links), Ok(addresses)) => {
                        self.interfaces = Interfaces::new(links, addresses)
                    }
                    (Err(e), _) | (_, Err(e)) => warn!("{e}"),
                }
                self.interfaces.index_of(&name)?
            }
        };
        let ipv6_needed = ipv6
            || model
                .excluded_addresses
                .iter()
                .any(|address| address.prefix.address.is_ipv6() && address.device.is_none());
        if !ipv6 {
            for (parameter, value) in [
                ("arp_ignore", 1),
                ("accept_local", 1),
                ("rp_filter", 0),
                ("promote_secondaries", 1),
            ] {
                if let Err(e) = vmac::write_sysctl("ipv4", &name, parameter, value) {
                    warn!("({instance}) cannot set {parameter} on {name}: {e}");
                }
            }
            let _ = vmac::write_sysctl("ipv6", &name, "disable_ipv6", u32::from(!ipv6_needed));
            self.use_vmac_base(base);
        }
        if ipv6_needed {
            // No link-local address made from the VMAC's own MAC (RFC 5798 7.4).
            if let Err(e) = self.rtnl.set_no_ipv6_address_generation(index) {
                warn!("vmac: Error setting ADDR_GEN_MODE to NONE on {name}: {e}");
            }
        }
        if ipv6 {
            // Adverts leave from a link-local address that is not a VIP: the configured source, else the
            // base interface's, else one made from the base's MAC.
            let link_local = match model.source_address {
                Some(address @ IpAddr::V6(_)) => Some(address),
                _ => self
                    .interfaces
                    .source_address(base, Family::Ipv6, &[])
                    .or_else(|| {
                        let mac = self.interfaces.link(base)?.mac?;
                        Some(IpAddr::V6(vmac::link_local_from_mac(mac)))
                    }),
            };
            if let Some(address) = link_local {
                let spec = AddressSpec {
                    index,
                    address,
                    prefix_len: 64,
                    broadcast: None,
                    scope: 253,
                    label: None,
                    peer: None,
                    flags: netlink_packet_route::address::AddressFlags::empty(),
                    preferred_lifetime: None,
                };
                if let Err(e) = self.rtnl.add_address(&spec) {
                    warn!("Adding link-local address to vmac failed: {e}");
                }
            }
        }
        // Before it is up: the multicast reports it sends once up must leave from its base.
        let rules = firewall::Vmac { index, base };
        if let Err(e) = self.firewall.add_vmac(rules, &vmac_families(model)) {
            warn!("({instance}) {e}");
        }
        if let Err(e) = self.rtnl.set_link_up(index) {
            warn!("({instance}) cannot bring {name} up: {e}");
        }
        Some(VmacLink {
            index,
            name,
            base,
            xmit_base: config.xmit_base,
        })
    }

    /// The base interface of one more VMAC: `arp_ignore` and `arp_filter` 1, the old values kept.
    fn use_vmac_base(&mut self, base: u32) {
        if let Some(entry) = self.vmac_bases.get_mut(&base) {
            entry.vmacs += 1;
            return;
        }
        let Some(name) = self.interfaces.link(base).map(|link| link.name.clone()) else {
            return;
        };
        let arp_ignore = vmac::read_sysctl("ipv4", &name, "arp_ignore");
        let arp_filter = vmac::read_sysctl("ipv4", &name, "arp_filter");
        for parameter in ["arp_ignore", "arp_filter"] {
            if let Err(e) = vmac::write_sysctl("ipv4", &name, parameter, 1) {
                warn!("Cannot set {parameter} on {name}: {e}");
            }
        }
        self.vmac_bases.insert(
            base,
            BaseArp {
                name,
                arp_ignore,
                arp_filter,
                vmacs: 1,
            },
        );
    }

    /// Removes an instance's VMAC. When a reload removes it, the base interface gets its ARP settings back
    /// with its last VMAC; at stop they stay, as keepalived 2.2.7 leaves them (measured).
    fn remove_vmac(&mut self, index: usize) {
        let Some(link) = self.instances[index].vmac.take() else {
            return;
        };
        let instance = self.instances[index].model.name.clone();
        let rules = firewall::Vmac {
            index: link.index,
            base: link.base,
        };
        if let Err(e) = self.firewall.remove_vmac(rules) {
            warn!("({instance}) {e}");
        }
        match self.rtnl.delete_link(link.index) {
            Ok(_) => info!(
                "vmac: Success removing VMAC interface {} for vrrp_instance {instance}",
                link.name
            ),
            Err(e) => warn!(
                "vmac: Error removing VMAC interface {} for vrrp_instance {instance}: {e}",
                link.name
            ),
        }
        let Some(entry) = self.vmac_bases.get_mut(&link.base) else {
            return;
        };
        entry.vmacs -= 1;
        if entry.vmacs > 0 || self.stopping {
            return;
        }
        if let Some(entry) = self.vmac_bases.remove(&link.base) {
            for (parameter, value) in [
                ("arp_ignore", entry.arp_ignore),
                ("arp_filter", entry.arp_filter),
            ] {
                if let Some(value) = value {
                    let _ = vmac::write_sysctl("ipv4", &entry.name, parameter, value);
                }
            }
        }
    }

    fn build_groups(&mut self) {
        // A group that survives a reload keeps its state, so that the reload notifies nothing.
        let mut previous: Vec<Group> = std::mem::take(&mut self.groups);
        for group in self.config.sync_groups.clone() {
            let members: Vec<usize> = self
                .instances
                .iter()
                .enumerate()
                .filter(|(_, running)| group.members.contains(&running.model.name))
                .map(|(index, _)| index)
                .collect();
            let number = self.groups.len();
            for &member in &members {
                self.instances[member].group = Some(number);
            }
            let (sync, last_email_state) =
                match previous.iter().position(|old| old.model.name == group.name) {
                    Some(position) => {
                        let old = previous.swap_remove(position);
                        (old.sync, old.last_email_state)
                    }
                    None => (SyncGroup::new(group.name.clone()), None),
                };
            self.groups.push(Group {
                sync,
                members,
                model: group,
                last_email_state,
            });
        }
    }

    /// Joins the multicast group of every multicast instance on its interface, and leaves groups no
    /// instance needs any more.
    fn join_groups(&mut self) {
        let mut wanted = Vec::new();
        for running in &self.instances {
            let (Some(interface), true) =
                (running.interface, running.model.unicast_peers.is_empty())
            else {
                continue;
            };
            let vmac = running.vmac.as_ref().map(|vmac| vmac.index);
            for interface in std::iter::once(interface).chain(vmac) {
                let entry = (
                    family(running.model.family),
                    running.model.multicast_group,
                    interface,
                );
                if !wanted.contains(&entry) {
                    wanted.push(entry);
                }
            }
        }
        for &(family, group, interface) in &self.joined {
            if !wanted.contains(&(family, group, interface)) {
                for socket in self.receivers.iter().filter(|s| s.family() == family) {
                    let _ = socket.leave(group, interface);
                }
            }
        }
        for &(family, group, interface) in &wanted {
            for socket in self.receivers.iter().filter(|s| s.family() == family) {
                if let Err(e) = socket.join(group, interface) {
                    warn!("Cannot join {group} on interface {interface}: {e}");
                }
            }
        }
        self.joined = wanted;
    }

    fn open_fifos(&mut self) {
        let global = &self.config.global;
        self.fifos = NotifyFifos::open(&[&global.notify_fifo, &global.vrrp_notify_fifo]);
    }

    fn run(&mut self) {
        while !self.stopping {
            let now = Instant::now();
            self.run_timers(now);
            self.flush_adverts();
            let next = [
                self.timers.next(),
                self.next_gratuitous(),
                self.next_process_deadline(),
                self.next_check(),
                self.children.next_deadline(),
                self.notifier.next_deadline(),
                self.metrics.as_ref().and_then(MetricsServer::next_deadline),
                self.checker.as_ref().and_then(CheckerChild::restart_at),
                self.bfd.next_deadline(),
            ]
            .into_iter()
            .flatten()
            .min();
            let timeout = self.arm_wakeup(next);
            let (
                signals_ready,
                monitor_ready,
                wakeup_ready,
                receivers_ready,
                files_ready,
                processes_ready,
                bfd_ready,
                metrics_ready,
            ) = {
                let mut fds = vec![
                    PollFd::new(self.signals.as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.monitor.as_fd(), PollFlags::POLLIN),
                    PollFd::new(self.wakeup.as_fd(), PollFlags::POLLIN),
                ];
                fds.extend(
                    self.receivers
                        .iter()
                        .map(|socket| PollFd::new(socket.as_fd(), PollFlags::POLLIN)),
                );
                let files_at = fds.len();
                if let Some(watch) = &self.file_watch {
                    fds.push(PollFd::new(watch.fd(), PollFlags::POLLIN));
                }
                let processes_at = fds.len();
                if let Some(monitor) = &self.proc_monitor {
                    fds.push(PollFd::new(monitor.as_fd(), PollFlags::POLLIN));
                }
                let bfd_at = fds.len();
                if let Some(fd) = self.bfd.poll_fd() {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                }
                let metrics_from = fds.len();
                if let Some(server) = &self.metrics {
                    fds.extend(server.poll_fds());
                }
                match ppoll(&mut fds, timeout, None) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => {
                        error!("poll: {e}");
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                }
                let ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
                (
                    ready(&fds[0]),
                    ready(&fds[1]),
                    ready(&fds[2]),
                    fds[3..files_at].iter().map(ready).collect::<Vec<bool>>(),
                    fds[files_at..processes_at].iter().any(ready),
                    fds[processes_at..bfd_at].iter().any(ready),
                    fds[bfd_at..metrics_from].iter().any(ready),
                    fds[metrics_from..].iter().map(ready).collect::<Vec<bool>>(),
                )
            };
            if wakeup_ready {
                // Clears the expiry; the timers themselves run at the top of the loop.
                let _ = nix::unistd::read(&self.wakeup, &mut [0; 8]);
            }
            let now = Instant::now();
            for (index, ready) in receivers_ready.into_iter().enumerate() {
                if ready {
                    self.receive(index, now);
                }
            }
            if bfd_ready {
                let reports = self.bfd.receive(now);
                self.bfd_reports(reports, now);
            }
            if monitor_ready {
                self.network_events(now);
            }
            if files_ready {
                self.files_changed(now);
            }
            if processes_ready {
                self.process_events(now);
            }
            if signals_ready {
                self.signals(now);
            }
            if let Some(mut server) = self.metrics.take() {
                server.serve(&metrics_ready, now, || self.metrics_text());
                self.metrics = Some(server);
            }
            self.notifier.tick(Instant::now());
        }
        self.notifier.stopping();
        self.shutdown(Instant::now());
        self.stop_checker();
    }

    /// Tells the checker process to stop, once the masters have stepped down, and waits for it to
    /// end (a few seconds at most, as keepalived's parent waits for its children). Until the VIPs
    /// are gone, packets of live connections still arrive here, and a table without their rules
    /// would have the host's own stack answer them with a reset.
    fn stop_checker(&mut self) {
        if self.checker.as_ref().and_then(CheckerChild::pid).is_none() {
            return;
        }
        self.forward(Signal::SIGTERM);
        let deadline = Instant::now() + CHECKER_STOP_WAIT;
        while Instant::now() < deadline {
            let reaped = self.children.reap();
            if reaped
                .iter()
                .any(|(purpose, _)| *purpose == Purpose::CheckerProcess)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        warn!("The checker process did not stop in time");
    }

    /// Sets the timerfd to `deadline`; returns the timeout `ppoll` needs on top (zero when already due, or
    /// the deadline itself if the timerfd cannot be set). A deadline given as ppoll's timeout would be late:
    /// the kernel lets a poll timeout run over by a thousandth of its length (3.6 ms of VRRPv2's 3.6 s
    /// Master_Down_Interval), a timer only by the timer slack (50 µs).
    fn arm_wakeup(&self, deadline: Option<Instant>) -> Option<TimeSpec> {
        let Some(deadline) = deadline else {
            let _ = self.wakeup.unset();
            return None;
        };
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Some(TimeSpec::from_duration(Duration::ZERO));
        }
        let expiration = Expiration::OneShot(TimeSpec::from_duration(wait));
        match self.wakeup.set(expiration, TimerSetTimeFlags::empty()) {
            Ok(()) => None,
            Err(_) => Some(TimeSpec::from_duration(wait)),
        }
    }

    fn run_timers(&mut self, now: Instant) {
        while let Some(index) = self.timers.pop_due(now) {
            let actions = self.instances[index].vrrp.handle_timeout(now);
            self.apply(index, actions, now);
        }
        self.send_pending_gratuitous(now);
        let reports = self.bfd.run_timers(now);
        self.bfd_reports(reports, now);
        self.process_timers(now);
        self.children.kill_overdue(now);
        self.start_due_checks(now);
        if self
            .checker
            .as_ref()
            .is_some_and(|child| child.restart_due(now))
        {
            self.start_checker(now);
        }
    }

    /// Starts the checker child (again), and gives the metrics server its link.
    fn start_checker(&mut self, now: Instant) {
        let metrics = self.metrics.is_some();
        let Some(child) = self.checker.as_mut() else {
            return;
        };
        let Some(link) = child.start(metrics, now) else {
            return;
        };
        if let Some(pid) = child.pid() {
            self.children.adopt(pid.as_raw(), Purpose::CheckerProcess);
        }
        self.set_metrics_link(link);
        // The new child learns where every session stands.
        for report in self.bfd.states() {
            self.forward_bfd(&report);
        }
    }

    fn set_metrics_link(&mut self, link: Option<std::os::unix::net::UnixStream>) {
        if let Some(mut server) = self.metrics.take() {
            server.set_checker(link, || self.metrics_text());
            self.metrics = Some(server);
        }
    }

    fn next_check(&self) -> Option<Instant> {
        self.checks
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.children.is_running(Purpose::Check(*index)))
            .map(|(_, check)| check.next_run)
            .min()
    }

    fn start_due_checks(&mut self, now: Instant) {
        for index in 0..self.checks.len() {
            let check = &mut self.checks[index];
            if check.next_run > now || self.children.is_running(Purpose::Check(index)) {
                continue;
            }
            check.next_run = now + check.script.interval.max(Duration::from_millis(1));
            let user = check
                .script
                .user
                .clone()
                .or_else(|| self.config.global.script_user.clone());
            let argv = check.script.script.argv.clone();
            let timeout = check.script.timeout;
            self.children.spawn(
                &argv,
                user.as_ref(),
                Purpose::Check(index),
                Some(timeout),
                now,
            );
        }
    }

    /// Carries out an instance's actions, then keeps its sync group in line and re-arms its timer.
    fn apply(&mut self, index: usize, actions: Vec<Action>, now: Instant) {
        self.carry_out(index, actions, now);
        if let Some(group) = self.instances[index].group {
            self.reconcile(group, Some(index), now);
        }
        self.timers
            .set(index, self.instances[index].vrrp.poll_timeout());
    }

    /// Keeps sync group `group` in line after an input to instance `trigger`, if any.
    fn reconcile(&mut self, group: usize, trigger: Option<usize>, now: Instant) {
        let members = self.groups[group].members.clone();
        let trigger = trigger.and_then(|index| members.iter().position(|&member| member == index));
        let result = {
            let mut instances: Vec<&mut Instance> = self
                .instances
                .iter_mut()
                .enumerate()
                .filter(|(index, _)| members.contains(index))
                .map(|(_, running)| &mut running.vrrp)
                .collect();
            self.groups[group]
                .sync
                .reconcile(now, &mut instances, trigger)
        };
        for (member, action) in result.members {
            if let Some(&index) = members.get(member) {
                self.carry_out(index, vec![action], now);
            }
        }
        if let Some(state) = result.notify {
            self.notify_group(group, state, now);
        }
        for index in members {
            self.timers
                .set(index, self.instances[index].vrrp.poll_timeout());
        }
    }

    fn carry_out(&mut self, index: usize, actions: Vec<Action>, now: Instant) {
        for action in actions {
            if !matches!(action, Action::SendAdvert { .. }) {
                // Adverts leave before what follows them (VIPs, ARPs, scripts), in the core's order.
                self.flush_adverts();
            }
            match action {
                Action::SendAdvert { priority } => self.send_advert(index, priority),
                Action::AddVips => {
                    self.set_addresses(index, true);
                    self.set_routing(index, true);
                }
                Action::RemoveVips => {
                    // Queued messages for addresses no longer ours are dropped, as keepalived does.
                    self.instances[index].gratuitous_pending.clear();
                    self.set_routing(index, false);
                    self.set_addresses(index, false)
                }
                Action::SendGratuitous { repeat } => self.send_gratuitous(index, repeat, now),
                Action::Notify(state) => self.notify(index, state, now),
                Action::MasterReceivedLowerPriority { .. } => {
                    let running = &self.instances[index];
                    if let Some(script) = running.model.notify.master_rx_lower_priority.clone() {
                        let extra = self.notify_arguments(index, "MASTER_RX_LOWER_PRI");
                        self.run_notify(&script, &extra, now);
                    }
                }
                Action::PriorityChanged { priority } => {
                    let running = &self.instances[index];
                    if running.model.notify_priority_changes {
                        let state = match running.vrrp.state() {
                            State::Master => "MASTER_PRIORITY",
                            _ => "BACKUP_PRIORITY",
                        };
                        self.write_fifos("INSTANCE", &running.model.name.clone(), state, priority);
                    }
                }
            }
        }
        self.follow_sync(index);
    }

    /// Keeps the IPVS sync daemon in step with the `lvs_sync_daemon` instance's state.
    fn follow_sync(&mut self, index: usize) {
        let Some(sync) = &mut self.sync else {
            return;
        };
        let running = &self.instances[index];
        if running.model.name != sync.settings.instance {
            return;
        }
        let state = running.vrrp.state();
        let ops = sync.settings.follow(sync.running, state);
        if ops.is_empty() {
            return;
        }
        sync.running = daemon_state_for(state);
        self.send_sync(ops);
    }

    /// Sends sync daemon requests; a failure is logged and the rest still go, as keepalived does.
    fn send_sync(&mut self, ops: Vec<SyncOp>) {
        if let Some(client) = &mut self.ipvs {
            sync_daemon::send(client, ops);
        }
    }

    fn send_advert(&mut self, index: usize, priority: u8) {
        let running = &mut self.instances[index];
        let Some(interface) = running.interface else {
            return;
        };
        // From the VMAC, so that the adverts carry the virtual router's MAC, unless vmac_xmit_base.
        let interface = match &running.vmac {
            Some(vmac) if !vmac.xmit_base => vmac.index,
            _ => interface,
        };
        let family = family(running.model.family);
        let Some(source) = running.vrrp.source_address() else {
            debug!(
                "({}) no source address: advert not sent",
                running.model.name
            );
            return;
        };
        let transmits = match running.vrrp.encode_advert(priority) {
            Ok(transmits) => transmits,
            Err(e) => {
                warn!("({}) cannot build advert: {e}", running.model.name);
                return;
            }
        };
        let name = &running.model.name;
        let sender = match self.senders.entry((interface, family)) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let Some(link) = self.interfaces.link(interface) else {
                    return;
                };
                match SendSocket::open(family, interface, &link.name) {
                    Ok(socket) => entry.insert(socket),
                    Err(e) => {
                        warn!("({name}) cannot open a send socket on {}: {e}", link.name);
                        return;
                    }
                }
            }
        };
        let mut failures = Vec::new();
        for transmit in transmits {
            if let Err(e) = sender.queue(source, transmit.destination, transmit.payload, index) {
                failures.push((transmit.destination, e));
            }
        }
        for (destination, error) in failures {
            self.log_send_failure(index, destination, &error);
        }
    }

    /// keepalived's line for an advert the kernel refused, except for the priority-0 advert of an instance
    /// whose interface went down (unreachable then, as expected).
    fn log_send_failure(&self, index: usize, destination: IpAddr, error: &std::io::Error) {
        let Some(running) = self.instances.get(index) else {
            return;
        };
        let interface_up = running
            .interface
            .is_some_and(|interface| self.interfaces.is_up(interface));
        let code = error.raw_os_error().unwrap_or(0);
        if code == libc::ENETUNREACH && !interface_up {
            return;
        }
        let text = nix::errno::Errno::from_raw(code).desc();
        let name = &running.model.name;
        if running.model.unicast_peers.is_empty() {
            info!("({name}): send advert error {code} ({text})");
        } else {
            info!("({name}) Cant send advert to {destination} ({text})");
        }
    }

    /// Sends the adverts queued since the last flush: those due in one tick leave together, one `sendmmsg`
    /// per interface instead of a `sendto` each (1,000 instances at 0.1 s make 10,000 a second).
    fn flush_adverts(&mut self) {
        let mut failures = Vec::new();
        for sender in self.senders.values_mut() {
            failures.extend(sender.flush());
        }
        for failure in failures {
            self.log_send_failure(failure.tag, failure.destination, &failure.error);
        }
    }

    fn set_addresses(&mut self, index: usize, add: bool) {
        if !add && self.stopping && !self.options.release_vips {
            return;
        }
        // keepalived's order: the firewall's drop rule before the addresses go in, after they
        // come out.
        if add {
            self.set_firewall(index, true);
        }
        let running = &self.instances[index];
        let name = &running.model.name;
        if !running.model.virtual_addresses.is_empty() {
            info!(
                target: logging::DETAIL,
                "({name}) {} VIPs.",
                if add { "setting" } else { "removing" }
            );
        }
        if !running.model.excluded_addresses.is_empty() {
            info!(
                target: logging::DETAIL,
                "({name}) {} E-VIPs.",
                if add { "setting" } else { "removing" }
            );
        }
        for spec in &running.addresses {
            let result = if add {
                self.rtnl.add_address(spec)
            } else {
                self.rtnl.delete_address(spec).map(|_| ())
            };
            if let Err(e) = result {
                warn!("({name}) {e}");
            }
        }
        if !add {
            self.set_firewall(index, false);
        }
    }

    /// Puts the instance's addresses in the `no_accept` firewall's sets (`add`) or takes them out,
    /// when the instance does not accept traffic for them.
    fn set_firewall(&mut self, index: usize, add: bool) {
        let running = &self.instances[index];
        if !firewall_covers(&running.model) {
            return;
        }
        let name = running.model.name.clone();
        info!(
            target: logging::DETAIL,
            "({name}) {} firewall drop rule",
            if add { "setting" } else { "removing" }
        );
        let elements = self.firewall_elements(running, &running.addresses);
        let result = if add {
            self.firewall.add(&elements)
        } else {
            self.firewall.remove(&elements)
        };
        if let Err(e) = result {
            warn!("({name}) {e}");
        }
    }

    /// The firewall's elements of these of the instance's addresses: a link-local address goes by
    /// its interface's name with `dont_track_primary` (unless `nftables_ifindex`) when it is on the
    /// instance's interface or not tracked, else by the interface's index, as in keepalived.
    fn firewall_elements(&self, running: &Running, addresses: &[AddressSpec]) -> Vec<Element> {
        let model = &running.model;
        let by_name = model.dont_track_primary && !self.config.global.nftables_ifindex;
        let own_interface = running
            .vmac
            .as_ref()
            .map(|vmac| vmac.index)
            .or(running.interface);
        let untracked = |address: IpAddr| {
            model
                .virtual_addresses
                .iter()
                .chain(&model.excluded_addresses)
                .any(|a| a.no_track && a.prefix.address == address)
        };
        addresses
            .iter()
            .map(|spec| {
                let interface = self
                    .interfaces
                    .link(spec.index)
                    .map_or("", |l| l.name.as_str());
                let by_name =
                    by_name && (own_interface == Some(spec.index) || untracked(spec.address));
                Element::of(spec.address, spec.index, interface, by_name)
            })
            .collect()
    }

    /// A burst of `repeat` rounds over the instance's addresses; each message leaves now unless its
    /// interface's pacing interval holds it, in which case the address is queued (once).
    fn send_gratuitous(&mut self, index: usize, repeat: u32, now: Instant) {
        let count = self.instances[index].addresses.len();
        for round in 0..repeat {
            for position in 0..count {
                let spec = &self.instances[index].addresses[position];
                if round == 0 {
                    if let Some(link) = self.interfaces.link(spec.index) {
                        info!(
                            target: logging::DETAIL,
                            "({}) Sending/queueing {} on {} for {}",
                            self.instances[index].model.name,
                            if spec.address.is_ipv4() {
                                "gratuitous ARPs"
                            } else {
                                "Unsolicited Neighbour Adverts"
                            },
                            link.name,
                            spec.address
                        );
                    }
                }
                let Some(pace) = self.pace_of(index, position) else {
                    continue;
                };
                if self.pacing.may_send(pace, now) {
                    self.send_gratuitous_now(index, position);
                    self.pacing.sent(pace, Instant::now());
                } else {
                    let pending = &mut self.instances[index].gratuitous_pending;
                    if pending.len() < count {
                        pending.resize(count, false);
                    }
                    pending[position] = true;
                }
            }
        }
    }

    /// The pacing of the interface of an instance's address.
    fn pace_of(&self, index: usize, position: usize) -> Option<Pace> {
        let spec = self.instances[index].addresses.get(position)?;
        let link = self.interfaces.link(spec.index)?;
        Some(Pace::of(
            &self.config,
            spec.index,
            &link.name,
            spec.address.is_ipv6(),
        ))
    }

    fn send_gratuitous_now(&self, index: usize, position: usize) {
        let running = &self.instances[index];
        let Some(spec) = running.addresses.get(position) else {
            return;
        };
        let Some(link) = self.interfaces.link(spec.index) else {
            return;
        };
        let Some(mac) = link.mac.map(MacAddr) else {
            return;
        };
        let what = match spec.address {
            IpAddr::V4(_) => "gratuitous ARP",
            IpAddr::V6(_) => "unsolicited Neighbour Advert",
        };
        info!(
            target: logging::DETAIL,
            "Sending {what} on {} for {}",
            link.name,
            spec.address
        );
        let frame = match spec.address {
            IpAddr::V4(address) => ArpPacket::gratuitous(mac, address).to_frame(),
            IpAddr::V6(address) => {
                NeighborAdvertisement::unsolicited(mac, address, forwards_ipv6(&link.name))
                    .to_frame()
            }
        };
        if let Err(e) = self.packets.send(spec.index, &frame) {
            warn!(
                "({}) cannot send gratuitous ARP/NA on {}: {e}",
                running.model.name, link.name
            );
        }
    }

    /// Queued gratuitous ARPs / NAs whose interface may send again leave, instances and addresses in
    /// order (keepalived's `vrrp_arp_thread`); an instance no longer master drops its queue.
    fn send_pending_gratuitous(&mut self, now: Instant) {
        for index in 0..self.instances.len() {
            if !self.instances[index].gratuitous_pending.contains(&true) {
                continue;
            }
            if self.instances[index].vrrp.state() != State::Master {
                self.instances[index].gratuitous_pending.clear();
                continue;
            }
            for position in 0..self.instances[index].gratuitous_pending.len() {
                if !self.instances[index].gratuitous_pending[position] {
                    continue;
                }
                let Some(pace) = self.pace_of(index, position) else {
                    self.instances[index].gratuitous_pending[position] = false;
                    continue;
                };
                if self.pacing.may_send(pace, now) {
                    self.instances[index].gratuitous_pending[position] = false;
                    self.send_gratuitous_now(index, position);
                    self.pacing.sent(pace, Instant::now());
                }
            }
        }
    }

    /// When the earliest queued gratuitous ARP / NA may leave.
    fn next_gratuitous(&self) -> Option<Instant> {
        self.instances
            .iter()
            .enumerate()
            .flat_map(|(index, running)| {
                running
                    .gratuitous_pending
                    .iter()
                    .enumerate()
                    .filter(|(_, pending)| **pending)
                    .map(move |(position, _)| (index, position))
            })
            .filter_map(|(index, position)| {
                let pace = self.pace_of(index, position)?;
                // A queue whose interface has no deadline any more leaves at once.
                Some(self.pacing.next(pace).unwrap_or_else(Instant::now))
            })
            .min()
    }

    /// keepalived's notify order: the state's own script, then `notify` with the state appended, then the FIFOs.
    fn notify(&mut self, index: usize, state: State, now: Instant) {
        let running = &self.instances[index];
        let scripts = &running.model.notify;
        let own = match state {
            State::Master => scripts.master.clone(),
            State::Backup => scripts.backup.clone(),
            State::Fault => scripts.fault.clone(),
            State::Stopped => scripts.stop.clone(),
            State::Init => None,
        };
        let any = scripts.any.clone();
        let name = running.model.name.clone();
        let priority = running.vrrp.effective_priority();
        if let Some(script) = own {
            self.run_notify(&script, &[], now);
        }
        if let Some(script) = any {
            let extra = self.notify_arguments(index, &state.to_string());
            self.run_notify(&script, &extra, now);
        }
        self.write_fifos("INSTANCE", &name, &state.to_string(), priority);
        self.alert_instance(index, state);
    }

    /// keepalived's `vrrp_smtp_notifier`: one mail per state an instance enters, FAULT only without
    /// `no_email_faults`.
    fn alert_instance(&mut self, index: usize, state: State) {
        let running = &mut self.instances[index];
        let (subject, body) = match state {
            State::Master => (
                "Entering MASTER state",
                "=> VRRP Instance is now owning VRRP VIPs <=",
            ),
            State::Backup => (
                "Entering BACKUP state",
                "=> VRRP Instance is no longer owning VRRP VIPs <=",
            ),
            State::Fault => (
                "Entering FAULT state",
                "=> VRRP Instance is no longer owning VRRP VIPs <=",
            ),
            State::Stopped => ("Stopping", "=> VRRP Instance stopping <="),
            State::Init => return,
        };
        let muted = self.config.global.no_email_faults && state == State::Fault;
        if take_alert(
            &mut running.last_email_state,
            state,
            running.model.smtp_alert,
            muted,
        ) {
            let what = format!("VRRP Instance {}", running.model.name);
            self.mail(&what, subject, body);
        }
    }

    /// keepalived's `vrrp_sync_smtp_notifier` for a sync group.
    fn alert_group(&mut self, group: usize, state: GroupState) {
        let global = &self.config.global;
        let entry = &mut self.groups[group];
        let (subject, body) = match state {
            GroupState::Master => (
                "Entering MASTER state",
                "=> All VRRP group instances are now in MASTER state <=",
            ),
            GroupState::Backup => (
                "Entering BACKUP state",
                "=> All VRRP group instances are now in BACKUP state <=",
            ),
            GroupState::Fault => (
                "Entering FAULT state",
                "=> All VRRP group instances are now in FAULT state <=",
            ),
            GroupState::Stop => (
                "Stopping",
                "=> All VRRP group instances are now stopping <=",
            ),
        };
        let enabled = entry
            .model
            .smtp_alert
            .or(global.smtp_alert_vrrp)
            .or(global.smtp_alert)
            .unwrap_or(false);
        let muted = global.no_email_faults && state == GroupState::Fault;
        if take_alert(&mut entry.last_email_state, state, enabled, muted) {
            let what = format!("VRRP Group {}", entry.model.name);
            self.mail(&what, subject, body);
        }
    }

    /// Sends `[router_id] WHAT - SUBJECT` with `body`, when alerts have somewhere to go.
    fn mail(&self, what: &str, subject: &str, body: &str) {
        if let Some(mailer) = &self.mailer {
            // Sent in the background; nothing waits for it.
            let _ = mailer.alert(what, subject, body);
        }
    }

    fn notify_arguments(&self, index: usize, state: &str) -> Vec<String> {
        let running = &self.instances[index];
        vec![
            "INSTANCE".into(),
            running.model.name.clone(),
            state.into(),
            running.vrrp.effective_priority().to_string(),
        ]
    }

    fn notify_group(&mut self, group: usize, state: GroupState, now: Instant) {
        let NotifyScripts {
            master,
            backup,
            fault,
            stop,
            any,
            ..
        } = self.groups[group].model.notify.clone();
        let name = self.groups[group].model.name.clone();
        let own = match state {
            GroupState::Master => master,
            GroupState::Backup => backup,
            GroupState::Fault => fault,
            GroupState::Stop => stop,
        };
        if let Some(script) = own {
            self.run_notify(&script, &[], now);
        }
        if let Some(script) = any {
            let extra = ["GROUP".into(), name.clone(), state.to_string(), "0".into()];
            self.run_notify(&script, &extra, now);
        }
        self.write_fifos("GROUP", &name, &state.to_string(), 0);
        self.alert_group(group, state);
    }

    fn run_notify(&mut self, script: &model::Script, extra: &[String], now: Instant) {
        let default_user: Option<ScriptUser> = self.config.global.script_user.clone();
        scripts::notify(
            &mut self.children,
            script,
            extra,
            default_user.as_ref(),
            now,
        );
    }

    fn write_fifos(&mut self, kind: &str, name: &str, state: &str, priority: u8) {
        self.fifos
            .write_line(&format!("{kind} \"{name}\" {state} {priority}\n"));
    }

    fn receive(&mut self, socket: usize, now: Instant) {
        // Bounded, so that a flood on one socket cannot starve timers and signals.
        for _ in 0..256 {
            let Some(receiver) = self.receivers.get_mut(socket) else {
                return;
            };
            let family = receiver.family();
            let (interface, bytes, source, destination, hop_limit) = match receiver.receive() {
                Ok(Some(packet)) => (
                    packet.interface,
                    packet.bytes.to_vec(),
                    packet.source,
                    packet.destination,
                    packet.hop_limit,
                ),
                Ok(None) => return,
                Err(e) => {
                    debug!("VRRP receive: {e}");
                    return;
                }
            };
            let datagram = match (family, source, destination) {
                (Family::Ipv4, _, _) => Datagram::Ipv4(&bytes),
                (Family::Ipv6, Some(source), Some(destination)) => Datagram::Ipv6 {
                    message: &bytes,
                    source,
                    destination,
                    hop_limit,
                },
                (Family::Ipv6, _, _) => continue,
            };
            let Some(vrid) = datagram.vrid() else {
                self.malformed += 1;
                continue;
            };
            let Some(&index) = self.by_vrid.get(&(interface, family, vrid)) else {
                if self.config.global.log_unknown_vrids {
                    info!("Unknown VRID {vrid} received on interface {interface}");
                }
                continue;
            };
            match self.instances[index].vrrp.handle_datagram(now, &datagram) {
                Ok(actions) => self.apply(index, actions, now),
                Err(reason) => self.log_drop(index, &reason, now),
            }
        }
    }

    fn log_drop(&mut self, index: usize, reason: &DropReason, now: Instant) {
        if matches!(reason, DropReason::NotListening | DropReason::Malformed(_)) {
            return;
        }
        let running = &mut self.instances[index];
        let recently = running
            .last_drop_log
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1));
        if !recently {
            running.last_drop_log = Some(now);
            info!("({}) {reason}", running.model.name);
        }
    }

    fn network_events(&mut self, now: Instant) {
        let events = match self.monitor.read_events() {
            Ok(events) => events,
            Err(e) => {
                // Most likely an overrun: start again from what the kernel says now.
                warn!("netlink monitor: {e}; reading interfaces again");
                match (self.rtnl.links(), self.rtnl.addresses()) {
                    (Ok(links), Ok(addresses)) => {
                        self.interfaces = Interfaces::new(links, addresses)
                    }
                    (Err(e), _) | (_, Err(e)) => warn!("{e}"),
                }
                Vec::new()
            }
        };
        if events.is_empty() {
            self.refresh_instances(now);
        }
        // One event at a time, as keepalived reads them: its lines, then what it does to the instances.
        for event in &events {
            let tracked = self.tracked_interfaces();
            let was_up = match event {
                NetEvent::Link(link) => Some(self.interfaces.is_up(link.index)),
                _ => None,
            };
            let addresses_before = self.interface_addresses();
            if !self.interfaces.apply(event) {
                continue;
            }
            if let (NetEvent::Link(link), Some(was_up)) = (event, was_up) {
                if link.up != was_up && tracked.contains(&link.index) {
                    let state = if link.up { "up" } else { "down" };
                    info!("Netlink reports {} {state}", link.name);
                }
            }
            self.log_address_changes(&addresses_before);
            self.refresh_instances(now);
        }
    }

    fn refresh_instances(&mut self, now: Instant) {
        for index in 0..self.instances.len() {
            let mut actions = self.refresh_interface_state(index, now);
            actions.extend(self.refresh_trackers(index, now));
            self.apply(index, actions, now);
        }
    }

    /// The interfaces instances depend on (their own and those they or their sync groups track), by index.
    fn tracked_interfaces(&self) -> Vec<u32> {
        let mut indices = Vec::new();
        for running in &self.instances {
            indices.extend(running.interface);
            let group = running.group.map(|group| &self.groups[group].model);
            let references = running
                .model
                .track_interfaces
                .iter()
                .chain(group.into_iter().flat_map(|g| g.track_interfaces.iter()));
            for reference in references {
                indices.extend(self.interfaces.index_of(&reference.name));
            }
        }
        indices.sort_unstable();
        indices.dedup();
        indices
    }

    /// What keepalived takes as each tracked interface's own address (IPv4 the primary, IPv6 the link-local
    /// one, never a VIP), IPv4 first as its address dump comes.
    fn interface_addresses(&self) -> Vec<(u32, IpAddr)> {
        let ours: Vec<IpAddr> = self
            .instances
            .iter()
            .flat_map(|running| running.addresses.iter().map(|spec| spec.address))
            .collect();
        let tracked = self.tracked_interfaces();
        let mut found = Vec::new();
        for family in [Family::Ipv4, Family::Ipv6] {
            for &index in &tracked {
                if let Some(address) = self.interfaces.source_address(index, family, &ours) {
                    found.push((index, address));
                }
            }
        }
        found
    }

    fn interface_name(&self, index: u32) -> &str {
        self.interfaces
            .link(index)
            .map_or("?", |link| link.name.as_str())
    }

    /// keepalived's `-D` lines for the addresses of tracked interfaces, as read at start or on reload.
    fn log_assigned_addresses(&self) {
        for (index, address) in self.interface_addresses() {
            info!(
                target: logging::DETAIL,
                "Assigned address {address} for interface {}",
                self.interface_name(index)
            );
        }
    }

    /// keepalived's `-D` lines for a tracked interface's own address going or coming.
    fn log_address_changes(&self, before: &[(u32, IpAddr)]) {
        let after = self.interface_addresses();
        for old in before.iter().filter(|old| !after.contains(old)) {
            info!(
                target: logging::DETAIL,
                "Deassigned address {} from interface {}",
                old.1,
                self.interface_name(old.0)
            );
        }
        for new in after.iter().filter(|new| !before.contains(new)) {
            info!(
                target: logging::DETAIL,
                "Assigned address {} for interface {}",
                new.1,
                self.interface_name(new.0)
            );
        }
    }

    /// Gives the instance its interface's state and source address; returns the resulting actions.
    fn refresh_interface_state(&mut self, index: usize, now: Instant) -> Vec<Action> {
        let running = &mut self.instances[index];
        let Some(interface) = running.interface else {
            return running.vrrp.set_interface_up(now, false);
        };
        let family = family(running.model.family);
        let ours: Vec<IpAddr> = running.addresses.iter().map(|spec| spec.address).collect();
        let source = self.interfaces.source_address(interface, family, &ours);
        running.vrrp.set_source_address(source);
        let has_source = running.vrrp.source_address().is_some();
        let up = running.model.dont_track_primary || self.interfaces.is_up(interface);
        let was = running.vrrp.state();
        let actions = running.vrrp.set_interface_up(now, up && has_source);
        // A link going down is logged as keepalived does ("Netlink reports eth0 down").
        if was != State::Fault && running.vrrp.state() == State::Fault {
            let name = self
                .interfaces
                .link(interface)
                .map_or("?", |link| link.name.as_str());
            if self.interfaces.is_up(interface) && !has_source {
                info!(
                    "({}) No usable address on interface {name}",
                    running.model.name
                );
            }
        }
        actions
    }

    /// Recomputes the instance's tracker fault and priority adjustment; returns the resulting actions.
    fn refresh_trackers(&mut self, index: usize, now: Instant) -> Vec<Action> {
        let running = &self.instances[index];
        let group = running.group.map(|group| &self.groups[group].model);
        let mut fault = false;
        let mut adjustment = 0;
        let mut add = |weight: i32, reverse: bool, ok: bool| match contribution(weight, reverse, ok)
        {
            Contribution::Adjust(change) => adjustment += change,
            Contribution::Fault => fault = true,
        };
        let group_weights = group.is_some_and(|group| group.tracking_weight);
        let script_refs = running.model.track_scripts.iter().map(|r| (r, true)).chain(
            group
                .into_iter()
                .flat_map(|g| g.track_scripts.iter().map(move |r| (r, group_weights))),
        );
        for (reference, weighted) in script_refs {
            if let Some(check) = self
                .checks
                .iter()
                .find(|check| check.script.name == reference.name)
            {
                let (weight, reverse) =
                    tracker_weight(reference, check.script.weight, check.script.weight_reverse);
                add(if weighted { weight } else { 0 }, reverse, check.ok);
            }
        }
        let interface_refs = running
            .model
            .track_interfaces
            .iter()
            .map(|r| (r, true))
            .chain(
                group
                    .into_iter()
                    .flat_map(|g| g.track_interfaces.iter().map(move |r| (r, group_weights))),
            );
        for (reference, weighted) in interface_refs {
            let ok = self
                .interfaces
                .index_of(&reference.name)
                .is_some_and(|interface| self.interfaces.is_up(interface));
            let (weight, reverse) = tracker_weight(reference, 0, false);
            add(if weighted { weight } else { 0 }, reverse, ok);
        }
        // A sync group's files keep their weights even without sync_group_tracking_weight, as in
        // keepalived 2.2.7 (a member's own weighted files were dropped or unweighted by the configuration).
        let file_refs = running
            .model
            .track_files
            .iter()
            .chain(group.into_iter().flat_map(|g| g.track_files.iter()));
        for reference in file_refs {
            if let Some(file) = self.files.iter().find(|f| f.model.name == reference.name) {
                match file_weight(reference, &file.model, file.value) {
                    Contribution::Adjust(change) => adjustment += change,
                    Contribution::Fault => fault = true,
                }
            }
        }
        // Like files, a sync group's processes keep their weights.
        let process_refs = running
            .model
            .track_processes
            .iter()
            .chain(group.into_iter().flat_map(|g| g.track_processes.iter()));
        for reference in process_refs {
            if let Some(tracker) = self
                .processes
                .iter()
                .find(|t| t.model.name == reference.name)
            {
                let (weight, reverse) = tracker_weight(
                    reference,
                    tracker.model.weight,
                    tracker.model.weight_reverse,
                );
                match contribution(weight, reverse, tracker.have_quorum) {
                    Contribution::Adjust(change) => adjustment += change,
                    Contribution::Fault => fault = true,
                }
            }
        }
        let bfd_refs = running.model.track_bfds.iter().map(|r| (r, true)).chain(
            group
                .into_iter()
                .flat_map(|g| g.track_bfds.iter().map(move |r| (r, group_weights))),
        );
        for (reference, weighted) in bfd_refs {
            let up = self.bfd_up.get(&reference.name).copied().unwrap_or(false);
            let (weight, reverse) = self
                .config
                .bfd_instances
                .iter()
                .find(|b| b.name == reference.name)
                .map_or((0, false), |b| {
                    tracker_weight(reference, b.weight, b.weight_reverse)
                });
            let weight = if weighted { weight } else { 0 };
            match bfd_contribution(weight, reverse, up) {
                Contribution::Adjust(change) => adjustment += change,
                Contribution::Fault => fault = true,
            }
        }
        let running = &mut self.instances[index];
        let mut actions = running.vrrp.set_tracker_fault(now, fault);
        actions.extend(running.vrrp.set_priority_adjustment(now, adjustment));
        actions
    }

    /// Opens and starts the BFD sessions of the configuration.
    fn start_bfd(&mut self, now: Instant) {
        match BfdSessions::open(&self.config.bfd_instances) {
            Ok(sessions) => self.bfd = sessions,
            Err(e) => {
                error!("bind() error ({e})");
                error!("Unable to open listening socket");
                return;
            }
        }
        let reports = self.bfd.start(now);
        self.note_bfd(&reports);
    }

    /// A reload: sessions that stay keep their state, the VRRP side keeps what it heard of them.
    fn reload_bfd(&mut self, now: Instant) {
        let reports = match self.bfd.reload(&self.config.bfd_instances, now) {
            Ok(reports) => reports,
            Err(e) => {
                error!("bind() error ({e})");
                error!("Unable to open listening socket");
                Vec::new()
            }
        };
        let names: Vec<&str> = self
            .config
            .bfd_instances
            .iter()
            .map(|b| b.name.as_str())
            .collect();
        self.bfd_up.retain(|name, _| names.contains(&name.as_str()));
        self.note_bfd(&reports);
    }

    /// Records reports for the VRRP side without acting on them (at start and reload, before the
    /// instances take their trackers); returns the names whose state changed.
    fn note_bfd(&mut self, reports: &[BfdReport]) -> Vec<String> {
        let mut changed = Vec::new();
        for report in reports {
            self.forward_bfd(report);
            // A session marked `checker` is not reported to the VRRP side.
            let for_vrrp = self
                .config
                .bfd_instances
                .iter()
                .find(|b| b.name == report.name)
                .is_some_and(|b| b.vrrp_only || !b.checker_only);
            if !for_vrrp {
                continue;
            }
            let was = self.bfd_up.insert(report.name.clone(), report.up);
            if was.unwrap_or(false) != report.up {
                changed.push(report.name.clone());
            }
        }
        changed
    }

    /// Passes a report to the checker child (its `BFD_CHECK`s).
    fn forward_bfd(&mut self, report: &BfdReport) {
        let for_checker = self
            .config
            .bfd_instances
            .iter()
            .find(|b| b.name == report.name)
            .is_some_and(|b| b.checker_only || !b.vrrp_only);
        if let Some(child) = self.checker.as_mut().filter(|_| for_checker) {
            child.send_bfd(&report.name, report.up);
        }
    }

    /// Reports of the sessions: instances tracking a session that changed take it into account
    /// (keepalived's `vrrp_handle_bfd_event`).
    fn bfd_reports(&mut self, reports: Vec<BfdReport>, now: Instant) {
        if reports.is_empty() {
            return;
        }
        for name in self.note_bfd(&reports) {
            let up = self.bfd_up.get(&name).copied().unwrap_or(false);
            for index in 0..self.instances.len() {
                let running = &self.instances[index];
                let group = running.group.map(|group| &self.groups[group].model);
                let tracks = running
                    .model
                    .track_bfds
                    .iter()
                    .chain(group.into_iter().flat_map(|g| g.track_bfds.iter()))
                    .any(|r| r.name == name);
                if !tracks {
                    continue;
                }
                info!(
                    "VRRP_Instance({}) Tracked BFD instance {name} is {}",
                    running.model.name,
                    if up { "UP" } else { "DOWN" }
                );
                let actions = self.refresh_trackers(index, now);
                self.apply(index, actions, now);
            }
        }
    }

    /// Writes the `init_file` values, reads the tracked files and watches them (at start, and again on a
    /// reload, which keeps files that exist as they are).
    fn load_track_files(&mut self, reload: bool) {
        for file in &self.config.track_files {
            if let Some((value, overwrite)) = file.init_file {
                if let Err(e) = track_files::initialise(
                    std::path::Path::new(&file.path),
                    value,
                    overwrite,
                    reload,
                ) {
                    warn!("{e}");
                }
            }
        }
        self.files = self
            .config
            .track_files
            .iter()
            .filter(|file| self.config.is_tracked(TrackerKind::File, &file.name))
            .map(|file| {
                let path = PathBuf::from(&file.path);
                let value = track_files::read_value(&path).unwrap_or_else(|| {
                    info!("Invalid number read from {} - ignoring", path.display());
                    0
                });
                TrackedFile {
                    model: file.clone(),
                    path,
                    value,
                }
            })
            .collect();
        self.file_watch = if self.files.is_empty() {
            None
        } else {
            match FileWatch::new(self.files.iter().map(|file| file.path.as_path())) {
                Ok(watch) => Some(watch),
                Err(e) => {
                    warn!("{e}");
                    None
                }
            }
        };
    }

    /// Tracked files were written, moved or deleted: the instances tracking them get their new values.
    fn files_changed(&mut self, now: Instant) {
        let Some(watch) = self.file_watch.as_mut() else {
            return;
        };
        let mut moved = false;
        for path in watch.changed() {
            // A deleted or moved-away file reads 0, as keepalived takes it.
            let Some(value) = track_files::read_value(&path) else {
                info!("Invalid number read from {} - ignoring", path.display());
                continue;
            };
            for position in 0..self.files.len() {
                let file = &self.files[position];
                if file.path != path || file.value == value {
                    continue;
                }
                self.log_file_faults(position, value);
                self.files[position].value = value;
                moved = true;
            }
        }
        if moved {
            for index in 0..self.instances.len() {
                let actions = self.refresh_trackers(index, now);
                self.apply(index, actions, now);
            }
        }
    }

    /// Sets up the `vrrp_track_process`es that something tracks: process events if the kernel gives them
    /// here, else a `/proc` poll; then a scan for the processes running now.
    fn load_track_processes(&mut self, now: Instant) {
        self.processes = self
            .config
            .track_processes
            .iter()
            .filter(|process| self.config.is_tracked(TrackerKind::Process, &process.name))
            .cloned()
            .map(ProcessTracker::new)
            .collect();
        if self.processes.is_empty() {
            self.proc_monitor = None;
            self.proc_scan_at = None;
            return;
        }
        if self.proc_monitor.is_none() {
            match ProcMonitor::open() {
                Ok(monitor) => self.proc_monitor = Some(monitor),
                Err(e) => info!(
                    "track_process: no process events here ({e}); scanning /proc every {} s",
                    track_process::POLL_INTERVAL.as_secs()
                ),
            }
        }
        // Events first, then the scan: nothing starting in between is missed.
        let with_cmdline = self.processes.iter().any(|t| t.matcher.needs_cmdline());
        for seen in track_process::scan(with_cmdline) {
            for tracker in &mut self.processes {
                tracker.count_found(seen.pid, &seen.comm, seen.cmdline.as_deref());
            }
        }
        for tracker in &mut self.processes {
            tracker.settle();
        }
        self.proc_scan_at = self
            .proc_monitor
            .is_none()
            .then_some(now + track_process::POLL_INTERVAL);
    }

    /// Process events from the kernel: each tracker counts its processes again.
    fn process_events(&mut self, now: Instant) {
        let Some(monitor) = self.proc_monitor.as_mut() else {
            return;
        };
        let events = match monitor.read() {
            Received::Events(events) => events,
            Received::Lost(events) => {
                // keepalived lets things settle for a second, then reads /proc again.
                info!("Process events lost: scanning /proc again in 1 s");
                self.proc_scan_at = Some(now + Duration::from_secs(1));
                events
            }
        };
        let with_cmdline = self.processes.iter().any(|t| t.matcher.needs_cmdline());
        let mut changed = false;
        for event in events {
            match event {
                track_process::ProcEvent::Fork { parent, child } => {
                    for tracker in &mut self.processes {
                        changed |= tracker.fork(now, parent, child);
                    }
                }
                track_process::ProcEvent::Exec { pid } => {
                    // A process gone before we look can still have been counted: take it as an exit.
                    match track_process::read_process(pid, with_cmdline) {
                        Some(seen) => {
                            for tracker in &mut self.processes {
                                changed |=
                                    tracker.exec(now, pid, &seen.comm, seen.cmdline.as_deref());
                            }
                        }
                        None => {
                            for tracker in &mut self.processes {
                                changed |= tracker.exit(now, pid);
                            }
                        }
                    }
                }
                track_process::ProcEvent::Comm { pid, comm } => {
                    for tracker in &mut self.processes {
                        changed |= tracker.comm_changed(now, pid, &comm);
                    }
                }
                track_process::ProcEvent::Exit { pid } => {
                    for tracker in &mut self.processes {
                        changed |= tracker.exit(now, pid);
                    }
                }
            }
        }
        if changed {
            self.process_quorum_changed(now);
        }
    }

    /// Delayed quorum changes that are due, and the `/proc` scan when one is due.
    fn process_timers(&mut self, now: Instant) {
        let mut changed = false;
        if self.proc_scan_at.is_some_and(|at| at <= now) {
            self.proc_scan_at = self
                .proc_monitor
                .is_none()
                .then_some(now + track_process::POLL_INTERVAL);
            changed |= self.rescan_processes(now);
        }
        for tracker in &mut self.processes {
            changed |= tracker.run_timer(now);
        }
        if changed {
            self.process_quorum_changed(now);
        }
    }

    /// A scan of `/proc` taken as events: new matching processes as execs, vanished ones as exits.
    fn rescan_processes(&mut self, now: Instant) -> bool {
        let with_cmdline = self.processes.iter().any(|t| t.matcher.needs_cmdline());
        let seen = track_process::scan(with_cmdline);
        let mut changed = false;
        for tracker in &mut self.processes {
            for pid in tracker.pids() {
                if !seen.iter().any(|s| s.pid == pid) {
                    changed |= tracker.exit(now, pid);
                }
            }
            for process in &seen {
                changed |=
                    tracker.exec(now, process.pid, &process.comm, process.cmdline.as_deref());
            }
        }
        changed
    }

    fn next_process_deadline(&self) -> Option<Instant> {
        self.processes
            .iter()
            .filter_map(ProcessTracker::deadline)
            .chain(self.proc_scan_at)
            .min()
    }

    fn process_quorum_changed(&mut self, now: Instant) {
        for tracker in &mut self.processes {
            tracker.log_changes();
        }
        for index in 0..self.instances.len() {
            let actions = self.refresh_trackers(index, now);
            self.apply(index, actions, now);
        }
    }

    /// keepalived's lines for an instance whose tracked file enters or leaves its FAULT state.
    fn log_file_faults(&self, position: usize, value: i64) {
        let file = &self.files[position];
        for running in &self.instances {
            let group = running.group.map(|group| &self.groups[group].model);
            let reference = running
                .model
                .track_files
                .iter()
                .chain(group.into_iter().flat_map(|g| g.track_files.iter()))
                .find(|r| r.name == file.model.name);
            let Some(reference) = reference else { continue };
            let before = file_weight(reference, &file.model, file.value) == Contribution::Fault;
            let after = file_weight(reference, &file.model, value) == Contribution::Fault;
            let name = &running.model.name;
            if after && !before {
                info!(
                    target: logging::DETAIL,
                    "({name}): tracked file {} now FAULT state",
                    file.model.name
                );
            } else if before && !after {
                info!(
                    target: logging::DETAIL,
                    "({name}): tracked file {} leaving FAULT state",
                    file.model.name
                );
            }
        }
    }

    /// Passes a signal on to the checker process, as keepalived's parent does to its children.
    fn forward(&self, signal: Signal) {
        if let Some(pid) = self.checker.as_ref().and_then(CheckerChild::pid) {
            let _ = nix::sys::signal::kill(pid, signal);
        }
    }

    fn signals(&mut self, now: Instant) {
        while let Ok(Some(info)) = self.signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                // The checker process hears of it once the masters have stepped down (shutdown).
                Ok(Signal::SIGTERM | Signal::SIGINT) => self.stopping = true,
                Ok(Signal::SIGHUP) => {
                    self.forward(Signal::SIGHUP);
                    // keepalived starts a checker child that is waiting to be restarted at once.
                    if self
                        .checker
                        .as_ref()
                        .is_some_and(|child| child.pid().is_none() && child.restart_at().is_some())
                    {
                        self.start_checker(now);
                    }
                    // systemd's ExecReload waits for READY=1 again (whether or not the reload worked).
                    self.notifier.reloading();
                    self.reload(now);
                    self.reloads += 1;
                    self.notifier.ready(&self.status());
                }
                Ok(Signal::SIGUSR1) => self.write_report(reports::DATA_FILE, reports::data),
                Ok(Signal::SIGUSR2) => self.write_report(reports::STATS_FILE, reports::stats),
                Ok(Signal::SIGCHLD) => self.reap(now),
                _ => {}
            }
        }
    }

    fn reap(&mut self, now: Instant) {
        for (purpose, outcome) in self.children.reap() {
            if purpose == Purpose::CheckerProcess {
                self.checker_ended(outcome, now);
                continue;
            }
            let Purpose::Check(check) = purpose else {
                continue;
            };
            let Some(tracker) = self.checks.get_mut(check) else {
                continue;
            };
            if tracker.record(outcome) {
                for index in 0..self.instances.len() {
                    let actions = self.refresh_trackers(index, now);
                    self.apply(index, actions, now);
                }
            }
        }
    }

    /// The checker child died: it is restarted (now or after keepalived's delay), or the daemon
    /// stops.
    fn checker_ended(&mut self, outcome: scripts::Outcome, now: Instant) {
        if self.stopping {
            return;
        }
        let Some(child) = self.checker.as_mut() else {
            return;
        };
        let after = child.ended(outcome, now);
        self.set_metrics_link(None);
        match after {
            AfterDeath::Stop(status) => {
                self.stopping = true;
                self.exit_status = status;
            }
            AfterDeath::RestartAt(at) if at <= now => self.start_checker(now),
            AfterDeath::RestartAt(_) => {}
        }
    }

    fn write_report(&self, path: &str, render: fn(&[InstanceReport<'_>]) -> String) {
        if let Err(e) = std::fs::write(path, render(&self.reports())) {
            warn!("Cannot write {path}: {e}");
        }
    }

    /// The Prometheus text of the instances as they are now.
    fn metrics_text(&self) -> String {
        crate::metrics::render(
            &self.reports(),
            &DaemonCounters {
                malformed: self.malformed,
                reloads: self.reloads,
                checker_restarts: self.checker.as_ref().map(|child| child.restarts),
            },
        )
    }

    fn reports(&self) -> Vec<InstanceReport<'_>> {
        self.instances
            .iter()
            .map(|running| InstanceReport {
                instance: &running.vrrp,
                interface: running.model.interface.as_deref().unwrap_or(""),
                virtual_addresses: running
                    .model
                    .virtual_addresses
                    .iter()
                    .map(|a| a.to_string())
                    .collect(),
            })
            .collect()
    }

    /// SIGHUP: reads the configuration again. Instances that keep their name, family, version, VRID and
    /// interface keep their state (a master stays master); others stop or start.
    fn reload(&mut self, now: Instant) {
        // keepalived's parent's line, then its VRRP process's.
        info!("Reloading ...");
        // keepalived's VRRP process would stop here (and the daemon with it) for an interface that
        // does not exist; the running configuration is kept instead.
        let Ok(read) = read_config(&self.options) else {
            warn!("Reload failed: keeping the running configuration");
            return;
        };
        info!("Reloading");
        read.log_script_user();
        let checks: Vec<ScriptTracker> = read
            .config
            .vrrp_scripts
            .iter()
            .cloned()
            .map(|script| {
                let mut check = ScriptTracker::new(script, now);
                if let Some(old) = self
                    .checks
                    .iter()
                    .find(|old| old.script.name == check.script.name)
                {
                    check.carry_over(old);
                }
                check
            })
            .collect();
        read.log_diagnostics();
        let config = read.config;
        announce_firewall(&config);
        if firewall_rules(&config).table != self.firewall.table() {
            warn!("Cannot change nftables table name at a reload - please restart keepalived");
        }
        // What kept instances do follows "Reload complete", as in keepalived.
        let mut deferred: Vec<(usize, Vec<Action>)> = Vec::new();
        // The sync daemon is restarted once the instances are in place (below).
        let old_sync = self.sync.take();
        let old = std::mem::take(&mut self.instances);
        self.by_vrid.clear();
        self.timers = Timers::default();
        let mut kept: Vec<Running> = Vec::new();
        let mut new_models = config.instances.clone();
        for mut running in old {
            let matching = new_models
                .iter()
                .position(|model| same_instance(model, &running.model));
            match matching {
                Some(position) => {
                    let model = new_models.remove(position);
                    if running.model.virtual_addresses != model.virtual_addresses {
                        warn!(
                            "({}) WARNING - the reload changes the virtual addresses: peers still running the \
                             previous configuration will reject this node's adverts (address list mismatch) and \
                             become master too, until they are reloaded with the same addresses",
                            model.name
                        );
                    }
                    let new_addresses = self.resolve_addresses(&model, running.vmac.as_ref());
                    if running.vrrp.state() == State::Master {
                        let removed: Vec<AddressSpec> = running
                            .addresses
                            .iter()
                            .filter(|spec| !new_addresses.contains(spec))
                            .cloned()
                            .collect();
                        for spec in &removed {
                            let _ = self.rtnl.delete_address(spec);
                        }
                        // keepalived takes them out of the firewall's sets without a line.
                        let elements = self.firewall_elements(&running, &removed);
                        if let Err(e) = self.firewall.remove(&elements) {
                            warn!("({}) {e}", model.name);
                        }
                    }
                    if running.routing_set {
                        self.change_routing(&running.model, &model);
                    }
                    match running.vrrp.reload(now, protocol_config(&model)) {
                        Ok(mut actions) => {
                            // keepalived sets a master's VIPs again on reload ("setting VIPs.").
                            if running.vrrp.state() == State::Master
                                && !actions.contains(&Action::AddVips)
                            {
                                actions.push(Action::AddVips);
                            }
                            running.model = model;
                            running.addresses = new_addresses;
                            running.gratuitous_pending.clear();
                            running.group = None;
                            kept.push(running);
                            deferred.push((kept.len() - 1, actions));
                        }
                        Err(e) => {
                            warn!("({}) cannot reload: {e}; restarting it", running.model.name);
                            self.instances = vec![running];
                            self.stop_instance(0, now);
                            self.instances.clear();
                            new_models.push(model);
                        }
                    }
                }
                None => {
                    info!("({}) removed by the reload", running.model.name);
                    self.instances = vec![running];
                    self.stop_instance(0, now);
                    self.instances.clear();
                }
            }
        }
        self.instances = kept;
        for (index, running) in self.instances.iter().enumerate() {
            let vmac = running.vmac.as_ref().map(|vmac| vmac.index);
            for interface in running.interface.into_iter().chain(vmac) {
                self.by_vrid.insert(
                    (interface, family(running.model.family), running.model.vrid),
                    index,
                );
            }
        }
        let first_new = self.instances.len();
        let old_config = std::mem::replace(&mut self.config, config);
        self.change_statics(&old_config);
        self.open_fifos();
        self.mailer = Mailer::of(&self.config.global);
        self.checks = checks;
        self.load_track_files(true);
        self.load_track_processes(now);
        self.reload_bfd(now);
        for model in new_models {
            self.add_instance(model);
        }
        self.build_groups();
        self.log_assigned_addresses();
        // A group new in this configuration announces its state before its members start; a kept one
        // says nothing.
        self.announce_groups(now);
        for index in 0..self.instances.len() {
            let mut actions = self.refresh_interface_state(index, now);
            actions.extend(self.refresh_trackers(index, now));
            if index >= first_new {
                actions.extend(self.instances[index].vrrp.start(now));
            }
            self.apply(index, actions, now);
        }
        self.join_groups();
        self.reload_sync(old_sync);
        info!("Reload complete");
        for (index, actions) in deferred {
            self.carry_out(index, actions, now);
        }
    }

    /// After a reload: the old configuration's sync daemon stops and the new one's starts in the state of
    /// its instance.
    fn reload_sync(&mut self, old: Option<SyncFollower>) {
        let new = sync_settings(&self.config).map(|settings| {
            let state = self
                .instances
                .iter()
                .find(|running| running.model.name == settings.instance)
                .map_or(State::Init, |running| running.vrrp.state());
            (settings, state)
        });
        if new.is_some() && self.ipvs.is_none() {
            match ipvs::Client::connect() {
                Ok(client) => self.ipvs = Some(client),
                Err(e) => error!("IPVS: Can't initialize ipvs: {e}"),
            }
        }
        let ops = sync_daemon::at_reload(
            old.as_ref().map(|sync| (&sync.settings, sync.running)),
            new.as_ref().map(|(settings, state)| (settings, *state)),
        );
        self.send_sync(ops);
        self.sync = new.map(|(settings, state)| SyncFollower {
            settings,
            running: daemon_state_for(state),
        });
    }

    /// One line for `systemctl status`.
    fn status(&self) -> String {
        let masters = self
            .instances
            .iter()
            .filter(|running| running.vrrp.state() == State::Master)
            .count();
        format!("{} VRRP instances, {masters} master", self.instances.len())
    }

    fn stop_instance(&mut self, index: usize, now: Instant) {
        let actions = self.instances[index].vrrp.shutdown(now);
        self.carry_out(index, actions, now);
        // The reload stops instances from a temporary list: their priority 0 leaves now.
        self.flush_adverts();
        // With -V the VIPs stay, and so does the interface carrying them.
        if self.options.release_vips || !self.stopping {
            self.remove_vmac(index);
        }
    }

    /// An instance's `virtual_routes` go in after its VIPs and its `virtual_rules` after them; rules, then
    /// routes come out before the VIPs (keepalived's order). Only what was put in is taken out.
    fn set_routing(&mut self, index: usize, add: bool) {
        let running = &mut self.instances[index];
        if running.routing_set == add {
            return;
        }
        running.routing_set = add;
        let model = running.model.clone();
        let verb = if add { "setting" } else { "removing" };
        if !model.virtual_routes.is_empty() {
            info!(target: logging::DETAIL, "({}) {verb} Virtual Routes", model.name);
        }
        if !model.virtual_rules.is_empty() {
            info!(target: logging::DETAIL, "({}) {verb} Virtual Rules", model.name);
        }
        let routes: Vec<&Route> = model.virtual_routes.iter().collect();
        let rules: Vec<&Rule> = model.virtual_rules.iter().collect();
        if add {
            self.send_routes(&model.name, &routes, true);
            self.send_rules(&model.name, &rules, true);
        } else {
            self.send_rules(&model.name, &rules, false);
            self.send_routes(&model.name, &routes, false);
        }
    }

    /// A master's routes and rules across a reload: the ones gone are taken out, the new ones put in.
    fn change_routing(&mut self, old: &VrrpInstance, new: &VrrpInstance) {
        let gone_rules = missing(&old.virtual_rules, &new.virtual_rules, same_rule);
        let gone_routes = missing(&old.virtual_routes, &new.virtual_routes, same_route);
        let new_routes = missing(&new.virtual_routes, &old.virtual_routes, same_route);
        let new_rules = missing(&new.virtual_rules, &old.virtual_rules, same_rule);
        self.send_rules(&new.name, &gone_rules, false);
        self.send_routes(&new.name, &gone_routes, false);
        self.send_routes(&new.name, &new_routes, true);
        self.send_rules(&new.name, &new_rules, true);
    }

    fn send_routes(&mut self, owner: &str, routes: &[&Route], add: bool) {
        for route in routes {
            let what = routing::describe_route(route);
            let interfaces = &self.interfaces;
            let message =
                match routing::route_message(route, add, &|name| interfaces.index_of(name)) {
                    Ok(message) => message,
                    Err(e) => {
                        warn!("({owner}) route {what}: {e}");
                        continue;
                    }
                };
            let result = if add {
                self.rtnl.add_route(message, &what)
            } else {
                self.rtnl.delete_route(message, &what)
            };
            if let Err(e) = result {
                warn!("({owner}) {e}");
            }
        }
    }

    fn send_rules(&mut self, owner: &str, rules: &[&Rule], add: bool) {
        for rule in rules {
            let what = format!("priority {}", rule.priority);
            let message = routing::rule_message(rule);
            let result = if add {
                self.rtnl.add_rule(message, &what)
            } else {
                self.rtnl.delete_rule(message, &what)
            };
            if let Err(e) = result {
                warn!("({owner}) {e}");
            }
        }
    }

    /// `static_ipaddress`, `static_routes`, `static_rules` at start: rules left by an earlier run are
    /// cleared first (keepalived does so, since adding a rule twice fails), then all go in.
    fn install_statics(&mut self) {
        let statics = Statics::of(&self.config);
        for rule in &statics.rules {
            let _ = self
                .rtnl
                .delete_rule(routing::rule_message(rule), "left over");
        }
        self.set_statics(&statics.borrowed(), true);
    }

    /// On reload the static entries that went from the configuration come out, the new ones go in.
    fn change_statics(&mut self, old_config: &model::Config) {
        let (old, new) = (Statics::of(old_config), Statics::of(&self.config));
        let gone = Statics {
            addresses: missing(&old.addresses, &new.addresses, same_address),
            routes: missing(&old.routes, &new.routes, same_route),
            rules: missing(&old.rules, &new.rules, same_rule),
        };
        let added = Statics {
            addresses: missing(&new.addresses, &old.addresses, same_address),
            routes: missing(&new.routes, &old.routes, same_route),
            rules: missing(&new.rules, &old.rules, same_rule),
        };
        self.set_statics(&gone, false);
        self.set_statics(&added, true);
    }

    /// Addresses, routes, rules in; or rules, routes, addresses out.
    fn set_statics(&mut self, statics: &Statics<&Route, &Rule, &IpAddress>, add: bool) {
        if !add {
            self.send_rules("static", &statics.rules, false);
            self.send_routes("static", &statics.routes, false);
        }
        for address in &statics.addresses {
            let Some(device) = address.device.as_deref() else {
                warn!("static address {} has no interface", address.prefix);
                continue;
            };
            let Some(index) = self.interfaces.index_of(device) else {
                warn!(
                    "cannot configure static address {}: interface {device} not found",
                    address.prefix
                );
                continue;
            };
            let spec = address_spec(address, index);
            let result = if add {
                self.rtnl.add_address(&spec)
            } else {
                self.rtnl.delete_address(&spec).map(|_| ())
            };
            if let Err(e) = result {
                warn!("static address: {e}");
            }
        }
        if add {
            self.send_routes("static", &statics.routes, true);
            self.send_rules("static", &statics.rules, true);
        }
    }

    /// SIGTERM: every master sends its priority-0 advert and drops its VIPs; every instance notifies STOP.
    fn shutdown(&mut self, now: Instant) {
        info!("Stopping");
        // Before the masters step down, as keepalived: no backup daemon is started on the way out.
        if let Some(sync) = self.sync.take() {
            self.send_sync(sync.settings.at_stop(sync.running));
        }
        for index in 0..self.instances.len() {
            self.stop_instance(index, now);
        }
        // The groups' STOP follows their members', as keepalived's.
        for group in 0..self.groups.len() {
            let state = self.groups[group].sync.stop();
            self.notify_group(group, state, now);
        }
        let statics = Statics::of(&self.config);
        self.set_statics(&statics.borrowed(), false);
        if let Err(e) = self.firewall.delete_tables() {
            warn!("{e}");
        }
        if let Some(change) = self.rp_filter.take() {
            vmac::restore_rp_filter(&change);
        }
        // Let the stop scripts start and be reaped if they are quick; do not wait for slow ones.
        let deadline = Instant::now() + Duration::from_millis(100);
        while Instant::now() < deadline {
            self.children.reap();
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The `no_accept` firewall's settings: `nftables` (default table `keepalived`),
/// `nftables_priority` (default -1), `nftables_counters`.
fn firewall_rules(config: &model::Config) -> firewall::Rules {
    firewall::Rules {
        table: config
            .global
            .nftables
            .clone()
            .unwrap_or_else(|| "keepalived".to_owned()),
        priority: config.global.nftables_priority.unwrap_or(-1),
        counters: config.global.nftables_counters,
    }
}

/// Whether the firewall drops traffic for the instance's addresses while it is master: it does
/// not accept it, and is not the address owner.
fn firewall_covers(model: &VrrpInstance) -> bool {
    !model.accept && model.priority != 255
}

/// The families of the VMAC rules an instance's VMAC is in: its own, and the other one when it
/// has excluded addresses of that family (keepalived's `evip_other_family`, whatever their
/// interface).
fn vmac_families(model: &VrrpInstance) -> Vec<firewall::Family> {
    let ipv6 = model.family == model::AddressFamily::Ipv6;
    let of = |ipv6: bool| {
        if ipv6 {
            firewall::Family::Ipv6
        } else {
            firewall::Family::Ipv4
        }
    };
    let mut families = vec![of(ipv6)];
    if model
        .excluded_addresses
        .iter()
        .any(|address| address.prefix.address.is_ipv6() != ipv6)
    {
        families.push(of(!ipv6));
    }
    families
}

/// keepalived's line when an instance needs a firewall and none is named: nftables is used, with
/// its default table (at every reading of the configuration).
fn announce_firewall(config: &model::Config) {
    let needs = config
        .instances
        .iter()
        .any(|i| !i.accept || i.vmac.is_some());
    if needs && config.global.nftables.is_none() {
        info!(
            "use_vmac or no_accept/strict specified, but no firewall configured - using nftables"
        );
    }
}

/// Whether entering `state` is mailed: alerts `enabled`, not `muted` (FAULT with `no_email_faults`), and a
/// change from the state last mailed, which it then becomes.
fn take_alert<S: PartialEq + Copy>(
    last: &mut Option<S>,
    state: S,
    enabled: bool,
    muted: bool,
) -> bool {
    if !enabled || muted || *last == Some(state) {
        return false;
    }
    *last = Some(state);
    true
}

/// The static entries of a configuration, owned or borrowed.
struct Statics<R, U, A> {
    routes: Vec<R>,
    rules: Vec<U>,
    addresses: Vec<A>,
}

impl Statics<Route, Rule, IpAddress> {
    fn of(config: &model::Config) -> Self {
        Statics {
            routes: config.static_routes.clone(),
            rules: config.static_rules.clone(),
            addresses: config.static_addresses.clone(),
        }
    }

    fn borrowed(&self) -> Statics<&Route, &Rule, &IpAddress> {
        Statics {
            routes: self.routes.iter().collect(),
            rules: self.rules.iter().collect(),
            addresses: self.addresses.iter().collect(),
        }
    }
}

/// The entries of `these` that `those` lacks.
fn missing<'a, T>(these: &'a [T], those: &[T], same: fn(&T, &T) -> bool) -> Vec<&'a T> {
    these
        .iter()
        .filter(|item| !those.iter().any(|other| same(item, other)))
        .collect()
}

/// The same route, wherever in the file it is written.
fn same_route(a: &Route, b: &Route) -> bool {
    let unplaced = |route: &Route| Route {
        position: None,
        ..route.clone()
    };
    unplaced(a) == unplaced(b)
}

fn same_rule(a: &Rule, b: &Rule) -> bool {
    let unplaced = |rule: &Rule| Rule {
        position: None,
        ..rule.clone()
    };
    unplaced(a) == unplaced(b)
}

fn same_address(a: &IpAddress, b: &IpAddress) -> bool {
    let unplaced = |address: &IpAddress| IpAddress {
        position: None,
        ..address.clone()
    };
    unplaced(a) == unplaced(b)
}

/// The `lvs_sync_daemon` settings, with keepalived's message when they name no instance.
fn sync_settings(config: &model::Config) -> Option<SyncSettings> {
    sync_daemon::settings(config).unwrap_or_else(|e| {
        info!("{e}");
        None
    })
}

/// The weight and `reverse` of a tracker reference: its own if given, else the tracker's.
fn tracker_weight(reference: &TrackerRef, weight: i32, reverse: bool) -> (i32, bool) {
    (
        reference.weight.unwrap_or(weight),
        reference.reverse || reverse,
    )
}

/// What a tracked file's value does to one instance, with the reference's weight or the file's.
fn file_weight(reference: &TrackerRef, file: &model::TrackFile, value: i64) -> Contribution {
    let (weight, reverse) = tracker_weight(reference, file.weight, file.weight_reverse);
    file_contribution(value, weight, reverse)
}

/// Whether a reloaded instance is the same one: same name, family, version, VRID and interface.
fn same_instance(new: &VrrpInstance, old: &VrrpInstance) -> bool {
    (&new.name, new.family, new.version, new.vrid, &new.interface)
        == (&old.name, old.family, old.version, old.vrid, &old.interface)
}

/// Whether the interface routes IPv6 (unsolicited NAs then carry the R flag).
fn forwards_ipv6(interface: &str) -> bool {
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{interface}/forwarding"))
        .is_ok_and(|value| value.trim() == "1")
}

#[cfg(test)]
mod tests {
    use super::wrap_options;

    #[test]
    fn the_command_line_is_cut_where_keepalived_cuts_it() {
        // keepalived 2.2.7's two lines for this command line.
        let text = "'/usr/sbin/keepalived' '-P' '-n' '-l' '-D' '-G' '-f' '/tmp/vrrpd-vt23560x1/r1-0.conf' \
                    '-p' '/tmp/vrrpd-vt23560x1/r1-0.pid' '-r' '/tmp/vrrpd-vt23560x1/r1-0-vrrp.pid'";
        assert_eq!(
            wrap_options("Command line", text),
            [
                "Command line: '/usr/sbin/keepalived' '-P' '-n' '-l' '-D' '-G' '-f' '/tmp/vrrpd-vt23560x1/r1-0.conf'",
                "              '-p' '/tmp/vrrpd-vt23560x1/r1-0.pid' '-r' '/tmp/vrrpd-vt23560x1/r1-0-vrrp.pid'",
            ]
        );
        assert_eq!(
            wrap_options("Command line", "'vrrpd'"),
            ["Command line: 'vrrpd'"]
        );
    }
}
