//! The network side of one check attempt: a non-blocking TCP connection (`TCP_CHECK`), then for
//! `HTTP_GET` a request per URL and the whole response read until the server closes; for
//! `UDP_CHECK` one datagram on a connected UDP socket and its reply (an ICMP unreachable comes
//! back as an error on the socket); for `DNS_CHECK` a query and the response with its id; for
//! `SMTP_CHECK` the greeting, `HELO` and `QUIT`. Each step has `connect_timeout` to complete, as in
//! keepalived. The event loop polls [`Probe::interest`]
//! and calls [`Probe::advance`] when the socket is ready or [`Probe::deadline`] has passed.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use keepalived_config::model::lvs::{
    ConnectionOptions, DnsCheck, HttpCheck, SmtpCheck, UdpCheck, UrlCheck,
};
use lvs::{dns, http, smtp, udp};
use nix::poll::PollFlags;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct Target {
    pub address: SocketAddr,
    pub bind: Option<SocketAddr>,
    pub interface: Option<String>,
    pub fwmark: Option<u32>,
}

impl Target {
    /// The checker's target: `connect_ip`/`connect_port` or the real server's.
    pub fn new(options: &ConnectionOptions, rs_address: IpAddr, rs_port: u16) -> Self {
        let address = SocketAddr::new(
            options.connect_ip.unwrap_or(rs_address),
            options.connect_port.unwrap_or(rs_port),
        );
        let bind = match (options.bind_to, options.bind_port) {
            (Some(ip), port) => Some(SocketAddr::new(ip, port.unwrap_or(0))),
            (None, Some(port)) => Some(SocketAddr::new(
                match address {
                    SocketAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                    SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                },
                port,
            )),
            (None, None) => None,
        };
        Target {
            address,
            bind,
            interface: options.bind_interface.clone(),
            fwmark: options.fwmark,
        }
    }
}

/// What an attempt checks once connected.
#[derive(Clone, Debug)]
pub enum Exchange {
    /// Connecting is all (`TCP_CHECK`).
    Connect,
    /// `HTTP_GET`: each URL in turn.
    Http(HttpCheck),
    /// `UDP_CHECK`: a datagram and perhaps its reply.
    Udp(UdpCheck),
    /// `DNS_CHECK`: a query and its response.
    Dns(DnsCheck),
    /// `SMTP_CHECK`: greeting, HELO, QUIT.
    Smtp(SmtpCheck),
}

enum Step {
    Connecting,
    Sending {
        request: Vec<u8>,
        written: usize,
    },
    Receiving {
        response: Vec<u8>,
    },
    /// Waiting for a datagram.
    Datagram,
    /// Waiting for the response to the DNS query with this id.
    DnsAnswer {
        id: u16,
    },
    /// An SMTP conversation: sending `outgoing` while some is left, else reading.
    Smtp {
        conversation: smtp::Conversation,
        outgoing: Vec<u8>,
        written: usize,
    },
}

/// One attempt in flight.
pub struct Probe {
    target: Target,
    exchange: Exchange,
    timeout: Duration,
    socket: Socket,
    step: Step,
    url: usize,
    deadline: Instant,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Success,
    Failure(String),
}

impl Probe {
    /// Starts an attempt: the connection is under way (or failed at once).
    pub fn start(
        target: Target,
        exchange: Exchange,
        timeout: Duration,
        now: Instant,
    ) -> Result<Self, String> {
        let (socket, step) = match &exchange {
            Exchange::Udp(check) => (
                send_datagram(&target, &udp::payload(check))?,
                Step::Datagram,
            ),
            Exchange::Dns(check) => {
                let id = random_id();
                let query = dns::query(id, &check.name, dns::type_code(&check.query_type));
                (send_datagram(&target, &query)?, Step::DnsAnswer { id })
            }
            _ => (connect(&target)?, Step::Connecting),
        };
        Ok(Probe {
            target,
            exchange,
            timeout,
            socket,
            step,
            url: 0,
            deadline: now + timeout,
        })
    }

    /// The poll events the attempt waits for.
    pub fn interest(&self) -> PollFlags {
        match self.step {
            Step::Connecting | Step::Sending { .. } => PollFlags::POLLOUT,
            Step::Receiving { .. } | Step::Datagram | Step::DnsAnswer { .. } => PollFlags::POLLIN,
            Step::Smtp {
                ref outgoing,
                written,
                ..
            } if written < outgoing.len() => PollFlags::POLLOUT,
            Step::Smtp { .. } => PollFlags::POLLIN,
        }
    }

    /// The socket to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// When the current step times out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The current step timed out.
    pub fn timed_out(&self) -> Verdict {
        if let (Step::Datagram, Exchange::Udp(check)) = (&self.step, &self.exchange) {
            // No reply and no ICMP error: the port is taken to be open (keepalived).
            if udp::silence_is_success(check) {
                return Verdict::Success;
            }
        }
        Verdict::Failure(match self.step {
            Step::Connecting => format!("connection to {} timed out", self.target.address),
            _ => format!("{} did not answer in time", self.target.address),
        })
    }

    /// Moves on after the socket became ready; `Some` when the attempt is over.
    pub fn advance(&mut self, now: Instant) -> Option<Verdict> {
        match &mut self.step {
            Step::Smtp {
                conversation,
                outgoing,
                written,
            } => {
                if *written < outgoing.len() {
                    loop {
                        match self.socket.write(&outgoing[*written..]) {
                            Ok(n) => {
                                *written += n;
                                if *written == outgoing.len() {
                                    self.deadline = now + self.timeout;
                                    return None;
                                }
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                            Err(e) => {
                                return Some(Verdict::Failure(format!(
                                    "write failure to {}: {e}",
                                    self.target.address
                                )));
                            }
                        }
                    }
                }
                let mut buffer = [0u8; smtp::MAX_LINE];
                let action = loop {
                    match self.socket.read(&mut buffer) {
                        Ok(0) => break conversation.closed(),
                        Ok(n) => break conversation.received(&buffer[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => {
                            return Some(Verdict::Failure(format!(
                                "read failure from {}: {e}",
                                self.target.address
                            )));
                        }
                    }
                };
                self.deadline = now + self.timeout;
                match action {
                    smtp::Action::Read => None,
                    smtp::Action::Send(bytes) => {
                        *outgoing = bytes;
                        *written = 0;
                        None
                    }
                    smtp::Action::Success => Some(Verdict::Success),
                    smtp::Action::Failure(reason) => Some(Verdict::Failure(format!(
                        "SMTP server {}: {reason}",
                        self.target.address
                    ))),
                }
            }
            Step::DnsAnswer { id } => {
                let mut buffer = [0u8; 512];
                loop {
                    match self.socket.read(&mut buffer) {
                        Ok(n) => match dns::judge(*id, &buffer[..n]) {
                            dns::Answer::Ignore => continue,
                            dns::Answer::Good => return Some(Verdict::Success),
                            dns::Answer::Error(rcode) => {
                                return Some(Verdict::Failure(format!(
                                    "{} answered with rcode {rcode}",
                                    self.target.address
                                )));
                            }
                        },
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => {
                            return Some(Verdict::Failure(format!(
                                "DNS to {} failed: {e}",
                                self.target.address
                            )));
                        }
                    }
                }
            }
            Step::Datagram => {
                let Exchange::Udp(check) = &self.exchange else {
                    return Some(Verdict::Success);
                };
                let mut buffer = vec![0u8; udp::receive_size(check)];
                loop {
                    return match self.socket.read(&mut buffer) {
                        Ok(n) if udp::reply_ok(check, &buffer[..n]) => Some(Verdict::Success),
                        Ok(n) => Some(Verdict::Failure(format!(
                            "the reply of {} ({n} bytes) does not match",
                            self.target.address
                        ))),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => None,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => Some(Verdict::Failure(format!(
                            "UDP to {} failed: {e}",
                            self.target.address
                        ))),
                    };
                }
            }
            Step::Connecting => {
                match self.socket.take_error() {
                    Ok(None) => {}
                    Ok(Some(e)) | Err(e) => {
                        return Some(Verdict::Failure(format!(
                            "connection to {} failed: {e}",
                            self.target.address
                        )));
                    }
                }
                match &self.exchange {
                    Exchange::Connect | Exchange::Udp(_) | Exchange::Dns(_) => {
                        Some(Verdict::Success)
                    }
                    Exchange::Smtp(check) => {
                        self.step = Step::Smtp {
                            conversation: smtp::Conversation::new(check.helo_name.as_deref()),
                            outgoing: Vec::new(),
                            written: 0,
                        };
                        self.deadline = now + self.timeout;
                        None
                    }
                    Exchange::Http(check) => {
                        let Some(url) = check.urls.get(self.url) else {
                            return Some(Verdict::Success);
                        };
                        let request = http::request(
                            &url.path,
                            url.virtualhost.as_deref().or(check.virtualhost.as_deref()),
                            self.target.address.ip(),
                            self.target.address.port(),
                            check.http_protocol.as_deref(),
                        );
                        self.step = Step::Sending {
                            request,
                            written: 0,
                        };
                        self.deadline = now + self.timeout;
                        self.advance(now)
                    }
                }
            }
            Step::Sending { request, written } => loop {
                match self.socket.write(&request[*written..]) {
                    Ok(n) => {
                        *written += n;
                        if *written == request.len() {
                            self.step = Step::Receiving {
                                response: Vec::new(),
                            };
                            self.deadline = now + self.timeout;
                            return None;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Some(Verdict::Failure(format!(
                            "cannot send to {}: {e}",
                            self.target.address
                        )));
                    }
                }
            },
            Step::Receiving { response } => {
                let mut buffer = [0u8; 16384];
                loop {
                    match self.socket.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(n) => {
                            response.extend_from_slice(&buffer[..n]);
                            self.deadline = now + self.timeout;
                            if response.len() >= http::MAX_RESPONSE {
                                break;
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => {
                            return Some(Verdict::Failure(format!(
                                "cannot read from {}: {e}",
                                self.target.address
                            )));
                        }
                    }
                }
                let Exchange::Http(check) = &self.exchange else {
                    return Some(Verdict::Success);
                };
                let url: &UrlCheck = check.urls.get(self.url)?;
                if let Err(e) = http::judge(url, response) {
                    return Some(Verdict::Failure(e.to_string()));
                }
                self.url += 1;
                if self.url >= check.urls.len() {
                    return Some(Verdict::Success);
                }
                // The next URL on a new connection.
                match connect(&self.target) {
                    Ok(socket) => {
                        self.socket = socket;
                        self.step = Step::Connecting;
                        self.deadline = now + self.timeout;
                        None
                    }
                    Err(e) => Some(Verdict::Failure(e)),
                }
            }
        }
    }
}

/// A query id nobody can guess (keepalived uses `random()`).
fn random_id() -> u16 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(Instant::now()) as u16
}

/// A connected UDP socket that has sent `payload`.
fn send_datagram(target: &Target, payload: &[u8]) -> Result<Socket, String> {
    let socket = open(target, Type::DGRAM, Protocol::UDP)?;
    socket
        .connect(&SockAddr::from(target.address))
        .map_err(|e| format!("UDP connect to {} failed: {e}", target.address))?;
    match socket.send(payload) {
        Ok(n) if n == payload.len() => Ok(socket),
        Ok(n) => Err(format!(
            "UDP send to {}: {n} bytes of {} sent",
            target.address,
            payload.len()
        )),
        Err(e) => Err(format!("UDP send to {} failed: {e}", target.address)),
    }
}

fn connect(target: &Target) -> Result<Socket, String> {
    let socket = open(target, Type::STREAM, Protocol::TCP)?;
    match socket.connect(&SockAddr::from(target.address)) {
        Ok(()) => Ok(socket),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(e) => Err(format!("connection to {} failed: {e}", target.address)),
    }
}

/// A non-blocking socket of `kind` with the checker's fwmark, interface and source address.
fn open(target: &Target, kind: Type, protocol: Protocol) -> Result<Socket, String> {
    let domain = match target.address {
        SocketAddr::V4(_) => Domain::IPV4,
        SocketAddr::V6(_) => Domain::IPV6,
    };
    let socket = Socket::new(domain, kind.nonblocking().cloexec(), Some(protocol))
        .map_err(|e| format!("cannot create a socket: {e}"))?;
    if let Some(mark) = target.fwmark {
        socket
            .set_mark(mark)
            .map_err(|e| format!("cannot set fwmark {mark}: {e}"))?;
    }
    if let Some(interface) = &target.interface {
        socket
            .bind_device(Some(interface.as_bytes()))
            .map_err(|e| format!("cannot bind to interface {interface}: {e}"))?;
    }
    if let Some(bind) = target.bind {
        socket
            .bind(&SockAddr::from(bind))
            .map_err(|e| format!("cannot bind to {bind}: {e}"))?;
    }
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use nix::poll::{PollFd, PollTimeout, poll};

    use super::*;

    fn run(mut probe: Probe) -> Verdict {
        loop {
            let now = Instant::now();
            if now >= probe.deadline() {
                return probe.timed_out();
            }
            let ready = {
                let mut fds = [PollFd::new(probe.fd(), probe.interest())];
                poll(&mut fds, PollTimeout::from(100u16)).expect("poll") > 0
            };
            if ready {
                if let Some(verdict) = probe.advance(Instant::now()) {
                    return verdict;
                }
            }
        }
    }

    fn target(port: u16) -> Target {
        Target::new(
            &ConnectionOptions::default(),
            "127.0.0.1".parse().expect("address"),
            port,
        )
    }

    /// Starts a probe of 127.0.0.1:`port` and runs it to its verdict (a failure to start is one).
    fn probe_verdict(port: u16, exchange: Exchange, timeout: Duration) -> Verdict {
        match Probe::start(target(port), exchange, timeout, Instant::now()) {
            Ok(probe) => run(probe),
            Err(e) => Verdict::Failure(e),
        }
    }

    #[test]
    fn tcp_connect_succeeds_to_a_listener_and_fails_without() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        assert_eq!(
            probe_verdict(port, Exchange::Connect, Duration::from_secs(2)),
            Verdict::Success
        );
        drop(listener);
        let verdict = probe_verdict(port, Exchange::Connect, Duration::from_secs(2));
        assert!(matches!(verdict, Verdict::Failure(_)), "{verdict:?}");
    }

    fn serve(
        listener: TcpListener,
        answers: Vec<&'static [u8]>,
    ) -> std::thread::JoinHandle<Vec<String>> {
        std::thread::spawn(move || {
            let mut requests = Vec::new();
            for answer in answers {
                let (mut stream, _) = listener.accept().expect("accept");
                let mut buffer = [0u8; 1024];
                let mut request = Vec::new();
                while !request.ends_with(b"\r\n\r\n") {
                    let n = stream.read(&mut buffer).expect("read");
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..n]);
                }
                requests.push(String::from_utf8_lossy(&request).into_owned());
                stream.write_all(answer).expect("write");
            }
            requests
        })
    }

    fn url(path: &str, digest: Option<&str>) -> UrlCheck {
        UrlCheck {
            path: path.into(),
            digest: digest.map(str::to_owned),
            status_codes: Vec::new(),
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_options: Vec::new(),
            regex_min_offset: None,
            regex_max_offset: None,
            regex_stack: None,
        }
    }

    #[test]
    fn http_checks_every_url_in_turn() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        let server = serve(
            listener,
            vec![
                b"HTTP/1.0 200 OK\r\n\r\nhello\n",
                b"HTTP/1.0 200 OK\r\n\r\nbye\n",
            ],
        );
        let check = HttpCheck {
            urls: vec![
                url("/a", Some("b1946ac92492d2347c6235b4d2611184")),
                url("/b", None),
            ],
            virtualhost: Some("web".into()),
            ..HttpCheck::default()
        };
        assert_eq!(
            probe_verdict(port, Exchange::Http(check), Duration::from_secs(2)),
            Verdict::Success
        );
        let requests = server.join().expect("server");
        assert!(
            requests[0].starts_with("GET /a HTTP/1.0\r\n"),
            "{requests:?}"
        );
        assert!(requests[0].contains(&format!("Host: web:{port}\r\n")));
        assert!(requests[1].starts_with("GET /b "));
    }

    #[test]
    fn http_fails_on_a_bad_status() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        let server = serve(listener, vec![b"HTTP/1.0 500 Oops\r\n\r\n"]);
        let check = HttpCheck {
            urls: vec![url("/", None)],
            ..HttpCheck::default()
        };
        let verdict = probe_verdict(port, Exchange::Http(check), Duration::from_secs(2));
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("500")),
            "{verdict:?}"
        );
        server.join().expect("server");
    }

    fn udp_check(reply: Option<&[u8]>) -> UdpCheck {
        UdpCheck {
            payload: Some(b"ping".to_vec()),
            require_reply: reply.map(|r| (r.to_vec(), vec![0xff; r.len()])),
            min_reply_length: 0,
            max_reply_length: 255,
        }
    }

    fn udp_run(port: u16, check: UdpCheck, timeout: Duration) -> Verdict {
        probe_verdict(port, Exchange::Udp(check), timeout)
    }

    /// A UDP server answering one datagram with `answer`; returns what it received.
    fn udp_echo(answer: &'static [u8]) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = server.local_addr().expect("address").port();
        let handle = std::thread::spawn(move || {
            let mut buffer = [0u8; 512];
            let (n, from) = server.recv_from(&mut buffer).expect("receive");
            server.send_to(answer, from).expect("send");
            buffer[..n].to_vec()
        });
        (port, handle)
    }

    #[test]
    fn udp_reply_is_checked() {
        let (port, server) = udp_echo(b"pong");
        let verdict = udp_run(port, udp_check(Some(b"pong")), Duration::from_secs(2));
        assert_eq!(verdict, Verdict::Success);
        assert_eq!(server.join().expect("server"), b"ping");
        let (port, server) = udp_echo(b"nope");
        let verdict = udp_run(port, udp_check(Some(b"pong")), Duration::from_secs(2));
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("does not match")),
            "{verdict:?}"
        );
        server.join().expect("server");
    }

    #[test]
    fn udp_silence_is_success_unless_a_reply_is_required() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = silent.local_addr().expect("address").port();
        let start = Instant::now();
        assert_eq!(
            udp_run(port, udp_check(None), Duration::from_millis(300)),
            Verdict::Success
        );
        assert!(start.elapsed() >= Duration::from_millis(300));
        let verdict = udp_run(port, udp_check(Some(b"pong")), Duration::from_millis(300));
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("in time")),
            "{verdict:?}"
        );
        drop(silent);
    }

    #[test]
    fn udp_port_unreachable_is_failure() {
        // A port nobody listens on: the ICMP port unreachable is ECONNREFUSED on the socket.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("address").port();
        drop(closed);
        let verdict = udp_run(port, udp_check(None), Duration::from_secs(2));
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("refused")),
            "{verdict:?}"
        );
    }

    /// A DNS server answering one query: first with a datagram of another id, then with
    /// `rcode`; returns the query.
    fn dns_server(rcode: u8) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = server.local_addr().expect("address").port();
        let handle = std::thread::spawn(move || {
            let mut buffer = [0u8; 512];
            let (n, from) = server.recv_from(&mut buffer).expect("receive");
            let query = buffer[..n].to_vec();
            let mut answer = query.clone();
            answer[2] |= 0x80;
            answer[3] |= rcode;
            let mut stray = answer.clone();
            stray[1] ^= 0xff;
            server.send_to(&stray, from).expect("send");
            server.send_to(&answer, from).expect("send");
            query
        });
        (port, handle)
    }

    fn dns_run(port: u16, name: &str) -> Verdict {
        let check = DnsCheck {
            query_type: "A".into(),
            name: name.into(),
        };
        probe_verdict(port, Exchange::Dns(check), Duration::from_millis(500))
    }

    #[test]
    fn dns_answer_with_the_query_id_counts() {
        let (port, server) = dns_server(0);
        assert_eq!(dns_run(port, "example.com"), Verdict::Success);
        let query = server.join().expect("server");
        assert_eq!(&query[12..], b"\x07example\x03com\x00\x00\x01\x00\x01");
        let (port, server) = dns_server(2);
        let verdict = dns_run(port, ".");
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("rcode 2")),
            "{verdict:?}"
        );
        server.join().expect("server");
    }

    #[test]
    fn dns_silence_and_refusal_fail() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = silent.local_addr().expect("address").port();
        let verdict = dns_run(port, ".");
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("in time")),
            "{verdict:?}"
        );
        drop(silent);
        let verdict = dns_run(port, ".");
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("refused")),
            "{verdict:?}"
        );
    }

    /// An SMTP server sending `greeting`, answering the first command with `helo_answer` and
    /// the second with 221; returns the commands it received.
    fn smtp_server(
        greeting: &'static [u8],
        helo_answer: &'static [u8],
    ) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut commands = Vec::new();
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            stream.write_all(greeting).expect("greeting");
            for answer in [helo_answer, b"221 bye\r\n".as_slice()] {
                let mut line = String::new();
                if std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) == 0 {
                    break;
                }
                commands.push(line);
                if stream.write_all(answer).is_err() {
                    break;
                }
            }
            commands
        });
        (port, handle)
    }

    fn smtp_run(port: u16, helo: Option<&str>) -> Verdict {
        let check = SmtpCheck {
            helo_name: helo.map(str::to_owned),
        };
        probe_verdict(port, Exchange::Smtp(check), Duration::from_secs(2))
    }

    #[test]
    fn smtp_conversation_succeeds() {
        let (port, server) = smtp_server(b"220 mail ESMTP\r\n", b"250 hi\r\n");
        assert_eq!(smtp_run(port, Some("lb.example")), Verdict::Success);
        assert_eq!(
            server.join().expect("server"),
            vec!["HELO lb.example\r\n".to_owned(), "QUIT\r\n".to_owned()]
        );
    }

    #[test]
    fn smtp_bad_banner_or_helo_fails() {
        let (port, server) = smtp_server(b"554 go away\r\n", b"250 hi\r\n");
        let verdict = smtp_run(port, None);
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("greeting")),
            "{verdict:?}"
        );
        drop(server);
        let (port, server) = smtp_server(b"220 mail\r\n", b"550 no\r\n");
        let verdict = smtp_run(port, None);
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("HELO")),
            "{verdict:?}"
        );
        assert_eq!(
            server.join().expect("server")[0],
            "HELO smtpchecker.keepalived.org\r\n"
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        let check = HttpCheck {
            urls: vec![url("/", None)],
            ..HttpCheck::default()
        };
        let verdict = probe_verdict(port, Exchange::Http(check), Duration::from_millis(300));
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("in time")),
            "{verdict:?}"
        );
        drop(listener);
    }
}
