//! The legacy TLS client (TLS 1.0–1.2) against OpenSSL's own server, in every
//! version and suite it offers.

mod openssl_server;

use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use keepalived_config::model::lvs::SslContext;
use lvs_runtime::tls::client_config;
use lvs_runtime::tls::legacy::{LegacyClient, LegacyError};
use openssl_server::{Server, testdata};

/// What a GET through the legacy client came to.
#[derive(Debug)]
struct Got {
    version: String,
    suite: &'static str,
    page: String,
}

/// Connects, shakes hands, sends a GET and reads the page to its end.
fn get(port: u16, server_name: Option<&str>) -> Result<Got, LegacyError> {
    get_with(port, server_name, None)
}

/// [`get`] with the client certificate of the `SSL` block `ssl`.
fn get_with(
    port: u16,
    server_name: Option<&str>,
    ssl: Option<&SslContext>,
) -> Result<Got, LegacyError> {
    let config = client_config(ssl).expect("client configuration");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let certificate = Arc::clone(&config.client_auth_cert_resolver);
    let mut client = LegacyClient::new(server_name, certificate)?;
    let read_more = |client: &mut LegacyClient, stream: &mut TcpStream| {
        while client.wants_write() {
            client.write_tls(stream).expect("write");
        }
        client.read_tls(stream).expect("read");
        client.process_new_packets().inspect_err(|_| {
            let _ = client.write_tls(stream);
        })
    };
    while client.is_handshaking() {
        read_more(&mut client, &mut stream)?;
    }
    client.send(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut page = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match client.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => page.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => read_more(&mut client, &mut stream)?,
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => panic!("reading: {e}"),
        }
    }
    stream.flush().expect("flush");
    let (version, suite) = client.negotiated().expect("negotiated");
    Ok(Got {
        version,
        suite,
        page: String::from_utf8_lossy(&page).into_owned(),
    })
}

/// GETs the page of an `s_server` of `options` (and `config`) and asserts it was served with
/// `cipher`.
fn assert_served_with(options: &[&str], config: Option<&str>, cipher: &str) -> Got {
    let server = Server::start(options, config);
    let got = get(server.port, Some("legacy.test")).unwrap_or_else(|e| panic!("{options:?}: {e}"));
    assert_eq!(got.suite, cipher, "{options:?}");
    assert!(got.page.starts_with("HTTP/1.0 200 ok"), "{}", got.page);
    assert!(
        got.page.contains(&format!("Cipher is {cipher}")),
        "{options:?}: {}",
        got.page
    );
    got
}

#[test]
fn every_version_and_suite_reaches_openssl_and_reads_its_page() {
    let cases = [
        ("-tls1", "AES128-SHA", "TLSv1"),
        ("-tls1", "AES256-SHA", "TLSv1"),
        ("-tls1_1", "AES128-SHA", "TLSv1.1"),
        ("-tls1_1", "AES256-SHA", "TLSv1.1"),
        ("-tls1_2", "AES128-SHA", "TLSv1.2"),
        ("-tls1_2", "AES256-SHA", "TLSv1.2"),
        ("-tls1_2", "AES128-SHA256", "TLSv1.2"),
        ("-tls1_2", "AES256-SHA256", "TLSv1.2"),
        ("-tls1_2", "AES128-GCM-SHA256", "TLSv1.2"),
        ("-tls1_2", "AES256-GCM-SHA384", "TLSv1.2"),
        ("-tls1_2", "DHE-RSA-AES128-GCM-SHA256", "TLSv1.2"),
        ("-tls1_2", "DHE-RSA-AES256-SHA256", "TLSv1.2"),
        ("-tls1_2", "DHE-RSA-AES128-SHA", "TLSv1.2"),
        ("-tls1_2", "ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.2"),
        ("-tls1_2", "ECDHE-RSA-AES256-SHA384", "TLSv1.2"),
        ("-tls1_2", "ECDHE-RSA-AES128-SHA256", "TLSv1.2"),
        ("-tls1_2", "ECDHE-RSA-AES256-SHA", "TLSv1.2"),
        ("-tls1_2", "ECDHE-RSA-CHACHA20-POLY1305", "TLSv1.2"),
        ("-tls1_2", "DHE-RSA-CHACHA20-POLY1305", "TLSv1.2"),
    ];
    for (version_flag, cipher, version) in cases {
        let ciphers = format!("{cipher}:@SECLEVEL=0");
        let got = assert_served_with(&[version_flag, "-cipher", &ciphers], None, cipher);
        assert_eq!(got.version, version);
    }
}

#[test]
fn ecdsa_certificates_and_each_curve_are_taken() {
    let (cert, key) = (testdata("server.pem"), testdata("server.key"));
    for (cipher, groups) in [
        ("ECDHE-ECDSA-AES128-SHA256", "X25519"),
        ("ECDHE-ECDSA-AES256-SHA", "P-384"),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", "P-256"),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", "X25519"),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", "X448"),
        ("ECDHE-ECDSA-AES128-SHA", "P-521"),
        ("ECDHE-RSA-AES256-SHA384", "X448"),
        ("ECDHE-RSA-AES128-GCM-SHA256", "P-521"),
        ("ECDHE-RSA-AES128-SHA", "P-256"),
    ] {
        assert_served_with(
            &[
                "-tls1_2", "-cipher", cipher, "-groups", groups, "-dcert", &cert, "-dkey", &key,
            ],
            None,
            cipher,
        );
    }
}

#[test]
fn a_p521_certificate_signs_with_each_hash() {
    // In TLS 1.2 a scheme names the hash, not the curve: OpenSSL signs with its P-521 key what
    // it is asked for.
    assert_signed_with_each(
        ("p521-server.pem", "p521-server.key"),
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        &[
            "ecdsa_secp521r1_sha512",
            "ecdsa_secp384r1_sha384",
            "ecdsa_secp256r1_sha256",
        ],
    );
}

/// Asserts that a TLS 1.2 `s_server` of the certificate and key `files` (in testdata/tls) is
/// served with `cipher` when it signs its key exchange with each of `sigalgs` in turn.
fn assert_signed_with_each(files: (&str, &str), cipher: &str, sigalgs: &[&str]) {
    let (cert, key) = (testdata(files.0), testdata(files.1));
    for sigalgs in sigalgs {
        assert_served_with(
            &[
                "-tls1_2", "-cipher", cipher, "-sigalgs", sigalgs, "-cert", &cert, "-key", &key,
            ],
            None,
            cipher,
        );
    }
}

#[test]
fn an_ed448_certificate_signs_the_key_exchange() {
    let (cert, key) = (testdata("ed448-server.pem"), testdata("ed448-server.key"));
    for cipher in [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ] {
        assert_served_with(
            &["-tls1_2", "-cipher", cipher, "-cert", &cert, "-key", &key],
            None,
            cipher,
        );
    }
}

#[test]
fn an_rsassa_pss_certificate_signs_with_each_hash() {
    assert_signed_with_each(
        ("rsa-pss-server.pem", "rsa-pss-server.key"),
        "ECDHE-RSA-AES128-GCM-SHA256",
        &[
            "rsa_pss_pss_sha256",
            "rsa_pss_pss_sha384",
            "rsa_pss_pss_sha512",
        ],
    );
    // A key restricted to SHA-256 (its algorithm has parameters), with DHE.
    let (cert, key) = (
        testdata("rsa-pss-sha256-server.pem"),
        testdata("rsa-pss-sha256-server.key"),
    );
    let cipher = "DHE-RSA-AES256-GCM-SHA384";
    assert_served_with(
        &["-tls1_2", "-cipher", cipher, "-cert", &cert, "-key", &key],
        None,
        cipher,
    );
}

#[test]
fn sha_224_signatures_are_verified_as_openssl_verifies_them() {
    // OpenSSL 3.0 offers them last, for TLS 1.2; ring verifies neither.
    let ecdsa = "ECDHE-ECDSA-AES128-GCM-SHA256";
    assert_signed_with_each(("server.pem", "server.key"), ecdsa, &["ECDSA+SHA224"]);
    assert_signed_with_each(
        ("p521-server.pem", "p521-server.key"),
        ecdsa,
        &["ECDSA+SHA224"],
    );
    assert_signed_with_each(
        ("rsa-server.pem", "rsa.key"),
        "ECDHE-RSA-AES128-GCM-SHA256",
        &["RSA+SHA224"],
    );
}

#[test]
fn an_ephemeral_key_exchange_below_tls_1_2_is_refused_as_openssl_refuses_it() {
    for cipher in ["ECDHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA"] {
        let server = Server::start(
            &["-tls1", "-cipher", &format!("{cipher}:@SECLEVEL=0")],
            None,
        );
        let error = get(server.port, None).expect_err("a SHA-1 signature");
        assert!(
            matches!(error, LegacyError::InsufficientSecurity(_)),
            "{cipher}: {error}"
        );
        assert!(!error.offer_refused());
    }
}

#[test]
fn a_server_without_the_extended_master_secret_is_reached_too() {
    for (version_flag, cipher) in [("-tls1", "AES128-SHA"), ("-tls1_2", "AES128-GCM-SHA256")] {
        let ciphers = format!("{cipher}:@SECLEVEL=0");
        assert_served_with(
            &[version_flag, "-cipher", &ciphers],
            Some("no-ems.cnf"),
            cipher,
        );
    }
}

#[test]
fn a_request_for_a_client_certificate_is_answered_without_one_when_there_is_none() {
    let server = Server::start(&["-tls1_2", "-cipher", "AES128-SHA", "-verify", "1"], None);
    let got = get(server.port, None).expect("an optional client certificate");
    assert!(got.page.starts_with("HTTP/1.0 200 ok"), "{}", got.page);
    assert!(!got.page.contains("Client certificate"), "{}", got.page);
    let server = Server::start(&["-tls1_2", "-cipher", "AES128-SHA", "-Verify", "1"], None);
    let error = get(server.port, None).expect_err("a required client certificate");
    assert!(matches!(error, LegacyError::AlertReceived(_)), "{error}");
}

#[test]
fn the_ssl_blocks_client_certificate_is_given_in_tls_1_2_and_not_below() {
    let ssl = SslContext {
        certificate: Some(testdata("client.pem")),
        key: Some(testdata("client.key")),
        ..SslContext::default()
    };
    for (flag, cipher) in [
        ("-tls1_2", "AES128-SHA"),
        ("-tls1_2", "DHE-RSA-AES128-GCM-SHA256"),
    ] {
        let server = Server::start(&[flag, "-cipher", cipher, "-Verify", "1"], None);
        let got =
            get_with(server.port, None, Some(&ssl)).unwrap_or_else(|e| panic!("{cipher}: {e}"));
        assert!(got.page.contains("Client certificate"), "{}", got.page);
    }
    // OpenSSL 3 does not sign with MD5 and SHA-1 below TLS 1.2: the server gets no certificate.
    let server = Server::start(
        &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0", "-Verify", "1"],
        None,
    );
    let error = get_with(server.port, None, Some(&ssl)).expect_err("no certificate in TLS 1.0");
    assert!(matches!(error, LegacyError::AlertReceived(40)), "{error}");
}

#[test]
fn a_server_that_takes_none_of_the_offer_refuses_it_with_an_alert() {
    for options in [
        ["-tls1_2", "-cipher", "CAMELLIA128-SHA:@SECLEVEL=0"].as_slice(),
        ["-tls1_3"].as_slice(),
    ] {
        let server = Server::start(options, None);
        let error = get(server.port, None).expect_err("no common suite or version");
        assert!(error.offer_refused(), "{options:?}: {error}");
    }
}
