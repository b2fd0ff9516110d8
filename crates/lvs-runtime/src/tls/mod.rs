//! The TLS client of `SSL_GET`, set up as keepalived 2.2.7's `build_ssl_ctx` sets up its one
//! OpenSSL context: the server's certificate is not verified (keepalived never asks OpenSSL to,
//! with or without `ca`), the `SSL` block's `certificate` and `key` are offered when a server
//! asks for a client certificate (its key decrypted with `password` when it is encrypted), and no
//! session is resumed (each check is a full handshake).
//! The handshake's own signatures are still checked, so the peer must hold the key of the
//! certificate it shows.

mod curve448;
mod key_file;
mod kx;
pub mod legacy;
mod session;
mod signatures;

pub use session::{ClientChoice, TlsClient, TlsError, TlsSession};

use std::path::Path;
use std::sync::Arc;

use keepalived_config::model::lvs::SslContext;
use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// Why the `SSL` block cannot be used (keepalived stops its checker process then).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("SSL error : Cant load certificate file {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("SSL error : Cant load key file {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("SSL error : Cant load CA file {path}: {reason}")]
    Ca { path: String, reason: String },
    #[error("SSL error : the certificate and key cannot be used together: {0}")]
    Pair(rustls::Error),
    #[error("SSL error : cannot create new SSL context: {0}")]
    Context(rustls::Error),
}

/// The client configuration every `SSL_GET` shares.
pub fn client_config(ssl: Option<&SslContext>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    // ring's, with what keepalived's OpenSSL has besides (x448, P-521, finite-field groups, Ed448).
    let provider = Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: signatures::CIPHER_SUITES.clone(),
        kx_groups: kx::GROUPS.to_vec(),
        signature_verification_algorithms: *signatures::ALGORITHMS,
        ..rustls::crypto::ring::default_provider()
    });
    let verifier = Arc::new(AnyServerCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(TlsSetupError::Context)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let ssl = ssl.cloned().unwrap_or_default();
    if let Some(ca) = &ssl.ca {
        // Read as keepalived reads it (a file without a certificate is an error), then unused:
        // keepalived loads it into a store it never verifies against.
        let count = CertificateDer::pem_file_iter(ca)
            .map_err(|e| ca_error(ca, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca_error(ca, &e))?
            .len();
        if count == 0 {
            return Err(TlsSetupError::Ca {
                path: ca.clone(),
                reason: "no certificate in it".into(),
            });
        }
    }
    let chain = match &ssl.certificate {
        Some(path) => Some(certificates(path)?),
        None => None,
    };
    let key = match &ssl.key {
        Some(path) => Some(private_key(path, ssl.password.as_deref())?),
        None => None,
    };
    let mut config = match (chain, key) {
        (Some(chain), Some(key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(TlsSetupError::Pair)?,
        // Half a pair: OpenSSL loads it, and has no usable client certificate either.
        _ => builder.with_no_client_auth(),
    };
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

fn ca_error(path: &str, e: &rustls::pki_types::pem::Error) -> TlsSetupError {
    TlsSetupError::Ca {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// The certificate chain of a PEM file (keepalived's `SSL_CTX_use_certificate_chain_file`).
fn certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let error = |reason: String| TlsSetupError::Certificate {
        path: path.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(Path::new(path))
        .map_err(|e| error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if chain.is_empty() {
        return Err(error("no certificate in it".into()));
    }
    Ok(chain)
}

/// The private key of a PEM file, decrypted with the `SSL` block's `password` when it is encrypted
/// ([`key_file`]).
fn private_key(
    path: &str,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let error = |reason: String| TlsSetupError::Key {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    key_file::private_key(&text, password).map_err(error)
}

/// Accepts whatever certificate the server shows, as keepalived's `SSL_VERIFY_NONE` context
/// does; the handshake signatures are verified with the provider's algorithms.
#[derive(Debug)]
struct AnyServerCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // rustls verifies a TLS 1.3 signature with the scheme's first algorithm only (the scheme
        // names the curve); an RSASSA-PSS key's scheme names the hash, not the key's parameters,
        // so any of its algorithms may, as in TLS 1.2.
        if signatures::is_pss_key_scheme(dss.scheme)
            && let Some(candidates) = signatures::candidates(dss.scheme)
        {
            let end_entity = webpki::EndEntityCert::try_from(cert).map_err(|e| {
                rustls::Error::General(format!("the certificate cannot be read: {e}"))
            })?;
            return match signatures::verify_by_key(
                &end_entity,
                candidates,
                message,
                dss.signature(),
            ) {
                Ok(true) => Ok(HandshakeSignatureValid::assertion()),
                Ok(false) => Err(rustls::Error::General(format!(
                    "{:?} by a key that is not RSASSA-PSS",
                    dss.scheme
                ))),
                Err(_) => Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::BadSignature,
                )),
            };
        }
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
