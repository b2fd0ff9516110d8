//! The model, printed: what a configuration means once keepalived has read it.
//!
//! One block per object, every field with its effective value (defaults included), so that
//! "what does keepalived do with this file" can be read off directly.

use std::fmt::Write as _;
use std::time::Duration;

use crate::model::lvs::{Checker, CheckerKind, ForwardingMethod, ServiceAddress, VirtualServer};
use crate::model::net::IpAddress;
use crate::model::vrrp::{Authentication, VrrpInstance};
use crate::model::{Config, Script};

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

fn script(s: &Option<Script>) -> String {
    match s {
        None => "-".into(),
        Some(s) => {
            let user = s
                .user
                .as_ref()
                .map(|u| format!(" (as {}:{})", u.uid, u.gid))
                .unwrap_or_default();
            format!("{:?}{user}", s.argv)
        }
    }
}

fn address(a: &IpAddress) -> String {
    let mut s = a.prefix.to_string();
    if let Some(d) = &a.device {
        let _ = write!(s, " dev {d}");
    }
    if let Some(b) = &a.broadcast {
        let _ = write!(s, " brd {b:?}");
    }
    if let Some(sc) = &a.scope {
        let _ = write!(s, " scope {sc:?}");
    }
    if let Some(l) = &a.label {
        let _ = write!(s, " label {l}");
    }
    if let Some(p) = &a.peer {
        let _ = write!(s, " peer {p}");
    }
    for (flag, name) in [
        (a.no_track, "no_track"),
        (a.no_dad, "-nodad"),
        (a.home, "home"),
        (a.use_vmac, "use_vmac"),
    ] {
        if flag {
            let _ = write!(s, " {name}");
        }
    }
    s
}

fn instance(out: &mut String, i: &VrrpInstance) {
    let _ = writeln!(out, "vrrp_instance {}", i.name);
    let _ = writeln!(
        out,
        "  state {:?}, priority {}, VRID {}",
        i.initial_state, i.priority, i.vrid
    );
    let _ = writeln!(out, "  interface {}", i.interface.as_deref().unwrap_or("-"));
    let _ = writeln!(
        out,
        "  {:?} {}, advert every {}, down after {} adverts",
        i.version,
        i.family,
        secs(i.advert_interval),
        i.down_timer_adverts
    );
    let auth = match &i.authentication {
        None => "none".to_owned(),
        Some(Authentication::Password(p)) => format!(
            "PASS {:?}",
            String::from_utf8_lossy(p).trim_end_matches('\0')
        ),
        Some(Authentication::Ah(p)) => {
            format!("AH {:?}", String::from_utf8_lossy(p).trim_end_matches('\0'))
        }
    };
    let _ = writeln!(out, "  authentication {auth}");
    let _ = writeln!(
        out,
        "  preempt {}{}",
        i.preempt,
        if i.preempt_delay.is_zero() {
            String::new()
        } else {
            format!(", delay {}", secs(i.preempt_delay))
        }
    );
    let _ = writeln!(
        out,
        "  accept {}, strict {}, skip_check_adv_addr {}",
        i.accept, i.strict, i.skip_check_adv_addr
    );
    if i.unicast_peers.is_empty() {
        let _ = writeln!(out, "  multicast to {}", i.multicast_group);
    } else {
        let peers: Vec<String> = i
            .unicast_peers
            .iter()
            .map(|p| p.address.to_string())
            .collect();
        let _ = writeln!(
            out,
            "  unicast to {} (ttl {})",
            peers.join(", "),
            i.unicast_ttl
        );
    }
    if let Some(src) = i.source_address {
        let _ = writeln!(out, "  source address {src}");
    }
    for v in &i.virtual_addresses {
        let _ = writeln!(out, "  vip {}", address(v));
    }
    for v in &i.excluded_addresses {
        let _ = writeln!(out, "  excluded vip {}", address(v));
    }
    for r in &i.virtual_routes {
        let _ = writeln!(out, "  route {r:?}");
    }
    for r in &i.virtual_rules {
        let _ = writeln!(out, "  rule {r:?}");
    }
    for (what, list) in [
        ("interface", &i.track_interfaces),
        ("script", &i.track_scripts),
        ("file", &i.track_files),
        ("process", &i.track_processes),
        ("bfd", &i.track_bfds),
    ] {
        for t in list.iter() {
            let weight = t.weight.map(|w| format!(" weight {w}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  track {what} {}{weight}{}",
                t.name,
                if t.reverse { " reverse" } else { "" }
            );
        }
    }
    let n = &i.notify;
    for (name, s) in [
        ("master", &n.master),
        ("backup", &n.backup),
        ("fault", &n.fault),
        ("stop", &n.stop),
        ("deleted", &n.deleted),
        ("any", &n.any),
    ] {
        if s.is_some() {
            let _ = writeln!(out, "  notify {name} {}", script(s));
        }
    }
    let g = &i.garp;
    let _ = writeln!(
        out,
        "  garp: {} per burst, second burst after {}, refresh {} x{}",
        g.master_repeat,
        secs(g.master_delay),
        secs(g.master_refresh),
        g.master_refresh_repeat
    );
    if let Some(v) = &i.vmac {
        let _ = writeln!(out, "  vmac {:?}", v);
    }
    if let Some(s) = &i.sync_group {
        let _ = writeln!(out, "  sync group {s}");
    }
}

fn forwarding(f: &ForwardingMethod) -> String {
    match f {
        ForwardingMethod::Nat => "NAT".into(),
        ForwardingMethod::DirectRouting => "DR".into(),
        ForwardingMethod::Tunnel {
            tunnel_type,
            checksum,
        } => format!(
            "TUN {tunnel_type:?}{}",
            checksum.map(|c| format!(" {c:?}")).unwrap_or_default()
        ),
    }
}

fn checker(out: &mut String, c: &Checker) {
    let t = &c.timing;
    let _ = writeln!(
        out,
        "      {} connect_timeout {}, retry {}, delay_before_retry {}, delay_loop {}, warmup {}",
        c.kind.keyword(),
        secs(t.connect_timeout),
        t.retry,
        secs(t.delay_before_retry),
        secs(t.delay_loop),
        secs(t.warmup)
    );
    let co = &c.connection;
    if co != &Default::default() {
        let _ = writeln!(out, "        connection {co:?}");
    }
    match &c.kind {
        CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) => {
            for u in &h.urls {
                let _ = writeln!(
                    out,
                    "        url {} status {:?}{}",
                    u.path,
                    u.status_codes,
                    u.digest
                        .as_ref()
                        .map(|d| format!(" digest {d}"))
                        .unwrap_or_default()
                );
            }
        }
        CheckerKind::Misc(m) => {
            let _ = writeln!(
                out,
                "        misc_path {} dynamic {}",
                script(&m.path),
                m.dynamic
            );
        }
        CheckerKind::Tcp | CheckerKind::Ping => {}
        other => {
            let _ = writeln!(out, "        {other:?}");
        }
    }
}

fn virtual_server(out: &mut String, vs: &VirtualServer) {
    let service = match &vs.service {
        ServiceAddress::Address { address, port } => format!("{address} {port}"),
        ServiceAddress::Fwmark(m) => format!("fwmark {m}"),
        ServiceAddress::Group(g) => format!("group {g}"),
    };
    let _ = writeln!(out, "virtual_server {service}");
    let _ = writeln!(
        out,
        "  protocol {:?}, scheduler {}, method {}",
        vs.protocol,
        vs.scheduler,
        forwarding(&vs.forwarding)
    );
    if let Some(p) = &vs.persistence {
        let _ = writeln!(
            out,
            "  persistence {}{}",
            secs(p.timeout),
            p.granularity
                .map(|g| format!(" granularity {g}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        out,
        "  quorum {}, hysteresis {}, delay_loop {}",
        vs.quorum,
        vs.hysteresis,
        secs(vs.timing.delay_loop)
    );
    if let Some(s) = &vs.sorry_server {
        let _ = writeln!(
            out,
            "  sorry server {} {} {}",
            s.address,
            s.port,
            s.forwarding.as_ref().map(forwarding).unwrap_or_default()
        );
    }
    for rs in &vs.real_servers {
        let _ = writeln!(
            out,
            "    real_server {} {} weight {} method {}{}",
            rs.address,
            rs.port,
            rs.weight,
            forwarding(&rs.forwarding),
            if rs.inhibit_on_failure {
                " inhibit_on_failure"
            } else {
                ""
            }
        );
        for c in &rs.checkers {
            checker(out, c);
        }
    }
}

/// The whole model, as text.
pub fn dump(config: &Config) -> String {
    let mut out = String::new();
    let g = &config.global;
    let _ = writeln!(out, "global_defs");
    let _ = writeln!(
        out,
        "  router_id {}",
        g.router_id.as_deref().unwrap_or("(host name)")
    );
    let _ = writeln!(
        out,
        "  vrrp_version {}, vrrp_strict {}, script security {}",
        g.vrrp_version, g.vrrp_strict, g.script_security
    );
    if let Some(u) = &g.script_user {
        let _ = writeln!(out, "  script_user {} ({}:{})", u.user, u.uid, u.gid);
    }
    if !g.notification_email.is_empty() {
        let _ = writeln!(
            out,
            "  notification_email {}",
            g.notification_email.join(", ")
        );
    }
    if let Some(s) = &g.smtp_server {
        let _ = writeln!(out, "  smtp_server {}:{}", s.address, s.port);
    }
    for a in &config.static_addresses {
        let _ = writeln!(out, "static address {}", address(a));
    }
    for r in &config.static_routes {
        let _ = writeln!(out, "static route {r:?}");
    }
    for r in &config.static_rules {
        let _ = writeln!(out, "static rule {r:?}");
    }
    for s in &config.vrrp_scripts {
        let _ = writeln!(
            out,
            "vrrp_script {}: {} every {} (timeout {}), weight {}{}, rise {}, fall {}",
            s.name,
            script(&Some(s.script.clone())),
            secs(s.interval),
            secs(s.timeout),
            s.weight,
            if s.weight_reverse { " reverse" } else { "" },
            s.rise,
            s.fall
        );
    }
    for t in &config.track_files {
        let _ = writeln!(out, "track_file {}: {} weight {}", t.name, t.path, t.weight);
    }
    for t in &config.track_processes {
        let _ = writeln!(
            out,
            "vrrp_track_process {}: {:?} quorum {} weight {}",
            t.name, t.process, t.quorum, t.weight
        );
    }
    for b in &config.bfd_instances {
        let _ = writeln!(out, "bfd_instance {b:?}");
    }
    for s in &config.sync_groups {
        let _ = writeln!(out, "vrrp_sync_group {}: {}", s.name, s.members.join(", "));
    }
    for i in &config.instances {
        instance(&mut out, i);
    }
    for g in &config.virtual_server_groups {
        let _ = writeln!(out, "virtual_server_group {}: {:?}", g.name, g.entries);
    }
    for vs in &config.virtual_servers {
        virtual_server(&mut out, vs);
    }
    out
}
