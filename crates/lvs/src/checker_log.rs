//! The lines keepalived 2.2.7 logs when a checker reports its standing, on a change and on its first
//! result, and, under `log_all_failures`, for each failed attempt (the epilogs and the check threads
//! of `check_tcp.c`, `check_http.c`, `check_udp.c`, `check_ping.c`, `check_smtp.c`, `check_dns.c`
//! and `check_misc.c`). Operators grep for these, so the words are keepalived's.

use keepalived_config::model::lvs::CheckerKind;

/// A checker's standing as it is reported.
#[derive(Clone, Copy, Debug)]
pub struct Standing<'a> {
    /// The checker.
    pub kind: &'a CheckerKind,
    /// The real server as keepalived names it (`FMT_RS`).
    pub real_server: &'a str,
    /// The virtual server as keepalived names it (`FMT_VS`).
    pub virtual_server: &'a str,
    /// Up (the attempt succeeded) or down (it failed after its retries).
    pub up: bool,
    /// Whether an earlier attempt had finished: keepalived counts the retries of a failure only then.
    pub had_run: bool,
    /// The checker's `retry`.
    pub retry: u32,
    /// Why the last attempt failed, in keepalived's words where it has them.
    pub reason: &'a str,
}

/// keepalived's line for `standing`; `None` where keepalived logs nothing (a `DNS_CHECK` coming up, a
/// `FILE_CHECK`, and `BFD_CHECK`, whose lines come from its session).
pub fn standing_line(standing: &Standing) -> Option<String> {
    let Standing {
        kind,
        real_server: rs,
        virtual_server: vs,
        up,
        had_run,
        retry,
        reason,
    } = *standing;
    // "failed after N retries." once the checker had run and has retries, else "failed.".
    let failed = |prefix: &str| {
        if had_run && retry > 0 {
            format!("{prefix} failed after {retry} retries.")
        } else {
            format!("{prefix} failed.")
        }
    };
    let line = match kind {
        CheckerKind::Tcp if up => format!("TCP connection to {rs} success."),
        CheckerKind::Tcp => failed(&format!("TCP_CHECK on service {rs}")),
        CheckerKind::HttpGet(_) | CheckerKind::SslGet(_) if up => {
            format!("Remote Web server {rs} succeed on service.")
        }
        CheckerKind::HttpGet(_) | CheckerKind::SslGet(_) => {
            failed(&format!("HTTP_CHECK on service {rs}"))
        }
        CheckerKind::Udp(_) if up => format!("UDP connection to {rs} success."),
        CheckerKind::Udp(_) => failed(&format!("UDP_CHECK on service {rs}")),
        CheckerKind::Ping if up => format!("ICMP connection to {rs} success."),
        // keepalived names the virtual server only when it counts the retries.
        CheckerKind::Ping if had_run && retry > 0 => {
            format!("ICMP CHECK on service {rs} of {vs} failed after {retry} retries.")
        }
        CheckerKind::Ping => format!("ICMP CHECK on service {rs} failed."),
        CheckerKind::Smtp(_) if up => format!("Remote SMTP server {rs} succeed on service."),
        CheckerKind::Smtp(_) => format!("SMTP_CHECK {reason}"),
        CheckerKind::Dns(_) if up => return None,
        CheckerKind::Dns(_) => {
            let after = if had_run {
                format!(" after {retry} retries")
            } else {
                String::new()
            };
            format!("DNS_CHECK ({rs}) {reason}{after}")
        }
        CheckerKind::Misc(misc) => {
            let script = misc.path.as_ref().map_or("", |script| script.program());
            let subject = format!("Misc check for [{rs} VS {vs}] by [{script}]");
            if up {
                format!("{subject} succeeded.")
            } else {
                let retries = match retry {
                    0 => " with retry disabled".to_owned(),
                    1 => " after 1 retry".to_owned(),
                    n => format!(" after {n} retries"),
                };
                if reason == MISC_TIMED_OUT {
                    format!("{subject} timed out{retries}.")
                } else {
                    format!("{subject} failed{retries} ({reason}).")
                }
            }
        }
        CheckerKind::File(_) | CheckerKind::Bfd(_) => return None,
    };
    Some(line)
}

/// The failure reason of a `MISC_CHECK` script killed after `misc_timeout`.
pub const MISC_TIMED_OUT: &str = "timed out";

/// What failed in one attempt, as keepalived tells failed attempts apart in the lines it logs for
/// each of them under `log_all_failures`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// `connect()` failed at once, before a connection was under way (no route to the server).
    Unreachable,
    /// The connection was refused, or broke before it was made.
    ConnectFailed,
    /// Whether the connection was made could not be asked (`getsockopt(SO_ERROR)` failed).
    ConnectError,
    /// The connection, or its TLS handshake, did not complete within `connect_timeout`, or
    /// the kernel gave it up (`ETIMEDOUT`).
    ConnectTimeout,
    /// The TLS handshake failed.
    TlsError,
    /// The request could not be sent.
    SendError,
    /// Sending the request did not end in time.
    SendTimeout,
    /// No answer began in time (for `PING_CHECK`, no echo reply came).
    AnswerTimeout,
    /// An answer began but did not end in time.
    ReadTimeout,
    /// Reading the answer failed.
    ReadError,
    /// The answer held nothing to judge (no status line).
    NoData,
    /// The HTTP status code is not one accepted.
    StatusCode,
    /// The body's MD5 digest is not the one configured.
    Digest,
    /// The body did not match the `regex` (or did, under `regex_no_match`).
    Regex,
    /// A reply came, but not the one required (`UDP_CHECK`'s `require_reply`).
    Mismatch,
    /// Anything else; the reason tells it (`DNS_CHECK`, `SMTP_CHECK`, `MISC_CHECK`).
    Other,
}

/// One failed attempt of a checker, as `log_all_failures` reports it.
#[derive(Clone, Copy, Debug)]
pub struct FailedAttempt<'a> {
    /// The checker.
    pub kind: &'a CheckerKind,
    /// The real server as keepalived names it (`FMT_RS`).
    pub real_server: &'a str,
    /// The virtual server as keepalived names it (`FMT_VS`).
    pub virtual_server: &'a str,
    /// What failed.
    pub failure: AttemptFailure,
    /// Why, in keepalived's words where it has them.
    pub reason: &'a str,
    /// Whether the checker was up before the attempt.
    pub was_up: bool,
    /// Whether an earlier attempt had finished.
    pub had_run: bool,
    /// Whether the attempt used up the retries and took the checker down: its standing line
    /// follows ([`standing_line`]).
    pub last: bool,
    /// The retries used, this attempt's included (`retry_it`).
    pub retries_used: u32,
    /// The checker's `retry`.
    pub retry: u32,
}

/// keepalived's line for a failed attempt under `log_all_failures`, which comes before any
/// standing line of the same attempt; `None` where keepalived logs none: a connection checker
/// that was not up, a web, DNS, SMTP or misc checker that is known to be down, and the last
/// attempt of a DNS, SMTP or misc checker, whose standing line says it.
pub fn attempt_line(attempt: &FailedAttempt) -> Option<String> {
    let FailedAttempt {
        kind,
        real_server: rs,
        virtual_server: vs,
        failure,
        reason,
        was_up,
        had_run,
        last,
        retries_used,
        retry,
    } = *attempt;
    let not_known_down = was_up || !had_run;
    let line = match kind {
        CheckerKind::Tcp if was_up => match failure {
            // keepalived goes straight to the epilog when connect() fails at once.
            AttemptFailure::Unreachable => return None,
            AttemptFailure::ConnectTimeout => format!("TCP connection to {rs} timeout."),
            _ => format!("TCP connection to {rs} failed."),
        },
        CheckerKind::HttpGet(_) | CheckerKind::SslGet(_) if not_known_down => {
            let what = match failure {
                AttemptFailure::Unreachable => "HTTP_CHECK - network unreachable",
                AttemptFailure::ConnectFailed => "Connection failed",
                AttemptFailure::ConnectError => "Error connecting",
                AttemptFailure::ConnectTimeout => "Timeout connecting",
                AttemptFailure::TlsError => "SSL handshake/communication error connecting to",
                AttemptFailure::SendError => "Cannot send get request to",
                AttemptFailure::SendTimeout => "Timeout WEB write",
                AttemptFailure::AnswerTimeout => "Timeout WEB read",
                AttemptFailure::ReadTimeout => "Timeout HTTP read",
                AttemptFailure::ReadError | AttemptFailure::Mismatch | AttemptFailure::Other => {
                    "Read error with"
                }
                AttemptFailure::NoData => "Read, no data received from ",
                AttemptFailure::StatusCode => "HTTP status code error to",
                AttemptFailure::Digest => "MD5 digest error to",
                AttemptFailure::Regex => "Regex match failed",
            };
            format!("{what} server {rs}.")
        }
        CheckerKind::Udp(_) if was_up => match failure {
            AttemptFailure::Mismatch => format!("UDP check to {rs} reply data mismatch."),
            _ => format!("UDP connection to {rs} failed."),
        },
        CheckerKind::Ping if was_up => match failure {
            AttemptFailure::AnswerTimeout => format!("ICMP connection to address {rs} timeout."),
            _ => format!("ICMP connection to {rs} of {vs} failed."),
        },
        CheckerKind::Dns(_) if not_known_down && !last => format!("DNS_CHECK ({rs}) {reason}"),
        CheckerKind::Smtp(_) if not_known_down && !last => format!("SMTP_CHECK {reason}"),
        CheckerKind::Misc(misc) if not_known_down && !last => {
            let script = misc.path.as_ref().map_or("", |script| script.program());
            // keepalived counts the retries still to come, then the one that failed.
            let retries = if retries_used <= 1 {
                let noun = if retry == 1 { "retry" } else { "retries" };
                format!(", will do {retry} {noun}")
            } else {
                format!(" on retry {}/{retry}", retries_used - 1)
            };
            let subject = format!("Misc check for [{rs} VS {vs}] by [{script}]");
            if reason == MISC_TIMED_OUT {
                format!("{subject} timed out{retries}.")
            } else {
                format!("{subject} failed{retries} ({reason}).")
            }
        }
        _ => return None,
    };
    Some(line)
}

#[cfg(test)]
mod tests {
    use keepalived_config::model::lvs::{DnsCheck, MiscCheck, SmtpCheck, UdpCheck};
    use keepalived_config::model::script::Script;

    use super::*;

    fn line(kind: &CheckerKind, up: bool, had_run: bool, retry: u32, reason: &str) -> String {
        standing_line(&Standing {
            kind,
            real_server: "[10.0.2.11]:tcp:80",
            virtual_server: "[10.0.1.100]:tcp:80",
            up,
            had_run,
            retry,
            reason,
        })
        .unwrap_or_default()
    }

    #[test]
    fn connection_checkers_say_success_and_count_retries_once_run() {
        let tcp = CheckerKind::Tcp;
        assert_eq!(
            line(&tcp, true, false, 3, ""),
            "TCP connection to [10.0.2.11]:tcp:80 success."
        );
        assert_eq!(
            line(&tcp, false, true, 3, "refused"),
            "TCP_CHECK on service [10.0.2.11]:tcp:80 failed after 3 retries."
        );
        // The first result, or no retries: no count.
        assert_eq!(
            line(&tcp, false, false, 3, ""),
            "TCP_CHECK on service [10.0.2.11]:tcp:80 failed."
        );
        assert_eq!(
            line(&tcp, false, true, 0, ""),
            "TCP_CHECK on service [10.0.2.11]:tcp:80 failed."
        );
        let udp = CheckerKind::Udp(UdpCheck::default());
        assert_eq!(
            line(&udp, false, true, 1, ""),
            "UDP_CHECK on service [10.0.2.11]:tcp:80 failed after 1 retries."
        );
        assert_eq!(
            line(&CheckerKind::Ping, false, true, 2, ""),
            "ICMP CHECK on service [10.0.2.11]:tcp:80 of [10.0.1.100]:tcp:80 failed after 2 retries."
        );
        assert_eq!(
            line(&CheckerKind::Ping, true, true, 2, ""),
            "ICMP connection to [10.0.2.11]:tcp:80 success."
        );
    }

    #[test]
    fn web_smtp_and_dns_checkers_use_their_own_words() {
        let http = CheckerKind::HttpGet(Default::default());
        assert_eq!(
            line(&http, true, true, 1, ""),
            "Remote Web server [10.0.2.11]:tcp:80 succeed on service."
        );
        assert_eq!(
            line(&http, false, true, 1, ""),
            "HTTP_CHECK on service [10.0.2.11]:tcp:80 failed after 1 retries."
        );
        let smtp = CheckerKind::Smtp(SmtpCheck::default());
        assert_eq!(
            line(
                &smtp,
                false,
                true,
                1,
                "Could not connect to server [10.0.2.11]:25"
            ),
            "SMTP_CHECK Could not connect to server [10.0.2.11]:25"
        );
        let dns = CheckerKind::Dns(DnsCheck {
            query_type: "SOA".into(),
            name: ".".into(),
        });
        assert_eq!(line(&dns, true, true, 1, ""), "");
        assert_eq!(
            line(&dns, false, true, 2, "timeout"),
            "DNS_CHECK ([10.0.2.11]:tcp:80) timeout after 2 retries"
        );
    }

    #[test]
    fn misc_checks_name_the_script_and_the_retries() {
        let misc = CheckerKind::Misc(Box::new(MiscCheck {
            path: Some(Script {
                text: "/bin/check it".into(),
                argv: vec!["/bin/check".into(), "it".into()],
                user: None,
            }),
            timeout: None,
            dynamic: false,
            user: None,
        }));
        let subject = "Misc check for [[10.0.2.11]:tcp:80 VS [10.0.1.100]:tcp:80] by [/bin/check]";
        assert_eq!(
            line(&misc, true, true, 1, ""),
            format!("{subject} succeeded.")
        );
        assert_eq!(
            line(&misc, false, true, 1, "exited with status 1"),
            format!("{subject} failed after 1 retry (exited with status 1).")
        );
        assert_eq!(
            line(&misc, false, true, 0, "due to signal 9"),
            format!("{subject} failed with retry disabled (due to signal 9).")
        );
        assert_eq!(
            line(&misc, false, true, 2, MISC_TIMED_OUT),
            format!("{subject} timed out after 2 retries.")
        );
    }

    fn attempt(kind: &CheckerKind, failure: AttemptFailure, was_up: bool, had_run: bool) -> String {
        attempt_after(kind, failure, "", was_up, had_run, false, 1, 3)
    }

    #[allow(clippy::too_many_arguments)]
    fn attempt_after(
        kind: &CheckerKind,
        failure: AttemptFailure,
        reason: &str,
        was_up: bool,
        had_run: bool,
        last: bool,
        retries_used: u32,
        retry: u32,
    ) -> String {
        attempt_line(&FailedAttempt {
            kind,
            real_server: "[10.0.2.11]:tcp:80",
            virtual_server: "[10.0.1.100]:tcp:80",
            failure,
            reason,
            was_up,
            had_run,
            last,
            retries_used,
            retry,
        })
        .unwrap_or_default()
    }

    #[test]
    fn connection_checkers_report_each_failed_attempt_only_while_up() {
        let tcp = CheckerKind::Tcp;
        assert_eq!(
            attempt(&tcp, AttemptFailure::ConnectTimeout, true, true),
            "TCP connection to [10.0.2.11]:tcp:80 timeout."
        );
        assert_eq!(
            attempt(&tcp, AttemptFailure::ConnectFailed, true, false),
            "TCP connection to [10.0.2.11]:tcp:80 failed."
        );
        assert_eq!(
            attempt(&tcp, AttemptFailure::ConnectFailed, false, true),
            ""
        );
        // keepalived goes to its epilog without a word when connect() fails at once.
        assert_eq!(attempt(&tcp, AttemptFailure::Unreachable, true, true), "");
        let udp = CheckerKind::Udp(UdpCheck::default());
        assert_eq!(
            attempt(&udp, AttemptFailure::Mismatch, true, true),
            "UDP check to [10.0.2.11]:tcp:80 reply data mismatch."
        );
        assert_eq!(
            attempt(&udp, AttemptFailure::ReadError, true, true),
            "UDP connection to [10.0.2.11]:tcp:80 failed."
        );
        assert_eq!(
            attempt(
                &CheckerKind::Ping,
                AttemptFailure::AnswerTimeout,
                true,
                true
            ),
            "ICMP connection to address [10.0.2.11]:tcp:80 timeout."
        );
        assert_eq!(
            attempt(&CheckerKind::Ping, AttemptFailure::Other, true, true),
            "ICMP connection to [10.0.2.11]:tcp:80 of [10.0.1.100]:tcp:80 failed."
        );
    }

    #[test]
    fn web_checkers_name_what_failed_until_known_down() {
        let http = CheckerKind::HttpGet(Default::default());
        let cases = [
            (AttemptFailure::ConnectFailed, "Connection failed server"),
            (AttemptFailure::ConnectError, "Error connecting server"),
            (AttemptFailure::ConnectTimeout, "Timeout connecting server"),
            (
                AttemptFailure::Unreachable,
                "HTTP_CHECK - network unreachable server",
            ),
            (AttemptFailure::AnswerTimeout, "Timeout WEB read server"),
            (AttemptFailure::ReadTimeout, "Timeout HTTP read server"),
            (AttemptFailure::SendTimeout, "Timeout WEB write server"),
            (
                AttemptFailure::NoData,
                "Read, no data received from  server",
            ),
            (
                AttemptFailure::StatusCode,
                "HTTP status code error to server",
            ),
            (AttemptFailure::Digest, "MD5 digest error to server"),
            (AttemptFailure::Regex, "Regex match failed server"),
            (
                AttemptFailure::TlsError,
                "SSL handshake/communication error connecting to server",
            ),
        ];
        for (failure, words) in cases {
            assert_eq!(
                attempt(&http, failure, true, true),
                format!("{words} [10.0.2.11]:tcp:80.")
            );
        }
        // Never run counts as not known to be down; down after a run says nothing.
        assert_eq!(
            attempt(&http, AttemptFailure::ConnectFailed, false, false),
            "Connection failed server [10.0.2.11]:tcp:80."
        );
        assert_eq!(
            attempt(&http, AttemptFailure::ConnectError, false, true),
            ""
        );
    }

    #[test]
    fn dns_smtp_and_misc_checkers_report_the_attempts_before_the_last() {
        let dns = CheckerKind::Dns(DnsCheck {
            query_type: "SOA".into(),
            name: ".".into(),
        });
        let reason = "no answer";
        assert_eq!(
            attempt_after(&dns, AttemptFailure::Other, reason, true, true, false, 1, 2),
            "DNS_CHECK ([10.0.2.11]:tcp:80) no answer"
        );
        // The last attempt's line is the standing line.
        assert_eq!(
            attempt_after(&dns, AttemptFailure::Other, reason, true, true, true, 0, 2),
            ""
        );
        let smtp = CheckerKind::Smtp(SmtpCheck::default());
        assert_eq!(
            attempt_after(
                &smtp,
                AttemptFailure::Other,
                reason,
                true,
                true,
                false,
                1,
                2
            ),
            "SMTP_CHECK no answer"
        );
        let misc = CheckerKind::Misc(Box::new(MiscCheck {
            path: Some(Script {
                text: "/bin/false".into(),
                argv: vec!["/bin/false".into()],
                user: None,
            }),
            timeout: None,
            dynamic: false,
            user: None,
        }));
        let status = "exited with status 1";
        assert_eq!(
            attempt_after(
                &misc,
                AttemptFailure::Other,
                status,
                true,
                true,
                false,
                1,
                3
            ),
            "Misc check for [[10.0.2.11]:tcp:80 VS [10.0.1.100]:tcp:80] by [/bin/false] failed, will do 3 retries (exited with status 1)."
        );
        assert_eq!(
            attempt_after(
                &misc,
                AttemptFailure::Other,
                status,
                true,
                true,
                false,
                3,
                3
            ),
            "Misc check for [[10.0.2.11]:tcp:80 VS [10.0.1.100]:tcp:80] by [/bin/false] failed on retry 2/3 (exited with status 1)."
        );
        assert_eq!(
            attempt_after(
                &misc,
                AttemptFailure::Other,
                MISC_TIMED_OUT,
                true,
                true,
                false,
                1,
                1
            ),
            "Misc check for [[10.0.2.11]:tcp:80 VS [10.0.1.100]:tcp:80] by [/bin/false] timed out, will do 1 retry."
        );
    }
}
