//! glibc's address and name services, as ipvsadm calls them.
//!
//! ipvsadm accepts and prints addresses through `inet_aton`, `inet_pton`, `inet_ntop`,
//! `gethostbyname`, `gethostbyaddr`, `getservbyname` and `getservbyport`. Their quirks are part of
//! its behaviour (`10.1` is 10.0.0.1, `0x0a000001` and octal parts are accepted, IPv4-compatible
//! IPv6 addresses print as `::1.2.3.4`, names come from `/etc/hosts` and the NSS configuration),
//! so the same functions are called here rather than imitated.

use std::cell::Cell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

// The non-reentrant name functions share static buffers inside glibc.
static NSS_LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    /// Off while fuzzing: random words must not become DNS queries.
    static HOST_LOOKUPS: Cell<bool> = const { Cell::new(true) };
}

/// Makes every host-name lookup of this thread fail, as for a name no one knows.
pub fn disable_host_lookups() {
    HOST_LOOKUPS.with(|enabled| enabled.set(false));
}

fn host_lookups_enabled() -> bool {
    HOST_LOOKUPS.with(Cell::get)
}

unsafe extern "C" {
    fn inet_aton(cp: *const c_char, inp: *mut libc::in_addr) -> c_int;
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    fn inet_ntop(
        af: c_int,
        src: *const c_void,
        dst: *mut c_char,
        size: libc::socklen_t,
    ) -> *const c_char;
    fn gethostbyname(name: *const c_char) -> *mut libc::hostent;
    fn gethostbyaddr(addr: *const c_void, len: libc::socklen_t, af: c_int) -> *mut libc::hostent;
}

/// `inet_aton`: the classic IPv4 parser (`a`, `a.b`, `a.b.c`, `a.b.c.d`; decimal, octal or hex
/// parts; anything after a blank is ignored).
pub fn ipv4_from_aton(text: &str) -> Option<Ipv4Addr> {
    let text = CString::new(text).ok()?;
    let mut addr = libc::in_addr { s_addr: 0 };
    // SAFETY: `text` is NUL-terminated and `addr` is a valid out-pointer.
    let ok = unsafe { inet_aton(text.as_ptr(), &mut addr) };
    (ok != 0).then(|| Ipv4Addr::from(u32::from_be(addr.s_addr)))
}

/// `inet_pton(AF_INET6, ...)`.
pub fn ipv6_from_text(text: &str) -> Option<Ipv6Addr> {
    let text = CString::new(text).ok()?;
    let mut addr = [0u8; 16];
    // SAFETY: `text` is NUL-terminated and `addr` has room for an in6_addr.
    let ok = unsafe { inet_pton(libc::AF_INET6, text.as_ptr(), addr.as_mut_ptr().cast()) };
    (ok > 0).then(|| Ipv6Addr::from(addr))
}

/// `inet_pton(AF_INET, ...)`: strict dotted quad.
pub fn ipv4_from_text(text: &str) -> Option<Ipv4Addr> {
    let text = CString::new(text).ok()?;
    let mut addr = [0u8; 4];
    // SAFETY: `text` is NUL-terminated and `addr` has room for an in_addr.
    let ok = unsafe { inet_pton(libc::AF_INET, text.as_ptr(), addr.as_mut_ptr().cast()) };
    (ok > 0).then(|| Ipv4Addr::from(addr))
}

/// `inet_ntop`: the text glibc gives an address.
pub fn address_text(address: IpAddr) -> String {
    let mut buffer = [0 as c_char; 64];
    let (af, bytes): (c_int, Vec<u8>) = match address {
        IpAddr::V4(v4) => (libc::AF_INET, v4.octets().to_vec()),
        IpAddr::V6(v6) => (libc::AF_INET6, v6.octets().to_vec()),
    };
    // SAFETY: `bytes` holds an address of family `af`; `buffer` is large enough for any text.
    let text = unsafe {
        inet_ntop(
            af,
            bytes.as_ptr().cast(),
            buffer.as_mut_ptr(),
            buffer.len() as libc::socklen_t,
        )
    };
    if text.is_null() {
        return address.to_string();
    }
    // SAFETY: inet_ntop wrote a NUL-terminated string into `buffer`.
    unsafe { CStr::from_ptr(buffer.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// `gethostbyname`, keeping only an IPv4 first address (ipvsadm's `host_to_addr`).
pub fn ipv4_from_host_name(name: &str) -> Option<Ipv4Addr> {
    if !host_lookups_enabled() {
        return None;
    }
    let name = CString::new(name).ok()?;
    let _guard = NSS_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // SAFETY: `name` is NUL-terminated; the result points into glibc's static storage, read
    // while the lock is held.
    unsafe {
        let host = gethostbyname(name.as_ptr());
        if host.is_null() || (*host).h_addrtype != libc::AF_INET || (*host).h_length != 4 {
            return None;
        }
        let first = *(*host).h_addr_list;
        if first.is_null() {
            return None;
        }
        let mut octets = [0u8; 4];
        std::ptr::copy_nonoverlapping(first.cast::<u8>(), octets.as_mut_ptr(), 4);
        Some(Ipv4Addr::from(octets))
    }
}

/// `gethostbyaddr`: the host's official name, if the name services know the address.
pub fn host_name_of(address: IpAddr) -> Option<String> {
    if !host_lookups_enabled() {
        return None;
    }
    let (af, bytes): (c_int, Vec<u8>) = match address {
        IpAddr::V4(v4) => (libc::AF_INET, v4.octets().to_vec()),
        IpAddr::V6(v6) => (libc::AF_INET6, v6.octets().to_vec()),
    };
    let _guard = NSS_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // SAFETY: `bytes` is an address of family `af`; the result is read while the lock is held.
    unsafe {
        let host = gethostbyaddr(bytes.as_ptr().cast(), bytes.len() as libc::socklen_t, af);
        if host.is_null() || (*host).h_name.is_null() {
            return None;
        }
        Some(
            CStr::from_ptr((*host).h_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// `getservbyname(name, protocol)`: the port (host order) of a service name.
pub fn port_of_service(name: &str, protocol: &str) -> Option<u16> {
    let name = CString::new(name).ok()?;
    let protocol = CString::new(protocol).ok()?;
    let _guard = NSS_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // SAFETY: both strings are NUL-terminated; the result is read while the lock is held.
    unsafe {
        let service = libc::getservbyname(name.as_ptr(), protocol.as_ptr());
        if service.is_null() {
            return None;
        }
        Some(u16::from_be((*service).s_port as u16))
    }
}

/// `getservbyport(port, protocol)`: the name of a port (host order).
pub fn service_of_port(port: u16, protocol: &str) -> Option<String> {
    let protocol = CString::new(protocol).ok()?;
    let _guard = NSS_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // SAFETY: the protocol is NUL-terminated; the result is read while the lock is held.
    unsafe {
        let service = libc::getservbyport(c_int::from(port.to_be()), protocol.as_ptr());
        if service.is_null() || (*service).s_name.is_null() {
            return None;
        }
        Some(
            CStr::from_ptr((*service).s_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aton_accepts_the_classic_forms() {
        assert_eq!(ipv4_from_aton("10.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(ipv4_from_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            ipv4_from_aton("0x0a000002"),
            Some(Ipv4Addr::new(10, 0, 0, 2))
        );
        assert_eq!(
            ipv4_from_aton("012.0.0.3"),
            Some(Ipv4Addr::new(10, 0, 0, 3))
        );
        assert_eq!(
            ipv4_from_aton("10.0.0.4 junk"),
            Some(Ipv4Addr::new(10, 0, 0, 4))
        );
        assert_eq!(ipv4_from_aton("10.0.0.256"), None);
        assert_eq!(ipv4_from_aton("a.b.c.d"), None);
    }

    #[test]
    fn ntop_prints_ipv4_compatible_addresses_dotted() {
        let compatible: Ipv6Addr = "::1.2.3.4".parse().unwrap();
        assert_eq!(address_text(IpAddr::V6(compatible)), "::1.2.3.4");
        assert_eq!(address_text(IpAddr::V6(Ipv6Addr::LOCALHOST)), "::1");
        assert_eq!(address_text("2001:db8::1".parse().unwrap()), "2001:db8::1");
    }

    #[test]
    fn pton_rejects_zone_ids() {
        assert!(ipv6_from_text("fe80::1%eth0").is_none());
        assert_eq!(
            ipv6_from_text("2001:db8::1:80"),
            "2001:db8::1:80".parse().ok()
        );
    }
}
