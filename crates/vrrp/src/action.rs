//! What the state machine asks the daemon to do, and the states it reports.

use std::fmt;
use std::net::IpAddr;

/// The state of an instance (RFC 9568 §6.4 plus keepalived's FAULT and the end of life).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Created, not started.
    Init,
    Backup,
    Master,
    /// The interface is down or a weight-0 tracker failed: the instance neither sends nor listens.
    Fault,
    /// Shut down.
    Stopped,
}

impl fmt::Display for State {
    /// The names keepalived uses in notify scripts and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stopped => "STOP",
        })
    }
}

/// One thing for the daemon to do, in the order returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send one advert with this priority; [`crate::Instance::encode_advert`] builds the packets (one per
    /// unicast peer).
    SendAdvert { priority: u8 },
    /// Configure the virtual addresses (and keepalived's excluded VIPs, routes and rules).
    AddVips,
    /// Remove them.
    RemoveVips,
    /// Send gratuitous ARPs / unsolicited NAs: `repeat` rounds, each round one message per VIP in configuration
    /// order (VIP1, VIP2, …, VIP1, VIP2, …), for the excluded VIPs too.
    SendGratuitous { repeat: u32 },
    /// Run the notify scripts and notification FIFO for entering this state.
    Notify(State),
    /// keepalived's `notify_master_rx_lower_pri`: as master, an advert with a lower priority came from `from`.
    MasterReceivedLowerPriority { from: IpAddr },
    /// The effective priority changed (for `notify_priority_changes`).
    PriorityChanged { priority: u8 },
}
