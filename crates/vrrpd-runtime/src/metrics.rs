//! Prometheus metrics of the VRRP daemon, on an address the operator opts into
//! (`--metrics-listen=ADDR:PORT`): every instance's state, priorities, adverts sent and received,
//! drops by reason, transitions, in Prometheus' text format (version 0.0.4) on `GET /metrics`.
//!
//! The server lives in the event loop: the listening socket and the connections being served are
//! polled with the rest, nothing blocks, and the text is rendered from the instances when a
//! request is complete. A client that sends no complete request within five seconds, or too much,
//! is dropped, so a stuck scraper costs one descriptor for a while and never delays an advert.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags};

use vrrp::State;

use crate::reports::InstanceReport;

/// Longest request head accepted.
const MAX_REQUEST: usize = 8192;
/// Most connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 16;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Counters of the daemon itself, not of one instance.
#[derive(Clone, Copy, Debug, Default)]
pub struct DaemonCounters {
    /// Datagrams that could not be taken apart far enough to find their instance.
    pub malformed: u64,
    /// Reloads (SIGHUP) done.
    pub reloads: u64,
    /// Checker children started after the first (none without a checker child).
    pub checker_restarts: Option<u64>,
}

/// Renders the metrics of `instances` in Prometheus' text format.
pub fn render(instances: &[InstanceReport<'_>], daemon: &DaemonCounters) -> String {
    let mut out = String::new();
    let labels = |report: &InstanceReport<'_>| {
        let config = report.instance.config();
        format!(
            "instance=\"{}\",interface=\"{}\",vrid=\"{}\"",
            escape(&config.name),
            escape(report.interface),
            config.vrid
        )
    };
    build_info(&mut out);

    header(
        &mut out,
        "vrrpd_instance_state",
        "gauge",
        "1 for the state the instance is in, 0 for the others.",
    );
    for report in instances {
        let current = report.instance.state();
        for (state, name) in [
            (State::Init, "init"),
            (State::Backup, "backup"),
            (State::Master, "master"),
            (State::Fault, "fault"),
            (State::Stopped, "stop"),
        ] {
            let _ = writeln!(
                out,
                "vrrpd_instance_state{{{},state=\"{name}\"}} {}",
                labels(report),
                u8::from(current == state)
            );
        }
    }

    type Gauge = fn(&InstanceReport<'_>) -> u64;
    let gauges: [(&str, &str, Gauge); 2] = [
        ("vrrpd_instance_priority", "The configured priority.", |r| {
            u64::from(r.instance.config().priority)
        }),
        (
            "vrrpd_instance_effective_priority",
            "The priority after tracked scripts and interfaces.",
            |r| u64::from(r.instance.effective_priority()),
        ),
    ];
    for (name, help, value) in gauges {
        header(&mut out, name, "gauge", help);
        for report in instances {
            let _ = writeln!(out, "{name}{{{}}} {}", labels(report), value(report));
        }
    }

    type Counter = fn(&vrrp::Statistics) -> u64;
    let counters: [(&str, &str, Counter); 6] = [
        (
            "vrrpd_adverts_received_total",
            "Advertisements received (as keepalived counts them).",
            |s| s.advert_rcvd,
        ),
        ("vrrpd_adverts_sent_total", "Advertisements sent.", |s| {
            s.advert_sent
        }),
        ("vrrpd_became_master_total", "Transitions to MASTER.", |s| {
            s.become_master
        }),
        (
            "vrrpd_released_master_total",
            "Transitions from MASTER to another state.",
            |s| s.release_master,
        ),
        (
            "vrrpd_priority_zero_received_total",
            "Advertisements with priority 0 (a master stepping down) received.",
            |s| s.pri_zero_rcvd,
        ),
        (
            "vrrpd_priority_zero_sent_total",
            "Advertisements with priority 0 sent.",
            |s| s.pri_zero_sent,
        ),
    ];
    for (name, help, value) in counters {
        header(&mut out, name, "counter", help);
        for report in instances {
            let statistics = report.instance.statistics();
            let _ = writeln!(out, "{name}{{{}}} {}", labels(report), value(statistics));
        }
    }

    header(
        &mut out,
        "vrrpd_drops_total",
        "counter",
        "Received packets dropped, by reason.",
    );
    for report in instances {
        let s = report.instance.statistics();
        for (reason, value) in [
            ("length", s.packet_len_err),
            ("ttl", s.ip_ttl_err),
            ("invalid_type", s.invalid_type_rcvd),
            ("advert_interval", s.advert_interval_err),
            ("address_list", s.addr_list_err),
            ("auth_invalid_type", s.invalid_authtype),
            ("auth_type_mismatch", s.authtype_mismatch),
            ("auth_failure", s.auth_failure),
            ("checksum", s.chk_err),
            ("version", s.vers_err),
            ("vrid", s.vrid_err),
            ("other", s.other_drops),
        ] {
            let _ = writeln!(
                out,
                "vrrpd_drops_total{{{},reason=\"{reason}\"}} {value}",
                labels(report)
            );
        }
    }

    header(
        &mut out,
        "vrrpd_malformed_datagrams_total",
        "counter",
        "Datagrams too damaged to find their instance.",
    );
    let _ = writeln!(out, "vrrpd_malformed_datagrams_total {}", daemon.malformed);
    header(
        &mut out,
        "vrrpd_reloads_total",
        "counter",
        "Configuration reloads (SIGHUP).",
    );
    let _ = writeln!(out, "vrrpd_reloads_total {}", daemon.reloads);
    if let Some(restarts) = daemon.checker_restarts {
        header(
            &mut out,
            "vrrpd_checker_restarts_total",
            "counter",
            "Checker processes started again after the one before died.",
        );
        let _ = writeln!(out, "vrrpd_checker_restarts_total {restarts}");
    }
    out
}

/// `vrrpd_build_info`: the first family of every scrape, whichever process serves it.
pub fn build_info(out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP vrrpd_build_info vrrpd's version.\n# TYPE vrrpd_build_info gauge\nvrrpd_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
}

/// A Prometheus histogram of durations in seconds: cumulative buckets, sum and count.
#[derive(Clone, Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    pub fn observe(&mut self, value: Duration) {
        let seconds = value.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(self.bounds.len());
        self.counts[bucket] += 1;
        self.sum += seconds;
    }

    /// The `_bucket`, `_sum` and `_count` lines of `name` with `labels` (`key="value",…` or "").
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let separator = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (index, count) in self.counts.iter().enumerate() {
            cumulative += count;
            let bound = match self.bounds.get(index) {
                Some(bound) => bound.to_string(),
                None => "+Inf".to_owned(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// The `# HELP` and `# TYPE` lines of a metric family.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format wants it.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// How long the checker process has to answer before a scrape goes out without its part.
const CHECKER_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest answer taken from the checker process (its text for a very large table).
const MAX_CHECKER_ANSWER: u64 = 1 << 30;

enum Phase {
    /// The request head is still arriving.
    Reading,
    /// The request is complete; the checker process's part is awaited.
    Waiting,
    /// The answer is being written, `written` bytes of it so far.
    Writing { written: usize },
}

struct Connection {
    stream: TcpStream,
    request: Vec<u8>,
    phase: Phase,
    response: Vec<u8>,
    deadline: Instant,
}

/// The parent's end of the link to the checker process: a stream socket over which one byte asks
/// for the checker's metrics and the answer comes back as a little-endian `u64` length and that
/// many bytes of text (see [`MetricsResponder`]).
struct CheckerLink {
    stream: UnixStream,
    /// Bytes of answers received and not yet taken apart.
    incoming: Vec<u8>,
    /// A request is out and its answer is awaited by the connections in `Waiting`, until then.
    awaiting: Option<Instant>,
    /// Answers to requests given up on, to be dropped when they arrive.
    stale: usize,
}

/// The metrics endpoint: a non-blocking listening socket, the connections being served and, in
/// the VRRP process with a checker child, the link over which each scrape asks the child for its
/// part. Nothing here blocks: a slow client or a slow child costs a few descriptors and memory.
pub struct MetricsServer {
    listener: TcpListener,
    connections: Vec<Connection>,
    /// Whether the scrape includes a checker process's part (the link may be down meanwhile).
    with_checker: bool,
    checker: Option<CheckerLink>,
}

impl MetricsServer {
    /// Listens on `address`.
    pub fn bind(address: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        Ok(MetricsServer {
            listener,
            connections: Vec::new(),
            with_checker: false,
            checker: None,
        })
    }

    /// The address it listens on (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The link to a (new) checker process, or `None` while there is none: scrapes then carry
    /// `vrrpd_checker_metrics_up 0` and the VRRP part only.
    pub fn set_checker(&mut self, link: Option<UnixStream>, mut render: impl FnMut() -> String) {
        self.with_checker = true;
        self.checker = link.and_then(|stream| {
            stream.set_nonblocking(true).ok()?;
            Some(CheckerLink {
                stream,
                incoming: Vec::new(),
                awaiting: None,
                stale: 0,
            })
        });
        // Whoever waited on the old link is answered without it.
        self.answer_waiting(None, &mut render);
    }

    /// What to poll: the listener, each connection (reading or writing), then the checker link.
    /// [`serve`](Self::serve) takes one readiness flag per entry, in this order.
    pub fn poll_fds(&self) -> Vec<PollFd<'_>> {
        let mut fds = vec![PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
        for connection in &self.connections {
            let interest = match connection.phase {
                Phase::Reading => PollFlags::POLLIN,
                Phase::Waiting => PollFlags::empty(),
                Phase::Writing { .. } => PollFlags::POLLOUT,
            };
            fds.push(PollFd::new(connection.stream.as_fd(), interest));
        }
        if let Some(link) = &self.checker {
            fds.push(PollFd::new(link.stream.as_fd(), PollFlags::POLLIN));
        }
        fds
    }

    /// The earliest connection or checker deadline, for the loop's timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.connections
            .iter()
            .map(|c| c.deadline)
            .chain(self.checker.as_ref().and_then(|link| link.awaiting))
            .min()
    }

    /// Serves what `ready` (one flag per entry of [`poll_fds`](Self::poll_fds), same order) says
    /// is ready, and drops connections past their deadline. `render` gives this process's text;
    /// it is called only when an answer is made.
    pub fn serve(&mut self, ready: &[bool], now: Instant, mut render: impl FnMut() -> String) {
        let count = self.connections.len();
        if self.checker.is_some() && ready.get(count + 1).copied().unwrap_or(false) {
            self.read_checker(&mut render);
        }
        if let Some(since) = self.checker.as_ref().and_then(|link| link.awaiting) {
            if now >= since {
                if let Some(link) = self.checker.as_mut() {
                    link.awaiting = None;
                    link.stale += 1;
                }
                self.answer_waiting(None, &mut render);
            }
        }
        let mut keep = Vec::with_capacity(count);
        let mut want_checker = false;
        for (index, mut connection) in std::mem::take(&mut self.connections)
            .into_iter()
            .enumerate()
        {
            let ready = ready.get(index + 1).copied().unwrap_or(false);
            let done = match connection.phase {
                Phase::Reading if ready => match connection.read_request() {
                    Request::Incomplete => false,
                    Request::Closed => true,
                    Request::Metrics if self.with_checker => {
                        connection.phase = Phase::Waiting;
                        want_checker = true;
                        false
                    }
                    Request::Metrics => {
                        connection.respond_metrics(&render(), now);
                        connection.write()
                    }
                    Request::Refused(head) => {
                        connection.respond(head.as_bytes(), now);
                        connection.write()
                    }
                },
                Phase::Writing { .. } if ready => connection.write(),
                // Only a hang-up wakes a waiting connection.
                Phase::Waiting if ready => connection.hung_up(),
                _ => now >= connection.deadline,
            };
            if done {
                let _ = connection.stream.shutdown(std::net::Shutdown::Both);
            } else {
                keep.push(connection);
            }
        }
        self.connections = keep;
        if want_checker {
            self.ask_checker(now, &mut render);
        }
        if ready.first().copied().unwrap_or(false) {
            while self.connections.len() < MAX_CONNECTIONS {
                match self.listener.accept() {
                    Ok((stream, _)) => {
                        if stream.set_nonblocking(true).is_ok() {
                            self.connections.push(Connection {
                                stream,
                                request: Vec::new(),
                                phase: Phase::Reading,
                                response: Vec::new(),
                                deadline: now + REQUEST_TIMEOUT,
                            });
                        }
                    }
                    Err(_) => break,
                }
            }
        }
    }

    /// Asks the checker process for its part, unless a request is out already (the connections
    /// waiting share its answer) or an abandoned one has not been answered yet (then the
    /// connections are answered without it).
    fn ask_checker(&mut self, now: Instant, render: &mut impl FnMut() -> String) {
        let Some(link) = self.checker.as_mut() else {
            self.answer_waiting(None, render);
            return;
        };
        if link.awaiting.is_some() {
            return;
        }
        if link.stale == 0 && matches!((&link.stream).write(b"M"), Ok(1)) {
            link.awaiting = Some(now + CHECKER_TIMEOUT);
            return;
        }
        self.answer_waiting(None, render);
    }

    /// Takes in what the checker sent; a complete answer goes to the connections waiting.
    fn read_checker(&mut self, render: &mut impl FnMut() -> String) {
        let Some(link) = self.checker.as_mut() else {
            return;
        };
        let mut buffer = [0u8; 65536];
        let mut closed = false;
        loop {
            match (&link.stream).read(&mut buffer) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => link.incoming.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let mut answers = Vec::new();
        while link.incoming.len() >= 8 {
            let mut length = [0u8; 8];
            length.copy_from_slice(&link.incoming[..8]);
            let length = u64::from_le_bytes(length);
            if length > MAX_CHECKER_ANSWER {
                closed = true;
                break;
            }
            let end = 8 + length as usize;
            if link.incoming.len() < end {
                break;
            }
            let text = String::from_utf8_lossy(&link.incoming[8..end]).into_owned();
            link.incoming.drain(..end);
            if link.stale > 0 {
                link.stale -= 1;
            } else if link.awaiting.take().is_some() {
                answers.push(text);
            }
        }
        for text in answers {
            self.answer_waiting(Some(&text), render);
        }
        if closed {
            self.checker = None;
            self.answer_waiting(None, render);
        }
    }

    /// Answers every connection waiting for the checker: this process's text, then the
    /// checker's part when there is one.
    fn answer_waiting(&mut self, checker: Option<&str>, render: &mut impl FnMut() -> String) {
        if !self
            .connections
            .iter()
            .any(|c| matches!(c.phase, Phase::Waiting))
        {
            return;
        }
        let mut body = render();
        header(
            &mut body,
            "vrrpd_checker_metrics_up",
            "gauge",
            "1 when the checker process answered this scrape (its metrics follow), 0 when not.",
        );
        let _ = writeln!(
            body,
            "vrrpd_checker_metrics_up {}",
            u8::from(checker.is_some())
        );
        body.push_str(checker.unwrap_or(""));
        let now = Instant::now();
        for connection in &mut self.connections {
            if matches!(connection.phase, Phase::Waiting) {
                connection.respond_metrics(&body, now);
            }
        }
    }
}

/// What a connection's request head asks for.
enum Request {
    Incomplete,
    /// The client went away or sent too much.
    Closed,
    Metrics,
    /// Another path or method: the head of the answer refusing it.
    Refused(&'static str),
}

impl Connection {
    /// Reads what arrived and looks at the request head once it is complete.
    fn read_request(&mut self) -> Request {
        let mut buffer = [0u8; 2048];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => return Request::Closed,
                Ok(n) => {
                    self.request.extend_from_slice(&buffer[..n]);
                    if self.request.len() > MAX_REQUEST {
                        return Request::Closed;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Request::Closed,
            }
        }
        let Some(end) = self
            .request
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .or_else(|| self.request.windows(2).position(|w| w == b"\n\n"))
        else {
            return Request::Incomplete;
        };
        let head = String::from_utf8_lossy(&self.request[..end]);
        let mut words = head.split_whitespace();
        match (words.next(), words.next()) {
            (Some("GET"), Some(path)) if path == "/metrics" || path.starts_with("/metrics?") => {
                Request::Metrics
            }
            (Some("GET"), Some(_)) => Request::Refused(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            ),
            _ => Request::Refused(
                "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            ),
        }
    }

    /// Whether a client that is waiting for its answer has gone.
    fn hung_up(&mut self) -> bool {
        let mut buffer = [0u8; 256];
        match self.stream.read(&mut buffer) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ),
        }
    }

    fn respond_metrics(&mut self, body: &str, now: Instant) {
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body.as_bytes());
        self.respond(&response, now);
    }

    fn respond(&mut self, response: &[u8], now: Instant) {
        self.response = response.to_vec();
        self.phase = Phase::Writing { written: 0 };
        // A client gets as long to read the answer as it had to send its request.
        self.deadline = now + REQUEST_TIMEOUT;
    }

    /// Writes what the socket takes. True when the whole answer is out (or the client is gone).
    fn write(&mut self) -> bool {
        let Phase::Writing { written } = &mut self.phase else {
            return false;
        };
        while *written < self.response.len() {
            match self.stream.write(&self.response[*written..]) {
                Ok(0) => return true,
                Ok(n) => *written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return true,
            }
        }
        true
    }
}

/// The checker process's end of the link: takes requests (one byte each) and answers each with a
/// little-endian `u64` length and the text, written as the socket takes it so that the checker
/// loop never waits on its parent.
pub struct MetricsResponder {
    stream: UnixStream,
    requests: usize,
    output: Vec<u8>,
    written: usize,
}

impl MetricsResponder {
    pub fn new(stream: UnixStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(MetricsResponder {
            stream,
            requests: 0,
            output: Vec::new(),
            written: 0,
        })
    }

    /// What to poll: reading always, writing while an answer is going out.
    pub fn poll_fd(&self) -> PollFd<'_> {
        let interest = if self.written < self.output.len() {
            PollFlags::POLLIN | PollFlags::POLLOUT
        } else {
            PollFlags::POLLIN
        };
        PollFd::new(self.stream.as_fd(), interest)
    }

    /// Reads requests and writes answers, rendering with `render` when one is due. False when
    /// the parent has gone (the link is of no more use).
    pub fn serve(&mut self, render: impl FnOnce() -> String) -> bool {
        let mut buffer = [0u8; 64];
        loop {
            match (&self.stream).read(&mut buffer) {
                Ok(0) => return false,
                Ok(n) => self.requests += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
        if self.written >= self.output.len() && self.requests > 0 {
            // The parent has at most one request out; extra ones share this answer's text.
            let text = render();
            self.output.clear();
            self.written = 0;
            for _ in 0..self.requests {
                self.output
                    .extend_from_slice(&(text.len() as u64).to_le_bytes());
                self.output.extend_from_slice(text.as_bytes());
            }
            self.requests = 0;
        }
        while self.written < self.output.len() {
            match (&self.stream).write(&self.output[self.written..]) {
                Ok(0) => return false,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
        if self.written >= self.output.len() {
            self.output = Vec::new();
            self.written = 0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn instance(name: &str, priority: u8) -> vrrp::Instance {
        let mut config = vrrp::Config::new(name, vrrp::wire::Family::Ipv4, 51);
        config.priority = priority;
        vrrp::Instance::new(config).expect("instance")
    }

    #[test]
    fn text_format_has_state_counters_and_escaped_labels() {
        let vi = instance("VI \"1\"", 150);
        let reports = [InstanceReport {
            instance: &vi,
            interface: "eth0",
            virtual_addresses: Vec::new(),
        }];
        let text = render(
            &reports,
            &DaemonCounters {
                malformed: 3,
                reloads: 1,
                checker_restarts: Some(2),
            },
        );
        let labels = "instance=\"VI \\\"1\\\"\",interface=\"eth0\",vrid=\"51\"";
        for line in [
            format!("vrrpd_instance_state{{{labels},state=\"init\"}} 1"),
            format!("vrrpd_instance_state{{{labels},state=\"master\"}} 0"),
            format!("vrrpd_instance_priority{{{labels}}} 150"),
            format!("vrrpd_adverts_sent_total{{{labels}}} 0"),
            format!("vrrpd_drops_total{{{labels},reason=\"ttl\"}} 0"),
            "vrrpd_malformed_datagrams_total 3".to_owned(),
            "vrrpd_reloads_total 1".to_owned(),
            "vrrpd_checker_restarts_total 2".to_owned(),
            "# TYPE vrrpd_drops_total counter".to_owned(),
            "# TYPE vrrpd_instance_state gauge".to_owned(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap_or("");
            assert!(value.parse::<u64>().is_ok(), "{line:?}");
        }
    }

    /// Sends `request` to the server and serves until the answer is complete; `child`, when
    /// given, answers the checker link as the checker process would.
    fn ask(
        server: &mut MetricsServer,
        request: &str,
        mut child: Option<&mut MetricsResponder>,
        child_text: &str,
    ) -> String {
        let address = server.local_addr().expect("address");
        let mut client = TcpStream::connect(address).expect("connect");
        client.write_all(request.as_bytes()).expect("send");
        client
            .set_read_timeout(Some(Duration::from_millis(5)))
            .expect("timeout");
        let start = Instant::now();
        let mut answer = Vec::new();
        // Poll by hand: everything is ready at once on loopback, a few rounds suffice.
        while start.elapsed() < Duration::from_secs(5) {
            let ready = vec![true; server.poll_fds().len()];
            server.serve(&ready, Instant::now(), || "up 1\n".to_owned());
            if let Some(child) = child.as_deref_mut() {
                assert!(child.serve(|| child_text.to_owned()), "link closed");
            }
            let mut buffer = [0u8; 4096];
            match client.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(_) => {}
            }
        }
        String::from_utf8(answer).expect("utf-8")
    }

    #[test]
    fn server_answers_get_metrics_and_refuses_other_requests() {
        let loopback = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        let mut server = MetricsServer::bind(loopback).expect("bind");
        let answer = ask(
            &mut server,
            "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
            None,
            "",
        );
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
        assert!(answer.ends_with("\r\n\r\nup 1\n"), "{answer:?}");
        assert!(answer.contains("Content-Length: 5\r\n"), "{answer:?}");
        let answer = ask(&mut server, "GET / HTTP/1.1\r\n\r\n", None, "");
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer:?}");
        let answer = ask(&mut server, "POST /metrics HTTP/1.1\r\n\r\n", None, "");
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer:?}");
    }

    #[test]
    fn a_scrape_carries_the_checker_part() {
        let loopback = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        let mut server = MetricsServer::bind(loopback).expect("bind");
        let (ours, theirs) = UnixStream::pair().expect("pair");
        let mut child = MetricsResponder::new(theirs).expect("responder");
        server.set_checker(Some(ours), String::new);
        // A large part (more than socket buffers hold) arrives whole.
        let large = "lvs_x 1\n".repeat(200_000);
        let answer = ask(
            &mut server,
            "GET /metrics HTTP/1.1\r\n\r\n",
            Some(&mut child),
            &large,
        );
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        assert!(
            body.starts_with("up 1\n"),
            "{}",
            &body[..100.min(body.len())]
        );
        assert!(body.contains("\nvrrpd_checker_metrics_up 1\n"));
        assert!(body.ends_with(&large));
        let length = format!("Content-Length: {}\r\n", body.len());
        assert!(answer.contains(&length));
        // Twice in a row: the link carries one answer per request.
        let answer = ask(
            &mut server,
            "GET /metrics HTTP/1.1\r\n\r\n",
            Some(&mut child),
            "lvs_y 2\n",
        );
        assert!(
            answer.ends_with("vrrpd_checker_metrics_up 1\nlvs_y 2\n"),
            "{answer:?}"
        );
    }

    #[test]
    fn a_silent_or_absent_checker_leaves_the_vrrp_part() {
        let loopback = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        let mut server = MetricsServer::bind(loopback).expect("bind");
        let (ours, theirs) = UnixStream::pair().expect("pair");
        server.set_checker(Some(ours), String::new);
        // The child never answers: after CHECKER_TIMEOUT the scrape goes out without its part.
        let start = Instant::now();
        let answer = ask(&mut server, "GET /metrics HTTP/1.1\r\n\r\n", None, "");
        assert!(start.elapsed() >= CHECKER_TIMEOUT, "{:?}", start.elapsed());
        assert!(answer.ends_with("up 1\n# HELP vrrpd_checker_metrics_up 1 when the checker process answered this scrape (its metrics follow), 0 when not.\n# TYPE vrrpd_checker_metrics_up gauge\nvrrpd_checker_metrics_up 0\n"), "{answer:?}");
        // Its late answer is dropped, not given to the next scrape; meanwhile scrapes do not wait.
        let mut child = MetricsResponder::new(theirs).expect("responder");
        assert!(child.serve(|| "stale 1\n".to_owned()));
        let answer = ask(
            &mut server,
            "GET /metrics HTTP/1.1\r\n\r\n",
            Some(&mut child),
            "fresh 1\n",
        );
        assert!(!answer.contains("stale"), "{answer:?}");
        // A dead child: answered at once without its part.
        drop(child);
        server.set_checker(None, String::new);
        let start = Instant::now();
        let answer = ask(&mut server, "GET /metrics HTTP/1.1\r\n\r\n", None, "");
        assert!(start.elapsed() < CHECKER_TIMEOUT);
        assert!(
            answer.ends_with("vrrpd_checker_metrics_up 0\n"),
            "{answer:?}"
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut histogram = Histogram::new(&[0.01, 0.1, 1.0]);
        histogram.observe(Duration::from_millis(5));
        histogram.observe(Duration::from_millis(50));
        histogram.observe(Duration::from_millis(60));
        histogram.observe(Duration::from_secs(3));
        let mut out = String::new();
        histogram.render(&mut out, "x_seconds", "checker=\"TCP_CHECK\"");
        assert_eq!(
            out,
            "x_seconds_bucket{checker=\"TCP_CHECK\",le=\"0.01\"} 1\n\
             x_seconds_bucket{checker=\"TCP_CHECK\",le=\"0.1\"} 3\n\
             x_seconds_bucket{checker=\"TCP_CHECK\",le=\"1\"} 3\n\
             x_seconds_bucket{checker=\"TCP_CHECK\",le=\"+Inf\"} 4\n\
             x_seconds_sum{checker=\"TCP_CHECK\"} 3.115\n\
             x_seconds_count{checker=\"TCP_CHECK\"} 4\n"
        );
    }

    #[test]
    fn silent_clients_are_dropped_at_their_deadline() {
        let loopback = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        let mut server = MetricsServer::bind(loopback).expect("bind");
        let address = server.local_addr().expect("address");
        let _client = TcpStream::connect(address).expect("connect");
        let now = Instant::now();
        for _ in 0..100 {
            server.serve(&[true], now, String::new);
            if !server.connections.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(server.connections.len(), 1);
        assert_eq!(server.next_deadline(), Some(now + REQUEST_TIMEOUT));
        server.serve(&[false, false], now + REQUEST_TIMEOUT, String::new);
        assert!(server.connections.is_empty());
    }
}
