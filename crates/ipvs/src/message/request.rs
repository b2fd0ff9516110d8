//! The request of every IPVS command, encoded attribute for attribute as ipvsadm 1.31's
//! libipvs encodes it, so that our requests and the reference's are byte-identical.

use super::attribute::{
    daemon_to_attributes, destination_to_attributes, service_key_to_attributes,
    service_to_attributes,
};
use super::{Command, CommandAttribute, IpvsMessage};
use crate::model::{
    AddressFamily, DaemonState, Destination, Netmask, Service, ServiceFlags, ServiceKey,
    SyncDaemon, Timeouts,
};

/// How libipvs names an existing service outside of add and edit: every attribute, with an
/// empty scheduler, no flags, no timeout and the full netmask.
fn service_reference(key: &ServiceKey) -> Service {
    Service {
        key: *key,
        scheduler: String::new(),
        persistence_engine: None,
        flags: ServiceFlags::EMPTY,
        timeout: 0,
        netmask: Netmask::full(key.family()),
        stats: None,
        stats64: None,
    }
}

/// How `ipvs_get_service` names the service it looks up: it starts from a zeroed entry, so
/// unlike elsewhere the netmask is 0.
fn service_query(key: &ServiceKey) -> Service {
    let netmask = match key.family() {
        AddressFamily::Ipv4 => Netmask::Ipv4(std::net::Ipv4Addr::UNSPECIFIED),
        AddressFamily::Ipv6 => Netmask::Ipv6Prefix(0),
    };
    Service {
        netmask,
        ..service_reference(key)
    }
}

fn service_nest(service: &Service) -> CommandAttribute {
    CommandAttribute::Service(service_to_attributes(service))
}

impl IpvsMessage {
    /// `IPVS_CMD_NEW_SERVICE`: add `service`.
    pub fn new_service(service: &Service) -> Self {
        IpvsMessage::new(Command::NewService, vec![service_nest(service)])
    }

    /// `IPVS_CMD_SET_SERVICE`: replace the settings of `service` (every flag is replaced).
    pub fn set_service(service: &Service) -> Self {
        IpvsMessage::new(Command::SetService, vec![service_nest(service)])
    }

    /// `IPVS_CMD_DEL_SERVICE`: delete a service and its destinations.
    pub fn del_service(key: &ServiceKey) -> Self {
        IpvsMessage::new(
            Command::DelService,
            vec![service_nest(&service_reference(key))],
        )
    }

    /// `IPVS_CMD_GET_SERVICE` without `NLM_F_DUMP`: get one service.
    pub fn get_service(key: &ServiceKey) -> Self {
        IpvsMessage::new(Command::GetService, vec![service_nest(&service_query(key))])
    }

    /// `IPVS_CMD_GET_SERVICE` for an `NLM_F_DUMP` of every service.
    pub fn get_services() -> Self {
        IpvsMessage::new(Command::GetService, Vec::new())
    }

    /// `IPVS_CMD_NEW_DEST`: add `destination` to a service.
    pub fn new_dest(service: &ServiceKey, destination: &Destination) -> Self {
        Self::destination_command(Command::NewDest, service, destination)
    }

    /// `IPVS_CMD_SET_DEST`: replace the settings of a destination.
    pub fn set_dest(service: &ServiceKey, destination: &Destination) -> Self {
        Self::destination_command(Command::SetDest, service, destination)
    }

    /// `IPVS_CMD_DEL_DEST`: delete the destination at `destination`'s address and port; like
    /// ipvsadm, the other attributes carry their defaults.
    pub fn del_dest(service: &ServiceKey, destination: &Destination) -> Self {
        Self::destination_command(Command::DelDest, service, destination)
    }

    fn destination_command(
        command: Command,
        service: &ServiceKey,
        destination: &Destination,
    ) -> Self {
        IpvsMessage::new(
            command,
            vec![
                service_nest(&service_reference(service)),
                CommandAttribute::Destination(destination_to_attributes(destination)),
            ],
        )
    }

    /// `IPVS_CMD_GET_DEST` for an `NLM_F_DUMP` of a service's destinations; the service is
    /// named by its key alone.
    pub fn get_dests(service: &ServiceKey) -> Self {
        IpvsMessage::new(
            Command::GetDest,
            vec![CommandAttribute::Service(service_key_to_attributes(
                service,
            ))],
        )
    }

    /// `IPVS_CMD_NEW_DAEMON`: start a sync daemon.
    pub fn new_daemon(daemon: &SyncDaemon) -> Self {
        IpvsMessage::new(
            Command::NewDaemon,
            vec![CommandAttribute::Daemon(daemon_to_attributes(daemon))],
        )
    }

    /// `IPVS_CMD_DEL_DAEMON`: stop the daemon in `state`. libipvs also sends an empty
    /// interface and the sync id, which the kernel ignores.
    pub fn del_daemon(state: DaemonState, sync_id: u32) -> Self {
        let daemon = SyncDaemon {
            sync_id,
            ..SyncDaemon::new(state, "")
        };
        IpvsMessage::new(
            Command::DelDaemon,
            vec![CommandAttribute::Daemon(daemon_to_attributes(&daemon))],
        )
    }

    /// `IPVS_CMD_GET_DAEMON` for an `NLM_F_DUMP` of the running daemons.
    pub fn get_daemons() -> Self {
        IpvsMessage::new(Command::GetDaemon, Vec::new())
    }

    /// `IPVS_CMD_SET_CONFIG`: set the timeouts (0 leaves one unchanged).
    pub fn set_timeouts(timeouts: &Timeouts) -> Self {
        IpvsMessage::new(
            Command::SetConfig,
            vec![
                CommandAttribute::TimeoutTcp(timeouts.tcp),
                CommandAttribute::TimeoutTcpFin(timeouts.tcp_fin),
                CommandAttribute::TimeoutUdp(timeouts.udp),
            ],
        )
    }

    /// `IPVS_CMD_GET_CONFIG`: get the timeouts.
    pub fn get_timeouts() -> Self {
        IpvsMessage::new(Command::GetConfig, Vec::new())
    }

    /// `IPVS_CMD_GET_INFO`: get the version and connection table size.
    pub fn get_info() -> Self {
        IpvsMessage::new(Command::GetInfo, Vec::new())
    }

    /// `IPVS_CMD_ZERO`: zero the counters of one service, or of everything with `None`.
    pub fn zero(service: Option<&ServiceKey>) -> Self {
        let attributes = service
            .map(|key| service_nest(&service_reference(key)))
            .into_iter()
            .collect();
        IpvsMessage::new(Command::Zero, attributes)
    }

    /// `IPVS_CMD_FLUSH`: delete every service and destination.
    pub fn flush() -> Self {
        IpvsMessage::new(Command::Flush, Vec::new())
    }
}
