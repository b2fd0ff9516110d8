//! The health-checker process: keepalived 2.2.7's `Keepalived_healthcheckers` as one `ppoll` loop.
//!
//! At start the virtual servers of the configuration become IPVS services (`lvs::desired_table`);
//! only the services this process programs are touched — a service of the same key that already
//! exists is taken over (its other destinations are left alone), every other rule stays as it is.
//! Checkers run on their own schedules (`lvs::checker::Schedule`): TCP and HTTP attempts are
//! non-blocking sockets in the poll set, MISC_CHECK scripts are children reaped on SIGCHLD. A
//! change of health moves the pool (`lvs::Pool`) and the kernel gets exactly the difference
//! between what was programmed and what is now wanted (`lvs::mapping::DesiredTable`, compared
//! by `ipvs::table::changes_between`). SIGHUP reads the configuration again and applies only its
//! difference, comparing only the virtual servers that are not the same models in the same state
//! as before; SIGTERM removes the services programmed (unless `-I`).
//!
//! The global settings of keepalived's checker process apply too: `lvs_flush` empties the whole
//! table at start; `lvs_timeouts` sets the kernel's connection timeouts at start and reload (those
//! not configured keep the kernel's own values, read before the first change) and the kernel's own
//! come back after a reload without it and at stop; `lvs_flush_on_stop` empties the whole table
//! at stop instead of removing our services (`lvs_flush_on_stop VS` removes only our services, as
//! without it).

use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::ops::Range;
use std::os::fd::AsFd;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipvs::model::{ServiceKey, Timeouts};
use ipvs::table::VirtualService;
use ipvs::{Change, Client};
use keepalived_config::diagnostics::Diagnostic;
use keepalived_config::diagnostics::keepalived as keepalived_messages;
use keepalived_config::env::SystemEnvironment;
use keepalived_config::model::lvs::{
    CheckerKind, Protocol, RealServer, ServiceAddress, VirtualServer, VirtualServerGroup,
};
use keepalived_config::model::{self, Config, Script, ScriptUser};
use keepalived_config::process::Process;
use keepalived_config::{LoadOptions, ReadMemo, load_reusing};
use log::{debug, error, info, trace, warn};
use lvs::alert::{self, QuorumMoment, RsName, VsName};
use lvs::checker::{Schedule, Timing};
use lvs::checker_log::{self, AttemptFailure, MISC_TIMED_OUT};
use lvs::mapping;
use lvs::mapping::DesiredTable;
use lvs::pool::{CheckerState, Pool, PoolEvent};
use lvs::pool_log::{self, QuorumChange};
use lvs::suspend::{self, Suspension};
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::Signal;
use nix::sys::signalfd::SignalFd;
use nix::sys::time::TimeSpec;
use rustls::ClientConfig;
use vrrpd_runtime::bfd_sessions::{BfdReport, BfdSessions};
use vrrpd_runtime::checker_child::{CheckerStart, EXIT_CONFIG, EXIT_FATAL};
use vrrpd_runtime::logging::{self, LogSettings};
use vrrpd_runtime::metrics::{Histogram, MetricsResponder, MetricsServer};
use vrrpd_runtime::netlink::{Monitor, NetEvent, Rtnetlink};
use vrrpd_runtime::notify_fifo::NotifyFifos;
use vrrpd_runtime::placement::{PidChoice, Placement};
use vrrpd_runtime::process;
use vrrpd_runtime::scripts::{Children, Outcome, Purpose};
use vrrpd_runtime::smtp_alert::Mailer;
use vrrpd_runtime::sync_daemon::{self, CheckerSync, SyncOp};
use vrrpd_runtime::track_files::{self as files, FileWatch};

use crate::metrics::{CheckCounts, CheckerView, DURATION_BUCKETS, LvsView};
use crate::ping_groups::PingGroups;
use crate::probes::{Exchange, HttpExchange, PassedUrl, Probe, Target, Verdict};
use crate::spare_sockets::{SetupId, SparePool};
use crate::tls::{self, TlsSetupError};

/// How long the loop lets a due attempt wait for others falling due after it, to start them
/// together: thousands of checkers on one `delay_loop` otherwise fall due one by one across it,
/// each waking the process on its own. An attempt starts at most this late (its next one is
/// counted from its end, as keepalived counts it); nothing starts early.
const CHECK_BATCH_WINDOW: Duration = Duration::from_millis(5);

/// What the command line decided for the checker process.
#[derive(Clone, Debug)]
pub struct CheckerOptions {
    pub config_file: String,
    pub load_options: LoadOptions,
    pub log: LogSettings,
    /// `-n`: stay in the foreground.
    pub foreground: bool,
    /// The pid files to write (the main one with `-C`, and the checkers' one).
    pub pid_files: Vec<PidChoice>,
    /// `-s`: the network namespace to run in (over the configuration's `net_namespace`).
    pub namespace: Option<String>,
    /// Whether this process enters the namespace (`-C` alone: it is keepalived's parent); the
    /// VRRP daemon's child is in it already.
    pub enter_namespace: bool,
    /// Not `-I`: remove the IPVS services when stopping.
    pub release_ipvs: bool,
    /// `--metrics-listen` with `-C`: serve the checker's metrics there.
    pub metrics_listen: Option<String>,
    /// `-a`: log every address added or removed (keepalived's `LOG_ADDRESS_CHANGES`).
    pub address_monitoring: bool,
    /// `--without-ipvs`: the table is computed but never programmed.
    pub without_ipvs: bool,
    /// Which messages about the configuration this process logs.
    pub config_messages: ConfigMessages,
}

/// Which messages about the configuration the checker process logs: keepalived's processes each
/// say what their own reading found, once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigMessages {
    /// Every reading's (`-C` alone: this process is keepalived's parent, checker and BFD
    /// processes at once).
    All,
    /// The checkers' reading's only (the VRRP daemon's child: the daemon says the rest).
    CheckerOnly,
}

/// Why the checker process could not start.
enum StartFailure {
    /// The configuration could not be read.
    Config,
    /// Anything else (background, pid file, signals, metrics address).
    Fatal,
}

/// Runs the checker process as the VRRP daemon's child (see `vrrpd_runtime::checker_child`):
/// `metrics`, the link to answer the parent's scrapes on; `respawned`, an earlier child died and
/// this one takes over the table it left. The exit status is keepalived's: 0, or 1 (fatal) or 2
/// (configuration), on which the parent stops instead of starting another.
pub fn run_child(mut options: CheckerOptions, start: CheckerStart) -> u8 {
    // The VRRP daemon reads the VRRP part and says what the readings other than the checkers'
    // found.
    options.load_options.subsystems.vrrp = false;
    options.config_messages = ConfigMessages::CheckerOnly;
    options.enter_namespace = false;
    let bfd = Bfd::Link(start.bfd);
    run_child_status(run_checker(options, start.metrics, start.respawned, bfd))
}

/// keepalived's exit status for how the checker process ended.
fn run_child_status(ended: Result<(), StartFailure>) -> u8 {
    match ended {
        Ok(()) => 0,
        Err(StartFailure::Config) => EXIT_CONFIG,
        Err(StartFailure::Fatal) => EXIT_FATAL,
    }
}

/// Runs the checker process until SIGTERM or SIGINT.
pub fn run(options: CheckerOptions) -> ExitCode {
    ExitCode::from(run_child_status(run_checker(
        options,
        None,
        false,
        Bfd::Sessions,
    )))
}

/// Where the BFD sessions' reports come from.
enum Bfd {
    /// The VRRP daemon runs the sessions and writes their reports to this link.
    Link(Option<UnixDatagram>),
    /// This process runs them (`-C` alone).
    Sessions,
}

fn run_checker(
    options: CheckerOptions,
    link: Option<UnixStream>,
    respawned: bool,
    bfd: Bfd,
) -> Result<(), StartFailure> {
    if !options.foreground {
        if let Err(e) = process::daemonize() {
            eprintln!("vrrpd: cannot go into the background: {e}");
            return Err(StartFailure::Fatal);
        }
    }
    logging::init(&options.log);
    info!(
        "Starting vrrpd v{} (keepalived 2.2.7 healthcheckers), pid={}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    let mut memo = ReadMemo::default();
    let Some(config) = read_config(&options, &mut memo, Reading::Start) else {
        return Err(StartFailure::Config);
    };
    if let Some(namespace) = &config.global.net_namespace_ipvs {
        // Said rather than done silently: keepalived would program another namespace's table.
        let namespace = if namespace.is_empty() {
            "(default)"
        } else {
            namespace
        };
        warn!(
            "net_namespace_ipvs {namespace} is not supported: the IPVS table programmed is this \
             process's own network namespace's"
        );
    }
    let placement = Placement::new(options.namespace.as_deref(), &config.global);
    placement.rename_syslog(&options.log, options.enter_namespace);
    // Dropped after the pid files, which are in it.
    let _run_directory = if options.enter_namespace {
        match placement.enter() {
            Ok(run_directory) => Some(run_directory),
            Err(e) => {
                // keepalived ends with status 0 here.
                error!("{e}");
                return Ok(());
            }
        }
    } else {
        None
    };
    let _pid_files = match placement.create_pid_files(&options.pid_files) {
        Ok(files) => files,
        Err(e) => {
            error!("{e}");
            return Err(StartFailure::Fatal);
        }
    };
    // keepalived stops its checker process when its SSL context cannot be built.
    let tls = match tls_for(&config) {
        Ok(tls) => tls,
        Err(e) => {
            error!("{e}");
            error!("Error Initialize SSL, ctx Instance");
            return Err(StartFailure::Fatal);
        }
    };
    let signals = match process::signal_fd() {
        Ok(signals) => signals,
        Err(e) => {
            error!("Cannot start: signals: {e}");
            return Err(StartFailure::Fatal);
        }
    };
    let server = match options
        .metrics_listen
        .as_deref()
        .map(bind_metrics)
        .transpose()
    {
        Ok(server) => server,
        Err(e) => {
            error!("Cannot start: {e}");
            return Err(StartFailure::Fatal);
        }
    };
    let responder = link.and_then(|link| match MetricsResponder::new(link) {
        Ok(responder) => Some(responder),
        Err(e) => {
            warn!("metrics link: {e}");
            None
        }
    });
    if !config.virtual_servers.is_empty() && !options.without_ipvs {
        debug!("Initializing ipvs");
    }
    let client = if options.without_ipvs {
        info!("Running without IPVS: the table is computed but not programmed");
        None
    } else {
        match Client::connect() {
            Ok(client) => Some(client),
            Err(e) => {
                error!("IPVS: Can't initialize ipvs: {e}");
                // keepalived's checker process cannot run its virtual servers without IPVS: it
                // reports their real servers shut down and exits with its fatal status, which
                // stops the whole daemon.
                if !config.virtual_servers.is_empty() {
                    if options.release_ipvs {
                        // Nothing was checked yet: no server is alive.
                        report_shut_down(&config, |_, _| false);
                    }
                    return Err(StartFailure::Fatal);
                }
                None
            }
        }
    };
    let mut daemon = Daemon::new(options, config, tls, client, signals, respawned);
    daemon.memo = memo;
    daemon.metrics_server = server;
    daemon.metrics_link = responder;
    daemon.standalone = matches!(bfd, Bfd::Sessions);
    if daemon.standalone {
        info!("Startup complete");
    }
    match bfd {
        Bfd::Link(link) => {
            if let Some(link) = &link {
                if let Err(e) = link.set_nonblocking(true) {
                    warn!("BFD link: {e}");
                }
            }
            daemon.bfd_link = link;
        }
        Bfd::Sessions => daemon.start_bfd(Instant::now()),
    }
    daemon.run();
    process::log_stopping(daemon.options.log.detailed);
    if daemon.standalone {
        info!("Stopped vrrpd v{}", env!("CARGO_PKG_VERSION"));
    }
    Ok(())
}

/// keepalived's `clear_services` at stop: one line per real server, `(inhibited)` for those kept with
/// weight 0 while down; `alive` tells which are up (by virtual and real server index).
fn report_shut_down(config: &Config, alive: impl Fn(usize, usize) -> bool) {
    for (service, vs) in config.virtual_servers.iter().enumerate() {
        for (real_server, rs) in vs.real_servers.iter().enumerate() {
            let inhibited = if rs.inhibit_on_failure && !alive(service, real_server) {
                "(inhibited) "
            } else {
                ""
            };
            info!(
                "Shutting down {inhibited}service {} from VS {}",
                rs_name(rs, vs),
                vs_name(vs)
            );
        }
    }
}

/// The `-C --metrics-listen` endpoint.
fn bind_metrics(text: &str) -> Result<MetricsServer, String> {
    let address: std::net::SocketAddr = text
        .parse()
        .map_err(|_| format!("metrics address '{text}': not ADDRESS:PORT"))?;
    let server = MetricsServer::bind(address).map_err(|e| format!("metrics listener: {e}"))?;
    info!("Serving metrics on http://{address}/metrics");
    Ok(server)
}

/// Which reading of the configuration: keepalived's checker process looks its default script
/// user up at its first only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    Start,
    Reload,
}

/// Reads the configuration, logging keepalived's messages about it; `None` when it cannot be used.
/// Unchanged `virtual_server` blocks are taken from `memo`, which keeps this reading's for the
/// next.
fn read_config(options: &CheckerOptions, memo: &mut ReadMemo, reading: Reading) -> Option<Config> {
    let path = &options.config_file;
    info!("Opening file '{path}'.");
    let loaded = load_reusing(path, &options.load_options, &SystemEnvironment, memo);
    if reading == Reading::Start && runs_scripts_as_default_user(&loaded.config) {
        if let Some(line) = vrrpd_runtime::daemon::default_script_user_missing() {
            info!("{line}");
        }
    }
    let own: Vec<Diagnostic>;
    let said = match options.config_messages {
        ConfigMessages::All => &loaded.diagnostics,
        ConfigMessages::CheckerOnly => {
            own = loaded
                .diagnostics
                .iter()
                .filter(|d| d.process == Process::Checker)
                .cloned()
                .collect();
            &own
        }
    };
    for line in keepalived_messages::render(said, &loaded.sources) {
        warn!("{line}");
    }
    if loaded.verdict.aborted {
        error!("Stopping: the configuration could not be read");
        return None;
    }
    Some(loaded.config)
}

/// Whether a script of the checker process would run as keepalived's default script user: no
/// `script_user`, and a MISC_CHECK, a notify or quorum script or the LVS FIFO's reader without a
/// user of its own (the configuration resolved those to root).
fn runs_scripts_as_default_user(config: &Config) -> bool {
    if config.global.script_user.is_some() {
        return false;
    }
    let as_root = vrrpd_runtime::daemon::runs_as_root;
    let script_as_root =
        |script: &Option<Box<Script>>| script.as_ref().is_some_and(|s| as_root(&s.user));
    config.global.lvs_notify_fifo.path.is_some()
        && config
            .global
            .lvs_notify_fifo
            .script
            .as_ref()
            .is_some_and(|s| as_root(&s.user))
        || config.virtual_servers.iter().any(|vs| {
            script_as_root(&vs.quorum_up)
                || script_as_root(&vs.quorum_down)
                || vs.real_servers.iter().any(|rs| {
                    script_as_root(&rs.notify_up)
                        || script_as_root(&rs.notify_down)
                        || rs.checkers.iter().any(|checker| match &checker.kind {
                            CheckerKind::Misc(misc) => as_root(&misc.user),
                            _ => false,
                        })
                })
        })
}

/// The TLS client of the `SSL_GET`s of `config`, when it has any.
fn tls_for(config: &Config) -> Result<Option<Arc<ClientConfig>>, TlsSetupError> {
    let any_ssl = config.virtual_servers.iter().any(|vs| {
        vs.real_servers.iter().any(|rs| {
            rs.checkers
                .iter()
                .any(|c| matches!(c.kind, CheckerKind::SslGet(_)))
        })
    });
    if !any_ssl {
        return Ok(None);
    }
    tls::client_config(config.ssl.as_ref()).map(Some)
}

/// What one checker does per attempt.
#[derive(Clone, Debug)]
enum Work {
    /// A connection, and for HTTP_GET requests on it.
    Net { target: Target, exchange: Exchange },
    /// A MISC_CHECK script.
    Script {
        argv: Vec<String>,
        user: Option<ScriptUser>,
        timeout: Duration,
        dynamic: bool,
    },
    /// A FILE_CHECK: no schedule, the file is watched.
    File {
        /// The `track_file`'s name, as the lines give it.
        name: String,
        path: PathBuf,
        weight: i32,
        reverse: bool,
    },
    /// A BFD_CHECK: no schedule, the session's reports move it.
    Bfd { name: String },
    /// A checker kind not run yet: it keeps its initial standing.
    Idle,
}

struct RunningChecker {
    service: usize,
    real_server: usize,
    index: usize,
    keyword: &'static str,
    /// Every failed attempt has its line (its own `log_all_failures` or the global one).
    log_all_failures: bool,
    work: Work,
    schedule: Schedule,
    /// The attempt in flight (boxed: the checkers are walked by index every second, and a
    /// probe is most of a checker's bytes).
    probe: Option<Box<Probe>>,
    /// The setup of its sockets, for a spare one (connection checkers only).
    setup: Option<SetupId>,
    /// Its place in `Daemon::in_flight` while `probe` is set.
    slot: usize,
    /// Not suspended by `ha_suspend` (keepalived's `checker->enabled`).
    enabled: bool,
    /// FILE_CHECK: the value last read.
    file_value: i64,
    /// FILE_CHECK: what it has added to the real server's effective weight.
    file_weight: i64,
    /// When the attempt in progress started.
    started: Option<Instant>,
    /// Attempts finished, for the metrics.
    counts: CheckCounts,
    /// `service [rs]:tcp:80 for VS [vs]:tcp:80`, as the `Activating healthchecker` lines name
    /// it: made once, and kept by the checker that takes its place at a reload (they are matched
    /// by what the text shows), since a reload writes a line for every checker.
    names: Arc<str>,
}

impl RunningChecker {
    /// Its virtual server, real server and settings in `config`, the configuration it was made
    /// from.
    fn model_in<'c>(
        &self,
        config: &'c Config,
    ) -> Option<(&'c Arc<VirtualServer>, &'c RealServer, &'c model::Checker)> {
        let vs = config.virtual_servers.get(self.service)?;
        let rs = vs.real_servers.get(self.real_server)?;
        Some((vs, rs, rs.checkers.get(self.index)?))
    }
}

struct Daemon {
    options: CheckerOptions,
    config: Config,
    /// The virtual servers of the last reading, for the next to take those unchanged.
    memo: ReadMemo,
    /// The TLS client of the SSL_GETs.
    tls: Option<Arc<ClientConfig>>,
    pool: Pool,
    checkers: Vec<RunningChecker>,
    client: Option<Client>,
    /// What this process has programmed (the kernel's view of our services).
    programmed: DesiredTable,
    signals: SignalFd,
    children: Children,
    stopping: bool,
    /// `-C` alone: no VRRP daemon above this process logs the daemon's start and stop.
    standalone: bool,
    random: u64,
    /// Next attempts, earliest first. An entry counts only while it is still its checker's next
    /// attempt, so re-scheduling costs one push and no search.
    /// A B-tree rather than a binary heap: attempts are taken from its front and mostly added
    /// at its back (`delay_loop` after now), so both ends stay in the cache, where a heap's
    /// sifting walks all of it.
    due: BTreeSet<(Instant, usize)>,
    /// Checkers with an attempt on a socket.
    in_flight: Vec<usize>,
    /// The sockets of refused connections, for the next attempts.
    spares: SparePool,
    /// The directories of the FILE_CHECK files.
    files: Option<FileWatch>,
    /// `net.ipv4.ping_group_range`, widened for PING_CHECKs.
    ping_groups: PingGroups,
    /// The kernel's connection timeouts before `lvs_timeouts` changed them.
    original_timeouts: Option<Timeouts>,
    /// `-C --metrics-listen`: the endpoint.
    metrics_server: Option<MetricsServer>,
    /// As the VRRP daemon's child: the link its scrapes come over.
    metrics_link: Option<MetricsResponder>,
    /// Successful check durations per checker keyword.
    durations: BTreeMap<&'static str, Histogram>,
    /// As the VRRP daemon's child: the BFD sessions' reports from the parent, which runs them.
    bfd_link: Option<UnixDatagram>,
    /// With `-C` alone: the BFD sessions, run here.
    bfd_sessions: Option<BfdSessions>,
    /// `notify_fifo` and `lvs_notify_fifo`.
    fifos: NotifyFifos,
    /// Where SMTP alerts go (`None`: no `smtp_server` or no `notification_email`).
    mailer: Option<Mailer>,
    /// `ha_suspend`: how many local addresses each virtual server has.
    suspension: Suspension,
    /// `ha_suspend`: the address changes of the host, while a virtual server uses it.
    addresses: Option<Monitor>,
    /// `lvs_sync_daemon` without a VRRP instance: the sync daemons this process runs.
    sync: Option<CheckerSync>,
}

impl Daemon {
    fn new(
        options: CheckerOptions,
        config: Config,
        tls: Option<Arc<ClientConfig>>,
        client: Option<Client>,
        signals: SignalFd,
        respawned: bool,
    ) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id());
        let mut daemon = Daemon {
            options,
            pool: Pool::new(&config),
            config,
            memo: ReadMemo::default(),
            tls,
            checkers: Vec::new(),
            client,
            programmed: DesiredTable::default(),
            signals,
            children: Children::default(),
            stopping: false,
            standalone: false,
            random: seed | 1,
            due: BTreeSet::new(),
            in_flight: Vec::new(),
            spares: SparePool::new(),
            files: None,
            ping_groups: PingGroups::default(),
            original_timeouts: None,
            metrics_server: None,
            metrics_link: None,
            durations: BTreeMap::new(),
            bfd_link: None,
            bfd_sessions: None,
            fifos: NotifyFifos::default(),
            mailer: None,
            suspension: Suspension::default(),
            addresses: None,
            sync: None,
        };
        daemon.open_outlets();
        // keepalived programs IPVS (timeouts, sync daemons, flush) only when there are virtual
        // servers.
        if !daemon.config.virtual_servers.is_empty() {
            daemon.set_timeouts();
            daemon.sync = CheckerSync::of(&daemon.config);
            if let Some(ops) = daemon.sync.as_ref().map(CheckerSync::at_start) {
                daemon.send_sync(ops);
            }
            if daemon.config.global.lvs_flush {
                daemon.flush();
            }
        }
        let started_down = daemon.take_over_existing(respawned);
        daemon.suspension = Suspension::new(&daemon.config, &[]);
        if daemon.follows_addresses() {
            daemon.watch_addresses();
        }
        daemon.checkers = daemon.build_checkers(Instant::now(), None, &started_down);
        daemon.read_files(false);
        daemon.schedule_all();
        daemon.sync_ipvs();
        daemon.start_notifies(Instant::now());
        logging::batch(|| daemon.log_registered_checkers());
        daemon
    }

    /// keepalived's `init_service_rs` and `update_quorum_state(vs, init)` at start: with
    /// `rs_init_notifies` each live real server is reported up; a service with quorum gains it (its log
    /// line, `quorum_up`, the FIFO line and mail), one with a sorry server and without quorum starts with
    /// it down (the same for `quorum_down`).
    fn start_notifies(&mut self, now: Instant) {
        for index in 0..self.config.virtual_servers.len() {
            let Some(state) = self.pool.services.get(index) else {
                continue;
            };
            let (up, weight_sum) = (state.quorum_up, state.live_weight());
            let alive: Vec<usize> = state
                .real_servers
                .iter()
                .enumerate()
                .filter(|(_, rs)| rs.alive)
                .map(|(position, _)| position)
                .collect();
            if self.config.global.rs_init_notifies {
                for real_server in alive {
                    self.real_server_notifies(index, real_server, true, now);
                }
            }
            let vs = &self.config.virtual_servers[index];
            if !up && vs.sorry_server.is_none() {
                continue;
            }
            log_lines(pool_log::quorum_lines(&QuorumChange {
                vs,
                up,
                was_up: false,
                moment: pool_log::Moment::Init,
                weight_sum,
                sorry_was_in: false,
            }));
            self.quorum_notifies(index, up, false, QuorumMoment::Start, weight_sum, now);
        }
    }

    /// Opens the notify FIFOs and sets up the mailer of the configuration.
    fn open_outlets(&mut self) {
        let global = &self.config.global;
        self.fifos = NotifyFifos::open(&[&global.notify_fifo, &global.lvs_notify_fifo]);
        self.mailer = Mailer::of(global);
    }

    /// A real server went up or down (keepalived's `do_rs_notifies`): its `notify_up` or
    /// `notify_down`, then the FIFO line. Its mail is the checker's business.
    fn real_server_notifies(&mut self, service: usize, real_server: usize, up: bool, now: Instant) {
        let Some(vs) = self.config.virtual_servers.get(service) else {
            return;
        };
        let Some(rs) = vs.real_servers.get(real_server) else {
            return;
        };
        let line = alert::rs_fifo_line(vs, rs, up);
        let script = if up {
            rs.notify_up.clone()
        } else {
            rs.notify_down.clone()
        };
        self.notify(script.as_deref(), now);
        self.fifos.write_line(&line);
    }

    /// A virtual server's quorum went up or down (keepalived's `do_vs_notifies`): `quorum_up` or
    /// `quorum_down`, the FIFO line, and the mail with its `smtp_alert`; `was_up`: the state before
    /// (at start, down), whose threshold the mail tells.
    fn quorum_notifies(
        &mut self,
        service: usize,
        up: bool,
        was_up: bool,
        moment: QuorumMoment,
        weight_sum: i64,
        now: Instant,
    ) {
        let Some(vs) = self.config.virtual_servers.get(service) else {
            return;
        };
        let script = if up {
            vs.quorum_up.clone()
        } else {
            vs.quorum_down.clone()
        };
        let line = alert::vs_fifo_line(vs, up);
        if let (Some(mailer), Some(true)) = (&self.mailer, vs.smtp_alert) {
            let threshold = alert::quorum_threshold(vs, was_up);
            let body = alert::quorum_body(up, moment, vs, threshold, weight_sum);
            let _ = mailer.alert(&alert::vs_mail_topic(vs), alert::state(up), &body);
        }
        self.notify(script.as_deref(), now);
        self.fifos.write_line(&line);
    }

    /// keepalived's `clear_diff_services` on reload: a virtual server the new configuration drops is
    /// logged, with each of its real servers that was in the table; a real server dropped from a
    /// virtual server that stays is logged (`no longer exist`), and so is its removal when it was
    /// in; so are a sorry server that was in and changed, and the entries a group lost. Each live
    /// real server taken out is reported down (`notify_down`, the FIFO line, the `=> Removing <=`
    /// mail), and a virtual server, dropped or not, whose old quorum the remaining live weight no
    /// longer meets loses it.
    fn reload_removals(
        &mut self,
        old_config: &Config,
        old_pool: &Pool,
        counterparts: &Counterparts,
        now: Instant,
    ) {
        // (virtual server, real server) of the old configuration; `None`: the virtual server's quorum
        // lost, with the live weight left.
        let mut dropped: Vec<(usize, Option<usize>, i64)> = Vec::new();
        // keepalived's clear_service_vs: with `lvs_flush_on_stop` a dropped virtual server's real
        // servers are not told about.
        let flushing = self.config.global.lvs_flush_on_stop.is_some();
        for (index, (old_vs, state)) in old_config
            .virtual_servers
            .iter()
            .zip(&old_pool.services)
            .enumerate()
        {
            let new_vs = counterparts
                .new_of_old
                .get(index)
                .copied()
                .flatten()
                .and_then(|new_index| self.config.virtual_servers.get(new_index));
            match new_vs {
                None => info!("{}", pool_log::removed_virtual_server_line(old_vs)),
                Some(new_vs) => {
                    if let Some((old_group, new_group)) =
                        groups_of(old_config, old_vs, &self.config, new_vs)
                    {
                        for entry in pool_log::group_changes(old_group, new_group).0 {
                            let name = &old_group.name;
                            info!("{}", pool_log::group_entry_line(old_vs, name, entry, false));
                        }
                    }
                }
            }
            let sorry_in = old_vs.sorry_server.is_some() && !state.quorum_up;
            let mut live_weight = state.live_weight();
            let new_servers = new_vs.map(|vs| RealServerLookup::new(vs));
            for (rs_index, (old_rs, rs_state)) in old_vs
                .real_servers
                .iter()
                .zip(&state.real_servers)
                .enumerate()
            {
                let stays = new_servers
                    .as_ref()
                    .is_some_and(|servers| servers.find(old_rs).is_some());
                if stays || (flushing && new_vs.is_none()) {
                    continue;
                }
                if new_vs.is_some() {
                    info!("{}", pool_log::gone_real_server_line(old_vs, old_rs));
                }
                // keepalived's `set`: in the table, at weight 0 when inhibited.
                let in_table = old_rs.inhibit_on_failure || (rs_state.alive && !sorry_in);
                if !in_table {
                    continue;
                }
                info!(
                    "{}",
                    pool_log::removed_real_server_line(old_vs, old_rs, rs_state.alive)
                );
                if rs_state.alive {
                    dropped.push((index, Some(rs_index), 0));
                    live_weight -= i64::from(rs_state.weight());
                }
            }
            // keepalived's clear_diff_s_srv: a sorry server in the table (an inhibited one always
            // is) that the new configuration changes or drops.
            if let (Some(new_vs), Some(old_sorry)) = (new_vs, &old_vs.sorry_server) {
                if !same_sorry_server(old_vs, new_vs) && (sorry_in || old_sorry.inhibit) {
                    info!(
                        "{}",
                        pool_log::removed_sorry_server_line(
                            old_vs,
                            old_sorry.address,
                            old_sorry.port
                        )
                    );
                }
            }
            // keepalived's update_vs_notifies on the old virtual server, whether it stays or
            // goes: the weight left against its old quorum (the new one starts from the old
            // state all the same).
            let threshold = alert::quorum_threshold(old_vs, true);
            if state.quorum_up && (live_weight == 0 || live_weight < threshold) {
                dropped.push((index, None, live_weight));
            }
        }
        for (index, rs_index, live_weight) in dropped {
            let old_vs = &old_config.virtual_servers[index];
            match rs_index.and_then(|rs_index| old_vs.real_servers.get(rs_index)) {
                Some(old_rs) => {
                    self.notify(old_rs.notify_down.as_deref(), now);
                    self.fifos
                        .write_line(&alert::rs_fifo_line(old_vs, old_rs, false));
                    if let (Some(mailer), Some(true)) = (&self.mailer, old_rs.smtp_alert) {
                        let topic = alert::rs_mail_topic(old_vs, old_rs);
                        let _ = mailer.alert(&topic, alert::state(false), alert::REMOVING);
                    }
                }
                None => {
                    self.notify(old_vs.quorum_down.as_deref(), now);
                    self.fifos.write_line(&alert::vs_fifo_line(old_vs, false));
                    if let (Some(mailer), Some(true)) = (&self.mailer, old_vs.smtp_alert) {
                        let threshold = alert::quorum_threshold(old_vs, true);
                        let body = alert::quorum_body(
                            false,
                            QuorumMoment::Change,
                            old_vs,
                            threshold,
                            live_weight,
                        );
                        let _ =
                            mailer.alert(&alert::vs_mail_topic(old_vs), alert::state(false), &body);
                    }
                }
            }
        }
    }

    /// keepalived's `init_services` after a reload: a group that stays logs the entries it gained,
    /// and every virtual server's quorum is judged again (`update_quorum_state(vs, init)`). One
    /// that stays and whose quorum changed reports it, and so does one that stays down with a
    /// sorry server that is not in yet (new or changed); a new one reports as at start.
    fn reload_quorum(
        &mut self,
        old_config: &Config,
        counterparts: &Counterparts,
        old_pool: &Pool,
        now: Instant,
    ) {
        for index in 0..self.config.virtual_servers.len() {
            let vs = &self.config.virtual_servers[index];
            let Some(state) = self.pool.services.get(index) else {
                continue;
            };
            let (up, weight_sum) = (state.quorum_up, state.live_weight());
            let old_index = counterparts.old_of_new.get(index).copied().flatten();
            let old = old_index.and_then(|old_index| {
                Some((
                    old_config.virtual_servers.get(old_index)?,
                    old_pool.services.get(old_index)?,
                ))
            });
            if let Some((old_vs, _)) = old
                && let Some((old_group, new_group)) =
                    groups_of(old_config, old_vs, &self.config, vs)
            {
                for entry in pool_log::group_changes(old_group, new_group).1 {
                    info!(
                        "{}",
                        pool_log::group_entry_line(vs, &new_group.name, entry, true)
                    );
                }
            }
            let was_up = old.is_some_and(|(_, old_state)| old_state.quorum_up);
            // The sorry server stays in when it is the same one and the quorum was down.
            let sorry_was_in = old.is_some_and(|(old_vs, old_state)| {
                !old_state.quorum_up && same_sorry_server(old_vs, vs)
            });
            let report = if up {
                !was_up
            } else {
                was_up || (vs.sorry_server.is_some() && !sorry_was_in)
            };
            if report {
                log_lines(pool_log::quorum_lines(&QuorumChange {
                    vs,
                    up,
                    was_up,
                    moment: pool_log::Moment::Init,
                    weight_sum,
                    sorry_was_in,
                }));
                self.quorum_notifies(index, up, was_up, QuorumMoment::Start, weight_sum, now);
            }
        }
    }

    /// The mail of a checker whose standing the schedule reported (keepalived's checker epilogs):
    /// `was_up` before, `up` now; `server_changed` when the real server went up or down with it.
    fn checker_alert(
        &self,
        index: usize,
        was_up: bool,
        up: bool,
        verdict: &Verdict,
        server_changed: bool,
    ) {
        let Some(mailer) = &self.mailer else {
            return;
        };
        let checker = &self.checkers[index];
        let Some((vs, rs, model)) = checker.model_in(&self.config) else {
            return;
        };
        let no_checker_emails = self.config.global.no_checker_emails;
        if rs.smtp_alert == Some(false)
            || !alert::checker_mail_due(&model.kind, was_up, up, server_changed, no_checker_emails)
        {
            return;
        }
        let (outcome, reason) = match verdict {
            Verdict::Success => (alert::Outcome::Succeeded, ""),
            Verdict::Failure { reason, .. } if reason == MISC_TIMED_OUT => {
                (alert::Outcome::TimedOut, reason.as_str())
            }
            Verdict::Failure { reason, .. } => (alert::Outcome::Failed, reason.as_str()),
        };
        let Some(body) = alert::checker_body(&model.kind, outcome, reason) else {
            return;
        };
        // The subject says where the real server stands now, whatever this checker says.
        let alive = self
            .pool
            .services
            .get(checker.service)
            .and_then(|state| state.real_servers.get(checker.real_server))
            .is_some_and(|state| state.alive);
        let _ = mailer.alert(&alert::rs_mail_topic(vs, rs), alert::state(alive), &body);
    }

    /// Our view of the kernel at start: the services we are about to program that exist already,
    /// with only the destinations we would program, so that others' rules are never removed.
    /// `respawned`: the table is the one a checker process that died left, so a checked real
    /// server it had taken out (absent, or at weight 0 with `inhibit_on_failure`) starts failed
    /// and comes back on its first successful check, instead of going in until a check fails.
    /// Returns those servers (virtual server, real server).
    fn take_over_existing(&mut self, respawned: bool) -> Vec<(usize, usize)> {
        let Some(client) = self.client.as_mut() else {
            return Vec::new();
        };
        let current = match client.table() {
            Ok(table) => table,
            Err(e) => {
                warn!("IPVS: cannot read the table: {e}");
                return Vec::new();
            }
        };
        let started_down = if respawned {
            self.servers_left_out(&current)
        } else {
            Vec::new()
        };
        let desired = DesiredTable::of(&self.config, &self.pool);
        let ours = current
            .into_iter()
            .filter_map(|mut entry| {
                let wanted = desired
                    .index
                    .get(&entry.service.key)
                    .and_then(|&i| desired.entries.get(i))?;
                entry.destinations.retain(|d| {
                    wanted
                        .destinations
                        .iter()
                        .any(|w| w.address == d.address && w.port == d.port)
                });
                Some(entry)
            })
            .collect();
        self.programmed = DesiredTable::read(ours);
        started_down
    }

    /// The checked real servers that `table` leaves out of their services; their checkers are
    /// set failed and the quorums follow.
    fn servers_left_out(&mut self, table: &[VirtualService]) -> Vec<(usize, usize)> {
        let existing: FxHashMap<ServiceKey, &VirtualService> = table
            .iter()
            .map(|entry| (entry.service.key, entry))
            .collect();
        let groups = &self.config.virtual_server_groups;
        let mut down = Vec::new();
        for (index, vs) in self.config.virtual_servers.iter().enumerate() {
            let keys = mapping::service_keys(vs, groups);
            let Some(entry) = keys.first().and_then(|key| existing.get(key)) else {
                continue;
            };
            for (rs_index, rs) in vs.real_servers.iter().enumerate() {
                if rs.checkers.is_empty() {
                    continue;
                }
                let kernel_weight = entry
                    .destinations
                    .iter()
                    .find(|d| d.address == rs.address && d.port == rs.port)
                    .map(|d| d.weight);
                let out = match kernel_weight {
                    None => true,
                    Some(0) => rs.inhibit_on_failure && rs.weight > 0,
                    Some(_) => false,
                };
                let Some(state) = self
                    .pool
                    .services
                    .get_mut(index)
                    .and_then(|s| s.real_servers.get_mut(rs_index))
                else {
                    continue;
                };
                if out {
                    for checker in &mut state.checkers {
                        checker.up = false;
                    }
                    state.alive = false;
                    down.push((index, rs_index));
                }
            }
            if let Some(state) = self.pool.services.get_mut(index) {
                let threshold = i64::from(state.quorum) + i64::from(state.hysteresis);
                state.quorum_up = state.live_weight() >= threshold;
            }
        }
        down
    }

    fn next_random(&mut self) -> f64 {
        // xorshift64: spreads first attempts over warmup; no quality needed.
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// keepalived's lines for the real servers whose configured weight a reload changed.
    fn log_weight_changes(&self, old: &Config, counterparts: &Counterparts) {
        for (service, vs) in self.config.virtual_servers.iter().enumerate() {
            let Some(old_vs) = counterparts
                .old_of_new
                .get(service)
                .copied()
                .flatten()
                .and_then(|old_index| old.virtual_servers.get(old_index))
            else {
                continue;
            };
            // A block taken again from the memo is the same model: nothing in it changed.
            if Arc::ptr_eq(old_vs, vs) {
                continue;
            }
            let old_servers = RealServerLookup::new(old_vs);
            for (real_server, rs) in vs.real_servers.iter().enumerate() {
                let Some(old_weight) = old_servers.find(rs).map(|i| old_vs.real_servers[i].weight)
                else {
                    continue;
                };
                if old_weight == rs.weight {
                    continue;
                }
                let alive = self
                    .pool
                    .real_server(service, real_server)
                    .is_some_and(|state| state.alive);
                info!(
                    "Changing weight from {old_weight} to {} for {}active service {} of VS {}",
                    rs.weight,
                    if alive { "" } else { "in" },
                    rs_name(rs, vs),
                    vs_name(vs)
                );
            }
        }
    }

    /// keepalived's `register_checkers_thread`, at start and after every reload: a line per
    /// scheduled checker, once the table and the quorums are set.
    fn log_registered_checkers(&self) {
        for checker in &self.checkers {
            // FILE_CHECK and BFD_CHECK have no schedule: keepalived does not list them.
            if matches!(
                checker.work,
                Work::Idle | Work::File { .. } | Work::Bfd { .. }
            ) {
                continue;
            }
            info!(
                "{}ctivating healthchecker for {}",
                if checker.enabled { "A" } else { "Dea" },
                checker.names
            );
        }
        info!("Activating BFD healthchecker");
    }

    fn build_checkers(
        &mut self,
        now: Instant,
        previous: Option<&PreviousCheckers<'_>>,
        started_down: &[(usize, usize)],
    ) -> Vec<RunningChecker> {
        let mut out = Vec::with_capacity(previous.map_or(0, |p| p.checkers.len()));
        // The real servers before the reload, made when first asked for: only a checker that
        // takes no earlier one's place asks, and most reloads have none.
        let earlier_real_servers = OnceCell::new();
        // The checkers before the reload by place, made when a new checker's counterpart cannot
        // say which was at its place (most reloads never ask).
        let earlier_by_place = OnceCell::new();
        // Taken out for the loop (next_random needs the daemon) and put back after.
        let services = std::mem::take(&mut self.config.virtual_servers);
        for (service, vs) in services.iter().enumerate() {
            let places = previous.map_or(EarlierPlaces::None, |p| p.places_of(service, vs));
            for (real_server, rs) in vs.real_servers.iter().enumerate() {
                for (index, checker) in rs.checkers.iter().enumerate() {
                    if checker.kind == CheckerKind::Ping {
                        self.ping_groups.widen();
                    }
                    let (work, warnings) =
                        work(checker, vs, rs, &self.config.track_files, self.tls.as_ref());
                    for warning in warnings {
                        warn!(
                            "{} of {} in VS {}: {warning}",
                            checker.kind.keyword(),
                            rs_name(rs, vs),
                            vs_name(vs)
                        );
                    }
                    if matches!(work, Work::Idle) {
                        warn!(
                            "{} of {} in VS {} is not supported yet: the server keeps its initial state",
                            checker.kind.keyword(),
                            rs_name(rs, vs),
                            vs_name(vs)
                        );
                    }
                    let random = self.next_random();
                    // A server started failed starts as with `alpha`: out until a check passes.
                    let alpha = checker.alpha || started_down.contains(&(service, real_server));
                    let mut schedule =
                        Schedule::new(Timing::from(&checker.timing), alpha, now, random);
                    if let CheckerKind::HttpGet(http) | CheckerKind::SslGet(http) = &checker.kind {
                        schedule = schedule.recovering_as_http(http.urls.len(), http.fast_recovery);
                    }
                    if let CheckerKind::Smtp(_) = checker.kind {
                        schedule = schedule.retrying_from_the_start();
                    }
                    let kept = previous
                        .and_then(|p| {
                            p.at(&places, real_server, rs, index).unwrap_or_else(|| {
                                earlier_by_place
                                    .get_or_init(|| p.by_place())
                                    .get(&(&vs.service, vs.protocol, rs.address, rs.port, index))
                                    .copied()
                            })
                        })
                        .filter(|(old, _)| {
                            // The same model's checker is the same checker.
                            std::ptr::eq(*old, checker)
                                || (old.kind == checker.kind
                                    && old.connection == checker.connection)
                        })
                        .map(|(_, old)| old);
                    let server_alive = || {
                        self.pool
                            .services
                            .get(service)
                            .and_then(|state| state.real_servers.get(real_server))
                            .is_none_or(|state| state.alive)
                    };
                    if let Some(old) = kept {
                        keep_tls_client(&old.work, &work);
                    }
                    match (previous, kept) {
                        (_, Some(old)) => schedule.migrate_from(&old.schedule),
                        // New on reload: keepalived's `migrate_checkers` makes one failure
                        // enough only for a real server that stays and is down; others retry
                        // it, those of a new real server too (`alpha` or not).
                        (Some(p), None)
                            if server_alive()
                                || !earlier_real_servers
                                    .get_or_init(|| real_servers_of(p.config))
                                    .contains(&(&vs.service, vs.protocol, rs.address, rs.port)) =>
                        {
                            schedule = schedule.retrying_from_the_start();
                        }
                        _ => {}
                    }
                    // FILE_CHECK and BFD_CHECK have no schedule: keepalived neither logs nor
                    // suspends them here.
                    let scheduled =
                        !matches!(work, Work::Idle | Work::File { .. } | Work::Bfd { .. });
                    let enabled =
                        suspend::enabled_at_start(scheduled, self.suspension.is_active(service));
                    let setup = match &work {
                        Work::Net { target, .. } => Some(self.spares.setup_of(target)),
                        _ => None,
                    };
                    out.push(RunningChecker {
                        service,
                        real_server,
                        index,
                        keyword: checker.kind.keyword(),
                        log_all_failures: checker.log_all_failures
                            || self.config.global.checker_log_all_failures,
                        work,
                        schedule,
                        probe: None,
                        setup,
                        slot: 0,
                        enabled,
                        file_value: 0,
                        file_weight: 0,
                        started: None,
                        counts: kept.map(|old| old.counts).unwrap_or_default(),
                        names: kept.map_or_else(
                            || {
                                let rs_name = RsName {
                                    vs,
                                    address: rs.address,
                                    port: rs.port,
                                };
                                format!("service {rs_name} for VS {}", VsName(vs)).into()
                            },
                            |old| old.names.clone(),
                        ),
                    });
                }
            }
        }
        self.config.virtual_servers = services;
        out
    }

    fn run(&mut self) {
        while !self.stopping {
            let now = Instant::now();
            if let Some(sessions) = self.bfd_sessions.as_mut() {
                let reports = sessions.run_timers(now);
                self.bfd_reports(&reports, now);
            }
            self.start_due(now);
            self.expire(now);
            self.children.kill_overdue(now);
            let next = [
                self.next_due().map(|at| at + CHECK_BATCH_WINDOW),
                self.in_flight
                    .iter()
                    .filter_map(|&i| self.checkers[i].probe.as_ref().map(|p| p.deadline()))
                    .min(),
                self.children.next_deadline(),
                self.metrics_server
                    .as_ref()
                    .and_then(MetricsServer::next_deadline),
                self.bfd_sessions
                    .as_ref()
                    .and_then(BfdSessions::next_deadline),
            ]
            .into_iter()
            .flatten()
            .min();
            let timeout = next.map(|deadline| {
                TimeSpec::from_duration(deadline.saturating_duration_since(Instant::now()))
            });
            let (
                signals_ready,
                files_ready,
                addresses_ready,
                ready,
                link_ready,
                server_ready,
                bfd_ready,
            ) = {
                let mut fds = vec![PollFd::new(self.signals.as_fd(), PollFlags::POLLIN)];
                let watched = self.files.as_ref().map(FileWatch::fd);
                if let Some(fd) = watched {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                }
                let addresses_at = fds.len();
                if let Some(monitor) = &self.addresses {
                    fds.push(PollFd::new(monitor.as_fd(), PollFlags::POLLIN));
                }
                let link_at = fds.len();
                if let Some(link) = &self.metrics_link {
                    fds.push(link.poll_fd());
                }
                let server_at = fds.len();
                if let Some(server) = &self.metrics_server {
                    fds.extend(server.poll_fds());
                }
                let bfd_at = fds.len();
                let bfd_fd = match (&self.bfd_link, &self.bfd_sessions) {
                    (Some(link), _) => Some(link.as_fd()),
                    (None, Some(sessions)) => sessions.poll_fd(),
                    (None, None) => None,
                };
                if let Some(fd) = bfd_fd {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                }
                let skip = fds.len();
                let mut owners = Vec::with_capacity(self.in_flight.len());
                for &index in &self.in_flight {
                    if let Some(probe) = &self.checkers[index].probe {
                        fds.push(PollFd::new(probe.fd(), probe.interest()));
                        owners.push(index);
                    }
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
                let is_ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
                let ready: Vec<(usize, PollFlags)> = fds[skip..]
                    .iter()
                    .zip(&owners)
                    .filter_map(|(fd, &owner)| {
                        fd.revents()
                            .filter(|r| !r.is_empty())
                            .map(|revents| (owner, revents))
                    })
                    .collect();
                (
                    is_ready(&fds[0]),
                    watched.is_some() && is_ready(&fds[1]),
                    self.addresses.is_some() && is_ready(&fds[addresses_at]),
                    ready,
                    server_at > link_at && is_ready(&fds[link_at]),
                    fds[server_at..bfd_at]
                        .iter()
                        .map(is_ready)
                        .collect::<Vec<bool>>(),
                    fds[bfd_at..skip].iter().any(is_ready),
                )
            };
            let now = Instant::now();
            for (index, revents) in ready {
                let (verdict, passed_url) = match self.checkers[index].probe.as_mut() {
                    Some(probe) => (probe.advance(now, revents), probe.take_passed_url()),
                    None => (None, None),
                };
                if let Some(url) = passed_url {
                    self.log_passed_url(index, &url);
                }
                if let Some(verdict) = verdict {
                    self.land(index);
                    self.finish(index, verdict, None, now);
                }
            }
            if files_ready {
                self.files_changed(now);
            }
            if bfd_ready {
                self.bfd_readable(now);
            }
            if addresses_ready {
                self.addresses_changed();
            }
            if link_ready {
                if let Some(mut link) = self.metrics_link.take() {
                    if link.serve(|| self.metrics_text(false)) {
                        self.metrics_link = Some(link);
                    }
                }
            }
            if let Some(mut server) = self.metrics_server.take() {
                // The kernel is read only when an answer is made.
                server.serve(&server_ready, now, || self.metrics_text(true));
                self.metrics_server = Some(server);
            }
            if signals_ready {
                self.signals(now);
            }
        }
        self.shutdown();
    }

    /// The Prometheus text of the virtual servers as they are now, with the kernel's counters
    /// read at this moment; `build_info` for `-C`'s own endpoint (the VRRP daemon's part has it).
    fn metrics_text(&mut self, build_info: bool) -> String {
        let kernel = match self.client.as_mut().map(Client::table) {
            Some(Ok(table)) => Some(table),
            Some(Err(e)) => {
                debug!("IPVS: cannot read the table for the metrics: {e}");
                None
            }
            None => None,
        };
        let view = self.metrics_view(kernel.as_deref());
        let mut text = String::new();
        if build_info {
            vrrpd_runtime::metrics::build_info(&mut text);
        }
        text.push_str(&crate::metrics::render(&view));
        text
    }

    /// What the metrics show: our state, and the kernel's table as read for this scrape.
    fn metrics_view<'a>(&'a self, kernel: Option<&'a [VirtualService]>) -> LvsView<'a> {
        LvsView {
            config: &self.config,
            pool: &self.pool,
            checkers: self
                .checkers
                .iter()
                .map(|c| CheckerView {
                    service: c.service,
                    real_server: c.real_server,
                    keyword: c.keyword,
                    counts: c.counts,
                })
                .collect(),
            programmed: &self.programmed.entries,
            kernel,
            durations: &self.durations,
        }
    }

    /// Puts every checker's next attempt on the timer heap.
    fn schedule_all(&mut self) {
        self.due.clear();
        self.in_flight.clear();
        for index in 0..self.checkers.len() {
            self.schedule(index);
        }
    }

    fn schedule(&mut self, index: usize) {
        let checker = &self.checkers[index];
        if matches!(
            checker.work,
            Work::Idle | Work::File { .. } | Work::Bfd { .. }
        ) {
            return;
        }
        if let Some(at) = checker.schedule.next_attempt() {
            self.due.insert((at, index));
        }
    }

    /// The earliest next attempt (stale entries are dropped on the way).
    fn next_due(&mut self) -> Option<Instant> {
        while let Some(&(at, index)) = self.due.first() {
            if self
                .checkers
                .get(index)
                .and_then(|c| c.schedule.next_attempt())
                == Some(at)
            {
                return Some(at);
            }
            self.due.pop_first();
        }
        None
    }

    /// An attempt on a socket ended; its socket is kept for the next if it may be.
    fn land(&mut self, index: usize) {
        let Some(probe) = self.checkers[index].probe.take() else {
            return;
        };
        if let (Some(setup), Some(spare)) = (self.checkers[index].setup, probe.into_spare()) {
            self.spares.put(setup, spare);
        }
        let slot = self.checkers[index].slot;
        if self.in_flight.get(slot) == Some(&index) {
            self.in_flight.swap_remove(slot);
            if let Some(&moved) = self.in_flight.get(slot) {
                self.checkers[moved].slot = slot;
            }
        }
    }

    fn start_due(&mut self, now: Instant) {
        while let Some(at) = self.next_due() {
            if at > now {
                break;
            }
            let Some((_, index)) = self.due.pop_first() else {
                break;
            };
            let checker = &mut self.checkers[index];
            if checker.probe.is_some()
                || matches!(
                    checker.work,
                    Work::Idle | Work::File { .. } | Work::Bfd { .. }
                )
            {
                continue;
            }
            if !checker.enabled {
                checker.schedule.pass(now);
                if let Some(at) = checker.schedule.next_attempt() {
                    self.due.insert((at, index));
                }
                continue;
            }
            if matches!(checker.work, Work::Script { .. })
                && self.children.is_running(Purpose::Check(index))
            {
                continue;
            }
            if checker.schedule.start(now).is_none() {
                continue;
            }
            checker.started = Some(now);
            let timeout = checker.schedule.timing().connect_timeout;
            match checker.work.clone() {
                Work::Net { target, exchange } => {
                    let spare = checker.setup.and_then(|setup| self.spares.take(setup));
                    let url = checker.schedule.url();
                    match Probe::start_with(target, exchange, timeout, now, spare) {
                        Ok(probe) => {
                            let probe = probe.for_url(url);
                            checker.probe = Some(Box::new(probe));
                            checker.slot = self.in_flight.len();
                            self.in_flight.push(index);
                        }
                        Err(e) => self.finish(
                            index,
                            Verdict::failed(AttemptFailure::Unreachable, e),
                            None,
                            now,
                        ),
                    }
                }
                Work::Script {
                    argv,
                    user,
                    timeout,
                    ..
                } => {
                    let user = user.or_else(|| self.config.global.script_user.clone());
                    if !self.children.spawn(
                        &argv,
                        user.as_ref(),
                        Purpose::Check(index),
                        Some(timeout),
                        now,
                    ) {
                        self.finish(
                            index,
                            Verdict::failed(AttemptFailure::Other, "cannot start the script"),
                            None,
                            now,
                        );
                    }
                }
                Work::Idle | Work::File { .. } | Work::Bfd { .. } => {}
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        let expired: Vec<usize> = self
            .in_flight
            .iter()
            .copied()
            .filter(|&i| {
                self.checkers[i]
                    .probe
                    .as_ref()
                    .is_some_and(|p| p.deadline() <= now)
            })
            .collect();
        for index in expired {
            let Some(verdict) = self.checkers[index].probe.as_ref().map(|p| p.timed_out()) else {
                continue;
            };
            self.land(index);
            self.finish(index, verdict, None, now);
        }
    }

    /// keepalived's `… success to … url(…)` line for a URL an HTTP check passed while the checker
    /// is down (`http_handle_response`).
    fn log_passed_url(&self, index: usize, url: &PassedUrl) {
        let checker = &self.checkers[index];
        if checker.schedule.is_up() {
            return;
        }
        let Some((rs_text, _)) = server_names(&self.config, checker.service, checker.real_server)
        else {
            return;
        };
        info!(
            "{} success to {rs_text} url({})",
            url.pass.words(),
            url.path
        );
    }

    /// An attempt ended: the schedule decides whether the checker's standing changed; the pool
    /// whether the real server and the quorum did; the kernel gets the difference. Under
    /// `log_all_failures` a failed attempt has its line first.
    fn finish(&mut self, index: usize, verdict: Verdict, weight: Option<i64>, now: Instant) {
        let checker = &mut self.checkers[index];
        let (service, real_server, position) =
            (checker.service, checker.real_server, checker.index);
        let success = verdict == Verdict::Success;
        let took = checker
            .started
            .take()
            .map(|at| now.saturating_duration_since(at));
        checker.counts.record(success, took);
        if let (true, Some(took)) = (success, took) {
            self.durations
                .entry(checker.keyword)
                .or_insert_with(|| Histogram::new(DURATION_BUCKETS))
                .observe(took);
        }
        let checker = &mut self.checkers[index];
        let mut events = Vec::new();
        if let Some(weight) = weight {
            events.extend(self.pool.set_weight(service, real_server, weight));
        }
        let was_up = checker.schedule.is_up();
        let had_run = checker.schedule.has_run();
        let changed = checker.schedule.finish(success, now);
        if let Some(at) = checker.schedule.next_attempt() {
            self.due.insert((at, index));
        }
        let failed = matches!(verdict, Verdict::Failure { .. });
        // The model and the servers' names only for a line written: most attempts write none.
        let writes = changed.is_some()
            || (failed && (checker.log_all_failures || log::log_enabled!(log::Level::Debug)));
        let model = if writes {
            self.config
                .virtual_servers
                .get(service)
                .and_then(|vs| vs.real_servers.get(real_server))
                .and_then(|rs| rs.checkers.get(position))
        } else {
            None
        };
        let (rs_text, vs_text) = if writes {
            server_names(&self.config, service, real_server).unwrap_or_default()
        } else {
            (String::new(), String::new())
        };
        if let Verdict::Failure { reason, .. } = &verdict {
            debug!("{} of {rs_text}: {reason}", checker.keyword);
        }
        if let (Verdict::Failure { what, reason }, Some(model)) = (&verdict, model) {
            if checker.log_all_failures {
                let attempt = checker_log::FailedAttempt {
                    kind: &model.kind,
                    real_server: &rs_text,
                    virtual_server: &vs_text,
                    failure: *what,
                    reason,
                    was_up,
                    had_run,
                    last: changed.is_some(),
                    retries_used: checker.schedule.retries_used(),
                    retry: model.timing.retry,
                };
                if let Some(line) = checker_log::attempt_line(&attempt) {
                    info!("{line}");
                }
            }
        }
        if let Some(up) = changed {
            if let Some(model) = model {
                let standing = checker_log::Standing {
                    kind: &model.kind,
                    real_server: &rs_text,
                    virtual_server: &vs_text,
                    up,
                    had_run,
                    retry: model.timing.retry,
                    reason: verdict.reason(),
                };
                if let Some(line) = checker_log::standing_line(&standing) {
                    info!("{line}");
                }
            }
            events.extend(self.pool.checker_result(service, real_server, position, up));
        }
        self.publish(service, &events, now);
        if let Some(up) = changed {
            let server_changed = events
                .iter()
                .any(|event| matches!(event, PoolEvent::RealServer { .. }));
            self.checker_alert(index, was_up, up, &verdict, server_changed);
        }
    }

    /// The name of virtual server `service` as keepalived writes it in its lines.
    fn service_name(&self, service: usize) -> Option<String> {
        self.config
            .virtual_servers
            .get(service)
            .map(|vs| vs_name(vs))
    }

    /// Reports the events of a change of one virtual server's health and sends the kernel the
    /// difference.
    fn publish(&mut self, service: usize, events: &[PoolEvent], now: Instant) {
        if events.is_empty() {
            return;
        }
        let Some(vs_text) = self.service_name(service) else {
            return;
        };
        for event in events {
            self.report(event, &vs_text, now);
        }
        self.sync_service(service);
    }

    /// Reads the FILE_CHECK files at start or after a reload and sets their checkers' standing
    /// and weights without events (keepalived's `init_track_files`, `set_track_file_weights`,
    /// `set_track_file_checkers_down`), then watches them. After a reload a checker whose file
    /// fails it, or says it leaves the failed state, is left good and returned with what its
    /// file says, for [`Daemon::apply_files_at_reload`].
    fn read_files(&mut self, reload: bool) -> Vec<(usize, lvs::file::AtReload)> {
        let mut touched = Vec::new();
        let mut paths = Vec::new();
        let mut moves = Vec::new();
        for (index, checker) in self.checkers.iter_mut().enumerate() {
            let Work::File {
                path,
                weight,
                reverse,
                ..
            } = &checker.work
            else {
                continue;
            };
            let value = files::read_value(path).unwrap_or_else(|| {
                info!("Invalid number read from {} - ignoring", path.display());
                0
            });
            let (up, contribution) = if reload {
                match lvs::file::at_reload(value, *weight, *reverse) {
                    lvs::file::AtReload::Good(contribution) => (true, contribution),
                    other => {
                        moves.push((index, other));
                        (true, 0)
                    }
                }
            } else {
                lvs::file::initial(value, *weight, *reverse)
            };
            checker.file_value = value;
            checker.file_weight = contribution;
            paths.push(path.clone());
            let Some(rs) = self
                .pool
                .services
                .get_mut(checker.service)
                .and_then(|vs| vs.real_servers.get_mut(checker.real_server))
            else {
                continue;
            };
            if let Some(state) = rs.checkers.get_mut(checker.index) {
                *state = CheckerState { up, has_run: true };
            }
            rs.effective_weight += contribution;
            if !reload {
                rs.alive = rs.checkers.iter().all(|c| c.up);
            }
            touched.push(checker.service);
        }
        touched.dedup();
        for service in touched {
            if reload {
                // The quorum carried over moves with its hysteresis.
                self.pool.refresh_quorum(service);
            } else if let Some(state) = self.pool.services.get_mut(service) {
                let threshold = i64::from(state.quorum) + i64::from(state.hysteresis);
                state.quorum_up = state.live_weight() >= threshold;
            }
        }
        self.files = if paths.is_empty() {
            None
        } else {
            match FileWatch::new(paths.iter().map(PathBuf::as_path)) {
                Ok(watch) => Some(watch),
                Err(e) => {
                    warn!("{e}");
                    None
                }
            }
        };
        moves
    }

    /// keepalived's `set_track_file_checkers_down` on reload: each FILE_CHECK whose file fails it
    /// fails now, as on a change of the file — a real server that stays goes down with its lines
    /// and scripts (after keepalived's migration had put it back: `revived`); a new one is left out
    /// quietly. The table is not touched here: the reload's difference is applied once, after.
    /// The quorum is reported by its change over the whole reload.
    fn apply_files_at_reload(
        &mut self,
        moves: &[(usize, lvs::file::AtReload)],
        counterparts: &Counterparts,
        old_config: &Config,
        now: Instant,
    ) {
        for &(index, standing) in moves {
            let Some(checker) = self.checkers.get(index) else {
                continue;
            };
            let Work::File { name, .. } = &checker.work else {
                continue;
            };
            let (service, real_server, position) =
                (checker.service, checker.real_server, checker.index);
            let Some((rs_text, vs_text)) = server_names(&self.config, service, real_server) else {
                continue;
            };
            let fault = standing == lvs::file::AtReload::Fault;
            if self.options.log.detailed {
                info!(
                    "({rs_text}): tracked file {name} {} FAULT state",
                    if fault { "now" } else { "leaving" }
                );
            }
            if !fault {
                continue;
            }
            let stays = counterparts
                .old_of_new
                .get(service)
                .copied()
                .flatten()
                .and_then(|old| old_config.virtual_servers.get(old))
                .zip(self.config.virtual_servers.get(service))
                .is_some_and(|(old_vs, vs)| {
                    vs.real_servers
                        .get(real_server)
                        .is_some_and(|rs| RealServerLookup::new(old_vs).find(rs).is_some())
                });
            if stays {
                let events = self
                    .pool
                    .checker_result(service, real_server, position, false);
                for event in &events {
                    if matches!(event, PoolEvent::RealServer { .. }) {
                        self.report(event, &vs_text, now);
                    }
                }
            } else if let Some(rs) = self
                .pool
                .services
                .get_mut(service)
                .and_then(|vs| vs.real_servers.get_mut(real_server))
            {
                if let Some(state) = rs.checkers.get_mut(position) {
                    state.up = false;
                }
                rs.alive = false;
            }
        }
    }

    /// `-C` alone: opens and starts the BFD sessions here.
    fn start_bfd(&mut self, now: Instant) {
        match BfdSessions::open(&self.config.bfd_instances) {
            Ok(mut sessions) => {
                let reports = sessions.start(now);
                self.bfd_sessions = Some(sessions);
                self.bfd_reports(&reports, now);
            }
            Err(e) => {
                error!("bind() error ({e})");
                error!("Unable to open listening socket");
            }
        }
    }

    /// The BFD link or socket is readable.
    fn bfd_readable(&mut self, now: Instant) {
        let mut reports = Vec::new();
        if let Some(link) = &self.bfd_link {
            let mut buffer = [0u8; 128];
            // A burst is read whole: each datagram is one short report.
            while let Ok(length) = link.recv(&mut buffer) {
                let text = String::from_utf8_lossy(buffer.get(..length).unwrap_or_default());
                match text.rsplit_once(' ') {
                    Some((name, state)) => reports.push(BfdReport {
                        name: name.to_owned(),
                        up: state == "UP",
                    }),
                    None => debug!("BFD link: unexpected message {text:?}"),
                }
            }
        } else if let Some(sessions) = self.bfd_sessions.as_mut() {
            reports = sessions.receive(now);
        }
        self.bfd_reports(&reports, now);
    }

    /// Sessions went up or down: their BFD_CHECKs follow (keepalived's `bfd_check_handle_event`).
    fn bfd_reports(&mut self, reports: &[BfdReport], now: Instant) {
        for report in reports {
            // With -C alone the sessions marked `vrrp` are not the checkers'.
            let for_checker = self
                .config
                .bfd_instances
                .iter()
                .find(|b| b.name == report.name)
                .is_none_or(|b| b.checker_only || !b.vrrp_only);
            if !for_checker {
                continue;
            }
            for index in 0..self.checkers.len() {
                let checker = &self.checkers[index];
                if !matches!(&checker.work, Work::Bfd { name } if *name == report.name) {
                    continue;
                }
                let (service, real_server, position) =
                    (checker.service, checker.real_server, checker.index);
                let Some((rs_text, _)) = server_names(&self.config, service, real_server) else {
                    continue;
                };
                let state = self
                    .pool
                    .real_server(service, real_server)
                    .and_then(|rs| rs.checkers.get(position))
                    .map(|s| (s.up, s.has_run));
                if state == Some((report.up, true)) {
                    continue;
                }
                info!(
                    "BFD check of [{}] RS({}) is {}",
                    report.name,
                    rs_text,
                    if report.up { "UP" } else { "DOWN" }
                );
                let events = self
                    .pool
                    .checker_result(service, real_server, position, report.up);
                self.publish(service, &events, now);
                let was_up = state.is_some_and(|(up, _)| up);
                let server_changed = events
                    .iter()
                    .any(|event| matches!(event, PoolEvent::RealServer { .. }));
                let verdict = if report.up {
                    Verdict::Success
                } else {
                    Verdict::failed(AttemptFailure::Other, "")
                };
                self.checker_alert(index, was_up, report.up, &verdict, server_changed);
            }
        }
    }

    /// Tracked files were written, moved or deleted: their checkers move as keepalived's
    /// `process_update_checker_track_file_status` moves them.
    fn files_changed(&mut self, now: Instant) {
        let Some(watch) = self.files.as_mut() else {
            return;
        };
        for path in watch.changed() {
            let Some(value) = files::read_value(&path) else {
                info!("Invalid number read from {} - ignoring", path.display());
                continue;
            };
            for index in 0..self.checkers.len() {
                let checker = &mut self.checkers[index];
                let Work::File {
                    name,
                    path: own,
                    weight,
                    reverse,
                } = &checker.work
                else {
                    continue;
                };
                if *own != path {
                    continue;
                }
                let change = lvs::file::change(checker.file_value, value, *weight, *reverse);
                checker.file_value = value;
                let (service, real_server, position) =
                    (checker.service, checker.real_server, checker.index);
                if matches!(change, lvs::file::Change::Down | lvs::file::Change::Up(_))
                    && self.options.log.detailed
                {
                    let rs_text = server_names(&self.config, service, real_server)
                        .map(|(rs_text, _)| rs_text)
                        .unwrap_or_default();
                    let moving = if change == lvs::file::Change::Down {
                        "now"
                    } else {
                        "leaving"
                    };
                    info!("({rs_text}): tracked file {name} {moving} FAULT state");
                }
                let events = match change {
                    lvs::file::Change::None => continue,
                    // keepalived takes the checker's part of the weight out after the server,
                    // and puts the new part in before it.
                    lvs::file::Change::Down => {
                        let part = std::mem::take(&mut checker.file_weight);
                        let events =
                            self.pool
                                .checker_result(service, real_server, position, false);
                        self.pool.add_weight_quietly(service, real_server, -part);
                        events
                    }
                    lvs::file::Change::Up(part) => {
                        checker.file_weight = part;
                        self.pool.add_weight_quietly(service, real_server, part);
                        self.pool
                            .checker_result(service, real_server, position, true)
                    }
                    lvs::file::Change::Weight(delta) => {
                        checker.file_weight += delta;
                        let current = self
                            .pool
                            .real_server(service, real_server)
                            .map_or(0, |rs| rs.effective_weight);
                        self.pool.set_weight(service, real_server, current + delta)
                    }
                };
                self.publish(service, &events, now);
            }
        }
    }

    fn report(&mut self, event: &PoolEvent, vs_text: &str, now: Instant) {
        match *event {
            PoolEvent::RealServer {
                service,
                real_server,
                up,
            } => {
                let Some((vs, rs)) = self
                    .config
                    .virtual_servers
                    .get(service)
                    .and_then(|vs| Some((vs, vs.real_servers.get(real_server)?)))
                else {
                    return;
                };
                let verb = match (up, rs.inhibit_on_failure) {
                    (true, true) => "Enabling service",
                    (true, false) => "Adding service",
                    (false, true) => "Disabling service",
                    (false, false) => "Removing service",
                };
                let preposition = if rs.inhibit_on_failure {
                    "of"
                } else if up {
                    "to"
                } else {
                    "from"
                };
                info!("{verb} {} {preposition} VS {vs_text}", rs_name(rs, vs));
                self.real_server_notifies(service, real_server, up, now);
            }
            PoolEvent::StillDown {
                service,
                real_server,
            } => self.real_server_notifies(service, real_server, false, now),
            PoolEvent::Quorum {
                service,
                up,
                weight_sum,
            } => {
                let Some(vs) = self.config.virtual_servers.get(service) else {
                    return;
                };
                // While running, the sorry server is in exactly while the quorum is down.
                log_lines(pool_log::quorum_lines(&QuorumChange {
                    vs,
                    up,
                    was_up: !up,
                    moment: pool_log::Moment::Running,
                    weight_sum,
                    sorry_was_in: up && vs.sorry_server.is_some(),
                }));
                self.quorum_notifies(service, up, !up, QuorumMoment::Change, weight_sum, now);
            }
            PoolEvent::Weight {
                service,
                real_server,
                old,
                new,
                alive,
            } => {
                if let Some((rs_text, _)) = server_names(&self.config, service, real_server) {
                    let active = if alive { "active" } else { "inactive" };
                    info!(
                        "Changing weight from {old} to {new} for {active} service {rs_text} of VS {vs_text}"
                    );
                }
            }
        }
    }

    fn notify(&mut self, script: Option<&Script>, now: Instant) {
        let Some(script) = script else {
            return;
        };
        let user = script
            .user
            .clone()
            .or_else(|| self.config.global.script_user.clone());
        self.children
            .spawn(&script.argv, user.as_ref(), Purpose::Notify, None, now);
    }

    /// Sends the kernel the difference between what was programmed and what is wanted now.
    fn sync_ipvs(&mut self) -> usize {
        let programmed = std::mem::take(&mut self.programmed);
        let (desired, changes) = DesiredTable::update(programmed, &self.config, &self.pool);
        if !changes.is_empty() {
            self.apply(&changes);
        }
        self.programmed = desired;
        changes.len()
    }

    /// The same for one virtual server whose health changed: only its services are compared, so
    /// a check result costs the size of that virtual server, not of the whole table.
    fn sync_service(&mut self, service: usize) {
        match self.programmed.refresh(&self.config, &self.pool, service) {
            Some(changes) if !changes.is_empty() => self.apply(&changes),
            Some(_) => {}
            None => {
                self.sync_ipvs();
            }
        }
    }

    /// `lvs_timeouts`: the configured timeouts, the kernel's own for the others (keepalived's
    /// `ipvs_set_timeouts`); none configured puts back the kernel's own if they were changed.
    fn set_timeouts(&mut self) {
        let Some(client) = self.client.as_mut() else {
            return;
        };
        let seconds =
            |d: Option<Duration>| d.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        let configured = &self.config.global.lvs_timeouts;
        let wanted = Timeouts {
            tcp: seconds(configured.tcp),
            tcp_fin: seconds(configured.tcp_fin),
            udp: seconds(configured.udp),
        };
        let timeouts = if wanted == Timeouts::default() {
            match self.original_timeouts {
                Some(original) => original,
                None => return,
            }
        } else {
            if self.original_timeouts.is_none() {
                match client.timeouts() {
                    Ok(original) => self.original_timeouts = Some(original),
                    Err(e) => info!("Failed to get IPVS timeouts: {e}"),
                }
            }
            let original = self.original_timeouts.unwrap_or_default();
            let or_original = |value: u32, original: u32| if value != 0 { value } else { original };
            Timeouts {
                tcp: or_original(wanted.tcp, original.tcp),
                tcp_fin: or_original(wanted.tcp_fin, original.tcp_fin),
                udp: or_original(wanted.udp, original.udp),
            }
        };
        if let Err(e) = client.set_timeouts(&timeouts) {
            info!("Failed to set ipvs timeouts: {e}");
        }
    }

    /// Empties the whole IPVS table (`lvs_flush`, `lvs_flush_on_stop`).
    fn flush(&mut self) {
        let Some(client) = self.client.as_mut() else {
            return;
        };
        if let Err(e) = client.flush() {
            error!("IPVS: {e}");
        }
        self.programmed = DesiredTable::default();
    }

    fn apply(&mut self, changes: &[Change]) {
        let Some(client) = self.client.as_mut() else {
            return;
        };
        for change in changes {
            trace!("IPVS: {change:?}");
        }
        match client.apply_all(changes) {
            Ok(report) => {
                for (index, e) in report.failures() {
                    warn!(
                        "IPVS ({:?}): {}",
                        changes.get(index).map(Change::operation),
                        e
                    );
                }
            }
            Err(e) => error!("IPVS: {e}"),
        }
    }

    fn signals(&mut self, now: Instant) {
        while let Ok(Some(info)) = self.signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGTERM | Signal::SIGINT) => self.stopping = true,
                Ok(Signal::SIGHUP) => logging::batch(|| self.reload(now)),
                Ok(Signal::SIGCHLD) => self.reap(now),
                _ => {}
            }
        }
    }

    fn reap(&mut self, now: Instant) {
        for (purpose, outcome) in self.children.reap() {
            let Purpose::Check(index) = purpose else {
                continue;
            };
            let Some(checker) = self.checkers.get(index) else {
                continue;
            };
            let dynamic = matches!(checker.work, Work::Script { dynamic: true, .. });
            let (verdict, weight) = misc_verdict(outcome, dynamic);
            self.finish(index, verdict, weight, now);
        }
    }

    /// SIGHUP: the new configuration's table replaces the old one by its difference; virtual and
    /// real servers that stay keep their health, checkers that stay keep their schedule.
    fn reload(&mut self, now: Instant) {
        // keepalived's parent says it first; with `-C` alone this process is the daemon.
        if self.standalone {
            info!("Reloading ...");
        }
        info!("Reloading");
        let Some(config) = read_config(&self.options, &mut self.memo, Reading::Reload) else {
            warn!("Reload failed: keeping the running configuration");
            return;
        };
        // keepalived stops here; the running configuration is kept instead, as for a file
        // that cannot be read.
        let tls = match tls_for(&config) {
            Ok(tls) => tls,
            Err(e) => {
                error!("{e}");
                warn!("Reload failed: keeping the running configuration");
                return;
            }
        };
        self.tls = tls;
        let read = now.elapsed();
        // The files are read again below: what they added to the weights is taken out first.
        for checker in &self.checkers {
            if let Some(rs) = self
                .pool
                .services
                .get_mut(checker.service)
                .and_then(|vs| vs.real_servers.get_mut(checker.real_server))
            {
                rs.effective_weight -= checker.file_weight;
            }
        }
        let old_config = std::mem::replace(&mut self.config, config);
        self.open_outlets();
        if !self.config.virtual_servers.is_empty() || !old_config.virtual_servers.is_empty() {
            debug!("Reinitializing ipvs");
            self.set_timeouts();
            let sync = CheckerSync::of(&self.config);
            let ops = CheckerSync::at_reload(self.sync.as_ref(), sync.as_ref());
            self.send_sync(ops);
            // keepalived forgets the old settings even when the new ones start nothing.
            self.sync = sync;
        }
        let old_checkers = std::mem::take(&mut self.checkers);
        let counterparts = Counterparts::between(&old_config, &self.config);
        let previous = previous_checkers(&old_config, &old_checkers, &counterparts);
        let old_pool = std::mem::replace(&mut self.pool, Pool::new(&self.config));
        let revived = migrate_pool(
            &old_config,
            &old_pool,
            &self.config,
            &mut self.pool,
            &counterparts,
        );
        self.reload_suspension(&counterparts);
        self.reload_removals(&old_config, &old_pool, &counterparts, now);
        for (service, real_server) in revived {
            let Some(vs_text) = self.service_name(service) else {
                continue;
            };
            let event = PoolEvent::RealServer {
                service,
                real_server,
                up: true,
            };
            self.report(&event, &vs_text, now);
        }
        // Children of the old checkers are left to finish; their results are dropped.
        self.children = Children::default();
        // The setups are numbered again for the new checkers.
        self.spares.clear();
        self.checkers = self.build_checkers(now, Some(&previous), &[]);
        let file_moves = self.read_files(true);
        self.apply_files_at_reload(&file_moves, &counterparts, &old_config, now);
        if let Some(sessions) = self.bfd_sessions.as_mut() {
            match sessions.reload(&self.config.bfd_instances, now) {
                Ok(reports) => self.bfd_reports(&reports, now),
                Err(e) => error!("BFD: {e}"),
            }
        }
        self.schedule_all();
        self.log_weight_changes(&old_config, &counterparts);
        let changes = self.sync_ipvs();
        self.reload_quorum(&old_config, &counterparts, &old_pool, now);
        if self.standalone {
            info!("Reload complete");
        }
        self.log_registered_checkers();
        info!(
            "Reload finished: {changes} IPVS changes, {} ms ({} ms reading the configuration, {} virtual_server blocks unchanged and not read again, {} services unchanged and not compared)",
            now.elapsed().as_millis(),
            read.as_millis(),
            self.memo.reused(),
            self.programmed.unchanged()
        );
    }

    /// Whether the address monitor is needed: `ha_suspend` or `-a`.
    fn follows_addresses(&self) -> bool {
        suspend::in_use(&self.config) || self.options.address_monitoring
    }

    /// `ha_suspend` or `-a` at start: the address monitor opens and the host's addresses are counted, as
    /// keepalived's checker process reads them (each one as an addition).
    fn watch_addresses(&mut self) {
        self.addresses = match Monitor::open_addresses() {
            Ok(monitor) => Some(monitor),
            Err(e) => {
                info!("Error while registering Kernel netlink reflector channel: {e}");
                None
            }
        };
        let present = match Rtnetlink::open().and_then(|mut netlink| netlink.addresses()) {
            Ok(addresses) => addresses,
            Err(e) => {
                warn!("Cannot read the interface addresses: {e}");
                Vec::new()
            }
        };
        for address in present {
            self.count_address(address.address, true);
        }
    }

    /// One address added or removed: the counts of the virtual servers it is the address of move
    /// (keepalived's `update_checker_activity`, which does nothing without checkers). Returns those
    /// virtual servers.
    fn count_address(&mut self, address: IpAddr, added: bool) -> Vec<usize> {
        let change = if added { "added" } else { "removed" };
        if self.options.address_monitoring {
            info!("Netlink reflector reports IP {address} {change}");
        }
        let any_checker = self
            .config
            .virtual_servers
            .iter()
            .any(|vs| vs.real_servers.iter().any(|rs| !rs.checkers.is_empty()));
        if !any_checker {
            return Vec::new();
        }
        let matched = self
            .suspension
            .address_changed(&self.config, address, added);
        if !matched.is_empty() && !self.options.address_monitoring {
            debug!("Netlink reflector reports IP {address} {change}");
        }
        matched
    }

    /// The address monitor has news: checkers of virtual servers whose address came are activated,
    /// those whose address went from every interface are suspended. Nothing else changes: the
    /// table and the real servers' standing stay as they are.
    fn addresses_changed(&mut self) {
        let Some(monitor) = self.addresses.as_mut() else {
            return;
        };
        let events = match monitor.read_events() {
            Ok(events) => events,
            Err(e) => {
                warn!("Netlink address monitor: {e}");
                return;
            }
        };
        for event in events {
            match event {
                NetEvent::AddressAdded(a) => self.address_event(a.address, true),
                NetEvent::AddressRemoved(a) => self.address_event(a.address, false),
                NetEvent::Link(_) | NetEvent::LinkRemoved(_) => {}
            }
        }
    }

    /// One address added or removed: the checkers of the virtual servers it is the address of are
    /// switched as keepalived switches them, each switch logged.
    fn address_event(&mut self, address: IpAddr, added: bool) {
        for service in self.count_address(address, added) {
            let active = self.suspension.is_active(service);
            let Some(vs) = self.config.virtual_servers.get(service) else {
                continue;
            };
            for checker in self.checkers.iter_mut().filter(|c| c.service == service) {
                let Some(enabled) = suspend::switch(checker.enabled, added, active) else {
                    continue;
                };
                checker.enabled = enabled;
                let rs_text = vs
                    .real_servers
                    .get(checker.real_server)
                    .map(|rs| rs_name(rs, vs))
                    .unwrap_or_default();
                info!(
                    "{} healthchecker for service {rs_text} for VS {}",
                    if enabled { "Activating" } else { "Suspending" },
                    vs_name(vs)
                );
            }
        }
    }

    /// `ha_suspend` on reload, as keepalived: the monitor stays open while a virtual server uses
    /// it, without reading the addresses again (a new virtual server counts 0); opened by this
    /// reload, it reads them; a virtual server that stays keeps its count.
    fn reload_suspension(&mut self, counterparts: &Counterparts) {
        let old = std::mem::replace(&mut self.suspension, Suspension::new(&self.config, &[]));
        if !self.follows_addresses() {
            self.addresses = None;
        } else if self.addresses.is_none() {
            self.watch_addresses();
        }
        for (index, old_index) in counterparts.old_of_new.iter().enumerate() {
            if let Some(old_index) = *old_index {
                self.suspension.carry(index, &old, old_index);
            }
        }
    }

    fn send_sync(&mut self, ops: Vec<SyncOp>) {
        if let Some(client) = self.client.as_mut() {
            sync_daemon::send(client, ops);
        }
    }

    fn shutdown(&mut self) {
        if self.standalone {
            info!("Stopping");
        }
        let flush_all = self.config.global.lvs_flush_on_stop.as_deref() == Some("all");
        if self.options.release_ipvs && flush_all && !self.config.virtual_servers.is_empty() {
            // lvs_flush_on_stop: every rule goes, ours and others'.
            self.flush();
            self.omega_notifies(false);
        } else if self.options.release_ipvs {
            let changes: Vec<Change> = self
                .programmed
                .entries
                .iter()
                .map(|entry| Change::DeleteService(entry.service.key))
                .collect();
            // With `lvs_flush_on_stop VS` keepalived removes the services without a word.
            if self.config.global.lvs_flush_on_stop.is_none() {
                let pool = &self.pool;
                report_shut_down(&self.config, |service, real_server| {
                    pool.real_server(service, real_server)
                        .is_some_and(|rs| rs.alive)
                });
            }
            if !changes.is_empty() {
                self.apply(&changes);
            }
            self.programmed = DesiredTable::default();
            // keepalived's clear_service_vs: with `lvs_flush_on_stop VS` only the virtual
            // servers are told about.
            let real_servers = self.config.global.lvs_flush_on_stop.is_none();
            self.omega_notifies(real_servers);
        }
        self.ping_groups.restore();
        if let Some(ops) = self.sync.as_ref().map(CheckerSync::at_stop) {
            self.send_sync(ops);
        }
        // keepalived's ipvs_stop: the kernel's own timeouts come back, with or without -I.
        if let (Some(original), Some(client)) = (self.original_timeouts, self.client.as_mut()) {
            if let Err(e) = client.set_timeouts(&original) {
                info!("Failed to restore ipvs timeouts: {e}");
            }
        }
    }

    /// `omega`: at stop keepalived starts the `notify_down` of each live real server (not when
    /// `lvs_flush_on_stop` flushed the table) and the virtual server's `quorum_down`, and gives
    /// them a second to finish; the FIFO lines and mails (`=> Shutting down <=`) go with them.
    fn omega_notifies(&mut self, real_servers: bool) {
        let now = Instant::now();
        let mut scripts = Vec::new();
        let mut mails = Vec::new();
        for (vs, state) in self
            .config
            .virtual_servers
            .iter()
            .zip(&mut self.pool.services)
        {
            if !vs.omega {
                continue;
            }
            for (rs, rs_state) in vs.real_servers.iter().zip(&mut state.real_servers) {
                if real_servers && rs_state.alive {
                    rs_state.alive = false;
                    scripts.extend(rs.notify_down.as_deref().cloned());
                    self.fifos.write_line(&alert::rs_fifo_line(vs, rs, false));
                    if let (Some(mailer), Some(true)) = (&self.mailer, rs.smtp_alert) {
                        let topic = alert::rs_mail_topic(vs, rs);
                        mails.extend(mailer.alert(
                            &topic,
                            alert::state(false),
                            alert::SHUTTING_DOWN,
                        ));
                    }
                }
            }
            state.quorum_up = false;
            scripts.extend(vs.quorum_down.as_deref().cloned());
            self.fifos.write_line(&alert::vs_fifo_line(vs, false));
            if let (Some(mailer), Some(true)) = (&self.mailer, vs.smtp_alert) {
                let topic = alert::vs_mail_topic(vs);
                mails.extend(mailer.alert(&topic, alert::state(false), alert::SHUTTING_DOWN));
            }
        }
        for script in &scripts {
            let user = script
                .user
                .clone()
                .or_else(|| self.config.global.script_user.clone());
            self.children.spawn(
                &script.argv,
                user.as_ref(),
                Purpose::Notify,
                Some(OMEGA_SCRIPT_TIMEOUT),
                now,
            );
        }
        let deadline = now + OMEGA_SCRIPT_TIMEOUT;
        while self.children.is_running(Purpose::Notify) && Instant::now() < deadline {
            self.children.reap();
            std::thread::sleep(Duration::from_millis(5));
        }
        self.children.kill_overdue(Instant::now());
        self.children.reap();
        // keepalived exits before its stop mails are said; ours go if the server answers in time.
        let deadline = now + STOP_MAIL_WAIT;
        while mails.iter().any(|mail| !mail.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// How long a stop waits for the mails of `omega` services to be sent.
const STOP_MAIL_WAIT: Duration = Duration::from_secs(3);

/// How long a stop waits for the `omega` notify scripts (keepalived's `system_call_script` at stop).
const OMEGA_SCRIPT_TIMEOUT: Duration = Duration::from_secs(1);

/// What a MISC_CHECK exit means: 0 good, 1 failed; with `misc_dynamic`, 2–255 good with weight
/// status − 2.
pub fn misc_verdict(outcome: Outcome, dynamic: bool) -> (Verdict, Option<i64>) {
    match outcome {
        Outcome::Exited(0) => (Verdict::Success, None),
        Outcome::Exited(code) if dynamic && (2..=255).contains(&code) => {
            (Verdict::Success, Some(i64::from(code - 2)))
        }
        Outcome::Exited(code) => (
            Verdict::failed(AttemptFailure::Other, format!("exited with status {code}")),
            None,
        ),
        Outcome::Signalled(signal) => (
            Verdict::failed(AttemptFailure::Other, format!("due to signal {signal}")),
            None,
        ),
        Outcome::TimedOut => (Verdict::failed(AttemptFailure::Other, MISC_TIMED_OUT), None),
    }
}

fn work(
    checker: &model::Checker,
    vs: &VirtualServer,
    rs: &RealServer,
    tracked_files: &[model::TrackFile],
    tls: Option<&Arc<ClientConfig>>,
) -> (Work, Vec<String>) {
    let http = |check: &model::lvs::HttpCheck, tls: Option<&Arc<ClientConfig>>| {
        let (exchange, warnings) = HttpExchange::new(
            check.clone(),
            rs.virtualhost.clone(),
            vs.virtualhost.clone(),
            tls.cloned(),
        );
        let work = Work::Net {
            target: Target::new(&checker.connection, rs.address, rs.port),
            exchange: Exchange::Http(Arc::new(exchange)),
        };
        (work, warnings)
    };
    let work = match &checker.kind {
        CheckerKind::Tcp => Work::Net {
            target: Target::new(&checker.connection, rs.address, rs.port),
            exchange: Exchange::Connect,
        },
        CheckerKind::HttpGet(check) => return http(check, None),
        CheckerKind::SslGet(check) => match tls {
            Some(tls) => return http(check, Some(tls)),
            None => Work::Idle,
        },
        CheckerKind::Udp(udp) => Work::Net {
            target: Target::new(&checker.connection, rs.address, rs.port),
            exchange: Exchange::Udp(udp.clone()),
        },
        CheckerKind::Dns(dns) => Work::Net {
            target: Target::new(&checker.connection, rs.address, rs.port),
            exchange: Exchange::Dns(dns.clone()),
        },
        CheckerKind::Smtp(smtp) => Work::Net {
            target: Target::new(&checker.connection, rs.address, rs.port),
            exchange: Exchange::Smtp(smtp.clone()),
        },
        CheckerKind::Ping => Work::Net {
            target: Target::new(&checker.connection, rs.address, rs.port),
            exchange: Exchange::Ping,
        },
        CheckerKind::Misc(misc) => match &misc.path {
            Some(script) => Work::Script {
                argv: script.argv.clone(),
                user: misc.user.clone().or_else(|| script.user.clone()),
                timeout: misc.timeout.unwrap_or(checker.timing.delay_loop),
                dynamic: misc.dynamic,
            },
            None => Work::Idle,
        },
        CheckerKind::File(file) => match tracked_files.iter().find(|t| t.name == file.track_file) {
            // The checker's own weight when given (0 too), else the track_file's
            // (`file_end_handler`).
            Some(tracked) => {
                let (weight, reverse) = match file.weight {
                    Some(weight) => (weight, file.reverse),
                    None => (tracked.weight, tracked.weight_reverse),
                };
                Work::File {
                    name: tracked.name.clone(),
                    path: PathBuf::from(&tracked.path),
                    weight,
                    reverse,
                }
            }
            None => Work::Idle,
        },
        CheckerKind::Bfd(Some(name)) => Work::Bfd { name: name.clone() },
        _ => Work::Idle,
    };
    (work, Vec::new())
}

/// Where a checker is: its virtual server's service and protocol, its real server's address and
/// port, and its position there. A checker at the same place with the same kind and connection
/// keeps its schedule across a reload.
type CheckerPlace<'a> = (&'a ServiceAddress, Protocol, IpAddr, u16, usize);

/// Where a real server is: its virtual server's service and protocol, its address and port.
type RealServerPlace<'a> = (&'a ServiceAddress, Protocol, IpAddr, u16);

/// The running configuration's checkers by place, with their settings, and its real servers.
/// An `SSL_GET` that stays over a reload starts with the TLS client that reached its server.
fn keep_tls_client(old: &Work, new: &Work) {
    if let (
        Work::Net {
            exchange: Exchange::Http(old),
            ..
        },
        Work::Net {
            exchange: Exchange::Http(new),
            ..
        },
    ) = (old, new)
    {
        new.tls_client.set(old.tls_client.get());
    }
}

/// The checkers before a reload, for the new ones to take their places.
struct PreviousCheckers<'a> {
    config: &'a Config,
    checkers: &'a [RunningChecker],
    /// Per virtual server of `config`, where its checkers are in `checkers`, in the order of
    /// its real servers and theirs (they are made in the order of the configuration).
    of_service: Vec<Range<usize>>,
    /// Per virtual server of the new configuration, its counterpart in `config`.
    old_of_new: &'a [Option<usize>],
    /// Whether two virtual servers of `config` are the same service.
    old_has_duplicates: bool,
}

/// A checker before a reload, with its settings.
type PreviousChecker<'a> = (&'a model::Checker, &'a RunningChecker);

impl<'a> PreviousCheckers<'a> {
    /// The running configuration's checkers by place (of duplicates, the last).
    fn by_place(&self) -> FxHashMap<CheckerPlace<'a>, PreviousChecker<'a>> {
        let mut by_place =
            FxHashMap::with_capacity_and_hasher(self.checkers.len(), Default::default());
        for running in self.checkers {
            let Some((vs, rs, checker)) = running.model_in(self.config) else {
                continue;
            };
            by_place.insert(
                (&vs.service, vs.protocol, rs.address, rs.port, running.index),
                (checker, running),
            );
        }
        by_place
    }

    /// Where the checkers of the new configuration's virtual server `new_index`, `vs`, had
    /// their places before. Its counterpart of the same protocol answers for
    /// [`PreviousCheckers::by_place`]: it is the last virtual server of that place.
    fn places_of(&self, new_index: usize, vs: &Arc<VirtualServer>) -> EarlierPlaces<'a> {
        let Some(&Some(old_index)) = self.old_of_new.get(new_index) else {
            // No virtual server was its service, of any protocol.
            return EarlierPlaces::None;
        };
        match self.config.virtual_servers.get(old_index) {
            Some(old_vs) if old_vs.protocol == vs.protocol => {
                EarlierPlaces::Counterpart(Counterpart {
                    index: old_index,
                    vs: old_vs,
                    // The same model has its real servers where they were.
                    real_servers: (!Arc::ptr_eq(old_vs, vs)).then(|| RealServerLookup::new(old_vs)),
                })
            }
            _ => EarlierPlaces::ByPlace,
        }
    }

    /// The checker at `index` of real server `rs`, the `rs_index`th of the virtual server whose
    /// checkers were at `places`, as [`PreviousCheckers::by_place`] has it; `None` when only
    /// that can say (its counterpart has another protocol, or no such checker while an earlier
    /// virtual server of the same place may have).
    fn at(
        &self,
        places: &EarlierPlaces<'a>,
        rs_index: usize,
        rs: &RealServer,
        index: usize,
    ) -> Option<Option<PreviousChecker<'a>>> {
        let counterpart = match places {
            EarlierPlaces::None => return Some(None),
            EarlierPlaces::Counterpart(counterpart) => counterpart,
            EarlierPlaces::ByPlace => return None,
        };
        let unique = !self.old_has_duplicates;
        let old_rs_index = match &counterpart.real_servers {
            None => Some(rs_index),
            Some(lookup) => lookup.find(rs),
        };
        let checker = old_rs_index
            .and_then(|i| counterpart.vs.real_servers.get(i))
            .and_then(|old_rs| old_rs.checkers.get(index));
        let (Some(old_rs_index), Some(checker)) = (old_rs_index, checker) else {
            return unique.then_some(None);
        };
        let range = self.of_service.get(counterpart.index)?.clone();
        let running = self.checkers.get(range)?;
        let found = running
            .binary_search_by_key(&(old_rs_index, index), |c| (c.real_server, c.index))
            .ok()
            .and_then(|at| running.get(at));
        Some(found.map(|running| (checker, running)))
    }
}

/// Where the checkers of a new virtual server were before a reload.
enum EarlierPlaces<'a> {
    /// Nowhere: no virtual server before was its service.
    None,
    /// In its counterpart, as far as that can say.
    Counterpart(Counterpart<'a>),
    /// Only [`PreviousCheckers::by_place`] can say (its counterpart has another protocol).
    ByPlace,
}

/// The counterpart of a virtual server before a reload, of the same protocol.
struct Counterpart<'a> {
    index: usize,
    vs: &'a VirtualServer,
    /// Its real servers by address and port; `None` when it is the same model as the new one.
    real_servers: Option<RealServerLookup<'a>>,
}

/// The real servers of `config`, by place.
fn real_servers_of(config: &Config) -> FxHashSet<RealServerPlace<'_>> {
    config
        .virtual_servers
        .iter()
        .flat_map(|vs| {
            vs.real_servers
                .iter()
                .map(move |rs| (&vs.service, vs.protocol, rs.address, rs.port))
        })
        .collect()
}

fn previous_checkers<'a>(
    config: &'a Config,
    checkers: &'a [RunningChecker],
    counterparts: &'a Counterparts,
) -> PreviousCheckers<'a> {
    let mut of_service = vec![0..0; config.virtual_servers.len()];
    for (at, running) in checkers.iter().enumerate() {
        if let Some(range) = of_service.get_mut(running.service) {
            if range.start == range.end {
                *range = at..at;
            }
            range.end = at + 1;
        }
    }
    PreviousCheckers {
        config,
        checkers,
        of_service,
        old_of_new: &counterparts.old_of_new,
        old_has_duplicates: counterparts.old_has_duplicates,
    }
}

/// What identifies a virtual server across a reload: its service, and its protocol unless it is
/// a fwmark or group service.
fn service_identity(vs: &VirtualServer) -> (&ServiceAddress, Option<Protocol>) {
    match &vs.service {
        ServiceAddress::Address { .. } => (&vs.service, Some(vs.protocol)),
        _ => (&vs.service, None),
    }
}

/// Which virtual servers of two configurations are the same service ([`service_identity`]; of
/// duplicates, the last): what a reload carries over from one to the other.
struct Counterparts {
    /// Per virtual server of the new configuration, its place in the old one.
    old_of_new: Vec<Option<usize>>,
    /// Per virtual server of the old configuration, its place in the new one.
    new_of_old: Vec<Option<usize>>,
    /// Whether two virtual servers of the old configuration are the same service.
    old_has_duplicates: bool,
}

impl Counterparts {
    fn between(old: &Config, new: &Config) -> Self {
        let (old_services, new_services) = (services_by_identity(old), services_by_identity(new));
        let find =
            |services: &FxHashMap<_, usize>, vs| services.get(&service_identity(vs)).copied();
        Counterparts {
            old_of_new: new
                .virtual_servers
                .iter()
                .map(|vs| find(&old_services, vs))
                .collect(),
            new_of_old: old
                .virtual_servers
                .iter()
                .map(|vs| find(&new_services, vs))
                .collect(),
            old_has_duplicates: old_services.len() < old.virtual_servers.len(),
        }
    }
}

/// The index of each virtual server of `config` by [`service_identity`] (the last of duplicates).
fn services_by_identity(config: &Config) -> FxHashMap<(&ServiceAddress, Option<Protocol>), usize> {
    config
        .virtual_servers
        .iter()
        .enumerate()
        .map(|(index, vs)| (service_identity(vs), index))
        .collect()
}

/// The real servers of a virtual server by address and port (the last of duplicates), searched
/// when they are few, mapped when a search would cost more than building the map.
struct RealServerLookup<'a> {
    servers: &'a [RealServer],
    map: Option<FxHashMap<(IpAddr, u16), usize>>,
}

impl<'a> RealServerLookup<'a> {
    /// Up to this many real servers are searched rather than mapped.
    const FEW: usize = 8;

    fn new(vs: &'a VirtualServer) -> Self {
        let servers = vs.real_servers.as_slice();
        let map = (servers.len() > Self::FEW).then(|| {
            servers
                .iter()
                .enumerate()
                .map(|(i, rs)| ((rs.address, rs.port), i))
                .collect()
        });
        RealServerLookup { servers, map }
    }

    /// The index of the real server at `rs`'s address and port.
    fn find(&self, rs: &RealServer) -> Option<usize> {
        match &self.map {
            Some(map) => map.get(&(rs.address, rs.port)).copied(),
            None => self
                .servers
                .iter()
                .rposition(|old| old.address == rs.address && old.port == rs.port),
        }
    }
}

/// Carries health across a reload as keepalived's `migrate_checkers` does: a virtual server that
/// stays keeps its quorum state; a real server that stays keeps whether it is alive, its effective
/// weight and the standing of its checkers that stay. FILE_CHECKs are made anew, good (their files
/// are applied after). Returns the real servers that were down and have no failed checker left:
/// keepalived puts them back, with their lines and scripts.
fn migrate_pool(
    old_config: &Config,
    old_pool: &Pool,
    new_config: &Config,
    new_pool: &mut Pool,
    counterparts: &Counterparts,
) -> Vec<(usize, usize)> {
    let mut revived = Vec::new();
    for (new_index, new_vs) in new_config.virtual_servers.iter().enumerate() {
        let Some(&Some(old_index)) = counterparts.old_of_new.get(new_index) else {
            continue;
        };
        let (Some(old_state), Some(new_state)) = (
            old_pool.services.get(old_index),
            new_pool.services.get_mut(new_index),
        ) else {
            continue;
        };
        let old_vs = &old_config.virtual_servers[old_index];
        new_state.quorum_up = old_state.quorum_up;
        let old_servers = RealServerLookup::new(old_vs);
        for (rs_index, rs) in new_vs.real_servers.iter().enumerate() {
            let Some(old_rs_index) = old_servers.find(rs) else {
                continue;
            };
            let old_rs_state = &old_state.real_servers[old_rs_index];
            let old_rs = &old_vs.real_servers[old_rs_index];
            let new_rs_state = &mut new_state.real_servers[rs_index];
            if old_rs.weight == rs.weight {
                new_rs_state.effective_weight = old_rs_state.effective_weight;
            }
            for (c_index, checker) in rs.checkers.iter().enumerate() {
                if matches!(checker.kind, CheckerKind::File(_)) {
                    new_rs_state.checkers[c_index] = CheckerState {
                        up: true,
                        has_run: true,
                    };
                    continue;
                }
                let matched = old_rs
                    .checkers
                    .get(c_index)
                    .filter(|o| o.kind == checker.kind && o.connection == checker.connection)
                    .and_then(|_| old_rs_state.checkers.get(c_index));
                if let Some(old_checker) = matched.filter(|old| old.has_run) {
                    new_rs_state.checkers[c_index] = old_checker.clone();
                }
            }
            let states = &mut new_rs_state.checkers;
            let failed = states.iter().any(|c| c.has_run && !c.up);
            let any_run = states.iter().any(|c| c.has_run);
            // New alpha checkers start failed only next to a failed one, or on a server that is
            // down with no result at all; otherwise they do not take it out until they have run.
            if !failed && (old_rs_state.alive || any_run) {
                for (c_index, checker) in rs.checkers.iter().enumerate() {
                    if checker.alpha && !states[c_index].has_run {
                        states[c_index].up = true;
                    }
                }
            }
            let all_up = states.iter().all(|c| c.up);
            new_rs_state.alive = all_up;
            if !old_rs_state.alive && all_up {
                revived.push((new_index, rs_index));
            }
        }
        new_pool.refresh_quorum(new_index);
    }
    revived
}

/// keepalived's `FMT_VS`: `[10.0.0.1]:tcp:80`, `FWM 7`, `[G]:0`.
fn vs_name(vs: &VirtualServer) -> String {
    alert::vs_text(vs)
}

/// The groups of two virtual servers that are counterparts, when both are groups.
fn groups_of<'a>(
    old_config: &'a Config,
    old_vs: &VirtualServer,
    new_config: &'a Config,
    new_vs: &VirtualServer,
) -> Option<(&'a VirtualServerGroup, &'a VirtualServerGroup)> {
    let group = |config: &'a Config, vs: &VirtualServer| match &vs.service {
        ServiceAddress::Group(name) => config
            .virtual_server_groups
            .iter()
            .find(|group| &group.name == name),
        _ => None,
    };
    Some((group(old_config, old_vs)?, group(new_config, new_vs)?))
}

/// Whether two virtual servers have a sorry server at the same address and port (keepalived's
/// `rs_iseq` in `clear_diff_s_srv`: the same sorry server across a reload).
fn same_sorry_server(old_vs: &VirtualServer, new_vs: &VirtualServer) -> bool {
    match (&old_vs.sorry_server, &new_vs.sorry_server) {
        (Some(old), Some(new)) => old.address == new.address && old.port == new.port,
        _ => false,
    }
}

/// Logs each line at the info level.
fn log_lines(lines: impl IntoIterator<Item = String>) {
    for line in lines {
        info!("{line}");
    }
}

/// keepalived's names of a real server and its virtual server (`FMT_RS`, `FMT_VS`).
fn server_names(config: &Config, service: usize, real_server: usize) -> Option<(String, String)> {
    let vs = config.virtual_servers.get(service)?;
    let rs = vs.real_servers.get(real_server)?;
    Some((rs_name(rs, vs), vs_name(vs)))
}

/// keepalived's `FMT_RS`, as the log lines name a real server: `[10.0.2.11]:tcp:80`.
fn rs_name(rs: &RealServer, vs: &VirtualServer) -> String {
    lvs::alert::rs_text(vs, rs.address, rs.port)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use ipvs::table::changes_between;
    use keepalived_config::env::FixedEnvironment;
    use keepalived_config::load;
    use lvs::desired_table;

    use super::*;
    use crate::tls::TlsClient;

    /// What the daemon wrote to the FIFO at `path` and nobody read yet.
    fn waiting_lines(path: &std::path::Path) -> String {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .expect("the FIFO");
        let mut lines = [0u8; 4096];
        let read = match reader.read(&mut lines) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            read => read.expect("lines"),
        };
        String::from_utf8_lossy(&lines[..read]).into_owned()
    }

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    fn config(text: &str) -> Config {
        config_with(text, &LoadOptions::default())
    }

    /// The configuration as the checker process alone reads it (`-C`).
    fn checker_config(text: &str) -> Config {
        let options = LoadOptions {
            subsystems: keepalived_config::Subsystems {
                vrrp: false,
                checker: true,
                bfd: false,
            },
            ..LoadOptions::default()
        };
        config_with(text, &options)
    }

    fn config_with(text: &str, options: &LoadOptions) -> Config {
        let dir = std::env::temp_dir().join(format!(
            "lvs-runtime-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join("keepalived.conf");
        std::fs::write(&path, text).expect("write configuration");
        let loaded = load(
            &path.to_string_lossy(),
            options,
            &FixedEnvironment::minimal(),
        );
        let _ = std::fs::remove_dir_all(&dir);
        loaded.config
    }

    const OLD: &str = "virtual_server 10.0.0.1 80 {\n protocol TCP\n\
        real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n\
        real_server 192.168.0.2 80 {\n TCP_CHECK {\n }\n }\n}\n";

    #[test]
    fn reload_keeps_the_health_of_what_stays() {
        let old = config(OLD);
        let mut old_pool = Pool::new(&old);
        old_pool.checker_result(0, 0, 0, false);
        old_pool.checker_result(0, 1, 0, true);
        // rs2 gets a new weight, rs3 is new with an alpha checker, and a second service appears.
        let new = config(
            "virtual_server 10.0.0.9 80 {\n protocol TCP\n real_server 192.168.0.1 80 {\n }\n}\n\
             virtual_server 10.0.0.1 80 {\n protocol TCP\n\
             real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n\
             real_server 192.168.0.2 80 {\n weight 5\n TCP_CHECK {\n }\n }\n\
             real_server 192.168.0.3 80 {\n TCP_CHECK {\n alpha\n }\n }\n}\n",
        );
        let mut new_pool = Pool::new(&new);
        migrate_pool(
            &old,
            &old_pool,
            &new,
            &mut new_pool,
            &Counterparts::between(&old, &new),
        );
        let kept = &new_pool.services[1];
        assert!(!kept.real_servers[0].alive, "the failed server stays out");
        assert!(!kept.real_servers[0].checkers[0].up);
        assert!(kept.real_servers[1].alive);
        assert_eq!(kept.real_servers[1].weight(), 5);
        assert!(!kept.real_servers[2].alive, "a new alpha server starts out");
        assert!(new_pool.services[0].real_servers[0].alive);
    }

    #[test]
    fn reload_changes_only_the_difference() {
        let old = config(OLD);
        let mut pool = Pool::new(&old);
        pool.checker_result(0, 0, 0, false);
        let programmed = desired_table(&old, &pool);
        let new = config(&OLD.replace(
            "real_server 192.168.0.2 80 {",
            "real_server 192.168.0.2 80 {\n weight 2",
        ));
        let mut new_pool = Pool::new(&new);
        migrate_pool(
            &old,
            &pool,
            &new,
            &mut new_pool,
            &Counterparts::between(&old, &new),
        );
        let changes = changes_between(&programmed, &desired_table(&new, &new_pool));
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(
            matches!(&changes[0], Change::UpdateDestination { destination, .. } if destination.weight == 2)
        );
    }

    fn daemon(config: Config) -> Daemon {
        let options = CheckerOptions {
            config_file: String::new(),
            load_options: LoadOptions::default(),
            log: LogSettings {
                console: false,
                syslog: false,
                facility: vrrpd_runtime::logging::Facility::Daemon,
                file: None,
                flush_file: false,
                detailed: false,
                ident: "test".into(),
            },
            foreground: true,
            pid_files: Vec::new(),
            namespace: None,
            enter_namespace: false,
            release_ipvs: false,
            metrics_listen: None,
            address_monitoring: false,
            without_ipvs: false,
            config_messages: ConfigMessages::All,
        };
        // An empty mask: nothing is blocked, the descriptor only fills the slot.
        let signals = SignalFd::new(&nix::sys::signal::SigSet::empty()).expect("signalfd");
        let tls = tls_for(&config).expect("SSL context");
        Daemon::new(options, config, tls, None, signals, false)
    }

    #[test]
    fn metrics_show_health_weight_counters_and_checks() {
        let mut d = daemon(config(&OLD.replace(
            "real_server 192.168.0.2 80 {",
            "real_server 192.168.0.2 80 {\n weight 3",
        )));
        let now = Instant::now();
        d.checkers[0].started = Some(now - Duration::from_millis(3));
        d.finish(0, Verdict::Success, None, now);
        // TCP_CHECK's default retry is 1: the second failure takes the server out.
        for _ in 0..2 {
            d.checkers[1].started = Some(now);
            d.finish(
                1,
                Verdict::failed(AttemptFailure::ConnectFailed, "refused"),
                None,
                now,
            );
        }
        assert!(!d.pool.services[0].real_servers[1].alive);
        // The kernel as a scrape would read it: the service with counters, rs1 in it.
        let mut kernel = d.programmed.entries.clone();
        kernel[0].service.stats = Some(ipvs::model::Stats {
            connections: 7,
            in_bytes: 900,
            out_bytes: 1200,
            cps: 1,
            ..Default::default()
        });
        kernel[0].destinations[0].active_connections = 2;
        kernel[0].destinations[0].stats = Some(ipvs::model::Stats {
            connections: 7,
            ..Default::default()
        });
        let view = d.metrics_view(Some(&kernel));
        let text = crate::metrics::render(&view);
        let vs = "virtual_server=\"TCP 10.0.0.1:80\"";
        let rs1 = format!("{vs},real_server=\"192.168.0.1:80\"");
        let rs2 = format!("{vs},real_server=\"192.168.0.2:80\"");
        for line in [
            "lvs_ipvs_up 1".to_owned(),
            format!("lvs_virtual_server_quorum_up{{{vs}}} 1"),
            format!("lvs_virtual_server_connections_total{{{vs}}} 7"),
            format!("lvs_virtual_server_bytes_total{{{vs},direction=\"out\"}} 1200"),
            format!("lvs_virtual_server_connections_per_second{{{vs}}} 1"),
            format!("lvs_real_server_up{{{rs1}}} 1"),
            format!("lvs_real_server_up{{{rs2}}} 0"),
            format!("lvs_real_server_weight{{{rs1}}} 1"),
            format!("lvs_real_server_weight{{{rs2}}} 0"),
            format!("lvs_real_server_active_connections{{{rs1}}} 2"),
            format!("lvs_real_server_connections_total{{{rs1}}} 7"),
            format!(
                "lvs_real_server_checks_total{{{rs1},checker=\"TCP_CHECK\",result=\"success\"}} 1"
            ),
            format!(
                "lvs_real_server_checks_total{{{rs2},checker=\"TCP_CHECK\",result=\"failure\"}} 2"
            ),
            format!(
                "lvs_real_server_check_duration_seconds_count{{{rs1},checker=\"TCP_CHECK\"}} 1"
            ),
            "lvs_check_duration_seconds_bucket{checker=\"TCP_CHECK\",le=\"0.0025\"} 0".to_owned(),
            "lvs_check_duration_seconds_bucket{checker=\"TCP_CHECK\",le=\"0.005\"} 1".to_owned(),
            "lvs_check_duration_seconds_count{checker=\"TCP_CHECK\"} 1".to_owned(),
            "# TYPE lvs_real_server_checks_total counter".to_owned(),
            "# TYPE lvs_check_duration_seconds histogram".to_owned(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
        // rs2 is not in the kernel: no IPVS counters for it.
        assert!(!text.contains(&format!("lvs_real_server_connections_total{{{rs2}}}")));
        // Each family's samples come together, after its one TYPE line.
        let mut seen = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            if seen.last() != Some(&family) {
                assert!(!seen.contains(&family), "{family} split in\n{text}");
                seen.push(family);
            }
        }
        // Without the kernel: health and checks stay, the counters go.
        let view = LvsView {
            kernel: None,
            ..view
        };
        let text = crate::metrics::render(&view);
        assert!(text.contains("lvs_ipvs_up 0\n"));
        assert!(text.contains(&format!("lvs_real_server_up{{{rs1}}} 1\n")));
        assert!(!text.contains("lvs_virtual_server_connections_total{"));
    }

    #[test]
    fn a_respawned_checker_keeps_out_the_servers_its_predecessor_took_out() {
        let mut d = daemon(config(OLD));
        let mut table = desired_table(&d.config, &d.pool);
        // The dead process had taken 192.168.0.2 out.
        table[0]
            .destinations
            .retain(|dest| dest.port == 80 && dest.address.to_string() == "192.168.0.1");
        let down = d.servers_left_out(&table);
        assert_eq!(down, [(0, 1)]);
        assert!(d.pool.services[0].real_servers[0].alive);
        assert!(!d.pool.services[0].real_servers[1].alive);
        d.checkers = d.build_checkers(Instant::now(), None, &down);
        // Its table is what the new process programs, so nothing changes in the kernel.
        assert!(changes_between(&table, &desired_table(&d.config, &d.pool)).is_empty());
        // The first success brings it back.
        let now = Instant::now();
        d.finish(1, Verdict::Success, None, now);
        assert!(d.pool.services[0].real_servers[1].alive);
    }

    fn file_config(path: &std::path::Path, check: &str) -> Config {
        checker_config(&format!(
            "track_file state {{\n file {}\n}}\n\
             virtual_server 10.0.0.1 80 {{\n protocol TCP\n\
             real_server 192.168.0.1 80 {{\n weight 2\n FILE_CHECK {{\n track_file state\n{check} }}\n }}\n\
             real_server 192.168.0.2 80 {{\n }}\n}}\n",
            path.display()
        ))
    }

    fn file_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "lvs-runtime-file-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        dir
    }

    /// Each new checker's earlier one, found through its virtual server's counterpart, is the
    /// one the checkers by place give, whenever the counterpart answers: for the same models,
    /// models read again, changed, moved, with real servers added, removed and reordered, and
    /// beside duplicate services before the reload.
    #[test]
    fn a_counterpart_finds_the_checker_the_places_do() {
        let block = |address: &str, servers: &[(&str, u16)]| {
            let servers: String = servers
                .iter()
                .map(|(rs, port)| {
                    format!(
                        " real_server {rs} {port} {{\n TCP_CHECK {{\n }}\n TCP_CHECK {{\n connect_port 9\n }}\n }}\n"
                    )
                })
                .collect();
            format!("virtual_server {address} {{\n protocol TCP\n{servers}}}\n")
        };
        let a = [
            ("192.168.0.1", 80),
            ("192.168.0.2", 80),
            ("192.168.0.3", 81),
        ];
        let old_text = [
            block("10.0.0.1 80", &a),
            block("10.0.0.2 80", &a[..1]),
            block("fwmark 7", &a[1..]),
            block("10.0.0.3 80", &a),
        ]
        .concat();
        let old = checker_config(&old_text);
        let old_daemon = daemon(old.clone());
        let reordered = [a[2], a[0], ("192.168.0.9", 80)];
        let changed = [
            block("10.0.0.3 80", &a),
            block("10.0.0.1 80", &reordered),
            block("fwmark 7", &a),
            block("10.0.0.4 80", &a),
        ]
        .concat();
        // The same models, some of them replaced by models read again.
        let mut mixed = old.clone();
        let read_again = checker_config(&old_text);
        mixed.virtual_servers[1] = read_again.virtual_servers[1].clone();
        mixed.virtual_servers.swap(0, 3);
        let with_duplicates = [
            old_text.clone(),
            block("fwmark 7", &a[..2]).replace("TCP\n", "UDP\n"),
        ]
        .concat();
        let cases = [
            (old.clone(), old.clone()),
            (old.clone(), read_again),
            (old.clone(), checker_config(&changed)),
            (old.clone(), mixed),
            (checker_config(&with_duplicates), checker_config(&changed)),
        ];
        for (n, (old, new)) in cases.into_iter().enumerate() {
            let old_daemon = if n == 4 {
                daemon(old.clone())
            } else {
                daemon(old_daemon.config.clone())
            };
            let counterparts = Counterparts::between(&old, &new);
            let previous = previous_checkers(&old, &old_daemon.checkers, &counterparts);
            let by_place = previous.by_place();
            let (mut answered, mut checkers) = (0, 0);
            for (service, vs) in new.virtual_servers.iter().enumerate() {
                let places = previous.places_of(service, vs);
                for (real_server, rs) in vs.real_servers.iter().enumerate() {
                    for index in 0..rs.checkers.len() {
                        checkers += 1;
                        let expected = by_place
                            .get(&(&vs.service, vs.protocol, rs.address, rs.port, index))
                            .map(|(_, running)| *running as *const RunningChecker);
                        let Some(found) = previous.at(&places, real_server, rs, index) else {
                            continue;
                        };
                        answered += 1;
                        let found = found.map(|(_, running)| running as *const RunningChecker);
                        assert_eq!(found, expected, "case {n}: {:?} {}", vs.service, rs.address);
                    }
                }
            }
            // Only beside duplicates do some need the places.
            assert!(checkers > 0);
            if n == 4 {
                assert!(answered < checkers, "case {n}: {answered} of {checkers}");
            } else {
                assert_eq!(answered, checkers, "case {n}");
            }
        }
    }

    #[test]
    fn reload_keeps_the_schedule_of_checkers_that_stay() {
        let dir = file_dir("reload");
        let path = dir.join("keepalived.conf");
        let text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n delay_loop 60\n\
             real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n\
             real_server 192.168.0.2 80 {\n TCP_CHECK {\n connect_port 81\n }\n }\n}\n\
             virtual_server fwmark 7 {\n delay_loop 60\n\
             real_server 192.168.0.3 80 {\n TCP_CHECK {\n }\n }\n}\n";
        std::fs::write(&path, text).expect("write configuration");
        let mut daemon = daemon(config(text));
        daemon.options.config_file = path.to_string_lossy().into_owned();
        let next = |daemon: &Daemon| -> Vec<Option<Instant>> {
            daemon
                .checkers
                .iter()
                .map(|c| c.schedule.next_attempt())
                .collect()
        };
        // Only a checker that has run carries its schedule over (keepalived's `migrate_checkers`).
        let ran = Instant::now() + Duration::from_secs(120);
        for checker in &mut daemon.checkers {
            assert!(checker.schedule.start(ran).is_some());
            checker.schedule.finish(true, ran);
        }
        let before = next(&daemon);
        assert_eq!(before.len(), 3);
        // The second checker's connection changes; a weight of the first server changes.
        std::fs::write(
            &path,
            text.replace("connect_port 81", "connect_port 82").replacen(
                "real_server 192.168.0.1 80 {\n",
                "real_server 192.168.0.1 80 {\n weight 3\n",
                1,
            ),
        )
        .expect("write configuration");
        daemon.reload(Instant::now() + Duration::from_millis(100));
        let after = next(&daemon);
        assert_eq!(after[0], before[0], "the same checker keeps its schedule");
        assert_ne!(after[1], before[1], "a changed checker starts over");
        assert_eq!(after[2], before[2], "the fwmark service's checker too");
        assert_eq!(daemon.pool.services[0].real_servers[0].weight(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Runs checker `index`'s next attempt to its end as the event loop does; the identity
    /// (inode) of the socket it used. The other checkers are suspended meanwhile: those due
    /// by then look again `delay_loop` later.
    fn run_attempt(daemon: &mut Daemon, index: usize) -> PathBuf {
        let due = daemon.checkers[index]
            .schedule
            .next_attempt()
            .expect("scheduled");
        let enabled: Vec<bool> = daemon.checkers.iter().map(|c| c.enabled).collect();
        for (other, checker) in daemon.checkers.iter_mut().enumerate() {
            checker.enabled = other == index;
        }
        daemon.start_due(due);
        for (checker, enabled) in daemon.checkers.iter_mut().zip(enabled) {
            checker.enabled = enabled;
        }
        let probe = daemon.checkers[index].probe.as_mut().expect("in flight");
        let socket = crate::probes::test_support::socket_identity(probe);
        let verdict = crate::probes::test_support::run_to_verdict(probe);
        daemon.land(index);
        daemon.finish(index, verdict, None, due);
        socket
    }

    #[test]
    fn a_refused_socket_serves_the_next_attempt_of_any_checker_until_reloaded() {
        let closed_port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port()
        };
        let (first, second) = (closed_port(), closed_port());
        let dir = file_dir("spare");
        let path = dir.join("keepalived.conf");
        let text = format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n delay_loop 60\n\
             real_server 127.0.0.1 {first} {{\n TCP_CHECK {{\n }}\n }}\n\
             real_server 127.0.0.1 {second} {{\n TCP_CHECK {{\n }}\n }}\n}}\n\
             virtual_server 10.0.0.2 80 {{\n protocol TCP\n delay_loop 60\n\
             real_server 127.0.0.1 {first} {{\n TCP_CHECK {{\n fwmark 5\n }}\n }}\n}}\n"
        );
        std::fs::write(&path, &text).expect("write configuration");
        let mut daemon = daemon(config(&text));
        daemon.options.config_file = path.to_string_lossy().into_owned();
        let socket = run_attempt(&mut daemon, 0);
        assert_eq!(daemon.spares.kept(), 1);
        assert_eq!(
            run_attempt(&mut daemon, 1),
            socket,
            "the other checker's attempt on the refused socket"
        );
        assert_eq!(daemon.spares.kept(), 1);
        assert_eq!(run_attempt(&mut daemon, 0), socket, "and back");
        assert_eq!(daemon.checkers[0].counts.failures, 2);
        assert_eq!(daemon.checkers[1].counts.failures, 1);
        // Another setup (a fwmark) has its own sockets.
        assert_ne!(run_attempt(&mut daemon, 2), socket);
        assert_eq!(daemon.spares.kept(), 2);
        // Out of budget: the socket is used once more, then closed.
        daemon.spares.set_limit(0);
        assert_eq!(run_attempt(&mut daemon, 1), socket);
        assert_eq!(daemon.spares.kept(), 1);
        daemon.spares.set_limit(2);
        let fresh = run_attempt(&mut daemon, 1);
        assert_ne!(fresh, socket);
        assert_eq!(daemon.spares.kept(), 2);
        // A reload closes them.
        daemon.reload(Instant::now());
        assert_eq!(daemon.spares.kept(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ha_suspend_pauses_the_checkers_while_the_address_is_not_local() {
        // 127.0.0.1 is on lo; 10.255.0.1 is on no interface of the host running the test.
        let text = "virtual_server 10.255.0.1 80 {\n protocol TCP\n ha_suspend\n delay_loop 6\n\
             real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n\
             virtual_server 127.0.0.1 80 {\n protocol TCP\n ha_suspend\n\
             real_server 192.168.0.2 80 {\n TCP_CHECK {\n }\n }\n}\n\
             virtual_server 10.255.0.2 80 {\n protocol TCP\n\
             real_server 192.168.0.3 80 {\n TCP_CHECK {\n }\n }\n}\n";
        let mut daemon = daemon(config(text));
        if daemon.addresses.is_none() {
            eprintln!("skipped: no rtnetlink here");
            return;
        }
        let enabled =
            |daemon: &Daemon| -> Vec<bool> { daemon.checkers.iter().map(|c| c.enabled).collect() };
        assert_eq!(enabled(&daemon), [false, true, true]);
        // A suspended checker makes no attempt when due: it looks again delay_loop later.
        let due = daemon.checkers[0]
            .schedule
            .next_attempt()
            .expect("scheduled");
        daemon.start_due(due);
        assert!(daemon.checkers[0].probe.is_none());
        assert!(!daemon.checkers[0].schedule.has_run());
        assert_eq!(
            daemon.checkers[0].schedule.next_attempt(),
            Some(due + Duration::from_secs(6))
        );
        let before = desired_table(&daemon.config, &daemon.pool);
        let vip: IpAddr = "10.255.0.1".parse().expect("address");
        daemon.address_event(vip, true);
        assert_eq!(enabled(&daemon), [true, true, true]);
        // On two interfaces: suspended only once it has gone from both.
        daemon.address_event(vip, true);
        daemon.address_event(vip, false);
        assert_eq!(enabled(&daemon), [true, true, true]);
        daemon.address_event(vip, false);
        assert_eq!(enabled(&daemon), [false, true, true]);
        // The address of a service without ha_suspend changes nothing.
        daemon.address_event("10.255.0.2".parse().expect("address"), false);
        assert_eq!(enabled(&daemon), [false, true, true]);
        assert_eq!(desired_table(&daemon.config, &daemon.pool), before);
    }

    #[test]
    fn ha_suspend_counts_survive_a_reload_and_a_new_service_starts_suspended() {
        let dir = file_dir("suspend-reload");
        let path = dir.join("keepalived.conf");
        let text = "virtual_server 10.255.0.1 80 {\n protocol TCP\n ha_suspend\n\
             real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n";
        std::fs::write(&path, text).expect("write configuration");
        let mut daemon = daemon(config(text));
        daemon.options.config_file = path.to_string_lossy().into_owned();
        if daemon.addresses.is_none() {
            eprintln!("skipped: no rtnetlink here");
            return;
        }
        daemon.address_event("10.255.0.1".parse().expect("address"), true);
        // keepalived reads no addresses on reload: the local 127.0.0.1 of the new service counts 0.
        std::fs::write(
            &path,
            format!(
                "{text}virtual_server 127.0.0.1 80 {{\n protocol TCP\n ha_suspend\n\
                 real_server 192.168.0.2 80 {{\n TCP_CHECK {{\n }}\n }}\n}}\n"
            ),
        )
        .expect("write configuration");
        daemon.reload(Instant::now());
        let enabled: Vec<bool> = daemon.checkers.iter().map(|c| c.enabled).collect();
        assert_eq!(enabled, [true, false]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_reload_applies_the_files_as_keepalived_does() {
        let dir = file_dir("reload-files");
        let path = dir.join("keepalived.conf");
        let fifo = dir.join("fifo");
        let fault = dir.join("fault");
        std::fs::write(&fault, "1\n").expect("write");
        let text = format!(
            "global_defs {{\n notify_fifo {}\n}}\n\
             track_file fault {{\n file {}\n weight 0\n}}\n\
             virtual_server 10.0.0.1 80 {{\n protocol TCP\n\
             real_server 192.168.0.1 80 {{\n FILE_CHECK {{\n track_file fault\n }}\n }}\n\
             real_server 192.168.0.2 80 {{\n FILE_CHECK {{\n track_file fault\n weight 0 reverse\n }}\n }}\n\
             real_server 192.168.0.3 80 {{\n }}\n",
            fifo.display(),
            fault.display()
        );
        std::fs::write(&path, format!("{text}}}\n")).expect("write configuration");
        let mut daemon = daemon(config(&format!("{text}}}\n")));
        daemon.options.config_file = path.to_string_lossy().into_owned();
        let alive = |d: &Daemon| -> Vec<bool> {
            d.pool.services[0]
                .real_servers
                .iter()
                .map(|rs| rs.alive)
                .collect()
        };
        // At start a non-zero value fails both, `reverse` or not.
        assert_eq!(alive(&daemon), [false, false, true]);
        let _ = waiting_lines(&fifo);
        // The same configuration, a FILE_CHECK added to the third server, and a new server whose
        // file fails it.
        std::fs::write(
            &path,
            format!(
                "{}real_server 192.168.0.3 80 {{\n FILE_CHECK {{\n track_file fault\n }}\n }}\n\
                 real_server 192.168.0.4 80 {{\n FILE_CHECK {{\n track_file fault\n }}\n }}\n}}\n",
                text.trim_end_matches("real_server 192.168.0.3 80 {\n }\n")
            ),
        )
        .expect("write configuration");
        daemon.reload(Instant::now());
        // The first is put back by the migration and taken out by its file, the second (reversed)
        // is put back and stays, the third goes out; the new one is left out without a word.
        assert_eq!(alive(&daemon), [false, true, false, false]);
        let lines = waiting_lines(&fifo);
        let expected = [
            "RS [192.168.0.1]:tcp:80 [10.0.0.1]:tcp:80 UP",
            "RS [192.168.0.2]:tcp:80 [10.0.0.1]:tcp:80 UP",
            "RS [192.168.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN",
            "RS [192.168.0.3]:tcp:80 [10.0.0.1]:tcp:80 DOWN",
        ];
        assert_eq!(lines.lines().collect::<Vec<_>>(), expected, "{lines}");
        let table = desired_table(&daemon.config, &daemon.pool);
        let addresses: Vec<String> = table[0]
            .destinations
            .iter()
            .map(|d| d.address.to_string())
            .collect();
        assert_eq!(addresses, ["192.168.0.2"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_reload_reports_down_only_what_was_in_the_table() {
        let dir = file_dir("reload-sorry");
        let path = dir.join("keepalived.conf");
        let fifo = dir.join("fifo");
        // Quorum 3 is not met while the second server's alpha checker has not passed: the sorry
        // server serves, and the live first server is out of the table.
        let head = format!(
            "global_defs {{\n notify_fifo {}\n}}\n\
             virtual_server 10.0.0.1 80 {{\n protocol TCP\n quorum 3\n\
             sorry_server 10.0.0.9 80\n",
            fifo.display()
        );
        let second = "real_server 192.168.0.2 80 {\n weight 2\n TCP_CHECK {\n alpha\n }\n }\n";
        let before = format!("{head}real_server 192.168.0.1 80 {{\n }}\n{second}}}\n");
        std::fs::write(&path, &before).expect("write configuration");
        let mut daemon = daemon(config(&before));
        daemon.options.config_file = path.to_string_lossy().into_owned();
        assert!(!daemon.pool.services[0].quorum_up);
        assert!(daemon.pool.services[0].real_servers[0].alive);
        let _ = waiting_lines(&fifo);
        // The first server goes: keepalived's clear_service_rs tells about a server only when it
        // was in the table.
        std::fs::write(&path, format!("{head}{second}}}\n")).expect("write configuration");
        daemon.reload(Instant::now());
        let lines = waiting_lines(&fifo);
        assert!(!lines.contains("192.168.0.1"), "{lines}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_reload_reports_the_live_servers_it_drops_and_the_quorums_it_changes() {
        let dir = file_dir("reload-notifies");
        let path = dir.join("keepalived.conf");
        let fifo = dir.join("fifo");
        let global = format!("global_defs {{\n notify_fifo {}\n}}\n", fifo.display());
        let text = format!(
            "{global}virtual_server 10.0.0.1 80 {{\n protocol TCP\n quorum 2\n\
             real_server 192.168.0.1 80 {{\n }}\n real_server 192.168.0.2 80 {{\n }}\n}}\n\
             virtual_server 10.0.0.2 80 {{\n protocol TCP\n real_server 192.168.0.3 80 {{\n }}\n}}\n"
        );
        std::fs::write(&path, &text).expect("write configuration");
        let mut daemon = daemon(config(&text));
        daemon.options.config_file = path.to_string_lossy().into_owned();
        // 10.0.0.2 goes; 192.168.0.2 leaves 10.0.0.1, whose old quorum of 2 is lost with it (as
        // keepalived reports it), and so is the new one, the new alpha server starting down; 10.0.0.3
        // comes.
        let reloaded = format!(
            "{global}virtual_server 10.0.0.1 80 {{\n protocol TCP\n quorum 2\n\
             real_server 192.168.0.1 80 {{\n }}\n\
             real_server 192.168.0.5 80 {{\n TCP_CHECK {{\n alpha\n }}\n }}\n}}\n\
             virtual_server 10.0.0.3 80 {{\n protocol TCP\n real_server 192.168.0.3 80 {{\n }}\n}}\n"
        );
        std::fs::write(&path, reloaded).expect("write configuration");
        daemon.reload(Instant::now());
        assert_eq!(
            waiting_lines(&fifo),
            "VS [10.0.0.1]:tcp:80 UP\nVS [10.0.0.2]:tcp:80 UP\n\
             RS [192.168.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\nVS [10.0.0.1]:tcp:80 DOWN\n\
             RS [192.168.0.3]:tcp:80 [10.0.0.2]:tcp:80 DOWN\nVS [10.0.0.2]:tcp:80 DOWN\n\
             VS [10.0.0.1]:tcp:80 DOWN\nVS [10.0.0.3]:tcp:80 UP\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn server(daemon: &Daemon) -> (bool, i32) {
        let rs = &daemon.pool.services[0].real_servers[0];
        (rs.alive, rs.weight())
    }

    #[test]
    fn file_check_follows_the_file() {
        let dir = file_dir("weighted");
        let path = dir.join("value");
        std::fs::write(&path, "1\n").expect("write");
        let mut d = daemon(file_config(&path, " weight 5\n"));
        assert_eq!(server(&d), (true, 7), "2 + 1 × 5 at start");
        let now = Instant::now();
        std::fs::write(&path, "3\n").expect("write");
        d.files_changed(now);
        assert_eq!(server(&d), (true, 17));
        assert_eq!(
            desired_table(&d.config, &d.pool)[0].destinations[0].weight,
            17
        );
        // Far below 0 the server stays, at weight 0 (keepalived 2.2.7 in the VM).
        std::fs::write(&path, "-70000\n").expect("write");
        d.files_changed(now);
        assert_eq!(server(&d), (true, 0));
        assert_eq!(desired_table(&d.config, &d.pool)[0].destinations.len(), 2);
        // At the bottom of an int it fails, and its part of the weight goes out with it.
        std::fs::write(&path, "-429496730\n").expect("write");
        d.files_changed(now);
        assert_eq!(server(&d), (false, 2));
        assert_eq!(desired_table(&d.config, &d.pool)[0].destinations.len(), 1);
        // Leaving the failed state puts the new part in.
        std::fs::write(&path, "1\n").expect("write");
        d.files_changed(now);
        assert_eq!(server(&d), (true, 7));
        // A deleted file reads 0.
        std::fs::remove_file(&path).expect("remove");
        d.files_changed(now);
        assert_eq!(server(&d), (true, 2));
        // Another file in the directory changes nothing.
        std::fs::write(dir.join("other"), "9\n").expect("write");
        d.files_changed(now);
        assert_eq!(server(&d), (true, 2));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bfd_check_follows_the_reports_on_the_link() {
        let text = "bfd_instance B1 {\n neighbor_ip 10.0.0.9\n}\n\
            bfd_instance B2 {\n neighbor_ip 10.0.0.8\n vrrp\n}\n\
            virtual_server 10.0.0.1 80 {\n protocol TCP\n\
            real_server 192.168.0.1 80 {\n BFD_CHECK {\n name B1\n }\n }\n\
            real_server 192.168.0.2 80 {\n BFD_CHECK {\n name B2\n }\n }\n}\n";
        let mut d = daemon(config_with(text, &LoadOptions::default()));
        let (parent, child) = UnixDatagram::pair().expect("socket pair");
        child.set_nonblocking(true).expect("non-blocking");
        d.bfd_link = Some(child);
        let alive = |d: &Daemon| {
            d.pool.services[0]
                .real_servers
                .iter()
                .map(|rs| rs.alive)
                .collect::<Vec<bool>>()
        };
        // Up until the session's first report, as keepalived's.
        assert_eq!(alive(&d), [true, true]);
        let now = Instant::now();
        parent.send(b"B1 DOWN").expect("send");
        d.bfd_readable(now);
        assert_eq!(alive(&d), [false, true]);
        assert_eq!(desired_table(&d.config, &d.pool)[0].destinations.len(), 1);
        parent.send(b"B1 UP").expect("send");
        d.bfd_readable(now);
        assert_eq!(alive(&d), [true, true]);
        // A session marked `vrrp` is not the checkers': its BFD_CHECK never moves.
        parent.send(b"B2 DOWN").expect("send");
        d.bfd_readable(now);
        assert_eq!(alive(&d), [true, true]);
    }

    #[test]
    fn unweighted_file_check_fails_on_non_zero() {
        let dir = file_dir("unweighted");
        let path = dir.join("value");
        std::fs::write(&path, "1\n").expect("write");
        let d = daemon(file_config(&path, ""));
        // The track_file's weight is 1 unless set: weighted by 1, 2 + 1.
        assert_eq!(server(&d), (true, 3));
        drop(d);
        // The checker's own weight 0 is kept (only a missing one takes the track_file's):
        // unweighted, the non-zero value fails it.
        let mut d = daemon(file_config(&path, " weight 0\n"));
        assert_eq!(server(&d), (false, 2));
        drop(d);
        let zero = checker_config(&format!(
            "track_file state {{\n file {}\n weight 0\n}}\n\
             virtual_server 10.0.0.1 80 {{\n protocol TCP\n\
             real_server 192.168.0.1 80 {{\n FILE_CHECK {{\n track_file state\n }}\n }}\n}}\n",
            path.display()
        ));
        d = daemon(zero.clone());
        assert!(
            !server(&d).0,
            "a non-zero value fails an unweighted check at start"
        );
        assert!(desired_table(&d.config, &d.pool)[0].destinations.is_empty());
        let now = Instant::now();
        std::fs::write(&path, "0\n").expect("write");
        d.files_changed(now);
        assert!(server(&d).0);
        std::fs::write(&path, "4\n").expect("write");
        d.files_changed(now);
        assert!(!server(&d).0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ssl_get_runs_over_tls_with_the_virtual_hosts_and_regex_warnings() {
        let config = checker_config(
            "virtual_server 10.0.0.1 443 {\n protocol TCP\n virtualhost vs.example\n\
             real_server 192.168.0.1 443 {\n virtualhost rs.example\n\
             SSL_GET {\n url {\n path /\n regex \"(unclosed\"\n }\n }\n }\n}\n",
        );
        let tls = tls_for(&config).expect("SSL context");
        assert!(tls.is_some());
        let vs = &config.virtual_servers[0];
        let rs = &vs.real_servers[0];
        let (work, warnings) = work(&rs.checkers[0], vs, rs, &[], tls.as_ref());
        let Work::Net {
            exchange: Exchange::Http(exchange),
            ..
        } = work
        else {
            panic!("{work:?}");
        };
        assert!(exchange.tls.is_some());
        assert_eq!(exchange.real_server_host.as_deref(), Some("rs.example"));
        assert_eq!(exchange.virtual_server_host.as_deref(), Some("vs.example"));
        assert!(warnings[0].contains("Invalid regex"), "{warnings:?}");
        // Without SSL_GET there is no TLS client to build.
        let plain = checker_config(
            "virtual_server 10.0.0.1 80 {\n protocol TCP\n\
             real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n",
        );
        assert!(tls_for(&plain).expect("nothing to build").is_none());
    }

    #[test]
    fn an_ssl_get_that_stays_over_a_reload_keeps_its_tls_client() {
        let dir = file_dir("reload-tls-client");
        let path = dir.join("keepalived.conf");
        let server = |port: u16| {
            format!(
                "real_server 192.168.0.1 {port} {{\n SSL_GET {{\n url {{\n path /\n }}\n }}\n }}\n"
            )
        };
        let text = format!(
            "virtual_server 10.0.0.1 443 {{\n protocol TCP\n{}{}}}\n",
            server(443),
            server(444)
        );
        std::fs::write(&path, &text).expect("write configuration");
        let mut daemon = daemon(config(&text));
        daemon.options.config_file = path.to_string_lossy().into_owned();
        let choice = |daemon: &Daemon, index: usize| match &daemon.checkers[index].work {
            Work::Net {
                exchange: Exchange::Http(exchange),
                ..
            } => exchange.tls_client.get(),
            other => panic!("{other:?}"),
        };
        for index in 0..2 {
            let Work::Net {
                exchange: Exchange::Http(exchange),
                ..
            } = &daemon.checkers[index].work
            else {
                panic!("not an SSL_GET");
            };
            exchange.tls_client.set(TlsClient::Legacy);
        }
        // 444's checker changes (another port to connect to): it starts again with rustls.
        let reloaded = text.replacen(
            "real_server 192.168.0.1 444 {\n SSL_GET {\n",
            "real_server 192.168.0.1 444 {\n SSL_GET {\n connect_port 8443\n",
            1,
        );
        assert_ne!(reloaded, text);
        std::fs::write(&path, reloaded).expect("write configuration");
        daemon.reload(Instant::now());
        assert_eq!(choice(&daemon, 0), TlsClient::Legacy);
        assert_eq!(choice(&daemon, 1), TlsClient::Modern);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ping_check_pings_connect_ip_or_the_real_server() {
        let config = checker_config(
            "virtual_server 10.0.0.1 80 {\n protocol TCP\n\
             real_server 192.168.0.1 80 {\n PING_CHECK {\n }\n }\n\
             real_server 192.168.0.2 80 {\n PING_CHECK {\n connect_ip 192.168.9.9\n }\n }\n}\n",
        );
        let vs = &config.virtual_servers[0];
        let targets: Vec<String> = vs
            .real_servers
            .iter()
            .map(|rs| match work(&rs.checkers[0], vs, rs, &[], None).0 {
                Work::Net {
                    target,
                    exchange: Exchange::Ping,
                } => target.address.ip().to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(targets, ["192.168.0.1", "192.168.9.9"]);
    }

    /// A mail server on loopback that takes `count` mails and returns each as its `Subject:` line and
    /// body.
    fn mail_server(count: usize) -> (u16, std::thread::JoinHandle<Vec<(String, String)>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        let port = listener.local_addr().expect("address").port();
        let server = std::thread::spawn(move || {
            let mut mails = Vec::new();
            for _ in 0..count {
                let (stream, _) = listener.accept().expect("a mail");
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .expect("timeout");
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                writer.write_all(b"220 test\r\n").expect("greeting");
                let (mut subject, mut body, mut data, mut in_body) =
                    (String::new(), String::new(), false, false);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    let text = line.trim_end_matches("\r\n").to_owned();
                    line.clear();
                    let reply: &[u8] = if data {
                        if text == "." {
                            data = false;
                            b"250 queued\r\n"
                        } else {
                            if text.starts_with("Subject: ") {
                                subject = text;
                            } else if in_body && !text.is_empty() {
                                body = text;
                            } else if text.is_empty() {
                                in_body = true;
                            }
                            continue;
                        }
                    } else if text == "DATA" {
                        data = true;
                        b"354 go ahead\r\n"
                    } else if text == "QUIT" {
                        let _ = writer.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    writer.write_all(reply).expect("reply");
                }
                mails.push((subject, body));
            }
            mails.sort();
            mails
        });
        (port, server)
    }

    #[test]
    fn a_failed_check_writes_keepalived_s_fifo_lines_and_mails() {
        let dir = file_dir("alerts");
        let fifo = dir.join("fifo");
        let (port, server) = mail_server(3);
        let config = config(&format!(
            "global_defs {{\n notification_email {{\n ops@example.com\n }}\n\
             notification_email_from lvs@example.com\n smtp_server 127.0.0.1 {port}\n\
             router_id LVS_T\n smtp_alert\n notify_fifo {}\n}}\n\
             virtual_server 10.0.1.100 80 {{\n protocol TCP\n\
             real_server 127.0.0.1 9 {{\n TCP_CHECK {{\n retry 0\n }}\n }}\n}}\n",
            fifo.display()
        ));
        let mut daemon = daemon(config);
        daemon.finish(
            0,
            Verdict::failed(AttemptFailure::ConnectFailed, "refused"),
            None,
            Instant::now(),
        );
        // A second failure changes nothing and says nothing.
        daemon.finish(
            0,
            Verdict::failed(AttemptFailure::ConnectFailed, "refused"),
            None,
            Instant::now(),
        );
        assert_eq!(
            waiting_lines(&fifo),
            "VS [10.0.1.100]:tcp:80 UP\n\
             RS [127.0.0.1]:tcp:9 [10.0.1.100]:tcp:80 DOWN\n\
             VS [10.0.1.100]:tcp:80 DOWN\n"
        );
        let mails = server.join().expect("mail server");
        let mail =
            |subject: &str, body: &str| (format!("Subject: [LVS_T] {subject}"), body.to_owned());
        assert_eq!(
            mails,
            vec![
                mail(
                    "Realserver [127.0.0.1]:tcp:9 of virtual server [10.0.1.100]:tcp:80 - DOWN",
                    "=> TCP CHECK failed on service <="
                ),
                mail(
                    "Virtualserver [10.0.1.100]:tcp:80 - DOWN",
                    "=> Lost quorum 1+0=1 <= 0 <="
                ),
                mail(
                    "Virtualserver [10.0.1.100]:tcp:80 - UP",
                    "=> Starting with quorum up 1+0=1 <= 1 <="
                ),
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn misc_exit_statuses() {
        assert_eq!(
            misc_verdict(Outcome::Exited(0), false),
            (Verdict::Success, None)
        );
        assert!(matches!(
            misc_verdict(Outcome::Exited(1), true).0,
            Verdict::Failure { .. }
        ));
        assert!(matches!(
            misc_verdict(Outcome::Exited(5), false).0,
            Verdict::Failure { .. }
        ));
        assert_eq!(
            misc_verdict(Outcome::Exited(5), true),
            (Verdict::Success, Some(3))
        );
        assert_eq!(
            misc_verdict(Outcome::Exited(2), true),
            (Verdict::Success, Some(0))
        );
        assert!(matches!(
            misc_verdict(Outcome::TimedOut, true).0,
            Verdict::Failure { .. }
        ));
    }
}
