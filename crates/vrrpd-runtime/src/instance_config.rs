//! From the keepalived.conf model to what the protocol core and the kernel need: `vrrp::Config` for the state
//! machine, and one `AddressSpec` per virtual address once its interface is known.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use keepalived_config::model::net::{Broadcast, PreferredLifetime};
use keepalived_config::model::vrrp::{Authentication as ModelAuthentication, VrrpVersion};
use keepalived_config::model::{AddressFamily, IpAddress, VrrpInstance};
use netlink_packet_route::address::AddressFlags;
use vrrp::wire::{AdvertInterval, Family, Version};
use vrrp::{Authentication, Config, GarpConfig, InitialState, UnicastChecksum, UnicastPeer};

use crate::netlink::AddressSpec;

pub fn family(family: AddressFamily) -> Family {
    match family {
        AddressFamily::Ipv4 => Family::Ipv4,
        AddressFamily::Ipv6 => Family::Ipv6,
    }
}

/// The protocol configuration of an instance, keepalived's defaults and clearing rules already applied by the
/// configuration layer.
pub fn protocol_config(instance: &VrrpInstance) -> Config {
    let family = family(instance.family);
    let mut config = Config::new(instance.name.clone(), family, instance.vrid);
    config.version = match instance.version {
        VrrpVersion::V2 => Version::V2,
        VrrpVersion::V3 => Version::V3,
    };
    config.priority = instance.priority;
    config.advert_interval = advert_interval(instance.advert_interval);
    config.initial_state = match instance.initial_state {
        keepalived_config::model::vrrp::InitialState::Backup => InitialState::Backup,
        keepalived_config::model::vrrp::InitialState::Master => InitialState::Master,
    };
    config.preempt = instance.preempt;
    config.preempt_delay = instance.preempt_delay;
    config.virtual_addresses = instance
        .virtual_addresses
        .iter()
        .map(|vip| vip.prefix.address)
        .collect();
    config.authentication = match &instance.authentication {
        None => Authentication::None,
        Some(ModelAuthentication::Password(password)) => Authentication::Password(*password),
        Some(ModelAuthentication::Ah(password)) => Authentication::Ah(*password),
    };
    config.unicast_peers = instance
        .unicast_peers
        .iter()
        .map(|peer| UnicastPeer {
            address: peer.address,
            min_ttl: peer.min_ttl.unwrap_or(0),
            max_ttl: peer.max_ttl.unwrap_or(255),
        })
        .collect();
    config.unicast_ttl = instance.unicast_ttl;
    config.check_unicast_source = instance.check_unicast_source;
    config.skip_check_advert_addresses = instance.skip_check_adv_addr;
    config.down_timer_adverts =
        u8::try_from(instance.down_timer_adverts.clamp(1, 100)).unwrap_or(3);
    config.garp = garp(instance);
    config.lower_priority_no_advert = instance.lower_prio_no_advert;
    config.higher_priority_send_advert = instance.higher_prio_send_advert;
    config.multicast_group =
        Some(instance.multicast_group).filter(|group| *group != family.vrrp_multicast_group());
    config.source_address = instance.source_address;
    config.in_sync_group = instance.sync_group.is_some();
    config.unicast_checksum = if instance.old_unicast_checksum {
        UnicastChecksum::Legacy
    } else {
        UnicastChecksum::Detect
    };
    config
}

/// Centiseconds, VRRPv3's unit (the configuration layer already rounded VRRPv2 intervals to seconds).
fn advert_interval(interval: Duration) -> AdvertInterval {
    let centiseconds = (interval.as_millis() / 10).clamp(1, u128::from(u16::MAX));
    AdvertInterval::from_centiseconds(u16::try_from(centiseconds).unwrap_or(u16::MAX))
}

fn garp(instance: &VrrpInstance) -> GarpConfig {
    let settings = &instance.garp;
    let some = |duration: Duration| Some(duration).filter(|d| !d.is_zero());
    GarpConfig {
        master_repeat: settings.master_repeat,
        master_delay: some(settings.master_delay),
        master_refresh: some(settings.master_refresh),
        master_refresh_repeat: settings.master_refresh_repeat,
        lower_priority_repeat: settings.lower_prio_repeat,
        lower_priority_delay: some(settings.lower_prio_delay),
    }
}

/// The netlink request for a virtual address on interface `index`, with the options keepalived applies:
/// IPv6 VIPs without duplicate address detection, and an IPv6 /128 deprecated (preferred lifetime 0) unless
/// `preferred_lft` says otherwise, so that it is not chosen as a source address.
pub fn address_spec(address: &IpAddress, index: u32) -> AddressSpec {
    let prefix_len = address.prefix.len;
    let ipv6 = address.prefix.address.is_ipv6();
    let mut flags = AddressFlags::empty();
    if ipv6 {
        flags |= AddressFlags::Nodad;
    }
    if address.home {
        flags |= AddressFlags::Homeaddress;
    }
    if address.manage_temporary_address {
        flags |= AddressFlags::Managetempaddr;
    }
    if address.no_prefix_route {
        flags |= AddressFlags::Noprefixroute;
    }
    if address.autojoin {
        flags |= AddressFlags::Mcautojoin;
    }
    let preferred_lifetime = match address.preferred_lifetime {
        Some(PreferredLifetime::Forever) => None,
        Some(PreferredLifetime::Seconds(seconds)) => Some(seconds),
        None if ipv6 && prefix_len == 128 => Some(0),
        None => None,
    };
    AddressSpec {
        index,
        address: address.prefix.address,
        prefix_len,
        broadcast: broadcast(address),
        scope: address.scope.map_or(0, |scope| scope.value()),
        label: address.label.clone(),
        peer: address.peer,
        flags,
        preferred_lifetime,
    }
}

fn broadcast(address: &IpAddress) -> Option<Ipv4Addr> {
    let IpAddr::V4(ip) = address.prefix.address else {
        return None;
    };
    let mask = u32::MAX
        .checked_shl(32 - u32::from(address.prefix.len.min(32)))
        .unwrap_or(0);
    match address.broadcast? {
        Broadcast::Address(broadcast) => Some(broadcast),
        Broadcast::HostOnes => Some(Ipv4Addr::from(u32::from(ip) | !mask)),
        Broadcast::HostZeros => Some(Ipv4Addr::from(u32::from(ip) & mask)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::model::IpPrefix;

    fn vip(text: &str, len: u8) -> IpAddress {
        IpAddress::new(IpPrefix {
            address: text.parse().unwrap(),
            len,
        })
    }

    #[test]
    fn broadcast_plus_and_minus_fill_the_host_part() {
        let mut address = vip("192.0.2.77", 24);
        address.broadcast = Some(Broadcast::HostOnes);
        assert_eq!(broadcast(&address), Some(Ipv4Addr::new(192, 0, 2, 255)));
        address.broadcast = Some(Broadcast::HostZeros);
        assert_eq!(broadcast(&address), Some(Ipv4Addr::new(192, 0, 2, 0)));
        address.prefix.len = 0;
        address.broadcast = Some(Broadcast::HostOnes);
        assert_eq!(broadcast(&address), Some(Ipv4Addr::BROADCAST));
    }

    #[test]
    fn ipv6_vips_skip_dad_and_a_host_vip_is_deprecated() {
        let spec = address_spec(&vip("2001:db8::1", 128), 3);
        assert!(spec.flags.contains(AddressFlags::Nodad));
        assert_eq!(spec.preferred_lifetime, Some(0));
        let spec = address_spec(&vip("2001:db8::1", 64), 3);
        assert_eq!(spec.preferred_lifetime, None);
        let spec = address_spec(&vip("192.0.2.1", 32), 3);
        assert!(spec.flags.is_empty());
        assert_eq!((spec.index, spec.prefix_len), (3, 32));
    }

    #[test]
    fn intervals_become_centiseconds() {
        assert_eq!(
            advert_interval(Duration::from_millis(100)).centiseconds(),
            10
        );
        assert_eq!(advert_interval(Duration::from_secs(2)).centiseconds(), 200);
    }
}
