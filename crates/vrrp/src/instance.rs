//! One VRRP instance: the RFC 9568 §6 state machine with keepalived 2.2.7's choices, driven by the daemon.
//!
//! Nothing here reads a clock: every input carries `now`, and [`Instance::poll_timeout`] says when the daemon
//! must call [`Instance::handle_timeout`] next. Every input returns the [`Action`]s to carry out, in order.
//!
//! Timers, in microseconds like keepalived:
//! * Skew_Time: VRRPv2 (256 − priority)/256 s whatever the interval; VRRPv3 (256 − priority)/256 × the master's
//!   advert interval (truncated to whole microseconds).
//! * Master_Down_Interval: `down_timer_adverts` (3) × the master's advert interval + Skew_Time, started at every
//!   accepted advert; a priority-0 advert starts Skew_Time alone.
//! * Adver_Timer: the advert interval, restarted whenever the master sends.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use log::{info, warn};

use crate::DETAIL;
use crate::action::{Action, State};
use crate::config::{Authentication, Config, ConfigError, InitialState, UnicastChecksum};
use crate::receive::{self, DropReason, Expectations, Statistics};
use crate::wire::advert::{IP_PROTOCOL as IP_PROTOCOL_VRRP, PRIORITY_OWNER, PRIORITY_STOP};
use crate::wire::ah::{self, AhHeader};
use crate::wire::ipv4::{IpIdCounter, Ipv4Header, VRRP_TTL};
use crate::wire::{AdvertInterval, Advertisement, AuthType, Datagram, Family, Version, WireError};

/// One packet to send for an advert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub destination: IpAddr,
    /// IPv4: the whole packet, IPv4 header (and AH header) included, for a raw socket with IP_HDRINCL.
    /// IPv6: the VRRP message, for a raw IPPROTO_VRRP socket with hop limit 255 and traffic class 0xc0 (the
    /// kernel writes the IPv6 header; keepalived also lets it fill the checksum, which this one already has).
    pub payload: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("no source address yet (the interface has no usable address)")]
    NoSourceAddress,
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// Why an instance is in FAULT; it leaves FAULT when none is left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Faults {
    interface_down: bool,
    tracker: bool,
    sync_group: bool,
}

impl Faults {
    fn any(self) -> bool {
        self.interface_down || self.tracker || self.sync_group
    }
}

/// At most this many delayed lower-priority bursts wait at once, whatever a peer floods us with.
const MAX_PENDING_LOWER_PRIORITY_BURSTS: usize = 64;

/// Gratuitous ARP bursts still to come while master.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct GarpTimers {
    /// Second burst after becoming master.
    master_delay: Option<Instant>,
    /// Repetitions of the bursts sent on hearing lower priorities: keepalived schedules one per such advert
    /// (measured: one every second while a lower-priority peer advertises). In time order.
    lower_priority: VecDeque<Instant>,
    /// Next periodic refresh.
    refresh: Option<Instant>,
}

impl GarpTimers {
    fn earliest(&self) -> Option<Instant> {
        [
            self.master_delay,
            self.lower_priority.front().copied(),
            self.refresh,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[derive(Debug)]
pub struct Instance {
    config: Config,
    state: State,
    /// The configured priority, unless lowered from 255 after a clash with another address owner.
    base_priority: u8,
    priority_adjustment: i32,
    effective_priority: u8,
    /// The advert interval of the current master: ours for VRRPv2 and as master, learnt from adverts in VRRPv3.
    master_advert_interval: AdvertInterval,
    /// Down timer in BACKUP, advert timer in MASTER.
    timer: Option<Instant>,
    garp: GarpTimers,
    /// The last router seen advertising as master (keepalived's `master_saddr`).
    master_source: Option<IpAddr>,
    /// When `preempt_delay` runs out, once started by a lower-priority advert.
    preempt_until: Option<Instant>,
    faults: Faults,
    /// Sync-group members: the down timer ran out, the group has not yet let us become master.
    wants_master: bool,
    /// `vrrp_startup_delay`: until then a backup's down timer counts from this instant, not from now.
    start_delay_until: Option<Instant>,
    source_address: Option<IpAddr>,
    ip_ids: IpIdCounter,
    /// keepalived's one AH sequence counter: numbers sent, and the last number accepted from others.
    ah_sequence: u32,
    /// How VRRPv3 unicast checksums are summed now: [`UnicastChecksum::Detect`] turns into `Legacy` for good
    /// once a peer is found to be an old keepalived.
    unicast_checksum: UnicastChecksum,
    statistics: Statistics,
}

impl Instance {
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            base_priority: config.priority,
            priority_adjustment: 0,
            effective_priority: config.priority,
            master_advert_interval: config.advert_interval,
            source_address: config.source_address,
            unicast_checksum: config.unicast_checksum,
            config,
            state: State::Init,
            timer: None,
            garp: GarpTimers::default(),
            master_source: None,
            preempt_until: None,
            faults: Faults::default(),
            wants_master: false,
            start_delay_until: None,
            ip_ids: IpIdCounter::new(),
            ah_sequence: 0,
            statistics: Statistics::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    pub fn statistics(&self) -> &Statistics {
        &self.statistics
    }

    /// The advert interval of the current master (VRRPv3 backups learn it from the master's adverts).
    pub fn master_advert_interval(&self) -> AdvertInterval {
        self.master_advert_interval
    }

    /// Sync-group members only: whether this instance is ready for MASTER (it is, or its down timer ran out).
    pub fn wants_master(&self) -> bool {
        self.state == State::Master || (self.state == State::Backup && self.wants_master)
    }

    /// Whether the instance is in FAULT for a reason of its own (not because its sync group is).
    pub fn has_own_fault(&self) -> bool {
        self.faults.interface_down || self.faults.tracker
    }

    /// When [`Self::handle_timeout`] must be called next, if at all.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.timer, self.garp.earliest()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Skew_Time for our current effective priority.
    pub fn skew_time(&self) -> Duration {
        let interval_micros = match self.config.version {
            Version::V2 => 1_000_000,
            Version::V3 => self.master_advert_interval.as_micros(),
        };
        let weight = u64::from(256 - u16::from(self.effective_priority));
        Duration::from_micros(weight * interval_micros / 256)
    }

    /// Master_Down_Interval for our current effective priority.
    pub fn master_down_interval(&self) -> Duration {
        self.master_advert_interval.as_duration() * u32::from(self.config.down_timer_adverts)
            + self.skew_time()
    }

    /// `vrrp_startup_delay`: no down timer runs out before `until` plus its own length, so the instance cannot
    /// become master before then (keepalived's `vrrp_delayed_start_time`). Adverts are heard as usual.
    pub fn delay_start(&mut self, until: Instant) {
        self.start_delay_until = Some(until);
    }

    /// When a down timer of length `wait` armed at `now` runs out: counted from the end of the start-up
    /// delay while it lasts.
    fn down_deadline(&self, now: Instant, wait: Duration) -> Instant {
        match self.start_delay_until {
            Some(until) if now < until => until + wait,
            _ => now + wait,
        }
    }

    /// Starts the instance: removes VIPs left over from a previous run and enters BACKUP, or MASTER at once for
    /// an address owner configured `state MASTER`, or FAULT when a fault is already known.
    pub fn start(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = self.start_cleanup(now);
        actions.extend(self.start_state(now));
        actions
    }

    /// The first half of [`Instance::start`], for a caller that carries it out before the second so that its
    /// log lines come in keepalived's order ("removing VIPs." before "Entering BACKUP STATE (init)"): the
    /// removal of VIPs left over, unless the instance becomes master at once.
    pub fn start_cleanup(&self, now: Instant) -> Vec<Action> {
        if self.state != State::Init || (!self.faults.any() && self.starts_master(now)) {
            return Vec::new();
        }
        vec![Action::RemoveVips]
    }

    /// An address owner configured `state MASTER` outside a sync group and not held back by a start-up delay.
    fn starts_master(&self, now: Instant) -> bool {
        let owner_starts_master =
            self.config.initial_state == InitialState::Master && self.config.is_address_owner();
        let delayed = self.start_delay_until.is_some_and(|until| now < until);
        owner_starts_master && !self.config.in_sync_group && !delayed
    }

    /// The second half of [`Instance::start`]: the state the instance starts in.
    pub fn start_state(&mut self, now: Instant) -> Vec<Action> {
        if self.state != State::Init {
            return Vec::new();
        }
        if self.faults.any() {
            info!("({}) Entering FAULT STATE (init)", self.config.name);
            self.state = State::Fault;
            return vec![Action::Notify(State::Fault)];
        }
        if self.starts_master(now) {
            return self.become_master(now);
        }
        let owner_starts_master =
            self.config.initial_state == InitialState::Master && self.config.is_address_owner();
        let delayed = self.start_delay_until.is_some_and(|until| now < until);
        info!("({}) Entering BACKUP STATE (init)", self.config.name);
        let actions = self.enter_backup(now);
        self.wants_master = owner_starts_master && self.config.in_sync_group;
        if owner_starts_master && delayed {
            // The owner takes over as soon as the delay is over.
            self.timer = Some(self.down_deadline(now, Duration::ZERO));
        }
        actions
    }

    /// Handles whatever timers are due at `now`: adverts as master, the down timer as backup, GARP bursts.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.timer.is_some_and(|deadline| deadline <= now) {
            match self.state {
                State::Master => {
                    actions.push(self.send_advert(self.effective_priority));
                    self.timer = Some(now + self.config.advert_interval.as_duration());
                }
                State::Backup => actions.extend(self.master_down(now)),
                State::Init | State::Fault | State::Stopped => self.timer = None,
            }
        }
        if self.state == State::Master {
            actions.extend(self.due_gratuitous(now));
        }
        actions
    }

    /// Handles a received datagram for this instance's VRID. Returns why it was dropped, if it was.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        datagram: &Datagram<'_>,
    ) -> Result<Vec<Action>, DropReason> {
        let result = self.accept(datagram);
        match &result {
            Ok((advert, _)) => self.statistics.count_accepted(advert.priority),
            Err(reason) => self.statistics.count_drop(reason),
        }
        let (advert, source) = result?;
        Ok(self.handle_advert(now, source, &advert))
    }

    /// Validates a datagram as keepalived would in the current state.
    fn accept(&mut self, datagram: &Datagram<'_>) -> Result<(Advertisement, IpAddr), DropReason> {
        if !matches!(self.state, State::Backup | State::Master) {
            return Err(DropReason::NotListening);
        }
        let envelope = datagram.open()?;
        let from_current_master = self.master_source == Some(envelope.source);
        let expect = Expectations {
            version: self.config.version,
            vrid: self.config.vrid,
            advert_interval: self.config.advert_interval,
            authentication: &self.config.authentication,
            virtual_addresses: &self.config.virtual_addresses,
            unicast_peers: &self.config.unicast_peers,
            check_unicast_source: self.config.check_unicast_source,
            // skip_check_adv_addr spares only a backup's current master; a master always checks.
            check_addresses: self.state == State::Master
                || !self.config.skip_check_advert_addresses
                || !from_current_master,
            ah_sequence: self.ah_sequence,
            multicast_group: self.config.multicast_group(),
            unicast_checksum: self.unicast_checksum,
        };
        let accepted = receive::validate(&expect, &envelope)?;
        if let Some(header) = envelope.ipv4.and_then(|ipv4| ipv4.ah) {
            self.ah_sequence = header.sequence;
        }
        if accepted.legacy_checksum_detected {
            info!(
                "({}) Setting unicast VRRPv3 checksum to old version",
                self.config.name
            );
            self.unicast_checksum = UnicastChecksum::Legacy;
        }
        Ok((accepted.advert, envelope.source))
    }

    /// Handles an advert that passed validation (see [`Self::handle_datagram`]).
    pub fn handle_advert(
        &mut self,
        now: Instant,
        source: IpAddr,
        advert: &Advertisement,
    ) -> Vec<Action> {
        match self.state {
            State::Backup => self.backup_received(now, source, advert),
            State::Master => self.master_received(now, source, advert),
            State::Init | State::Fault | State::Stopped => Vec::new(),
        }
    }

    /// The interface went up or down (ignored for `dont_track_primary`, which is the daemon's call).
    pub fn set_interface_up(&mut self, now: Instant, up: bool) -> Vec<Action> {
        self.update_faults(
            now,
            Faults {
                interface_down: !up,
                ..self.faults
            },
        )
    }

    /// A weight-0 tracker (script, interface, file, process…) failed or recovered.
    pub fn set_tracker_fault(&mut self, now: Instant, failed: bool) -> Vec<Action> {
        self.update_faults(
            now,
            Faults {
                tracker: failed,
                ..self.faults
            },
        )
    }

    /// For [`crate::SyncGroup`]: another member is in FAULT.
    pub fn set_sync_group_fault(&mut self, now: Instant, failed: bool) -> Vec<Action> {
        self.update_faults(
            now,
            Faults {
                sync_group: failed,
                ..self.faults
            },
        )
    }

    /// Sets the sum of the weights of the trackers that currently adjust the priority. The effective priority
    /// is the base priority plus this, kept within 1..=254; an address owner's 255 never changes.
    pub fn set_priority_adjustment(&mut self, _now: Instant, adjustment: i32) -> Vec<Action> {
        self.priority_adjustment = adjustment;
        self.recompute_priority()
    }

    /// Sets the address adverts are sent from (the interface's primary or link-local address), unless the
    /// configuration fixed one. It also breaks ties between equal priorities.
    pub fn set_source_address(&mut self, address: Option<IpAddr>) {
        if self.config.source_address.is_none() {
            self.source_address = address;
        }
    }

    pub fn source_address(&self) -> Option<IpAddr> {
        self.source_address
    }

    /// Takes a new configuration for the same instance (SIGHUP) without changing state, as keepalived 2.2.7 does
    /// (measured): a master keeps its VIPs and sends two adverts at once, then advertises on a new phase; if its
    /// VIP list changed it configures the VIPs and sends one GARP burst for all of them (no second burst).
    pub fn reload(&mut self, now: Instant, config: Config) -> Result<Vec<Action>, ConfigError> {
        config.validate()?;
        let same_instance = (config.family, config.version, config.vrid)
            == (self.config.family, self.config.version, self.config.vrid);
        if !same_instance {
            return Err(ConfigError::ReloadChangesIdentity);
        }
        let vips_changed = config.virtual_addresses != self.config.virtual_addresses;
        if let Some(address) = config.source_address {
            self.source_address = Some(address);
        }
        self.base_priority = config.priority;
        self.unicast_checksum = config.unicast_checksum;
        self.config = config;
        let mut actions = self.recompute_priority();
        if self.state == State::Master {
            self.master_advert_interval = self.config.advert_interval;
            actions.push(self.send_advert(self.effective_priority));
            actions.push(self.send_advert(self.effective_priority));
            if vips_changed {
                actions.push(Action::AddVips);
                actions.push(Action::SendGratuitous {
                    repeat: self.config.garp.master_repeat,
                });
            }
            self.timer = Some(now + self.config.advert_interval.as_duration());
        }
        Ok(actions)
    }

    /// Stops gracefully: a master sends exactly one priority-0 advert, so that a backup takes over after
    /// Skew_Time, and removes its VIPs.
    pub fn shutdown(&mut self, _now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.state == State::Stopped {
            return actions;
        }
        if self.state == State::Master {
            actions.push(self.send_advert(PRIORITY_STOP));
            info!(target: DETAIL, "({}) sent 0 priority", self.config.name);
            actions.push(Action::RemoveVips);
        }
        self.state = State::Stopped;
        self.timer = None;
        self.garp = GarpTimers::default();
        actions.push(Action::Notify(State::Stopped));
        actions
    }

    /// For [`crate::SyncGroup`]: becomes master now, as the group decided.
    pub fn force_master(&mut self, now: Instant) -> Vec<Action> {
        match self.state {
            State::Backup => self.become_master(now),
            _ => Vec::new(),
        }
    }

    /// For [`crate::SyncGroup`]: leaves MASTER for BACKUP, as another member did.
    pub fn force_backup(&mut self, now: Instant) -> Vec<Action> {
        match self.state {
            State::Master => self.leave_master(now),
            _ => Vec::new(),
        }
    }

    /// Builds the packets of one advert with `priority` (one per unicast peer, or one to the multicast group).
    /// Each call is one advert: it takes the next IPv4 ID (shared by the unicast copies) and AH sequence number.
    pub fn encode_advert(&mut self, priority: u8) -> Result<Vec<Transmit>, EncodeError> {
        let source = self.source_address.ok_or(EncodeError::NoSourceAddress)?;
        let advert = self.advertisement(priority);
        let destinations: Vec<IpAddr> = if self.config.unicast_peers.is_empty() {
            vec![self.config.multicast_group()]
        } else {
            self.config
                .unicast_peers
                .iter()
                .map(|peer| peer.address)
                .collect()
        };
        let identification = self.ip_ids.next_id();
        let ah_sequence = match self.config.authentication {
            Authentication::Ah(_) => {
                self.ah_sequence = self.ah_sequence.saturating_add(1);
                Some(self.ah_sequence)
            }
            _ => None,
        };
        destinations
            .into_iter()
            .map(|destination| {
                let message = advert.emit(source, self.summed_destination(destination))?;
                let payload = match (source, destination) {
                    (IpAddr::V4(source), IpAddr::V4(destination)) => {
                        self.ipv4_packet(source, destination, identification, ah_sequence, message)?
                    }
                    _ => message,
                };
                Ok(Transmit {
                    destination,
                    payload,
                })
            })
            .collect()
    }

    /// The destination VRRPv3 sums in its pseudo-header: the real one, or the multicast group for old keepalived.
    fn summed_destination(&self, destination: IpAddr) -> IpAddr {
        let unicast_v3_over_ipv4 = self.config.version == Version::V3
            && !self.config.unicast_peers.is_empty()
            && destination.is_ipv4();
        if unicast_v3_over_ipv4 && self.unicast_checksum == UnicastChecksum::Legacy {
            self.config.multicast_group()
        } else {
            destination
        }
    }

    /// The advert this instance sends with `priority`.
    pub fn advertisement(&self, priority: u8) -> Advertisement {
        let (auth_type, auth_data) = match self.config.authentication {
            Authentication::None => (AuthType::None, [0; 8]),
            Authentication::Password(password) => (AuthType::Pass, password),
            Authentication::Ah(_) => (AuthType::Ah, [0; 8]),
        };
        Advertisement {
            version: self.config.version,
            vrid: self.config.vrid,
            priority,
            interval: self.config.advert_interval,
            // Configuration keeps authentication to VRRPv2.
            auth_type,
            auth_data,
            addresses: self.config.virtual_addresses.clone(),
        }
    }

    /// The IPv4 packet keepalived sends: its own header, then the AH header when authenticating with AH.
    fn ipv4_packet(
        &self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        identification: u16,
        ah_sequence: Option<u32>,
        message: Vec<u8>,
    ) -> Result<Vec<u8>, WireError> {
        let unicast = !self.config.unicast_peers.is_empty();
        let ttl = if unicast {
            self.config.unicast_ttl
        } else {
            VRRP_TTL
        };
        let header = |protocol: u8, payload_len: usize| {
            Ipv4Header::for_advert(
                source,
                destination,
                protocol,
                identification,
                ttl,
                payload_len,
            )
        };
        match (self.config.authentication, ah_sequence) {
            (Authentication::Ah(key), Some(sequence)) => {
                let header = header(ah::IP_PROTOCOL, ah::HEADER_LEN + message.len())?;
                let mut ah_header = AhHeader::for_advert(source, sequence);
                let raw_header = header.to_bytes_with_checksum(0);
                ah_header.icv = ah::compute_icv(&key, &raw_header, &ah_header, &message, unicast);
                Ok([
                    header.to_bytes().as_slice(),
                    &ah_header.to_bytes(),
                    &message,
                ]
                .concat())
            }
            _ => {
                let header = header(IP_PROTOCOL_VRRP, message.len())?;
                Ok([header.to_bytes().as_slice(), &message].concat())
            }
        }
    }

    fn send_advert(&mut self, priority: u8) -> Action {
        self.statistics.advert_sent += 1;
        if priority == PRIORITY_STOP {
            self.statistics.pri_zero_sent += 1;
        }
        Action::SendAdvert { priority }
    }

    /// RFC 9568 §6.4.2 in BACKUP, with keepalived's preempt_delay and sync-group hold.
    fn backup_received(
        &mut self,
        now: Instant,
        source: IpAddr,
        advert: &Advertisement,
    ) -> Vec<Action> {
        if advert.priority == PRIORITY_STOP {
            self.timer = Some(self.down_deadline(now, self.skew_time()));
            return Vec::new();
        }
        let lower = advert.priority < self.effective_priority;
        let preempt_delay_running = !self.config.preempt_delay.is_zero()
            && self.preempt_until.is_none_or(|until| until > now);
        if !self.config.preempt || !lower || preempt_delay_running {
            if self.config.version == Version::V3 {
                self.master_advert_interval = advert.interval;
            }
            self.timer = Some(self.down_deadline(now, self.master_down_interval()));
            self.master_source = Some(source);
            self.wants_master = false;
            if !self.config.preempt_delay.is_zero() {
                if !lower {
                    self.preempt_until = None;
                } else if self.preempt_until.is_none() {
                    info!(
                        "({}) start preempt delay ({:?})",
                        self.config.name, self.config.preempt_delay
                    );
                    self.preempt_until = Some(now + self.config.preempt_delay);
                }
            }
        } else {
            info!(
                "({}) received lower priority ({}) advert from {} - discarding",
                self.config.name, advert.priority, source
            );
            self.master_source = Some(source);
        }
        Vec::new()
    }

    /// RFC 9568 §6.4.3 in MASTER, with keepalived's answers to lower priorities and owner clashes.
    fn master_received(
        &mut self,
        now: Instant,
        source: IpAddr,
        advert: &Advertisement,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let ours = self
            .source_address
            .unwrap_or_else(|| unspecified(self.config.family));
        let beats_us =
            |priority: u8, mine: u8| priority > mine || (priority == mine && source > ours);

        if advert.priority == PRIORITY_STOP
            || (self.config.higher_priority_send_advert
                && beats_us(advert.priority, self.effective_priority))
        {
            actions.push(self.send_advert(self.effective_priority));
            self.timer = Some(now + self.config.advert_interval.as_duration());
            if advert.priority == PRIORITY_STOP {
                return actions;
            }
        }

        if advert.priority == self.effective_priority {
            if source == ours {
                warn!(
                    "({}) WARNING - equal priority advert received from remote host with our IP address.",
                    self.config.name
                );
            } else if self.effective_priority == PRIORITY_OWNER {
                warn!(
                    "({}) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority",
                    self.config.name
                );
                self.base_priority = PRIORITY_OWNER - 1;
                actions.extend(self.recompute_priority());
            }
        }

        if advert.priority < self.effective_priority
            || (advert.priority == self.effective_priority && source < ours)
        {
            info!(
                "({}) Received advert from {} with lower priority {}, ours {}{}",
                self.config.name,
                source,
                advert.priority,
                self.effective_priority,
                if self.config.lower_priority_no_advert {
                    ""
                } else {
                    ", forcing new election"
                }
            );
            if !self.config.lower_priority_no_advert {
                actions.push(self.send_advert(self.effective_priority));
                self.timer = Some(now + self.config.advert_interval.as_duration());
            }
            if self.config.garp.lower_priority_repeat > 0 {
                actions.push(Action::SendGratuitous {
                    repeat: self.config.garp.lower_priority_repeat,
                });
                let pending = &mut self.garp.lower_priority;
                if let Some(delay) = self.config.garp.lower_priority_delay {
                    if pending.len() < MAX_PENDING_LOWER_PRIORITY_BURSTS {
                        pending.push_back(now + delay);
                    }
                }
            }
            actions.push(Action::MasterReceivedLowerPriority { from: source });
            return actions;
        }

        if beats_us(advert.priority, self.effective_priority) {
            info!(
                "({}) Master received advert from {} with higher priority {}, ours {}",
                self.config.name, source, advert.priority, self.effective_priority
            );
            if self.config.version == Version::V3 {
                self.master_advert_interval = advert.interval;
            }
            self.master_source = Some(source);
            actions.extend(self.leave_master(now));
        }
        actions
    }

    /// The down timer ran out: the master is gone (or preempted).
    fn master_down(&mut self, now: Instant) -> Vec<Action> {
        info!("({}) Receive advertisement timeout", self.config.name);
        if self.config.in_sync_group {
            // keepalived re-arms the timer and waits until every member of the group wants MASTER.
            self.wants_master = true;
            self.timer = Some(self.down_deadline(now, self.master_down_interval()));
            return Vec::new();
        }
        self.become_master(now)
    }

    /// First an advert (so that the old master drops the VIPs before our GARPs), then the VIPs, then the GARPs.
    fn become_master(&mut self, now: Instant) -> Vec<Action> {
        info!("({}) Entering MASTER STATE", self.config.name);
        self.state = State::Master;
        self.master_advert_interval = self.config.advert_interval;
        self.wants_master = false;
        self.preempt_until = None;
        self.statistics.become_master += 1;
        let mut actions = vec![self.send_advert(self.effective_priority), Action::AddVips];
        if self.config.garp.master_repeat > 0 {
            actions.push(Action::SendGratuitous {
                repeat: self.config.garp.master_repeat,
            });
        }
        actions.push(Action::Notify(State::Master));
        self.timer = Some(now + self.config.advert_interval.as_duration());
        self.garp = GarpTimers {
            master_delay: self.config.garp.master_delay.map(|delay| now + delay),
            lower_priority: VecDeque::new(),
            refresh: self.config.garp.master_refresh.map(|refresh| now + refresh),
        };
        actions
    }

    /// MASTER → BACKUP, without a priority-0 advert (keepalived sends none when it hears a higher priority).
    fn leave_master(&mut self, now: Instant) -> Vec<Action> {
        info!("({}) Entering BACKUP STATE", self.config.name);
        self.statistics.release_master += 1;
        self.garp = GarpTimers::default();
        let mut actions = vec![Action::RemoveVips];
        actions.extend(self.enter_backup(now));
        actions
    }

    fn enter_backup(&mut self, now: Instant) -> Vec<Action> {
        self.state = State::Backup;
        self.preempt_until = None;
        self.wants_master = false;
        self.timer = Some(self.down_deadline(now, self.master_down_interval()));
        vec![Action::Notify(State::Backup)]
    }

    fn update_faults(&mut self, now: Instant, faults: Faults) -> Vec<Action> {
        let was_faulty = self.faults.any();
        self.faults = faults;
        match (was_faulty, faults.any(), self.state) {
            (false, true, State::Master) => {
                info!("({}) Entering FAULT STATE", self.config.name);
                // keepalived logs it for a fault of the instance's own, not for one its sync group imposes.
                if self.has_own_fault() {
                    info!(target: DETAIL, "({}) sent 0 priority", self.config.name);
                }
                self.statistics.release_master += 1;
                let mut actions = vec![self.send_advert(PRIORITY_STOP), Action::RemoveVips];
                actions.extend(self.enter_fault());
                actions
            }
            (false, true, State::Backup) => {
                info!("({}) Entering FAULT STATE", self.config.name);
                self.enter_fault()
            }
            (true, false, State::Fault) => self.leave_fault(now),
            _ => Vec::new(),
        }
    }

    fn enter_fault(&mut self) -> Vec<Action> {
        self.state = State::Fault;
        self.timer = None;
        self.garp = GarpTimers::default();
        self.wants_master = false;
        vec![Action::Notify(State::Fault)]
    }

    /// Out of FAULT: an address owner outside a sync group becomes master at once (RFC 9568 §6.4.1), anybody
    /// else waits in BACKUP for a full down interval.
    fn leave_fault(&mut self, now: Instant) -> Vec<Action> {
        self.master_advert_interval = self.config.advert_interval;
        self.master_source = None;
        if self.base_priority == PRIORITY_OWNER && !self.config.in_sync_group {
            return self.become_master(now);
        }
        info!("({}) Entering BACKUP STATE", self.config.name);
        self.enter_backup(now)
    }

    fn recompute_priority(&mut self) -> Vec<Action> {
        let priority = if self.base_priority == PRIORITY_OWNER {
            PRIORITY_OWNER
        } else {
            let adjusted = i64::from(self.base_priority) + i64::from(self.priority_adjustment);
            adjusted.clamp(1, i64::from(PRIORITY_OWNER - 1)) as u8
        };
        if priority == self.effective_priority {
            return Vec::new();
        }
        info!(
            "({}) Changing effective priority from {} to {}",
            self.config.name, self.effective_priority, priority
        );
        self.effective_priority = priority;
        vec![Action::PriorityChanged { priority }]
    }

    fn due_gratuitous(&mut self, now: Instant) -> Vec<Action> {
        let garp = self.config.garp;
        let mut actions = Vec::new();
        if self.garp.master_delay.is_some_and(|at| at <= now) {
            self.garp.master_delay = None;
            actions.push(Action::SendGratuitous {
                repeat: garp.master_repeat,
            });
        }
        while self
            .garp
            .lower_priority
            .front()
            .is_some_and(|at| *at <= now)
        {
            self.garp.lower_priority.pop_front();
            actions.push(Action::SendGratuitous {
                repeat: garp.lower_priority_repeat,
            });
        }
        if self.garp.refresh.is_some_and(|at| at <= now) {
            self.garp.refresh = garp.master_refresh.map(|refresh| now + refresh);
            actions.push(Action::SendGratuitous {
                repeat: garp.master_refresh_repeat,
            });
        }
        actions.retain(|action| !matches!(action, Action::SendGratuitous { repeat: 0 }));
        actions
    }
}

/// The address that loses every tie, for an instance that does not know its own yet.
fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}
