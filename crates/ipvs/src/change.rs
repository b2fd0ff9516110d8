//! The changes a program makes to the IPVS table, one request each, applied alone with
//! [`Client::apply`](crate::Client::apply) or many at once with
//! [`Client::apply_all`](crate::Client::apply_all).

use std::net::IpAddr;

use crate::error::Operation;
use crate::message::{IpvsMessage, Request};
use crate::model::{DaemonState, Destination, Service, ServiceKey, SyncDaemon, Timeouts};

/// One change to the IPVS table, timeouts or sync daemons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add a service (`ipvsadm -A`).
    AddService(Service),
    /// Replace a service's scheduler, flags, timeout, netmask and engine (`ipvsadm -E`).
    UpdateService(Service),
    /// Delete a service and its destinations (`ipvsadm -D`).
    DeleteService(ServiceKey),
    /// Add a destination to a service (`ipvsadm -a`).
    AddDestination {
        /// The service.
        service: ServiceKey,
        /// The destination.
        destination: Destination,
    },
    /// Replace a destination's settings (`ipvsadm -e`).
    UpdateDestination {
        /// The service.
        service: ServiceKey,
        /// The destination with its new settings.
        destination: Destination,
    },
    /// Delete a destination (`ipvsadm -d`).
    DeleteDestination {
        /// The service.
        service: ServiceKey,
        /// The destination's address.
        address: IpAddr,
        /// The destination's port.
        port: u16,
    },
    /// Zero the counters of one service, or of every service with `None` (`ipvsadm -Z`).
    Zero(Option<ServiceKey>),
    /// Delete every service and destination (`ipvsadm -C`).
    Flush,
    /// Set the timeouts; 0 leaves one unchanged (`ipvsadm --set`).
    SetTimeouts(Timeouts),
    /// Start a sync daemon (`ipvsadm --start-daemon`).
    StartDaemon(SyncDaemon),
    /// Stop the sync daemon in a state (`ipvsadm --stop-daemon`).
    StopDaemon {
        /// Master or backup.
        state: DaemonState,
        /// Sent as ipvsadm sends it; the kernel stops the daemon by state alone.
        sync_id: u32,
    },
}

impl Change {
    /// The operation this change is, which words its errors.
    pub fn operation(&self) -> Operation {
        match self {
            Change::AddService(_) => Operation::AddService,
            Change::UpdateService(_) => Operation::UpdateService,
            Change::DeleteService(_) => Operation::DeleteService,
            Change::AddDestination { .. } => Operation::AddDestination,
            Change::UpdateDestination { .. } => Operation::UpdateDestination,
            Change::DeleteDestination { .. } => Operation::DeleteDestination,
            Change::Zero(_) => Operation::Zero,
            Change::Flush => Operation::Flush,
            Change::SetTimeouts(_) => Operation::SetTimeouts,
            Change::StartDaemon(_) => Operation::StartDaemon,
            Change::StopDaemon { .. } => Operation::StopDaemon,
        }
    }

    /// The request, written as ipvsadm writes it.
    pub fn request(&self) -> Request<'_> {
        match self {
            Change::AddService(service) => Request::NewService(service),
            Change::UpdateService(service) => Request::SetService(service),
            Change::DeleteService(key) => Request::DelService(key),
            Change::AddDestination {
                service,
                destination,
            } => Request::NewDest(service, destination),
            Change::UpdateDestination {
                service,
                destination,
            } => Request::SetDest(service, destination),
            Change::DeleteDestination {
                service,
                address,
                port,
            } => Request::DelDest(service, *address, *port),
            Change::Zero(service) => Request::Zero(service.as_ref()),
            Change::Flush => Request::Flush,
            Change::SetTimeouts(timeouts) => Request::SetTimeouts(timeouts),
            Change::StartDaemon(daemon) => Request::NewDaemon(daemon),
            Change::StopDaemon { state, sync_id } => Request::DelDaemon(*state, *sync_id),
        }
    }

    /// The request as a typed message.
    pub fn to_message(&self) -> IpvsMessage {
        self.request().to_message()
    }
}
