//! Typed errors: what failed ([`Operation`]), and why — the kernel's errno with its
//! extended-acknowledgement message, a transport failure, or a reply that did not decode.

mod operation;
mod wording;

use std::borrow::Cow;
use std::fmt;
use std::io;

use netlink_packet_core::DecodeError;

pub use operation::Operation;
pub use wording::ipvsadm_message;

/// A request the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// What was refused.
    pub operation: Operation,
    /// The positive errno the kernel answered (`EEXIST`, `ESRCH`, ...).
    pub errno: i32,
    /// The kernel's extended-acknowledgement message (`NLMSGERR_ATTR_MSG`), when it gave one.
    pub message: Option<String>,
    /// The offset in the request of the attribute at fault (`NLMSGERR_ATTR_OFFS`), when given.
    pub offset: Option<u32>,
}

impl KernelError {
    /// ipvsadm's message for this error (see [`ipvsadm_message`]).
    pub fn ipvsadm_message(&self) -> Cow<'static, str> {
        ipvsadm_message(self.operation, self.errno)
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.ipvsadm_message())?;
        if let Some(message) = &self.message {
            write!(f, " (kernel: {message})")?;
        }
        Ok(())
    }
}

impl std::error::Error for KernelError {}

/// Everything that can go wrong talking to IPVS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused a request.
    #[error(transparent)]
    Kernel(#[from] KernelError),

    /// The kernel has no IPVS generic-netlink family, even after trying to load `ip_vs`.
    #[error("the kernel has no IPVS (generic netlink family \"IPVS\" not found{})", module_note(.module_load))]
    FamilyNotFound {
        /// What became of loading the module, if it was tried.
        module_load: Option<ModuleLoad>,
    },

    /// The netlink socket could not be opened or set up.
    #[error("cannot set up the generic netlink socket: {source}")]
    Socket {
        /// The system's error.
        source: io::Error,
    },

    /// Sending a request failed.
    #[error("{operation}: sending to the kernel failed: {source}")]
    Send {
        /// What was being sent.
        operation: Operation,
        /// The system's error.
        source: io::Error,
    },

    /// Receiving the kernel's answer failed.
    #[error("{operation}: receiving from the kernel failed: {source}")]
    Receive {
        /// What was awaited.
        operation: Operation,
        /// The system's error.
        source: io::Error,
    },

    /// The kernel did not answer within the socket timeout.
    #[error("{operation}: no answer from the kernel within {timeout:?}")]
    Timeout {
        /// What was awaited.
        operation: Operation,
        /// The timeout in force.
        timeout: std::time::Duration,
    },

    /// The kernel dropped answers because the socket's receive buffer was full.
    #[error("{operation}: the kernel dropped answers (socket receive buffer overrun)")]
    Overrun {
        /// What was awaited.
        operation: Operation,
    },

    /// An answer was not what the protocol allows.
    #[error("{operation}: malformed answer from the kernel: {source}")]
    Decode {
        /// What was awaited.
        operation: Operation,
        /// What did not decode.
        source: DecodeError,
    },

    /// A dump kept being interrupted by concurrent changes (`NLM_F_DUMP_INTR`).
    #[error("{operation}: the table kept changing during {attempts} attempts to read it")]
    DumpInterrupted {
        /// The dump.
        operation: Operation,
        /// How many times it was tried.
        attempts: u32,
    },
}

/// The outcome of running `/sbin/modprobe -- ip_vs`.
#[derive(Debug)]
pub enum ModuleLoad {
    /// modprobe ran and exited with this status.
    Exited(std::process::ExitStatus),
    /// modprobe could not be started.
    NotStarted(io::Error),
}

fn module_note(module_load: &Option<ModuleLoad>) -> String {
    match module_load {
        None => String::new(),
        Some(ModuleLoad::Exited(status)) => format!("; /sbin/modprobe -- ip_vs: {status}"),
        Some(ModuleLoad::NotStarted(error)) => format!("; cannot run /sbin/modprobe: {error}"),
    }
}

impl Error {
    /// The kernel error, if this is one.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            Error::Kernel(error) => Some(error),
            _ => None,
        }
    }

    /// The errno ipvsadm would be left with: the kernel's for a refused request, `ENOPROTOOPT`
    /// when the kernel has no IPVS, and `EINVAL` for every other failure, as libipvs maps any
    /// libnl failure.
    pub fn ipvsadm_errno(&self) -> i32 {
        match self {
            Error::Kernel(error) => error.errno,
            Error::FamilyNotFound { .. } => libc::ENOPROTOOPT,
            _ => libc::EINVAL,
        }
    }

    /// What was being done; failures while connecting count as [`Operation::ResolveFamily`].
    pub fn operation(&self) -> Operation {
        match self {
            Error::Kernel(error) => error.operation,
            Error::FamilyNotFound { .. } | Error::Socket { .. } => Operation::ResolveFamily,
            Error::Send { operation, .. }
            | Error::Receive { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Overrun { operation }
            | Error::Decode { operation, .. }
            | Error::DumpInterrupted { operation, .. } => *operation,
        }
    }

    /// The message ipvsadm prints for this failure (see [`ipvsadm_message`]).
    pub fn ipvsadm_message(&self) -> Cow<'static, str> {
        ipvsadm_message(self.operation(), self.ipvsadm_errno())
    }
}

/// The result of an IPVS call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
