//! The manual pages: ipvsadm(8), ipvsadm-save(8), ipvsadm-restore(8), vrrpd(8). Option lists come
//! from the binaries' tables (`ipvsadm_cli::args::table::OPTIONS` with `args::docs`, `vrrpd_cli::options`);
//! the prose around them is here.

use ipvsadm_cli::args::docs::{OptionDoc, RESTORE_OPTIONS, option_doc};
use ipvsadm_cli::args::popt::ArgKind;
use ipvsadm_cli::args::table::{OPTIONS, Tag};
use vrrpd_cli::Support;

use crate::roff::{Page, escape, markup, option_tag};

const SOURCE: &str = concat!("lvs-rs ", env!("CARGO_PKG_VERSION"));

/// Every page: (file name, roff text).
pub fn pages() -> Vec<(&'static str, String)> {
    vec![
        ("ipvsadm.8", ipvsadm()),
        ("ipvsadm-save.8", ipvsadm_save()),
        ("ipvsadm-restore.8", ipvsadm_restore()),
        ("vrrpd.8", vrrpd()),
    ]
}

/// The options of ipvsadm's table merged by meaning: (short letters, long name, kind, tag).
pub fn ipvsadm_options() -> Vec<(Vec<u8>, &'static str, ArgKind, Tag)> {
    let mut merged: Vec<(Vec<u8>, &'static str, ArgKind, Tag)> = Vec::new();
    for spec in OPTIONS {
        match merged.iter_mut().find(|entry| entry.3 == spec.tag) {
            Some(entry) => entry.0.extend(spec.short),
            None => merged.push((
                spec.short.into_iter().collect(),
                spec.long,
                spec.arg,
                spec.tag,
            )),
        }
    }
    merged
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Group {
    Command,
    Service,
    Option,
    Daemon,
}

fn group(tag: Tag) -> Group {
    match tag {
        Tag::Command(_) | Tag::Help | Tag::Version => Group::Command,
        Tag::Tcp | Tag::Udp | Tag::Sctp | Tag::Fwmark => Group::Service,
        Tag::McastInterface
        | Tag::SyncId
        | Tag::McastGroup
        | Tag::McastPort
        | Tag::McastTtl
        | Tag::SyncMaxLen => Group::Daemon,
        _ => Group::Option,
    }
}

fn ipvsadm_item(page: &mut Page, shorts: &[u8], long: &str, kind: ArgKind, doc: &OptionDoc) {
    let mut names: Vec<String> = shorts
        .iter()
        .map(|&c| format!("\\fB\\-{}\\fR", escape(&(c as char).to_string())))
        .collect();
    names.push(format!("\\fB\\-\\-{}\\fR", escape(long)));
    let mut tag = names.join(", ");
    if let Some(value) = doc.value {
        if kind == ArgKind::Optional {
            tag.push_str(&format!(" [\\fI{}\\fR]", escape(value)));
        } else {
            tag.push_str(&format!(" \\fI{}\\fR", escape(value)));
        }
    }
    let text = if doc.extension {
        format!("{} (An lvs-rs extension.)", doc.text)
    } else {
        doc.text.to_owned()
    };
    page.item(&tag, &text);
}

fn ipvsadm() -> String {
    let mut page = Page::new(
        "ipvsadm",
        8,
        SOURCE,
        "ipvsadm",
        "administer the Linux Virtual Server table",
    );
    page.section("SYNOPSIS");
    let usage = ipvsadm_cli::text::usage("ipvsadm");
    page.line(".nf");
    for line in usage
        .lines()
        .skip_while(|l| *l != "Usage:")
        .skip(1)
        .take_while(|l| !l.is_empty())
    {
        page.line(&format!("\\fB{}\\fR", escape(line.trim())));
    }
    page.line(".fi");
    page.section("DESCRIPTION");
    page.para(
        "`ipvsadm` sets up, maintains and lists the IP Virtual Server table of the Linux kernel: \
         virtual services (an address, protocol and port, or a firewall mark) and the real servers \
         each one balances connections to, with a scheduling method. It talks to the kernel over \
         generic netlink.",
    );
    page.para(
        "This is the lvs-rs implementation, a drop-in replacement for ipvsadm 1.31: the same \
         options, parsed the way popt parses them, the same output byte for byte, the same \
         messages and exit statuses and the same rule format. The differences are listed under \
         COMPATIBILITY.",
    );
    page.para(
        "The first option must be a command. A virtual service is given with `-t`, `-u`, \
         `--sctp-service` or `-f`; a real server with `-r`. Options may be bundled (`-Ln`) and \
         long options take `--name=value`.",
    );
    let options = ipvsadm_options();
    for (title, wanted) in [
        ("COMMANDS", Group::Command),
        ("VIRTUAL SERVICES", Group::Service),
        ("OPTIONS", Group::Option),
        ("DAEMON OPTIONS", Group::Daemon),
    ] {
        page.section(title);
        if wanted == Group::Daemon {
            page.para("With `--start-daemon` (and `-L --daemon` for `--syncid`):");
        }
        for (shorts, long, kind, tag) in options.iter().filter(|o| group(o.3) == wanted) {
            ipvsadm_item(&mut page, shorts, long, *kind, &option_doc(*tag));
        }
    }
    page.section("JSON OUTPUT");
    page.para(
        "`ipvsadm -L --json` (an extension) prints one JSON object: `version`, \
         `connection_table_size` and `services`, a list in the order `-L` lists them. A service \
         has `family` (`ipv4` or `ipv6`), either `protocol` (`tcp`, `udp`, `sctp`), `address` and \
         `port` or `fwmark`, `scheduler`, `flags` (`persistent`, `one-packet` and scheduler flags), \
         `persistence` (null or `timeout` and `netmask`), `persistence_engine`, `stats`, `rates` and \
         `destinations`. A destination has `family`, `address`, `port`, `forwarding` (`masq`, \
         `route`, `tunnel`, `local`), `weight`, `upper_threshold`, `lower_threshold`, `tunnel` \
         (null or `type`, `port`, `checksum`), `active_connections`, `inactive_connections`, \
         `persistent_connections`, `stats` and `rates`. Addresses are numeric and counters exact.",
    );
    page.para(
        "`-L --timeout --json` prints `{\"timeouts\": {\"tcp\", \"tcp_fin\", \"udp\"}}`; \
         `-L --daemon --json` prints `{\"daemons\": [...]}` with `state`, `interface`, `sync_id`, \
         `max_length`, `group`, `port` and `ttl`. On an error nothing is printed on standard \
         output. The JSON Schema of all three is /usr/share/doc/lvs-rs/ipvsadm-json.schema.json.",
    );
    page.section("COMPATIBILITY");
    page.para("Where this ipvsadm differs from ipvsadm 1.31:");
    page.bullet(
        "`--json` is new (see JSON OUTPUT). It is a long option only, and ipvsadm 1.31 has no \
         option of that name, so no existing command line changes meaning.",
    );
    page.bullet(
        "`-R` sends consecutive changes to the kernel in batches instead of one request per line. \
         Each change is still acknowledged on its own: messages, the lines applied before a \
         failure and the exit status are ipvsadm's.",
    );
    page.bullet(
        "`ipvsadm-save` and `ipvsadm-restore` are programs, not shell scripts; see their pages for \
         their extensions.",
    );
    page.para(
        "Everything else is meant to be identical, including option quirks (the first option must \
         be a command, `-6` only after `-f`, `-p` taking the next word only when it does not \
         start with `-`), sorting, name resolution through the C library, and the wording of \
         kernel errors.",
    );
    page.section("EXIT STATUS");
    page.para(
        "0 on success; 1 when the kernel refuses a change or a service does not exist; 2 for a \
         command line ipvsadm rejects. With `-R`, the status of the last line.",
    );
    page.section("FILES");
    page.item(
        "\\fI/etc/ipvsadm.rules\\fR",
        "The rules `ipvsadm.service` restores at start (and saves at stop with \
         `SAVE_ON_STOP=true`).",
    );
    page.item(
        "\\fI/etc/default/ipvsadm\\fR",
        "Settings of `ipvsadm.service`: `DAEMON` (`none`, `master`, `backup`, `both`), `IFACE`, \
         `SYNCID` as in Debian's file, and `SAVE_ON_STOP`, `FLUSH_ON_STOP`, `IPVSADM_RULES`. \
         Debian's `AUTO` is not read: enabling the unit is what loads the rules at boot.",
    );
    page.item(
        "\\fI/proc/net/ip_vs\\fR, \\fI/proc/net/ip_vs_conn\\fR",
        "The kernel's own listings of the table and the connections.",
    );
    page.section("SEE ALSO");
    page.line(&markup(
        "`ipvsadm-save`(8), `ipvsadm-restore`(8), `vrrpd`(8), `keepalived.conf`(5)",
    ));
    page.finish()
}

fn ipvsadm_save() -> String {
    let mut page = Page::new(
        "ipvsadm-save",
        8,
        SOURCE,
        "ipvsadm-save",
        "print the IPVS table as ipvsadm rules",
    );
    page.section("SYNOPSIS");
    page.line("\\fBipvsadm\\-save\\fR [\\fB\\-n\\fR]");
    page.section("DESCRIPTION");
    page.para(
        "`ipvsadm-save` writes the kernel's IPVS table to standard output as rules that \
         `ipvsadm-restore` (or `ipvsadm -R`) reads back: it is `ipvsadm -S`. It replaces Debian's \
         script of the same name and behaves as it does.",
    );
    page.section("OPTIONS");
    page.item(
        &option_tag(Some('n'), "", None, false),
        "Numeric addresses and ports (`ipvsadm -S -n`).",
    );
    page.para(
        "Any other argument starting with `-` prints the script's usage on standard error \
         (status 1); other arguments are ignored, as by the script.",
    );
    page.section("EXAMPLE");
    page.example("ipvsadm-save -n > /etc/ipvsadm.rules");
    page.section("SEE ALSO");
    page.line(&markup("`ipvsadm`(8), `ipvsadm-restore`(8)"));
    page.finish()
}

fn ipvsadm_restore() -> String {
    let mut page = Page::new(
        "ipvsadm-restore",
        8,
        SOURCE,
        "ipvsadm-restore",
        "load ipvsadm rules into the IPVS table",
    );
    page.section("SYNOPSIS");
    page.line(".nf");
    page.line("\\fBipvsadm\\-restore\\fR < \\fIrules\\fR");
    page.line("\\fBipvsadm\\-restore \\-\\-test\\fR < \\fIrules\\fR");
    page.line("\\fBipvsadm\\-restore \\-\\-sync\\fR [\\fB\\-\\-dry\\-run\\fR] < \\fIrules\\fR");
    page.line(".fi");
    page.section("DESCRIPTION");
    page.para(
        "Without options, as Debian's script: drop the lines of standard input that start with \
         `#`, flush the table (`ipvsadm -C`), then apply the rest as `ipvsadm -R` does. The exit \
         status is the restore's (that of the last line).",
    );
    page.section("OPTIONS");
    page.para(
        "All options are lvs-rs extensions. Debian's script ignores its arguments; this program \
         ignores those that do not start with `--`, but stops with a usage message (status 2) on \
         an unknown `--` option, before flushing anything: a mistyped `--sync` must not empty a \
         director's table.",
    );
    for option in RESTORE_OPTIONS {
        page.item(&format!("\\fB{}\\fR", escape(option.name)), option.text);
    }
    page.section("EXAMPLES");
    page.example(
        "ipvsadm-restore --test < /etc/ipvsadm.rules\n\
         ipvsadm-restore --sync --dry-run < /etc/ipvsadm.rules\n\
         ipvsadm-restore --sync < /etc/ipvsadm.rules",
    );
    page.para(
        "`systemctl reload ipvsadm` runs `ipvsadm-restore --sync`: the table follows the file \
         without dropping connections, and a file with errors changes nothing.",
    );
    page.section("SEE ALSO");
    page.line(&markup("`ipvsadm`(8), `ipvsadm-save`(8)"));
    page.finish()
}

fn vrrpd() -> String {
    let mut page = Page::new(
        "vrrpd",
        8,
        SOURCE,
        "vrrpd",
        "VRRP and LVS daemon with keepalived's command line and configuration",
    );
    page.section("SYNOPSIS");
    page.line("\\fBvrrpd\\fR [\\fIOPTION\\fR...]");
    page.section("DESCRIPTION");
    page.para(
        "`vrrpd` is the lvs-rs replacement for keepalived 2.2.7: it reads `keepalived.conf` \
         (default /etc/keepalived/keepalived.conf) in keepalived's language, runs its VRRP \
         instances (virtual addresses, gratuitous ARP and unsolicited neighbour advertisements, \
         notify scripts, tracking scripts and interfaces) and its virtual servers (IPVS services \
         with `TCP_CHECK`, `HTTP_GET` and `MISC_CHECK` health checks, in a child process as \
         keepalived's checker process), and takes keepalived's command line, signals and pid \
         files. It can be installed as `keepalived` (a symbolic link) so that scripts calling \
         keepalived keep working.",
    );
    page.para(
        "Without `-n` it goes into the background. Under systemd, `vrrpd.service` runs it with \
         `--dont-fork` and `Type=notify`: see SYSTEMD.",
    );
    page.section("OPTIONS");
    page.para(
        "Options are keepalived's: short options may be bundled, long options may be \
         abbreviated to a unique prefix, optional arguments must be glued (`-tFILE`, \
         `--config-test=FILE`). Options marked \"ignored\" are accepted so that keepalived \
         command lines keep working, and have no effect.",
    );
    for option in vrrpd_cli::options() {
        let note = match option.doc.support {
            Support::Same => "",
            Support::Differs => "",
            Support::Ignored => " (Accepted and ignored by vrrpd.)",
            Support::Ours => " (A vrrpd extension.)",
        };
        page.item(
            &option_tag(
                option.short,
                option.long,
                option.doc.value,
                option.value_optional,
            ),
            &format!("{}{note}", option.doc.text),
        );
    }
    page.section("SIGNALS");
    for (signal, text) in [
        (
            "SIGHUP",
            "Read the configuration again. Instances that keep their name, family, VRID and \
             interface keep their state; a configuration that cannot be read leaves the running one \
             in place.",
        ),
        (
            "SIGTERM, SIGINT",
            "Stop: masters send a priority 0 advertisement and remove their virtual addresses \
             (not with `-V`), stop scripts run.",
        ),
        (
            "SIGUSR1",
            "Write the instances' state to /tmp/keepalived.data.",
        ),
        (
            "SIGUSR2",
            "Write the instances' counters to /tmp/keepalived.stats.",
        ),
    ] {
        page.item(&format!("\\fB{}\\fR", escape(signal)), text);
    }
    page.section("SYSTEMD");
    page.para(
        "When `NOTIFY_SOCKET` is set (a path, or an abstract socket name starting with `@`), \
         vrrpd sends `READY=1` once its instances run, `RELOADING=1` then `READY=1` around a \
         reload, `STOPPING=1` when it stops, and `STATUS=` lines with the number of instances \
         and masters. When `WATCHDOG_USEC` is set (and `WATCHDOG_PID` is absent or vrrpd's pid), \
         it sends `WATCHDOG=1` from its event loop every half interval; `vrrpd.service` sets \
         `WatchdogSec=30s`, so a stalled daemon is restarted.",
    );
    page.para(
        "`vrrpd.service` reads `DAEMON_ARGS` from /etc/default/keepalived and then \
         /etc/default/vrrpd, reloads with `SIGHUP`, and conflicts with `keepalived.service`: \
         starting one stops the other.",
    );
    page.section("COMPATIBILITY");
    page.para("Where vrrpd differs from keepalived 2.2.7:");
    page.bullet(
        "VRRP runs in the main process (keepalived forks a VRRP child), which writes both the \
         main and the VRRP pid file; the health checkers run in its child, to which it passes \
         `SIGHUP` and `SIGTERM` on, so one signal to the main process reloads or stops both.",
    );
    page.bullet(
        "Not implemented: `use_vmac` and `use_ipvlan`, virtual routes and rules, `no_accept` and \
         `vrrp_strict` firewall rules, `track_file`, `track_process`, `track_bfd`, \
         `vrrp_garp_interval` pacing, `garp_extra_if`, SMTP alerts, `vrrp_startup_delay`, \
         network namespaces, SNMP, D-Bus, the JSON dump and genhash; on the checker side \
         `SSL_GET`, `SMTP_CHECK`, `DNS_CHECK`, `UDP_CHECK`, `PING_CHECK`, `FILE_CHECK`, \
         `BFD_CHECK`, `lvs_timeouts`, `lvs_flush`.",
    );
    let ignored: Vec<String> = vrrpd_cli::options()
        .filter(|o| o.doc.support == Support::Ignored)
        .map(|o| match o.short {
            Some(c) => format!("`-{c}`"),
            None => format!("`--{}`", o.long),
        })
        .collect();
    page.bullet(&format!("Accepted and ignored: {}.", ignored.join(", ")));
    let differs: Vec<String> = vrrpd_cli::options()
        .filter(|o| o.doc.support == Support::Differs)
        .map(|o| format!("`--{}`", o.long))
        .collect();
    page.bullet(&format!(
        "Different output or behaviour, as described above: {}.",
        differs.join(", ")
    ));
    page.bullet(
        "Extensions: `--diagnostics`, `--assume-interfaces`, `--assume-environment`, \
         `--compare-peer` (for `-t`), `--metrics-listen` (Prometheus metrics), and the systemd \
         notify protocol with the watchdog.",
    );
    page.section("EXIT STATUS");
    page.para(
        "0 after a clean stop; 1 when it cannot start (command line, configuration, sockets). \
         With `-t`: 0 for a configuration keepalived would run, 1 for errors, 2 and 3 where \
         keepalived stops reading.",
    );
    page.section("FILES");
    for (file, text) in [
        (
            "/etc/keepalived/keepalived.conf",
            "The configuration (keepalived.conf(5)).",
        ),
        (
            "/run/keepalived.pid, /run/vrrp.pid, /run/checkers.pid",
            "Pid files (`-p`, `-r`, `-c`); in /run/keepalived/ with a namespace, `instance` or `use_pid_dir`.",
        ),
        ("/etc/default/vrrpd", "`DAEMON_ARGS` for `vrrpd.service`."),
    ] {
        page.item(&format!("\\fI{}\\fR", escape(file)), text);
    }
    page.section("SEE ALSO");
    page.line(&markup(
        "`keepalived.conf`(5), `keepalived`(8), `ipvsadm`(8), `systemd.service`(5)",
    ));
    page.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipvsadm_cli::args::table::Cmd;

    #[test]
    fn every_ipvsadm_option_is_on_the_page() {
        let page = ipvsadm();
        for spec in OPTIONS {
            let long = format!("\\fB\\-\\-{}\\fR", spec.long.replace('-', "\\-"));
            assert!(page.contains(&long), "--{} missing", spec.long);
        }
        assert!(page.contains("\\-\\-json"));
        assert!(page.contains(".SH COMPATIBILITY"));
    }

    #[test]
    fn restore_page_documents_the_extensions() {
        let page = ipvsadm_restore();
        for name in ["\\-\\-test", "\\-\\-sync", "\\-\\-dry\\-run"] {
            assert!(page.contains(&format!("\\fB{name}\\fR")), "{name}");
        }
    }

    #[test]
    fn vrrpd_page_lists_every_option_and_the_ignored_ones() {
        let page = vrrpd();
        for option in vrrpd_cli::options() {
            let long = format!("\\fB\\-\\-{}\\fR", escape(option.long));
            assert!(page.contains(&long), "--{} missing", option.long);
        }
        assert!(page.contains("Accepted and ignored: "));
    }

    #[test]
    fn commands_come_first_in_ipvsadm_order() {
        let options = ipvsadm_options();
        assert_eq!(options[0].3, Tag::Command(Cmd::AddService));
        // -L and -l are one entry.
        let list = options
            .iter()
            .find(|o| o.3 == Tag::Command(Cmd::List))
            .map(|o| o.0.clone());
        assert_eq!(list, Some(vec![b'L', b'l']));
    }
}
