//! `FILE_CHECK` as keepalived 2.2.7 runs it (`check_file.c`, `track_file.c`): no schedule, the
//! file is read at start and again whenever it is written, moved or deleted. Its content is a
//! number (`strtol` with base 0; a missing or empty file reads 0), read by
//! `vrrpd_runtime::track_files`, which the VRRP side's `track_file` shares.
//!
//! - with weight 0 a non-zero number means failed (with `reverse`, zero means failed);
//! - otherwise number × weight (× −1 with `reverse`) is added to the real server's weight, and a
//!   result at or below `i32::MIN` (keepalived's `IPVS_WEIGHT_FAULT`) means failed.
//!
//! A change between two good states moves the weight by the difference; entering the failed
//! state takes the checker's part of the weight out, leaving it puts the new part in.
//!
//! At start and on reload keepalived applies a value by other rules than on a change
//! ([`initial`], [`at_reload`]).

/// keepalived's `IPVS_WEIGHT_FAULT`: the status of a failed checker.
const FAULT: i64 = i32::MIN as i64;

/// The status of a file value for one checker: keepalived's `update_track_file_status`, clamped
/// to an `int` as its `weight_range` does. `i32::MIN` is the failed state.
pub fn status(value: i64, weight: i32, reverse: bool) -> i64 {
    if weight == 0 {
        return if (value != 0) != reverse { FAULT } else { 0 };
    }
    product(value, weight, reverse).clamp(FAULT, i64::from(i32::MAX))
}

/// number × weight, negated with `reverse`: what a weighted checker adds to the weight.
fn product(value: i64, weight: i32, reverse: bool) -> i64 {
    let sign = if reverse { -1 } else { 1 };
    value.saturating_mul(i64::from(weight)).saturating_mul(sign)
}

/// Whether a status is the failed state.
pub fn is_fault(status: i64) -> bool {
    status <= FAULT
}

/// What a new value of the file does to the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing.
    None,
    /// The checker fails; its part of the weight is taken out.
    Down,
    /// The checker recovers, adding this much to the weight.
    Up(i64),
    /// The real server's effective weight moves by this much.
    Weight(i64),
}

/// The change from the value last read to a new one, for a checker with `weight`/`reverse`.
pub fn change(previous: i64, new: i64, weight: i32, reverse: bool) -> Change {
    if previous == new {
        return Change::None;
    }
    let before = status(previous, weight, reverse);
    let after = status(new, weight, reverse);
    if before == after {
        Change::None
    } else if is_fault(after) {
        Change::Down
    } else if is_fault(before) {
        Change::Up(after)
    } else {
        Change::Weight(after - before)
    }
}

/// The state a checker starts with from the value read at start: whether it is good, and what
/// it adds to the real server's weight. keepalived (`set_track_file_weights`,
/// `set_track_file_checkers_down`, `init_service_rs`) fails a checker at start only for a
/// non-zero value — with weight 0 whatever `reverse` says — and adds the weight even when the
/// checker starts failed.
pub fn initial(value: i64, weight: i32, reverse: bool) -> (bool, i64) {
    if value == 0 {
        return (true, 0);
    }
    if weight == 0 {
        return (false, 0);
    }
    let contribution = product(value, weight, reverse);
    (!is_fault(contribution), contribution)
}

/// What a reload makes of a checker's file. keepalived creates every FILE_CHECK anew on reload,
/// good, and then (`set_track_file_checkers_down`) moves it as if its file had just changed
/// from 0 to its value, for a weight of 0 or a failing product only: the checker fails (with
/// the lines and scripts of a failure), or is said to leave the failed state, or is left good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtReload {
    /// Good, adding this much to the weight.
    Good(i64),
    /// Failed (`now FAULT state`), adding nothing.
    Fault,
    /// Good, said to leave the failed state (`leaving FAULT state`), adding nothing.
    LeavingFault,
}

/// A checker's standing after a reload from the value read then.
pub fn at_reload(value: i64, weight: i32, reverse: bool) -> AtReload {
    let contribution = if weight == 0 {
        0
    } else {
        product(value, weight, reverse)
    };
    if value == 0 || (weight != 0 && !is_fault(contribution)) {
        return AtReload::Good(contribution);
    }
    // keepalived compares the status of 0 with "failed unless reversed".
    let before_fault = weight == 0 && reverse;
    let after_fault = !reverse;
    match (before_fault, after_fault) {
        (false, true) => AtReload::Fault,
        (true, false) => AtReload::LeavingFault,
        _ => AtReload::Good(contribution),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_zero_fails_on_non_zero() {
        assert!(!is_fault(status(0, 0, false)));
        assert!(is_fault(status(3, 0, false)));
        assert!(is_fault(status(-1, 0, false)));
        assert!(is_fault(status(0, 0, true)));
        assert!(!is_fault(status(3, 0, true)));
    }

    #[test]
    fn weighted_values_move_the_weight_and_fail_at_the_bottom_of_an_int() {
        assert_eq!(status(3, 2, false), 6);
        assert_eq!(status(3, 2, true), -6);
        // Far below any weight, and still not failed (keepalived 2.2.7 seen in the VM: the real
        // server stays, at weight 0).
        assert_eq!(status(-40_000, 2, false), -80_000);
        assert!(!is_fault(status(-40_000, 2, false)));
        assert!(is_fault(status(i64::from(i32::MIN), 1, false)));
        assert!(is_fault(status(-1_073_741_824, 2, false)));
        assert!(!is_fault(status(-1_073_741_823, 2, false)));
        assert_eq!(status(40_000, 2, false), 80_000);
        assert_eq!(status(1 << 40, 1, false), i64::from(i32::MAX));
    }

    #[test]
    fn changes_follow_keepalived() {
        assert_eq!(change(0, 0, 0, false), Change::None);
        assert_eq!(change(0, 1, 0, false), Change::Down);
        assert_eq!(change(1, 2, 0, false), Change::None);
        assert_eq!(change(2, 0, 0, false), Change::Up(0));
        // Reversed: zero fails.
        assert_eq!(change(1, 0, 0, true), Change::Down);
        assert_eq!(change(0, 1, 0, true), Change::Up(0));
        assert_eq!(change(1, 3, 5, false), Change::Weight(10));
        assert_eq!(change(3, 1, 5, true), Change::Weight(10));
        let bottom = i64::from(i32::MIN);
        assert_eq!(change(1, bottom, 1, false), Change::Down);
        assert_eq!(change(bottom, 4, 1, false), Change::Up(4));
    }

    #[test]
    fn the_start_state() {
        assert_eq!(initial(0, 0, false), (true, 0));
        assert_eq!(initial(1, 0, false), (false, 0));
        // keepalived ignores `reverse` of an unweighted file at start.
        assert_eq!(initial(0, 0, true), (true, 0));
        assert_eq!(initial(2, 0, true), (false, 0));
        assert_eq!(initial(4, 3, false), (true, 12));
        assert_eq!(initial(4, 3, true), (true, -12));
        assert_eq!(initial(-40_000, 2, false), (true, -80_000));
        let bottom = i64::from(i32::MIN);
        assert_eq!(initial(bottom, 1, false), (false, bottom));
    }

    #[test]
    fn the_state_after_a_reload() {
        // Zero leaves every checker good, reversed or not.
        assert_eq!(at_reload(0, 0, false), AtReload::Good(0));
        assert_eq!(at_reload(0, 0, true), AtReload::Good(0));
        // Non-zero: fails, or (reversed) leaves the failed state it never was in.
        assert_eq!(at_reload(1, 0, false), AtReload::Fault);
        assert_eq!(at_reload(1, 0, true), AtReload::LeavingFault);
        assert_eq!(at_reload(3, 2, false), AtReload::Good(6));
        assert_eq!(at_reload(3, 2, true), AtReload::Good(-6));
        let bottom = i64::from(i32::MIN);
        assert_eq!(at_reload(bottom, 1, false), AtReload::Fault);
        // keepalived's reversed product at the bottom compares 0 with 0: left good.
        assert_eq!(at_reload(-bottom, 1, true), AtReload::Good(bottom));
    }
}
