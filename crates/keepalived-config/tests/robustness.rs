//! Nothing in a configuration may panic the reader: random bytes, and real configurations with
//! random damage (braces, quotes, comment and parameter characters inserted, lines cut).

mod common;

use std::path::Path;

use common::Scratch;

use keepalived_config::diagnostics::{human, keepalived};
use keepalived_config::env::FixedEnvironment;
use keepalived_config::{LoadOptions, dump, load};

/// Loads `bytes` as a configuration and renders everything, which must not panic.
fn exercise(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
    let env = FixedEnvironment::minimal().with_interfaces(["eth0", "eth1"]);
    let options = LoadOptions {
        config_id: "vm".into(),
        ..LoadOptions::default()
    };
    let loaded = load(path.to_str().unwrap_or_default(), &options, &env);
    let _ = keepalived::render(&loaded.diagnostics, &loaded.sources);
    let _ = human::render(
        &loaded.diagnostics,
        &loaded.sources,
        human::Style::default(),
    );
    let _ = dump::dump(&loaded.config);
    let _ = loaded.verdict.exit_status();
}

#[test]
fn random_bytes_do_not_panic() {
    let dir = Scratch::new("kc-random");
    let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    // Bytes weighted towards what the lexer treats specially.
    let alphabet: &[u8] =
        b"{}\"'#!$@^~\\ \t\r\n/.-_,()0123456789abcdefvrrp_instancestate MASTER\xff\xc3";
    for round in 0..400 {
        let len = rng.usize(..600);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.usize(..4) == 0 {
                    rng.u8(..)
                } else {
                    alphabet[rng.usize(..alphabet.len())]
                }
            })
            .collect();
        exercise(&dir.0, &format!("r{round}.conf"), &bytes);
    }
}

#[test]
fn damaged_real_configurations_do_not_panic() {
    let files = common::corpus_files();
    let dir = Scratch::new("kc-damaged");
    let mut rng = fastrand::Rng::with_seed(0x1234_5678_9abc_def1);
    let inserts: &[&[u8]] = &[
        b"{",
        b"}",
        b"\"",
        b"#",
        b"!",
        b"$X",
        b"${Y}",
        b"$X=1\\\n",
        b"@vm ",
        b"~SEQ(i,1,3) ",
        b"\\",
        b"\n",
        b" include x*.conf\n",
        b"\xff",
    ];
    for (n, file) in files.iter().enumerate() {
        let original = std::fs::read(file).unwrap_or_default();
        for variant in 0..4 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.usize(..6) {
                let at = rng.usize(..bytes.len() + 1);
                match rng.usize(..3) {
                    0 => {
                        let insert = inserts[rng.usize(..inserts.len())];
                        bytes.splice(at..at, insert.iter().copied());
                    }
                    1 => {
                        let end = (at + rng.usize(..20)).min(bytes.len());
                        bytes.drain(at..end);
                    }
                    _ => bytes.truncate(at),
                }
            }
            exercise(&dir.0, &format!("d{n}-{variant}.conf"), &bytes);
        }
    }
}
