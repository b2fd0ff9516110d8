//! `vrrp_sync_group`: instances that change state together, as keepalived 2.2.7 moves them.
//!
//! * A member in FAULT of its own puts every other member in FAULT; they all leave it together.
//! * A member whose down timer ran out only *wants* MASTER ([`Instance::wants_master`]): the group becomes MASTER
//!   when every member wants it (keepalived prefers BACKUP "to avoid thrashing"), and then all members go.
//! * When one member of a MASTER group falls back to BACKUP (it heard a higher priority), the others follow.
//!
//! The daemon calls [`SyncGroup::reconcile`] after every input it gives to any member, [`SyncGroup::announce`]
//! before its members start and [`SyncGroup::stop`] after they stopped, which gives keepalived's order of
//! notifications: the group's first state before its members', its STOP after theirs.

use std::fmt;
use std::time::Instant;

use crate::action::{Action, State};
use crate::instance::Instance;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupState {
    Backup,
    Master,
    Fault,
    /// The daemon is stopping.
    Stop,
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GroupState::Backup => "BACKUP",
            GroupState::Master => "MASTER",
            GroupState::Fault => "FAULT",
            GroupState::Stop => "STOP",
        })
    }
}

/// What reconciling asks of the daemon.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupActions {
    /// Actions of the members, by index in the slice given to [`SyncGroup::reconcile`], in order.
    pub members: Vec<(usize, Action)>,
    /// The group's own notify (`notify_master` etc. of the `vrrp_sync_group`), when its state changed.
    pub notify: Option<GroupState>,
}

#[derive(Clone, Debug)]
pub struct SyncGroup {
    name: String,
    state: GroupState,
    /// Whether a state was reported yet: keepalived's groups start in INIT, so their first state (BACKUP at
    /// start-up) is notified too.
    reported: bool,
}

impl SyncGroup {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            state: GroupState::Backup,
            reported: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn state(&self) -> GroupState {
        self.state
    }

    /// The group's first state, before its members start: FAULT if one of them is faulty, else BACKUP
    /// (keepalived notifies it before any member's). `None` once a state was reported (a group kept over a
    /// reload notifies nothing).
    pub fn announce(&mut self, members: &[&Instance]) -> Option<GroupState> {
        if self.reported {
            return None;
        }
        self.state = if members.iter().any(|member| member.has_own_fault()) {
            GroupState::Fault
        } else {
            GroupState::Backup
        };
        self.reported = true;
        Some(self.state)
    }

    /// The daemon stops: the state to notify once the members have notified theirs.
    pub fn stop(&mut self) -> GroupState {
        self.state = GroupState::Stop;
        GroupState::Stop
    }

    /// Brings the members (all of them, each built with `in_sync_group`) into line with each other.
    /// `trigger` is the member whose input led here: when the group goes MASTER it goes first, as in
    /// keepalived, where the last member to want MASTER takes the others with it.
    pub fn reconcile(
        &mut self,
        now: Instant,
        members: &mut [&mut Instance],
        trigger: Option<usize>,
    ) -> GroupActions {
        let mut actions = GroupActions::default();
        let run = |actions: &mut GroupActions, index: usize, produced: Vec<Action>| {
            actions
                .members
                .extend(produced.into_iter().map(|action| (index, action)));
        };

        let faulty = members.iter().any(|member| member.has_own_fault());
        // keepalived's line comes after the member that changed and before the others follow it.
        if faulty && self.state != GroupState::Fault {
            log::info!("VRRP_Group({}) Syncing instances to FAULT state", self.name);
        } else if !faulty && self.state == GroupState::Fault && any_in(members, State::Fault) {
            log::info!(
                "VRRP_Group({}) Syncing instances to BACKUP state",
                self.name
            );
        }
        for (index, member) in members.iter_mut().enumerate() {
            let imposed = faulty && !member.has_own_fault();
            run(
                &mut actions,
                index,
                member.set_sync_group_fault(now, imposed),
            );
        }

        let new_state = if faulty {
            GroupState::Fault
        } else if self.state == GroupState::Master && any_in(members, State::Backup) {
            log::info!(
                "VRRP_Group({}) Syncing instances to BACKUP state",
                self.name
            );
            for (index, member) in members.iter_mut().enumerate() {
                run(&mut actions, index, member.force_backup(now));
            }
            GroupState::Backup
        } else if running(members).all(|member| member.wants_master())
            && any_in(members, State::Backup)
        {
            let first = trigger.filter(|&index| index < members.len());
            if let Some(index) = first {
                run(&mut actions, index, members[index].force_master(now));
            }
            log::info!(
                "VRRP_Group({}) Syncing instances to MASTER state",
                self.name
            );
            for index in (0..members.len()).filter(|&index| Some(index) != first) {
                run(&mut actions, index, members[index].force_master(now));
            }
            GroupState::Master
        } else if any_in(members, State::Master) && !any_in(members, State::Backup) {
            GroupState::Master
        } else {
            GroupState::Backup
        };

        if new_state != self.state || !self.reported {
            self.state = new_state;
            self.reported = true;
            actions.notify = Some(new_state);
        }
        actions
    }
}

/// The members not shut down.
fn running<'a>(members: &'a [&mut Instance]) -> impl Iterator<Item = &'a Instance> {
    members
        .iter()
        .map(|member| &**member)
        .filter(|member| member.state() != State::Stopped)
}

fn any_in(members: &[&mut Instance], state: State) -> bool {
    running(members).any(|member| member.state() == state)
}
