//! `lvs_sync_daemon`: the kernel's IPVS connection-sync daemons follow one VRRP instance, as keepalived
//! 2.2.7's VRRP process drives them. A master director runs the master daemon (it multicasts its connection
//! table), every other director the backup daemon (it receives), so the backup already holds the
//! connections when it takes over the VIP.
//!
//! `lvs_sync_daemon` naming no instance is the checker process's instead (`check_daemon.c`,
//! `checker_ipvs_syncd_needed`): it runs the master and the backup daemon together for as long as it runs
//! (see [`CheckerSync`]).
//!
//! Everything here decides without I/O: a state goes in, the kernel operations come out; the daemon sends
//! them through the `ipvs` client ([`send`]).

use ipvs::Client;
use ipvs::model::{DaemonState, SyncDaemon};
use keepalived_config::model::{self, VrrpInstance};
use log::{debug, warn};
use vrrp::State;

/// What `lvs_sync_daemon` (or an instance's `lvs_sync_daemon_interface`) resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSettings {
    /// The VRRP instance whose state the daemons follow.
    pub instance: String,
    /// The daemon a start asks the kernel for (its state is set per start).
    pub daemon: SyncDaemon,
}

/// Why the configuration asks for no sync daemon although it names one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// keepalived drops the whole `lvs_sync_daemon` then.
    #[error("Unable to find vrrp instance {0} for lvs_syncd - clearing lvs_syncd config")]
    UnknownInstance(String),
}

/// The sync daemon settings of a configuration: the global `lvs_sync_daemon` if it names an instance,
/// else the first instance with the deprecated `lvs_sync_daemon_interface`. The global keyword's sync id
/// defaults to the instance's VRID, the deprecated keyword's is 0 (keepalived 2.2.7 sets the VRID only
/// for the global form); maxlen, port, TTL and group left out are left to the kernel (1472 or 1452,
/// 8848, 1, 224.0.0.81).
pub fn settings(config: &model::Config) -> Result<Option<SyncSettings>, SettingsError> {
    if let Some(global) = &config.global.lvs_sync_daemon {
        // Without an instance keepalived's VRRP process leaves the daemons alone.
        let Some(name) = &global.instance else {
            return Ok(None);
        };
        let instance =
            find(config, name).ok_or_else(|| SettingsError::UnknownInstance(name.clone()))?;
        let mut daemon = SyncDaemon::new(DaemonState::Backup, global.interface.clone());
        daemon.sync_id = u32::from(global.sync_id.unwrap_or(instance.vrid));
        daemon.max_length = global.max_len;
        daemon.port = global.port;
        daemon.ttl = global.ttl;
        daemon.group = global.group;
        return Ok(Some(SyncSettings {
            instance: name.clone(),
            daemon,
        }));
    }
    Ok(config.instances.iter().find_map(|instance| {
        let interface = instance.lvs_sync_daemon_interface.as_ref()?;
        Some(SyncSettings {
            instance: instance.name.clone(),
            daemon: SyncDaemon::new(DaemonState::Backup, interface.clone()),
        })
    }))
}

fn find<'a>(config: &'a model::Config, name: &str) -> Option<&'a VrrpInstance> {
    config
        .instances
        .iter()
        .find(|instance| instance.name == name)
}

/// One request to the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncOp {
    /// `IPVS_CMD_NEW_DAEMON`.
    Start(SyncDaemon),
    /// `IPVS_CMD_DEL_DAEMON`; `quiet` when a failure is expected and not worth a log line (nothing was
    /// running).
    Stop { state: DaemonState, quiet: bool },
}

impl std::fmt::Display for SyncOp {
    /// For the log: `starting the master sync daemon (eth0, syncid 51)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = |state: &DaemonState| match state {
            DaemonState::Master => "master",
            _ => "backup",
        };
        match self {
            SyncOp::Start(daemon) => write!(
                f,
                "starting the {} sync daemon ({}, syncid {})",
                side(&daemon.state),
                daemon.interface,
                daemon.sync_id
            ),
            SyncOp::Stop { state, .. } => write!(f, "stopping the {} sync daemon", side(state)),
        }
    }
}

/// The daemon that matches an instance's state: master only while the instance is master.
pub fn daemon_state_for(state: State) -> DaemonState {
    match state {
        State::Master => DaemonState::Master,
        _ => DaemonState::Backup,
    }
}

impl SyncSettings {
    fn start(&self, state: DaemonState) -> SyncOp {
        SyncOp::Start(SyncDaemon {
            state,
            ..self.daemon.clone()
        })
    }

    /// At start the backup daemon starts (every instance starts out of MASTER, even a priority-255
    /// owner). A daemon an earlier run left behind is not stopped, as keepalived 2.2.7 does not: a
    /// leftover master daemon makes the later master start fail, a leftover backup daemon this start.
    pub fn at_start(&self) -> Vec<SyncOp> {
        vec![self.start(DaemonState::Backup)]
    }

    /// The instance's state is now `state` while `running` is the daemon started last: entering MASTER
    /// swaps the backup daemon for a master one, leaving it swaps back.
    pub fn follow(&self, running: DaemonState, state: State) -> Vec<SyncOp> {
        let wanted = daemon_state_for(state);
        if wanted == running {
            return Vec::new();
        }
        vec![
            SyncOp::Stop {
                state: running,
                quiet: false,
            },
            self.start(wanted),
        ]
    }

    /// At SIGTERM, before the instances give up MASTER: the running daemon stops.
    pub fn at_stop(&self, running: DaemonState) -> Vec<SyncOp> {
        vec![SyncOp::Stop {
            state: running,
            quiet: false,
        }]
    }
}

/// The sync daemons of keepalived's checker process: `lvs_sync_daemon` without a VRRP instance. Both
/// daemons run side by side from start to stop, whatever VRRP does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerSync {
    /// The daemon a start asks the kernel for (its state is set per start); sync id 0 unless `id`.
    pub daemon: SyncDaemon,
    /// Whether `id` was given: keepalived compares the unset id of a new configuration with the 0
    /// it defaulted to, so without `id` every reload restarts the daemons.
    pub id_given: bool,
}

impl CheckerSync {
    /// The checker process's sync daemons of a configuration: only for `lvs_sync_daemon` without an
    /// instance (with one, even one that does not exist, they are the VRRP process's or nobody's).
    pub fn of(config: &model::Config) -> Option<Self> {
        let global = config.global.lvs_sync_daemon.as_ref()?;
        if global.instance.is_some() {
            return None;
        }
        let mut daemon = SyncDaemon::new(DaemonState::Master, global.interface.clone());
        daemon.sync_id = u32::from(global.sync_id.unwrap_or(0));
        daemon.max_length = global.max_len;
        daemon.port = global.port;
        daemon.ttl = global.ttl;
        daemon.group = global.group;
        Some(CheckerSync {
            daemon,
            id_given: global.sync_id.is_some(),
        })
    }

    fn start_both(&self) -> Vec<SyncOp> {
        [DaemonState::Master, DaemonState::Backup]
            .into_iter()
            .map(|state| {
                SyncOp::Start(SyncDaemon {
                    state,
                    ..self.daemon.clone()
                })
            })
            .collect()
    }

    /// At start: whatever an earlier run left is stopped (failures ignored), then the master and the
    /// backup daemon start.
    pub fn at_start(&self) -> Vec<SyncOp> {
        let mut ops = stop_leftovers();
        ops.extend(self.start_both());
        ops
    }

    /// SIGHUP to `new`, `old` being the running configuration's: keepalived stops both daemons only
    /// when the settings changed (or `id` is not given), and asks for both again in any case (a
    /// daemon still running refuses, which is logged). A reload to a configuration without one does
    /// nothing: the daemons keep running, and are not stopped at stop either.
    pub fn at_reload(old: Option<&CheckerSync>, new: Option<&CheckerSync>) -> Vec<SyncOp> {
        let Some(new) = new else {
            return Vec::new();
        };
        let changed = match old {
            Some(old) => !new.id_given || old.daemon != new.daemon,
            None => true,
        };
        let mut ops = if changed {
            stop_leftovers()
        } else {
            Vec::new()
        };
        ops.extend(new.start_both());
        ops
    }

    /// At stop: both daemons stopped, failures ignored.
    pub fn at_stop(&self) -> Vec<SyncOp> {
        stop_leftovers()
    }
}

/// Sends sync daemon requests; a failure is logged and the rest still go, as keepalived does.
pub fn send(client: &mut Client, ops: Vec<SyncOp>) {
    for op in ops {
        let (result, quiet) = match &op {
            SyncOp::Start(daemon) => (client.start_daemon(daemon), false),
            SyncOp::Stop { state, quiet } => (client.stop_daemon(*state), *quiet),
        };
        match result {
            Ok(()) => debug!("IPVS: {op}"),
            Err(e) if !quiet => warn!("IPVS: {op}: {e}"),
            Err(_) => {}
        }
    }
}

/// Both daemons stopped, failures ignored (nothing may be running).
fn stop_leftovers() -> Vec<SyncOp> {
    [DaemonState::Master, DaemonState::Backup]
        .into_iter()
        .map(|state| SyncOp::Stop { state, quiet: true })
        .collect()
}

/// SIGHUP: the daemon of the old configuration stops, and the new configuration's starts in the state of
/// its instance (a master keeps a master daemon), with the new settings.
pub fn at_reload(
    old: Option<(&SyncSettings, DaemonState)>,
    new: Option<(&SyncSettings, State)>,
) -> Vec<SyncOp> {
    let mut ops = Vec::new();
    if let Some((_, running)) = old {
        ops.push(SyncOp::Stop {
            state: running,
            quiet: false,
        });
    }
    if let Some((settings, state)) = new {
        ops.extend(stop_leftovers());
        ops.push(settings.start(daemon_state_for(state)));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::env::FixedEnvironment;
    use keepalived_config::{LoadOptions, load};
    use std::net::IpAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    /// Reads `text` as a keepalived.conf.
    fn config(text: &str) -> model::Config {
        let dir = std::env::temp_dir().join(format!(
            "vrrpd-sync-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join("keepalived.conf");
        std::fs::write(&path, text).expect("write configuration");
        let env = FixedEnvironment::minimal().with_interfaces(["eth0", "eth1", "eth2", "eth3"]);
        let loaded = load(&path.to_string_lossy(), &LoadOptions::default(), &env);
        let _ = std::fs::remove_dir_all(&dir);
        loaded.config
    }

    const INSTANCE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n \
                            virtual_ipaddress {\n 10.0.0.1\n }\n}\n";

    fn with_global(global: &str) -> model::Config {
        config(&format!("global_defs {{\n {global}\n}}\n{INSTANCE}"))
    }

    fn stop(state: DaemonState, quiet: bool) -> SyncOp {
        SyncOp::Stop { state, quiet }
    }

    #[test]
    fn sync_id_defaults_to_the_instance_vrid_and_the_rest_to_the_kernel() {
        let settings = settings(&with_global("lvs_sync_daemon eth1 VI_1"))
            .unwrap()
            .unwrap();
        assert_eq!(settings.instance, "VI_1");
        assert_eq!(
            settings.daemon,
            SyncDaemon {
                sync_id: 51,
                ..SyncDaemon::new(DaemonState::Backup, "eth1")
            }
        );
    }

    #[test]
    fn every_option_reaches_the_start_request() {
        let settings = settings(&with_global(
            "lvs_sync_daemon eth1 inst VI_1 id 7 maxlen 1200 port 9000 ttl 3 group 239.1.2.3",
        ))
        .unwrap()
        .unwrap();
        let daemon = settings.daemon;
        assert_eq!(daemon.interface, "eth1");
        assert_eq!(daemon.sync_id, 7);
        assert_eq!(daemon.max_length, Some(1200));
        assert_eq!(daemon.port, Some(9000));
        assert_eq!(daemon.ttl, Some(3));
        assert_eq!(daemon.group, Some("239.1.2.3".parse::<IpAddr>().unwrap()));
    }

    #[test]
    fn an_unknown_instance_clears_the_sync_daemon() {
        assert_eq!(
            settings(&with_global("lvs_sync_daemon eth1 VI_9")),
            Err(SettingsError::UnknownInstance("VI_9".into()))
        );
    }

    #[test]
    fn no_instance_and_no_keyword_mean_no_daemon() {
        assert_eq!(settings(&with_global("lvs_sync_daemon eth1")), Ok(None));
        assert_eq!(settings(&config(INSTANCE)), Ok(None));
    }

    #[test]
    fn the_deprecated_instance_keyword_takes_sync_id_0() {
        let text = "vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 42\n priority 100\n \
                    lvs_sync_daemon_interface eth3\n virtual_ipaddress {\n 10.0.0.2\n }\n}\n";
        let settings = settings(&config(text)).unwrap().unwrap();
        assert_eq!(settings.instance, "VI_2");
        assert_eq!(settings.daemon.interface, "eth3");
        assert_eq!(settings.daemon.sync_id, 0);
    }

    #[test]
    fn start_runs_a_backup_daemon_only() {
        let settings = settings(&with_global("lvs_sync_daemon eth1 VI_1 id 5"))
            .unwrap()
            .unwrap();
        assert_eq!(
            settings.at_start(),
            vec![SyncOp::Start(SyncDaemon {
                sync_id: 5,
                ..SyncDaemon::new(DaemonState::Backup, "eth1")
            })]
        );
    }

    #[test]
    fn entering_and_leaving_master_swap_the_daemons() {
        let settings = settings(&with_global("lvs_sync_daemon eth1 VI_1"))
            .unwrap()
            .unwrap();
        let master = SyncDaemon {
            sync_id: 51,
            ..SyncDaemon::new(DaemonState::Master, "eth1")
        };
        let backup = SyncDaemon {
            state: DaemonState::Backup,
            ..master.clone()
        };
        assert_eq!(
            settings.follow(DaemonState::Backup, State::Master),
            vec![stop(DaemonState::Backup, false), SyncOp::Start(master)]
        );
        for state in [State::Backup, State::Fault] {
            assert_eq!(
                settings.follow(DaemonState::Master, state),
                vec![
                    stop(DaemonState::Master, false),
                    SyncOp::Start(backup.clone())
                ]
            );
        }
        for state in [State::Init, State::Backup, State::Fault] {
            assert!(settings.follow(DaemonState::Backup, state).is_empty());
        }
        assert!(
            settings
                .follow(DaemonState::Master, State::Master)
                .is_empty()
        );
    }

    #[test]
    fn log_lines_name_the_side_interface_and_id() {
        let settings = settings(&with_global("lvs_sync_daemon eth1 VI_1"))
            .unwrap()
            .unwrap();
        let ops = settings.follow(DaemonState::Backup, State::Master);
        let lines: Vec<String> = ops.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "stopping the backup sync daemon",
                "starting the master sync daemon (eth1, syncid 51)"
            ]
        );
    }

    #[test]
    fn stop_ends_the_running_daemon_only() {
        let settings = settings(&with_global("lvs_sync_daemon eth1 VI_1"))
            .unwrap()
            .unwrap();
        assert_eq!(
            settings.at_stop(DaemonState::Master),
            vec![stop(DaemonState::Master, false)]
        );
        assert_eq!(
            settings.at_stop(DaemonState::Backup),
            vec![stop(DaemonState::Backup, false)]
        );
    }

    #[test]
    fn without_an_instance_the_checker_runs_both_daemons() {
        assert_eq!(
            CheckerSync::of(&with_global("lvs_sync_daemon eth1 VI_1")),
            None
        );
        assert_eq!(
            CheckerSync::of(&with_global("lvs_sync_daemon eth1 VI_9")),
            None
        );
        assert_eq!(CheckerSync::of(&config(INSTANCE)), None);
        let sync = CheckerSync::of(&with_global("lvs_sync_daemon eth1 port 9000"))
            .expect("the checker's daemons");
        assert!(!sync.id_given);
        let master = SyncDaemon {
            port: Some(9000),
            ..SyncDaemon::new(DaemonState::Master, "eth1")
        };
        let backup = SyncDaemon {
            state: DaemonState::Backup,
            ..master.clone()
        };
        assert_eq!(
            sync.at_start(),
            vec![
                stop(DaemonState::Master, true),
                stop(DaemonState::Backup, true),
                SyncOp::Start(master),
                SyncOp::Start(backup),
            ]
        );
        assert_eq!(
            sync.at_stop(),
            vec![
                stop(DaemonState::Master, true),
                stop(DaemonState::Backup, true)
            ]
        );
    }

    #[test]
    fn the_checker_restarts_its_daemons_on_reload_as_keepalived_decides() {
        let with_id = CheckerSync::of(&with_global("lvs_sync_daemon eth1 id 4")).unwrap();
        let without_id = CheckerSync::of(&with_global("lvs_sync_daemon eth1")).unwrap();
        let moved = CheckerSync::of(&with_global("lvs_sync_daemon eth2 id 4")).unwrap();
        let starts = |ops: &[SyncOp]| {
            ops.iter()
                .filter(|op| matches!(op, SyncOp::Start(_)))
                .count()
        };
        let stops = |ops: &[SyncOp]| {
            ops.iter()
                .filter(|op| matches!(op, SyncOp::Stop { .. }))
                .count()
        };
        // The same settings with an id: no stop, and both asked for again.
        let ops = CheckerSync::at_reload(Some(&with_id), Some(&with_id));
        assert_eq!((stops(&ops), starts(&ops)), (0, 2));
        // Without an id, or with other settings: stopped, then started.
        let ops = CheckerSync::at_reload(Some(&without_id), Some(&without_id));
        assert_eq!((stops(&ops), starts(&ops)), (2, 2));
        let ops = CheckerSync::at_reload(Some(&with_id), Some(&moved));
        assert_eq!((stops(&ops), starts(&ops)), (2, 2));
        assert_eq!(
            ops.last(),
            Some(&SyncOp::Start(SyncDaemon {
                sync_id: 4,
                ..SyncDaemon::new(DaemonState::Backup, "eth2")
            }))
        );
        // Gone from the configuration: left running.
        assert!(CheckerSync::at_reload(Some(&with_id), None).is_empty());
    }

    #[test]
    fn reload_restarts_with_the_new_settings_in_the_instance_state() {
        let old = settings(&with_global("lvs_sync_daemon eth1 VI_1"))
            .unwrap()
            .unwrap();
        let new = settings(&with_global("lvs_sync_daemon eth2 VI_1 id 9"))
            .unwrap()
            .unwrap();
        let ops = at_reload(
            Some((&old, DaemonState::Master)),
            Some((&new, State::Master)),
        );
        assert_eq!(
            ops,
            vec![
                stop(DaemonState::Master, false),
                stop(DaemonState::Master, true),
                stop(DaemonState::Backup, true),
                SyncOp::Start(SyncDaemon {
                    sync_id: 9,
                    ..SyncDaemon::new(DaemonState::Master, "eth2")
                }),
            ]
        );
        // Dropped from the configuration: only the stop.
        assert_eq!(
            at_reload(Some((&old, DaemonState::Backup)), None),
            vec![stop(DaemonState::Backup, false)]
        );
        // Added by the reload: a backup instance gets the backup daemon.
        assert_eq!(
            at_reload(None, Some((&new, State::Backup))).last(),
            Some(&SyncOp::Start(SyncDaemon {
                sync_id: 9,
                ..SyncDaemon::new(DaemonState::Backup, "eth2")
            }))
        );
    }
}
