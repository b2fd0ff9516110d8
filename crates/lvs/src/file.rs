//! `FILE_CHECK` as keepalived 2.2.7 runs it (`check_file.c`, `track_file.c`): no schedule, the
//! file is read at start and again whenever it is written, moved or deleted. Its content is a
//! number (`strtol` with base 0; a missing or empty file reads 0), read by
//! `vrrpd_runtime::track_files`, which the VRRP side's `track_file` shares.
//!
//! - with weight 0 a non-zero number means failed (with `reverse`, zero means failed);
//! - otherwise number × weight (× −1 with `reverse`) is added to the real server's weight, and a
//!   result at or below −65535 means failed.
//!
//! A change between two good states moves the weight by the difference; entering or leaving
//! the failed state changes only the standing (keepalived leaves the weight as it was then).

use crate::pool::MAX_WEIGHT;

/// The status of a file value for one checker: keepalived's `update_track_file_status`, clamped
/// as `process_update_checker_track_file_status` does. `-MAX_WEIGHT` is the failed state.
pub fn status(value: i64, weight: i32, reverse: bool) -> i64 {
    let fault = -i64::from(MAX_WEIGHT);
    let raw = if weight == 0 {
        if (value != 0) != reverse { fault } else { 0 }
    } else {
        let sign = if reverse { -1 } else { 1 };
        value * i64::from(weight) * sign
    };
    raw.clamp(fault, i64::from(MAX_WEIGHT) - 1)
}

/// Whether a status is the failed state.
pub fn is_fault(status: i64) -> bool {
    status <= -i64::from(MAX_WEIGHT)
}

/// What a new value of the file does to the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing.
    None,
    /// The checker fails.
    Down,
    /// The checker recovers (the weight is left alone).
    Up,
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
        Change::Up
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
    let sign = if reverse { -1 } else { 1 };
    let contribution = value * i64::from(weight) * sign;
    (!is_fault(contribution), contribution)
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
    fn weighted_values_move_the_weight_and_fail_at_the_bottom() {
        assert_eq!(status(3, 2, false), 6);
        assert_eq!(status(3, 2, true), -6);
        assert!(is_fault(status(-70_000, 1, false)));
        assert!(is_fault(status(-65_535, 1, false)));
        assert!(!is_fault(status(-65_534, 1, false)));
        assert_eq!(status(100_000, 1, false), 65_534);
    }

    #[test]
    fn changes_follow_keepalived() {
        assert_eq!(change(0, 0, 0, false), Change::None);
        assert_eq!(change(0, 1, 0, false), Change::Down);
        assert_eq!(change(1, 2, 0, false), Change::None);
        assert_eq!(change(2, 0, 0, false), Change::Up);
        assert_eq!(change(1, 3, 5, false), Change::Weight(10));
        assert_eq!(change(3, 1, 5, true), Change::Weight(10));
        assert_eq!(change(1, -70_000, 1, false), Change::Down);
        assert_eq!(change(-70_000, 4, 1, false), Change::Up);
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
        assert_eq!(initial(-70_000, 1, false), (false, -70_000));
    }
}
