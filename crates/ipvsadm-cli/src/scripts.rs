//! `ipvsadm-save` and `ipvsadm-restore`: Debian ships them as shell scripts around `ipvsadm`;
//! these are the same behaviour without the extra processes.

use std::io::Read;

use ipvs::Change;

use crate::restore;
use crate::run::{Session, Status, print_exit};

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
pub fn restore_main(_argv: &[String]) -> u8 {
    let mut input = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("ipvsadm-restore: cannot read the rules: {error}");
        return 1;
    }
    let rules = without_comment_lines(&String::from_utf8_lossy(&input));

    // The script runs `ipvsadm -C`, then `ipvsadm -R`: two start-ups, each trying modprobe and
    // saying so if IPVS is missing.
    // When the first start-up fails, no flush happens, whatever the second one does.
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
    match restore::restore(&mut session, rules.as_bytes(), || true) {
        Status::Done(code) | Status::End(code) => code,
    }
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
}
