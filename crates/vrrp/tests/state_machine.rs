//! State transitions and the actions they ask for, as keepalived 2.2.7 behaves (see docs/vrrp.md).

mod common;

use std::time::Duration;

use common::*;
use vrrp::wire::Datagram;
use vrrp::{Action, DropReason, GarpConfig, InitialState, State};

#[test]
fn master_hearing_a_higher_priority_yields_at_once_without_an_advert() {
    let clock = Clock::new();
    let template = config(100);
    let (mut master, since) = master(template.clone(), &clock);
    let mut better = Peer::new(&template, 200, "192.0.2.1");
    let now = since + Duration::from_millis(300);
    assert_eq!(
        deliver(&mut master, now, &better.advert(200)),
        vec![Action::RemoveVips, Action::Notify(State::Backup)]
    );
    assert_eq!(master.state(), State::Backup);
    assert_eq!(
        master.poll_timeout(),
        Some(now + Duration::from_micros(3_609_375))
    );
    assert_eq!(master.statistics().release_master, 1);
}

#[test]
fn master_hearing_a_lower_priority_re_advertises_and_refreshes_arp_caches() {
    let clock = Clock::new();
    let template = config(200);
    let (mut master, since) = master(template.clone(), &clock);
    let mut worse = Peer::new(&template, 100, "192.0.2.1");
    let now = since + Duration::from_millis(400);
    assert_eq!(
        deliver(&mut master, now, &worse.advert(100)),
        vec![
            Action::SendAdvert { priority: 200 },
            Action::SendGratuitous { repeat: 5 },
            Action::MasterReceivedLowerPriority {
                from: worse.address()
            },
        ]
    );
    assert_eq!(master.state(), State::Master);
    // The advert timer restarts from the advert just sent.
    assert_eq!(master.poll_timeout(), Some(now + Duration::from_secs(1)));
}

#[test]
fn each_lower_priority_advert_schedules_its_own_delayed_garp_burst() {
    // Measured on keepalived 2.2.7: with a lower-priority peer advertising every second, the master answers each
    // advert with an advert and 5 GARPs, and 5 s after each, 5 GARPs again.
    let clock = Clock::new();
    let mut template = config(200);
    template.garp.master_delay = None;
    let (mut master, since) = master(template.clone(), &clock);
    let mut worse = Peer::new(&template, 100, "192.0.2.1");
    let heard: Vec<_> = (0..3u64)
        .map(|n| since + Duration::from_millis(400 + 1000 * n))
        .collect();
    let mut delayed_bursts = vec![];
    for at in &heard {
        while let Some(due) = master.poll_timeout().filter(|due| due < at) {
            master.handle_timeout(due);
        }
        deliver(&mut master, *at, &worse.advert(100));
    }
    while let Some(due) = master
        .poll_timeout()
        .filter(|due| *due <= since + Duration::from_secs(10))
    {
        if master
            .handle_timeout(due)
            .contains(&Action::SendGratuitous { repeat: 5 })
        {
            delayed_bursts.push(due);
        }
    }
    let five_seconds_later: Vec<_> = heard
        .iter()
        .map(|at| *at + Duration::from_secs(5))
        .collect();
    assert_eq!(delayed_bursts, five_seconds_later);
}

#[test]
fn lower_prio_no_advert_and_garp_settings_shape_the_answer_to_a_lower_priority() {
    let clock = Clock::new();
    let mut quiet = config(200);
    quiet.lower_priority_no_advert = true;
    quiet.garp.lower_priority_repeat = 0;
    let (mut master, since) = master(quiet.clone(), &clock);
    let mut worse = Peer::new(&quiet, 100, "192.0.2.1");
    let actions = deliver(
        &mut master,
        since + Duration::from_millis(400),
        &worse.advert(100),
    );
    assert_eq!(
        actions,
        vec![Action::MasterReceivedLowerPriority {
            from: worse.address()
        }]
    );
    assert_eq!(
        master.poll_timeout(),
        Some(since + Duration::from_secs(1)),
        "no advert sent, timer unchanged"
    );
}

#[test]
fn equal_priority_is_won_by_the_higher_primary_address() {
    let clock = Clock::new();
    let template = config(150);
    // We are 192.0.2.10.
    let (mut master, since) = master(template.clone(), &clock);
    let mut lower_address = Peer::new(&template, 150, "192.0.2.9");
    let actions = deliver(
        &mut master,
        since + Duration::from_millis(100),
        &lower_address.advert(150),
    );
    assert_eq!(actions.first(), Some(&Action::SendAdvert { priority: 150 }));
    assert_eq!(master.state(), State::Master);

    let mut higher_address = Peer::new(&template, 150, "192.0.2.11");
    let actions = deliver(
        &mut master,
        since + Duration::from_millis(200),
        &higher_address.advert(150),
    );
    assert_eq!(
        actions,
        vec![Action::RemoveVips, Action::Notify(State::Backup)]
    );
}

#[test]
fn master_hearing_priority_zero_answers_with_an_advert_and_stays() {
    let clock = Clock::new();
    let template = config(100);
    let (mut master, since) = master(template.clone(), &clock);
    let mut leaving = Peer::new(&template, 50, "192.0.2.1");
    let now = since + Duration::from_millis(700);
    assert_eq!(
        deliver(&mut master, now, &leaving.advert(0)),
        vec![Action::SendAdvert { priority: 100 }]
    );
    assert_eq!(master.poll_timeout(), Some(now + Duration::from_secs(1)));
}

#[test]
fn higher_prio_send_advert_sends_one_last_advert_before_yielding() {
    let clock = Clock::new();
    let mut template = config(100);
    template.higher_priority_send_advert = true;
    let (mut master, since) = master(template.clone(), &clock);
    let mut better = Peer::new(&template, 200, "192.0.2.1");
    assert_eq!(
        deliver(
            &mut master,
            since + Duration::from_millis(10),
            &better.advert(200)
        ),
        vec![
            Action::SendAdvert { priority: 100 },
            Action::RemoveVips,
            Action::Notify(State::Backup)
        ]
    );
}

#[test]
fn two_address_owners_clash_and_the_local_one_steps_down_to_254() {
    let clock = Clock::new();
    let mut owner = config(255);
    owner.initial_state = InitialState::Master;
    let mut instance = instance(owner.clone());
    instance.start(clock.at(0.0));
    let mut other_owner = Peer::new(&owner, 255, "192.0.2.1");
    assert_eq!(
        deliver(&mut instance, clock.at(0.5), &other_owner.advert(255)),
        vec![
            Action::PriorityChanged { priority: 254 },
            Action::RemoveVips,
            Action::Notify(State::Backup)
        ]
    );
    assert_eq!(instance.effective_priority(), 254);
}

#[test]
fn preempting_backup_discards_lower_priorities_and_lets_its_timer_run_out() {
    let clock = Clock::new();
    let template = config(200);
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    let mut old_master = Peer::new(&template, 100, "192.0.2.1");
    let takeover = clock.at_micros(3_218_750);
    for second in [0.5, 1.5, 2.5] {
        assert_eq!(
            deliver(&mut backup, clock.at(second), &old_master.advert(100)),
            vec![]
        );
        assert_eq!(
            backup.poll_timeout(),
            Some(takeover),
            "discarded advert must not reset the timer"
        );
    }
    assert_eq!(backup.handle_timeout(takeover), becoming_master(200, 5));
}

#[test]
fn nopreempt_backup_keeps_accepting_a_lower_priority_master() {
    let clock = Clock::new();
    let mut template = config(200);
    template.preempt = false;
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    let mut old_master = Peer::new(&template, 100, "192.0.2.1");
    for second in 0..20 {
        let now = clock.at(f64::from(second));
        deliver(&mut backup, now, &old_master.advert(100));
        assert_eq!(
            backup.poll_timeout(),
            Some(now + Duration::from_micros(3_218_750))
        );
        assert_eq!(backup.handle_timeout(now), vec![]);
    }
    assert_eq!(backup.state(), State::Backup);
}

#[test]
fn preempt_delay_accepts_lower_priorities_until_it_expires() {
    let clock = Clock::new();
    let mut template = config(200);
    template.preempt_delay = Duration::from_secs(5);
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    let mut old_master = Peer::new(&template, 100, "192.0.2.1");
    // The delay starts at the first lower-priority advert (t = 1), adverts accepted until t = 6 (excluded).
    for second in 1..=8u32 {
        let now = clock.at(f64::from(second));
        if backup
            .poll_timeout()
            .is_some_and(|deadline| deadline <= now)
        {
            break;
        }
        deliver(&mut backup, now, &old_master.advert(100));
    }
    let last_accepted = clock.at(5.0);
    let takeover = last_accepted + Duration::from_micros(3_218_750);
    assert_eq!(backup.poll_timeout(), Some(takeover));
    assert_eq!(
        backup.handle_timeout(takeover).first(),
        Some(&Action::SendAdvert { priority: 200 })
    );
}

#[test]
fn an_equal_or_higher_advert_cancels_a_running_preempt_delay() {
    let clock = Clock::new();
    let mut template = config(200);
    template.preempt_delay = Duration::from_secs(5);
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    let mut lower = Peer::new(&template, 100, "192.0.2.1");
    let mut higher = Peer::new(&template, 250, "192.0.2.2");
    deliver(&mut backup, clock.at(1.0), &lower.advert(100));
    deliver(&mut backup, clock.at(2.0), &higher.advert(250));
    // The delay starts again from the next lower-priority advert: accepted at t = 3 and t = 7.
    deliver(&mut backup, clock.at(3.0), &lower.advert(100));
    deliver(&mut backup, clock.at(7.0), &lower.advert(100));
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(7.0) + Duration::from_micros(3_218_750))
    );
}

#[test]
fn gratuitous_arps_burst_again_after_the_master_delay() {
    let clock = Clock::new();
    let (mut master, since) = master(config(100), &clock);
    let mut actions = vec![];
    while let Some(at) = master
        .poll_timeout()
        .filter(|at| *at <= since + Duration::from_secs(5))
    {
        for action in master.handle_timeout(at) {
            actions.push((at, action));
        }
    }
    let bursts: Vec<_> = actions
        .iter()
        .filter(|(_, action)| matches!(action, Action::SendGratuitous { .. }))
        .collect();
    assert_eq!(
        bursts,
        vec![&(
            since + Duration::from_secs(5),
            Action::SendGratuitous { repeat: 5 }
        )]
    );
}

#[test]
fn min_garp_sends_one_per_vip_and_no_second_burst() {
    let clock = Clock::new();
    let mut minimal = config(100);
    minimal.garp = GarpConfig::minimal();
    let mut backup = started_backup(minimal, clock.at(0.0));
    let deadline = backup.poll_timeout().unwrap();
    assert_eq!(backup.handle_timeout(deadline), becoming_master(100, 1));
    for n in 1..=10u64 {
        let actions = backup.handle_timeout(deadline + Duration::from_secs(n));
        assert_eq!(actions, vec![Action::SendAdvert { priority: 100 }]);
    }
}

#[test]
fn garp_refresh_repeats_while_master() {
    let clock = Clock::new();
    let mut refreshing = config(100);
    refreshing.garp.master_delay = Some(Duration::from_secs(3));
    refreshing.garp.master_repeat = 3;
    refreshing.garp.master_refresh = Some(Duration::from_secs(4));
    refreshing.garp.master_refresh_repeat = 2;
    let (mut master, since) = master(refreshing, &clock);
    let mut bursts = vec![];
    while let Some(at) = master
        .poll_timeout()
        .filter(|at| *at <= since + Duration::from_secs(12))
    {
        for action in master.handle_timeout(at) {
            if let Action::SendGratuitous { repeat } = action {
                bursts.push((at.duration_since(since).as_secs(), repeat));
            }
        }
    }
    // Measured on keepalived with these settings: bursts at +0, +3, +4, +8, +12 s.
    assert_eq!(bursts, vec![(3, 3), (4, 2), (8, 2), (12, 2)]);
}

#[test]
fn graceful_shutdown_of_a_master_sends_exactly_one_priority_zero_advert() {
    let clock = Clock::new();
    let (mut master, since) = master(config(100), &clock);
    let actions = master.shutdown(since + Duration::from_millis(10));
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips,
            Action::Notify(State::Stopped)
        ]
    );
    assert_eq!(master.state(), State::Stopped);
    assert_eq!(master.poll_timeout(), None);
    assert_eq!(master.statistics().pri_zero_sent, 1);
    assert_eq!(master.shutdown(since + Duration::from_millis(20)), vec![]);

    let mut backup = started_backup(config(100), clock.at(0.0));
    assert_eq!(
        backup.shutdown(clock.at(1.0)),
        vec![Action::Notify(State::Stopped)]
    );
}

#[test]
fn tracking_weights_adjust_the_priority_within_1_to_254() {
    let clock = Clock::new();
    let now = clock.at(0.0);
    let mut backup = started_backup(config(100), now);
    assert_eq!(
        backup.set_priority_adjustment(now, 60),
        vec![Action::PriorityChanged { priority: 160 }]
    );
    assert_eq!(backup.set_priority_adjustment(now, 60), vec![]);
    backup.set_priority_adjustment(now, 500);
    assert_eq!(backup.effective_priority(), 254);
    backup.set_priority_adjustment(now, -500);
    assert_eq!(backup.effective_priority(), 1);

    let mut owner = started_backup(config(255), now);
    assert_eq!(owner.set_priority_adjustment(now, -50), vec![]);
    assert_eq!(owner.effective_priority(), 255);
}

#[test]
fn a_master_losing_its_interface_goes_to_fault_with_a_priority_zero_advert() {
    let clock = Clock::new();
    let (mut master, since) = master(config(100), &clock);
    let down = since + Duration::from_millis(100);
    assert_eq!(
        master.set_interface_up(down, false),
        vec![
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips,
            Action::Notify(State::Fault)
        ]
    );
    assert_eq!(master.poll_timeout(), None);

    let mut peer = Peer::new(&config(100), 200, "192.0.2.1");
    let packet = peer.advert(200);
    assert_eq!(
        master.handle_datagram(down, &Datagram::Ipv4(&packet)),
        Err(DropReason::NotListening)
    );

    let up = since + Duration::from_secs(2);
    assert_eq!(
        master.set_interface_up(up, true),
        vec![Action::Notify(State::Backup)]
    );
    assert_eq!(
        master.poll_timeout(),
        Some(up + Duration::from_micros(3_609_375))
    );
}

#[test]
fn a_fault_lasts_while_any_of_its_causes_does() {
    let clock = Clock::new();
    let now = clock.at(1.0);
    let mut backup = started_backup(config(100), clock.at(0.0));
    assert_eq!(
        backup.set_tracker_fault(now, true),
        vec![Action::Notify(State::Fault)]
    );
    assert_eq!(backup.set_interface_up(now, false), vec![]);
    assert_eq!(backup.set_tracker_fault(now, false), vec![]);
    assert_eq!(backup.state(), State::Fault);
    assert_eq!(
        backup.set_interface_up(now, true),
        vec![Action::Notify(State::Backup)]
    );
}

#[test]
fn an_instance_starting_with_its_interface_down_starts_in_fault() {
    let clock = Clock::new();
    let mut instance = instance(config(100));
    instance.set_interface_up(clock.at(0.0), false);
    assert_eq!(
        instance.start(clock.at(0.0)),
        vec![Action::RemoveVips, Action::Notify(State::Fault)]
    );
    assert_eq!(instance.state(), State::Fault);
}

#[test]
fn an_address_owner_leaving_fault_becomes_master_at_once() {
    let clock = Clock::new();
    let mut owner = config(255);
    owner.initial_state = InitialState::Master;
    let mut instance = instance(owner);
    instance.start(clock.at(0.0));
    instance.set_interface_up(clock.at(1.0), false);
    assert_eq!(
        instance.set_interface_up(clock.at(2.0), true),
        becoming_master(255, 5)
    );
}

#[test]
fn skip_check_adv_addr_spares_only_the_current_master() {
    let clock = Clock::new();
    let mut template = config(100);
    template.skip_check_advert_addresses = true;
    let mut backup = started_backup(template.clone(), clock.at(0.0));

    let mut two_vips = template.clone();
    two_vips.virtual_addresses.push(ip("192.0.2.101"));
    let mut master = Peer::new(&two_vips, 200, "192.0.2.1");
    let mut stranger = Peer::new(&two_vips, 200, "192.0.2.2");
    let mut master_as_configured = Peer::new(&template, 200, "192.0.2.1");

    // Nobody is master yet as far as the backup knows: full check.
    let drop = backup.handle_datagram(clock.at(0.5), &Datagram::Ipv4(&master.advert(200)));
    assert_eq!(
        drop,
        Err(DropReason::AddressCount {
            received: 2,
            expected: 1
        })
    );
    // Once 192.0.2.1 is the master, its adverts are not checked against our VIPs...
    deliver(
        &mut backup,
        clock.at(1.0),
        &master_as_configured.advert(200),
    );
    assert_eq!(
        deliver(&mut backup, clock.at(2.0), &master.advert(200)),
        vec![]
    );
    assert_eq!(
        backup.poll_timeout(),
        Some(clock.at(2.0) + Duration::from_micros(3_609_375))
    );
    // ...but anybody else's still are.
    let drop = backup.handle_datagram(clock.at(2.5), &Datagram::Ipv4(&stranger.advert(200)));
    assert_eq!(
        drop,
        Err(DropReason::AddressCount {
            received: 2,
            expected: 1
        })
    );
}

#[test]
fn a_vip_list_mismatch_makes_the_backup_ignore_the_master() {
    // Measured on keepalived after reloading one peer with a new VIP: the other one rejects every advert and
    // becomes master one down interval later (split brain).
    let clock = Clock::new();
    let template = config(100);
    let mut backup = started_backup(template.clone(), clock.at(0.0));
    let mut other_vip = template.clone();
    other_vip.virtual_addresses = vec![ip("192.0.2.200")];
    let mut master = Peer::new(&other_vip, 200, "192.0.2.1");
    for second in [0.5, 1.5, 2.5, 3.5] {
        let drop = backup.handle_datagram(clock.at(second), &Datagram::Ipv4(&master.advert(200)));
        assert_eq!(drop, Err(DropReason::AddressMissing(ip(VIP))));
    }
    assert_eq!(backup.poll_timeout(), Some(clock.at_micros(3_609_375)));
    assert_eq!(backup.statistics().addr_list_err, 4);
    assert_eq!(
        backup.statistics().advert_rcvd,
        4,
        "keepalived counts them as received adverts"
    );
}

#[test]
fn reloading_a_master_keeps_it_master_with_two_adverts_and_no_garp() {
    let clock = Clock::new();
    let template = config(200);
    let (mut master, since) = master(template.clone(), &clock);
    let now = since + Duration::from_millis(400);
    assert_eq!(
        master.reload(now, template.clone()),
        Ok(vec![
            Action::SendAdvert { priority: 200 },
            Action::SendAdvert { priority: 200 }
        ])
    );
    assert_eq!(master.state(), State::Master);
    assert_eq!(
        master.poll_timeout(),
        Some(now + Duration::from_secs(1)),
        "adverts on a new phase"
    );

    let mut more_vips = template.clone();
    more_vips.virtual_addresses.push(ip("192.0.2.101"));
    assert_eq!(
        master.reload(now, more_vips.clone()),
        Ok(vec![
            Action::SendAdvert { priority: 200 },
            Action::SendAdvert { priority: 200 },
            Action::AddVips,
            Action::SendGratuitous { repeat: 5 },
        ])
    );
    assert_eq!(master.advertisement(200).addresses.len(), 2);

    let mut other_vrid = more_vips;
    other_vrid.vrid = 52;
    assert_eq!(
        master.reload(now, other_vrid),
        Err(vrrp::ConfigError::ReloadChangesIdentity)
    );
}

#[test]
fn reloading_a_backup_changes_nothing_on_the_wire() {
    let clock = Clock::new();
    let mut backup = started_backup(config(100), clock.at(0.0));
    let deadline = backup.poll_timeout();
    let mut higher = config(100);
    higher.priority = 150;
    assert_eq!(
        backup.reload(clock.at(1.0), higher),
        Ok(vec![Action::PriorityChanged { priority: 150 }])
    );
    assert_eq!(backup.state(), State::Backup);
    assert_eq!(backup.poll_timeout(), deadline);
}
