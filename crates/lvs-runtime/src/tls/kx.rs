//! The elliptic-curve groups both TLS clients exchange keys on, in OpenSSL 3's order: x25519,
//! P-256, x448, P-521, P-384. ring has x25519, P-256 and P-384 (rustls's own groups); x448 (ours,
//! [`super::x448`]) and P-521 (RustCrypto's `p521`) are what keepalived's OpenSSL has besides, so
//! a server that takes only those is reached too, by rustls in TLS 1.3 and 1.2 and by the legacy
//! client in TLS 1.2.

use p521::elliptic_curve::sec1::ToEncodedPoint;
use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1, X25519};
use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};

use zeroize::Zeroize;

use super::x448;

/// The groups, in the order they are offered.
pub static GROUPS: &[&dyn SupportedKxGroup] = &[X25519, SECP256R1, &X448, &SECP521R1, SECP384R1];

/// X448 (RFC 7748), its shares the 56 bytes of a u-coordinate (RFC 8446 §4.2.8.2, RFC 8422 §5.4).
#[derive(Debug)]
struct X448Group;

const X448: X448Group = X448Group;

impl SupportedKxGroup for X448Group {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let mut secret = [0u8; x448::LEN];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
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
        let secret = p521::ecdh::EphemeralSecret::random(&mut rand_core::OsRng);
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
                NamedGroup::secp384r1
            ]
        );
    }

    #[test]
    fn both_sides_of_each_group_agree() {
        for group in GROUPS {
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
        let cases: [(&dyn SupportedKxGroup, Vec<Vec<u8>>); 2] = [
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
