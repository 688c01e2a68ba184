//! The SOAP listener: accepts connections, applies connection-level limits, routes
//! `/services/...`, and shuts down gracefully (in-flight exchanges finish and are audited).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::pipeline::{self, receive};
use crate::registry::Gateway;
use crate::soap::fault::Fault;
use crate::target::{Document, Target};
use crate::xml::escape;

/// Serves until `shutdown` resolves, then waits for in-flight exchanges.
pub async fn serve(
    gw: Arc<Gateway>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = gw.config.limits.clone();
    let permits = Arc::new(Semaphore::new(limits.max_concurrent_requests));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    log::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let gw = gw.clone();
        let permits = permits.clone();
        let svc = service_fn(move |req| route(gw.clone(), permits.clone(), req, remote));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .max_buf_size(limits.max_header_bytes.max(8192))
            .max_headers(100);
        let conn = builder.serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                log::debug!("connection from {remote}: {e}");
            }
        });
    }
    log::info!("shutting down: waiting for in-flight exchanges");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_millis(gw.config.limits.request_timeout_ms + 5_000)) => {
            log::warn!("in-flight exchanges did not finish in time");
        }
    }
    Ok(())
}

async fn route(
    gw: Arc<Gateway>,
    permits: Arc<Semaphore>,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = crate::target::resolve(req.method(), req.uri().path(), req.uri().query());
    let resp = match target {
        Target::Catalogue => catalogue(&gw, &req),
        Target::Health => plain(StatusCode::OK, "text/plain", "ok\n".into()),
        Target::ServiceInfo(name) => match gw.service(&name) {
            Some(_) => plain(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                format!("{name}: POST SOAP messages here; the contract is at ?wsdl\n").into_bytes(),
            ),
            None => no_such_service(),
        },
        Target::Published { service, document } => published(&gw, &service, &document),
        Target::BadRequest(e) => plain(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            format!("{e}\n").into_bytes(),
        ),
        Target::Call(name) => match permits.clone().try_acquire_owned() {
            Ok(_permit) => pipeline::handle(gw, name, req, remote).await,
            Err(_) => {
                let version = receive::guess_version(req.headers());
                let f = Fault::from(&pipeline::PipelineError::Receive(
                    receive::ReceiveError::Overloaded,
                ));
                log::warn!("refused a call from {remote}: at the concurrency limit");
                plain(
                    f.http_status(version),
                    version.content_type(),
                    f.render(version, "-"),
                )
            }
        },
        Target::NotFound => plain(StatusCode::NOT_FOUND, "text/plain", b"not found\n".to_vec()),
    };
    Ok(resp)
}

/// `?wsdl`, `?wsdl=doc`, `?xsd=doc`.
fn published(gw: &Gateway, name: &str, document: &Document) -> Response<Full<Bytes>> {
    let Some(service) = gw.service(name) else {
        return no_such_service();
    };
    let doc = match document {
        Document::Main => None,
        Document::Named(d) => Some(d.as_str()),
    };
    match crate::wsdl::publish(&service.contract, doc, &gw.service_url(name)) {
        Some(bytes) => plain(StatusCode::OK, "text/xml; charset=utf-8", bytes),
        None => plain(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"no such document\n".to_vec(),
        ),
    }
}

fn no_such_service() -> Response<Full<Bytes>> {
    plain(
        StatusCode::NOT_FOUND,
        "text/plain",
        b"no such service\n".to_vec(),
    )
}

/// `GET /services`: JSON for programs, an HTML page for people.
fn catalogue(gw: &Gateway, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let cat = gw.catalogue();
    let wants_html = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let entries: Vec<serde_json::Value> = cat
        .services
        .values()
        .map(|s| {
            let provider = gw.config.agency(&s.config.provider_agency).map(|a| a.name.clone()).unwrap_or_default();
            serde_json::json!({
                "name": s.config.name.as_str(),
                "provider": s.config.provider_agency.as_str(),
                "provider_name": provider,
                "url": gw.service_url(s.config.name.as_str()),
                "wsdl": format!("{}?wsdl", gw.service_url(s.config.name.as_str())),
                "operations": s.contract.operations.iter().map(|o| o.name.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    if !wants_html {
        let body = serde_json::to_vec_pretty(&serde_json::json!({ "services": entries }))
            .unwrap_or_default();
        return plain(StatusCode::OK, "application/json", body);
    }
    let mut html = String::from(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>lienthong — services</title>\
         <style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}</style>\
         </head><body><h1>Dịch vụ liên thông / Services</h1><table><tr><th>Service</th><th>Provider</th><th>Operations</th><th>WSDL</th></tr>",
    );
    for e in &entries {
        let s = |k: &str| escape::text(e[k].as_str().unwrap_or("")).into_owned();
        let ops: Vec<String> = e["operations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o.as_str())
            .map(|o| escape::text(o).into_owned())
            .collect();
        html.push_str(&format!(
            "<tr><td>{}</td><td>{} — {}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>",
            s("name"),
            s("provider"),
            s("provider_name"),
            ops.join(", "),
            s("wsdl"),
            s("wsdl")
        ));
    }
    html.push_str("</table></body></html>");
    plain(
        StatusCode::OK,
        "text/html; charset=utf-8",
        html.into_bytes(),
    )
}

fn plain(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
