//! The `track_interface`, `track_script`, `track_file`, `track_process` and `track_bfd` blocks
//! of instances and sync groups: one tracker per line, `NAME [weight N [reverse|noreverse]]`.
//!
//! keepalived 2.2.7 reads them with one function per kind whose messages and recovery differ a
//! little from kind to kind (which wrong words drop the line, which only lose the option); the
//! table in [`wording`] keeps those differences in one place.

use super::walker::{Abort, Line, Parser};
use crate::lexer::Token;
pub use crate::model::vrrp::TrackerKind as Tracker;
use crate::model::vrrp::TrackerRef;

/// How keepalived words its messages about one kind of tracker, and how it recovers.
struct Words {
    /// The keyword after `track_` (`duplicate track_script …`).
    keyword: &'static str,
    /// The noun of most messages (`track script`, `track_interface` for interfaces).
    noun: &'static str,
    /// The weights accepted (`read_int` range).
    range: (i64, i64),
    /// Whether a fourth word other than `reverse` drops the line.
    bad_fourth_word_drops: bool,
}

/// keepalived's wording and recovery for each kind of tracker.
fn wording(kind: Tracker) -> Words {
    let (keyword, noun, range, bad_fourth_word_drops) = match kind {
        Tracker::Interface => ("interface", "track_interface", (-254, 254), false),
        Tracker::Script => ("script", "track script", (-254, 254), false),
        Tracker::File => ("file", "track file", (-254, 254), true),
        Tracker::Process => ("process", "track process", (-254, 254), false),
        Tracker::Bfd => ("bfd", "track bfd", (-253, 253), true),
    };
    Words {
        keyword,
        noun,
        range,
        bad_fourth_word_drops,
    }
}

/// Reads a tracker block of `owner` (an instance or sync group) into references, after the
/// `existing` ones of the same kind (a tracker is tracked once).
pub fn read_block(
    p: &mut Parser<'_>,
    l: &Line,
    kind: Tracker,
    owner: &str,
    existing: &[TrackerRef],
) -> Result<Vec<TrackerRef>, Abort> {
    let mut refs: Vec<TrackerRef> = Vec::new();
    p.value_block(l, |p, words| {
        let known = existing.iter().chain(refs.iter());
        let duplicate = known.clone().any(|r| r.name == words[0].as_str());
        if let Some(reference) = read_line(p, words, kind, owner, duplicate) {
            refs.push(reference);
        }
        Ok(())
    })?;
    Ok(refs)
}

/// One line of a tracker block.
fn read_line(
    p: &mut Parser<'_>,
    words: &[Token],
    kind: Tracker,
    owner: &str,
    duplicate: bool,
) -> Option<TrackerRef> {
    let w = wording(kind);
    let name = &words[0];
    let tracked = name.as_str();
    let (_, own_reverse) = if kind == Tracker::Interface {
        let message = format!("({owner}) tracked interface {tracked} doesn't exist");
        if !p.check_interface(name, message) {
            return None;
        }
        (0, false)
    } else {
        // keepalived does not look ahead: the tracker must be defined above.
        let Some(defined) = p.state.config.tracker(kind, tracked) else {
            let message = format!("({owner}) {} {tracked} not found, ignoring...", w.noun);
            p.error_at(name, message);
            return None;
        };
        defined
    };
    if duplicate {
        let message = format!(
            "({owner}) duplicate track_{} {tracked} - ignoring",
            w.keyword
        );
        p.error_at(name, message);
        return None;
    }
    let mut reference = TrackerRef {
        name: name.text.as_str().to_owned(),
        weight: None,
        reverse: own_reverse,
    };
    let Some(option) = words.get(1) else {
        return Some(reference);
    };
    if option.as_str() != "weight" {
        let message = match kind {
            Tracker::Interface | Tracker::Bfd => format!(
                "({owner}) unknown {} {tracked} option {} - ignoring",
                w.noun,
                option.as_str()
            ),
            _ => format!(
                "({owner}) unknown {} option {} - ignoring",
                w.noun,
                option.as_str()
            ),
        };
        p.error_at(option, message);
        return None;
    }
    let Some(value) = words.get(2) else {
        let message = format!(
            "({owner}) weight without value specified for {} {tracked} - ignoring",
            w.noun
        );
        p.error_at(option, message);
        return None;
    };
    // A bad weight leaves the tracker's own (0 for an interface).
    reference.weight = read_weight(p, value, kind, owner, tracked);
    if let Some(fourth) = words.get(3) {
        match fourth.as_str() {
            "reverse" => reference.reverse = true,
            "noreverse" if kind != Tracker::Interface => reference.reverse = false,
            other => {
                // keepalived's own spelling of the interface message.
                let noun = match kind {
                    Tracker::Interface => "track_interace",
                    Tracker::Script => "track_script",
                    Tracker::Process => "track_process",
                    _ => w.noun,
                };
                let message =
                    format!("({owner}) unknown {noun} {tracked} weight option {other} - ignoring");
                p.error_at(fourth, message);
                if w.bad_fourth_word_drops {
                    return None;
                }
            }
        }
    }
    Some(reference)
}

/// The `weight` value of a tracker line, with keepalived's messages when it is bad.
fn read_weight(
    p: &mut Parser<'_>,
    value: &Token,
    kind: Tracker,
    owner: &str,
    tracked: &str,
) -> Option<i32> {
    let (min, max) = wording(kind).range;
    let Some(weight) = p.int(value, min, max) else {
        let message = match kind {
            Tracker::Interface => format!(
                "({owner}) weight {} for {tracked} must be between [-253..253] inclusive. Ignoring...",
                value.as_str()
            ),
            Tracker::Script => format!(
                "({owner}) track script {tracked}: weight must be between [-253..253] inclusive, ignoring..."
            ),
            Tracker::File | Tracker::Process => format!(
                "({owner}) weight for {} {tracked} must be in [-254..254] inclusive. Ignoring...",
                wording(kind).noun
            ),
            Tracker::Bfd => format!(
                "({owner}) weight for track bfd {tracked} must be in [-253..253] inclusive. Ignoring..."
            ),
        };
        p.error_at(value, message);
        return None;
    };
    let weight = weight as i32;
    if matches!(kind, Tracker::Interface | Tracker::Script) && weight.abs() == 254 {
        let message = format!("({owner}) weight for {tracked} cannot be +/-254. Setting to +/-253");
        p.error_at(value, message);
        return Some(weight.signum() * 253);
    }
    Some(weight)
}
