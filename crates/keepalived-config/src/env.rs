//! What the checks need to know about the machine: interfaces, users, scripts, names.
//!
//! keepalived checks a configuration against the running system — a missing interface stops
//! `-t` early, a script that cannot be found is disabled, an unknown user removes a script.
//! Those facts come through [`Environment`] so that the checks can be run against another
//! machine's facts: [`SystemEnvironment`] asks this machine, [`FixedEnvironment`] answers from
//! lists (for tests, and for `vrrpd`'s hidden `--assume-interfaces` option).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A user or group, as looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    /// User id (or group id for a group).
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// What was found for a script's program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramLookup {
    /// Found and executable.
    Found {
        /// The full path.
        path: PathBuf,
        /// Whether the path was found by searching `PATH` (the program had no `/`).
        by_path_search: bool,
        /// Whether every directory of the path and the file itself can only be changed by root
        /// (what `enable_script_security` requires).
        secure: bool,
    },
    /// Not found, or not executable.
    NotFound,
}

/// Facts about the machine the configuration is checked for.
pub trait Environment {
    /// Whether a network interface exists.
    fn interface_exists(&self, name: &str) -> bool;
    /// Whether an existing interface is a macvlan in private mode (an existing VMAC).
    fn is_private_macvlan(&self, name: &str) -> bool {
        let _ = name;
        false
    }
    /// Looks up a user by name.
    fn user(&self, name: &str) -> Option<Ids>;
    /// Looks up a group by name; the result's `uid` field is unused.
    fn group(&self, name: &str) -> Option<u32>;
    /// Finds a script's program (absolute, relative, or by `PATH` search).
    fn program(&self, program: &str) -> ProgramLookup;
    /// Resolves a host name (for `smtp_server`).
    fn resolve_host(&self, name: &str) -> Option<IpAddr>;
    /// Whether we check as root (script security only matters then).
    fn running_as_root(&self) -> bool {
        true
    }
    /// The number of CPUs (`*_cpu_affinity` accepts CPU numbers below it).
    fn cpu_count(&self) -> u32 {
        2
    }
    /// How many questions have been asked of this environment, when it counts them
    /// ([`Counted`]): a block read without asking any reads the same on another day.
    fn questions_asked(&self) -> Option<u64> {
        None
    }
}

/// An environment that counts the questions asked of the one it wraps.
pub struct Counted<'e> {
    inner: &'e dyn Environment,
    asked: std::cell::Cell<u64>,
}

impl<'e> Counted<'e> {
    /// Counts the questions asked of `inner`.
    pub fn new(inner: &'e dyn Environment) -> Self {
        Counted {
            inner,
            asked: std::cell::Cell::new(0),
        }
    }

    fn ask(&self) -> &'e dyn Environment {
        self.asked.set(self.asked.get() + 1);
        self.inner
    }
}

impl Environment for Counted<'_> {
    fn interface_exists(&self, name: &str) -> bool {
        self.ask().interface_exists(name)
    }
    fn is_private_macvlan(&self, name: &str) -> bool {
        self.ask().is_private_macvlan(name)
    }
    fn user(&self, name: &str) -> Option<Ids> {
        self.ask().user(name)
    }
    fn group(&self, name: &str) -> Option<u32> {
        self.ask().group(name)
    }
    fn program(&self, program: &str) -> ProgramLookup {
        self.ask().program(program)
    }
    fn resolve_host(&self, name: &str) -> Option<IpAddr> {
        self.ask().resolve_host(name)
    }
    fn running_as_root(&self) -> bool {
        self.ask().running_as_root()
    }
    fn cpu_count(&self) -> u32 {
        self.ask().cpu_count()
    }
    fn questions_asked(&self) -> Option<u64> {
        Some(self.asked.get())
    }
}

/// The machine this runs on.
#[derive(Clone, Debug, Default)]
pub struct SystemEnvironment;

impl Environment for SystemEnvironment {
    fn interface_exists(&self, name: &str) -> bool {
        !name.is_empty() && nix::net::if_::if_nametoindex(name).is_ok()
    }

    fn is_private_macvlan(&self, name: &str) -> bool {
        // /sys/class/net/IF/macvlan only exists on macvlans; the mode is not in sysfs, so
        // treat every macvlan as a candidate VMAC.
        Path::new("/sys/class/net")
            .join(name)
            .join("macvlan")
            .exists()
    }

    fn user(&self, name: &str) -> Option<Ids> {
        let user = nix::unistd::User::from_name(name).ok().flatten()?;
        Some(Ids {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        })
    }

    fn group(&self, name: &str) -> Option<u32> {
        let group = nix::unistd::Group::from_name(name).ok().flatten()?;
        Some(group.gid.as_raw())
    }

    fn program(&self, program: &str) -> ProgramLookup {
        let (path, by_path_search) = if program.contains('/') {
            (Some(PathBuf::from(program)), false)
        } else {
            let search = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned());
            let found = search
                .split(':')
                .filter(|d| !d.is_empty())
                .map(|d| Path::new(d).join(program))
                .find(|p| is_executable(p));
            (found, true)
        };
        match path {
            Some(path) if is_executable(&path) => {
                let secure = is_secure(&path);
                ProgramLookup::Found {
                    path,
                    by_path_search,
                    secure,
                }
            }
            _ => ProgramLookup::NotFound,
        }
    }

    fn resolve_host(&self, name: &str) -> Option<IpAddr> {
        use std::net::ToSocketAddrs;
        (name, 0).to_socket_addrs().ok()?.next().map(|a| a.ip())
    }

    fn running_as_root(&self) -> bool {
        nix::unistd::geteuid().is_root()
    }

    fn cpu_count(&self) -> u32 {
        std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
    }
}

fn is_executable(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    meta.is_file() && nix::unistd::access(c_path.as_c_str(), nix::unistd::AccessFlags::X_OK).is_ok()
}

/// Whether `path` and every directory above it are owned by root and not writable by group
/// or others (symbolic links are followed).
fn is_secure(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(real) = std::fs::canonicalize(path) else {
        return false;
    };
    real.ancestors().all(|p| {
        std::fs::metadata(p).is_ok_and(|m| {
            m.uid() == 0 && (m.is_dir() && m.mode() & 0o1000 != 0 || m.mode() & 0o022 == 0)
        })
    })
}

/// An environment described by lists, for checking a configuration for another machine.
#[derive(Clone, Debug, Default)]
pub struct FixedEnvironment {
    /// Interfaces that exist.
    pub interfaces: BTreeSet<String>,
    /// Interfaces that are existing private macvlans.
    pub macvlans: BTreeSet<String>,
    /// Users and their ids.
    pub users: BTreeMap<String, Ids>,
    /// Groups and their ids.
    pub groups: BTreeMap<String, u32>,
    /// Executable programs by full path, and whether each is secure.
    pub programs: BTreeMap<String, bool>,
    /// Directories searched for programs without a `/`.
    pub search_path: Vec<String>,
    /// Host names that resolve.
    pub hosts: BTreeMap<String, IpAddr>,
    /// The number of CPUs (0: the default of 2).
    pub cpus: u32,
}

impl FixedEnvironment {
    /// An environment with only `lo`, the `root` user and group, and the usual programs of a
    /// Debian system (`/bin/true`, `/bin/false`, `/bin/sh`…), searched in `/usr/bin:/bin`.
    pub fn minimal() -> Self {
        let mut env = FixedEnvironment {
            interfaces: ["lo"].into_iter().map(String::from).collect(),
            search_path: vec!["/usr/bin".into(), "/bin".into()],
            ..Default::default()
        };
        env.users.insert("root".into(), Ids { uid: 0, gid: 0 });
        env.hosts
            .insert("localhost".into(), IpAddr::from([127, 0, 0, 1]));
        env.groups.insert("root".into(), 0);
        for program in ["true", "false", "sh", "bash", "echo", "cat"] {
            env.programs.insert(format!("/bin/{program}"), true);
            env.programs.insert(format!("/usr/bin/{program}"), true);
        }
        env
    }

    /// Adds interfaces.
    pub fn with_interfaces<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.interfaces.extend(names.into_iter().map(Into::into));
        self
    }
}

/// A line of an environment description that could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct EnvironmentError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

impl FixedEnvironment {
    /// Reads an environment description, one fact per line (`#` starts a comment):
    ///
    /// ```text
    /// interface eth0 eth1        # interfaces that exist
    /// macvlan vrrp.51            # existing private macvlans (VMACs)
    /// user root 0 0              # user, uid, gid
    /// group root 0               # group, gid
    /// program /usr/bin/killall   # an executable (add `insecure` if others can change it)
    /// path /usr/bin:/bin         # where programs named without a / are searched
    /// host mail.example.com 192.0.2.25
    /// cpus 4
    /// ```
    ///
    /// The description starts from [`FixedEnvironment::minimal`].
    pub fn parse(text: &str) -> Result<Self, EnvironmentError> {
        let mut env = FixedEnvironment::minimal();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("");
            let words: Vec<&str> = line.split_whitespace().collect();
            let error = |problem: &str| EnvironmentError {
                line: index + 1,
                problem: problem.to_owned(),
            };
            let number = |w: Option<&&str>| {
                w.and_then(|w| w.parse::<u32>().ok())
                    .ok_or_else(|| error("expected a number"))
            };
            match words.as_slice() {
                [] => {}
                ["interface", names @ ..] => {
                    env.interfaces.extend(names.iter().map(|n| (*n).to_owned()))
                }
                ["macvlan", names @ ..] => {
                    env.macvlans.extend(names.iter().map(|n| (*n).to_owned()))
                }
                ["user", name, rest @ ..] => {
                    let ids = Ids {
                        uid: number(rest.first())?,
                        gid: number(rest.get(1))?,
                    };
                    env.users.insert((*name).to_owned(), ids);
                }
                ["group", name, rest @ ..] => {
                    let gid = number(rest.first())?;
                    env.groups.insert((*name).to_owned(), gid);
                }
                ["program", path] => {
                    env.programs.insert((*path).to_owned(), true);
                }
                ["program", path, "insecure"] => {
                    env.programs.insert((*path).to_owned(), false);
                }
                ["path", dirs] => env.search_path = dirs.split(':').map(str::to_owned).collect(),
                ["cpus", n] => env.cpus = number(Some(n))?,
                ["host", name, address] => {
                    let address = address.parse().map_err(|_| error("expected an address"))?;
                    env.hosts.insert((*name).to_owned(), address);
                }
                _ => return Err(error(&format!("cannot understand `{}`", line.trim()))),
            }
        }
        Ok(env)
    }
}

/// This machine, but with another set of network interfaces.
#[derive(Clone, Debug)]
pub struct WithInterfaces<E> {
    /// The machine.
    pub inner: E,
    /// The interfaces assumed to exist.
    pub interfaces: BTreeSet<String>,
}

impl<E: Environment> Environment for WithInterfaces<E> {
    fn interface_exists(&self, name: &str) -> bool {
        self.interfaces.contains(name)
    }
    fn user(&self, name: &str) -> Option<Ids> {
        self.inner.user(name)
    }
    fn group(&self, name: &str) -> Option<u32> {
        self.inner.group(name)
    }
    fn program(&self, program: &str) -> ProgramLookup {
        self.inner.program(program)
    }
    fn resolve_host(&self, name: &str) -> Option<IpAddr> {
        self.inner.resolve_host(name)
    }
    fn running_as_root(&self) -> bool {
        self.inner.running_as_root()
    }
    fn cpu_count(&self) -> u32 {
        self.inner.cpu_count()
    }
}

impl Environment for FixedEnvironment {
    fn interface_exists(&self, name: &str) -> bool {
        self.interfaces.contains(name)
    }

    fn is_private_macvlan(&self, name: &str) -> bool {
        self.macvlans.contains(name)
    }

    fn user(&self, name: &str) -> Option<Ids> {
        self.users.get(name).copied()
    }

    fn group(&self, name: &str) -> Option<u32> {
        self.groups.get(name).copied()
    }

    fn program(&self, program: &str) -> ProgramLookup {
        if program.contains('/') {
            return match self.programs.get(program) {
                Some(&secure) => ProgramLookup::Found {
                    path: PathBuf::from(program),
                    by_path_search: false,
                    secure,
                },
                None => ProgramLookup::NotFound,
            };
        }
        for dir in &self.search_path {
            let path = format!("{}/{program}", dir.trim_end_matches('/'));
            if let Some(&secure) = self.programs.get(&path) {
                return ProgramLookup::Found {
                    path: PathBuf::from(path),
                    by_path_search: true,
                    secure,
                };
            }
        }
        ProgramLookup::NotFound
    }

    fn resolve_host(&self, name: &str) -> Option<IpAddr> {
        self.hosts.get(name).copied()
    }

    fn cpu_count(&self) -> u32 {
        if self.cpus == 0 { 2 } else { self.cpus }
    }
}
