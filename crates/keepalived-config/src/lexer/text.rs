//! Text that remembers where each of its bytes came from.
//!
//! keepalived rewrites a configuration line several times before it splits it into words:
//! leading blanks and comments go, `\#` loses its backslash, `$NAME` becomes its value, the
//! line is cut at braces. [`MappedText`] applies the same edits while keeping, for every byte,
//! its offset on the original line, so that a token can still be underlined where the user
//! wrote it.
//!
//! Most lines are read verbatim or only lose a prefix or a suffix. Such a line stays a view of
//! its file's text, shared with the consolidated copy that three processes read again, and
//! needs no offset table: both are only made on the first edit that needs them.

use std::ops::Range;
use std::rc::Rc;

use crate::source::{LinePosition, Span};

/// A piece of configuration text and the original position of each of its bytes.
#[derive(Clone, Debug)]
pub struct MappedText {
    text: Text,
    /// Where each byte of `text` was on the original line.
    offsets: Offsets,
    /// The line the text came from.
    position: LinePosition,
}

/// The bytes of a [`MappedText`].
#[derive(Clone, Debug)]
enum Text {
    /// The bytes `start..end` of a shared string (a file's text).
    Shared {
        all: Rc<String>,
        start: usize,
        end: usize,
    },
    /// Text of its own.
    Owned(String),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Shared { all, start, end } => all.get(*start..*end).unwrap_or_default(),
            Text::Owned(text) => text,
        }
    }

    fn len(&self) -> usize {
        match self {
            Text::Shared { start, end, .. } => end - start,
            Text::Owned(text) => text.len(),
        }
    }

    /// Edits the text as a string of its own (copied first if it was shared).
    fn edit(&mut self, change: impl FnOnce(&mut String)) {
        let mut text = match std::mem::replace(self, Text::Owned(String::new())) {
            Text::Owned(text) => text,
            shared @ Text::Shared { .. } => shared.as_str().to_owned(),
        };
        change(&mut text);
        *self = Text::Owned(text);
    }

    /// Keeps the first `len` bytes (which must end on a character boundary).
    fn truncate(&mut self, len: usize) {
        match self {
            Text::Shared { all, start, end } => {
                if len < *end - *start {
                    assert!(
                        all.is_char_boundary(*start + len),
                        "truncated inside a character"
                    );
                    *end = *start + len;
                }
            }
            Text::Owned(text) => text.truncate(len),
        }
    }

    /// Drops the first `n` bytes (which must end on a character boundary).
    fn drop_prefix(&mut self, n: usize) {
        match self {
            Text::Shared { all, start, end } => {
                let n = n.min(*end - *start);
                assert!(all.is_char_boundary(*start + n), "cut inside a character");
                *start += n;
            }
            Text::Owned(text) => {
                text.replace_range(..n, "");
            }
        }
    }

    /// The bytes `range` (on character boundaries), shared if these are.
    fn slice(&self, range: Range<usize>) -> Text {
        match self {
            Text::Shared { all, start, .. } => {
                let text = self.as_str();
                assert!(
                    text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
                    "sliced inside a character"
                );
                Text::Shared {
                    all: Rc::clone(all),
                    start: start + range.start,
                    end: start + range.end,
                }
            }
            Text::Owned(text) => Text::Owned(text[range].to_owned()),
        }
    }
}

/// The original offsets of the bytes of a [`MappedText`]. Most lines are read verbatim or lose
/// only a prefix or a suffix, so their offsets are a shifted identity and need no table; the
/// table is built on the first edit that breaks that.
#[derive(Clone, Debug)]
enum Offsets {
    /// Byte `i` was at offset `shift + i`.
    Shifted(u32),
    /// Byte `i` was at offset `table[i]`.
    Table(Vec<u32>),
}

impl PartialEq for MappedText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
            && self.position == other.position
            && (0..=self.len()).all(|i| self.offset_of(i) == other.offset_of(i))
    }
}

impl Eq for MappedText {}

impl MappedText {
    /// Text taken verbatim from a line of a file.
    pub fn from_line(text: &str, position: LinePosition) -> Self {
        MappedText {
            text: Text::Owned(text.to_owned()),
            offsets: Offsets::Shifted(0),
            position,
        }
    }

    /// The line `range` of a file's text `all`, without a copy.
    pub fn from_shared(all: &Rc<String>, range: Range<usize>, position: LinePosition) -> Self {
        let text = if all.get(range.clone()).is_some() {
            Text::Shared {
                all: Rc::clone(all),
                start: range.start,
                end: range.end,
            }
        } else {
            Text::Owned(String::new())
        };
        MappedText {
            text,
            offsets: Offsets::Shifted(0),
            position,
        }
    }

    /// The bytes `range` of a file's text `all`, the first of them at `column` on its line,
    /// without a copy (what [`MappedText::verbatim`] describes).
    pub(crate) fn from_verbatim(
        all: &Rc<String>,
        range: Range<usize>,
        column: u32,
        position: LinePosition,
    ) -> Self {
        let mut text = MappedText::from_shared(all, range, position);
        text.offsets = Offsets::Shifted(column);
        text
    }

    /// If this text is a stretch of a file's text as written: that text, where the stretch
    /// is in it, and its column on its line.
    pub(crate) fn verbatim(&self) -> Option<(&Rc<String>, Range<usize>, u32)> {
        match (&self.text, &self.offsets) {
            (Text::Shared { all, start, end }, Offsets::Shifted(column)) => {
                Some((all, *start..*end, *column))
            }
            _ => None,
        }
    }

    /// Text that does not appear as such in the file (a parameter's value, a `~SEQ` body):
    /// all of it is attributed to one offset of `position`'s line.
    pub fn synthetic(text: &str, position: LinePosition, offset: u32) -> Self {
        MappedText {
            text: Text::Owned(text.to_owned()),
            offsets: Offsets::Table(vec![offset; text.len()]),
            position,
        }
    }

    /// Takes the offsets out as a table (built if need be); put it back with `Offsets::Table`.
    fn take_table(&mut self) -> Vec<u32> {
        match std::mem::replace(&mut self.offsets, Offsets::Shifted(0)) {
            Offsets::Table(table) => table,
            Offsets::Shifted(shift) => (0..self.len())
                .map(|i| shift.saturating_add(u32::try_from(i).unwrap_or(u32::MAX)))
                .collect(),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The string this text is a view of, and where the text starts in it; `None` when the
    /// text is its own.
    pub(crate) fn shared_text(&self) -> Option<(&Rc<String>, usize)> {
        match &self.text {
            Text::Shared { all, start, .. } => Some((all, *start)),
            Text::Owned(_) => None,
        }
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
        self.text.len() == 0
    }

    /// The original offset of byte `index` (the offset just past the end for `index >= len`;
    /// 0 for empty text).
    pub fn offset_of(&self, index: usize) -> u32 {
        let len = self.text.len();
        if len == 0 {
            return 0;
        }
        match &self.offsets {
            Offsets::Shifted(shift) => {
                let index = u32::try_from(index.min(len)).unwrap_or(u32::MAX);
                shift.saturating_add(index)
            }
            Offsets::Table(table) => match table.get(index) {
                Some(&o) => o,
                None => table.last().map_or(0, |&o| o + 1),
            },
        }
    }

    /// The span of the bytes `range` of this text on the original line.
    pub fn span(&self, range: Range<usize>) -> Span {
        // Text as written (nearly all): its bytes are where the shift puts them. This runs
        // for every word read.
        if let (Offsets::Shifted(shift), Ok(start), Ok(end)) = (
            &self.offsets,
            u32::try_from(range.start),
            u32::try_from(range.end),
        ) {
            if start < end && range.end <= self.len() {
                return Span {
                    position: self.position,
                    start: shift.saturating_add(start),
                    len: end - start,
                };
            }
        }
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
        self.span(0..self.len())
    }

    /// A copy of the bytes `range`.
    pub fn slice(&self, range: Range<usize>) -> MappedText {
        let offsets = match &self.offsets {
            Offsets::Shifted(shift) => Offsets::Shifted(
                shift.saturating_add(u32::try_from(range.start).unwrap_or(u32::MAX)),
            ),
            Offsets::Table(table) => Offsets::Table(table[range.clone()].to_vec()),
        };
        MappedText {
            text: self.text.slice(range),
            offsets,
            position: self.position,
        }
    }

    /// Replaces the bytes `range` by `with`, attributing the new bytes to the original offset of
    /// the first replaced byte.
    pub fn replace_range(&mut self, range: Range<usize>, with: &str) {
        if with.is_empty() {
            if let Offsets::Shifted(shift) = &mut self.offsets {
                // Removing a prefix or a suffix keeps the identity.
                if range.start == 0 {
                    *shift = shift.saturating_add(u32::try_from(range.end).unwrap_or(u32::MAX));
                    self.text.drop_prefix(range.end);
                    return;
                }
                if range.end == self.text.len() {
                    self.text.truncate(range.start);
                    return;
                }
            }
        }
        let anchor = self.offset_of(range.start);
        let mut table = self.take_table();
        table.splice(range.clone(), std::iter::repeat_n(anchor, with.len()));
        self.offsets = Offsets::Table(table);
        self.text.edit(|text| text.replace_range(range, with));
    }

    /// Removes the bytes `range`.
    pub fn remove_range(&mut self, range: Range<usize>) {
        self.replace_range(range, "");
    }

    /// Truncates the text to `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        if let Offsets::Table(table) = &mut self.offsets {
            table.truncate(len);
        }
    }

    /// Appends text attributed to the offset just past the current end.
    pub fn push_str(&mut self, s: &str) {
        // One byte appended to non-empty text lands where the identity puts it.
        let identity = !self.is_empty() && s.len() <= 1;
        if !(identity && matches!(self.offsets, Offsets::Shifted(_))) {
            let anchor = self.offset_of(self.len());
            let mut table = self.take_table();
            table.extend(std::iter::repeat_n(anchor, s.len()));
            self.offsets = Offsets::Table(table);
        }
        if !s.is_empty() {
            self.text.edit(|text| text.push_str(s));
        }
    }

    /// Removes blanks (space, tab) at the start.
    pub fn trim_start_blanks(&mut self) {
        let text = self.as_str();
        // Both blanks are single bytes: a byte loop, not a search through a set of characters.
        let n = text
            .bytes()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        self.remove_range(0..n);
    }

    /// Removes blanks (space, tab) at the end.
    pub fn trim_end_blanks(&mut self) {
        let text = self.as_str();
        let keep = text.len()
            - text
                .bytes()
                .rev()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
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
    fn spans_of_text_as_written_are_those_of_its_offset_table() {
        let mut shifted = MappedText::from_line("  abc de", pos());
        shifted.trim_start_blanks();
        // The same text and offsets, as a table.
        let mut table = shifted.clone();
        table.push_str("xy");
        table.truncate(shifted.len());
        assert!(matches!(shifted.offsets, Offsets::Shifted(2)));
        assert!(matches!(table.offsets, Offsets::Table(_)));
        for start in 0..=shifted.len() {
            for end in start..=shifted.len() + 1 {
                assert_eq!(shifted.span(start..end), table.span(start..end));
            }
        }
    }

    #[test]
    fn synthetic_text_points_at_its_anchor() {
        let t = MappedText::synthetic("abc", pos(), 9);
        assert_eq!(t.full_span().start, 9);
        assert_eq!(t.offset_of(3), 10);
    }
}
