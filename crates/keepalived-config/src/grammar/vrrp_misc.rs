//! The smaller VRRP blocks: `garp_group`, `track_group`, `linkbeat_interfaces`,
//! `interface_up_down_delays`.

use std::time::Duration;

use super::keywords::{Keyword, kw};
use super::walker::{HandlerResult, Line, Parser};
use crate::diagnostics::ErrorClass;
use crate::model::vrrp::{GarpGroup, InterfaceDelay, LinkbeatMethod, TrackGroup};

/// The keywords of `garp_group`.
pub static GARP_GROUP_KEYWORDS: &[Keyword] = &[
    kw("garp_interval", |p, l| garp_interval(p, l, true)),
    kw("gna_interval", |p, l| garp_interval(p, l, false)),
    kw("interface", garp_interface),
    kw("interfaces", garp_interfaces),
];

/// `garp_group`.
pub(super) fn garp_group(p: &mut Parser<'_>, _l: &Line) -> HandlerResult {
    p.state.garp_group = Some(GarpGroup::default());
    Ok(())
}

/// The end of a `garp_group` block: a group without delays is dropped.
pub(super) fn garp_group_close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(group) = p.state.garp_group.take() else {
        return Ok(());
    };
    if group.garp_interval.is_none() && group.gna_interval.is_none() {
        p.error(format!(
            "garp group {} does not have any delay set - removing",
            group.aggregation_group
        ));
        return Ok(());
    }
    p.state.config.garp_groups.push(group);
    Ok(())
}

fn garp_interval(p: &mut Parser<'_>, l: &Line, garp: bool) -> HandlerResult {
    let w = p.required(l, 1)?;
    let Some(us) = p.decimal(w, 6, 0, i32::MAX as u64) else {
        let name = if garp {
            "garp_interval"
        } else {
            "gna_interval"
        };
        p.error_at(w, format!("garp_group {name} '{}' invalid", w.as_str()));
        return Ok(());
    };
    {
        if us >= 1_000_000 {
            p.log(format!(
                "The {} is very large - {} seconds",
                if garp {
                    "garp_interval"
                } else {
                    "gna_interval"
                },
                w.as_str()
            ));
        }
        if let Some(g) = p.state.garp_group.as_mut() {
            let d = Some(Duration::from_micros(us));
            if garp {
                g.garp_interval = d;
            } else {
                g.gna_interval = d;
            }
        }
    }
    Ok(())
}

fn add_garp_interface(p: &mut Parser<'_>, token: &crate::lexer::Token, flag_missing: bool) {
    if !p.env.interface_exists(token.as_str()) {
        p.error_at(
            token,
            format!(
                "WARNING - interface {} specified for garp_group doesn't exist",
                token.as_str()
            ),
        );
        if flag_missing {
            p.state.non_existent_interface = true;
        }
        return;
    }
    let taken = p
        .state
        .config
        .garp_groups
        .iter()
        .any(|g| g.interfaces.iter().any(|i| i == token.as_str()));
    if taken {
        p.error_at(
            token,
            format!(
                "garp_group already specified for {} - ignoring",
                token.as_str()
            ),
        );
        return;
    }
    if let Some(g) = p.state.garp_group.as_mut() {
        g.interfaces.push(token.text.as_str().to_owned());
    }
}

fn garp_interface(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?.clone();
    add_garp_interface(p, &w, true);
    Ok(())
}

fn garp_interfaces(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let words = p.value_block_words(l)?;
    if words.is_empty() {
        p.error("Warning - empty garp_group interfaces block");
        return Ok(());
    }
    // Numbered after the groups kept so far that also list their interfaces this way.
    let number = 1 + p
        .state
        .config
        .garp_groups
        .iter()
        .filter(|g| g.aggregation_group != 0)
        .count() as u32;
    if let Some(g) = p.state.garp_group.as_mut() {
        g.aggregation_group = number;
    }
    for w in &words {
        add_garp_interface(p, w, p.globals.dynamic_interfaces.is_none());
    }
    Ok(())
}

/// The keywords of `track_group`.
pub static TRACK_GROUP_KEYWORDS: &[Keyword] = &[kw("group", track_group_members)];

/// `track_group NAME`.
pub(super) fn track_group(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(name) = l.word(1) else {
        p.error("track_group must have a name - skipping");
        p.skip_block(true);
        return Ok(());
    };
    if p.state
        .config
        .track_groups
        .iter()
        .any(|g| g.name == name.as_str())
    {
        p.error_at(
            name,
            format!("track_group {} already defined", name.as_str()),
        );
        p.skip_block(true);
        return Ok(());
    }
    p.state.track_group = Some(TrackGroup {
        name: name.text.as_str().to_owned(),
        instances: Vec::new(),
    });
    Ok(())
}

/// The end of a `track_group` block.
pub(super) fn track_group_close(p: &mut Parser<'_>) -> HandlerResult {
    if let Some(group) = p.state.track_group.take() {
        p.state.config.track_groups.push(group);
    }
    Ok(())
}

fn track_group_members(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let words = p.value_block_words(l)?;
    if let Some(g) = p.state.track_group.as_mut() {
        g.instances.extend(words.into_iter().map(|t| t.text.into()));
    }
    Ok(())
}

/// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] … }`.
pub(super) fn linkbeat_interfaces(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    p.value_block(l, |p, words| {
        let name = &words[0];
        if !p.env.interface_exists(name.as_str()) {
            p.report_at(
                ErrorClass::Fatal,
                name,
                format!(
                    "unknown interface {} specified for linkbeat interface",
                    name.as_str()
                ),
            );
            return Ok(());
        }
        let method = match words.get(1).map(|w| w.as_str()) {
            None | Some("MII") => LinkbeatMethod::Mii,
            Some("ETHTOOL") => LinkbeatMethod::Ethtool,
            Some("IOCTL") => LinkbeatMethod::Ioctl,
            Some(other) => {
                p.error_at(
                    &words[1],
                    format!("Unknown linkbeat type {other} for {}", name.as_str()),
                );
                LinkbeatMethod::Mii
            }
        };
        p.state
            .config
            .linkbeat_interfaces
            .push((name.text.as_str().to_owned(), method));
        Ok(())
    })
}

/// `interface_up_down_delays { IF DOWN [UP] … }`.
pub(super) fn interface_up_down_delays(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    p.value_block(l, |p, words| {
        let name = &words[0];
        if !p.env.interface_exists(name.as_str()) && p.globals.dynamic_interfaces.is_none() {
            p.report_at(
                ErrorClass::Fatal,
                name,
                format!(
                    "unknown interface {} specified for up/down delay",
                    name.as_str()
                ),
            );
            return Ok(());
        }
        if words.len() < 2 {
            p.log(format!(
                "No timeouts specified for {} up/down delays",
                name.as_str()
            ));
            return Ok(());
        }
        let read = |p: &mut Parser<'_>, i: usize| {
            let (messages, v) = super::values::read_timer(words[i].as_str(), 0, 255 * 1_000_000);
            for message in messages {
                p.report_at(ErrorClass::InvalidNumber, &words[i], message);
            }
            if v.is_none() {
                p.log(format!(
                    "Invalid {} delay {} for {}",
                    if i == 1 { "down" } else { "up" },
                    words[i].as_str(),
                    name.as_str()
                ));
            }
            v
        };
        let Some(down) = read(p, 1) else {
            return Ok(());
        };
        let up = if words.len() > 2 {
            match read(p, 2) {
                Some(u) => u,
                None => return Ok(()),
            }
        } else {
            Duration::ZERO
        };
        p.state.config.interface_delays.push(InterfaceDelay {
            interface: name.text.as_str().to_owned(),
            down,
            up,
        });
        Ok(())
    })
}
