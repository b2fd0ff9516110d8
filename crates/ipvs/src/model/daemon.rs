use std::net::IpAddr;

/// Which side of connection synchronisation a daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonState {
    /// Sends connection state (`IP_VS_STATE_MASTER`).
    Master,
    /// Receives connection state (`IP_VS_STATE_BACKUP`).
    Backup,
    /// A value this library does not know, kept as the kernel sent it.
    Other(u32),
}

impl DaemonState {
    /// The kernel's value.
    pub const fn to_raw(self) -> u32 {
        match self {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
            DaemonState::Other(raw) => raw,
        }
    }

    /// The state for a kernel value.
    pub const fn from_raw(raw: u32) -> Self {
        match raw {
            1 => DaemonState::Master,
            2 => DaemonState::Backup,
            _ => DaemonState::Other(raw),
        }
    }
}

/// A connection-synchronisation daemon (`ipvsadm --start-daemon`).
///
/// `None` fields are left out of a start request so that the kernel picks its defaults; the
/// kernel's replies fill every field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    /// Master or backup.
    pub state: DaemonState,
    /// The multicast interface (at most 15 bytes).
    pub interface: String,
    /// The synchronisation id; 0 takes every id.
    pub sync_id: u32,
    /// The largest sync message payload (`--sync-maxlen`).
    pub max_length: Option<u16>,
    /// The multicast group (224.0.0.81 by default).
    pub group: Option<IpAddr>,
    /// The multicast port (8848 by default).
    pub port: Option<u16>,
    /// The multicast TTL (1 by default).
    pub ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon on `interface` with the kernel's defaults.
    pub fn new(state: DaemonState, interface: impl Into<String>) -> Self {
        SyncDaemon {
            state,
            interface: interface.into(),
            sync_id: 0,
            max_length: None,
            group: None,
            port: None,
            ttl: None,
        }
    }
}
