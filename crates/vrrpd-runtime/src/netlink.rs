//! rtnetlink, synchronously: the interfaces and their addresses, adding and removing virtual addresses, routes
//! and rules, and a second socket that reports link and address changes to the event loop.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::rule::RuleMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// Multicast groups of rtnetlink (linux/rtnetlink.h).
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV6_IFADDR: u32 = 9;

/// A lifetime the kernel reads as "for ever".
const INFINITY_LIFE_TIME: u32 = u32::MAX;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    #[error("{operation}: {source}")]
    Kernel {
        operation: String,
        source: io::Error,
    },
    #[error("undecodable netlink message: {0}")]
    Decode(String),
}

/// A network interface as the kernel describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub mac: Option<[u8; 6]>,
    /// Administratively up and running (carrier), keepalived's `IF_ISUP`.
    pub up: bool,
}

/// An address configured on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub index: u32,
    pub address: IpAddr,
    pub prefix_len: u8,
    pub secondary: bool,
    pub scope: u8,
}

/// What the monitor socket reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetEvent {
    Link(Link),
    LinkRemoved(u32),
    AddressAdded(InterfaceAddress),
    AddressRemoved(InterfaceAddress),
}

/// An address to add or remove: one line of `virtual_ipaddress` resolved to an interface index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSpec {
    pub index: u32,
    pub address: IpAddr,
    pub prefix_len: u8,
    pub broadcast: Option<Ipv4Addr>,
    pub scope: u8,
    pub label: Option<String>,
    pub peer: Option<IpAddr>,
    pub flags: AddressFlags,
    /// Seconds; `None` for ever.
    pub preferred_lifetime: Option<u32>,
}

/// The request socket: dumps, additions and removals, each acknowledged.
pub struct Rtnetlink {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

impl Rtnetlink {
    pub fn open() -> Result<Self, NetlinkError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        let _ = socket.set_ext_ack(true);
        Ok(Self {
            socket,
            sequence: 0,
            buffer: vec![0; 64 * 1024],
        })
    }

    pub fn links(&mut self) -> Result<Vec<Link>, NetlinkError> {
        let replies = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
            "dumping links",
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewLink(link) => Some(link_of(&link)),
                _ => None,
            })
            .collect())
    }

    pub fn addresses(&mut self) -> Result<Vec<InterfaceAddress>, NetlinkError> {
        let replies = self.request(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_DUMP,
            "dumping addresses",
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewAddress(address) => address_of(&address),
                _ => None,
            })
            .collect())
    }

    /// Adds an address; one already there counts as added.
    pub fn add_address(&mut self, spec: &AddressSpec) -> Result<(), NetlinkError> {
        let operation = format!("adding {}/{}", spec.address, spec.prefix_len);
        match self.request(
            RouteNetlinkMessage::NewAddress(address_message(spec, true)),
            NLM_F_CREATE | NLM_F_EXCL,
            &operation,
        ) {
            Err(NetlinkError::Kernel { source, .. })
                if source.raw_os_error() == Some(libc::EEXIST) =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Removes an address; returns whether it was there.
    pub fn delete_address(&mut self, spec: &AddressSpec) -> Result<bool, NetlinkError> {
        let operation = format!("removing {}/{}", spec.address, spec.prefix_len);
        match self.request(
            RouteNetlinkMessage::DelAddress(address_message(spec, false)),
            0,
            &operation,
        ) {
            Ok(_) => Ok(true),
            Err(NetlinkError::Kernel { source, .. })
                if matches!(
                    source.raw_os_error(),
                    Some(libc::EADDRNOTAVAIL | libc::ENODEV)
                ) =>
            {
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }

    /// Creates a private-mode macvlan `name` on `base` with `mac` (keepalived's VMAC interface).
    pub fn create_macvlan(
        &mut self,
        name: &str,
        base: u32,
        mac: [u8; 6],
    ) -> Result<(), NetlinkError> {
        let mut message = LinkMessage::default();
        message.attributes = vec![
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::MacVlan),
                LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                    MacVlanMode::Private,
                )])),
            ]),
            LinkAttribute::Link(base),
            LinkAttribute::IfName(name.to_owned()),
            LinkAttribute::Address(mac.to_vec()),
        ];
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("creating {name}"),
        )
        .map(|_| ())
    }

    /// Sets an interface administratively up.
    pub fn set_link_up(&mut self, index: u32) -> Result<(), NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        self.request(
            RouteNetlinkMessage::SetLink(message),
            0,
            &format!("setting interface {index} up"),
        )
        .map(|_| ())
    }

    /// Stops the kernel giving an interface a link-local address of its own (`addr_gen_mode none`).
    pub fn set_no_ipv6_address_generation(&mut self, index: u32) -> Result<(), NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.attributes = vec![LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
            vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
        )])];
        self.request(
            RouteNetlinkMessage::SetLink(message),
            0,
            &format!("setting addr_gen_mode none on interface {index}"),
        )
        .map(|_| ())
    }

    /// Removes an interface; returns whether it was there.
    pub fn delete_link(&mut self, index: u32) -> Result<bool, NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        match self.request(
            RouteNetlinkMessage::DelLink(message),
            0,
            &format!("removing interface {index}"),
        ) {
            Ok(_) => Ok(true),
            Err(NetlinkError::Kernel { source, .. })
                if source.raw_os_error() == Some(libc::ENODEV) =>
            {
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }

    /// Adds a route as keepalived does (`ip route prepend`: no `NLM_F_EXCL`, so a route that differs
    /// only in its metric or gateway is added beside the others).
    pub fn add_route(&mut self, route: RouteMessage, what: &str) -> Result<(), NetlinkError> {
        self.request(
            RouteNetlinkMessage::NewRoute(route),
            NLM_F_CREATE,
            &format!("adding route {what}"),
        )
        .map(|_| ())
    }

    /// Deletes a route; one already gone (`ESRCH`) counts as deleted.
    pub fn delete_route(&mut self, route: RouteMessage, what: &str) -> Result<(), NetlinkError> {
        let operation = format!("removing route {what}");
        match self.request(RouteNetlinkMessage::DelRoute(route), 0, &operation) {
            Err(NetlinkError::Kernel { source, .. })
                if source.raw_os_error() == Some(libc::ESRCH) =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Adds a policy rule (`NLM_F_EXCL`, as keepalived: the same rule twice is an error).
    pub fn add_rule(&mut self, rule: RuleMessage, what: &str) -> Result<(), NetlinkError> {
        self.request(
            RouteNetlinkMessage::NewRule(rule),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("adding rule {what}"),
        )
        .map(|_| ())
    }

    /// Deletes a policy rule; one already gone (`ENOENT`) counts as deleted.
    pub fn delete_rule(&mut self, rule: RuleMessage, what: &str) -> Result<(), NetlinkError> {
        let operation = format!("removing rule {what}");
        match self.request(RouteNetlinkMessage::DelRule(rule), 0, &operation) {
            Err(NetlinkError::Kernel { source, .. })
                if source.raw_os_error() == Some(libc::ENOENT) =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Sends one request and collects the replies until the acknowledgement or the end of the dump.
    fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        operation: &str,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.sequence;
        let mut request = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        request.finalize();
        let mut bytes = vec![0; request.buffer_len()];
        request.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;

        let mut replies = Vec::new();
        loop {
            let received = self.socket.recv(&mut &mut self.buffer[..], 0)?;
            for reply in messages(&self.buffer[..received.min(self.buffer.len())]) {
                let reply = reply?;
                if reply.header.sequence_number != self.sequence {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(error) => {
                        return match error.code {
                            None => Ok(replies),
                            Some(code) => Err(NetlinkError::Kernel {
                                operation: operation.to_owned(),
                                source: io::Error::from_raw_os_error(-code.get()),
                            }),
                        };
                    }
                    NetlinkPayload::InnerMessage(inner) => replies.push(inner),
                    _ => {}
                }
            }
        }
    }
}

/// The monitor socket: link and address changes, read without blocking when poll says so.
pub struct Monitor {
    socket: Socket,
    buffer: Vec<u8>,
}

impl Monitor {
    /// Link and address changes (the VRRP process).
    pub fn open() -> Result<Self, NetlinkError> {
        Self::with_groups(&[RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR])
    }

    /// Address changes only (the checker process's `ha_suspend`, as keepalived's checker monitor).
    pub fn open_addresses() -> Result<Self, NetlinkError> {
        Self::with_groups(&[RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR])
    }

    fn with_groups(groups: &[u32]) -> Result<Self, NetlinkError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        for &group in groups {
            socket.add_membership(group)?;
        }
        socket.set_non_blocking(true)?;
        Ok(Self {
            socket,
            buffer: vec![0; 64 * 1024],
        })
    }

    /// Everything waiting on the socket. An overrun (ENOBUFS) is reported so the caller can resynchronise
    /// with a dump.
    pub fn read_events(&mut self) -> Result<Vec<NetEvent>, NetlinkError> {
        let mut events = Vec::new();
        loop {
            let received = match self.socket.recv(&mut &mut self.buffer[..], 0) {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(events),
                Err(e) => return Err(e.into()),
            };
            for message in messages(&self.buffer[..received.min(self.buffer.len())]) {
                let NetlinkPayload::InnerMessage(message) = message?.payload else {
                    continue;
                };
                let event = match message {
                    RouteNetlinkMessage::NewLink(link) => Some(NetEvent::Link(link_of(&link))),
                    RouteNetlinkMessage::DelLink(link) => {
                        Some(NetEvent::LinkRemoved(link.header.index))
                    }
                    RouteNetlinkMessage::NewAddress(address) => {
                        address_of(&address).map(NetEvent::AddressAdded)
                    }
                    RouteNetlinkMessage::DelAddress(address) => {
                        address_of(&address).map(NetEvent::AddressRemoved)
                    }
                    _ => None,
                };
                events.extend(event);
            }
        }
    }
}

impl AsFd for Monitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// The messages of one datagram, in order.
fn messages(
    mut bytes: &[u8],
) -> impl Iterator<Item = Result<NetlinkMessage<RouteNetlinkMessage>, NetlinkError>> + '_ {
    std::iter::from_fn(move || {
        if bytes.len() < 16 {
            return None;
        }
        let length = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if length < 16 || length > bytes.len() {
            bytes = &[];
            return Some(Err(NetlinkError::Decode(format!(
                "message length {length}"
            ))));
        }
        let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&bytes[..length])
            .map_err(|e| NetlinkError::Decode(e.to_string()));
        let aligned = (length + 3) & !3;
        bytes = bytes.get(aligned..).unwrap_or_default();
        Some(message)
    })
}

fn link_of(message: &LinkMessage) -> Link {
    let mut link = Link {
        index: message.header.index,
        name: String::new(),
        mac: None,
        up: message.header.flags.contains(LinkFlags::Up)
            && message.header.flags.contains(LinkFlags::Running),
    };
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::IfName(name) => link.name = name.clone(),
            LinkAttribute::Address(bytes) => link.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok(),
            _ => {}
        }
    }
    link
}

fn address_of(message: &AddressMessage) -> Option<InterfaceAddress> {
    let mut address = None;
    let mut local = None;
    let mut flags = u32::from(message.header.flags.bits());
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Flags(f) => flags = f.bits(),
            _ => {}
        }
    }
    Some(InterfaceAddress {
        index: message.header.index,
        address: local.or(address)?,
        prefix_len: message.header.prefix_len,
        secondary: flags & AddressFlags::Secondary.bits() != 0,
        scope: message.header.scope.into(),
    })
}

fn address_message(spec: &AddressSpec, adding: bool) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.family = match spec.address {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    message.header.prefix_len = spec.prefix_len;
    message.header.scope = AddressScope::from(spec.scope);
    message.header.index = spec.index;
    message.header.flags = AddressHeaderFlags::from_bits_retain(spec.flags.bits() as u8);
    let attributes = &mut message.attributes;
    attributes.push(AddressAttribute::Local(spec.address));
    attributes.push(AddressAttribute::Address(spec.peer.unwrap_or(spec.address)));
    if !adding {
        return message;
    }
    if let Some(broadcast) = spec.broadcast {
        attributes.push(AddressAttribute::Broadcast(broadcast));
    }
    if let Some(label) = &spec.label {
        attributes.push(AddressAttribute::Label(label.clone()));
    }
    if !spec.flags.is_empty() {
        attributes.push(AddressAttribute::Flags(spec.flags));
    }
    if let Some(preferred) = spec.preferred_lifetime {
        let mut lifetimes = CacheInfo::default();
        lifetimes.ifa_preferred = preferred;
        lifetimes.ifa_valid = INFINITY_LIFE_TIME;
        attributes.push(AddressAttribute::CacheInfo(lifetimes));
    }
    message
}
