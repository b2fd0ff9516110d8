//! Reading a file again: what of it is unchanged since the last reading.
//!
//! A reload reads the files of a configuration again, and on a large director most of a file is
//! as it was: one weight of ten thousand virtual servers changed. The parent's pass over a file
//! works out where each line starts and, for the lines of the blocks it skips, how each reads
//! (where its words are, and whether it opens or closes a block): work for every byte of the
//! file. Both depend on the text alone. The last reading's text of each file is kept with them;
//! the next reading compares the new text with it (the bytes the two share at their start and at
//! their end, compared in large pieces) and takes over what it had worked out for the lines in
//! those two stretches. Only the lines between are looked at anew.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::reader::Skippable;
use crate::source;

/// The files of the last reading, by their absolute path.
#[derive(Debug, Default)]
pub struct EarlierFiles {
    files: FxHashMap<PathBuf, EarlierFile>,
    /// How many lines the reading that kept these took over from the one before.
    taken_over: usize,
}

impl EarlierFiles {
    /// For how many lines the reading that kept these files took over how they read from the
    /// reading before it instead of looking at them.
    pub fn lines_taken_over(&self) -> usize {
        self.taken_over
    }

    /// Says how many lines the reading that kept these took over.
    pub(crate) fn set_taken_over(&mut self, lines: usize) {
        self.taken_over = lines;
    }

    /// Forgets `path`'s reading and gives it back, to read `path` again with.
    pub(crate) fn take(&mut self, path: &Path) -> Option<EarlierFile> {
        self.files.remove(path)
    }

    /// Keeps `file` as the last reading of `path` (of a file read twice, the last reading).
    pub(crate) fn keep(&mut self, path: PathBuf, file: EarlierFile) {
        self.files.insert(path, file);
    }

    /// How many files are kept.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is kept.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A file as a reading left it: its text, where its lines start, and how the lines copied from a
/// skipped block read.
#[derive(Debug)]
pub(crate) struct EarlierFile {
    text: Rc<String>,
    line_starts: Rc<Vec<u32>>,
    /// By line (0-based); [`LineClass::Unknown`] for the lines not worked out.
    classes: Vec<LineClass>,
}

impl EarlierFile {
    /// A file of `text`, whose lines start at `line_starts`, with how its lines read.
    pub(crate) fn new(
        text: Rc<String>,
        line_starts: Rc<Vec<u32>>,
        classes: Vec<LineClass>,
    ) -> Self {
        EarlierFile {
            text,
            line_starts,
            classes,
        }
    }
}

/// How a line reads to the parent's copy of a skipped block, worked out from its text alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum LineClass {
    /// Not worked out.
    #[default]
    Unknown,
    /// A line such a copy stops before (blank, too long, changed by a lexical rule): it is read
    /// one at a time.
    Stops,
    /// Its words are the `len` bytes from `column` on, and `skip` is what it does to braces.
    Copies {
        column: u16,
        len: u16,
        skip: Skippable,
    },
}

/// A text read again, against the reading of the same file before it.
#[derive(Debug, Default)]
pub(crate) struct Reread {
    /// How the earlier text's lines read.
    classes: Vec<LineClass>,
    /// The new text's lines before this one are the earlier text's lines of the same index.
    prefix_lines: usize,
    /// The new text's lines from this one on are the earlier text's lines `shift` fewer.
    suffix_first: usize,
    /// How many more lines the new text has.
    shift: isize,
}

impl Reread {
    /// How line `index` (0-based) of the new text reads, when it is a line of the earlier text
    /// that was worked out.
    pub(crate) fn class(&self, index: usize) -> LineClass {
        let earlier = if index < self.prefix_lines {
            Some(index)
        } else if index >= self.suffix_first {
            index.checked_add_signed(-self.shift)
        } else {
            None
        };
        earlier
            .and_then(|earlier| self.classes.get(earlier).copied())
            .unwrap_or_default()
    }
}

/// Where the lines of `text` start ([`source::line_starts`]), taken from `earlier` where the two
/// texts are the same, and what of `earlier`'s lines `text` has as they were.
pub(crate) fn reread(earlier: EarlierFile, text: &str) -> (Vec<u32>, Reread) {
    let (old, new) = (earlier.text.as_bytes(), text.as_bytes());
    let too_long = |bytes: &[u8]| u32::try_from(bytes.len()).is_err();
    if too_long(old) || too_long(new) {
        return (source::line_starts(text), Reread::default());
    }
    // The shared start ends where a line does: the rest of a line it holds may be the start of
    // a line of the shared end, which is counted only after it (a text that repeats a piece
    // has both around it).
    let prefix = memchr::memrchr(b'\n', &new[..common_prefix(old, new)]).map_or(0, |end| end + 1);
    let most = old.len().min(new.len()) - prefix;
    let suffix = common_suffix(&old[old.len() - most..], &new[new.len() - most..]);
    let earlier_starts = &earlier.line_starts[..];

    // Starts at or before the end of the shared start are the earlier text's (each follows a
    // `\n` inside it); starts after a `\n` of the shared end are the earlier text's moved by
    // the difference of the lengths; those between follow a `\n` of the changed middle.
    let middle = prefix..new.len() - suffix;
    let in_prefix = earlier_starts.partition_point(|&start| start as usize <= prefix);
    let suffix_from_old = old.len() - suffix;
    let in_suffix_from = earlier_starts.partition_point(|&start| start as usize <= suffix_from_old);
    let mut starts = Vec::with_capacity(earlier_starts.len() + 16);
    starts.push(0);
    starts.extend_from_slice(earlier_starts.get(1..in_prefix).unwrap_or_default());
    // The earlier text's list lacks the start after its final `\n`.
    let whole_earlier_shared = prefix == old.len() && old.last() == Some(&b'\n');
    if whole_earlier_shared {
        starts.push(prefix as u32);
    }
    starts.extend(
        memchr::memchr_iter(b'\n', &new[middle.clone()]).map(|end| (middle.start + end + 1) as u32),
    );
    // The line that starts where the shared end does is the earlier one too when it starts a
    // line in both (its `\n` before is the last of the shared start, or of the middle).
    let boundary_in_both = suffix > 0
        && starts.last() == Some(&((new.len() - suffix) as u32))
        && in_suffix_from
            .checked_sub(1)
            .is_some_and(|i| earlier_starts[i] as usize == suffix_from_old);
    let suffix_first = starts.len() - usize::from(boundary_in_both);
    let shift = suffix_first as isize - (in_suffix_from - usize::from(boundary_in_both)) as isize;
    let grown = new.len() as i64 - old.len() as i64;
    starts.extend(
        earlier_starts[in_suffix_from..]
            .iter()
            .map(|&start| (i64::from(start) + grown) as u32),
    );
    // A final `\n` ends the last line rather than starting an empty one: the earlier text's
    // last start was dropped if it was its end, but one found in the middle is not yet.
    if starts
        .last()
        .is_some_and(|&start| start as usize == new.len())
    {
        starts.pop();
    }
    let reread = Reread {
        classes: earlier.classes,
        // The lines that end with a `\n` inside the shared start.
        prefix_lines: (in_prefix + usize::from(whole_earlier_shared)).saturating_sub(1),
        suffix_first,
        shift,
    };
    (starts, reread)
}

/// How many bytes `a` and `b` share at their start.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    // Compared in pieces first: a byte at a time costs more than the rest of a reread.
    const PIECE: usize = 256;
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + PIECE <= n && a[at..at + PIECE] == b[at..at + PIECE] {
        at += PIECE;
    }
    at + a[at..n]
        .iter()
        .zip(&b[at..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many bytes `a` and `b` share at their end.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const PIECE: usize = 256;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut matched = 0;
    while matched + PIECE <= n
        && a[n - matched - PIECE..n - matched] == b[n - matched - PIECE..n - matched]
    {
        matched += PIECE;
    }
    matched
        + a[..n - matched]
            .iter()
            .rev()
            .zip(b[..n - matched].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the new text the reread says is an earlier line has that line's text, and
    /// the starts are the ones worked out afresh. Returns how many lines were taken over.
    fn check(old: &str, new: &str) -> usize {
        let old_starts = Rc::new(source::line_starts(old));
        let old_lines: Vec<&str> = (0..old_starts.len())
            .map(|i| &old[source::line_range(old, &old_starts, i).unwrap_or_default()])
            .collect();
        // Each earlier line's class names its line: its index as the column.
        let classes = (0..old_starts.len())
            .map(|i| LineClass::Copies {
                column: i as u16,
                len: 0,
                skip: Skippable::Nothing,
            })
            .collect();
        let earlier = EarlierFile::new(Rc::new(old.to_owned()), old_starts, classes);
        let (starts, reread) = reread(earlier, new);
        assert_eq!(starts, source::line_starts(new), "{old:?} -> {new:?}");
        let mut taken = 0;
        for i in 0..starts.len() {
            let line = &new[source::line_range(new, &starts, i).unwrap_or_default()];
            match reread.class(i) {
                LineClass::Copies { column, .. } => {
                    assert_eq!(
                        line,
                        old_lines[usize::from(column)],
                        "{old:?} -> {new:?}: line {i}"
                    );
                    taken += 1;
                }
                LineClass::Unknown => {}
                LineClass::Stops => unreachable!(),
            }
        }
        // The lines outside the changed stretch are taken over.
        if old == new {
            assert_eq!(taken, starts.len());
        }
        taken
    }

    #[test]
    fn lines_outside_the_change_are_the_earlier_lines() {
        let base = "global_defs {\n  router_id a\n}\nvirtual_server 10.0.0.1 80 {\n  weight 1\n}\n";
        let edits = [
            base.to_owned(),
            base.replace("weight 1", "weight 2"),
            base.replace("weight 1", "weight 1\n  retry 3"),
            base.replace("  router_id a\n", ""),
            base.replace("}\nvirtual", "}\n\n\nvirtual"),
            base.trim_end().to_owned(),
            format!("{base}\n"),
            format!("# first\n{base}"),
            format!("{base}{base}"),
            base.replace('\n', "\r\n"),
            String::new(),
            "\n".to_owned(),
            "x".to_owned(),
        ];
        for old in &edits {
            for new in &edits {
                check(old, new);
            }
        }
        // All lines but the one changed, before it and after it.
        assert_eq!(check(base, &base.replace("weight 1", "weight 2")), 5);
        assert_eq!(
            check(base, &base.replace("weight 1", "weight 1\n  retry 3")),
            6
        );
        // Repeated text, where the shared start and end could overlap.
        check("a\na\na\n", "a\na\n");
        check("a\na\n", "a\na\na\n");
        check("ab\nab\n", "ab\n");
    }

    #[test]
    fn random_edits_keep_the_lines_they_do_not_touch() {
        let mut rng = fastrand::Rng::with_seed(0x2e_2ead);
        let base: String = (0..300)
            .map(|i| format!("virtual_server 10.0.0.{i} 80 {{\n    weight {i}\n}}\n"))
            .collect();
        let pieces = ["", "\n", "x", "}\n", "\r\n", "    weight 1\n", "\n\n"];
        for _ in 0..400 {
            let mut new = base.clone();
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(0..=new.len());
                let end = (at + rng.usize(0..40)).min(new.len());
                new.replace_range(at..end, pieces[rng.usize(0..pieces.len())]);
            }
            // At least the lines before the first edit and after the last.
            assert!(check(&base, &new) > 0);
            assert!(check(&new, &base) > 0);
        }
    }

    #[test]
    fn shared_stretches_are_found_beyond_one_piece() {
        let long: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let changed = long.replace("line 1000\n", "line 1000 changed\n");
        assert_eq!(
            common_prefix(long.as_bytes(), changed.as_bytes()),
            long.find("line 1000\n").unwrap_or(0) + 9
        );
        assert_eq!(
            common_suffix(long.as_bytes(), changed.as_bytes()),
            long.len() - long.find("line 1000\n").unwrap_or(0) - 9
        );
        check(&long, &changed);
    }
}
