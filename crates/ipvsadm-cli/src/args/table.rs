//! ipvsadm's command and option tables: names used in messages, and which options each command
//! requires, allows or forbids (`commands_v_options`).

use super::popt::{ArgKind, OptionSpec, OptionTable};

/// The commands, in ipvsadm's order (their index selects a row of the legality table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    AddService,
    EditService,
    DeleteService,
    Flush,
    List,
    AddServer,
    DeleteServer,
    EditServer,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

impl Cmd {
    /// Every command, in order.
    const ALL: [Cmd; 14] = [
        Cmd::AddService,
        Cmd::EditService,
        Cmd::DeleteService,
        Cmd::Flush,
        Cmd::List,
        Cmd::AddServer,
        Cmd::DeleteServer,
        Cmd::EditServer,
        Cmd::SetTimeouts,
        Cmd::StartDaemon,
        Cmd::StopDaemon,
        Cmd::Restore,
        Cmd::Save,
        Cmd::Zero,
    ];

    /// The name ipvsadm's messages use (`cmdnames`).
    pub fn name(self) -> &'static str {
        match self {
            Cmd::AddService => "add-service",
            Cmd::EditService => "edit-service",
            Cmd::DeleteService => "delete-service",
            Cmd::Flush => "flush",
            Cmd::List => "list",
            Cmd::AddServer => "add-server",
            Cmd::DeleteServer => "delete-server",
            Cmd::EditServer => "edit-server",
            Cmd::SetTimeouts => "set",
            Cmd::StartDaemon => "start-daemon",
            Cmd::StopDaemon => "stop-daemon",
            Cmd::Restore => "restore",
            Cmd::Save => "save",
            Cmd::Zero => "zero",
        }
    }

    /// This command's row of `commands_v_options`, one rule per [`Opt`] in index order:
    /// `+` required, `x` illegal, `1` at most one of the `1` options, ` ` optional.
    const fn rules(self) -> &'static [u8; Opt::COUNT] {
        //                              -n -c svc-s -p -M -r fwd-w -x -y mc to dm st rt th pc so si ex op pe -b gr po tt sz ti ty tp nc cs rc
        match self {
            Cmd::AddService | Cmd::EditService => b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
            Cmd::DeleteService => b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::List => b" 11xxxxxxxxx11       xxxxxxx xxxxx",
            Cmd::AddServer | Cmd::EditServer => b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
            Cmd::DeleteServer => b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::StartDaemon => b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",
            Cmd::StopDaemon => b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",
            Cmd::Save => b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::Zero => b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::Flush | Cmd::SetTimeouts | Cmd::Restore => b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        }
    }

    /// `generic_opt_check`: the first violation of this command's row, in option order.
    pub fn check_options(self, given: OptSet) -> Result<(), String> {
        // Most lines break no rule: the row's masks say so at once, and only a violation walks
        // the row for the message of the first one.
        if ROWS[self as usize].allows(given) {
            return Ok(());
        }
        self.first_violation(given).map_or(Ok(()), Err)
    }

    /// The message for the first of this command's rules, in option order, that `given` breaks.
    fn first_violation(self, given: OptSet) -> Option<String> {
        let rules = self.rules();
        let mut first_exclusive: Option<Opt> = None;
        for opt in Opt::ALL {
            let rule = rules[opt as usize];
            if !given.contains(opt) {
                if rule == b'+' {
                    return Some(format!(
                        "You need to supply the '{}' option for the '{}' command",
                        opt.name(),
                        self.name()
                    ));
                }
                continue;
            }
            if rule == b'x' {
                return Some(format!(
                    "Illegal '{}' option with the '{}' command",
                    opt.name(),
                    self.name()
                ));
            }
            if rule == b'1' {
                match first_exclusive {
                    None => first_exclusive = Some(opt),
                    Some(first) => {
                        return Some(format!(
                            "The option '{}' conflicts with the '{}' option in the '{}' command",
                            opt.name(),
                            first.name(),
                            self.name()
                        ));
                    }
                }
            }
        }
        None
    }
}

/// A row of the legality table as sets of options.
#[derive(Clone, Copy)]
struct Row {
    required: u64,
    illegal: u64,
    exclusive: u64,
}

impl Row {
    const fn of(rules: &[u8; Opt::COUNT]) -> Row {
        let mut row = Row {
            required: 0,
            illegal: 0,
            exclusive: 0,
        };
        let mut index = 0;
        while index < Opt::COUNT {
            let bit = 1 << index;
            match rules[index] {
                b'+' => row.required |= bit,
                b'x' => row.illegal |= bit,
                b'1' => row.exclusive |= bit,
                _ => {}
            }
            index += 1;
        }
        row
    }

    /// Whether `given` breaks none of the row's rules.
    fn allows(&self, given: OptSet) -> bool {
        given.0 & self.illegal == 0
            && given.0 & self.required == self.required
            && (given.0 & self.exclusive).count_ones() <= 1
    }
}

/// Each command's row, by the command's index.
static ROWS: [Row; Cmd::ALL.len()] = {
    let mut rows = [Row {
        required: 0,
        illegal: 0,
        exclusive: 0,
    }; Cmd::ALL.len()];
    let mut index = 0;
    while index < Cmd::ALL.len() {
        rows[index] = Row::of(Cmd::ALL[index].rules());
        index += 1;
    }
    rows
};

/// The options that the legality table and the "multiple ... options" check know, in ipvsadm's
/// order (`OPTC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    McastInterface,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    OnePacket,
    PersistenceEngine,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxLen,
    TunInfo,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
}

impl Opt {
    /// How many there are.
    pub const COUNT: usize = 34;

    /// All of them, in order.
    pub const ALL: [Opt; Opt::COUNT] = [
        Opt::Numeric,
        Opt::Connection,
        Opt::Service,
        Opt::Scheduler,
        Opt::Persistent,
        Opt::Netmask,
        Opt::Server,
        Opt::Forward,
        Opt::Weight,
        Opt::UThreshold,
        Opt::LThreshold,
        Opt::McastInterface,
        Opt::Timeout,
        Opt::Daemon,
        Opt::Stats,
        Opt::Rate,
        Opt::Thresholds,
        Opt::PersistentConn,
        Opt::NoSort,
        Opt::SyncId,
        Opt::Exact,
        Opt::OnePacket,
        Opt::PersistenceEngine,
        Opt::SchedFlags,
        Opt::McastGroup,
        Opt::McastPort,
        Opt::McastTtl,
        Opt::SyncMaxLen,
        Opt::TunInfo,
        Opt::TunType,
        Opt::TunPort,
        Opt::TunNoCsum,
        Opt::TunCsum,
        Opt::TunRemCsum,
    ];

    /// The name ipvsadm's messages use (`optnames`).
    pub fn name(self) -> &'static str {
        match self {
            Opt::Numeric => "numeric",
            Opt::Connection => "connection",
            Opt::Service => "service-address",
            Opt::Scheduler => "scheduler",
            Opt::Persistent => "persistent",
            Opt::Netmask => "netmask",
            Opt::Server => "real-server",
            Opt::Forward => "forwarding-method",
            Opt::Weight => "weight",
            Opt::UThreshold => "u-threshold",
            Opt::LThreshold => "l-threshold",
            Opt::McastInterface => "mcast-interface",
            Opt::Timeout => "timeout",
            Opt::Daemon => "daemon",
            Opt::Stats => "stats",
            Opt::Rate => "rate",
            Opt::Thresholds => "thresholds",
            Opt::PersistentConn => "persistent-conn",
            Opt::NoSort => "nosort",
            Opt::SyncId => "syncid",
            Opt::Exact => "exact",
            Opt::OnePacket => "ops",
            Opt::PersistenceEngine => "pe",
            Opt::SchedFlags => "sched-flags",
            Opt::McastGroup => "mcast-group",
            Opt::McastPort => "mcast-port",
            Opt::McastTtl => "mcast-ttl",
            Opt::SyncMaxLen => "sync-maxlen",
            Opt::TunInfo => "tun-info",
            Opt::TunType => "tun-type",
            Opt::TunPort => "tun-port",
            Opt::TunNoCsum => "tun-nocsum",
            Opt::TunCsum => "tun-csum",
            Opt::TunRemCsum => "tun-remcsum",
        }
    }
}

/// A set of [`Opt`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptSet(u64);

impl OptSet {
    /// Whether `opt` is in the set.
    pub fn contains(self, opt: Opt) -> bool {
        self.0 & (1 << opt as u64) != 0
    }

    /// Adds `opt`; false if it was already there.
    pub fn insert(&mut self, opt: Opt) -> bool {
        let had = self.contains(opt);
        self.0 |= 1 << opt as u64;
        !had
    }

    /// Whether any of `opts` is in the set.
    pub fn any(self, opts: &[Opt]) -> bool {
        opts.iter().any(|&opt| self.contains(opt))
    }
}

/// What each entry of ipvsadm's popt table stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Command(Cmd),
    Help,
    Version,
    Tcp,
    Udp,
    Sctp,
    Fwmark,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxLen,
    TunInfo,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
    /// Ours: `-L --json`.
    Json,
}

const fn spec(long: &'static str, short: Option<u8>, arg: ArgKind, tag: Tag) -> OptionSpec<Tag> {
    OptionSpec {
        long,
        short,
        arg,
        tag,
    }
}

/// [`OPTIONS`] indexed for the scanner.
pub static OPTION_TABLE: OptionTable<Tag> = OptionTable::new(OPTIONS);

/// ipvsadm's popt option table, in its order (the first match wins).
pub const OPTIONS: &[OptionSpec<Tag>] = &[
    spec(
        "add-service",
        Some(b'A'),
        ArgKind::None,
        Tag::Command(Cmd::AddService),
    ),
    spec(
        "edit-service",
        Some(b'E'),
        ArgKind::None,
        Tag::Command(Cmd::EditService),
    ),
    spec(
        "delete-service",
        Some(b'D'),
        ArgKind::None,
        Tag::Command(Cmd::DeleteService),
    ),
    spec("clear", Some(b'C'), ArgKind::None, Tag::Command(Cmd::Flush)),
    spec("list", Some(b'L'), ArgKind::None, Tag::Command(Cmd::List)),
    spec("list", Some(b'l'), ArgKind::None, Tag::Command(Cmd::List)),
    spec("zero", Some(b'Z'), ArgKind::None, Tag::Command(Cmd::Zero)),
    spec(
        "add-server",
        Some(b'a'),
        ArgKind::None,
        Tag::Command(Cmd::AddServer),
    ),
    spec(
        "edit-server",
        Some(b'e'),
        ArgKind::None,
        Tag::Command(Cmd::EditServer),
    ),
    spec(
        "delete-server",
        Some(b'd'),
        ArgKind::None,
        Tag::Command(Cmd::DeleteServer),
    ),
    spec("set", None, ArgKind::None, Tag::Command(Cmd::SetTimeouts)),
    spec("help", Some(b'h'), ArgKind::None, Tag::Help),
    spec("version", Some(b'v'), ArgKind::None, Tag::Version),
    spec(
        "restore",
        Some(b'R'),
        ArgKind::None,
        Tag::Command(Cmd::Restore),
    ),
    spec("save", Some(b'S'), ArgKind::None, Tag::Command(Cmd::Save)),
    spec(
        "start-daemon",
        None,
        ArgKind::Required,
        Tag::Command(Cmd::StartDaemon),
    ),
    spec(
        "stop-daemon",
        None,
        ArgKind::Required,
        Tag::Command(Cmd::StopDaemon),
    ),
    spec("tcp-service", Some(b't'), ArgKind::Required, Tag::Tcp),
    spec("udp-service", Some(b'u'), ArgKind::Required, Tag::Udp),
    spec("sctp-service", None, ArgKind::Required, Tag::Sctp),
    spec("fwmark-service", Some(b'f'), ArgKind::Required, Tag::Fwmark),
    spec("scheduler", Some(b's'), ArgKind::Required, Tag::Scheduler),
    spec("persistent", Some(b'p'), ArgKind::Optional, Tag::Persistent),
    spec("netmask", Some(b'M'), ArgKind::Required, Tag::Netmask),
    spec(
        "real-server",
        Some(b'r'),
        ArgKind::Required,
        Tag::RealServer,
    ),
    spec("masquerading", Some(b'm'), ArgKind::None, Tag::Masquerading),
    spec("ipip", Some(b'i'), ArgKind::None, Tag::Ipip),
    spec("gatewaying", Some(b'g'), ArgKind::None, Tag::Gatewaying),
    spec("weight", Some(b'w'), ArgKind::Required, Tag::Weight),
    spec(
        "u-threshold",
        Some(b'x'),
        ArgKind::Required,
        Tag::UThreshold,
    ),
    spec(
        "l-threshold",
        Some(b'y'),
        ArgKind::Required,
        Tag::LThreshold,
    ),
    spec("numeric", Some(b'n'), ArgKind::None, Tag::Numeric),
    spec("connection", Some(b'c'), ArgKind::None, Tag::Connection),
    spec(
        "mcast-interface",
        None,
        ArgKind::Required,
        Tag::McastInterface,
    ),
    spec("syncid", None, ArgKind::Required, Tag::SyncId),
    spec("timeout", None, ArgKind::None, Tag::Timeout),
    spec("daemon", None, ArgKind::None, Tag::Daemon),
    spec("stats", None, ArgKind::None, Tag::Stats),
    spec("rate", None, ArgKind::None, Tag::Rate),
    spec("thresholds", None, ArgKind::None, Tag::Thresholds),
    spec("persistent-conn", None, ArgKind::None, Tag::PersistentConn),
    spec("nosort", None, ArgKind::None, Tag::NoSort),
    spec("sort", None, ArgKind::None, Tag::Sort),
    spec("exact", Some(b'X'), ArgKind::None, Tag::Exact),
    spec("ipv6", Some(b'6'), ArgKind::None, Tag::Ipv6),
    spec("ops", Some(b'o'), ArgKind::None, Tag::Ops),
    spec("pe", None, ArgKind::Required, Tag::Pe),
    spec(
        "sched-flags",
        Some(b'b'),
        ArgKind::Required,
        Tag::SchedFlags,
    ),
    spec("mcast-group", None, ArgKind::Required, Tag::McastGroup),
    spec("mcast-port", None, ArgKind::Required, Tag::McastPort),
    spec("mcast-ttl", None, ArgKind::Required, Tag::McastTtl),
    spec("sync-maxlen", None, ArgKind::Required, Tag::SyncMaxLen),
    spec("tun-info", None, ArgKind::None, Tag::TunInfo),
    spec("tun-type", None, ArgKind::Required, Tag::TunType),
    spec("tun-port", None, ArgKind::Required, Tag::TunPort),
    spec("tun-nocsum", None, ArgKind::None, Tag::TunNoCsum),
    spec("tun-csum", None, ArgKind::None, Tag::TunCsum),
    spec("tun-remcsum", None, ArgKind::None, Tag::TunRemCsum),
    // Ours, after ipvsadm's: a long name ipvsadm does not have.
    spec("json", None, ArgKind::None, Tag::Json),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn set(opts: &[Opt]) -> OptSet {
        let mut set = OptSet::default();
        for &opt in opts {
            set.insert(opt);
        }
        set
    }

    #[test]
    fn every_row_has_a_rule_per_option() {
        for cmd in [
            Cmd::AddService,
            Cmd::DeleteService,
            Cmd::List,
            Cmd::AddServer,
            Cmd::DeleteServer,
            Cmd::StartDaemon,
            Cmd::StopDaemon,
            Cmd::Save,
            Cmd::Zero,
            Cmd::Flush,
        ] {
            assert!(cmd.rules().iter().all(|r| b"+x1 ".contains(r)), "{cmd:?}");
        }
    }

    #[test]
    fn the_rows_masks_agree_with_the_walk_of_the_row() {
        for (index, cmd) in Cmd::ALL.into_iter().enumerate() {
            assert_eq!(cmd as usize, index);
            // Every set of up to two options, then sets drawn at random.
            let mut sets: Vec<u64> = vec![0];
            for a in 0..Opt::COUNT {
                for b in a..Opt::COUNT {
                    sets.push(1 << a | 1 << b);
                }
            }
            let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
            for _ in 0..20_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                sets.push(state & state.rotate_left(17) & ((1 << Opt::COUNT) - 1));
            }
            for bits in sets {
                let given = OptSet(bits);
                assert_eq!(
                    ROWS[index].allows(given),
                    cmd.first_violation(given).is_none(),
                    "{cmd:?} {bits:#x}"
                );
            }
        }
    }

    #[test]
    fn required_option_is_reported() {
        assert_eq!(
            Cmd::AddServer.check_options(set(&[Opt::Service])),
            Err(
                "You need to supply the 'real-server' option for the 'add-server' command"
                    .to_owned()
            )
        );
    }

    #[test]
    fn illegal_option_is_reported_in_option_order() {
        assert_eq!(
            Cmd::AddService.check_options(set(&[Opt::Service, Opt::Weight, Opt::Numeric])),
            Err("Illegal 'numeric' option with the 'add-service' command".to_owned())
        );
    }

    #[test]
    fn exclusive_options_name_the_later_one_first() {
        assert_eq!(
            Cmd::List.check_options(set(&[Opt::Service, Opt::Timeout])),
            Err("The option 'timeout' conflicts with the 'service-address' option in the 'list' command".to_owned())
        );
    }

    #[test]
    fn list_allows_its_display_options() {
        assert_eq!(
            Cmd::List.check_options(set(&[
                Opt::Numeric,
                Opt::Stats,
                Opt::Exact,
                Opt::NoSort,
                Opt::TunInfo,
                Opt::SyncId
            ])),
            Ok(())
        );
        assert!(Cmd::List.check_options(set(&[Opt::OnePacket])).is_err());
    }

    #[test]
    fn start_daemon_allows_its_options() {
        assert_eq!(
            Cmd::StartDaemon.check_options(set(&[
                Opt::McastInterface,
                Opt::SyncId,
                Opt::McastGroup,
                Opt::McastPort,
                Opt::McastTtl,
                Opt::SyncMaxLen
            ])),
            Ok(())
        );
    }
}
