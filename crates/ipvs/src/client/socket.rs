//! The generic-netlink socket: connected to the kernel, with timeouts so that no call waits
//! forever, buffers sized for batches, and many datagrams taken per system call.

use std::io;
use std::io::IoSliceMut;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_GENERIC};
use nix::sys::socket::{MsgFlags, MultiHeaders, getsockopt, recvmmsg, setsockopt, sockopt};
use nix::sys::time::TimeVal;

use super::ClientOptions;

/// The largest datagram the kernel sends us. It sizes dump messages after the buffer we
/// receive into, capped at 32 KiB, and acknowledgements are far smaller.
pub(crate) const LARGE_SLOT: usize = 32 * 1024;

/// The kernel's largest datagram is `NLMSG_GOODSIZE` (a page less the socket buffer's
/// overhead, at most 8 KiB less it) unless a reader's larger buffer raised it.
const GOOD_SIZE_CAP: usize = 8 * 1024;

/// A slot that holds any datagram without raising the size of dump messages: a page, at most
/// 8 KiB. Each message of a dump is then a kernel allocation from the slab caches (the socket
/// buffer's overhead included, at most 8 KiB on 4 KiB pages) instead of the page allocator,
/// which a 32 KiB buffer needs: dumping 10,000 services' destinations took a quarter of the
/// time with page-sized slots in the emulated VM. For dumps of few messages each, where the
/// number of datagrams does not matter.
pub(crate) fn page_slot() -> usize {
    // SAFETY: sysconf reads a constant of the system; it has no memory effects.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page)
        .unwrap_or(GOOD_SIZE_CAP)
        .clamp(4096, GOOD_SIZE_CAP)
}

/// Where a socket receives: how many datagrams one call can take, and how large each may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slots {
    pub(crate) count: usize,
    pub(crate) size: usize,
}

impl Slots {
    /// The main socket's: acknowledgements of a batch arrive one per datagram, so taking many
    /// at once saves most of the system calls, and a long dump comes in few large datagrams.
    pub(crate) const MAIN: Slots = Slots {
        count: 64,
        size: LARGE_SLOT,
    };

    /// The destination socket's: a destination dump is a datagram of entries and one of
    /// `NLMSG_DONE`, so a few page-sized slots take a whole dump in one call, and preparing
    /// the call costs little.
    pub(crate) fn destinations() -> Slots {
        Slots {
            count: 4,
            size: page_slot(),
        }
    }
}

/// A connected `NETLINK_GENERIC` socket.
pub(crate) struct NetlinkSocket {
    socket: Socket,
    port_id: u32,
    timeout: Duration,
    receive_buffer: usize,
    send_buffer: usize,
    slot_size: usize,
    slot_count: usize,
    slots: Vec<u8>,
    /// The length of each datagram the last receive took, kept to reuse its memory.
    lengths: Vec<usize>,
}

/// The datagrams one receive call returned.
pub(crate) struct Datagrams<'a> {
    slots: &'a [u8],
    slot_size: usize,
    lengths: &'a [usize],
}

impl<'a> Datagrams<'a> {
    /// Each datagram's bytes, in arrival order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let (slots, slot_size) = (self.slots, self.slot_size);
        self.lengths
            .iter()
            .enumerate()
            .map(move |(index, &length)| {
                slots
                    .get(index * slot_size..index * slot_size + length)
                    .unwrap_or_default()
            })
    }
}

impl NetlinkSocket {
    /// Opens, binds and connects a socket to the kernel, and applies the options; it receives
    /// into `slots` (each at least a page: see [`page_slot`]).
    pub(crate) fn open(options: &ClientOptions, slots: Slots) -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        let port_id = socket.bind_auto()?.port_number();
        // Connected to the kernel, the socket takes no datagram from other processes.
        socket.connect(&SocketAddr::new(0, 0))?;
        // Both are refinements the kernel may lack (before 4.12 and 4.3): carry on without.
        let _ = socket.set_ext_ack(true);
        // Errors then echo only the request's header; the sequence number is all we match on,
        // and small errors let more of them fit the receive buffer.
        let _ = socket.set_cap_ack(true);

        let timeout = TimeVal::new(
            options
                .timeout
                .as_secs()
                .try_into()
                .unwrap_or(libc::time_t::MAX),
            options.timeout.subsec_micros().into(),
        );
        setsockopt(&socket, sockopt::ReceiveTimeout, &timeout)?;
        setsockopt(&socket, sockopt::SendTimeout, &timeout)?;

        // Beyond net.core.[rw]mem_max only with CAP_NET_ADMIN, which changing IPVS needs anyway.
        if setsockopt(&socket, sockopt::RcvBufForce, &options.receive_buffer).is_err() {
            setsockopt(&socket, sockopt::RcvBuf, &options.receive_buffer)?;
        }
        if setsockopt(&socket, sockopt::SndBufForce, &options.send_buffer).is_err() {
            setsockopt(&socket, sockopt::SndBuf, &options.send_buffer)?;
        }
        let receive_buffer = getsockopt(&socket, sockopt::RcvBuf)?;
        let send_buffer = getsockopt(&socket, sockopt::SndBuf)?;

        Ok(NetlinkSocket {
            socket,
            port_id,
            timeout: options.timeout,
            receive_buffer,
            send_buffer,
            slot_size: slots.size,
            slot_count: slots.count,
            slots: vec![0; slots.size * slots.count],
            lengths: Vec::with_capacity(slots.count),
        })
    }

    /// The socket's netlink port id.
    pub(crate) fn port_id(&self) -> u32 {
        self.port_id
    }

    /// The receive and send timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The receive buffer as the kernel accounts it (twice what was asked).
    pub(crate) fn receive_buffer(&self) -> usize {
        self.receive_buffer
    }

    /// The send buffer as the kernel accounts it; a datagram may be up to 32 bytes shorter.
    pub(crate) fn send_buffer(&self) -> usize {
        self.send_buffer
    }

    /// Sends one datagram, which may hold many messages.
    pub(crate) fn send(&self, datagram: &[u8]) -> io::Result<()> {
        let sent = self.socket.send(datagram, 0)?;
        if sent == datagram.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("sent {sent} of {} bytes", datagram.len()),
            ))
        }
    }

    /// Waits (up to the timeout) for a datagram and takes it with every other one queued.
    pub(crate) fn receive(&mut self) -> io::Result<Datagrams<'_>> {
        self.receive_with(MsgFlags::MSG_WAITFORONE)?;
        Ok(self.datagrams())
    }

    /// Takes the datagrams already queued, without waiting.
    pub(crate) fn receive_queued(&mut self) -> io::Result<Datagrams<'_>> {
        match self.receive_with(MsgFlags::MSG_DONTWAIT) {
            Ok(()) => Ok(self.datagrams()),
            // Nothing queued: no datagrams (the receive cleared the lengths first).
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(self.datagrams()),
            Err(error) => Err(error),
        }
    }

    fn datagrams(&self) -> Datagrams<'_> {
        Datagrams {
            slots: &self.slots,
            slot_size: self.slot_size,
            lengths: &self.lengths,
        }
    }

    /// Receives into the slots and records each datagram's length.
    fn receive_with(&mut self, flags: MsgFlags) -> io::Result<()> {
        let fd = self.socket.as_raw_fd();
        let slot_size = self.slot_size;
        self.lengths.clear();
        loop {
            let mut headers = MultiHeaders::<()>::preallocate(self.slot_count, None);
            let mut buffers: Vec<[IoSliceMut<'_>; 1]> = self
                .slots
                .chunks_mut(slot_size)
                .map(|slot| [IoSliceMut::new(slot)])
                .collect();
            match recvmmsg(fd, &mut headers, buffers.iter_mut(), flags, None) {
                Ok(received) => {
                    for message in received {
                        if message.flags.contains(MsgFlags::MSG_TRUNC) {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("a datagram was longer than {slot_size} bytes"),
                            ));
                        }
                        self.lengths.push(message.bytes);
                    }
                    return Ok(());
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_slot_holds_the_kernels_good_size_and_stays_in_the_slab_caches() {
        let slot = page_slot();
        assert!((4096..=GOOD_SIZE_CAP).contains(&slot), "{slot}");
        assert!(slot < LARGE_SLOT);
    }

    #[test]
    fn datagrams_are_cut_at_their_slots() {
        let slots: Vec<u8> = (0..12).collect();
        let datagrams = Datagrams {
            slots: &slots,
            slot_size: 4,
            lengths: &[2, 4, 0],
        };
        let cut: Vec<&[u8]> = datagrams.iter().collect();
        assert_eq!(cut, vec![&[0, 1][..], &[4, 5, 6, 7][..], &[][..]]);
    }
}
