//! Exports for auditors: CSV (RFC 4180) or JSON Lines, each one header line then one record
//! per line, oldest first, written page by page so that any size streams in bounded memory.

use std::collections::HashMap;
use std::io::Write;

use base64::Engine as _;
use serde_json::{json, Value};

use super::backend::Conn;
use super::query::{self, Cursor, Filter};
use super::row::Record;
use super::AuditError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Jsonl => "application/jsonl; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// The CSV columns, in order.
pub const COLUMNS: &[&str] = &[
    "received_at",
    "id",
    "node_id",
    "seq",
    "consumer",
    "consumer_name",
    "provider",
    "provider_name",
    "service",
    "operation",
    "outcome",
    "fault_code",
    "fault_reason",
    "http_status",
    "ms",
    "remote_addr",
    "consumer_cert",
    "soap_version",
    "provider_endpoint",
    "forwarded_at",
    "answered_at",
    "request_in_sha256",
    "request_in_size",
    "request_out_sha256",
    "request_out_size",
    "response_in_sha256",
    "response_in_size",
    "response_out_sha256",
    "response_out_size",
    "request_mapping",
    "response_mapping",
    "prev_hash",
    "hash",
];

/// Turns records into lines.
pub struct Exporter<'a> {
    pub format: Format,
    /// Agency code -> name, written beside codes.
    pub agencies: &'a HashMap<String, String>,
    /// JSON Lines only: include the stored messages (UTF-8 text, else base64).
    pub with_messages: bool,
}

impl Exporter<'_> {
    pub fn header(&self, f: &Filter) -> String {
        match self.format {
            Format::Csv => format!("{}\r\n", COLUMNS.join(",")),
            Format::Jsonl => {
                let mut h = json!({
                    "format": "lienthong-audit-export",
                    "version": 1,
                    "exported_at": chrono::Utc::now().to_rfc3339(),
                    "columns": COLUMNS,
                });
                h["filter"] = filter_json(f);
                format!("{h}\n")
            }
        }
    }

    pub fn line(&self, rec: &Record) -> String {
        let r = &rec.row;
        let t = |v: Option<chrono::NaiveDateTime>| {
            v.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        };
        let name = |c: &Option<String>| c.as_ref().and_then(|c| self.agencies.get(c)).cloned();
        let ms = r
            .answered_at
            .map(|a| (a - r.received_at).num_milliseconds());
        let values: Vec<Value> = vec![
            t(Some(r.received_at)).into(),
            r.id.clone().into(),
            r.node_id.clone().into(),
            r.seq.into(),
            r.consumer.clone().into(),
            name(&r.consumer).into(),
            r.provider.clone().into(),
            name(&r.provider).into(),
            r.service.clone().into(),
            r.operation.clone().into(),
            r.outcome.clone().into(),
            r.fault_code.clone().into(),
            r.fault_reason.clone().into(),
            r.http_status.into(),
            ms.into(),
            r.remote_addr.clone().into(),
            r.consumer_cert.clone().into(),
            r.soap_version.clone().into(),
            r.provider_endpoint.clone().into(),
            t(r.forwarded_at).into(),
            t(r.answered_at).into(),
            r.request_in_sha256.clone().into(),
            r.request_in_size.into(),
            r.request_out_sha256.clone().into(),
            r.request_out_size.into(),
            r.response_in_sha256.clone().into(),
            r.response_in_size.into(),
            r.response_out_sha256.clone().into(),
            r.response_out_size.into(),
            r.request_mapping.clone().into(),
            r.response_mapping.clone().into(),
            r.prev_hash.clone().into(),
            r.hash.clone().into(),
        ];
        match self.format {
            Format::Csv => {
                let cells: Vec<String> = values.iter().map(csv_cell).collect();
                format!("{}\r\n", cells.join(","))
            }
            Format::Jsonl => {
                let mut o: serde_json::Map<String, Value> =
                    COLUMNS.iter().map(|c| c.to_string()).zip(values).collect();
                if self.with_messages {
                    let mut m = serde_json::Map::new();
                    for (k, v) in rec.messages() {
                        if let Some(b) = v.bytes {
                            m.insert(k.into(), body_json(b, v.is_whole()));
                        }
                    }
                    o.insert("messages".into(), Value::Object(m));
                }
                format!("{}\n", Value::Object(o))
            }
        }
    }
}

fn body_json(b: &[u8], whole: bool) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => json!({"text": s, "truncated": !whole}),
        Err(_) => json!({
            "base64": base64::engine::general_purpose::STANDARD.encode(b),
            "truncated": !whole
        }),
    }
}

pub fn filter_json(f: &Filter) -> Value {
    let t =
        |v: Option<chrono::NaiveDateTime>| v.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string());
    json!({
        "from": t(f.from), "to": t(f.to), "consumer": f.consumer, "provider": f.provider,
        "agency": f.agency, "service": f.service, "operation": f.operation,
        "outcome": f.outcome, "fault": f.fault, "node": f.node, "q": f.text,
    })
}

/// RFC 4180: quote cells holding a comma, quote or line break; double inner quotes. Cells
/// starting with `= + - @` are prefixed with `'` so spreadsheets do not run them as formulas.
fn csv_cell(v: &Value) -> String {
    let s = match v {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = if s.starts_with(['=', '+', '-', '@']) && !v.is_number() {
        format!("'{s}")
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Writes the whole export of `f` to `out`; returns the number of records.
pub fn write_all(
    conn: &mut Conn,
    f: &Filter,
    ex: &Exporter<'_>,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let io = |e: std::io::Error| AuditError::Store(format!("cannot write the export: {e}"));
    out.write_all(ex.header(f).as_bytes()).map_err(io)?;
    let mut after: Option<Cursor> = None;
    let mut n = 0;
    loop {
        let page = query::rows_after(conn, f, after.as_ref(), 1000)?;
        let Some(last) = page.last() else { break };
        after = Some(Cursor {
            received_at: last.row.received_at,
            id: last.row.id.clone(),
        });
        for rec in &page {
            out.write_all(ex.line(rec).as_bytes()).map_err(io)?;
            n += 1;
        }
    }
    out.flush().map_err(io)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell(&json!("a,b")), "\"a,b\"");
        assert_eq!(csv_cell(&json!("say \"x\"")), "\"say \"\"x\"\"\"");
        assert_eq!(csv_cell(&json!("=cmd()")), "'=cmd()");
        assert_eq!(csv_cell(&json!(-3)), "-3");
        assert_eq!(csv_cell(&Value::Null), "");
    }
}
