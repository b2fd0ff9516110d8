//! `HTTP_GET` without I/O: the request keepalived 2.2.7 sends (`check_http.c`) and the verdict on
//! the response — the status code within the URL's accepted ranges (200–299 when none is
//! configured) and, with `digest`, the MD5 of the body.

use std::net::IpAddr;

use md5::{Digest, Md5};

use keepalived_config::model::lvs::UrlCheck;

/// The most of a response kept (keepalived reads bodies in full for the digest; a bound keeps a
/// misbehaving server from using up memory).
pub const MAX_RESPONSE: usize = 4 << 20;

/// The request line and headers for `path`, as keepalived writes them. `host` is the
/// `virtualhost` when set, else the address; the port is added unless it is 80.
pub fn request(
    path: &str,
    virtualhost: Option<&str>,
    address: IpAddr,
    port: u16,
    protocol: Option<&str>,
) -> Vec<u8> {
    let host = match virtualhost {
        Some(name) => name.to_owned(),
        None => match address {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
        },
    };
    let port_suffix = if port == 80 {
        String::new()
    } else {
        format!(":{port}")
    };
    let (version, close) = match protocol {
        Some("1.1") => ("1.1", true),
        Some("1.0C") => ("1.0", true),
        _ => ("1.0", false),
    };
    let mut text = format!(
        "GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\nHost: {host}{port_suffix}\r\n"
    );
    if close {
        text.push_str("Connection: close\r\n");
    }
    text.push_str("\r\n");
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

/// Judges a whole response (the connection was closed by the server) against `url`.
pub fn judge(url: &UrlCheck, response: &[u8]) -> Result<(), HttpFailure> {
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
    if let Some(want) = &url.digest {
        let got = md5_hex(body(response));
        if !got.eq_ignore_ascii_case(want) {
            return Err(HttpFailure::Digest {
                path: url.path.clone(),
                got,
                want: want.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(codes: &[(u16, u16)], digest: Option<&str>) -> UrlCheck {
        UrlCheck {
            path: "/health".into(),
            digest: digest.map(str::to_owned),
            status_codes: codes.to_vec(),
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_options: Vec::new(),
            regex_min_offset: None,
            regex_max_offset: None,
            regex_stack: None,
        }
    }

    #[test]
    fn request_as_keepalived_writes_it() {
        let addr: IpAddr = "10.0.0.1".parse().expect("address");
        assert_eq!(
            request("/", None, addr, 80, None),
            b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1\r\n\r\n".to_vec()
        );
        assert_eq!(
            request("/x", Some("www.example.org"), addr, 8080, Some("1.1")),
            b"GET /x HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.org:8080\r\nConnection: close\r\n\r\n"
                .to_vec()
        );
        let v6: IpAddr = "2001:db8::1".parse().expect("address");
        assert!(
            String::from_utf8_lossy(&request("/", None, v6, 81, None))
                .contains("Host: [2001:db8::1]:81\r\n")
        );
    }

    #[test]
    fn status_codes_default_to_2xx() {
        let ok = b"HTTP/1.0 204 No Content\r\n\r\n";
        let moved = b"HTTP/1.1 301 Moved\r\nLocation: /\r\n\r\n";
        assert_eq!(judge(&url(&[], None), ok), Ok(()));
        assert!(matches!(
            judge(&url(&[], None), moved),
            Err(HttpFailure::Status { code: 301, .. })
        ));
        assert_eq!(judge(&url(&[(300, 399)], None), moved), Ok(()));
        assert_eq!(judge(&url(&[(200, 200), (301, 301)], None), moved), Ok(()));
        assert_eq!(
            judge(&url(&[], None), b"garbage"),
            Err(HttpFailure::NoStatus)
        );
        assert_eq!(judge(&url(&[], None), b""), Err(HttpFailure::NoStatus));
    }

    #[test]
    fn digest_is_the_md5_of_the_body() {
        // md5("hello\n") = b1946ac92492d2347c6235b4d2611184
        let response = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\n";
        assert_eq!(body(response), b"hello\n");
        assert_eq!(
            judge(
                &url(&[], Some("B1946AC92492D2347C6235B4D2611184")),
                response
            ),
            Ok(())
        );
        assert!(matches!(
            judge(
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
