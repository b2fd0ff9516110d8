//! The line keepalived 2.2.7 logs when a checker reports its standing: on a change, and on its first
//! result (the epilogs of `check_tcp.c`, `check_http.c`, `check_udp.c`, `check_ping.c`, `check_smtp.c`,
//! `check_dns.c` and `check_misc.c`). Operators grep for these, so the words are keepalived's.

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
}
