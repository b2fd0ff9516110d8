//! The network side of one check attempt: a non-blocking TCP connection (`TCP_CHECK`), then for
//! `HTTP_GET` a request per URL and the whole response read until the server closes (`SSL_GET`:
//! the same over TLS, a [`TlsSession`] driven on the same non-blocking socket); for
//! `UDP_CHECK` one datagram on a connected UDP socket and its reply (an ICMP unreachable comes
//! back as an error on the socket); for `DNS_CHECK` a query and the response with its id; for
//! `SMTP_CHECK` the greeting, `HELO` and `QUIT`; for `PING_CHECK` an ICMP echo request on a ping
//! socket and its reply. Each step has `connect_timeout` to complete, as in
//! keepalived. The event loop polls [`Probe::interest`]
//! and calls [`Probe::advance`] when the socket is ready or [`Probe::deadline`] has passed.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use keepalived_config::model::lvs::{
    ConnectionOptions, DnsCheck, HttpCheck, SmtpCheck, UdpCheck, UrlCheck,
};
use lvs::checker_log::AttemptFailure;
use lvs::{dns, http, ping, smtp, udp};
use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::{SockaddrLike, SockaddrStorage, recvfrom};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::tls::{ClientChoice, TlsClient, TlsError, TlsSession};

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
    /// `HTTP_GET` or `SSL_GET`: each URL in turn.
    Http(Arc<HttpExchange>),
    /// `UDP_CHECK`: a datagram and perhaps its reply.
    Udp(UdpCheck),
    /// `DNS_CHECK`: a query and its response.
    Dns(DnsCheck),
    /// `SMTP_CHECK`: greeting, HELO, QUIT.
    Smtp(SmtpCheck),
    /// `PING_CHECK`: an ICMP echo request and its reply.
    Ping,
}

/// An `HTTP_GET` or `SSL_GET` with what it needs besides its own settings.
#[derive(Debug)]
pub struct HttpExchange {
    pub check: HttpCheck,
    /// The `regex` of each URL, compiled.
    pub regexes: Vec<Option<http::BodyRegex>>,
    /// The real server's `virtualhost`.
    pub real_server_host: Option<String>,
    /// The virtual server's `virtualhost`.
    pub virtual_server_host: Option<String>,
    /// `SSL_GET`: the TLS client.
    pub tls: Option<Arc<ClientConfig>>,
    /// `SSL_GET`: the client that reached the server last, to start with.
    pub tls_client: ClientChoice,
}

impl HttpExchange {
    /// The exchange of `check`, and the messages about its regexes.
    pub fn new(
        check: HttpCheck,
        real_server_host: Option<String>,
        virtual_server_host: Option<String>,
        tls: Option<Arc<ClientConfig>>,
    ) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let regexes = check
            .urls
            .iter()
            .map(|url| {
                let compiled = http::BodyRegex::compile(url);
                warnings.extend(
                    compiled
                        .warnings
                        .into_iter()
                        .map(|w| format!("url {}: {w}", url.path)),
                );
                compiled.body_regex
            })
            .collect();
        let exchange = HttpExchange {
            check,
            regexes,
            real_server_host,
            virtual_server_host,
            tls,
            tls_client: ClientChoice::default(),
        };
        (exchange, warnings)
    }
}

enum Step {
    Connecting,
    /// `SSL_GET`: the TLS handshake, then `request` is sent.
    Handshake {
        request: Vec<u8>,
    },
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
    /// Waiting for the echo reply with this sequence number.
    Echo {
        sequence: u16,
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
    /// `SSL_GET`: the TLS session on `socket`.
    tls: Option<TlsSession>,
    /// `SSL_GET`: the server turned down the other client's offer in this attempt (why), and
    /// this one speaks now.
    tls_retry: Option<(TlsClient, String)>,
    step: Step,
    /// The URL an HTTP check asks for (its index): one per attempt, as keepalived's.
    url: usize,
    deadline: Instant,
    /// A `TCP_CHECK`'s connection failed and the kernel dissolved it: the socket may connect
    /// again.
    disconnected: bool,
    /// The URL of an HTTP check, once it passed (until [`Probe::take_passed_url`] takes it).
    passed_url: Option<PassedUrl>,
}

/// A URL of an HTTP check that passed, and on what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassedUrl {
    pub pass: http::HttpPass,
    pub path: String,
}

/// The socket of a `TCP_CHECK` attempt that could not connect, for the checker's next attempt
/// ([`Probe::into_spare`]).
pub struct SpareSocket(Socket);

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// The attempt failed: `what` as keepalived's `log_all_failures` lines tell it, `reason`
    /// for the log (in keepalived's words where its lines carry one).
    Failure {
        what: AttemptFailure,
        reason: String,
    },
}

impl Verdict {
    /// A failure.
    pub fn failed(what: AttemptFailure, reason: impl Into<String>) -> Self {
        Verdict::Failure {
            what,
            reason: reason.into(),
        }
    }

    /// Why the attempt failed; empty for a success.
    pub fn reason(&self) -> &str {
        match self {
            Verdict::Success => "",
            Verdict::Failure { reason, .. } => reason,
        }
    }
}

impl Probe {
    /// Starts an attempt: the connection is under way (or failed at once).
    pub fn start(
        target: Target,
        exchange: Exchange,
        timeout: Duration,
        now: Instant,
    ) -> Result<Self, String> {
        Self::start_with(target, exchange, timeout, now, None)
    }

    /// [`Probe::start`], connecting with the socket of the checker's last attempt when there is
    /// one.
    pub fn start_with(
        target: Target,
        exchange: Exchange,
        timeout: Duration,
        now: Instant,
        spare: Option<SpareSocket>,
    ) -> Result<Self, String> {
        let (socket, step) = match &exchange {
            Exchange::Udp(check) => (
                send_datagram(&target, &udp::payload(check))?,
                Step::Datagram,
            ),
            Exchange::Dns(check) => {
                let id = random_id();
                let query = dns::query(id, &check.name, dns::type_code(&check.query_type));
                (send_query(&target, &query)?, Step::DnsAnswer { id })
            }
            Exchange::Ping => {
                let sequence = next_sequence();
                (send_echo(&target, sequence)?, Step::Echo { sequence })
            }
            _ => (connect(&target, spare)?, Step::Connecting),
        };
        Ok(Probe {
            target,
            exchange,
            timeout,
            socket,
            tls: None,
            tls_retry: None,
            step,
            url: 0,
            deadline: now + timeout,
            disconnected: false,
            passed_url: None,
        })
    }

    /// The attempt's socket, when it may serve the checker's next attempt: only a `TCP_CHECK`'s
    /// whose connection the kernel refused, reset or found unreachable and then dissolved
    /// (the `connect` that told the error). Such a socket is closed on the kernel's side
    /// (`TCP_CLOSE`, its port given back) and keeps its source address, fwmark and interface:
    /// connecting it again saves the socket(), setsockopt() and close() of every attempt at a
    /// down server. Any other socket is closed as before: a timed-out attempt's is still
    /// sending SYNs, a successful one's is connected and its server sees the FIN.
    pub fn into_spare(self) -> Option<SpareSocket> {
        self.disconnected.then_some(SpareSocket(self.socket))
    }

    /// The poll events the attempt waits for.
    pub fn interest(&self) -> PollFlags {
        match self.step {
            Step::Handshake { .. } if self.tls.as_ref().is_some_and(|t| !t.wants_write()) => {
                PollFlags::POLLIN
            }
            Step::Connecting | Step::Handshake { .. } | Step::Sending { .. } => PollFlags::POLLOUT,
            Step::Receiving { .. }
            | Step::Datagram
            | Step::DnsAnswer { .. }
            | Step::Echo { .. } => PollFlags::POLLIN,
            Step::Smtp {
                ref outgoing,
                written,
                ..
            } if written < outgoing.len() => PollFlags::POLLOUT,
            Step::Smtp { .. } => PollFlags::POLLIN,
        }
    }

    /// The same attempt, asking an HTTP check's URL `url` (its index) instead of the first.
    pub fn for_url(mut self, url: usize) -> Self {
        self.url = url;
        self
    }

    /// The socket to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// The URL of an HTTP check, if it passed since the last call: keepalived logs a URL that
    /// passes while its checker is down.
    pub fn take_passed_url(&mut self) -> Option<PassedUrl> {
        self.passed_url.take()
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
        if let Step::DnsAnswer { .. } = self.step {
            return Verdict::failed(AttemptFailure::Other, "read timeout from socket");
        }
        if let Exchange::Smtp(_) = self.exchange {
            let failure = match &self.step {
                Step::Connecting => smtp::Failure::ConnectionTimeout,
                Step::Smtp {
                    outgoing, written, ..
                } if *written < outgoing.len() => smtp::Failure::WriteTimeout,
                _ => smtp::Failure::ReadTimeout,
            };
            return Verdict::failed(AttemptFailure::Other, failure.text(self.target.address));
        }
        let address = self.target.address;
        match &self.step {
            Step::Connecting => Verdict::failed(
                AttemptFailure::ConnectTimeout,
                format!("connection to {address} timed out"),
            ),
            Step::Handshake { .. } => Verdict::failed(
                AttemptFailure::ConnectTimeout,
                format!("the TLS handshake with {address} did not end in time"),
            ),
            Step::Sending { .. } => Verdict::failed(
                AttemptFailure::SendTimeout,
                format!("{address} did not take the request in time"),
            ),
            Step::Receiving { response } if !response.is_empty() => Verdict::failed(
                AttemptFailure::ReadTimeout,
                format!("{address} did not finish its answer in time"),
            ),
            _ => Verdict::failed(
                AttemptFailure::AnswerTimeout,
                format!("{address} did not answer in time"),
            ),
        }
    }

    /// The verdict on a connection that could not be made: `e` is the connection's error when
    /// `known`, else the failure to ask for it.
    fn connect_failure(&self, e: &std::io::Error, known: bool) -> Verdict {
        if let Exchange::Smtp(_) = self.exchange {
            // keepalived's socket_state: a timeout, or any other error.
            let failure = if e.raw_os_error() == Some(libc::ETIMEDOUT) {
                smtp::Failure::ConnectionTimeout
            } else {
                smtp::Failure::CouldNotConnect
            };
            return Verdict::failed(AttemptFailure::Other, failure.text(self.target.address));
        }
        // keepalived's socket_state: the kernel's timeout counts as the checker's.
        let what = match (known, e.raw_os_error()) {
            (false, _) => AttemptFailure::ConnectError,
            (true, Some(libc::ETIMEDOUT)) => AttemptFailure::ConnectTimeout,
            (true, _) => AttemptFailure::ConnectFailed,
        };
        Verdict::failed(
            what,
            format!("connection to {} failed: {e}", self.target.address),
        )
    }

    /// A `TCP_CHECK`'s connection that poll reported closed: a connect to the same address
    /// returns its error as `SO_ERROR` would (`sock_error`) and dissolves it as a connect to
    /// `AF_UNSPEC` would (`__inet_stream_connect`: the socket is `TCP_CLOSE`), one call for
    /// two. `None` when it did not (connected after all, or still connecting): `SO_ERROR`
    /// judges then, as before.
    fn connect_again(&self) -> Option<std::io::Error> {
        match self.socket.connect(&SockAddr::from(self.target.address)) {
            Ok(()) => None,
            Err(e) if not_disconnected(&e) => None,
            Err(e) => Some(e),
        }
    }

    /// Moves on after the socket became ready (`revents`, as poll reported them); `Some` when
    /// the attempt is over.
    pub fn advance(&mut self, now: Instant, revents: PollFlags) -> Option<Verdict> {
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
                            Err(_) => {
                                let failure = smtp::Failure::WriteFailure;
                                return Some(Verdict::failed(
                                    AttemptFailure::Other,
                                    failure.text(self.target.address),
                                ));
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
                        Err(_) => {
                            let failure = smtp::Failure::ReadFailure;
                            return Some(Verdict::failed(
                                AttemptFailure::Other,
                                failure.text(self.target.address),
                            ));
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
                    smtp::Action::Failure(failure) => Some(Verdict::failed(
                        AttemptFailure::Other,
                        failure.text(self.target.address),
                    )),
                }
            }
            Step::DnsAnswer { id } => {
                let mut buffer = [0u8; 512];
                loop {
                    match self.socket.read(&mut buffer) {
                        Ok(n) => match dns::judge(*id, &buffer[..n]) {
                            dns::Answer::Ignore => continue,
                            dns::Answer::Good => return Some(Verdict::Success),
                            // keepalived's words (check_dns.c), which its lines carry.
                            dns::Answer::Error(rcode) => {
                                return Some(Verdict::failed(
                                    AttemptFailure::Other,
                                    format!("read error occurred. (rcode = {rcode})"),
                                ));
                            }
                        },
                        Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => {
                            return Some(Verdict::failed(
                                AttemptFailure::Other,
                                format!(
                                    "failed to read socket; errno {} ({})",
                                    e.raw_os_error().unwrap_or(0),
                                    strerror(&e)
                                ),
                            ));
                        }
                    }
                }
            }
            Step::Echo { sequence } => {
                let destination = self.target.address.ip();
                // keepalived reads at most a request's size; the header is what counts.
                let mut buffer = [0u8; ping::HEADER_LENGTH + ping::PAYLOAD_LENGTH];
                loop {
                    match recvfrom::<SockaddrStorage>(self.socket.as_raw_fd(), &mut buffer) {
                        Ok((n, from)) => {
                            let Some(source) = from.as_ref().and_then(ip_of) else {
                                continue;
                            };
                            match ping::judge(destination, *sequence, source, &buffer[..n]) {
                                ping::Reply::Answer => return Some(Verdict::Success),
                                ping::Reply::Ignore => continue,
                                ping::Reply::Bad(reason) => {
                                    return Some(Verdict::failed(
                                        AttemptFailure::Other,
                                        format!("ICMP from {destination}: {reason}"),
                                    ));
                                }
                            }
                        }
                        Err(Errno::EAGAIN) => return None,
                        Err(Errno::EINTR) => continue,
                        Err(e) => {
                            return Some(Verdict::failed(
                                AttemptFailure::Other,
                                format!("ICMP to {destination} failed: {e}"),
                            ));
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
                        Ok(n) => Some(Verdict::failed(
                            AttemptFailure::Mismatch,
                            format!(
                                "the reply of {} ({n} bytes) does not match",
                                self.target.address
                            ),
                        )),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => None,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => Some(Verdict::failed(
                            AttemptFailure::ReadError,
                            format!("UDP to {} failed: {e}", self.target.address),
                        )),
                    };
                }
            }
            Step::Connecting => {
                // ERR/HUP: the connection is over. One that is only writable is judged by
                // SO_ERROR, as keepalived's (which also tells a soft ICMP error), and never
                // dissolved (that would reset it).
                let closed = revents.intersects(PollFlags::POLLERR | PollFlags::POLLHUP);
                if closed && matches!(self.exchange, Exchange::Connect) {
                    if let Some(e) = self.connect_again() {
                        self.disconnected = true;
                        return Some(self.connect_failure(&e, true));
                    }
                }
                match self.socket.take_error() {
                    Ok(None) => {}
                    Ok(Some(e)) => return Some(self.connect_failure(&e, true)),
                    Err(e) => return Some(self.connect_failure(&e, false)),
                }
                match &self.exchange {
                    Exchange::Connect | Exchange::Udp(_) | Exchange::Dns(_) | Exchange::Ping => {
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
                    Exchange::Http(exchange) => {
                        let exchange = Arc::clone(exchange);
                        let check = &exchange.check;
                        let Some(url) = check.urls.get(self.url) else {
                            return Some(Verdict::Success);
                        };
                        let request = http::request(
                            &url.path,
                            http::virtual_host(
                                url,
                                check,
                                exchange.real_server_host.as_deref(),
                                exchange.virtual_server_host.as_deref(),
                            ),
                            self.target.address.ip(),
                            self.target.address.port(),
                            check.http_protocol.as_deref(),
                        );
                        let Some(config) = &exchange.tls else {
                            self.step = Step::Sending {
                                request,
                                written: 0,
                            };
                            self.deadline = now + self.timeout;
                            return self.advance(now, PollFlags::empty());
                        };
                        let sni =
                            http::sni_name(url, check, exchange.virtual_server_host.as_deref());
                        let name = server_name(sni, self.target.address.ip());
                        let client = match &self.tls_retry {
                            Some((client, _)) => *client,
                            None => exchange.tls_client.get(),
                        };
                        match TlsSession::start(client, config, name) {
                            Ok(session) => self.tls = Some(session),
                            Err(e) => {
                                return Some(Verdict::failed(
                                    AttemptFailure::TlsError,
                                    format!("cannot start TLS with {}: {e}", self.target.address),
                                ));
                            }
                        }
                        // The handshake has what is left of connect_timeout (keepalived's
                        // `http_check_thread`).
                        self.step = Step::Handshake { request };
                        self.advance(now, PollFlags::empty())
                    }
                }
            }
            Step::Handshake { request } => {
                let Some(session) = self.tls.as_mut() else {
                    return Some(Verdict::failed(AttemptFailure::TlsError, "no TLS session"));
                };
                match handshake(session, &mut self.socket) {
                    Ok(false) => None,
                    Ok(true) => {
                        if let Exchange::Http(exchange) = &self.exchange {
                            exchange.tls_client.set(session.client());
                        }
                        // The session keeps the whole request; Sending only flushes it.
                        let request = std::mem::take(request);
                        if let Err(e) = session.send(&request) {
                            return Some(Verdict::failed(
                                AttemptFailure::SendError,
                                format!("Cannot send get request to {}: {e}", self.target.address),
                            ));
                        }
                        self.step = Step::Sending {
                            written: request.len(),
                            request,
                        };
                        self.deadline = now + self.timeout;
                        self.advance(now, PollFlags::empty())
                    }
                    Err(HandshakeError::Tls(e))
                        if e.offer_refused() && self.tls_retry.is_none() =>
                    {
                        let other = session.client().other();
                        self.retry_tls(other, e.to_string(), now)
                    }
                    Err(e) => {
                        let refused_before = match &self.tls_retry {
                            Some((_, refusal)) => format!(" (and before it: {refusal})"),
                            None => String::new(),
                        };
                        Some(Verdict::failed(
                            AttemptFailure::TlsError,
                            format!(
                                "SSL handshake/communication error connecting to {}: {e}{refused_before}",
                                self.target.address
                            ),
                        ))
                    }
                }
            }
            Step::Sending { .. } if self.tls.is_some() => {
                let session = self.tls.as_mut()?;
                match flush(session, &mut self.socket) {
                    Ok(false) => None,
                    Ok(true) => {
                        self.step = Step::Receiving {
                            response: Vec::new(),
                        };
                        self.deadline = now + self.timeout;
                        None
                    }
                    Err(e) => Some(Verdict::failed(
                        AttemptFailure::SendError,
                        format!("Cannot send get request to {}: {e}", self.target.address),
                    )),
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
                        return Some(Verdict::failed(
                            AttemptFailure::SendError,
                            format!("cannot send to {}: {e}", self.target.address),
                        ));
                    }
                }
            },
            Step::Receiving { response } => {
                let read = match self.tls.as_mut() {
                    Some(session) => read_tls_response(session, &mut self.socket, response),
                    None => read_response(&mut self.socket, response),
                };
                match read {
                    Ok(Reading::More) => return None,
                    Ok(Reading::Got) => {
                        self.deadline = now + self.timeout;
                        return None;
                    }
                    Ok(Reading::End) => {}
                    Err(e) => {
                        return Some(Verdict::failed(
                            AttemptFailure::ReadError,
                            format!("cannot read from {}: {e}", self.target.address),
                        ));
                    }
                }
                let Exchange::Http(exchange) = &self.exchange else {
                    return Some(Verdict::Success);
                };
                let url: &UrlCheck = exchange.check.urls.get(self.url)?;
                let body_regex = exchange.regexes.get(self.url).and_then(Option::as_ref);
                match http::judge(url, body_regex, response) {
                    Ok(pass) => {
                        self.passed_url = Some(PassedUrl {
                            pass,
                            path: url.path.clone(),
                        });
                        Some(Verdict::Success)
                    }
                    Err(e) => Some(Verdict::failed(http_attempt_failure(&e), e.to_string())),
                }
            }
        }
    }
}

impl Probe {
    /// Connects again for the other TLS client, the server having refused `refusal`.
    fn retry_tls(&mut self, client: TlsClient, refusal: String, now: Instant) -> Option<Verdict> {
        match connect(&self.target, None) {
            Ok(socket) => {
                self.socket = socket;
                self.tls = None;
                self.tls_retry = Some((client, refusal));
                self.step = Step::Connecting;
                self.deadline = now + self.timeout;
                None
            }
            Err(e) => Some(Verdict::failed(
                AttemptFailure::TlsError,
                format!(
                    "SSL handshake/communication error connecting to {}: {refusal}; {e}",
                    self.target.address
                ),
            )),
        }
    }
}

/// The errors of a connect that did not report a connection's end: in progress, connected, or
/// in a state that does not connect. The kernel's errors of a closed connection are none of
/// these.
fn not_disconnected(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EALREADY | libc::EINPROGRESS | libc::EISCONN | libc::EINVAL | libc::EINTR)
    )
}

/// How keepalived's web checker tells a response that did not pass.
fn http_attempt_failure(failure: &http::HttpFailure) -> AttemptFailure {
    match failure {
        http::HttpFailure::NoStatus => AttemptFailure::NoData,
        http::HttpFailure::Status { .. } => AttemptFailure::StatusCode,
        http::HttpFailure::Regex { .. } => AttemptFailure::Regex,
        http::HttpFailure::Digest { .. } => AttemptFailure::Digest,
    }
}

/// What a read of a response came to.
enum Reading {
    /// Nothing more for now.
    More,
    /// Some data (the step's timeout starts again).
    Got,
    /// The server closed: the response is whole.
    End,
}

/// Reads what the socket has of a plain response.
fn read_response(socket: &mut Socket, response: &mut Vec<u8>) -> std::io::Result<Reading> {
    let mut buffer = [0u8; 16384];
    let mut got = false;
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => return Ok(Reading::End),
            Ok(n) => {
                response.extend_from_slice(&buffer[..n]);
                got = true;
                if response.len() >= http::MAX_RESPONSE {
                    return Ok(Reading::End);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Ok(if got { Reading::Got } else { Reading::More });
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reads what the socket has of a response over TLS. The end is the server's close_notify or
/// the connection closed without one (keepalived takes both as the end of the response).
fn read_tls_response(
    session: &mut TlsSession,
    socket: &mut Socket,
    response: &mut Vec<u8>,
) -> std::io::Result<Reading> {
    let mut buffer = [0u8; 16384];
    let mut got = false;
    let mut closed = false;
    loop {
        match session.read(&mut buffer) {
            Ok(0) => return Ok(Reading::End),
            Ok(n) => {
                response.extend_from_slice(&buffer[..n]);
                got = true;
                if response.len() >= http::MAX_RESPONSE {
                    return Ok(Reading::End);
                }
                continue;
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(Reading::End),
            Err(e) if e.kind() == ErrorKind::WouldBlock && closed => return Ok(Reading::End),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        match session.read_tls(socket) {
            Ok(0) => closed = true,
            Ok(_) => {
                session
                    .process_new_packets()
                    .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))?;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Ok(if got { Reading::Got } else { Reading::More });
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Why a TLS handshake failed.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error(transparent)]
    Tls(TlsError),
    #[error("{0}")]
    Socket(std::io::Error),
    #[error("the server closed the connection")]
    Closed,
}

/// Moves the TLS handshake on as far as the socket allows; `true` once it is done.
fn handshake(session: &mut TlsSession, socket: &mut Socket) -> Result<bool, HandshakeError> {
    loop {
        if !flush(session, socket).map_err(HandshakeError::Socket)? {
            return Ok(false);
        }
        if !session.is_handshaking() {
            return Ok(true);
        }
        match session.read_tls(socket) {
            Ok(0) => return Err(HandshakeError::Closed),
            Ok(_) => {
                if let Err(e) = session.process_new_packets() {
                    // Tell the server why (an alert), if the socket takes it.
                    let _ = session.write_tls(socket);
                    return Err(HandshakeError::Tls(e));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(HandshakeError::Socket(e)),
        }
    }
}

/// Writes what the TLS session has to send; `true` once all is written.
fn flush(session: &mut TlsSession, socket: &mut Socket) -> std::io::Result<bool> {
    while session.wants_write() {
        match session.write_tls(socket) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The name the TLS session is for: the SNI name when there is one and it is a DNS name, else
/// the address (rustls sends no SNI for an address, as keepalived sends none without
/// `enable_sni`).
fn server_name(sni: Option<&str>, address: IpAddr) -> ServerName<'static> {
    sni.and_then(|name| ServerName::try_from(name.to_owned()).ok())
        .filter(|name| matches!(name, ServerName::DnsName(_)))
        .unwrap_or_else(|| ServerName::IpAddress(address.into()))
}

/// A query id nobody can guess (keepalived uses `random()`).
fn random_id() -> u16 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(Instant::now()) as u16
}

/// The sequence number of the next echo request: one counter for the process, as keepalived's.
fn next_sequence() -> u16 {
    static SEQUENCE: AtomicU16 = AtomicU16::new(0);
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// A ping socket (`SOCK_DGRAM`, `IPPROTO_ICMP`/`IPPROTO_ICMPV6`) that has sent the echo request
/// with `sequence` to the target's address. Like keepalived's, it is neither bound nor connected:
/// the connection options other than `connect_ip` do not apply to it.
fn send_echo(target: &Target, sequence: u16) -> Result<Socket, String> {
    let destination = target.address.ip();
    let (domain, protocol) = match destination {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    let socket = Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), Some(protocol))
        .map_err(|e| match e.raw_os_error() {
            Some(libc::EACCES) => format!(
                "cannot create a ping socket: {e} (the process's groups are outside net.ipv4.ping_group_range)"
            ),
            _ => format!("cannot create a ping socket: {e}"),
        })?;
    let request = ping::echo_request(destination, sequence);
    match socket.send_to(&request, &SockAddr::from(SocketAddr::new(destination, 0))) {
        Ok(n) if n == request.len() => Ok(socket),
        Ok(n) => Err(format!(
            "ICMP send to {destination}: {n} bytes of {} sent",
            request.len()
        )),
        Err(e) => Err(format!("ICMP send to {destination} failed: {e}")),
    }
}

/// The address of a datagram's sender.
fn ip_of(address: &SockaddrStorage) -> Option<IpAddr> {
    match address.family()? {
        nix::sys::socket::AddressFamily::Inet => {
            address.as_sockaddr_in().map(|a| IpAddr::V4(a.ip()))
        }
        nix::sys::socket::AddressFamily::Inet6 => {
            address.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip()))
        }
        _ => None,
    }
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

/// A `DNS_CHECK`'s query sent on a connected UDP socket; a failure in keepalived's words.
fn send_query(target: &Target, query: &[u8]) -> Result<Socket, String> {
    let socket = open(target, Type::DGRAM, Protocol::UDP)?;
    let address = target.address;
    socket.connect(&SockAddr::from(address)).map_err(|_| {
        format!(
            "network unreachable for [{}]:{}",
            address.ip(),
            address.port()
        )
    })?;
    match socket.send(query) {
        Ok(n) if n == query.len() => Ok(socket),
        Ok(_) => Err("failed to write all of the datagram.".into()),
        Err(_) => Err("failed to write socket.".into()),
    }
}

/// The C library's text of an error (`strerror`), without Rust's " (os error N)".
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .unwrap_or(&text)
            .to_owned(),
        None => text,
    }
}

/// A TCP connection to the target under way: on `spare` (dissolved by the kernel, ready to
/// connect) when there is one, else on a new socket.
fn connect(target: &Target, spare: Option<SpareSocket>) -> Result<Socket, String> {
    let address = SockAddr::from(target.address);
    if let Some(SpareSocket(socket)) = spare {
        match socket.connect(&address) {
            Ok(()) => return Ok(socket),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => return Ok(socket),
            // Not ready after all (the kernel could not dissolve it): a new socket.
            Err(e) if not_disconnected(&e) => {}
            Err(e) => return Err(format!("connection to {} failed: {e}", target.address)),
        }
    }
    let socket = open(target, Type::STREAM, Protocol::TCP)?;
    match socket.connect(&address) {
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

/// What the tests of the probes' users share: running one attempt to its end.
#[cfg(test)]
pub(crate) mod test_support {
    use std::os::fd::AsRawFd;
    use std::path::PathBuf;
    use std::time::Instant;

    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

    use super::{Probe, Verdict};

    /// The identity (inode) of the probe's socket.
    pub fn socket_identity(probe: &Probe) -> PathBuf {
        std::fs::read_link(format!("/proc/self/fd/{}", probe.fd().as_raw_fd()))
            .expect("the socket's inode")
    }

    /// Polls the probe as the event loop does until its attempt ends: the verdict.
    pub fn run_to_verdict(probe: &mut Probe) -> Verdict {
        loop {
            let revents = {
                let mut fds = [PollFd::new(probe.fd(), probe.interest())];
                poll(&mut fds, PollTimeout::from(2000u16)).expect("poll");
                fds[0].revents().unwrap_or(PollFlags::empty())
            };
            assert!(!revents.is_empty(), "the attempt did not end");
            if let Some(verdict) = probe.advance(Instant::now(), revents) {
                return verdict;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::path::PathBuf;

    use nix::poll::{PollFd, PollTimeout, poll};

    use super::*;

    fn run(probe: Probe) -> Verdict {
        run_passing(probe).0
    }

    /// Polls `probe` for up to `ms`: what poll reported (empty if nothing).
    fn poll_once(probe: &Probe, ms: u16) -> PollFlags {
        let mut fds = [PollFd::new(probe.fd(), probe.interest())];
        poll(&mut fds, PollTimeout::from(ms)).expect("poll");
        fds[0].revents().unwrap_or(PollFlags::empty())
    }

    /// Runs `probe` to its verdict, with the URLs it passed on the way.
    fn run_passing(mut probe: Probe) -> (Verdict, Vec<PassedUrl>) {
        let mut passed = Vec::new();
        loop {
            let now = Instant::now();
            if now >= probe.deadline() {
                return (probe.timed_out(), passed);
            }
            let revents = poll_once(&probe, 100);
            if !revents.is_empty() {
                let verdict = probe.advance(Instant::now(), revents);
                passed.extend(probe.take_passed_url());
                if let Some(verdict) = verdict {
                    return (verdict, passed);
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
            Err(e) => Verdict::failed(AttemptFailure::Unreachable, e),
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
        assert!(matches!(verdict, Verdict::Failure { .. }), "{verdict:?}");
    }

    /// Runs a TCP_CHECK of `target` on `spare` (or a new socket); the verdict, the socket's
    /// identity (its inode) and what is left to reuse.
    fn tcp_check_reusing(
        target: Target,
        spare: Option<SpareSocket>,
    ) -> (Verdict, PathBuf, Option<SpareSocket>) {
        let probe = Probe::start_with(
            target,
            Exchange::Connect,
            Duration::from_secs(2),
            Instant::now(),
            spare,
        )
        .expect("start");
        let socket = std::fs::read_link(format!("/proc/self/fd/{}", probe.fd().as_raw_fd()))
            .expect("the socket's inode");
        let mut probe = Some(probe);
        let verdict = loop {
            let revents = poll_once(probe.as_ref().expect("probe"), 2000);
            assert!(!revents.is_empty(), "the attempt did not end");
            if let Some(verdict) = probe
                .as_mut()
                .expect("probe")
                .advance(Instant::now(), revents)
            {
                break verdict;
            }
        };
        (verdict, socket, probe.and_then(Probe::into_spare))
    }

    /// A port on 127.0.0.1 where nothing listens (and a listener may be opened again).
    fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        listener.local_addr().expect("address").port()
    }

    #[test]
    fn a_refused_tcp_check_s_socket_is_refused_again() {
        let port = closed_port();
        let (verdict, first_socket, mut spare) = tcp_check_reusing(target(port), None);
        assert!(
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("refused")),
            "{verdict:?}"
        );
        for _ in 0..3 {
            let kept = spare.take().expect("a refused socket is kept");
            let (verdict, socket, next) = tcp_check_reusing(target(port), Some(kept));
            assert_eq!(socket, first_socket, "the same socket connects again");
            assert!(
                matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("refused")),
                "{verdict:?}"
            );
            spare = next;
        }
    }

    #[test]
    fn a_refused_socket_connects_once_the_server_listens() {
        let port = closed_port();
        let (_, first_socket, spare) = tcp_check_reusing(target(port), None);
        let spare = spare.expect("a refused socket is kept");
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("listen again");
        let (verdict, socket, after_success) = tcp_check_reusing(target(port), Some(spare));
        assert_eq!(socket, first_socket, "the same socket connected");
        assert_eq!(verdict, Verdict::Success);
        assert!(
            after_success.is_none(),
            "a connected socket is closed, not kept"
        );
        // The server saw the connection, then its close.
        let (mut stream, _) = listener.accept().expect("accept");
        let mut buffer = [0u8; 1];
        assert_eq!(stream.read(&mut buffer).expect("read the FIN"), 0);
        drop((stream, listener));
        let (verdict, _, spare) = tcp_check_reusing(target(port), None);
        assert!(matches!(verdict, Verdict::Failure { .. }), "{verdict:?}");
        assert!(spare.is_some());
    }

    #[test]
    fn a_reused_socket_keeps_its_source_address() {
        let port = closed_port();
        let options = ConnectionOptions {
            bind_to: Some("127.0.0.2".parse().expect("address")),
            ..ConnectionOptions::default()
        };
        let bound = Target::new(&options, "127.0.0.1".parse().expect("address"), port);
        let (verdict, first_socket, spare) = tcp_check_reusing(bound.clone(), None);
        assert!(matches!(verdict, Verdict::Failure { .. }), "{verdict:?}");
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("listen again");
        let (verdict, socket, _) = tcp_check_reusing(bound, spare);
        assert_eq!((verdict, socket), (Verdict::Success, first_socket));
        let (_, peer) = listener.accept().expect("accept");
        assert_eq!(peer.ip(), "127.0.0.2".parse::<IpAddr>().expect("address"));
    }

    #[test]
    fn a_reused_socket_keeps_its_source_port() {
        let port = closed_port();
        let source = SocketAddr::from(([127, 0, 0, 2], closed_port()));
        let options = ConnectionOptions {
            bind_to: Some(source.ip()),
            bind_port: Some(source.port()),
            ..ConnectionOptions::default()
        };
        let bound = Target::new(&options, "127.0.0.1".parse().expect("address"), port);
        let (verdict, first_socket, spare) = tcp_check_reusing(bound.clone(), None);
        assert!(matches!(verdict, Verdict::Failure { .. }), "{verdict:?}");
        let (verdict, socket, spare) = tcp_check_reusing(bound.clone(), spare);
        assert!(matches!(verdict, Verdict::Failure { .. }), "{verdict:?}");
        assert_eq!(socket, first_socket);
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("listen again");
        let (verdict, socket, _) = tcp_check_reusing(bound, spare);
        assert_eq!((verdict, socket), (Verdict::Success, first_socket));
        let (_, peer) = listener.accept().expect("accept");
        assert_eq!(peer, source);
    }

    /// A TCP_CHECK of `target` on a new socket, judged as the event loop does or, with
    /// `so_error_only`, by `SO_ERROR` alone (poll's events withheld); whether its socket is kept.
    fn tcp_check_judged(
        target: Target,
        so_error_only: bool,
        before_poll: impl FnOnce(),
    ) -> (Verdict, bool) {
        let mut probe = Probe::start(
            target,
            Exchange::Connect,
            Duration::from_secs(2),
            Instant::now(),
        )
        .expect("start");
        before_poll();
        loop {
            let revents = poll_once(&probe, 2000);
            assert!(!revents.is_empty(), "the attempt did not end");
            let revents = if so_error_only {
                PollFlags::empty()
            } else {
                revents
            };
            if let Some(verdict) = probe.advance(Instant::now(), revents) {
                return (verdict, probe.into_spare().is_some());
            }
        }
    }

    #[test]
    fn the_connect_that_reports_a_refusal_tells_what_so_error_tells() {
        let port = closed_port();
        let (verdict, kept) = tcp_check_judged(target(port), false, || ());
        assert!(kept, "the kernel dissolved the refused connection");
        assert_eq!(verdict, tcp_check_judged(target(port), true, || ()).0);
        let Verdict::Failure { what, reason } = verdict else {
            panic!("refused: {verdict:?}");
        };
        assert_eq!(what, AttemptFailure::ConnectFailed);
        assert!(reason.contains("Connection refused"), "{reason}");
    }

    #[test]
    fn a_connection_reset_before_it_is_seen_is_told_as_so_error_tells() {
        let mut verdicts = Vec::new();
        for so_error_only in [false, true] {
            let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
            let port = listener.local_addr().expect("address").port();
            // The listener closed with the connection unaccepted resets it.
            let close = move || {
                std::thread::sleep(Duration::from_millis(50));
                drop(listener);
            };
            let (verdict, kept) = tcp_check_judged(target(port), so_error_only, close);
            // Only the connect that reported it dissolved it.
            assert_eq!(kept, !so_error_only);
            let Verdict::Failure { what, reason } = verdict else {
                panic!("reset: {verdict:?}");
            };
            verdicts.push((what, reason.replace(&port.to_string(), "PORT")));
        }
        assert_eq!(verdicts[0], verdicts[1]);
        assert!(verdicts[0].1.contains("reset"), "{verdicts:?}");
    }

    #[test]
    fn a_timed_out_attempt_s_socket_is_not_kept() {
        // A listener whose accept queue is full drops further SYNs: the connection hangs.
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        listener
            .bind(&SockAddr::from(SocketAddr::from(([127, 0, 0, 1], 0))))
            .expect("bind");
        listener.listen(0).expect("listen");
        let address = listener
            .local_addr()
            .expect("address")
            .as_socket()
            .expect("inet");
        let _queued = std::net::TcpStream::connect(address).expect("first connection");
        let probe = Probe::start(
            target(address.port()),
            Exchange::Connect,
            Duration::from_millis(200),
            Instant::now(),
        )
        .expect("start");
        let answered = {
            let mut fds = [PollFd::new(probe.fd(), probe.interest())];
            poll(&mut fds, PollTimeout::from(300u16)).expect("poll") > 0
        };
        assert!(!answered, "the SYN was not dropped");
        assert!(Instant::now() >= probe.deadline());
        let verdict = probe.timed_out();
        assert!(
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("timed out")),
            "{verdict:?}"
        );
        assert!(probe.into_spare().is_none());
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

    fn http(check: HttpCheck) -> Exchange {
        Exchange::Http(Arc::new(HttpExchange::new(check, None, None, None).0))
    }

    fn url(path: &str, digest: Option<&str>) -> UrlCheck {
        UrlCheck {
            digest: digest.map(str::to_owned),
            ..UrlCheck::new(path)
        }
    }

    #[test]
    fn http_checks_the_url_it_is_given() {
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
        // One URL per attempt, as keepalived's.
        let mut passed = Vec::new();
        for index in 0..2 {
            let probe = Probe::start(
                target(port),
                http(check.clone()),
                Duration::from_secs(2),
                Instant::now(),
            )
            .expect("start")
            .for_url(index);
            let (verdict, passed_now) = run_passing(probe);
            assert_eq!(verdict, Verdict::Success);
            passed.extend(passed_now);
        }
        // keepalived's words for each: "MD5 digest success to … url(/a)", "HTTP status code success to … url(/b)".
        assert_eq!(
            passed,
            vec![
                PassedUrl {
                    pass: http::HttpPass::Digest,
                    path: "/a".into()
                },
                PassedUrl {
                    pass: http::HttpPass::Status,
                    path: "/b".into()
                },
            ]
        );
        let requests = server.join().expect("server");
        assert!(
            requests[0].starts_with("GET /a HTTP/1.0\r\n"),
            "{requests:?}"
        );
        assert!(requests[0].contains("\r\nHost: web\r\n"), "{requests:?}");
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
        let verdict = probe_verdict(port, http(check), Duration::from_secs(2));
        assert!(
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("500")),
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
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("does not match")),
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
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("in time")),
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
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("refused")),
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
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m == "read error occurred. (rcode = 2)"),
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
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m == "read timeout from socket"),
            "{verdict:?}"
        );
        drop(silent);
        let verdict = dns_run(port, ".");
        assert!(
            matches!(&verdict, Verdict::Failure { reason: m, .. }
                if m == "failed to read socket; errno 111 (Connection refused)"),
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
        assert_eq!(
            smtp_run(port, None),
            Verdict::failed(
                AttemptFailure::Other,
                format!("Bad greeting banner from server [127.0.0.1]:{port}")
            )
        );
        drop(server);
        let (port, server) = smtp_server(b"220 mail\r\n", b"550 no\r\n");
        assert_eq!(
            smtp_run(port, None),
            Verdict::failed(
                AttemptFailure::Other,
                format!("Bad HELO response from server [127.0.0.1]:{port}")
            )
        );
        assert_eq!(
            server.join().expect("server")[0],
            "HELO smtpchecker.keepalived.org\r\n"
        );
    }

    /// Runs `test` on a thread of its own in a new network namespace with its loopback up and
    /// ping sockets allowed to group 0 (as the daemon makes them); `None` without the privilege to
    /// make one (not root), so that the caller can skip.
    fn in_new_namespace<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        std::thread::spawn(move || {
            // SAFETY: unshare takes no pointer; it moves only this thread to a new namespace.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                eprintln!(
                    "skipped: unshare(CLONE_NEWNET): {}",
                    std::io::Error::last_os_error()
                );
                return None;
            }
            // /proc/sys/net is this thread's namespace's; commands started here run in it too.
            ip(&["link", "set", "lo", "up"]);
            sysctl("ipv4/ping_group_range", "0\t0\n");
            Some(test())
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn ip(args: &[&str]) {
        let status = std::process::Command::new("ip")
            .args(args)
            .status()
            .expect("ip");
        assert!(status.success(), "ip {args:?}: {status}");
    }

    fn sysctl(name: &str, value: &str) {
        std::fs::write(format!("/proc/sys/net/{name}"), value)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    fn ping_verdict(address: &str, timeout: Duration) -> Verdict {
        let target = Target::new(
            &ConnectionOptions::default(),
            address.parse().expect("address"),
            0,
        );
        match Probe::start(target, Exchange::Ping, timeout, Instant::now()) {
            Ok(probe) => run(probe),
            Err(e) => Verdict::failed(AttemptFailure::Unreachable, e),
        }
    }

    #[test]
    fn ping_answered_by_loopback_succeeds() {
        let verdicts = in_new_namespace(|| {
            [
                ping_verdict("127.0.0.1", Duration::from_secs(2)),
                ping_verdict("::1", Duration::from_secs(2)),
            ]
        });
        if let Some(verdicts) = verdicts {
            assert_eq!(verdicts, [Verdict::Success, Verdict::Success]);
        }
    }

    #[test]
    fn ping_without_answer_fails_after_the_timeout() {
        let outcome = in_new_namespace(|| {
            sysctl("ipv4/icmp_echo_ignore_all", "1");
            sysctl("ipv6/icmp/echo_ignore_all", "1");
            ["127.0.0.1", "::1"].map(|address| {
                let start = Instant::now();
                let verdict = ping_verdict(address, Duration::from_millis(300));
                (verdict, start.elapsed())
            })
        });
        for (verdict, elapsed) in outcome.into_iter().flatten() {
            assert!(
                matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("in time")),
                "{verdict:?}"
            );
            assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
        }
    }

    #[test]
    fn ping_unroutable_or_blackholed_fails_at_once() {
        let verdicts = in_new_namespace(|| {
            ip(&["route", "add", "blackhole", "198.51.100.0/24"]);
            [
                // No route at all in the new namespace.
                ping_verdict("192.0.2.1", Duration::from_secs(2)),
                ping_verdict("2001:db8::1", Duration::from_secs(2)),
                ping_verdict("198.51.100.1", Duration::from_secs(2)),
            ]
        });
        for verdict in verdicts.into_iter().flatten() {
            assert!(
                matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("send")),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn ping_sockets_refused_outside_the_group_range() {
        let verdict = in_new_namespace(|| {
            sysctl("ipv4/ping_group_range", "1\t0\n");
            ping_verdict("127.0.0.1", Duration::from_secs(1))
        });
        if let Some(verdict) = verdict {
            assert!(
                matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("ping_group_range")),
                "{verdict:?}"
            );
        }
    }

    /// An ICMP echo reply with a correct checksum (a raw socket sends it as it is).
    fn forged_reply(id: [u8; 2], sequence: [u8; 2]) -> Vec<u8> {
        let mut packet = vec![0, 0, 0, 0, id[0], id[1], sequence[0], sequence[1]];
        packet.extend_from_slice(b"forged!!");
        let mut sum: u32 = packet
            .chunks(2)
            .map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        packet[2..4].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        packet
    }

    /// Polls the probe for `wait`; its verdict if it reached one.
    fn poll_for(probe: &mut Probe, wait: Duration) -> Option<Verdict> {
        let end = Instant::now() + wait;
        while Instant::now() < end {
            let revents = poll_once(probe, 20);
            if !revents.is_empty() {
                if let Some(verdict) = probe.advance(Instant::now(), revents) {
                    return Some(verdict);
                }
            }
        }
        None
    }

    #[test]
    fn only_the_reply_with_the_socket_s_id_and_the_sequence_counts() {
        let outcome = in_new_namespace(|| {
            // Nobody answers but the forger, who sees the request on a raw socket.
            sysctl("ipv4/icmp_echo_ignore_all", "1");
            let raw = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).expect("raw");
            raw.set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            let target = Target::new(
                &ConnectionOptions::default(),
                "127.0.0.1".parse().expect("address"),
                0,
            );
            let mut probe = Probe::start(
                target,
                Exchange::Ping,
                Duration::from_secs(3),
                Instant::now(),
            )
            .expect("probe");
            let mut buffer = [0u8; 512];
            let request = loop {
                let n = (&raw).read(&mut buffer).expect("the echo request");
                let header = usize::from(buffer[0] & 0x0f) * 4;
                if n >= header + 8 && buffer[header] == 8 {
                    break buffer[header..n].to_vec();
                }
            };
            let (id, sequence) = ([request[4], request[5]], [request[6], request[7]]);
            let to = SockAddr::from(SocketAddr::from(([127, 0, 0, 1], 0)));
            let other_id = [id[0], id[1].wrapping_add(1)];
            let other_sequence = [sequence[0], sequence[1].wrapping_add(1)];
            raw.send_to(&forged_reply(other_id, sequence), &to)
                .expect("send");
            raw.send_to(&forged_reply(id, other_sequence), &to)
                .expect("send");
            let before = poll_for(&mut probe, Duration::from_millis(300));
            raw.send_to(&forged_reply(id, sequence), &to).expect("send");
            let after = poll_for(&mut probe, Duration::from_secs(2));
            (request.len(), before, after)
        });
        if let Some((length, before, after)) = outcome {
            assert_eq!(length, 136, "8 header bytes and keepalived's 128");
            assert_eq!(
                before, None,
                "another id or sequence must not end the attempt"
            );
            assert_eq!(after, Some(Verdict::Success));
        }
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        let check = HttpCheck {
            urls: vec![url("/", None)],
            ..HttpCheck::default()
        };
        let verdict = probe_verdict(port, http(check), Duration::from_millis(300));
        assert!(
            matches!(&verdict, Verdict::Failure { reason: m, .. } if m.contains("in time")),
            "{verdict:?}"
        );
        drop(listener);
    }
}
