//! `vrrp_sync_group NAME { … }`.

use super::keywords::{Keyword, kw};
use super::tracking::{self, Tracker};
use super::walker::{HandlerResult, Line, Parser};
use crate::model::vrrp::NotifyScripts;
use crate::model::{Script, SyncGroup};

/// The keywords of `vrrp_sync_group`.
pub static KEYWORDS: &[Keyword] = &[
    kw("group", group),
    kw("track_interface", |p, l| trackers(p, l, Tracker::Interface)),
    kw("track_script", |p, l| trackers(p, l, Tracker::Script)),
    kw("track_file", |p, l| trackers(p, l, Tracker::File)),
    kw("track_process", |p, l| trackers(p, l, Tracker::Process)),
    kw("track_bfd", |p, l| trackers(p, l, Tracker::Bfd)),
    kw("notify_backup", |p, l| notify(p, l, |n| &mut n.backup)),
    kw("notify_master", |p, l| notify(p, l, |n| &mut n.master)),
    kw("notify_fault", |p, l| notify(p, l, |n| &mut n.fault)),
    kw("notify_stop", |p, l| notify(p, l, |n| &mut n.stop)),
    kw("notify", |p, l| notify(p, l, |n| &mut n.any)),
    kw("smtp_alert", |p, l| {
        if let Some(v) = p.optional_bool(l, |s| {
            format!("Invalid vrrp_group smtp_alert parameter {s}")
        }) {
            with(p, |g| g.smtp_alert = Some(v));
        }
        Ok(())
    }),
    kw("global_tracking", |p, _| {
        let name = current_name(p);
        p.error(format!("({name}) global_tracking is deprecated. Use track_interface/script/file on the sync group"));
        Ok(())
    }),
    kw("sync_group_tracking_weight", |p, _| {
        with(p, |g| g.tracking_weight = true);
        Ok(())
    }),
    kw("notify_priority_changes", |p, l| {
        let name = current_name(p);
        if let Some(v) = p.optional_bool(l, |s| {
            format!("({name}) Invalid value '{s}' for sync group notify_priority_changes specified")
        }) {
            with(p, |g| g.notify_priority_changes = v);
        }
        Ok(())
    }),
];

fn with(p: &mut Parser<'_>, f: impl FnOnce(&mut SyncGroup)) {
    if let Some(g) = p.state.sync_group.as_mut() {
        f(g);
    }
}

fn current_name(p: &Parser<'_>) -> String {
    p.state
        .sync_group
        .as_ref()
        .map(|g| g.name.clone())
        .unwrap_or_default()
}

/// `vrrp_sync_group NAME`.
pub(super) fn sync_group(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(name) = l.word(1) else {
        p.error("vrrp_sync_group must have a name - skipping");
        p.skip_block(true);
        return Ok(());
    };
    p.state.sync_group = Some(SyncGroup {
        name: name.text.as_str().to_owned(),
        position: Some(name.span.position),
        ..SyncGroup::default()
    });
    Ok(())
}

/// The end of a `vrrp_sync_group` block.
pub(super) fn close(p: &mut Parser<'_>) -> HandlerResult {
    if let Some(group) = p.state.sync_group.take() {
        p.state.config.sync_groups.push(group);
    }
    Ok(())
}

fn group(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = current_name(p);
    if p.state
        .sync_group
        .as_ref()
        .is_some_and(|g| !g.members.is_empty())
    {
        p.error(format!(
            "Group list already specified for sync group {name}"
        ));
        p.skip_block(true);
        return Ok(());
    }
    let words = p.value_block_words(l)?;
    with(p, |g| {
        g.members = words.into_iter().map(|t| t.text.into()).collect()
    });
    Ok(())
}

/// A `track_*` block of the group.
fn trackers(p: &mut Parser<'_>, l: &Line, kind: Tracker) -> HandlerResult {
    let owner = current_name(p);
    let existing = p
        .state
        .sync_group
        .as_mut()
        .map(|g| g.trackers(kind).to_vec())
        .unwrap_or_default();
    let refs = tracking::read_block(p, l, kind, &owner, &existing)?;
    with(p, |g| g.trackers_mut(kind).extend(refs));
    Ok(())
}

fn notify(
    p: &mut Parser<'_>,
    l: &Line,
    slot: fn(&mut NotifyScripts) -> &mut Option<Script>,
) -> HandlerResult {
    let script_word = p.required(l, 1)?;
    let name = current_name(p);
    let keyword = l.keyword().to_owned();
    if p.state
        .sync_group
        .as_mut()
        .is_some_and(|g| slot(&mut g.notify).is_some())
    {
        p.error_at(
            script_word,
            format!(
                "({name}) {keyword} script already specified - ignoring {}",
                script_word.as_str()
            ),
        );
        return Ok(());
    }
    let script = p.notify_script(l, "notify");
    with(p, |g| *slot(&mut g.notify) = script);
    Ok(())
}
