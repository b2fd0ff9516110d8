//! The health state keepalived 2.2.7 keeps for its virtual servers, and how checker results move
//! it (`check/ipwrapper.c`): a real server is alive while none of its checkers is failed;
//! checkers with `alpha` start failed, the others start good; a virtual server has quorum while
//! the weights of its live real servers add up to `quorum`, with `hysteresis` on both sides of
//! the threshold. What this state means for the kernel is [`crate::mapping`]'s business.

use keepalived_config::model::Config;

/// The largest weight keepalived gives IPVS (`IPVS_WEIGHT_LIMIT`): a FILE_CHECK's value times its
/// weight can take a real server far above the 65535 of a configured `weight`.
pub const MAX_WEIGHT: i32 = i32::MAX;

/// Clamps an effective weight as keepalived's `real_weight` does: what is below 0 counts 0.
pub fn real_weight(weight: i64) -> i32 {
    weight.clamp(0, i64::from(MAX_WEIGHT)) as i32
}

/// What a change of state asks the daemon to tell the world (notify scripts, logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolEvent {
    /// Real server `real_server` of virtual server `service` came up or went down
    /// (`notify_up` / `notify_down`).
    RealServer {
        /// Index of the virtual server in the configuration.
        service: usize,
        /// Index of the real server in it.
        real_server: usize,
        /// Its new state.
        up: bool,
    },
    /// A virtual server gained or lost quorum (`quorum_up` / `quorum_down`; the sorry server
    /// goes in or out).
    Quorum {
        /// Index of the virtual server.
        service: usize,
        /// Its new state.
        up: bool,
        /// The weight of its live real servers.
        weight_sum: i64,
    },
    /// A checker's first result confirmed the failure it started with (`alpha`): nothing changes, but
    /// keepalived's `update_svr_checker_state` tells the world the real server is down (`notify_down`,
    /// the FIFO line).
    StillDown {
        /// Index of the virtual server.
        service: usize,
        /// Index of the real server.
        real_server: usize,
    },
    /// A real server's effective weight changed (`misc_dynamic`).
    Weight {
        /// Index of the virtual server.
        service: usize,
        /// Index of the real server.
        real_server: usize,
        /// The old weight as IPVS gets it.
        old: i32,
        /// The new weight as IPVS gets it.
        new: i32,
        /// Whether the server was in service when its weight changed: keepalived words the line
        /// by it, and a check that passes with a new weight changes the weight first.
        alive: bool,
    },
}

/// A checker's standing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerState {
    /// Whether it counts as good.
    pub up: bool,
    /// Whether it has reported at least once.
    pub has_run: bool,
}

/// A real server's standing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealServerState {
    /// In the pool (keepalived's `alive`).
    pub alive: bool,
    /// The configured weight, changed by `misc_dynamic` results.
    pub effective_weight: i64,
    /// Its checkers, in configuration order.
    pub checkers: Vec<CheckerState>,
}

impl RealServerState {
    /// How many of its checkers are failed.
    pub fn failed_checkers(&self) -> usize {
        self.checkers.iter().filter(|c| !c.up).count()
    }

    /// The weight IPVS gets while the server is in.
    pub fn weight(&self) -> i32 {
        real_weight(self.effective_weight)
    }
}

/// A virtual server's standing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceState {
    /// Whether quorum is met.
    pub quorum_up: bool,
    /// `quorum`.
    pub quorum: u32,
    /// `hysteresis`.
    pub hysteresis: u32,
    /// Its real servers, in configuration order.
    pub real_servers: Vec<RealServerState>,
}

impl ServiceState {
    /// The weights of the live real servers added up (`weigh_live_realservers`).
    pub fn live_weight(&self) -> i64 {
        self.real_servers
            .iter()
            .filter(|rs| rs.alive)
            .map(|rs| i64::from(rs.weight()))
            .sum()
    }

    /// Moves the quorum state on after a change of live weight (`update_quorum_state`).
    fn update_quorum(&mut self) -> Option<bool> {
        let sum = self.live_weight();
        let hysteresis = i64::from(self.hysteresis);
        let quorum = i64::from(self.quorum);
        let threshold = if self.quorum_up {
            quorum - hysteresis
        } else {
            quorum + hysteresis
        };
        if !self.quorum_up && sum >= threshold {
            self.quorum_up = true;
            Some(true)
        } else if self.quorum_up && (sum == 0 || sum < threshold) {
            self.quorum_up = false;
            Some(false)
        } else {
            None
        }
    }
}

/// The health state of every virtual server of a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    /// One per `Config::virtual_servers`, same order.
    pub services: Vec<ServiceState>,
}

impl Pool {
    /// The state of one real server, by the indexes of its virtual server and itself.
    pub fn real_server(&self, service: usize, real_server: usize) -> Option<&RealServerState> {
        self.services.get(service)?.real_servers.get(real_server)
    }

    /// The state keepalived starts with: `alpha` checkers failed, others good; real servers
    /// without a failed checker alive; quorum up when the live weight reaches
    /// `quorum + hysteresis`.
    pub fn new(config: &Config) -> Self {
        let services = config
            .virtual_servers
            .iter()
            .map(|vs| {
                let real_servers: Vec<RealServerState> = vs
                    .real_servers
                    .iter()
                    .map(|rs| {
                        let checkers: Vec<CheckerState> = rs
                            .checkers
                            .iter()
                            .map(|c| CheckerState {
                                up: !c.alpha,
                                has_run: false,
                            })
                            .collect();
                        RealServerState {
                            alive: checkers.iter().all(|c| c.up),
                            effective_weight: i64::from(rs.weight),
                            checkers,
                        }
                    })
                    .collect();
                let mut state = ServiceState {
                    quorum_up: false,
                    quorum: vs.quorum,
                    hysteresis: vs.hysteresis,
                    real_servers,
                };
                state.quorum_up =
                    state.live_weight() >= i64::from(vs.quorum) + i64::from(vs.hysteresis);
                state
            })
            .collect();
        Pool { services }
    }

    /// A checker reported good (`up`) or failed: keepalived's `update_svr_checker_state`. The
    /// real server goes up when its last failed checker recovers and down when its first checker
    /// fails; quorum follows.
    pub fn checker_result(
        &mut self,
        service: usize,
        real_server: usize,
        checker: usize,
        up: bool,
    ) -> Vec<PoolEvent> {
        let mut events = Vec::new();
        let Some(vs) = self.services.get_mut(service) else {
            return events;
        };
        let Some(rs) = vs.real_servers.get_mut(real_server) else {
            return events;
        };
        let failed = rs.failed_checkers();
        let Some(state) = rs.checkers.get_mut(checker) else {
            return events;
        };
        let first = !state.has_run;
        state.has_run = true;
        if state.up == up {
            if first && !up {
                events.push(PoolEvent::StillDown {
                    service,
                    real_server,
                });
            }
            return events;
        }
        state.up = up;
        // Up when the last failed checker recovers; down when the first one fails.
        let perform = if up { failed <= 1 } else { failed == 0 };
        if perform && rs.alive != up {
            rs.alive = up;
            events.push(PoolEvent::RealServer {
                service,
                real_server,
                up,
            });
            if let Some(quorum_up) = vs.update_quorum() {
                events.push(PoolEvent::Quorum {
                    service,
                    up: quorum_up,
                    weight_sum: vs.live_weight(),
                });
            }
        }
        events
    }

    /// Re-evaluates a virtual server's quorum (after a reload carried its state over); returns
    /// the new state when it changed.
    pub fn refresh_quorum(&mut self, service: usize) -> Option<bool> {
        self.services.get_mut(service)?.update_quorum()
    }

    /// Moves a real server's effective weight without a word, as keepalived does when a
    /// FILE_CHECK enters or leaves its failed state (the change shows when the server is next
    /// put in).
    pub fn add_weight_quietly(&mut self, service: usize, real_server: usize, delta: i64) {
        if let Some(rs) = self
            .services
            .get_mut(service)
            .and_then(|vs| vs.real_servers.get_mut(real_server))
        {
            rs.effective_weight += delta;
        }
    }

    /// A new effective weight for a real server (`misc_dynamic`: exit status − 2); quorum
    /// follows. keepalived's `update_svr_wgt`.
    pub fn set_weight(
        &mut self,
        service: usize,
        real_server: usize,
        weight: i64,
    ) -> Vec<PoolEvent> {
        let mut events = Vec::new();
        let Some(vs) = self.services.get_mut(service) else {
            return events;
        };
        let Some(rs) = vs.real_servers.get_mut(real_server) else {
            return events;
        };
        let old = rs.weight();
        rs.effective_weight = weight;
        let new = rs.weight();
        if old != new {
            events.push(PoolEvent::Weight {
                service,
                real_server,
                old,
                new,
                alive: rs.alive,
            });
            if let Some(up) = vs.update_quorum() {
                events.push(PoolEvent::Quorum {
                    service,
                    up,
                    weight_sum: vs.live_weight(),
                });
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(weights: &[i64], quorum: u32, hysteresis: u32) -> ServiceState {
        let mut state = ServiceState {
            quorum_up: false,
            quorum,
            hysteresis,
            real_servers: weights
                .iter()
                .map(|&w| RealServerState {
                    alive: true,
                    effective_weight: w,
                    checkers: vec![CheckerState {
                        up: true,
                        has_run: false,
                    }],
                })
                .collect(),
        };
        state.quorum_up = state.live_weight() >= i64::from(quorum + hysteresis);
        state
    }

    fn pool(weights: &[i64], quorum: u32, hysteresis: u32) -> Pool {
        Pool {
            services: vec![service(weights, quorum, hysteresis)],
        }
    }

    #[test]
    fn a_failed_checker_takes_the_server_out_and_back() {
        let mut pool = pool(&[1, 1], 1, 0);
        assert_eq!(
            pool.checker_result(0, 0, 0, false),
            vec![PoolEvent::RealServer {
                service: 0,
                real_server: 0,
                up: false
            }]
        );
        assert!(!pool.services[0].real_servers[0].alive);
        // Repeated failures change nothing more.
        assert!(pool.checker_result(0, 0, 0, false).is_empty());
        assert_eq!(pool.checker_result(0, 0, 0, true).len(), 1);
        assert!(pool.services[0].real_servers[0].alive);
    }

    #[test]
    fn a_first_failure_of_a_checker_that_started_failed_tells_the_server_is_down() {
        let mut pool = pool(&[1], 1, 0);
        let rs = &mut pool.services[0].real_servers[0];
        rs.checkers[0].up = false;
        rs.alive = false;
        assert_eq!(
            pool.checker_result(0, 0, 0, false),
            vec![PoolEvent::StillDown {
                service: 0,
                real_server: 0
            }]
        );
        assert!(pool.checker_result(0, 0, 0, false).is_empty());
    }

    #[test]
    fn a_server_with_two_checkers_needs_both() {
        let mut pool = pool(&[1], 1, 0);
        pool.services[0].real_servers[0]
            .checkers
            .push(CheckerState {
                up: true,
                has_run: false,
            });
        assert_eq!(pool.checker_result(0, 0, 0, false).len(), 2);
        // The second failing adds nothing; the first recovering is not enough.
        assert!(pool.checker_result(0, 0, 1, false).is_empty());
        assert!(pool.checker_result(0, 0, 0, true).is_empty());
        assert!(!pool.services[0].real_servers[0].alive);
        assert!(!pool.checker_result(0, 0, 1, true).is_empty());
        assert!(pool.services[0].real_servers[0].alive);
    }

    #[test]
    fn quorum_is_lost_below_quorum_minus_hysteresis_and_regained_at_plus() {
        // quorum 3, hysteresis 1: up at start with 4; lost below 2; regained at 4.
        let mut pool = pool(&[1, 1, 1, 1], 3, 1);
        assert!(pool.services[0].quorum_up);
        assert_eq!(pool.checker_result(0, 0, 0, false).len(), 1); // 3 left
        assert_eq!(pool.checker_result(0, 1, 0, false).len(), 1); // 2 left: still up
        assert!(pool.services[0].quorum_up);
        let events = pool.checker_result(0, 2, 0, false); // 1 left
        assert_eq!(
            events[1],
            PoolEvent::Quorum {
                service: 0,
                up: false,
                weight_sum: 1
            }
        );
        pool.checker_result(0, 2, 0, true); // 2
        pool.checker_result(0, 1, 0, true); // 3: not yet
        assert!(!pool.services[0].quorum_up);
        let events = pool.checker_result(0, 0, 0, true); // 4
        assert!(events.contains(&PoolEvent::Quorum {
            service: 0,
            up: true,
            weight_sum: 4
        }));
    }

    #[test]
    fn quorum_starts_down_below_quorum_plus_hysteresis() {
        assert!(!pool(&[1, 1], 2, 1).services[0].quorum_up);
        assert!(pool(&[1, 1], 1, 1).services[0].quorum_up);
    }

    #[test]
    fn no_live_weight_loses_quorum_even_at_quorum_zero_threshold() {
        let mut pool = pool(&[1], 1, 1);
        assert!(!pool.services[0].quorum_up); // needs 2
        let mut pool2 = super::Pool {
            services: vec![service(&[1], 1, 0)],
        };
        let events = pool2.checker_result(0, 0, 0, false);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, PoolEvent::Quorum { up: false, .. }))
        );
        pool.services[0].hysteresis = 0;
    }

    #[test]
    fn dynamic_weights_move_quorum() {
        let mut pool = pool(&[2], 2, 0);
        assert!(pool.services[0].quorum_up);
        let events = pool.set_weight(0, 0, 1);
        assert_eq!(
            events,
            vec![
                PoolEvent::Weight {
                    service: 0,
                    real_server: 0,
                    old: 2,
                    new: 1,
                    alive: true
                },
                PoolEvent::Quorum {
                    service: 0,
                    up: false,
                    weight_sum: 1
                }
            ]
        );
        assert!(pool.set_weight(0, 0, 1).is_empty());
    }

    #[test]
    fn a_weight_change_says_whether_the_server_was_in_service() {
        let mut pool = pool(&[2], 0, 0);
        pool.checker_result(0, 0, 0, false);
        assert!(!pool.services[0].real_servers[0].alive);
        let events = pool.set_weight(0, 0, 5);
        assert!(
            matches!(
                events[0],
                PoolEvent::Weight {
                    alive: false,
                    new: 5,
                    ..
                }
            ),
            "{events:?}"
        );
    }

    #[test]
    fn weights_are_clamped_like_real_weight() {
        assert_eq!(real_weight(-5), 0);
        assert_eq!(real_weight(70000), 70000);
        assert_eq!(real_weight(1 << 40), i32::MAX);
        assert_eq!(real_weight(7), 7);
    }
}
