//! Carrying out an ipvsadm command against the kernel, with ipvsadm's messages and exit statuses.

use std::io::{self, Write};

use ipvs::model::{Info, ServiceKey};
use ipvs::procfs::ProcTable;
use ipvs::table::VirtualService;
use ipvs::{Change, Client, Error, Operation};

use crate::args::{self, Command, Exit, Invocation, ListWhat, Parsed, Source};
use crate::output::Format;
use crate::output::connections::{CONNECTIONS_FILE, connection_listing};
use crate::output::json;
use crate::output::listing::{daemon_lines, service_block, timeouts_line, title, version_header};
use crate::output::sort::{sort_destinations, sort_services, sort_table};
use crate::restore;

/// What a command left for the process: go on (with a status), or end now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The command finished; a restore goes on with the next line. 0 or 255 (ipvsadm's -1).
    Done(u8),
    /// The program must end with this status (ipvsadm calls `exit()`), even inside a restore.
    End(u8),
}

impl Status {
    /// The exit status.
    pub fn code(self) -> u8 {
        match self {
            Status::Done(code) | Status::End(code) => code,
        }
    }
}

/// A connected ipvsadm: the kernel client and what `ipvs_init` learnt.
pub struct Session {
    /// The kernel connection.
    pub client: Client,
    /// IPVS version and table size, printed in listing headers.
    pub info: Info,
    /// argv[0], used in messages.
    pub program: String,
}

impl Session {
    /// ipvsadm's start-up: connect (loading `ip_vs` if needed) and ask for the IPVS info.
    pub fn open(program: &str) -> Result<Session, Exit> {
        let connect = || -> Result<(Client, Info), Error> {
            let mut client = Client::connect()?;
            let info = client.info()?;
            Ok((client, info))
        };
        match connect() {
            Ok((client, info)) => Ok(Session {
                client,
                info,
                program: program.to_owned(),
            }),
            Err(error) => Err(Exit::fail(format!(
                "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?",
                error_text(&error)
            ))),
        }
    }

    /// Runs a full command line (argv[0] included), as `ipvsadm` does after start-up.
    pub fn run_command_line(&mut self, argv: &[String]) -> u8 {
        if argv.len() <= 1 {
            return self.list(ListWhat::All, &Format::default()).code();
        }
        self.run_parsed(args::parse(argv, Source::CommandLine))
            .code()
    }

    /// Carries out a parsed line: prints what ipvsadm prints and says how to go on.
    pub fn run_parsed(&mut self, parsed: Parsed) -> Status {
        match parsed {
            Parsed::Exit(exit) => {
                print_exit(&exit);
                Status::End(exit.status)
            }
            Parsed::Rejected(message) => {
                eprint!("{message}");
                Status::Done(255)
            }
            Parsed::Run(invocation) => self.run(*invocation),
        }
    }

    fn run(&mut self, invocation: Invocation) -> Status {
        let Invocation { command, format } = invocation;
        match command {
            Command::List(what) => self.list(what, &format),
            Command::Save => self.list(
                ListWhat::All,
                &Format {
                    rule: true,
                    ..format
                },
            ),
            Command::Restore => restore::restore_stdin(self),
            other => match to_change(other) {
                Ok(change) => self.apply(&change),
                Err(_) => Status::Done(0),
            },
        }
    }

    /// One change; a refusal prints ipvsadm's message and gives status 255.
    pub fn apply(&mut self, change: &Change) -> Status {
        match self.client.apply(change) {
            Ok(()) => Status::Done(0),
            Err(error) => {
                eprintln!("{}", error_text(&error));
                Status::Done(255)
            }
        }
    }

    fn list(&mut self, what: ListWhat, format: &Format) -> Status {
        if format.json {
            return self.list_json(what);
        }
        let mut out = String::new();
        let status = match what {
            ListWhat::All => self.list_all(&mut out, format),
            ListWhat::Service(key) => self.list_service(&mut out, &key, format),
            ListWhat::Connections => list_connections(&mut out, format),
            // ipvsadm ends silently with status 1 when these cannot be read.
            ListWhat::Timeouts => match self.client.timeouts() {
                Ok(timeouts) => {
                    out.push_str(&timeouts_line(&timeouts));
                    Status::Done(0)
                }
                Err(_) => Status::End(1),
            },
            ListWhat::Daemons => match self.client.daemons() {
                Ok(daemons) => {
                    out.push_str(&daemon_lines(&daemons));
                    Status::Done(0)
                }
                Err(_) => Status::End(1),
            },
        };
        write_stdout(&out);
        status
    }

    /// `--json`: the same requests as the listing; a failure prints ipvsadm's message and
    /// no partial document.
    fn list_json(&mut self, what: ListWhat) -> Status {
        let document = match what {
            ListWhat::All => self.client.table().map(|mut table| {
                sort_table(&mut table);
                json::table(&self.info, &table)
            }),
            ListWhat::Service(key) => self.client.service(&key).and_then(|service| {
                let mut destinations = self.client.destinations(&key)?;
                sort_destinations(&mut destinations);
                Ok(json::table(
                    &self.info,
                    &[VirtualService {
                        service,
                        destinations,
                    }],
                ))
            }),
            ListWhat::Timeouts => self.client.timeouts().map(|t| json::timeouts(&t)),
            ListWhat::Daemons => self.client.daemons().map(|d| json::daemons(&d)),
            // Refused when the command line is read.
            ListWhat::Connections => return Status::End(2),
        };
        match document {
            Ok(text) => {
                write_stdout(&text);
                Status::Done(0)
            }
            Err(error) => {
                eprintln!("{}", error_text(&error));
                Status::End(1)
            }
        }
    }

    fn list_all(&mut self, out: &mut String, format: &Format) -> Status {
        if !format.rule {
            out.push_str(&version_header(&self.info));
        }
        let mut services = match self.client.services() {
            Ok(services) => services,
            Err(error) => return fail_listing(out, &error),
        };
        if !format.no_sort {
            sort_services(&mut services);
        }
        out.push_str(&title(format));
        let listed = plain_destinations(format);
        for service in &services {
            let result = match listed.as_ref().and_then(|t| t.destinations(&service.key)) {
                Some(destinations) => {
                    let mut destinations = destinations.to_vec();
                    out.push_str(&service_block(service, &mut destinations, format));
                    Ok(())
                }
                None => self.append_service(out, service, format),
            };
            if let Err(error) = result {
                return fail_listing(out, &error);
            }
        }
        Status::Done(0)
    }

    fn list_service(&mut self, out: &mut String, key: &ServiceKey, format: &Format) -> Status {
        let service = match self.client.service(key) {
            Ok(service) => service,
            Err(error) => return fail_listing(out, &error),
        };
        out.push_str(&title(format));
        match self.append_service(out, &service, format) {
            Ok(()) => Status::Done(0),
            Err(error) => fail_listing(out, &error),
        }
    }

    fn append_service(
        &mut self,
        out: &mut String,
        service: &ipvs::model::Service,
        format: &Format,
    ) -> Result<(), Error> {
        let mut destinations = self.client.destinations(&service.key)?;
        out.push_str(&service_block(service, &mut destinations, format));
        Ok(())
    }
}

/// Every destination from the kernel's text listing, when the format shows nothing more than
/// it holds (forwarding, weight, active and inactive connections): a few reads instead of a
/// netlink dump per service. `None` when it does not apply or cannot be read; services it
/// does not list are asked for over netlink.
fn plain_destinations(format: &Format) -> Option<ProcTable> {
    let plain = !(format.rule
        || format.stats
        || format.rate
        || format.thresholds
        || format.persistent_conn
        || format.tun_info);
    if !plain {
        return None;
    }
    ProcTable::read().ok()?.ok()
}

/// A failed listing: what was printed so far, the message, status 1 (ipvsadm's `exit(1)`).
fn fail_listing(out: &mut String, error: &Error) -> Status {
    write_stdout(out);
    out.clear();
    eprintln!("{}", error_text(error));
    Status::End(1)
}

fn list_connections(out: &mut String, format: &Format) -> Status {
    let text = match std::fs::read(CONNECTIONS_FILE) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => {
            eprintln!("cannot open file {CONNECTIONS_FILE}");
            return Status::End(1);
        }
    };
    if text.is_empty() {
        eprintln!("unexpected input from {CONNECTIONS_FILE}");
        return Status::End(1);
    }
    out.push_str(&connection_listing(&text, format));
    Status::Done(0)
}

/// The change a modifying command makes; the command itself back when it changes nothing
/// (listings, save, restore).
pub fn to_change(command: Command) -> Result<Change, Box<Command>> {
    Ok(match command {
        Command::AddService(service) => Change::AddService(service),
        Command::EditService(service) => Change::UpdateService(service),
        Command::DeleteService(key) => Change::DeleteService(key),
        Command::Flush => Change::Flush,
        Command::AddServer(service, destination) => Change::AddDestination {
            service,
            destination,
        },
        Command::EditServer(service, destination) => Change::UpdateDestination {
            service,
            destination,
        },
        Command::DeleteServer(service, destination) => Change::DeleteDestination {
            service,
            address: destination.address,
            port: destination.port,
        },
        Command::SetTimeouts(timeouts) => Change::SetTimeouts(timeouts),
        Command::StartDaemon(daemon) => Change::StartDaemon(daemon),
        Command::StopDaemon(daemon) => Change::StopDaemon {
            state: daemon.state,
            sync_id: daemon.sync_id,
        },
        Command::Zero(key) => Change::Zero(key),
        other @ (Command::List(_) | Command::Save | Command::Restore) => {
            return Err(Box::new(other));
        }
    })
}

/// What ipvsadm says for an error: its wording for kernel errors (by operation and errno); for
/// failures ipvsadm cannot see (time-outs, broken replies) our own, clearer, description.
pub fn error_text(error: &Error) -> String {
    match error {
        Error::Kernel(kernel) => kernel.ipvsadm_message().into_owned(),
        Error::FamilyNotFound { .. } => {
            ipvs::ipvsadm_message(Operation::ResolveFamily, libc::ENOPROTOOPT).into_owned()
        }
        other => other.to_string(),
    }
}

/// Prints an [`Exit`]'s texts.
pub fn print_exit(exit: &Exit) {
    write_stdout(&exit.stdout);
    if !exit.stderr.is_empty() {
        eprint!("{}", exit.stderr);
    }
}

/// Writes to stdout; a closed pipe is not worth a panic.
pub fn write_stdout(text: &str) {
    if text.is_empty() {
        return;
    }
    let mut stdout = io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
