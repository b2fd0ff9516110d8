//! A client of TLS 1.0, 1.1 and 1.2, for `SSL_GET`s to the servers rustls cannot reach and
//! keepalived's OpenSSL does: those that speak nothing newer than TLS 1.1, and those of TLS 1.2
//! whose ciphers all have RSA or finite-field DH key exchange or CBC encryption. It offers
//! OpenSSL 3's `DEFAULT` suites (but ChaCha20's, PSK's and SRP's: [`suites`]) within the limits of
//! OpenSSL's default security level ([`exchange`]); it verifies nothing of the certificate, as
//! keepalived verifies nothing, but the signature of an ephemeral key exchange is verified with
//! its key, as rustls verifies the handshake's. Asked for a client certificate, it offers the
//! `SSL` block's (rustls's resolver and signer) in TLS 1.2, and none below, where OpenSSL 3 does
//! not sign with MD5 and SHA-1 either. It resumes nothing and does not renegotiate. Sans-I/O like rustls's `ClientConnection`, whose calls it mirrors:
//! [`LegacyClient::read_tls`] and [`LegacyClient::write_tls`] move bytes to and from the socket,
//! [`LegacyClient::process_new_packets`] does the work.

mod exchange;
mod keys;
mod messages;
mod record;
mod suites;

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;

use exchange::{Agreed, Randoms};
use keys::{MasterSeed, handshake_hash, key_block, master_secret, verify_data};
use messages::Reader;
use record::{
    ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE, MAX_CIPHERTEXT, MAX_PLAINTEXT,
    RecordProtection, key_lengths, random_bytes, same_bytes,
};
use suites::{KeyExchange, Suite, TLS1_0, TLS1_2, version_name};

/// The largest handshake message taken (a certificate chain).
const MAX_HANDSHAKE_MESSAGE: usize = 1 << 18;

/// Why a legacy session failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyError {
    #[error("received fatal alert: {}", alert_name(*.0))]
    AlertReceived(u8),
    #[error("the server speaks {}, not TLSv1 to TLSv1.2", version_name(*.0))]
    Version(u16),
    #[error("the server chose cipher suite {0:#06x}, which was not offered")]
    Suite(u16),
    #[error("the server chose compression {0}")]
    Compression(u8),
    #[error("the server chose elliptic curve {0:#06x}, which was not offered")]
    Group(u16),
    #[error("the server's signature: {0}")]
    Signature(String),
    #[error("insufficient security: {0}, which OpenSSL's default security level refuses")]
    InsufficientSecurity(String),
    #[error("the server's {0} cannot be read")]
    Decode(&'static str),
    #[error("unexpected {0} from the server")]
    Unexpected(&'static str),
    #[error("a record of the server failed its integrity check")]
    BadRecordMac,
    #[error("a record of the server is too large")]
    RecordOverflow,
    #[error("the server's Finished does not match the handshake")]
    BadFinished,
    #[error("the server's certificate: {0}")]
    Certificate(String),
    #[error("{0}")]
    Internal(&'static str),
}

impl LegacyError {
    /// The alert that tells the server why, when it is ours to tell.
    fn alert(&self) -> Option<u8> {
        Some(match self {
            LegacyError::AlertReceived(_) | LegacyError::Internal(_) => return None,
            LegacyError::Version(_) => 70,
            LegacyError::Suite(_) | LegacyError::Compression(_) | LegacyError::Group(_) => 47,
            LegacyError::Signature(_) => 51,
            LegacyError::InsufficientSecurity(_) => 71,
            LegacyError::Decode(_) => 50,
            LegacyError::Unexpected(_) => 10,
            LegacyError::BadRecordMac => 20,
            LegacyError::RecordOverflow => 22,
            LegacyError::BadFinished => 51,
            LegacyError::Certificate(_) => 42,
        })
    }

    /// The server turned the offer down as one it cannot take (no common version or suite):
    /// a newer client may reach it.
    pub fn offer_refused(&self) -> bool {
        matches!(self, LegacyError::AlertReceived(40 | 70 | 71))
    }
}

/// The names of the alerts (RFC 5246 §7.2, RFC 8446 §6).
fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        other => return format!("alert {other}"),
    };
    name.to_owned()
}

/// Where the handshake is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    ServerHello,
    Certificate,
    /// An ephemeral key exchange's share.
    ServerKeyExchange,
    /// A CertificateRequest or the ServerHelloDone.
    ServerHelloDone,
    ChangeCipherSpec,
    Finished,
    Established,
    Failed,
}

/// What the ServerHello settled.
struct Negotiated {
    version: u16,
    suite: &'static Suite,
    server_random: [u8; 32],
    extended_master_secret: bool,
}

/// One connection's TLS client.
pub struct LegacyClient {
    state: State,
    client_random: [u8; 32],
    negotiated: Option<Negotiated>,
    /// The server's certificate (DER).
    certificate: Vec<u8>,
    /// An ephemeral key exchange, once the server's share came.
    agreed: Option<Agreed>,
    /// The CertificateRequest, when the server sent one.
    certificate_request: Option<messages::CertificateRequest>,
    /// Where the client certificate comes from (the `SSL` block's, if any).
    client_certificate: Arc<dyn ResolvesClientCert>,
    master_secret: [u8; 48],
    /// Every handshake message so far, for the Finished messages.
    transcript: Vec<u8>,
    /// Bytes from the server not yet made records.
    received: Vec<u8>,
    /// Handshake bytes not yet whole messages.
    handshake: Vec<u8>,
    /// Records for the server.
    outgoing: Vec<u8>,
    /// Application data from the server not yet read, from `plaintext_read` on.
    plaintext: Vec<u8>,
    plaintext_read: usize,
    write_protection: Option<RecordProtection>,
    read_protection: Option<RecordProtection>,
    /// The server's protection, from its ChangeCipherSpec on.
    pending_read_protection: Option<RecordProtection>,
    close_notified: bool,
    peer_closed: bool,
}

impl LegacyClient {
    /// A client whose ClientHello is ready to be written; `server_name` is sent as SNI, and
    /// `client_certificate` gives the certificate a server asks for.
    pub fn new(
        server_name: Option<&str>,
        client_certificate: Arc<dyn ResolvesClientCert>,
    ) -> Result<Self, LegacyError> {
        let mut client_random = [0u8; 32];
        client_random.copy_from_slice(&random_bytes(32)?);
        let hello = messages::client_hello(&client_random, server_name);
        let mut client = LegacyClient {
            state: State::ServerHello,
            client_random,
            negotiated: None,
            certificate: Vec::new(),
            agreed: None,
            certificate_request: None,
            client_certificate,
            master_secret: [0; 48],
            transcript: Vec::new(),
            received: Vec::new(),
            handshake: Vec::new(),
            outgoing: Vec::new(),
            plaintext: Vec::new(),
            plaintext_read: 0,
            write_protection: None,
            read_protection: None,
            pending_read_protection: None,
            close_notified: false,
            peer_closed: false,
        };
        client.transcript.extend_from_slice(&hello);
        // The first record says TLS 1.0, as OpenSSL's do, for servers that refuse more.
        client.push_record(HANDSHAKE, TLS1_0, &hello)?;
        Ok(client)
    }

    pub fn is_handshaking(&self) -> bool {
        self.state != State::Established
    }

    pub fn wants_write(&self) -> bool {
        !self.outgoing.is_empty()
    }

    /// The version and suite once the server chose them (for messages).
    pub fn negotiated(&self) -> Option<(String, &'static str)> {
        self.negotiated
            .as_ref()
            .map(|n| (version_name(n.version), n.suite.name))
    }

    /// Writes what is ready for the server.
    pub fn write_tls(&mut self, socket: &mut dyn Write) -> std::io::Result<usize> {
        let written = socket.write(&self.outgoing)?;
        self.outgoing.drain(..written);
        Ok(written)
    }

    /// Reads what the socket has; 0 when the server closed the connection.
    pub fn read_tls(&mut self, socket: &mut dyn Read) -> std::io::Result<usize> {
        if self.received.len() > 2 * (5 + MAX_CIPHERTEXT) {
            return Err(std::io::Error::other("records not processed"));
        }
        let mut buffer = [0u8; 5 + MAX_CIPHERTEXT];
        let n = socket.read(&mut buffer)?;
        if n == 0 {
            self.peer_closed = true;
        }
        self.received.extend_from_slice(&buffer[..n]);
        Ok(n)
    }

    /// Takes in the whole records read so far. After an error the session is over; the alert
    /// that tells the server why is ready to be written.
    pub fn process_new_packets(&mut self) -> Result<(), LegacyError> {
        if self.state == State::Failed {
            return Err(LegacyError::Unexpected("use after failure"));
        }
        let result = self.process_records();
        if let Err(e) = &result {
            self.state = State::Failed;
            if let Some(alert) = e.alert() {
                let _ = self.send_alert(alert);
            }
        }
        result
    }

    /// Sends `data` to the server (once the handshake is done).
    pub fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.state != State::Established {
            return Err(std::io::Error::new(
                ErrorKind::NotConnected,
                "the TLS handshake is not done",
            ));
        }
        for chunk in data.chunks(MAX_PLAINTEXT) {
            let version = self.version();
            self.push_record(APPLICATION_DATA, version, chunk)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        Ok(())
    }

    /// Reads the server's application data as rustls's reader does: `WouldBlock` when none is
    /// there yet, 0 after the server's close_notify, `UnexpectedEof` when it closed without one.
    pub fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let unread = &self.plaintext[self.plaintext_read..];
        if !unread.is_empty() {
            let n = unread.len().min(buffer.len());
            buffer[..n].copy_from_slice(&unread[..n]);
            self.plaintext_read += n;
            if self.plaintext_read == self.plaintext.len() {
                self.plaintext.clear();
                self.plaintext_read = 0;
            }
            return Ok(n);
        }
        if self.close_notified {
            Ok(0)
        } else if self.peer_closed {
            Err(ErrorKind::UnexpectedEof.into())
        } else {
            Err(ErrorKind::WouldBlock.into())
        }
    }

    fn version(&self) -> u16 {
        self.negotiated.as_ref().map_or(TLS1_0, |n| n.version)
    }

    fn push_record(
        &mut self,
        content_type: u8,
        version: u16,
        content: &[u8],
    ) -> Result<(), LegacyError> {
        let fragment = match self.write_protection.as_mut() {
            Some(protection) => protection.seal(content_type, content)?,
            None => content.to_vec(),
        };
        self.outgoing.push(content_type);
        self.outgoing.extend_from_slice(&version.to_be_bytes());
        // A fragment is at most MAX_CIPHERTEXT bytes.
        self.outgoing
            .extend_from_slice(&(fragment.len() as u16).to_be_bytes());
        self.outgoing.extend_from_slice(&fragment);
        Ok(())
    }

    fn send_alert(&mut self, code: u8) -> Result<(), LegacyError> {
        let version = self.version();
        self.push_record(ALERT, version, &[2, code])
    }

    fn process_records(&mut self) -> Result<(), LegacyError> {
        let mut at = 0;
        let result = loop {
            let rest = &self.received[at..];
            if rest.len() < 5 {
                break Ok(());
            }
            let content_type = rest[0];
            let version = u16::from_be_bytes([rest[1], rest[2]]);
            let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
            if len > MAX_CIPHERTEXT {
                break Err(LegacyError::RecordOverflow);
            }
            if rest[1] != 3 {
                break Err(LegacyError::Decode("record header"));
            }
            if rest.len() < 5 + len {
                break Ok(());
            }
            let fragment = rest[5..5 + len].to_vec();
            at += 5 + len;
            let content = match self.read_protection.as_mut() {
                Some(protection) => match protection.open(content_type, version, &fragment) {
                    Ok(content) => content,
                    Err(e) => break Err(e),
                },
                None => fragment,
            };
            if content.len() > MAX_PLAINTEXT {
                break Err(LegacyError::RecordOverflow);
            }
            if let Err(e) = self.take_record(content_type, &content) {
                break Err(e);
            }
        };
        self.received.drain(..at);
        result
    }

    fn take_record(&mut self, content_type: u8, content: &[u8]) -> Result<(), LegacyError> {
        match content_type {
            ALERT => {
                let [level, code] = content else {
                    return Err(LegacyError::Decode("alert"));
                };
                if *code == 0 {
                    self.close_notified = true;
                } else if *level == 2 {
                    return Err(LegacyError::AlertReceived(*code));
                }
                // Other warnings (no_renegotiation, …) change nothing here.
                Ok(())
            }
            CHANGE_CIPHER_SPEC => {
                if self.state != State::ChangeCipherSpec
                    || content != [1]
                    || !self.handshake.is_empty()
                {
                    return Err(LegacyError::Unexpected("ChangeCipherSpec"));
                }
                self.read_protection = self.pending_read_protection.take();
                self.state = State::Finished;
                Ok(())
            }
            HANDSHAKE => {
                self.handshake.extend_from_slice(content);
                self.take_handshake_messages()
            }
            APPLICATION_DATA if self.state == State::Established => {
                if !self.close_notified {
                    self.plaintext.extend_from_slice(content);
                }
                Ok(())
            }
            APPLICATION_DATA => Err(LegacyError::Unexpected("application data in the handshake")),
            _ => Err(LegacyError::Unexpected("record type")),
        }
    }

    fn take_handshake_messages(&mut self) -> Result<(), LegacyError> {
        while self.handshake.len() >= 4 {
            let len = Reader::new(&self.handshake[1..4], "handshake header").u24()?;
            if len > MAX_HANDSHAKE_MESSAGE {
                return Err(LegacyError::Decode("handshake message length"));
            }
            if self.handshake.len() < 4 + len {
                break;
            }
            let message: Vec<u8> = self.handshake.drain(..4 + len).collect();
            self.take_handshake_message(&message)?;
        }
        Ok(())
    }

    fn take_handshake_message(&mut self, message: &[u8]) -> Result<(), LegacyError> {
        let kind = message[0];
        let body = &message[4..];
        if kind == messages::HELLO_REQUEST {
            // A renegotiation asked for: declined by ignoring it (RFC 5246 §7.4.1.1).
            return Ok(());
        }
        match (self.state, kind) {
            (State::ServerHello, messages::SERVER_HELLO) => {
                self.transcript.extend_from_slice(message);
                self.take_server_hello(body)
            }
            (State::Certificate, messages::CERTIFICATE) => {
                self.transcript.extend_from_slice(message);
                self.certificate = messages::server_certificate(body)?;
                let ephemeral = self
                    .negotiated
                    .as_ref()
                    .is_some_and(|n| n.suite.key_exchange != KeyExchange::Rsa);
                self.state = if ephemeral {
                    State::ServerKeyExchange
                } else {
                    State::ServerHelloDone
                };
                Ok(())
            }
            (State::ServerKeyExchange, messages::SERVER_KEY_EXCHANGE) => {
                self.transcript.extend_from_slice(message);
                let Some(n) = &self.negotiated else {
                    return Err(LegacyError::Internal("no ServerHello"));
                };
                let randoms = Randoms {
                    client: &self.client_random,
                    server: &n.server_random,
                };
                self.agreed = Some(exchange::ephemeral(
                    n.suite.key_exchange,
                    n.version,
                    body,
                    randoms,
                    &self.certificate,
                )?);
                self.state = State::ServerHelloDone;
                Ok(())
            }
            (State::ServerHelloDone, messages::CERTIFICATE_REQUEST)
                if self.certificate_request.is_none() =>
            {
                self.transcript.extend_from_slice(message);
                let tls12 = self.version() == TLS1_2;
                self.certificate_request = Some(messages::certificate_request(body, tls12)?);
                Ok(())
            }
            (State::ServerHelloDone, messages::SERVER_HELLO_DONE) => {
                if !body.is_empty() {
                    return Err(LegacyError::Decode("ServerHelloDone"));
                }
                self.transcript.extend_from_slice(message);
                self.send_key_exchange()
            }
            (State::Finished, messages::FINISHED) => {
                let expected = self.finished_data(b"server finished")?;
                if !same_bytes(&expected, body) {
                    return Err(LegacyError::BadFinished);
                }
                self.transcript.clear();
                self.state = State::Established;
                Ok(())
            }
            _ => Err(LegacyError::Unexpected("handshake message")),
        }
    }

    fn take_server_hello(&mut self, body: &[u8]) -> Result<(), LegacyError> {
        let hello = messages::server_hello(body)?;
        if !(TLS1_0..=TLS1_2).contains(&hello.version) {
            return Err(LegacyError::Version(hello.version));
        }
        let suite = suites::find(hello.suite)
            .filter(|suite| !suite.tls12_only || hello.version == TLS1_2)
            .ok_or(LegacyError::Suite(hello.suite))?;
        if hello.compression != 0 {
            return Err(LegacyError::Compression(hello.compression));
        }
        self.negotiated = Some(Negotiated {
            version: hello.version,
            suite,
            server_random: hello.random,
            extended_master_secret: hello.extended_master_secret,
        });
        self.state = State::Certificate;
        Ok(())
    }

    /// The client's flight after the ServerHelloDone: [Certificate,] ClientKeyExchange,
    /// ChangeCipherSpec, Finished.
    fn send_key_exchange(&mut self) -> Result<(), LegacyError> {
        let (version, suite, server_random, extended) = match &self.negotiated {
            Some(n) => (
                n.version,
                n.suite,
                n.server_random,
                n.extended_master_secret,
            ),
            None => return Err(LegacyError::Internal("no ServerHello")),
        };
        let agreed = match self.agreed.take() {
            Some(agreed) => agreed,
            None => exchange::rsa(&self.certificate)?,
        };
        let signer = match &self.certificate_request {
            Some(request) => {
                let (chain, signer) = self.client_certificate_for(request);
                let chain: Vec<&[u8]> = chain.iter().map(|c| c.as_ref()).collect();
                let certificate = messages::certificate(&chain);
                self.transcript.extend_from_slice(&certificate);
                self.push_record(HANDSHAKE, version, &certificate)?;
                signer
            }
            None => None,
        };
        let key_exchange =
            messages::message(messages::CLIENT_KEY_EXCHANGE, &agreed.client_key_exchange);
        self.transcript.extend_from_slice(&key_exchange);
        self.push_record(HANDSHAKE, version, &key_exchange)?;

        let session_hash;
        let seed = if extended {
            session_hash = handshake_hash(version, suite.prf, &self.transcript);
            MasterSeed::SessionHash(&session_hash)
        } else {
            MasterSeed::Randoms {
                client: &self.client_random,
                server: &server_random,
            }
        };
        self.master_secret = master_secret(version, suite.prf, &agreed.premaster, seed);
        if let Some(signer) = signer {
            // Signs every handshake message so far, the ClientKeyExchange the last.
            let signature = signer
                .sign(&self.transcript)
                .map_err(|_| LegacyError::Internal("cannot sign with the client key"))?;
            let verify = messages::certificate_verify(u16::from(signer.scheme()), &signature);
            self.transcript.extend_from_slice(&verify);
            self.push_record(HANDSHAKE, version, &verify)?;
        }
        let (client_keys, server_keys) = key_block(
            version,
            suite.prf,
            &self.master_secret,
            &self.client_random,
            &server_random,
            key_lengths(suite, version),
        );
        self.push_record(CHANGE_CIPHER_SPEC, version, &[1])?;
        self.write_protection = Some(RecordProtection::new(suite, version, client_keys));
        self.pending_read_protection = Some(RecordProtection::new(suite, version, server_keys));
        let finished =
            messages::message(messages::FINISHED, &self.finished_data(b"client finished")?);
        self.transcript.extend_from_slice(&finished);
        self.push_record(HANDSHAKE, version, &finished)?;
        self.state = State::ChangeCipherSpec;
        Ok(())
    }

    /// The chain and signer of the client certificate for `request`: the `SSL` block's, in
    /// TLS 1.2 and with a scheme the server takes; else none.
    fn client_certificate_for(
        &self,
        request: &messages::CertificateRequest,
    ) -> (
        Vec<rustls::pki_types::CertificateDer<'static>>,
        Option<Box<dyn rustls::sign::Signer>>,
    ) {
        if self.version() != TLS1_2 {
            return (Vec::new(), None);
        }
        let schemes: Vec<SignatureScheme> = request
            .schemes
            .iter()
            .map(|&scheme| SignatureScheme::from(scheme))
            .collect();
        let authorities: Vec<&[u8]> = request.authorities.iter().map(Vec::as_slice).collect();
        let Some(certified) = self.client_certificate.resolve(&authorities, &schemes) else {
            return (Vec::new(), None);
        };
        match certified.key.choose_scheme(&schemes) {
            Some(signer) => (certified.cert.clone(), Some(signer)),
            None => (Vec::new(), None),
        }
    }

    fn finished_data(&self, label: &[u8]) -> Result<[u8; 12], LegacyError> {
        let Some(n) = &self.negotiated else {
            return Err(LegacyError::Internal("no ServerHello"));
        };
        Ok(verify_data(
            n.version,
            n.suite.prf,
            &self.master_secret,
            label,
            &self.transcript,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    fn no_certificate() -> Arc<dyn ResolvesClientCert> {
        crate::tls::client_config(None)
            .expect("client configuration")
            .client_auth_cert_resolver
            .clone()
    }

    fn record(content_type: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![content_type, 3, 1];
        out.extend_from_slice(&(content.len() as u16).to_be_bytes());
        out.extend_from_slice(content);
        out
    }

    /// A server's first flight: ServerHello (TLS 1.0, AES128-SHA, extended master secret),
    /// Certificate (testdata/tls/rsa-server.pem), ServerHelloDone; then a ChangeCipherSpec and a
    /// Finished that cannot be right.
    fn server_flight() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/tls/rsa-server.pem"
        );
        let certificate = CertificateDer::from_pem_file(path).expect("rsa-server.pem");
        let mut hello = vec![3, 1];
        hello.extend_from_slice(&[9; 32]);
        hello.extend_from_slice(&[0, 0x00, 0x2f, 0, 0, 4, 0, 23, 0, 0]);
        let mut list = Vec::new();
        list.extend_from_slice(&(certificate.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(&certificate);
        let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
        body.extend_from_slice(&list);
        let mut flight = record(
            HANDSHAKE,
            &messages::message(messages::SERVER_HELLO, &hello),
        );
        flight.extend(record(
            HANDSHAKE,
            &messages::message(messages::CERTIFICATE, &body),
        ));
        flight.extend(record(
            HANDSHAKE,
            &messages::message(messages::SERVER_HELLO_DONE, &[]),
        ));
        flight.extend(record(CHANGE_CIPHER_SPEC, &[1]));
        flight.extend(record(HANDSHAKE, &[0; 48]));
        flight
    }

    #[test]
    fn the_server_flight_takes_the_client_to_its_key_exchange_and_a_bad_finished_fails() {
        let mut client =
            LegacyClient::new(Some("rsa-server.test"), no_certificate()).expect("client");
        let mut sent = Vec::new();
        client.write_tls(&mut sent).expect("hello");
        let flight = server_flight();
        client.read_tls(&mut flight.as_slice()).expect("read");
        let error = client
            .process_new_packets()
            .expect_err("a Finished of zeros");
        assert!(
            matches!(error, LegacyError::BadRecordMac | LegacyError::Decode(_)),
            "{error}"
        );
        // The client's flight went out: ClientKeyExchange, ChangeCipherSpec, Finished, alert.
        let mut flight = Vec::new();
        client.write_tls(&mut flight).expect("flight");
        assert_eq!(&flight[..3], [HANDSHAKE, 3, 1]);
        assert!(
            flight
                .windows(6)
                .any(|w| w == [CHANGE_CIPHER_SPEC, 3, 1, 0, 1, 1])
        );
        assert!(client.process_new_packets().is_err());
    }

    #[test]
    fn nothing_a_server_sends_makes_the_client_panic() {
        let mut rng = fastrand::Rng::with_seed(0x1e6a);
        let flight = server_flight();
        for _ in 0..3000 {
            let mut bytes = flight.clone();
            match rng.u8(0..4) {
                0 => bytes.truncate(rng.usize(0..bytes.len())),
                1 => {
                    for _ in 0..rng.usize(1..8) {
                        let at = rng.usize(0..bytes.len());
                        bytes[at] = rng.u8(..);
                    }
                }
                2 => {
                    let at = rng.usize(0..bytes.len());
                    let noise: Vec<u8> = (0..rng.usize(1..64)).map(|_| rng.u8(..)).collect();
                    bytes.splice(at..at, noise);
                }
                _ => bytes = (0..rng.usize(0..2048)).map(|_| rng.u8(..)).collect(),
            }
            let mut client = LegacyClient::new(None, no_certificate()).expect("client");
            let mut rest = bytes.as_slice();
            while !rest.is_empty() {
                let take = rng.usize(1..=rest.len());
                let (chunk, tail) = rest.split_at(take);
                rest = tail;
                let _ = client.read_tls(&mut &chunk[..]);
                let _ = client.process_new_packets();
                let _ = client.read(&mut [0u8; 64]);
                let _ = client.write_tls(&mut Vec::new());
            }
        }
    }
}
