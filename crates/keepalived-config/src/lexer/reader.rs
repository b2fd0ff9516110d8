//! Turning physical lines into the logical lines the grammar reads (keepalived's `read_line`).
//!
//! In order, for each line: comments go; a `$NAME=` line defines a parameter (continued on
//! the next lines while they end in `\`); `@ID` and `@^ID` keep or drop the line depending on
//! the config id; `~SEQ`/`~LST` start a repetition; parameters are substituted (and comments
//! removed again, so a `#` produced by a substitution starts a comment); `include` opens other
//! files. Finally the line is cut before its first `{` or `}` outside quotes, the rest being
//! read as the next line, so that `name {`, `{ item }` and `a }` all become separate lines.

use std::collections::VecDeque;

use super::decomment::decomment_reporting;
use super::files::{ConsolidatedCopy, CopyLine, FileReader, RawLine, parse_include};
use super::params::Definitions;
use super::sequence::{Sequence, parse_lst, parse_seq};
use super::text::MappedText;
use crate::diagnostics::{ErrorClass, Reporter};
use crate::source::{LinePosition, SourceFile, SourceMap};

/// Where physical lines come from.
pub enum Physical<'a> {
    /// The files themselves (the parent process), recording what is read.
    Files {
        /// The open files (boxed: a reader is large, and the copy is what most readings read).
        reader: Box<FileReader>,
        /// Where files are recorded.
        sources: &'a mut SourceMap,
    },
    /// The parent's consolidated copy (the other processes).
    Copy {
        /// The copy.
        copy: &'a ConsolidatedCopy,
        /// The next line to read.
        next: usize,
    },
}

/// Produces logical lines.
pub struct LineReader<'a> {
    physical: Physical<'a>,
    defs: Definitions,
    config_id: String,
    sequences: Vec<Sequence>,
    /// Sequences started before the multi-line expansion being read do not interrupt it.
    multiline_seq_depth: usize,
    continuation: VecDeque<String>,
    continuation_stack: Vec<(VecDeque<String>, usize)>,
    residue: Option<MappedText>,
    /// The multi-line parameter being defined.
    defining: Option<usize>,
    block_depth: i64,
    /// The index of the directory `${_PWD}` now names.
    directory: Option<usize>,
    /// A physical line read ahead by [`LineReader::skip_in_skipped_block`], and its directory.
    pending: Option<(MappedText, usize)>,
    /// How many more lines `~SEQ`/`~LST` may produce (`None`: no limit, as in keepalived).
    sequence_budget: Option<u64>,
}

impl<'a> LineReader<'a> {
    /// A reader over `physical`, with `config_id` for `@` lines.
    pub fn new(physical: Physical<'a>, config_id: &str) -> Self {
        LineReader {
            physical,
            defs: Definitions::new(config_id),
            config_id: config_id.to_owned(),
            sequences: Vec::new(),
            multiline_seq_depth: 0,
            continuation: VecDeque::new(),
            continuation_stack: Vec::new(),
            residue: None,
            defining: None,
            block_depth: 0,
            directory: None,
            pending: None,
            sequence_budget: None,
        }
    }

    /// Lets `~SEQ` and `~LST` produce at most `lines` lines in all; the repetitions left are
    /// then dropped. keepalived has no such limit.
    pub fn limit_sequences(mut self, lines: Option<u64>) -> Self {
        self.sequence_budget = lines;
        self
    }

    /// Gives back the file reader (with the consolidated copy) after the parent's parse.
    pub fn into_file_reader(self) -> Option<FileReader> {
        match self.physical {
            Physical::Files { reader, .. } => Some(*reader),
            Physical::Copy { .. } => None,
        }
    }

    /// The number of `{` not yet closed.
    pub fn open_blocks(&self) -> i64 {
        self.block_depth
    }

    /// Reads the next physical line that is not blank after comment removal, and how it reads
    /// in a skipped block if no lexical rule changes it (then nothing but brace splitting
    /// applies to it).
    fn next_physical(&mut self, out: &mut Reporter) -> Option<(MappedText, Option<Skippable>)> {
        loop {
            let (mut line, directory) = match self.pending.take() {
                Some((line, directory)) => (line, Some(directory)),
                None => match &mut self.physical {
                    Physical::Files { reader, sources } => {
                        let raw = reader.next_raw(sources, out)?;
                        (raw_line(sources, &raw), Some(raw.directory))
                    }
                    Physical::Copy { copy, next } => {
                        let copy: &'a ConsolidatedCopy = copy;
                        let line = copy.lines.get(*next)?;
                        *next += 1;
                        if let (Some(effect), false) = (line.skip(), line.is_empty()) {
                            // The parent found no comment, quote, escape, parameter,
                            // condition, sequence or include on this line, and trimmed it:
                            // comment removal would change nothing.
                            return Some((self.read_copy_line(copy, line, out), Some(effect)));
                        }
                        (copy.text(line), copy.directory_of(line))
                    }
                },
            };
            let position = line.position();
            out.position = Some(position);
            if let Some(directory) = directory {
                self.enter_directory(directory);
            }

            if line.is_empty() {
                if let Some(def) = self.defining.take() {
                    self.defs.finish_multiline(def);
                }
                self.record_copy(line, Some(Skippable::Nothing));
                continue;
            }

            decomment_reporting(&mut line, out);
            if !matches!(self.physical, Physical::Files { .. }) {
                if line.is_empty() {
                    continue;
                }
                return Some((line, None));
            }
            // The copy keeps comment-free text; include directives become blank lines (the
            // parent has read the files they name).
            let include = parse_include(line.as_str()).is_some();
            let copied = if include {
                line.slice(0..0)
            } else {
                line.clone()
            };
            let effect = skippable(copied.as_str());
            self.record_copy(copied, effect);
            if line.is_empty() {
                continue;
            }
            return Some((line, if include { None } else { effect }));
        }
    }

    /// Passes over the lines that the grammar, skipping a block by counting its braces (with
    /// `depth` braces open), would read only for their braces: lines that no lexical rule
    /// changes (no comment, quote, escape, parameter, condition, sequence or include) and that
    /// hold no brace, or open one at their end, or close one without closing the block. Three
    /// of keepalived's four parses skip most of a configuration, so this is most of their work.
    /// Stops before any other line, which the grammar reads as usual.
    pub fn skip_in_skipped_block(&mut self, out: &mut Reporter, depth: &mut i32) {
        if !self.nothing_pending() {
            return;
        }
        if let Physical::Copy { copy, next } = &mut self.physical {
            let copy: &ConsolidatedCopy = copy;
            let start = *next;
            let mut at = start;
            while let Some(effect) = copy.lines.get(at).and_then(CopyLine::skip) {
                if !pass(&mut self.block_depth, effect, depth) {
                    break;
                }
                at += 1;
            }
            *next = at;
            // Nothing is said and nothing substituted on these lines: where the reading stands
            // only matters from the last of them on.
            if let Some(last) = at.checked_sub(1).filter(|&last| last >= start) {
                let line = &copy.lines[last];
                out.position = Some(line.position);
                if let Some(directory) = copy.directory_of(line) {
                    self.enter_directory(directory);
                }
            }
            return;
        }
        loop {
            if self.copy_skipped_run(out, depth) {
                continue;
            }
            match &mut self.physical {
                Physical::Copy { .. } => return,
                // One line at a time where a run cannot be copied at once.
                Physical::Files { reader, sources } => {
                    let Some(raw) = reader.next_raw(sources, out) else {
                        return;
                    };
                    // What the copy keeps of such a line: the line without its blanks, a
                    // place in its file's text (no text is made for a line passed over).
                    let all = sources.file(raw.position.file).map(SourceFile::text);
                    let text = all
                        .and_then(|all| all.get(raw.range.clone()))
                        .unwrap_or_default();
                    let lead = leading_blanks(text);
                    let kept = trim_end_blanks(&text[lead..]);
                    let effect = skippable(kept);
                    let (Some(all), Some(effect)) = (all, effect) else {
                        self.pending = Some((raw_line(sources, &raw), raw.directory));
                        return;
                    };
                    if !pass(&mut self.block_depth, effect, depth) {
                        self.pending = Some((raw_line(sources, &raw), raw.directory));
                        return;
                    }
                    let start = raw.range.start + lead;
                    reader.copy.push_as_written(
                        all,
                        start..start + kept.len(),
                        u32::try_from(lead).unwrap_or(u32::MAX),
                        raw.position,
                        effect,
                    );
                    out.position = Some(raw.position);
                    self.enter_directory(raw.directory);
                }
            }
        }
    }

    /// At the top level of the files, with nothing pending, the block that opens at the next
    /// line when every line of it reads plainly ([`FileReader::plain_block_ahead`]): its
    /// opening line's words, and how many lines it has, for [`LineReader::pass_plain_block`].
    pub(crate) fn plain_block_ahead(&mut self) -> Option<(&str, usize)> {
        if self.block_depth != 0 || !self.nothing_pending() {
            return None;
        }
        let Physical::Files { reader, sources } = &mut self.physical else {
            return None;
        };
        reader.plain_block_ahead(sources)
    }

    /// Copies the `lines` lines of the block [`LineReader::plain_block_ahead`] found for the
    /// other processes, as if they had been read and the block skipped by counting its braces.
    pub(crate) fn pass_plain_block(&mut self, lines: usize, out: &mut Reporter) {
        let Physical::Files { reader, sources } = &mut self.physical else {
            return;
        };
        let mut left = lines;
        let copied = reader.copy_lines_while(sources, |_| {
            let more = left > 0;
            left = left.saturating_sub(1);
            more
        });
        let Some((position, directory)) = copied else {
            return;
        };
        out.position = Some(position);
        self.enter_directory(directory);
    }

    /// Copies the lines of a skipped block that follow in the file being read, as many as can
    /// be at once ([`FileReader::copy_lines_while`]); whether there were any.
    fn copy_skipped_run(&mut self, out: &mut Reporter, depth: &mut i32) -> bool {
        let Physical::Files { reader, sources } = &mut self.physical else {
            return false;
        };
        let block_depth = &mut self.block_depth;
        let copied = reader.copy_lines_while(sources, |effect| pass(block_depth, effect, depth));
        let Some((position, directory)) = copied else {
            return false;
        };
        out.position = Some(position);
        self.enter_directory(directory);
        true
    }

    /// The block opened by the line just read, when that line and every line of the block are
    /// lines of the parent's copy that no lexical rule changes (so that they read the same
    /// wherever they stand) and the block ends where its braces do. The reader stands after the
    /// opening line, with only its `{` left to read.
    pub(crate) fn plain_block(&self) -> Option<PlainBlock<'a>> {
        let Physical::Copy { copy, next } = &self.physical else {
            return None;
        };
        let copy: &'a ConsolidatedCopy = copy;
        let only_brace_left = self.residue.as_ref().is_some_and(|r| r.as_str() == "{");
        if !only_brace_left || !self.only_residue_pending() {
            return None;
        }
        let first = next.checked_sub(1)?;
        if copy.lines.get(first)?.skip() != Some(Skippable::Opens) {
            return None;
        }
        let mut depth = 1_usize;
        let mut last = first;
        while depth > 0 {
            last += 1;
            match copy.lines.get(last)?.skip()? {
                Skippable::Nothing => {}
                Skippable::Opens => depth += 1,
                Skippable::Closes => depth -= 1,
            }
        }
        Some(PlainBlock {
            text: copy.text_as_written(first, last)?,
            start: copy.lines.get(first)?.position,
            last,
        })
    }

    /// Passes over `block` (from [`LineReader::plain_block`]) as if its lines had been read.
    pub(crate) fn skip_plain_block(&mut self, block: &PlainBlock<'_>, out: &mut Reporter) {
        let Physical::Copy { copy, next } = &mut self.physical else {
            return;
        };
        let copy: &ConsolidatedCopy = copy;
        // The block's braces balance: the depth of blocks is what it was.
        self.residue = None;
        *next = block.last + 1;
        if let Some(line) = copy.lines.get(block.last) {
            out.position = Some(line.position);
            if let Some(directory) = copy.directory_of(line) {
                self.enter_directory(directory);
            }
        }
    }

    /// Where the next line of the parent's copy is (`None` when reading the files).
    pub(crate) fn copy_index(&self) -> Option<usize> {
        match &self.physical {
            Physical::Copy { next, .. } => Some(*next),
            Physical::Files { .. } => None,
        }
    }

    /// Whether the next line is the next physical line: no rest of a line after its brace, no
    /// repetition, no parameter's lines, no multi-line definition and no line read ahead.
    pub(crate) fn nothing_pending(&self) -> bool {
        self.residue.is_none() && self.only_residue_pending()
    }

    /// [`LineReader::nothing_pending`] but for the rest of a line after its brace.
    fn only_residue_pending(&self) -> bool {
        self.sequences.is_empty()
            && self.continuation.is_empty()
            && self.defining.is_none()
            && self.pending.is_none()
    }

    /// The next line of the parent's copy, if it comes next and is words without braces that
    /// no lexical rule changes: what [`LineReader::next_line`] would make of it, by a shorter
    /// way for the most common line.
    fn next_plain_copy_line(&mut self, out: &mut Reporter) -> Option<MappedText> {
        if !self.nothing_pending() {
            return None;
        }
        let Physical::Copy { copy, next } = &mut self.physical else {
            return None;
        };
        let copy: &'a ConsolidatedCopy = copy;
        let line = copy
            .lines
            .get(*next)
            .filter(|line| line.skip() == Some(Skippable::Nothing) && !line.is_empty())?;
        *next += 1;
        Some(self.read_copy_line(copy, line, out))
    }

    /// The text of `line` of the copy, now read.
    fn read_copy_line(
        &mut self,
        copy: &ConsolidatedCopy,
        line: &CopyLine,
        out: &mut Reporter,
    ) -> MappedText {
        out.position = Some(line.position);
        if let Some(directory) = copy.directory_of(line) {
            self.enter_directory(directory);
        }
        copy.text(line)
    }

    /// Makes `${_PWD}` name the directory with this index.
    #[inline]
    fn enter_directory(&mut self, directory: usize) {
        // Directories are only appended, so an index names the same one for good. This runs
        // for every line, and the directory seldom changes.
        if self.directory != Some(directory) {
            self.change_directory(directory);
        }
    }

    fn change_directory(&mut self, directory: usize) {
        let dir = match &self.physical {
            Physical::Files { reader, .. } => reader.copy.directories.get(directory),
            Physical::Copy { copy, .. } => copy.directories.get(directory),
        };
        if let Some(dir) = dir {
            self.defs.set_current_directory(dir);
            self.directory = Some(directory);
        }
    }

    fn record_copy(&mut self, text: MappedText, skip: Option<Skippable>) {
        if let Physical::Files { reader, .. } = &mut self.physical {
            reader.copy.push(text, skip);
        }
    }

    /// The next logical line, or `None` at the end of the configuration.
    pub fn next_line(&mut self, out: &mut Reporter) -> Option<MappedText> {
        if let Some(line) = self.next_plain_copy_line(out) {
            return Some(line);
        }
        let mut line;
        // How the line reads in a skipped block, when no lexical rule changes it.
        let mut plain;
        loop {
            plain = None;
            if let Some(residue) = self.residue.take() {
                // Mostly the brace a line ended with.
                plain = skippable(residue.as_str());
                line = residue;
            } else if !self.sequences.is_empty() && self.sequences.len() > self.multiline_seq_depth
            {
                if let Some(budget) = &mut self.sequence_budget {
                    if *budget == 0 {
                        self.sequences.clear();
                        out.log("~SEQ/~LST repetition limit reached: the remaining repetitions are dropped");
                        continue;
                    }
                    *budget -= 1;
                }
                let Some(seq) = self.sequences.last_mut() else {
                    continue;
                };
                let (text, done) = seq.next(&mut self.defs);
                if done {
                    self.sequences.pop();
                }
                line = text;
            } else if let Some(next) = self.continuation.pop_front() {
                let anchor = out.position.unwrap_or(crate::source::LinePosition {
                    file: crate::source::FileId(0),
                    line: 0,
                });
                line = MappedText::synthetic(&next, anchor, 0);
                if self.continuation.is_empty() {
                    match self.continuation_stack.pop() {
                        Some((rest, depth)) => {
                            self.continuation = rest;
                            self.multiline_seq_depth = depth;
                        }
                        None => self.multiline_seq_depth = 0,
                    }
                }
            } else {
                let Some((physical, effect)) = self.next_physical(out) else {
                    // Past the end of the files, messages carry no position.
                    out.position = None;
                    return None;
                };
                line = physical;
                plain = effect;
            }

            if let Some(def) = self.defining {
                let text = line.as_str();
                if text.ends_with('\\') {
                    self.defs.extend_multiline(def, text, false);
                } else {
                    self.defining = None;
                    self.defs.finish_multiline(def);
                    self.defs.extend_multiline(def, text, true);
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            match plain {
                // Words without braces: nothing more to do.
                Some(Skippable::Nothing) => return Some(line),
                Some(Skippable::Closes) => {
                    self.count_braces(&line, out);
                    return Some(line);
                }
                // Words then `{`: only brace splitting applies.
                Some(Skippable::Opens) => break,
                None => {}
            }

            self.expand(&mut line, out);

            if line.is_empty() {
                continue;
            }
            if let Some((checks, pattern)) = parse_include(line.as_str()) {
                if let Physical::Files { reader, sources } = &mut self.physical {
                    let pattern = pattern.to_owned();
                    reader.include(&pattern, checks, sources, out);
                }
                continue;
            }
            break;
        }

        let brace = match plain {
            // A plain line that opens a block has one brace: its last byte.
            Some(Skippable::Opens) => line.len().checked_sub(1),
            _ => first_brace(line.as_str()),
        };
        if let Some(at) = brace {
            self.split_at_brace(&mut line, at);
        }
        line.trim_end_blanks();
        self.count_braces(&line, out);
        Some(line)
    }

    /// Counts the block a logical line opens or closes.
    fn count_braces(&mut self, line: &MappedText, out: &mut Reporter) {
        // Only a brace alone counts: a line of one byte.
        if line.len() != 1 {
            return;
        }
        match line.as_str() {
            "{" => self.block_depth += 1,
            "}" => {
                self.block_depth -= 1;
                if self.block_depth < 0 {
                    out.report(ErrorClass::UnexpectedBlockEnd, "Extra '}' found");
                    self.block_depth = 0;
                }
            }
            _ => {}
        }
    }

    /// `@` conditions, `$` definitions, `~SEQ`/`~LST` and parameter substitution. Leaves the
    /// line empty when nothing remains of it.
    fn expand(&mut self, line: &mut MappedText, out: &mut Reporter) {
        loop {
            let mut recheck = false;
            if line.as_str().starts_with('@') {
                let text = line.as_str();
                let (negate, id_start) = if text[1..].starts_with('^') {
                    (true, 2)
                } else {
                    (false, 1)
                };
                let Some(blank) = text[id_start..].find([' ', '\t']).map(|i| i + id_start) else {
                    line.truncate(0);
                    return;
                };
                let matches = text[id_start..blank] == *self.config_id;
                if matches == negate {
                    line.truncate(0);
                    return;
                }
                let content = blank
                    + (text[blank..].len() - text[blank..].trim_start_matches([' ', '\t']).len());
                line.remove_range(0..content);
            }

            let definition = if line.as_str().starts_with('$') {
                self.defs.define(line.as_str())
            } else {
                None
            };
            if let Some((def, multiline)) = definition {
                if multiline {
                    self.defining = Some(def);
                }
                line.truncate(0);
                return;
            }

            let text = line.as_str();
            if text.starts_with("~SEQ") || text.starts_with("~LST") {
                let parsed = if text.starts_with("~SEQ") {
                    parse_seq(line, &mut self.defs)
                } else {
                    parse_lst(line)
                };
                match parsed {
                    Ok(seq) => self.sequences.push(seq),
                    Err(messages) => {
                        for m in messages {
                            out.report(ErrorClass::GeneralError, m);
                        }
                    }
                }
                line.truncate(0);
                return;
            }
            if text.starts_with('~') {
                return;
            }

            if line.as_str().contains('$') {
                let substitution = self.defs.substitute(line);
                if !substitution.changed {
                    return;
                }
                if let Some(rest) = substitution.continuation {
                    if !self.continuation.is_empty() {
                        let previous = std::mem::take(&mut self.continuation);
                        self.continuation_stack
                            .push((previous, self.multiline_seq_depth));
                    }
                    self.continuation = rest.into();
                    self.multiline_seq_depth = self.sequences.len();
                }
                decomment_reporting(line, out);
                if line.as_str().starts_with('@') || line.as_str().contains('$') {
                    recheck = true;
                }
            }
            if !recheck {
                return;
            }
        }
    }

    /// Cuts the line before its brace at `at` (see [`first_brace`]); what follows is read as
    /// the next line. A line starting with a brace keeps just the brace.
    fn split_at_brace(&mut self, line: &mut MappedText, at: usize) {
        let text = line.as_str();
        let skip = if at == 0 {
            1 + (text[1..].len() - text[1..].trim_start_matches([' ', '\t']).len())
        } else {
            0
        };
        if at + skip < line.len() {
            let mut residue = line.slice(at + skip..line.len());
            residue.trim_end_blanks();
            self.residue = Some(residue);
            line.truncate(at + skip);
        }
    }
}

/// Where a line is cut: before its first `{` or `}` outside double quotes.
fn first_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'}' => return Some(i),
            b'"' => i += text[i + 1..].find('"')? + 2,
            _ => i += 1,
        }
    }
    None
}

/// Counts the brace a skipped line opens or closes (`block_depth`: the reader's count of open
/// blocks, `depth`: the skipped block's); false if the line must be read by the grammar after
/// all (it closes the skipped block, or closes a brace never opened).
fn pass(block_depth: &mut i64, effect: Skippable, depth: &mut i32) -> bool {
    match effect {
        Skippable::Nothing => {}
        Skippable::Opens => {
            *depth += 1;
            *block_depth += 1;
        }
        Skippable::Closes => {
            if *depth <= 1 || *block_depth <= 0 {
                return false;
            }
            *depth -= 1;
            *block_depth -= 1;
        }
    }
    true
}

/// A line of a file read by the parent process, without a copy of its text.
fn raw_line(sources: &SourceMap, raw: &RawLine) -> MappedText {
    match sources.file(raw.position.file) {
        Some(file) => MappedText::from_shared(file.text(), raw.range.clone(), raw.position),
        None => MappedText::from_line("", raw.position),
    }
}

/// `text` without its trailing blanks (space, tab).
pub(super) fn trim_end_blanks(text: &str) -> &str {
    let end = text.len()
        - text
            .bytes()
            .rev()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
    &text[..end]
}

/// A block of the parent's copy whose lines no lexical rule changes ([`LineReader::plain_block`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlainBlock<'a> {
    /// Its lines as written, from the opening line to the closing brace.
    pub text: &'a str,
    /// Where its opening line is.
    pub start: LinePosition,
    /// The index in the copy of its closing line.
    pub last: usize,
}

/// What a line means to a block skipped by counting braces, if no lexical rule changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skippable {
    /// Words without braces (or no words).
    Nothing,
    /// `{`, or words then `{`.
    Opens,
    /// `}`.
    Closes,
}

/// What a byte means to [`skippable`].
#[derive(Clone, Copy)]
enum ByteClass {
    Plain,
    /// A byte some lexical rule acts on.
    Lexical,
    Brace,
}

/// [`ByteClass`] by byte: a table, as every byte of the configuration is looked at.
static BYTE_CLASS: [ByteClass; 256] = {
    let mut table = [ByteClass::Plain; 256];
    let lexical = *b"\"\\!#@$~";
    let mut i = 0;
    while i < lexical.len() {
        table[lexical[i] as usize] = ByteClass::Lexical;
        i += 1;
    }
    table[b'{' as usize] = ByteClass::Brace;
    table[b'}' as usize] = ByteClass::Brace;
    table
};

/// How many blanks (spaces and tabs) `text` starts with. Both are single bytes: a byte loop,
/// not a search through a set of characters. Indentation is a good part of a configuration's
/// bytes, so spaces are passed over eight at a time first.
pub(super) fn leading_blanks(text: &str) -> usize {
    const EIGHT_SPACES: &[u8; 8] = b"        ";
    let bytes = text.as_bytes();
    let spaces = bytes
        .chunks_exact(EIGHT_SPACES.len())
        .take_while(|chunk| chunk == EIGHT_SPACES)
        .count()
        * EIGHT_SPACES.len();
    spaces
        + bytes[spaces..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count()
}

/// How a line without its leading and trailing blanks reads in a skipped block; `None` when
/// the lexer's rules must see it (comment, quote, escape, parameter, condition, sequence,
/// include, or braces in other places).
pub(super) fn skippable(text: &str) -> Option<Skippable> {
    let bytes = text.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return Some(Skippable::Nothing);
    };
    if matches!(first, b' ' | b'\t') || matches!(last, b' ' | b'\t') || text.starts_with("include")
    {
        return None;
    }
    let mut braces = 0;
    for &b in bytes {
        match BYTE_CLASS[usize::from(b)] {
            ByteClass::Plain => {}
            ByteClass::Lexical => return None,
            ByteClass::Brace => braces += 1,
        }
    }
    match braces {
        0 => Some(Skippable::Nothing),
        1 if text == "}" => Some(Skippable::Closes),
        // `{` alone, or after words: the words, then `{`.
        1 if *last == b'{' => Some(Skippable::Opens),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Process;
    use crate::source::{FileId, LinePosition};

    fn lines_of(text: &str, config_id: &str) -> (Vec<String>, Vec<String>) {
        let mut copy = ConsolidatedCopy::default();
        copy.directories.push("/etc/keepalived".into());
        for (i, l) in text.lines().enumerate() {
            let position = LinePosition {
                file: FileId(0),
                line: i as u32 + 1,
            };
            copy.push(MappedText::from_line(l, position), skippable(l));
        }
        let mut out = Reporter::new(Process::Vrrp);
        let mut reader = LineReader::new(
            Physical::Copy {
                copy: &copy,
                next: 0,
            },
            config_id,
        );
        let mut lines = Vec::new();
        while let Some(l) = reader.next_line(&mut out) {
            lines.push(l.as_str().to_owned());
        }
        (lines, out.take().into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn braces_split_lines() {
        let (lines, _) = lines_of("vrrp_instance VI_1{ state MASTER }\n10.0.0.1/24 }", "vm");
        assert_eq!(
            lines,
            vec![
                "vrrp_instance VI_1",
                "{",
                "state MASTER",
                "}",
                "10.0.0.1/24",
                "}"
            ]
        );
        let (lines, _) = lines_of(r#"script "a { b }" {"#, "vm");
        assert_eq!(lines, vec![r#"script "a { b }""#, "{"]);
    }

    #[test]
    fn conditional_lines_follow_the_config_id() {
        let (lines, _) = lines_of("@vm a\n@other b\n@^vm c\n@^other d\n@vm", "vm");
        assert_eq!(lines, vec!["a", "d"]);
    }

    #[test]
    fn parameters_and_multiline_definitions() {
        let text = "$IF=eth0\n$VIPS=10.0.0.1 \\\n10.0.0.2\n\ninterface $IF\n$VIPS";
        let (lines, _) = lines_of(text, "vm");
        assert_eq!(lines, vec!["interface eth0", "10.0.0.1", "10.0.0.2"]);
    }

    #[test]
    fn a_hash_from_a_substitution_starts_a_comment() {
        let (lines, _) = lines_of("x A${_HASH}B", "vm");
        assert_eq!(lines, vec!["x A"]);
    }

    #[test]
    fn sequences_repeat_the_rest_of_the_line() {
        let (lines, _) = lines_of("~SEQ(i,1,3) 10.0.0.$i\nend", "vm");
        assert_eq!(lines, vec!["10.0.0.1", "10.0.0.2", "10.0.0.3", "end"]);
        let (lines, _) = lines_of("~SEQ(i,1,2) ~SEQ(j,1,2) ${i}.$j", "vm");
        assert_eq!(lines, vec!["1.1", "1.2", "2.1", "2.2"]);
        // `$i` must be followed by a blank, `,`, `)` or the end: keepalived leaves `$i/24` alone.
        let (lines, _) = lines_of("~SEQ(i,1,1) 10.0.0.$i/24", "vm");
        assert_eq!(lines, vec!["10.0.0.$i/24"]);
    }

    #[test]
    fn leading_blanks_are_counted_in_runs_of_spaces_and_tabs() {
        assert_eq!(leading_blanks(""), 0);
        assert_eq!(leading_blanks("key"), 0);
        assert_eq!(leading_blanks("        "), 8);
        assert_eq!(leading_blanks("            key"), 12);
        assert_eq!(leading_blanks("    \t   \tkey "), 9);
        assert_eq!(leading_blanks("\t\t                 x"), 19);
    }

    #[test]
    fn extra_closing_braces_are_reported() {
        let (lines, messages) = lines_of("}\n{\n}", "vm");
        assert_eq!(lines, vec!["}", "{", "}"]);
        assert_eq!(messages, vec!["Extra '}' found"]);
    }
}
