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
    /// Where each line starts in `text` (4 bytes a line: a large configuration has hundreds of
    /// thousands); each ends before the next one's `\n`, or at the end of the text. Shared with
    /// the consolidated copy, which finds its lines' text through it.
    line_starts: Rc<Vec<u32>>,
}

impl SourceFile {
    /// A file read from `path`, named `name` in messages, with its text.
    pub fn new(path: PathBuf, name: String, named_by_parent: bool, text: Rc<String>) -> Self {
        let line_starts = Rc::new(line_starts(&text));
        Self::with_line_starts(path, name, named_by_parent, text, line_starts)
    }

    /// [`SourceFile::new`] with where its lines start worked out already.
    pub(crate) fn with_line_starts(
        path: PathBuf,
        name: String,
        named_by_parent: bool,
        text: Rc<String>,
        line_starts: Rc<Vec<u32>>,
    ) -> Self {
        SourceFile {
            path,
            name,
            named_by_parent,
            text,
            line_starts,
        }
    }

    /// The whole text.
    pub fn text(&self) -> &Rc<String> {
        &self.text
    }

    /// Where each line starts in [`SourceFile::text`].
    pub(crate) fn line_starts(&self) -> &Rc<Vec<u32>> {
        &self.line_starts
    }

    /// The number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Where line `index` (0-based) is in [`SourceFile::text`].
    /// Without its terminator: the `\n`, and any `\r` before it (keepalived drops them).
    pub fn line_range(&self, index: usize) -> Option<Range<usize>> {
        line_range(&self.text, &self.line_starts, index)
    }

    /// The text of line `index` (0-based), without its terminator.
    pub fn line(&self, index: usize) -> Option<&str> {
        self.text.get(self.line_range(index)?)
    }
}

/// Where line `index` (0-based) is in `text`, whose lines start at `line_starts`: without its
/// terminator, the `\n` and any `\r` before it (keepalived drops them).
pub(crate) fn line_range(text: &str, line_starts: &[u32], index: usize) -> Option<Range<usize>> {
    let start = *line_starts.get(index)? as usize;
    let end = match line_starts.get(index + 1) {
        Some(&next) => next as usize - 1,
        // The last line, ended by the text's last `\n` or by the end of the text.
        None => text.len() - usize::from(text.ends_with('\n')),
    };
    let carriage_returns = text.as_bytes()[start..end]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\r')
        .count();
    Some(start..end - carriage_returns)
}

/// Where the lines of `text` start: `\n` ends a line; text after the last one is a line too.
/// Offsets are 32-bit: a configuration file of 4 GiB or more is read as far as that.
pub(crate) fn line_starts(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let bytes = &bytes[..bytes.len().min(u32::MAX as usize)];
    // Room for lines of 32 bytes: one pass over the text, where counting first took two.
    let mut starts = Vec::with_capacity(bytes.len() / 32 + 1);
    starts.push(0);
    starts.extend(memchr::memchr_iter(b'\n', bytes).map(|end| end as u32 + 1));
    // A final `\n` ends the last line rather than starting an empty one.
    if starts
        .last()
        .is_some_and(|&start| start as usize == bytes.len())
    {
        starts.pop();
    }
    starts
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
