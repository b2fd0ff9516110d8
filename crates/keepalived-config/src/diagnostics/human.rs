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
use crate::source::{SourceMap, Span};

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
            let (from, to) = excerpt(text, d.span);
            let before = if from > 0 { "…" } else { "" };
            let after = if to < text.len() { "…" } else { "" };
            let shown = text.get(from..to).unwrap_or_default().replace('\t', " ");
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {before}{shown}{after}");
            if let Some(span) = d.span.filter(|s| s.len > 0) {
                // Columns counted from the start of what is shown.
                let origin = sources.column(span.position, from as u32) as usize;
                let start =
                    (sources.column(span.position, span.start) as usize).saturating_sub(origin);
                let end = (sources.column(span.position, span.start + span.len) as usize)
                    .saturating_sub(origin);
                let mut width = end.saturating_sub(start).max(1);
                if !after.is_empty() {
                    width = width.min(shown.chars().count().saturating_sub(start).max(1));
                }
                let _ = writeln!(
                    out,
                    "{pad} | {}{}{on}{}{off}",
                    before.replace('…', " "),
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

/// Lines longer than this many bytes are shown as an excerpt around the span: a message about
/// each of thousands of braces on one huge line must not print the whole line each time.
const EXCERPT: usize = 200;

/// The byte range of `text` to show for `span`: all of it, or an excerpt of about [`EXCERPT`]
/// bytes starting a little before the span.
fn excerpt(text: &str, span: Option<Span>) -> (usize, usize) {
    if text.len() <= EXCERPT {
        return (0, text.len());
    }
    let anchor = span.map_or(0, |s| s.start as usize).min(text.len());
    let mut from = anchor.saturating_sub(EXCERPT / 4);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (from + EXCERPT).min(text.len());
    while !text.is_char_boundary(to) {
        to += 1;
    }
    (from, to)
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::rc::Rc;

    use super::*;
    use crate::process::Process;
    use crate::source::{LinePosition, SourceFile};

    fn rendered(line: &str, start: u32, len: u32) -> String {
        let mut sources = SourceMap::default();
        let file = sources.add(SourceFile::new(
            PathBuf::from("k.conf"),
            "k.conf".into(),
            false,
            Rc::new(line.to_owned()),
        ));
        let position = LinePosition { file, line: 1 };
        let d = Diagnostic {
            class: ErrorClass::UnknownKeyword,
            message: "m".into(),
            position: Some(position),
            span: Some(Span {
                position,
                start,
                len,
            }),
            process: Process::Parent,
            hint: None,
            source: Source::Keepalived,
        };
        format(&d, &sources, Style::default())
    }

    #[test]
    fn the_span_is_underlined() {
        let text = rendered("router_id\tx", 10, 1);
        assert!(text.contains("1 | router_id x\n"), "{text}");
        assert!(text.contains("  |           ^\n"), "{text}");
        assert!(text.contains("--> k.conf:1:11"), "{text}");
    }

    #[test]
    fn long_lines_are_shown_around_the_span() {
        let line = format!("{}{{{}", "a".repeat(5000), "b".repeat(5000));
        let text = rendered(&line, 5000, 1);
        let shown = text
            .lines()
            .find(|l| l.starts_with("1 | "))
            .unwrap_or_default();
        assert!(shown.chars().count() < EXCERPT + 10, "{shown}");
        assert!(
            shown.starts_with("1 | …a") && shown.ends_with("b…"),
            "{shown}"
        );
        // The caret is under the brace.
        let caret = text.lines().find(|l| l.contains('^')).unwrap_or_default();
        assert_eq!(
            shown.chars().position(|c| c == '{'),
            caret.chars().position(|c| c == '^')
        );
        assert!(text.contains("--> k.conf:1:5001"), "{text}");
    }
}
