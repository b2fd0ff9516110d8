//! Health checkers inside `real_server`: `HTTP_GET`, `SSL_GET`, `TCP_CHECK`, `MISC_CHECK`,
//! `SMTP_CHECK`, `DNS_CHECK`, `UDP_CHECK`, `PING_CHECK`, `FILE_CHECK`, `BFD_CHECK`.

use std::time::Duration;

use super::keywords::{Keyword, block, kw};
use super::state::{CheckerDraft, TimingDraft};
use super::values::{parse_address, read_hex_str};
use super::virtual_server::{TIMER_MAX_US, format_trio, with_rs};
use super::walker::{HandlerResult, Line, Parser};
use crate::model::lvs::{
    CheckTiming, Checker, CheckerKind, ConnectionOptions, DnsCheck, FileCheck, HttpCheck,
    MiscCheck, SmtpCheck, UdpCheck, UrlCheck,
};

macro_rules! common_keywords {
    () => {
        [
            kw("retry", retry),
            kw("delay_before_retry", |p, l| {
                timer(
                    p,
                    l,
                    0,
                    "Invalid delay_before_retry connection value '{}'",
                    |t, d| t.delay_before_retry = Some(d),
                )
            }),
            kw("warmup", |p, l| {
                timer(p, l, 0, "Invalid warmup connection value '{}'", |t, d| {
                    t.warmup = Some(d)
                })
            }),
            kw("delay_loop", |p, l| {
                timer(p, l, 1, "delay_loop '{}' is invalid - ignoring", |t, d| {
                    t.delay_loop = Some(d)
                })
            }),
            kw("alpha", alpha),
            kw("log_all_failures", log_all_failures),
        ]
    };
}

macro_rules! connection_keywords {
    () => {
        [
            kw("connect_ip", |p, l| {
                address(p, l, "connect_ip", |c, a| c.connect_ip = Some(a))
            }),
            kw("connect_port", |p, l| {
                port(p, l, "connect_port", |c, n| c.connect_port = Some(n))
            }),
            kw("bindto", |p, l| {
                address(p, l, "bindto", |c, a| c.bind_to = Some(a))
            }),
            kw("bind_port", |p, l| {
                port(p, l, "bind_port", |c, n| c.bind_port = Some(n))
            }),
            kw("bind_if", bind_if),
            kw("connect_timeout", connect_timeout),
            kw("fwmark", fwmark),
        ]
    };
}

const COMMON: [Keyword; 6] = common_keywords!();
const CONNECTION: [Keyword; 7] = connection_keywords!();

const fn concat<const A: usize, const B: usize, const C: usize, const N: usize>(
    a: [Keyword; A],
    b: [Keyword; B],
    c: [Keyword; C],
) -> [Keyword; N] {
    let mut out = [kw("", retry); N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < B {
        out[A + j] = b[j];
        j += 1;
    }
    let mut k = 0;
    while k < C {
        out[A + B + k] = c[k];
        k += 1;
    }
    out
}

static HTTP_OWN: [Keyword; 6] = [
    kw("nb_get_retry", nb_get_retry),
    block("url", Some(url), URL_KEYWORDS, Some(url_close)),
    kw("virtualhost", |p, l| {
        match l.text_of(1) {
            Some(h) => {
                let h = h.to_owned();
                with_http(p, |c| c.virtualhost = Some(h));
            }
            None => p.error("HTTP_GET virtualhost name missing"),
        }
        Ok(())
    }),
    kw("http_protocol", http_protocol),
    kw("fast_recovery", |p, l| {
        if let Some(b) = p.optional_bool(l, |s| format!("Invalid fast_recovery parameter {s}")) {
            with_http(p, |c| c.fast_recovery = b);
        }
        Ok(())
    }),
    kw("enable_sni", |p, l| {
        if let Some(b) = p.optional_bool(l, |s| format!("Invalid enable_sni parameter {s}")) {
            with_http(p, |c| c.enable_sni = b);
        }
        Ok(())
    }),
];

static HTTP_ALL: [Keyword; 19] = concat(CONNECTION, COMMON, HTTP_OWN);
/// The keywords of `HTTP_GET`.
pub static HTTP_KEYWORDS: &[Keyword] = &HTTP_ALL;
/// The keywords of `SSL_GET`.
pub static SSL_KEYWORDS: &[Keyword] = &HTTP_ALL;
static TCP_ALL: [Keyword; 13] = concat(CONNECTION, COMMON, []);
/// The keywords of `TCP_CHECK`.
pub static TCP_KEYWORDS: &[Keyword] = &TCP_ALL;
/// The keywords of `PING_CHECK`.
pub static PING_KEYWORDS: &[Keyword] = &TCP_ALL;
static MISC_ALL: [Keyword; 10] = concat(
    COMMON,
    [
        kw("misc_path", misc_path),
        kw("misc_timeout", misc_timeout),
        kw("misc_dynamic", |p, _| {
            with_misc(p, |m| m.dynamic = true);
            Ok(())
        }),
    ],
    [kw("user", misc_user)],
);
/// The keywords of `MISC_CHECK`.
pub static MISC_KEYWORDS: &[Keyword] = &MISC_ALL;
static SMTP_ALL: [Keyword; 15] = concat(
    CONNECTION,
    COMMON,
    [
        kw("helo_name", helo_name),
        block("host", Some(smtp_host), SMTP_HOST_KEYWORDS, None),
    ],
);
/// The keywords of `SMTP_CHECK`.
pub static SMTP_KEYWORDS: &[Keyword] = &SMTP_ALL;
static SMTP_HOST_ALL: [Keyword; 7] = connection_keywords!();
static SMTP_HOST_KEYWORDS: &[Keyword] = &SMTP_HOST_ALL;
static DNS_ALL: [Keyword; 15] = concat(
    CONNECTION,
    COMMON,
    [kw("type", dns_type), kw("name", dns_name)],
);
/// The keywords of `DNS_CHECK`.
pub static DNS_KEYWORDS: &[Keyword] = &DNS_ALL;
static UDP_ALL: [Keyword; 17] = concat(
    CONNECTION,
    COMMON,
    [
        kw("payload", payload),
        kw("require_reply", require_reply),
        kw("min_reply_length", |p, l| reply_length(p, l, true)),
        kw("max_reply_length", |p, l| reply_length(p, l, false)),
    ],
);
/// The keywords of `UDP_CHECK`.
pub static UDP_KEYWORDS: &[Keyword] = &UDP_ALL;
/// The keywords of `FILE_CHECK`.
pub static FILE_KEYWORDS: &[Keyword] =
    &[kw("track_file", file_track_file), kw("weight", file_weight)];
/// The keywords of `BFD_CHECK`.
pub static BFD_KEYWORDS: &[Keyword] = &[kw("name", bfd_name), kw("alpha", alpha)];

/// The keywords of `url`.
pub static URL_KEYWORDS: &[Keyword] = &[
    kw("path", |p, l| {
        let w = p.required(l, 1)?;
        let path = w.text.as_str().to_owned();
        with_url(p, |u| u.path = path);
        Ok(())
    }),
    kw("digest", digest),
    kw("status_code", status_code),
    kw("virtualhost", |p, l| {
        match l.text_of(1) {
            Some(h) => {
                let h = h.to_owned();
                with_url(p, |u| u.virtualhost = Some(h));
            }
            None => p.error("Missing HTTP_GET virtualhost name"),
        }
        Ok(())
    }),
    // keepalived 2.2.7 takes the regex keywords without checking their values: a missing or
    // bad value is only logged. The pattern is the line split again with quotes and escapes
    // decoded (`\\d` in the file is `\d` in the pattern), and must be one word.
    kw("regex", |p, l| {
        let Some(words) = p.quoted_words(l) else {
            return Ok(());
        };
        match <[String; 2]>::try_from(words) {
            Ok([_, pattern]) => with_url(p, |u| u.regex = Some(pattern)),
            Err(_) => p.log("regex missing or too many fields"),
        }
        Ok(())
    }),
    kw("regex_no_match", |p, _| {
        with_url(p, |u| u.regex_no_match = true);
        Ok(())
    }),
    kw("regex_options", |p, l| {
        let options = l.words[1..]
            .iter()
            .map(|t| t.text.as_str().to_owned())
            .collect();
        with_url(p, |u| u.regex_options = options);
        Ok(())
    }),
    kw("regex_stack", |p, l| {
        let number = |i: usize| l.text_of(i).and_then(|t| t.parse::<u32>().ok());
        if let (Some(start), Some(max)) = (number(1), number(2)) {
            with_url(p, |u| u.regex_stack = Some((start, max)));
        }
        Ok(())
    }),
    kw("regex_min_offset", |p, l| {
        if let Some(v) = l.text_of(1).and_then(|t| t.parse::<u32>().ok()) {
            with_url(p, |u| u.regex_min_offset = Some(v));
        }
        Ok(())
    }),
    kw("regex_max_offset", |p, l| {
        if let Some(v) = l.text_of(1).and_then(|t| t.parse::<u32>().ok()) {
            with_url(p, |u| u.regex_max_offset = Some(v));
        }
        Ok(())
    }),
];

fn current<'p>(p: &'p mut Parser<'_>) -> Option<&'p mut CheckerDraft> {
    p.state
        .virtual_servers
        .last_mut()?
        .real_servers
        .last_mut()?
        .checkers
        .last_mut()
}

fn with_checker(p: &mut Parser<'_>, f: impl FnOnce(&mut CheckerDraft)) {
    if let Some(c) = current(p) {
        f(c);
    }
}

fn with_http(p: &mut Parser<'_>, f: impl FnOnce(&mut HttpCheck)) {
    with_checker(p, |c| {
        if let CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) = &mut c.checker.kind {
            f(h);
        }
    });
}

fn with_url(p: &mut Parser<'_>, f: impl FnOnce(&mut UrlCheck)) {
    with_http(p, |h| {
        if let Some(u) = h.urls.last_mut() {
            f(u);
        }
    });
}

fn with_misc(p: &mut Parser<'_>, f: impl FnOnce(&mut MiscCheck)) {
    with_checker(p, |c| {
        if let CheckerKind::Misc(m) = &mut c.checker.kind {
            f(m);
        }
    });
}

fn with_udp(p: &mut Parser<'_>, f: impl FnOnce(&mut UdpCheck)) {
    with_checker(p, |c| {
        if let CheckerKind::Udp(u) = &mut c.checker.kind {
            f(u);
        }
    });
}

/// The retry delay of most checkers when neither they nor their real server set one.
const ONE_SECOND: Option<Duration> = Some(Duration::from_secs(1));

/// Starts a checker of `kind` on the current real server, with its default retry count and
/// retry delay (`None`: the delay loop).
fn start(
    p: &mut Parser<'_>,
    l: &Line,
    kind: CheckerKind,
    default_retry: u32,
    default_delay_before_retry: Option<Duration>,
    launched: bool,
) -> HandlerResult {
    let position = l.words.first().map(|w| w.span.position);
    let checker = Checker {
        kind,
        connection: ConnectionOptions::default(),
        timing: CheckTiming {
            connect_timeout: Duration::from_secs(5),
            retry: default_retry,
            delay_before_retry: default_delay_before_retry.unwrap_or(Duration::from_secs(60)),
            warmup: Duration::from_secs(60),
            delay_loop: Duration::from_secs(60),
        },
        alpha: false,
        log_all_failures: false,
        position,
    };
    with_rs(p, |r| {
        // A real server has one checker, seldom more: no room for four (Vec's first growth).
        if r.checkers.is_empty() {
            r.checkers.reserve_exact(1);
        }
        r.checkers.push(CheckerDraft {
            checker,
            timing: TimingDraft::default(),
            alpha: None,
            default_retry,
            default_delay_before_retry,
            launched,
        })
    })
}

/// Drops the checker being read.
fn drop_current(p: &mut Parser<'_>) {
    if let Some(r) = p
        .state
        .virtual_servers
        .last_mut()
        .and_then(|v| v.real_servers.last_mut())
    {
        r.checkers.pop();
    }
}

/// `HTTP_GET`.
pub(super) fn http_get(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(
        p,
        l,
        CheckerKind::HttpGet(HttpCheck::default()),
        1,
        Some(Duration::from_secs(3)),
        true,
    )
}

/// `SSL_GET`.
pub(super) fn ssl_get(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(
        p,
        l,
        CheckerKind::SslGet(HttpCheck::default()),
        1,
        Some(Duration::from_secs(3)),
        true,
    )
}

/// The end of an `HTTP_GET`/`SSL_GET` block: a check without URLs is dropped.
pub(super) fn http_close(p: &mut Parser<'_>) -> HandlerResult {
    let empty = current(p).is_some_and(|c| matches!(&c.checker.kind, CheckerKind::HttpGet(h) | CheckerKind::SslGet(h) if h.urls.is_empty()));
    if empty {
        p.error("HTTP/SSL_GET checker has no urls specified - ignoring");
        drop_current(p);
    }
    Ok(())
}

/// `TCP_CHECK`.
pub(super) fn tcp_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(p, l, CheckerKind::Tcp, 1, ONE_SECOND, true)
}

/// `MISC_CHECK`.
pub(super) fn misc_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(
        p,
        l,
        CheckerKind::Misc(Box::new(MiscCheck {
            path: None,
            timeout: None,
            dynamic: false,
            user: None,
        })),
        0,
        ONE_SECOND,
        true,
    )
}

/// The end of a `MISC_CHECK` block: a check without a script is dropped.
pub(super) fn misc_close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(c) = current(p) else { return Ok(()) };
    let CheckerKind::Misc(m) = &mut c.checker.kind else {
        return Ok(());
    };
    if m.path.is_none() {
        p.error("No script path has been specified for MISC_CHECKER - skipping");
        drop_current(p);
        return Ok(());
    }
    if m.user.is_none() {
        let program = m
            .path
            .as_ref()
            .map(|s| s.program().to_owned())
            .unwrap_or_default();
        match p.default_script_user() {
            Ok(user) => with_misc(p, |m| m.user = Some(user)),
            Err(_) => {
                p.error(format!(
                    "Failed to set default user for misc checker script {program} - removing"
                ));
                drop_current(p);
            }
        }
    }
    Ok(())
}

/// `SMTP_CHECK`.
pub(super) fn smtp_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(
        p,
        l,
        CheckerKind::Smtp(SmtpCheck::default()),
        1,
        ONE_SECOND,
        true,
    )
}

fn smtp_host(_p: &mut Parser<'_>, _l: &Line) -> HandlerResult {
    Ok(())
}

/// `DNS_CHECK`.
pub(super) fn dns_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(
        p,
        l,
        CheckerKind::Dns(DnsCheck {
            query_type: "SOA".into(),
            // Set at the end of the block when not given.
            name: String::new(),
        }),
        3,
        // The retry delay of a DNS check defaults to its delay loop.
        None,
        true,
    )
}

/// `UDP_CHECK`.
pub(super) fn udp_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(
        p,
        l,
        CheckerKind::Udp(UdpCheck {
            max_reply_length: 255,
            ..UdpCheck::default()
        }),
        1,
        ONE_SECOND,
        true,
    )
}

/// `PING_CHECK`.
pub(super) fn ping_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(p, l, CheckerKind::Ping, 1, ONE_SECOND, true)
}

/// `FILE_CHECK`.
pub(super) fn file_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(
        p,
        l,
        CheckerKind::File(FileCheck {
            track_file: String::new(),
            weight: None,
            reverse: false,
            dynamic: false,
        }),
        0,
        None,
        false,
    )
}

/// The end of a `FILE_CHECK` block.
pub(super) fn file_close(p: &mut Parser<'_>) -> HandlerResult {
    let missing = current(p).is_some_and(
        |c| matches!(&c.checker.kind, CheckerKind::File(f) if f.track_file.is_empty()),
    );
    if missing {
        p.error("FILE_CHECK has no track_file specified - ignoring");
        drop_current(p);
    }
    Ok(())
}

/// `BFD_CHECK`.
pub(super) fn bfd_check(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    start(p, l, CheckerKind::Bfd(None), 0, None, false)
}

fn rs_label(p: &Parser<'_>) -> String {
    p.state
        .virtual_servers
        .last()
        .and_then(|v| {
            v.real_servers
                .last()
                .map(|r| format_trio(&r.server.address, v.protocol, r.server.port))
        })
        .unwrap_or_default()
}

/// The end of a `BFD_CHECK` block.
pub(super) fn bfd_close(p: &mut Parser<'_>) -> HandlerResult {
    let missing = current(p).is_some_and(|c| matches!(&c.checker.kind, CheckerKind::Bfd(None)));
    if missing {
        let label = rs_label(p);
        p.error(format!(
            "({label}) No name has been specified for BFD_CHECKER - skipping"
        ));
        drop_current(p);
    }
    Ok(())
}

/// The end of the other checkers' blocks: a DNS check's default name, a UDP check's reply
/// bounds.
pub(super) fn close(p: &mut Parser<'_>) -> HandlerResult {
    let Some(c) = current(p) else {
        return Ok(());
    };
    match &mut c.checker.kind {
        CheckerKind::Dns(d) if d.name.is_empty() => d.name = ".".into(),
        CheckerKind::Udp(u) if u.min_reply_length > u.max_reply_length => {
            let message = format!(
                "UDP_CHECK min_reply length {} > max_reply_length {} - will always fail",
                u.min_reply_length, u.max_reply_length
            );
            p.error(message);
        }
        _ => {}
    }
    Ok(())
}

fn retry(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(n) => with_checker(p, |c| c.timing.retry = Some(n as u32)),
        None => p.error_at(
            w,
            format!("Invalid retry connection value '{}'", w.as_str()),
        ),
    }
    Ok(())
}

fn nb_get_retry(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    p.error("nb_get_retry is deprecated - please use 'retry'");
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(n) => with_checker(p, |c| c.timing.retry = Some(n as u32)),
        None => p.error_at(w, format!("Invalid nb_get_retry value '{}'", w.as_str())),
    }
    Ok(())
}

fn timer(
    p: &mut Parser<'_>,
    l: &Line,
    min_us: u64,
    message: &str,
    set: fn(&mut TimingDraft, Duration),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    // Only connect_timeout has an upper bound (UINT_MAX microseconds).
    let max_us = if l.keyword() == "connect_timeout" {
        TIMER_MAX_US
    } else {
        0
    };
    match p.timer(w, min_us, max_us) {
        Some(d) => with_checker(p, |c| set(&mut c.timing, d)),
        None => p.error_at(w, message.replace("{}", w.as_str())),
    }
    Ok(())
}

fn connect_timeout(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.timer(w, 1, TIMER_MAX_US) {
        Some(d) => with_checker(p, |c| c.timing.connect_timeout = Some(d)),
        None => p.error_at(
            w,
            format!("connect_timeout {} invalid - ignoring", w.as_str()),
        ),
    }
    Ok(())
}

fn alpha(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if let Some(b) = p.optional_bool(l, |s| format!("Invalid alpha parameter {s}")) {
        with_checker(p, |c| c.alpha = Some(b));
    }
    Ok(())
}

fn log_all_failures(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if let Some(b) = p.optional_bool(l, |s| format!("Invalid log_all_failures parameter {s}")) {
        with_checker(p, |c| c.checker.log_all_failures = b);
    }
    Ok(())
}

fn address(
    p: &mut Parser<'_>,
    l: &Line,
    what: &str,
    set: fn(&mut ConnectionOptions, std::net::IpAddr),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    let Some(a) = parse_address(w.as_str()) else {
        p.error_at(
            w,
            format!("Invalid {what} address {} - ignoring", w.as_str()),
        );
        return Ok(());
    };
    // The connect and bind addresses must be of one family.
    let (other, other_name) = match what {
        "bindto" => (
            current(p).and_then(|c| c.checker.connection.connect_ip),
            "connect_ip",
        ),
        _ => (
            current(p).and_then(|c| c.checker.connection.bind_to),
            "bindto",
        ),
    };
    if other.is_some_and(|o| o.is_ipv4() != a.is_ipv4()) {
        let message = format!(
            "{what} address {} does not match address family of {other_name} - skipping",
            w.as_str()
        );
        p.error_at(w, message);
        return Ok(());
    }
    with_checker(p, |c| set(&mut c.checker.connection, a));
    Ok(())
}

fn port(
    p: &mut Parser<'_>,
    l: &Line,
    what: &str,
    set: fn(&mut ConnectionOptions, u16),
) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 1, 65535) {
        Some(n) => with_checker(p, |c| set(&mut c.checker.connection, n as u16)),
        None => p.error_at(w, format!("Invalid checker {what} '{}'", w.as_str())),
    }
    Ok(())
}

fn bind_if(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let name = w.text.as_str().to_owned();
    with_checker(p, |c| c.checker.connection.bind_interface = Some(name));
    Ok(())
}

fn fwmark(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, u64::from(u32::MAX)) {
        Some(n) => with_checker(p, |c| c.checker.connection.fwmark = Some(n as u32)),
        None => p.error_at(
            w,
            format!("Invalid fwmark connection value '{}'", w.as_str()),
        ),
    }
    Ok(())
}

fn url(p: &mut Parser<'_>, _l: &Line) -> HandlerResult {
    with_http(p, |h| {
        // Most checks have one url: no room for four (Vec's first growth).
        if h.urls.is_empty() {
            h.urls.reserve_exact(1);
        }
        h.urls.push(UrlCheck::new(String::new()))
    });
    Ok(())
}

fn url_close(p: &mut Parser<'_>) -> HandlerResult {
    let mut missing = false;
    with_http(p, |h| {
        if h.urls.last().is_some_and(|u| u.path.is_empty()) {
            missing = true;
            h.urls.pop();
        } else if let Some(u) = h
            .urls
            .last_mut()
            .filter(|u| u.status_codes.is_empty() && u.digest.is_none())
        {
            u.status_codes.push((200, 299));
        }
    });
    if missing {
        p.error("HTTP/SSL_GET checker url has no path - ignoring");
    }
    Ok(())
}

fn digest(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let text = w.as_str();
    if text.len() != 32 {
        p.error_at(
            w,
            format!(
                "digest '{text}' character length should be 32 rather than {}",
                text.len()
            ),
        );
        return Ok(());
    }
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        p.error_at(w, format!("digest '{text}' is not a valid hex string"));
        return Ok(());
    }
    let d = text.to_ascii_lowercase();
    with_url(p, |u| u.digest = Some(d));
    Ok(())
}

fn status_code(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let mut ranges = Vec::new();
    for w in &l.words[1..] {
        let text = w.as_str();
        let parsed = match text.split_once('-') {
            Some((a, b)) => a.parse::<u16>().ok().zip(b.parse::<u16>().ok()),
            None => text.parse::<u16>().ok().map(|n| (n, n)),
        };
        match parsed
            .filter(|&(a, b)| (100..=599).contains(&a) && (100..=599).contains(&b) && a <= b)
        {
            Some(range) => ranges.push(range),
            None => {
                p.error_at(w, format!("Invalid HTTP_GET status code '{text}'"));
                return Ok(());
            }
        }
    }
    with_url(p, |u| u.status_codes.extend(ranges));
    Ok(())
}

fn http_protocol(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error("Missing http_protocol version");
        return Ok(());
    };
    match w.as_str() {
        "1.0" | "1.0C" | "1.0c" | "1.1" => {
            let v = w.text.as_str().to_owned();
            with_http(p, |h| h.http_protocol = Some(v));
        }
        other => p.error_at(w, format!("Invalid http_protocol version {other}")),
    }
    Ok(())
}

fn misc_path(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if l.len() < 2 {
        return Ok(());
    }
    let script = p.command(l);
    with_misc(p, |m| m.path = script);
    Ok(())
}

fn misc_timeout(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, 4294) {
        Some(n) => with_misc(p, |m| m.timeout = Some(Duration::from_secs(n))),
        None => p.error_at(w, format!("Invalid misc_timeout value '{}'", w.as_str())),
    }
    Ok(())
}

fn misc_user(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let program = current(p)
        .and_then(|c| match &c.checker.kind {
            CheckerKind::Misc(m) => m.path.as_ref().map(|s| s.program().to_owned()),
            _ => None,
        })
        .unwrap_or_default();
    let Some(user) = l.text_of(1) else {
        p.error(format!(
            "No user specified for misc checker script {program}"
        ));
        return Ok(());
    };
    match p.script_user(user, l.text_of(2)) {
        Some(u) => with_misc(p, |m| m.user = Some(u)),
        None => {
            p.error(format!(
                "Failed to set uid/gid for misc checker script {program} - removing"
            ));
            drop_current(p);
            p.skip_block(false);
        }
    }
    Ok(())
}

fn helo_name(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    match l.text_of(1) {
        Some(h) => {
            let h = h.to_owned();
            with_checker(p, |c| {
                if let CheckerKind::Smtp(s) = &mut c.checker.kind {
                    s.helo_name = Some(h);
                }
            });
        }
        None => p.error("SMTP_CHECK helo name missing"),
    }
    Ok(())
}

/// DNS query types keepalived knows.
const DNS_TYPES: &[&str] = &["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"];

fn dns_type(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let upper = w.as_str().to_ascii_uppercase();
    if !DNS_TYPES.contains(&upper.as_str()) {
        p.error_at(
            w,
            format!("Unknown DNS check type {} - ignoring", w.as_str()),
        );
        return Ok(());
    }
    with_checker(p, |c| {
        if let CheckerKind::Dns(d) = &mut c.checker.kind {
            d.query_type = upper;
        }
    });
    Ok(())
}

fn dns_name(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    let given = current(p)
        .is_some_and(|c| matches!(&c.checker.kind, CheckerKind::Dns(d) if !d.name.is_empty()));
    if given {
        p.error_at(w, "DNS_CHECK name already specified - ignoring");
        return Ok(());
    }
    let name = w.text.as_str().to_owned();
    if has_empty_label(&name) {
        let message = format!("DNS_CHECK name '{name}' has empty label - ignoring");
        let hint = (!name.starts_with('.')).then(|| {
            "keepalived 2.2.7 also refuses names whose first label is one character long".to_owned()
        });
        match hint {
            Some(hint) => p.out.report_with_hint(
                crate::diagnostics::ErrorClass::GeneralError,
                message,
                Some(w.span),
                hint,
            ),
            None => p.error_at(w, message),
        }
        return Ok(());
    }
    with_checker(p, |c| {
        if let CheckerKind::Dns(d) = &mut c.checker.kind {
            d.name = name;
        }
    });
    Ok(())
}

/// keepalived's test for an empty label in a DNS name. It looks at the character after the
/// first one and after each dot, so it also refuses a first label of one character (`a.b`).
fn has_empty_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.len() > 1 && bytes[0] == b'.' {
        return true;
    }
    let dots = bytes
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, b)| **b == b'.')
        .map(|(i, _)| i);
    std::iter::once(0)
        .chain(dots)
        .any(|i| bytes.get(i + 1) == Some(&b'.'))
}

fn payload(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if l.len() < 2 {
        p.error("UDP_CHECK payload requires a payload");
        return Ok(());
    }
    let text = l.words[1..]
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    match read_hex_str(&text, false) {
        Some((data, _)) => with_udp(p, |u| u.payload = Some(data)),
        None => p.error("Invalid hex string for UDP_CHECK payload"),
    }
    Ok(())
}

fn require_reply(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    if l.len() < 2 {
        with_udp(p, |u| u.require_reply = Some((Vec::new(), Vec::new())));
        return Ok(());
    }
    let text = l.words[1..]
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    match read_hex_str(&text, true) {
        Some(reply) => with_udp(p, |u| u.require_reply = Some(reply)),
        None => p.error("Invalid hex string for UDP_CHECK reply"),
    }
    Ok(())
}

fn reply_length(p: &mut Parser<'_>, l: &Line, min: bool) -> HandlerResult {
    let w = p.required(l, 1)?;
    match p.unsigned(w, 0, 65535) {
        Some(n) => with_udp(p, |u| {
            if min {
                u.min_reply_length = n as u32;
            } else {
                u.max_reply_length = n as u32;
            }
        }),
        None => p.error_at(
            w,
            format!(
                "UDP_CHECK {} length {} not valid - must be between 0 & 65535",
                if min { "min" } else { "max" },
                w.as_str()
            ),
        ),
    }
    Ok(())
}

fn file_track_file(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let w = p.required(l, 1)?;
    if !p
        .state
        .config
        .track_files
        .iter()
        .any(|t| t.name == w.as_str())
    {
        p.error_at(w, format!("track_file {} not found", w.as_str()));
        return Ok(());
    }
    let name = w.text.as_str().to_owned();
    with_checker(p, |c| {
        if let CheckerKind::File(f) = &mut c.checker.kind {
            f.track_file = name;
        }
    });
    Ok(())
}

fn file_weight(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let Some(w) = l.word(1) else {
        p.error("track file weight missing");
        return Ok(());
    };
    match p.int(w, -2_147_483_647, 2_147_483_647) {
        Some(v) => {
            let reverse = match l.word(2) {
                None => false,
                Some(option) if option.as_str() == "reverse" => true,
                Some(option) if option.as_str() == "noreverse" => false,
                Some(option) => {
                    p.error_at(
                        option,
                        format!(
                            "unknown track file weight option {} - ignoring",
                            option.as_str()
                        ),
                    );
                    return Ok(());
                }
            };
            with_checker(p, |c| {
                if let CheckerKind::File(f) = &mut c.checker.kind {
                    f.weight = Some(v as i32);
                    f.reverse = reverse;
                }
            });
        }
        None => p.error_at(
            w,
            "weight for track file must be in [-2147483647..2147483647] inclusive. Ignoring...",
        ),
    }
    Ok(())
}

fn bfd_name(p: &mut Parser<'_>, l: &Line) -> HandlerResult {
    let label = rs_label(p);
    if l.len() != 2 {
        p.error(format!(
            "({label}) BFD_CHECK - No or too many names specified - skipping checker"
        ));
        drop_current(p);
        p.skip_block(false);
        return Ok(());
    }
    let name = l.words[1].as_str();
    if !p.state.config.bfd_instances.iter().any(|b| b.name == name) {
        p.error(format!("({label}) BFD_CHECK - BFD {name} not configured"));
        drop_current(p);
        p.skip_block(false);
        return Ok(());
    }
    let name = name.to_owned();
    with_checker(p, |c| c.checker.kind = CheckerKind::Bfd(Some(name)));
    Ok(())
}
