/// An IPVS generic-netlink command (`IPVS_CMD_*`), the `cmd` byte of the genl header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Add a service; also the command of each service in a dump reply.
    NewService,
    /// Modify a service.
    SetService,
    /// Delete a service.
    DelService,
    /// Get one service, or dump them all.
    GetService,
    /// Add a destination; also the command of each destination in a dump reply.
    NewDest,
    /// Modify a destination.
    SetDest,
    /// Delete a destination.
    DelDest,
    /// Dump the destinations of a service.
    GetDest,
    /// Start a sync daemon; also the command of each daemon in a dump reply.
    NewDaemon,
    /// Stop a sync daemon.
    DelDaemon,
    /// Dump the running sync daemons.
    GetDaemon,
    /// Set the timeouts; also the command of the timeouts reply.
    SetConfig,
    /// Get the timeouts.
    GetConfig,
    /// Only used as the command of the reply to [`Command::GetInfo`].
    SetInfo,
    /// Get the version and connection table size.
    GetInfo,
    /// Zero the counters of one service or all.
    Zero,
    /// Delete every service and destination.
    Flush,
    /// A command number this library does not know.
    Other(u8),
}

impl Command {
    /// The kernel's command number.
    pub const fn to_raw(self) -> u8 {
        match self {
            Command::NewService => 1,
            Command::SetService => 2,
            Command::DelService => 3,
            Command::GetService => 4,
            Command::NewDest => 5,
            Command::SetDest => 6,
            Command::DelDest => 7,
            Command::GetDest => 8,
            Command::NewDaemon => 9,
            Command::DelDaemon => 10,
            Command::GetDaemon => 11,
            Command::SetConfig => 12,
            Command::GetConfig => 13,
            Command::SetInfo => 14,
            Command::GetInfo => 15,
            Command::Zero => 16,
            Command::Flush => 17,
            Command::Other(raw) => raw,
        }
    }

    /// The command for a kernel command number.
    pub const fn from_raw(raw: u8) -> Self {
        match raw {
            1 => Command::NewService,
            2 => Command::SetService,
            3 => Command::DelService,
            4 => Command::GetService,
            5 => Command::NewDest,
            6 => Command::SetDest,
            7 => Command::DelDest,
            8 => Command::GetDest,
            9 => Command::NewDaemon,
            10 => Command::DelDaemon,
            11 => Command::GetDaemon,
            12 => Command::SetConfig,
            13 => Command::GetConfig,
            14 => Command::SetInfo,
            15 => Command::GetInfo,
            16 => Command::Zero,
            17 => Command::Flush,
            _ => Command::Other(raw),
        }
    }

    /// Whether the top-level attributes of this command are the `IPVS_INFO_ATTR_*` ones,
    /// whose numbers overlap the usual `IPVS_CMD_ATTR_*`.
    pub const fn carries_info(self) -> bool {
        matches!(self, Command::SetInfo | Command::GetInfo)
    }
}
