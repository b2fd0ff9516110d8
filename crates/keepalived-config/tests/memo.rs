//! A reading that takes unchanged `virtual_server` blocks from the last reading's memo gives
//! what a reading from scratch gives: the same configuration and the same messages, at the same
//! lines, for the corpus of real configurations and the probe cases, unchanged, moved, edited
//! and damaged.

mod common;

use common::Scratch;

use keepalived_config::env::FixedEnvironment;
use keepalived_config::{LoadOptions, ReadMemo, load, load_reusing};

fn options() -> LoadOptions {
    LoadOptions {
        config_id: "vm".into(),
        ..LoadOptions::default()
    }
}

fn env() -> FixedEnvironment {
    FixedEnvironment::minimal().with_interfaces(["eth0", "eth1"])
}

/// Reads `before` then `after` (both written to `dir`) with one memo, and `after` alone:
/// the two readings of `after` must agree. Returns how many blocks came from the memo.
fn agree(dir: &Scratch, name: &str, before: &[u8], after: &[u8]) -> usize {
    agree_all(dir, name, &[before, after])
}

/// Reads `texts` in turn with one memo, and each alone: each reading with the memo must agree
/// with the one without. Returns how many blocks the last came from the memo.
fn agree_all(dir: &Scratch, name: &str, texts: &[&[u8]]) -> usize {
    agree_in_turn(dir, name, texts).reused()
}

/// [`agree_all`], returning the memo.
fn agree_in_turn(dir: &Scratch, name: &str, texts: &[&[u8]]) -> ReadMemo {
    let path = dir.path(name);
    let path = path.to_str().unwrap_or_default();
    let mut memo = ReadMemo::default();
    for (n, text) in texts.iter().enumerate() {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
        let again = common::outcome(&load_reusing(path, &options(), &env(), &mut memo));
        let fresh = common::outcome(&load(path, &options(), &env()));
        if again != fresh {
            let first_difference = again
                .lines()
                .zip(fresh.lines())
                .position(|(a, f)| a != f)
                .unwrap_or(0);
            panic!(
                "{name}: reading {n} with the memo differs from line {first_difference}:\n{}\n--- from scratch:\n{}",
                again
                    .lines()
                    .skip(first_difference)
                    .take(8)
                    .collect::<Vec<_>>()
                    .join("\n"),
                fresh
                    .lines()
                    .skip(first_difference)
                    .take(8)
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
    }
    memo
}

#[test]
fn the_corpus_reads_the_same_with_the_memo() {
    let files = common::corpus_files();
    let dir = Scratch::new("kc-memo-corpus");
    let mut rng = fastrand::Rng::with_seed(0x5eed_0f4e_10ad);
    let mut reused = 0;
    for file in &files {
        let original = std::fs::read(file).unwrap_or_default();
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("x");
        for (n, variant) in common::variants(&original, &mut rng).iter().enumerate() {
            reused += agree(&dir, &format!("{n}-{name}"), &original, variant);
        }
    }
    // The memo was used, not only left empty.
    assert!(
        reused > 100,
        "only {reused} blocks were taken from the memo"
    );
}

#[test]
fn the_probe_cases_read_the_same_with_the_memo() {
    let dir = Scratch::new("kc-memo-probes");
    let mut rng = fastrand::Rng::with_seed(0x0dd_ba11);
    for (n, (_, body)) in common::probe_cases().iter().enumerate() {
        let original = body.join("\n").into_bytes();
        for (v, variant) in common::variants(&original, &mut rng).iter().enumerate() {
            agree(&dir, &format!("p{n}-{v}.conf"), &original, variant);
        }
    }
}

/// 100 `virtual_server` blocks of 12 lines, each with a real server and a `TCP_CHECK`, the real
/// server of block `changed` (from 1) of weight `weight`, the others of weight 1.
fn hundred_blocks(changed: usize, weight: u32) -> String {
    (1..=100)
        .map(|i| {
            let weight = if i == changed { weight } else { 1 };
            format!(
                "virtual_server 10.1.0.{i} 80 {{\n    delay_loop 6\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 10.2.0.{i} 8080 {{\n        weight {weight}\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n}}\n"
            )
        })
        .collect()
}

/// The reload the memo is for: many virtual servers, one changed, the rest taken.
#[test]
fn only_changed_blocks_are_read_again() {
    let config = hundred_blocks;
    let dir = Scratch::new("kc-memo-reload");
    let before = config(50, 1);
    assert_eq!(
        agree(&dir, "same.conf", before.as_bytes(), before.as_bytes()),
        100
    );
    let after = config(50, 2);
    assert_eq!(
        agree(&dir, "one.conf", before.as_bytes(), after.as_bytes()),
        99
    );
    // A parameter defined before the blocks may change what they mean: blocks using one are
    // read again (a line with `$` is never taken), the others are taken.
    let with_parameter = format!("$W=3\n{}", after.replace("weight 2", "weight $W"));
    assert_eq!(
        agree(
            &dir,
            "param.conf",
            after.as_bytes(),
            with_parameter.as_bytes()
        ),
        99
    );
    // Other global definitions: everything is read again.
    let with_globals = format!("global_defs {{\n    router_id other\n}}\n{after}");
    assert_eq!(
        agree(
            &dir,
            "globals.conf",
            after.as_bytes(),
            with_globals.as_bytes()
        ),
        0
    );
}

/// The parent's pass takes over how the lines of the blocks it skips read from the last reading
/// of the file, but for the lines that changed; the readings agree with readings from scratch.
#[test]
fn the_parent_looks_again_only_at_the_lines_that_changed() {
    let dir = Scratch::new("kc-memo-lines");
    let (before, after) = (hundred_blocks(0, 1), hundred_blocks(50, 2));
    // The parent skips the blocks whole: 12 lines a block.
    let memo = agree_in_turn(&dir, "lines.conf", &[before.as_bytes(), before.as_bytes()]);
    assert_eq!(memo.lines_taken_over(), 1200);
    let memo = agree_in_turn(&dir, "lines.conf", &[before.as_bytes(), after.as_bytes()]);
    assert_eq!(memo.lines_taken_over(), 1199);
    // More lines: those after the change are taken over where they now stand.
    let longer = after.replace("weight 2\n", "weight 2\n        inhibit_on_failure\n");
    let memo = agree_in_turn(&dir, "lines.conf", &[after.as_bytes(), longer.as_bytes()]);
    assert_eq!(memo.lines_taken_over(), 1200);
    // A first reading has nothing to take over.
    assert_eq!(
        agree_in_turn(&dir, "lines.conf", &[after.as_bytes()]).lines_taken_over(),
        0
    );
}

/// A `virtual_server` line whose address is wrong makes no virtual server (its block is
/// skipped). Any block whose `virtual_server` line makes none is taken as one that may have
/// changed the draft before it (the handlers work on the last draft): that draft is completed
/// as read and not remembered. Readings in turn, each agreeing with a reading from scratch:
/// whole, the header broken, broken again, whole again.
#[test]
fn a_block_making_no_virtual_server_leaves_the_one_before_unremembered() {
    let block = |i: usize| {
        format!(
            "virtual_server 10.1.0.{i} 80 {{\n    lb_algo rr\n    protocol TCP\n    real_server 10.2.0.{i} 8080 {{\n        weight 1\n    }}\n}}\n"
        )
    };
    let whole: String = (1..=20).map(block).collect();
    let broken = whole.replace(
        "virtual_server 10.1.0.10 80 {",
        "virtual_server 10.1.0.300 80 {",
    );
    assert_ne!(whole, broken);
    let dir = Scratch::new("kc-memo-broken");
    assert_eq!(
        agree_all(&dir, "broken.conf", &[whole.as_bytes(), broken.as_bytes()]),
        19
    );
    // Blocks 9 (before the broken one) and 10 are read again; the other 18 are taken.
    let texts = [
        whole.as_bytes(),
        broken.as_bytes(),
        broken.as_bytes(),
        whole.as_bytes(),
    ];
    assert_eq!(agree_all(&dir, "again.conf", &texts), 18);
}

/// A block taken again is shared with the configuration read before (no copy): one that moved
/// is copied with its new lines, and the configuration read before keeps the old ones, as a
/// daemon holding the running configuration through a reload needs.
#[test]
fn a_moved_block_leaves_the_configuration_read_before_as_it_was() {
    let block = |i: usize| {
        format!(
            "virtual_server 10.1.0.{i} 80 {{\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 10.2.0.{i} 8080 {{\n        weight 1\n    }}\n}}\n"
        )
    };
    let before: String = (1..=3).map(block).collect();
    let dir = Scratch::new("kc-memo-shared");
    let path = dir.path("shared.conf");
    let path = path.to_str().unwrap_or_default();
    let mut memo = ReadMemo::default();
    std::fs::write(path, &before).unwrap_or_else(|e| panic!("{e}"));
    let first = load_reusing(path, &options(), &env(), &mut memo);
    std::fs::write(path, &before).unwrap_or_else(|e| panic!("{e}"));
    let same = load_reusing(path, &options(), &env(), &mut memo);
    let (old, new) = (&first.config.virtual_servers, &same.config.virtual_servers);
    assert!(first.diagnostics.is_empty(), "{:?}", first.diagnostics);
    assert_eq!(old.len(), 3);
    assert!(
        old.iter()
            .zip(new)
            .all(|(a, b)| std::sync::Arc::ptr_eq(a, b))
    );
    // Two lines more in front: the blocks are taken, at lines two further on.
    std::fs::write(path, format!("# moved\n# down\n{before}")).unwrap_or_else(|e| panic!("{e}"));
    let moved = load_reusing(path, &options(), &env(), &mut memo);
    assert_eq!(memo.reused(), 3);
    let line = |vs: &keepalived_config::model::VirtualServer| vs.position.map(|p| p.line);
    for (old, moved) in first
        .config
        .virtual_servers
        .iter()
        .zip(&moved.config.virtual_servers)
    {
        assert!(!std::sync::Arc::ptr_eq(old, moved));
        assert_eq!(line(moved), line(old).map(|l| l + 2));
    }
    assert_eq!(line(&first.config.virtual_servers[0]), Some(1));
}
