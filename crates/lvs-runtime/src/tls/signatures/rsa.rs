//! RSA that ring's set for rustls does not verify and keepalived's OpenSSL does: RSA-PSS by a key
//! whose algorithm is RSASSA-PSS (RFC 8446's `rsa_pss_pss_*`, on ring's RSA-PSS), and PKCS #1 v1.5
//! with SHA-224 (TLS 1.2's `rsa_pkcs1_sha224`, on RustCrypto's `rsa`).

use ring::signature;
use rsa::pkcs1::DecodeRsaPublicKey;
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use sha2::{Digest, Sha224};

/// `rsa_pss_pss_sha256`, `_sha384` and `_sha512` (RFC 8446 §4.2.3; rustls names none of them),
/// each by a key that names RSASSA-PSS without restricting it, or restricted to that scheme's
/// own hash (its parameters then those of the signature, RFC 4055).
pub const PSS_KEYS: [(u16, &[&dyn SignatureVerificationAlgorithm]); 3] = [
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

/// `rsa_pkcs1_sha224` (0x0301).
pub const PKCS1_SHA224: &dyn SignatureVerificationAlgorithm = &Pkcs1Sha224;

/// The key's algorithm `id-RSASSA-PSS` (1.2.840.113549.1.1.10) without parameters.
const RSASSA_PSS: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
]);

/// `sha224WithRSAEncryption` (1.2.840.113549.1.1.14), which rustls-pki-types does not name.
const SHA224_WITH_RSA: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e, 0x05, 0x00,
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

/// RSA keys of these sizes, as ring's PKCS #1 algorithms take them (OpenSSL's security level 2
/// wants 2048 bits or more).
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// PKCS #1 v1.5 signatures over SHA-224 by an `rsaEncryption` key.
#[derive(Debug)]
struct Pkcs1Sha224;

impl SignatureVerificationAlgorithm for Pkcs1Sha224 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = rsa::RsaPublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
        if !RSA_BITS.contains(&rsa::traits::PublicKeyParts::size(&key).saturating_mul(8)) {
            return Err(InvalidSignature);
        }
        key.verify(
            rsa::Pkcs1v15Sign::new::<Sha224>(),
            &Sha224::digest(message),
            signature,
        )
        .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        SHA224_WITH_RSA
    }
}
