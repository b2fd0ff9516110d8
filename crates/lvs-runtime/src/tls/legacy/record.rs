//! The record layer's protection once the keys are changed (RFC 5246 §6.2.3): AES-CBC with the
//! record's HMAC inside the encryption (TLS 1.0 chains each record's IV from the last
//! ciphertext block, TLS 1.1 and 1.2 send a fresh one before each record), AES-GCM with an
//! 8-byte explicit nonce (RFC 5288), or ChaCha20-Poly1305 with the sequence number as the nonce
//! (RFC 7905).

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockCipher, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::{Aead, KeyInit as AeadKeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use super::LegacyError;
use super::keys::DirectionKeys;
use super::suites::{Hash, Protection, Suite, TLS1_0};

/// The content types of records.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

/// The most plaintext a record carries, and the most its protection may add (RFC 5246 §6.2).
pub const MAX_PLAINTEXT: usize = 1 << 14;
pub const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 2048;

const BLOCK: usize = 16;
const GCM_EXPLICIT_NONCE: usize = 8;
/// The tag of both AEAD ciphers.
const AEAD_TAG: usize = 16;

/// The lengths of the MAC key, the cipher key and the IV a suite takes from the key block.
pub fn key_lengths(suite: &Suite, version: u16) -> (usize, usize, usize) {
    match suite.protection {
        Protection::AesCbc { mac } => {
            let iv = if version == TLS1_0 { BLOCK } else { 0 };
            (mac.len(), suite.key_len, iv)
        }
        Protection::AesGcm => (0, suite.key_len, 4),
        Protection::ChaCha20Poly1305 => (0, suite.key_len, 12),
    }
}

/// One direction's protection: its keys and its record sequence number.
pub struct RecordProtection {
    protection: Protection,
    version: u16,
    keys: DirectionKeys,
    sequence: u64,
}

impl RecordProtection {
    pub fn new(suite: &Suite, version: u16, keys: DirectionKeys) -> Self {
        RecordProtection {
            protection: suite.protection,
            version,
            keys,
            sequence: 0,
        }
    }

    /// The protected fragment of a record of `content_type` with `plaintext`.
    pub fn seal(&mut self, content_type: u8, plaintext: &[u8]) -> Result<Vec<u8>, LegacyError> {
        let sequence = self.next_sequence();
        match self.protection {
            Protection::AesCbc { mac } => {
                let header = mac_header(sequence, content_type, self.version, plaintext.len());
                let mut data = plaintext.to_vec();
                data.extend(record_mac(mac, &self.keys.mac_key, &header, plaintext));
                let padding = BLOCK - 1 - data.len() % BLOCK;
                data.resize(data.len() + padding + 1, padding as u8);
                let explicit_iv = self.version > TLS1_0;
                let iv: Vec<u8> = if explicit_iv {
                    random_bytes(BLOCK)?
                } else {
                    self.keys.iv.clone()
                };
                cbc_encrypt(&self.keys.key, &iv, &mut data)?;
                if explicit_iv {
                    Ok([iv, data].concat())
                } else {
                    // TLS 1.0: the next record's IV is this one's last block.
                    self.keys.iv = data[data.len() - BLOCK..].to_vec();
                    Ok(data)
                }
            }
            Protection::AesGcm | Protection::ChaCha20Poly1305 => {
                let explicit = match self.protection {
                    Protection::AesGcm => sequence.to_be_bytes().to_vec(),
                    _ => Vec::new(),
                };
                let header = mac_header(sequence, content_type, self.version, plaintext.len());
                let nonce = aead_nonce(self.protection, &self.keys, sequence, &explicit)?;
                let sealed = aead(
                    &self.keys,
                    self.protection,
                    &nonce,
                    &header,
                    plaintext,
                    Direction::Seal,
                )?;
                Ok([explicit, sealed].concat())
            }
        }
    }

    /// The plaintext of a protected record `fragment` of `content_type` whose header carried
    /// `version`.
    pub fn open(
        &mut self,
        content_type: u8,
        version: u16,
        fragment: &[u8],
    ) -> Result<Vec<u8>, LegacyError> {
        let sequence = self.next_sequence();
        match self.protection {
            Protection::AesCbc { mac } => {
                let (iv, ciphertext) = if self.version > TLS1_0 {
                    if fragment.len() < BLOCK {
                        return Err(LegacyError::BadRecordMac);
                    }
                    let (iv, rest) = fragment.split_at(BLOCK);
                    (iv.to_vec(), rest)
                } else {
                    (self.keys.iv.clone(), fragment)
                };
                if ciphertext.is_empty()
                    || ciphertext.len() % BLOCK != 0
                    || ciphertext.len() < mac.len() + 1
                {
                    return Err(LegacyError::BadRecordMac);
                }
                if self.version == TLS1_0 {
                    self.keys.iv = ciphertext[ciphertext.len() - BLOCK..].to_vec();
                }
                let mut data = ciphertext.to_vec();
                cbc_decrypt(&self.keys.key, &iv, &mut data)?;
                let padding = usize::from(data[data.len() - 1]);
                if padding + 1 + mac.len() > data.len()
                    || !data[data.len() - padding - 1..]
                        .iter()
                        .all(|&b| usize::from(b) == padding)
                {
                    return Err(LegacyError::BadRecordMac);
                }
                let content_len = data.len() - padding - 1 - mac.len();
                let (content, received_mac) =
                    data[..data.len() - padding - 1].split_at(content_len);
                let header = mac_header(sequence, content_type, version, content_len);
                let expected = record_mac(mac, &self.keys.mac_key, &header, content);
                if !same_bytes(&expected, received_mac) {
                    return Err(LegacyError::BadRecordMac);
                }
                Ok(content.to_vec())
            }
            Protection::AesGcm | Protection::ChaCha20Poly1305 => {
                let explicit_len = match self.protection {
                    Protection::AesGcm => GCM_EXPLICIT_NONCE,
                    _ => 0,
                };
                if fragment.len() < explicit_len + AEAD_TAG {
                    return Err(LegacyError::BadRecordMac);
                }
                let (explicit, sealed) = fragment.split_at(explicit_len);
                let header = mac_header(sequence, content_type, version, sealed.len() - AEAD_TAG);
                let nonce = aead_nonce(self.protection, &self.keys, sequence, explicit)?;
                aead(
                    &self.keys,
                    self.protection,
                    &nonce,
                    &header,
                    sealed,
                    Direction::Open,
                )
            }
        }
    }

    fn next_sequence(&mut self) -> u64 {
        let sequence = self.sequence;
        self.sequence = self.sequence.wrapping_add(1);
        sequence
    }
}

/// What the MAC (or GCM's additional data) covers before the content: sequence number, type,
/// version and length.
fn mac_header(sequence: u64, content_type: u8, version: u16, len: usize) -> [u8; 13] {
    let mut header = [0u8; 13];
    header[..8].copy_from_slice(&sequence.to_be_bytes());
    header[8] = content_type;
    header[9..11].copy_from_slice(&version.to_be_bytes());
    // A record's content is at most MAX_CIPHERTEXT bytes: it fits.
    header[11..13].copy_from_slice(&(len as u16).to_be_bytes());
    header
}

fn record_mac(hash: Hash, key: &[u8], header: &[u8], content: &[u8]) -> Vec<u8> {
    fn with<M: Mac + KeyInit>(key: &[u8], header: &[u8], content: &[u8]) -> Vec<u8> {
        // An HMAC takes a key of any length.
        let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
            return Vec::new();
        };
        mac.update(header);
        mac.update(content);
        mac.finalize().into_bytes().to_vec()
    }
    match hash {
        Hash::Sha1 => with::<Hmac<Sha1>>(key, header, content),
        Hash::Sha256 => with::<Hmac<Sha256>>(key, header, content),
        Hash::Sha384 => with::<Hmac<Sha384>>(key, header, content),
    }
}

/// Compares without stopping at the first difference.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cbc_encrypt(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), LegacyError> {
    fn with<C>(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), LegacyError>
    where
        C: BlockCipher + BlockEncryptMut,
        cbc::Encryptor<C>: KeyIvInit,
    {
        let len = data.len();
        cbc::Encryptor::<C>::new_from_slices(key, iv)
            .map_err(|_| LegacyError::Internal("AES-CBC key"))?
            .encrypt_padded_mut::<NoPadding>(data, len)
            .map(|_| ())
            .map_err(|_| LegacyError::Internal("AES-CBC block length"))
    }
    match key.len() {
        16 => with::<aes::Aes128>(key, iv, data),
        _ => with::<aes::Aes256>(key, iv, data),
    }
}

fn cbc_decrypt(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), LegacyError> {
    fn with<C>(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), LegacyError>
    where
        C: BlockCipher + BlockDecryptMut,
        cbc::Decryptor<C>: KeyIvInit,
    {
        cbc::Decryptor::<C>::new_from_slices(key, iv)
            .map_err(|_| LegacyError::Internal("AES-CBC key"))?
            .decrypt_padded_mut::<NoPadding>(data)
            .map(|_| ())
            .map_err(|_| LegacyError::BadRecordMac)
    }
    match key.len() {
        16 => with::<aes::Aes128>(key, iv, data),
        _ => with::<aes::Aes256>(key, iv, data),
    }
}

enum Direction {
    Seal,
    Open,
}

/// The nonce of an AEAD record: for AES-GCM the key block's fixed 4 bytes and the record's
/// `explicit` 8; for ChaCha20-Poly1305 the key block's 12 bytes, the sequence number xored into
/// the last 8.
fn aead_nonce(
    protection: Protection,
    keys: &DirectionKeys,
    sequence: u64,
    explicit: &[u8],
) -> Result<[u8; 12], LegacyError> {
    let nonce = match protection {
        Protection::AesGcm => [keys.iv.as_slice(), explicit].concat(),
        _ => keys.iv.clone(),
    };
    let mut nonce: [u8; 12] = nonce
        .try_into()
        .map_err(|_| LegacyError::Internal("AEAD nonce"))?;
    if protection == Protection::ChaCha20Poly1305 {
        for (byte, sequence_byte) in nonce[4..].iter_mut().zip(sequence.to_be_bytes()) {
            *byte ^= sequence_byte;
        }
    }
    Ok(nonce)
}

/// Seals or opens `data` with the suite's AEAD cipher, `aad` as additional data.
fn aead(
    keys: &DirectionKeys,
    protection: Protection,
    nonce: &[u8; 12],
    aad: &[u8],
    data: &[u8],
    direction: Direction,
) -> Result<Vec<u8>, LegacyError> {
    fn with<A: Aead + AeadKeyInit>(
        key: &[u8],
        nonce: &[u8; 12],
        payload: Payload,
        direction: Direction,
    ) -> Result<Vec<u8>, LegacyError> {
        let cipher = A::new_from_slice(key).map_err(|_| LegacyError::Internal("AEAD key"))?;
        let nonce = aes_gcm::aead::Nonce::<A>::from_slice(nonce);
        match direction {
            Direction::Seal => cipher.encrypt(nonce, payload),
            Direction::Open => cipher.decrypt(nonce, payload),
        }
        .map_err(|_| LegacyError::BadRecordMac)
    }
    let payload = Payload { msg: data, aad };
    match (protection, keys.key.len()) {
        (Protection::ChaCha20Poly1305, _) => {
            with::<ChaCha20Poly1305>(&keys.key, nonce, payload, direction)
        }
        (_, 16) => with::<Aes128Gcm>(&keys.key, nonce, payload, direction),
        _ => with::<Aes256Gcm>(&keys.key, nonce, payload, direction),
    }
}

/// `n` bytes from the system's random source.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, LegacyError> {
    use rand_core::{OsRng, RngCore};
    let mut bytes = vec![0u8; n];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| LegacyError::Internal("no random bytes from the system"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::suites::{SUITES, TLS1_1, TLS1_2};
    use super::*;

    fn keys(suite: &Suite, version: u16) -> DirectionKeys {
        let (mac, key, iv) = key_lengths(suite, version);
        DirectionKeys {
            mac_key: (0..mac as u8).collect(),
            key: (0..key as u8).map(|b| b ^ 0x5a).collect(),
            iv: (0..iv as u8).map(|b| b ^ 0xa5).collect(),
        }
    }

    #[test]
    fn every_suite_and_version_opens_what_it_sealed_record_after_record() {
        for suite in &SUITES {
            for version in [TLS1_0, TLS1_1, TLS1_2] {
                if suite.tls12_only && version != TLS1_2 {
                    continue;
                }
                let mut sender = RecordProtection::new(suite, version, keys(suite, version));
                let mut receiver = RecordProtection::new(suite, version, keys(suite, version));
                for len in [0usize, 1, 15, 16, 17, 1000, MAX_PLAINTEXT] {
                    let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
                    let sealed = sender.seal(APPLICATION_DATA, &plaintext).expect("seal");
                    assert!(sealed.len() <= MAX_CIPHERTEXT, "{}", suite.name);
                    let opened = receiver
                        .open(APPLICATION_DATA, version, &sealed)
                        .expect("open");
                    assert_eq!(opened, plaintext, "{} {version:#x} {len}", suite.name);
                }
            }
        }
    }

    #[test]
    fn a_changed_byte_type_or_order_fails_the_record() {
        for suite in &SUITES {
            let version = TLS1_2;
            let mut sender = RecordProtection::new(suite, version, keys(suite, version));
            let first = sender.seal(APPLICATION_DATA, b"first").expect("seal");
            let second = sender.seal(APPLICATION_DATA, b"second").expect("seal");
            for at in 0..first.len() {
                let mut changed = first.clone();
                changed[at] ^= 1;
                let mut receiver = RecordProtection::new(suite, version, keys(suite, version));
                assert!(
                    receiver.open(APPLICATION_DATA, version, &changed).is_err(),
                    "{} byte {at}",
                    suite.name
                );
            }
            let mut receiver = RecordProtection::new(suite, version, keys(suite, version));
            assert!(receiver.open(HANDSHAKE, version, &first).is_err());
            let mut receiver = RecordProtection::new(suite, version, keys(suite, version));
            assert!(receiver.open(APPLICATION_DATA, version, &second).is_err());
            for len in 0..40 {
                let mut receiver = RecordProtection::new(suite, version, keys(suite, version));
                assert!(
                    receiver
                        .open(
                            APPLICATION_DATA,
                            version,
                            &first[..len.min(first.len() - 1)]
                        )
                        .is_err()
                );
            }
        }
    }
}
