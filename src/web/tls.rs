//! The auditor's listener over HTTPS: Mozilla's intermediate profile (the same acceptor as
//! the example providers, [`crate::providers::tls`]) and, with `[audit] api_client_ca`, a
//! requested (not required: a bearer token is the other way in) client certificate, whose
//! SHA-256 fingerprint is handed to [`super::auth`].

use std::sync::Arc;

use openssl::hash::MessageDigest;
use openssl::ssl::SslAcceptor;
use openssl::x509::X509VerifyResult;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use super::auth::PeerCertificate;
use crate::audit::AuditConfig;
use crate::providers::tls as provider_tls;

#[derive(Clone)]
pub struct Tls {
    acceptor: Arc<SslAcceptor>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl Tls {
    /// From `[audit]`: None without `api_tls_cert`; an error for half a configuration.
    pub fn from_config(audit: &AuditConfig) -> Result<Option<Tls>, String> {
        let (cert, key) = match (&audit.api_tls_cert, &audit.api_tls_key) {
            (Some(c), Some(k)) => (c, k),
            (None, None) if audit.api_client_ca.is_none() => {
                if audit
                    .auditors
                    .iter()
                    .any(|a| a.certificate_sha256.is_some())
                {
                    return Err("[[audit.auditors]] certificate_sha256 needs [audit] \
                                api_tls_cert, api_tls_key and api_client_ca"
                        .into());
                }
                return Ok(None);
            }
            _ => {
                return Err(
                    "[audit] api_tls_cert and api_tls_key go together (and api_client_ca \
                     needs them)"
                        .into(),
                )
            }
        };
        if audit.api_client_ca.is_none()
            && audit
                .auditors
                .iter()
                .any(|a| a.certificate_sha256.is_some())
        {
            return Err("[[audit.auditors]] certificate_sha256 needs [audit] api_client_ca".into());
        }
        let acceptor =
            provider_tls::acceptor_with(cert, key, audit.api_client_ca.as_deref(), false)
                .map_err(|e| format!("[audit] auditor's HTTPS listener: {e}"))?;
        Ok(Some(Tls {
            acceptor: Arc::new(acceptor),
        }))
    }

    /// Handshake on an accepted connection; the fingerprint of the client certificate when
    /// one was sent and verified. None when the handshake fails (logged).
    pub async fn accept(
        &self,
        stream: TcpStream,
    ) -> Option<(SslStream<TcpStream>, Option<PeerCertificate>)> {
        let tls = provider_tls::accept(&self.acceptor, stream).await?;
        let ssl = tls.ssl();
        // With SslVerifyMode::PEER a certificate that fails verification aborts the
        // handshake; checking the result again costs nothing and keeps this fail-closed.
        let peer = match ssl.peer_certificate() {
            Some(c) if ssl.verify_result() == X509VerifyResult::OK => {
                match c.digest(MessageDigest::sha256()) {
                    Ok(d) => d.as_ref().try_into().ok().map(PeerCertificate),
                    Err(e) => {
                        log::warn!("audit API: client certificate digest: {e}");
                        return None;
                    }
                }
            }
            _ => None,
        };
        Some((tls, peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Auditor;
    use std::path::PathBuf;

    fn by_certificate() -> Auditor {
        Auditor {
            name: "kiem-toan".into(),
            certificate_sha256: Some("ab".repeat(32)),
            ..Auditor::default()
        }
    }

    #[test]
    fn plain_http_unless_configured_and_no_half_configurations() {
        assert!(Tls::from_config(&AuditConfig::default()).unwrap().is_none());
        let cert_only = AuditConfig {
            api_tls_cert: Some(PathBuf::from("/x/audit.crt")),
            ..AuditConfig::default()
        };
        assert!(Tls::from_config(&cert_only).is_err());
        let ca_only = AuditConfig {
            api_client_ca: Some(PathBuf::from("/x/ca.pem")),
            ..AuditConfig::default()
        };
        assert!(Tls::from_config(&ca_only).is_err());
        // A certificate auditor could never be recognised without a verified handshake.
        let no_tls = AuditConfig {
            auditors: vec![by_certificate()],
            ..AuditConfig::default()
        };
        assert!(Tls::from_config(&no_tls)
            .unwrap_err()
            .contains("certificate_sha256"));
        let no_ca = AuditConfig {
            api_tls_cert: Some(PathBuf::from("/x/audit.crt")),
            api_tls_key: Some(PathBuf::from("/x/audit.key")),
            auditors: vec![by_certificate()],
            ..AuditConfig::default()
        };
        assert!(Tls::from_config(&no_ca)
            .unwrap_err()
            .contains("api_client_ca"));
        let missing = AuditConfig {
            api_tls_cert: Some(PathBuf::from("/nonexistent/audit.crt")),
            api_tls_key: Some(PathBuf::from("/nonexistent/audit.key")),
            ..AuditConfig::default()
        };
        assert!(Tls::from_config(&missing)
            .unwrap_err()
            .contains("/nonexistent/audit.crt"));
    }
}
