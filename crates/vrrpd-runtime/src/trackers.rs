//! `vrrp_script` checks: run every `interval`, killed after `timeout`, their result turned into a state with
//! `rise` and `fall`; and how a tracker's state and weight change an instance (FAULT for weight 0, else a
//! priority adjustment).

use std::time::Instant;

use keepalived_config::model::VrrpScript;
use log::info;

use crate::scripts::Outcome;

pub struct ScriptTracker {
    pub script: VrrpScript,
    /// The state instances see.
    pub ok: bool,
    /// keepalived's `result`: 0 ..= rise - 1 bad, rise ..= rise + fall - 1 good; a change of state is
    /// reported when it crosses `rise`.
    result: u32,
    /// No run has ended yet since the start (or since a reload brought the script in).
    first_run: bool,
    /// The exit status last seen (keepalived logs each change).
    last_status: i32,
    pub next_run: Instant,
}

impl ScriptTracker {
    /// A check that starts in the good state unless `init_fail`, and first runs at once.
    pub fn new(script: VrrpScript, now: Instant) -> Self {
        let result = if script.init_fail {
            0
        } else {
            script.rise.max(1) - 1
        };
        Self {
            ok: !script.init_fail,
            script,
            result,
            first_run: true,
            last_status: 0,
            next_run: now,
        }
    }

    /// On reload: the same script of the running configuration hands on its state, as keepalived does
    /// ("VRRP_Script(chk) considered successful on reload"), unless it has not run yet.
    pub fn carry_over(&mut self, old: &ScriptTracker) {
        if old.first_run {
            return;
        }
        let (rise, fall) = (self.script.rise.max(1), self.script.fall.max(1));
        let (old_rise, old_fall) = (old.script.rise.max(1), old.script.fall.max(1));
        let name = &self.script.name;
        if old.result < old_rise {
            self.result = (rise + old.result).saturating_sub(old_rise);
            info!("VRRP_Script({name}) considered unsuccessful on reload");
        } else {
            self.result = if old.result == old_rise + old_fall - 1 {
                rise + fall - 1
            } else {
                (rise + old.result - old_rise).min(rise + fall - 1)
            };
            info!("VRRP_Script({name}) considered successful on reload");
        }
        self.ok = old.ok;
        self.last_status = old.last_status;
        self.first_run = false;
        self.next_run = old.next_run;
    }

    /// Takes one run's outcome, with keepalived's rise/fall counting and lines; returns whether the state
    /// instances see changed.
    pub fn record(&mut self, outcome: Outcome) -> bool {
        let name = &self.script.name;
        let (rise, fall) = (self.script.rise.max(1), self.script.fall.max(1));
        let (succeeded, kind, reason) = match outcome {
            Outcome::Exited(status) => {
                if status != self.last_status {
                    info!("Script `{name}` now returning {status}");
                }
                self.last_status = status;
                if status == 0 {
                    (true, "succeeded", None)
                } else {
                    (false, "failed", Some(("exited with status", status)))
                }
            }
            Outcome::TimedOut => (false, "timed_out", None),
            Outcome::Signalled(signal) => (false, "failed", Some(("due to signal", signal))),
        };
        let first_run = std::mem::replace(&mut self.first_run, false);
        let mut reported = false;
        if succeeded {
            if self.result < rise - 1 {
                self.result += 1;
            } else if self.result != rise + fall - 1 {
                if self.result < rise {
                    info!("VRRP_Script({name}) {kind}");
                    reported = true;
                }
                self.result = rise + fall - 1;
            }
        } else if self.result > rise {
            self.result -= 1;
        } else {
            if self.result == rise || first_run {
                match reason {
                    Some((why, code)) => info!("VRRP_Script({name}) {kind} ({why} {code})"),
                    None => info!("VRRP_Script({name}) {kind}"),
                }
                reported = true;
            }
            self.result = 0;
        }
        if !reported || self.ok == succeeded {
            return false;
        }
        self.ok = succeeded;
        true
    }
}

/// What one tracker does to an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contribution {
    /// A weight-0 tracker failed: the instance goes to FAULT.
    Fault,
    /// Added to the priority.
    Adjust(i32),
}

/// keepalived's rule: a positive weight is added while the tracker is good, a negative one while it is bad;
/// `reverse` swaps the sign of both; weight 0 means FAULT while bad.
pub fn contribution(weight: i32, reverse: bool, ok: bool) -> Contribution {
    if weight == 0 {
        return if ok {
            Contribution::Adjust(0)
        } else {
            Contribution::Fault
        };
    }
    let applies = if weight > 0 { ok } else { !ok };
    Contribution::Adjust(match (applies, reverse) {
        (false, _) => 0,
        (true, false) => weight,
        (true, true) => -weight,
    })
}

/// What a BFD session does to an instance tracking it (keepalived's `initialise_track_bfd_state` and
/// `vrrp_handle_bfd_event`): weighted like a script; unweighted, FAULT while down, or with `reverse`
/// while up.
pub fn bfd_contribution(weight: i32, reverse: bool, up: bool) -> Contribution {
    let ok = if weight == 0 && reverse { !up } else { up };
    contribution(weight, reverse, ok)
}

/// What a `track_file` holding `value` does to an instance (keepalived's
/// `process_update_vrrp_track_file_status`): with weight 0 a non-zero value is FAULT (with `reverse`,
/// zero is); otherwise value × weight (negated with `reverse`) is added, kept within −254..=253, and
/// −254 is FAULT.
pub fn file_contribution(value: i64, weight: i32, reverse: bool) -> Contribution {
    if weight == 0 {
        return if (value != 0) != reverse {
            Contribution::Fault
        } else {
            Contribution::Adjust(0)
        };
    }
    let sign = if reverse { -1 } else { 1 };
    let status = value
        .saturating_mul(i64::from(weight))
        .saturating_mul(sign)
        .clamp(-254, 253);
    if status == -254 {
        Contribution::Fault
    } else {
        // Within -253..=253 after the clamp.
        Contribution::Adjust(status as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::model::Script;
    use std::time::Duration;

    fn tracker(rise: u32, fall: u32) -> ScriptTracker {
        let script = VrrpScript {
            name: "chk".into(),
            script: Script {
                text: "/bin/true".into(),
                argv: vec!["/bin/true".into()],
                user: None,
            },
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            weight: 0,
            weight_reverse: false,
            rise,
            fall,
            user: None,
            init_fail: false,
            position: None,
        };
        ScriptTracker::new(script, Instant::now())
    }

    #[test]
    fn fall_failures_in_a_row_make_it_fail_and_rise_successes_recover() {
        let mut t = tracker(2, 3);
        assert!(
            !t.record(Outcome::Exited(0)),
            "the first success confirms the state"
        );
        assert!(!t.record(Outcome::Exited(1)));
        assert!(!t.record(Outcome::Exited(1)));
        assert!(!t.record(Outcome::Exited(0)), "a success resets the count");
        assert!(!t.record(Outcome::Exited(1)));
        assert!(!t.record(Outcome::TimedOut));
        assert!(t.record(Outcome::Exited(1)));
        assert!(!t.ok);
        assert!(!t.record(Outcome::Exited(0)));
        assert!(t.record(Outcome::Exited(0)));
        assert!(t.ok);
    }

    #[test]
    fn the_first_run_failing_fails_at_once_as_in_keepalived() {
        let mut t = tracker(2, 3);
        assert!(t.record(Outcome::Exited(1)));
        assert!(!t.ok);
    }

    #[test]
    fn a_reload_hands_on_the_state_of_a_script_that_has_run() {
        let mut old = tracker(1, 1);
        assert!(old.record(Outcome::Exited(2)));
        let mut new = tracker(1, 1);
        new.carry_over(&old);
        assert!(!new.ok);
        assert!(!new.record(Outcome::Exited(2)), "no change, no line");
        assert!(new.record(Outcome::Exited(0)));
        let fresh = tracker(1, 1);
        let mut after_fresh = tracker(1, 1);
        after_fresh.carry_over(&fresh);
        assert!(
            after_fresh.record(Outcome::Exited(1)),
            "a script that had not run yet starts over"
        );
    }

    #[test]
    fn weights_apply_like_keepalived() {
        assert_eq!(contribution(0, false, true), Contribution::Adjust(0));
        assert_eq!(contribution(0, false, false), Contribution::Fault);
        assert_eq!(contribution(10, false, true), Contribution::Adjust(10));
        assert_eq!(contribution(10, false, false), Contribution::Adjust(0));
        assert_eq!(contribution(-10, false, false), Contribution::Adjust(-10));
        assert_eq!(contribution(-10, false, true), Contribution::Adjust(0));
        assert_eq!(contribution(10, true, true), Contribution::Adjust(-10));
        assert_eq!(contribution(-10, true, false), Contribution::Adjust(10));
    }

    #[test]
    fn bfd_sessions_apply_like_keepalived() {
        assert_eq!(bfd_contribution(0, false, true), Contribution::Adjust(0));
        assert_eq!(bfd_contribution(0, false, false), Contribution::Fault);
        assert_eq!(bfd_contribution(0, true, true), Contribution::Fault);
        assert_eq!(bfd_contribution(0, true, false), Contribution::Adjust(0));
        assert_eq!(
            bfd_contribution(-100, false, false),
            Contribution::Adjust(-100)
        );
        assert_eq!(bfd_contribution(-100, false, true), Contribution::Adjust(0));
        assert_eq!(bfd_contribution(20, false, true), Contribution::Adjust(20));
        assert_eq!(bfd_contribution(20, true, true), Contribution::Adjust(-20));
    }

    #[test]
    fn track_files_apply_like_keepalived() {
        assert_eq!(file_contribution(0, 0, false), Contribution::Adjust(0));
        assert_eq!(file_contribution(3, 0, false), Contribution::Fault);
        assert_eq!(file_contribution(-1, 0, false), Contribution::Fault);
        assert_eq!(file_contribution(0, 0, true), Contribution::Fault);
        assert_eq!(file_contribution(5, 0, true), Contribution::Adjust(0));
        assert_eq!(file_contribution(3, 10, false), Contribution::Adjust(30));
        assert_eq!(file_contribution(3, 10, true), Contribution::Adjust(-30));
        assert_eq!(file_contribution(-3, -10, false), Contribution::Adjust(30));
        assert_eq!(file_contribution(100, 10, false), Contribution::Adjust(253));
        assert_eq!(
            file_contribution(-25, 10, false),
            Contribution::Adjust(-250)
        );
        assert_eq!(file_contribution(-26, 10, false), Contribution::Fault);
        assert_eq!(
            file_contribution(i64::from(i32::MIN), 254, false),
            Contribution::Fault
        );
    }
}
