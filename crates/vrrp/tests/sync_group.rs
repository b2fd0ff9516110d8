//! `vrrp_sync_group`: members move to MASTER together, fall back together, and share FAULT.

mod common;

use std::time::{Duration, Instant};

use common::*;
use vrrp::{Action, GroupState, Instance, State, SyncGroup};

fn member(vrid: u8, vip: &str, now: Instant) -> Instance {
    let mut config = config(100);
    config.name = format!("VI_{vrid}");
    config.vrid = vrid;
    config.virtual_addresses = vec![ip(vip)];
    config.in_sync_group = true;
    started_backup(config, now)
}

fn pair(now: Instant) -> (Instance, Instance) {
    (
        member(51, "192.0.2.100", now),
        member(52, "192.0.2.101", now),
    )
}

#[test]
fn members_become_master_only_when_all_want_to_then_together() {
    let clock = Clock::new();
    let (mut first, mut second) = pair(clock.at(0.0));
    let mut group = SyncGroup::new("G1");
    let mut master_of_second = Peer::new(second.config(), 200, "192.0.2.1");

    // The second instance still hears its master; the first one's down timer runs out.
    deliver(&mut second, clock.at(3.0), &master_of_second.advert(200));
    let expiry = first.poll_timeout().unwrap();
    assert_eq!(
        first.handle_timeout(expiry),
        vec![],
        "a member waits for its group"
    );
    assert!(first.wants_master());
    assert_eq!(
        first.poll_timeout(),
        Some(expiry + Duration::from_micros(3_609_375)),
        "and re-arms its timer"
    );
    let actions = group.reconcile(expiry, &mut [&mut first, &mut second], None);
    assert_eq!(actions.members, vec![]);
    assert_eq!(
        actions.notify,
        Some(GroupState::Backup),
        "the group's first state is notified, as keepalived's group leaves INIT"
    );
    assert_eq!(
        (first.state(), second.state(), group.state()),
        (State::Backup, State::Backup, GroupState::Backup)
    );
    assert_eq!(
        group
            .reconcile(expiry, &mut [&mut first, &mut second], None)
            .notify,
        None,
        "and only once"
    );

    // The second master goes silent too: once every member wants MASTER, all go.
    let expiry = second.poll_timeout().unwrap();
    assert_eq!(second.handle_timeout(expiry), vec![]);
    let actions = group.reconcile(expiry, &mut [&mut first, &mut second], Some(1));
    assert_eq!(actions.notify, Some(GroupState::Master));
    // The member that completed the wish goes first, then the others in order, as keepalived's.
    let expected: Vec<_> = becoming_master(100, 5)
        .into_iter()
        .map(|action| (1, action))
        .chain(
            becoming_master(100, 5)
                .into_iter()
                .map(|action| (0, action)),
        )
        .collect();
    assert_eq!(actions.members, expected);
    assert_eq!(
        (first.state(), second.state()),
        (State::Master, State::Master)
    );
}

#[test]
fn an_accepted_advert_withdraws_the_wish_for_master() {
    let clock = Clock::new();
    let (mut first, _) = pair(clock.at(0.0));
    let expiry = first.poll_timeout().unwrap();
    first.handle_timeout(expiry);
    assert!(first.wants_master());
    let mut master = Peer::new(first.config(), 200, "192.0.2.1");
    deliver(
        &mut first,
        expiry + Duration::from_millis(10),
        &master.advert(200),
    );
    assert!(!first.wants_master());
}

fn master_pair(clock: &Clock) -> (Instance, Instance, SyncGroup, Instant) {
    let (mut first, mut second) = pair(clock.at(0.0));
    let mut group = SyncGroup::new("G1");
    let expiry = first.poll_timeout().expect("a backup has a down timer");
    first.handle_timeout(expiry);
    second.handle_timeout(expiry);
    group.reconcile(expiry, &mut [&mut first, &mut second], None);
    assert_eq!(group.state(), GroupState::Master);
    (first, second, group, expiry)
}

#[test]
fn when_one_member_falls_back_to_backup_the_others_follow() {
    let clock = Clock::new();
    let (mut first, mut second, mut group, since) = master_pair(&clock);
    let mut better = Peer::new(first.config(), 200, "192.0.2.1");
    let now = since + Duration::from_millis(500);
    deliver(&mut first, now, &better.advert(200));
    assert_eq!(first.state(), State::Backup);

    let actions = group.reconcile(now, &mut [&mut first, &mut second], None);
    assert_eq!(
        actions.members,
        vec![(1, Action::RemoveVips), (1, Action::Notify(State::Backup))]
    );
    assert_eq!(actions.notify, Some(GroupState::Backup));
    assert_eq!(second.state(), State::Backup);
}

#[test]
fn a_member_fault_puts_the_whole_group_in_fault_until_it_recovers() {
    let clock = Clock::new();
    let (mut first, mut second, mut group, since) = master_pair(&clock);
    let down = since + Duration::from_millis(200);
    first.set_interface_up(down, false);
    let actions = group.reconcile(down, &mut [&mut first, &mut second], None);
    assert_eq!(
        actions.members,
        vec![
            (1, Action::SendAdvert { priority: 0 }),
            (1, Action::RemoveVips),
            (1, Action::Notify(State::Fault))
        ]
    );
    assert_eq!(actions.notify, Some(GroupState::Fault));
    assert!(!second.has_own_fault());

    let up = since + Duration::from_secs(3);
    assert_eq!(
        first.set_interface_up(up, true),
        vec![Action::Notify(State::Backup)]
    );
    let actions = group.reconcile(up, &mut [&mut first, &mut second], None);
    assert_eq!(actions.members, vec![(1, Action::Notify(State::Backup))]);
    assert_eq!(actions.notify, Some(GroupState::Backup));
    assert_eq!(
        (first.state(), second.state()),
        (State::Backup, State::Backup)
    );
}

#[test]
fn a_group_announces_its_first_state_once_and_stops_last() {
    let clock = Clock::new();
    let (first, second) = pair(clock.at(0.0));
    let mut group = SyncGroup::new("G1");
    assert_eq!(group.announce(&[&first, &second]), Some(GroupState::Backup));
    assert_eq!(group.announce(&[&first, &second]), None, "only once");
    assert_eq!(group.stop(), GroupState::Stop);
    assert_eq!(group.state().to_string(), "STOP");
}
