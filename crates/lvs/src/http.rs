//! `HTTP_GET` and `SSL_GET` without I/O: the request keepalived 2.2.7 sends (`check_http.c`) and
//! the verdict on the response — the status code within the URL's accepted ranges (200–299 when
//! none is configured), with `digest` the MD5 of the body, with `regex` a match (or with
//! `regex_no_match` none) in the body. `SSL_GET` is the same exchange over TLS.

use std::net::IpAddr;

use md5::{Digest, Md5};

use keepalived_config::model::lvs::{HttpCheck, UrlCheck};

/// The most of a response kept (keepalived reads bodies in full for the digest; a bound keeps a
/// misbehaving server from using up memory).
pub const MAX_RESPONSE: usize = 4 << 20;

/// The name for the `Host:` header: the URL's `virtualhost`, else the checker's, the real
/// server's, the virtual server's (keepalived's `http_request_thread`).
pub fn virtual_host<'a>(
    url: &'a UrlCheck,
    check: &'a HttpCheck,
    real_server: Option<&'a str>,
    virtual_server: Option<&'a str>,
) -> Option<&'a str> {
    url.virtualhost
        .as_deref()
        .or(check.virtualhost.as_deref())
        .or(real_server)
        .or(virtual_server)
}

/// The name sent as SNI by `SSL_GET`: none without `enable_sni`; else the URL's `virtualhost`,
/// the checker's or the virtual server's (keepalived's `ssl_connect` does not look at the real
/// server's).
pub fn sni_name<'a>(
    url: &'a UrlCheck,
    check: &'a HttpCheck,
    virtual_server: Option<&'a str>,
) -> Option<&'a str> {
    if !check.enable_sni {
        return None;
    }
    url.virtualhost
        .as_deref()
        .or(check.virtualhost.as_deref())
        .or(virtual_server)
}

/// The request line and headers for `path`, as keepalived writes them. `Host:` is the virtual
/// host as it is, or else the address with the port (always, 80 too; IPv6 in brackets).
pub fn request(
    path: &str,
    virtual_host: Option<&str>,
    address: IpAddr,
    port: u16,
    protocol: Option<&str>,
) -> Vec<u8> {
    let host = match (virtual_host, address) {
        (Some(name), _) => name.to_owned(),
        (None, IpAddr::V4(a)) => format!("{a}:{port}"),
        (None, IpAddr::V6(a)) => format!("[{a}]:{port}"),
    };
    let (version, close) = match protocol {
        Some("1.1") => ("1.1", true),
        Some("1.0C" | "1.0c") => ("1.0", true),
        _ => ("1.0", false),
    };
    let mut text = format!("GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n");
    if close {
        text.push_str("Connection: close\r\n");
    }
    text.push_str(&format!("Host: {host}\r\n\r\n"));
    text.into_bytes()
}

/// Why a response did not pass.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpFailure {
    /// No status line could be read.
    #[error("no HTTP status line in the response")]
    NoStatus,
    /// The status code is not accepted.
    #[error("HTTP status code error to [{path}] : HTTP status code {code}")]
    Status {
        /// The URL path.
        path: String,
        /// The code received.
        code: u16,
    },
    /// The body has no match of `regex` (or has one, with `regex_no_match`).
    #[error("Regex match failed to [{path}]")]
    Regex {
        /// The URL path.
        path: String,
    },
    /// The body's MD5 differs from `digest`.
    #[error("MD5 digest error to [{path}] : MD5SUM to [{got}] expected [{want}]")]
    Digest {
        /// The URL path.
        path: String,
        /// The digest of the body received.
        got: String,
        /// The configured digest.
        want: String,
    },
}

/// What a response passed on, last of keepalived's checks made: the words of its
/// `… success to … url(…)` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpPass {
    /// The status code (the URL has neither `digest` nor `regex`).
    Status,
    /// The `digest`.
    Digest,
    /// The `regex`.
    Regex,
}

impl HttpPass {
    /// keepalived's words for it.
    pub fn words(self) -> &'static str {
        match self {
            HttpPass::Status => "HTTP status code",
            HttpPass::Digest => "MD5 digest",
            HttpPass::Regex => "Regex match",
        }
    }
}

/// The status code of a response, from its status line (`HTTP/1.x NNN …`).
pub fn status_code(response: &[u8]) -> Option<u16> {
    let line_end = response.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&response[..line_end]).ok()?;
    let mut words = line.split_ascii_whitespace();
    let version = words.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    let code = words.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// The body of a response: what follows the blank line after the headers.
pub fn body(response: &[u8]) -> &[u8] {
    if let Some(i) = response.windows(4).position(|w| w == b"\r\n\r\n") {
        return &response[i + 4..];
    }
    if let Some(i) = response.windows(2).position(|w| w == b"\n\n") {
        return &response[i + 2..];
    }
    &[]
}

/// The MD5 of `data` as 32 lower-case hex digits.
pub fn md5_hex(data: &[u8]) -> String {
    let digest = Md5::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Judges a whole response (the connection was closed by the server) against `url`, in
/// keepalived's order: status code, digest, regex (`body_regex`, made from the same `url`).
pub fn judge(
    url: &UrlCheck,
    body_regex: Option<&BodyRegex>,
    response: &[u8],
) -> Result<HttpPass, HttpFailure> {
    let code = status_code(response).ok_or(HttpFailure::NoStatus)?;
    let accepted = if url.status_codes.is_empty() {
        (200..=299).contains(&code)
    } else {
        url.status_codes
            .iter()
            .any(|&(low, high)| (low..=high).contains(&code))
    };
    if !accepted {
        return Err(HttpFailure::Status {
            path: url.path.clone(),
            code,
        });
    }
    let mut pass = HttpPass::Status;
    if let Some(want) = &url.digest {
        pass = HttpPass::Digest;
        let got = md5_hex(body(response));
        if !got.eq_ignore_ascii_case(want) {
            return Err(HttpFailure::Digest {
                path: url.path.clone(),
                got,
                want: want.clone(),
            });
        }
    }
    if let Some(body_regex) = body_regex {
        pass = HttpPass::Regex;
        if body_regex.matches(body(response)) == body_regex.no_match {
            return Err(HttpFailure::Regex {
                path: url.path.clone(),
            });
        }
    }
    Ok(pass)
}

/// The `regex` of a URL, compiled once, with where a match may start.
///
/// keepalived matches with PCRE2 over the body as it arrives; this is the `regex` crate over
/// the whole body, with PCRE2's options mapped to the crate's flags. Without `utf`/`ucp` the
/// pattern works on bytes as PCRE2 does (`.` is one byte, `\w` ASCII).
#[derive(Clone, Debug)]
pub struct BodyRegex {
    /// `None`: the pattern could not be compiled, and nothing matches it.
    regex: Option<regex::bytes::Regex>,
    /// `regex_no_match`: success is no match.
    no_match: bool,
    /// `regex_min_offset`: the first byte of the body where a match may start.
    min_offset: usize,
    /// `regex_max_offset`: the last byte of the body where a match may start.
    max_offset: Option<usize>,
}

/// A `BodyRegex` and what to tell the user about it.
#[derive(Clone, Debug)]
pub struct CompiledRegex {
    /// `None` when the URL has no `regex`.
    pub body_regex: Option<BodyRegex>,
    /// keepalived's messages and ours on the options and the pattern.
    pub warnings: Vec<String>,
}

/// PCRE2 options that change matching in ways the `regex` crate cannot follow.
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "allow_empty_class",
    "alt_bsux",
    "alt_circumflex",
    "dollar_endonly",
    "firstline",
    "match_unset_backref",
];

impl BodyRegex {
    /// Compiles the `regex` of `url` with its options and offsets, as keepalived reads them at
    /// the end of the `url` block: offsets without a pattern are dropped, and a minimum offset
    /// beyond the maximum drops both.
    pub fn compile(url: &UrlCheck) -> CompiledRegex {
        let mut warnings = Vec::new();
        let Some(pattern) = &url.regex else {
            if url.regex_no_match
                || url.regex_min_offset.is_some()
                || url.regex_max_offset.is_some()
                || !url.regex_options.is_empty()
                || url.regex_stack.is_some()
            {
                warnings.push("regex parameters specified without regex".to_owned());
            }
            return CompiledRegex {
                body_regex: None,
                warnings,
            };
        };
        let mut min_offset = url.regex_min_offset.map_or(0, |v| v as usize);
        let mut max_offset = url.regex_max_offset.map(|v| v as usize);
        if let Some(max) = max_offset {
            if min_offset > max {
                warnings.push(format!(
                    "regex min offset {min_offset} > regex_max_offset {max} - ignoring"
                ));
                min_offset = 0;
                max_offset = None;
            }
        }
        let mut builder = regex::bytes::RegexBuilder::new(pattern);
        builder.unicode(false);
        for option in &url.regex_options {
            match option.as_str() {
                "caseless" => {
                    builder.case_insensitive(true);
                }
                "multiline" => {
                    builder.multi_line(true);
                }
                "dotall" => {
                    builder.dot_matches_new_line(true);
                }
                "extended" => {
                    builder.ignore_whitespace(true);
                }
                "ungreedy" => {
                    builder.swap_greed(true);
                }
                "utf" | "ucp" => {
                    builder.unicode(true);
                }
                other if UNSUPPORTED_OPTIONS.contains(&other) => warnings.push(format!(
                    "regex option {other} is not supported - ignoring it"
                )),
                // Options with no bearing on whether a body matches (auto_callout, dupnames,
                // no_auto_capture, no_start_optimize, …), and names keepalived does not know
                // and ignores.
                _ => {}
            }
        }
        let regex = match builder.build() {
            Ok(regex) => Some(regex),
            Err(e) => {
                warnings.push(format!(
                    "Invalid regex: '{pattern}': {e} - the URL cannot pass unless regex_no_match"
                ));
                None
            }
        };
        CompiledRegex {
            body_regex: Some(BodyRegex {
                regex,
                no_match: url.regex_no_match,
                min_offset,
                max_offset,
            }),
            warnings,
        }
    }

    /// Whether `body` has a match starting within the offsets (keepalived looks at the first
    /// match from the minimum offset; an empty body is never searched).
    pub fn matches(&self, body: &[u8]) -> bool {
        let Some(regex) = &self.regex else {
            return false;
        };
        if body.is_empty() || self.min_offset > body.len() {
            return false;
        }
        match regex.find_at(body, self.min_offset) {
            Some(found) => self.max_offset.is_none_or(|max| found.start() <= max),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(codes: &[(u16, u16)], digest: Option<&str>) -> UrlCheck {
        UrlCheck {
            digest: digest.map(str::to_owned),
            status_codes: codes.to_vec(),
            ..UrlCheck::new("/health")
        }
    }

    // The requests of keepalived 2.2.7's `genhash` (the same code as the checker), captured.
    #[test]
    fn request_as_keepalived_writes_it() {
        let addr: IpAddr = "10.0.0.1".parse().expect("address");
        assert_eq!(
            request("/", None, addr, 80, None),
            b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1:80\r\n\r\n".to_vec()
        );
        assert_eq!(
            request("/x", Some("www.example.org"), addr, 8080, Some("1.1")),
            b"GET /x HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.org\r\n\r\n"
                .to_vec()
        );
        assert_eq!(
            request("/y", None, addr, 8089, Some("1.0C")),
            b"GET /y HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 10.0.0.1:8089\r\n\r\n"
                .to_vec()
        );
        let v6: IpAddr = "2001:db8::1".parse().expect("address");
        assert!(
            String::from_utf8_lossy(&request("/", None, v6, 81, None))
                .contains("Host: [2001:db8::1]:81\r\n")
        );
    }

    #[test]
    fn virtual_host_and_sni_come_from_the_nearest_setting() {
        let mut check = HttpCheck::default();
        let mut u = url(&[], None);
        assert_eq!(virtual_host(&u, &check, None, None), None);
        assert_eq!(virtual_host(&u, &check, Some("rs"), Some("vs")), Some("rs"));
        assert_eq!(virtual_host(&u, &check, None, Some("vs")), Some("vs"));
        check.virtualhost = Some("checker".into());
        assert_eq!(virtual_host(&u, &check, Some("rs"), None), Some("checker"));
        u.virtualhost = Some("url".into());
        assert_eq!(virtual_host(&u, &check, Some("rs"), None), Some("url"));
        // SNI only with enable_sni, and never from the real server.
        assert_eq!(sni_name(&u, &check, Some("vs")), None);
        check.enable_sni = true;
        assert_eq!(sni_name(&u, &check, Some("vs")), Some("url"));
        u.virtualhost = None;
        check.virtualhost = None;
        assert_eq!(sni_name(&u, &check, Some("vs")), Some("vs"));
        assert_eq!(sni_name(&u, &check, None), None);
    }

    fn judge_plain(url: &UrlCheck, response: &[u8]) -> Result<HttpPass, HttpFailure> {
        judge(url, None, response)
    }

    fn regex_url(pattern: &str, options: &[&str], offsets: (Option<u32>, Option<u32>)) -> UrlCheck {
        UrlCheck {
            regex: Some(pattern.into()),
            regex_options: options.iter().map(|o| (*o).to_owned()).collect(),
            regex_min_offset: offsets.0,
            regex_max_offset: offsets.1,
            ..url(&[], None)
        }
    }

    fn regex_verdict(url: &UrlCheck, response: &[u8]) -> Result<HttpPass, HttpFailure> {
        let compiled = BodyRegex::compile(url);
        judge(url, compiled.body_regex.as_ref(), response)
    }

    #[test]
    fn regex_looks_in_the_body_only() {
        let response = b"HTTP/1.0 200 OK\r\nServer: alive\r\n\r\nstatus: ok\n";
        assert_eq!(
            regex_verdict(&regex_url("status: (ok|up)", &[], (None, None)), response),
            Ok(HttpPass::Regex)
        );
        assert_eq!(
            regex_verdict(&regex_url("alive", &[], (None, None)), response),
            Err(HttpFailure::Regex {
                path: "/health".into()
            })
        );
        let mut no_match = regex_url("alive", &[], (None, None));
        no_match.regex_no_match = true;
        assert_eq!(regex_verdict(&no_match, response), Ok(HttpPass::Regex));
        no_match.regex = Some("status".into());
        assert!(regex_verdict(&no_match, response).is_err());
        // The status code is judged first.
        let bad = b"HTTP/1.0 503 Busy\r\n\r\nstatus: ok\n";
        assert!(matches!(
            regex_verdict(&regex_url("ok", &[], (None, None)), bad),
            Err(HttpFailure::Status { code: 503, .. })
        ));
        // An empty body is never searched, even by a pattern matching nothing.
        let empty = b"HTTP/1.0 200 OK\r\n\r\n";
        assert!(regex_verdict(&regex_url("^", &[], (None, None)), empty).is_err());
    }

    #[test]
    fn regex_options_and_offsets() {
        let response = b"HTTP/1.0 200 OK\r\n\r\n0123456789 STATUS OK\nline two";
        assert!(regex_verdict(&regex_url("status ok", &[], (None, None)), response).is_err());
        assert_eq!(
            regex_verdict(
                &regex_url("status ok", &["caseless"], (None, None)),
                response
            ),
            Ok(HttpPass::Regex)
        );
        assert!(regex_verdict(&regex_url("^line", &[], (None, None)), response).is_err());
        assert_eq!(
            regex_verdict(&regex_url("^line", &["multiline"], (None, None)), response),
            Ok(HttpPass::Regex)
        );
        assert!(regex_verdict(&regex_url("OK.line", &[], (None, None)), response).is_err());
        assert_eq!(
            regex_verdict(&regex_url("OK.line", &["dotall"], (None, None)), response),
            Ok(HttpPass::Regex)
        );
        // "STATUS" starts at byte 11 of the body.
        let at = |min, max| regex_verdict(&regex_url("STATUS", &[], (min, max)), response);
        assert_eq!(at(Some(11), None), Ok(HttpPass::Regex));
        assert!(at(Some(12), None).is_err());
        assert_eq!(at(None, Some(11)), Ok(HttpPass::Regex));
        assert!(at(None, Some(10)).is_err());
        assert_eq!(at(Some(5), Some(11)), Ok(HttpPass::Regex));
        // A minimum beyond the maximum drops both.
        let compiled = BodyRegex::compile(&regex_url("STATUS", &[], (Some(20), Some(5))));
        assert_eq!(compiled.warnings.len(), 1, "{:?}", compiled.warnings);
        assert_eq!(at(Some(20), Some(5)), Ok(HttpPass::Regex));
    }

    #[test]
    fn regex_works_on_bytes_unless_utf() {
        let response = "HTTP/1.0 200 OK\r\n\r\n\u{e9}t\u{e9}".as_bytes();
        // Without utf, `.` is one byte: "é" is two.
        assert!(regex_verdict(&regex_url("^.t.$", &[], (None, None)), response).is_err());
        assert_eq!(
            regex_verdict(&regex_url("^..t..$", &[], (None, None)), response),
            Ok(HttpPass::Regex)
        );
        assert_eq!(
            regex_verdict(&regex_url("^.t.$", &["utf"], (None, None)), response),
            Ok(HttpPass::Regex)
        );
        // A body that is not UTF-8 is searched all the same.
        let binary = b"HTTP/1.0 200 OK\r\n\r\n\xff\xfeOK";
        assert_eq!(
            regex_verdict(&regex_url("OK", &[], (None, None)), binary),
            Ok(HttpPass::Regex)
        );
    }

    #[test]
    fn a_pattern_that_cannot_compile_never_matches() {
        let response = b"HTTP/1.0 200 OK\r\n\r\nanything";
        let broken = regex_url("(unclosed", &[], (None, None));
        let compiled = BodyRegex::compile(&broken);
        assert!(
            compiled.warnings[0].contains("Invalid regex"),
            "{:?}",
            compiled.warnings
        );
        assert!(regex_verdict(&broken, response).is_err());
        let mut inverted = broken;
        inverted.regex_no_match = true;
        assert_eq!(regex_verdict(&inverted, response), Ok(HttpPass::Regex));
        // Offsets without a pattern are dropped with keepalived's message.
        let mut stray = url(&[], None);
        stray.regex_min_offset = Some(3);
        let compiled = BodyRegex::compile(&stray);
        assert!(compiled.body_regex.is_none());
        assert_eq!(
            compiled.warnings,
            vec!["regex parameters specified without regex".to_owned()]
        );
    }

    #[test]
    fn status_codes_default_to_2xx() {
        let ok = b"HTTP/1.0 204 No Content\r\n\r\n";
        let moved = b"HTTP/1.1 301 Moved\r\nLocation: /\r\n\r\n";
        assert_eq!(judge_plain(&url(&[], None), ok), Ok(HttpPass::Status));
        assert!(matches!(
            judge_plain(&url(&[], None), moved),
            Err(HttpFailure::Status { code: 301, .. })
        ));
        assert_eq!(
            judge_plain(&url(&[(300, 399)], None), moved),
            Ok(HttpPass::Status)
        );
        assert_eq!(
            judge_plain(&url(&[(200, 200), (301, 301)], None), moved),
            Ok(HttpPass::Status)
        );
        assert_eq!(
            judge_plain(&url(&[], None), b"garbage"),
            Err(HttpFailure::NoStatus)
        );
        assert_eq!(
            judge_plain(&url(&[], None), b""),
            Err(HttpFailure::NoStatus)
        );
    }

    #[test]
    fn digest_is_the_md5_of_the_body() {
        // md5("hello\n") = b1946ac92492d2347c6235b4d2611184
        let response = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\n";
        assert_eq!(body(response), b"hello\n");
        assert_eq!(
            judge_plain(
                &url(&[], Some("B1946AC92492D2347C6235B4D2611184")),
                response
            ),
            Ok(HttpPass::Digest)
        );
        assert!(matches!(
            judge_plain(
                &url(&[], Some("00000000000000000000000000000000")),
                response
            ),
            Err(HttpFailure::Digest { .. })
        ));
    }

    #[test]
    fn md5_of_nothing() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
