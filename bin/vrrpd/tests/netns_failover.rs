//! Two routers on one bridge, in network namespaces: ours with ours, and ours with the real keepalived 2.2.7
//! in both roles, VRRPv2 at 1 s and VRRPv3 at 0.1 s, multicast and unicast, with and without a password.
//!
//! Each case runs the whole life of a pair (RFC 3768 / RFC 9568 §6.4):
//! 1. both start; the higher priority (200) becomes master, the other (100) stays backup; a client in a third
//!    namespace reaches the VIP at the master's MAC;
//! 2. SIGKILL of the master: the backup takes over after its Master_Down_Interval, and the client reaches the
//!    VIP at the backup's MAC (its gratuitous ARPs updated the client);
//! 3. the old master returns and preempts: it holds the VIP, the backup releases it;
//! 4. SIGTERM of the master: it sends priority 0 and the backup takes over after Skew_Time only, far sooner
//!    than a down interval.
//!
//! Timing bounds are loose (the machine is shared); they only tell the rules apart (Skew_Time vs
//! Master_Down_Interval). Root is needed; without it the tests say so and pass.

mod netns;

use std::time::Duration;

use netns::{Implementation, Protocol, Topology, wait_for};

const MASTER_PRIORITY: u8 = 200;
const BACKUP_PRIORITY: u8 = 100;
/// Room for start-up, scheduling on a busy machine and the 5 ms polling of `ip addr`.
const SLACK: Duration = Duration::from_millis(1500);
/// How long a daemon may take to start: keepalived has taken over 6 s on a loaded machine. Only the
/// election and the return wait on it; the timings that tell the rules apart do not.
const START_UP: Duration = Duration::from_secs(12);

fn life_of_a_pair(high: Implementation, low: Implementation, protocol: Protocol) {
    let mut topology = Topology::new(2);
    let high_config = protocol.config(1, 2, MASTER_PRIORITY);
    let low_config = protocol.config(2, 1, BACKUP_PRIORITY);
    if protocol.ipv6 && protocol.unicast {
        topology.add_unicast_ipv6(1);
        topology.add_unicast_ipv6(2);
    }

    // 1. Election.
    topology.start(2, low, &low_config);
    let first_master = topology.start(1, high, &high_config);
    let elected = wait_for(protocol.down_interval(MASTER_PRIORITY) + START_UP, || {
        topology.has_address(1, protocol.vip())
    });
    assert!(elected.is_some(), "no master elected\n{}", topology.logs());
    // The backup hears the master from its first advert on; give it one more advert to be sure.
    std::thread::sleep(Duration::from_secs_f64(protocol.advert_int * 2.0));
    assert!(
        topology.has_address(1, protocol.vip()) && !topology.has_address(2, protocol.vip()),
        "the priority-{MASTER_PRIORITY} router must be the only master\n{}",
        topology.logs()
    );
    if !protocol.ipv6 {
        assert_eq!(
            topology.client_reaches_vip().as_deref(),
            Some(Topology::mac(1).as_str()),
            "client must reach the VIP at the master\n{}",
            topology.logs()
        );
    }

    // 2. SIGKILL failover.
    topology.daemon(first_master).kill();
    let killed = wait_for(protocol.down_interval(BACKUP_PRIORITY) + SLACK, || {
        topology.has_address(2, protocol.vip())
    });
    assert!(
        killed.is_some(),
        "backup did not take over after SIGKILL\n{}",
        topology.logs()
    );
    // The killed master leaves its VIP behind (as keepalived does); take it away as a restart would, so
    // that the client's ARP can only be answered by the new master.
    let prefix = if protocol.ipv6 { 64 } else { 24 };
    let leftover = format!("{}/{prefix}", protocol.vip());
    topology.remove_address(1, &leftover);
    if !protocol.ipv6 {
        let reached = wait_for(Duration::from_secs(3), || {
            topology.client_reaches_vip().as_deref() == Some(Topology::mac(2).as_str())
        });
        assert!(
            reached.is_some(),
            "client must reach the VIP at the new master\n{}",
            topology.logs()
        );
    }

    // 3. Preemption on return.
    let returned = topology.start(1, high, &high_config);
    let preempted = wait_for(protocol.down_interval(MASTER_PRIORITY) + START_UP, || {
        topology.has_address(1, protocol.vip()) && !topology.has_address(2, protocol.vip())
    });
    assert!(
        preempted.is_some(),
        "the returning higher priority did not preempt\n{}",
        topology.logs()
    );

    // 4. SIGTERM: priority 0, takeover after Skew_Time.
    std::thread::sleep(Duration::from_secs_f64(protocol.advert_int * 2.0));
    topology.daemon(returned).terminate();
    let took = wait_for(protocol.down_interval(BACKUP_PRIORITY) + SLACK, || {
        topology.has_address(2, protocol.vip())
    });
    let status = topology.daemon(returned).wait_exit();
    assert!(
        took.is_some(),
        "backup did not take over after SIGTERM\n{}",
        topology.logs()
    );
    let took = took.unwrap_or_default();
    let skew = protocol.skew(BACKUP_PRIORITY);
    let down = protocol.down_interval(BACKUP_PRIORITY);
    // Nearer Skew_Time than a full down interval.
    assert!(
        took < skew + (down - skew) / 2 + Duration::from_millis(100),
        "takeover after SIGTERM took {took:?}: more like a down interval ({down:?}) than Skew_Time ({skew:?})\n{}",
        topology.logs()
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "graceful stop must exit 0\n{}",
        topology.logs()
    );
    assert!(
        !topology.has_address(1, protocol.vip()),
        "a stopped master must release its VIP"
    );
    eprintln!(
        "{high:?}(200) / {low:?}(100), {protocol:?}: elected after {elected:?}, SIGKILL takeover after {killed:?} \
         (bound {:?}), SIGTERM takeover after {took:?}",
        protocol.down_interval(BACKUP_PRIORITY)
    );
}

const V2: Protocol = Protocol {
    version: 2,
    advert_int: 1.0,
    unicast: false,
    password: None,
    ah: false,
    ipv6: false,
};
const V2_UNICAST: Protocol = Protocol {
    unicast: true,
    ..V2
};
const V2_PASS: Protocol = Protocol {
    password: Some("secret12345"),
    ..V2
};
const V2_UNICAST_PASS: Protocol = Protocol {
    unicast: true,
    password: Some("secret12345"),
    ..V2
};
const V3_FAST: Protocol = Protocol {
    version: 3,
    advert_int: 0.1,
    unicast: false,
    password: None,
    ah: false,
    ipv6: false,
};
const V3_FAST_UNICAST: Protocol = Protocol {
    unicast: true,
    ..V3_FAST
};
const V3_FAST_IPV6: Protocol = Protocol {
    ipv6: true,
    ..V3_FAST
};
const V3_FAST_IPV6_UNICAST: Protocol = Protocol {
    unicast: true,
    ..V3_FAST_IPV6
};
/// VRRPv2 with the IPsec AH header; the password's first 8 characters key the HMAC as in keepalived.
const V2_AH: Protocol = Protocol {
    password: Some("secret12345"),
    ah: true,
    ..V2
};

macro_rules! pair {
    ($name:ident, $high:ident, $low:ident, $protocol:expr) => {
        #[test]
        fn $name() {
            require_netns!();
            if Implementation::$high == Implementation::Keepalived
                || Implementation::$low == Implementation::Keepalived
            {
                require_netns!(keepalived);
            }
            life_of_a_pair(Implementation::$high, Implementation::$low, $protocol);
        }
    };
}

pair!(vrrpd_pair_v2_multicast, Vrrpd, Vrrpd, V2);
pair!(vrrpd_pair_v3_fast_unicast, Vrrpd, Vrrpd, V3_FAST_UNICAST);

pair!(
    vrrpd_master_keepalived_backup_v2_multicast,
    Vrrpd,
    Keepalived,
    V2
);
pair!(
    keepalived_master_vrrpd_backup_v2_multicast,
    Keepalived,
    Vrrpd,
    V2
);
pair!(
    vrrpd_master_keepalived_backup_v2_unicast,
    Vrrpd,
    Keepalived,
    V2_UNICAST
);
pair!(
    keepalived_master_vrrpd_backup_v2_unicast,
    Keepalived,
    Vrrpd,
    V2_UNICAST
);
pair!(
    vrrpd_master_keepalived_backup_v2_pass,
    Vrrpd,
    Keepalived,
    V2_PASS
);
pair!(
    keepalived_master_vrrpd_backup_v2_pass,
    Keepalived,
    Vrrpd,
    V2_PASS
);
pair!(
    vrrpd_master_keepalived_backup_v2_unicast_pass,
    Vrrpd,
    Keepalived,
    V2_UNICAST_PASS
);
pair!(
    keepalived_master_vrrpd_backup_v2_unicast_pass,
    Keepalived,
    Vrrpd,
    V2_UNICAST_PASS
);
pair!(
    vrrpd_master_keepalived_backup_v3_fast_multicast,
    Vrrpd,
    Keepalived,
    V3_FAST
);
pair!(
    keepalived_master_vrrpd_backup_v3_fast_multicast,
    Keepalived,
    Vrrpd,
    V3_FAST
);
pair!(
    vrrpd_master_keepalived_backup_v3_fast_unicast,
    Vrrpd,
    Keepalived,
    V3_FAST_UNICAST
);
pair!(
    keepalived_master_vrrpd_backup_v3_fast_unicast,
    Keepalived,
    Vrrpd,
    V3_FAST_UNICAST
);
pair!(
    vrrpd_master_keepalived_backup_v3_fast_ipv6,
    Vrrpd,
    Keepalived,
    V3_FAST_IPV6
);
pair!(
    keepalived_master_vrrpd_backup_v3_fast_ipv6,
    Keepalived,
    Vrrpd,
    V3_FAST_IPV6
);
pair!(
    vrrpd_master_keepalived_backup_v3_fast_ipv6_unicast,
    Vrrpd,
    Keepalived,
    V3_FAST_IPV6_UNICAST
);
pair!(
    keepalived_master_vrrpd_backup_v3_fast_ipv6_unicast,
    Keepalived,
    Vrrpd,
    V3_FAST_IPV6_UNICAST
);
pair!(
    vrrpd_master_keepalived_backup_v2_ah,
    Vrrpd,
    Keepalived,
    V2_AH
);
pair!(
    keepalived_master_vrrpd_backup_v2_ah,
    Keepalived,
    Vrrpd,
    V2_AH
);
