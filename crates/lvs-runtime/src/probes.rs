//! The network side of one check attempt: a non-blocking TCP connection (`TCP_CHECK`), then for
//! `HTTP_GET` a request per URL and the whole response read until the server closes. Each step
//! has `connect_timeout` to complete, as in keepalived. The event loop polls [`Probe::interest`]
//! and calls [`Probe::advance`] when the socket is ready or [`Probe::deadline`] has passed.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use keepalived_config::model::lvs::{ConnectionOptions, HttpCheck, UrlCheck};
use lvs::http;
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
}

enum Step {
    Connecting,
    Sending { request: Vec<u8>, written: usize },
    Receiving { response: Vec<u8> },
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
        let socket = connect(&target)?;
        Ok(Probe {
            target,
            exchange,
            timeout,
            socket,
            step: Step::Connecting,
            url: 0,
            deadline: now + timeout,
        })
    }

    /// The poll events the attempt waits for.
    pub fn interest(&self) -> PollFlags {
        match self.step {
            Step::Connecting | Step::Sending { .. } => PollFlags::POLLOUT,
            Step::Receiving { .. } => PollFlags::POLLIN,
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
        Verdict::Failure(match self.step {
            Step::Connecting => format!("connection to {} timed out", self.target.address),
            _ => format!("{} did not answer in time", self.target.address),
        })
    }

    /// Moves on after the socket became ready; `Some` when the attempt is over.
    pub fn advance(&mut self, now: Instant) -> Option<Verdict> {
        match &mut self.step {
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
                    Exchange::Connect => Some(Verdict::Success),
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

fn connect(target: &Target) -> Result<Socket, String> {
    let domain = match target.address {
        SocketAddr::V4(_) => Domain::IPV4,
        SocketAddr::V6(_) => Domain::IPV6,
    };
    let socket = Socket::new(
        domain,
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )
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
    match socket.connect(&SockAddr::from(target.address)) {
        Ok(()) => Ok(socket),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(e) => Err(format!("connection to {} failed: {e}", target.address)),
    }
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

    #[test]
    fn tcp_connect_succeeds_to_a_listener_and_fails_without() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        let probe = Probe::start(
            target(port),
            Exchange::Connect,
            Duration::from_secs(2),
            Instant::now(),
        );
        assert_eq!(run(probe.expect("start")), Verdict::Success);
        drop(listener);
        let verdict = match Probe::start(
            target(port),
            Exchange::Connect,
            Duration::from_secs(2),
            Instant::now(),
        ) {
            Ok(probe) => run(probe),
            Err(e) => Verdict::Failure(e),
        };
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
        let probe = Probe::start(
            target(port),
            Exchange::Http(check),
            Duration::from_secs(2),
            Instant::now(),
        );
        assert_eq!(run(probe.expect("start")), Verdict::Success);
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
        let probe = Probe::start(
            target(port),
            Exchange::Http(check),
            Duration::from_secs(2),
            Instant::now(),
        );
        let verdict = run(probe.expect("start"));
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("500")),
            "{verdict:?}"
        );
        server.join().expect("server");
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        let check = HttpCheck {
            urls: vec![url("/", None)],
            ..HttpCheck::default()
        };
        let probe = Probe::start(
            target(port),
            Exchange::Http(check),
            Duration::from_millis(300),
            Instant::now(),
        );
        let verdict = run(probe.expect("start"));
        assert!(
            matches!(&verdict, Verdict::Failure(m) if m.contains("in time")),
            "{verdict:?}"
        );
        drop(listener);
    }
}
