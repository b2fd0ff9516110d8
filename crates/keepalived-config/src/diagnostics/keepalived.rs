//! keepalived's own way of printing configuration messages under `-t`:
//! `(FILE: Line N) message`, `(Line N) message` or just `message`.

use super::{Diagnostic, Source};
use crate::process::Process;
use crate::source::SourceMap;

/// The line `keepalived -t` prints for a diagnostic, or `None` for messages it does not print
/// (our lints, log-only messages).
pub fn format(diagnostic: &Diagnostic, sources: &SourceMap) -> Option<String> {
    if diagnostic.source != Source::Keepalived {
        return None;
    }
    let Some(position) = diagnostic.position else {
        return Some(diagnostic.message.clone());
    };
    let file = sources.file(position.file);
    let named = file.is_some_and(|f| diagnostic.process != Process::Parent || f.named_by_parent);
    Some(match (named, file) {
        (true, Some(f)) => format!(
            "({}: Line {}) {}",
            f.name, position.line, diagnostic.message
        ),
        _ => format!("(Line {}) {}", position.line, diagnostic.message),
    })
}

/// All lines `keepalived -t` prints, in order.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> Vec<String> {
    diagnostics
        .iter()
        .filter_map(|d| format(d, sources))
        .collect()
}
