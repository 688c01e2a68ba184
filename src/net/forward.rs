//! The forward stage: the (verified, authorised, validated, mapped, re-signed) request to
//! the provider agency over a pooled hyper client, TLS through OpenSSL, with the service's
//! timeout; the provider's answer comes back as bytes for the answer stages.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_openssl::client::legacy::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVersion};
use openssl::x509::X509;

use crate::model::SoapVersion;

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("the provider could not be reached")]
    Unreachable(String),
    #[error("the provider did not answer in time")]
    Timeout,
    #[error("the provider's answer exceeds {0} bytes")]
    TooLarge(usize),
    #[error("the provider's answer is not a SOAP message")]
    BadAnswer(String),
}

impl ForwardError {
    /// Internals for the log and audit record (the fault string stays generic).
    pub fn detail(&self) -> String {
        match self {
            ForwardError::Unreachable(d) | ForwardError::BadAnswer(d) => format!("{self}: {d}"),
            _ => self.to_string(),
        }
    }
}

/// What the gateway trusts and presents on `https://` provider endpoints
/// (`[gateway] provider_ca`, `provider_client_cert`, `provider_client_key`).
#[derive(Debug, Clone, Default)]
pub struct ProviderTls {
    /// Extra trust anchors, on top of OpenSSL's default store.
    pub ca: Vec<PathBuf>,
    /// Client certificate chain and key for mutual TLS.
    pub client: Option<(PathBuf, PathBuf)>,
}

impl ProviderTls {
    pub fn from_config(gateway: &crate::config::GatewaySection) -> Self {
        Self {
            ca: gateway.provider_ca.clone(),
            client: gateway
                .provider_client_cert
                .clone()
                .zip(gateway.provider_client_key.clone()),
        }
    }
}

/// The TLS client could not be set up from the configured files.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: no PEM certificate in it")]
    NoCertificate(PathBuf),
    #[error("{0}: {1}")]
    Pem(PathBuf, openssl::error::ErrorStack),
    #[error("TLS client: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

/// The provider's HTTP answer.
#[derive(Debug)]
pub struct ProviderAnswer {
    pub status: StatusCode,
    pub body: Bytes,
}

pub struct Forwarder {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    max_answer_bytes: usize,
}

impl Forwarder {
    pub fn new(max_answer_bytes: usize, provider_tls: &ProviderTls) -> Result<Self, TlsSetupError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        // `SslConnector::builder` loads OpenSSL's default trust store and requires a valid
        // peer chain; hyper-openssl checks the host name (or IP SAN, RFC 6125 / RFC 5280
        // 4.2.1.6) against the endpoint URL for every connection. Both stay on.
        let mut tls = SslConnector::builder(SslMethod::tls_client())?;
        // Nothing below TLS 1.2 (RFC 8996 deprecates 1.0 and 1.1).
        tls.set_min_proto_version(Some(SslVersion::TLS1_2))?;
        for path in &provider_tls.ca {
            for cert in read_certificates(path)? {
                tls.cert_store_mut()
                    .add_cert(cert)
                    .map_err(|e| TlsSetupError::Pem(path.clone(), e))?;
            }
        }
        if let Some((cert, key)) = &provider_tls.client {
            readable(cert)?;
            readable(key)?;
            tls.set_certificate_chain_file(cert)
                .map_err(|e| TlsSetupError::Pem(cert.clone(), e))?;
            tls.set_private_key_file(key, SslFiletype::PEM)
                .map_err(|e| TlsSetupError::Pem(key.clone(), e))?;
            tls.check_private_key()
                .map_err(|e| TlsSetupError::Pem(key.clone(), e))?;
        }
        let https = HttpsConnector::with_connector(http, tls)?;
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build(https);
        Ok(Self {
            client,
            max_answer_bytes,
        })
    }

    pub async fn send(
        &self,
        endpoint: &str,
        version: SoapVersion,
        action: Option<&str>,
        envelope: Vec<u8>,
        timeout: Duration,
    ) -> Result<ProviderAnswer, ForwardError> {
        let mut builder = Request::builder().method(Method::POST).uri(endpoint);
        match version {
            SoapVersion::V11 => {
                builder = builder
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/xml; charset=utf-8"),
                    )
                    .header("SOAPAction", format!("\"{}\"", action.unwrap_or("")));
            }
            SoapVersion::V12 => {
                let ct = match action {
                    Some(a) => format!("application/soap+xml; charset=utf-8; action=\"{a}\""),
                    None => "application/soap+xml; charset=utf-8".to_string(),
                };
                builder = builder.header(CONTENT_TYPE, ct);
            }
        }
        let req = builder
            .body(Full::new(Bytes::from(envelope)))
            .map_err(|e| ForwardError::Unreachable(e.to_string()))?;
        let limit = self.max_answer_bytes;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| ForwardError::Unreachable(error_chain(&e)))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), limit)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        ForwardError::TooLarge(limit)
                    } else {
                        ForwardError::Unreachable(e.to_string())
                    }
                })?
                .to_bytes();
            Ok(ProviderAnswer { status, body })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| ForwardError::Timeout)?
    }
}

/// Every certificate in a PEM file.
fn read_certificates(path: &Path) -> Result<Vec<X509>, TlsSetupError> {
    let pem = std::fs::read(path).map_err(|e| TlsSetupError::Read(path.to_path_buf(), e))?;
    let certs =
        X509::stack_from_pem(&pem).map_err(|e| TlsSetupError::Pem(path.to_path_buf(), e))?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// An unreadable file named as such, rather than as an OpenSSL error stack.
fn readable(path: &Path) -> Result<(), TlsSetupError> {
    std::fs::File::open(path)
        .map(drop)
        .map_err(|e| TlsSetupError::Read(path.to_path_buf(), e))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::x509::X509NameBuilder;

    fn key() -> PKey<Private> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    }

    fn self_signed(cn: &str, key: &PKey<Private>) -> X509 {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    /// `name.pem` (certificate) and `name.key` in `dir`.
    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let k = key();
        let cert = dir.join(format!("{name}.pem"));
        let keyf = dir.join(format!("{name}.key"));
        std::fs::write(&cert, self_signed(name, &k).to_pem().unwrap()).unwrap();
        std::fs::write(&keyf, k.private_key_to_pem_pkcs8().unwrap()).unwrap();
        (cert, keyf)
    }

    #[test]
    fn default_trust_needs_no_files() {
        Forwarder::new(1024, &ProviderTls::default()).unwrap();
    }

    #[test]
    fn extra_ca_files_and_a_client_certificate_are_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let (ca1, _) = write_pair(dir.path(), "ca1");
        let (ca2, _) = write_pair(dir.path(), "ca2");
        // Two anchors in one file, one in another.
        let both = dir.path().join("both.pem");
        let mut pem = std::fs::read(&ca1).unwrap();
        pem.extend(std::fs::read(&ca2).unwrap());
        std::fs::write(&both, pem).unwrap();
        let client = write_pair(dir.path(), "gateway-client");
        let tls = ProviderTls {
            ca: vec![both, ca1],
            client: Some(client),
        };
        Forwarder::new(1024, &tls).unwrap();
    }

    #[test]
    fn bad_trust_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let tls = ProviderTls {
            ca: vec![missing.clone()],
            client: None,
        };
        let err = Forwarder::new(1024, &tls).err().unwrap();
        assert!(
            matches!(&err, TlsSetupError::Read(p, _) if p == &missing),
            "{err}"
        );

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let tls = ProviderTls {
            ca: vec![junk.clone()],
            client: None,
        };
        let err = Forwarder::new(1024, &tls).err().unwrap();
        assert!(
            err.to_string().starts_with(&junk.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_client_key_that_does_not_match_its_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = write_pair(dir.path(), "a");
        let (_, other_key) = write_pair(dir.path(), "b");
        let tls = ProviderTls {
            ca: Vec::new(),
            client: Some((cert, other_key.clone())),
        };
        let err = Forwarder::new(1024, &tls).err().unwrap();
        assert!(
            matches!(&err, TlsSetupError::Pem(p, _) if p == &other_key),
            "{err}"
        );
    }
}
