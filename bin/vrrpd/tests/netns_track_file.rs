//! `track_file` in namespaces, VRRPv3 at 0.1 s: the number written to a tracked file times its weight moves
//! the instance's priority (seen in its adverts on the bridge, and the peer preempting when it drops below
//! the peer's); a weight-0 file holding a non-zero number puts the instance in FAULT; a sync group's file
//! takes all its members out together; `init_file … overwrite` writes the file at start. Ours and keepalived
//! 2.2.7 as the tracking router (the peer is ours), with the same expectations.

mod netns;

use std::path::Path;
use std::time::Duration;

use netns::{Implementation, Topology, VIP, wait_for};

const VIP2: &str = "10.99.0.101";

fn instance(name: &str, vrid: u8, priority: u8, vip: &str, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n    priority {priority}\n\
         advert_int 0.1\n    version 3\n{extra}    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
    )
}

/// Writes `text` to `path` by a rename, as an editor or a configuration tool does.
fn replace(path: &Path, text: &str) {
    let staging = path.with_extension("new");
    std::fs::write(&staging, text).expect("write");
    std::fs::rename(&staging, path).expect("rename");
}

/// Waits for adverts from r1 with `priority` on the bridge.
fn r1_advertises(capture: &netns::Capture, priority: u8) -> bool {
    wait_for(Duration::from_secs(3), || {
        capture
            .adverts()
            .iter()
            .any(|seen| seen.source == "10.99.0.1" && seen.priority == Some(priority))
    })
    .is_some()
}

fn weighted_and_fault_files(tracking: Implementation) {
    let mut topology = Topology::new(2);
    let weighted = topology.dir.join("weighted.trk");
    let fault = topology.dir.join("fault.trk");
    let config = format!(
        "track_file TF {{\n    file {}\n    weight -30\n}}\ntrack_file TZ {{\n    file {}\n    weight 0\n}}\n{}",
        weighted.display(),
        fault.display(),
        instance(
            "VI_1",
            51,
            200,
            VIP,
            "    track_file {\n        TF\n        TZ\n    }\n"
        ),
    );
    topology.start(
        2,
        Implementation::Vrrpd,
        &instance("VI_1", 51, 150, VIP, ""),
    );
    topology.start(1, tracking, &config);
    assert!(
        wait_for(Duration::from_secs(5), || topology.has_vip(1)).is_some(),
        "no master\n{}",
        topology.logs()
    );
    let capture = topology.capture_adverts();
    assert!(r1_advertises(&capture, 200), "{}", topology.logs());

    // 1 × −30: 170, still above the peer's 150.
    std::fs::write(&weighted, "1\n").expect("write");
    assert!(
        r1_advertises(&capture, 170),
        "no advert at 170\n{}",
        topology.logs()
    );
    assert!(topology.has_vip(1) && !topology.has_vip(2));

    // 3 × −30: 110, below the peer, which preempts.
    std::fs::write(&weighted, "3\n").expect("write");
    assert!(
        r1_advertises(&capture, 110),
        "no advert at 110\n{}",
        topology.logs()
    );
    assert!(
        wait_for(Duration::from_secs(2), || topology.has_vip(2)
            && !topology.has_vip(1))
        .is_some(),
        "the peer did not preempt\n{}",
        topology.logs()
    );

    // Back to 0 by a rename: 200 again, and r1 preempts.
    replace(&weighted, "0\n");
    assert!(
        wait_for(Duration::from_secs(2), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "r1 did not take the VIP back\n{}",
        topology.logs()
    );

    // The weight-0 file non-zero: FAULT (priority 0 on the way out, the peer takes over at once).
    std::fs::write(&fault, "1\n").expect("write");
    assert!(
        wait_for(Duration::from_secs(1), || topology.has_vip(2)
            && !topology.has_vip(1))
        .is_some(),
        "the weight-0 file did not fault r1\n{}",
        topology.logs()
    );
    // Silent after its priority-0 advert (compared on the wire's clock: the capture is read with a lag).
    std::thread::sleep(Duration::from_millis(500));
    let adverts = capture.adverts();
    let goodbye = adverts
        .iter()
        .rposition(|seen| seen.source == "10.99.0.1" && seen.priority == Some(0));
    assert!(
        goodbye.is_some(),
        "no priority-0 advert\n{}",
        topology.logs()
    );
    let after = adverts[goodbye.unwrap_or_default() + 1..]
        .iter()
        .filter(|seen| seen.source == "10.99.0.1")
        .count();
    assert_eq!(after, 0, "r1 advertises in FAULT\n{}", topology.logs());

    // Deleted: read as 0, r1 back.
    std::fs::remove_file(&fault).expect("remove");
    assert!(
        wait_for(Duration::from_secs(2), || topology.has_vip(1)
            && !topology.has_vip(2))
        .is_some(),
        "r1 did not come back when the file was deleted\n{}",
        topology.logs()
    );
    assert!(r1_advertises(&capture, 200), "{}", topology.logs());
}

#[test]
fn track_file_moves_the_priority_and_faults_ours() {
    require_netns!();
    weighted_and_fault_files(Implementation::Vrrpd);
}

#[test]
fn track_file_moves_the_priority_and_faults_keepalived() {
    require_netns!(keepalived);
    weighted_and_fault_files(Implementation::Keepalived);
}

fn sync_group_file(tracking: Implementation) {
    let mut topology = Topology::new(2);
    let group_file = topology.dir.join("group.trk");
    let member_file = topology.dir.join("member.trk");
    // Overwritten with 0 at start by `init_file 0 overwrite`: r1 starts healthy.
    std::fs::write(&group_file, "9\n").expect("write");
    let group = |priority: u8, tracked: bool| {
        let (group_tracks, member_tracks) = if tracked {
            (
                "    track_file {\n        TG\n    }\n",
                "    track_file {\n        TI\n    }\n",
            )
        } else {
            ("", "")
        };
        format!(
            "vrrp_sync_group G1 {{\n    group {{\n        VI_1\n        VI_2\n    }}\n{group_tracks}}}\n{}{}",
            instance("VI_1", 51, priority, VIP, member_tracks),
            instance("VI_2", 52, priority, VIP2, ""),
        )
    };
    // TI keeps the default weight 1, which a sync group member tracks unweighted (keepalived: "ignoring
    // weight from tracked file TI due to SYNC group. specify weight 0").
    let config = format!(
        "track_file TG {{\n    file {}\n    weight 5\n    init_file 0 overwrite\n}}\n\
         track_file TI {{\n    file {}\n}}\n{}",
        group_file.display(),
        member_file.display(),
        group(200, true),
    );
    topology.start(2, Implementation::Vrrpd, &group(100, false));
    topology.start(1, tracking, &config);
    let holds_both = |n: usize| topology.has_address(n, VIP) && topology.has_address(n, VIP2);
    let holds_none = |n: usize| !topology.has_address(n, VIP) && !topology.has_address(n, VIP2);
    assert!(
        wait_for(Duration::from_secs(5), || holds_both(1)).is_some(),
        "no master\n{}",
        topology.logs()
    );
    assert_eq!(
        std::fs::read_to_string(&group_file).ok().as_deref(),
        Some("0\n"),
        "init_file did not overwrite"
    );
    let capture = topology.capture_adverts();

    // The group's file keeps its weight (keepalived 2.2.7 applies it without
    // sync_group_tracking_weight): 2 × 5 on both members.
    std::fs::write(&group_file, "2\n").expect("write");
    assert!(
        r1_advertises(&capture, 210),
        "no advert at 210\n{}",
        topology.logs()
    );
    // −60 × 5 is below −254: FAULT, and the group takes both members out.
    std::fs::write(&group_file, "-60\n").expect("write");
    assert!(
        wait_for(Duration::from_secs(1), || holds_both(2) && holds_none(1)).is_some(),
        "the group's file did not take both instances out\n{}",
        topology.logs()
    );
    std::fs::write(&group_file, "0\n").expect("write");
    assert!(
        wait_for(Duration::from_secs(2), || holds_both(1) && holds_none(2)).is_some(),
        "r1 did not take both back\n{}",
        topology.logs()
    );

    // The member's own file, unweighted: any non-zero value faults VI_1, and VI_2 with it.
    std::fs::write(&member_file, "7\n").expect("write");
    assert!(
        wait_for(Duration::from_secs(1), || holds_both(2) && holds_none(1)).is_some(),
        "the member's file did not take the group out\n{}",
        topology.logs()
    );
    std::fs::remove_file(&member_file).expect("remove");
    assert!(
        wait_for(Duration::from_secs(2), || holds_both(1) && holds_none(2)).is_some(),
        "r1 did not take both back after the member's file went\n{}",
        topology.logs()
    );
}

#[test]
fn sync_group_track_file_moves_all_members_ours() {
    require_netns!();
    sync_group_file(Implementation::Vrrpd);
}

#[test]
fn sync_group_track_file_moves_all_members_keepalived() {
    require_netns!(keepalived);
    sync_group_file(Implementation::Keepalived);
}
