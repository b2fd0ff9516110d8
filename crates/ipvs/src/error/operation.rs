use std::fmt;

/// What the library was doing when something failed: the libipvs function ipvsadm would have
/// called. Kernel errors are worded per operation (see [`crate::ipvsadm_message`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Resolving the IPVS generic-netlink family.
    ResolveFamily,
    /// `ipvs_getinfo`.
    GetInfo,
    /// `ipvs_add_service`.
    AddService,
    /// `ipvs_update_service`.
    UpdateService,
    /// `ipvs_del_service`.
    DeleteService,
    /// `ipvs_get_service`: one service.
    GetService,
    /// `ipvs_get_services`: the service dump.
    GetServices,
    /// `ipvs_add_dest`.
    AddDestination,
    /// `ipvs_update_dest`.
    UpdateDestination,
    /// `ipvs_del_dest`.
    DeleteDestination,
    /// `ipvs_get_dests`: the destination dump.
    GetDestinations,
    /// `ipvs_zero_service`, for one service or all.
    Zero,
    /// `ipvs_flush`.
    Flush,
    /// `ipvs_set_timeout`.
    SetTimeouts,
    /// `ipvs_get_timeout`.
    GetTimeouts,
    /// `ipvs_start_daemon`.
    StartDaemon,
    /// `ipvs_stop_daemon`.
    StopDaemon,
    /// `ipvs_get_daemon`: the daemon dump.
    GetDaemons,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::ResolveFamily => "resolving the IPVS netlink family",
            Operation::GetInfo => "getting the IPVS information",
            Operation::AddService => "adding a service",
            Operation::UpdateService => "editing a service",
            Operation::DeleteService => "deleting a service",
            Operation::GetService => "getting a service",
            Operation::GetServices => "listing the services",
            Operation::AddDestination => "adding a destination",
            Operation::UpdateDestination => "editing a destination",
            Operation::DeleteDestination => "deleting a destination",
            Operation::GetDestinations => "listing the destinations",
            Operation::Zero => "zeroing the counters",
            Operation::Flush => "flushing the table",
            Operation::SetTimeouts => "setting the timeouts",
            Operation::GetTimeouts => "getting the timeouts",
            Operation::StartDaemon => "starting a sync daemon",
            Operation::StopDaemon => "stopping a sync daemon",
            Operation::GetDaemons => "listing the sync daemons",
        })
    }
}
