//! Stage 7, forward: the (verified, authorised, validated, mapped, re-signed) request to
//! the provider agency over a pooled hyper client, TLS through OpenSSL, with the service's
//! timeout; the provider's answer comes back as bytes for the answer stages.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_openssl::client::legacy::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

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
    pub fn new(max_answer_bytes: usize) -> Result<Self, openssl::error::ErrorStack> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let tls = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls_client())?;
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
