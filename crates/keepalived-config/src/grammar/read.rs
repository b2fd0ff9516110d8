//! Reading keyword arguments with keepalived's messages: the helpers every handler uses.

use std::time::Duration;

use super::values;
use super::walker::{DefaultUser, Line, Parser};
use crate::diagnostics::ErrorClass;
use crate::env::ProgramLookup;
use crate::lexer::{Token, split_command, tokens::CommandError};
use crate::model::{Script, ScriptUser};

/// No user could be found for scripts that do not name one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no default script user")]
pub struct NoDefaultUser;

impl Parser<'_> {
    /// Reports a general error about the current line.
    pub fn error(&mut self, message: impl Into<String>) {
        self.out.report(ErrorClass::GeneralError, message);
    }

    /// Checks that an interface named by `token` exists. If not, reports `message` and notes
    /// that `-t` must stop after reading — unless `dynamic_interfaces` is set, where keepalived
    /// just waits for the interface and only logs. Returns whether the interface can be used:
    /// it exists, or will when it appears.
    pub fn check_interface(&mut self, token: &Token, message: String) -> bool {
        if self.env.interface_exists(token.as_str()) {
            return true;
        }
        if self.globals.dynamic_interfaces.is_some() {
            self.log(message);
            return true;
        }
        self.error_at(token, message);
        self.state.non_existent_interface = true;
        false
    }

    /// Reports a general error about `token`.
    pub fn error_at(&mut self, token: &Token, message: impl Into<String>) {
        self.out
            .report_at(ErrorClass::GeneralError, message, token.span);
    }

    /// Reports an error of `class` about `token`.
    pub fn report_at(&mut self, class: ErrorClass, token: &Token, message: impl Into<String>) {
        self.out.report_at(class, message, token.span);
    }

    fn number<T>(&mut self, token: &Token, result: values::NumberResult<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.out
                    .report_at(ErrorClass::InvalidNumber, message, token.span);
                None
            }
        }
    }

    /// A signed number in `[min, max]` (keepalived's `read_int`).
    pub fn int(&mut self, token: &Token, min: i64, max: i64) -> Option<i64> {
        self.number(token, values::read_int(token.as_str(), min, max))
    }

    /// An unsigned number in `[min, max]` (keepalived's `read_unsigned`).
    pub fn unsigned(&mut self, token: &Token, min: u64, max: u64) -> Option<u64> {
        self.number(token, values::read_unsigned(token.as_str(), min, max))
    }

    /// An unsigned 64-bit number (keepalived's `read_unsigned64`).
    pub fn unsigned64(&mut self, token: &Token, min: u64, max: u64) -> Option<u64> {
        self.number(token, values::read_unsigned64(token.as_str(), min, max))
    }

    /// A decimal with `shift` decimals, times 10^shift (keepalived's `read_decimal_unsigned`):
    /// `None` when keepalived would not use the value.
    pub fn decimal(&mut self, token: &Token, shift: u32, min: u64, max: u64) -> Option<u64> {
        let (messages, value) = values::read_decimal(token.as_str(), shift, min, max);
        for message in messages {
            self.out
                .report_at(ErrorClass::InvalidNumber, message, token.span);
        }
        value
    }

    /// A timer in seconds, `[min_us, max_us]` microseconds (`max_us` 0: unbounded).
    pub fn timer(&mut self, token: &Token, min_us: u64, max_us: u64) -> Option<Duration> {
        self.decimal(
            token,
            6,
            min_us,
            if max_us == 0 {
                values::TIMER_MAXIMUM_US
            } else {
                max_us
            },
        )
        .map(Duration::from_micros)
    }

    /// A boolean keyword whose argument is optional: no argument means true; a bad one is
    /// reported with `message(value)` and gives `None`.
    pub fn optional_bool(
        &mut self,
        line: &Line,
        message: impl FnOnce(&str) -> String,
    ) -> Option<bool> {
        let Some(word) = line.word(1) else {
            return Some(true);
        };
        match values::read_bool(word.as_str()) {
            Some(b) => Some(b),
            None => {
                self.error_at(word, message(word.as_str()));
                None
            }
        }
    }

    /// Resolves `USER [GROUP]` like keepalived's `set_uid_gid`.
    pub fn script_user(&self, user: &str, group: Option<&str>) -> Option<ScriptUser> {
        let ids = self.env.user(user)?;
        let gid = match group {
            Some(g) => self.env.group(g)?,
            None => ids.gid,
        };
        Some(ScriptUser {
            user: user.to_owned(),
            group: group.map(str::to_owned),
            uid: ids.uid,
            gid,
        })
    }

    /// The user scripts run as when none is given (keepalived's `get_default_script_user`):
    /// `script_user`, else `keepalived_script` if it exists, else root — unless script security
    /// is on, where a missing `keepalived_script` is an error (reported once).
    pub fn default_script_user(&mut self) -> Result<ScriptUser, NoDefaultUser> {
        match &self.default_user {
            DefaultUser::Failed => Err(NoDefaultUser),
            DefaultUser::Resolved(user) => Ok(user.clone()),
            DefaultUser::Unresolved => {
                let user = match self.script_user("keepalived_script", None) {
                    Some(user) => user,
                    None if self.globals.script_security => {
                        self.error("Unable to set default user keepalived_script for script");
                        self.default_user = DefaultUser::Failed;
                        return Err(NoDefaultUser);
                    }
                    None => ScriptUser {
                        user: "root".into(),
                        group: None,
                        uid: 0,
                        gid: 0,
                    },
                };
                self.default_user = DefaultUser::Resolved(user.clone());
                Ok(user)
            }
        }
    }

    /// Parses a script keyword's value from the raw line (keepalived's `notify_script_init`):
    /// the first argument is the command (re-split shell-like), the next ones `USER [GROUP]`.
    /// Reports keepalived's messages and returns `None` when the script is dropped.
    pub fn notify_script(&mut self, line: &Line, kind: &str) -> Option<Script> {
        let words = match split_command(line.text.as_str()) {
            Ok(w) => w,
            Err(e) => {
                self.report_command_error(line.text.as_str(), e);
                return None;
            }
        };
        let text = words.get(1).cloned().unwrap_or_default();
        let argv = match split_command(&text) {
            Ok(argv) if !argv.is_empty() => argv,
            Ok(_) => {
                self.error(format!(
                    "Unable to parse script '{}' - ignoring",
                    line.text.as_str()
                ));
                return None;
            }
            Err(e) => {
                self.report_command_error(&text, e);
                return None;
            }
        };
        let user = if words.len() > 2 {
            match self.script_user(&words[2], words.get(3).map(String::as_str)) {
                Some(u) => Some(u),
                None => {
                    self.error(format!(
                        "Invalid user/group for {kind} script {} - ignoring",
                        argv[0]
                    ));
                    return None;
                }
            }
        } else {
            match self.default_script_user() {
                Ok(u) => Some(u),
                Err(NoDefaultUser) => {
                    self.log(format!(
                        "Failed to set default user for {kind} script {} - ignoring",
                        argv[0]
                    ));
                    return None;
                }
            }
        };
        Some(Script { text, argv, user })
    }

    /// Parses the command of a keyword taking only a command (`script`, `misc_path`): the
    /// first argument re-split shell-like.
    pub fn command(&mut self, line: &Line) -> Option<Script> {
        let words = match split_command(line.text.as_str()) {
            Ok(w) => w,
            Err(e) => {
                self.report_command_error(line.text.as_str(), e);
                return None;
            }
        };
        let text = words.get(1).cloned().unwrap_or_default();
        match split_command(&text) {
            Ok(argv) if !argv.is_empty() => Some(Script {
                text,
                argv,
                user: None,
            }),
            Ok(_) => None,
            Err(e) => {
                self.report_command_error(&text, e);
                None
            }
        }
    }

    /// The words of the raw line split again with quotes and escapes decoded (keepalived's
    /// `alloc_strvec_quoted_escaped(NULL)`); `None` after reporting a missing quote.
    pub fn quoted_words(&mut self, line: &Line) -> Option<Vec<String>> {
        match split_command(line.text.as_str()) {
            Ok(words) => Some(words),
            Err(e) => {
                self.report_command_error(line.text.as_str(), e);
                None
            }
        }
    }

    fn report_command_error(&mut self, text: &str, error: CommandError) {
        match error {
            CommandError::MissingQuote(q) => {
                self.out.report(
                    ErrorClass::UnmatchedQuote,
                    format!("String '{text}': missing terminating {q}"),
                );
            }
            CommandError::MissingEscapeChar => {
                self.log(format!("Missing escape char at end: '{text}'"))
            }
        }
    }

    /// Whether a script's program can be run; keepalived's `check_script_secure` in short.
    pub fn program_lookup(&self, script: &Script) -> ProgramLookup {
        self.env.program(script.program())
    }
}
