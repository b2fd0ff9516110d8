//! The `bfd_instance` sessions on the wire: keepalived 2.2.7's BFD process (`bfd_scheduler.c`) as a
//! part of an event loop. One UDP socket receives every session's packets on port 3784 (IPv6
//! dual-stack, or IPv4 alone on a host without IPv6), with the TTL / hop limit and the destination
//! address of each; each session sends from its own socket, bound to its `source_ip` (if any) and
//! a port in 49152..=65535 (RFC 5881 4), with TTL `ttl` (255, or a hop limit of 64 for IPv6).
//!
//! The protocol is the `bfd` crate's; this module finds the session of each packet (by "your
//! discriminator", else by addresses), drops packets below the TTL (RFC 5881 5, `max_hops`), sends
//! what the sessions ask for, logs keepalived's lines and returns the sessions' up/down reports.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Instant;

use bfd::packet::ttl_too_low;
use bfd::{CONTROL_PORT, Control, Event, SOURCE_PORTS, Session, SessionConfig, State};
use keepalived_config::model::BfdInstance;
use log::{debug, error, info, warn};
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A session's report to its trackers: keepalived's `bfd_event_t` (name and Up or Down).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfdReport {
    pub name: String,
    pub up: bool,
}

/// One configured session.
struct Running {
    model: BfdInstance,
    session: Session,
    neighbor: SocketAddr,
    ttl: u8,
    max_hops: u8,
    socket: Option<Socket>,
    /// The last send failed (logged once until a send succeeds).
    send_error: bool,
}

/// Every session, and the socket they receive on.
pub struct BfdSessions {
    receiver: Option<Socket>,
    sessions: Vec<Running>,
    buffer: Vec<u8>,
    control: Vec<u8>,
}

impl BfdSessions {
    /// Opens the receive socket (only when there are sessions) and each session's socket; a session
    /// whose socket cannot be opened is AdminDown, as in keepalived ("Unable to open output socket,
    /// disabling instance").
    pub fn open(instances: &[BfdInstance]) -> io::Result<BfdSessions> {
        let receiver = if instances.is_empty() {
            None
        } else {
            Some(open_receiver()?)
        };
        let mut sessions = BfdSessions {
            receiver,
            sessions: Vec::new(),
            buffer: vec![0; 1500],
            control: nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, libc::c_int),
        };
        for model in instances {
            sessions.add(model.clone(), None);
        }
        Ok(sessions)
    }

    fn add(&mut self, model: BfdInstance, carried: Option<Session>) {
        let Some(neighbor_ip) = model.neighbor else {
            return;
        };
        let neighbor = SocketAddr::new(neighbor_ip, CONTROL_PORT);
        let ttl = model.ttl.unwrap_or(if neighbor_ip.is_ipv4() {
            bfd::DEFAULT_TTL
        } else {
            bfd::DEFAULT_HOPLIMIT
        });
        // keepalived: "max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit".
        let max_hops = model.max_hops.unwrap_or(0).min(ttl);
        let config = SessionConfig {
            min_rx: model.min_rx,
            min_tx: model.min_tx,
            idle_tx: model.idle_tx,
            multiplier: model.multiplier,
            passive: model.passive,
        };
        let mut session = match carried {
            Some(session) if *session.config() == config => session,
            _ => Session::new(config, seed(&model.name)),
        };
        let socket = match open_sender(neighbor_ip, model.source, ttl) {
            Ok(socket) => Some(socket),
            Err(e) => {
                error!("({}) socket() error ({e})", model.name);
                error!(
                    "({}) Unable to open output socket, disabling instance",
                    model.name
                );
                None
            }
        };
        if socket.is_none() {
            for event in session.disable() {
                log_event(&model.name, &event);
            }
        }
        self.sessions.push(Running {
            model,
            session,
            neighbor,
            ttl,
            max_hops,
            socket,
            send_error: false,
        });
    }

    /// Starts every session: each reports its state (Down at first), active ones send.
    pub fn start(&mut self, now: Instant) -> Vec<BfdReport> {
        let mut reports = Vec::new();
        for index in 0..self.sessions.len() {
            let events = self.sessions[index].session.start(now);
            self.carry_out(index, events, &mut reports);
        }
        reports
    }

    /// Takes a new configuration: sessions of the same name, neighbour and timers keep their state
    /// (keepalived's `bfd_copy_state` on reload), others start anew. Returns the reports of the new
    /// sessions and of those that changed.
    pub fn reload(
        &mut self,
        instances: &[BfdInstance],
        now: Instant,
    ) -> io::Result<Vec<BfdReport>> {
        if self.receiver.is_none() && !instances.is_empty() {
            self.receiver = Some(open_receiver()?);
        }
        let mut old: Vec<Running> = std::mem::take(&mut self.sessions);
        let mut started = Vec::new();
        for model in instances {
            let kept = old
                .iter()
                .position(|r| r.model.name == model.name && r.model.neighbor == model.neighbor)
                .map(|at| old.swap_remove(at));
            let carried = kept.map(|r| r.session);
            let fresh = carried.is_none();
            self.add(model.clone(), carried);
            if fresh {
                started.push(self.sessions.len() - 1);
            }
        }
        let mut reports = Vec::new();
        for index in started {
            let events = self.sessions[index].session.start(now);
            self.carry_out(index, events, &mut reports);
        }
        if self.sessions.is_empty() {
            self.receiver = None;
        }
        Ok(reports)
    }

    /// Whether `name` is up (false when there is no such session).
    pub fn is_up(&self, name: &str) -> bool {
        self.sessions
            .iter()
            .any(|r| r.model.name == name && r.session.state() == State::Up)
    }

    /// Every session's name and whether it is up.
    pub fn states(&self) -> Vec<BfdReport> {
        self.sessions
            .iter()
            .map(|r| BfdReport {
                name: r.model.name.clone(),
                up: r.session.state() == State::Up,
            })
            .collect()
    }

    /// The receive socket, to poll.
    pub fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.receiver.as_ref().map(AsFd::as_fd)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.sessions
            .iter()
            .filter_map(|r| r.session.next_deadline())
            .min()
    }

    /// Runs the timers due at `now`.
    pub fn run_timers(&mut self, now: Instant) -> Vec<BfdReport> {
        let mut reports = Vec::new();
        for index in 0..self.sessions.len() {
            if self.sessions[index]
                .session
                .next_deadline()
                .is_some_and(|at| at <= now)
            {
                let events = self.sessions[index].session.handle_timeout(now);
                self.carry_out(index, events, &mut reports);
            }
        }
        reports
    }

    /// Reads what waits on the receive socket (at most 64 packets, so that timers are not starved).
    pub fn receive(&mut self, now: Instant) -> Vec<BfdReport> {
        let mut reports = Vec::new();
        for _ in 0..64 {
            let received = match self.receive_one() {
                Ok(Some(received)) => received,
                Ok(None) => break,
                Err(e) => {
                    error!("recvmsg() error ({e})");
                    break;
                }
            };
            self.handle(received, now, &mut reports);
        }
        reports
    }

    fn receive_one(&mut self) -> io::Result<Option<Received>> {
        let Some(receiver) = &self.receiver else {
            return Ok(None);
        };
        let mut iov = [IoSliceMut::new(&mut self.buffer)];
        let message = match recvmsg::<SockaddrStorage>(
            receiver.as_raw_fd(),
            &mut iov,
            Some(&mut self.control),
            MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(message) => message,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if message.flags.contains(MsgFlags::MSG_TRUNC) {
            warn!("recvmsg() message truncated");
            return Ok(Some(Received::default()));
        }
        let mut received = Received {
            length: message.bytes,
            ..Received::default()
        };
        received.source = message.address.and_then(|a| {
            a.as_sockaddr_in6()
                .map(|s| IpAddr::V6(s.ip()))
                .or_else(|| a.as_sockaddr_in().map(|s| IpAddr::V4(s.ip())))
        });
        for control in message.cmsgs()? {
            match control {
                ControlMessageOwned::Ipv4Ttl(ttl) | ControlMessageOwned::Ipv6HopLimit(ttl) => {
                    received.ttl = u8::try_from(ttl).ok();
                }
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    received.destination = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                }
                ControlMessageOwned::Ipv4PacketInfo(info) => {
                    received.destination = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        info.ipi_addr.s_addr,
                    ))));
                }
                _ => {}
            }
        }
        received.source = received.source.map(canonical);
        received.destination = received.destination.map(canonical);
        Ok(Some(received))
    }

    fn handle(&mut self, received: Received, now: Instant, reports: &mut Vec<BfdReport>) {
        let Some(source) = received.source else {
            return;
        };
        let bytes = self.buffer.get(..received.length).unwrap_or_default();
        if received.ttl.is_none() {
            warn!("recvmsg() returned no TTL control message");
        }
        let packet = match Control::decode(bytes) {
            Ok(packet) => packet,
            Err(reason) => {
                debug!("{reason}");
                debug!("Discarding bogus packet from {source}");
                return;
            }
        };
        let found = if packet.your_discriminator == 0 {
            self.sessions.iter().position(|r| {
                r.neighbor.ip() == source
                    && r.model
                        .source
                        .is_none_or(|ours| Some(ours) == received.destination)
            })
        } else {
            self.sessions
                .iter()
                .position(|r| r.session.local_discriminator() == packet.your_discriminator)
        };
        let Some(index) = found else {
            debug!(
                "Discarding packet from {source} (session is not found - your discriminator field is 0x{:08x})",
                packet.your_discriminator
            );
            return;
        };
        let running = &self.sessions[index];
        if ttl_too_low(received.ttl, running.ttl, running.max_hops) {
            debug!(
                "Packet {}({}) < {} - discarding",
                if source.is_ipv4() { "ttl" } else { "hop_limit" },
                received.ttl.unwrap_or(0),
                running.ttl - running.max_hops
            );
            return;
        }
        let events = self.sessions[index].session.handle_packet(&packet, now);
        self.carry_out(index, events, reports);
    }

    fn carry_out(&mut self, index: usize, events: Vec<Event>, reports: &mut Vec<BfdReport>) {
        let running = &mut self.sessions[index];
        for event in events {
            match event {
                Event::Send(packet) => send(running, &packet),
                Event::Report { up } => reports.push(BfdReport {
                    name: running.model.name.clone(),
                    up,
                }),
                other => log_event(&running.model.name, &other),
            }
        }
    }
}

/// A received datagram's particulars.
#[derive(Default)]
struct Received {
    length: usize,
    source: Option<IpAddr>,
    destination: Option<IpAddr>,
    ttl: Option<u8>,
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn send(running: &mut Running, packet: &Control) {
    let Some(socket) = &running.socket else {
        return;
    };
    match socket.send_to(&packet.encode(), &SockAddr::from(running.neighbor)) {
        Ok(_) => running.send_error = false,
        Err(e) => {
            if !running.send_error {
                error!("sendto() error ({e})");
                error!("({}) Error sending packet", running.model.name);
            }
            running.send_error = true;
        }
    }
}

/// keepalived's lines (`bfd_scheduler.c`): state changes to and from Up, expiry of an Up session,
/// detection time changes.
fn log_event(name: &str, event: &Event) {
    match event {
        Event::StateChanged {
            from,
            to,
            diagnostic,
            remote_diagnostic,
        } => match to {
            State::Up => info!("({name}) Entering Up state"),
            State::Down if *from == State::Up => warn!(
                "({name}) Entering Down state (Local diagnostic - {diagnostic}, Remote diagnostic - {remote_diagnostic})"
            ),
            State::AdminDown => warn!("({name}) Entering AdminDown state"),
            // keepalived logs the others only with its extra detail (-DD), which there is not here.
            _ => {}
        },
        Event::Expired {
            after,
            overdue,
            was_up,
        } => {
            let text = format!(
                "({name}) Expired after {} ms ({} usec overdue)",
                after.as_millis(),
                overdue.as_micros()
            );
            if *was_up {
                warn!("{text}");
            } else {
                debug!("{text}");
            }
        }
        Event::DetectionTime { now, was } => {
            let pad = " ".repeat(name.len() + 2);
            info!("{pad} Detection time is {now} us (was {was} us)");
        }
        Event::Send(_) | Event::Report { .. } => {}
    }
}

/// The socket every session receives on: `[::]:3784` taking IPv4 too, or `0.0.0.0:3784`.
fn open_receiver() -> io::Result<Socket> {
    let socket = match Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)) {
        Ok(socket) => {
            socket.set_only_v6(false)?;
            setsockopt(&socket, sockopt::Ipv4RecvTtl, &true)?;
            setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true)?;
            setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)?;
            socket.bind(&SockAddr::from(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                CONTROL_PORT,
            )))?;
            socket
        }
        Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
            let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
            setsockopt(&socket, sockopt::Ipv4RecvTtl, &true)?;
            setsockopt(&socket, sockopt::Ipv4PacketInfo, &true)?;
            socket.bind(&SockAddr::from(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                CONTROL_PORT,
            )))?;
            socket
        }
        Err(e) => return Err(e),
    };
    socket.set_nonblocking(true)?;
    socket.set_cloexec(true)?;
    Ok(socket)
}

/// A session's send socket: bound to its source (or any address) and a free port of RFC 5881's
/// range, starting at a random one; TTL / hop limit set.
fn open_sender(neighbor: IpAddr, source: Option<IpAddr>, ttl: u8) -> io::Result<Socket> {
    let domain = if neighbor.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_nonblocking(true)?;
    socket.set_cloexec(true)?;
    let local = source.unwrap_or(if neighbor.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    let (first, last) = (*SOURCE_PORTS.start(), *SOURCE_PORTS.end());
    let span = u32::from(last - first) + 1;
    let start = (seed("port") % u64::from(span)) as u32;
    let mut bound = Err(io::Error::from_raw_os_error(libc::EADDRINUSE));
    for offset in 0..span {
        let port = first + ((start + offset) % span) as u16;
        bound = socket.bind(&SockAddr::from(SocketAddr::new(local, port)));
        match &bound {
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => continue,
            _ => break,
        }
    }
    bound?;
    if neighbor.is_ipv4() {
        socket.set_ttl_v4(u32::from(ttl))?;
    } else {
        socket.set_unicast_hops_v6(u32::from(ttl))?;
    }
    Ok(socket)
}

/// A random seed (the standard library's per-process hasher keys, the time, the name).
fn seed(name: &str) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(name.as_bytes());
    if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_are_their_ipv4_addresses() {
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("address");
        assert_eq!(
            canonical(mapped),
            "10.0.0.1".parse::<IpAddr>().expect("address")
        );
        let v6: IpAddr = "fe80::1".parse().expect("address");
        assert_eq!(canonical(v6), v6);
    }

    #[test]
    fn a_sender_binds_in_rfc_5881_s_port_range_with_the_ttl() {
        let socket = open_sender("127.0.0.1".parse().expect("address"), None, 255)
            .expect("a loopback socket");
        let port = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(|a| a.port())
            .expect("bound");
        assert!(SOURCE_PORTS.contains(&port), "{port}");
        assert_eq!(socket.ttl_v4().expect("ttl"), 255);
    }
}
