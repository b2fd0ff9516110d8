//! keepalived's command line (keepalived(8), as `keepalived --help` of 2.2.7 lists it), parsed
//! by hand because keepalived's getopt behaviour — optional arguments glued to the option
//! (`-tFILE`, `--config-test=FILE`), unique prefixes of long options (`--use-f=…`), options
//! and operands in any order — is not what clap does.

use std::fmt;

/// Default configuration file.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/keepalived/keepalived.conf";

/// How `-t` prints its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagnosticsFormat {
    /// keepalived's lines: `(FILE: Line N) message`.
    Keepalived,
    /// `file:line:col`, the text underlined, hints and lints.
    Human,
}

/// Everything the command line says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-f`, `--use-file`.
    pub config_file: Option<String>,
    /// `-P`, `--vrrp`.
    pub vrrp_only: bool,
    /// `-C`, `--check`.
    pub check_only: bool,
    /// `-B`, `--no_bfd`.
    pub no_bfd: bool,
    /// `--all`.
    pub all: bool,
    /// `-l`, `--log-console`.
    pub log_console: bool,
    /// `-D`, `--log-detail`.
    pub log_detail: bool,
    /// `-S`, `--log-facility`: the facility number (0-7 for local0-7; 8 user; 9 daemon).
    pub log_facility: Option<LogFacility>,
    /// `-g`, `--log-file` (optional file).
    pub log_file: Option<Option<String>>,
    /// `--flush-log-file`.
    pub flush_log_file: bool,
    /// `-G`, `--no-syslog`.
    pub no_syslog: bool,
    /// `-u`, `--umask`.
    pub umask: Option<String>,
    /// `-X`, `--release-vips`.
    pub release_vips: bool,
    /// `-V`, `--dont-release-vrrp`.
    pub dont_release_vrrp: bool,
    /// `-I`, `--dont-release-ipvs`.
    pub dont_release_ipvs: bool,
    /// `-R`, `--dont-respawn`.
    pub dont_respawn: bool,
    /// `-n`, `--dont-fork`.
    pub dont_fork: bool,
    /// `-d`, `--dump-conf`.
    pub dump_conf: bool,
    /// `-p`, `--pid`.
    pub pid_file: Option<String>,
    /// `-r`, `--vrrp_pid`.
    pub vrrp_pid_file: Option<String>,
    /// `-c`, `--checkers_pid`.
    pub checkers_pid_file: Option<String>,
    /// `-b`, `--bfd_pid`.
    pub bfd_pid_file: Option<String>,
    /// `-T`, `--genhash`: the arguments that follow, for genhash mode.
    pub genhash: Option<Vec<String>>,
    /// `-a`, `--address-monitoring`.
    pub address_monitoring: bool,
    /// `-x`, `--snmp`.
    pub snmp: bool,
    /// `-A`, `--snmp-agent-socket`.
    pub snmp_agent_socket: Option<String>,
    /// `-s`, `--namespace`.
    pub namespace: Option<String>,
    /// `-m`, `--core-dump`.
    pub core_dump: bool,
    /// `-M`, `--core-dump-pattern` (optional pattern).
    pub core_dump_pattern: Option<Option<String>>,
    /// `-e`, `--all-config`.
    pub all_config: bool,
    /// `-i`, `--config-id`.
    pub config_id: Option<String>,
    /// `--signum`.
    pub signum: Option<String>,
    /// `-t`, `--config-test` (optional log file).
    pub config_test: Option<Option<String>>,
    /// `--perf` (optional mode).
    pub perf: Option<Option<String>>,
    /// `--debug` (optional options).
    pub debug: Option<Option<String>>,
    /// `--no-mem-check`.
    pub no_mem_check: bool,
    /// `-v`, `--version`.
    pub version: bool,
    /// `-h`, `--help`.
    pub help: bool,
    /// Operands keepalived does not expect (it says so and carries on).
    pub unexpected: Vec<String>,
    /// `--diagnostics=human|keepalived` (ours): how `-t` prints.
    pub diagnostics: Option<DiagnosticsFormat>,
    /// `--assume-interfaces=IF,IF…` (ours): check against these interfaces, not this host's.
    pub assume_interfaces: Option<Vec<String>>,
    /// `--assume-environment=FILE` (ours): check against the machine described in FILE.
    pub assume_environment: Option<String>,
    /// `--compare-peer=FILE` (ours): also check FILE, the peer node's configuration, and
    /// compare the two.
    pub compare_peer: Option<String>,
    /// `--metrics-listen=ADDRESS:PORT` (ours): serve Prometheus metrics there.
    pub metrics_listen: Option<String>,
    /// `--without-ipvs` (ours): run the checkers without programming IPVS.
    pub without_ipvs: bool,
}

/// A syslog facility given with `-S`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFacility {
    /// `local0` … `local7` (or `0` … `7`).
    Local(u8),
    /// `user`.
    User,
    /// `daemon` (the default).
    Daemon,
}

impl LogFacility {
    /// Parses keepalived's `-S` argument.
    pub fn parse(text: &str) -> Option<LogFacility> {
        let local = |d: &str| {
            d.parse::<u8>()
                .ok()
                .filter(|n| *n <= 7)
                .map(LogFacility::Local)
        };
        match text {
            "user" => Some(LogFacility::User),
            "daemon" => Some(LogFacility::Daemon),
            _ => text
                .strip_prefix("local")
                .map_or_else(|| local(text), local),
        }
    }
}

/// A command-line problem that stops keepalived (exit status 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CliError {
    /// An option keepalived does not know.
    UnknownOption(String),
    /// An option missing its argument.
    MissingParameter(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::UnknownOption(o) => write!(f, "Unknown option {o}"),
            CliError::MissingParameter(o) => write!(f, "Missing parameter for option {o}"),
        }
    }
}

/// Warnings keepalived prints about the command line without stopping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Warnings(pub Vec<String>);

/// Whether an option takes an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    None,
    Required,
    /// Only when glued: `-tFILE`, `--config-test=FILE`.
    Optional,
}

/// One option: short letter (if any), long name, argument.
struct Spec {
    short: Option<char>,
    long: &'static str,
    arg: Arg,
}

const fn opt(short: Option<char>, long: &'static str, arg: Arg) -> Spec {
    Spec { short, long, arg }
}

/// keepalived 2.2.7's options, in `--help` order, then ours.
static SPECS: &[Spec] = &[
    opt(Some('f'), "use-file", Arg::Required),
    opt(Some('P'), "vrrp", Arg::None),
    opt(Some('C'), "check", Arg::None),
    opt(Some('B'), "no_bfd", Arg::None),
    opt(None, "all", Arg::None),
    opt(Some('l'), "log-console", Arg::None),
    opt(Some('D'), "log-detail", Arg::None),
    opt(Some('S'), "log-facility", Arg::Required),
    opt(Some('g'), "log-file", Arg::Optional),
    opt(None, "flush-log-file", Arg::None),
    opt(Some('G'), "no-syslog", Arg::None),
    opt(Some('u'), "umask", Arg::Required),
    opt(Some('X'), "release-vips", Arg::None),
    opt(Some('V'), "dont-release-vrrp", Arg::None),
    opt(Some('I'), "dont-release-ipvs", Arg::None),
    opt(Some('R'), "dont-respawn", Arg::None),
    opt(Some('n'), "dont-fork", Arg::None),
    opt(Some('d'), "dump-conf", Arg::None),
    opt(Some('p'), "pid", Arg::Required),
    opt(Some('r'), "vrrp_pid", Arg::Required),
    opt(Some('T'), "genhash", Arg::None),
    opt(Some('c'), "checkers_pid", Arg::Required),
    opt(Some('a'), "address-monitoring", Arg::None),
    opt(Some('b'), "bfd_pid", Arg::Required),
    opt(Some('x'), "snmp", Arg::None),
    opt(Some('A'), "snmp-agent-socket", Arg::Required),
    opt(Some('s'), "namespace", Arg::Required),
    opt(Some('m'), "core-dump", Arg::None),
    opt(Some('M'), "core-dump-pattern", Arg::Optional),
    opt(Some('e'), "all-config", Arg::None),
    opt(Some('i'), "config-id", Arg::Required),
    opt(None, "signum", Arg::Required),
    opt(Some('t'), "config-test", Arg::Optional),
    opt(None, "perf", Arg::Optional),
    opt(None, "debug", Arg::Optional),
    opt(None, "no-mem-check", Arg::None),
    opt(Some('v'), "version", Arg::None),
    opt(Some('h'), "help", Arg::None),
    opt(None, "diagnostics", Arg::Required),
    opt(None, "assume-interfaces", Arg::Required),
    opt(None, "assume-environment", Arg::Required),
    opt(None, "compare-peer", Arg::Required),
    opt(None, "metrics-listen", Arg::Required),
    opt(None, "without-ipvs", Arg::None),
];

/// How an option of keepalived's compares with keepalived 2.2.7's, for the manual page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Does what keepalived's does.
    Same,
    /// Accepted; differs as the text says.
    Differs,
    /// Accepted and ignored (keepalived features not implemented).
    Ignored,
    /// Ours: keepalived does not have it.
    Ours,
}

/// What an option means, for the manual page and the shell completions.
#[derive(Clone, Copy, Debug)]
pub struct OptionDoc {
    /// The name of its argument (`FILE`), if it takes one.
    pub value: Option<&'static str>,
    /// One line, for completion menus.
    pub summary: &'static str,
    /// The paragraph of the manual page (markup: `` `-f` `` bold, `<FILE>` italics).
    pub text: &'static str,
    pub support: Support,
    /// Whether the argument is a file name (for completion).
    pub file: bool,
}

/// One option as the documentation generator sees it.
#[derive(Clone, Copy, Debug)]
pub struct OptionInfo {
    pub short: Option<char>,
    pub long: &'static str,
    /// Whether it takes an argument.
    pub takes_value: bool,
    /// Whether that argument is optional (then it must be glued: `-tFILE`, `--config-test=FILE`).
    pub value_optional: bool,
    pub doc: OptionDoc,
}

/// Every option, in `--help` order, with its documentation.
pub fn options() -> impl Iterator<Item = OptionInfo> {
    SPECS.iter().map(|spec| OptionInfo {
        short: spec.short,
        long: spec.long,
        takes_value: spec.arg != Arg::None,
        value_optional: spec.arg == Arg::Optional,
        doc: option_doc(spec.long),
    })
}

const fn doc(
    value: Option<&'static str>,
    summary: &'static str,
    text: &'static str,
    support: Support,
) -> OptionDoc {
    OptionDoc {
        value,
        summary,
        text,
        support,
        file: false,
    }
}

const fn file(mut d: OptionDoc) -> OptionDoc {
    d.file = true;
    d
}

/// The documentation of the option with this long name (every entry of the table has one).
pub fn option_doc(long: &str) -> OptionDoc {
    use Support::{Differs, Ignored, Ours, Same};
    const F: Option<&str> = Some("FILE");
    match long {
        "use-file" => file(doc(
            F,
            "configuration file",
            "Read the configuration from <FILE> instead of /etc/keepalived/keepalived.conf.",
            Same,
        )),
        "vrrp" => doc(
            None,
            "run only VRRP",
            "Run only the VRRP subsystem: no virtual servers, no health checks.",
            Same,
        ),
        "check" => doc(
            None,
            "run only the health checkers",
            "Run only the health-checker subsystem (virtual servers and their checks), without VRRP.",
            Same,
        ),
        "no_bfd" => doc(
            None,
            "do not run BFD",
            "Do not run the BFD sessions (`bfd_instance`), as keepalived's -B does not start its BFD process.",
            Same,
        ),
        "all" => doc(
            None,
            "run every subsystem",
            "Run every subsystem even without configuration for it.",
            Ignored,
        ),
        "log-console" => doc(
            None,
            "log to the console",
            "With `-n`, log on standard error, each line after a timestamp, as keepalived does.",
            Same,
        ),
        "log-detail" => doc(
            None,
            "detailed log",
            "Log the detailed lines keepalived logs with `-D` (VIPs being set, gratuitous ARPs sent).",
            Same,
        ),
        "log-facility" => doc(
            Some("FACILITY"),
            "syslog facility",
            "Log to syslog with facility `local0` to `local7` (or 0 to 7), `user` or `daemon` (the default).",
            Same,
        ),
        "log-file" => file(doc(
            F,
            "also log to a file",
            "Also log to <FILE> (default /tmp/keepalived.log), lines with nanosecond timestamps. The argument is optional and must be glued (`-gFILE`, `--log-file=FILE`).",
            Same,
        )),
        "flush-log-file" => doc(
            None,
            "flush the log file on each line",
            "Flush the `-g` log file after every line.",
            Same,
        ),
        "no-syslog" => doc(
            None,
            "do not log to syslog",
            "Do not log through syslog.",
            Same,
        ),
        "umask" => doc(
            Some("MASK"),
            "umask for created files",
            "The umask for files the daemon creates, in numeric form.",
            Ignored,
        ),
        "release-vips" => doc(
            None,
            "drop VIPs on a signal-driven transition",
            "keepalived drops VIPs when a signal makes an instance leave MASTER. Not implemented; accepted.",
            Ignored,
        ),
        "dont-release-vrrp" => doc(
            None,
            "keep VIPs on stop",
            "Leave the virtual addresses in place when the daemon stops.",
            Same,
        ),
        "dont-release-ipvs" => doc(
            None,
            "keep the IPVS table on stop",
            "Leave the virtual servers in the IPVS table when the daemon stops.",
            Same,
        ),
        "dont-respawn" => doc(
            None,
            "do not respawn children",
            "keepalived restarts its children when they die; so does vrrpd its checker child (at once if it ran for a minute, else after 0, 1, 2, 4 … 60 seconds, as keepalived). With this option the child's death stops the daemon instead. vrrpd's VRRP runs in the main process, which has no parent to restart it.",
            Same,
        ),
        "dont-fork" => doc(
            None,
            "stay in the foreground",
            "Stay in the foreground; the systemd unit runs vrrpd with it (`Type=notify`).",
            Same,
        ),
        "dump-conf" => doc(
            None,
            "print the configuration",
            "Print the configuration as vrrpd understands it, after defaults, and exit.",
            Differs,
        ),
        "pid" => file(doc(
            F,
            "pid file",
            "The pid file of the main process (default /run/keepalived.pid; /run/keepalived/keepalived.pid with a namespace or `use_pid_dir`, keepalived_NAME.pid there with `instance NAME`).",
            Same,
        )),
        "vrrp_pid" => file(doc(
            F,
            "VRRP pid file",
            "The pid file of the VRRP process (default /run/vrrp.pid, moved as `-p`'s); vrrpd's VRRP is its main process, which writes both.",
            Differs,
        )),
        "genhash" => doc(
            None,
            "genhash mode",
            "keepalived's genhash utility mode. Not implemented: vrrpd exits with status 1.",
            Differs,
        ),
        "checkers_pid" => file(doc(
            F,
            "checkers pid file",
            "The pid file of the health-checker process (default /run/checkers.pid, moved as `-p`'s).",
            Same,
        )),
        "address-monitoring" => doc(
            None,
            "log address changes",
            "Log every address change reported by netlink. The checker process logs each one \
             (`Netlink reflector reports IP 10.0.1.100 added`), as keepalived's; the VRRP \
             process does not log them.",
            Differs,
        ),
        "bfd_pid" => file(doc(
            F,
            "BFD pid file",
            "The pid file of the BFD process; there is none.",
            Ignored,
        )),
        "snmp" => doc(
            None,
            "enable SNMP",
            "keepalived's SNMP subagent. Not implemented; accepted.",
            Ignored,
        ),
        "snmp-agent-socket" => file(doc(
            F,
            "SNMP master agent socket",
            "The socket of the SNMP master agent; see `-x`.",
            Ignored,
        )),
        "namespace" => doc(
            Some("NAME"),
            "network namespace",
            "Run in the network namespace <NAME> (`/run/netns/NAME`, as `ip netns add` makes it), over the configuration's `net_namespace`: the pid files go in /run/keepalived, which is /run/keepalived/NAME mounted in a mount namespace of the daemon's own, and the syslog identity gets `_NAME`. A namespace that cannot be entered ends the daemon (with status 0, as keepalived's).",
            Same,
        ),
        "core-dump" => doc(
            None,
            "core dump on crash",
            "keepalived sets the core size limit so that a crash leaves a core.",
            Ignored,
        ),
        "core-dump-pattern" => doc(
            Some("PATTERN"),
            "core pattern",
            "keepalived also writes <PATTERN> to /proc/sys/kernel/core_pattern; vrrpd does not.",
            Ignored,
        ),
        "all-config" => doc(
            None,
            "missing included files are errors",
            "Treat every missing included file as an error (as `includet`).",
            Same,
        ),
        "config-id" => doc(
            Some("ID"),
            "configuration id",
            "Skip configuration lines starting `@` that do not name <ID>, and lines starting `@^` that do (default: the host name).",
            Same,
        ),
        "signum" => doc(
            Some("SIGFUNC"),
            "print a signal number",
            "Print the signal number for `STOP`, `RELOAD`, `DATA`, `STATS`, `STATS_CLEAR` or `JSON` and exit, for scripts that signal the daemon.",
            Same,
        ),
        "config-test" => file(doc(
            F,
            "check the configuration",
            "Check the configuration and exit: status 0 when keepalived 2.2.7 would run it, 1 for errors it reports, 2 and 3 where it stops, with keepalived's messages (or vrrpd's own format, see `--diagnostics`). The optional log file must be glued (`-tFILE`).",
            Same,
        )),
        "perf" => doc(
            Some("MODE"),
            "perf profiling",
            "keepalived's perf profiling. Accepted and ignored.",
            Ignored,
        ),
        "debug" => doc(
            Some("OPTIONS"),
            "debug options",
            "keepalived's debug options. Accepted and ignored.",
            Ignored,
        ),
        "no-mem-check" => doc(
            None,
            "no memory checks",
            "keepalived's memory checker switch. Accepted and ignored.",
            Ignored,
        ),
        "version" => doc(
            None,
            "print the version",
            "Print vrrpd's version and the keepalived version whose configuration language it reads, on standard error.",
            Differs,
        ),
        "help" => doc(
            None,
            "print the usage",
            "Print the usage on standard error: keepalived's, then vrrpd's additions.",
            Same,
        ),
        "diagnostics" => doc(
            Some("FORMAT"),
            "format of -t messages",
            "How `-t` reports: `human` (positions, the text underlined, hints and lints; the default on a terminal) or `keepalived` (exactly keepalived's lines).",
            Ours,
        ),
        "assume-interfaces" => doc(
            Some("IF,IF..."),
            "check with these interfaces",
            "With `-t`: check as if exactly these network interfaces (and lo) existed, to check a configuration for another machine.",
            Ours,
        ),
        "assume-environment" => file(doc(
            F,
            "check against a described machine",
            "With `-t`: check against the machine <FILE> describes (interfaces, users, programs) instead of this one.",
            Ours,
        )),
        "metrics-listen" => doc(
            Some("ADDRESS:PORT"),
            "serve Prometheus metrics",
            "Serve Prometheus metrics on `http://ADDRESS:PORT/metrics` (`[ADDRESS]:PORT` for IPv6): per VRRP instance its state, priorities, adverts sent and received, drops by reason, transitions to and from MASTER; reloads and undecodable datagrams; per virtual and real server the IPVS counters and rates, health, weight, quorum, checks by result and their duration (the checker process's part, in the same scrape). Works with `-P` and `-C` alone too. Off unless given; an address that cannot be bound stops the daemon at start.",
            Ours,
        ),
        "without-ipvs" => doc(
            None,
            "run the checkers without IPVS",
            "Run the health checkers on a machine without IPVS (or without touching its table): every check, log line, notify script, FIFO line and mail happens as usual, and the IPVS table is computed but not programmed. For trying a configuration's checks on a staging machine, and for benchmarks. keepalived has no such mode: its checker process stops when IPVS is missing.",
            Ours,
        ),
        "compare-peer" => file(doc(
            F,
            "compare with the peer's configuration",
            "With `-t`: also check <FILE>, the peer node's configuration, and report differences that break VRRP between the two (VRID, version, interval, authentication, virtual addresses).",
            Ours,
        )),
        _ => doc(None, "", "", Ignored),
    }
}

/// The help text, keepalived's with our name and additions.
pub fn usage(program: &str) -> String {
    format!(
        "Usage: {program} [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file
                                default '{DEFAULT_CONFIG_FILE}'
  -P, --vrrp                   Only run with VRRP subsystem
  -C, --check                  Only run with Health-checker subsystem
  -B, --no_bfd                 Don't run BFD subsystem
      --all                    Force all child processes to run, even if have no configuration
  -l, --log-console            Log messages to local console
  -D, --log-detail             Detailed log messages
  -S, --log-facility=([0-7]|local[0-7]|user|daemon)
                               Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
  -g, --log-file=FILE          Also log to FILE (default /tmp/keepalived.log)
      --flush-log-file         Flush log file on write
  -G, --no-syslog              Don't log via syslog
  -u, --umask=MASK             umask for file creation (in numeric form)
  -X, --release-vips           Drop VIP on transition from signal.
  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
  -R, --dont-respawn           Don't respawn child processes
  -n, --dont-fork              Don't fork the daemon process
  -d, --dump-conf              Dump the configuration data
  -p, --pid=FILE               Use specified pidfile for parent process
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process
  -T, --genhash                Enter into genhash utility mode (this should be the first option used).
  -c, --checkers_pid=FILE      Use specified pidfile for checkers child process
  -a, --address-monitoring     Report all address additions/deletions notified via netlink
  -b, --bfd_pid=FILE           Use specified pidfile for BFD child process
  -x, --snmp                   Enable SNMP subsystem
  -A, --snmp-agent-socket=FILE Use the specified socket for master agent
  -s, --namespace=NAME         Run in network namespace NAME (overrides config)
  -m, --core-dump              Produce core dump if terminate abnormally
  -M, --core-dump-pattern=PATN Also set /proc/sys/kernel/core_pattern to PATN (default 'core')
  -e, --all-config             Error if any configuration file missing (same as includet)
  -i, --config-id id           Skip any configuration lines beginning '@' that don't match id
                                or any lines beginning @^ that do match.
                                The config-id defaults to the node name if option not used
      --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
  -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to
                                stderr by default
  -v, --version                Display the version number
  -h, --help                   Display this help message

{program} additions:
      --diagnostics=human|keepalived
                               How --config-test reports: with positions, underlined text,
                                hints and lints (default on a terminal), or exactly like keepalived
      --compare-peer=FILE      With --config-test, also check FILE (the peer node's configuration)
                                and report differences that break VRRP between the two
      --assume-interfaces=IF,IF...
                               Check as if exactly these network interfaces existed
      --assume-environment=FILE
                               Check against the machine described in FILE (interfaces, users,
                                programs) instead of this one
      --metrics-listen=ADDRESS:PORT
                               Serve Prometheus metrics of the VRRP instances and virtual
                                servers on http://ADDRESS:PORT/metrics
      --without-ipvs           Run the health checkers without programming IPVS
"
    )
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<(Options, Warnings), CliError> {
    let mut options = Options::default();
    let mut warnings = Warnings::default();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        if options.genhash.is_some() {
            if let Some(g) = options.genhash.as_mut() {
                g.push(arg);
            }
            continue;
        }
        if arg == "--" {
            options.unexpected.extend(args.by_ref());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, glued) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let spec =
                find_long(name).ok_or_else(|| CliError::UnknownOption(format!("--{name}")))?;
            let value = match spec.arg {
                Arg::None => None,
                Arg::Optional => Some(glued),
                Arg::Required => Some(Some(match glued {
                    Some(v) => v,
                    None => args
                        .next()
                        .ok_or_else(|| CliError::MissingParameter(format!("--{}", spec.long)))?,
                })),
            };
            apply(&mut options, &mut warnings, spec, value.flatten());
        } else if arg.len() > 1 && arg.starts_with('-') {
            let letters: Vec<char> = arg[1..].chars().collect();
            let mut i = 0;
            while i < letters.len() {
                let c = letters[i];
                let spec = SPECS
                    .iter()
                    .find(|s| s.short == Some(c))
                    .ok_or_else(|| CliError::UnknownOption(format!("-{c}")))?;
                let rest: String = letters[i + 1..].iter().collect();
                match spec.arg {
                    Arg::None => {
                        apply(&mut options, &mut warnings, spec, None);
                        i += 1;
                        continue;
                    }
                    Arg::Optional => {
                        apply(
                            &mut options,
                            &mut warnings,
                            spec,
                            (!rest.is_empty()).then_some(rest),
                        );
                    }
                    Arg::Required => {
                        let value = if rest.is_empty() {
                            args.next()
                                .ok_or_else(|| CliError::MissingParameter(format!("-{c}")))?
                        } else {
                            rest
                        };
                        apply(&mut options, &mut warnings, spec, Some(value));
                    }
                }
                break;
            }
        } else {
            options.unexpected.push(arg);
        }
    }
    Ok((options, warnings))
}

/// The option named by a unique prefix of a long name (an exact name always wins).
fn find_long(name: &str) -> Option<&'static Spec> {
    if let Some(exact) = SPECS.iter().find(|s| s.long == name) {
        return Some(exact);
    }
    let mut matches = SPECS
        .iter()
        .filter(|s| !name.is_empty() && s.long.starts_with(name));
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

fn apply(o: &mut Options, w: &mut Warnings, spec: &Spec, value: Option<String>) {
    let v = || value.clone().unwrap_or_default();
    match spec.long {
        "use-file" => o.config_file = Some(v()),
        "vrrp" => o.vrrp_only = true,
        "check" => o.check_only = true,
        "no_bfd" => o.no_bfd = true,
        "all" => o.all = true,
        "log-console" => o.log_console = true,
        "log-detail" => o.log_detail = true,
        "log-facility" => match LogFacility::parse(&v()) {
            Some(f) => o.log_facility = Some(f),
            None => w.0.push(format!("Invalid log facility '{}'", v())),
        },
        "log-file" => o.log_file = Some(value),
        "flush-log-file" => o.flush_log_file = true,
        "no-syslog" => o.no_syslog = true,
        "umask" => o.umask = Some(v()),
        "release-vips" => o.release_vips = true,
        "dont-release-vrrp" => o.dont_release_vrrp = true,
        "dont-release-ipvs" => o.dont_release_ipvs = true,
        "dont-respawn" => o.dont_respawn = true,
        "dont-fork" => o.dont_fork = true,
        "dump-conf" => o.dump_conf = true,
        "pid" => o.pid_file = Some(v()),
        "vrrp_pid" => o.vrrp_pid_file = Some(v()),
        "genhash" => o.genhash = Some(Vec::new()),
        "checkers_pid" => o.checkers_pid_file = Some(v()),
        "address-monitoring" => o.address_monitoring = true,
        "bfd_pid" => o.bfd_pid_file = Some(v()),
        "snmp" => o.snmp = true,
        "snmp-agent-socket" => o.snmp_agent_socket = Some(v()),
        "namespace" => o.namespace = Some(v()),
        "core-dump" => o.core_dump = true,
        "core-dump-pattern" => {
            o.core_dump = true;
            o.core_dump_pattern = Some(value);
        }
        "all-config" => o.all_config = true,
        "config-id" => o.config_id = Some(v()),
        "signum" => o.signum = Some(v()),
        "config-test" => o.config_test = Some(value),
        "perf" => o.perf = Some(value),
        "debug" => o.debug = Some(value),
        "no-mem-check" => o.no_mem_check = true,
        "version" => o.version = true,
        "help" => o.help = true,
        "diagnostics" => match v().as_str() {
            "human" => o.diagnostics = Some(DiagnosticsFormat::Human),
            "keepalived" => o.diagnostics = Some(DiagnosticsFormat::Keepalived),
            other => w.0.push(format!(
                "Unknown diagnostics format '{other}' - using the default"
            )),
        },
        "assume-interfaces" => {
            o.assume_interfaces = Some(
                v().split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        }
        "assume-environment" => o.assume_environment = Some(v()),
        "compare-peer" => o.compare_peer = Some(v()),
        "metrics-listen" => o.metrics_listen = Some(v()),
        "without-ipvs" => o.without_ipvs = true,
        _ => {}
    }
}

/// The signal number `--signum=NAME` prints (Linux numbers, as keepalived 2.2.7 reports them).
pub fn signal_number(name: &str) -> Option<i32> {
    Some(match name {
        "STOP" => 15,
        "RELOAD" => 1,
        "DATA" => 10,
        "STATS" => 12,
        "STATS_CLEAR" => 63,
        "JSON" => 36,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn short_options_group_and_take_arguments_glued_or_separate() {
        let (o, _) = parse(args("-nlD -f /etc/k.conf -i node1 -Slocal3")).unwrap_or_default();
        assert!(o.dont_fork && o.log_console && o.log_detail);
        assert_eq!(o.config_file.as_deref(), Some("/etc/k.conf"));
        assert_eq!(o.config_id.as_deref(), Some("node1"));
        assert_eq!(o.log_facility, Some(LogFacility::Local(3)));
        let (o, _) = parse(args("-ffile")).unwrap_or_default();
        assert_eq!(o.config_file.as_deref(), Some("file"));
    }

    #[test]
    fn optional_arguments_must_be_glued() {
        let (o, _) = parse(args("-t")).unwrap_or_default();
        assert_eq!(o.config_test, Some(None));
        let (o, _) = parse(args("-tlog.txt")).unwrap_or_default();
        assert_eq!(o.config_test, Some(Some("log.txt".into())));
        let (o, _) = parse(args("--config-test=log.txt")).unwrap_or_default();
        assert_eq!(o.config_test, Some(Some("log.txt".into())));
        // A separate word is an operand, not the optional argument.
        let (o, _) = parse(args("-t extra")).unwrap_or_default();
        assert_eq!(o.config_test, Some(None));
        assert_eq!(o.unexpected, vec!["extra".to_owned()]);
    }

    #[test]
    fn long_options_accept_unique_prefixes() {
        let (o, _) = parse(args("--use-f=/x --dont-f --config-t")).unwrap_or_default();
        assert_eq!(o.config_file.as_deref(), Some("/x"));
        assert!(o.dont_fork);
        assert_eq!(o.config_test, Some(None));
        assert_eq!(
            parse(args("--c")),
            Err(CliError::UnknownOption("--c".into()))
        );
    }

    #[test]
    fn errors_are_worded_like_keepalived() {
        assert_eq!(
            parse(args("-Z")).map(|_| ()).unwrap_err().to_string(),
            "Unknown option -Z"
        );
        assert_eq!(
            parse(args("--bogus")).map(|_| ()).unwrap_err().to_string(),
            "Unknown option --bogus"
        );
        assert_eq!(
            parse(args("-f")).map(|_| ()).unwrap_err().to_string(),
            "Missing parameter for option -f"
        );
        assert_eq!(
            parse(args("--use-file"))
                .map(|_| ())
                .unwrap_err()
                .to_string(),
            "Missing parameter for option --use-file"
        );
        let (_, w) = parse(args("-S 9")).unwrap_or_default();
        assert_eq!(w.0, vec!["Invalid log facility '9'".to_owned()]);
    }

    #[test]
    fn genhash_takes_the_rest_of_the_line() {
        let (o, _) = parse(args("-T -s 10.0.0.1 -p 80")).unwrap_or_default();
        assert_eq!(o.genhash, Some(args("-s 10.0.0.1 -p 80")));
    }

    #[test]
    fn every_option_is_documented_and_listed_in_the_usage() {
        let usage = usage("vrrpd");
        for option in options() {
            assert!(!option.doc.summary.is_empty(), "--{}", option.long);
            assert_eq!(
                option.doc.value.is_some(),
                option.takes_value,
                "--{}",
                option.long
            );
            assert_eq!(
                option.doc.text.matches('`').count() % 2,
                0,
                "--{}",
                option.long
            );
            let hidden = ["perf", "debug", "no-mem-check"];
            if !hidden.contains(&option.long) {
                assert!(
                    usage.contains(&format!("--{}", option.long)),
                    "--{} not in the usage",
                    option.long
                );
            }
        }
    }

    #[test]
    fn signal_names_map_to_linux_numbers() {
        assert_eq!(signal_number("RELOAD"), Some(1));
        assert_eq!(signal_number("TDATA"), None);
    }
}
