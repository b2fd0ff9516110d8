use super::*;
use ipvs::model::{Netmask, Tunnel};

fn numeric() -> Format {
    Format {
        numeric: true,
        ..Format::default()
    }
}

fn rule() -> Format {
    Format {
        numeric: true,
        rule: true,
        ..Format::default()
    }
}

fn web_service() -> Service {
    Service::new(ServiceKey::tcp("10.0.0.1".parse().unwrap(), 80)).with_scheduler("rr")
}

fn masq(address: &str, port: u16, weight: i32) -> Destination {
    Destination::new(address.parse().unwrap(), port)
        .with_forwarding(ForwardingMethod::Masquerade)
        .with_weight(weight)
}

#[test]
fn plain_listing() {
    let mut destinations = vec![masq("10.0.0.3", 80, 1), masq("10.0.0.2", 80, 3)];
    let block = service_block(&web_service(), &mut destinations, &numeric());
    assert_eq!(
        block,
        "TCP  10.0.0.1:80 rr\n  -> 10.0.0.2:80                  Masq    3      0          0         \n  -> 10.0.0.3:80                  Masq    1      0          0         \n"
    );
}

#[test]
fn rules() {
    let service = web_service()
        .with_persistence(300)
        .with_netmask(Netmask::Ipv4("255.255.255.0".parse().unwrap()));
    let mut destinations = vec![
        masq("10.0.0.2", 8080, 2),
        Destination::new("10.0.0.4".parse().unwrap(), 80)
            .with_forwarding(ForwardingMethod::Tunnel)
            .with_tunnel(Tunnel {
                kind: TunnelType::Gue,
                port: 6080,
                flags: TunnelFlags::REMOTE_CHECKSUM,
            }),
    ];
    assert_eq!(
        service_block(&service, &mut destinations, &rule()),
        "-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0\n\
         -a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 2\n\
         -a -t 10.0.0.1:80 -r 10.0.0.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum\n"
    );
}

#[test]
fn fwmark_names() {
    let service =
        Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, u32::MAX)).with_scheduler("wrr");
    assert_eq!(
        service_block(&service, &mut [], &rule()),
        "-A -f -1 -6 -s wrr\n"
    );
    assert_eq!(
        service_block(&service, &mut [], &numeric()),
        "FWM  -1 IPv6 wrr\n"
    );
}

#[test]
fn flags_persistence_and_ops() {
    let mut service = Service::new(ServiceKey::udp("10.0.0.1".parse().unwrap(), 5060))
        .with_scheduler("rr")
        .with_persistence(300)
        .with_netmask(Netmask::Ipv4("255.255.255.0".parse().unwrap()))
        .with_persistence_engine("sip")
        .with_flags(ServiceFlags::ONE_PACKET | ServiceFlags::SCHED2);
    assert_eq!(
        service_block(&service, &mut [], &numeric()),
        "UDP  10.0.0.1:5060 rr (flag-2) persistent 300 mask 255.255.255.0 pe sip ops\n"
    );
    service.scheduler = "sh".to_owned();
    assert_eq!(
        service_block(&service, &mut [], &rule()),
        "-A -u 10.0.0.1:5060 -s sh -p 300 -M 255.255.255.0 --pe sip -o -b sh-port\n"
    );
}

#[test]
fn stats_columns_and_largenum() {
    let mut service = web_service();
    service.stats64 = Some(Stats {
        connections: 10,
        in_packets: 123_456_789,
        in_bytes: 12_345_678_901,
        ..Stats::default()
    });
    let format = Format {
        numeric: true,
        stats: true,
        ..Format::default()
    };
    assert_eq!(
        service_block(&service, &mut [], &format),
        "TCP  10.0.0.1:80                        10  123456K        0   12345M        0\n"
    );
    let exact = Format {
        exact: true,
        ..format
    };
    assert_eq!(
        service_block(&service, &mut [], &exact),
        "TCP  10.0.0.1:80                        10 123456789        0 12345678901        0\n"
    );
}

#[test]
fn titles() {
    assert_eq!(
        title(&Format {
            thresholds: true,
            ..Format::default()
        }),
        "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    );
    assert_eq!(
        title(&Format {
            stats: true,
            ..Format::default()
        }),
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n"
    );
}

#[test]
fn daemons() {
    let mut master = SyncDaemon::new(DaemonState::Master, "eth0");
    master.max_length = Some(1472);
    master.group = Some("224.0.0.81".parse().unwrap());
    master.port = Some(8848);
    master.ttl = Some(1);
    assert_eq!(
        daemon_lines(&[master]),
        "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
    );
}
