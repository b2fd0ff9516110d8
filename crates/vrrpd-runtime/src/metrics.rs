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
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

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
    let _ = writeln!(
        out,
        "# HELP vrrpd_build_info vrrpd's version.\n# TYPE vrrpd_build_info gauge\nvrrpd_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );

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
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Connection {
    stream: TcpStream,
    request: Vec<u8>,
    deadline: Instant,
}

/// The metrics endpoint: a non-blocking listening socket and the connections being served.
pub struct MetricsServer {
    listener: TcpListener,
    connections: Vec<Connection>,
}

impl MetricsServer {
    /// Listens on `address`.
    pub fn bind(address: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        Ok(MetricsServer {
            listener,
            connections: Vec::new(),
        })
    }

    /// The address it listens on (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The descriptors to poll for reading: the listener first, then each connection.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        std::iter::once(self.listener.as_fd())
            .chain(self.connections.iter().map(|c| c.stream.as_fd()))
            .collect()
    }

    /// The earliest connection deadline, for the loop's timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.connections.iter().map(|c| c.deadline).min()
    }

    /// Serves what `ready` (one flag per descriptor of [`fds`](Self::fds), same order) says can be
    /// read, and drops connections past their deadline. `render` is called only for a complete
    /// request for `/metrics`.
    pub fn serve(&mut self, ready: &[bool], now: Instant, render: impl Fn() -> String) {
        // Connections first: accepting shifts nothing in their order.
        let mut keep = Vec::with_capacity(self.connections.len());
        for (index, mut connection) in std::mem::take(&mut self.connections)
            .into_iter()
            .enumerate()
        {
            let readable = ready.get(index + 1).copied().unwrap_or(false);
            let done = if readable {
                connection.read_and_answer(&render)
            } else {
                now >= connection.deadline
            };
            if !done {
                keep.push(connection);
            }
        }
        self.connections = keep;
        if ready.first().copied().unwrap_or(false) {
            while self.connections.len() < MAX_CONNECTIONS {
                match self.listener.accept() {
                    Ok((stream, _)) => {
                        if stream.set_nonblocking(true).is_ok() {
                            self.connections.push(Connection {
                                stream,
                                request: Vec::new(),
                                deadline: now + REQUEST_TIMEOUT,
                            });
                        }
                    }
                    Err(_) => break,
                }
            }
        }
    }
}

impl Connection {
    /// Reads what arrived; answers once the request head is complete. True when finished with.
    fn read_and_answer(&mut self, render: &impl Fn() -> String) -> bool {
        let mut buffer = [0u8; 2048];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => return true,
                Ok(n) => {
                    self.request.extend_from_slice(&buffer[..n]);
                    if self.request.len() > MAX_REQUEST {
                        return true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return true,
            }
        }
        let Some(end) = self
            .request
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .or_else(|| self.request.windows(2).position(|w| w == b"\n\n"))
        else {
            return false;
        };
        let head = String::from_utf8_lossy(&self.request[..end]);
        let mut words = head.split_whitespace();
        let response = match (words.next(), words.next()) {
            (Some("GET"), Some(path)) if path == "/metrics" || path.starts_with("/metrics?") => {
                let body = render();
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            }
            (Some("GET"), Some(_)) => {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            }
            _ => {
                "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            }
        };
        // The answer is a few kilobytes per instance; the socket buffer takes it. A client that
        // does not read gets what fits and is dropped.
        let _ = self.stream.set_nonblocking(false);
        let _ = self
            .stream
            .set_write_timeout(Some(Duration::from_millis(200)));
        let _ = self.stream.write_all(response.as_bytes());
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
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

    #[test]
    fn server_answers_get_metrics_and_refuses_other_requests() {
        let loopback = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        let mut server = MetricsServer::bind(loopback).expect("bind");
        let address = server.local_addr().expect("address");
        let ask = |server: &mut MetricsServer, request: &str| {
            let mut client = TcpStream::connect(address).expect("connect");
            client.write_all(request.as_bytes()).expect("send");
            let start = Instant::now();
            // Poll by hand: everything is ready at once on loopback, a few rounds suffice.
            while start.elapsed() < Duration::from_secs(5) {
                let ready = vec![true; server.fds().len()];
                server.serve(&ready, Instant::now(), || "up 1\n".to_owned());
                if server.connections.is_empty() && server.fds().len() == 1 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let mut answer = String::new();
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let _ = client.read_to_string(&mut answer);
            answer
        };
        let answer = ask(&mut server, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
        assert!(answer.ends_with("\r\n\r\nup 1\n"), "{answer:?}");
        assert!(answer.contains("Content-Length: 5\r\n"), "{answer:?}");
        let answer = ask(&mut server, "GET / HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer:?}");
        let answer = ask(&mut server, "POST /metrics HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer:?}");
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
