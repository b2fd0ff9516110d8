//! Rule files read whole before anything is applied: `ipvsadm-restore --test` and `--sync`.
//!
//! Every line is read as `ipvsadm -R` reads it (after `ipvsadm-restore` has dropped the lines
//! that start with `#`), then carried out on a table held in memory that answers as the kernel
//! would: a second `-A` of a service is "Service already exists", a destination of a missing
//! service is "Service not defined", and so on, in ipvsadm's words. What the file leaves in that
//! table is the table it describes.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use ipvs::model::{DaemonState, Destination, ForwardingMethod, Service, ServiceKey};
use ipvs::table::VirtualService;
use ipvs::{Change, ipvsadm_message};
use libc::{EEXIST, EINVAL, ENOENT, ERANGE, ESRCH};

use crate::args::{self, Command, Parsed, Source};
use crate::restore::RuleReader;
use crate::run::to_change;

/// What a line of the file is wrong about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line's number in the file (1-based, comment lines counted).
    pub line: usize,
    /// What is wrong, in ipvsadm's words where ipvsadm has some.
    pub message: String,
}

/// What the lines of a rule file may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Anything `ipvsadm -R` accepts (`--test`).
    Restore,
    /// Only describe services and destinations (`--sync`): the file is a table, not a script,
    /// so listings, `-Z`, `--set` and the sync daemons have no place in it.
    Table,
}

/// A rule file read whole.
#[derive(Debug, Default)]
pub struct CheckedFile {
    /// The table the file leaves behind, services in the order the file adds them.
    pub table: Vec<VirtualService>,
    /// Every wrong line, in file order.
    pub errors: Vec<LineError>,
    /// How many lines held a command.
    pub commands: usize,
}

/// Reads `input` whole and checks every line, as `ipvsadm-restore` would run it after a flush.
pub fn check(input: &[u8], program: &str, purpose: Purpose) -> CheckedFile {
    let text = without_comment_lines_kept_numbered(input);
    let mut reader = RuleReader::new(text.as_slice());
    let mut table = Table::new();
    let mut checked = CheckedFile::default();
    // Reading from memory cannot fail.
    while let Ok(Some(line)) = reader.next_line() {
        if line.words.is_empty() {
            continue;
        }
        checked.commands += 1;
        if let Err(message) = check_line(program, &line.words, &mut table, purpose) {
            checked.errors.push(LineError {
                line: line.number,
                message,
            });
        }
    }
    checked.table = table.into_services();
    checked
}

/// One line: parsed as ipvsadm parses it, then carried out on the table.
fn check_line(
    program: &str,
    words: &[&str],
    table: &mut Table,
    purpose: Purpose,
) -> Result<(), String> {
    let invocation = match args::parse_words(program, words, Source::RestoreInput) {
        Parsed::Run(invocation) => invocation,
        Parsed::Rejected(message) => return Err(message.trim_end().to_owned()),
        Parsed::Exit(exit) if exit.status == 0 => {
            return Err("prints ipvsadm's help or version, which ends a restore here".to_owned());
        }
        Parsed::Exit(exit) => {
            let message = if exit.stderr.trim().is_empty() {
                exit.stdout
            } else {
                exit.stderr
            };
            return Err(message.trim_end().to_owned());
        }
    };
    let command = invocation.command;
    let describes_table = matches!(
        command,
        Command::AddService(_)
            | Command::EditService(_)
            | Command::DeleteService(_)
            | Command::AddServer(..)
            | Command::EditServer(..)
            | Command::DeleteServer(..)
            | Command::Flush
    );
    if purpose == Purpose::Table && !describes_table {
        return Err(format!(
            "a table for --sync holds services and destinations only; this line is a {} command",
            command_name(&command)
        ));
    }
    match to_change(command) {
        Ok(change) => table.apply(&change),
        // Listings change nothing.
        Err(_) => Ok(()),
    }
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::AddService(_) => "add-service",
        Command::EditService(_) => "edit-service",
        Command::DeleteService(_) => "delete-service",
        Command::Flush => "flush",
        Command::List(_) => "list",
        Command::AddServer(..) => "add-server",
        Command::EditServer(..) => "edit-server",
        Command::DeleteServer(..) => "delete-server",
        Command::SetTimeouts(_) => "set",
        Command::StartDaemon(_) => "start-daemon",
        Command::StopDaemon(_) => "stop-daemon",
        Command::Restore => "restore",
        Command::Save => "save",
        Command::Zero(_) => "zero",
    }
}

/// `ipvsadm-restore` drops the lines that start with `#` before ipvsadm reads them; here they
/// become empty lines, so that line numbers stay those of the file.
fn without_comment_lines_kept_numbered(input: &[u8]) -> Vec<u8> {
    let mut kept = Vec::with_capacity(input.len());
    for line in input.split_inclusive(|&byte| byte == b'\n') {
        if line.starts_with(b"#") {
            if line.ends_with(b"\n") {
                kept.push(b'\n');
            }
        } else {
            kept.extend_from_slice(line);
        }
    }
    kept
}

/// The IPVS table in memory, answering changes as the kernel does.
struct Table {
    services: Vec<Option<VirtualService>>,
    index: HashMap<ServiceKey, usize>,
    daemons: HashSet<DaemonState>,
    schedulers: Schedulers,
}

impl Table {
    fn new() -> Self {
        Table {
            services: Vec::new(),
            index: HashMap::new(),
            daemons: HashSet::new(),
            schedulers: Schedulers::of_running_kernel(),
        }
    }

    fn into_services(self) -> Vec<VirtualService> {
        self.services.into_iter().flatten().collect()
    }

    fn service_mut(&mut self, key: &ServiceKey) -> Option<&mut VirtualService> {
        let slot = *self.index.get(key)?;
        self.services.get_mut(slot)?.as_mut()
    }

    /// Carries out `change`, or says in ipvsadm's words why the kernel would refuse it.
    fn apply(&mut self, change: &Change) -> Result<(), String> {
        let operation = change.operation();
        let refuse = |errno: i32| Err(ipvsadm_message(operation, errno).into_owned());
        match change {
            Change::AddService(service) => {
                if self.index.contains_key(&service.key) {
                    return refuse(EEXIST);
                }
                self.check_modules(service).or_else(|_| refuse(ENOENT))?;
                self.index.insert(service.key, self.services.len());
                self.services
                    .push(Some(VirtualService::new(service.clone())));
            }
            Change::UpdateService(service) => {
                if !self.index.contains_key(&service.key) {
                    return refuse(ESRCH);
                }
                self.check_modules(service).or_else(|_| refuse(ENOENT))?;
                if let Some(entry) = self.service_mut(&service.key) {
                    entry.service = service.clone();
                }
            }
            Change::DeleteService(key) => match self.index.remove(key) {
                Some(slot) => self.services[slot] = None,
                None => return refuse(ESRCH),
            },
            Change::AddDestination {
                service,
                destination,
            } => {
                let sync_running = !self.daemons.is_empty();
                let Some(entry) = self.service_mut(service) else {
                    return refuse(ESRCH);
                };
                check_destination(entry, destination, sync_running).or_else(refuse)?;
                if position(entry, destination.address, destination.port).is_some() {
                    return refuse(EEXIST);
                }
                entry.destinations.push(destination.clone());
            }
            Change::UpdateDestination {
                service,
                destination,
            } => {
                let sync_running = !self.daemons.is_empty();
                let Some(entry) = self.service_mut(service) else {
                    return refuse(ESRCH);
                };
                check_destination(entry, destination, sync_running).or_else(refuse)?;
                match position(entry, destination.address, destination.port) {
                    Some(at) => entry.destinations[at] = destination.clone(),
                    None => return refuse(ENOENT),
                }
            }
            Change::DeleteDestination {
                service,
                address,
                port,
            } => {
                let Some(entry) = self.service_mut(service) else {
                    return refuse(ESRCH);
                };
                match position(entry, *address, *port) {
                    Some(at) => {
                        entry.destinations.remove(at);
                    }
                    None => return refuse(ENOENT),
                }
            }
            Change::Zero(Some(key)) if !self.index.contains_key(key) => return refuse(ESRCH),
            Change::Zero(_) | Change::SetTimeouts(_) => {}
            Change::Flush => {
                self.services.clear();
                self.index.clear();
            }
            Change::StartDaemon(daemon) => {
                if !self.daemons.insert(daemon.state) {
                    return refuse(EEXIST);
                }
            }
            Change::StopDaemon { state, .. } => {
                if !self.daemons.remove(state) {
                    return refuse(ESRCH);
                }
            }
        }
        Ok(())
    }

    /// Whether the kernel has the service's scheduler and persistence engine.
    fn check_modules(&mut self, service: &Service) -> Result<(), ()> {
        let engine_ok = match service.persistence_engine.as_deref() {
            Some(engine) if !engine.is_empty() => self.schedulers.has(&format!("pe_{engine}")),
            _ => true,
        };
        if self.schedulers.has(&service.scheduler) && engine_ok {
            Ok(())
        } else {
            Err(())
        }
    }
}

fn position(entry: &VirtualService, address: std::net::IpAddr, port: u16) -> Option<usize> {
    entry
        .destinations
        .iter()
        .position(|destination| destination.address == address && destination.port == port)
}

/// The kernel's checks of a destination's settings (`ip_vs_add_dest`, the family rules of
/// `ip_vs_genl_set_cmd`), as an errno.
fn check_destination(
    entry: &VirtualService,
    destination: &Destination,
    sync_running: bool,
) -> Result<(), i32> {
    if destination.lower_threshold > destination.upper_threshold {
        return Err(ERANGE);
    }
    if destination.family() != entry.service.key.family()
        && (sync_running || destination.forwarding != ForwardingMethod::Tunnel)
    {
        return Err(EINVAL);
    }
    Ok(())
}

/// The IPVS schedulers and persistence engines the running kernel could load, when that can be
/// told: loaded modules, module files, or modules built in. Where IPVS itself is absent (a
/// workstation checking a file for a director), every name is taken on trust.
struct Schedulers {
    release: Option<String>,
    /// The answers so far: a file of 10,000 services names a few schedulers, and a module not
    /// loaded yet means reading the kernel's module lists.
    known: HashMap<String, bool>,
}

impl Schedulers {
    fn of_running_kernel() -> Self {
        let release = nix::sys::utsname::uname()
            .ok()
            .map(|name| name.release().to_string_lossy().into_owned());
        let ipvs_present = |release: &String| {
            Path::new("/proc/net/ip_vs").exists()
                || Path::new("/sys/module/ip_vs").exists()
                || module_known(release, "ip_vs")
        };
        Schedulers {
            release: release.filter(ipvs_present),
            known: HashMap::new(),
        }
    }

    /// `name` is a scheduler (`rr`) or an engine (`pe_sip`).
    fn has(&mut self, name: &str) -> bool {
        let Some(release) = &self.release else {
            return true;
        };
        if let Some(&known) = self.known.get(name) {
            return known;
        }
        let module = format!("ip_vs_{name}");
        let present =
            Path::new("/sys/module").join(&module).exists() || module_known(release, &module);
        self.known.insert(name.to_owned(), present);
        present
    }
}

/// Whether `modules.dep` or `modules.builtin` of the release lists the module.
fn module_known(release: &str, module: &str) -> bool {
    let base = Path::new("/lib/modules").join(release);
    let wanted = format!("/{module}.ko");
    ["modules.dep", "modules.builtin"].iter().any(|list| {
        std::fs::read_to_string(base.join(list)).is_ok_and(|text| {
            text.lines().any(|line| {
                let path = line.split(':').next().unwrap_or_default();
                path.contains(&wanted) || path.starts_with(&wanted[1..])
            })
        })
    })
}

#[cfg(test)]
mod tests;
