//! The request of every IPVS command, written attribute for attribute as ipvsadm 1.31's
//! libipvs writes it, so that our requests and the reference's are byte-identical.

use std::net::{IpAddr, Ipv4Addr};

use super::attribute::{
    IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE, IPVS_CMD_ATTR_TIMEOUT_TCP,
    IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, IPVS_CMD_ATTR_TIMEOUT_UDP, append_all, write_daemon,
    write_destination, write_service, write_service_key,
};
use super::write::AttributeWriter;
use super::{Command, IpvsMessage, encode_message};
use crate::model::{
    AddressFamily, DaemonState, Destination, Netmask, Service, ServiceFlags, ServiceKey,
    SyncDaemon, Timeouts,
};

/// One request to the IPVS family, borrowing what it carries.
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    /// `IPVS_CMD_NEW_SERVICE`: add a service.
    NewService(&'a Service),
    /// `IPVS_CMD_SET_SERVICE`: replace the settings of a service (every flag is replaced).
    SetService(&'a Service),
    /// `IPVS_CMD_DEL_SERVICE`: delete a service and its destinations.
    DelService(&'a ServiceKey),
    /// `IPVS_CMD_GET_SERVICE` without `NLM_F_DUMP`: get one service.
    GetService(&'a ServiceKey),
    /// `IPVS_CMD_GET_SERVICE` for an `NLM_F_DUMP` of every service.
    GetServices,
    /// `IPVS_CMD_NEW_DEST`: add a destination to a service.
    NewDest(&'a ServiceKey, &'a Destination),
    /// `IPVS_CMD_SET_DEST`: replace the settings of a destination.
    SetDest(&'a ServiceKey, &'a Destination),
    /// `IPVS_CMD_DEL_DEST`: delete the destination at an address and port; like ipvsadm, the
    /// other attributes carry their defaults.
    DelDest(&'a ServiceKey, IpAddr, u16),
    /// `IPVS_CMD_GET_DEST` for an `NLM_F_DUMP` of a service's destinations; the service is
    /// named by its key alone.
    GetDests(&'a ServiceKey),
    /// `IPVS_CMD_NEW_DAEMON`: start a sync daemon.
    NewDaemon(&'a SyncDaemon),
    /// `IPVS_CMD_DEL_DAEMON`: stop the daemon in a state. libipvs also sends an empty
    /// interface and the sync id, which the kernel ignores.
    DelDaemon(DaemonState, u32),
    /// `IPVS_CMD_GET_DAEMON` for an `NLM_F_DUMP` of the running daemons.
    GetDaemons,
    /// `IPVS_CMD_SET_CONFIG`: set the timeouts (0 leaves one unchanged).
    SetTimeouts(&'a Timeouts),
    /// `IPVS_CMD_GET_CONFIG`: get the timeouts.
    GetTimeouts,
    /// `IPVS_CMD_GET_INFO`: get the version and connection table size.
    GetInfo,
    /// `IPVS_CMD_ZERO`: zero the counters of one service, or of everything with `None`.
    Zero(Option<&'a ServiceKey>),
    /// `IPVS_CMD_FLUSH`: delete every service and destination.
    Flush,
    /// Any message, written as its typed attributes say.
    Message(&'a IpvsMessage),
}

impl Request<'_> {
    /// The command.
    pub fn command(&self) -> Command {
        match self {
            Request::NewService(_) => Command::NewService,
            Request::SetService(_) => Command::SetService,
            Request::DelService(_) => Command::DelService,
            Request::GetService(_) | Request::GetServices => Command::GetService,
            Request::NewDest(..) => Command::NewDest,
            Request::SetDest(..) => Command::SetDest,
            Request::DelDest(..) => Command::DelDest,
            Request::GetDests(_) => Command::GetDest,
            Request::NewDaemon(_) => Command::NewDaemon,
            Request::DelDaemon(..) => Command::DelDaemon,
            Request::GetDaemons => Command::GetDaemon,
            Request::SetTimeouts(_) => Command::SetConfig,
            Request::GetTimeouts => Command::GetConfig,
            Request::GetInfo => Command::GetInfo,
            Request::Zero(_) => Command::Zero,
            Request::Flush => Command::Flush,
            Request::Message(message) => message.command,
        }
    }

    /// Appends the request as one netlink message of the IPVS family `family_id`, from the
    /// socket of `port_id`.
    pub fn encode(
        &self,
        family_id: u16,
        flags: u16,
        sequence: u32,
        port_id: u32,
        bytes: &mut Vec<u8>,
    ) {
        encode_message(
            self.command(),
            family_id,
            flags,
            sequence,
            port_id,
            bytes,
            |bytes| self.write_attributes(bytes),
        );
    }

    /// The request as a typed message, read back from what [`Request::encode`] writes.
    pub fn to_message(&self) -> IpvsMessage {
        if let Request::Message(message) = self {
            return (*message).clone();
        }
        let mut bytes = Vec::new();
        self.write_attributes(&mut bytes);
        let message = IpvsMessage::parse_attributes(self.command(), &bytes);
        // The writer writes only attributes the parser reads back (tests check every request).
        debug_assert!(message.is_ok(), "written attributes read back");
        message.unwrap_or_else(|_| IpvsMessage::new(self.command(), Vec::new()))
    }

    fn write_attributes(&self, bytes: &mut Vec<u8>) {
        let mut writer = AttributeWriter::new(bytes);
        let writer = &mut writer;
        match self {
            Request::NewService(service) | Request::SetService(service) => {
                writer.nest(IPVS_CMD_ATTR_SERVICE, |w| write_service(w, service))
            }
            Request::DelService(key) => write_service_reference(writer, key),
            Request::GetService(key) => writer.nest(IPVS_CMD_ATTR_SERVICE, |w| {
                write_service(w, &service_query(key))
            }),
            Request::NewDest(service, destination) | Request::SetDest(service, destination) => {
                write_service_reference(writer, service);
                writer.nest(IPVS_CMD_ATTR_DEST, |w| write_destination(w, destination));
            }
            Request::DelDest(service, address, port) => {
                write_service_reference(writer, service);
                let destination = Destination::new(*address, *port);
                writer.nest(IPVS_CMD_ATTR_DEST, |w| write_destination(w, &destination));
            }
            Request::GetDests(service) => {
                writer.nest(IPVS_CMD_ATTR_SERVICE, |w| write_service_key(w, service))
            }
            Request::NewDaemon(daemon) => {
                writer.nest(IPVS_CMD_ATTR_DAEMON, |w| write_daemon(w, daemon))
            }
            Request::DelDaemon(state, sync_id) => {
                let daemon = SyncDaemon {
                    sync_id: *sync_id,
                    ..SyncDaemon::new(*state, "")
                };
                writer.nest(IPVS_CMD_ATTR_DAEMON, |w| write_daemon(w, &daemon));
            }
            Request::SetTimeouts(timeouts) => {
                writer.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, timeouts.tcp);
                writer.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, timeouts.tcp_fin);
                writer.u32(IPVS_CMD_ATTR_TIMEOUT_UDP, timeouts.udp);
            }
            Request::Zero(Some(key)) => write_service_reference(writer, key),
            Request::Message(message) => append_all(&message.attributes, bytes),
            Request::GetServices
            | Request::GetDaemons
            | Request::GetTimeouts
            | Request::GetInfo
            | Request::Zero(None)
            | Request::Flush => {}
        }
    }
}

/// How libipvs names an existing service outside of add and edit: every attribute, with an
/// empty scheduler, no flags, no timeout and the full netmask.
fn write_service_reference(writer: &mut AttributeWriter<'_>, key: &ServiceKey) {
    let service = unset_service(key, Netmask::full(key.family()));
    writer.nest(IPVS_CMD_ATTR_SERVICE, |w| write_service(w, &service));
}

/// How `ipvs_get_service` names the service it looks up: it starts from a zeroed entry, so
/// unlike elsewhere the netmask is 0.
fn service_query(key: &ServiceKey) -> Service {
    let netmask = match key.family() {
        AddressFamily::Ipv4 => Netmask::Ipv4(Ipv4Addr::UNSPECIFIED),
        AddressFamily::Ipv6 => Netmask::Ipv6Prefix(0),
    };
    unset_service(key, netmask)
}

/// A service with nothing set but its key and `netmask` (built whole: `Service::new` would
/// allocate a scheduler name for every request only to drop it).
fn unset_service(key: &ServiceKey, netmask: Netmask) -> Service {
    Service {
        key: *key,
        scheduler: String::new(),
        persistence_engine: None,
        flags: ServiceFlags::EMPTY,
        timeout: 0,
        netmask,
        stats: None,
        stats64: None,
    }
}
