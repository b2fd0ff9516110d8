//! The sockets VRRP travels on, set up as keepalived sets up its own:
//!
//! * one receive socket per family and IP protocol (112, and 51 when an instance uses AH), not bound to an
//!   interface: `IP_PKTINFO` / `IPV6_PKTINFO` say on which interface each datagram arrived, which with the
//!   VRID finds the instance; the multicast group is joined on every interface that has a multicast instance;
//! * one send socket per interface and family, bound to the interface: IPv4 with `IP_HDRINCL` (the crate
//!   writes the whole header: TTL 255, TOS 0xc0, IP ID), IPv6 with hop limit 255 and traffic class 0xc0, the
//!   link-local source given per packet with `IPV6_PKTINFO`;
//! * one `AF_PACKET` socket for gratuitous ARPs and unsolicited NAs, which are whole Ethernet frames.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem;
use std::net::{IpAddr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, recvmsg, sendmsg,
    setsockopt, sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use vrrp::wire::Family;

pub const IPPROTO_VRRP: i32 = 112;
pub const IPPROTO_AH: i32 = 51;
/// Internetwork control: the TOS / traffic class of VRRP adverts.
const TOS_INTERNETWORK_CONTROL: u32 = 0xc0;
const VRRP_HOP_LIMIT: u32 = 255;
/// Larger than any VRRP packet (255 IPv6 addresses make 4 KiB).
const RECEIVE_BUFFER: usize = 9000;

/// A datagram received on a VRRP receive socket.
#[derive(Debug)]
pub struct Received<'a> {
    pub interface: u32,
    /// IPv4: the whole packet. IPv6: the VRRP message.
    pub bytes: &'a [u8],
    /// IPv6 only.
    pub source: Option<Ipv6Addr>,
    pub destination: Option<Ipv6Addr>,
    pub hop_limit: Option<u8>,
}

/// A receive socket for one family and protocol.
pub struct ReceiveSocket {
    socket: Socket,
    family: Family,
    buffer: Vec<u8>,
    control: Vec<u8>,
}

impl ReceiveSocket {
    pub fn open(family: Family, protocol: i32) -> io::Result<Self> {
        let socket = raw_socket(family, protocol)?;
        socket.set_nonblocking(true)?;
        match family {
            Family::Ipv4 => {
                socket.set_multicast_all_v4(false)?;
                setsockopt(&socket, sockopt::Ipv4PacketInfo, &true)?;
            }
            Family::Ipv6 => {
                socket.set_multicast_all_v6(false)?;
                setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)?;
                setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true)?;
            }
        }
        Ok(Self {
            socket,
            family,
            buffer: vec![0; RECEIVE_BUFFER],
            control: nix::cmsg_space!(libc::in6_pktinfo, libc::c_int),
        })
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// Joins `group` on the interface (harmless if already joined).
    pub fn join(&self, group: IpAddr, interface: u32) -> io::Result<()> {
        let result = match group {
            IpAddr::V4(group) => self
                .socket
                .join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(interface)),
            IpAddr::V6(group) => self.socket.join_multicast_v6(&group, interface),
        };
        match result {
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => Ok(()),
            other => other,
        }
    }

    pub fn leave(&self, group: IpAddr, interface: u32) -> io::Result<()> {
        match group {
            IpAddr::V4(group) => self
                .socket
                .leave_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(interface)),
            IpAddr::V6(group) => self.socket.leave_multicast_v6(&group, interface),
        }
    }

    /// The next datagram, or `None` when none is waiting.
    pub fn receive(&mut self) -> io::Result<Option<Received<'_>>> {
        let mut iov = [IoSliceMut::new(&mut self.buffer)];
        let fd = self.socket.as_raw_fd();
        let (length, interface, source, destination, hop_limit) = match self.family {
            Family::Ipv4 => {
                let message = match recvmsg::<SockaddrIn>(
                    fd,
                    &mut iov,
                    Some(&mut self.control),
                    MsgFlags::empty(),
                ) {
                    Ok(message) => message,
                    Err(nix::errno::Errno::EAGAIN) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                let mut interface = 0;
                for control in message.cmsgs()? {
                    if let ControlMessageOwned::Ipv4PacketInfo(info) = control {
                        interface = u32::try_from(info.ipi_ifindex).unwrap_or(0);
                    }
                }
                (message.bytes, interface, None, None, None)
            }
            Family::Ipv6 => {
                let message = match recvmsg::<SockaddrIn6>(
                    fd,
                    &mut iov,
                    Some(&mut self.control),
                    MsgFlags::empty(),
                ) {
                    Ok(message) => message,
                    Err(nix::errno::Errno::EAGAIN) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                let source = message.address.map(|address| address.ip());
                let (mut interface, mut destination, mut hop_limit) = (0, None, None);
                for control in message.cmsgs()? {
                    match control {
                        ControlMessageOwned::Ipv6PacketInfo(info) => {
                            interface = info.ipi6_ifindex;
                            destination = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                        }
                        ControlMessageOwned::Ipv6HopLimit(limit) => {
                            hop_limit = u8::try_from(limit).ok();
                        }
                        _ => {}
                    }
                }
                (message.bytes, interface, source, destination, hop_limit)
            }
        };
        Ok(Some(Received {
            interface,
            bytes: self.buffer.get(..length).unwrap_or_default(),
            source,
            destination,
            hop_limit,
        }))
    }
}

impl AsFd for ReceiveSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// A send socket bound to one interface.
pub struct SendSocket {
    socket: Socket,
    family: Family,
    interface: u32,
    /// IPv4 packets waiting for [`Self::flush`]: the adverts due in one tick leave in one `sendmmsg`.
    queued: Vec<Queued>,
}

/// An IPv4 packet waiting to be sent, with a tag the caller gets back if it fails.
struct Queued {
    destination: SockAddr,
    flags: libc::c_int,
    packet: Vec<u8>,
    tag: usize,
}

/// A queued packet that could not be sent.
#[derive(Debug)]
pub struct SendFailure {
    pub tag: usize,
    pub destination: IpAddr,
    pub error: io::Error,
}

/// At most this many messages in one `sendmmsg` (the kernel's `UIO_MAXIOV`).
const MAX_BATCH: usize = 1024;

impl SendSocket {
    pub fn open(family: Family, interface: u32, name: &str) -> io::Result<Self> {
        let socket = raw_socket(family, IPPROTO_VRRP)?;
        socket.bind_device(Some(name.as_bytes()))?;
        match family {
            Family::Ipv4 => {
                socket.set_header_included_v4(true)?;
                socket.set_multicast_loop_v4(false)?;
            }
            Family::Ipv6 => {
                socket.set_multicast_loop_v6(false)?;
                socket.set_multicast_if_v6(interface)?;
                socket.set_multicast_hops_v6(VRRP_HOP_LIMIT)?;
                socket.set_unicast_hops_v6(VRRP_HOP_LIMIT)?;
                socket.set_tclass_v6(TOS_INTERNETWORK_CONTROL)?;
            }
        }
        Ok(Self {
            socket,
            family,
            interface,
            queued: Vec::new(),
        })
    }

    /// Sends one packet of an advert like [`Self::send`], but an IPv4 packet only at the next
    /// [`Self::flush`], batched with the others queued until then; `tag` identifies it among the failures.
    pub fn queue(
        &mut self,
        source: IpAddr,
        destination: IpAddr,
        packet: Vec<u8>,
        tag: usize,
    ) -> io::Result<()> {
        match (self.family, destination) {
            (Family::Ipv4, IpAddr::V4(destination)) => {
                self.queued.push(Queued {
                    destination: SockAddr::from(SocketAddrV4::new(destination, 0)),
                    flags: ipv4_flags(destination),
                    packet,
                    tag,
                });
                Ok(())
            }
            _ => self.send(source, destination, &packet),
        }
    }

    /// Sends the queued packets, a `sendmmsg` per run of packets with the same flags; returns those that
    /// failed (each is tried once; one failing does not hold back the rest).
    pub fn flush(&mut self) -> Vec<SendFailure> {
        let mut failures = Vec::new();
        let queued = mem::take(&mut self.queued);
        let mut start = 0;
        while start < queued.len() {
            let flags = queued[start].flags;
            let end = queued[start..]
                .iter()
                .take(MAX_BATCH)
                .position(|packet| packet.flags != flags)
                .map_or((start + MAX_BATCH).min(queued.len()), |offset| {
                    start + offset
                });
            match self.send_batch(&queued[start..end], flags) {
                Ok(sent) if sent > 0 => start += sent,
                // sendmmsg fails only when the first message of the batch does (after that it returns how
                // many left): report that one and go on after it.
                result => {
                    let error = result.err().unwrap_or_else(|| io::Error::other("not sent"));
                    let packet = &queued[start];
                    failures.push(SendFailure {
                        tag: packet.tag,
                        destination: packet
                            .destination
                            .as_socket()
                            .map_or(IpAddr::from([0, 0, 0, 0]), |address| address.ip()),
                        error,
                    });
                    start += 1;
                }
            }
        }
        // Keep the allocation for the next tick.
        let mut queued = queued;
        queued.clear();
        self.queued = queued;
        failures
    }

    /// One `sendmmsg` of `packets`; how many left.
    fn send_batch(&self, packets: &[Queued], flags: libc::c_int) -> io::Result<usize> {
        let mut iovecs: Vec<libc::iovec> = packets
            .iter()
            .map(|packet| libc::iovec {
                iov_base: packet.packet.as_ptr() as *mut libc::c_void,
                iov_len: packet.packet.len(),
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = packets
            .iter()
            .zip(iovecs.iter_mut())
            .map(|(packet, iovec)| {
                // SAFETY: an all-zero msghdr is valid (no control data, no flags).
                let mut header: libc::msghdr = unsafe { mem::zeroed() };
                header.msg_name = packet.destination.as_ptr() as *mut libc::c_void;
                header.msg_namelen = packet.destination.len();
                header.msg_iov = iovec;
                header.msg_iovlen = 1;
                libc::mmsghdr {
                    msg_hdr: header,
                    msg_len: 0,
                }
            })
            .collect();
        let count = libc::c_uint::try_from(headers.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "batch too large"))?;
        // SAFETY: every header points at an address, an iovec and a packet that outlive the call, with
        // their exact lengths; the kernel only reads them (and writes msg_len).
        let sent =
            unsafe { libc::sendmmsg(self.socket.as_raw_fd(), headers.as_mut_ptr(), count, flags) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(usize::try_from(sent).unwrap_or(0))
    }

    /// Sends one packet of an advert: IPv4 the whole packet (`source` is in its header), IPv6 the VRRP
    /// message from `source`.
    pub fn send(&self, source: IpAddr, destination: IpAddr, payload: &[u8]) -> io::Result<()> {
        match (self.family, source, destination) {
            (Family::Ipv4, _, IpAddr::V4(destination)) => {
                let address = SockAddr::from(SocketAddrV4::new(destination, 0));
                self.socket
                    .send_to_with_flags(payload, &address, ipv4_flags(destination))?;
                Ok(())
            }
            (Family::Ipv6, IpAddr::V6(source), IpAddr::V6(destination)) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: source.octets(),
                    },
                    ipi6_ifindex: self.interface,
                };
                let scope = if is_link_scope(destination) {
                    self.interface
                } else {
                    0
                };
                let address = SockaddrIn6::from(SocketAddrV6::new(destination, 0, 0, scope));
                sendmsg(
                    self.socket.as_raw_fd(),
                    &[IoSlice::new(payload)],
                    &[ControlMessage::Ipv6PacketInfo(&info)],
                    MsgFlags::empty(),
                    Some(&address),
                )?;
                Ok(())
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "address of the wrong family",
            )),
        }
    }
}

/// Multicast adverts go out of the bound interface whatever the routes say.
fn ipv4_flags(destination: std::net::Ipv4Addr) -> libc::c_int {
    if destination.is_multicast() {
        libc::MSG_DONTROUTE
    } else {
        0
    }
}

fn is_link_scope(address: Ipv6Addr) -> bool {
    let first = address.segments()[0];
    first & 0xffc0 == 0xfe80 || (address.is_multicast() && first & 0x000f <= 2)
}

fn raw_socket(family: Family, protocol: i32) -> io::Result<Socket> {
    let domain = match family {
        Family::Ipv4 => Domain::IPV4,
        Family::Ipv6 => Domain::IPV6,
    };
    Socket::new(domain, Type::RAW.cloexec(), Some(Protocol::from(protocol)))
}

/// The `AF_PACKET` socket gratuitous ARPs and unsolicited NAs leave by.
pub struct PacketSocket {
    socket: Socket,
}

impl PacketSocket {
    pub fn open() -> io::Result<Self> {
        // Protocol 0: this socket only sends; it receives nothing.
        let socket = Socket::new(Domain::PACKET, Type::RAW.cloexec(), None)?;
        Ok(Self { socket })
    }

    /// Sends a whole Ethernet frame out of `interface`.
    pub fn send(&self, interface: u32, frame: &[u8]) -> io::Result<()> {
        let address = link_layer_address(interface, frame)?;
        self.socket.send_to(frame, &address)?;
        Ok(())
    }
}

/// A `sockaddr_ll` for sending `frame` (its destination MAC and ethertype) on `interface`.
fn link_layer_address(interface: u32, frame: &[u8]) -> io::Result<SockAddr> {
    let (Some(destination), Some(ethertype)) = (frame.get(..6), frame.get(12..14)) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "frame too short",
        ));
    };
    let index = i32::try_from(interface)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index"))?;
    // SAFETY: the closure writes a complete sockaddr_ll into storage large enough for any address, and
    // reports its exact length.
    let ((), address) = unsafe {
        SockAddr::try_init(|storage, length| {
            let link = storage.cast::<libc::sockaddr_ll>();
            let mut value: libc::sockaddr_ll = mem::zeroed();
            value.sll_family = libc::AF_PACKET as u16;
            // Already in network order in the frame.
            value.sll_protocol = u16::from_ne_bytes([ethertype[0], ethertype[1]]);
            value.sll_ifindex = index;
            value.sll_halen = 6;
            value.sll_addr[..6].copy_from_slice(destination);
            link.write(value);
            *length = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            Ok(())
        })?
    };
    Ok(address)
}
