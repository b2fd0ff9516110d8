//! The corpus of real configurations (testdata/keepalived/corpus), checked by `vrrpd -t` the
//! way keepalived 2.2.7 was run on them: from the configs directory, with config id `vm`, once
//! with no interface but `lo` and once with the interfaces the reference verdicts created.
//!
//! The exit status must agree with keepalived's (verdicts-2.2.7.tsv) on every run; the
//! messages must be exactly keepalived's (keepalived-output.txt), except for the few runs listed
//! in `MESSAGE_DIFFERENCES` below, each with its reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/keepalived/corpus")
}

/// Runs whose messages differ from keepalived's, and why. Exit statuses agree for these too.
const MESSAGE_DIFFERENCES: &[(&str, &str)] = &[];

struct Verdict {
    rc_bare: i32,
    rc_ifaces: i32,
    interfaces: Vec<String>,
}

fn verdicts() -> BTreeMap<String, Verdict> {
    let text =
        std::fs::read_to_string(testdata().join("verdicts-2.2.7.tsv")).expect("verdicts-2.2.7.tsv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Some((
                cols.first()?.to_string(),
                Verdict {
                    rc_bare: cols.get(1)?.parse().ok()?,
                    rc_ifaces: cols.get(4)?.parse().ok()?,
                    interfaces: cols.get(5)?.split_whitespace().map(str::to_owned).collect(),
                },
            ))
        })
        .collect()
}

/// A run: the file and "bare" or "ifaces".
type RunKey = (String, String);
/// What a run printed: its exit status and its lines.
type Output = (i32, Vec<String>);

/// keepalived's recorded output of every run. The record writes the configs directory's
/// absolute path as `@CONFIGS@`; it becomes this checkout's.
fn recorded() -> BTreeMap<RunKey, Output> {
    let configs = std::fs::canonicalize(testdata().join("configs")).expect("configs directory");
    let text = std::fs::read_to_string(testdata().join("keepalived-output.txt"))
        .expect("keepalived-output.txt")
        .replace("@CONFIGS@", &configs.display().to_string());
    let mut out = BTreeMap::new();
    let mut current: Option<(RunKey, Output)> = None;
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("=== ") {
            if let Some((k, v)) = current.take() {
                out.insert(k, v);
            }
            let mut parts = header.rsplitn(2, ' ');
            let run = parts.next().unwrap_or_default().to_owned();
            let file = parts.next().unwrap_or_default().to_owned();
            current = Some(((file, run), (0, Vec::new())));
        } else if let Some((_, (rc, lines))) = current.as_mut() {
            match line.strip_prefix("rc ") {
                Some(n) if lines.is_empty() && *rc == 0 => *rc = n.parse().unwrap_or(-1),
                _ => lines.push(line.to_owned()),
            }
        }
    }
    if let Some((k, v)) = current.take() {
        out.insert(k, v);
    }
    out
}

fn run_vrrpd(file: &str, interfaces: &[String], environment: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vrrpd"));
    command
        .current_dir(testdata().join("configs"))
        .args(["-i", "vm", "-t", "-f", file, "--diagnostics=keepalived"])
        .arg(format!("--assume-environment={}", environment.display()));
    if !interfaces.is_empty() {
        command.arg(format!("--assume-interfaces={}", interfaces.join(",")));
    }
    let output = command.output().expect("run vrrpd");
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        stderr.lines().map(str::to_owned).collect(),
    )
}

#[test]
fn corpus_verdicts_match_keepalived() {
    let verdicts = verdicts();
    let recorded = recorded();
    let environment = testdata().join("environment.txt");
    let mut status_mismatches = Vec::new();
    let mut message_mismatches = Vec::new();
    let mut runs = 0;
    for (file, verdict) in &verdicts {
        for (run, interfaces, expected_rc) in [
            ("bare", Vec::new(), verdict.rc_bare),
            ("ifaces", verdict.interfaces.clone(), verdict.rc_ifaces),
        ] {
            runs += 1;
            let (rc, lines) = run_vrrpd(file, &interfaces, &environment);
            if rc != expected_rc {
                status_mismatches.push(format!(
                    "{file} ({run}): vrrpd {rc}, keepalived {expected_rc}"
                ));
            }
            let key = (file.clone(), run.to_owned());
            let listed = MESSAGE_DIFFERENCES
                .iter()
                .any(|(f, _)| *f == format!("{file} {run}"));
            let expected = recorded.get(&key).map(|(_, lines)| lines);
            if let (Some(expected), false) = (expected.filter(|e| **e != lines), listed) {
                let first = lines
                    .iter()
                    .zip(expected.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(lines.len().min(expected.len()));
                message_mismatches.push(format!(
                    "{file} ({run}) line {}: vrrpd {:?} / keepalived {:?}",
                    first + 1,
                    lines.get(first),
                    expected.get(first)
                ));
            }
        }
    }
    let agree = runs - status_mismatches.len();
    println!("exit status: {agree}/{runs} runs agree with keepalived 2.2.7");
    println!(
        "messages: {}/{runs} runs identical",
        runs - message_mismatches.len()
    );
    for m in &message_mismatches {
        println!("  {m}");
    }
    assert!(
        status_mismatches.is_empty(),
        "exit status differs:\n{}",
        status_mismatches.join("\n")
    );
    assert!(
        message_mismatches.is_empty(),
        "{} runs print other messages than keepalived",
        message_mismatches.len()
    );
}
