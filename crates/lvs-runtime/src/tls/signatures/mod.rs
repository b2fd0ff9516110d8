//! The handshake signatures both TLS clients verify: ring's (those rustls's provider has), and
//! what keepalived's OpenSSL verifies and ring's set has not: ECDSA on P-521 and with SHA-224
//! ([`ecdsa`]), Ed448 (ours, [`super::curve448::ed448`]), RSA-PSS by an RSASSA-PSS key and RSA
//! with SHA-224 ([`rsa`]), each offered where OpenSSL 3.0 offers it. A server whose certificate's
//! key is on P-521, is an Ed448 key or an RSASSA-PSS key, or that signs only with SHA-224, is then
//! reached by either client.

mod ecdsa;
mod rsa;

use std::sync::LazyLock;

use rustls::crypto::{CipherSuiteCommon, WebPkiSupportedAlgorithms};
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use rustls::{SignatureScheme, SupportedCipherSuite, Tls12CipherSuite};

use super::curve448::ed448;
use ecdsa::{P521_SHA256, P521_SHA384, P521_SHA512};
use rsa::{PKCS1_SHA224, PSS_KEYS};

/// `ecdsa_sha224` and `rsa_pkcs1_sha224`, which OpenSSL 3.0 offers last (TLS 1.2 only).
const ECDSA_SHA224: u16 = 0x0303;
const RSA_PKCS1_SHA224: u16 = 0x0301;

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
        .chain(ecdsa::SHA224)
        .chain([PKCS1_SHA224])
        .collect();
    let mut mapping = Vec::with_capacity(ring.mapping.len() + 4 + PSS_KEYS.len());
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
    mapping.push((SignatureScheme::from(ECDSA_SHA224), &ecdsa::SHA224));
    mapping.push((SignatureScheme::from(RSA_PKCS1_SHA224), &[PKCS1_SHA224]));
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
    fn p521_comes_after_p256_and_sha224_last() {
        let schemes = ALGORITHMS.supported_schemes();
        let at = |scheme| schemes.iter().position(|s| *s == scheme).expect("offered");
        assert!(
            at(SignatureScheme::ECDSA_NISTP384_SHA384) < at(SignatureScheme::ECDSA_NISTP521_SHA512)
        );
        assert_eq!(
            at(SignatureScheme::ECDSA_NISTP256_SHA256) + 1,
            at(SignatureScheme::ECDSA_NISTP521_SHA512)
        );
        let last: Vec<u16> = schemes[schemes.len() - 2..]
            .iter()
            .map(|&s| u16::from(s))
            .collect();
        assert_eq!(last, [ECDSA_SHA224, RSA_PKCS1_SHA224]);
        assert_eq!(
            candidates(SignatureScheme::from(ECDSA_SHA224)).map(<[_]>::len),
            Some(3)
        );
    }
}
