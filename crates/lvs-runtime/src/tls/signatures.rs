//! The handshake signatures both TLS clients verify: ring's (those rustls's provider has), and
//! what keepalived's OpenSSL verifies and ring's set has not: ECDSA on P-521 (RustCrypto's
//! `p521`), Ed448 (ours, [`super::curve448::ed448`]) and RSA-PSS by an RSASSA-PSS key (RFC 8446's
//! `rsa_pss_pss_*`, ring's RSA-PSS on a key that names PSS). A server whose certificate's key is
//! on P-521, is an Ed448 key or an RSASSA-PSS key is then reached by either client.

use std::sync::LazyLock;

use p521::ecdsa::signature::hazmat::PrehashVerifier;
use p521::ecdsa::{Signature, VerifyingKey};
use ring::signature;
use rustls::crypto::{CipherSuiteCommon, WebPkiSupportedAlgorithms};
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use rustls::{SignatureScheme, SupportedCipherSuite, Tls12CipherSuite};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::curve448::ed448;

/// The algorithms, and for each signature scheme those that may verify it (in TLS 1.3 the
/// first, whose curve the scheme names; in TLS 1.2 any, as there the scheme names no curve).
pub static ALGORITHMS: LazyLock<WebPkiSupportedAlgorithms> = LazyLock::new(|| {
    let ring = rustls::crypto::ring::default_provider().signature_verification_algorithms;
    let all: Vec<&'static dyn SignatureVerificationAlgorithm> = ring
        .all
        .iter()
        .copied()
        .chain([P521_SHA256, P521_SHA384, P521_SHA512, ED448])
        .chain(
            PSS_KEYS
                .iter()
                .flat_map(|(_, algorithms)| algorithms.iter().copied()),
        )
        .collect();
    let mut mapping = Vec::with_capacity(ring.mapping.len() + 2 + PSS_KEYS.len());
    for &(scheme, algorithms) in ring.mapping {
        // OpenSSL offers the RSASSA-PSS keys' schemes before those of RSA keys.
        if scheme == SignatureScheme::RSA_PSS_SHA512 {
            mapping.extend(
                PSS_KEYS
                    .iter()
                    .map(|&(code, algorithms)| (SignatureScheme::from(code), algorithms)),
            );
        }
        let p521 = match scheme {
            SignatureScheme::ECDSA_NISTP256_SHA256 => Some(P521_SHA256),
            SignatureScheme::ECDSA_NISTP384_SHA384 => Some(P521_SHA384),
            _ => None,
        };
        match p521 {
            Some(p521) => mapping.push((scheme, leak([algorithms, &[p521]].concat()))),
            None => mapping.push((scheme, algorithms)),
        }
        // OpenSSL's order: P-256, P-384, then P-521.
        if scheme == SignatureScheme::ECDSA_NISTP256_SHA256 {
            mapping.push((SignatureScheme::ECDSA_NISTP521_SHA512, &[P521_SHA512]));
        }
        // And Ed448 after Ed25519.
        if scheme == SignatureScheme::ED25519 {
            mapping.push((SignatureScheme::ED448, &[ED448]));
        }
    }
    WebPkiSupportedAlgorithms {
        all: leak(all),
        mapping: leak(mapping),
    }
});

/// rustls's suites (ring's), those of ECDSA in TLS 1.2 also carrying Ed448: there a server with an
/// Ed448 key signs its key exchange under an ECDSA suite (RFC 8422 §5.1.1), and rustls lets a
/// suite carry only the schemes it lists.
pub static CIPHER_SUITES: LazyLock<Vec<SupportedCipherSuite>> = LazyLock::new(|| {
    rustls::crypto::ring::default_provider()
        .cipher_suites
        .into_iter()
        .map(|suite| match suite {
            SupportedCipherSuite::Tls12(tls12)
                if tls12.sign.contains(&SignatureScheme::ED25519) =>
            {
                let sign = leak([tls12.sign, &[SignatureScheme::ED448]].concat());
                SupportedCipherSuite::Tls12(Box::leak(Box::new(Tls12CipherSuite {
                    common: CipherSuiteCommon {
                        suite: tls12.common.suite,
                        hash_provider: tls12.common.hash_provider,
                        confidentiality_limit: tls12.common.confidentiality_limit,
                    },
                    prf_provider: tls12.prf_provider,
                    kx: tls12.kx,
                    sign,
                    aead_alg: tls12.aead_alg,
                })))
            }
            other => other,
        })
        .collect()
});

/// Made once for the process's life.
fn leak<T>(items: Vec<T>) -> &'static [T] {
    items.leak()
}

const P521_SHA256: &dyn SignatureVerificationAlgorithm = &EcdsaP521(Hash::Sha256);
const P521_SHA384: &dyn SignatureVerificationAlgorithm = &EcdsaP521(Hash::Sha384);
const P521_SHA512: &dyn SignatureVerificationAlgorithm = &EcdsaP521(Hash::Sha512);

#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The message's digest as the number ECDSA signs, at the length of P-521's field: a digest
    /// shorter than the curve's order is taken whole (SEC 1 §4.1.3), which zeros in front keep,
    /// where the `ecdsa` crate refuses digests under half the field's length.
    fn digest(self, message: &[u8]) -> [u8; P521_FIELD_BYTES] {
        let digest = match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        };
        let mut padded = [0u8; P521_FIELD_BYTES];
        padded[P521_FIELD_BYTES - digest.len()..].copy_from_slice(&digest);
        padded
    }
}

const P521_FIELD_BYTES: usize = 66;

/// ECDSA with a P-521 key over the message's `Hash`, the signature DER-encoded.
#[derive(Debug)]
struct EcdsaP521(Hash);

impl SignatureVerificationAlgorithm for EcdsaP521 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let signature = Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify_prehash(&self.0.digest(message), &signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.0 {
            Hash::Sha256 => alg_id::ECDSA_SHA256,
            Hash::Sha384 => alg_id::ECDSA_SHA384,
            Hash::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

/// `rsa_pss_pss_sha256`, `_sha384` and `_sha512` (RFC 8446 §4.2.3; rustls names none of them),
/// each by a key that names RSASSA-PSS without restricting it, or restricted to that scheme's
/// own hash (its parameters then those of the signature, RFC 4055).
const PSS_KEYS: [(u16, &[&dyn SignatureVerificationAlgorithm]); 3] = [
    (
        0x0809,
        &[
            &PssKey(&signature::RSA_PSS_2048_8192_SHA256, RSASSA_PSS),
            &PssKey(&signature::RSA_PSS_2048_8192_SHA256, alg_id::RSA_PSS_SHA256),
        ],
    ),
    (
        0x080a,
        &[
            &PssKey(&signature::RSA_PSS_2048_8192_SHA384, RSASSA_PSS),
            &PssKey(&signature::RSA_PSS_2048_8192_SHA384, alg_id::RSA_PSS_SHA384),
        ],
    ),
    (
        0x080b,
        &[
            &PssKey(&signature::RSA_PSS_2048_8192_SHA512, RSASSA_PSS),
            &PssKey(&signature::RSA_PSS_2048_8192_SHA512, alg_id::RSA_PSS_SHA512),
        ],
    ),
];

/// The algorithms that may verify a signature of `scheme`, if it is one of ours.
pub fn candidates(
    scheme: SignatureScheme,
) -> Option<&'static [&'static dyn SignatureVerificationAlgorithm]> {
    ALGORITHMS
        .mapping
        .iter()
        .find(|(ours, _)| *ours == scheme)
        .map(|&(_, candidates)| candidates)
}

/// Verifies `signature` of `message` with the certificate's key, by whichever of `candidates` is
/// for that kind of key: `Ok(false)` when none is.
pub fn verify_by_key(
    end_entity: &webpki::EndEntityCert<'_>,
    candidates: &[&dyn SignatureVerificationAlgorithm],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, webpki::Error> {
    for algorithm in candidates {
        match end_entity.verify_signature(*algorithm, message, signature) {
            Ok(()) => return Ok(true),
            Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Whether `scheme` is one of an RSASSA-PSS key's (`rsa_pss_pss_*`).
pub fn is_pss_key_scheme(scheme: SignatureScheme) -> bool {
    PSS_KEYS
        .iter()
        .any(|&(code, _)| SignatureScheme::from(code) == scheme)
}

/// The key's algorithm `id-RSASSA-PSS` (1.2.840.113549.1.1.10) without parameters.
const RSASSA_PSS: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
]);

/// RSA-PSS with ring's parameters (the salt as long as the hash) by a key of the given algorithm;
/// the key's bits are an RSAPublicKey, as for `rsaEncryption`.
#[derive(Debug)]
struct PssKey(&'static signature::RsaParameters, AlgorithmIdentifier);

impl SignatureVerificationAlgorithm for PssKey {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        signature::UnparsedPublicKey::new(self.0, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.1
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        // Only handshake signatures are verified with it, never a certificate's.
        self.1
    }
}

const ED448: &dyn SignatureVerificationAlgorithm = &Ed448;

/// Ed448 without context, the key the certificate's 57 bytes.
#[derive(Debug)]
struct Ed448;

impl SignatureVerificationAlgorithm for Ed448 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        if ed448::verify(public_key, message, signature) {
            Ok(())
        } else {
            Err(InvalidSignature)
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED448
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED448
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p521::ecdsa::SigningKey;
    use p521::ecdsa::signature::hazmat::RandomizedPrehashSigner;

    #[test]
    fn ed448_is_offered_after_ed25519_and_signs_under_the_ecdsa_suites_of_tls_1_2() {
        let schemes = ALGORITHMS.supported_schemes();
        let at = |scheme| schemes.iter().position(|s| *s == scheme).expect("offered");
        assert_eq!(at(SignatureScheme::ED25519) + 1, at(SignatureScheme::ED448));
        let ring = rustls::crypto::ring::default_provider().cipher_suites;
        assert_eq!(CIPHER_SUITES.len(), ring.len());
        for (ours, ring) in CIPHER_SUITES.iter().zip(&ring) {
            assert_eq!(ours.suite(), ring.suite());
            let ed448 = ours.usable_for_signature_algorithm(rustls::SignatureAlgorithm::ED448);
            let ecdsa = ring.usable_for_signature_algorithm(rustls::SignatureAlgorithm::ECDSA);
            let tls13 = matches!(ours, SupportedCipherSuite::Tls13(_));
            assert_eq!(ed448, ecdsa || tls13, "{:?}", ours.suite());
        }
    }

    #[test]
    fn the_schemes_of_rsassa_pss_keys_come_before_those_of_rsa_keys() {
        let schemes = ALGORITHMS.supported_schemes();
        let at = |scheme| schemes.iter().position(|s| *s == scheme).expect("offered");
        let pss: Vec<usize> = [0x0809, 0x080a, 0x080b]
            .into_iter()
            .map(|code| at(SignatureScheme::from(code)))
            .collect();
        assert!(pss.windows(2).all(|w| w[0] + 1 == w[1]));
        assert_eq!(pss[2] + 1, at(SignatureScheme::RSA_PSS_SHA512));
        for code in [0x0809, 0x080a, 0x080b] {
            assert!(is_pss_key_scheme(SignatureScheme::from(code)));
            assert_eq!(
                candidates(SignatureScheme::from(code)).map(<[_]>::len),
                Some(2)
            );
        }
        assert!(!is_pss_key_scheme(SignatureScheme::RSA_PSS_SHA256));
    }

    #[test]
    fn p521_is_offered_after_p384_and_verifies_what_its_key_signed() {
        let schemes = ALGORITHMS.supported_schemes();
        let at = |scheme| schemes.iter().position(|s| *s == scheme).expect("offered");
        assert!(
            at(SignatureScheme::ECDSA_NISTP384_SHA384) < at(SignatureScheme::ECDSA_NISTP521_SHA512)
        );
        assert_eq!(
            at(SignatureScheme::ECDSA_NISTP256_SHA256) + 1,
            at(SignatureScheme::ECDSA_NISTP521_SHA512)
        );

        let signing = SigningKey::random(&mut rand_core::OsRng);
        let public = VerifyingKey::from(&signing).to_encoded_point(false);
        let message = b"client random, server random, params";
        for (hash, algorithm) in [
            (Hash::Sha256, P521_SHA256),
            (Hash::Sha384, P521_SHA384),
            (Hash::Sha512, P521_SHA512),
        ] {
            let signature: Signature = signing
                .sign_prehash_with_rng(&mut rand_core::OsRng, &hash.digest(message))
                .expect("sign");
            let der = signature.to_der();
            assert!(
                algorithm
                    .verify_signature(public.as_bytes(), message, der.as_bytes())
                    .is_ok(),
                "{hash:?}"
            );
            assert!(
                algorithm
                    .verify_signature(public.as_bytes(), b"another message", der.as_bytes())
                    .is_err()
            );
            assert!(
                algorithm
                    .verify_signature(&public.as_bytes()[1..], message, der.as_bytes())
                    .is_err()
            );
        }
    }
}
