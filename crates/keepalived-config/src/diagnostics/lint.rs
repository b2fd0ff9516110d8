//! Our own warnings, for the pitfalls keepalived accepts without a word (or with a word nobody
//! understands). They never change the verdict.

use std::collections::BTreeSet;

use super::{Diagnostic, ErrorClass, Source};
use crate::model::Config;
use crate::model::vrrp::{Authentication, VrrpVersion};
use crate::process::Process;

fn lint(
    message: String,
    position: Option<crate::source::LinePosition>,
    hint: Option<String>,
) -> Diagnostic {
    Diagnostic {
        class: ErrorClass::Warning,
        message,
        position,
        span: None,
        process: Process::Vrrp,
        hint,
        source: Source::Lint,
    }
}

/// Lints about the meaning of a configuration as keepalived would run it.
pub fn config(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for i in &config.instances {
        if i.strict && !i.accept {
            out.push(lint(
                format!("({}) strict mode: no_accept is in force, keepalived will install firewall rules dropping traffic to the VIPs while this node is master", i.name),
                i.position,
                Some(match i.version {
                    VrrpVersion::V2 => "strict VRRPv2 refuses `accept`: use `version 3` and `accept` if the virtual addresses must answer (ping, services), or drop `vrrp_strict`",
                    VrrpVersion::V3 => "add `accept` to the instance if the virtual addresses must answer (ping, services), or drop `vrrp_strict`",
                }.into()),
            ));
        }
        let empty_password = match &i.authentication {
            Some(Authentication::Password(pass) | Authentication::Ah(pass)) => {
                pass.iter().all(|&b| b == 0)
            }
            None => false,
        };
        if empty_password {
            out.push(lint(
                format!("({}) the authentication password is empty", i.name),
                i.position,
                None,
            ));
        }
        if i.unicast_peers.is_empty()
            && i.source_address.is_some()
            && !i.virtual_addresses.is_empty()
            && i.interface.is_none()
        {
            out.push(lint(
                format!(
                    "({}) no interface and no unicast peers: the instance cannot send adverts",
                    i.name
                ),
                i.position,
                None,
            ));
        }
    }
    for vs in &config.virtual_servers {
        if vs.real_servers.iter().all(|r| r.weight == 0) {
            out.push(lint(
                "all real servers of a virtual server have weight 0: no traffic will be forwarded"
                    .into(),
                vs.position,
                None,
            ));
        }
    }
    out
}

/// Lints comparing two peers' configurations (the same VRRP instances on two nodes): VIP lists,
/// advert intervals, versions and passwords must agree or each side discards the other's
/// adverts (keepalived logs "unexpected ip number count" and both become master).
pub fn compare_peers(a: &Config, a_name: &str, b: &Config, b_name: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for x in &a.instances {
        for y in b
            .instances
            .iter()
            .filter(|y| y.vrid == x.vrid && y.family == x.family)
        {
            let vips = |i: &crate::model::VrrpInstance| {
                i.virtual_addresses
                    .iter()
                    .map(|v| v.prefix.address)
                    .collect::<BTreeSet<_>>()
            };
            let (vx, vy) = (vips(x), vips(y));
            if vx != vy {
                let only_x: Vec<String> = vx.difference(&vy).map(ToString::to_string).collect();
                let only_y: Vec<String> = vy.difference(&vx).map(ToString::to_string).collect();
                out.push(lint(
                    format!(
                        "VRID {}: the VIP lists of {} ({a_name}) and {} ({b_name}) differ (only in {a_name}: [{}]; only in {b_name}: [{}])",
                        x.vrid,
                        x.name,
                        y.name,
                        only_x.join(", "),
                        only_y.join(", ")
                    ),
                    x.position,
                    Some("peers discard adverts whose address list differs from theirs: both nodes become master".into()),
                ));
            }
            if x.advert_interval != y.advert_interval {
                out.push(lint(
                    format!(
                        "VRID {}: advert_int differs between {a_name} ({:?}) and {b_name} ({:?})",
                        x.vrid, x.advert_interval, y.advert_interval
                    ),
                    x.position,
                    Some("VRRPv2 peers drop adverts with another interval".into()),
                ));
            }
            if x.version != y.version {
                out.push(lint(
                    format!(
                        "VRID {}: VRRP version differs between {a_name} and {b_name}",
                        x.vrid
                    ),
                    x.position,
                    None,
                ));
            }
            if x.authentication != y.authentication {
                out.push(lint(
                    format!("VRID {}: authentication differs between {a_name} and {b_name} (after truncation to 8 characters)", x.vrid),
                    x.position,
                    None,
                ));
            }
        }
    }
    out
}
