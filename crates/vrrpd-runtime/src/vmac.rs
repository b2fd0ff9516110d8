//! `use_vmac`, as keepalived 2.2.7 sets it up (`vrrp_vmac.c`, `vrrp_if_config.c`): a private-mode macvlan
//! `vrrp.<VRID>` (or the name given, or `vmac_prefix`) on the instance's interface with the virtual router's
//! MAC 00:00:5e:00:01:<VRID> (00:00:5e:00:02:<VRID> for IPv6, whose VMAC gets no link-local address of its
//! own but the base interface's, or one made from the base's MAC), carrying the VIPs and sending the adverts, so that the MAC the LAN learnt for
//! the VIPs moves with mastership. Kernel parameters: on the VMAC `arp_ignore` 1, `accept_local` 1,
//! `rp_filter` 0, `promote_secondaries` 1 and IPv6 off (unless IPv6 excluded addresses need it); on the base
//! interface `arp_ignore` 1 and `arp_filter` 1, restored when its last VMAC goes; `all.rp_filter` is
//! cleared (after raising `default` and every interface to it, so that nothing else changes), restored at
//! the end.

use std::io;

use keepalived_config::model::vrrp::Vmac;

/// The VMAC interface's name: the one configured, else `<vmac_prefix or vrrp>.<VRID>`.
pub fn name(vmac: &Vmac, prefix: Option<&str>, vrid: u8) -> String {
    vmac.name
        .clone()
        .unwrap_or_else(|| format!("{}.{vrid}", prefix.unwrap_or("vrrp")))
}

/// The virtual router's MAC (RFC 5798 7.3): 00:00:5e:00:01:VRID, 00:00:5e:00:02:VRID for IPv6.
pub fn mac(vmac: &Vmac, ipv6: bool, vrid: u8) -> [u8; 6] {
    vmac.mac
        .unwrap_or([0x00, 0x00, 0x5e, 0x00, if ipv6 { 0x02 } else { 0x01 }, vrid])
}

/// The link-local address keepalived makes from a MAC when the base interface has none (EUI-64).
pub fn link_local_from_mac(mac: [u8; 6]) -> std::net::Ipv6Addr {
    std::net::Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        mac[0] ^ 0x02,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ])
}

fn path(family: &str, interface: &str, parameter: &str) -> String {
    format!("/proc/sys/net/{family}/conf/{interface}/{parameter}")
}

/// An IPv4 (`family` "ipv4") or IPv6 ("ipv6") interface parameter.
pub fn read_sysctl(family: &str, interface: &str, parameter: &str) -> Option<u32> {
    std::fs::read_to_string(path(family, interface, parameter))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub fn write_sysctl(family: &str, interface: &str, parameter: &str, value: u32) -> io::Result<()> {
    std::fs::write(path(family, interface, parameter), format!("{value}\n"))
}

/// What clearing `all.rp_filter` changed, to be put back.
#[derive(Debug, Default)]
pub struct RpFilterChange {
    all: u32,
    default: Option<u32>,
    interfaces: Vec<(String, u32)>,
}

/// VMACs need `rp_filter` 0, which takes effect only with `all.rp_filter` 0: raise `default` and each
/// interface to the old `all` value, then clear `all` (keepalived's `clear_rp_filter`). `None` when there
/// was nothing to do.
pub fn clear_rp_filter() -> Option<RpFilterChange> {
    let all = read_sysctl("ipv4", "all", "rp_filter")?;
    if all == 0 {
        return None;
    }
    let mut change = RpFilterChange {
        all,
        ..RpFilterChange::default()
    };
    if let Some(default) = read_sysctl("ipv4", "default", "rp_filter").filter(|v| *v < all) {
        log::info!(
            "NOTICE: setting sysctl net.ipv4.conf.default.rp_filter from {default} to {all}"
        );
        if write_sysctl("ipv4", "default", "rp_filter", all).is_ok() {
            change.default = Some(default);
        }
    }
    if let Ok(entries) = std::fs::read_dir("/proc/sys/net/ipv4/conf") {
        for entry in entries.filter_map(Result::ok) {
            let Ok(interface) = entry.file_name().into_string() else {
                continue;
            };
            if interface == "all" || interface == "default" {
                continue;
            }
            if let Some(value) = read_sysctl("ipv4", &interface, "rp_filter").filter(|v| *v < all) {
                if write_sysctl("ipv4", &interface, "rp_filter", all).is_ok() {
                    change.interfaces.push((interface, value));
                }
            }
        }
    }
    log::info!("NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from {all} to 0");
    let _ = write_sysctl("ipv4", "all", "rp_filter", 0);
    Some(change)
}

/// Puts back what [`clear_rp_filter`] changed, where nobody changed it since.
pub fn restore_rp_filter(change: &RpFilterChange) {
    if read_sysctl("ipv4", "all", "rp_filter") == Some(0) {
        log::info!(
            "NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to {}",
            change.all
        );
        let _ = write_sysctl("ipv4", "all", "rp_filter", change.all);
    }
    if let Some(default) = change.default {
        if read_sysctl("ipv4", "default", "rp_filter") == Some(change.all) {
            let _ = write_sysctl("ipv4", "default", "rp_filter", default);
        }
    }
    for (interface, value) in &change.interfaces {
        if read_sysctl("ipv4", interface, "rp_filter") == Some(change.all) {
            let _ = write_sysctl("ipv4", interface, "rp_filter", *value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmac() -> Vmac {
        Vmac {
            name: None,
            mac: None,
            xmit_base: false,
            use_vmac_addr: false,
        }
    }

    #[test]
    fn names_and_addresses() {
        assert_eq!(name(&vmac(), None, 51), "vrrp.51");
        assert_eq!(name(&vmac(), Some("vr"), 7), "vr.7");
        let named = Vmac {
            name: Some("vm1".into()),
            ..vmac()
        };
        assert_eq!(name(&named, Some("vr"), 7), "vm1");
        assert_eq!(mac(&vmac(), false, 51), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(mac(&vmac(), true, 51), [0, 0, 0x5e, 0, 2, 51]);
        assert_eq!(
            link_local_from_mac([2, 0, 0, 0, 0, 1]).to_string(),
            "fe80::ff:fe00:1"
        );
    }
}
