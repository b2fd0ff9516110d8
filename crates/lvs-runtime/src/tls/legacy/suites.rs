//! The cipher suites the legacy client offers: OpenSSL 3's `DEFAULT` list (what keepalived
//! offers) in its order, but for the PSK and SRP suites (which need settings keepalived has not).

/// The protocol versions, as they are written on the wire.
pub const TLS1_0: u16 = 0x0301;
pub const TLS1_1: u16 = 0x0302;
pub const TLS1_2: u16 = 0x0303;

/// A hash function, as the suites and the PRF name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
}

impl Hash {
    /// The length of its output (and of an HMAC key made from it).
    pub fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

/// How a suite agrees on the premaster secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyExchange {
    /// Encrypted to the RSA key of the server's certificate.
    Rsa,
    /// Finite-field Diffie-Hellman, the server's share signed with its RSA key.
    DheRsa,
    /// Elliptic-curve Diffie-Hellman, signed with the server's RSA key.
    EcdheRsa,
    /// Elliptic-curve Diffie-Hellman, signed with the server's ECDSA key.
    EcdheEcdsa,
}

/// How a suite protects the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// AES in CBC mode, the record's HMAC with this hash inside the encryption.
    AesCbc { mac: Hash },
    /// AES-GCM.
    AesGcm,
    /// ChaCha20-Poly1305 (RFC 7905).
    ChaCha20Poly1305,
}

/// One cipher suite.
#[derive(Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    /// OpenSSL's name, for messages.
    pub name: &'static str,
    pub key_exchange: KeyExchange,
    pub protection: Protection,
    /// The cipher key's length in bytes.
    pub key_len: usize,
    /// The hash of TLS 1.2's PRF and Finished (SHA-256 unless the suite names another).
    pub prf: Hash,
    /// The suite exists from TLS 1.2 on.
    pub tls12_only: bool,
}

const fn suite(id: u16, name: &'static str, key_exchange: KeyExchange) -> Suite {
    // Decided by the name's ending, as OpenSSL names them: CHACHA20-POLY1305, GCM-SHA384,
    // GCM-SHA256, SHA384, SHA256 or SHA; AES256 or AES128.
    let bytes = name.as_bytes();
    let key_len = if contains(bytes, b"AES128") { 16 } else { 32 };
    let (protection, prf, tls12_only) = if ends_with(bytes, b"CHACHA20-POLY1305") {
        (Protection::ChaCha20Poly1305, Hash::Sha256, true)
    } else if ends_with(bytes, b"GCM-SHA384") {
        (Protection::AesGcm, Hash::Sha384, true)
    } else if ends_with(bytes, b"GCM-SHA256") {
        (Protection::AesGcm, Hash::Sha256, true)
    } else if ends_with(bytes, b"SHA384") {
        (Protection::AesCbc { mac: Hash::Sha384 }, Hash::Sha384, true)
    } else if ends_with(bytes, b"SHA256") {
        (Protection::AesCbc { mac: Hash::Sha256 }, Hash::Sha256, true)
    } else {
        (Protection::AesCbc { mac: Hash::Sha1 }, Hash::Sha256, false)
    };
    Suite {
        id,
        name,
        key_exchange,
        protection,
        key_len,
        prf,
        tls12_only,
    }
}

const fn ends_with(name: &[u8], end: &[u8]) -> bool {
    if end.len() > name.len() {
        return false;
    }
    let start = name.len() - end.len();
    let mut i = 0;
    while i < end.len() {
        if name[start + i] != end[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn contains(name: &[u8], part: &[u8]) -> bool {
    let mut start = 0;
    while start + part.len() <= name.len() {
        let mut i = 0;
        while i < part.len() && name[start + i] == part[i] {
            i += 1;
        }
        if i == part.len() {
            return true;
        }
        start += 1;
    }
    false
}

use KeyExchange::{DheRsa, EcdheEcdsa, EcdheRsa, Rsa};

pub const SUITES: [Suite; 27] = [
    suite(0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", EcdheEcdsa),
    suite(0xc030, "ECDHE-RSA-AES256-GCM-SHA384", EcdheRsa),
    suite(0x009f, "DHE-RSA-AES256-GCM-SHA384", DheRsa),
    suite(0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", EcdheEcdsa),
    suite(0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", EcdheRsa),
    suite(0xccaa, "DHE-RSA-CHACHA20-POLY1305", DheRsa),
    suite(0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", EcdheEcdsa),
    suite(0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", EcdheRsa),
    suite(0x009e, "DHE-RSA-AES128-GCM-SHA256", DheRsa),
    suite(0xc024, "ECDHE-ECDSA-AES256-SHA384", EcdheEcdsa),
    suite(0xc028, "ECDHE-RSA-AES256-SHA384", EcdheRsa),
    suite(0x006b, "DHE-RSA-AES256-SHA256", DheRsa),
    suite(0xc023, "ECDHE-ECDSA-AES128-SHA256", EcdheEcdsa),
    suite(0xc027, "ECDHE-RSA-AES128-SHA256", EcdheRsa),
    suite(0x0067, "DHE-RSA-AES128-SHA256", DheRsa),
    suite(0xc00a, "ECDHE-ECDSA-AES256-SHA", EcdheEcdsa),
    suite(0xc014, "ECDHE-RSA-AES256-SHA", EcdheRsa),
    suite(0x0039, "DHE-RSA-AES256-SHA", DheRsa),
    suite(0xc009, "ECDHE-ECDSA-AES128-SHA", EcdheEcdsa),
    suite(0xc013, "ECDHE-RSA-AES128-SHA", EcdheRsa),
    suite(0x0033, "DHE-RSA-AES128-SHA", DheRsa),
    suite(0x009d, "AES256-GCM-SHA384", Rsa),
    suite(0x009c, "AES128-GCM-SHA256", Rsa),
    suite(0x003d, "AES256-SHA256", Rsa),
    suite(0x003c, "AES128-SHA256", Rsa),
    suite(0x0035, "AES256-SHA", Rsa),
    suite(0x002f, "AES128-SHA", Rsa),
];

/// The suite with this id, if it is one of ours.
pub fn find(id: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|suite| suite.id == id)
}

/// The name of a protocol version.
pub fn version_name(version: u16) -> String {
    match version {
        0x0300 => "SSLv3".into(),
        TLS1_0 => "TLSv1".into(),
        TLS1_1 => "TLSv1.1".into(),
        TLS1_2 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        other => format!("version {other:#06x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_give_the_right_ciphers() {
        let of = |name: &str| SUITES.iter().find(|s| s.name == name).expect(name);
        let gcm = of("ECDHE-RSA-AES256-GCM-SHA384");
        assert_eq!(
            (gcm.protection, gcm.key_len, gcm.prf, gcm.tls12_only),
            (Protection::AesGcm, 32, Hash::Sha384, true)
        );
        let cbc = of("ECDHE-ECDSA-AES256-SHA384");
        assert_eq!(cbc.protection, Protection::AesCbc { mac: Hash::Sha384 });
        let cbc = of("DHE-RSA-AES128-SHA256");
        assert_eq!(
            (cbc.protection, cbc.key_len),
            (Protection::AesCbc { mac: Hash::Sha256 }, 16)
        );
        let chacha = of("DHE-RSA-CHACHA20-POLY1305");
        assert_eq!(
            (
                chacha.protection,
                chacha.key_len,
                chacha.prf,
                chacha.tls12_only
            ),
            (Protection::ChaCha20Poly1305, 32, Hash::Sha256, true)
        );
        let old = of("AES128-SHA");
        assert_eq!(
            (old.protection, old.prf, old.tls12_only),
            (Protection::AesCbc { mac: Hash::Sha1 }, Hash::Sha256, false)
        );
    }
}
