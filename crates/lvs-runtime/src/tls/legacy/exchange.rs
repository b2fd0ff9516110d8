//! The key exchanges: RSA (the premaster secret encrypted to the key of the server's
//! certificate) and the ephemeral ones, ECDHE (RFC 8422) and DHE (RFC 5246), whose
//! ServerKeyExchange is read here, its signature verified with the certificate's key, our share
//! made and the premaster secret computed. The limits are OpenSSL 3's at Debian's security level
//! 2, so that a server keepalived refuses is refused here too: RSA and DH of 2048 bits or more,
//! no SHA-1 signatures, and so no ephemeral key exchange below TLS 1.2 (signed with MD5 and
//! SHA-1 there).

use rsa::{BigUint, Pkcs1v15Encrypt, RsaPublicKey};
use rustls::SignatureScheme;
use rustls::pki_types::CertificateDer;
use x509_cert::der::Decode;

use super::LegacyError;
use super::messages::Reader;
use super::record::random_bytes;
use super::suites::{KeyExchange, TLS1_2};
use crate::tls::kx;
use crate::tls::signatures::{self, ALGORITHMS};

/// The fewest bits of an RSA key or a DH group taken (OpenSSL's security level 2).
const MIN_BITS: usize = 2048;
/// The most bits of an RSA key taken (more is only work for nothing).
const MAX_RSA_BITS: usize = 16384;
/// The most bits of a DH group taken (OpenSSL's `OPENSSL_DH_MAX_MODULUS_BITS`): a server's
/// group is the client's work at every check.
const MAX_DH_BITS: usize = 10000;

/// The groups offered, as RFC 8422 and RFC 7919 number them: `tls::kx`'s, in OpenSSL 3's order
/// (a server that knows the finite-field ones may pick one for DHE; its ServerKeyExchange carries
/// the group all the same).
pub fn groups() -> impl Iterator<Item = u16> {
    kx::GROUPS.iter().map(|group| u16::from(group.name()))
}

/// The signature schemes offered: those rustls verifies but SHA-1's, which OpenSSL 3 refuses.
pub fn signature_schemes() -> Vec<u16> {
    ALGORITHMS
        .supported_schemes()
        .into_iter()
        .map(u16::from)
        .filter(|&scheme| scheme & 0xff00 != 0x0200)
        .collect()
}

/// What the client sends and keeps of a key exchange.
pub struct Agreed {
    pub premaster: Vec<u8>,
    /// The ClientKeyExchange's body.
    pub client_key_exchange: Vec<u8>,
}

/// The randoms the server's signature covers.
pub struct Randoms<'a> {
    pub client: &'a [u8; 32],
    pub server: &'a [u8; 32],
}

/// An RSA key exchange: a fresh premaster secret (starting with the version the ClientHello
/// offered, RFC 5246 §7.4.7.1) encrypted to the certificate's key.
pub fn rsa(certificate: &[u8]) -> Result<Agreed, LegacyError> {
    let key = rsa_key(certificate)?;
    let mut premaster = TLS1_2.to_be_bytes().to_vec();
    premaster.extend_from_slice(&random_bytes(46)?);
    let encrypted = key
        .encrypt(&mut rand_core::OsRng, Pkcs1v15Encrypt, &premaster)
        .map_err(|e| LegacyError::Certificate(format!("cannot encrypt to its key: {e}")))?;
    Ok(Agreed {
        premaster,
        client_key_exchange: with_u16_length(&encrypted),
    })
}

/// An ephemeral key exchange from the server's ServerKeyExchange `body`.
pub fn ephemeral(
    kind: KeyExchange,
    version: u16,
    body: &[u8],
    randoms: Randoms,
    certificate: &[u8],
) -> Result<Agreed, LegacyError> {
    if version < TLS1_2 {
        return Err(LegacyError::InsufficientSecurity(
            "an ephemeral key exchange below TLS 1.2 (signed with MD5 and SHA-1)".into(),
        ));
    }
    let mut reader = Reader::new(body, "ServerKeyExchange");
    enum Share<'a> {
        Ec {
            group: u16,
            point: &'a [u8],
        },
        Dh {
            p: &'a [u8],
            g: &'a [u8],
            y: &'a [u8],
        },
    }
    let share = match kind {
        KeyExchange::EcdheRsa | KeyExchange::EcdheEcdsa => {
            if reader.u8()? != 3 {
                return Err(LegacyError::Decode("ServerKeyExchange (not a named curve)"));
            }
            let group = reader.u16()?;
            Share::Ec {
                group,
                point: reader.vec8()?,
            }
        }
        KeyExchange::DheRsa => Share::Dh {
            p: reader.vec16()?,
            g: reader.vec16()?,
            y: reader.vec16()?,
        },
        KeyExchange::Rsa => return Err(LegacyError::Unexpected("ServerKeyExchange")),
    };
    let params = &body[..body.len() - reader.remaining()];
    let scheme = reader.u16()?;
    let signature = reader.vec16()?;
    reader.finish()?;
    let signed = [randoms.client.as_slice(), randoms.server, params].concat();
    verify(certificate, scheme, &signed, signature)?;
    match share {
        Share::Ec { group, point } => ecdhe(group, point),
        Share::Dh { p, g, y } => dhe(p, g, y),
    }
}

/// Verifies the server's signature with the key of its certificate.
fn verify(
    certificate: &[u8],
    scheme: u16,
    message: &[u8],
    signature: &[u8],
) -> Result<(), LegacyError> {
    let named = SignatureScheme::from(scheme);
    let candidates = signatures::candidates(named)
        .filter(|_| signature_schemes().contains(&scheme))
        .ok_or_else(|| LegacyError::Signature(format!("{named:?} was not offered")))?;
    let der = CertificateDer::from(certificate);
    let end_entity = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| LegacyError::Certificate(format!("cannot be read: {e}")))?;
    match signatures::verify_by_key(&end_entity, candidates, message, signature) {
        Ok(true) => Ok(()),
        Ok(false) => Err(LegacyError::Signature(format!(
            "{named:?} does not fit the certificate's key"
        ))),
        Err(e) => Err(LegacyError::Signature(format!("{named:?}: {e}"))),
    }
}

fn ecdhe(group: u16, server_point: &[u8]) -> Result<Agreed, LegacyError> {
    let exchange = kx::GROUPS
        .iter()
        .find(|offered| u16::from(offered.name()) == group && offered.ffdhe_group().is_none())
        .ok_or(LegacyError::Group(group))?
        .start()
        .map_err(|_| LegacyError::Internal("cannot make an ECDH key"))?;
    let point = exchange.pub_key();
    let mut client_key_exchange = vec![point.len() as u8];
    client_key_exchange.extend_from_slice(point);
    let shared = exchange
        .complete(server_point)
        .map_err(|_| LegacyError::Decode("the server's ECDH share"))?;
    Ok(Agreed {
        premaster: shared.secret_bytes().to_vec(),
        client_key_exchange,
    })
}

fn dhe(p: &[u8], g: &[u8], server_share: &[u8]) -> Result<Agreed, LegacyError> {
    let p = BigUint::from_bytes_be(p);
    let bits = p.bits();
    if bits < MIN_BITS {
        return Err(LegacyError::InsufficientSecurity(format!(
            "a DH group of {bits} bits"
        )));
    }
    if bits > MAX_DH_BITS {
        return Err(LegacyError::Decode(
            "ServerKeyExchange (DH group too large)",
        ));
    }
    let g = BigUint::from_bytes_be(g);
    if g <= BigUint::from(1u32) || g >= &p - 1u32 {
        return Err(LegacyError::Decode("the server's DH group"));
    }
    let secret =
        kx::exponent().map_err(|_| LegacyError::Internal("no random bytes from the system"))?;
    let shared = kx::finite_field_secret(&p, &secret, server_share)
        .ok_or(LegacyError::Decode("the server's DH share"))?;
    Ok(Agreed {
        // Without its leading zero bytes (RFC 5246 §8.1.2).
        premaster: shared.to_bytes_be(),
        client_key_exchange: with_u16_length(&g.modpow(&secret, &p).to_bytes_be()),
    })
}

fn with_u16_length(data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(data);
    out
}

/// The RSA public key of a DER certificate.
fn rsa_key(certificate: &[u8]) -> Result<RsaPublicKey, LegacyError> {
    const RSA_ENCRYPTION: x509_cert::der::oid::ObjectIdentifier =
        x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let certificate = x509_cert::Certificate::from_der(certificate)
        .map_err(|e| LegacyError::Certificate(format!("cannot be read: {e}")))?;
    let info = &certificate.tbs_certificate.subject_public_key_info;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return Err(LegacyError::Certificate(format!(
            "its key is not RSA ({})",
            info.algorithm.oid
        )));
    }
    let key = rsa::pkcs1::RsaPublicKey::from_der(info.subject_public_key.raw_bytes())
        .map_err(|e| LegacyError::Certificate(format!("its RSA key cannot be read: {e}")))?;
    let modulus = BigUint::from_bytes_be(key.modulus.as_bytes());
    if modulus.bits() < MIN_BITS {
        return Err(LegacyError::InsufficientSecurity(format!(
            "an RSA key of {} bits",
            modulus.bits()
        )));
    }
    RsaPublicKey::new_with_max_size(
        modulus,
        BigUint::from_bytes_be(key.public_exponent.as_bytes()),
        MAX_RSA_BITS,
    )
    .map_err(|e| LegacyError::Certificate(format!("its RSA key cannot be used: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_scheme_offered_is_one_rustls_verifies_and_none_is_sha1() {
        let schemes = signature_schemes();
        assert!(schemes.contains(&0x0401) && schemes.contains(&0x0403));
        assert!(!schemes.contains(&0x0201) && !schemes.contains(&0x0203));
    }

    #[test]
    fn a_small_or_degenerate_dh_group_or_share_is_refused() {
        let small = [0xffu8; 128];
        assert!(matches!(
            dhe(&small, &[2], &[5]),
            Err(LegacyError::InsufficientSecurity(_))
        ));
        let p = [0xffu8; 256];
        for (g, y) in [
            ([1u8].as_slice(), [5u8].as_slice()),
            (&[2], &[1]),
            (&[2], &p),
        ] {
            assert!(matches!(dhe(&p, g, y), Err(LegacyError::Decode(_))));
        }
        let agreed = dhe(&p, &[2], &[5]).expect("a share in range");
        assert!(!agreed.premaster.is_empty());
    }

    #[test]
    fn an_unknown_curve_or_a_bad_point_is_refused() {
        // A finite-field group is no curve.
        for group in [0x001a, 0x0100] {
            assert!(matches!(
                ecdhe(group, &[4; 65]),
                Err(LegacyError::Group(unknown)) if unknown == group
            ));
        }
        for group in [0x001d, 0x0017, 0x001e, 0x0019, 0x0018] {
            for point in [[4u8; 10].as_slice(), &[4; 133], &[0; 56], &[]] {
                assert!(
                    matches!(ecdhe(group, point), Err(LegacyError::Decode(_))),
                    "{group:#x} {}",
                    point.len()
                );
            }
        }
    }
}
