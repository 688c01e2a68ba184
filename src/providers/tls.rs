//! HTTPS for the example providers (`lienthong provider --tls-cert --tls-key`), so that the
//! gateway's TLS client to provider agencies is exercised against a real TLS server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use openssl::ssl::{Ssl, SslAcceptor, SslFiletype, SslMethod, SslVerifyMode};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

/// A client that connects and never finishes its handshake is dropped after this.
const HANDSHAKE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0}: {1}")]
    File(PathBuf, openssl::error::ErrorStack),
    #[error("TLS server: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

/// Mozilla's "intermediate" server profile (v5: TLS 1.2 and 1.3), with the certificate
/// chain and private key read from PEM files. With `client_ca`, mutual TLS: a client must
/// present a certificate issued by one of those CAs, as many agencies require of the LGSP.
pub fn acceptor(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<SslAcceptor, TlsError> {
    acceptor_with(cert, key, client_ca, true)
}

/// As [`acceptor`]; with `client_ca` and `!require_client_cert`, a client certificate is
/// asked for and, when sent, must verify, but a client may also connect without one (the
/// auditor's listener, where a bearer token is the other way in).
pub fn acceptor_with(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    require_client_cert: bool,
) -> Result<SslAcceptor, TlsError> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    if let Some(ca) = client_ca {
        b.set_ca_file(ca)
            .map_err(|e| TlsError::File(ca.to_path_buf(), e))?;
        // Send the CA names in CertificateRequest so clients pick the right certificate.
        let names = openssl::x509::X509Name::load_client_ca_file(ca)
            .map_err(|e| TlsError::File(ca.to_path_buf(), e))?;
        b.set_client_ca_list(names);
        if require_client_cert {
            b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        } else {
            b.set_verify(SslVerifyMode::PEER);
        }
    }
    b.set_certificate_chain_file(cert)
        .map_err(|e| TlsError::File(cert.to_path_buf(), e))?;
    b.set_private_key_file(key, SslFiletype::PEM)
        .map_err(|e| TlsError::File(key.to_path_buf(), e))?;
    b.check_private_key()
        .map_err(|e| TlsError::File(key.to_path_buf(), e))?;
    Ok(b.build())
}

/// The server side of the handshake on an accepted connection; `None` (logged) when the
/// client fails or stalls it.
pub async fn accept(acceptor: &SslAcceptor, stream: TcpStream) -> Option<SslStream<TcpStream>> {
    let ssl = match Ssl::new(acceptor.context()) {
        Ok(ssl) => ssl,
        Err(e) => {
            log::warn!("TLS session: {e}");
            return None;
        }
    };
    let mut tls = match SslStream::new(ssl, stream) {
        Ok(s) => s,
        Err(e) => {
            log::warn!("TLS session: {e}");
            return None;
        }
    };
    match tokio::time::timeout(HANDSHAKE, std::pin::Pin::new(&mut tls).accept()).await {
        Ok(Ok(())) => Some(tls),
        Ok(Err(e)) => {
            log::debug!("TLS handshake failed: {e}");
            None
        }
        Err(_) => {
            log::debug!("TLS handshake timed out");
            None
        }
    }
}
