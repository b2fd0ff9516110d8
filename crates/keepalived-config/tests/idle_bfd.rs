//! The BFD process's reading is skipped when the file has no `bfd_instance` and the parent's
//! reading said nothing: the configuration and the messages are those of a reading that makes
//! it, for the corpus of real configurations and the probe cases, as written and altered, and for
//! files where a block the parent reads could hide or show a top-level keyword.

mod common;

use common::Scratch;

use keepalived_config::env::FixedEnvironment;
use keepalived_config::{LoadOptions, load};

fn options(skip_idle_bfd: bool) -> LoadOptions {
    LoadOptions {
        config_id: "vm".into(),
        skip_idle_bfd,
        ..LoadOptions::default()
    }
}

/// Reads `text` with and without the skip: they must agree.
fn agree(dir: &Scratch, name: &str, text: &[u8]) {
    let path = dir.path(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let path = path.to_str().unwrap_or_default();
    let env = FixedEnvironment::minimal().with_interfaces(["eth0", "eth1"]);
    let skipping = common::outcome(&load(path, &options(true), &env));
    let reading = common::outcome(&load(path, &options(false), &env));
    assert!(
        skipping == reading,
        "{name}: skipping the BFD reading changed the outcome:\n{skipping}\n--- reading it:\n{reading}"
    );
}

#[test]
fn the_corpus_reads_the_same_without_an_idle_bfd_reading() {
    let files = common::corpus_files();
    let dir = Scratch::new("kc-idle-bfd-corpus");
    let mut rng = fastrand::Rng::with_seed(0xbfd0_1d1e);
    for file in &files {
        let original = std::fs::read(file).unwrap_or_default();
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("x");
        for (n, variant) in common::variants(&original, &mut rng).iter().enumerate() {
            agree(&dir, &format!("{n}-{name}"), variant);
        }
    }
}

#[test]
fn the_probe_cases_read_the_same_without_an_idle_bfd_reading() {
    let dir = Scratch::new("kc-idle-bfd-probes");
    let mut rng = fastrand::Rng::with_seed(0x1d1e_0bfd);
    for (n, (_, body)) in common::probe_cases().iter().enumerate() {
        let original = body.join("\n").into_bytes();
        for (v, variant) in common::variants(&original, &mut rng).iter().enumerate() {
            agree(&dir, &format!("p{n}-{v}.conf"), variant);
        }
    }
}

/// The global definitions are read by the parent and skipped by the others, by their braces: a
/// brace the parent reads as a word, or a `{` line it does not nest, makes their views of the
/// top level part. A `bfd_instance` one of them sees at the top level must still be read.
#[test]
fn braces_in_the_global_definitions_do_not_hide_an_instance() {
    let dir = Scratch::new("kc-idle-bfd-braces");
    let instance = "bfd_instance b1 {\n    neighbor_ip 10.0.0.2\n}\n";
    let cases = [
        format!("global_defs {{\n    router_id r1 }}\n{instance}}}\n"),
        format!("global_defs {{\n    router_id r1\n    {{\n    }}\n{instance}}}\n"),
        format!("global_defs {{\n    {{\n    router_id r1\n}}\n{instance}"),
        format!("global_defs {{\n    router_id r1\n}}\n{instance}"),
        "global_defs {\n    router_id r1 }\n}\nvirtual_server 10.0.0.1 80 {\n}\n".to_owned(),
    ];
    for (n, case) in cases.iter().enumerate() {
        agree(&dir, &format!("braces-{n}.conf"), case.as_bytes());
    }
}
