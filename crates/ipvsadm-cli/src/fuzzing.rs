//! Entry points of the fuzz targets (`crates/ipvsadm-cli/fuzz`) and of the stable mutation test
//! below: any bytes as a command line, any bytes as a rule file. None of it may panic.
//! Host-name lookups are switched off first: random words must not become DNS queries.

use crate::args::{self, Source};
use crate::libc_names::disable_host_lookups;
use crate::restore::RuleReader;
use crate::rule_file::{self, Purpose};

/// Reads `bytes` as the words of a command line (split at NUL bytes), as the process's own
/// arguments and as a line of `-R` input.
pub fn command_line(bytes: &[u8]) {
    disable_host_lookups();
    let mut argv = vec!["ipvsadm".to_owned()];
    argv.extend(
        bytes
            .split(|&byte| byte == 0)
            .map(|word| String::from_utf8_lossy(word).into_owned()),
    );
    let _ = args::parse(&argv, Source::CommandLine);
    let _ = args::parse(&argv, Source::RestoreInput);
}

/// Reads `bytes` as `ipvsadm -R` input, line by line, and as a whole file for `--test` and
/// `--sync`.
pub fn rule_file(bytes: &[u8]) {
    disable_host_lookups();
    let mut reader = RuleReader::new(bytes);
    while let Ok(Some(line)) = reader.next_line() {
        let _ = args::parse_words("ipvsadm", &line.words, Source::RestoreInput);
    }
    let _ = rule_file::check(bytes, "ipvsadm", Purpose::Restore);
    let _ = rule_file::check(bytes, "ipvsadm", Purpose::Table);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words that steer the parser into its corners.
    const WORDS: &[&str] = &[
        "-A",
        "-E",
        "-D",
        "-C",
        "-L",
        "-l",
        "-a",
        "-e",
        "-d",
        "-R",
        "-S",
        "-Z",
        "-h",
        "-v",
        "-t",
        "-u",
        "-f",
        "-s",
        "-p",
        "-M",
        "-r",
        "-g",
        "-i",
        "-m",
        "-w",
        "-x",
        "-y",
        "-n",
        "-c",
        "-6",
        "-o",
        "-b",
        "-X",
        "--set",
        "--start-daemon",
        "--stop-daemon",
        "--mcast-interface",
        "--syncid",
        "--timeout",
        "--daemon",
        "--stats",
        "--rate",
        "--thresholds",
        "--persistent-conn",
        "--nosort",
        "--sort",
        "--exact",
        "--pe",
        "--mcast-group",
        "--mcast-port",
        "--mcast-ttl",
        "--sync-maxlen",
        "--tun-info",
        "--tun-type",
        "--tun-port",
        "--tun-nocsum",
        "--tun-csum",
        "--tun-remcsum",
        "--json",
        "--tcp-service=1.2.3.4:80",
        "10.0.0.1:80",
        "[2001:db8::1]:80",
        "[::]",
        "0",
        "4294967296",
        "-1",
        "rr",
        "sh",
        "mh",
        "sh-port,mh-port",
        "flag-1,,",
        "master",
        "backup",
        "lo",
        "gue",
        "ipip",
        "gre",
        "sip",
        "",
        "=",
        "--",
        "-",
        "-Ln",
        "-nL",
        "-p0",
        "--weight=9",
        "ipvsadm",
        "#",
        "\u{fffd}",
    ];

    fn seeds() -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/ipvsadm/commands.cases"
        );
        let cases = std::fs::read_to_string(path).expect("the differential cases");
        cases
            .lines()
            .filter_map(|line| line.strip_prefix("ipvsadm "))
            .map(str::to_owned)
            .collect()
    }

    fn mutate(random: &mut fastrand::Rng, line: &str) -> Vec<String> {
        let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        for _ in 0..=random.usize(..4) {
            let at = random.usize(..words.len() + 1);
            match random.usize(..6) {
                0 => words.insert(at, WORDS[random.usize(..WORDS.len())].to_owned()),
                1 if at < words.len() => {
                    words.remove(at);
                }
                2 if at < words.len() => {
                    let word = words[at].clone();
                    words.insert(at, word);
                }
                3 if at < words.len() => {
                    let mut bytes = words[at].clone().into_bytes();
                    if !bytes.is_empty() {
                        let i = random.usize(..bytes.len());
                        bytes[i] = random.u8(..);
                    }
                    words[at] = String::from_utf8_lossy(&bytes).into_owned();
                }
                4 if at < words.len() => {
                    let cut = random.usize(..words[at].len() + 1);
                    let word: String = words[at].chars().take(cut).collect();
                    words[at] = word;
                }
                _ => words.truncate(at),
            }
        }
        words
    }

    #[test]
    fn mutated_command_lines_and_rule_files_never_panic() {
        let seeds = seeds();
        assert!(seeds.len() > 100, "only {} seed lines", seeds.len());
        let mut random = fastrand::Rng::with_seed(0x5eed_1234_abcd_0001);
        let mut runs = 0;
        for round in 0..100 {
            let mut file = Vec::new();
            for seed in &seeds {
                let words = mutate(&mut random, seed);
                command_line(words.join("\0").as_bytes());
                file.extend_from_slice(
                    words
                        .join(if round % 2 == 0 { " " } else { "\t" })
                        .as_bytes(),
                );
                file.push(if random.usize(..10) == 0 {
                    b'\r'
                } else {
                    b'\n'
                });
                runs += 1;
            }
            rule_file(&file);
        }
        assert!(runs > 10_000, "only {runs} mutations");
    }

    #[test]
    fn raw_bytes_never_panic() {
        let mut random = fastrand::Rng::with_seed(42);
        for _ in 0..2_000 {
            let bytes: Vec<u8> = (0..random.usize(..300)).map(|_| random.u8(..)).collect();
            command_line(&bytes);
            rule_file(&bytes);
        }
    }
}
