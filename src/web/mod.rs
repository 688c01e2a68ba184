//! The auditor's side of the gateway: HTTP API under `/audit/api/...` and a web page under
//! `/audit/`, on a listener of their own (`[audit] api_listen`), never the SOAP one.
//!
//! - [`auth`]: bearer tokens (hashes in `[[audit.auditors]]`) or listed TLS client
//!   certificates; no anonymous access to records.
//! - [`tls`]: the listener over HTTPS (`[audit] api_tls_cert`, `api_client_ca`).
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
pub mod tls;

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
    /// HTTPS (and client certificates) for the listener; None: plain HTTP.
    pub tls: Option<tls::Tls>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Settings, String> {
        Ok(Settings {
            tokens: auth::Tokens::from_config(&config.audit.auditors)?,
            tls: tls::Tls::from_config(&config.audit)?,
            agencies: config
                .agencies
                .iter()
                .map(|a| (a.code.to_string(), a.name.clone()))
                .collect(),
        })
    }
}

/// Where [`spawn`] started the auditor's server.
#[derive(Debug, Clone)]
pub struct Started {
    pub addr: std::net::SocketAddr,
    /// A token made for this run when `development` was asked and no auditor is configured.
    pub dev_token: Option<String>,
}

/// For `serve` / `demo`: starts the auditor's API and page on `[audit] api_listen` (if set)
/// as a task of the current runtime, reading the store at `audit_url`. With `development`
/// and no `[[audit.auditors]]`, makes a token for this run (print it; it is not stored).
pub async fn spawn(
    config: &Config,
    audit_url: &str,
    development: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Option<Started>> {
    let Some(addr) = config.audit.api_listen else {
        return Ok(None);
    };
    let mut settings = Settings::from_config(config)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let dev_token = (development && settings.tokens.is_empty())
        .then(|| settings.tokens.add_generated("development"));
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let reader = AuditReader::new(audit_url, 4);
    tokio::spawn(async move {
        if let Err(e) = serve(listener, reader, Arc::new(settings), shutdown).await {
            log::error!("auditor API stopped: {e}");
        }
    });
    Ok(Some(Started { addr, dev_token }))
}

/// Binds the auditor's listener and says where it is; without configured auditors, adds a
/// development token for this run only and prints it. Returns the server, to run or spawn.
pub async fn start(
    addr: std::net::SocketAddr,
    mut settings: Settings,
    store_url: &str,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<impl Future<Output = std::io::Result<()>>> {
    let dev_token = settings
        .tokens
        .is_empty()
        .then(|| settings.tokens.add_generated("development"));
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr} for the auditor's API: {e}"),
        )
    })?;
    let addr = listener.local_addr()?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!("  auditor's page: {scheme}://{addr}/audit/   API: {scheme}://{addr}/audit/api/openapi.json");
    if let Some(t) = dev_token {
        println!("  no [[audit.auditors]] configured: development auditor token for this run: {t}");
    }
    let reader = AuditReader::new(store_url, 4);
    Ok(serve(listener, reader, Arc::new(settings), shutdown))
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
        let watcher = graceful.watcher();
        // The TLS handshake runs in the connection's task so a slow client stalls nobody.
        tokio::spawn(async move {
            match settings.tls.clone() {
                None => connection(watcher, stream, None, reader, settings, remote).await,
                Some(tls) => {
                    if let Some((stream, peer)) = tls.accept(stream).await {
                        connection(watcher, stream, peer, reader, settings, remote).await
                    }
                }
            }
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}

fn builder() -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_headers(64);
    builder
}

/// The request handler of one connection; `peer` is its verified client certificate.
fn service(
    reader: Arc<AuditReader>,
    settings: Arc<Settings>,
    peer: Option<auth::PeerCertificate>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send,
> + Clone {
    service_fn(move |mut req: Request<Incoming>| {
        let reader = reader.clone();
        let settings = settings.clone();
        if let Some(p) = peer {
            req.extensions_mut().insert(p);
        }
        async move { Ok::<_, Infallible>(route(&reader, &settings, req).await) }
    })
}

/// Serves one connection (plain or after the TLS handshake) until it closes or shutdown.
async fn connection<IO>(
    watcher: hyper_util::server::graceful::Watcher,
    io: IO,
    peer: Option<auth::PeerCertificate>,
    reader: Arc<AuditReader>,
    settings: Arc<Settings>,
    remote: std::net::SocketAddr,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = builder().serve_connection(TokioIo::new(io), service(reader, settings, peer));
    if let Err(e) = watcher.watch(conn).await {
        log::debug!("audit API connection from {remote}: {e}");
    }
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
            let peer = req.extensions().get::<auth::PeerCertificate>();
            let Some(who) = settings.tokens.authorise(auth, peer) else {
                let mut r = api::error(
                    StatusCode::UNAUTHORIZED,
                    if peer.is_some() {
                        "this client certificate is not an auditor's; a valid bearer token \
                         or a listed client certificate is required"
                    } else {
                        "a valid bearer token (or a listed client certificate) is required"
                    },
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
