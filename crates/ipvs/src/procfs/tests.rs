use super::*;

/// As kernel 6.1 prints it (`ip_vs_info_seq_show`): IPv4, IPv6, one-packet, fwmark of both
/// families with the same mark, an empty service, every forwarding method.
const LISTING: &str = "\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A000001:0050 rr 
  -> 0A000003:1F90      Masq    1      12         3         
  -> 0A000002:1F90      Tunnel  3      0          0         
UDP  0A000001:0035 wlc ops 
  -> 0A000002:0035      Route   0      0          7         
TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB sh persistent 300 FFFFFFFF
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:01BB      Local   2      0          0         
SCTP  0A000009:0BB8 rr 
FWM  00000005 rr 
  -> 0A000002:0000      Route   1      0          0         
FWM  00000005 rr 
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0000      Route   1      0          0         
FWM  00000007 lc 
  -> 0A000004:0000      Route   4      1          2         
";

fn v4(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

fn listed(
    table: &ProcTable,
    key: ServiceKey,
) -> Vec<(IpAddr, u16, ForwardingMethod, i32, u32, u32)> {
    table
        .destinations(&key)
        .expect("the service is listed")
        .iter()
        .map(|d| {
            (
                d.address,
                d.port,
                d.forwarding,
                d.weight,
                d.active_connections,
                d.inactive_connections,
            )
        })
        .collect()
}

#[test]
fn destinations_of_each_service_in_the_kernels_order() {
    let table = ProcTable::parse(LISTING).expect("the listing parses");
    assert_eq!(
        listed(&table, ServiceKey::tcp(v4("10.0.0.1"), 80)),
        vec![
            (v4("10.0.0.3"), 8080, ForwardingMethod::Masquerade, 1, 12, 3),
            (v4("10.0.0.2"), 8080, ForwardingMethod::Tunnel, 3, 0, 0),
        ]
    );
    assert_eq!(
        listed(&table, ServiceKey::udp(v4("10.0.0.1"), 53)),
        vec![(v4("10.0.0.2"), 53, ForwardingMethod::DirectRoute, 0, 0, 7)]
    );
    assert_eq!(
        listed(&table, ServiceKey::tcp(v4("2001:db8::1"), 443)),
        vec![(v4("2001:db8::2"), 443, ForwardingMethod::Local, 2, 0, 0)]
    );
    let sctp = ServiceKey::Address {
        protocol: Protocol::Sctp,
        address: v4("10.0.0.9"),
        port: 3000,
    };
    assert_eq!(listed(&table, sctp), vec![]);
    let mark7 = ServiceKey::Fwmark {
        family: crate::model::AddressFamily::Ipv4,
        mark: 7,
    };
    assert_eq!(
        listed(&table, mark7),
        vec![(v4("10.0.0.4"), 0, ForwardingMethod::DirectRoute, 4, 1, 2)]
    );
}

#[test]
fn a_mark_of_two_services_and_an_unlisted_service_are_left_to_netlink() {
    let table = ProcTable::parse(LISTING).expect("the listing parses");
    for family in [
        crate::model::AddressFamily::Ipv4,
        crate::model::AddressFamily::Ipv6,
    ] {
        assert!(
            table
                .destinations(&ServiceKey::Fwmark { family, mark: 5 })
                .is_none()
        );
    }
    assert!(
        table
            .destinations(&ServiceKey::tcp(v4("10.0.0.1"), 81))
            .is_none()
    );
}

#[test]
fn an_empty_table_and_unknown_text() {
    let empty = ProcTable::parse(&LISTING.lines().take(3).collect::<Vec<_>>().join("\n"))
        .expect("the headers parse");
    assert!(
        empty
            .destinations(&ServiceKey::tcp(v4("10.0.0.1"), 80))
            .is_none()
    );

    for bad in [
        "  -> 0A000002:1F90      Masq    1      0          0\n",
        "TCP  0A000001:0050 rr\n  -> 0A000002:1F90      Bypass  1      0          0\n",
        "TCP  0A000001:0050 rr\n  -> 0A000002:1F90      Masq    x      0          0\n",
        "TCP  0A000001:0050 rr\n  -> 0A000002:1F90      Masq    1      0\n",
        "TCP  0A000001:0050 rr\n  -> 0A000002:1F90      Masq    1      0    0    0\n",
        "ICMP  0A000001:0050 rr\n",
        "TCP  0A0001:0050 rr\n",
        "TCP  0A000001:50 rr\n",
        "TCP  [2001:db8::1:0050 rr\n",
        "FWM  zz rr\n",
        "TCP  0A000001:0050\n",
    ] {
        let error = ProcTable::parse(bad).expect_err(bad);
        assert!(error.line >= 1, "{error}");
    }
}
