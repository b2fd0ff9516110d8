//! `ipvsadm -L --json`: the table for programs, so that they need not parse the columns of
//! `-Ln`. Addresses are always numeric, counters exact, and every setting and counter is
//! present whatever listing options come with it.

use std::net::IpAddr;

use ipvs::model::{
    AddressFamily, DaemonState, Destination, ForwardingMethod, Info, Netmask, Protocol, Service,
    ServiceFlags, ServiceKey, Stats, SyncDaemon, Timeouts, TunnelFlags, TunnelType,
};
use ipvs::table::VirtualService;
use serde_json::{Value, json};

/// The services with their destinations, and what the kernel says of itself.
pub fn table(info: &Info, services: &[VirtualService]) -> String {
    document(json!({
        "version": info.version.to_string(),
        "connection_table_size": info.connection_table_size,
        "services": services.iter().map(service).collect::<Vec<_>>(),
    }))
}

/// `--timeout`.
pub fn timeouts(timeouts: &Timeouts) -> String {
    document(json!({
        "timeouts": { "tcp": timeouts.tcp, "tcp_fin": timeouts.tcp_fin, "udp": timeouts.udp }
    }))
}

/// `--daemon`.
pub fn daemons(daemons: &[SyncDaemon]) -> String {
    document(json!({ "daemons": daemons.iter().map(daemon).collect::<Vec<_>>() }))
}

fn document(value: Value) -> String {
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn service(entry: &VirtualService) -> Value {
    let service = &entry.service;
    let mut object = key(&service.key);
    let persistence = service.is_persistent().then(|| {
        json!({
            "timeout": service.timeout,
            "netmask": netmask(service.netmask),
        })
    });
    let fields = json!({
        "scheduler": service.scheduler,
        "flags": service_flags(service),
        "persistence": persistence,
        "persistence_engine": service.persistence_engine.as_deref().filter(|e| !e.is_empty()),
        "stats": stats(service.statistics()),
        "rates": rates(service.statistics()),
        "destinations": entry.destinations.iter().map(destination).collect::<Vec<_>>(),
    });
    merge(&mut object, fields);
    object
}

fn key(key: &ServiceKey) -> Value {
    match key {
        ServiceKey::Address {
            protocol,
            address,
            port,
        } => json!({
            "family": family(AddressFamily::of(address)),
            "protocol": protocol_name(*protocol),
            "address": address.to_string(),
            "port": port,
        }),
        ServiceKey::Fwmark { family: f, mark } => json!({
            "family": family(*f),
            "fwmark": mark,
        }),
    }
}

fn destination(destination: &Destination) -> Value {
    let tunnel = (destination.forwarding == ForwardingMethod::Tunnel).then(|| {
        let t = &destination.tunnel;
        json!({
            "type": match t.kind {
                TunnelType::Ipip => "ipip".to_owned(),
                TunnelType::Gue => "gue".to_owned(),
                TunnelType::Gre => "gre".to_owned(),
                TunnelType::Other(n) => n.to_string(),
            },
            "port": t.port,
            "checksum": if t.flags.contains(TunnelFlags::REMOTE_CHECKSUM) {
                "remote"
            } else if t.flags.contains(TunnelFlags::CHECKSUM) {
                "checksum"
            } else {
                "none"
            },
        })
    });
    json!({
        "family": family(destination.family()),
        "address": address(destination.address),
        "port": destination.port,
        "forwarding": match destination.forwarding {
            ForwardingMethod::Masquerade => "masq".to_owned(),
            ForwardingMethod::Local => "local".to_owned(),
            ForwardingMethod::Tunnel => "tunnel".to_owned(),
            ForwardingMethod::DirectRoute => "route".to_owned(),
            ForwardingMethod::Other(n) => n.to_string(),
        },
        "weight": destination.weight,
        "upper_threshold": destination.upper_threshold,
        "lower_threshold": destination.lower_threshold,
        "tunnel": tunnel,
        "active_connections": destination.active_connections,
        "inactive_connections": destination.inactive_connections,
        "persistent_connections": destination.persistent_connections,
        "stats": stats(destination.statistics()),
        "rates": rates(destination.statistics()),
    })
}

fn daemon(daemon: &SyncDaemon) -> Value {
    json!({
        "state": match daemon.state {
            DaemonState::Master => "master".to_owned(),
            DaemonState::Backup => "backup".to_owned(),
            DaemonState::Other(n) => n.to_string(),
        },
        "interface": daemon.interface,
        "sync_id": daemon.sync_id,
        "max_length": daemon.max_length,
        "group": daemon.group.map(address),
        "port": daemon.port,
        "ttl": daemon.ttl,
    })
}

fn stats(stats: Option<&Stats>) -> Value {
    let s = stats.copied().unwrap_or_default();
    json!({
        "connections": s.connections,
        "in_packets": s.in_packets,
        "out_packets": s.out_packets,
        "in_bytes": s.in_bytes,
        "out_bytes": s.out_bytes,
    })
}

fn rates(stats: Option<&Stats>) -> Value {
    let s = stats.copied().unwrap_or_default();
    json!({
        "connections_per_second": s.cps,
        "in_packets_per_second": s.in_pps,
        "out_packets_per_second": s.out_pps,
        "in_bytes_per_second": s.in_bps,
        "out_bytes_per_second": s.out_bps,
    })
}

fn service_flags(service: &Service) -> Vec<&'static str> {
    let (first, second) = match service.scheduler.as_str() {
        "sh" => ("sh-fallback", "sh-port"),
        "mh" => ("mh-fallback", "mh-port"),
        _ => ("flag-1", "flag-2"),
    };
    [
        (ServiceFlags::PERSISTENT, "persistent"),
        (ServiceFlags::ONE_PACKET, "one-packet"),
        (ServiceFlags::SCHED1, first),
        (ServiceFlags::SCHED2, second),
        (ServiceFlags::SCHED3, "flag-3"),
    ]
    .into_iter()
    .filter(|(flag, _)| service.flags.contains(*flag))
    .map(|(_, name)| name)
    .collect()
}

fn netmask(netmask: Netmask) -> Value {
    match netmask {
        Netmask::Ipv4(mask) => json!(mask.to_string()),
        Netmask::Ipv6Prefix(prefix) => json!(prefix),
    }
}

fn family(family: AddressFamily) -> &'static str {
    match family {
        AddressFamily::Ipv4 => "ipv4",
        AddressFamily::Ipv6 => "ipv6",
    }
}

fn protocol_name(protocol: Protocol) -> String {
    match protocol {
        Protocol::Tcp => "tcp".to_owned(),
        Protocol::Udp => "udp".to_owned(),
        Protocol::Sctp => "sctp".to_owned(),
        Protocol::Other(n) => n.to_string(),
    }
}

fn address(address: IpAddr) -> String {
    address.to_string()
}

fn merge(object: &mut Value, fields: Value) {
    if let (Value::Object(target), Value::Object(source)) = (object, fields) {
        target.extend(source);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use ipvs::model::{Info, Version};

    use super::*;

    #[test]
    fn a_table_lists_every_setting_and_counter() {
        let key = ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1).into(), 80);
        let mut service = Service::new(key).with_scheduler("sh").with_persistence(300);
        service.flags.insert(ServiceFlags::SCHED2);
        service.stats64 = Some(Stats {
            connections: 5_000_000_000,
            ..Stats::default()
        });
        let mut real = Destination::new(Ipv4Addr::new(10, 0, 0, 2).into(), 8080)
            .with_forwarding(ForwardingMethod::Masquerade)
            .with_weight(3);
        real.active_connections = 4;
        let info = Info {
            version: Version(0x010201),
            connection_table_size: 4096,
        };
        let text = table(
            &info,
            &[VirtualService {
                service,
                destinations: vec![real],
            }],
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["version"], "1.2.1");
        let service = &value["services"][0];
        assert_eq!(service["protocol"], "tcp");
        assert_eq!(service["address"], "10.0.0.1");
        assert_eq!(service["port"], 80);
        assert_eq!(service["flags"], json!(["persistent", "sh-port"]));
        assert_eq!(service["persistence"]["timeout"], 300);
        assert_eq!(service["persistence"]["netmask"], "255.255.255.255");
        assert_eq!(service["stats"]["connections"], 5_000_000_000u64);
        let real = &service["destinations"][0];
        assert_eq!(real["forwarding"], "masq");
        assert_eq!(real["weight"], 3);
        assert_eq!(real["active_connections"], 4);
        assert_eq!(real["tunnel"], Value::Null);
    }

    /// docs/ipvsadm-json.schema.json, the documented shape of the output.
    const SCHEMA: &str = include_str!("../../../../docs/ipvsadm-json.schema.json");

    /// Checks `value` against `schema` (the subset of JSON Schema 2020-12 the documented schema
    /// uses; any other keyword is refused, so the schema cannot say more than is checked).
    fn validate(root: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
        let Some(rules) = schema.as_object() else {
            return Err(format!("{path}: schema is not an object"));
        };
        for (keyword, rule) in rules {
            match keyword.as_str() {
                "$schema" | "$id" | "title" | "description" | "$defs" => {}
                "$ref" => {
                    let name = rule
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/$defs/"))
                        .ok_or_else(|| format!("{path}: unsupported $ref {rule}"))?;
                    validate(root, &root["$defs"][name], value, path)?;
                }
                "type" => {
                    let types: Vec<&str> = match rule {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                        _ => return Err(format!("{path}: bad type rule")),
                    };
                    let ok = types.iter().any(|t| match *t {
                        "null" => value.is_null(),
                        "string" => value.is_string(),
                        "integer" => value.is_i64() || value.is_u64(),
                        "number" => value.is_number(),
                        "object" => value.is_object(),
                        "array" => value.is_array(),
                        "boolean" => value.is_boolean(),
                        _ => false,
                    });
                    if !ok {
                        return Err(format!("{path}: {value} is not {types:?}"));
                    }
                }
                "enum" => {
                    if !rule
                        .as_array()
                        .is_some_and(|options| options.contains(value))
                    {
                        return Err(format!("{path}: {value} not in {rule}"));
                    }
                }
                "minimum" | "maximum" => {
                    if let (Some(n), Some(limit)) = (value.as_f64(), rule.as_f64()) {
                        let fine = if keyword == "minimum" {
                            n >= limit
                        } else {
                            n <= limit
                        };
                        if !fine {
                            return Err(format!("{path}: {n} beyond {keyword} {limit}"));
                        }
                    }
                }
                "required" => {
                    for name in rule
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        if value.get(name).is_none() {
                            return Err(format!("{path}: {name} missing"));
                        }
                    }
                }
                "properties" => {
                    for (name, sub) in rule.as_object().into_iter().flatten() {
                        if let Some(field) = value.get(name) {
                            validate(root, sub, field, &format!("{path}.{name}"))?;
                        }
                    }
                }
                "additionalProperties" => {
                    let known = rules.get("properties").and_then(Value::as_object);
                    for name in value.as_object().into_iter().flatten().map(|(k, _)| k) {
                        if rule == &Value::Bool(false)
                            && !known.is_some_and(|k| k.contains_key(name))
                        {
                            return Err(format!("{path}: unexpected {name}"));
                        }
                    }
                }
                "items" => {
                    for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                        validate(root, rule, item, &format!("{path}[{i}]"))?;
                    }
                }
                "oneOf" => {
                    let matching = rule
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|sub| validate(root, sub, value, path).is_ok())
                        .count();
                    if matching != 1 {
                        return Err(format!("{path}: {matching} of oneOf match {value}"));
                    }
                }
                other => return Err(format!("{path}: keyword {other} not supported")),
            }
        }
        Ok(())
    }

    fn check_against_schema(text: &str) -> Result<(), String> {
        let schema: Value = serde_json::from_str(SCHEMA).map_err(|e| e.to_string())?;
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        validate(&schema, &schema, &value, "$")
    }

    #[test]
    fn output_follows_the_documented_schema() {
        use std::net::Ipv6Addr;
        let info = Info {
            version: Version(0x010201),
            connection_table_size: 4096,
        };
        let mut tcp = Service::new(ServiceKey::tcp(Ipv4Addr::new(10, 0, 0, 1).into(), 80))
            .with_scheduler("mh")
            .with_persistence(300);
        tcp.flags.insert(ServiceFlags::SCHED1);
        tcp.persistence_engine = Some("sip".to_owned());
        let mut tunnelled = Destination::new(Ipv4Addr::new(10, 0, 1, 1).into(), 80)
            .with_forwarding(ForwardingMethod::Tunnel);
        tunnelled.tunnel.kind = TunnelType::Gue;
        tunnelled.tunnel.port = 6080;
        tunnelled.tunnel.flags.insert(TunnelFlags::CHECKSUM);
        let routed = Destination::new(Ipv4Addr::new(10, 0, 1, 2).into(), 80)
            .with_forwarding(ForwardingMethod::DirectRoute);
        let mut fwmark = Service::new(ServiceKey::fwmark(AddressFamily::Ipv6, 7));
        fwmark.netmask = Netmask::Ipv6Prefix(64);
        fwmark = fwmark.with_persistence(60);
        let v6 = Destination::new(Ipv6Addr::LOCALHOST.into(), 0)
            .with_forwarding(ForwardingMethod::Local);
        let text = table(
            &info,
            &[
                VirtualService {
                    service: tcp,
                    destinations: vec![tunnelled, routed],
                },
                VirtualService {
                    service: fwmark,
                    destinations: vec![v6],
                },
            ],
        );
        check_against_schema(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let text = timeouts(&Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        });
        check_against_schema(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut backup = SyncDaemon::new(DaemonState::Backup, "eth1");
        backup.group = Some(Ipv4Addr::new(224, 0, 0, 81).into());
        backup.port = Some(8848);
        let text = daemons(&[SyncDaemon::new(DaemonState::Master, "eth0"), backup]);
        check_against_schema(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }

    #[test]
    fn the_schema_check_catches_drift() {
        // A key the schema does not know, a missing one, a wrong type: each is reported.
        let good = timeouts(&Timeouts {
            tcp: 1,
            tcp_fin: 2,
            udp: 3,
        });
        assert!(check_against_schema(&good).is_ok());
        for bad in [
            r#"{"timeouts": {"tcp": 1, "tcp_fin": 2, "udp": 3, "sctp": 4}}"#,
            r#"{"timeouts": {"tcp": 1, "tcp_fin": 2}}"#,
            r#"{"timeouts": {"tcp": "1", "tcp_fin": 2, "udp": 3}}"#,
            r#"{"version": "1.2.1", "connection_table_size": 4096, "services": [{"family": "ipv4"}]}"#,
        ] {
            assert!(check_against_schema(bad).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn fwmark_services_carry_their_mark_and_family() {
        let value = key(&ServiceKey::fwmark(AddressFamily::Ipv6, 7));
        assert_eq!(value, json!({"family": "ipv6", "fwmark": 7}));
    }
}
