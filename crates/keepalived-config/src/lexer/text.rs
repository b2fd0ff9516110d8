//! Text that remembers where each of its bytes came from.
//!
//! keepalived rewrites a configuration line several times before it splits it into words:
//! leading blanks and comments go, `\#` loses its backslash, `$NAME` becomes its value, the
//! line is cut at braces. [`MappedText`] applies the same edits while keeping, for every byte,
//! its offset on the original line, so that a token can still be underlined where the user
//! wrote it.

use std::ops::Range;

use crate::source::{LinePosition, Span};

/// A piece of configuration text and the original position of each of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedText {
    text: String,
    /// For each byte of `text`, its byte offset on the original line.
    offsets: Vec<u32>,
    /// The line the text came from.
    position: LinePosition,
}

impl MappedText {
    /// Text taken verbatim from a line of a file.
    pub fn from_line(text: &str, position: LinePosition) -> Self {
        let offsets = (0..text.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        MappedText {
            text: text.to_owned(),
            offsets,
            position,
        }
    }

    /// Text that does not appear as such in the file (a parameter's value, a `~SEQ` body):
    /// all of it is attributed to one offset of `position`'s line.
    pub fn synthetic(text: &str, position: LinePosition, offset: u32) -> Self {
        MappedText {
            text: text.to_owned(),
            offsets: vec![offset; text.len()],
            position,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The line the text came from.
    pub fn position(&self) -> LinePosition {
        self.position
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The original offset of byte `index` (the offset just past the end for `index == len`).
    pub fn offset_of(&self, index: usize) -> u32 {
        match self.offsets.get(index) {
            Some(&o) => o,
            None => self.offsets.last().map_or(0, |&o| o + 1),
        }
    }

    /// The span of the bytes `range` of this text on the original line.
    pub fn span(&self, range: Range<usize>) -> Span {
        let start = self.offset_of(range.start);
        let end = if range.end > range.start {
            self.offset_of(range.end - 1) + 1
        } else {
            start
        };
        Span {
            position: self.position,
            start,
            len: end.saturating_sub(start).max(1),
        }
    }

    /// The span of the whole text.
    pub fn full_span(&self) -> Span {
        self.span(0..self.text.len())
    }

    /// A copy of the bytes `range`.
    pub fn slice(&self, range: Range<usize>) -> MappedText {
        MappedText {
            text: self.text[range.clone()].to_owned(),
            offsets: self.offsets[range].to_vec(),
            position: self.position,
        }
    }

    /// Replaces the bytes `range` by `with`, attributing the new bytes to the original offset of
    /// the first replaced byte.
    pub fn replace_range(&mut self, range: Range<usize>, with: &str) {
        let anchor = self.offset_of(range.start);
        self.text.replace_range(range.clone(), with);
        self.offsets
            .splice(range, std::iter::repeat_n(anchor, with.len()));
    }

    /// Removes the bytes `range`.
    pub fn remove_range(&mut self, range: Range<usize>) {
        self.replace_range(range, "");
    }

    /// Truncates the text to `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        self.offsets.truncate(len);
    }

    /// Appends text attributed to the offset just past the current end.
    pub fn push_str(&mut self, s: &str) {
        let anchor = self.offset_of(self.text.len());
        self.text.push_str(s);
        self.offsets.extend(std::iter::repeat_n(anchor, s.len()));
    }

    /// Removes blanks (space, tab) at the start.
    pub fn trim_start_blanks(&mut self) {
        let n = self.text.len() - self.text.trim_start_matches([' ', '\t']).len();
        self.remove_range(0..n);
    }

    /// Removes blanks (space, tab) at the end.
    pub fn trim_end_blanks(&mut self) {
        let keep = self.text.trim_end_matches([' ', '\t']).len();
        self.truncate(keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn pos() -> LinePosition {
        LinePosition {
            file: FileId(0),
            line: 3,
        }
    }

    #[test]
    fn replacement_keeps_the_offsets_of_the_surrounding_text() {
        let mut t = MappedText::from_line("  a $X b", pos());
        t.trim_start_blanks();
        assert_eq!(t.as_str(), "a $X b");
        t.replace_range(2..4, "value");
        assert_eq!(t.as_str(), "a value b");
        // "b" still points at its original column.
        assert_eq!(t.span(8..9).start, 7);
        // the substituted text points at the `$`.
        assert_eq!(
            t.span(2..7),
            Span {
                position: pos(),
                start: 4,
                len: 1
            }
        );
    }

    #[test]
    fn synthetic_text_points_at_its_anchor() {
        let t = MappedText::synthetic("abc", pos(), 9);
        assert_eq!(t.full_span().start, 9);
        assert_eq!(t.offset_of(3), 10);
    }
}
