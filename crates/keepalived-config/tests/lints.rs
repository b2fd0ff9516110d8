//! What we say beyond keepalived: lints about pitfalls and hints on its own messages. Neither
//! changes keepalived's verdict.

mod common;

use keepalived_config::diagnostics::{Diagnostic, Source, lint};
use keepalived_config::env::FixedEnvironment;
use keepalived_config::{LoadOptions, Loaded, load};

use common::Scratch;

fn read(text: &str) -> Loaded {
    let scratch = Scratch::new("kc-lints");
    let path = scratch.path("keepalived.conf");
    std::fs::write(&path, text).expect("write configuration");
    let env = FixedEnvironment::minimal().with_interfaces(["eth0"]);
    let options = LoadOptions {
        config_id: "vm".into(),
        ..LoadOptions::default()
    };
    load(&path.to_string_lossy(), &options, &env)
}

/// The lints of a configuration: those found while reading and those about its meaning.
fn lints(loaded: &Loaded) -> Vec<Diagnostic> {
    let mut all: Vec<Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.source == Source::Lint)
        .cloned()
        .collect();
    all.extend(lint::config(&loaded.config));
    all
}

fn instance(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n{extra}\n \
         virtual_ipaddress {{\n 192.0.2.1\n }}\n}}\n"
    )
}

#[test]
fn a_second_statement_on_a_line_is_pointed_at() {
    let loaded = read(&instance(" state BACKUP priority 150"));
    assert_eq!(loaded.config.instances[0].priority, 100);
    assert_eq!(loaded.verdict.exit_status(), 0, "keepalived says nothing");
    let found = lints(&loaded);
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .message
            .contains("`priority` on the same line as `state` is ignored")
    );
    let span = found[0].span.expect("span");
    assert_eq!((span.position.line, span.start, span.len), (4, 14, 8));
}

#[test]
fn a_one_line_authentication_block_is_explained() {
    let loaded = read(&instance(
        " authentication { auth_type PASS auth_pass secret }",
    ));
    let found = lints(&loaded);
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("runs without authentication")),
        "{found:?}"
    );
}

#[test]
fn strict_mode_drops_traffic_to_the_addresses() {
    let loaded = read(&format!(
        "global_defs {{\n vrrp_strict\n}}\n{}",
        instance("")
    ));
    let found = lints(&loaded);
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("no_accept is in force"))
    );
    assert!(
        found
            .iter()
            .any(|d| d.hint.as_deref().is_some_and(|h| h.contains("version 3")))
    );
    // VRRPv3 with `accept`: the addresses answer, and there is nothing to say.
    let accepted = read(&format!(
        "global_defs {{\n vrrp_strict\n}}\n{}",
        instance(" version 3\n accept")
    ));
    assert!(lints(&accepted).is_empty(), "{:?}", lints(&accepted));
}

#[test]
fn a_long_line_is_flagged_where_keepalived_would_cut_it() {
    let long = format!("global_defs {{\n router_id {}\n}}\n", "a".repeat(1100));
    let loaded = read(&long);
    let found = lints(&loaded);
    assert_eq!(found.len(), 1, "{found:?}");
    let span = found[0].span.expect("span");
    assert_eq!(span.start, 1023);
    assert!(found[0].message.contains("1111 bytes long"));
    let short = read(&long.replace(&"a".repeat(1100), "a"));
    assert!(lints(&short).is_empty());
}

#[test]
fn an_unknown_block_inside_a_block_is_explained() {
    let loaded = read(&instance(" new_option {\n  x 1\n }"));
    // The block's `}` ends the instance: the VIPs after it are read at the top level.
    assert!(loaded.config.instances[0].virtual_addresses.is_empty());
    let unexpected = loaded
        .diagnostics
        .iter()
        .find(|d| d.message == "Unexpected '{' - ignoring")
        .expect("keepalived's message");
    assert!(
        unexpected
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("ends the enclosing block"))
    );
}

#[test]
fn peers_of_a_vrid_must_agree() {
    let a = read(&instance(" advert_int 1"));
    let b = read(&instance(" advert_int 2").replace("192.0.2.1", "192.0.2.2"));
    let found = lint::compare_peers(&a.config, "a.conf", &b.config, "b.conf");
    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("VIP lists")
            && m.contains("only in a.conf: [192.0.2.1]")
            && m.contains("only in b.conf: [192.0.2.2]")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("advert_int differs")));
    assert!(lint::compare_peers(&a.config, "a", &a.config, "a").is_empty());
}
