//! One BFD session's state machine, as keepalived 2.2.7's `bfd_scheduler.c` runs it: asynchronous
//! mode, three timers (transmit, detection, reset of the remote's variables a detection time after
//! going Down), timer negotiation with poll / final, jittered transmission. Time is passed in.

use std::time::{Duration, Instant};

use crate::packet::{Control, Diagnostic, State};

/// What a session is configured with (`bfd_instance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// `min_rx`: Required Min RX Interval.
    pub min_rx: Duration,
    /// `min_tx`: Desired Min TX Interval while Up.
    pub min_tx: Duration,
    /// `idle_tx`: Desired Min TX Interval while not Up (RFC 5880 6.8.3: at least a second).
    pub idle_tx: Duration,
    /// `multiplier`: Detect Mult.
    pub multiplier: u8,
    /// `passive`: send nothing until the peer has been heard.
    pub passive: bool,
}

/// What the daemon must do or may log after a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Send this packet to the neighbour now.
    Send(Control),
    /// The local state changed.
    StateChanged {
        from: State,
        to: State,
        diagnostic: Diagnostic,
        remote_diagnostic: Diagnostic,
    },
    /// No packet within the detection time (logged by keepalived when the session was Up).
    Expired {
        /// Since the last packet.
        after: Duration,
        /// Beyond the detection time.
        overdue: Duration,
        was_up: bool,
    },
    /// The detection time changed (microseconds).
    DetectionTime { now: u64, was: u64 },
    /// Tell the trackers (VRRP, checkers) whether the session is up: keepalived's `bfd_event_send`.
    Report { up: bool },
}

/// A session and its timers.
#[derive(Clone, Debug)]
pub struct Session {
    config: SessionConfig,
    local_state: State,
    remote_state: State,
    local_discriminator: u32,
    remote_discriminator: u32,
    local_diagnostic: Diagnostic,
    remote_diagnostic: Diagnostic,
    /// The remote's intervals and multiplier (microseconds), as last received.
    remote_min_tx: u32,
    remote_min_rx: u32,
    remote_demand: bool,
    remote_multiplier: u8,
    poll: bool,
    final_: bool,
    /// The negotiated intervals (microseconds).
    local_tx: u32,
    remote_tx: u32,
    /// The detection time (microseconds): the remote's multiplier × the remote's transmit interval.
    local_detect: u64,
    last_seen: Option<Instant>,
    send_at: Option<Instant>,
    expire_at: Option<Instant>,
    reset_at: Option<Instant>,
    random: u64,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

impl Session {
    /// A session in Down with a random discriminator; `seed` drives the discriminators and the jitter.
    pub fn new(config: SessionConfig, seed: u64) -> Session {
        let mut session = Session {
            config,
            local_state: State::Down,
            remote_state: State::Down,
            local_discriminator: 0,
            remote_discriminator: 0,
            local_diagnostic: Diagnostic::NONE,
            remote_diagnostic: Diagnostic::NONE,
            remote_min_tx: 0,
            remote_min_rx: 0,
            remote_demand: false,
            remote_multiplier: 0,
            poll: false,
            final_: false,
            local_tx: micros(config.idle_tx),
            remote_tx: 0,
            local_detect: 0,
            last_seen: None,
            send_at: None,
            expire_at: None,
            reset_at: None,
            // xorshift needs a non-zero state.
            random: seed | 1,
        };
        session.local_discriminator = session.new_discriminator();
        session
    }

    /// Starts the session: the trackers learn it is down, and an active session sends its first
    /// packet at once (keepalived's `bfd_register_workers`).
    pub fn start(&mut self, now: Instant) -> Vec<Event> {
        let mut events = vec![Event::Report { up: false }];
        if self.local_state != State::AdminDown && !self.config.passive {
            events.push(Event::Send(self.packet()));
            self.schedule_send(now);
        }
        events
    }

    pub fn state(&self) -> State {
        self.local_state
    }

    pub fn remote_state(&self) -> State {
        self.remote_state
    }

    pub fn local_discriminator(&self) -> u32 {
        self.local_discriminator
    }

    pub fn remote_discriminator(&self) -> u32 {
        self.remote_discriminator
    }

    /// The detection time now in force.
    pub fn detection_time(&self) -> Duration {
        Duration::from_micros(self.local_detect)
    }

    /// The negotiated transmit interval (before jitter).
    pub fn transmit_interval(&self) -> Duration {
        Duration::from_micros(u64::from(self.local_tx))
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The earliest timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.send_at, self.expire_at, self.reset_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        if self.expire_at.is_some_and(|at| at <= now) {
            self.expire_at = None;
            let after = self
                .last_seen
                .map_or(Duration::ZERO, |seen| now.saturating_duration_since(seen));
            events.push(Event::Expired {
                after,
                overdue: after.saturating_sub(self.detection_time()),
                was_up: self.local_state == State::Up,
            });
            // RFC 5880 6.8.1: bfd.RemoteDiscr is zeroed after a detection time without packets.
            self.remote_discriminator = 0;
            self.go_down(Diagnostic::EXPIRED, now, &mut events);
        }
        if self.reset_at.is_some_and(|at| at <= now) {
            self.reset_at = None;
            self.reset();
        }
        if self.send_at.is_some_and(|at| at <= now) {
            events.push(Event::Send(self.packet()));
            self.final_ = false;
            self.schedule_send(now);
        }
        events
    }

    /// Takes a valid packet addressed to this session (its discriminator, or its addresses when the
    /// packet has none; the TTL checked): RFC 5880 6.8.6 from "update bfd.RemoteDiscr" on.
    pub fn handle_packet(&mut self, packet: &Control, now: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        if self.local_state == State::AdminDown {
            return events;
        }
        let old_local_tx = self.local_tx;
        let old_detect = self.local_detect;

        self.remote_discriminator = packet.my_discriminator;
        self.remote_state = packet.state;
        self.remote_diagnostic = packet.diagnostic;
        self.remote_min_rx = packet.required_min_rx;
        self.remote_min_tx = packet.desired_min_tx;
        self.remote_demand = packet.demand;
        self.remote_multiplier = packet.detect_mult;

        if packet.final_ {
            self.poll = false;
        }
        // While Up the intervals change only through a poll sequence (RFC 5880 6.8.3).
        if self.local_state != State::Up || packet.poll || packet.final_ {
            let both_rising = self.remote_state == State::Up
                && matches!(self.local_state, State::Init | State::Up);
            let desired = if both_rising {
                self.config.min_tx
            } else {
                self.config.idle_tx
            };
            self.local_tx = micros(desired).max(self.remote_min_rx);
            self.remote_tx = micros(self.config.min_rx).max(self.remote_min_tx);
        }
        self.local_detect = u64::from(self.remote_multiplier) * u64::from(self.remote_tx);

        if self.local_tx < old_local_tx && self.send_at.is_some() {
            self.schedule_send(now);
        }
        if self.local_detect != old_detect {
            events.push(Event::DetectionTime {
                now: self.local_detect,
                was: old_detect,
            });
        }

        if self.remote_state == State::AdminDown && self.local_state != State::Down {
            self.go_down(Diagnostic::NEIGHBOR_SIGNALED_DOWN, now, &mut events);
        } else {
            match (self.local_state, self.remote_state) {
                (State::Down, State::Down) => self.go_init(now, &mut events),
                (State::Down, State::Init) | (State::Init, State::Init | State::Up) => {
                    self.go_up(now, &mut events)
                }
                (State::Up, State::Down) => {
                    self.go_down(Diagnostic::NEIGHBOR_SIGNALED_DOWN, now, &mut events)
                }
                _ => {}
            }
        }

        let remote_demands =
            self.remote_demand && self.local_state == State::Up && self.remote_state == State::Up;
        if remote_demands {
            self.send_at = None;
        } else if self.send_at.is_none() {
            self.schedule_send(now);
        }
        if packet.poll {
            // Answered at once with Final (RFC 5880 6.5), outside the periodic schedule.
            self.final_ = true;
            events.push(Event::Send(self.packet()));
            self.final_ = false;
        }
        self.last_seen = Some(now);
        if self.local_state == State::Up && self.expire_at.is_some() {
            self.expire_at = Some(now + self.detection_time());
        }
        events
    }

    /// Takes the session administratively down (keepalived does when it cannot open the session's
    /// socket): nothing is sent or received until [`Session::enable`].
    pub fn disable(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        let from = self.local_state;
        self.local_state = State::AdminDown;
        self.local_diagnostic = Diagnostic::ADMIN_DOWN;
        self.send_at = None;
        self.reset_at = None;
        self.fall(false, &mut events);
        events.push(self.changed(from));
        events
    }

    /// Back to Down from AdminDown; an active session starts sending.
    pub fn enable(&mut self, now: Instant) -> Vec<Event> {
        if self.local_state != State::AdminDown {
            return Vec::new();
        }
        self.local_state = State::Down;
        self.local_diagnostic = Diagnostic::NONE;
        if !self.config.passive {
            self.schedule_send(now);
        }
        vec![self.changed(State::AdminDown)]
    }

    /// The packet this session sends now.
    fn packet(&mut self) -> Control {
        // Answering a poll while wanting one of our own: the parameters go with the final.
        if self.poll && self.final_ {
            self.poll = false;
        }
        let desired_min_tx = if self.local_state == State::Up {
            self.config.min_tx
        } else {
            self.config.idle_tx
        };
        Control {
            diagnostic: self.local_diagnostic,
            state: self.local_state,
            poll: self.poll,
            final_: self.final_,
            control_plane_independent: false,
            authentication: false,
            demand: false,
            multipoint: false,
            detect_mult: self.config.multiplier,
            my_discriminator: self.local_discriminator,
            your_discriminator: self.remote_discriminator,
            desired_min_tx: micros(desired_min_tx),
            required_min_rx: micros(self.config.min_rx),
            required_min_echo_rx: 0,
        }
    }

    fn changed(&self, from: State) -> Event {
        Event::StateChanged {
            from,
            to: self.local_state,
            diagnostic: self.local_diagnostic,
            remote_diagnostic: self.remote_diagnostic,
        }
    }

    fn go_down(&mut self, diagnostic: Diagnostic, now: Instant, events: &mut Vec<Event>) {
        let from = self.local_state;
        if from == State::Up {
            self.local_discriminator = self.new_discriminator();
        }
        self.local_state = State::Down;
        self.local_diagnostic = diagnostic;
        self.reset_at = Some(now + self.detection_time());
        if self.config.passive {
            self.send_at = None;
        }
        events.push(self.changed(from));
        self.fall(from == State::Up, events);
    }

    /// What Down and AdminDown share.
    fn fall(&mut self, report: bool, events: &mut Vec<Event>) {
        self.local_tx = micros(self.config.idle_tx).max(self.remote_min_rx);
        self.expire_at = None;
        // A neighbour that went AdminDown is not a failure (RFC 5882 3.2): keepalived does not report it.
        if report && self.remote_state != State::AdminDown {
            events.push(Event::Report { up: false });
        }
    }

    fn rise(&mut self, from: State, now: Instant, events: &mut Vec<Event>) {
        self.local_diagnostic = Diagnostic::NONE;
        self.reset_at = None;
        if self.expire_at.is_none() {
            self.expire_at = Some(now + self.detection_time());
        }
        events.push(self.changed(from));
    }

    fn go_up(&mut self, now: Instant, events: &mut Vec<Event>) {
        let from = self.local_state;
        self.local_state = State::Up;
        self.rise(from, now, events);
        // The Up packets carry min_tx instead of idle_tx: a poll sequence makes the change count.
        if self.config.idle_tx != self.config.min_tx && !self.final_ {
            self.poll = true;
        }
        events.push(Event::Report { up: true });
    }

    fn go_init(&mut self, now: Instant, events: &mut Vec<Event>) {
        let from = self.local_state;
        self.local_state = State::Init;
        self.rise(from, now, events);
        if self.config.passive && self.send_at.is_none() {
            self.schedule_send(now);
        }
    }

    /// A detection time after going Down the remote's variables are forgotten (keepalived's
    /// `bfd_reset_state`).
    fn reset(&mut self) {
        self.remote_state = State::Down;
        self.remote_discriminator = 0;
        self.remote_diagnostic = Diagnostic::NONE;
        self.remote_demand = false;
        self.poll = false;
        self.final_ = false;
        self.local_tx = micros(self.config.idle_tx).max(self.remote_min_rx);
    }

    /// The next periodic packet: the transmit interval less 0–25 % (RFC 5880 6.8.7; 10–25 % with a
    /// multiplier of 1).
    fn schedule_send(&mut self, now: Instant) {
        let interval = u64::from(self.local_tx);
        let least = if self.config.multiplier == 1 {
            interval / 10
        } else {
            0
        };
        let most = interval / 4;
        let jitter = least + self.next_random() % (most - least + 1);
        self.send_at = Some(now + Duration::from_micros(interval - jitter));
    }

    fn new_discriminator(&mut self) -> u32 {
        loop {
            let value = (self.next_random() >> 32) as u32;
            if value != 0 && value != self.local_discriminator {
                return value;
            }
        }
    }

    /// xorshift64*: enough for jitter and discriminators.
    fn next_random(&mut self) -> u64 {
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
