//! Exact deadlines of the RFC timers as keepalived 2.2.7 runs them, with a fake clock.

mod common;

use std::time::Duration;

use common::*;
use vrrp::wire::AdvertInterval;
use vrrp::{Action, InitialState, State};

#[test]
fn backup_v2_priority_100_takes_over_3_609375_s_after_the_last_advert() {
    let clock = Clock::new();
    let template = config(100);
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    let mut master = Peer::new(&template, 200, "192.0.2.1");

    deliver(&mut backup, clock.at(0.5), &master.advert(200));
    deliver(&mut backup, clock.at(1.5), &master.advert(200));
    let last_advert = clock.at(1.5);
    let takeover = last_advert + Duration::from_micros(3_609_375);
    assert_eq!(backup.poll_timeout(), Some(takeover));

    assert_eq!(
        backup.handle_timeout(takeover - Duration::from_micros(1)),
        vec![]
    );
    assert_eq!(backup.state(), State::Backup);
    assert_eq!(backup.handle_timeout(takeover), becoming_master(100, 5));
    assert_eq!(
        backup.poll_timeout(),
        Some(takeover + Duration::from_secs(1)),
        "next advert in advert_int"
    );
}

#[test]
fn first_down_timer_runs_from_start_up() {
    let clock = Clock::new();
    let backup = started_backup(config(100), clock.at(0.0));
    assert_eq!(backup.poll_timeout(), Some(clock.at_micros(3_609_375)));
    // Measured: `state BACKUP` priority 255 alone becomes master after 3 + 1/256 s.
    let owner = started_backup(config(255), clock.at(0.0));
    assert_eq!(owner.poll_timeout(), Some(clock.at_micros(3_003_906)));
}

#[test]
fn priority_zero_advert_leaves_only_skew_time() {
    let clock = Clock::new();
    let template = config(100);
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    let mut master = Peer::new(&template, 200, "192.0.2.1");
    deliver(&mut backup, clock.at(1.0), &master.advert(200));
    assert_eq!(
        deliver(&mut backup, clock.at(1.2), &master.advert(0)),
        vec![]
    );
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(1.2) + Duration::from_micros(609_375))
    );
    assert_eq!(backup.statistics().pri_zero_rcvd, 1);
}

#[test]
fn v2_skew_is_in_seconds_whatever_the_interval() {
    let clock = Clock::new();
    let mut slow = config(100);
    slow.advert_interval = AdvertInterval::from_seconds(2);
    let backup = started_backup(slow, clock.at(0.0));
    // Measured on keepalived 2.2.7: 6.609 s, not 6 + 2 × 0.609.
    assert_eq!(backup.skew_time(), Duration::from_micros(609_375));
    assert_eq!(backup.poll_timeout(), Some(clock.at_micros(6_609_375)));
}

#[test]
fn v3_skew_scales_with_the_interval_truncated_to_microseconds() {
    let clock = Clock::new();
    let template = v3_config(100, 10);
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    // 156/256 × 0.1 s = 60 937.5 µs, truncated like keepalived's integer microseconds.
    assert_eq!(backup.skew_time(), Duration::from_micros(60_937));
    assert_eq!(
        backup.master_down_interval(),
        Duration::from_micros(360_937)
    );

    let mut master = Peer::new(&template, 200, "192.0.2.1");
    deliver(&mut backup, clock.at(0.25), &master.advert(200));
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(0.25) + Duration::from_micros(360_937))
    );
    deliver(&mut backup, clock.at(0.3), &master.advert(0));
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(0.3) + Duration::from_micros(60_937))
    );
}

#[test]
fn v3_backup_times_the_master_by_the_master_s_interval() {
    let clock = Clock::new();
    let mut backup = started_backup(v3_config(100, 10), clock.at(0.0));
    let mut slow_master = Peer::new(&v3_config(200, 50), 200, "192.0.2.1");
    deliver(&mut backup, clock.at(0.1), &slow_master.advert(200));
    assert_eq!(
        backup.master_advert_interval(),
        AdvertInterval::from_centiseconds(50)
    );
    // 3 × 0.5 s + 156/256 × 0.5 s.
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(0.1) + Duration::from_micros(1_804_687))
    );

    // As master it advertises at its own interval again.
    let deadline = backup.poll_timeout().unwrap();
    backup.handle_timeout(deadline);
    assert_eq!(
        backup.master_advert_interval(),
        AdvertInterval::from_centiseconds(10)
    );
    assert_eq!(
        backup.poll_timeout(),
        Some(deadline + Duration::from_millis(100))
    );
}

#[test]
fn down_timer_adverts_replaces_the_three() {
    let clock = Clock::new();
    let mut patient = config(100);
    patient.down_timer_adverts = 5;
    let backup = started_backup(patient, clock.at(0.0));
    assert_eq!(backup.poll_timeout(), Some(clock.at_micros(5_609_375)));
}

#[test]
fn master_advertises_every_interval() {
    let clock = Clock::new();
    let (mut master, since) = master(config(100), &clock);
    for n in 1..=3u32 {
        let due = since + Duration::from_secs(u64::from(n));
        assert_eq!(master.poll_timeout(), Some(due));
        assert_eq!(
            master.handle_timeout(due),
            vec![Action::SendAdvert { priority: 100 }]
        );
    }
    assert_eq!(master.statistics().advert_sent, 4);
}

#[test]
fn skew_follows_the_effective_priority() {
    let clock = Clock::new();
    let mut backup = started_backup(config(100), clock.at(0.0));
    backup.set_priority_adjustment(clock.at(0.0), 100);
    assert_eq!(backup.effective_priority(), 200);
    assert_eq!(backup.skew_time(), Duration::from_micros(218_750));
}

#[test]
fn a_priority_255_owner_configured_master_starts_as_master_at_once() {
    let clock = Clock::new();
    let mut owner = config(255);
    owner.initial_state = InitialState::Master;
    let mut instance = instance(owner);
    assert_eq!(instance.start(clock.at(0.0)), becoming_master(255, 5));
    assert_eq!(instance.poll_timeout(), Some(clock.at(1.0)));

    // Below 255, `state MASTER` is only a hint: BACKUP first, like `state BACKUP`.
    let mut hint = config(200);
    hint.initial_state = InitialState::Master;
    let mut instance = common::instance(hint);
    assert_eq!(
        instance.start(clock.at(0.0)),
        vec![Action::RemoveVips, Action::Notify(State::Backup)]
    );
    assert_eq!(instance.poll_timeout(), Some(clock.at_micros(3_218_750)));
}

#[test]
fn startup_delay_counts_down_timers_from_its_end() {
    let clock = Clock::new();
    let template = config(100);
    let mut backup = instance(template.clone());
    backup.delay_start(clock.at(10.0));
    backup.start(clock.at(0.0));
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(10.0) + Duration::from_micros(3_609_375)),
        "the first down timer counts from the end of the delay"
    );
    // An advert heard during the delay re-arms from the delay's end too; after it, from now.
    let mut master = Peer::new(&template, 200, "192.0.2.1");
    deliver(&mut backup, clock.at(5.0), &master.advert(200));
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(10.0) + Duration::from_micros(3_609_375))
    );
    deliver(&mut backup, clock.at(11.0), &master.advert(200));
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(11.0) + Duration::from_micros(3_609_375))
    );

    // An address owner configured MASTER waits for the delay, then takes over at once.
    let mut owner_config = config(255);
    owner_config.initial_state = InitialState::Master;
    let mut owner = instance(owner_config);
    owner.delay_start(clock.at(2.0));
    owner.start(clock.at(0.0));
    assert_eq!(owner.state(), State::Backup);
    assert_eq!(owner.poll_timeout(), Some(clock.at(2.0)));
    owner.handle_timeout(clock.at(2.0));
    assert_eq!(owner.state(), State::Master);
}
