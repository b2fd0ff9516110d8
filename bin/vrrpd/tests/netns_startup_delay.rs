//! `vrrp_startup_delay` against keepalived 2.2.7: a router alone on its link becomes master only after the
//! delay plus its down interval, with both daemons.

mod netns;

use std::time::{Duration, Instant};

use netns::{Implementation, Topology, wait_for};

const DELAY: f64 = 2.0;

fn config() -> String {
    format!(
        "global_defs {{\n    vrrp_startup_delay {DELAY}\n}}\n\
         vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 200\n\
         advert_int 0.1\n    version 3\n    virtual_ipaddress {{\n        {}/24\n    }}\n}}\n",
        netns::VIP
    )
}

/// Seconds from the start of `implementation` to its VIP.
fn time_to_master(implementation: Implementation) -> f64 {
    let mut topology = Topology::new(1);
    let started = Instant::now();
    topology.start(1, implementation, &config());
    assert!(
        wait_for(Duration::from_secs(15), || topology.has_vip(1)).is_some(),
        "{implementation:?} did not become master\n{}",
        topology.logs()
    );
    started.elapsed().as_secs_f64()
}

#[test]
fn startup_delay_holds_back_the_first_master() {
    require_netns!(keepalived);
    // Master_Down_Interval of priority 200 at 0.1 s: 3 × 0.1 + 56/256 × 0.1.
    let bound = DELAY + 0.3 + 0.0219;
    for implementation in [Implementation::Keepalived, Implementation::Vrrpd] {
        let took = time_to_master(implementation);
        eprintln!("{implementation:?}: master after {took:.3} s (no earlier than {bound:.3} s)");
        assert!(
            took >= bound - 0.01,
            "{implementation:?} became master after {took:.3} s, before the delay and down interval ({bound:.3} s)"
        );
        assert!(
            took < bound + 3.0,
            "{implementation:?} took {took:.3} s to become master"
        );
    }
}
