//! `ipvsadm-save` and `ipvsadm-restore`: Debian ships them as shell scripts around `ipvsadm`;
//! these are the same behaviour without the extra processes.

use std::io::Read;

use ipvs::table::changes_between;
use ipvs::{Change, Outcome};

use crate::output::listing::change_rule;
use crate::restore;
use crate::rule_file::{self, CheckedFile, Purpose};
use crate::run::{Session, Status, error_text, print_exit, write_stdout};

/// The program name the scripts' inner `ipvsadm` runs under (it names itself in messages).
const IPVSADM: &str = "ipvsadm";

/// `ipvsadm-save [-n]`: any other option prints the script's usage (status 1); other
/// arguments are ignored.
pub fn save_main(argv: &[String]) -> u8 {
    let program = argv.first().map(String::as_str).unwrap_or("ipvsadm-save");
    let mut numeric = false;
    for arg in argv.iter().skip(1) {
        if arg == "-n" {
            numeric = true;
        } else if arg.starts_with('-') {
            let name = program.rsplit('/').next().unwrap_or(program);
            eprint!(
                "{name}: Script to save the IPVS table to stdout.\n   With the -n option, prints out the table in numeric format.\n"
            );
            return 1;
        }
    }
    let mut command = vec![IPVSADM.to_owned(), "-S".to_owned()];
    if numeric {
        command.push("-n".to_owned());
    }
    match Session::open(IPVSADM) {
        Ok(mut session) => session.run_command_line(&command),
        Err(exit) => {
            print_exit(&exit);
            exit.status
        }
    }
}

/// `ipvsadm-restore`: drops the lines of standard input that start with `#`, flushes the table,
/// then restores the rest as `ipvsadm -R` does. The status is the restore's.
///
/// Beyond the script: `--test` checks the whole file and applies nothing; `--sync` makes the
/// kernel's table the file's with the fewest changes, never flushing (`--dry-run` prints them).
/// Like the script, it ignores other arguments, except unknown `--` options, which stop it
/// before the flush: a mistyped `--sync` must not empty a director's table.
pub fn restore_main(argv: &[String]) -> u8 {
    let program = argv
        .first()
        .map(|arg| arg.rsplit('/').next().unwrap_or(arg))
        .unwrap_or("ipvsadm-restore")
        .to_owned();
    let mode = match RestoreMode::from_args(argv.iter().skip(1)) {
        Ok(mode) => mode,
        Err(message) => {
            eprintln!("{program}: {message}\n{RESTORE_USAGE}");
            return 2;
        }
    };
    if mode == RestoreMode::Help {
        println!("{RESTORE_USAGE}");
        return 0;
    }
    let mut input = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("{program}: cannot read the rules: {error}");
        return 1;
    }
    match mode {
        RestoreMode::Test => test_rules(&program, &input),
        RestoreMode::Sync { dry_run } => sync_rules(&program, &input, dry_run),
        RestoreMode::Help | RestoreMode::Replace => replace_rules(&input),
    }
}

const RESTORE_USAGE: &str = "Usage: ipvsadm-restore [--test | --sync [--dry-run]] < RULES
  (no option)  flush the table, then apply RULES line by line as ipvsadm -R does
  --test       check every line of RULES as if restoring it after a flush; apply nothing
  --sync       make the table RULES's table with the fewest changes, never flushing
  --dry-run    with --sync: print the changes as ipvsadm rules instead of applying them";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RestoreMode {
    Replace,
    Test,
    Sync { dry_run: bool },
    Help,
}

impl RestoreMode {
    fn from_args<'a>(args: impl Iterator<Item = &'a String>) -> Result<Self, String> {
        let (mut test, mut sync, mut dry_run) = (false, false, false);
        for arg in args {
            match arg.as_str() {
                "--test" => test = true,
                "--sync" => sync = true,
                "--dry-run" => dry_run = true,
                "--help" => return Ok(RestoreMode::Help),
                other if other.starts_with("--") => {
                    return Err(format!("unknown option '{other}'"));
                }
                // The script ignores its arguments; so do we.
                _ => {}
            }
        }
        match (test, sync, dry_run) {
            (true, true, _) => Err("--test and --sync do not go together".to_owned()),
            (true, false, false) => Ok(RestoreMode::Test),
            (_, false, true) => Err("--dry-run goes with --sync".to_owned()),
            (false, true, dry_run) => Ok(RestoreMode::Sync { dry_run }),
            (false, false, false) => Ok(RestoreMode::Replace),
        }
    }
}

/// The script's way: flush, then restore.
fn replace_rules(input: &[u8]) -> u8 {
    let rules = without_comment_lines(&String::from_utf8_lossy(input));

    // The script runs `ipvsadm -C`, then `ipvsadm -R`: two start-ups, each trying modprobe and
    // saying so if IPVS is missing. When the first fails, no flush happens, whatever the
    // second one does.
    let mut session = match Session::open(IPVSADM) {
        Ok(mut session) => {
            let _ = session.apply(&Change::Flush);
            session
        }
        Err(exit) => {
            print_exit(&exit);
            match Session::open(IPVSADM) {
                Ok(session) => session,
                Err(exit) => {
                    print_exit(&exit);
                    return exit.status;
                }
            }
        }
    };
    match restore::restore(&mut session, rules.as_bytes(), |_| true) {
        Status::Done(code) | Status::End(code) => code,
    }
}

/// Prints each wrong line; the status is 1 if there is one.
fn report_errors(program: &str, checked: &CheckedFile) -> u8 {
    for error in &checked.errors {
        eprintln!("{program}: line {}: {}", error.line, error.message);
    }
    u8::from(!checked.errors.is_empty())
}

/// `--test`: every line checked, nothing applied.
fn test_rules(program: &str, input: &[u8]) -> u8 {
    let checked = rule_file::check(input, IPVSADM, Purpose::Restore);
    let status = report_errors(program, &checked);
    if status != 0 {
        eprintln!(
            "{program}: {} of {} commands would fail",
            checked.errors.len(),
            checked.commands
        );
    }
    status
}

/// `--sync`: the fewest changes from the kernel's table to the file's; nothing at all if a line
/// of the file is wrong.
fn sync_rules(program: &str, input: &[u8], dry_run: bool) -> u8 {
    let checked = rule_file::check(input, IPVSADM, Purpose::Table);
    if report_errors(program, &checked) != 0 {
        eprintln!("{program}: nothing was changed");
        return 1;
    }
    let mut session = match Session::open(IPVSADM) {
        Ok(session) => session,
        Err(exit) => {
            print_exit(&exit);
            return exit.status;
        }
    };
    let current = match session.client.table() {
        Ok(current) => current,
        Err(error) => {
            eprintln!("{program}: cannot read the table: {}", error_text(&error));
            return 1;
        }
    };
    let changes = changes_between(&current, &checked.table);
    if dry_run {
        let rules: String = changes
            .iter()
            .filter_map(change_rule)
            .map(|rule| rule + "\n")
            .collect();
        write_stdout(&rules);
        return 0;
    }
    let (outcomes, cause) = match session.client.apply_all(&changes) {
        Ok(report) => (report.outcomes, None),
        Err(aborted) => (aborted.report.outcomes, Some(aborted.cause)),
    };
    let mut status = 0;
    for (change, outcome) in changes.iter().zip(outcomes) {
        let rule = change_rule(change).unwrap_or_default();
        match outcome {
            Outcome::Applied => {}
            Outcome::Failed(error) => {
                eprintln!("{program}: {rule}: {}", error.ipvsadm_message());
                status = 1;
            }
            Outcome::NotAttempted | Outcome::Unknown => {
                let cause = cause.as_ref().map(error_text).unwrap_or_default();
                eprintln!(
                    "{program}: stopped at {rule}: {cause}; the changes before it were applied, \
                     the ones after it were not; run --sync again to finish"
                );
                return 1;
            }
        }
    }
    status
}

/// `INPUT="$(grep -v '^#')"; echo "$INPUT"`: comment lines out, trailing newlines folded to one.
pub fn without_comment_lines(input: &str) -> String {
    let mut kept: String = input
        .split_inclusive('\n')
        .filter(|line| !line.starts_with('#'))
        .collect();
    // grep ends its last line with a newline; "$(...)" strips them all; echo adds one.
    while kept.ends_with('\n') {
        kept.pop();
    }
    kept.push('\n');
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_go_and_the_end_is_one_newline() {
        assert_eq!(
            without_comment_lines("# saved\n-A -t 1.2.3.4:80\n  # kept\n\n\n"),
            "-A -t 1.2.3.4:80\n  # kept\n"
        );
        assert_eq!(without_comment_lines("-C"), "-C\n");
        assert_eq!(without_comment_lines(""), "\n");
    }

    #[test]
    fn documented_options_are_the_ones_accepted_and_listed() {
        for option in crate::args::docs::RESTORE_OPTIONS {
            let args = match option.name {
                "--dry-run" => vec!["--sync".to_owned(), option.name.to_owned()],
                name => vec![name.to_owned()],
            };
            assert!(
                RestoreMode::from_args(args.iter()).is_ok(),
                "{}",
                option.name
            );
            if option.name != "--help" {
                let line = format!("{:<13}{}", option.name, option.summary);
                assert!(RESTORE_USAGE.contains(&line), "{line:?} not in the usage");
            }
        }
    }
}
