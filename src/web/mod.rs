//! The auditor's side of the gateway: HTTP API under `/audit/api/...` and a web page under
//! `/audit/`, on a listener of their own (`[audit] api_listen`), never the SOAP one.
//!
//! - [`auth`]: bearer tokens (hashes in `[[audit.auditors]]`); no anonymous access to records.
//! - [`api`]: JSON endpoints, cursor pagination, streaming export.
//! - [`openapi`]: the API's description, served at `/audit/api/openapi.json`.
//! - [`page`]: one HTML page with vanilla JS and CSS, embedded in the binary.
//!
//! Reads go through [`AuditReader`] (its own connections, off the async runtime); the
//! gateway's writer is never blocked by an auditor's query.

pub mod api;
pub mod auth;
pub mod openapi;
pub mod page;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::audit::AuditReader;
use crate::config::Config;

pub type Body = BoxBody<Bytes, Infallible>;

/// What the auditor's server needs from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub tokens: auth::Tokens,
    /// Agency code -> name, shown beside codes.
    pub agencies: BTreeMap<String, String>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Settings, String> {
        Ok(Settings {
            tokens: auth::Tokens::from_config(&config.audit.auditors)?,
            agencies: config
                .agencies
                .iter()
                .map(|a| (a.code.to_string(), a.name.clone()))
                .collect(),
        })
    }
}

/// Serves the auditor's API and page on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    reader: Arc<AuditReader>,
    settings: Arc<Settings>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    log::warn!("audit API accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let reader = reader.clone();
        let settings = settings.clone();
        let svc = service_fn(move |req| {
            let reader = reader.clone();
            let settings = settings.clone();
            async move { Ok::<_, Infallible>(route(&reader, &settings, req).await) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .max_headers(64);
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), svc));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                log::debug!("audit API connection from {remote}: {e}");
            }
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}

async fn route(
    reader: &Arc<AuditReader>,
    settings: &Settings,
    req: Request<Incoming>,
) -> Response<Body> {
    let path = req.uri().path().to_string();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return api::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", None);
    }
    match path.as_str() {
        "/audit" | "/audit/" | "/audit/index.html" => page::index(),
        "/audit/app.js" => page::script(),
        "/audit/app.css" => page::style(),
        "/audit/api/openapi.json" => openapi::response(),
        p if p.starts_with("/audit/api/") => {
            let auth = req
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            let Some(who) = settings.tokens.check(auth) else {
                let mut r = api::error(
                    StatusCode::UNAUTHORIZED,
                    "a valid bearer token is required",
                    None,
                );
                r.headers_mut().insert(
                    http::header::WWW_AUTHENTICATE,
                    http::HeaderValue::from_static("Bearer realm=\"lienthong-audit\""),
                );
                return r;
            };
            let query = req.uri().query().unwrap_or("").to_string();
            log::info!("audit API: {who} GET {p}");
            api::handle(reader, settings, who, &p["/audit/api/".len()..], &query).await
        }
        _ => api::error(StatusCode::NOT_FOUND, "not found", None),
    }
}

pub(crate) fn full(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_str(content_type).expect("static content type"),
    );
    h.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    r
}
