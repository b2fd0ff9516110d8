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
    /// Consecutive results against the current state.
    contrary: u32,
    pub next_run: Instant,
}

impl ScriptTracker {
    /// A check that starts in the good state unless `init_fail`, and first runs at once.
    pub fn new(script: VrrpScript, now: Instant) -> Self {
        Self {
            ok: !script.init_fail,
            script,
            contrary: 0,
            next_run: now,
        }
    }

    /// Takes one run's outcome; returns whether the state changed.
    pub fn record(&mut self, outcome: Outcome) -> bool {
        let name = &self.script.name;
        let succeeded = outcome.succeeded();
        if succeeded == self.ok {
            self.contrary = 0;
            return false;
        }
        match outcome {
            Outcome::TimedOut => info!("Script `{name}` now timed out"),
            Outcome::Exited(code) if !succeeded => {
                info!("Script `{name}` now returning {code}")
            }
            Outcome::Signalled(signal) => info!("Script `{name}` now killed by signal {signal}"),
            Outcome::Exited(_) => {}
        }
        self.contrary += 1;
        let needed = if self.ok {
            self.script.fall
        } else {
            self.script.rise
        };
        if self.contrary < needed.max(1) {
            return false;
        }
        self.ok = succeeded;
        self.contrary = 0;
        if succeeded {
            info!("VRRP_Script({name}) succeeded");
        } else {
            info!("VRRP_Script({name}) failed");
        }
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
