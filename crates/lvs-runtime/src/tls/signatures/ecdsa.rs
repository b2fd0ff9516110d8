//! ECDSA that ring does not verify and keepalived's OpenSSL does: on P-521 with any hash, and with
//! SHA-224 on any curve (TLS 1.2's `ecdsa_sha224`, which names the hash and not the curve), on
//! RustCrypto's curves.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

pub const P521_SHA256: &dyn SignatureVerificationAlgorithm = &Ecdsa(Curve::P521, Hash::Sha256);
pub const P521_SHA384: &dyn SignatureVerificationAlgorithm = &Ecdsa(Curve::P521, Hash::Sha384);
pub const P521_SHA512: &dyn SignatureVerificationAlgorithm = &Ecdsa(Curve::P521, Hash::Sha512);
/// `ecdsa_sha224` (0x0303) by a key on any of OpenSSL's curves.
pub const SHA224: [&dyn SignatureVerificationAlgorithm; 3] = [
    &Ecdsa(Curve::P256, Hash::Sha224),
    &Ecdsa(Curve::P384, Hash::Sha224),
    &Ecdsa(Curve::P521, Hash::Sha224),
];

/// `ecdsa-with-SHA224` (1.2.840.10045.4.3.1), which rustls-pki-types does not name.
const ECDSA_SHA224: AlgorithmIdentifier =
    AlgorithmIdentifier::from_slice(&[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01]);

#[derive(Debug, Clone, Copy)]
enum Curve {
    P256,
    P384,
    P521,
}

#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha224 => Sha224::digest(message).to_vec(),
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

const P521_FIELD_BYTES: usize = 66;

/// A digest as the number ECDSA on P-521 signs, at the length of its field: a digest shorter than
/// the curve's order is taken whole (SEC 1 §4.1.3), which zeros in front keep, where the `ecdsa`
/// crate refuses digests under half the field's length.
fn p521_number(digest: &[u8]) -> [u8; P521_FIELD_BYTES] {
    let mut padded = [0u8; P521_FIELD_BYTES];
    let start = P521_FIELD_BYTES.saturating_sub(digest.len());
    padded[start..].copy_from_slice(&digest[digest.len().saturating_sub(P521_FIELD_BYTES)..]);
    padded
}

/// Whether `signature` (DER) of the `prehash` verifies with `public_key` (SEC 1), by the `ecdsa`
/// types of the curve crate `$curve`: three crates, one shape.
macro_rules! verify_with {
    ($curve:ident, $public_key:expr, $prehash:expr, $signature:expr) => {
        match (
            $curve::ecdsa::VerifyingKey::from_sec1_bytes($public_key),
            $curve::ecdsa::Signature::from_der($signature),
        ) {
            (Ok(key), Ok(signature)) => key.verify_prehash($prehash, &signature).is_ok(),
            _ => false,
        }
    };
}

/// ECDSA with a key on `Curve` over the message's `Hash`, the signature DER-encoded.
#[derive(Debug)]
struct Ecdsa(Curve, Hash);

impl SignatureVerificationAlgorithm for Ecdsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let digest = self.1.digest(message);
        let verified = match self.0 {
            Curve::P256 => verify_with!(p256, public_key, &digest, signature),
            Curve::P384 => verify_with!(p384, public_key, &digest, signature),
            Curve::P521 => verify_with!(p521, public_key, &p521_number(&digest), signature),
        };
        if verified {
            Ok(())
        } else {
            Err(InvalidSignature)
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.0 {
            Curve::P256 => alg_id::ECDSA_P256,
            Curve::P384 => alg_id::ECDSA_P384,
            Curve::P521 => alg_id::ECDSA_P521,
        }
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.1 {
            Hash::Sha224 => ECDSA_SHA224,
            Hash::Sha256 => alg_id::ECDSA_SHA256,
            Hash::Sha384 => alg_id::ECDSA_SHA384,
            Hash::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::RandomizedPrehashSigner;

    /// Asserts that `algorithm` verifies a signature of `public` (SEC 1) made by `sign`, and
    /// refuses it for another message or a damaged key.
    fn assert_verifies(
        algorithm: &dyn SignatureVerificationAlgorithm,
        public: &[u8],
        sign: impl Fn(&[u8]) -> Vec<u8>,
    ) {
        let message = b"client random, server random, params";
        let der = sign(message);
        assert!(algorithm.verify_signature(public, message, &der).is_ok());
        assert!(
            algorithm
                .verify_signature(public, b"another message", &der)
                .is_err()
        );
        assert!(
            algorithm
                .verify_signature(&public[1..], message, &der)
                .is_err()
        );
    }

    #[test]
    fn p521_verifies_what_its_key_signed_with_each_hash() {
        let signing = p521::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let public = p521::ecdsa::VerifyingKey::from(&signing).to_encoded_point(false);
        for (hash, algorithm) in [
            (Hash::Sha224, SHA224[2]),
            (Hash::Sha256, P521_SHA256),
            (Hash::Sha384, P521_SHA384),
            (Hash::Sha512, P521_SHA512),
        ] {
            assert_verifies(algorithm, public.as_bytes(), |message| {
                let signature: p521::ecdsa::Signature = signing
                    .sign_prehash_with_rng(
                        &mut rand_core::OsRng,
                        &p521_number(&hash.digest(message)),
                    )
                    .expect("sign");
                signature.to_der().as_bytes().to_vec()
            });
        }
    }

    #[test]
    fn sha224_is_verified_on_p256_and_p384() {
        let signing = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let public = p256::ecdsa::VerifyingKey::from(&signing).to_encoded_point(false);
        assert_verifies(SHA224[0], public.as_bytes(), |message| {
            let signature: p256::ecdsa::Signature = signing
                .sign_prehash_with_rng(&mut rand_core::OsRng, &Sha224::digest(message))
                .expect("sign");
            signature.to_der().as_bytes().to_vec()
        });
        let signing = p384::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let public = p384::ecdsa::VerifyingKey::from(&signing).to_encoded_point(false);
        assert_verifies(SHA224[1], public.as_bytes(), |message| {
            let signature: p384::ecdsa::Signature = signing
                .sign_prehash_with_rng(&mut rand_core::OsRng, &Sha224::digest(message))
                .expect("sign");
            signature.to_der().as_bytes().to_vec()
        });
        // A P-256 key is not taken for P-384's algorithm.
        assert!(
            SHA224[1]
                .verify_signature(public.as_bytes(), b"m", &[0x30, 0x00])
                .is_err()
        );
    }
}
