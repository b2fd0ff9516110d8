//! `ha_suspend`: the checkers of a virtual server run only while its address is configured on this
//! host, as keepalived 2.2.7's checker process decides it (`check_api.c`: `update_checker_activity`,
//! `register_checkers_thread`; `ipwrapper.c`: `clear_diff_services`), without I/O. The daemon feeds in
//! the addresses it reads from rtnetlink and asks which checkers run.
//!
//! keepalived keeps per virtual server a count of the local addresses that are its address: the address
//! dump at start adds one per interface holding it, each `RTM_NEWADDR` adds one and each `RTM_DELADDR`
//! takes one away (so the same address on two interfaces must go from both). A virtual server is
//! suspended while its count is 0. Suspension changes nothing else: the IPVS table stays as it is, and
//! real servers keep their standing; a suspended checker does not attempt and looks again `delay_loop`
//! later (see [`crate::checker::Schedule::pass`]).
//!
//! keepalived's choices kept here:
//! - a virtual server of a `group` never matches an address (its `addr_matches` gives up on groups), so
//!   its checkers stay suspended; `fwmark` services cannot use `ha_suspend` (the configuration layer
//!   clears it);
//! - a checker without a schedule (`FILE_CHECK`) starts enabled whatever the count; it is still switched
//!   (and logged) on later address changes, which do nothing else to it;
//! - on reload a virtual server that stays keeps its count; a new one counts 0 (keepalived does not read
//!   the addresses again when its monitor is already open), unless the monitor opens with this reload,
//!   when the fresh dump counts for the new virtual servers only.

use std::net::IpAddr;

use keepalived_config::model::Config;
use keepalived_config::model::lvs::{ServiceAddress, VirtualServer};

/// Whether any virtual server of `config` uses `ha_suspend` (keepalived's `using_ha_suspend`: the
/// checker process then follows address changes).
pub fn in_use(config: &Config) -> bool {
    config.virtual_servers.iter().any(|vs| vs.ha_suspend)
}

/// The address whose presence a virtual server follows; `None` without `ha_suspend` or for a group.
fn followed_address(vs: &VirtualServer) -> Option<IpAddr> {
    if !vs.ha_suspend {
        return None;
    }
    match vs.service {
        ServiceAddress::Address { address, .. } => Some(address),
        ServiceAddress::Fwmark(_) | ServiceAddress::Group(_) => None,
    }
}

/// keepalived's `ha_suspend_addr_count` of each virtual server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suspension {
    /// Per virtual server: `None` without `ha_suspend`.
    counts: Vec<Option<i64>>,
}

impl Suspension {
    /// The counts at start: one per entry of `present` (the local addresses, one per interface
    /// holding each) that is the virtual server's address.
    pub fn new(config: &Config, present: &[IpAddr]) -> Self {
        let counts = config
            .virtual_servers
            .iter()
            .map(|vs| {
                vs.ha_suspend.then(|| match followed_address(vs) {
                    Some(address) => present.iter().filter(|&&a| a == address).count() as i64,
                    None => 0,
                })
            })
            .collect();
        Suspension { counts }
    }

    /// On reload: the virtual server `index` of the new configuration is `old_index` of the old
    /// one and takes its count (0 when it had no `ha_suspend`).
    pub fn carry(&mut self, index: usize, old: &Suspension, old_index: usize) {
        let old_count = old.counts.get(old_index).copied().flatten().unwrap_or(0);
        if let Some(Some(count)) = self.counts.get_mut(index) {
            *count = old_count;
        }
    }

    /// Whether the checkers of virtual server `index` may run: always without `ha_suspend`, else
    /// while its count is not 0.
    pub fn is_active(&self, index: usize) -> bool {
        !matches!(self.counts.get(index), Some(Some(0)))
    }

    /// An address was added to (or removed from) an interface: the counts of the virtual servers
    /// it is the address of move by one. Returns those virtual servers.
    pub fn address_changed(&mut self, config: &Config, address: IpAddr, added: bool) -> Vec<usize> {
        let mut matched = Vec::new();
        for (index, vs) in config.virtual_servers.iter().enumerate() {
            if followed_address(vs) != Some(address) {
                continue;
            }
            if let Some(Some(count)) = self.counts.get_mut(index) {
                *count += if added { 1 } else { -1 };
                matched.push(index);
            }
        }
        matched
    }
}

/// Whether a checker is enabled at start or after a reload (`register_checkers_thread`): one with
/// a schedule only while its virtual server is active; one without (`FILE_CHECK`) always.
pub fn enabled_at_start(scheduled: bool, active: bool) -> bool {
    !scheduled || active
}

/// A checker's switch when an address of its virtual server was added or removed
/// (`update_checker_activity`): an addition enables it, a removal suspends it once the virtual
/// server is no longer active. Returns the new state when it changes.
pub fn switch(enabled: bool, added: bool, active: bool) -> Option<bool> {
    (added != enabled && (added || !active)).then_some(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::tests::config;

    const TWO: &str = "virtual_server 10.0.0.1 80 {\n protocol TCP\n ha_suspend\n \
                       real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n\
                       virtual_server 10.0.0.2 80 {\n protocol TCP\n \
                       real_server 192.168.0.2 80 {\n TCP_CHECK {\n }\n }\n}\n";

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn only_virtual_servers_with_ha_suspend_are_followed() {
        let config = config(TWO);
        assert!(in_use(&config));
        let s = Suspension::new(&config, &[ip("192.168.0.9")]);
        assert!(!s.is_active(0));
        assert!(s.is_active(1));
        let s = Suspension::new(&config, &[ip("10.0.0.1")]);
        assert!(s.is_active(0));
        assert!(!in_use(&crate::mapping::tests::config(
            "virtual_server 10.0.0.2 80 {\n real_server 192.168.0.2 80 {\n }\n}\n"
        )));
    }

    #[test]
    fn the_address_must_go_from_every_interface_that_holds_it() {
        let config = config(TWO);
        let mut s = Suspension::new(&config, &[ip("10.0.0.1"), ip("10.0.0.1")]);
        assert_eq!(s.address_changed(&config, ip("10.0.0.1"), false), vec![0]);
        assert!(s.is_active(0));
        assert_eq!(s.address_changed(&config, ip("10.0.0.1"), false), vec![0]);
        assert!(!s.is_active(0));
        assert_eq!(s.address_changed(&config, ip("10.0.0.1"), true), vec![0]);
        assert!(s.is_active(0));
    }

    #[test]
    fn other_addresses_and_other_virtual_servers_change_nothing() {
        let config = config(TWO);
        let mut s = Suspension::new(&config, &[]);
        assert!(s.address_changed(&config, ip("10.0.0.3"), true).is_empty());
        // 10.0.0.2's virtual server has no ha_suspend.
        assert!(s.address_changed(&config, ip("10.0.0.2"), true).is_empty());
        assert!(s.address_changed(&config, ip("::1"), true).is_empty());
        assert!(!s.is_active(0));
    }

    #[test]
    fn events_are_counted_as_keepalived_counts_them() {
        // A removal of an address never seen takes the count below 0, which keepalived reads as
        // active, and a second addition of the same address needs two removals.
        let config = config(TWO);
        let mut s = Suspension::new(&config, &[]);
        s.address_changed(&config, ip("10.0.0.1"), false);
        assert!(s.is_active(0));
        s.address_changed(&config, ip("10.0.0.1"), true);
        assert!(!s.is_active(0));
    }

    #[test]
    fn a_group_never_matches_and_stays_suspended() {
        let config = config(
            "virtual_server_group G {\n 10.0.0.1 80\n}\n\
             virtual_server group G {\n protocol TCP\n ha_suspend\n \
             real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n",
        );
        let mut s = Suspension::new(&config, &[ip("10.0.0.1")]);
        assert!(!s.is_active(0));
        assert!(s.address_changed(&config, ip("10.0.0.1"), true).is_empty());
        assert!(!s.is_active(0));
    }

    #[test]
    fn fwmark_services_lose_ha_suspend() {
        let config = config(
            "virtual_server fwmark 3 {\n ha_suspend\n \
             real_server 192.168.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n",
        );
        assert!(!in_use(&config));
        assert!(Suspension::new(&config, &[]).is_active(0));
    }

    #[test]
    fn reload_carries_the_count_of_a_virtual_server_that_stays() {
        let config = config(TWO);
        let old = Suspension::new(&config, &[ip("10.0.0.1")]);
        // The new run's own reading (none: the monitor was open) is replaced by the old count.
        let mut new = Suspension::new(&config, &[]);
        new.carry(0, &old, 0);
        assert!(new.is_active(0));
        // One that had no ha_suspend before counts 0.
        let mut new = Suspension::new(&config, &[ip("10.0.0.1")]);
        new.carry(0, &old, 1);
        assert!(!new.is_active(0));
        // A virtual server without ha_suspend is active whatever is carried.
        new.carry(1, &old, 0);
        assert!(new.is_active(1));
    }

    #[test]
    fn checkers_switch_as_keepalived_switches_them() {
        // Start: scheduled checkers follow the virtual server, FILE_CHECKs are enabled.
        assert!(enabled_at_start(true, true));
        assert!(!enabled_at_start(true, false));
        assert!(enabled_at_start(false, false));
        // An addition enables a suspended checker; nothing for an enabled one.
        assert_eq!(switch(false, true, true), Some(true));
        assert_eq!(switch(true, true, true), None);
        // A removal suspends only when no address is left.
        assert_eq!(switch(true, false, true), None);
        assert_eq!(switch(true, false, false), Some(false));
        assert_eq!(switch(false, false, false), None);
    }
}
