//! Diagnostics for people: `file:line:col`, the line with the offending text underlined, and a
//! hint when we have one.
//!
//! ```text
//! warning: Unknown keyword 'nat_mask'
//!   --> /etc/keepalived/keepalived.conf:34:5
//!    |
//! 34 |     nat_mask 255.255.255.0
//!    |     ^^^^^^^^
//!    = hint: `nat_mask` is not a keepalived 2.2.7 keyword (it was removed long ago); delete it
//! ```
//!
//! keepalived prints a message once per process that reads the configuration; here each is
//! shown once.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::{Diagnostic, ErrorClass, Source};
use crate::source::SourceMap;

/// How serious a diagnostic is, for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Informational.
    Note,
    /// Our own advice.
    Lint,
    /// keepalived warns and carries on.
    Warning,
    /// keepalived refuses the configuration or part of it badly.
    Error,
}

impl Severity {
    /// The severity of a diagnostic.
    pub fn of(d: &Diagnostic) -> Self {
        match d.source {
            Source::Lint => Severity::Lint,
            Source::Log => Severity::Note,
            Source::Keepalived => match d.class {
                ErrorClass::Info => Severity::Note,
                ErrorClass::MissingParameter
                | ErrorClass::Security
                | ErrorClass::Fatal
                | ErrorClass::FileNotFound
                | ErrorClass::BadInterface => Severity::Error,
                _ => Severity::Warning,
            },
        }
    }

    fn label(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Lint => "lint",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Severity::Note => "\x1b[1;36m",
            Severity::Lint => "\x1b[1;35m",
            Severity::Warning => "\x1b[1;33m",
            Severity::Error => "\x1b[1;31m",
        }
    }
}

/// Options of the human renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Use ANSI colours.
    pub colour: bool,
    /// Include messages keepalived only logs.
    pub include_log: bool,
}

/// Renders one diagnostic.
pub fn format(d: &Diagnostic, sources: &SourceMap, style: Style) -> String {
    let severity = Severity::of(d);
    let (on, bold, off) = if style.colour {
        (severity.colour(), "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let mut out = format!("{on}{}{off}{bold}: {}{off}\n", severity.label(), d.message);
    let position = d.span.map(|s| s.position).or(d.position);
    if let Some(position) = position {
        let path = sources
            .path(position.file)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let column = d.span.map_or(1, |s| sources.column(s.position, s.start));
        let number = position.line.to_string();
        let pad = " ".repeat(number.len());
        let _ = writeln!(out, "{pad}--> {path}:{}:{column}", position.line);
        if let Some(text) = sources.line_text(position) {
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {}", text.replace('\t', " "));
            if let Some(span) = d.span.filter(|s| s.len > 0) {
                let start = sources.column(span.position, span.start) as usize - 1;
                let end = sources.column(span.position, span.start + span.len) as usize - 1;
                let width = end.saturating_sub(start).max(1);
                let _ = writeln!(
                    out,
                    "{pad} | {}{on}{}{off}",
                    " ".repeat(start),
                    "^".repeat(width)
                );
            }
        }
        if let Some(hint) = &d.hint {
            let _ = writeln!(out, "{pad} = hint: {hint}");
        }
    } else if let Some(hint) = &d.hint {
        let _ = writeln!(out, "  = hint: {hint}");
    }
    out
}

/// Renders all diagnostics once each (keepalived repeats some per process), in order.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, style: Style) -> String {
    let mut seen = HashSet::new();
    let mut out = String::new();
    for d in diagnostics {
        if d.source == Source::Log && !style.include_log {
            continue;
        }
        if !seen.insert((
            d.message.clone(),
            d.position,
            d.span.map(|s| (s.start, s.len)),
        )) {
            continue;
        }
        out.push_str(&format(d, sources, style));
        out.push('\n');
    }
    out
}

/// A one-line summary: how many errors, warnings and lints.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let mut seen = HashSet::new();
    let (mut errors, mut warnings, mut lints) = (0, 0, 0);
    for d in diagnostics {
        if !seen.insert((d.message.clone(), d.position)) {
            continue;
        }
        match Severity::of(d) {
            Severity::Error => errors += 1,
            Severity::Warning => warnings += 1,
            Severity::Lint => lints += 1,
            Severity::Note => {}
        }
    }
    format!("{errors} error(s), {warnings} warning(s), {lints} lint(s)")
}
