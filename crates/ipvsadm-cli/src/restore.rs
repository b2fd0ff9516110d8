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
use std::os::fd::AsFd;

use ipvs::{Change, Outcome};

use crate::args::{self, Parsed, Source};
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
        let words = match reader.next_line() {
            Ok(Some(words)) => words,
            Ok(None) => break,
            Err(error) => {
                // ipvsadm treats a read error as the end of its input.
                eprintln!("{program}: reading the rules failed: {error}");
                break;
            }
        };
        if words.is_empty() {
            continue;
        }
        let line_number = reader.line_number();
        let mut argv = Vec::with_capacity(words.len() + 1);
        argv.push(program.clone());
        argv.extend(words);
        match args::parse(&argv, Source::RestoreInput) {
            Parsed::Run(invocation) => match to_change(invocation.command.clone()) {
                Some(change) => {
                    batch.push(line_number, change);
                    if batch.len() >= BATCH_LIMIT {
                        last = batch.send(session);
                        if let Status::End(_) = last {
                            return last;
                        }
                    }
                }
                None => {
                    if !batch.is_empty() {
                        if let status @ Status::End(_) = batch.send(session) {
                            return status;
                        }
                    }
                    last = session.run_parsed(Parsed::Run(invocation));
                }
            },
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
        let lines = std::mem::take(&mut self.lines);
        let changes = std::mem::take(&mut self.changes);
        let (outcomes, cause) = match session.client.apply_all(&changes) {
            Ok(report) => (report.outcomes, None),
            Err(aborted) => (aborted.report.outcomes, Some(aborted.cause)),
        };
        let mut last = Status::Done(0);
        for (line, outcome) in lines.iter().zip(outcomes) {
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
pub struct RuleReader<R> {
    input: R,
    line_number: usize,
}

/// The longest word ipvsadm reads at once (`%4096[^ \t\n\r]`); longer ones are split.
const MAX_WORD: usize = 4096;

fn is_separator(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

impl<R: BufRead> RuleReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        RuleReader {
            input,
            line_number: 0,
        }
    }

    /// The input being read.
    pub fn input(&self) -> &R {
        &self.input
    }

    /// The number of the line last returned (1-based).
    pub fn line_number(&self) -> usize {
        self.line_number
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    /// The words of the next line (possibly none), or `None` at the end of input.
    pub fn next_line(&mut self) -> io::Result<Option<Vec<String>>> {
        self.line_number += 1;
        let mut words = Vec::new();
        loop {
            let Some(first) = self.peek()? else {
                return Ok(if words.is_empty() { None } else { Some(words) });
            };
            if is_separator(first) {
                // Between words: skip blanks up to the next word or the end of the line. Input
                // that ends here drops the words read so far (ipvsadm's reader does).
                loop {
                    match self.peek()? {
                        None => return Ok(None),
                        Some(b'\n') => {
                            self.input.consume(1);
                            return Ok(Some(words));
                        }
                        Some(b' ' | b'\t' | b'\r') => self.input.consume(1),
                        Some(_) => break,
                    }
                }
                continue;
            }
            let mut word = Vec::new();
            while word.len() < MAX_WORD {
                match self.peek()? {
                    Some(byte) if !is_separator(byte) => {
                        word.push(byte);
                        self.input.consume(1);
                    }
                    _ => break,
                }
            }
            let word = String::from_utf8_lossy(&word).into_owned();
            if word != "ipvsadm" {
                words.push(word);
            }
            // The separator after the word; a newline ends the line.
            if let Some(separator) = self.peek()?.filter(|&byte| is_separator(byte)) {
                self.input.consume(1);
                if separator == b'\n' {
                    return Ok(Some(words));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
