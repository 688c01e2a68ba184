//! Example provider agencies: small SOAP services answering from fixture data, so that the
//! demo and the tests run offline. Started by `lienthong demo` on the ports named in the
//! configuration's endpoints, or alone by `lienthong provider`.
//!
//! One HTTP/1.1 server, one path per agency's service:
//!
//! | path | service | contract |
//! |---|---|---|
//! | `POST /ho-tich` | [`ho_tich`] | document/literal wrapped, SOAP 1.1 and 1.2 |
//! | `POST /dang-ky-kinh-doanh` | [`dang_ky_kinh_doanh`] | rpc/literal, SOAP 1.1 |
//! | `POST /mot-cua` | [`mot_cua`] | document/literal, SOAP 1.2 |
//! | `GET /_received`, `POST /_reset` | [`received`] | what reached the providers |
//! | `/_hang` | | accepts and never answers (bounded: one hour, or until shutdown) |
//!
//! [`soap`] reads envelopes and writes answers and faults; [`fixtures`] holds the records.
//!
//! Header blocks other than the gateway's `lt:Exchange` are not processed (a real provider
//! would verify the gateway's `wsse:Security` signature; these demo backends trust their
//! loopback caller). Request payloads are decoded with yaserde behind a guard that refuses
//! any element yaserde did not read ([`soap::decode`]).

pub mod dang_ky_kinh_doanh;
pub mod fixtures;
pub mod ho_tich;
pub mod mot_cua;
pub mod received;
pub mod soap;
pub mod tls;
pub mod types;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use openssl::ssl::SslAcceptor;
use tokio::sync::watch;

pub mod tiep_nhan_ho_so;

use crate::config::Config;
use received::{Log, Received};
use soap::{ProviderFault, SoapRequest, SoapResponse};

/// Largest request body a provider reads (the gateway's own limit is checked before).
const MAX_BODY: usize = 8 * 1024 * 1024;
/// How long `/_hang` holds a request at most.
const HANG: Duration = Duration::from_secs(3600);
/// How long shutdown waits for open connections before giving up on them.
const DRAIN: Duration = Duration::from_secs(5);

/// The loopback addresses the configuration's example endpoints point at.
pub fn listen_addresses(config: &Config) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = config
        .services
        .iter()
        .filter_map(|s| s.endpoint.strip_prefix("http://"))
        .filter_map(|rest| rest.split('/').next())
        .filter_map(|hp| hp.parse::<SocketAddr>().ok())
        .filter(|a| a.ip().is_loopback())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A provider's request handler: the answer payload or a fault.
type Handler = fn(&SoapRequest) -> Result<String, ProviderFault>;

/// The service behind a path.
fn handler_for(path: &str) -> Option<Handler> {
    match path {
        "/ho-tich" => Some(ho_tich::handle),
        "/dang-ky-kinh-doanh" => Some(dang_ky_kinh_doanh::handle),
        "/mot-cua" => Some(mot_cua::handle),
        "/tiep-nhan-ho-so" => Some(tiep_nhan_ho_so::handle),
        _ => None,
    }
}

fn is_hang(path: &str) -> bool {
    path == "/_hang" || path.starts_with("/_hang/")
}

/// Serves all example providers on one listener until `shutdown` resolves; over TLS when
/// given an acceptor ([`tls::acceptor`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<SslAcceptor>>,
    shutdown: impl Future<Output = ()>,
) {
    let log = Arc::new(Log::default());
    // Tells `/_hang` requests to let go when the server stops.
    let (stop_tx, stop_rx) = watch::channel(false);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        log::warn!("example providers: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let (log, stop) = (log.clone(), stop_rx.clone());
                let watcher = graceful.watcher();
                let tls = tls.clone();
                // The TLS handshake runs in the connection's task, never in the accept loop.
                tokio::spawn(async move {
                    match tls {
                        None => serve_connection(TokioIo::new(stream), watcher, log, stop).await,
                        Some(acceptor) => {
                            if let Some(stream) = tls::accept(&acceptor, stream).await {
                                serve_connection(TokioIo::new(stream), watcher, log, stop).await
                            }
                        }
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        log::warn!("example providers: connections still open after {DRAIN:?}");
    }
}

/// One HTTP/1.1 connection, plain or TLS, until it ends or shutdown drains it.
async fn serve_connection<I>(io: I, watcher: Watcher, log: Arc<Log>, stop: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| route(log.clone(), stop.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
    if let Err(e) = watcher.watch(conn).await {
        log::debug!("example providers: connection ended: {e}");
    }
}

async fn route(
    log: Arc<Log>,
    mut stop: watch::Receiver<bool>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if path == "/_received" && method == Method::GET {
        return Ok(plain(StatusCode::OK, "application/json", log.to_json()));
    }
    if path == "/_reset" && method == Method::POST {
        log.reset();
        return Ok(plain(StatusCode::NO_CONTENT, "text/plain", String::new()));
    }
    let hang = is_hang(&path);
    let handler = handler_for(&path);
    if !hang && handler.is_none() {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            format!("no example provider at {path}\n"),
        ));
    }
    if method != Method::POST {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "SOAP endpoints take POST\n".into(),
        );
        r.headers_mut()
            .insert(ALLOW, http::HeaderValue::from_static("POST"));
        return Ok(r);
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (content_type, soap_action) = (header("content-type"), header("soapaction"));
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain; charset=utf-8",
                format!("cannot read the request: {e}\n"),
            ))
        }
    };
    let (response, seen) = exchange(
        handler,
        &path,
        content_type.as_deref(),
        soap_action.as_deref(),
        &body,
    );
    log.push(seen);
    if hang {
        // Bounded: an hour at most, and over as soon as the server stops.
        tokio::select! {
            _ = tokio::time::sleep(HANG) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
        return Ok(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            String::new(),
        ));
    }
    Ok(soap_http(response))
}

/// One SOAP exchange without the network: what is answered and what is recorded.
pub fn exchange(
    handler: Option<Handler>,
    path: &str,
    content_type: Option<&str>,
    soap_action: Option<&str>,
    body: &[u8],
) -> (SoapResponse, Received) {
    let mut seen = Received {
        path: path.to_string(),
        soap_version: None,
        action: None,
        exchange_header: None,
        security_header: false,
        header_blocks: Vec::new(),
        body_root: None,
    };
    let (version, action) = match soap::version_of(content_type, soap_action) {
        Ok(v) => v,
        Err(f) => {
            let mut r = soap::fault(crate::model::SoapVersion::V11, &f);
            r.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            return (r, seen);
        }
    };
    seen.soap_version = Some(version.label().to_string());
    seen.action = action.clone();
    let answer = soap::parse(body, version, action).and_then(|req| {
        seen.exchange_header = req.exchange_header.clone();
        seen.security_header = req.security_header;
        seen.header_blocks = req.header_blocks.clone();
        seen.body_root = Some(req.root.to_string());
        match handler {
            Some(h) => h(&req),
            None => Err(ProviderFault::server("no handler")),
        }
    });
    let response = match answer {
        Ok(payload) => soap::answer(version, &payload),
        Err(f) => {
            log::debug!("example provider {path}: {f}");
            soap::fault(version, &f)
        }
    };
    (response, seen)
}

/// Answers `body` as the provider at `path` would (no network, nothing recorded).
pub fn answer(
    path: &str,
    content_type: Option<&str>,
    soap_action: Option<&str>,
    body: &[u8],
) -> SoapResponse {
    exchange(handler_for(path), path, content_type, soap_action, body).0
}

fn soap_http(r: SoapResponse) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(r.body)));
    *resp.status_mut() = r.status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(r.content_type));
    resp
}

fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SoapVersion;
    use http_body_util::Empty;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use std::path::Path;

    #[test]
    fn shipped_config_points_the_examples_at_one_loopback_port() {
        let config = Config::load(Path::new("conf/gateway.toml")).expect("conf/gateway.toml");
        let addrs = listen_addresses(&config);
        assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 1], 9100))]);
        for s in &config.services {
            let path = s.endpoint.rsplit('/').next().unwrap();
            assert!(
                handler_for(&format!("/{path}")).is_some(),
                "{} has no example provider",
                s.name
            );
            assert!(s.wsdl.exists(), "{}", s.wsdl.display());
        }
    }

    struct Running {
        addr: SocketAddr,
        stop: tokio::sync::oneshot::Sender<()>,
        done: tokio::task::JoinHandle<()>,
    }

    async fn start() -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(serve(listener, None, async move {
            let _ = rx.await;
        }));
        Running { addr, stop, done }
    }

    async fn send(
        addr: SocketAddr,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, String) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = client
            .request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn serves_records_and_resets() {
        let p = start().await;
        let payload = r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDinhDanh>038224001234</ht:SoDinhDanh></ht:TraCuuKhaiSinh>"#;
        let env = soap::testing::forwarded(SoapVersion::V12, payload);
        let ct = soap::testing::content_type(SoapVersion::V12, ho_tich::ACTION_KHAI_SINH);
        let (status, body) = send(
            p.addr,
            Method::POST,
            "/ho-tich",
            &[("content-type", &ct)],
            env,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("Lê Minh Anh"));

        let (status, json) = send(p.addr, Method::GET, "/_received", &[], vec![]).await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["count"], 1, "{json}");
        let last = &v["last"][0];
        assert_eq!(last["path"], "/ho-tich");
        assert_eq!(last["soap_version"], "1.2");
        assert_eq!(last["action"], ho_tich::ACTION_KHAI_SINH);
        assert_eq!(last["body_root"], "{urn:lgsp:h38:hotich:1.0}TraCuuKhaiSinh");
        let ex = last["exchange_header"].as_str().unwrap();
        assert!(
            ex.contains("<lt:Consumer>000.00.00.H38</lt:Consumer>"),
            "{ex}"
        );

        // Malformed requests are recorded too (they reached the provider), with no root.
        let (status, _) = send(
            p.addr,
            Method::POST,
            "/mot-cua",
            &[("content-type", "application/soap+xml")],
            b"<not-closed>".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, json) = send(p.addr, Method::GET, "/_received", &[], vec![]).await;
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["count"], 2);
        assert!(v["last"][1]["body_root"].is_null());

        let (status, _) = send(p.addr, Method::POST, "/_reset", &[], vec![]).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, json) = send(p.addr, Method::GET, "/_received", &[], vec![]).await;
        assert_eq!(json, r#"{"count":0,"last":[]}"#);

        let (status, _) = send(p.addr, Method::GET, "/ho-tich", &[], vec![]).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        let (status, _) = send(p.addr, Method::POST, "/nowhere", &[], vec![]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = send(
            p.addr,
            Method::POST,
            "/ho-tich",
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");

        p.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), p.done)
            .await
            .expect("serve stops")
            .unwrap();
    }

    #[tokio::test]
    async fn hang_holds_until_shutdown() {
        let p = start().await;
        let addr = p.addr;
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{addr}/_hang"))
            .body(Empty::new())
            .unwrap();
        let pending = tokio::spawn(async move { client.request(req).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!pending.is_finished(), "/_hang answered");
        let (_, json) = send(addr, Method::GET, "/_received", &[], vec![]).await;
        assert!(json.contains(r#""path":"/_hang""#), "{json}");

        let started = std::time::Instant::now();
        p.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), p.done)
            .await
            .expect("serve stops although a request hangs")
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        // The held request ends (answered 503 or connection closed), it does not linger.
        let _ = tokio::time::timeout(Duration::from_secs(2), pending)
            .await
            .expect("the hanging request ends at shutdown");
    }
}
