//! `include`: patterns relative to the including file, nested includes, messages naming the
//! included file, and the include checks (`includea`, `-e`). The expected messages and exit
//! statuses are keepalived 2.2.7's on the same layouts.

mod common;

use keepalived_config::diagnostics::keepalived;
use keepalived_config::env::FixedEnvironment;
use keepalived_config::lexer::IncludeChecks;
use keepalived_config::{LoadOptions, Loaded, load};

use common::Scratch;

/// Writes `files` (path, text) under a scratch directory and loads the first one.
fn load_tree(files: &[(&str, &str)], include_check: IncludeChecks) -> (Loaded, Vec<String>) {
    let scratch = Scratch::new("kc-includes");
    for (path, text) in files {
        let path = scratch.path(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("directory");
        }
        std::fs::write(&path, text).expect("write");
    }
    let options = LoadOptions {
        config_id: "vm".into(),
        include_check,
        ..LoadOptions::default()
    };
    let env = FixedEnvironment::minimal().with_interfaces(["eth0"]);
    let main = scratch.path(files[0].0);
    let loaded = load(&main.to_string_lossy(), &options, &env);
    let lines = keepalived::render(&loaded.diagnostics, &loaded.sources);
    (loaded, lines)
}

const INSTANCE: &str = "vrrp_instance A {\n interface eth0\n virtual_router_id 3\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n";

#[test]
fn includes_are_relative_to_the_including_file() {
    let (loaded, lines) = load_tree(
        &[
            ("main.conf", &format!("include sub/*.conf\n{INSTANCE}")),
            ("sub/a.conf", "include ../common/x.conf\nbogus_keyword 1\n"),
            ("common/x.conf", "global_defs {\n router_id R1\n}\n"),
        ],
        IncludeChecks::NONE,
    );
    assert_eq!(loaded.config.global.router_id.as_deref(), Some("R1"));
    assert_eq!(loaded.config.instances.len(), 1);
    // Every keepalived process reports it, naming the file as the include wrote it.
    assert_eq!(
        lines,
        vec!["(sub/a.conf: Line 2) Unknown keyword 'bogus_keyword'"; 4]
    );
    assert_eq!(loaded.verdict.exit_status(), 5);
    let position = loaded.diagnostics[0].position.expect("position");
    let file = loaded.sources.file(position.file).expect("file");
    assert!(file.path.ends_with("sub/a.conf"));
    assert_eq!(file.name, "sub/a.conf");
}

#[test]
fn a_glob_includes_its_matches_in_name_order() {
    let (loaded, _) = load_tree(
        &[
            ("main.conf", "include parts/*.conf\n"),
            (
                "parts/b.conf",
                &INSTANCE.replace("A {", "B {").replace(" 3\n", " 4\n"),
            ),
            ("parts/a.conf", INSTANCE),
        ],
        IncludeChecks::NONE,
    );
    let names: Vec<&str> = loaded
        .config
        .instances
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["A", "B"]);
}

#[test]
fn a_missing_file_is_reported_and_fails_only_when_checked() {
    let (plain, lines) = load_tree(
        &[("main.conf", "include missing.conf\n")],
        IncludeChecks::NONE,
    );
    assert_eq!(lines, ["(Line 1) Config files missing 'missing.conf'."]);
    assert_eq!(plain.verdict.exit_status(), 0);

    let (checked, _) = load_tree(
        &[("main.conf", "includea missing.conf\n")],
        IncludeChecks::NONE,
    );
    assert_eq!(checked.verdict.exit_status(), 6);

    // `-e` checks every include.
    let (all, _) = load_tree(
        &[("main.conf", "include missing.conf\n")],
        IncludeChecks::ALL,
    );
    assert_eq!(all.verdict.exit_status(), 6);
}
