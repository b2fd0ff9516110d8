//! `ipvsadm -R`: rules from standard input, line by line as ipvsadm reads them, sent to the
//! kernel in batches.
//!
//! ipvsadm runs each line as if it were a command line: a line that fails its checks (or asks
//! for help) ends the whole restore with that line's status; a line the kernel refuses prints
//! its message and the restore goes on; the exit status is that of the last line. Here the
//! changes of consecutive lines are sent together and every acknowledgement is matched to its
//! line, so messages, their order, what is applied and the exit status stay those of the
//! line-by-line reference. A batch is sent before any line that is not a change (a listing, a
//! failing line, the end of input), and whenever reading on would wait for more input.

use std::io::{self, BufRead, BufReader};
use std::ops::Range;
use std::os::fd::AsFd;

use ipvs::{Change, Outcome};

use crate::args::{self, Invocation, Parsed, Source};
use crate::run::{Session, Status, error_text, to_change};

/// How many changes go to the kernel at most in one batch.
const BATCH_LIMIT: usize = 4096;

/// How much of standard input is read at once.
const READ_SIZE: usize = 1 << 16;

/// Reads standard input and restores it (ipvsadm's `restore_table`).
pub fn restore_stdin(session: &mut Session) -> Status {
    let input = BufReader::with_capacity(READ_SIZE, io::stdin());
    // Only an empty buffer can make the next read wait; asking the kernel for every line
    // would cost a system call per rule.
    restore(session, input, |input: &BufReader<io::Stdin>| {
        !input.buffer().is_empty() || input_is_ready(input.get_ref())
    })
}

/// Restores the rules read from `input`. `input_ready` says whether more input can be read
/// without waiting; when it cannot, the pending batch is sent first.
pub fn restore<R: BufRead>(
    session: &mut Session,
    input: R,
    input_ready: impl Fn(&R) -> bool,
) -> Status {
    let program = session.program.clone();
    let mut reader = RuleReader::new(input);
    let mut batch = Batch::default();
    let mut last = Status::Done(0);
    loop {
        if !batch.is_empty() && !input_ready(reader.input()) {
            last = batch.send(session);
            if let Status::End(_) = last {
                return last;
            }
        }
        let line = match reader.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(error) => {
                // ipvsadm treats a read error as the end of its input.
                eprintln!("{program}: reading the rules failed: {error}");
                break;
            }
        };
        if line.words.is_empty() {
            continue;
        }
        let line_number = line.number;
        match args::parse_words(&program, &line.words, Source::RestoreInput) {
            Parsed::Run(invocation) => {
                let Invocation { command, format } = *invocation;
                match to_change(command) {
                    Ok(change) => {
                        batch.push(line_number, change);
                        if batch.len() >= BATCH_LIMIT {
                            last = batch.send(session);
                            if let Status::End(_) = last {
                                return last;
                            }
                        }
                    }
                    Err(command) => {
                        if !batch.is_empty() {
                            if let status @ Status::End(_) = batch.send(session) {
                                return status;
                            }
                        }
                        let invocation = Invocation {
                            command: *command,
                            format,
                        };
                        last = session.run_parsed(Parsed::Run(Box::new(invocation)));
                    }
                }
            }
            other => {
                if !batch.is_empty() {
                    if let status @ Status::End(_) = batch.send(session) {
                        return status;
                    }
                }
                last = session.run_parsed(other);
            }
        }
        if let Status::End(_) = last {
            return last;
        }
    }
    if !batch.is_empty() {
        last = batch.send(session);
    }
    match last {
        Status::Done(code) | Status::End(code) => Status::End(code),
    }
}

/// Changes waiting to be sent, with the input lines they came from.
#[derive(Default)]
struct Batch {
    lines: Vec<usize>,
    changes: Vec<Change>,
}

impl Batch {
    fn push(&mut self, line: usize, change: Change) {
        self.lines.push(line);
        self.changes.push(change);
    }

    fn len(&self) -> usize {
        self.changes.len()
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Sends the batch and prints each refusal in line order. The status is the last line's.
    fn send(&mut self, session: &mut Session) -> Status {
        // Emptied but kept: the next batch reuses the memory.
        let result = session.client.apply_all(&self.changes);
        self.changes.clear();
        let (outcomes, cause) = match result {
            Ok(report) => (report.outcomes, None),
            Err(aborted) => (aborted.report.outcomes, Some(aborted.cause)),
        };
        let mut last = Status::Done(0);
        for (line, outcome) in self.lines.drain(..).zip(outcomes) {
            match outcome {
                Outcome::Applied => last = Status::Done(0),
                Outcome::Failed(error) => {
                    eprintln!("{}", error.ipvsadm_message());
                    last = Status::Done(255);
                }
                Outcome::NotAttempted | Outcome::Unknown => {
                    let cause = cause
                        .as_ref()
                        .map(error_text)
                        .unwrap_or_else(|| "unknown error".to_owned());
                    let fate = if outcome == Outcome::Unknown {
                        "it may or may not have been applied"
                    } else {
                        "it was not applied"
                    };
                    eprintln!(
                        "{}: restore stopped at input line {line}: {cause}; the lines before it were \
                         applied, {fate}, and the lines after it were not",
                        session.program
                    );
                    return Status::End(255);
                }
            }
        }
        last
    }
}

/// Whether standard input has data (or end of file) without waiting.
fn input_is_ready(input: &impl AsFd) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(input.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

/// Splits input into lines of words exactly as ipvsadm's `config_stream_read` does.
///
/// Words are separated by blanks, tabs, carriage returns and newlines; a newline ends a line;
/// every word `ipvsadm` is dropped; blank lines give no words. A quirk is kept: input that ends
/// in blanks without a final newline loses its last line.
///
/// A line's words are borrowed from buffers the reader keeps, so reading a line allocates
/// nothing once the buffers have grown to the longest line.
pub struct RuleReader<R> {
    input: R,
    line_number: usize,
    /// The bytes of the current line's words, one after the other.
    bytes: Vec<u8>,
    /// Where each word of the current line lies in `bytes` (or in `lossy`).
    bounds: Vec<Range<usize>>,
    /// The words again, when some of them are not UTF-8: each converted as a word of its own.
    lossy: String,
}

/// One line of rules.
#[derive(Debug)]
pub struct Line<'a> {
    /// The line's number in the input (1-based).
    pub number: usize,
    /// Its words, without any `ipvsadm`.
    pub words: Vec<&'a str>,
}

/// The longest word ipvsadm reads at once (`%4096[^ \t\n\r]`); longer ones are split.
const MAX_WORD: usize = 4096;

fn is_separator(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Where the reader is within a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Before a word or before blanks.
    Between,
    /// In blanks that started where a word could have: up to the next word or the line's end.
    /// Input that ends here drops the words read so far (ipvsadm's reader does).
    Blanks,
    /// In a word that started at this offset of `bytes`.
    Word(usize),
    /// Just after a word: one separator belongs to it, and a newline there ends the line.
    AfterWord,
}

impl<R: BufRead> RuleReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        RuleReader {
            input,
            line_number: 0,
            bytes: Vec::new(),
            bounds: Vec::new(),
            lossy: String::new(),
        }
    }

    /// The input being read.
    pub fn input(&self) -> &R {
        &self.input
    }

    /// The words of the next line (possibly none), or `None` at the end of input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.line_number += 1;
        self.bytes.clear();
        self.bounds.clear();
        if !self.read_words()? {
            return Ok(None);
        }
        Ok(Some(Line {
            number: self.line_number,
            words: self.words(),
        }))
    }

    /// Reads the words of a line into `bytes` and `bounds`; false when the input ended
    /// without giving a line.
    fn read_words(&mut self) -> io::Result<bool> {
        let RuleReader {
            input,
            bytes,
            bounds,
            ..
        } = self;
        let mut position = Position::Between;
        loop {
            let buffer = input.fill_buf()?;
            if buffer.is_empty() {
                if let Position::Word(start) = position {
                    end_word(bytes, bounds, start);
                } else if position == Position::Blanks {
                    return Ok(false);
                }
                return Ok(!bounds.is_empty());
            }
            let mut at = 0;
            let mut line_ended = false;
            while at < buffer.len() && !line_ended {
                let byte = buffer[at];
                match position {
                    Position::Between if is_separator(byte) => position = Position::Blanks,
                    Position::Between => position = Position::Word(bytes.len()),
                    Position::Blanks => match byte {
                        b'\n' => {
                            at += 1;
                            line_ended = true;
                        }
                        b' ' | b'\t' | b'\r' => at += 1,
                        _ => position = Position::Between,
                    },
                    Position::Word(start) => {
                        let room = MAX_WORD - (bytes.len() - start);
                        let rest = &buffer[at..];
                        let run = rest[..rest.len().min(room)]
                            .iter()
                            .position(|&byte| is_separator(byte))
                            .unwrap_or(rest.len().min(room));
                        bytes.extend_from_slice(&rest[..run]);
                        at += run;
                        if at < buffer.len() || bytes.len() - start == MAX_WORD {
                            end_word(bytes, bounds, start);
                            position = Position::AfterWord;
                        }
                    }
                    Position::AfterWord => {
                        if is_separator(byte) {
                            at += 1;
                            line_ended = byte == b'\n';
                        }
                        position = Position::Between;
                    }
                }
            }
            input.consume(at);
            if line_ended {
                return Ok(true);
            }
        }
    }

    /// The words just read, as text; words that are not UTF-8 are converted as
    /// `String::from_utf8_lossy` converts them.
    fn words(&mut self) -> Vec<&str> {
        // The line's words are checked as one text: a word ends at an ASCII separator, so each
        // is a slice of it, unless MAX_WORD cut one inside a character.
        // The vector is sized first: collecting through an `Option` would grow it word by word.
        if let Ok(text) = std::str::from_utf8(&self.bytes) {
            let mut words = Vec::with_capacity(self.bounds.len());
            for bound in &self.bounds {
                match text.get(bound.clone()) {
                    Some(word) => words.push(word),
                    None => break,
                }
            }
            if words.len() == self.bounds.len() {
                return words;
            }
        }
        self.lossy.clear();
        for bound in &mut self.bounds {
            let start = self.lossy.len();
            self.lossy
                .push_str(&String::from_utf8_lossy(&self.bytes[bound.clone()]));
            *bound = start..self.lossy.len();
        }
        self.bounds
            .iter()
            .map(|bound| &self.lossy[bound.clone()])
            .collect()
    }
}

/// Ends the word that started at `start` of `bytes`: kept, unless it is `ipvsadm`.
fn end_word(bytes: &mut Vec<u8>, bounds: &mut Vec<Range<usize>>, start: usize) {
    if &bytes[start..] == b"ipvsadm" {
        bytes.truncate(start);
    } else {
        bounds.push(start..bytes.len());
    }
}

#[cfg(test)]
mod tests;
