//! `/audit/api/...`: JSON over the audit store. Every parameter is checked; a bad one gets
//! a 400 whose JSON names it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Frame;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{full, Body, Settings};
use crate::audit::export::{Exporter, Format};
use crate::audit::query::{self, Cursor, Filter, FilterError};
use crate::audit::{AuditError, AuditReader};
use crate::percent;

pub fn error(status: StatusCode, message: &str, param: Option<&FilterError>) -> Response<Body> {
    let mut v = json!({ "error": message });
    if let Some(p) = param {
        v["parameter"] = p.param.clone().into();
        v["reason"] = p.reason.clone().into();
    }
    full(status, "application/json", v.to_string())
}

fn bad(p: FilterError) -> Response<Body> {
    error(StatusCode::BAD_REQUEST, &p.to_string(), Some(&p))
}

fn ok(v: Value) -> Response<Body> {
    full(StatusCode::OK, "application/json", v.to_string())
}

fn store_error(e: AuditError) -> Response<Body> {
    log::error!("audit API: {e}");
    match e {
        AuditError::Unavailable(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit store unavailable",
            None,
        ),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "audit store error", None),
    }
}

/// `application/x-www-form-urlencoded` pairs, strictly decoded.
pub fn parse_query(q: &str) -> Result<Vec<(String, String)>, FilterError> {
    let mut out = Vec::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent::decode_form(k).map_err(|_| FilterError {
            param: "query".into(),
            reason: "malformed percent-encoding".into(),
        })?;
        let v = percent::decode_form(v).map_err(|_| FilterError {
            param: k.clone(),
            reason: "malformed percent-encoding".into(),
        })?;
        out.push((k, v));
    }
    Ok(out)
}

/// Parameters every list-like endpoint takes.
struct Params {
    filter: Filter,
    limit: usize,
    cursor: Option<Cursor>,
    format: Option<Format>,
    with_messages: bool,
}

fn params(query: &str, extra: &[&str]) -> Result<Params, FilterError> {
    let mut p = Params {
        filter: Filter::default(),
        limit: 50,
        cursor: None,
        format: None,
        with_messages: false,
    };
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in parse_query(query)? {
        if seen.contains(&k) {
            return Err(FilterError {
                param: k,
                reason: "given more than once".into(),
            });
        }
        seen.push(k.clone());
        match k.as_str() {
            "limit" if extra.contains(&"limit") => {
                p.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or(FilterError {
                        param: k,
                        reason: "an integer from 1 to 1000".into(),
                    })?;
            }
            "cursor" if extra.contains(&"cursor") => {
                p.cursor = Some(Cursor::decode("cursor", &v)?);
            }
            "format" if extra.contains(&"format") => {
                p.format = Some(Format::parse(&v).ok_or(FilterError {
                    param: k,
                    reason: "csv or jsonl".into(),
                })?);
            }
            "messages" if extra.contains(&"messages") => {
                p.with_messages = match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    _ => {
                        return Err(FilterError {
                            param: k,
                            reason: "true or false".into(),
                        })
                    }
                };
            }
            _ => p.filter.set(&k, &v)?,
        }
    }
    Ok(p)
}

pub async fn handle(
    reader: &Arc<AuditReader>,
    settings: &Settings,
    who: &str,
    path: &str,
    query: &str,
) -> Response<Body> {
    match path {
        "whoami" => ok(json!({ "auditor": who })),
        "agencies" => ok(json!(settings.agencies)),
        "exchanges" => list(reader, settings, query).await,
        "stats" => stats(reader, settings, query).await,
        "export" => export(reader, settings, query).await,
        p if p.starts_with("exchanges/") => {
            detail(reader, settings, &p["exchanges/".len()..]).await
        }
        _ => error(StatusCode::NOT_FOUND, "no such endpoint", None),
    }
}

fn name(settings: &Settings, code: &Option<String>) -> Value {
    code.as_ref()
        .and_then(|c| settings.agencies.get(c))
        .map_or(Value::Null, |n| Value::String(n.clone()))
}

async fn list(reader: &Arc<AuditReader>, settings: &Settings, query: &str) -> Response<Body> {
    let p = match params(query, &["limit", "cursor"]) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let (f, cur, limit) = (p.filter.clone(), p.cursor.clone(), p.limit);
    let page = reader
        .run(move |c| query::page(c, &f, cur.as_ref(), limit))
        .await;
    match page {
        Ok((rows, next)) => {
            let items: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).expect("summary serialises");
                    v["consumer_name"] = name(settings, &r.consumer);
                    v["provider_name"] = name(settings, &r.provider);
                    v["ms"] = r.millis().into();
                    v
                })
                .collect();
            ok(json!({ "items": items, "next_cursor": next.map(|c| c.encode()) }))
        }
        Err(e) => store_error(e),
    }
}

async fn stats(reader: &Arc<AuditReader>, settings: &Settings, query: &str) -> Response<Body> {
    let p = match params(query, &[]) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let f = p.filter.clone();
    match reader.run(move |c| query::stats(c, &f, 5000)).await {
        Ok(rows) => {
            let items: Vec<Value> = rows
                .iter()
                .map(|d| {
                    json!({
                        "day": d.day, "consumer": d.consumer,
                        "consumer_name": name(settings, &d.consumer), "count": d.count
                    })
                })
                .collect();
            ok(json!({ "items": items }))
        }
        Err(e) => store_error(e),
    }
}

async fn detail(reader: &Arc<AuditReader>, settings: &Settings, id: &str) -> Response<Body> {
    let id = match percent::decode_strict(id).ok() {
        Some(id) if !id.is_empty() && id.len() <= 128 && !id.contains('/') => id,
        _ => {
            return bad(FilterError {
                param: "id".into(),
                reason: "an exchange id".into(),
            })
        }
    };
    let found = reader
        .run(move |c| {
            let recs = query::by_id(c, &id)?;
            let mut out = Vec::new();
            for r in recs {
                let status = query::chain_status(c, &r)?;
                out.push((r, status));
            }
            Ok(out)
        })
        .await;
    let recs = match found {
        Ok(r) if r.is_empty() => {
            return error(StatusCode::NOT_FOUND, "no exchange with this id", None)
        }
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    let items: Vec<Value> = recs
        .iter()
        .map(|(rec, status)| {
            let r = &rec.row;
            let mut v = serde_json::to_value(r).expect("row serialises");
            v["consumer_name"] = name(settings, &r.consumer);
            v["provider_name"] = name(settings, &r.provider);
            let messages: Vec<Value> = rec
                .messages()
                .iter()
                .filter(|(_, m)| m.sha256.is_some())
                .map(|(kind, m)| {
                    let stored = match (m.bytes, m.is_whole()) {
                        (None, _) => "hash-only",
                        (Some(_), false) => "truncated",
                        (Some(_), true) => "whole",
                    };
                    let sha_ok = m
                        .bytes
                        .filter(|_| m.is_whole())
                        .map(|b| Some(hex::encode(Sha256::digest(b)).as_str()) == m.sha256);
                    json!({
                        "kind": kind, "sha256": m.sha256, "size": m.size, "stored": stored,
                        "sha256_matches": sha_ok,
                        "text": m.bytes.map(crate::audit::pretty::xml),
                    })
                })
                .collect();
            v["messages"] = messages.into();
            v["chain"] = serde_json::to_value(status).expect("status serialises");
            v
        })
        .collect();
    ok(json!({ "items": items }))
}

/// Streams the export: a blocking task pages through the store and feeds a channel.
async fn export(reader: &Arc<AuditReader>, settings: &Settings, query: &str) -> Response<Body> {
    let p = match params(query, &["format", "messages"]) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let format = p.format.unwrap_or(Format::Csv);
    if p.with_messages && format != Format::Jsonl {
        return bad(FilterError {
            param: "messages".into(),
            reason: "only with format=jsonl".into(),
        });
    }
    let conn = {
        let r = reader.clone();
        match tokio::task::spawn_blocking(move || r.take()).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return store_error(e),
            Err(e) => return store_error(AuditError::Store(e.to_string())),
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let agencies: HashMap<String, String> = settings.agencies.clone().into_iter().collect();
    let f = p.filter;
    let with_messages = p.with_messages;
    tokio::task::spawn_blocking(move || {
        let mut conn = conn;
        let ex = Exporter {
            format,
            agencies: &agencies,
            with_messages,
        };
        let mut w = ChannelWriter {
            tx,
            buf: Vec::new(),
        };
        if let Err(e) = crate::audit::export::write_all(&mut conn, &f, &ex, &mut w) {
            // Headers are gone already: the client sees a truncated body.
            log::error!("audit export stopped: {e}");
        }
    });
    let mut r = Response::new(ChannelBody(rx).boxed());
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        http::header::CONTENT_DISPOSITION,
        http::HeaderValue::from_str(&format!(
            "attachment; filename=\"lienthong-audit.{}\"",
            format.extension()
        ))
        .expect("ascii"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    r
}

/// Buffers writes into 64 KiB chunks for the response channel.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings() {
        let q = parse_query("consumer=000.00.21.H38&q=a%20b+c&to=").unwrap();
        assert_eq!(q[1], ("q".into(), "a b c".into()));
        assert_eq!(parse_query("from=%zz").unwrap_err().param, "from");
        assert_eq!(params("limit=0", &["limit"]).err().unwrap().param, "limit");
        assert_eq!(params("limit=5", &[]).err().unwrap().param, "limit");
        assert_eq!(params("from=x", &[]).err().unwrap().param, "from");
        assert_eq!(
            params("service=a&service=b", &[]).err().unwrap().param,
            "service"
        );
        assert_eq!(
            params("cursor=abc", &["cursor"]).err().unwrap().param,
            "cursor"
        );
    }
}
