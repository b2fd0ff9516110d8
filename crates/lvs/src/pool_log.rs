//! The lines keepalived 2.2.7 logs when a virtual server's pool changes as a whole: its quorum
//! (`update_quorum_state` and `perform_quorum_state` in `ipwrapper.c`, at start, while running and
//! at a reload) and what a reload takes away (`clear_diff_services`: virtual servers, real servers,
//! sorry servers and `virtual_server_group` entries) or adds to a group (`sync_service_vsg`).
//! Operators grep for these, so the words are keepalived's.

use std::fmt::Write;
use std::net::IpAddr;

use keepalived_config::model::lvs::{
    GroupEntry, RealServer, ServiceAddress, VirtualServer, VirtualServerGroup,
};

use crate::alert::{self, VsName};

/// When a quorum is judged: keepalived words a loss at start and at a reload (`init`) as
/// `Starting with quorum down`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// At start or at a reload.
    Init,
    /// While running, after a real server or a weight changed.
    Running,
}

/// A virtual server whose quorum was judged and found changed, or found down with a sorry server
/// that is not in yet.
#[derive(Clone, Copy, Debug)]
pub struct QuorumChange<'a> {
    /// The virtual server (its quorum, hysteresis and sorry server).
    pub vs: &'a VirtualServer,
    /// Whether the quorum is met now.
    pub up: bool,
    /// Whether it was met before (down at start).
    pub was_up: bool,
    /// At start or a reload, or while running.
    pub moment: Moment,
    /// The weight of the live real servers.
    pub weight_sum: i64,
    /// Whether the sorry server was in the table before.
    pub sorry_was_in: bool,
}

/// keepalived's lines for `change`: the quorum line, then, when the sorry server goes in or out,
/// its line and the one of the real servers going the other way.
pub fn quorum_lines(change: &QuorumChange) -> Vec<String> {
    let QuorumChange {
        vs,
        up,
        was_up,
        moment,
        weight_sum,
        sorry_was_in,
    } = *change;
    let name = VsName(vs);
    let threshold = alert::quorum_threshold(vs, was_up);
    let (quorum, hysteresis) = (vs.quorum, vs.hysteresis);
    let mut lines = Vec::new();
    if up {
        lines.push(format!(
            "Gained quorum {quorum}+{hysteresis}={threshold} <= {weight_sum} for VS {name}"
        ));
    } else {
        let what = match moment {
            Moment::Init => "Starting with quorum down",
            Moment::Running => "Lost quorum",
        };
        lines.push(format!(
            "{what} {quorum}-{hysteresis}={threshold} > {weight_sum} for VS {name}"
        ));
    }
    if let Some(sorry) = &vs.sorry_server {
        let sorry_name = alert::rs_text(vs, sorry.address, sorry.port);
        if up && sorry_was_in {
            let verb = if sorry.inhibit {
                "Disabling"
            } else {
                "Removing"
            };
            lines.push(format!("{verb} sorry server {sorry_name} from VS {name}"));
            lines.push(format!("Adding alive servers to the pool for VS {name}"));
        } else if !up && !sorry_was_in {
            let verb = if sorry.inhibit { "Enabling" } else { "Adding" };
            lines.push(format!("{verb} sorry server {sorry_name} to VS {name}"));
            lines.push(format!(
                "Removing alive servers from the pool for VS {name}"
            ));
        }
    }
    lines
}

/// keepalived's line for a virtual server a reload removes.
pub fn removed_virtual_server_line(vs: &VirtualServer) -> String {
    match &vs.service {
        ServiceAddress::Group(group) => {
            format!("Removing Virtual Server Group [{group}]")
        }
        _ => format!("Removing Virtual Server {}", VsName(vs)),
    }
}

/// keepalived's line for a real server a reload removes from a virtual server that stays; the
/// line of its removal from the table follows when it was in ([`removed_real_server_line`]).
pub fn gone_real_server_line(vs: &VirtualServer, rs: &RealServer) -> String {
    format!(
        "service {} no longer exist",
        alert::rs_text(vs, rs.address, rs.port)
    )
}

/// keepalived's line (`clear_service_rs`) for a real server taken out of the table because a
/// reload removed it or its virtual server; `alive`: whether it was in service (an inhibited one
/// that was not is said so).
pub fn removed_real_server_line(vs: &VirtualServer, rs: &RealServer, alive: bool) -> String {
    let inhibited = if rs.inhibit_on_failure && !alive {
        "(inhibited) "
    } else {
        ""
    };
    format!(
        "Removing {inhibited}service {} from VS {}",
        alert::rs_text(vs, rs.address, rs.port),
        VsName(vs)
    )
}

/// keepalived's line for a sorry server that was in the table and that a reload changed or
/// removed.
pub fn removed_sorry_server_line(vs: &VirtualServer, address: IpAddr, port: u16) -> String {
    format!(
        "Removing sorry server {} from VS {}",
        alert::rs_text(vs, address, port),
        VsName(vs)
    )
}

/// The entries of a group that a reload removed and added, as keepalived tells them apart: a range
/// by its first and last address (not its port), a firewall mark by its value.
pub fn group_changes<'a>(
    old: &'a VirtualServerGroup,
    new: &'a VirtualServerGroup,
) -> (Vec<&'a GroupEntry>, Vec<&'a GroupEntry>) {
    let same = |a: &GroupEntry, b: &GroupEntry| match (a, b) {
        (
            GroupEntry::Range {
                first: a_first,
                last: a_last,
                ..
            },
            GroupEntry::Range {
                first: b_first,
                last: b_last,
                ..
            },
        ) => a_first == b_first && a_last == b_last,
        (GroupEntry::Fwmark { mark: a, .. }, GroupEntry::Fwmark { mark: b, .. }) => a == b,
        _ => false,
    };
    // keepalived keeps ranges and marks in two lists and walks the ranges first.
    let ordered = |group: &'a VirtualServerGroup| {
        let ranges = group
            .entries
            .iter()
            .filter(|e| matches!(e, GroupEntry::Range { .. }));
        let marks = group
            .entries
            .iter()
            .filter(|e| matches!(e, GroupEntry::Fwmark { .. }));
        ranges.chain(marks).collect::<Vec<_>>()
    };
    let (old_entries, new_entries) = (ordered(old), ordered(new));
    let removed = old_entries
        .iter()
        .filter(|entry| !new_entries.iter().any(|n| same(entry, n)))
        .copied()
        .collect();
    let added = new_entries
        .iter()
        .filter(|entry| !old_entries.iter().any(|o| same(entry, o)))
        .copied()
        .collect();
    (removed, added)
}

/// keepalived's line for an entry of group `group`, used by `vs`, that a reload removed
/// (`in group G no longer exists`) or added (`added into group G`).
pub fn group_entry_line(
    vs: &VirtualServer,
    group: &str,
    entry: &GroupEntry,
    added: bool,
) -> String {
    let mut line = String::from("VS [");
    match entry {
        // keepalived words a removed mark without `FWM`.
        GroupEntry::Fwmark { mark, .. } if added => {
            let _ = write!(line, "FWM {mark}");
        }
        GroupEntry::Fwmark { mark, .. } => {
            let _ = write!(line, "{mark}");
        }
        GroupEntry::Range { first, last, port } => {
            line.push_str(&alert::rs_text(vs, *first, *port));
            if first != last {
                let _ = write!(line, "-{last}");
            }
        }
    }
    if added {
        let _ = write!(line, "] added into group {group}");
    } else {
        let _ = write!(line, "] in group {group} no longer exists");
    }
    line
}

#[cfg(test)]
mod tests {
    use keepalived_config::model::lvs::SorryServer;

    use super::*;
    use crate::mapping::tests::config;

    fn group_vs() -> VirtualServer {
        let config = config(
            "virtual_server_group web {\n 10.0.1.100-101 80\n fwmark 7\n}\n\
             virtual_server group web {\n protocol TCP\n quorum 2\n hysteresis 1\n\
             sorry_server 10.0.2.13 80\n real_server 10.0.2.11 80 {\n TCP_CHECK {\n }\n }\n\
             real_server 10.0.2.12 80 {\n weight 2\n }\n}\n",
        );
        (*config.virtual_servers[0]).clone()
    }

    #[test]
    fn quorum_down_at_start_brings_the_sorry_server() {
        let vs = group_vs();
        let lines = quorum_lines(&QuorumChange {
            vs: &vs,
            up: false,
            was_up: false,
            moment: Moment::Init,
            weight_sum: 2,
            sorry_was_in: false,
        });
        assert_eq!(
            lines,
            [
                "Starting with quorum down 2-1=3 > 2 for VS [web]:0",
                "Adding sorry server [10.0.2.13]:tcp:80 to VS [web]:0",
                "Removing alive servers from the pool for VS [web]:0",
            ]
        );
    }

    #[test]
    fn quorum_gained_takes_the_sorry_server_out() {
        let mut vs = group_vs();
        vs.quorum = 1;
        vs.hysteresis = 0;
        let lines = quorum_lines(&QuorumChange {
            vs: &vs,
            up: true,
            was_up: false,
            moment: Moment::Init,
            weight_sum: 1,
            sorry_was_in: true,
        });
        assert_eq!(
            lines,
            [
                "Gained quorum 1+0=1 <= 1 for VS [web]:0",
                "Removing sorry server [10.0.2.13]:tcp:80 from VS [web]:0",
                "Adding alive servers to the pool for VS [web]:0",
            ]
        );
    }

    #[test]
    fn quorum_lost_while_running_with_an_inhibited_sorry_server() {
        let mut vs = group_vs();
        vs.sorry_server = Some(SorryServer {
            inhibit: true,
            ..vs.sorry_server.clone().expect("a sorry server")
        });
        let lines = quorum_lines(&QuorumChange {
            vs: &vs,
            up: false,
            was_up: true,
            moment: Moment::Running,
            weight_sum: 0,
            sorry_was_in: false,
        });
        assert_eq!(
            lines,
            [
                "Lost quorum 2-1=1 > 0 for VS [web]:0",
                "Enabling sorry server [10.0.2.13]:tcp:80 to VS [web]:0",
                "Removing alive servers from the pool for VS [web]:0",
            ]
        );
    }

    #[test]
    fn quorum_without_a_sorry_server_is_one_line() {
        let mut vs = group_vs();
        vs.sorry_server = None;
        let change = QuorumChange {
            vs: &vs,
            up: true,
            was_up: false,
            moment: Moment::Running,
            weight_sum: 3,
            sorry_was_in: false,
        };
        assert_eq!(
            quorum_lines(&change),
            ["Gained quorum 2+1=3 <= 3 for VS [web]:0"]
        );
    }

    #[test]
    fn group_entries_are_told_apart_by_addresses_and_marks() {
        let old = VirtualServerGroup {
            name: "web".into(),
            entries: vec![
                GroupEntry::Fwmark {
                    mark: 7,
                    family: None,
                },
                GroupEntry::Range {
                    first: "10.0.1.100".parse().unwrap(),
                    last: "10.0.1.101".parse().unwrap(),
                    port: 80,
                },
                GroupEntry::Range {
                    first: "10.0.1.110".parse().unwrap(),
                    last: "10.0.1.110".parse().unwrap(),
                    port: 80,
                },
            ],
            position: None,
        };
        let new = VirtualServerGroup {
            name: "web".into(),
            entries: vec![
                GroupEntry::Range {
                    first: "10.0.1.100".parse().unwrap(),
                    last: "10.0.1.102".parse().unwrap(),
                    port: 80,
                },
                // Another port: the same entry to keepalived.
                GroupEntry::Range {
                    first: "10.0.1.110".parse().unwrap(),
                    last: "10.0.1.110".parse().unwrap(),
                    port: 81,
                },
                GroupEntry::Fwmark {
                    mark: 8,
                    family: None,
                },
            ],
            position: None,
        };
        let vs = group_vs();
        let (removed, added) = group_changes(&old, &new);
        let removed: Vec<String> = removed
            .iter()
            .map(|e| group_entry_line(&vs, "web", e, false))
            .collect();
        let added: Vec<String> = added
            .iter()
            .map(|e| group_entry_line(&vs, "web", e, true))
            .collect();
        assert_eq!(
            removed,
            [
                "VS [[10.0.1.100]:tcp:80-10.0.1.101] in group web no longer exists",
                "VS [7] in group web no longer exists",
            ]
        );
        assert_eq!(
            added,
            [
                "VS [[10.0.1.100]:tcp:80-10.0.1.102] added into group web",
                "VS [FWM 8] added into group web",
            ]
        );
    }

    #[test]
    fn removals_at_a_reload() {
        let mut vs = group_vs();
        let rs = vs.real_servers[0].clone();
        assert_eq!(
            removed_virtual_server_line(&vs),
            "Removing Virtual Server Group [web]"
        );
        assert_eq!(
            gone_real_server_line(&vs, &rs),
            "service [10.0.2.11]:tcp:80 no longer exist"
        );
        assert_eq!(
            removed_real_server_line(&vs, &rs, false),
            "Removing service [10.0.2.11]:tcp:80 from VS [web]:0"
        );
        let mut inhibited = rs.clone();
        inhibited.inhibit_on_failure = true;
        assert_eq!(
            removed_real_server_line(&vs, &inhibited, false),
            "Removing (inhibited) service [10.0.2.11]:tcp:80 from VS [web]:0"
        );
        assert_eq!(
            removed_real_server_line(&vs, &inhibited, true),
            "Removing service [10.0.2.11]:tcp:80 from VS [web]:0"
        );
        vs.service = ServiceAddress::Address {
            address: "10.0.1.120".parse().unwrap(),
            port: 80,
        };
        assert_eq!(
            removed_virtual_server_line(&vs),
            "Removing Virtual Server [10.0.1.120]:tcp:80"
        );
        assert_eq!(
            removed_sorry_server_line(&vs, "10.0.2.13".parse().unwrap(), 80),
            "Removing sorry server [10.0.2.13]:tcp:80 from VS [10.0.1.120]:tcp:80"
        );
    }
}
