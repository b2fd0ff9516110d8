//! The cipher suites the legacy client offers: those of OpenSSL 3's `DEFAULT` list (what
//! keepalived offers) that have RSA key exchange, strongest first as OpenSSL orders them.

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

/// How a suite protects the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// AES in CBC mode, the record's HMAC with this hash inside the encryption.
    AesCbc { mac: Hash },
    /// AES-GCM.
    AesGcm,
}

/// One cipher suite.
#[derive(Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    /// OpenSSL's name, for messages.
    pub name: &'static str,
    pub protection: Protection,
    /// The AES key's length in bytes.
    pub key_len: usize,
    /// The hash of TLS 1.2's PRF and Finished (SHA-256 unless the suite names another).
    pub prf: Hash,
    /// The suite exists from TLS 1.2 on.
    pub tls12_only: bool,
}

pub const SUITES: [Suite; 6] = [
    Suite {
        id: 0x009d,
        name: "AES256-GCM-SHA384",
        protection: Protection::AesGcm,
        key_len: 32,
        prf: Hash::Sha384,
        tls12_only: true,
    },
    Suite {
        id: 0x009c,
        name: "AES128-GCM-SHA256",
        protection: Protection::AesGcm,
        key_len: 16,
        prf: Hash::Sha256,
        tls12_only: true,
    },
    Suite {
        id: 0x003d,
        name: "AES256-SHA256",
        protection: Protection::AesCbc { mac: Hash::Sha256 },
        key_len: 32,
        prf: Hash::Sha256,
        tls12_only: true,
    },
    Suite {
        id: 0x003c,
        name: "AES128-SHA256",
        protection: Protection::AesCbc { mac: Hash::Sha256 },
        key_len: 16,
        prf: Hash::Sha256,
        tls12_only: true,
    },
    Suite {
        id: 0x0035,
        name: "AES256-SHA",
        protection: Protection::AesCbc { mac: Hash::Sha1 },
        key_len: 32,
        prf: Hash::Sha256,
        tls12_only: false,
    },
    Suite {
        id: 0x002f,
        name: "AES128-SHA",
        protection: Protection::AesCbc { mac: Hash::Sha1 },
        key_len: 16,
        prf: Hash::Sha256,
        tls12_only: false,
    },
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
