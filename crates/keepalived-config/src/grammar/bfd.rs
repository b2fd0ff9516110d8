//! `bfd_instance NAME { … }`.

use std::time::Duration;

use super::keywords::{Keyword, kw};
use super::values::parse_address;
use super::walker::{HandlerResult, Line, Parser};
use crate::model::BfdInstance;
use crate::process::Process;

/// The keywords of `bfd_instance`.
pub static KEYWORDS: &[Keyword] = &[
    kw("source_ip", source_ip),
    kw("neighbor_ip", neighbor_ip),
    kw("neighbour_ip", neighbor_ip),
    kw("min_rx", |p, l| {
        milliseconds(p, l, "min_rx", 1, |b, d| b.min_rx = d)
    }),
    kw("min_tx", |p, l| {
        milliseconds(p, l, "min_tx", 1, |b, d| b.min_tx = d)
    }),
    kw("idle_tx", |p, l| {
        milliseconds(p, l, "idle_tx", 1000, |b, d| b.idle_tx = d)
    }),
    kw("multiplier", |p, l| {
        small(p, l, "multiplier value", 1, 255, |b, v| {
            b.multiplier = v as u8
        })
    }),
    kw("passive", |p, _| with(p, |b| b.passive = true)),
    kw("ttl", |p, l| {
        small(p, l, "ttl/hoplimit value", 1, 255, |b, v| {
            b.ttl = Some(v as u8)
        })
    }),
    kw("hoplimit", |p, l| {
        small(p, l, "ttl/hoplimit value", 1, 255, |b, v| {
            b.ttl = Some(v as u8)
        })
    }),
    kw("max_hops", |p, l| {
        small(p, l, "max_hops value", -1, 255, |b, v| {
            // -1: any number of hops (keepalived keeps it as 255, which skips the check).
            b.max_hops = Some(u8::try_from(v).unwrap_or(u8::MAX))
        })
    }),
    kw("weight", weight),
    kw("vrrp", |p, _| with(p, |b| b.vrrp_only = true)),
    kw("checker", |p, _| with(p, |b| b.checker_only = true)),
];

/// Whether this process checks BFD instances: the VRRP and checker processes read the blocks
/// only to learn the names (keepalived runs the BFD handlers in the BFD process only).
fn checks(p: &Parser<'_>) -> bool {
    p.process() == Process::Bfd
}

fn with(p: &mut Parser<'_>, f: impl FnOnce(&mut BfdInstance)) -> HandlerResult {
    if let Some((b, _)) = p.state.bfd.as_mut() {
        f(b);
    }
    Ok(())
}

fn current_name(p: &Parser<'_>) -> String {
    p.state
        .bfd
        .as_ref()
        .map(|(b, _)| b.name.clone())
        .unwrap_or_default()
}

/// `bfd_instance NAME`.
pub(super) fn bfd_instance(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = p.required(l, 1)?;
    if p.state
        .config
        .bfd_instances
        .iter()
        .any(|b| b.name == name.as_str())
    {
        p.error_at(
            name,
            format!(
                "Configuration error: BFD instance {} already configured, ignoring",
                name.as_str()
            ),
        );
        p.skip_block(true);
        return Ok(());
    }
    let mut bfd = BfdInstance::new(name.as_str());
    bfd.position = Some(name.span.position);
    p.state.bfd = Some((bfd, false));
    Ok(())
}

/// The end of a `bfd_instance` block: an instance without a neighbour is dropped.
pub(super) fn close(p: &mut Parser<'_>) -> HandlerResult {
    let Some((bfd, dropped)) = p.state.bfd.take() else {
        return Ok(());
    };
    if !checks(p) {
        p.state.config.bfd_instances.push(bfd);
        return Ok(());
    }
    if dropped {
        return Ok(());
    }
    if bfd.neighbor.is_none() {
        p.error(format!(
            "Configuration error: BFD instance {} has no neighbor address set, disabling instance",
            bfd.name
        ));
        return Ok(());
    }
    p.state.config.bfd_instances.push(bfd);
    Ok(())
}

fn neighbor_ip(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if !checks(p) {
        return Ok(());
    }
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match parse_address(w.as_str()) {
        Some(a) => with(p, |b| b.neighbor = Some(a)),
        None => {
            p.error_at(w, format!("Configuration error: BFD instance {name} has malformed neighbor address {}, ignoring instance", w.as_str()));
            if let Some((_, dropped)) = p.state.bfd.as_mut() {
                *dropped = true;
            }
            Ok(())
        }
    }
}

fn source_ip(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if !checks(p) {
        return Ok(());
    }
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match parse_address(w.as_str()) {
        Some(a) => with(p, |b| b.source = Some(a)),
        None => {
            p.error_at(w, format!("Configuration error: BFD instance {name} has malformed source address {}, ignoring", w.as_str()));
            Ok(())
        }
    }
}

fn milliseconds(
    p: &mut Parser<'_>,
    l: &Line,
    what: &str,
    min_ms: u64,
    set: fn(&mut BfdInstance, Duration),
) -> HandlerResult {
    if !checks(p) {
        return Ok(());
    }
    let w = p.required(l, 1)?;
    let name = current_name(p);
    // Milliseconds with up to three decimals.
    match p.decimal(w, 3, min_ms * 1000, 4_294_967 * 1000) {
        Some(us) => with(p, |b| set(b, Duration::from_micros(us))),
        None => {
            p.error_at(
                w,
                format!("Configuration error: BFD instance {name} {what} value {} is not valid (must be in range [{min_ms}-4294967]), ignoring", w.as_str()),
            );
            Ok(())
        }
    }
}

fn small(
    p: &mut Parser<'_>,
    l: &Line,
    what: &str,
    min: i64,
    max: i64,
    set: fn(&mut BfdInstance, i64),
) -> HandlerResult {
    if !checks(p) {
        return Ok(());
    }
    let w = p.required(l, 1)?;
    let name = current_name(p);
    // keepalived reads the non-negative ones as unsigned (so -1 is "negative").
    let value = if min >= 0 {
        p.unsigned(w, min as u64, max as u64).map(|v| v as i64)
    } else {
        p.int(w, min, max)
    };
    match value {
        Some(v) => with(p, |b| set(b, v)),
        None => {
            p.error_at(w, format!("Configuration error: BFD instance {name} {what} {} not valid (must be in range [{min}-{max}]), ignoring", w.as_str()));
            Ok(())
        }
    }
}

fn weight(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if !checks(p) {
        // The VRRP process needs the weight for the instances tracking the session; it takes
        // it without a word about bad values (the BFD process says those).
        if p.process() == Process::Vrrp {
            let value = l.text_of(1).and_then(|t| t.parse::<i32>().ok());
            let reverse = l.text_of(2) == Some("reverse");
            if let Some(v) = value.filter(|v| (-253..=253).contains(v)) {
                with(p, |b| {
                    b.weight = v;
                    b.weight_reverse = reverse;
                })?;
            }
        }
        return Ok(());
    }
    let w = p.required(l, 1)?;
    let name = current_name(p);
    match p.int(w, -253, 253) {
        Some(v) => {
            let reverse = l.text_of(2) == Some("reverse");
            with(p, |b| {
                b.weight = v as i32;
                b.weight_reverse = reverse;
            })
        }
        None => {
            p.error_at(w, format!("Configuration error: BFD instance {name} weight value {} not valid (must be in range [-253-253]), ignoring", w.as_str()));
            Ok(())
        }
    }
}
