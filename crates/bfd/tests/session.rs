//! Two sessions wired back to back, time passed in: the three-way handshake, the poll sequence that
//! moves to the fast intervals, detection, a neighbour signalling Down, and the jitter bounds.

use std::time::{Duration, Instant};

use bfd::{Control, Diagnostic, Event, Session, SessionConfig, State};

fn config(min: u64, multiplier: u8) -> SessionConfig {
    SessionConfig {
        min_rx: Duration::from_millis(min),
        min_tx: Duration::from_millis(min),
        idle_tx: Duration::from_secs(1),
        multiplier,
        passive: false,
    }
}

fn sent(events: &[Event]) -> Vec<Control> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Send(c) => Some(*c),
            _ => None,
        })
        .collect()
}

fn reports(events: &[Event]) -> Vec<bool> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Report { up } => Some(*up),
            _ => None,
        })
        .collect()
}

/// Runs two sessions over a lossless, instant link until `until`, delivering every packet; returns
/// what each reported.
struct Link {
    a: Session,
    b: Session,
    now: Instant,
    reports_a: Vec<(Instant, bool)>,
    reports_b: Vec<(Instant, bool)>,
    /// Packets are dropped while this is set.
    cut: bool,
    /// Sends seen from a.
    sent_a: Vec<(Instant, Control)>,
}

impl Link {
    fn new(a: SessionConfig, b: SessionConfig) -> Link {
        let now = Instant::now();
        let mut link = Link {
            a: Session::new(a, 1),
            b: Session::new(b, 2),
            now,
            reports_a: Vec::new(),
            reports_b: Vec::new(),
            cut: false,
            sent_a: Vec::new(),
        };
        let ea = link.a.start(now);
        let eb = link.b.start(now);
        link.deliver(ea, true);
        link.deliver(eb, false);
        link
    }

    fn deliver(&mut self, events: Vec<Event>, from_a: bool) {
        let mut queue = vec![(events, from_a)];
        while let Some((events, from_a)) = queue.pop() {
            for up in reports(&events) {
                if from_a {
                    self.reports_a.push((self.now, up));
                } else {
                    self.reports_b.push((self.now, up));
                }
            }
            for packet in sent(&events) {
                if from_a {
                    self.sent_a.push((self.now, packet));
                }
                if self.cut {
                    continue;
                }
                let reply = if from_a {
                    self.b.handle_packet(&packet, self.now)
                } else {
                    self.a.handle_packet(&packet, self.now)
                };
                queue.push((reply, !from_a));
            }
        }
    }

    fn run_until(&mut self, until: Instant) {
        loop {
            let next = [self.a.next_deadline(), self.b.next_deadline()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next.filter(|&n| n <= until) else {
                self.now = until;
                return;
            };
            self.now = next;
            let ea = self.a.handle_timeout(next);
            self.deliver(ea, true);
            let eb = self.b.handle_timeout(next);
            self.deliver(eb, false);
        }
    }
}

#[test]
fn the_handshake_brings_both_up_and_a_poll_moves_them_to_the_fast_interval() {
    let mut link = Link::new(config(100, 3), config(100, 3));
    let start = link.now;
    // The first packets (both Down) cross at start: both Init; the next ones, within the idle
    // interval, bring both up.
    assert_eq!(link.a.state(), State::Init);
    assert_eq!(link.b.state(), State::Init);
    link.run_until(start + Duration::from_secs(1));
    assert_eq!(link.a.state(), State::Up);
    assert_eq!(link.b.state(), State::Up);
    for reports in [&link.reports_a, &link.reports_b] {
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0], (start, false));
        assert!(reports[1].1 && reports[1].0 > start);
    }
    assert_eq!(link.a.remote_discriminator(), link.b.local_discriminator());
    assert_eq!(link.b.remote_discriminator(), link.a.local_discriminator());
    link.run_until(start + Duration::from_secs(3));
    // After the poll sequence the intervals are the fast ones: 100 ms, detection 300 ms.
    assert_eq!(link.a.transmit_interval(), Duration::from_millis(100));
    assert_eq!(link.a.detection_time(), Duration::from_millis(300));
    assert_eq!(link.b.detection_time(), Duration::from_millis(300));
    // Every interval between a's periodic packets is within 75–100 % of the interval in force.
    let fast: Vec<Instant> = link
        .sent_a
        .iter()
        .filter(|(at, c)| *at > start + Duration::from_millis(1500) && !c.final_)
        .map(|(at, _)| *at)
        .collect();
    assert!(fast.len() >= 12, "{} packets", fast.len());
    for pair in fast.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(75) && gap <= Duration::from_millis(100),
            "{gap:?}"
        );
    }
    // Up packets carry min_tx, the session stays up.
    assert!(link.sent_a.iter().any(|(_, c)| c.poll));
    assert_eq!(link.reports_a.len(), 2);
}

#[test]
fn silence_takes_the_session_down_after_the_detection_time() {
    let mut link = Link::new(config(100, 3), config(100, 3));
    link.run_until(link.now + Duration::from_secs(3));
    let cut_at = link.now;
    link.cut = true;
    link.run_until(cut_at + Duration::from_secs(1));
    assert_eq!(link.a.state(), State::Down);
    let (down_at, up) = *link.reports_a.last().expect("reported");
    assert!(!up);
    let took = down_at - cut_at;
    // The last packet came at most one interval before the cut; detection is 300 ms.
    assert!(
        took >= Duration::from_millis(200) && took <= Duration::from_millis(300),
        "{took:?}"
    );
    // Back: both up again, each reporting it once more.
    link.cut = false;
    link.run_until(link.now + Duration::from_secs(3));
    assert_eq!(link.a.state(), State::Up);
    assert_eq!(link.b.state(), State::Up);
    assert_eq!(link.reports_a.iter().filter(|(_, up)| *up).count(), 2);
}

#[test]
fn a_peer_signalling_down_takes_an_up_session_down_and_admin_down_is_not_reported() {
    let now = Instant::now();
    let mut s = Session::new(config(100, 3), 7);
    s.start(now);
    let mut peer = Control {
        diagnostic: Diagnostic::NONE,
        state: State::Down,
        poll: false,
        final_: false,
        control_plane_independent: false,
        authentication: false,
        demand: false,
        multipoint: false,
        detect_mult: 3,
        my_discriminator: 99,
        your_discriminator: 0,
        desired_min_tx: 1_000_000,
        required_min_rx: 100_000,
        required_min_echo_rx: 0,
    };
    s.handle_packet(&peer, now);
    assert_eq!(s.state(), State::Init);
    peer.state = State::Up;
    peer.your_discriminator = s.local_discriminator();
    let events = s.handle_packet(&peer, now);
    assert_eq!(s.state(), State::Up);
    assert_eq!(reports(&events), vec![true]);
    // Detection from the peer's 1 s idle interval × 3 (no poll yet).
    assert_eq!(s.detection_time(), Duration::from_secs(3));
    let discriminator = s.local_discriminator();
    peer.state = State::Down;
    peer.diagnostic = Diagnostic::EXPIRED;
    let events = s.handle_packet(&peer, now);
    assert_eq!(s.state(), State::Down);
    assert_eq!(reports(&events), vec![false]);
    assert!(events.contains(&Event::StateChanged {
        from: State::Up,
        to: State::Down,
        diagnostic: Diagnostic::NEIGHBOR_SIGNALED_DOWN,
        remote_diagnostic: Diagnostic::EXPIRED,
    }));
    // keepalived takes a new discriminator when leaving Up.
    assert_ne!(s.local_discriminator(), discriminator);

    // Up again, then the peer says AdminDown: Down, but not reported as a failure.
    peer.state = State::Init;
    peer.your_discriminator = s.local_discriminator();
    s.handle_packet(&peer, now);
    assert_eq!(s.state(), State::Up);
    peer.state = State::AdminDown;
    let events = s.handle_packet(&peer, now);
    assert_eq!(s.state(), State::Down);
    assert!(reports(&events).is_empty());
}

#[test]
fn a_poll_is_answered_at_once_with_final_and_a_final_ends_ours() {
    let now = Instant::now();
    let mut s = Session::new(config(50, 5), 3);
    s.start(now);
    let mut peer = Control {
        diagnostic: Diagnostic::NONE,
        state: State::Init,
        poll: false,
        final_: false,
        control_plane_independent: false,
        authentication: false,
        demand: false,
        multipoint: false,
        detect_mult: 5,
        my_discriminator: 5,
        your_discriminator: s.local_discriminator(),
        desired_min_tx: 1_000_000,
        required_min_rx: 50_000,
        required_min_echo_rx: 0,
    };
    s.handle_packet(&peer, now);
    assert_eq!(s.state(), State::Up);
    // Our next periodic packet starts a poll (idle_tx ≠ min_tx) and offers min_tx.
    let next = s.next_deadline().expect("sending");
    let events = s.handle_timeout(next);
    let ours = sent(&events);
    assert_eq!(ours.len(), 1);
    assert!(ours[0].poll && !ours[0].final_);
    assert_eq!(ours[0].desired_min_tx, 50_000);
    // The peer answers with final and its fast interval: ours drops to 50 ms.
    peer.state = State::Up;
    peer.final_ = true;
    peer.desired_min_tx = 50_000;
    s.handle_packet(&peer, next);
    assert_eq!(s.transmit_interval(), Duration::from_millis(50));
    assert_eq!(s.detection_time(), Duration::from_millis(250));
    // The peer polls: answered at once with final, no poll of ours left.
    peer.final_ = false;
    peer.poll = true;
    let events = s.handle_packet(&peer, next);
    let answer = sent(&events);
    assert_eq!(answer.len(), 1);
    assert!(answer[0].final_ && !answer[0].poll);
}

#[test]
fn a_passive_session_waits_for_the_peer() {
    let now = Instant::now();
    let mut passive = SessionConfig {
        passive: true,
        ..config(100, 3)
    };
    passive.passive = true;
    let mut s = Session::new(passive, 4);
    let events = s.start(now);
    assert!(sent(&events).is_empty());
    assert_eq!(s.next_deadline(), None);
    let mut link = Link::new(passive, config(100, 3));
    link.run_until(link.now + Duration::from_secs(2));
    assert_eq!(link.a.state(), State::Up);
    assert_eq!(link.b.state(), State::Up);
}

#[test]
fn init_without_progress_expires() {
    let now = Instant::now();
    let mut s = Session::new(config(100, 3), 9);
    s.start(now);
    let peer = Control {
        diagnostic: Diagnostic::NONE,
        state: State::Down,
        poll: false,
        final_: false,
        control_plane_independent: false,
        authentication: false,
        demand: false,
        multipoint: false,
        detect_mult: 3,
        my_discriminator: 77,
        your_discriminator: 0,
        desired_min_tx: 1_000_000,
        required_min_rx: 100_000,
        required_min_echo_rx: 0,
    };
    s.handle_packet(&peer, now);
    assert_eq!(s.state(), State::Init);
    let mut at = now;
    while s.state() == State::Init {
        at = s.next_deadline().expect("timers");
        let events = s.handle_timeout(at);
        // Never reported: it was never up.
        assert!(reports(&events).is_empty());
    }
    assert_eq!(s.state(), State::Down);
    assert_eq!(at - now, Duration::from_secs(3));
    assert_eq!(s.remote_discriminator(), 0);
}

#[test]
fn disable_stops_everything_and_enable_starts_again() {
    let now = Instant::now();
    let mut s = Session::new(config(100, 3), 11);
    s.start(now);
    s.disable();
    assert_eq!(s.state(), State::AdminDown);
    assert_eq!(s.next_deadline(), None);
    s.enable(now);
    assert_eq!(s.state(), State::Down);
    assert!(s.next_deadline().is_some());
}
