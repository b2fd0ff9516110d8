//! Keyword tables: which words each block accepts, and who handles them.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::walker::{HandlerResult, Line, Parser};
use crate::process::Process;

/// Handles a keyword's line.
pub type Handler = fn(&mut Parser<'_>, &Line) -> HandlerResult;
/// Runs when a keyword's block closes.
pub type CloseHandler = fn(&mut Parser<'_>) -> HandlerResult;

/// Which processes act on a top-level keyword (the others skip its block).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The parent: global definitions.
    Global,
    /// The VRRP process.
    Vrrp,
    /// The checker process.
    Checker,
    /// BFD instances are read by the BFD, VRRP and checker processes.
    Bfd,
    /// Track files are read by the VRRP and checker processes.
    TrackFile,
    /// Keywords inside blocks: whoever reads the block.
    Any,
}

impl Owner {
    /// Whether `process` runs the handlers of keywords with this owner.
    pub fn is_active_in(self, process: Process) -> bool {
        match self {
            Owner::Global => process == Process::Parent,
            Owner::Vrrp => process == Process::Vrrp,
            Owner::Checker => process == Process::Checker,
            Owner::Bfd => matches!(process, Process::Bfd | Process::Vrrp | Process::Checker),
            Owner::TrackFile => matches!(process, Process::Vrrp | Process::Checker),
            Owner::Any => true,
        }
    }
}

/// A keyword of a block.
#[derive(Clone, Copy)]
pub struct Keyword {
    /// The word, matched case-sensitively.
    pub name: &'static str,
    /// Who acts on it (for top-level keywords).
    pub owner: Owner,
    /// What to do with its line.
    pub handler: Option<Handler>,
    /// The keywords of its `{ }` block, if it opens one whose lines are keywords.
    pub block: Option<&'static [Keyword]>,
    /// What to do when that block closes.
    pub close: Option<CloseHandler>,
}

/// A keyword whose line is handled on its own (values blocks read their own lines).
pub const fn kw(name: &'static str, handler: Handler) -> Keyword {
    Keyword {
        name,
        owner: Owner::Any,
        handler: Some(handler),
        block: None,
        close: None,
    }
}

/// A keyword opening a block of keywords.
pub const fn block(
    name: &'static str,
    handler: Option<Handler>,
    keywords: &'static [Keyword],
    close: Option<CloseHandler>,
) -> Keyword {
    Keyword {
        name,
        owner: Owner::Any,
        handler,
        block: Some(keywords),
        close,
    }
}

/// The same keyword, owned by `owner` (for the top-level table).
pub const fn owned(owner: Owner, keyword: Keyword) -> Keyword {
    Keyword { owner, ..keyword }
}

/// The top-level keywords.
pub static ROOT: &[Keyword] = &[
    owned(
        Owner::Global,
        kw("linkbeat_use_polling", super::global::linkbeat_use_polling),
    ),
    owned(
        Owner::Global,
        kw("net_namespace", super::global::net_namespace),
    ),
    owned(
        Owner::Global,
        kw("net_namespace_ipvs", super::global::net_namespace_ipvs),
    ),
    owned(
        Owner::Global,
        kw(
            "namespace_with_ipsets",
            super::global::namespace_with_ipsets,
        ),
    ),
    owned(Owner::Global, kw("use_pid_dir", super::global::use_pid_dir)),
    owned(Owner::Global, kw("instance", super::global::instance)),
    owned(
        Owner::Global,
        kw("child_wait_time", super::global::child_wait_time),
    ),
    owned(
        Owner::Global,
        block("global_defs", None, super::global::KEYWORDS, None),
    ),
    owned(
        Owner::Checker,
        block(
            "SSL",
            Some(super::virtual_server::ssl),
            super::virtual_server::SSL_KEYWORDS,
            None,
        ),
    ),
    owned(
        Owner::Checker,
        kw("virtual_server_group", super::virtual_server::group),
    ),
    owned(
        Owner::Checker,
        block(
            "virtual_server",
            Some(super::virtual_server::virtual_server),
            super::virtual_server::KEYWORDS,
            Some(super::virtual_server::close),
        ),
    ),
    owned(
        Owner::Vrrp,
        block(
            "track_group",
            Some(super::vrrp_misc::track_group),
            super::vrrp_misc::TRACK_GROUP_KEYWORDS,
            Some(super::vrrp_misc::track_group_close),
        ),
    ),
    owned(
        Owner::Vrrp,
        kw("static_ipaddress", super::static_net::static_addresses),
    ),
    owned(
        Owner::Vrrp,
        kw("static_routes", super::routing::static_routes),
    ),
    owned(
        Owner::Vrrp,
        kw("static_rules", super::routing::static_rules),
    ),
    owned(
        Owner::Vrrp,
        block(
            "vrrp_sync_group",
            Some(super::sync_group::sync_group),
            super::sync_group::KEYWORDS,
            Some(super::sync_group::close),
        ),
    ),
    owned(
        Owner::Vrrp,
        block(
            "garp_group",
            Some(super::vrrp_misc::garp_group),
            super::vrrp_misc::GARP_GROUP_KEYWORDS,
            Some(super::vrrp_misc::garp_group_close),
        ),
    ),
    owned(
        Owner::Vrrp,
        kw("linkbeat_interfaces", super::vrrp_misc::linkbeat_interfaces),
    ),
    owned(
        Owner::Vrrp,
        block(
            "vrrp_instance",
            Some(super::instance::instance),
            super::instance::KEYWORDS,
            Some(super::instance::close),
        ),
    ),
    owned(
        Owner::Vrrp,
        block(
            "vrrp_script",
            Some(super::trackers::vrrp_script),
            super::trackers::SCRIPT_KEYWORDS,
            Some(super::trackers::vrrp_script_close),
        ),
    ),
    owned(
        Owner::Vrrp,
        block(
            "vrrp_track_process",
            Some(super::trackers::track_process),
            super::trackers::PROCESS_KEYWORDS,
            Some(super::trackers::track_process_close),
        ),
    ),
    owned(
        Owner::Vrrp,
        kw(
            "interface_up_down_delays",
            super::vrrp_misc::interface_up_down_delays,
        ),
    ),
    owned(
        Owner::Bfd,
        block(
            "bfd_instance",
            Some(super::bfd::bfd_instance),
            super::bfd::KEYWORDS,
            Some(super::bfd::close),
        ),
    ),
    owned(
        Owner::TrackFile,
        block(
            "track_file",
            Some(super::trackers::track_file),
            super::trackers::FILE_KEYWORDS,
            Some(super::trackers::track_file_close),
        ),
    ),
    owned(
        Owner::TrackFile,
        block(
            "vrrp_track_file",
            Some(super::trackers::vrrp_track_file),
            super::trackers::FILE_KEYWORDS,
            Some(super::trackers::track_file_close),
        ),
    ),
];

/// Every table, with the block it belongs to, for suggestions ("did you mean … in …").
pub fn all_tables() -> Vec<(&'static str, &'static [Keyword])> {
    let mut out = vec![("top level", ROOT)];
    fn walk(
        name: &'static str,
        table: &'static [Keyword],
        out: &mut Vec<(&'static str, &'static [Keyword])>,
    ) {
        for k in table {
            let unseen = k
                .block
                .filter(|sub| !out.iter().any(|(_, t)| std::ptr::eq(*t, *sub)));
            if let Some(sub) = unseen {
                let _ = name;
                out.push((k.name, sub));
                walk(k.name, sub, out);
            }
        }
    }
    walk("top level", ROOT, &mut out);
    out
}

/// A multiply-rotate hash over 8 bytes at a time (as rustc's own): keywords are short and come
/// from the tables, so the default hash's resistance to chosen keys buys nothing here and costs
/// a lookup per line.
#[derive(Default)]
struct KeywordHasher(u64);

impl KeywordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for KeywordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
}

type KeywordMap<K, V> = HashMap<K, V, BuildHasherDefault<KeywordHasher>>;

/// Every table reachable from [`ROOT`], by address, each with its keywords by name (the
/// first of a name, as a scan would find it).
fn index() -> &'static KeywordMap<usize, KeywordMap<&'static str, &'static Keyword>> {
    static INDEX: OnceLock<KeywordMap<usize, KeywordMap<&'static str, &'static Keyword>>> =
        OnceLock::new();
    INDEX.get_or_init(|| {
        all_tables()
            .into_iter()
            .map(|(_, table)| {
                let mut names = KeywordMap::default();
                for keyword in table {
                    names.entry(keyword.name).or_insert(keyword);
                }
                (table.as_ptr() as usize, names)
            })
            .collect()
    })
}

/// The keyword `name` of `table`.
pub fn find(table: &'static [Keyword], name: &str) -> Option<&'static Keyword> {
    Keywords::of(table).find(name)
}

/// The keywords of one table, found by name (a hash lookup: this runs for every line of a
/// configuration). Made once for the lines of a block.
#[derive(Clone, Copy)]
pub struct Keywords {
    table: &'static [Keyword],
    by_name: Option<&'static KeywordMap<&'static str, &'static Keyword>>,
}

impl Keywords {
    /// The keywords of `table`.
    pub fn of(table: &'static [Keyword]) -> Self {
        Keywords {
            table,
            by_name: index().get(&(table.as_ptr() as usize)),
        }
    }

    /// The keyword `name`.
    pub fn find(&self, name: &str) -> Option<&'static Keyword> {
        match self.by_name {
            Some(by_name) => by_name.get(name).copied(),
            None => self.table.iter().find(|k| k.name == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_what_a_scan_finds() {
        for (_, table) in all_tables() {
            for keyword in table {
                let scanned = table.iter().find(|k| k.name == keyword.name);
                let found = find(table, keyword.name);
                assert!(std::ptr::eq(
                    scanned.expect("in its table"),
                    found.expect("indexed")
                ));
            }
            assert!(find(table, "no_such_keyword").is_none());
        }
    }

    #[test]
    fn no_table_has_a_name_twice() {
        for (name, table) in all_tables() {
            for (i, keyword) in table.iter().enumerate() {
                assert!(
                    !table[..i].iter().any(|k| k.name == keyword.name),
                    "{} twice in {name}",
                    keyword.name
                );
            }
        }
    }
}
