//! The configuration files that were read, and positions inside them.
//!
//! Every token the lexer produces carries a [`Span`] that points back at the file, line and
//! column it came from, so that diagnostics can show the offending text even after comments
//! were stripped, parameters substituted and lines split at braces.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub(crate) u32);

/// A line of a configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinePosition {
    /// The file.
    pub file: FileId,
    /// 1-based line number.
    pub line: u32,
}

/// A stretch of text on one line of a configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file and line.
    pub position: LinePosition,
    /// Byte offset of the first byte on the line (0-based).
    pub start: u32,
    /// Length in bytes (at least 1 when the span points at text).
    pub len: u32,
}

impl Span {
    /// A whole line (nothing in particular underlined).
    pub fn line(position: LinePosition) -> Span {
        Span {
            position,
            start: 0,
            len: 0,
        }
    }
}

/// One configuration file that was read.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Where the file was found.
    pub path: PathBuf,
    /// The name keepalived uses for the file in its messages: the `-f` argument for the main
    /// file, the glob match for included files.
    pub name: String,
    /// Whether keepalived's parent process names the file in its messages (included files, or
    /// a main-file pattern that matched several files); otherwise it writes `(Line N)`.
    pub named_by_parent: bool,
    /// The text of the file (shared with the lines read from it).
    text: Rc<String>,
    /// Where each line is in `text`, without its terminator.
    lines: Vec<Range<usize>>,
}

impl SourceFile {
    /// A file read from `path`, named `name` in messages, with its text.
    pub fn new(path: PathBuf, name: String, named_by_parent: bool, text: Rc<String>) -> Self {
        let lines = split_lines(&text);
        SourceFile {
            path,
            name,
            named_by_parent,
            text,
            lines,
        }
    }

    /// The whole text.
    pub fn text(&self) -> &Rc<String> {
        &self.text
    }

    /// The number of lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Where line `index` (0-based) is in [`SourceFile::text`].
    pub fn line_range(&self, index: usize) -> Option<Range<usize>> {
        self.lines.get(index).cloned()
    }

    /// The text of line `index` (0-based), without its terminator.
    pub fn line(&self, index: usize) -> Option<&str> {
        self.text.get(self.line_range(index)?)
    }
}

/// Splits file text into lines the way keepalived reads them: `\n` ends a line and any `\r`
/// before it is dropped.
fn split_lines(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
    let mut start = 0;
    let line = |start: usize, end: usize| {
        let trimmed = bytes[start..end]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\r')
            .count();
        start..end - trimmed
    };
    for end in memchr::memchr_iter(b'\n', bytes) {
        lines.push(line(start, end));
        start = end + 1;
    }
    if start < bytes.len() {
        lines.push(line(start, bytes.len()));
    }
    lines
}

/// All files read for one configuration.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Records a file and returns its id.
    pub(crate) fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    /// The file with this id.
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// All files, in the order they were opened.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// The text of a line, if it exists.
    pub fn line_text(&self, position: LinePosition) -> Option<&str> {
        let file = self.file(position.file)?;
        let index = usize::try_from(position.line).ok()?.checked_sub(1)?;
        file.line(index)
    }

    /// The path of a file, for display.
    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.file(id).map(|f| f.path.as_path())
    }

    /// The 1-based column (in characters) of a byte offset on a line.
    pub fn column(&self, position: LinePosition, byte_offset: u32) -> u32 {
        let Some(text) = self.line_text(position) else {
            return byte_offset + 1;
        };
        let mut end = (byte_offset as usize).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        u32::try_from(text[..end].chars().count()).unwrap_or(u32::MAX) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        let file = SourceFile::new(
            PathBuf::new(),
            String::new(),
            false,
            Rc::new(text.to_owned()),
        );
        (0..file.line_count())
            .filter_map(|i| file.line(i).map(str::to_owned))
            .collect()
    }

    #[test]
    fn lines_lose_their_terminators() {
        assert_eq!(lines("a\r\nb\n"), vec!["a", "b"]);
        assert_eq!(lines("a\nb"), vec!["a", "b"]);
        assert_eq!(lines("a\r\r\n\nc"), vec!["a", "", "c"]);
        assert!(lines("").is_empty());
        assert_eq!(lines("\n"), vec![""]);
    }
}
