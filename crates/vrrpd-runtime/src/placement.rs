//! Where the daemon runs and how it names itself, as keepalived 2.2.7 decides it from `-s` and
//! the configuration's top-level `net_namespace`, `instance` and `use_pid_dir`:
//!
//! - the network namespace it enters (`/run/netns/NAME`, as `ip netns` makes them), with
//!   `/run/keepalived/NAME` mounted on `/run/keepalived` in a mount namespace of its own, so that
//!   daemons in different namespaces keep their pid files apart while the host sees them all;
//! - its pid files: `/run/keepalived.pid`, `/run/vrrp.pid`, `/run/checkers.pid`, or in
//!   `/run/keepalived/` with a namespace, an instance name (`keepalived_NAME.pid`, …) or
//!   `use_pid_dir`;
//! - its syslog identity, with `_NAMESPACE` and `_INSTANCE` appended.

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use keepalived_config::model::GlobalDefs;
use log::{error, info};

use crate::logging::{self, LogSettings};
use crate::process::{PidFile, PidFileError};
use nix::errno::Errno;
use nix::mount::{MsFlags, mount, umount};
use nix::sched::{CloneFlags, setns, unshare};

/// The directory of the pid files without a directory of their own, and with one.
const RUN_DIRECTORY: &str = "/run";
const PID_DIRECTORY: &str = "/run/keepalived";
/// Where `ip netns add` leaves the named network namespaces.
const NAMESPACE_DIRECTORY: &str = "/run/netns";

/// Which process a pid file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidName {
    /// keepalived's parent (vrrpd's main process).
    Main,
    /// The VRRP process (vrrpd's main process too).
    Vrrp,
    /// The checker process.
    Checkers,
}

impl PidName {
    fn stem(self) -> &'static str {
        match self {
            PidName::Main => "keepalived",
            PidName::Vrrp => "vrrp",
            PidName::Checkers => "checkers",
        }
    }
}

/// A pid file as the command line gives it (`-p`, `-r`, `-c`), else keepalived's default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PidChoice {
    pub given: Option<PathBuf>,
    pub name: PidName,
}

impl PidChoice {
    pub fn resolve(&self, placement: &Placement) -> PathBuf {
        self.given
            .clone()
            .unwrap_or_else(|| placement.pid_file(self.name))
    }
}

/// The namespace, instance name and pid directory a daemon runs with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    pub namespace: Option<String>,
    pub instance: Option<String>,
    pub pid_directory: bool,
}

impl Placement {
    /// From the command line's namespace (`-s`), which wins over the configuration's (with
    /// keepalived's line), and the configuration.
    pub fn new(command_line: Option<&str>, global: &GlobalDefs) -> Self {
        let namespace = match (command_line, &global.net_namespace) {
            (Some(given), Some(configured)) => {
                info!(
                    "Overriding config net_namespace '{configured}' with command line namespace '{given}'"
                );
                Some(given.to_owned())
            }
            (given, configured) => given.map(str::to_owned).or_else(|| configured.clone()),
        };
        let instance = global.instance_name.clone();
        let pid_directory = global.use_pid_dir || namespace.is_some() || instance.is_some();
        Placement {
            namespace,
            instance,
            pid_directory,
        }
    }

    /// Whether the syslog identity changes (a namespace or an instance name).
    pub fn renames(&self) -> bool {
        self.namespace.is_some() || self.instance.is_some()
    }

    /// `base` with `_NAMESPACE` and `_INSTANCE` appended (keepalived's `make_syslog_ident`).
    pub fn ident(&self, base: &str) -> String {
        let mut ident = base.to_owned();
        for part in [&self.namespace, &self.instance].into_iter().flatten() {
            ident.push('_');
            ident.push_str(part);
        }
        ident
    }

    /// With a namespace or an instance name, syslog lines go under `log`'s identity with their
    /// suffixes; keepalived's parent says so (`announced`), its children change silently.
    pub fn rename_syslog(&self, log: &LogSettings, announced: bool) {
        if !self.renames() {
            return;
        }
        if announced {
            info!("Changing syslog ident to {}", self.ident("Keepalived"));
        }
        logging::set_syslog_ident(log, &self.ident(&log.ident));
    }

    /// Writes the pid files chosen, here.
    pub fn create_pid_files(&self, choices: &[PidChoice]) -> Result<Vec<PidFile>, PidFileError> {
        choices
            .iter()
            .map(|choice| PidFile::create(&choice.resolve(self)))
            .collect()
    }

    /// The default pid file of `name`.
    pub fn pid_file(&self, name: PidName) -> PathBuf {
        let directory = if self.pid_directory {
            PID_DIRECTORY
        } else {
            RUN_DIRECTORY
        };
        let file = match &self.instance {
            Some(instance) => format!("{}_{instance}.pid", name.stem()),
            None => format!("{}.pid", name.stem()),
        };
        Path::new(directory).join(file)
    }

    /// Makes the pid directory and enters the network namespace, with keepalived's lines; an
    /// error when the namespace cannot be entered (keepalived then exits). What is made is
    /// taken away when the returned value is dropped, after the pid files.
    pub fn enter(&self) -> Result<RunDirectory, NamespaceError> {
        let mut run = RunDirectory {
            pid_directory: self.pid_directory,
            mounted: None,
        };
        if self.pid_directory {
            if let Err(e) = make_directory(Path::new(PID_DIRECTORY)) {
                error!("Unable to create directory {PID_DIRECTORY}: {e}");
            }
        }
        if let Some(namespace) = &self.namespace {
            enter_network_namespace(namespace)?;
            run.mounted = mount_own_pid_directory(namespace);
        }
        Ok(run)
    }
}

/// The network namespace could not be entered.
#[derive(Debug, thiserror::Error)]
#[error("Unable to set network namespace {0} - exiting")]
pub struct NamespaceError(String);

fn enter_network_namespace(namespace: &str) -> Result<(), NamespaceError> {
    let path = Path::new(NAMESPACE_DIRECTORY).join(namespace);
    let file = fs::File::open(&path).map_err(|_| {
        info!("Failed to open {}", path.display());
        NamespaceError(namespace.to_owned())
    })?;
    setns(file.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| {
        info!("setns() failed with error {}", e as i32);
        NamespaceError(namespace.to_owned())
    })
}

/// `/run/keepalived/NAMESPACE` mounted on `/run/keepalived` in a mount namespace of the
/// daemon's own (its children's too); the directory mounted, if it was.
fn mount_own_pid_directory(namespace: &str) -> Option<PathBuf> {
    let own = Path::new(PID_DIRECTORY).join(namespace);
    // With its parent: another daemon stopping meanwhile may have removed it.
    if make_directories(&own).is_err() {
        info!("Unable to create directory {}", own.display());
        return None;
    }
    if let Err(e) = unshare(CloneFlags::CLONE_NEWNS) {
        info!("mount unshare failed ({}) '{}'", e as i32, e.desc());
        return None;
    }
    // Mounts are shared under systemd: what is mounted here must not show outside.
    if let Err(e) = mount(
        Some(""),
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    ) {
        info!("Mount slave failed, error ({}) '{}'", e as i32, e.desc());
    }
    if let Err(e) = mount(
        Some(&own),
        PID_DIRECTORY,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    ) {
        info!("Mount failed, error ({}) '{}'", e as i32, e.desc());
        return None;
    }
    Some(own)
}

fn make_directory(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().mode(0o755).create(path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

fn make_directories(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .mode(0o755)
        .recursive(true)
        .create(path)
}

/// The pid directory and the namespace's mount, taken away when dropped: unmounted, and the
/// directories removed if nothing else is in them.
pub struct RunDirectory {
    pid_directory: bool,
    mounted: Option<PathBuf>,
}

impl Drop for RunDirectory {
    fn drop(&mut self) {
        if let Some(own) = self.mounted.take() {
            if let Err(e) = umount(PID_DIRECTORY) {
                info!("unmount of {PID_DIRECTORY} failed - errno {}", e as i32);
            }
            match fs::remove_dir(&own) {
                Err(e)
                    if !matches!(
                        e.raw_os_error().map(Errno::from_raw),
                        Some(Errno::ENOTEMPTY | Errno::EBUSY)
                    ) =>
                {
                    info!("unlink of {} failed - {e}", own.display());
                }
                _ => {}
            }
        }
        if self.pid_directory {
            // Another daemon's files may still be there.
            let _ = fs::remove_dir(PID_DIRECTORY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(namespace: Option<&str>, instance: Option<&str>, use_pid_dir: bool) -> GlobalDefs {
        GlobalDefs {
            net_namespace: namespace.map(str::to_owned),
            instance_name: instance.map(str::to_owned),
            use_pid_dir,
            ..GlobalDefs::default()
        }
    }

    #[test]
    fn pid_files_are_keepalived_s() {
        let plain = Placement::new(None, &global(None, None, false));
        assert_eq!(
            plain.pid_file(PidName::Main),
            Path::new("/run/keepalived.pid")
        );
        assert_eq!(plain.pid_file(PidName::Vrrp), Path::new("/run/vrrp.pid"));
        assert_eq!(
            plain.pid_file(PidName::Checkers),
            Path::new("/run/checkers.pid")
        );
        assert!(!plain.renames());
        let directory = Placement::new(None, &global(None, None, true));
        assert_eq!(
            directory.pid_file(PidName::Vrrp),
            Path::new("/run/keepalived/vrrp.pid")
        );
        assert!(!directory.renames());
        // An instance name puts them in the directory too, with its name.
        let instance = Placement::new(None, &global(None, Some("foo"), false));
        assert_eq!(
            instance.pid_file(PidName::Main),
            Path::new("/run/keepalived/keepalived_foo.pid")
        );
        assert_eq!(
            instance.pid_file(PidName::Checkers),
            Path::new("/run/keepalived/checkers_foo.pid")
        );
        let namespace = Placement::new(None, &global(Some("blue"), None, false));
        assert_eq!(
            namespace.pid_file(PidName::Vrrp),
            Path::new("/run/keepalived/vrrp.pid")
        );
        let given = PidChoice {
            given: Some("/tmp/x.pid".into()),
            name: PidName::Main,
        };
        assert_eq!(given.resolve(&namespace), Path::new("/tmp/x.pid"));
    }

    #[test]
    fn the_command_line_s_namespace_wins_and_names_the_identity() {
        let placement = Placement::new(Some("red"), &global(Some("blue"), Some("foo"), false));
        assert_eq!(placement.namespace.as_deref(), Some("red"));
        assert!(placement.renames() && placement.pid_directory);
        assert_eq!(placement.ident("Keepalived"), "Keepalived_red_foo");
        assert_eq!(
            Placement::new(None, &global(None, Some("foo"), false)).ident("Keepalived_vrrp"),
            "Keepalived_vrrp_foo"
        );
        assert_eq!(
            Placement::new(None, &global(Some("blue"), None, false)).ident("Keepalived"),
            "Keepalived_blue"
        );
    }
}
