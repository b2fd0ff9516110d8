//! The typed model: defaults applied, values structured, inheritance resolved. Where keepalived
//! shows the value in its own data dump (`keepalived -d`), the expected values here were read
//! from it.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use keepalived_config::diagnostics::{Diagnostic, Source};
use keepalived_config::env::FixedEnvironment;
use keepalived_config::model::lvs::{CheckerKind, ForwardingMethod, GroupEntry, Protocol};
use keepalived_config::model::net::{Broadcast, Scope};
use keepalived_config::model::vrrp::{Authentication, InitialState, VrrpVersion};
use keepalived_config::model::{AddressFamily, Config, ServiceAddress};
use keepalived_config::{LoadOptions, Loaded, load};

use common::Scratch;

/// Reads `text` as /…/keepalived.conf on a machine with eth0 and eth1.
fn read(text: &str) -> Loaded {
    let scratch = Scratch::new("kc-model");
    let path = scratch.path("keepalived.conf");
    std::fs::write(&path, text).expect("write configuration");
    let env = FixedEnvironment::minimal().with_interfaces(["eth0", "eth1"]);
    let options = LoadOptions {
        config_id: "vm".into(),
        ..LoadOptions::default()
    };
    load(&path.to_string_lossy(), &options, &env)
}

fn config(text: &str) -> Config {
    read(text).config
}

fn said(diagnostics: &[Diagnostic], source: Source, fragment: &str) -> bool {
    diagnostics
        .iter()
        .any(|d| d.source == source && d.message.contains(fragment))
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

const INSTANCE: &str = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.1
    }
}
";

#[test]
fn an_instance_gets_keepalived_defaults() {
    let c = config(INSTANCE);
    let i = &c.instances[0];
    assert_eq!(i.name, "VI_1");
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(i.priority, 100);
    assert_eq!(i.vrid, 51);
    assert_eq!(i.advert_interval, Duration::from_secs(1));
    assert_eq!(i.version, VrrpVersion::V2);
    assert_eq!(i.family, AddressFamily::Ipv4);
    assert!(i.preempt);
    assert_eq!(i.preempt_delay, Duration::ZERO);
    assert!(i.accept);
    assert!(!i.strict);
    assert_eq!(i.multicast_group, ip("224.0.0.18"));
    assert_eq!(i.unicast_ttl, 255);
    assert_eq!(i.authentication, None);
    assert_eq!(i.down_timer_adverts, 3);
    assert!(!i.smtp_alert);
    assert_eq!(i.garp.master_delay, Duration::from_secs(5));
    assert_eq!(i.garp.master_repeat, 5);
    assert_eq!(i.garp.master_refresh, Duration::ZERO);
    assert_eq!(i.garp.master_refresh_repeat, 1);
    assert_eq!(i.garp.lower_prio_delay, Duration::from_secs(5));
    assert_eq!(i.garp.lower_prio_repeat, 5);
    assert_eq!(i.sync_group, None);
}

#[test]
fn a_master_without_priority_owns_the_addresses() {
    let owner = config(&INSTANCE.replace("interface eth0", "interface eth0\nstate MASTER"));
    assert_eq!(owner.instances[0].initial_state, InitialState::Master);
    assert_eq!(owner.instances[0].priority, 255);
    let given = config(&INSTANCE.replace(
        "interface eth0",
        "interface eth0\nstate MASTER\npriority 150",
    ));
    assert_eq!(given.instances[0].priority, 150);
}

#[test]
fn global_settings_flow_into_instances() {
    let c = config(&format!(
        "global_defs {{\n vrrp_garp_master_repeat 2\n vrrp_garp_master_delay 1\n \
         vrrp_mcast_group4 224.0.0.99\n smtp_alert true\n}}\n{INSTANCE}"
    ));
    let i = &c.instances[0];
    assert_eq!(i.garp.master_repeat, 2);
    assert_eq!(i.garp.master_delay, Duration::from_secs(1));
    // The lower-priority GARP settings follow the master ones when not set.
    assert_eq!(i.garp.lower_prio_repeat, 2);
    assert_eq!(i.multicast_group, ip("224.0.0.99"));
    assert!(i.smtp_alert);
}

#[test]
fn strict_mode_turns_accept_off_and_stops_lower_priority_adverts() {
    let c = config(&format!("global_defs {{\n vrrp_strict\n}}\n{INSTANCE}"));
    let i = &c.instances[0];
    assert!(i.strict);
    assert!(!i.accept);
    assert!(i.lower_prio_no_advert);
}

#[test]
fn auth_pass_is_cut_to_eight_characters() {
    let loaded = read(&INSTANCE.replace(
        "interface eth0",
        "interface eth0\nauthentication {\n auth_type PASS\n auth_pass 123456789abc\n}",
    ));
    assert_eq!(
        loaded.config.instances[0].authentication,
        Some(Authentication::Password(*b"12345678"))
    );
    let d = &loaded.diagnostics;
    assert!(said(
        d,
        Source::Keepalived,
        "Truncating auth_pass to 8 characters"
    ));
}

#[test]
fn a_one_line_authentication_block_loses_its_password() {
    let loaded = read(&INSTANCE.replace(
        "interface eth0",
        "interface eth0\nauthentication { auth_type PASS auth_pass secret }",
    ));
    assert_eq!(loaded.config.instances[0].authentication, None);
    let d = &loaded.diagnostics;
    assert!(said(d, Source::Keepalived, "no password given"));
    assert!(
        d.iter()
            .any(|d| d.source == Source::Lint && d.message.contains("auth_pass"))
    );
}

#[test]
fn a_fractional_advert_interval_is_rounded_for_vrrp_version_2_only() {
    let v2 = config(&INSTANCE.replace("interface eth0", "interface eth0\nadvert_int 1.5"));
    assert_eq!(v2.instances[0].advert_interval, Duration::from_secs(2));
    let v3 = config(&INSTANCE.replace(
        "interface eth0",
        "interface eth0\nadvert_int 1.5\nversion 3",
    ));
    assert_eq!(v3.instances[0].version, VrrpVersion::V3);
    assert_eq!(v3.instances[0].advert_interval, Duration::from_millis(1500));
}

#[test]
fn an_ipv6_instance_uses_vrrp_version_3_and_its_multicast_group() {
    let loaded = read(
        "vrrp_instance V6 {\n interface eth0\n virtual_router_id 9\n \
         authentication {\n auth_type PASS\n auth_pass x\n }\n \
         virtual_ipaddress {\n 2001:db8::1/64\n }\n}\n",
    );
    let i = &loaded.config.instances[0];
    assert_eq!(i.family, AddressFamily::Ipv6);
    assert_eq!(i.version, VrrpVersion::V3);
    assert_eq!(i.multicast_group, ip("ff02::12"));
    assert_eq!(i.authentication, None);
    let d = &loaded.diagnostics;
    assert!(said(
        d,
        Source::Keepalived,
        "does not support authentication"
    ));
}

#[test]
fn virtual_addresses_are_structured() {
    let c = config(&INSTANCE.replace(
        "192.0.2.1",
        "192.0.2.1\n10.0.0.1/24 brd 10.0.0.255 dev eth1 scope link label eth1:vip\n2001:db8::5",
    ));
    let vips = &c.instances[0].virtual_addresses;
    assert_eq!(vips.len(), 2, "the IPv6 address does not go with IPv4 ones");
    assert_eq!(vips[0].prefix.address, ip("192.0.2.1"));
    assert_eq!(vips[0].prefix.len, 32);
    // Written without `dev`, a VIP goes on the instance's interface.
    assert_eq!(vips[0].device.as_deref(), Some("eth0"));
    assert_eq!(vips[0].scope, None);
    let full = &vips[1];
    assert_eq!(full.prefix.len, 24);
    assert_eq!(
        full.broadcast,
        Some(Broadcast::Address("10.0.0.255".parse().expect("v4")))
    );
    assert_eq!(full.device.as_deref(), Some("eth1"));
    assert_eq!(full.scope, Some(Scope::Link));
    assert_eq!(full.label.as_deref(), Some("eth1:vip"));
}

#[test]
fn addresses_of_a_vmac_instance_go_on_the_vmac() {
    let c = config(&INSTANCE.replace("interface eth0", "interface eth0\nuse_vmac"));
    let i = &c.instances[0];
    let vmac = i.vmac.as_ref().expect("vmac");
    assert_eq!(vmac.name.as_deref(), Some("vrrp.51"));
    assert_eq!(i.virtual_addresses[0].device.as_deref(), Some("vrrp.51"));
}

#[test]
fn sync_groups_know_their_members_and_members_their_group() {
    let c = config(&format!(
        "vrrp_sync_group G {{\n group {{\n VI_1\n }}\n}}\n{INSTANCE}"
    ));
    assert_eq!(c.sync_groups[0].name, "G");
    assert_eq!(c.sync_groups[0].members, ["VI_1"]);
    assert_eq!(c.instances[0].sync_group.as_deref(), Some("G"));
}

#[test]
fn trackers_keep_their_settings() {
    let c = config(&format!(
        "vrrp_script chk {{\n script \"/bin/true -x\"\n interval 2\n weight -20\n fall 3\n}}\n{}",
        INSTANCE.replace(
            "interface eth0",
            "interface eth0\ntrack_script {\n chk weight 5\n}"
        )
    ));
    let s = &c.vrrp_scripts[0];
    assert_eq!(s.script.argv, ["/bin/true", "-x"]);
    assert_eq!(s.interval, Duration::from_secs(2));
    assert_eq!(s.weight, -20);
    assert_eq!(s.fall, 3);
    assert_eq!(s.rise, 1);
    let t = &c.instances[0].track_scripts[0];
    assert_eq!((t.name.as_str(), t.weight), ("chk", Some(5)));
}

const SERVICE: &str = "virtual_server 192.0.2.10 80 {
    real_server 192.0.2.20 {
        TCP_CHECK {
        }
    }
}
";

#[test]
fn a_virtual_server_gets_keepalived_defaults() {
    let loaded = read(SERVICE);
    let vs = &loaded.config.virtual_servers[0];
    assert_eq!(
        vs.service,
        ServiceAddress::Address {
            address: ip("192.0.2.10"),
            port: 80
        }
    );
    assert_eq!(vs.protocol, Protocol::Udp, "no protocol means UDP");
    assert_eq!(vs.scheduler, "wlc");
    assert_eq!(vs.forwarding, ForwardingMethod::Nat);
    assert_eq!(vs.persistence, None);
    assert_eq!(vs.quorum, 1);
    let rs = &vs.real_servers[0];
    assert_eq!(
        rs.port, 80,
        "a real server without port takes the service's"
    );
    assert_eq!(rs.weight, 1);
    assert_eq!(rs.forwarding, ForwardingMethod::Nat);
    let d = &loaded.diagnostics;
    assert!(said(
        d,
        Source::Keepalived,
        "no protocol set - defaulting to UDP"
    ));
    assert!(said(d, Source::Keepalived, "no scheduler set"));
}

#[test]
fn lower_case_lb_kind_falls_back_to_nat_with_a_hint() {
    let loaded = read(&SERVICE.replace("80 {", "80 {\n protocol TCP\n lb_kind dr"));
    assert_eq!(
        loaded.config.virtual_servers[0].forwarding,
        ForwardingMethod::Nat
    );
    let hint = loaded
        .diagnostics
        .iter()
        .find(|d| d.message.contains("unknown [dr] routing method"))
        .and_then(|d| d.hint.clone());
    assert!(hint.is_some_and(|h| h.contains("DR")));
}

#[test]
fn checkers_take_their_own_defaults_and_inherit_what_their_servers_set() {
    let text = "virtual_server 192.0.2.10 80 {
        protocol TCP
        delay_loop 10
        real_server 192.0.2.20 80 {
            HTTP_GET {
                url {
                    path /
                }
            }
            TCP_CHECK {
            }
            MISC_CHECK {
                misc_path /bin/true
            }
            DNS_CHECK {
            }
        }
        real_server 192.0.2.21 80 {
            retry 4
            TCP_CHECK {
                delay_before_retry 2
            }
        }
    }
    ";
    let c = config(text);
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.timing.delay_loop, Duration::from_secs(10));
    assert_eq!(vs.timing.retry, None);
    let timing = |rs: usize, n: usize| {
        let t = &vs.real_servers[rs].checkers[n].timing;
        (t.retry, t.delay_before_retry, t.warmup, t.delay_loop)
    };
    let (s1, s3, s10) = (
        Duration::from_secs(1),
        Duration::from_secs(3),
        Duration::from_secs(10),
    );
    assert_eq!(timing(0, 0), (1, s3, s10, s10), "HTTP_GET");
    assert_eq!(timing(0, 1), (1, s1, s10, s10), "TCP_CHECK");
    assert_eq!(timing(0, 2), (0, s1, s10, s10), "MISC_CHECK");
    assert_eq!(timing(0, 3), (3, s10, s10, s10), "DNS_CHECK");
    assert_eq!(
        timing(1, 0),
        (4, Duration::from_secs(2), s10, s10),
        "the real server's retry, the checker's own delay"
    );
    assert_eq!(vs.real_servers[1].timing.retry, Some(4));
    let CheckerKind::HttpGet(http) = &vs.real_servers[0].checkers[0].kind else {
        panic!("not HTTP_GET");
    };
    assert_eq!(http.urls[0].path, "/");
    assert_eq!(http.urls[0].status_codes, [(200, 299)]);
}

#[test]
fn virtual_server_groups_hold_ranges_and_fwmarks() {
    let c = config(
        "virtual_server_group WEB {\n 192.0.2.1-5 80\n 192.0.2.9 443\n fwmark 7\n}\n\
         virtual_server group WEB {\n protocol TCP\n real_server 198.51.100.1 80 {\n }\n}\n",
    );
    let g = &c.virtual_server_groups[0];
    assert_eq!(g.name, "WEB");
    assert_eq!(
        g.entries,
        [
            GroupEntry::Range {
                first: ip("192.0.2.1"),
                last: ip("192.0.2.5"),
                port: 80
            },
            GroupEntry::Range {
                first: ip("192.0.2.9"),
                last: ip("192.0.2.9"),
                port: 443
            },
            GroupEntry::Fwmark {
                mark: 7,
                family: None
            },
        ]
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.service, ServiceAddress::Group("WEB".into()));
    assert_eq!(
        vs.address_family(&c.virtual_server_groups),
        AddressFamily::Ipv4
    );
}

#[test]
fn config_id_lines_and_parameters_are_applied_before_the_grammar() {
    let c = config(
        "$PRIO=150\n$ADDR=192.0.2.7\n\
         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n \
         @vm priority $PRIO\n @other priority 10\n \
         virtual_ipaddress {\n ${ADDR}/24\n }\n}\n",
    );
    let i = &c.instances[0];
    assert_eq!(i.priority, 150);
    assert_eq!(i.virtual_addresses[0].prefix.address, ip("192.0.2.7"));
    assert_eq!(i.virtual_addresses[0].prefix.len, 24);
}

#[test]
fn sequences_expand_to_one_line_each() {
    let c = config(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n \
         virtual_ipaddress {\n ~SEQ(N,1,3) 192.0.2.$N\n }\n}\n",
    );
    let addresses: Vec<IpAddr> = c.instances[0]
        .virtual_addresses
        .iter()
        .map(|a| a.prefix.address)
        .collect();
    assert_eq!(
        addresses,
        [ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3")]
    );
}

#[test]
fn an_owner_without_state_starts_as_master() {
    // keepalived -d: "Wantstate = MASTER".
    let c = config(&INSTANCE.replace("interface eth0", "interface eth0\npriority 255"));
    assert_eq!(c.instances[0].initial_state, InitialState::Master);
}

#[test]
fn lower_priority_garp_follows_the_global_settings_not_the_instance() {
    // keepalived -d: "Gratuitous ARP delay = 2", "Gratuitous ARP lower priority delay = 5".
    let c = config(&INSTANCE.replace("interface eth0", "interface eth0\ngarp_master_delay 2"));
    let garp = &c.instances[0].garp;
    assert_eq!(garp.master_delay, Duration::from_secs(2));
    assert_eq!(garp.lower_prio_delay, Duration::from_secs(5));
    let strict = config(&format!("global_defs {{\n vrrp_strict\n}}\n{INSTANCE}"));
    assert_eq!(strict.instances[0].garp.lower_prio_repeat, 0);
    assert_eq!(strict.instances[0].garp.lower_prio_delay, Duration::ZERO);
}

#[test]
fn unicast_peers_with_ttl_bounds_check_the_source() {
    // keepalived -d: "Check unicast src : yes", "10.0.0.7 min_ttl 2 max_ttl 9".
    let c = config(&INSTANCE.replace(
        "interface eth0",
        "interface eth0\nunicast_peer {\n 192.0.2.6\n 192.0.2.7 min_ttl 2 max_ttl 9\n}",
    ));
    let i = &c.instances[0];
    assert!(i.check_unicast_source);
    assert_eq!(i.unicast_peers.len(), 2);
    assert_eq!(
        (i.unicast_peers[1].min_ttl, i.unicast_peers[1].max_ttl),
        (Some(2), Some(9))
    );
}

#[test]
fn the_first_address_fixes_the_family_of_an_instance() {
    let loaded = read(&INSTANCE.replace(
        "interface eth0",
        "interface eth0\nunicast_peer {\n 2001:db8::9\n}",
    ));
    // An IPv6 peer makes it an IPv6 instance: the IPv4 VIP is refused, and with no VIP left
    // the instance cannot run.
    assert!(loaded.config.instances.is_empty());
    assert!(said(
        &loaded.diagnostics,
        Source::Keepalived,
        "address family must match VRRP instance"
    ));
}

#[test]
fn sync_group_members_lose_weighted_tracking() {
    let c = config(&format!(
        "vrrp_script chk {{\n script /bin/true\n weight 10\n}}\n\
         vrrp_sync_group G {{\n group {{\n VI_1\n VI_2\n }}\n}}\n{}{}",
        INSTANCE.replace("interface eth0", "interface eth0\ntrack_script {\n chk\n}"),
        INSTANCE.replace("VI_1", "VI_2").replace(" 51", " 52")
    ));
    assert!(c.instances[0].track_scripts.is_empty());
}

#[test]
fn real_servers_of_another_family_are_dropped() {
    let c = config(
        "virtual_server 192.0.2.10 80 {\n protocol TCP\n real_server 2001:db8::20 80 {\n }\n \
         real_server 192.0.2.21 80 {\n }\n}\n",
    );
    let servers: Vec<IpAddr> = c.virtual_servers[0]
        .real_servers
        .iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(servers, [ip("192.0.2.21")]);
}

#[test]
fn vrrp_min_garp_changes_only_the_global_settings_still_at_their_defaults() {
    // keepalived -d: global delay 0, repeat 1, refresh repeat 0; the instance keeps its own
    // repeat of 4 and takes the rest.
    let c = config(&format!(
        "global_defs {{\n vrrp_garp_master_refresh 10\n vrrp_min_garp\n}}\n{}",
        INSTANCE.replace("interface eth0", "interface eth0\ngarp_master_repeat 4")
    ));
    let garp = &c.instances[0].garp;
    assert_eq!(garp.master_delay, Duration::ZERO);
    assert_eq!(garp.master_repeat, 4);
    assert_eq!(garp.master_refresh, Duration::from_secs(10));
    assert_eq!(garp.master_refresh_repeat, 0);
    assert_eq!(garp.lower_prio_delay, Duration::ZERO);
    assert_eq!(garp.lower_prio_repeat, 1);
}

#[test]
fn a_url_regex_is_one_word_with_quotes_and_escapes_decoded() {
    let text = r#"virtual_server 192.0.2.10 443 {
        protocol TCP
        real_server 192.0.2.20 443 {
            SSL_GET {
                enable_sni
                url {
                    path /a
                    regex "status: \\d+ ok"
                    regex_no_match
                    regex_options caseless multiline
                    regex_min_offset 2
                    regex_max_offset 40
                }
                url {
                    path /b
                    regex two words
                }
            }
        }
    }
    "#;
    let loaded = read(text);
    let CheckerKind::SslGet(ssl) =
        &loaded.config.virtual_servers[0].real_servers[0].checkers[0].kind
    else {
        panic!("not SSL_GET");
    };
    assert!(ssl.enable_sni);
    let a = &ssl.urls[0];
    assert_eq!(a.regex.as_deref(), Some(r"status: \d+ ok"));
    assert!(a.regex_no_match);
    assert_eq!(a.regex_options, ["caseless", "multiline"]);
    assert_eq!(
        (a.regex_min_offset, a.regex_max_offset),
        (Some(2), Some(40))
    );
    assert_eq!(ssl.urls[1].regex, None);
    assert!(said(
        &loaded.diagnostics,
        Source::Log,
        "regex missing or too many fields"
    ));
}

/// The line of the first message of `loaded` that contains `fragment`.
fn line_of(loaded: &Loaded, fragment: &str) -> Option<u32> {
    loaded
        .diagnostics
        .iter()
        .find(|d| d.message.contains(fragment))
        .and_then(|d| d.span.map(|s| s.position).or(d.position))
        .map(|p| p.line)
}

#[test]
fn blocks_the_parent_passes_over_whole_reach_their_processes() {
    // Blocks of plain lines the parent skips are copied whole at once: nested blocks, a
    // closing brace of its own at the top level, a tab, an unknown keyword the process that
    // reads the block reports at its line, and a block of an unknown keyword (reported by the
    // parent, not copied whole) between them.
    let text = "global_defs {\n    router_id test\n}\n\
                vrrp_instance VI_1 {\n    interface eth0\n\tvirtual_router_id 51\n    \
                track_interface {\n        eth1\n    }\n    priority 150\n    bogus_keyword 1\n}\n\
                not_a_block_keyword {\n    x 1\n}\n\
                virtual_server 10.0.0.1 80 {\n    another_bogus 2\n    real_server 192.168.0.1 80 {\n        weight 3\n    }\n}\n\
                virtual_server 10.0.0.2 80 {\n    real_server 192.168.0.2 80 {\n    }\n}\n";
    let loaded = read(text);
    // The parent's own block is read, not passed over.
    assert_eq!(loaded.config.global.router_id.as_deref(), Some("test"));
    let instance = &loaded.config.instances[0];
    assert_eq!(instance.vrid, 51);
    assert_eq!(instance.priority, 150);
    assert_eq!(instance.track_interfaces.len(), 1);
    let servers = &loaded.config.virtual_servers;
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].real_servers[0].weight, 3);
    assert_eq!(servers[1].real_servers.len(), 1);
    let line_of = |fragment: &str| line_of(&loaded, fragment);
    assert_eq!(
        line_of("'bogus_keyword'"),
        Some(11),
        "{:#?}",
        loaded.diagnostics
    );
    assert_eq!(
        line_of("'not_a_block_keyword'"),
        Some(13),
        "{:#?}",
        loaded.diagnostics
    );
    assert_eq!(
        line_of("'another_bogus'"),
        Some(17),
        "{:#?}",
        loaded.diagnostics
    );
}

#[test]
fn a_block_the_parent_passes_over_reaches_its_process_line_for_line() {
    // The parent copies the lines of blocks it does not read in runs; blank lines, a line longer
    // than keepalived's and comments interrupt a run, and the lines after them must still be
    // copied, at their own line numbers.
    let long_comment = format!("    # {}", "x".repeat(1100));
    let text = format!(
        "global_defs {{\n    router_id test\n}}\nvrrp_instance VI_1 {{\n    interface eth0\n\n\
         \tvirtual_router_id 51   \n    # a comment\n{long_comment}\n    track_interface {{\n        eth1\n    }}\n\
         \x20   priority 150\n    bogus_keyword 1\n    virtual_ipaddress {{\n        192.0.2.1\n    }}\n}}\n\
         virtual_server 10.0.0.1 80 {{\n    another_bogus 2\n    real_server 192.168.0.1 80 {{\n    }}\n}}\n"
    );
    let loaded = read(&text);
    let instance = &loaded.config.instances[0];
    assert_eq!(instance.vrid, 51);
    assert_eq!(instance.priority, 150);
    assert_eq!(instance.track_interfaces.len(), 1);
    assert_eq!(instance.virtual_addresses.len(), 1);
    assert_eq!(loaded.config.virtual_servers[0].real_servers.len(), 1);
    let line_of = |fragment: &str| line_of(&loaded, fragment);
    assert_eq!(line_of("bytes long"), Some(9), "{:#?}", loaded.diagnostics);
    assert_eq!(
        line_of("'bogus_keyword'"),
        Some(14),
        "{:#?}",
        loaded.diagnostics
    );
    assert_eq!(
        line_of("'another_bogus'"),
        Some(20),
        "{:#?}",
        loaded.diagnostics
    );
}
