//! Reading configuration files line by line, following `include` directives.
//!
//! The parent process reads the files; what it reads (comments stripped) is kept as a
//! [`ConsolidatedCopy`], which the other processes read instead of the files, like
//! keepalived's in-memory copy of the configuration.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::glob;
use super::reader::{Skippable, leading_blanks, skippable, trim_end_blanks};
use super::reread::{self, EarlierFile, EarlierFiles, LineClass, Reread};
use super::text::MappedText;
use crate::diagnostics::{ErrorClass, Reporter};
use crate::source::{self, FileId, LinePosition, SourceFile, SourceMap, Span};

/// keepalived's include checks, as bits: what makes an include failure an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncludeChecks(u8);

impl IncludeChecks {
    /// Files must be readable regular files (`includer`).
    pub const READABLE: IncludeChecks = IncludeChecks(1);
    /// A pattern without wildcards must match (`includem`).
    pub const MATCH: IncludeChecks = IncludeChecks(2);
    /// A pattern with wildcards must match (`includew`).
    pub const WILDCARD_MATCH: IncludeChecks = IncludeChecks(4);
    /// Every brace alternative must match (`includeb`).
    pub const BRACE_MATCH: IncludeChecks = IncludeChecks(8);
    /// All checks (`includea`, `-e`).
    pub const ALL: IncludeChecks = IncludeChecks(15);
    /// No check (plain `include`).
    pub const NONE: IncludeChecks = IncludeChecks(0);

    /// Both sets of checks.
    pub fn union(self, other: IncludeChecks) -> IncludeChecks {
        IncludeChecks(self.0 | other.0)
    }

    /// These checks without `other`.
    pub fn without(self, other: IncludeChecks) -> IncludeChecks {
        IncludeChecks(self.0 & !other.0)
    }

    /// Whether any of `other` is checked.
    pub fn contains(self, other: IncludeChecks) -> bool {
        self.0 & other.0 != 0
    }

    /// The checks of an include directive word, if it is one: `include`, `includer`, …
    pub fn of_directive(word: &str) -> Option<IncludeChecks> {
        Some(match word {
            "include" => IncludeChecks::NONE,
            "includer" => IncludeChecks::READABLE,
            "includem" => IncludeChecks::READABLE.union(IncludeChecks::MATCH),
            "includew" => IncludeChecks::READABLE
                .union(IncludeChecks::MATCH)
                .union(IncludeChecks::WILDCARD_MATCH),
            "includeb" => IncludeChecks::READABLE.union(IncludeChecks::BRACE_MATCH),
            "includea" => IncludeChecks::ALL,
            _ => return None,
        })
    }
}

/// If `line` is an include directive, its checks and its pattern (the rest of the line).
pub fn parse_include(line: &str) -> Option<(IncludeChecks, &str)> {
    let rest = line.strip_prefix("include")?;
    let mut chars = rest.chars();
    let first = chars.next()?;
    let (checks, pattern) = if first.is_ascii_whitespace() {
        (IncludeChecks::NONE, rest)
    } else {
        if !first.is_ascii_alphabetic() {
            return None;
        }
        let second = chars.next()?;
        if !second.is_ascii_whitespace() {
            return None;
        }
        (IncludeChecks::of_directive(&line[..8])?, &rest[1..])
    };
    Some((
        checks,
        pattern.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']),
    ))
}

/// One line as the parent process read it, for the other processes: 16 bytes, as a large
/// configuration has hundreds of thousands.
#[derive(Clone, Debug)]
pub struct CopyLine {
    /// Where it came from.
    pub position: LinePosition,
    /// Its text after comment removal (empty for blank lines and include directives), with
    /// the original columns.
    text: CopyText,
}

/// The text of a [`CopyLine`], and how it reads in a block skipped by counting braces (worked
/// out once here for the processes that read the copy and skip most of it).
#[derive(Clone, Copy, Debug)]
enum CopyText {
    /// No text (a blank line, a comment, an include directive): the line reads as nothing.
    Blank,
    /// The line as written in its file, less its leading and trailing blanks (most lines): its
    /// `len` bytes from `column` on, which no lexical rule changes. A line whose column or
    /// length does not fit in 16 bits is kept aside.
    AsWritten {
        column: u16,
        len: u16,
        skip: Skippable,
    },
    /// Another text, kept in [`ConsolidatedCopy::texts`] at `index`.
    Kept { index: u32, skip: Option<Skippable> },
}

impl CopyLine {
    /// Whether the line has no text.
    pub fn is_empty(&self) -> bool {
        matches!(self.text, CopyText::Blank)
    }

    /// How the line reads in a block skipped by counting braces, if no lexical rule changes it.
    pub(crate) fn skip(&self) -> Option<Skippable> {
        match self.text {
            CopyText::Blank => Some(Skippable::Nothing),
            CopyText::AsWritten { skip, .. } => Some(skip),
            CopyText::Kept { skip, .. } => skip,
        }
    }
}

/// A text of the copy that is not its line as written.
#[derive(Clone, Debug)]
enum KeptText {
    /// The bytes `start..end` of the file's text, starting at `column` on its line (a line
    /// that lost a comment).
    Verbatim { start: u32, end: u32, column: u32 },
    /// Text changed by comment removal.
    Edited(MappedText),
}

/// What the copy keeps of a file read.
#[derive(Clone, Debug)]
struct CopiedFile {
    text: Rc<String>,
    line_starts: Rc<Vec<u32>>,
    /// The index of its directory in [`ConsolidatedCopy::directories`].
    directory: usize,
}

impl CopiedFile {
    /// Where the line at `position` is in the file's text, without its terminator.
    fn line_range(&self, position: LinePosition) -> Option<Range<usize>> {
        let index = (position.line as usize).checked_sub(1)?;
        source::line_range(&self.text, &self.line_starts, index)
    }

    /// Where the line at `position` is without its leading and trailing blanks, and the
    /// column where it then starts.
    fn as_written(&self, position: LinePosition) -> Option<(Range<usize>, u32)> {
        let line = self.line_range(position)?;
        let text = self.text.get(line.clone())?;
        let lead = leading_blanks(text);
        let start = line.start + lead;
        let end = start + trim_end_blanks(&text[lead..]).len();
        Some((start..end, u32::try_from(lead).ok()?))
    }

    /// The `len` bytes from `column` on of the line at `position`.
    fn text_as_written(&self, position: LinePosition, column: u16, len: u16) -> Option<MappedText> {
        let index = (position.line as usize).checked_sub(1)?;
        let start = *self.line_starts.get(index)? as usize + usize::from(column);
        Some(MappedText::from_verbatim(
            &self.text,
            start..start + usize::from(len),
            u32::from(column),
            position,
        ))
    }
}

/// The configuration as the parent process read it.
#[derive(Clone, Debug, Default)]
pub struct ConsolidatedCopy {
    /// The lines, in reading order.
    pub lines: Vec<CopyLine>,
    /// The directories of the files.
    pub directories: Vec<String>,
    /// Each file read, by [`FileId`].
    files: Vec<Option<CopiedFile>>,
    /// The texts of the lines that are not their line as written.
    texts: Vec<KeptText>,
}

impl ConsolidatedCopy {
    /// Keeps the text of `file` (whose id is `id`, in the directory at `directory`) for the
    /// lines read from it.
    fn add_file(&mut self, id: FileId, file: &SourceFile, directory: usize) {
        let index = id.0 as usize;
        if self.files.len() <= index {
            self.files.resize(index + 1, None);
        }
        self.files[index] = Some(CopiedFile {
            text: Rc::clone(file.text()),
            line_starts: Rc::clone(file.line_starts()),
            directory,
        });
    }

    /// What is kept of the file `id` whose text is `all`.
    fn file(&self, id: FileId, all: Option<&Rc<String>>) -> Option<&CopiedFile> {
        let file = self.files.get(id.0 as usize)?.as_ref()?;
        match all {
            Some(all) if !Rc::ptr_eq(&file.text, all) => None,
            _ => Some(file),
        }
    }

    /// The index of the directory of the file `line` came from.
    pub fn directory_of(&self, line: &CopyLine) -> Option<usize> {
        Some(self.file(line.position.file, None)?.directory)
    }

    /// Appends a line, which reads as `skip` in a skipped block.
    pub(crate) fn push(&mut self, text: MappedText, skip: Option<Skippable>) {
        let position = text.position();
        let text = if text.is_empty() && skip == Some(Skippable::Nothing) {
            CopyText::Blank
        } else if let Some(as_written) = self.as_written(&text, skip) {
            as_written
        } else {
            self.keep(text, skip)
        };
        self.lines.push(CopyLine { position, text });
    }

    /// `text` as a line as written, if it is one (and reads as something in a skipped block).
    fn as_written(&self, text: &MappedText, skip: Option<Skippable>) -> Option<CopyText> {
        let skip = skip?;
        let (all, range, column) = text.verbatim()?;
        let position = text.position();
        let file = self.file(position.file, Some(all))?;
        let as_written = !range.is_empty() && file.as_written(position)? == (range.clone(), column);
        Some(CopyText::AsWritten {
            column: u16::try_from(column).ok()?,
            len: u16::try_from(range.len()).ok()?,
            skip,
        })
        .filter(|_| as_written)
    }

    /// Keeps `text` among the texts that are not their line as written.
    fn keep(&mut self, text: MappedText, skip: Option<Skippable>) -> CopyText {
        let position = text.position();
        let verbatim = text.verbatim().and_then(|(all, range, column)| {
            self.file(position.file, Some(all))?;
            Some(KeptText::Verbatim {
                start: u32::try_from(range.start).ok()?,
                end: u32::try_from(range.end).ok()?,
                column,
            })
        });
        let index = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(verbatim.unwrap_or(KeptText::Edited(text)));
        CopyText::Kept { index, skip }
    }

    /// Appends the line at `position` whose text is the bytes `range` of its file's text `all`,
    /// the first at `column`: the line as written without its leading and trailing blanks,
    /// which reads as `skip` in a skipped block. The parent's pass over skipped lines knows
    /// this of every line it passes, and does not make a text of them.
    pub(crate) fn push_as_written(
        &mut self,
        all: &Rc<String>,
        range: Range<usize>,
        column: u32,
        position: LinePosition,
        skip: Skippable,
    ) {
        let known = self.file(position.file, Some(all)).is_some();
        match (u16::try_from(column), u16::try_from(range.len())) {
            (Ok(column), Ok(len)) if known && len > 0 => self.lines.push(CopyLine {
                position,
                text: CopyText::AsWritten { column, len, skip },
            }),
            _ => self.push(
                MappedText::from_verbatim(all, range, column, position),
                Some(skip),
            ),
        }
    }

    /// The text as written of the copy's lines `first..=last`, when they are consecutive lines
    /// of one file (no include between them): the lines themselves with what lies between
    /// them, comments and blank lines included. Equal texts make equal lines.
    pub fn text_as_written(&self, first: usize, last: usize) -> Option<&str> {
        let lines = self.lines.get(first..=last)?;
        let start = lines.first()?.position;
        let consecutive = lines
            .iter()
            .zip(start.line..)
            .all(|(line, number)| line.position.file == start.file && line.position.line == number);
        if !consecutive {
            return None;
        }
        let file = self.file(start.file, None)?;
        let from = file.line_range(start)?.start;
        let to = file.line_range(lines.last()?.position)?.end;
        file.text.get(from..to)
    }

    /// The text of `line` (a line of this copy).
    pub fn text(&self, line: &CopyLine) -> MappedText {
        let position = line.position;
        let text = match line.text {
            CopyText::Blank => None,
            CopyText::AsWritten { column, len, .. } => self
                .file(position.file, None)
                .and_then(|file| file.text_as_written(position, column, len)),
            CopyText::Kept { index, .. } => match self.texts.get(index as usize) {
                Some(KeptText::Verbatim { start, end, column }) => {
                    self.file(position.file, None).map(|file| {
                        MappedText::from_verbatim(
                            &file.text,
                            *start as usize..*end as usize,
                            *column,
                            position,
                        )
                    })
                }
                Some(KeptText::Edited(text)) => Some(text.clone()),
                None => None,
            },
        };
        text.unwrap_or_else(|| MappedText::from_line("", position))
    }
}

/// A physical line as the parent process reads it.
#[derive(Clone, Debug)]
pub struct RawLine {
    /// Where it is.
    pub position: LinePosition,
    /// The index of its file's directory.
    pub directory: usize,
    /// Its bytes in its file's text, without the line terminator.
    pub range: std::ops::Range<usize>,
}

/// A file being read.
#[derive(Debug)]
struct OpenFile {
    id: FileId,
    next_line: usize,
    directory: usize,
}

/// The files matched by one include pattern, read one after the other.
#[derive(Debug)]
struct OpenGlob {
    matches: Vec<String>,
    next_match: usize,
    base: PathBuf,
    checks: IncludeChecks,
    saved_include_check: IncludeChecks,
    current: Option<OpenFile>,
    /// The bottom of the stack (the `-f` file) is only named in the parent's messages if its
    /// pattern matched several files.
    is_main: bool,
}

/// Reads configuration files for the parent process.
#[derive(Debug)]
pub struct FileReader {
    stack: Vec<OpenGlob>,
    /// Global include checks (`-e`, `include_check`).
    pub include_check: IncludeChecks,
    /// What was read, for the other processes.
    pub copy: ConsolidatedCopy,
    /// How many files may be open at once (see [`FileReader::open_main`]).
    open_file_limit: usize,
    /// How many files have been read.
    files_read: usize,
    /// The files of the last reading, to read again only what changed in them.
    earlier: EarlierFiles,
    /// What is known of the lines of each file read, by [`FileId`].
    lines: Vec<Option<FileLines>>,
    /// How many lines copied were taken over from the last reading.
    taken_over: usize,
}

/// What is known of the lines of a file read: how the last reading's lines read (those the
/// file still has), and how those of this reading do.
#[derive(Debug)]
struct FileLines {
    path: PathBuf,
    text: Rc<String>,
    line_starts: Rc<Vec<u32>>,
    reread: Reread,
    classes: Vec<LineClass>,
}

impl FileLines {
    /// How line `index` of `source` (this file) reads; `None` past its end. Worked out once a
    /// reading, or taken over from the last (counted in `taken_over`).
    fn class_of(
        &mut self,
        source: &SourceFile,
        index: usize,
        taken_over: &mut usize,
    ) -> Option<LineClass> {
        let slot = self.classes.get_mut(index)?;
        if *slot == LineClass::Unknown {
            *slot = match self.reread.class(index) {
                LineClass::Unknown => classify(source.line(index)?),
                known => {
                    *taken_over += 1;
                    known
                }
            };
        }
        Some(*slot)
    }
}

/// The most files one configuration may read, counting each include of a file again.
pub const MAX_FILES_READ: usize = 100_000;

impl FileReader {
    /// Opens the main configuration file (a pattern too, as for keepalived). At most
    /// `open_file_limit` files are open at once, the main file and the files it includes,
    /// nested; opening one more fails like keepalived's `fopen` out of file descriptors.
    pub fn open_main(
        name: &str,
        cwd: &Path,
        include_check: IncludeChecks,
        open_file_limit: usize,
        earlier: EarlierFiles,
        sources: &mut SourceMap,
        out: &mut Reporter,
    ) -> Self {
        let mut reader = FileReader {
            stack: Vec::new(),
            include_check,
            copy: ConsolidatedCopy::default(),
            open_file_limit,
            files_read: 0,
            earlier,
            lines: Vec::new(),
            taken_over: 0,
        };
        reader.open_glob(name, cwd, IncludeChecks::NONE, true, sources, out);
        reader
    }

    /// The directory of the file being read.
    pub fn current_directory(&self) -> Option<&str> {
        let file = self.stack.last()?.current.as_ref()?;
        self.copy
            .directories
            .get(file.directory)
            .map(String::as_str)
    }

    fn file_error(
        &self,
        checks: IncludeChecks,
        error: IncludeChecks,
        message: String,
        out: &mut Reporter,
    ) {
        if self.include_check.union(checks).contains(error) {
            out.report(ErrorClass::FileNotFound, message);
            out.include_failed = true;
        } else {
            out.report(ErrorClass::Info, message);
        }
    }

    /// Handles an include directive read from the current file.
    pub fn include(
        &mut self,
        pattern: &str,
        checks: IncludeChecks,
        sources: &mut SourceMap,
        out: &mut Reporter,
    ) {
        let base = self
            .current_directory()
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
        self.open_glob(pattern, &base, checks, false, sources, out);
    }

    fn open_glob(
        &mut self,
        pattern: &str,
        base: &Path,
        checks: IncludeChecks,
        is_main: bool,
        sources: &mut SourceMap,
        out: &mut Reporter,
    ) {
        let result = glob::expand(pattern, base);
        if result.matches.is_empty() {
            if result.missing_files > 0 || result.missing_directories > 0 {
                let error = if glob::has_brace(pattern) {
                    IncludeChecks::BRACE_MATCH
                } else {
                    IncludeChecks::MATCH
                };
                self.file_error(
                    checks,
                    error,
                    format!("Config files missing '{pattern}'."),
                    out,
                );
            } else if result.had_wildcards
                && self
                    .include_check
                    .union(checks)
                    .contains(IncludeChecks::WILDCARD_MATCH)
            {
                self.file_error(
                    checks,
                    IncludeChecks::WILDCARD_MATCH,
                    format!("No config files matched '{pattern}'."),
                    out,
                );
            }
            return;
        }
        if result.missing_files > 0 || result.missing_directories > 0 {
            self.file_error(
                checks,
                IncludeChecks::BRACE_MATCH,
                format!("Some config files missing: \"{pattern}\"."),
                out,
            );
            if self
                .include_check
                .union(checks)
                .contains(IncludeChecks::BRACE_MATCH)
            {
                return;
            }
        }
        let glob = OpenGlob {
            matches: result.matches,
            next_match: 0,
            base: base.to_path_buf(),
            checks,
            saved_include_check: self.include_check,
            current: None,
            is_main,
        };
        self.stack.push(glob);
        if !self.open_next_match(sources, out) {
            self.stack.pop();
        }
    }

    /// Opens the next usable file of the glob on top of the stack.
    fn open_next_match(&mut self, sources: &mut SourceMap, out: &mut Reporter) -> bool {
        loop {
            let Some(glob) = self.stack.last_mut() else {
                return false;
            };
            let Some(name) = glob.matches.get(glob.next_match).cloned() else {
                return false;
            };
            glob.next_match += 1;
            let checks = glob.checks;
            let path = glob.base.join(&name);
            let named_by_parent = !glob.is_main || glob.matches.len() > 1;

            if name.ends_with('/') {
                self.file_error(
                    checks,
                    IncludeChecks::READABLE,
                    format!("Configuration file '{name}' is a directory - skipping"),
                    out,
                );
                continue;
            }
            let regular = fs::metadata(&path).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 == 0
            });
            if !regular {
                self.file_error(checks, IncludeChecks::READABLE, format!("Configuration file '{name}' is not a regular non-executable file - skipping"), out);
                continue;
            }
            // keepalived holds every file of an include chain open: past its open-file limit
            // the next one fails, which also ends include loops.
            // Includes through a wildcard that matches its own file branch at every level:
            // keepalived would read for ever, this reader stops at MAX_FILES_READ files.
            let open = self.stack.iter().filter(|g| g.current.is_some()).count();
            let read = if open >= self.open_file_limit || self.files_read >= MAX_FILES_READ {
                Err(std::io::Error::from_raw_os_error(nix::libc::EMFILE))
            } else {
                fs::read(&path)
            };
            let bytes = match read {
                Ok(b) => {
                    self.files_read += 1;
                    b
                }
                Err(e) => {
                    self.file_error(
                        checks,
                        IncludeChecks::READABLE,
                        format!(
                            "Configuration file '{name}' open problem ({}) - skipping",
                            strerror(&e)
                        ),
                        out,
                    );
                    continue;
                }
            };
            // Valid UTF-8 (nearly always) is kept as read, without a copy.
            let text = std::rc::Rc::new(match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            });
            let absolute = if path.is_absolute() {
                path.clone()
            } else {
                std::env::current_dir().unwrap_or_default().join(&path)
            };
            let directory = absolute
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (line_starts, reread) = match self.earlier.take(&absolute) {
                Some(earlier) => reread::reread(earlier, &text),
                None => (source::line_starts(&text), Reread::default()),
            };
            let line_starts = Rc::new(line_starts);
            let lines = FileLines {
                path: absolute,
                text: Rc::clone(&text),
                line_starts: Rc::clone(&line_starts),
                reread,
                classes: vec![LineClass::Unknown; line_starts.len()],
            };
            let file = SourceFile::with_line_starts(path, name, named_by_parent, text, line_starts);
            // Each line of the file becomes a line of the copy.
            self.copy.lines.reserve(file.line_count());
            let id = sources.add(file);
            let slot = id.0 as usize;
            if self.lines.len() <= slot {
                self.lines.resize_with(slot + 1, || None);
            }
            self.lines[slot] = Some(lines);
            self.copy.directories.push(directory);
            let dir_index = self.copy.directories.len() - 1;
            if let Some(file) = sources.file(id) {
                self.copy.add_file(id, file, dir_index);
            }
            if let Some(glob) = self.stack.last_mut() {
                glob.current = Some(OpenFile {
                    id,
                    next_line: 0,
                    directory: dir_index,
                });
            }
            return true;
        }
    }

    /// Copies the next lines of the file being read, each as written, for as long as they read
    /// plainly in a skipped block ([`LineClass::Copies`]) and `pass` takes what they do to its
    /// braces. Lines [`FileReader::next_raw`] must read (a blank line, one longer than
    /// keepalived's, the end of the file) stop it too. Returns where the last line copied was,
    /// and its directory. A skipped block of thousands of lines is copied here without a
    /// [`RawLine`] made for each, and the lines the last reading of the file worked out are not
    /// looked at again ([`reread`]).
    pub(crate) fn copy_lines_while(
        &mut self,
        sources: &SourceMap,
        mut pass: impl FnMut(Skippable) -> bool,
    ) -> Option<(LinePosition, usize)> {
        let file = self.stack.last_mut()?.current.as_mut()?;
        let source = sources.file(file.id)?;
        // Lines as written are kept as places in their file's text, which the copy must hold.
        self.copy.file(file.id, Some(source.text()))?;
        let lines = self.lines.get_mut(file.id.0 as usize)?.as_mut()?;
        let mut last = None;
        while let Some(class) = lines.class_of(source, file.next_line, &mut self.taken_over) {
            let LineClass::Copies { column, len, skip } = class else {
                break;
            };
            if !pass(skip) {
                break;
            }
            file.next_line += 1;
            let position = LinePosition {
                file: file.id,
                line: u32::try_from(file.next_line).unwrap_or(u32::MAX),
            };
            self.copy.lines.push(CopyLine {
                position,
                text: CopyText::AsWritten { column, len, skip },
            });
            last = Some(position);
        }
        last.map(|position| (position, file.directory))
    }

    /// The block that opens at the next line of the file being read, when every line of it to
    /// its closing brace reads plainly ([`LineClass::Copies`]): its opening line's words, and
    /// how many lines it has. [`FileReader::copy_lines_while`] copies it.
    pub(crate) fn plain_block_ahead<'s>(
        &mut self,
        sources: &'s SourceMap,
    ) -> Option<(&'s str, usize)> {
        let file = self.stack.last()?.current.as_ref()?;
        let source = sources.file(file.id)?;
        let lines = self.lines.get_mut(file.id.0 as usize)?.as_mut()?;
        let first = file.next_line;
        let taken_over = &mut self.taken_over;
        let LineClass::Copies {
            column,
            len,
            skip: Skippable::Opens,
        } = lines.class_of(source, first, taken_over)?
        else {
            return None;
        };
        let mut depth = 1_usize;
        let mut next = first + 1;
        while depth > 0 {
            let LineClass::Copies { skip, .. } = lines.class_of(source, next, taken_over)? else {
                return None;
            };
            match skip {
                Skippable::Nothing => {}
                Skippable::Opens => depth += 1,
                Skippable::Closes => depth -= 1,
            }
            next += 1;
        }
        let start = source.line_range(first)?.start + usize::from(column);
        let words = source.text().get(start..start + usize::from(len))?;
        Some((words, next - first))
    }

    /// What this reading worked out of its files, for the next reading to take over.
    pub fn take_earlier(&mut self) -> EarlierFiles {
        // Files this reading did not read again are forgotten.
        let mut files = EarlierFiles::default();
        files.set_taken_over(self.taken_over);
        for lines in self.lines.drain(..).flatten() {
            files.keep(
                lines.path,
                EarlierFile::new(lines.text, lines.line_starts, lines.classes),
            );
        }
        files
    }

    /// The next physical line.
    pub fn next_raw(&mut self, sources: &mut SourceMap, out: &mut Reporter) -> Option<RawLine> {
        loop {
            let glob = self.stack.last_mut()?;
            if let Some(file) = glob.current.as_mut() {
                let position = LinePosition {
                    file: file.id,
                    line: u32::try_from(file.next_line + 1).unwrap_or(u32::MAX),
                };
                if let Some(range) = sources
                    .file(file.id)
                    .and_then(|f| f.line_range(file.next_line))
                {
                    file.next_line += 1;
                    if range.len() > KEEPALIVED_LINE_MAX {
                        lint_long_line(out, position, range.len());
                    }
                    return Some(RawLine {
                        position,
                        directory: file.directory,
                        range,
                    });
                }
            }
            // End of this file: the next match, or back to the including file.
            if let Some(glob) = self.stack.last_mut() {
                glob.current = None;
            }
            if self.open_next_match(sources, out) {
                continue;
            }
            if let Some(done) = self.stack.pop() {
                self.include_check = done.saved_include_check;
            }
            // Messages now refer to the line of the include directive again.
            if let Some(file) = self.stack.last().and_then(|g| g.current.as_ref()) {
                out.position = Some(LinePosition {
                    file: file.id,
                    line: u32::try_from(file.next_line).unwrap_or(u32::MAX),
                });
            } else {
                out.position = None;
            }
        }
    }
}

/// The longest line keepalived reads in one piece: its `fgets` buffer is 1024 bytes.
const KEEPALIVED_LINE_MAX: usize = 1023;

/// How `line` (a physical line, without its terminator) reads to the copy of a skipped block.
fn classify(line: &str) -> LineClass {
    if line.len() > KEEPALIVED_LINE_MAX {
        return LineClass::Stops;
    }
    let lead = leading_blanks(line);
    let kept = trim_end_blanks(&line[lead..]);
    let (Ok(column), Ok(len)) = (u16::try_from(lead), u16::try_from(kept.len())) else {
        return LineClass::Stops;
    };
    match skippable(kept) {
        Some(skip) if !kept.is_empty() => LineClass::Copies { column, len, skip },
        _ => LineClass::Stops,
    }
}

/// We read a long line whole; keepalived reads what is past its buffer as another line.
fn lint_long_line(out: &mut Reporter, position: LinePosition, len: usize) {
    let start = u32::try_from(KEEPALIVED_LINE_MAX).unwrap_or(u32::MAX);
    let span = Span {
        position,
        start,
        len: u32::try_from(len - KEEPALIVED_LINE_MAX).unwrap_or(u32::MAX),
    };
    out.lint(
        format!(
            "this line is {len} bytes long: keepalived reads lines in pieces of {KEEPALIVED_LINE_MAX} bytes and takes the rest for a line of its own"
        ),
        Some(span),
        Some("keep lines shorter than 1024 bytes".into()),
    );
}

/// The C library's text for an I/O error, as keepalived prints it.
fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_keeps_lines_as_written_by_their_place_and_others_by_their_text() {
        let text = Rc::new("  a b {\n\n x # note\n\tc\r\n".to_owned());
        let file = SourceFile::new("k.conf".into(), "k.conf".into(), false, Rc::clone(&text));
        let mut copy = ConsolidatedCopy::default();
        copy.directories.push("/etc/keepalived".into());
        copy.add_file(FileId(0), &file, 0);
        let line = |number: u32| {
            let position = LinePosition {
                file: FileId(0),
                line: number,
            };
            let range = file.line_range(number as usize - 1).unwrap_or_default();
            let mut line = MappedText::from_shared(&text, range, position);
            line.trim_start_blanks();
            line
        };
        copy.push(line(1), Some(Skippable::Opens));
        copy.push(line(2), Some(Skippable::Nothing));
        // What comment removal leaves.
        copy.push(line(3).slice(0..1), Some(Skippable::Nothing));
        copy.push(line(4), Some(Skippable::Nothing));

        let texts: Vec<String> = copy
            .lines
            .iter()
            .map(|l| copy.text(l).as_str().to_owned())
            .collect();
        assert_eq!(texts, ["a b {", "", "x", "c"]);
        assert!(matches!(copy.lines[0].text, CopyText::AsWritten { .. }));
        assert!(copy.lines[1].is_empty());
        assert!(matches!(copy.lines[2].text, CopyText::Kept { .. }));
        assert!(matches!(copy.lines[3].text, CopyText::AsWritten { .. }));
        // Words are still underlined where they were written.
        assert_eq!(copy.text(&copy.lines[0]).span(2..3).start, 4);
        assert_eq!(copy.text(&copy.lines[2]).span(0..1).start, 1);
        assert_eq!(copy.text(&copy.lines[3]).span(0..1).start, 1);
        assert_eq!(copy.lines[0].skip(), Some(Skippable::Opens));
        assert_eq!(copy.directory_of(&copy.lines[3]), Some(0));
        assert_eq!(std::mem::size_of::<CopyLine>(), 16);
    }

    #[test]
    fn include_directives_are_recognised_with_their_checks() {
        assert_eq!(
            parse_include("include a.conf"),
            Some((IncludeChecks::NONE, "a.conf"))
        );
        assert_eq!(
            parse_include("includea  x/*.conf"),
            Some((IncludeChecks::ALL, "x/*.conf"))
        );
        assert_eq!(parse_include("includex a"), None);
        assert_eq!(parse_include("include"), None);
        assert_eq!(parse_include("included a"), None);
    }
}
