//! The secrets of a TLS 1.0–1.2 session: the PRF (RFC 2246 §5 for TLS 1.0/1.1: P_MD5 xor
//! P_SHA1; RFC 5246 §5 for TLS 1.2: P_hash of the suite), the master secret (RFC 7627's extended
//! one when the server agrees), the key block and the Finished messages' verify data.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384};

use super::suites::{Hash, TLS1_2};

/// Fills `out` with P_hash(secret, label + seed) of the HMAC `M`.
fn p_hash<M: Mac + KeyInit + Clone>(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    // An HMAC takes a key of any length: new_from_slice does not fail.
    let Ok(keyed) = <M as KeyInit>::new_from_slice(secret) else {
        return;
    };
    let mut a = {
        let mut mac = keyed.clone();
        mac.update(label);
        mac.update(seed);
        mac.finalize().into_bytes()
    };
    for chunk in out.chunks_mut(a.len()) {
        let mut mac = keyed.clone();
        mac.update(&a);
        mac.update(label);
        mac.update(seed);
        let block = mac.finalize().into_bytes();
        chunk.copy_from_slice(&block[..chunk.len()]);
        let mut next = keyed.clone();
        next.update(&a);
        a = next.finalize().into_bytes();
    }
}

/// The PRF of `version` (`prf` is TLS 1.2's hash) into `out`.
pub fn prf(version: u16, prf: Hash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    if version >= TLS1_2 {
        match prf {
            Hash::Sha1 => p_hash::<Hmac<Sha1>>(secret, label, seed, out),
            Hash::Sha256 => p_hash::<Hmac<Sha256>>(secret, label, seed, out),
            Hash::Sha384 => p_hash::<Hmac<Sha384>>(secret, label, seed, out),
        }
        return;
    }
    // Each half of the secret (overlapping by a byte when its length is odd) feeds one hash.
    let half = secret.len().div_ceil(2);
    p_hash::<Hmac<Md5>>(&secret[..half], label, seed, out);
    let mut sha1 = vec![0u8; out.len()];
    p_hash::<Hmac<Sha1>>(&secret[secret.len() - half..], label, seed, &mut sha1);
    for (byte, other) in out.iter_mut().zip(sha1) {
        *byte ^= other;
    }
}

/// The hash of the handshake messages: MD5 and SHA-1 side by side before TLS 1.2, the PRF's
/// hash from it on.
pub fn handshake_hash(version: u16, prf: Hash, messages: &[u8]) -> Vec<u8> {
    if version < TLS1_2 {
        let mut hash = Md5::digest(messages).to_vec();
        hash.extend_from_slice(&Sha1::digest(messages));
        return hash;
    }
    match prf {
        Hash::Sha1 => Sha1::digest(messages).to_vec(),
        Hash::Sha256 => Sha256::digest(messages).to_vec(),
        Hash::Sha384 => Sha384::digest(messages).to_vec(),
    }
}

/// How the master secret is made from the premaster secret.
pub enum MasterSeed<'a> {
    /// RFC 5246: from the two hellos' randoms.
    Randoms {
        client: &'a [u8; 32],
        server: &'a [u8; 32],
    },
    /// RFC 7627: from the hash of the handshake up to the client's key exchange.
    SessionHash(&'a [u8]),
}

/// The 48-byte master secret.
pub fn master_secret(version: u16, prf_hash: Hash, premaster: &[u8], seed: MasterSeed) -> [u8; 48] {
    let mut master = [0u8; 48];
    match seed {
        MasterSeed::Randoms { client, server } => {
            let randoms = [client.as_slice(), server.as_slice()].concat();
            prf(
                version,
                prf_hash,
                premaster,
                b"master secret",
                &randoms,
                &mut master,
            );
        }
        MasterSeed::SessionHash(hash) => prf(
            version,
            prf_hash,
            premaster,
            b"extended master secret",
            hash,
            &mut master,
        ),
    }
    master
}

/// The keys of one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectionKeys {
    pub mac_key: Vec<u8>,
    pub key: Vec<u8>,
    /// TLS 1.0 CBC: the first record's IV; GCM: the nonce's fixed part; else empty.
    pub iv: Vec<u8>,
}

/// The client's and the server's keys, cut from the key block (RFC 5246 §6.3).
pub fn key_block(
    version: u16,
    prf_hash: Hash,
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    lengths: (usize, usize, usize),
) -> (DirectionKeys, DirectionKeys) {
    let (mac_len, key_len, iv_len) = lengths;
    let mut block = vec![0u8; 2 * (mac_len + key_len + iv_len)];
    let randoms = [server_random.as_slice(), client_random.as_slice()].concat();
    prf(
        version,
        prf_hash,
        master,
        b"key expansion",
        &randoms,
        &mut block,
    );
    let mut rest = block.as_slice();
    let mut take = |n: usize| {
        let (head, tail) = rest.split_at(n);
        rest = tail;
        head.to_vec()
    };
    let (client_mac, server_mac) = (take(mac_len), take(mac_len));
    let (client_key, server_key) = (take(key_len), take(key_len));
    let (client_iv, server_iv) = (take(iv_len), take(iv_len));
    (
        DirectionKeys {
            mac_key: client_mac,
            key: client_key,
            iv: client_iv,
        },
        DirectionKeys {
            mac_key: server_mac,
            key: server_key,
            iv: server_iv,
        },
    )
}

/// The 12 bytes of a Finished message (`label`: "client finished" or "server finished").
pub fn verify_data(
    version: u16,
    prf_hash: Hash,
    master: &[u8; 48],
    label: &[u8],
    messages: &[u8],
) -> [u8; 12] {
    let mut data = [0u8; 12];
    let hash = handshake_hash(version, prf_hash, messages);
    prf(version, prf_hash, master, label, &hash, &mut data);
    data
}
