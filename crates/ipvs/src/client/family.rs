//! Finding the IPVS generic-netlink family, loading `ip_vs` the way ipvsadm does when the
//! kernel does not know it yet.

use std::process::Command;

use netlink_packet_core::{DecodeError, Emitable, NlasIterator, Parseable};
use netlink_packet_generic::GenlHeader;
use netlink_packet_generic::constants::{CTRL_ATTR_FAMILY_ID, CTRL_CMD_GETFAMILY, GENL_ID_CTRL};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::{GenlFamily, GenlMessage};

use super::Client;
use crate::error::{Error, ModuleLoad, Operation, Result};

/// The program and arguments ipvsadm runs to load IPVS.
const MODPROBE: &str = "/sbin/modprobe";
const MODPROBE_ARGUMENTS: [&str; 2] = ["--", "ip_vs"];

/// `CTRL_CMD_GETFAMILY` for one family by name, with the genl version libnl uses (1).
#[derive(Debug)]
pub(crate) struct FamilyQuery {
    attributes: [GenlCtrlAttrs; 1],
}

impl FamilyQuery {
    pub(crate) fn new(name: &str) -> Self {
        FamilyQuery {
            attributes: [GenlCtrlAttrs::FamilyName(name.to_owned())],
        }
    }
}

impl GenlFamily for FamilyQuery {
    fn family_name() -> &'static str {
        "nlctrl"
    }

    fn family_id(&self) -> u16 {
        GENL_ID_CTRL
    }

    fn command(&self) -> u8 {
        CTRL_CMD_GETFAMILY
    }

    fn version(&self) -> u8 {
        1
    }
}

impl Emitable for FamilyQuery {
    fn buffer_len(&self) -> usize {
        self.attributes.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attributes.as_slice().emit(buffer)
    }
}

/// The family id in a `CTRL_CMD_NEWFAMILY` reply (genl header and attributes). Other
/// attributes are skipped unparsed, so that what newer kernels add cannot get in the way.
pub(crate) fn family_id(payload: &[u8]) -> Result<u16, DecodeError> {
    GenlHeader::parse(payload)?;
    let attributes = payload.get(4..).unwrap_or_default();
    for attribute in NlasIterator::new(attributes) {
        let attribute = attribute?;
        if attribute.kind() == CTRL_ATTR_FAMILY_ID {
            if let GenlCtrlAttrs::FamilyId(id) = GenlCtrlAttrs::parse(&attribute)? {
                return Ok(id);
            }
        }
    }
    Err(DecodeError::from(
        "family reply without CTRL_ATTR_FAMILY_ID",
    ))
}

impl Client {
    /// Resolves `name`, or reports [`Error::FamilyNotFound`] when the kernel does not know it.
    pub(crate) fn lookup_family(&mut self, name: &str) -> Result<u16> {
        let mut message = GenlMessage::from_payload(FamilyQuery::new(name));
        message.finalize();
        let replies = match self.exchange(Operation::ResolveFamily, message) {
            Err(Error::Kernel(error)) if error.errno == libc::ENOENT => {
                return Err(Error::FamilyNotFound { module_load: None });
            }
            other => other?,
        };
        let payload = replies.first().ok_or_else(|| Error::Decode {
            operation: Operation::ResolveFamily,
            source: DecodeError::from("no reply to the family query"),
        })?;
        family_id(payload).map_err(|source| Error::Decode {
            operation: Operation::ResolveFamily,
            source,
        })
    }

    /// Resolves `name`; if the kernel does not know it and `load_module` is set, runs
    /// `/sbin/modprobe -- ip_vs` and tries once more, as ipvsadm does.
    pub(crate) fn resolve_family(&mut self, name: &str, load_module: bool) -> Result<u16> {
        match self.lookup_family(name) {
            Err(Error::FamilyNotFound { .. }) if load_module => {
                let module_load = load_ip_vs();
                self.lookup_family(name).map_err(|error| match error {
                    Error::FamilyNotFound { .. } => Error::FamilyNotFound {
                        module_load: Some(module_load),
                    },
                    other => other,
                })
            }
            other => other,
        }
    }
}

/// Runs modprobe like ipvsadm: a child process whose output goes where ours goes.
fn load_ip_vs() -> ModuleLoad {
    match Command::new(MODPROBE).args(MODPROBE_ARGUMENTS).status() {
        Ok(status) => ModuleLoad::Exited(status),
        Err(error) => ModuleLoad::NotStarted(error),
    }
}
