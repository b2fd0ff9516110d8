//! The timing of one health checker, as keepalived 2.2.7 runs it (`check_api.c`, the epilogs of
//! `check_tcp.c`, `check_http.c`, `check_misc.c`), without I/O: the daemon asks when the next
//! attempt is due, runs it (a connection, a request, a script) within [`Timing::connect_timeout`]
//! and reports success or failure; the machine answers whether the checker's standing changed.
//!
//! - the first attempt is 1 s after start plus a random part of `warmup` (so that checkers of
//!   one real server do not all fire at once);
//! - a success, or a failure after `retry` retries, schedules the next attempt `delay_loop`
//!   later; other failures retry after `delay_before_retry`; until the first result one failure
//!   is enough (keepalived starts each checker with its retries used up), except for
//!   `SMTP_CHECK` ([`Schedule::retrying_from_the_start`]);
//! - a success turns a failed (or never run) checker good; a failure once retries are used up
//!   turns a good (or never run) checker failed;
//! - `HTTP_GET` and `SSL_GET` ([`Schedule::recovering_as_http`]) check one URL per attempt, the
//!   next one `delay_loop` after a URL passes, and are good once every URL has passed in turn;
//!   they remember a failure: the first success after it only clears it and starts again from
//!   the first URL; while failed, attempts are `max(delay_loop, delay_before_retry)` apart.

use std::time::{Duration, Instant};

use keepalived_config::model::lvs::CheckTiming;

/// keepalived's `BOOTSTRAP_DELAY`: checkers start a second after the daemon.
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);

/// The timing a checker runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Time allowed for one attempt's connection (and each step after it).
    pub connect_timeout: Duration,
    /// Retries after a failure before the checker counts as failed.
    pub retry: u32,
    /// Pause before a retry.
    pub delay_before_retry: Duration,
    /// Upper bound of the random delay before the first attempt.
    pub warmup: Duration,
    /// Pause between attempts.
    pub delay_loop: Duration,
}

impl From<&CheckTiming> for Timing {
    fn from(t: &CheckTiming) -> Self {
        Timing {
            connect_timeout: t.connect_timeout,
            retry: t.retry,
            delay_before_retry: t.delay_before_retry,
            warmup: t.warmup,
            delay_loop: t.delay_loop,
        }
    }
}

/// One checker's schedule and standing.
#[derive(Clone, Debug)]
pub struct Schedule {
    timing: Timing,
    up: bool,
    has_run: bool,
    retry_it: u32,
    next: Instant,
    in_flight: bool,
    /// `HTTP_GET` / `SSL_GET`: keepalived's recovery of web checks.
    http: Option<HttpRecovery>,
}

/// How `check_http.c` walks its URLs and comes back from a failure: its `url_it` (the URL the
/// next attempt checks), `failed_url` (a URL failed after its retries and has not passed
/// since) and `fast_recovery`.
#[derive(Clone, Copy, Debug, Default)]
struct HttpRecovery {
    /// `fast_recovery`: while the checker is not good but knows of no failure, the next attempt
    /// is made at once.
    fast: bool,
    /// A URL failed after its retries and has not passed since.
    failed: bool,
    /// How many URLs the check has (at least one).
    urls: usize,
    /// The URL the next attempt checks.
    url: usize,
}

impl Schedule {
    /// A checker starting at `now`: good unless `alpha`; first attempt after
    /// [`BOOTSTRAP_DELAY`] plus `warmup × random` (`random` in 0..=1, clamped).
    pub fn new(timing: Timing, alpha: bool, now: Instant, random: f64) -> Self {
        let fraction = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let warmup = timing.warmup.mul_f64(fraction);
        let retry = timing.retry;
        Schedule {
            timing,
            up: !alpha,
            has_run: false,
            // keepalived's start (`check_data.c`): one failure is enough until a first result.
            retry_it: retry,
            next: now + BOOTSTRAP_DELAY + warmup,
            in_flight: false,
            http: None,
        }
    }

    /// The same schedule with the URLs and the recovery of `HTTP_GET` and `SSL_GET` (see the
    /// module doc): `urls` URLs, with or without `fast_recovery`.
    pub fn recovering_as_http(mut self, urls: usize, fast_recovery: bool) -> Self {
        self.http = Some(HttpRecovery {
            fast: fast_recovery,
            failed: false,
            urls: urls.max(1),
            url: 0,
        });
        self
    }

    /// The same schedule retrying from its first attempt: `SMTP_CHECK` counts its retries
    /// afresh at every check (`smtp_start_check_thread`), so even its first failure is retried.
    pub fn retrying_from_the_start(mut self) -> Self {
        self.retry_it = 0;
        self
    }

    /// The URL the next attempt of a web check checks (its index); 0 for other checkers.
    pub fn url(&self) -> usize {
        self.http.map_or(0, |http| http.url)
    }

    /// The timing.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Whether the checker counts as good.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Whether an attempt has finished at least once.
    pub fn has_run(&self) -> bool {
        self.has_run
    }

    /// The retries used since the last success or the last failure that counted (keepalived's
    /// `retry_it`).
    pub fn retries_used(&self) -> u32 {
        self.retry_it
    }

    /// When the next attempt is due; `None` while one is in flight.
    pub fn next_attempt(&self) -> Option<Instant> {
        (!self.in_flight).then_some(self.next)
    }

    /// Starts an attempt if one is due: returns its deadline (`now + connect_timeout`).
    pub fn start(&mut self, now: Instant) -> Option<Instant> {
        if self.in_flight || self.next > now {
            return None;
        }
        self.in_flight = true;
        Some(now + self.timing.connect_timeout)
    }

    /// A due attempt is not made (its virtual server is suspended by `ha_suspend`): the checker
    /// looks again `delay_loop` later, its standing and the retries it has used unchanged, as
    /// keepalived's checker threads re-arm themselves while disabled.
    pub fn pass(&mut self, now: Instant) {
        if self.in_flight || self.next > now {
            return;
        }
        self.next = now + self.timing.delay_loop;
    }

    /// Reports how the attempt ended; returns the checker's new standing when it changed (or
    /// when it first ran and confirmed a standing keepalived reports, see the module doc).
    pub fn finish(&mut self, success: bool, now: Instant) -> Option<bool> {
        self.in_flight = false;
        if let Some(http) = self.http {
            return self.finish_http(http, success, now);
        }
        let mut changed = None;
        let delay = if success || self.retry_it >= self.timing.retry {
            self.retry_it = 0;
            if success && (!self.up || !self.has_run) {
                self.up = true;
                changed = Some(true);
            } else if !success && (self.up || !self.has_run) {
                self.up = false;
                changed = Some(false);
            }
            self.timing.delay_loop
        } else {
            self.retry_it += 1;
            self.timing.delay_before_retry
        };
        self.has_run = true;
        self.next = now + delay;
        changed
    }

    /// `finish` for one URL of a web check, as `check_http.c`'s `timeout_epilog` and `epilog`
    /// count: a passed URL makes the checker good only if it was the last and no failure is
    /// remembered, a failed URL that passes clears the failure and starts again from the first,
    /// and a failure of a checker known to be down counts nothing (`REGISTER_CHECKER_FAILED`).
    fn finish_http(&mut self, mut http: HttpRecovery, success: bool, now: Instant) -> Option<bool> {
        let mut changed = None;
        let delay;
        if success {
            // REGISTER_CHECKER_NEW.
            self.retry_it = 0;
            http.url += 1;
            if http.failed {
                http.failed = false;
                http.url = 0;
            } else if http.url >= http.urls {
                if !self.up || !self.has_run {
                    self.up = true;
                    self.has_run = true;
                    changed = Some(true);
                }
                http.url = 0;
            }
            // A URL passed before the first run completed leaves no retries for the next.
            if !self.has_run {
                self.retry_it = self.timing.retry;
            }
            delay = self.timing.delay_loop;
        } else {
            if self.up || !self.has_run {
                // timeout_epilog, then REGISTER_CHECKER_RETRY.
                self.has_run = true;
                self.retry_it = self.retry_it.saturating_add(1);
                if self.retry_it > self.timing.retry {
                    if self.up {
                        self.up = false;
                        changed = Some(false);
                    }
                    http.failed = true;
                }
            }
            delay = if http.failed {
                self.timing.delay_before_retry.max(self.timing.delay_loop)
            } else {
                self.timing.delay_before_retry
            };
        }
        let delay = if http.fast && (!self.has_run || (!self.up && !http.failed)) {
            Duration::ZERO
        } else {
            delay
        };
        self.http = Some(http);
        self.next = now + delay;
        changed
    }

    /// Takes the standing of a checker it replaces on reload (keepalived's `migrate_checkers`):
    /// a failed one needs one success; a good one keeps the retries it has used, bounded by the
    /// new `retry`.
    pub fn migrate_from(&mut self, old: &Schedule) {
        if !old.has_run {
            return;
        }
        self.up = old.up;
        self.has_run = true;
        self.retry_it = if !self.up {
            self.timing.retry + 1
        } else {
            old.retry_it.min(self.timing.retry)
        };
        self.next = old.next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(retry: u32) -> Timing {
        Timing {
            connect_timeout: Duration::from_secs(2),
            retry,
            delay_before_retry: Duration::from_secs(3),
            warmup: Duration::from_secs(10),
            delay_loop: Duration::from_secs(6),
        }
    }

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    #[test]
    fn first_attempt_after_bootstrap_and_warmup_share() {
        let t0 = Instant::now();
        assert_eq!(
            Schedule::new(timing(1), false, t0, 0.0).next_attempt(),
            Some(secs(t0, 1))
        );
        assert_eq!(
            Schedule::new(timing(1), false, t0, 0.5).next_attempt(),
            Some(secs(t0, 6))
        );
        assert_eq!(
            Schedule::new(timing(1), false, t0, 7.0).next_attempt(),
            Some(secs(t0, 11))
        );
    }

    #[test]
    fn attempts_are_not_started_early_or_twice() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(1), false, t0, 0.0);
        assert_eq!(s.start(t0), None);
        assert_eq!(s.start(secs(t0, 1)), Some(secs(t0, 3)));
        assert_eq!(s.next_attempt(), None);
        assert_eq!(s.start(secs(t0, 2)), None);
    }

    #[test]
    fn failure_counts_after_the_retries() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(2), false, t0, 0.0);
        s.start(secs(t0, 1));
        // The first result of a good checker is reported (keepalived's first-run notify).
        assert_eq!(s.finish(true, secs(t0, 1)), Some(true));
        assert_eq!(s.next_attempt(), Some(secs(t0, 7)));
        s.start(secs(t0, 7));
        assert_eq!(s.finish(false, secs(t0, 7)), None); // retry 1
        assert_eq!(s.next_attempt(), Some(secs(t0, 10)));
        s.start(secs(t0, 10));
        assert_eq!(s.finish(false, secs(t0, 10)), None); // retry 2
        s.start(secs(t0, 13));
        assert_eq!(s.finish(false, secs(t0, 13)), Some(false));
        assert!(!s.is_up());
        assert_eq!(s.next_attempt(), Some(secs(t0, 19)));
        // One success brings it back.
        s.start(secs(t0, 19));
        assert_eq!(s.finish(true, secs(t0, 19)), Some(true));
    }

    #[test]
    fn a_success_between_failures_resets_the_retries() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(1), false, t0, 0.0);
        s.start(secs(t0, 1));
        s.finish(true, secs(t0, 1));
        s.start(secs(t0, 7));
        assert_eq!(s.finish(false, secs(t0, 7)), None);
        s.start(secs(t0, 10));
        assert_eq!(s.finish(true, secs(t0, 10)), None);
        s.start(secs(t0, 16));
        assert_eq!(s.finish(false, secs(t0, 16)), None);
        assert!(s.is_up());
    }

    #[test]
    fn a_never_run_checker_fails_at_its_first_failure_but_smtp_retries() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(1), false, t0, 0.0);
        s.start(secs(t0, 1));
        assert_eq!(s.finish(false, secs(t0, 1)), Some(false));
        assert_eq!(s.next_attempt(), Some(secs(t0, 7)), "delay_loop after it");
        let mut smtp = Schedule::new(timing(1), false, t0, 0.0).retrying_from_the_start();
        smtp.start(secs(t0, 1));
        assert_eq!(smtp.finish(false, secs(t0, 1)), None);
        smtp.start(secs(t0, 4));
        assert_eq!(smtp.finish(false, secs(t0, 4)), Some(false));
        // Once a first result came, failures are retried again.
        let mut s = Schedule::new(timing(1), false, t0, 0.0);
        s.start(secs(t0, 1));
        assert_eq!(
            s.finish(true, secs(t0, 1)),
            Some(true),
            "the first result is reported"
        );
        s.start(secs(t0, 7));
        assert_eq!(s.finish(false, secs(t0, 7)), None);
        s.start(secs(t0, 10));
        assert_eq!(s.finish(false, secs(t0, 10)), Some(false));
    }

    #[test]
    fn alpha_starts_failed_and_one_success_brings_it_up() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(3), true, t0, 0.0);
        assert!(!s.is_up());
        s.start(secs(t0, 1));
        assert_eq!(s.finish(true, secs(t0, 1)), Some(true));
    }

    #[test]
    fn retry_zero_fails_at_once() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(0), false, t0, 0.0);
        s.start(secs(t0, 1));
        s.finish(true, secs(t0, 1));
        s.start(secs(t0, 7));
        assert_eq!(s.finish(false, secs(t0, 7)), Some(false));
    }

    #[test]
    fn a_passed_attempt_waits_delay_loop_and_keeps_the_retries() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(1), false, t0, 0.0);
        s.start(secs(t0, 1));
        s.finish(true, secs(t0, 1));
        s.start(secs(t0, 7));
        assert_eq!(s.finish(false, secs(t0, 7)), None); // retry 1 of 1, due at 10
        s.pass(secs(t0, 9)); // not due yet: nothing
        assert_eq!(s.next_attempt(), Some(secs(t0, 10)));
        s.pass(secs(t0, 10));
        assert_eq!(s.next_attempt(), Some(secs(t0, 16)));
        assert!(s.is_up());
        // The retry used before the pause still counts: the next failure fails the checker.
        s.start(secs(t0, 16));
        assert_eq!(s.finish(false, secs(t0, 16)), Some(false));
    }

    #[test]
    fn migration_keeps_the_standing() {
        let t0 = Instant::now();
        let mut old = Schedule::new(timing(1), false, t0, 0.0);
        old.start(secs(t0, 1));
        old.finish(false, secs(t0, 1));
        old.start(secs(t0, 4));
        old.finish(false, secs(t0, 4));
        let mut new = Schedule::new(timing(5), false, t0, 0.0);
        new.migrate_from(&old);
        assert!(!new.is_up());
        new.start(secs(t0, 10));
        assert_eq!(new.finish(true, secs(t0, 10)), Some(true));
    }

    #[test]
    fn a_failed_web_check_is_good_again_after_two_successes() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(1), false, t0, 0.0).recovering_as_http(1, false);
        let mut at = secs(t0, 1);
        let attempt = |s: &mut Schedule, success: bool, at: &mut Instant| {
            assert!(s.start(*at).is_some());
            let changed = s.finish(success, *at);
            *at = s.next_attempt().expect("scheduled");
            changed
        };
        assert_eq!(attempt(&mut s, true, &mut at), Some(true));
        // A failure is retried after delay_before_retry; the retry's failure fails the checker.
        assert_eq!(attempt(&mut s, false, &mut at), None);
        assert_eq!(at, secs(t0, 1 + 6 + 3));
        assert_eq!(attempt(&mut s, false, &mut at), Some(false));
        // Failed: attempts max(delay_loop, delay_before_retry) apart, and no retries counted.
        assert_eq!(at, secs(t0, 1 + 6 + 3 + 6));
        assert_eq!(attempt(&mut s, false, &mut at), None);
        assert_eq!(at, secs(t0, 1 + 6 + 3 + 6 + 6));
        // The first success only clears the failure; the second, delay_loop later, counts.
        assert_eq!(attempt(&mut s, true, &mut at), None);
        assert!(!s.is_up());
        assert_eq!(at, secs(t0, 1 + 6 + 3 + 6 + 6 + 6));
        assert_eq!(attempt(&mut s, true, &mut at), Some(true));
        assert!(s.is_up());
        // A failure once good is retried again.
        assert_eq!(attempt(&mut s, false, &mut at), None);
    }

    #[test]
    fn fast_recovery_checks_at_once_while_down_without_a_failure() {
        let t0 = Instant::now();
        let step = |s: &mut Schedule, success: bool| {
            let at = s.next_attempt().expect("scheduled");
            assert!(s.start(at).is_some());
            (
                s.finish(success, at),
                s.next_attempt().expect("scheduled") - at,
            )
        };
        // alpha: down with no failure known. Its retries used up at start, the first failure
        // is a failed URL: then attempts are max(delay_loop, delay_before_retry) apart; the URL
        // passing clears it, and the next pass comes at once.
        let mut s = Schedule::new(timing(1), true, t0, 0.0).recovering_as_http(1, true);
        assert_eq!(step(&mut s, false), (None, Duration::from_secs(6)));
        assert_eq!(step(&mut s, false), (None, Duration::from_secs(6)));
        assert_eq!(step(&mut s, true), (None, Duration::ZERO));
        assert_eq!(step(&mut s, true), (Some(true), Duration::from_secs(6)));
        // alpha without a failure: every attempt at once until a pass.
        let mut s = Schedule::new(timing(1), true, t0, 0.0).recovering_as_http(1, true);
        assert_eq!(step(&mut s, true), (Some(true), Duration::from_secs(6)));
        // Good: a failure is retried after delay_before_retry, then fails the checker.
        assert_eq!(step(&mut s, false), (None, Duration::from_secs(3)));
        assert_eq!(step(&mut s, false), (Some(false), Duration::from_secs(6)));
        // The failed URL passes: down, no failure known any more, so the second pass at once.
        assert_eq!(step(&mut s, true), (None, Duration::ZERO));
        assert_eq!(step(&mut s, true), (Some(true), Duration::from_secs(6)));
    }

    #[test]
    fn a_web_check_taken_over_on_reload_needs_one_success() {
        let t0 = Instant::now();
        let mut old = Schedule::new(timing(0), false, t0, 0.0).recovering_as_http(1, false);
        assert!(old.start(secs(t0, 1)).is_some());
        assert_eq!(old.finish(false, secs(t0, 1)), Some(false));
        let mut new = Schedule::new(timing(0), false, t0, 0.0).recovering_as_http(1, false);
        new.migrate_from(&old);
        assert!(new.start(secs(t0, 7)).is_some());
        assert_eq!(new.finish(true, secs(t0, 7)), Some(true));
    }

    #[test]
    fn a_web_check_passes_its_urls_one_per_delay_loop() {
        let t0 = Instant::now();
        let step = |s: &mut Schedule, success: bool| {
            let at = s.next_attempt().expect("scheduled");
            let url = s.url();
            assert!(s.start(at).is_some());
            (
                url,
                s.finish(success, at),
                s.next_attempt().expect("scheduled") - at,
            )
        };
        let (loop_, retry) = (Duration::from_secs(6), Duration::from_secs(3));
        let mut s = Schedule::new(timing(1), false, t0, 0.0).recovering_as_http(2, false);
        // Good once both URLs passed, delay_loop apart.
        assert_eq!(step(&mut s, true), (0, None, loop_));
        assert_eq!(step(&mut s, true), (1, Some(true), loop_));
        // The second URL fails: retried, then the checker fails on it.
        assert_eq!(step(&mut s, true), (0, None, loop_));
        assert_eq!(step(&mut s, false), (1, None, retry));
        assert_eq!(step(&mut s, false), (1, Some(false), loop_));
        // It passes: the failure is cleared, and every URL must pass again.
        assert_eq!(step(&mut s, true), (1, None, loop_));
        assert_eq!(step(&mut s, true), (0, None, loop_));
        assert_eq!(step(&mut s, true), (1, Some(true), loop_));

        // Before the first run completes, a URL that passed leaves no retries for the next.
        let mut s = Schedule::new(timing(1), false, t0, 0.0).recovering_as_http(2, false);
        assert_eq!(step(&mut s, true), (0, None, loop_));
        assert_eq!(step(&mut s, false), (1, Some(false), loop_));
    }
}
