//! Trackers: `vrrp_script`, `vrrp_track_process` and `track_file` blocks.
//!
//! They must be defined before the instances that track them: an instance's `track_script`
//! only finds scripts already read, as in keepalived.

use std::time::Duration;

use super::keywords::{Keyword, kw};
use super::state::ScriptDraft;
use super::walker::{HandlerResult, Line, Parser};
use crate::model::Script;
use crate::model::vrrp::{ParamMatch, TrackFile, TrackProcess, VrrpScript};

/// The keywords of `vrrp_script`.
pub static SCRIPT_KEYWORDS: &[Keyword] = &[
    kw("script", script),
    kw("interval", interval),
    kw("timeout", timeout),
    kw("weight", script_weight),
    kw("rise", |p, l| rise_fall(p, l, "rise")),
    kw("fall", |p, l| rise_fall(p, l, "fall")),
    kw("user", script_user),
    kw("init_fail", |p, _| with_script(p, |s| s.init_fail = true)),
];

fn with_script(p: &mut Parser<'_>, f: impl FnOnce(&mut VrrpScript)) -> HandlerResult {
    if let Some(d) = p.state_script() {
        f(&mut d.script);
    }
    Ok(())
}

impl Parser<'_> {
    fn state_script(&mut self) -> Option<&mut ScriptDraft> {
        self.state.script.as_mut()
    }
}

/// `vrrp_script NAME`.
pub(super) fn vrrp_script(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = p.required(l, 1)?;
    p.state.script = Some(ScriptDraft {
        script: VrrpScript {
            name: name.text.as_str().to_owned(),
            script: Script {
                text: String::new(),
                argv: Vec::new(),
                user: None,
            },
            interval: Duration::from_secs(1),
            timeout: Duration::ZERO,
            weight: 0,
            weight_reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            init_fail: false,
            position: Some(name.span.position),
        },
        has_command: false,
        user_failed: false,
        timeout_given: false,
    });
    Ok(())
}

/// The end of a `vrrp_script` block: a script without a command or user is dropped.
pub(super) fn vrrp_script_close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(mut draft) = p.state.script.take() else {
        return Ok(());
    };
    let name = draft.script.name.clone();
    if !draft.has_command {
        p.error(format!("No script set for vrrp_script {name} - removing"));
        return Ok(());
    }
    if draft.user_failed {
        return Ok(());
    }
    if draft.script.user.is_none() {
        match p.default_script_user() {
            Ok(user) => draft.script.user = Some(user),
            Err(_) => {
                p.error(format!(
                    "Unable to set default user for vrrp script {name} - removing"
                ));
                return Ok(());
            }
        }
    }
    if !draft.timeout_given {
        draft.script.timeout = draft.script.interval;
    }
    draft.script.script.user = draft.script.user.clone();
    p.state.config.vrrp_scripts.push(draft.script);
    Ok(())
}

fn script(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let command = p.command(l);
    if let (Some(d), Some(command)) = (p.state_script(), command) {
        d.script.script = command;
        d.has_command = true;
    }
    Ok(())
}

fn script_name(p: &Parser<'_>) -> String {
    p.state
        .script
        .as_ref()
        .map(|d| d.script.name.clone())
        .unwrap_or_default()
}

/// A script interval or timeout of 0 is taken as 1 s, with a word.
fn at_least_one_second(p: &mut Parser<'_>, seconds: u64, name: &str, what: &str) -> u64 {
    if seconds == 0 {
        p.error(format!(
            "({name}): vrrp script {what} must be greater than 0, setting to 1"
        ));
        return 1;
    }
    seconds
}

fn interval(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = script_name(p);
    match p.unsigned(w, 0, 4294) {
        Some(v) => {
            let v = at_least_one_second(p, v, &name, "interval");
            with_script(p, |s| s.interval = Duration::from_secs(v))
        }
        None => {
            p.error_at(
                w,
                format!(
                    "({name}): vrrp script interval '{}' must be between 1 and 4294 - ignoring",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn timeout(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = script_name(p);
    match p.unsigned(w, 0, 4294) {
        Some(v) => {
            let v = at_least_one_second(p, v, &name, "timeout");
            if let Some(d) = p.state_script() {
                d.script.timeout = Duration::from_secs(v);
                d.timeout_given = true;
            }
            Ok(())
        }
        None => {
            p.error_at(
                w,
                format!(
                    "({name}): vrrp script timeout '{}' invalid - ignoring",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn script_weight(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = script_name(p);
    match p.int(w, -253, 253) {
        Some(v) => {
            let reverse = l.text_of(2) == Some("reverse");
            with_script(p, |s| {
                s.weight = v as i32;
                s.weight_reverse = reverse;
            })
        }
        None => {
            p.error_at(
                w,
                format!(
                    "vrrp_script {name} weight {} must be in [-253, 253]",
                    w.as_str()
                ),
            );
            Ok(())
        }
    }
}

fn rise_fall(p: &mut Parser<'_>, l: &Line, which: &str) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = script_name(p);
    let value = match p.unsigned(w, 1, i32::MAX as u64) {
        Some(v) => v as u32,
        None => {
            p.error_at(
                w,
                format!(
                    "({name}): vrrp script {which} value '{}' invalid, defaulting to 1",
                    w.as_str()
                ),
            );
            1
        }
    };
    with_script(p, |s| {
        if which == "rise" {
            s.rise = value;
        } else {
            s.fall = value;
        }
    })
}

fn script_user(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let user = p.required(l, 1)?;
    let resolved = p.script_user(user.as_str(), l.text_of(2));
    let program = p
        .state
        .script
        .as_ref()
        .map(|d| d.script.script.program().to_owned())
        .unwrap_or_default();
    match resolved {
        Some(u) => with_script(p, |s| s.user = Some(u)),
        None => {
            p.error_at(
                user,
                format!("Unable to set uid/gid for script '{program}'"),
            );
            if let Some(d) = p.state_script() {
                d.user_failed = true;
            }
            Ok(())
        }
    }
}

/// The keywords of `vrrp_track_process`.
pub static PROCESS_KEYWORDS: &[Keyword] = &[
    kw("process", process),
    kw("param_match", param_match),
    kw("weight", process_weight),
    kw("quorum", |p, l| process_quorum(p, l, false)),
    kw("quorum_max", |p, l| process_quorum(p, l, true)),
    kw("delay", |p, l| {
        process_delay(p, l, "delay", |t, d| t.delay = Some(d))
    }),
    kw("terminate_delay", |p, l| {
        process_delay(p, l, "terminate_delay", |t, d| t.terminate_delay = Some(d))
    }),
    kw("fork_delay", |p, l| {
        process_delay(p, l, "fork_delay", |t, d| t.fork_delay = Some(d))
    }),
    kw("full_command", |p, _| {
        with_process(p, |t| t.full_command = true)
    }),
];

fn with_process(p: &mut Parser<'_>, f: impl FnOnce(&mut TrackProcess)) -> HandlerResult {
    if let Some(t) = p.state.process.as_mut() {
        f(t);
    }
    Ok(())
}

fn process_name(p: &Parser<'_>) -> String {
    p.state
        .process
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

/// `vrrp_track_process NAME`.
pub(super) fn track_process(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = p.required(l, 1)?;
    p.state.process = Some(TrackProcess {
        name: name.text.as_str().to_owned(),
        process: Vec::new(),
        param_match: ParamMatch::Exact,
        weight: 0,
        weight_reverse: false,
        quorum: 1,
        quorum_max: None,
        delay: None,
        terminate_delay: None,
        fork_delay: None,
        full_command: false,
        position: Some(name.span.position),
    });
    Ok(())
}

/// The end of a `vrrp_track_process` block.
pub(super) fn track_process_close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(t) = p.state.process.take() else {
        return Ok(());
    };
    if t.process.is_empty() {
        p.error(format!(
            "track process '{}' process name not specified",
            t.name
        ));
        return Ok(());
    }
    p.state.config.track_processes.push(t);
    Ok(())
}

fn process(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = process_name(p);
    if p.state
        .process
        .as_ref()
        .is_some_and(|t| !t.process.is_empty())
    {
        p.error_at(
            w,
            format!(
                "Process already set for track process {name} - ignoring {}",
                w.as_str()
            ),
        );
        return Ok(());
    }
    let words = l.words[1..]
        .iter()
        .map(|t| t.text.as_str().to_owned())
        .collect();
    with_process(p, |t| t.process = words)
}

fn param_match(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(w) = l.word(1) else {
        return Ok(());
    };
    let kind = match w.as_str() {
        "initial" => ParamMatch::Initial,
        "partial" => ParamMatch::Partial,
        other => {
            p.error_at(w, format!("Invalid param_match type {other} - ignoring"));
            return Ok(());
        }
    };
    with_process(p, |t| t.param_match = kind)
}

fn process_weight(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = process_name(p);
    let Some(w) = l.word(1) else {
        p.error(format!(
            "No weight specified for track process {name} - ignoring"
        ));
        return Ok(());
    };
    match p.int(w, -254, 254) {
        Some(v) => {
            let reverse = l.text_of(2) == Some("reverse");
            with_process(p, |t| {
                t.weight = v as i32;
                t.weight_reverse = reverse;
            })
        }
        None => {
            p.error_at(w, format!("Weight ({}) for vrrp_track_process {name} must be between [-254..254] inclusive. Ignoring...", w.as_str()));
            Ok(())
        }
    }
}

fn process_quorum(p: &mut Parser<'_>, l: &Line, max: bool) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = process_name(p);
    let (low, label) = if max {
        (0, "quorum_max")
    } else {
        (1, "Quorum")
    };
    match p.unsigned(w, low, 65535) {
        Some(v) => {
            let v = v as u32;
            let Some(t) = p.state.process.as_ref() else {
                return Ok(());
            };
            // Each bound is checked against the other one given before it.
            if max && v < t.quorum {
                p.error_at(w, "quorum_max is less than quorum - ignoring");
                return Ok(());
            }
            if !max && t.quorum_max.is_some_and(|m| v > m) {
                p.error_at(w, "Quorum is greater than quorum_max - ignoring");
                return Ok(());
            }
            with_process(p, |t| {
                if max {
                    t.quorum_max = Some(v);
                } else {
                    t.quorum = v;
                }
            })
        }
        None => {
            p.error_at(w, format!("{label} ({}) for vrrp_track_process {name} must be between [{low}..65535] inclusive. Ignoring...", w.as_str()));
            Ok(())
        }
    }
}

fn process_delay(
    p: &mut Parser<'_>,
    l: &Line,
    label: &str,
    set: fn(&mut TrackProcess, Duration),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = process_name(p);
    match p.timer(w, 1, 3600 * 1_000_000) {
        Some(v) => with_process(p, |t| set(t, v)),
        None => {
            p.error_at(w, format!("{label} ({}) for vrrp_track_process {name} must be between [0.000001..3600] inclusive. Ignoring...", w.as_str()));
            Ok(())
        }
    }
}

/// The keywords of `track_file`.
pub static FILE_KEYWORDS: &[Keyword] = &[
    kw("file", file),
    kw("weight", file_weight),
    kw("init_file", init_file),
];

fn with_file(p: &mut Parser<'_>, f: impl FnOnce(&mut TrackFile)) -> HandlerResult {
    if let Some(t) = p.state.track_file.as_mut() {
        f(t);
    }
    Ok(())
}

fn file_name(p: &Parser<'_>) -> String {
    p.state
        .track_file
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

/// `track_file NAME`.
pub(super) fn track_file(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = p.required(l, 1)?;
    p.state.track_file = Some(TrackFile {
        name: name.text.as_str().to_owned(),
        path: String::new(),
        weight: 1,
        weight_reverse: false,
        init_file: None,
        position: Some(name.span.position),
    });
    Ok(())
}

/// `vrrp_track_file NAME` (deprecated name of `track_file`).
pub(super) fn vrrp_track_file(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    track_file(p, l)
}

/// The end of a `track_file` block.
pub(super) fn track_file_close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(t) = p.state.track_file.take() else {
        return Ok(());
    };
    if t.path.is_empty() {
        p.error(format!("No file set for track_file {} - ignoring", t.name));
        return Ok(());
    }
    p.state.config.track_files.push(t);
    Ok(())
}

fn file(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error("track file file name missing");
        return Ok(());
    };
    let name = file_name(p);
    if p.state
        .track_file
        .as_ref()
        .is_some_and(|t| !t.path.is_empty())
    {
        p.error_at(
            w,
            format!(
                "File already set for track file {name} - ignoring {}",
                w.as_str()
            ),
        );
        return Ok(());
    }
    let path = w.text.as_str().to_owned();
    with_file(p, |t| t.path = path)
}

fn file_weight(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = file_name(p);
    let Some(w) = l.word(1) else {
        p.error(format!(
            "No weight specified for track file {name} - ignoring"
        ));
        return Ok(());
    };
    match p.int(w, -254, 254) {
        Some(v) => {
            let reverse = l.text_of(2) == Some("reverse");
            with_file(p, |t| {
                t.weight = v as i32;
                t.weight_reverse = reverse;
            })
        }
        None => {
            p.error_at(w, format!("Weight ({}) for track_file {name} must be between [-254..254] inclusive. Ignoring...", w.as_str()));
            Ok(())
        }
    }
}

fn init_file(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let name = file_name(p);
    let mut value = 0i64;
    let mut overwrite = false;
    for w in &l.words[1..] {
        if w.as_str() == "overwrite" {
            overwrite = true;
        } else if w
            .as_str()
            .starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
        {
            match p.int(w, i64::from(i32::MIN), i64::from(i32::MAX)) {
                Some(v) => value = v,
                None => {
                    p.error_at(
                        w,
                        format!("Track file {name} init value {} is invalid", w.as_str()),
                    );
                    return Ok(());
                }
            }
        } else {
            p.error_at(w, format!("Unknown track file init option {}", w.as_str()));
            return Ok(());
        }
    }
    with_file(p, |t| t.init_file = Some((value, overwrite)))
}
