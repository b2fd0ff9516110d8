//! Differential tests against keepalived 2.2.7 on small probe configurations
//! (testdata/keepalived/probes): every keyword of every block alone, with a bad value and with
//! a good one, plus hand-written cases for the lexer and the checks. keepalived's exit status
//! and messages were recorded by `probes/regenerate.sh`; here the library must produce the same.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use keepalived_config::diagnostics::keepalived;
use keepalived_config::env::FixedEnvironment;
use keepalived_config::{LoadOptions, load};

use common::{Scratch, probe_cases, sections};

fn probes_dir() -> PathBuf {
    common::testdata().join("probes")
}

/// Cases whose outcome differs from keepalived's on purpose, and why (`NAME<TAB>reason` lines).
fn known_differences() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(probes_dir().join("known-differences.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            l.split_once('\t')
                .map(|(n, r)| (n.to_owned(), r.to_owned()))
        })
        .collect()
}

#[test]
fn probes_match_keepalived() {
    let dir = probes_dir();
    let cases = probe_cases();
    let expected: BTreeMap<String, Vec<String>> =
        sections(&std::fs::read_to_string(dir.join("expected.txt")).unwrap_or_default())
            .into_iter()
            .collect();
    let known = known_differences();
    let env_text = std::fs::read_to_string(dir.join("environment.txt")).unwrap_or_default();
    let env = FixedEnvironment::parse(&env_text).unwrap_or_else(|e| panic!("environment.txt: {e}"));
    let options = LoadOptions {
        config_id: "vm".into(),
        ..LoadOptions::default()
    };

    let scratch = Scratch::new("kc-probes");
    let path = scratch.path("probe.conf");
    let prefix = format!("{}/", scratch.0.display());

    let (mut compared, mut crashed, mut differ) = (0, 0, Vec::new());
    let mut known_differing = 0;
    for (name, body) in &cases {
        let Some(recorded) = expected.get(name) else {
            continue;
        };
        let rc: i32 = recorded
            .first()
            .and_then(|l| l.strip_prefix("rc "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(-1);
        if rc >= 128 {
            // keepalived crashed on this one; nothing to compare with.
            crashed += 1;
            continue;
        }
        let mut text = body.join("\n");
        text.push('\n');
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let loaded = load(path.to_str().unwrap_or_default(), &options, &env);
        let lines: Vec<String> = keepalived::render(&loaded.diagnostics, &loaded.sources)
            .into_iter()
            .map(|l| l.replace(&prefix, ""))
            .collect();
        let ours_rc = i32::from(loaded.verdict.exit_status());
        compared += 1;
        let same = ours_rc == rc && lines[..] == recorded[1..];
        if !same && known.contains_key(name) {
            known_differing += 1;
        } else if !same {
            differ.push(format!("{name}: rc {ours_rc} (keepalived {rc})\n    ours:       {lines:?}\n    keepalived: {:?}", &recorded[1..]));
        }
    }
    println!(
        "{} of {compared} probes agree with keepalived 2.2.7 ({known_differing} known differences, {crashed} crashed keepalived)",
        compared - differ.len() - known_differing,
    );
    assert!(
        differ.is_empty(),
        "{} probes differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
