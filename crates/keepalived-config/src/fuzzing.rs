//! Entry point of the fuzz target (`crates/keepalived-config/fuzz`) and of the stable mutation
//! test below: any bytes as a set of configuration files, read, checked, reported and dumped.
//! None of it may panic, and all of it must end soon with little memory, whatever the input.
//!
//! The bytes are split at NUL bytes into up to four files, `keepalived.conf` (read) and
//! `a.conf`, `b.conf`, `c.conf` (for `include`), written to a directory of their own. The
//! machine is a fixed one (no system lookups), with at most [`OPEN_FILES`] files open at once
//! and at most [`SEQUENCE_LINES`] lines from `~SEQ`/`~LST`: keepalived itself would take
//! practically for ever on `~SEQ(i,0,4000000000)`, which is no finding.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diagnostics::{human, keepalived, lint};
use crate::env::FixedEnvironment;
use crate::{LoadOptions, dump, load};

/// Files open at once (an include chain's depth).
pub const OPEN_FILES: usize = 8;
/// Lines `~SEQ` and `~LST` may produce in each reading.
pub const SEQUENCE_LINES: u64 = 20_000;

/// The names of the files the bytes become, in order.
pub const FILE_NAMES: [&str; 4] = ["keepalived.conf", "a.conf", "b.conf", "c.conf"];

/// Reads `bytes` as configuration files and renders everything said about them.
pub fn configuration(bytes: &[u8]) {
    let Some(dir) = Scratch::new() else {
        return;
    };
    for (name, content) in FILE_NAMES
        .iter()
        .zip(bytes.splitn(FILE_NAMES.len(), |&b| b == 0))
    {
        if std::fs::write(dir.0.join(name), content).is_err() {
            return;
        }
    }
    let env = FixedEnvironment::minimal().with_interfaces(["eth0", "eth1"]);
    let options = LoadOptions {
        config_id: "vm".into(),
        open_file_limit: OPEN_FILES,
        sequence_limit: Some(SEQUENCE_LINES),
        ..LoadOptions::default()
    };
    let main = dir.0.join(FILE_NAMES[0]);
    let loaded = load(&main.to_string_lossy(), &options, &env);
    let _ = keepalived::render(&loaded.diagnostics, &loaded.sources);
    let mut all = loaded.diagnostics.clone();
    all.extend(lint::config(&loaded.config));
    let _ = human::render(&all, &loaded.sources, human::Style::default());
    let _ = dump::dump(&loaded.config);
    let _ = loaded.verdict.exit_status();
}

/// A directory of its own for one input, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Option<Scratch> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("keepalived-config-fuzz-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        Some(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// Text that steers the lexer and the grammar into their corners.
    const PIECES: &[&str] = &[
        "{",
        "}",
        "{ }",
        "\"",
        "\"a b\"",
        "#",
        "!",
        "\\",
        "\\#",
        "$X",
        "${X}",
        "$X=1",
        "$X=$X$X",
        "$M=a \\\n b\n",
        "$F(a,b)=$a $b\n",
        "$F(1,2)",
        "@vm ",
        "@^vm ",
        "~SEQ(i,1,3) ",
        "~SEQ(i,0,4000000000) x$i\n",
        "~SEQ(i,9223372036854775806,1,9223372036854775807) $i\n",
        "~SEQ(i,0x10,-1,1) ",
        "~LST(i,a,b) ",
        "include a.conf\n",
        "include keepalived.conf\n",
        "include *.conf\n",
        "includea {a,b}.conf\n",
        "\0",
        "\n",
        "\r\n",
        "\t",
        " ",
        "\u{fffd}",
        "é",
        "virtual_server 10.0.0.1 80 {\n",
        "real_server 10.0.0.2 80 {\n",
        "HTTP_GET {\n url {\n path /\n digest x\n }\n}\n",
        "TCP_CHECK {\n connect_timeout 3\n}\n",
        "vrrp_instance VI {\n",
        "virtual_ipaddress {\n10.0.0.1/24 dev eth0\n}\n",
        "authentication { auth_type PASS auth_pass 123456789 }\n",
        "global_defs {\n",
        "vrrp_script s {\n script \"/bin/true\"\n}\n",
        "track_script {\n s\n}\n",
        "virtual_server_group g {\n10.0.0.1-20 80\n}\n",
        "4294967296",
        "-1",
        "999999999999999999999",
        "0x",
        "1e3",
    ];

    fn seeds() -> Vec<Vec<u8>> {
        let corpus = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/keepalived/corpus/configs"
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(corpus)
            .expect("the corpus")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
    }

    fn mutate(random: &mut fastrand::Rng, seed: &[u8]) -> Vec<u8> {
        let mut bytes = seed.to_vec();
        for _ in 0..=random.usize(..6) {
            let at = random.usize(..bytes.len() + 1);
            match random.usize(..5) {
                0 | 1 => {
                    let piece = PIECES[random.usize(..PIECES.len())].as_bytes();
                    bytes.splice(at..at, piece.iter().copied());
                }
                2 => {
                    let end = (at + random.usize(..40)).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 if at < bytes.len() => bytes[at] = random.u8(..),
                _ => {
                    // A stretch of the file again, elsewhere (duplicated blocks and lines).
                    let end = (at + random.usize(..200)).min(bytes.len());
                    let stretch = bytes[at..end].to_vec();
                    let to = random.usize(..bytes.len() + 1);
                    bytes.splice(to..to, stretch);
                }
            }
        }
        bytes
    }

    #[test]
    fn mutated_configurations_never_panic() {
        let seeds = seeds();
        assert!(seeds.len() > 100, "only {} seed files", seeds.len());
        let mut random = fastrand::Rng::with_seed(0x5eed_cafe_f00d_0001);
        let started = Instant::now();
        let mut runs = 0;
        for round in 0..2 {
            for (n, seed) in seeds.iter().enumerate() {
                let mut bytes = mutate(&mut random, seed);
                // Now and then a second file, for the includes to find.
                if (n + round) % 5 == 0 {
                    bytes.push(0);
                    let other = random.usize(..seeds.len());
                    bytes.extend(mutate(&mut random, &seeds[other]));
                }
                configuration(&bytes);
                runs += 1;
            }
        }
        assert!(runs > 250, "only {runs} mutations");
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{runs} mutations took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn raw_bytes_never_panic() {
        let mut random = fastrand::Rng::with_seed(42);
        let alphabet = b"{}\"#!$@^~\\ \t\r\n\0()=,.0123456789abcx_SEQLT";
        for _ in 0..1_000 {
            let bytes: Vec<u8> = (0..random.usize(..400))
                .map(|_| {
                    if random.usize(..3) == 0 {
                        random.u8(..)
                    } else {
                        alphabet[random.usize(..alphabet.len())]
                    }
                })
                .collect();
            configuration(&bytes);
        }
    }

    /// Runs `configuration` on `bytes` and says how long it took.
    fn timed(bytes: &[u8]) -> Duration {
        let started = Instant::now();
        configuration(bytes);
        started.elapsed()
    }

    #[test]
    fn include_loops_sequences_and_nesting_end_soon() {
        // Each takes a few seconds at most in a debug build; a hang would take for ever.
        let limit = Duration::from_secs(60);
        let cases: &[(&str, Vec<u8>)] = &[
            (
                "self-include",
                b"include keepalived.conf\nglobal_defs {\n}\n".to_vec(),
            ),
            (
                "include loop through two files",
                b"include a.conf\n\0include keepalived.conf\nx\n".to_vec(),
            ),
            (
                "wildcard including itself and its sibling",
                b"include *.conf\n\0include *.conf\n\0include *.conf\n".to_vec(),
            ),
            ("huge sequence", b"~SEQ(i,0,4000000000) x$i\n".to_vec()),
            (
                "nested sequences",
                b"~SEQ(a,0,100000) ~SEQ(b,0,100000) ~SEQ(c,0,100000) $a\n".to_vec(),
            ),
            (
                "sequence at the largest number",
                b"~SEQ(i,9223372036854775806,1,9223372036854775807) x$i\n".to_vec(),
            ),
            (
                "parameter defined by itself",
                b"$A=$A$A$A$A\nvrrp_instance $A {\n}\n".to_vec(),
            ),
            (
                "deep braces",
                [
                    b"vrrp_instance X ".as_slice(),
                    &[b'{'; 20_000],
                    b"\n",
                    &[b'}'; 20_000],
                ]
                .concat(),
            ),
            (
                "deep blocks",
                "virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\nHTTP_GET {\nurl {\n"
                    .repeat(2_000)
                    .into_bytes(),
            ),
            (
                "long line",
                [
                    b"global_defs {\nrouter_id ".as_slice(),
                    &[b'a'; 2_000_000],
                    b"\n}\n",
                ]
                .concat(),
            ),
            ("many words", b"x ".repeat(300_000)),
        ];
        for (name, bytes) in cases {
            let took = timed(bytes);
            assert!(took < limit, "{name}: {took:?}");
        }
    }

    #[test]
    fn include_loops_stop_where_keepalived_runs_out_of_files() {
        let dir = Scratch::new().expect("a scratch directory");
        std::fs::write(
            dir.0.join("self.conf"),
            "include self.conf\nglobal_defs {\n}\n",
        )
        .expect("a file");
        let options = LoadOptions {
            config_id: "vm".into(),
            open_file_limit: 10,
            ..LoadOptions::default()
        };
        let env = FixedEnvironment::minimal();
        let loaded = load(&dir.0.join("self.conf").to_string_lossy(), &options, &env);
        let lines = keepalived::render(&loaded.diagnostics, &loaded.sources);
        assert_eq!(
            lines,
            vec![
                "(self.conf: Line 1) Configuration file 'self.conf' open problem (Too many open files) - skipping"
            ]
        );
        assert_eq!(loaded.verdict.exit_status(), 0);
        assert_eq!(loaded.sources.files().count(), 10);
    }

    #[test]
    fn sequences_past_the_limit_are_dropped() {
        let dir = Scratch::new().expect("a scratch directory");
        let path = dir.0.join("seq.conf");
        std::fs::write(&path, "~SEQ(i,1,1000000) x$i\n").expect("a file");
        let options = LoadOptions {
            config_id: "vm".into(),
            sequence_limit: Some(3),
            ..LoadOptions::default()
        };
        let loaded = load(
            &path.to_string_lossy(),
            &options,
            &FixedEnvironment::minimal(),
        );
        let lines = keepalived::render(&loaded.diagnostics, &loaded.sources);
        // Each process reads x1, x2 and x3 only.
        assert_eq!(lines.len(), 12, "{lines:?}");
        assert!(lines[0].ends_with("Unknown keyword 'x1'"), "{lines:?}");
        assert!(lines[2].ends_with("Unknown keyword 'x3'"), "{lines:?}");
        assert!(lines[3].ends_with("Unknown keyword 'x1'"), "{lines:?}");
    }
}
