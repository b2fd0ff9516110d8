//! `vrrp_track_process` as keepalived 2.2.7 runs it (`track_process.c`): the processes matching each
//! tracker are found by a scan of `/proc` at start, then followed through the kernel's process events
//! (the netlink proc connector: fork, exec, comm change, exit). A tracker has quorum while the number of
//! its processes is within `quorum`..=`quorum_max`; `terminate_delay` holds back the loss of quorum when
//! a process exits and `fork_delay` the gain when a tracked process forks.
//!
//! The proc connector only answers sockets of the initial network namespace; where it does not (a
//! daemon started with `ip netns exec`, where keepalived 2.2.7 never counts a process), `/proc`
//! is scanned again every [`POLL_INTERVAL`] and the differences are taken as execs and exits.
//!
//! Matching: without `full_command` the process name (`/proc/PID/comm`, at most 15 bytes) must equal
//! `process`; with it (also implied by parameters or `param_match`), the first word of the command line.
//! Parameters (`process NAME P1 P2`) are compared as keepalived compares them, as NUL-separated bytes:
//! exact by default; `param_match partial` wants the configured ones as the first parameters;
//! `param_match initial` also lets the last configured one be a prefix of the process's.

use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use keepalived_config::model::vrrp::{ParamMatch, TrackProcess};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_CONNECTOR};

/// How often `/proc` is scanned when process events are not available.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Params {
    /// Parameters are not looked at.
    Any,
    Exact,
    Initial,
    Partial,
}

/// What makes a process one of a tracker's.
#[derive(Clone, Debug)]
pub struct Matcher {
    name: Vec<u8>,
    /// The configured parameters, each followed by a NUL, as they appear in `/proc/PID/cmdline`.
    params: Vec<u8>,
    mode: Params,
    full_command: bool,
}

impl Matcher {
    pub fn new(model: &TrackProcess) -> Self {
        let name = model
            .process
            .first()
            .cloned()
            .unwrap_or_default()
            .into_bytes();
        let mut params = Vec::new();
        for param in model.process.iter().skip(1) {
            params.extend_from_slice(param.as_bytes());
            params.push(0);
        }
        // The model cannot tell a default exact match from no `param_match` at all: without
        // parameters, keepalived looks at none unless `param_match initial/partial` was given.
        let mode = match (model.param_match, params.is_empty()) {
            (ParamMatch::Exact, true) => Params::Any,
            (ParamMatch::Exact, false) => Params::Exact,
            (ParamMatch::Initial, _) => Params::Initial,
            (ParamMatch::Partial, _) => Params::Partial,
        };
        let full_command = model.full_command || mode != Params::Any;
        Self {
            name,
            params,
            mode,
            full_command,
        }
    }

    /// Whether the command line is needed (otherwise the name is enough).
    pub fn needs_cmdline(&self) -> bool {
        self.full_command
    }

    /// Whether a process with this name and command line (`None` when not read) is one of ours.
    pub fn matches(&self, comm: &[u8], cmdline: Option<&[u8]>) -> bool {
        if !self.full_command {
            return comm == self.name.as_slice();
        }
        let Some(cmdline) = cmdline else {
            return false;
        };
        let end = cmdline
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(cmdline.len());
        if cmdline[..end] != self.name[..] {
            return false;
        }
        if self.mode == Params::Any {
            return true;
        }
        let given = cmdline.get(end + 1..).unwrap_or_default();
        self.check_params(given)
    }

    /// keepalived's `check_params`.
    fn check_params(&self, given: &[u8]) -> bool {
        if self.mode == Params::Exact && self.params.is_empty() && given.is_empty() {
            return true;
        }
        if given.len() < self.params.len() {
            return false;
        }
        match self.mode {
            Params::Exact => given == self.params.as_slice(),
            _ if self.params.is_empty() => true,
            Params::Partial => given.starts_with(&self.params),
            // The last configured parameter without its NUL: a prefix of the process's.
            _ => self.params.len() == 1 || given.starts_with(&self.params[..self.params.len() - 1]),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// Quorum gained by a fork, confirmed when `fork_delay` has passed.
    Fork,
    /// Quorum lost by an exit, confirmed when `terminate_delay` has passed.
    Terminate,
}

/// One `vrrp_track_process`: its processes and whether it has quorum.
pub struct ProcessTracker {
    pub model: TrackProcess,
    pub matcher: Matcher,
    pids: BTreeSet<i32>,
    quorum: u32,
    quorum_max: u32,
    fork_delay: Option<Duration>,
    terminate_delay: Option<Duration>,
    timer: Option<(Instant, Pending)>,
    /// The state instances see.
    pub have_quorum: bool,
    /// The count and quorum last logged.
    logged: (usize, bool),
}

impl ProcessTracker {
    pub fn new(model: TrackProcess) -> Self {
        let quorum_max = model.quorum_max.unwrap_or(u32::MAX);
        // `quorum_max 0` tracks the absence of the process.
        let quorum = if quorum_max == 0 { 0 } else { model.quorum };
        Self {
            matcher: Matcher::new(&model),
            fork_delay: model.fork_delay.or(model.delay),
            terminate_delay: model.terminate_delay.or(model.delay),
            model,
            pids: BTreeSet::new(),
            quorum,
            quorum_max,
            timer: None,
            have_quorum: false,
            logged: (0, false),
        }
    }

    /// The number of processes counted now.
    pub fn count(&self) -> usize {
        self.pids.len()
    }

    fn count_u32(&self) -> u32 {
        u32::try_from(self.pids.len()).unwrap_or(u32::MAX)
    }

    fn in_quorum(&self) -> bool {
        let count = self.count_u32();
        count >= self.quorum && count <= self.quorum_max
    }

    /// After the start-up scan: the state without events (keepalived's
    /// `initialise_process_tracking_priorities`).
    pub fn settle(&mut self) {
        self.have_quorum = self.in_quorum();
        self.timer = None;
        self.logged = (self.count(), self.have_quorum);
    }

    /// keepalived's lines for what changed since they were last written: with `-D` the number of processes
    /// (and whether it is within the quorum), always a quorum gained or lost.
    pub fn log_changes(&mut self) {
        let name = &self.model.name;
        let (count, quorum) = self.logged;
        if count != self.count() {
            let state = if self.in_quorum() { "up" } else { "down" };
            log::info!(
                target: crate::logging::DETAIL,
                "Process {name}, number of current processes changed from {count} to {}, quorum {state}",
                self.count()
            );
        }
        if quorum != self.have_quorum {
            let change = if self.have_quorum { "gained" } else { "lost" };
            log::info!("Quorum {change} for tracked process {name}");
        }
        self.logged = (self.count(), self.have_quorum);
    }

    /// Counts a process found by the start-up scan (no state change yet).
    pub fn count_found(&mut self, pid: i32, comm: &[u8], cmdline: Option<&[u8]>) {
        if self.matcher.matches(comm, cmdline) {
            self.pids.insert(pid);
        }
    }

    fn update(&mut self, up: bool) -> bool {
        if up == self.have_quorum {
            return false;
        }
        self.have_quorum = up;
        true
    }

    /// A process was counted: quorum may be reached (or exceeded); returns whether the state changed.
    fn counted(&mut self, now: Instant, forked: bool) -> bool {
        let count = self.count_u32();
        if count != self.quorum && count != self.quorum_max.wrapping_add(1) {
            return false;
        }
        if self
            .timer
            .is_some_and(|(_, kind)| kind == Pending::Terminate)
        {
            self.timer = None;
        } else if let (true, Some(delay)) = (forked, self.fork_delay) {
            self.timer = Some((now + delay, Pending::Fork));
            return false;
        }
        self.update(count == self.quorum)
    }

    /// A process stopped counting (`exited`: it ended, rather than changed its name or command).
    fn uncounted(&mut self, now: Instant, exited: bool) -> bool {
        let count = self.count_u32();
        if count.wrapping_add(1) != self.quorum && count != self.quorum_max {
            return false;
        }
        if self.timer.is_some_and(|(_, kind)| kind == Pending::Fork) {
            self.timer = None;
        } else if let (true, Some(delay)) = (exited, self.terminate_delay) {
            self.timer = Some((now + delay, Pending::Terminate));
            return false;
        }
        self.update(count == self.quorum_max)
    }

    /// A process executed a new program, or was found by a rescan: counted if it matches, no longer
    /// counted if it did and does not.
    pub fn exec(&mut self, now: Instant, pid: i32, comm: &[u8], cmdline: Option<&[u8]>) -> bool {
        let matches = self.matcher.matches(comm, cmdline);
        let had = self.pids.contains(&pid);
        if matches && !had {
            self.pids.insert(pid);
            self.counted(now, false)
        } else if !matches && had {
            self.pids.remove(&pid);
            self.uncounted(now, false)
        } else {
            false
        }
    }

    /// A process changed its name (`prctl(PR_SET_NAME)`, or a write to `/proc/PID/comm`).
    pub fn comm_changed(&mut self, now: Instant, pid: i32, comm: &[u8]) -> bool {
        if self.matcher.full_command {
            return false;
        }
        self.exec(now, pid, comm, None)
    }

    /// A process forked: the child counts if the parent does.
    pub fn fork(&mut self, now: Instant, parent: i32, child: i32) -> bool {
        if !self.pids.contains(&parent) || !self.pids.insert(child) {
            return false;
        }
        self.counted(now, true)
    }

    /// A process ended.
    pub fn exit(&mut self, now: Instant, pid: i32) -> bool {
        if !self.pids.remove(&pid) {
            return false;
        }
        self.uncounted(now, true)
    }

    /// The processes counted now, to compare with a rescan.
    pub fn pids(&self) -> Vec<i32> {
        self.pids.iter().copied().collect()
    }

    /// When a delayed change is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.timer.map(|(at, _)| at)
    }

    /// A delayed change whose time has come: the state is what the count says now.
    pub fn run_timer(&mut self, now: Instant) -> bool {
        if self.timer.is_none_or(|(at, _)| at > now) {
            return false;
        }
        self.timer = None;
        let up = self.in_quorum();
        self.update(up)
    }
}

/// One process as a scan of `/proc` sees it.
pub struct Seen {
    pub pid: i32,
    pub comm: Vec<u8>,
    pub cmdline: Option<Vec<u8>>,
}

/// Every live process (zombies left out, as keepalived does); the command lines only when asked.
pub fn scan(with_cmdline: bool) -> Vec<Seen> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| read_process(pid, with_cmdline))
        .collect()
}

/// The name (from `/proc/PID/stat`, so that a zombie is seen as one) and command line of a process.
pub fn read_process(pid: i32, with_cmdline: bool) -> Option<Seen> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let comm = stat.get(open + 1..close)?.to_vec();
    if stat.get(close + 2) == Some(&b'Z') {
        return None;
    }
    let cmdline = if with_cmdline {
        Some(std::fs::read(format!("/proc/{pid}/cmdline")).ok()?)
    } else {
        None
    };
    Some(Seen { pid, comm, cmdline })
}

/// A process event from the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcEvent {
    Fork { parent: i32, child: i32 },
    Exec { pid: i32 },
    Comm { pid: i32, comm: Vec<u8> },
    Exit { pid: i32 },
}

const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const NLMSG_HDRLEN: usize = 16;
const CN_MSG_LEN: usize = 20;
const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_COMM: u32 = 0x200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn i32_at(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The process events of one datagram of the proc connector. Thread events are left out: only
/// processes (thread group leaders) count, as in keepalived.
pub fn parse_events(datagram: &[u8]) -> Vec<ProcEvent> {
    let mut events = Vec::new();
    let mut rest = datagram;
    while rest.len() >= NLMSG_HDRLEN {
        let Some(length) = u32_at(rest, 0).and_then(|l| usize::try_from(l).ok()) else {
            break;
        };
        if length < NLMSG_HDRLEN || length > rest.len() {
            break;
        }
        let message = &rest[NLMSG_HDRLEN..length];
        events.extend(parse_connector(message));
        let aligned = (length + 3) & !3;
        rest = rest.get(aligned..).unwrap_or_default();
    }
    events
}

fn parse_connector(message: &[u8]) -> Option<ProcEvent> {
    let (idx, val) = (u32_at(message, 0)?, u32_at(message, 4)?);
    if idx != CN_IDX_PROC || val != CN_VAL_PROC || u32_at(message, 12)? != 0 {
        return None;
    }
    // struct proc_event: what, cpu, timestamp_ns, then the event's data.
    let event = message.get(CN_MSG_LEN..)?;
    let data = 16;
    match u32_at(event, 0)? {
        PROC_EVENT_FORK => {
            let (parent_tgid, child_pid, child_tgid) = (
                i32_at(event, data + 4)?,
                i32_at(event, data + 8)?,
                i32_at(event, data + 12)?,
            );
            (child_pid == child_tgid).then_some(ProcEvent::Fork {
                parent: parent_tgid,
                child: child_tgid,
            })
        }
        PROC_EVENT_EXEC => {
            let (pid, tgid) = (i32_at(event, data)?, i32_at(event, data + 4)?);
            (pid == tgid).then_some(ProcEvent::Exec { pid: tgid })
        }
        PROC_EVENT_COMM => {
            let (pid, tgid) = (i32_at(event, data)?, i32_at(event, data + 4)?);
            let raw = event.get(data + 8..data + 24)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            (pid == tgid).then(|| ProcEvent::Comm {
                pid: tgid,
                comm: raw[..end].to_vec(),
            })
        }
        PROC_EVENT_EXIT => {
            let (pid, tgid) = (i32_at(event, data)?, i32_at(event, data + 4)?);
            (pid == tgid).then_some(ProcEvent::Exit { pid: tgid })
        }
        _ => None,
    }
}

/// What reading the proc connector gave.
pub enum Received {
    Events(Vec<ProcEvent>),
    /// The socket's buffer overflowed: events were lost, the processes must be scanned again.
    Lost(Vec<ProcEvent>),
}

/// The proc connector socket, listening to process events.
pub struct ProcMonitor {
    socket: Socket,
    buffer: Vec<u8>,
}

impl ProcMonitor {
    /// Subscribes to process events; fails where the kernel has no proc connector for this network
    /// namespace (it answers only the initial one) or no `CONFIG_PROC_EVENTS`.
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_CONNECTOR)?;
        socket.bind(&SocketAddr::new(0, CN_IDX_PROC))?;
        let mut request = Vec::with_capacity(NLMSG_HDRLEN + CN_MSG_LEN + 4);
        let length = (NLMSG_HDRLEN + CN_MSG_LEN + 4) as u32;
        request.extend_from_slice(&length.to_ne_bytes());
        // NLMSG_DONE, no flags, sequence 0, port 0 (the kernel's).
        request.extend_from_slice(&3u16.to_ne_bytes());
        request.extend_from_slice(&0u16.to_ne_bytes());
        request.extend_from_slice(&0u32.to_ne_bytes());
        request.extend_from_slice(&std::process::id().to_ne_bytes());
        for word in [CN_IDX_PROC, CN_VAL_PROC, 0, 0] {
            request.extend_from_slice(&word.to_ne_bytes());
        }
        request.extend_from_slice(&4u16.to_ne_bytes());
        request.extend_from_slice(&0u16.to_ne_bytes());
        request.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
        socket.send(&request, 0)?;
        socket.set_non_blocking(true)?;
        Ok(Self {
            socket,
            buffer: vec![0; 64 * 1024],
        })
    }

    /// Everything waiting on the socket.
    pub fn read(&mut self) -> Received {
        let mut events = Vec::new();
        loop {
            match self.socket.recv(&mut &mut self.buffer[..], 0) {
                Ok(0) => return Received::Events(events),
                Ok(received) => events.extend(parse_events(
                    &self.buffer[..received.min(self.buffer.len())],
                )),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Received::Events(events);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Received::Lost(events),
                Err(e) => {
                    log::info!("process monitor netlink recv error {e}");
                    return Received::Events(events);
                }
            }
        }
    }
}

impl AsFd for ProcMonitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(process: &[&str], param_match: ParamMatch, full_command: bool) -> TrackProcess {
        TrackProcess {
            name: "p".into(),
            process: process.iter().map(|s| (*s).to_owned()).collect(),
            param_match,
            weight: 0,
            weight_reverse: false,
            quorum: 1,
            quorum_max: None,
            delay: None,
            terminate_delay: None,
            fork_delay: None,
            full_command,
            position: None,
        }
    }

    #[test]
    fn names_and_command_lines_match_as_in_keepalived() {
        let by_name = Matcher::new(&model(&["sleep"], ParamMatch::Exact, false));
        assert!(by_name.matches(b"sleep", None));
        assert!(!by_name.matches(b"sleepy", None));

        let full = Matcher::new(&model(&["/bin/sleep"], ParamMatch::Exact, true));
        assert!(full.matches(b"sleep", Some(b"/bin/sleep\x00100\x00")));
        assert!(!full.matches(b"sleep", Some(b"sleep\x00100\x00")));

        let exact = Matcher::new(&model(&["sleep", "100", "x"], ParamMatch::Exact, false));
        assert!(exact.needs_cmdline(), "parameters imply the full command");
        assert!(exact.matches(b"sleep", Some(b"sleep\x00100\x00x\x00")));
        assert!(!exact.matches(b"sleep", Some(b"sleep\x00100\x00x\x00y\x00")));
        assert!(!exact.matches(b"sleep", Some(b"sleep\x00100\x00")));

        let partial = Matcher::new(&model(&["sleep", "100"], ParamMatch::Partial, false));
        assert!(partial.matches(b"sleep", Some(b"sleep\x00100\x00x\x00")));
        assert!(!partial.matches(b"sleep", Some(b"sleep\x001000\x00")));

        let initial = Matcher::new(&model(&["sleep", "10"], ParamMatch::Initial, false));
        assert!(initial.matches(b"sleep", Some(b"sleep\x001000\x00")));
        assert!(initial.matches(b"sleep", Some(b"sleep\x0010\x00y\x00")));
        assert!(!initial.matches(b"sleep", Some(b"sleep\x002\x00")));
    }

    #[test]
    fn quorum_and_delays() {
        let now = Instant::now();
        let mut m = model(&["worker"], ParamMatch::Exact, false);
        m.quorum = 2;
        m.quorum_max = Some(3);
        m.terminate_delay = Some(Duration::from_secs(2));
        m.fork_delay = Some(Duration::from_secs(1));
        let mut t = ProcessTracker::new(m);
        t.count_found(10, b"worker", None);
        t.settle();
        assert!(!t.have_quorum);
        assert!(
            t.exec(now, 11, b"worker", None),
            "a second process makes quorum"
        );
        assert!(t.have_quorum);
        assert!(!t.exec(now, 12, b"other", None));
        assert!(!t.fork(now, 11, 13), "three is within quorum_max");
        assert!(
            !t.fork(now, 13, 14),
            "four is over, but only after fork_delay"
        );
        assert_eq!(t.deadline(), Some(now + Duration::from_secs(1)));
        assert!(t.run_timer(now + Duration::from_secs(1)));
        assert!(!t.have_quorum);
        let later = now + Duration::from_secs(1);
        // Back to three: quorum again, but exits wait for terminate_delay either way.
        assert!(!t.exit(later, 14));
        assert_eq!(t.deadline(), Some(later + Duration::from_secs(2)));
        assert!(!t.exit(later, 13), "two: no edge crossed");
        assert!(t.run_timer(later + Duration::from_secs(2)));
        assert!(t.have_quorum);
        let later = later + Duration::from_secs(2);
        assert!(
            !t.exit(later, 11),
            "below quorum: held back by terminate_delay"
        );
        assert!(t.have_quorum);
        assert!(!t.run_timer(later + Duration::from_secs(1)));
        assert!(t.run_timer(later + Duration::from_secs(2)));
        assert!(!t.have_quorum);
        assert!(!t.exit(now, 99), "an untracked exit changes nothing");
    }

    #[test]
    fn a_name_change_moves_the_process() {
        let now = Instant::now();
        let mut t = ProcessTracker::new(model(&["worker"], ParamMatch::Exact, false));
        t.settle();
        assert!(t.comm_changed(now, 5, b"worker"));
        assert!(t.have_quorum);
        assert!(t.comm_changed(now, 5, b"renamed"));
        assert!(!t.have_quorum);
    }

    fn datagram(what: u32, data: &[i32], comm: Option<&[u8]>) -> Vec<u8> {
        let mut event = Vec::new();
        event.extend_from_slice(&what.to_ne_bytes());
        event.extend_from_slice(&0u32.to_ne_bytes());
        event.extend_from_slice(&0u64.to_ne_bytes());
        for value in data {
            event.extend_from_slice(&value.to_ne_bytes());
        }
        if let Some(comm) = comm {
            let mut raw = [0u8; 16];
            raw[..comm.len()].copy_from_slice(comm);
            event.extend_from_slice(&raw);
        }
        let mut cn = Vec::new();
        for word in [CN_IDX_PROC, CN_VAL_PROC, 7, 0] {
            cn.extend_from_slice(&word.to_ne_bytes());
        }
        cn.extend_from_slice(&(event.len() as u16).to_ne_bytes());
        cn.extend_from_slice(&0u16.to_ne_bytes());
        cn.extend_from_slice(&event);
        let mut out = Vec::new();
        out.extend_from_slice(&((NLMSG_HDRLEN + cn.len()) as u32).to_ne_bytes());
        out.extend_from_slice(&3u16.to_ne_bytes());
        out.extend_from_slice(&[0; 10]);
        out.extend_from_slice(&cn);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    #[test]
    fn connector_messages_are_read() {
        let mut bytes = datagram(PROC_EVENT_FORK, &[1, 1, 20, 20], None);
        bytes.extend(datagram(PROC_EVENT_FORK, &[1, 1, 21, 20], None));
        bytes.extend(datagram(PROC_EVENT_EXEC, &[20, 20], None));
        bytes.extend(datagram(PROC_EVENT_COMM, &[20, 20], Some(b"worker")));
        bytes.extend(datagram(PROC_EVENT_EXIT, &[20, 20, 0, 17], None));
        bytes.extend(datagram(PROC_EVENT_EXIT, &[21, 20, 0, 17], None));
        assert_eq!(
            parse_events(&bytes),
            vec![
                ProcEvent::Fork {
                    parent: 1,
                    child: 20
                },
                ProcEvent::Exec { pid: 20 },
                ProcEvent::Comm {
                    pid: 20,
                    comm: b"worker".to_vec()
                },
                ProcEvent::Exit { pid: 20 },
            ],
            "thread events are left out"
        );
    }

    #[test]
    fn the_connector_reports_a_child_starting_and_ending() {
        if !nix::unistd::Uid::effective().is_root() {
            eprintln!("skipped: not root");
            return;
        }
        let Ok(mut monitor) = ProcMonitor::open() else {
            eprintln!("skipped: no proc connector in this network namespace");
            return;
        };
        // On a busy machine other processes' events can overflow the socket's buffer; the kernel
        // then says events were lost, and the scenario runs again.
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            let mut child = std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .expect("sleep");
            let pid = child.id() as i32;
            let (mut seen, mut lost) = (Vec::new(), false);
            let mut read_until = |event: ProcEvent, seen: &mut Vec<ProcEvent>| {
                let deadline = Instant::now() + Duration::from_secs(2);
                while Instant::now() < deadline && !seen.contains(&event) {
                    match monitor.read() {
                        Received::Events(events) => seen.extend(events),
                        Received::Lost(events) => {
                            seen.extend(events);
                            lost = true;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            };
            // The child is killed only once its exec is reported: spawn returns when the new
            // program's memory is in place, before the kernel reports the exec, and a kill in
            // between ends the exec without a report.
            read_until(ProcEvent::Exec { pid }, &mut seen);
            let _ = child.kill();
            let _ = child.wait();
            read_until(ProcEvent::Exit { pid }, &mut seen);
            let forked = seen
                .iter()
                .any(|e| matches!(e, ProcEvent::Fork { child, .. } if *child == pid));
            let complete = forked
                && seen.contains(&ProcEvent::Exec { pid })
                && seen.contains(&ProcEvent::Exit { pid });
            if !complete && lost && attempt < ATTEMPTS {
                continue;
            }
            assert!(seen.contains(&ProcEvent::Exec { pid }), "{seen:?}");
            assert!(seen.contains(&ProcEvent::Exit { pid }), "{seen:?}");
            assert!(forked, "{seen:?}");
            return;
        }
    }
}
