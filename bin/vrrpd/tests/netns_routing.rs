//! Static and virtual addresses, routes and rules against keepalived 2.2.7: the same configuration run by
//! each daemon in turn on a router alone on its link (so it becomes master); the router's addresses, routes of
//! every table and policy rules (`ip` output) must be the same under both, as master and after the stop.

mod netns;

use std::process::Command;
use std::time::Duration;

use netns::{Implementation, Topology, VIP, wait_for};

const CONFIG: &str = "\
static_ipaddress {
    10.97.0.1/24 dev eth0
}
static_routes {
    10.96.0.0/24 via 10.99.0.254 dev eth0
}
static_rules {
    from 10.95.0.0/16 table 100 priority 100
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 0.1
    version 3
    virtual_ipaddress {
        10.99.0.100/24
    }
    virtual_routes {
        10.94.0.0/24 via 10.99.0.254 dev eth0 metric 5
        192.0.2.0/24 dev eth0 table 100 mtu lock 1400 rtt 20ms
        blackhole 198.51.100.0/24
        203.0.113.0/24 src 10.99.0.100 dev eth0 scope link
        10.92.0.0/16 table 1000 nexthop via 10.99.0.253 dev eth0 weight 2 nexthop via 10.99.0.252 dev eth0
    }
    virtual_rules {
        from 10.93.0.0/16 table 100 priority 200
        fwmark 3/0xff table 101 priority 201
        to 10.91.0.0/16 iif eth0 table 1000 priority 202
    }
}
";

/// What `ip` shows of router 1's addresses, routes (all tables) and rules.
fn snapshot(topology: &Topology) -> String {
    let router = topology.router(1);
    let mut text = String::new();
    for args in [
        &["-o", "addr", "show", "dev", "eth0"][..],
        &["-d", "route", "show", "table", "all"][..],
        &["-6", "-d", "route", "show", "table", "all"][..],
        &["rule", "show"][..],
    ] {
        let out = Command::new("ip")
            .args(["-n", &router])
            .args(args)
            .output()
            .expect("ip");
        text.push_str(&format!("# ip {}\n", args.join(" ")));
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    text
}

/// Router 1's state before the start, as master, and after the stop, under `implementation`.
fn states(implementation: Implementation) -> [String; 3] {
    let mut topology = Topology::new(1);
    let before = snapshot(&topology);
    let run = topology.start(1, implementation, CONFIG);
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "{implementation:?} did not become master\n{}",
        topology.logs()
    );
    // The routes follow the VIPs within the same transition; give the kernel a moment anyway.
    std::thread::sleep(Duration::from_millis(500));
    let master = snapshot(&topology);
    topology.daemon(run).terminate();
    assert!(
        topology.daemon(run).wait_exit().is_some(),
        "{implementation:?} did not stop"
    );
    let after = snapshot(&topology);
    [before, master, after]
}

#[test]
fn addresses_routes_and_rules_are_keepalived_s() {
    require_netns!(keepalived);
    let [reference_before, reference_master, reference_after] = states(Implementation::Keepalived);
    let [before, master, after] = states(Implementation::Vrrpd);
    assert_eq!(before, reference_before, "the fresh router differs");
    assert!(
        reference_master.contains("10.94.0.0/24") && reference_master.contains("10.93.0.0/16"),
        "keepalived did not install the virtual routes and rules:\n{reference_master}"
    );
    assert!(
        !reference_master.contains(VIP) || reference_master.contains("10.97.0.1/24"),
        "keepalived did not install the static address:\n{reference_master}"
    );
    assert_eq!(master, reference_master, "as master (ours, keepalived's)");
    assert_eq!(
        after, reference_after,
        "after the stop (ours, keepalived's)"
    );
}
