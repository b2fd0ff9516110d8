//! ipvsadm's words for kernel errors (libipvs's `ipvs_strerror`): the same errno reads
//! differently depending on the operation, e.g. `EEXIST` is "Service already exists" when
//! adding a service and "Destination already exists" when adding a destination.

use std::borrow::Cow;
use std::ffi::CStr;

use libc::{
    EAFNOSUPPORT, EEXIST, EINVAL, EMSGSIZE, ENOENT, ENOMEM, ENOPROTOOPT, EOPNOTSUPP, EPERM, ESRCH,
};

use super::Operation;

/// Messages that belong to one operation, checked first, in libipvs's order.
const BY_OPERATION: &[(Operation, i32, &str)] = &[
    (Operation::AddService, EEXIST, "Service already exists"),
    (
        Operation::AddService,
        ENOENT,
        "Scheduler or persistence engine not found",
    ),
    (
        Operation::UpdateService,
        ENOENT,
        "Scheduler or persistence engine not found",
    ),
    (Operation::UpdateService, ESRCH, "No such service"),
    (Operation::DeleteService, ESRCH, "No such service"),
    (Operation::Zero, ESRCH, "No such service"),
    (Operation::AddDestination, ESRCH, "Service not defined"),
    (
        Operation::AddDestination,
        EEXIST,
        "Destination already exists",
    ),
    (Operation::UpdateDestination, ESRCH, "Service not defined"),
    (Operation::UpdateDestination, ENOENT, "No such destination"),
    (Operation::DeleteDestination, ESRCH, "Service not defined"),
    (Operation::DeleteDestination, ENOENT, "No such destination"),
    (Operation::StartDaemon, EEXIST, "Daemon has already run"),
    (Operation::StopDaemon, ESRCH, "No daemon is running"),
    (Operation::GetServices, ESRCH, "No such service"),
    (Operation::GetDestinations, ESRCH, "No such service"),
    (Operation::GetService, ESRCH, "No such service"),
];

/// Messages for any operation.
const ANY_OPERATION: &[(i32, &str)] = &[
    (EPERM, "Permission denied (you must be root)"),
    (
        EINVAL,
        "Invalid operation.  Possibly wrong module version, address not unicast, ...",
    ),
    (ENOPROTOOPT, "Protocol not available"),
    (ENOMEM, "Memory allocation problem"),
    (EOPNOTSUPP, "Operation not supported with IPv6"),
    (
        EAFNOSUPPORT,
        "Operation not supported with specified address family",
    ),
    (EMSGSIZE, "Module is wrong version"),
];

/// The message ipvsadm 1.31 prints when `operation` fails with `errno` (a positive errno
/// number): libipvs's own wording where it has one, the C library's `strerror` otherwise.
///
/// ```
/// use ipvs::{Operation, ipvsadm_message};
///
/// assert_eq!(ipvsadm_message(Operation::AddService, libc::EEXIST), "Service already exists");
/// assert_eq!(ipvsadm_message(Operation::AddDestination, libc::EEXIST), "Destination already exists");
/// assert_eq!(ipvsadm_message(Operation::AddDestination, libc::ERANGE), "Numerical result out of range");
/// ```
pub fn ipvsadm_message(operation: Operation, errno: i32) -> Cow<'static, str> {
    let specific = BY_OPERATION
        .iter()
        .find(|(op, code, _)| *op == operation && *code == errno)
        .map(|(_, _, message)| *message);
    let generic = || {
        ANY_OPERATION
            .iter()
            .find(|(code, _)| *code == errno)
            .map(|(_, message)| *message)
    };
    match specific.or_else(generic) {
        Some(message) => Cow::Borrowed(message),
        None => Cow::Owned(strerror(errno)),
    }
}

/// The C library's text for an errno, as `strerror(3)` gives it.
fn strerror(errno: i32) -> String {
    let mut buffer = [0 as libc::c_char; 256];
    // SAFETY: the buffer is writable for its whole length, and the XSI strerror_r writes at most
    // that many bytes including the terminating NUL.
    unsafe { libc::strerror_r(errno, buffer.as_mut_ptr(), buffer.len()) };
    let bytes: Vec<u8> = buffer.iter().map(|&c| c as u8).collect();
    match CStr::from_bytes_until_nul(&bytes) {
        Ok(text) if !text.is_empty() => text.to_string_lossy().into_owned(),
        _ => format!("Unknown error {errno}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_errno_reads_per_operation() {
        assert_eq!(
            ipvsadm_message(Operation::AddService, EEXIST),
            "Service already exists"
        );
        assert_eq!(
            ipvsadm_message(Operation::AddDestination, EEXIST),
            "Destination already exists"
        );
        assert_eq!(
            ipvsadm_message(Operation::StartDaemon, EEXIST),
            "Daemon has already run"
        );
        assert_eq!(
            ipvsadm_message(Operation::DeleteService, ESRCH),
            "No such service"
        );
        assert_eq!(
            ipvsadm_message(Operation::DeleteDestination, ESRCH),
            "Service not defined"
        );
        assert_eq!(
            ipvsadm_message(Operation::StopDaemon, ESRCH),
            "No daemon is running"
        );
        assert_eq!(
            ipvsadm_message(Operation::UpdateService, ENOENT),
            "Scheduler or persistence engine not found"
        );
        assert_eq!(
            ipvsadm_message(Operation::UpdateDestination, ENOENT),
            "No such destination"
        );
    }

    #[test]
    fn other_operations_fall_back_to_the_generic_words() {
        // EEXIST has no generic entry: flushing gets the C library's text.
        assert_eq!(ipvsadm_message(Operation::Flush, EEXIST), "File exists");
        assert_eq!(
            ipvsadm_message(Operation::Flush, EPERM),
            "Permission denied (you must be root)"
        );
        assert_eq!(
            ipvsadm_message(Operation::AddDestination, EINVAL),
            "Invalid operation.  Possibly wrong module version, address not unicast, ..."
        );
        assert_eq!(
            ipvsadm_message(Operation::ResolveFamily, ENOPROTOOPT),
            "Protocol not available"
        );
        assert_eq!(
            ipvsadm_message(Operation::SetTimeouts, EOPNOTSUPP),
            "Operation not supported with IPv6"
        );
    }

    #[test]
    fn the_rest_is_strerror() {
        assert_eq!(
            ipvsadm_message(Operation::AddDestination, libc::ERANGE),
            "Numerical result out of range"
        );
        assert_eq!(
            ipvsadm_message(Operation::StartDaemon, libc::ENODEV),
            "No such device"
        );
        assert_eq!(
            ipvsadm_message(Operation::AddService, 9999),
            "Unknown error 9999"
        );
    }
}
