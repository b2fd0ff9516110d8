//! `SSL_GET` attempts against a real TLS server on loopback (rustls, with the fixed test
//! certificates of testdata/tls; OpenSSL's `s_server` for the servers only the legacy client
//! reaches), driven as the daemon drives them: non-blocking, one poll at a time.

mod openssl_server;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use keepalived_config::model::lvs::{ConnectionOptions, HttpCheck, SslContext, UrlCheck};
use lvs::checker_log::AttemptFailure;
use lvs_runtime::probes::{Exchange, HttpExchange, Probe, Target, Verdict};
use lvs_runtime::tls::{TlsClient, TlsSetupError, client_config};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use openssl_server::{Server, testdata};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

fn certificates(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(testdata(name))
        .expect("certificate file")
        .collect::<Result<_, _>>()
        .expect("certificates")
}

fn key(name: &str) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(testdata(name)).expect("key")
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's configuration; with `client_ca` it requires a client certificate of that CA.
fn server_config(client_ca: bool) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = if client_ca {
        let mut roots = RootCertStore::empty();
        for ca in certificates("ca.pem") {
            roots.add(ca).expect("CA");
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .expect("client verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    Arc::new(
        builder
            .with_single_cert(certificates("server.pem"), key("server.key"))
            .expect("server certificate"),
    )
}

/// What the server saw of one connection.
#[derive(Debug, Default)]
struct Seen {
    sni: Option<String>,
    request: String,
    client_certificate: bool,
}

/// How the server ends a connection after its answer.
#[derive(Clone, Copy)]
enum Close {
    /// With a close_notify.
    Notify,
    /// By closing the socket only.
    Abrupt,
}

/// A TLS server answering each of `answers` on its own connection.
fn tls_server(
    answers: Vec<&'static [u8]>,
    client_ca: bool,
    close: Close,
) -> (u16, JoinHandle<Vec<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port();
    let config = server_config(client_ca);
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for answer in answers {
            let (stream, _) = listener.accept().expect("accept");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let session = ServerConnection::new(Arc::clone(&config)).expect("session");
            let mut tls = StreamOwned::new(session, stream);
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                match tls.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            seen.push(Seen {
                sni: tls.conn.server_name().map(str::to_owned),
                request: String::from_utf8_lossy(&request).into_owned(),
                client_certificate: tls.conn.peer_certificates().is_some(),
            });
            if request.is_empty() {
                continue;
            }
            let _ = tls.write_all(answer);
            if let Close::Notify = close {
                tls.conn.send_close_notify();
            }
            let _ = tls.flush();
        }
        seen
    });
    (port, handle)
}

fn url(path: &str) -> UrlCheck {
    UrlCheck::new(path)
}

fn check(urls: Vec<UrlCheck>) -> HttpCheck {
    HttpCheck {
        urls,
        ..HttpCheck::default()
    }
}

/// Runs an SSL_GET of 127.0.0.1:`port` to its verdict as the daemon's loop does.
fn ssl_get(port: u16, check: HttpCheck, ssl: Option<&SslContext>, timeout: Duration) -> Verdict {
    ssl_get_url(port, check, 0, ssl, timeout)
}

/// [`ssl_get`] of the check's URL `url` (its index).
fn ssl_get_url(
    port: u16,
    check: HttpCheck,
    url: usize,
    ssl: Option<&SslContext>,
    timeout: Duration,
) -> Verdict {
    run_attempt(&exchange(check, ssl), port, url, timeout)
}

/// The exchange of an `SSL_GET` with `check`.
fn exchange(check: HttpCheck, ssl: Option<&SslContext>) -> Arc<HttpExchange> {
    let tls = client_config(ssl).expect("client configuration");
    let (exchange, warnings) = HttpExchange::new(check, None, None, Some(tls));
    assert!(warnings.is_empty(), "{warnings:?}");
    Arc::new(exchange)
}

/// One attempt of `exchange` at 127.0.0.1:`port` for its URL `url`.
fn run_attempt(exchange: &Arc<HttpExchange>, port: u16, url: usize, timeout: Duration) -> Verdict {
    let target = Target::new(
        &ConnectionOptions::default(),
        "127.0.0.1".parse().expect("address"),
        port,
    );
    let mut probe = match Probe::start(
        target,
        Exchange::Http(Arc::clone(exchange)),
        timeout,
        Instant::now(),
    ) {
        Ok(probe) => probe.for_url(url),
        Err(e) => return Verdict::failed(AttemptFailure::Unreachable, e),
    };
    loop {
        if Instant::now() >= probe.deadline() {
            return probe.timed_out();
        }
        let revents = {
            let mut fds = [PollFd::new(probe.fd(), probe.interest())];
            poll(&mut fds, PollTimeout::from(50u16)).expect("poll");
            fds[0].revents().unwrap_or(PollFlags::empty())
        };
        if !revents.is_empty() {
            if let Some(verdict) = probe.advance(Instant::now(), revents) {
                return verdict;
            }
        }
    }
}

fn failure_with(verdict: &Verdict, fragment: &str) -> bool {
    matches!(verdict, Verdict::Failure { reason: m, .. } if m.contains(fragment))
}

const OK: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\n";
const SECONDS: Duration = Duration::from_secs(3);

#[test]
fn a_good_answer_passes_without_sni_and_without_verifying_the_certificate() {
    // The server's certificate names server.test and its CA is unknown to the client.
    let (port, server) = tls_server(vec![OK], false, Close::Notify);
    let verdict = ssl_get(port, check(vec![url("/health")]), None, SECONDS);
    assert_eq!(verdict, Verdict::Success);
    let seen = server.join().expect("server");
    assert_eq!(seen[0].sni, None);
    assert_eq!(
        seen[0].request,
        format!(
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        )
    );
    assert!(!seen[0].client_certificate);
}

#[test]
fn an_answer_closed_without_close_notify_still_counts() {
    let (port, server) = tls_server(vec![OK], false, Close::Abrupt);
    let mut one = url("/");
    one.digest = Some("b1946ac92492d2347c6235b4d2611184".into());
    assert_eq!(
        ssl_get(port, check(vec![one]), None, SECONDS),
        Verdict::Success
    );
    server.join().expect("server");
}

#[test]
fn sni_is_the_virtualhost_only_with_enable_sni() {
    let (port, server) = tls_server(vec![OK, OK, OK], false, Close::Notify);
    let mut with_sni = check(vec![url("/a")]);
    with_sni.virtualhost = Some("www.example.org".into());
    with_sni.enable_sni = true;
    assert_eq!(
        ssl_get(port, with_sni.clone(), None, SECONDS),
        Verdict::Success
    );
    with_sni.enable_sni = false;
    assert_eq!(ssl_get(port, with_sni, None, SECONDS), Verdict::Success);
    // enable_sni without any virtualhost: no name to send.
    let mut no_name = check(vec![url("/c")]);
    no_name.enable_sni = true;
    assert_eq!(ssl_get(port, no_name, None, SECONDS), Verdict::Success);
    let seen = server.join().expect("server");
    assert_eq!(seen[0].sni.as_deref(), Some("www.example.org"));
    assert!(seen[0].request.contains("\r\nHost: www.example.org\r\n"));
    assert_eq!(seen[1].sni, None);
    assert!(seen[1].request.contains("\r\nHost: www.example.org\r\n"));
    assert_eq!(seen[2].sni, None);
}

#[test]
fn a_bad_status_or_digest_fails() {
    let (port, server) = tls_server(vec![b"HTTP/1.0 500 Oops\r\n\r\n", OK], false, Close::Notify);
    let verdict = ssl_get(port, check(vec![url("/")]), None, SECONDS);
    assert!(failure_with(&verdict, "status code 500"), "{verdict:?}");
    let mut digest = url("/");
    digest.digest = Some("00000000000000000000000000000000".into());
    let verdict = ssl_get(port, check(vec![digest]), None, SECONDS);
    assert!(failure_with(&verdict, "MD5 digest error"), "{verdict:?}");
    server.join().expect("server");
}

#[test]
fn each_url_is_fetched_by_an_attempt_of_its_own() {
    let (port, server) = tls_server(vec![OK, OK], false, Close::Notify);
    let urls = check(vec![url("/one"), url("/two")]);
    for index in 0..2 {
        assert_eq!(
            ssl_get_url(port, urls.clone(), index, None, SECONDS),
            Verdict::Success
        );
    }
    let seen = server.join().expect("server");
    assert!(seen[0].request.starts_with("GET /one "));
    assert!(seen[1].request.starts_with("GET /two "));
}

#[test]
fn regex_match_and_no_match() {
    let page: &[u8] = b"HTTP/1.0 200 OK\r\n\r\n<html>database: connected</html>";
    let (port, server) = tls_server(vec![page, page, page], false, Close::Notify);
    let mut matching = url("/");
    matching.regex = Some("database: (connected|ready)".into());
    assert_eq!(
        ssl_get(port, check(vec![matching.clone()]), None, SECONDS),
        Verdict::Success
    );
    let mut missing = url("/");
    missing.regex = Some("database: down".into());
    let verdict = ssl_get(port, check(vec![missing]), None, SECONDS);
    assert!(failure_with(&verdict, "Regex match failed"), "{verdict:?}");
    matching.regex_no_match = true;
    let verdict = ssl_get(port, check(vec![matching]), None, SECONDS);
    assert!(failure_with(&verdict, "Regex match failed"), "{verdict:?}");
    server.join().expect("server");
}

/// A plain TCP server that answers whatever it receives with `answer` and closes.
fn plain_server(answer: &'static [u8]) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _): (TcpStream, _) = listener.accept().expect("accept");
        let mut buffer = [0u8; 1024];
        let _ = stream.read(&mut buffer);
        let _ = stream.write_all(answer);
    });
    (port, handle)
}

#[test]
fn a_server_speaking_plain_http_fails_the_handshake() {
    let (port, server) = plain_server(b"HTTP/1.0 400 Bad Request\r\n\r\n");
    let verdict = ssl_get(port, check(vec![url("/")]), None, SECONDS);
    assert!(failure_with(&verdict, "SSL handshake"), "{verdict:?}");
    server.join().expect("server");
}

#[test]
fn a_server_closing_at_once_fails_the_handshake() {
    let (port, server) = plain_server(b"");
    let verdict = ssl_get(port, check(vec![url("/")]), None, SECONDS);
    assert!(failure_with(&verdict, "SSL handshake"), "{verdict:?}");
    server.join().expect("server");
}

#[test]
fn a_silent_server_times_out_within_connect_timeout() {
    // Connections complete in the backlog; nobody answers the ClientHello.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port();
    let start = Instant::now();
    let verdict = ssl_get(
        port,
        check(vec![url("/")]),
        None,
        Duration::from_millis(400),
    );
    let took = start.elapsed();
    assert!(failure_with(&verdict, "did not end in time"), "{verdict:?}");
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(listener);
}

#[test]
fn the_ssl_block_gives_the_client_certificate() {
    let (port, server) = tls_server(vec![OK, OK], true, Close::Notify);
    let ssl = SslContext {
        certificate: Some(testdata("client.pem")),
        key: Some(testdata("client.key")),
        ca: Some(testdata("ca.pem")),
        password: None,
    };
    assert_eq!(
        ssl_get(port, check(vec![url("/")]), Some(&ssl), SECONDS),
        Verdict::Success
    );
    // Without it the server refuses the handshake.
    let verdict = ssl_get(port, check(vec![url("/")]), None, SECONDS);
    assert!(matches!(verdict, Verdict::Failure { .. }), "{verdict:?}");
    let seen = server.join().expect("server");
    assert!(seen[0].client_certificate);
    assert!(!seen[1].client_certificate);
}

#[test]
fn an_encrypted_key_is_read_with_the_password() {
    // PKCS#8 with PBES2 (OpenSSL 3's form) and the older form with DEK-Info.
    for key in ["client-encrypted.key", "client-sec1-aes128.key"] {
        let (port, server) = tls_server(vec![OK], true, Close::Notify);
        let ssl = SslContext {
            certificate: Some(testdata("client.pem")),
            key: Some(testdata(key)),
            ca: None,
            password: Some("secret".into()),
        };
        assert_eq!(
            ssl_get(port, check(vec![url("/")]), Some(&ssl), SECONDS),
            Verdict::Success,
            "{key}"
        );
        assert!(
            server.join().expect("server")[0].client_certificate,
            "{key}"
        );
    }
}

#[test]
fn an_ssl_block_that_cannot_be_read_is_an_error() {
    let missing = SslContext {
        certificate: Some(testdata("nothere.pem")),
        key: Some(testdata("client.key")),
        ..SslContext::default()
    };
    assert!(matches!(
        client_config(Some(&missing)),
        Err(TlsSetupError::Certificate { .. })
    ));
    // An encrypted key without its password.
    for password in [None, Some("wrong".to_owned())] {
        let encrypted = SslContext {
            certificate: Some(testdata("client.pem")),
            key: Some(testdata("client-encrypted.key")),
            password,
            ..SslContext::default()
        };
        assert!(matches!(
            client_config(Some(&encrypted)),
            Err(TlsSetupError::Key { .. })
        ));
    }
    let not_a_ca = SslContext {
        ca: Some(testdata("client.key")),
        ..SslContext::default()
    };
    assert!(matches!(
        client_config(Some(&not_a_ca)),
        Err(TlsSetupError::Ca { .. })
    ));
    // A key that is not the certificate's.
    let mismatched = SslContext {
        certificate: Some(testdata("client.pem")),
        key: Some(testdata("server.key")),
        ..SslContext::default()
    };
    assert!(client_config(Some(&mismatched)).is_err());
}

/// An `SSL_GET` of `/` that wants the page of `openssl s_server -www` (its status line).
fn s_server_check() -> HttpCheck {
    check(vec![UrlCheck {
        status_codes: vec![(200, 200)],
        ..url("/")
    }])
}

#[test]
fn a_tls_1_0_server_with_rsa_key_exchange_is_reached_by_the_legacy_client_and_remembered() {
    let server = Server::start(&["-tls1", "-cipher", "AES256-SHA:@SECLEVEL=0"], None);
    let exchange = exchange(s_server_check(), None);
    assert_eq!(exchange.tls_client.get(), TlsClient::Modern);
    // rustls is turned down (the server answers TLS 1.0), the legacy client then reaches it.
    assert_eq!(
        run_attempt(&exchange, server.port, 0, SECONDS),
        Verdict::Success
    );
    assert_eq!(exchange.tls_client.get(), TlsClient::Legacy);
    assert_eq!(
        run_attempt(&exchange, server.port, 0, SECONDS),
        Verdict::Success
    );
    assert_eq!(exchange.tls_client.get(), TlsClient::Legacy);
}

/// How long a handshake of [`assert_reached_by`] may take: an 8192-bit finite-field exchange
/// takes more than a second of an unoptimised build's CPU, and a loaded machine stretches it;
/// the limit is for an exchange that hangs, not for a slow one.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(20);

/// Asserts that an `SSL_GET` attempt at an `s_server` of `options` passes, by `client`.
fn assert_reached_by(options: &[&str], client: TlsClient) {
    let server = Server::start(options, None);
    let exchange = exchange(s_server_check(), None);
    assert_eq!(
        run_attempt(&exchange, server.port, 0, HANDSHAKE_LIMIT),
        Verdict::Success,
        "{options:?}"
    );
    assert_eq!(exchange.tls_client.get(), client, "{options:?}");
}

#[test]
fn tls_1_2_servers_with_only_rsa_or_dh_key_exchange_or_cbc_ciphers_are_reached_too() {
    for cipher in [
        "AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES128-SHA256",
    ] {
        assert_reached_by(&["-tls1_2", "-cipher", cipher], TlsClient::Legacy);
    }
}

#[test]
fn servers_whose_only_groups_are_x448_p521_or_finite_field_are_reached_by_rustls() {
    // ring has none of them: rustls is given ours (tls::kx), in TLS 1.3 (the server asks for
    // the share again, x25519's being the one sent first) and, for the curves, in TLS 1.2.
    for (group, version) in [
        ("X448", "-tls1_3"),
        ("P-521", "-tls1_3"),
        ("ffdhe2048", "-tls1_3"),
        ("ffdhe8192", "-tls1_3"),
        ("X448", "-tls1_2"),
        ("P-521", "-tls1_2"),
    ] {
        assert_reached_by(&["-groups", group, version], TlsClient::Modern);
    }
}

#[test]
fn a_server_with_a_p521_certificate_is_reached_by_rustls() {
    let (cert, key) = (testdata("p521-server.pem"), testdata("p521-server.key"));
    assert_reached_by(&["-cert", &cert, "-key", &key], TlsClient::Modern);
}

#[test]
fn a_server_with_an_ed448_certificate_is_reached_by_rustls() {
    // ring verifies no Ed448 signature: rustls is given ours (tls::curve448::ed448), which
    // verifies the CertificateVerify of TLS 1.3 and the ServerKeyExchange of TLS 1.2.
    let (cert, key) = (testdata("ed448-server.pem"), testdata("ed448-server.key"));
    for version in ["-tls1_3", "-tls1_2"] {
        assert_reached_by(&["-cert", &cert, "-key", &key, version], TlsClient::Modern);
    }
}

#[test]
fn servers_with_an_rsassa_pss_certificate_are_reached() {
    // rustls names no `rsa_pss_pss_*` scheme: it is given ours (tls::signatures) and verifies
    // them in TLS 1.3, with or without the key's parameters. Its TLS 1.2 takes a key exchange
    // signed only with the schemes it names: the legacy client verifies it.
    for name in ["rsa-pss-server", "rsa-pss-sha256-server"] {
        let (cert, key) = (
            testdata(&format!("{name}.pem")),
            testdata(&format!("{name}.key")),
        );
        assert_reached_by(
            &["-cert", &cert, "-key", &key, "-tls1_3"],
            TlsClient::Modern,
        );
        assert_reached_by(
            &["-cert", &cert, "-key", &key, "-tls1_2"],
            TlsClient::Legacy,
        );
    }
}

#[test]
fn a_server_that_signs_only_with_sha_224_is_reached_by_the_legacy_client() {
    // rustls offers the scheme (tls::signatures) but its TLS 1.2 takes no scheme it does not
    // name: the legacy client verifies it on a second connection.
    assert_reached_by(&["-tls1_2", "-sigalgs", "RSA+SHA224"], TlsClient::Legacy);
}

#[test]
fn a_server_the_legacy_client_reached_last_is_asked_by_rustls_when_it_changed() {
    let old = Server::start(&["-tls1_1", "-cipher", "AES128-SHA:@SECLEVEL=0"], None);
    let exchange = exchange(check(vec![url("/")]), None);
    assert_eq!(
        run_attempt(&exchange, old.port, 0, SECONDS),
        Verdict::Success
    );
    assert_eq!(exchange.tls_client.get(), TlsClient::Legacy);
    // The same exchange at a server of TLS 1.3 only: the legacy offer is turned down, rustls
    // reaches it on a second connection.
    let new = Server::start(&["-tls1_3"], None);
    assert_eq!(
        run_attempt(&exchange, new.port, 0, SECONDS),
        Verdict::Success
    );
    assert_eq!(exchange.tls_client.get(), TlsClient::Modern);
}

#[test]
fn a_server_neither_client_reaches_fails_with_both_reasons() {
    // TLS 1.0 with ECDHE only: rustls does not speak TLS 1.0, the legacy client refuses its
    // SHA-1 signature as keepalived's OpenSSL 3 does.
    let server = Server::start(
        &["-tls1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"],
        None,
    );
    let exchange = exchange(check(vec![url("/")]), None);
    let verdict = run_attempt(&exchange, server.port, 0, SECONDS);
    assert!(
        failure_with(&verdict, "insufficient security") && failure_with(&verdict, "and before it:"),
        "{verdict:?}"
    );
    assert_eq!(exchange.tls_client.get(), TlsClient::Modern);
}
