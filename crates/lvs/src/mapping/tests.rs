use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

use ipvs::model::{ForwardingMethod as K, Netmask, Protocol as P, ServiceFlags, TunnelType as T};
use keepalived_config::env::FixedEnvironment;
use keepalived_config::{LoadOptions, load};

use super::*;
use crate::pool::Pool;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Reads `text` as a keepalived.conf.
pub(crate) fn config(text: &str) -> Config {
    let dir = std::env::temp_dir().join(format!(
        "lvs-mapping-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, text).expect("write configuration");
    let env = FixedEnvironment::minimal().with_interfaces(["eth0"]);
    let loaded = load(&path.to_string_lossy(), &LoadOptions::default(), &env);
    let _ = std::fs::remove_dir_all(&dir);
    loaded.config
}

fn table(text: &str) -> Vec<VirtualService> {
    let config = config(text);
    desired_table(&config, &Pool::new(&config))
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    Ipv4Addr::new(a, b, c, d).into()
}

#[test]
fn address_service_with_defaults_is_udp_wlc_nat() {
    let t = table("virtual_server 10.0.0.1 80 {\n real_server 192.168.0.1 8080 {\n }\n}\n");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].service.key, ServiceKey::udp(v4(10, 0, 0, 1), 80));
    assert_eq!(t[0].service.scheduler, "wlc");
    assert_eq!(t[0].service.flags, ServiceFlags::EMPTY);
    assert_eq!(t[0].destinations.len(), 1);
    let d = &t[0].destinations[0];
    assert_eq!((d.address, d.port, d.weight), (v4(192, 168, 0, 1), 8080, 1));
    assert_eq!(d.forwarding, K::Masquerade);
}

#[test]
fn scheduler_method_persistence_and_flags() {
    let t = table(
        "virtual_server 10.0.0.1 443 {\n protocol TCP\n lb_algo sh\n lb_kind DR\n sh-port\n sh-fallback\n\
         persistence_timeout 600\n persistence_granularity 255.255.255.0\n\
         real_server 192.168.0.1 443 {\n weight 3\n uthreshold 100\n lthreshold 10\n }\n}\n",
    );
    let s = &t[0].service;
    assert_eq!(s.key, ServiceKey::tcp(v4(10, 0, 0, 1), 443));
    assert_eq!(s.scheduler, "sh");
    assert!(s.flags.contains(ServiceFlags::PERSISTENT));
    assert!(
        s.flags
            .contains(ServiceFlags::SCHED1 | ServiceFlags::SCHED2)
    );
    assert_eq!(s.timeout, 600);
    assert_eq!(s.netmask, Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0)));
    let d = &t[0].destinations[0];
    assert_eq!(d.forwarding, K::DirectRoute);
    assert_eq!(
        (d.weight, d.upper_threshold, d.lower_threshold),
        (3, 100, 10)
    );
}

#[test]
fn lvs_sched_and_lvs_method_are_the_same_keywords() {
    let t = table(
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method TUN type gue port 6080 csum\n\
         real_server 192.168.0.1 80 {\n }\n real_server 192.168.0.2 80 {\n lvs_method NAT\n }\n}\n",
    );
    assert_eq!(t[0].service.scheduler, "rr");
    let tunnelled = &t[0].destinations[0];
    assert_eq!(tunnelled.forwarding, K::Tunnel);
    assert_eq!(tunnelled.tunnel.kind, T::Gue);
    assert_eq!(tunnelled.tunnel.port, 6080);
    assert_eq!(tunnelled.tunnel.flags, TunnelFlags::CHECKSUM);
    assert_eq!(t[0].destinations[1].forwarding, K::Masquerade);
}

#[test]
fn fwmark_and_ipv6_services() {
    let t = table(
        "virtual_server fwmark 7 {\n lb_algo rr\n real_server 192.168.0.1 {\n }\n}\n\
         virtual_server fwmark 8 {\n real_server 2001:db8::1 {\n }\n}\n\
         virtual_server 2001:db8::100 80 {\n protocol TCP\n persistence_timeout 30\n persistence_granularity 64\n\
         real_server 2001:db8::1 80 {\n }\n}\n",
    );
    assert_eq!(t[0].service.key, ServiceKey::fwmark(KFamily::Ipv4, 7));
    assert_eq!(t[0].destinations[0].port, 0);
    assert_eq!(t[1].service.key, ServiceKey::fwmark(KFamily::Ipv6, 8));
    assert_eq!(
        t[2].service.key,
        ServiceKey::tcp("2001:db8::100".parse().expect("address"), 80)
    );
    assert_eq!(t[2].service.netmask, Netmask::Ipv6Prefix(64));
    assert_eq!(t[2].service.timeout, 30);
}

#[test]
fn groups_expand_ranges_and_fwmarks() {
    let t = table(
        "virtual_server_group G {\n 10.0.0.1-3 80\n 10.0.1.1 8080\n fwmark 5\n}\n\
         virtual_server group G {\n protocol TCP\n lb_algo rr\n real_server 192.168.0.1 80 {\n }\n}\n",
    );
    let keys: Vec<ServiceKey> = t.iter().map(|e| e.service.key).collect();
    assert_eq!(
        keys,
        vec![
            ServiceKey::tcp(v4(10, 0, 0, 1), 80),
            ServiceKey::tcp(v4(10, 0, 0, 2), 80),
            ServiceKey::tcp(v4(10, 0, 0, 3), 80),
            ServiceKey::tcp(v4(10, 0, 1, 1), 8080),
            ServiceKey::fwmark(KFamily::Ipv4, 5),
        ]
    );
    assert!(t.iter().all(|e| e.destinations.len() == 1));
    assert!(t.iter().all(|e| e.service.scheduler == "rr"));
}

const TWO: &str = "virtual_server 10.0.0.1 80 {\n protocol TCP\n QUORUM\n\
    real_server 192.168.0.1 80 {\n RS1\n TCP_CHECK {\n }\n }\n\
    real_server 192.168.0.2 80 {\n TCP_CHECK {\n }\n }\n}\n";

fn two(quorum: &str, rs1: &str) -> Config {
    config(&TWO.replace("QUORUM", quorum).replace("RS1", rs1))
}

fn weights(config: &Config, pool: &Pool) -> Vec<(IpAddr, i32)> {
    desired_table(config, pool)
        .into_iter()
        .flat_map(|e| e.destinations)
        .map(|d| (d.address, d.weight))
        .collect()
}

#[test]
fn a_failed_server_leaves_or_is_inhibited() {
    let plain = two("", "");
    let mut pool = Pool::new(&plain);
    pool.checker_result(0, 0, 0, false);
    assert_eq!(weights(&plain, &pool), vec![(v4(192, 168, 0, 2), 1)]);

    let inhibit = two("", "inhibit_on_failure");
    let mut pool = Pool::new(&inhibit);
    pool.checker_result(0, 0, 0, false);
    assert_eq!(
        weights(&inhibit, &pool),
        vec![(v4(192, 168, 0, 1), 0), (v4(192, 168, 0, 2), 1)]
    );
    pool.checker_result(0, 0, 0, true);
    assert_eq!(
        weights(&inhibit, &pool),
        vec![(v4(192, 168, 0, 1), 1), (v4(192, 168, 0, 2), 1)]
    );
}

#[test]
fn inhibit_on_failure_on_the_virtual_server_covers_its_real_servers() {
    let config = config(
        &TWO.replace("QUORUM", "inhibit_on_failure")
            .replace("RS1", ""),
    );
    let mut pool = Pool::new(&config);
    pool.checker_result(0, 1, 0, false);
    assert_eq!(
        weights(&config, &pool),
        vec![(v4(192, 168, 0, 1), 1), (v4(192, 168, 0, 2), 0)]
    );
}

#[test]
fn alpha_servers_start_out_of_the_pool() {
    let config = two("alpha", "");
    let pool = Pool::new(&config);
    assert!(weights(&config, &pool).is_empty());
    let config = two("", "alpha");
    let mut pool = Pool::new(&config);
    assert_eq!(weights(&config, &pool), vec![(v4(192, 168, 0, 2), 1)]);
    pool.checker_result(0, 0, 0, true);
    assert_eq!(weights(&config, &pool).len(), 2);
}

#[test]
fn sorry_server_replaces_the_pool_without_quorum() {
    let config = two("quorum 2\n sorry_server 192.168.0.9 80", "");
    let mut pool = Pool::new(&config);
    assert_eq!(weights(&config, &pool).len(), 2);
    pool.checker_result(0, 0, 0, false);
    assert_eq!(weights(&config, &pool), vec![(v4(192, 168, 0, 9), 1)]);
    pool.checker_result(0, 0, 0, true);
    assert_eq!(
        weights(&config, &pool),
        vec![(v4(192, 168, 0, 1), 1), (v4(192, 168, 0, 2), 1)]
    );
}

#[test]
fn sorry_server_inhibit_keeps_it_at_weight_zero() {
    let config = two(
        "sorry_server 192.168.0.9 80\n sorry_server_inhibit",
        "inhibit_on_failure",
    );
    let mut pool = Pool::new(&config);
    assert_eq!(
        weights(&config, &pool),
        vec![
            (v4(192, 168, 0, 1), 1),
            (v4(192, 168, 0, 2), 1),
            (v4(192, 168, 0, 9), 0)
        ]
    );
    pool.checker_result(0, 0, 0, false);
    pool.checker_result(0, 1, 0, false);
    // Quorum lost: the inhibited real server stays at 0, the other leaves, the sorry server serves.
    assert_eq!(
        weights(&config, &pool),
        vec![(v4(192, 168, 0, 1), 0), (v4(192, 168, 0, 9), 1)]
    );
}

#[test]
fn sorry_server_forwarding_method() {
    let config = two(
        "lb_kind DR\n sorry_server 192.168.0.9 80\n sorry_server_lvs_method NAT\n quorum 2",
        "",
    );
    let mut pool = Pool::new(&config);
    pool.checker_result(0, 0, 0, false);
    let table = desired_table(&config, &pool);
    let d = &table[0].destinations;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].forwarding, K::Masquerade);
}

#[test]
fn without_sorry_server_losing_quorum_changes_nothing_in_the_table() {
    let config = two("quorum 2", "");
    let mut pool = Pool::new(&config);
    pool.checker_result(0, 0, 0, false);
    assert!(!pool.services[0].quorum_up);
    assert_eq!(weights(&config, &pool), vec![(v4(192, 168, 0, 2), 1)]);
}

#[test]
fn ha_suspend_does_not_change_the_table() {
    let config = two("ha_suspend", "");
    assert_eq!(weights(&config, &Pool::new(&config)).len(), 2);
}

#[test]
fn dynamic_weight_is_the_weight_in_the_table() {
    let config = two("", "");
    let mut pool = Pool::new(&config);
    pool.set_weight(0, 1, 7);
    assert_eq!(
        weights(&config, &pool),
        vec![(v4(192, 168, 0, 1), 1), (v4(192, 168, 0, 2), 7)]
    );
}

#[test]
fn one_packet_scheduling_is_for_udp_only() {
    let t = table(
        "virtual_server 10.0.0.1 53 {\n protocol UDP\n ops\n real_server 192.168.0.1 53 {\n }\n}\n\
         virtual_server 10.0.0.1 80 {\n protocol TCP\n ops\n real_server 192.168.0.1 80 {\n }\n}\n",
    );
    assert!(t[0].service.flags.contains(ServiceFlags::ONE_PACKET));
    assert!(!t[1].service.flags.contains(ServiceFlags::ONE_PACKET));
}

#[test]
fn protocols() {
    let t = table(
        "virtual_server 10.0.0.1 80 {\n protocol SCTP\n real_server 192.168.0.1 80 {\n }\n}\n",
    );
    assert_eq!(
        t[0].service.key,
        ServiceKey::Address {
            protocol: P::Sctp,
            address: v4(10, 0, 0, 1),
            port: 80
        }
    );
}

#[test]
fn the_table_knows_its_entries_and_which_virtual_servers_share_one() {
    // G and H both hold fwmark 5: their virtual servers share its service; the third shares none.
    let shared = config(
        "virtual_server_group G {\n 10.0.0.1 80\n fwmark 5\n}\n\
         virtual_server_group H {\n fwmark 5\n}\n\
         virtual_server group G {\n protocol TCP\n real_server 192.168.0.1 80 {\n }\n}\n\
         virtual_server 10.0.0.9 80 {\n protocol TCP\n real_server 192.168.0.3 80 {\n }\n}\n\
         virtual_server group H {\n protocol TCP\n real_server 192.168.0.2 80 {\n }\n}\n",
    );
    let table = DesiredTable::of(&shared, &Pool::new(&shared));
    assert_eq!(table.shared, [true, false, true]);
    assert_eq!(table.entries.len(), 3, "{:?}", table.entries);
    for (i, entry) in table.entries.iter().enumerate() {
        assert_eq!(table.index.get(&entry.service.key), Some(&i));
    }
    // The shared service has the destinations of both, first writer first.
    let mark = &table.entries[table.index[&ServiceKey::fwmark(KFamily::Ipv4, 5)]];
    let addresses: Vec<IpAddr> = mark.destinations.iter().map(|d| d.address).collect();
    assert_eq!(addresses, [v4(192, 168, 0, 1), v4(192, 168, 0, 2)]);
    // A group listing its own service twice shares it with itself.
    let twice = config(
        "virtual_server_group G {\n fwmark 5\n fwmark 5\n}\n\
         virtual_server group G {\n real_server 192.168.0.1 80 {\n }\n}\n",
    );
    assert_eq!(DesiredTable::of(&twice, &Pool::new(&twice)).shared, [true]);
}

/// `DesiredTable::update` from `before` (the table of `previous` in `previous_pool`) to `next`
/// in `pool`, checked against making the table anew and comparing it whole.
fn update_checked(
    previous: &Config,
    previous_pool: &Pool,
    next: &Config,
    pool: &Pool,
) -> (DesiredTable, Vec<Change>) {
    let before = DesiredTable::of(previous, previous_pool);
    let whole = ipvs::table::changes_between(&before.entries, &desired_table(next, pool));
    let (table, changes) = DesiredTable::update(before, next, pool);
    assert_eq!(table.entries, desired_table(next, pool));
    assert_eq!(changes, whole);
    for (i, entry) in table.entries.iter().enumerate() {
        assert_eq!(table.index.get(&entry.service.key), Some(&i));
    }
    (table, changes)
}

/// [`update_checked`] with both configurations in the state they start in.
fn update_in_first_state(previous: &Config, next: &Config) -> (DesiredTable, Vec<Change>) {
    update_checked(previous, &Pool::new(previous), next, &Pool::new(next))
}

/// `table` updated to `config` again, in its first state: `unchanged` entries taken over and no
/// change.
fn assert_updates_to_nothing(table: DesiredTable, config: &Config, unchanged: usize) {
    let (again, none) = DesiredTable::update(table, config, &Pool::new(config));
    assert_eq!(again.unchanged(), unchanged);
    assert!(none.is_empty(), "{none:?}");
}

fn four() -> Config {
    config(
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 192.168.0.1 80 {\n }\n}\n\
         virtual_server 10.0.0.2 80 {\n protocol TCP\n real_server 192.168.0.2 80 {\n }\n}\n\
         virtual_server 10.0.0.3 80 {\n protocol TCP\n real_server 192.168.0.3 80 {\n }\n}\n\
         virtual_server 10.0.0.4 80 {\n protocol TCP\n real_server 192.168.0.4 80 {\n }\n}\n",
    )
}

/// The virtual server of a configuration of one.
fn model(text: &str) -> Arc<VirtualServer> {
    let mut config = config(text);
    assert_eq!(config.virtual_servers.len(), 1);
    config.virtual_servers.remove(0)
}

#[test]
fn an_update_takes_over_the_entries_of_unchanged_models_and_compares_the_others() {
    let previous = four();
    let mut next = previous.clone();
    // A changed weight, a removed virtual server, a new one.
    Arc::make_mut(&mut next.virtual_servers[2]).real_servers[0].weight = 3;
    next.virtual_servers.remove(1);
    next.virtual_servers.push(model(
        "virtual_server 10.0.0.5 80 {\n protocol TCP\n real_server 192.168.0.5 80 {\n }\n}\n",
    ));
    let (table, changes) = update_in_first_state(&previous, &next);
    assert_eq!(table.unchanged(), 2);
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert!(matches!(changes[0], Change::DeleteService(_)));
    assert!(matches!(changes[1], Change::UpdateDestination { .. }));
    assert!(matches!(changes[2], Change::AddService(_)));
    assert!(matches!(changes[3], Change::AddDestination { .. }));
    // Nothing changed: nothing to compare, nothing to send.
    assert_updates_to_nothing(table, &next, 4);
}

#[test]
fn an_unchanged_model_in_a_new_state_is_made_again() {
    let previous = four();
    let next = previous.clone();
    let mut pool = Pool::new(&next);
    pool.services[1].real_servers[0].alive = false;
    let (table, changes) = update_checked(&previous, &Pool::new(&previous), &next, &pool);
    assert_eq!(table.unchanged(), 3);
    assert!(
        matches!(changes[..], [Change::DeleteDestination { address, .. }] if address == v4(192, 168, 0, 2))
    );
}

#[test]
fn an_entry_taken_over_that_another_virtual_server_now_writes_to_is_compared() {
    let previous = four();
    let mut next = previous.clone();
    // A second virtual server at the first's address: the service is shared, with both real
    // servers.
    next.virtual_servers.push(model(
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 192.168.0.9 80 {\n }\n}\n",
    ));
    let (table, changes) = update_in_first_state(&previous, &next);
    assert_eq!(table.unchanged(), 3);
    assert_eq!(table.shared, [true, false, false, false, true]);
    assert!(
        matches!(changes[..], [Change::AddDestination { ref destination, .. }] if destination.address == v4(192, 168, 0, 9))
    );
    // A shared entry is no single model's: the next update makes it again.
    assert_updates_to_nothing(table, &next, 3);
}

#[test]
fn a_table_read_from_the_kernel_is_compared_whole() {
    let config = four();
    let pool = Pool::new(&config);
    let mut kernel = desired_table(&config, &pool);
    kernel[0].destinations[0].weight = 9;
    let whole = ipvs::table::changes_between(&kernel, &desired_table(&config, &pool));
    let (table, changes) = DesiredTable::update(DesiredTable::read(kernel), &config, &pool);
    assert_eq!(table.unchanged(), 0);
    assert_eq!(changes, whole);
    assert_eq!(changes.len(), 1);
}

#[test]
fn a_refresh_compares_one_virtual_server_and_keeps_the_table() {
    let config = four();
    let mut pool = Pool::new(&config);
    let mut table = DesiredTable::of(&config, &pool);
    let before = table.entries.clone();
    pool.services[2].real_servers[0].alive = false;
    let changes = table.refresh(&config, &pool, 2).expect("not shared");
    assert_eq!(
        changes,
        ipvs::table::changes_between(&before, &desired_table(&config, &pool))
    );
    assert_eq!(table.entries, desired_table(&config, &pool));
    // The refreshed entry is still its model's alone: an update takes it over.
    let (table, none) = DesiredTable::update(table, &config, &pool);
    assert_eq!(table.unchanged(), 4);
    assert!(none.is_empty());
    // A shared virtual server cannot be refreshed alone.
    let mut shared = table;
    shared.shared[0] = true;
    assert!(shared.refresh(&config, &pool, 0).is_none());
}
