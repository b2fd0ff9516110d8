//! The dump is keepalived.conf syntax that means what the configuration meant: reading a dump
//! back gives the same model (positions aside). Checked on every corpus configuration and every
//! probe case, which between them use every keyword.

mod common;

use keepalived_config::dump::dump;
use keepalived_config::env::FixedEnvironment;
use keepalived_config::model::Config;
use keepalived_config::{LoadOptions, load};

use common::{Scratch, probe_cases, testdata};

/// Configurations whose meaning cannot be written back, and why.
const NOT_WRITABLE: &[(&str, &str)] = &[
    (
        "pqarmitage__keepalived-devel-tools__configs_1145.conf",
        "the BFD process drops a bfd_instance without neighbor_ip that the VRRP process still \
         tracks; written back without the instance, the tracking goes too",
    ),
    (
        "pqarmitage__keepalived-devel-tools__configs_bfd_check.conf",
        "the same, for a BFD_CHECK naming a bfd_instance without neighbor_ip",
    ),
];

/// `environment` plus the VMAC interfaces `config` creates, which its dump names as devices.
fn with_vmacs(environment: &str, config: &Config) -> FixedEnvironment {
    let vmacs: String = config
        .instances
        .iter()
        .filter_map(|i| i.vmac.as_ref()?.name.as_ref())
        .map(|name| format!("macvlan {name}\n"))
        .collect();
    FixedEnvironment::parse(&format!("{environment}\n{vmacs}")).expect("environment")
}

/// The model's debug form without the `position` fields, which a dump cannot keep.
fn without_positions(config: &Config) -> String {
    let text = format!("{config:#?}");
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut kept = Vec::new();
    // The indentation of a `position` field being skipped, up to its closing line.
    let mut skipping: Option<usize> = None;
    for line in text.lines() {
        match skipping {
            Some(depth) if indent(line) > depth => continue,
            Some(depth) if indent(line) == depth && line.trim_start().starts_with(')') => {
                skipping = None;
                continue;
            }
            _ => skipping = None,
        }
        if line.trim_start().starts_with("position:") {
            if line.trim_end().ends_with('(') {
                skipping = Some(indent(line));
            }
            continue;
        }
        kept.push(line);
    }
    kept.join("\n")
}

/// Loads `path`, dumps it, loads the dump; returns the first difference between the models.
fn round_trip(
    path: &std::path::Path,
    environment: &str,
    interfaces: &[String],
    scratch: &Scratch,
) -> Option<String> {
    let options = LoadOptions {
        config_id: "vm".into(),
        ..LoadOptions::default()
    };
    let env = FixedEnvironment::parse(environment)
        .expect("environment")
        .with_interfaces(interfaces.iter().cloned());
    let first = load(&path.to_string_lossy(), &options, &env);
    let text = dump(&first.config);
    let copy = scratch.path("dump.conf");
    std::fs::write(&copy, &text).expect("write dump");
    let env = with_vmacs(environment, &first.config).with_interfaces(interfaces.iter().cloned());
    let second = load(&copy.to_string_lossy(), &options, &env).config;
    let (text, again) = (without_positions(&first.config), without_positions(&second));
    if again == text {
        return None;
    }
    let line = text
        .lines()
        .zip(again.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(text.lines().count().min(again.lines().count()));
    Some(format!(
        "line {}: {:?} became {:?}",
        line + 1,
        text.lines().nth(line),
        again.lines().nth(line)
    ))
}

#[test]
fn corpus_dumps_read_back_as_the_same_configuration() {
    let corpus = testdata().join("corpus");
    let environment = std::fs::read_to_string(corpus.join("environment.txt")).expect("env");
    let verdicts = std::fs::read_to_string(corpus.join("verdicts-2.2.7.tsv")).expect("tsv");
    let scratch = Scratch::new("kc-dump-corpus");
    let (mut files, mut differing) = (0, Vec::new());
    for line in verdicts.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(interfaces)) = (cols.first(), cols.get(5)) else {
            continue;
        };
        files += 1;
        let interfaces: Vec<String> = interfaces.split_whitespace().map(str::to_owned).collect();
        let path = corpus.join("configs").join(file);
        let difference = round_trip(&path, &environment, &interfaces, &scratch);
        let excused = NOT_WRITABLE.iter().any(|(name, _)| name == file);
        match (difference, excused) {
            (Some(difference), false) => differing.push(format!("{file}: {difference}")),
            (None, true) => differing.push(format!("{file}: listed as not writable, but is")),
            _ => {}
        }
    }
    assert!(files > 100, "only {files} corpus files");
    assert!(
        differing.is_empty(),
        "{} of {files} dumps do not read back the same:\n{}",
        differing.len(),
        differing.join("\n")
    );
}

#[test]
fn probe_dumps_read_back_as_the_same_configuration() {
    let probes = testdata().join("probes");
    let environment = std::fs::read_to_string(probes.join("environment.txt")).expect("env");
    let scratch = Scratch::new("kc-dump-probes");
    let path = scratch.path("probe.conf");
    let cases = probe_cases();
    let mut differing = Vec::new();
    for (name, body) in &cases {
        std::fs::write(&path, body.join("\n") + "\n").expect("write probe");
        if let Some(difference) = round_trip(&path, &environment, &[], &scratch) {
            differing.push(format!("{name}: {difference}"));
        }
    }
    assert!(
        differing.is_empty(),
        "{} of {} probe dumps do not read back the same:\n{}",
        differing.len(),
        cases.len(),
        differing.join("\n")
    );
}
