//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use keepalived_config::Loaded;
use keepalived_config::diagnostics::keepalived;

/// testdata/keepalived.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/keepalived")
}

/// The files of the corpus of real configurations (testdata/keepalived/corpus/configs), sorted.
pub fn corpus_files() -> Vec<PathBuf> {
    let corpus = testdata().join("corpus/configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("no corpus at {}: {e}", corpus.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(
        files.len() > 100,
        "the corpus at {} is missing files",
        corpus.display()
    );
    files
}

/// What a reading says and makes, for comparing two readings.
pub fn outcome(loaded: &Loaded) -> String {
    format!(
        "{:#?}\n{}\n{:?}",
        loaded.config,
        keepalived::render(&loaded.diagnostics, &loaded.sources).join("\n"),
        loaded.verdict
    )
}

/// Splits a file of `=== NAME` sections into (name, body lines).
pub fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            out.push((name.to_owned(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push(line.to_owned());
        }
    }
    out
}

/// The probe cases (testdata/keepalived/probes), hand-written and generated, without the
/// ones kept for documentation only (a body starting with `# `).
pub fn probe_cases() -> Vec<(String, Vec<String>)> {
    let dir = testdata().join("probes");
    let mut cases = Vec::new();
    for file in ["cases.txt", "generated-cases.txt"] {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        cases.extend(
            sections(&text)
                .into_iter()
                .filter(|(_, body)| !body.first().is_some_and(|l| l.starts_with("# "))),
        );
    }
    cases
}

/// A directory of its own under the system's temporary directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        // Tests of one binary run in parallel threads of one process.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Variants of a configuration: the same, moved down, and with lines removed, repeated,
/// changed and damaged.
pub fn variants(original: &[u8], rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(original).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![
        original.to_vec(),
        [b"\n\n# moved\n".as_slice(), original].concat(),
    ];
    if lines.is_empty() {
        return out;
    }
    for _ in 0..6 {
        let mut edited: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        let at = rng.usize(..edited.len());
        match rng.usize(..6) {
            0 => {
                edited.remove(at);
            }
            1 => edited.insert(at, edited[at].clone()),
            2 => edited[at] = edited[at].replace('1', "2"),
            3 => edited.insert(at, "}".to_owned()),
            4 => edited.insert(at, "$X=1".to_owned()),
            _ => edited[at].push_str(" {"),
        }
        out.push(edited.join("\n").into_bytes());
    }
    out
}
