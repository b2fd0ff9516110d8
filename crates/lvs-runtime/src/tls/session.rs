//! One `SSL_GET` connection's TLS client: rustls, or for the servers rustls cannot reach (no
//! TLS 1.2 or newer; in TLS 1.2 only RSA or DH key exchange, or only CBC ciphers) the
//! [legacy](super::legacy) client. keepalived's
//! OpenSSL offers both in one ClientHello; here a server that turns rustls's offer down with an
//! alert (or answers it with an older version) is asked again on a new connection with the
//! legacy client's offer, and the other way round, once per attempt. Which one reached a server
//! last is remembered ([`ClientChoice`]), so a server pays for the second connection only when it
//! changes.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, ClientConfig, ClientConnection, PeerIncompatible, PeerMisbehaved};

use super::legacy::{LegacyClient, LegacyError};

/// Which client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsClient {
    /// rustls: TLS 1.2 with ECDHE and TLS 1.3.
    Modern,
    /// TLS 1.0–1.2 with the rest of OpenSSL's default suites ([`super::legacy`]).
    Legacy,
}

impl TlsClient {
    pub fn other(self) -> Self {
        match self {
            TlsClient::Modern => TlsClient::Legacy,
            TlsClient::Legacy => TlsClient::Modern,
        }
    }
}

/// The client that last reached a server (rustls until the legacy one did).
#[derive(Debug, Default)]
pub struct ClientChoice {
    legacy: AtomicBool,
}

impl ClientChoice {
    pub fn get(&self) -> TlsClient {
        if self.legacy.load(Ordering::Relaxed) {
            TlsClient::Legacy
        } else {
            TlsClient::Modern
        }
    }

    pub fn set(&self, client: TlsClient) {
        self.legacy
            .store(client == TlsClient::Legacy, Ordering::Relaxed);
    }
}

/// Why a session failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Modern(#[from] rustls::Error),
    #[error(transparent)]
    Legacy(#[from] LegacyError),
}

impl TlsError {
    /// The server turned the offer down as one it cannot take, or chose from it what rustls
    /// cannot take: the other client may reach it.
    pub fn offer_refused(&self) -> bool {
        match self {
            TlsError::Modern(rustls::Error::PeerIncompatible(
                PeerIncompatible::ServerDoesNotSupportTls12Or13,
            )) => true,
            // A TLS 1.2 key exchange signed with a scheme rustls offers for TLS 1.3 only (RSA-PSS
            // by an RSASSA-PSS key): the legacy client verifies it.
            TlsError::Modern(rustls::Error::PeerMisbehaved(
                PeerMisbehaved::SignedKxWithWrongAlgorithm,
            )) => true,
            TlsError::Modern(rustls::Error::AlertReceived(alert)) => matches!(
                alert,
                AlertDescription::HandshakeFailure
                    | AlertDescription::ProtocolVersion
                    | AlertDescription::InsufficientSecurity
            ),
            TlsError::Modern(_) => false,
            TlsError::Legacy(e) => e.offer_refused(),
        }
    }
}

/// A TLS client on one connection.
pub enum TlsSession {
    Modern(Box<ClientConnection>),
    Legacy(Box<LegacyClient>),
}

impl TlsSession {
    /// A session of `client` for `name` (an SNI name when it is a DNS name).
    pub fn start(
        client: TlsClient,
        config: &Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Self, TlsError> {
        Ok(match client {
            TlsClient::Modern => {
                TlsSession::Modern(Box::new(ClientConnection::new(Arc::clone(config), name)?))
            }
            TlsClient::Legacy => {
                let sni = match &name {
                    ServerName::DnsName(dns) => Some(dns.as_ref()),
                    _ => None,
                };
                let certificate = Arc::clone(&config.client_auth_cert_resolver);
                TlsSession::Legacy(Box::new(LegacyClient::new(sni, certificate)?))
            }
        })
    }

    pub fn client(&self) -> TlsClient {
        match self {
            TlsSession::Modern(_) => TlsClient::Modern,
            TlsSession::Legacy(_) => TlsClient::Legacy,
        }
    }

    pub fn is_handshaking(&self) -> bool {
        match self {
            TlsSession::Modern(session) => session.is_handshaking(),
            TlsSession::Legacy(session) => session.is_handshaking(),
        }
    }

    pub fn wants_write(&self) -> bool {
        match self {
            TlsSession::Modern(session) => session.wants_write(),
            TlsSession::Legacy(session) => session.wants_write(),
        }
    }

    pub fn write_tls(&mut self, socket: &mut dyn Write) -> std::io::Result<usize> {
        match self {
            TlsSession::Modern(session) => session.write_tls(socket),
            TlsSession::Legacy(session) => session.write_tls(socket),
        }
    }

    pub fn read_tls(&mut self, socket: &mut dyn Read) -> std::io::Result<usize> {
        match self {
            TlsSession::Modern(session) => session.read_tls(socket),
            TlsSession::Legacy(session) => session.read_tls(socket),
        }
    }

    pub fn process_new_packets(&mut self) -> Result<(), TlsError> {
        match self {
            TlsSession::Modern(session) => session.process_new_packets().map(|_| ())?,
            TlsSession::Legacy(session) => session.process_new_packets()?,
        }
        Ok(())
    }

    /// Queues application data for the server (rustls keeps it until the handshake is done).
    pub fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            TlsSession::Modern(session) => session.writer().write_all(data),
            TlsSession::Legacy(session) => session.send(data),
        }
    }

    /// The server's application data: `WouldBlock` when none is there yet, 0 after its
    /// close_notify, `UnexpectedEof` when the connection closed without one.
    pub fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        match self {
            TlsSession::Modern(session) => session.reader().read(buffer),
            TlsSession::Legacy(session) => session.read(buffer),
        }
    }
}
