//! What the parser and the checks have to say about a configuration.
//!
//! Every message keepalived 2.2.7 would print is recorded as a [`Diagnostic`] with keepalived's
//! own wording and error class, plus what only we know: the exact span of the offending text,
//! a hint, and lints for pitfalls keepalived accepts silently. [`keepalived`] prints them the
//! way `keepalived -t` does and computes its exit status; [`human`] prints them for people.

pub mod human;
pub mod keepalived;
pub mod lint;
pub mod suggest;

use crate::process::Process;
use crate::source::{LinePosition, Span};

/// keepalived's classes of configuration error (`config_err_t`), in its order: when several
/// are reported, the numerically largest decides the exit status of `keepalived -t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// Printed, but does not change the verdict (e.g. a plain `include` matching nothing).
    Info,
    /// A configuration file that must exist does not.
    FileNotFound,
    /// An interface that cannot be used.
    BadInterface,
    /// A fatal configuration error.
    Fatal,
    /// Several files match the main configuration file pattern.
    MultipleFiles,
    /// A keyword that is not known in its block.
    UnknownKeyword,
    /// A `{` where no block starts.
    UnexpectedBlockStart,
    /// A block keyword without its `{`.
    MissingBlockStart,
    /// More `{` than `}` at the end of the configuration.
    MissingBlockEnd,
    /// A `}` that closes nothing.
    UnexpectedBlockEnd,
    /// A `"` without its partner.
    UnmatchedQuote,
    /// A keyword without a required argument: keepalived exits at once with status 2.
    MissingParameter,
    /// A number that cannot be read or is out of range.
    InvalidNumber,
    /// Any other error.
    GeneralError,
    /// A warning.
    Warning,
    /// Scripts would run as root without `enable_script_security`.
    Security,
}

impl ErrorClass {
    /// The exit status of `keepalived -t` when this is the worst class reported.
    pub fn exit_status(self) -> u8 {
        match self {
            ErrorClass::Info => 0,
            ErrorClass::FileNotFound | ErrorClass::BadInterface | ErrorClass::Fatal => 4,
            ErrorClass::Security => 6,
            _ => 5,
        }
    }
}

/// Who says it: keepalived 2.2.7 would print it, or it is one of our own lints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// keepalived 2.2.7 prints this message (with this wording) under `-t`.
    Keepalived,
    /// Our own advice; keepalived says nothing.
    Lint,
    /// keepalived writes this to its log, not to `-t` output.
    Log,
}

/// One message about the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// keepalived's error class (lints are [`ErrorClass::Warning`] or [`ErrorClass::Info`] and
    /// never change the verdict).
    pub class: ErrorClass,
    /// The message, worded as keepalived words it (without the position prefix).
    pub message: String,
    /// The line keepalived was reading when it reported the problem; `None` for problems found
    /// after reading (keepalived prints no position for those).
    pub position: Option<LinePosition>,
    /// The text the message is about, when known precisely.
    pub span: Option<Span>,
    /// The keepalived process that prints the message.
    pub process: Process,
    /// A suggestion for the fix.
    pub hint: Option<String>,
    /// keepalived's message or our lint.
    pub source: Source,
}

/// Collects diagnostics while a configuration is read and checked.
#[derive(Debug)]
pub struct Reporter {
    diagnostics: Vec<Diagnostic>,
    /// The process whose view of the configuration is being built.
    pub process: Process,
    /// The line being read, for the position of messages.
    pub position: Option<LinePosition>,
    /// A checked `include` failed (keepalived's `config_file_error`): `-t` exits with 6.
    pub include_failed: bool,
}

impl Reporter {
    /// An empty reporter for `process`.
    pub fn new(process: Process) -> Self {
        Reporter {
            diagnostics: Vec::new(),
            process,
            position: None,
            include_failed: false,
        }
    }

    fn push(
        &mut self,
        class: ErrorClass,
        message: String,
        span: Option<Span>,
        hint: Option<String>,
        source: Source,
    ) {
        self.diagnostics.push(Diagnostic {
            class,
            message,
            position: self.position,
            span,
            process: self.process,
            hint,
            source,
        });
    }

    /// Reports a keepalived message about the current line.
    pub fn report(&mut self, class: ErrorClass, message: impl Into<String>) {
        self.push(class, message.into(), None, None, Source::Keepalived);
    }

    /// Reports a keepalived message about some text of the current line.
    pub fn report_at(&mut self, class: ErrorClass, message: impl Into<String>, span: Span) {
        self.push(class, message.into(), Some(span), None, Source::Keepalived);
    }

    /// Reports a keepalived message with a hint.
    pub fn report_with_hint(
        &mut self,
        class: ErrorClass,
        message: impl Into<String>,
        span: Option<Span>,
        hint: impl Into<String>,
    ) {
        self.push(
            class,
            message.into(),
            span,
            Some(hint.into()),
            Source::Keepalived,
        );
    }

    /// Reports a keepalived message printed without a position (found after reading), about the
    /// object defined at `about`, which people get to see.
    pub fn report_about(
        &mut self,
        class: ErrorClass,
        message: impl Into<String>,
        about: Option<LinePosition>,
        hint: Option<String>,
    ) {
        let position = self.position.take();
        self.push(
            class,
            message.into(),
            about.map(Span::line),
            hint,
            Source::Keepalived,
        );
        self.position = position;
    }

    /// Reports one of our own lints.
    pub fn lint(&mut self, message: impl Into<String>, span: Option<Span>, hint: Option<String>) {
        self.push(
            ErrorClass::Warning,
            message.into(),
            span,
            hint,
            Source::Lint,
        );
    }

    /// Records a message keepalived only writes to its log.
    pub fn log(&mut self, message: impl Into<String>) {
        self.push(ErrorClass::Info, message.into(), None, None, Source::Log);
    }

    /// Reports a keepalived message that keepalived prints without a position.
    pub fn report_unpositioned(
        &mut self,
        class: ErrorClass,
        message: impl Into<String>,
        span: Option<Span>,
    ) {
        let position = self.position.take();
        self.push(class, message.into(), span, None, Source::Keepalived);
        self.position = position;
    }

    /// The diagnostics so far.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// How many messages have been said so far.
    pub fn count(&self) -> usize {
        self.diagnostics.len()
    }

    /// Takes the diagnostics collected so far.
    pub fn take(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diagnostics)
    }
}

/// The overall verdict on a configuration, as `keepalived -t` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The worst class of keepalived message reported.
    pub worst: ErrorClass,
    /// keepalived would have stopped reading at a keyword missing its argument.
    pub aborted: bool,
    /// A checked `include` failed.
    pub include_failed: bool,
}

impl Verdict {
    /// The verdict for these diagnostics.
    pub fn of(diagnostics: &[Diagnostic], aborted: bool, include_failed: bool) -> Self {
        let worst = diagnostics
            .iter()
            .filter(|d| d.source == Source::Keepalived)
            .map(|d| d.class)
            .max()
            .unwrap_or(ErrorClass::Info);
        Verdict {
            worst,
            aborted,
            include_failed,
        }
    }

    /// The exit status of `keepalived -t`: 2 when it stopped at a missing argument, 6 for a
    /// failed checked include or script security, otherwise from the worst class.
    pub fn exit_status(&self) -> u8 {
        if self.aborted {
            2
        } else if self.include_failed {
            6
        } else {
            self.worst.exit_status()
        }
    }
}
