//! The groups both TLS clients exchange keys on, in OpenSSL 3's order: x25519, P-256, x448, P-521,
//! P-384, then the finite-field groups of RFC 7919, ffdhe2048 to ffdhe8192. ring has x25519, P-256
//! and P-384 (rustls's own groups); x448 (ours, [`super::curve448::x448`]), P-521 (RustCrypto's `p521`) and
//! the finite-field groups (on `rsa`'s big numbers) are what keepalived's OpenSSL has besides, so a
//! server that takes only those is reached too: by rustls in TLS 1.3 (and in TLS 1.2 for the
//! curves), by the legacy client in TLS 1.2 (its DHE takes the group the server sends).

use p521::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::{OsRng, RngCore};
use rsa::BigUint;
use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1, X25519};
use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::ffdhe_groups::{FFDHE2048, FFDHE3072, FFDHE4096, FFDHE6144, FFDHE8192, FfdheGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};
use zeroize::Zeroize;

use super::curve448::x448;

/// The groups, in the order they are offered.
pub static GROUPS: &[&dyn SupportedKxGroup] = &[
    X25519,
    SECP256R1,
    &X448,
    &SECP521R1,
    SECP384R1,
    &FiniteField(NamedGroup::FFDHE2048, FFDHE2048),
    &FiniteField(NamedGroup::FFDHE3072, FFDHE3072),
    &FiniteField(NamedGroup::FFDHE4096, FFDHE4096),
    &FiniteField(NamedGroup::FFDHE6144, FFDHE6144),
    &FiniteField(NamedGroup::FFDHE8192, FFDHE8192),
];

/// X448 (RFC 7748), its shares the 56 bytes of a u-coordinate (RFC 8446 §4.2.8.2, RFC 8422 §5.4).
#[derive(Debug)]
struct X448Group;

const X448: X448Group = X448Group;

impl SupportedKxGroup for X448Group {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let mut secret = [0u8; x448::LEN];
        OsRng
            .try_fill_bytes(&mut secret)
            .map_err(|_| Error::FailedToGetRandomBytes)?;
        let public = x448::public_key(&secret);
        Ok(Box::new(X448Exchange { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X448
    }
}

struct X448Exchange {
    secret: [u8; x448::LEN],
    public: [u8; x448::LEN],
}

impl ActiveKeyExchange for X448Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer: &[u8; x448::LEN] = peer
            .try_into()
            .map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        let shared = x448::x448(&self.secret, peer);
        // A point of small order gives zero: refused, as RFC 7748 §6.2 allows and OpenSSL does.
        if shared.iter().all(|&byte| byte == 0) {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        Ok(SharedSecret::from(shared.as_slice()))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X448
    }
}

impl Drop for X448Exchange {
    fn drop(&mut self) {
        // The secret is not left in freed memory.
        self.secret.zeroize();
    }
}

/// ECDH on P-521, its shares uncompressed points, the secret the x-coordinate at full length
/// (RFC 8422 §5.10, RFC 8446 §7.4.2).
#[derive(Debug)]
struct Secp521r1;

const SECP521R1: Secp521r1 = Secp521r1;

impl SupportedKxGroup for Secp521r1 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let secret = p521::ecdh::EphemeralSecret::random(&mut OsRng);
        let public = secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        Ok(Box::new(P521Exchange { secret, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp521r1
    }
}

struct P521Exchange {
    /// Zeroed when dropped (`p521`'s own).
    secret: p521::ecdh::EphemeralSecret,
    public: Vec<u8>,
}

impl ActiveKeyExchange for P521Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        // Only uncompressed points are allowed (RFC 8446 §4.2.8.2; ec_point_formats in TLS 1.2).
        if peer.first() != Some(&4) {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        let peer =
            p521::PublicKey::from_sec1_bytes(peer).map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        let shared = self.secret.diffie_hellman(&peer);
        Ok(SharedSecret::from(shared.raw_secret_bytes().as_slice()))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp521r1
    }
}

/// A finite-field group of RFC 7919 (TLS 1.3 sends the shares and takes the secret at the
/// prime's length, RFC 8446 §4.2.8.1 and §7.4.1).
#[derive(Debug)]
struct FiniteField(NamedGroup, FfdheGroup<'static>);

impl SupportedKxGroup for FiniteField {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let group = self.1;
        let secret = exponent()?;
        let public = padded(
            &BigUint::from_bytes_be(group.g).modpow(&secret, &BigUint::from_bytes_be(group.p)),
            group.p.len(),
        );
        Ok(Box::new(FiniteFieldExchange {
            name: self.0,
            group,
            secret,
            public,
        }))
    }

    fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
        Some(self.1)
    }

    fn name(&self) -> NamedGroup {
        self.0
    }
}

struct FiniteFieldExchange {
    name: NamedGroup,
    group: FfdheGroup<'static>,
    secret: BigUint,
    public: Vec<u8>,
}

impl ActiveKeyExchange for FiniteFieldExchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let p = BigUint::from_bytes_be(self.group.p);
        let shared =
            finite_field_secret(&p, &self.secret, peer).ok_or(PeerMisbehaved::InvalidKeyShare)?;
        Ok(SharedSecret::from(padded(&shared, self.group.p.len())))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
        Some(self.group)
    }

    fn group(&self) -> NamedGroup {
        self.name
    }
}

impl Drop for FiniteFieldExchange {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// A fresh exponent of 512 bits: far above the strength of any group taken (RFC 7919 §5.2 asks
/// for twice it), far below their size. `rsa`'s `modpow` is not constant-time; each exponent
/// serves one handshake, so no timing of it is ever repeated.
pub fn exponent() -> Result<BigUint, Error> {
    let mut bytes = [0u8; 64];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| Error::FailedToGetRandomBytes)?;
    let exponent = BigUint::from_bytes_be(&bytes);
    bytes.zeroize();
    Ok(exponent)
}

/// The peer's share to our `secret` in the group of prime `p`; none for a share outside
/// 2..p−2 (1 and p−1 would give away the secret, RFC 7919 §5.1).
pub fn finite_field_secret(p: &BigUint, secret: &BigUint, peer: &[u8]) -> Option<BigUint> {
    let peer = BigUint::from_bytes_be(peer);
    let one = BigUint::from(1u32);
    if peer <= one || peer >= p - &one {
        return None;
    }
    Some(peer.modpow(secret, p))
}

/// `number` big-endian at `len` bytes, zeros in front.
pub fn padded(number: &BigUint, len: usize) -> Vec<u8> {
    let bytes = number.to_bytes_be();
    let mut out = vec![0u8; len.saturating_sub(bytes.len())];
    out.extend_from_slice(&bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_openssls() {
        let names: Vec<NamedGroup> = GROUPS.iter().map(|group| group.name()).collect();
        assert_eq!(
            names,
            [
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::X448,
                NamedGroup::secp521r1,
                NamedGroup::secp384r1,
                NamedGroup::FFDHE2048,
                NamedGroup::FFDHE3072,
                NamedGroup::FFDHE4096,
                NamedGroup::FFDHE6144,
                NamedGroup::FFDHE8192,
            ]
        );
    }

    #[test]
    fn both_sides_of_each_group_agree() {
        // The larger finite-field groups are the same code, only slower.
        let larger = [
            NamedGroup::FFDHE4096,
            NamedGroup::FFDHE6144,
            NamedGroup::FFDHE8192,
        ];
        for group in GROUPS
            .iter()
            .filter(|group| !larger.contains(&group.name()))
        {
            let (a, b) = (group.start().expect("start"), group.start().expect("start"));
            let (a_public, b_public) = (a.pub_key().to_vec(), b.pub_key().to_vec());
            assert_ne!(a_public, b_public, "{:?}", group.name());
            let one = a.complete(&b_public).expect("complete");
            let other = b.complete(&a_public).expect("complete");
            assert_eq!(
                one.secret_bytes(),
                other.secret_bytes(),
                "{:?}",
                group.name()
            );
        }
    }

    #[test]
    fn bad_shares_are_refused() {
        let mut one = vec![0; x448::LEN];
        one[0] = 1;
        let p521_public = SECP521R1.start().expect("start").pub_key().to_vec();
        let mut compressed = p521_public[..67].to_vec();
        compressed[0] = 2;
        let ffdhe = &FiniteField(NamedGroup::FFDHE2048, FFDHE2048);
        let p_minus_one = padded(&(BigUint::from_bytes_be(FFDHE2048.p) - 1u32), 256);
        let cases: [(&dyn SupportedKxGroup, Vec<Vec<u8>>); 3] = [
            (
                &X448,
                vec![
                    vec![],
                    vec![5; x448::LEN - 1],
                    vec![5; x448::LEN + 1],
                    vec![0; x448::LEN],
                    one,
                ],
            ),
            (
                &SECP521R1,
                vec![
                    vec![],
                    vec![0; 133],
                    vec![4; 133],
                    p521_public[..132].to_vec(),
                    compressed,
                ],
            ),
            (
                ffdhe,
                vec![
                    vec![],
                    vec![1],
                    vec![0; 256],
                    p_minus_one,
                    FFDHE2048.p.to_vec(),
                    vec![0xff; 256],
                ],
            ),
        ];
        for (group, shares) in cases {
            for share in shares {
                let exchange = group.start().expect("start");
                assert!(
                    exchange.complete(&share).is_err(),
                    "{:?} {share:?}",
                    group.name()
                );
            }
        }
    }
}
