//! The synchronous client: a generic-netlink socket (and a second one for destination dumps),
//! the IPVS family resolved once, every query and change as a method.

mod exchange;
mod family;
pub(crate) mod incoming;
mod socket;

use std::net::IpAddr;
use std::time::Duration;

pub(crate) use exchange::{Channel, Expect, kernel_error, receive_error, send_error};
#[cfg(test)]
pub(crate) use family::FamilyQuery;
pub(crate) use family::family_id;
pub(crate) use socket::{NetlinkSocket, Slots};

use crate::change::Change;
use crate::error::{Error, Operation, Result};
use crate::message::{FAMILY_NAME, IpvsMessage, Request};
use crate::model::{DaemonState, Destination, Info, Service, ServiceKey, SyncDaemon, Timeouts};
use crate::table::VirtualService;
use netlink_packet_core::DecodeError;

/// How a [`Client`] sets up its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// The longest any send or receive waits; past it a call fails with [`Error::Timeout`].
    pub timeout: Duration,
    /// The receive buffer to ask for (the kernel doubles it). It bounds how many requests a
    /// batch can send at once: their acknowledgements must all fit.
    pub receive_buffer: usize,
    /// The send buffer to ask for (the kernel doubles it); it bounds a batch's datagram.
    pub send_buffer: usize,
    /// Whether to run `/sbin/modprobe -- ip_vs` when the kernel lacks IPVS, as ipvsadm does.
    pub load_module: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            receive_buffer: 4 << 20,
            send_buffer: 1 << 20,
            load_module: true,
        }
    }
}

/// A connection to the kernel's IPVS.
///
/// Every method sends one request and waits for its answer, except
/// [`Client::apply_all`], which sends many per system call.
pub struct Client {
    pub(crate) socket: NetlinkSocket,
    /// The socket of destination dumps ([`Channel::Destinations`]), once used.
    destination_socket: Option<NetlinkSocket>,
    options: ClientOptions,
    pub(crate) family_id: u16,
    next_sequence: u32,
}

impl Client {
    /// Connects with the default options.
    pub fn connect() -> Result<Self> {
        Self::connect_with(&ClientOptions::default())
    }

    /// Opens the socket and resolves the IPVS family, loading `ip_vs` if needed and allowed.
    pub fn connect_with(options: &ClientOptions) -> Result<Self> {
        let socket =
            NetlinkSocket::open(options, Slots::MAIN).map_err(|source| Error::Socket { source })?;
        let mut client = Client {
            socket,
            destination_socket: None,
            options: options.clone(),
            family_id: 0,
            next_sequence: 1,
        };
        client.family_id = client.resolve_family(FAMILY_NAME, options.load_module)?;
        Ok(client)
    }

    /// The IPVS generic-netlink family id on this kernel.
    pub fn family_id(&self) -> u16 {
        self.family_id
    }

    /// The IPVS version and connection table size.
    pub fn info(&mut self) -> Result<Info> {
        let reply = self.single_reply(Operation::GetInfo, Request::GetInfo)?;
        reply.to_info().map_err(|source| Error::Decode {
            operation: Operation::GetInfo,
            source,
        })
    }

    /// Every service, in the kernel's order.
    pub fn services(&mut self) -> Result<Vec<Service>> {
        let operation = Operation::GetServices;
        self.ipvs_exchange_on(
            Channel::Main,
            operation,
            Request::GetServices,
            Expect::Dump,
            |reply| {
                reply
                    .to_service()
                    .map_err(|source| Error::Decode { operation, source })
            },
        )
    }

    /// One service; a missing one is a kernel error with `ESRCH`.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        let operation = Operation::GetService;
        let reply = self.single_reply(operation, Request::GetService(key))?;
        reply
            .to_service()
            .map_err(|source| Error::Decode { operation, source })
    }

    /// The destinations of a service, newest first (the kernel's order). The kernel answers
    /// an empty list for a service that does not exist.
    pub fn destinations(&mut self, service: &ServiceKey) -> Result<Vec<Destination>> {
        let operation = Operation::GetDestinations;
        let message = Request::GetDests(service);
        self.ipvs_exchange_on(
            Channel::Destinations,
            operation,
            message,
            Expect::Dump,
            |reply| {
                reply
                    .to_destination(service.family())
                    .map_err(|source| Error::Decode { operation, source })
            },
        )
    }

    /// The whole table: every service with its destinations, in the kernel's order.
    pub fn table(&mut self) -> Result<Vec<VirtualService>> {
        let services = self.services()?;
        let mut table = Vec::with_capacity(services.len());
        for service in services {
            let destinations = self.destinations(&service.key)?;
            table.push(VirtualService {
                service,
                destinations,
            });
        }
        Ok(table)
    }

    /// The connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts> {
        Ok(self
            .single_reply(Operation::GetTimeouts, Request::GetTimeouts)?
            .to_timeouts())
    }

    /// The running sync daemons.
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>> {
        let operation = Operation::GetDaemons;
        self.ipvs_exchange_on(
            Channel::Main,
            operation,
            Request::GetDaemons,
            Expect::Dump,
            |reply| {
                reply
                    .to_daemon()
                    .map_err(|source| Error::Decode { operation, source })
            },
        )
    }

    /// Sends any IPVS request and returns the kernel's replies once it acknowledges it; for
    /// what the typed methods do not cover. `operation` words the errors.
    pub fn execute(
        &mut self,
        operation: Operation,
        message: IpvsMessage,
    ) -> Result<Vec<IpvsMessage>> {
        self.ipvs_exchange(operation, Request::Message(&message), Expect::Reply)
    }

    /// Sends any IPVS request as a dump (`NLM_F_DUMP`) and returns every entry.
    pub fn dump(&mut self, operation: Operation, message: IpvsMessage) -> Result<Vec<IpvsMessage>> {
        self.ipvs_exchange(operation, Request::Message(&message), Expect::Dump)
    }

    /// Applies one change and waits for the kernel's acknowledgement.
    pub fn apply(&mut self, change: &Change) -> Result<()> {
        self.ipvs_exchange(change.operation(), change.request(), Expect::Reply)
            .map(drop)
    }

    /// Adds a service.
    pub fn add_service(&mut self, service: &Service) -> Result<()> {
        self.apply(&Change::AddService(service.clone()))
    }

    /// Replaces a service's settings; its destinations stay.
    pub fn update_service(&mut self, service: &Service) -> Result<()> {
        self.apply(&Change::UpdateService(service.clone()))
    }

    /// Deletes a service and its destinations.
    pub fn delete_service(&mut self, key: &ServiceKey) -> Result<()> {
        self.apply(&Change::DeleteService(*key))
    }

    /// Adds a destination to a service.
    pub fn add_destination(
        &mut self,
        service: &ServiceKey,
        destination: &Destination,
    ) -> Result<()> {
        self.apply(&Change::AddDestination {
            service: *service,
            destination: destination.clone(),
        })
    }

    /// Replaces a destination's settings.
    pub fn update_destination(
        &mut self,
        service: &ServiceKey,
        destination: &Destination,
    ) -> Result<()> {
        self.apply(&Change::UpdateDestination {
            service: *service,
            destination: destination.clone(),
        })
    }

    /// Deletes a destination.
    pub fn delete_destination(
        &mut self,
        service: &ServiceKey,
        address: IpAddr,
        port: u16,
    ) -> Result<()> {
        self.apply(&Change::DeleteDestination {
            service: *service,
            address,
            port,
        })
    }

    /// Zeroes the counters of one service, or of everything.
    pub fn zero(&mut self, service: Option<&ServiceKey>) -> Result<()> {
        self.apply(&Change::Zero(service.copied()))
    }

    /// Deletes every service and destination (timeouts and daemons stay).
    pub fn flush(&mut self) -> Result<()> {
        self.apply(&Change::Flush)
    }

    /// Sets the timeouts; 0 leaves one unchanged.
    pub fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<()> {
        self.apply(&Change::SetTimeouts(*timeouts))
    }

    /// Starts a sync daemon.
    pub fn start_daemon(&mut self, daemon: &SyncDaemon) -> Result<()> {
        self.apply(&Change::StartDaemon(daemon.clone()))
    }

    /// Stops the sync daemon in `state`.
    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<()> {
        self.apply(&Change::StopDaemon { state, sync_id: 0 })
    }

    /// A request answered by exactly one reply before its acknowledgement.
    fn single_reply(&mut self, operation: Operation, request: Request<'_>) -> Result<IpvsMessage> {
        self.ipvs_exchange(operation, request, Expect::Reply)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Decode {
                operation,
                source: DecodeError::from("the kernel acknowledged without a reply"),
            })
    }
}
