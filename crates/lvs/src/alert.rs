//! What keepalived 2.2.7's checker process tells the world besides its log, and when: the lines of the
//! notify FIFOs (`ipwrapper.c`: `notify_fifo_vs`, `notify_fifo_rs`) and the SMTP alerts (`smtp.c`'s
//! subjects, the bodies of the checkers' epilogs and of `do_vs_notifies`, `clear_service_rs`).
//! Virtual and real servers are named as keepalived's `FMT_VS` and `FMT_RS` name them. Whether a server's
//! changes are mailed is its `smtp_alert`, which the configuration layer resolves as keepalived does.

use std::fmt;
use std::net::IpAddr;

use keepalived_config::model::lvs::RealServer;
use keepalived_config::model::lvs::{CheckerKind, ServiceAddress, VirtualServer};

/// keepalived's `FMT_VS`: `[10.0.0.1]:tcp:80`, `FWM 5`, or a group's `[NAME]:0`.
pub fn vs_text(vs: &VirtualServer) -> String {
    VsName(vs).to_string()
}

/// keepalived's `FMT_RS`: the real server with the virtual server's protocol, `none` for a firewall-mark
/// service (keepalived clears a fwmark service's protocol).
pub fn rs_text(vs: &VirtualServer, address: IpAddr, port: u16) -> String {
    RsName { vs, address, port }.to_string()
}

/// [`vs_text`] written where it is needed: a reload writes thousands of lines naming servers.
pub struct VsName<'a>(pub &'a VirtualServer);

impl fmt::Display for VsName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vs = self.0;
        match &vs.service {
            ServiceAddress::Address { address, port } => {
                f.write_str("[")?;
                write_address(f, *address)?;
                write!(f, "]:{}:{port}", vs.protocol.name())
            }
            ServiceAddress::Fwmark(mark) => write!(f, "FWM {mark}"),
            // A group's virtual server has no address of its own: its port is 0.
            ServiceAddress::Group(name) => write!(f, "[{name}]:0"),
        }
    }
}

/// [`rs_text`] written where it is needed.
pub struct RsName<'a> {
    /// The virtual server (for its protocol).
    pub vs: &'a VirtualServer,
    /// The real server's address.
    pub address: IpAddr,
    /// The real server's port.
    pub port: u16,
}

impl fmt::Display for RsName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.vs.service {
            ServiceAddress::Fwmark(_) => "none",
            _ => self.vs.protocol.name(),
        };
        f.write_str("[")?;
        write_address(f, self.address)?;
        write!(f, "]:{protocol}:{}", self.port)
    }
}

/// An address as `Display` writes it; an IPv4 one by a shorter way than the standard library's,
/// which pads through a buffer of its own.
fn write_address(f: &mut fmt::Formatter<'_>, address: IpAddr) -> fmt::Result {
    let IpAddr::V4(v4) = address else {
        return write!(f, "{address}");
    };
    let mut text = [0u8; 15];
    let mut len = 0;
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        let digits = [octet / 100, octet / 10 % 10, octet % 10];
        let skip = match octet {
            0..=9 => 2,
            10..=99 => 1,
            _ => 0,
        };
        for digit in &digits[skip..] {
            text[len] = b'0' + digit;
            len += 1;
        }
    }
    // Only ASCII digits and dots were written.
    f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
}

/// `UP` or `DOWN`.
pub fn state(up: bool) -> &'static str {
    if up { "UP" } else { "DOWN" }
}

/// The FIFO line of a virtual server gaining (`up`) or losing quorum.
pub fn vs_fifo_line(vs: &VirtualServer, up: bool) -> String {
    format!("VS {} {}\n", vs_text(vs), state(up))
}

/// The FIFO line of a real server going up or down.
pub fn rs_fifo_line(vs: &VirtualServer, rs: &RealServer, up: bool) -> String {
    format!(
        "RS {} {} {}\n",
        rs_text(vs, rs.address, rs.port),
        vs_text(vs),
        state(up)
    )
}

/// What a real server's mail is about, between the router id and the state: `Realserver X of virtual
/// server Y`.
pub fn rs_mail_topic(vs: &VirtualServer, rs: &RealServer) -> String {
    format!(
        "Realserver {} of virtual server {}",
        rs_text(vs, rs.address, rs.port),
        vs_text(vs)
    )
}

/// What a virtual server's mail is about: `Virtualserver Y`.
pub fn vs_mail_topic(vs: &VirtualServer) -> String {
    format!("Virtualserver {}", vs_text(vs))
}

/// How a checker's attempt ended, as far as its mail says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// A MISC_CHECK script killed after `misc_timeout`.
    TimedOut,
}

/// Whether a checker whose standing the schedule reported (`was_up` before, `up` now) sends a mail:
/// keepalived's epilogs mail a change of the checker's standing, and MISC_CHECK also its first result,
/// changed or not; with `no_checker_emails` only when the real server itself went up or down.
pub fn checker_mail_due(
    kind: &CheckerKind,
    was_up: bool,
    up: bool,
    server_changed: bool,
    no_checker_emails: bool,
) -> bool {
    let reported = matches!(kind, CheckerKind::Misc(_)) || was_up != up;
    reported && (server_changed || !no_checker_emails)
}

/// The body of a checker's mail, as each of keepalived's checkers words it; `None` for `FILE_CHECK`,
/// which sends none. `reason`: why the attempt
/// failed, which only `SMTP_CHECK` tells (see [`crate::smtp::Failure`]).
pub fn checker_body(kind: &CheckerKind, outcome: Outcome, reason: &str) -> Option<String> {
    let good = outcome == Outcome::Succeeded;
    if let (CheckerKind::Smtp(_), false, false) = (kind, good, reason.is_empty()) {
        // keepalived's buffer for it holds 541 characters.
        let mut body = format!("=> CHECK failed on service : {reason} <=");
        let end = (0..=SMTP_BODY_MAX.min(body.len()))
            .rev()
            .find(|&end| body.is_char_boundary(end))
            .unwrap_or(0);
        body.truncate(end);
        return Some(body);
    }
    let text = match kind {
        CheckerKind::Tcp if good => "=> TCP CHECK succeed on service <=",
        CheckerKind::Tcp => "=> TCP CHECK failed on service <=",
        CheckerKind::HttpGet(_) | CheckerKind::SslGet(_) if good => {
            "=> CHECK succeed on service <="
        }
        CheckerKind::HttpGet(_) | CheckerKind::SslGet(_) => {
            "=> CHECK failed on service : HTTP request failed <="
        }
        CheckerKind::Smtp(_) if good => "=> CHECK succeed on service <=",
        CheckerKind::Smtp(_) => "=> CHECK failed on service <=",
        CheckerKind::Misc(_) => match outcome {
            Outcome::Succeeded => "=> MISC CHECK succeeded on service <=",
            Outcome::Failed => "=> MISC CHECK failed on service <=",
            Outcome::TimedOut => "=> MISC CHECK timed out on service <=",
        },
        CheckerKind::Dns(_) if good => "=> DNS_CHECK: succeed on service <=",
        CheckerKind::Dns(_) => "=> DNS_CHECK: failed on service <=",
        CheckerKind::Udp(_) if good => "=> UDP CHECK succeed on service <=",
        CheckerKind::Udp(_) => "=> UDP CHECK failed on service <=",
        CheckerKind::Ping if good => "=> ICMP CHECK succeed on service <=",
        CheckerKind::Ping => "=> ICMP CHECK failed on service <=",
        CheckerKind::Bfd(Some(name)) => {
            let verb = if good { "succeeded" } else { "failed" };
            return Some(format!("=> BFD CHECK {name} {verb} on service <="));
        }
        CheckerKind::File(_) | CheckerKind::Bfd(None) => return None,
    };
    Some(text.to_owned())
}

/// keepalived's `smtp_buff` less its terminator.
const SMTP_BODY_MAX: usize = 541;

/// When a quorum mail is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuorumMoment {
    /// At start (`Starting with quorum up` / `down`).
    Start,
    /// On a change while running (`Gained quorum` / `Lost quorum`).
    Change,
    /// At stop (`omega`).
    Stop,
}

/// The body of a virtual server's quorum mail: `=> Gained quorum 2+0=2 <= 2 <=`, with the threshold that
/// was crossed and the live weight (keepalived writes `+` and `<=` for a loss too).
pub fn quorum_body(
    up: bool,
    moment: QuorumMoment,
    vs: &VirtualServer,
    threshold: i64,
    weight_sum: i64,
) -> String {
    let what = match (moment, up) {
        (QuorumMoment::Stop, _) => return "=> Shutting down <=".to_owned(),
        (QuorumMoment::Start, true) => "Starting with quorum up",
        (QuorumMoment::Start, false) => "Starting with quorum down",
        (QuorumMoment::Change, true) => "Gained quorum",
        (QuorumMoment::Change, false) => "Lost quorum",
    };
    format!(
        "=> {what} {}+{}={threshold} <= {weight_sum} <=",
        vs.quorum, vs.hysteresis
    )
}

/// The threshold keepalived reports with a quorum change, the one the previous state watched:
/// `quorum − hysteresis` while quorum was up, `quorum + hysteresis` while it was down (so also at start).
pub fn quorum_threshold(vs: &VirtualServer, was_up: bool) -> i64 {
    let (quorum, hysteresis) = (i64::from(vs.quorum), i64::from(vs.hysteresis));
    if was_up {
        quorum - hysteresis
    } else {
        quorum + hysteresis
    }
}

/// The body of the mail of a live real server taken out at stop (`omega`).
pub const SHUTTING_DOWN: &str = "=> Shutting down <=";

/// The body of the mail of a live real server a reload's configuration drops.
pub const REMOVING: &str = "=> Removing <=";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::tests::config;
    use keepalived_config::model::lvs::{MiscCheck, Protocol};

    fn servers() -> keepalived_config::model::Config {
        config(
            "virtual_server 10.0.1.100 80 {\n protocol TCP\n quorum 2\n hysteresis 1\n\
             real_server 10.0.2.11 8080 {\n weight 2\n }\n}\n\
             virtual_server fwmark 7 {\n real_server 10.0.2.12 80 {\n }\n}\n\
             virtual_server 2001:db8::1 53 {\n real_server 2001:db8::11 53 {\n }\n}\n",
        )
    }

    #[test]
    fn every_ipv4_address_is_written_as_the_standard_library_writes_it() {
        let config = servers();
        let vs = &config.virtual_servers[0];
        let mut rng = fastrand::Rng::with_seed(0x1b4_0c7e7);
        let edges = [0, 1, 9, 10, 99, 100, 199, 200, 255];
        let mut addresses: Vec<std::net::Ipv4Addr> = edges
            .iter()
            .flat_map(|&a| {
                edges
                    .iter()
                    .map(move |&b| std::net::Ipv4Addr::new(a, b, b, a))
            })
            .collect();
        addresses.extend((0..2000).map(|_| std::net::Ipv4Addr::from(rng.u32(..))));
        for address in addresses {
            assert_eq!(
                rs_text(vs, IpAddr::V4(address), 8080),
                format!("[{address}]:tcp:8080")
            );
        }
    }

    #[test]
    fn servers_are_named_as_keepalived_names_them() {
        let config = servers();
        let [tcp, mark, udp6] = &config.virtual_servers[..] else {
            panic!("three virtual servers");
        };
        assert_eq!(vs_text(tcp), "[10.0.1.100]:tcp:80");
        assert_eq!(vs_text(mark), "FWM 7");
        assert_eq!(vs_text(udp6), "[2001:db8::1]:udp:53");
        assert_eq!(
            rs_fifo_line(tcp, &tcp.real_servers[0], false),
            "RS [10.0.2.11]:tcp:8080 [10.0.1.100]:tcp:80 DOWN\n"
        );
        assert_eq!(
            rs_fifo_line(mark, &mark.real_servers[0], true),
            "RS [10.0.2.12]:none:80 FWM 7 UP\n"
        );
        assert_eq!(vs_fifo_line(udp6, true), "VS [2001:db8::1]:udp:53 UP\n");
        assert_eq!(
            rs_mail_topic(tcp, &tcp.real_servers[0]),
            "Realserver [10.0.2.11]:tcp:8080 of virtual server [10.0.1.100]:tcp:80"
        );
        assert_eq!(vs_mail_topic(mark), "Virtualserver FWM 7");
    }

    #[test]
    fn each_checker_words_its_mail() {
        let misc = CheckerKind::Misc(Box::new(MiscCheck {
            path: None,
            timeout: None,
            dynamic: false,
            user: None,
        }));
        let cases = [
            (
                CheckerKind::Tcp,
                Outcome::Succeeded,
                "=> TCP CHECK succeed on service <=",
            ),
            (
                CheckerKind::Tcp,
                Outcome::Failed,
                "=> TCP CHECK failed on service <=",
            ),
            (
                CheckerKind::Ping,
                Outcome::Failed,
                "=> ICMP CHECK failed on service <=",
            ),
            (
                misc.clone(),
                Outcome::TimedOut,
                "=> MISC CHECK timed out on service <=",
            ),
            (
                misc,
                Outcome::Succeeded,
                "=> MISC CHECK succeeded on service <=",
            ),
        ];
        for (kind, outcome, text) in cases {
            assert_eq!(checker_body(&kind, outcome, "").as_deref(), Some(text));
        }
        let smtp = CheckerKind::Smtp(Default::default());
        assert_eq!(
            checker_body(
                &smtp,
                Outcome::Failed,
                "Could not connect to server [10.0.2.11]:25"
            )
            .as_deref(),
            Some("=> CHECK failed on service : Could not connect to server [10.0.2.11]:25 <=")
        );
        assert_eq!(
            checker_body(&CheckerKind::Bfd(Some("B1".into())), Outcome::Failed, "").as_deref(),
            Some("=> BFD CHECK B1 failed on service <=")
        );
        assert_eq!(
            checker_body(&smtp, Outcome::Succeeded, "").as_deref(),
            Some("=> CHECK succeed on service <=")
        );
    }

    #[test]
    fn mails_follow_changes_of_the_checker_and_misc_reports_its_first_result() {
        let misc = CheckerKind::Misc(Box::new(MiscCheck {
            path: None,
            timeout: None,
            dynamic: true,
            user: None,
        }));
        assert!(!checker_mail_due(
            &CheckerKind::Tcp,
            true,
            true,
            false,
            false
        ));
        assert!(checker_mail_due(
            &CheckerKind::Tcp,
            true,
            false,
            false,
            false
        ));
        assert!(!checker_mail_due(
            &CheckerKind::Tcp,
            true,
            false,
            false,
            true
        ));
        assert!(checker_mail_due(&CheckerKind::Tcp, true, false, true, true));
        assert!(checker_mail_due(&misc, true, true, false, false));
        assert!(!checker_mail_due(&misc, true, true, false, true));
    }

    #[test]
    fn quorum_bodies_carry_the_threshold_crossed_and_the_live_weight() {
        let config = servers();
        let vs = &config.virtual_servers[0];
        assert_eq!(vs.protocol, Protocol::Tcp);
        let lost = quorum_threshold(vs, true);
        assert_eq!(
            quorum_body(false, QuorumMoment::Change, vs, lost, 0),
            "=> Lost quorum 2+1=1 <= 0 <="
        );
        let gained = quorum_threshold(vs, false);
        assert_eq!(
            quorum_body(true, QuorumMoment::Change, vs, gained, 3),
            "=> Gained quorum 2+1=3 <= 3 <="
        );
        assert_eq!(
            quorum_body(true, QuorumMoment::Start, vs, gained, 3),
            "=> Starting with quorum up 2+1=3 <= 3 <="
        );
        assert_eq!(
            quorum_body(false, QuorumMoment::Start, vs, gained, 0),
            "=> Starting with quorum down 2+1=3 <= 0 <="
        );
        assert_eq!(
            quorum_body(false, QuorumMoment::Stop, vs, lost, 0),
            "=> Shutting down <="
        );
    }
}
