//! The kernel's replies turned into [`crate::model`] types.

use netlink_packet_core::{DecodeError, ErrorContext};

use super::attribute::{
    daemon_from_attributes, destination_from_attributes, info_from_attributes,
    service_from_attributes,
};
use super::{CommandAttribute, IpvsMessage};
use crate::model::{AddressFamily, Destination, Info, Service, SyncDaemon, Timeouts};

impl IpvsMessage {
    /// The service of a `GET_SERVICE` reply or dump entry.
    pub fn to_service(&self) -> Result<Service, DecodeError> {
        self.attributes
            .iter()
            .find_map(|attribute| match attribute {
                CommandAttribute::Service(nest) => Some(service_from_attributes(nest)),
                _ => None,
            })
            .unwrap_or_else(|| Err(DecodeError::from("no IPVS_CMD_ATTR_SERVICE")))
            .context("in a service reply")
    }

    /// The destination of a `GET_DEST` dump entry; `service_family` is the family to assume
    /// when the kernel does not name the destination's.
    pub fn to_destination(
        &self,
        service_family: AddressFamily,
    ) -> Result<Destination, DecodeError> {
        self.attributes
            .iter()
            .find_map(|attribute| match attribute {
                CommandAttribute::Destination(nest) => {
                    Some(destination_from_attributes(nest, service_family))
                }
                _ => None,
            })
            .unwrap_or_else(|| Err(DecodeError::from("no IPVS_CMD_ATTR_DEST")))
            .context("in a destination reply")
    }

    /// The daemon of a `GET_DAEMON` dump entry.
    pub fn to_daemon(&self) -> Result<SyncDaemon, DecodeError> {
        self.attributes
            .iter()
            .find_map(|attribute| match attribute {
                CommandAttribute::Daemon(nest) => Some(daemon_from_attributes(nest)),
                _ => None,
            })
            .unwrap_or_else(|| Err(DecodeError::from("no IPVS_CMD_ATTR_DAEMON")))
            .context("in a sync daemon reply")
    }

    /// The timeouts of a `GET_CONFIG` reply; a missing one reads as 0.
    pub fn to_timeouts(&self) -> Timeouts {
        let mut timeouts = Timeouts::default();
        for attribute in &self.attributes {
            match attribute {
                CommandAttribute::TimeoutTcp(seconds) => timeouts.tcp = *seconds,
                CommandAttribute::TimeoutTcpFin(seconds) => timeouts.tcp_fin = *seconds,
                CommandAttribute::TimeoutUdp(seconds) => timeouts.udp = *seconds,
                _ => {}
            }
        }
        timeouts
    }

    /// The information of a `GET_INFO` reply.
    pub fn to_info(&self) -> Result<Info, DecodeError> {
        info_from_attributes(
            self.attributes
                .iter()
                .filter_map(|attribute| match attribute {
                    CommandAttribute::Info(info) => Some(info),
                    _ => None,
                }),
        )
    }
}
