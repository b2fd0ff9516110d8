//! The handshake messages the legacy client writes and reads (RFC 5246 §7.4), each with its
//! 4-byte header (type, 24-bit length).

use super::LegacyError;
use super::exchange::{groups, signature_schemes};
use super::suites::{SUITES, TLS1_2};

/// Handshake message types.
pub const HELLO_REQUEST: u8 = 0;
pub const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
pub const CERTIFICATE: u8 = 11;
pub const SERVER_KEY_EXCHANGE: u8 = 12;
pub const CERTIFICATE_REQUEST: u8 = 13;
pub const SERVER_HELLO_DONE: u8 = 14;
pub const CERTIFICATE_VERIFY: u8 = 15;
pub const CLIENT_KEY_EXCHANGE: u8 = 16;
pub const FINISHED: u8 = 20;

/// Extension types.
const SERVER_NAME: u16 = 0;
const SUPPORTED_GROUPS: u16 = 10;
const EC_POINT_FORMATS: u16 = 11;
const SIGNATURE_ALGORITHMS: u16 = 13;
const ENCRYPT_THEN_MAC: u16 = 22;
const EXTENDED_MASTER_SECRET: u16 = 23;
const RENEGOTIATION_INFO: u16 = 0xff01;

/// A handshake message with its header.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.push(kind);
    push_u24(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

fn push_u16(out: &mut Vec<u8>, value: usize) {
    // Every length written here is of our own small messages.
    out.extend_from_slice(&(value as u16).to_be_bytes());
}

fn push_u24(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
}

fn push_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    push_u16(out, usize::from(kind));
    push_u16(out, data.len());
    out.extend_from_slice(data);
}

/// The ClientHello: TLS 1.2 at most, our suites, no compression, no session to resume; the
/// server name (`server_name`) when there is one, our curves and uncompressed points, the
/// signatures we verify, the extended master secret and the empty renegotiation info (RFC 5746),
/// as OpenSSL's client offers them.
pub fn client_hello(random: &[u8; 32], server_name: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(&TLS1_2.to_be_bytes());
    body.extend_from_slice(random);
    body.push(0); // no session id
    push_u16(&mut body, 2 * SUITES.len());
    for suite in &SUITES {
        body.extend_from_slice(&suite.id.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    let mut extensions = Vec::new();
    if let Some(name) = server_name {
        let mut list = vec![0u8]; // host_name
        push_u16(&mut list, name.len());
        list.extend_from_slice(name.as_bytes());
        let mut data = Vec::new();
        push_u16(&mut data, list.len());
        data.extend_from_slice(&list);
        push_extension(&mut extensions, SERVER_NAME, &data);
    }
    let offered: Vec<u16> = groups().collect();
    let mut list = Vec::new();
    push_u16(&mut list, 2 * offered.len());
    for group in offered {
        list.extend_from_slice(&group.to_be_bytes());
    }
    push_extension(&mut extensions, SUPPORTED_GROUPS, &list);
    push_extension(&mut extensions, EC_POINT_FORMATS, &[1, 0]);
    let offered = signature_schemes();
    let mut schemes = Vec::new();
    push_u16(&mut schemes, 2 * offered.len());
    for scheme in offered {
        schemes.extend_from_slice(&scheme.to_be_bytes());
    }
    push_extension(&mut extensions, SIGNATURE_ALGORITHMS, &schemes);
    push_extension(&mut extensions, EXTENDED_MASTER_SECRET, &[]);
    push_extension(&mut extensions, RENEGOTIATION_INFO, &[0]);
    push_u16(&mut body, extensions.len());
    body.extend_from_slice(&extensions);
    message(CLIENT_HELLO, &body)
}

/// What the ServerHello says.
#[derive(Debug, PartialEq, Eq)]
pub struct ServerHello {
    pub version: u16,
    pub random: [u8; 32],
    pub suite: u16,
    pub compression: u8,
    pub extended_master_secret: bool,
}

/// Reads a ServerHello's body.
pub fn server_hello(body: &[u8]) -> Result<ServerHello, LegacyError> {
    let what = "ServerHello";
    let mut reader = Reader::new(body, what);
    let version = reader.u16()?;
    let mut random = [0u8; 32];
    random.copy_from_slice(reader.take(32)?);
    reader.vec8()?; // session id: nothing is resumed
    let suite = reader.u16()?;
    let compression = reader.u8()?;
    let mut extended_master_secret = false;
    if !reader.is_empty() {
        let mut extensions = Reader::new(reader.vec16()?, what);
        while !extensions.is_empty() {
            let kind = extensions.u16()?;
            let data = extensions.vec16()?;
            match kind {
                EXTENDED_MASTER_SECRET => extended_master_secret = true,
                // It would change the records: not offered, so not accepted.
                ENCRYPT_THEN_MAC => return Err(LegacyError::Unexpected("encrypt_then_mac")),
                RENEGOTIATION_INFO if data != [0] => {
                    return Err(LegacyError::Decode("renegotiation_info"));
                }
                _ => {}
            }
        }
    }
    reader.finish()?;
    Ok(ServerHello {
        version,
        random,
        suite,
        compression,
        extended_master_secret,
    })
}

/// The server's own certificate (the first of its Certificate message).
pub fn server_certificate(body: &[u8]) -> Result<Vec<u8>, LegacyError> {
    let what = "Certificate";
    let mut reader = Reader::new(body, what);
    let mut list = Reader::new(reader.vec24()?, what);
    reader.finish()?;
    if list.is_empty() {
        return Err(LegacyError::Certificate("the server sent none".into()));
    }
    Ok(list.vec24()?.to_vec())
}

/// A Certificate message with `chain` (DER certificates; none: the answer to a
/// CertificateRequest without a certificate).
pub fn certificate(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for certificate in chain {
        push_u24(&mut list, certificate.len());
        list.extend_from_slice(certificate);
    }
    let mut body = Vec::with_capacity(3 + list.len());
    push_u24(&mut body, list.len());
    body.extend_from_slice(&list);
    message(CERTIFICATE, &body)
}

/// A CertificateVerify of TLS 1.2: the scheme and the signature.
pub fn certificate_verify(scheme: u16, signature: &[u8]) -> Vec<u8> {
    let mut body = scheme.to_be_bytes().to_vec();
    push_u16(&mut body, signature.len());
    body.extend_from_slice(signature);
    message(CERTIFICATE_VERIFY, &body)
}

/// What a CertificateRequest of TLS 1.2 asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CertificateRequest {
    /// The signature schemes the server takes.
    pub schemes: Vec<u16>,
    /// The names (DER) of the authorities it takes.
    pub authorities: Vec<Vec<u8>>,
}

/// Reads a CertificateRequest's body; below TLS 1.2 it has no signature schemes.
pub fn certificate_request(body: &[u8], tls12: bool) -> Result<CertificateRequest, LegacyError> {
    let what = "CertificateRequest";
    let mut reader = Reader::new(body, what);
    reader.vec8()?; // certificate types: the key's own type decides
    let mut request = CertificateRequest::default();
    if tls12 {
        let mut schemes = Reader::new(reader.vec16()?, what);
        while !schemes.is_empty() {
            request.schemes.push(schemes.u16()?);
        }
    }
    let mut authorities = Reader::new(reader.vec16()?, what);
    while !authorities.is_empty() {
        request.authorities.push(authorities.vec16()?.to_vec());
    }
    reader.finish()?;
    Ok(request)
}

/// Reads a message's fields, failing with the message's name when it ends too soon.
pub struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, what }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], LegacyError> {
        if self.data.len() < n {
            return Err(LegacyError::Decode(self.what));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, LegacyError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, LegacyError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    pub fn u24(&mut self) -> Result<usize, LegacyError> {
        let bytes = self.take(3)?;
        Ok(usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]))
    }

    pub fn vec8(&mut self) -> Result<&'a [u8], LegacyError> {
        let len = usize::from(self.u8()?);
        self.take(len)
    }

    pub fn vec16(&mut self) -> Result<&'a [u8], LegacyError> {
        let len = usize::from(self.u16()?);
        self.take(len)
    }

    pub fn vec24(&mut self) -> Result<&'a [u8], LegacyError> {
        let len = self.u24()?;
        self.take(len)
    }

    /// Fails when anything is left.
    pub fn finish(&self) -> Result<(), LegacyError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(LegacyError::Decode(self.what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello_body(extensions: &[u8]) -> Vec<u8> {
        let mut body = vec![0x03, 0x01];
        body.extend_from_slice(&[7u8; 32]);
        body.extend_from_slice(&[2, 0xaa, 0xbb]); // session id
        body.extend_from_slice(&[0x00, 0x35, 0]);
        if !extensions.is_empty() {
            push_u16(&mut body, extensions.len());
            body.extend_from_slice(extensions);
        }
        body
    }

    #[test]
    fn a_server_hello_is_read_with_or_without_extensions() {
        let hello = server_hello(&hello_body(&[])).expect("hello");
        assert_eq!(
            hello,
            ServerHello {
                version: 0x0301,
                random: [7; 32],
                suite: 0x0035,
                compression: 0,
                extended_master_secret: false,
            }
        );
        let extensions = [
            0x00, 0x17, 0, 0, 0xff, 0x01, 0, 1, 0, 0x00, 0x0b, 0, 2, 1, 0,
        ];
        let hello = server_hello(&hello_body(&extensions)).expect("hello");
        assert!(hello.extended_master_secret);
    }

    #[test]
    fn a_short_or_long_server_hello_or_one_changing_the_records_is_refused() {
        let body = hello_body(&[]);
        for len in 0..body.len() {
            assert!(server_hello(&body[..len]).is_err(), "{len} bytes");
        }
        let mut long = hello_body(&[0x00, 0x17, 0, 0]);
        long.push(0);
        assert!(server_hello(&long).is_err());
        assert!(server_hello(&hello_body(&[0x00, 0x16, 0, 0])).is_err());
        assert!(server_hello(&hello_body(&[0xff, 0x01, 0, 2, 1, 9])).is_err());
    }

    #[test]
    fn the_client_hello_offers_our_suites_and_the_name() {
        let hello = client_hello(&[1; 32], Some("www.example.org"));
        assert_eq!(hello[0], CLIENT_HELLO);
        let mut reader = Reader::new(&hello[1..], "test");
        let body = reader.vec24().expect("body");
        reader.finish().expect("one message");
        let mut reader = Reader::new(body, "test");
        assert_eq!(reader.u16().expect("version"), TLS1_2);
        reader.take(32).expect("random");
        assert!(reader.vec8().expect("session").is_empty());
        let suites = reader.vec16().expect("suites");
        assert_eq!(suites.len(), 2 * SUITES.len());
        assert_eq!(reader.vec8().expect("compression"), [0]);
        let extensions = reader.vec16().expect("extensions");
        reader.finish().expect("nothing after the extensions");
        assert!(extensions.windows(15).any(|w| w == b"www.example.org"));
        let without = client_hello(&[1; 32], None);
        assert!(!without.windows(3).any(|w| w == b"www"));
    }

    #[test]
    fn a_certificate_request_is_read_with_its_schemes_and_authorities() {
        let body = [1, 1, 0, 4, 4, 1, 8, 4, 0, 5, 0, 3, 0x30, 1, 2];
        assert_eq!(
            certificate_request(&body, true).expect("request"),
            CertificateRequest {
                schemes: vec![0x0401, 0x0804],
                authorities: vec![vec![0x30, 1, 2]],
            }
        );
        assert_eq!(
            certificate_request(&[1, 1, 0, 0], false).expect("request of TLS 1.0"),
            CertificateRequest::default()
        );
        for len in 0..body.len() {
            assert!(certificate_request(&body[..len], true).is_err(), "{len}");
        }
    }

    #[test]
    fn the_server_certificate_is_the_first_of_the_list() {
        let body = [0, 0, 11, 0, 0, 3, 1, 2, 3, 0, 0, 2, 4, 5];
        assert_eq!(server_certificate(&body).expect("certificate"), [1, 2, 3]);
        assert!(server_certificate(&[0, 0, 0]).is_err());
        assert!(server_certificate(&body[..10]).is_err());
    }
}
