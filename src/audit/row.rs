//! An exchange record as stored: the pipeline's [`ExchangeRecord`] with the message policy
//! applied, timestamps cut to microseconds (PostgreSQL's precision, so that both backends
//! hash the same content), and its place in the chain. Message bytes live in their own
//! table (`audit_messages`) so that scans of the records never read them.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{audit_messages, audit_records};
use super::{AuditConfig, ExchangeRecord, Message, MessagePolicy};

/// The four messages of an exchange, in this order everywhere (storage `kind`, hashing).
pub const KINDS: [&str; 4] = ["request_in", "request_out", "response_in", "response_out"];

#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize, serde::Deserialize,
)]
#[diesel(table_name = audit_records)]
// None is written as NULL, never as DEFAULT: PostgreSQL's binary COPY (the writer's path)
// has no DEFAULT, and every column's value is part of the record anyway.
#[diesel(treat_none_as_default_value = false)]
pub struct Row {
    pub node_id: String,
    /// Position in the node's chain, from 1. Not part of the hashed content: the chain
    /// links and the seals fix the order, so a renumbered row is reported as moved.
    pub seq: i64,
    pub id: String,
    pub received_at: NaiveDateTime,
    pub forwarded_at: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub remote_addr: String,
    pub consumer: Option<String>,
    pub consumer_cert: Option<String>,
    pub provider: Option<String>,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub provider_endpoint: Option<String>,
    pub soap_version: Option<String>,
    pub outcome: String,
    pub fault_code: Option<String>,
    pub fault_reason: Option<String>,
    pub http_status: i32,
    pub request_in_sha256: Option<String>,
    pub request_in_size: Option<i64>,
    pub request_out_sha256: Option<String>,
    pub request_out_size: Option<i64>,
    pub response_in_sha256: Option<String>,
    pub response_in_size: Option<i64>,
    pub response_out_sha256: Option<String>,
    pub response_out_size: Option<i64>,
    pub request_mapping: Option<String>,
    pub response_mapping: Option<String>,
    /// Hex SHA-256 of the previous record in this node's chain (64 zeros for the first).
    pub prev_hash: String,
    /// Hex chain hash of this record, see [`super::chain`].
    pub hash: String,
}

/// Stored bytes of one message.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_messages)]
pub struct MessageRow {
    pub node_id: String,
    pub seq: i64,
    pub kind: String,
    pub received_at: NaiveDateTime,
    pub body: Vec<u8>,
}

/// `MessageRow` borrowed from a [`Record`] for inserting without copying bodies.
#[derive(Debug, Insertable)]
#[diesel(table_name = audit_messages)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewMessage<'a> {
    pub node_id: &'a str,
    pub seq: i64,
    pub kind: &'a str,
    pub received_at: NaiveDateTime,
    pub body: &'a [u8],
}

/// A record with the bytes kept of its messages (indexed like [`KINDS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub row: Row,
    pub bodies: [Option<Vec<u8>>; 4],
}

/// The columns the listing shows.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_records)]
pub struct Summary {
    pub node_id: String,
    pub seq: i64,
    pub id: String,
    pub received_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    pub consumer: Option<String>,
    pub provider: Option<String>,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub outcome: String,
    pub fault_code: Option<String>,
    pub http_status: i32,
}

impl Summary {
    /// Milliseconds from receipt to answer, when answered.
    pub fn millis(&self) -> Option<i64> {
        self.answered_at
            .map(|a| (a - self.received_at).num_milliseconds())
    }
}

/// UTC cut to microseconds, as both backends store it.
pub fn micros(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

type Kept = (Option<String>, Option<i64>, Option<Vec<u8>>);

fn kept(m: Option<Message>, cfg: &AuditConfig) -> Kept {
    match m {
        None => (None, None, None),
        Some(m) => {
            let bytes = match cfg.messages {
                MessagePolicy::HashOnly => None,
                MessagePolicy::Full => {
                    let mut b = m.bytes;
                    b.truncate(cfg.max_stored_message_bytes);
                    Some(b)
                }
            };
            (Some(m.sha256), Some(m.size as i64), bytes)
        }
    }
}

impl Record {
    /// The record for `rec`, not yet placed in the chain (`seq`, `prev_hash`, `hash` empty).
    pub fn from_exchange(rec: ExchangeRecord, node_id: &str, cfg: &AuditConfig) -> Record {
        let ri = kept(rec.request_in, cfg);
        let ro = kept(rec.request_out, cfg);
        let si = kept(rec.response_in, cfg);
        let so = kept(rec.response_out, cfg);
        let row = Row {
            node_id: node_id.to_string(),
            seq: 0,
            id: rec.id,
            received_at: micros(rec.received_at),
            forwarded_at: rec.forwarded_at.map(micros),
            answered_at: rec.answered_at.map(micros),
            remote_addr: rec.remote_addr,
            consumer: rec.consumer,
            consumer_cert: rec.consumer_cert,
            provider: rec.provider,
            service: rec.service,
            operation: rec.operation,
            provider_endpoint: rec.provider_endpoint,
            soap_version: rec.soap_version.map(|v| v.label().to_string()),
            outcome: rec.outcome.as_str().to_string(),
            fault_code: rec.fault_code,
            fault_reason: rec.fault_reason,
            http_status: i32::from(rec.http_status),
            request_in_sha256: ri.0,
            request_in_size: ri.1,
            request_out_sha256: ro.0,
            request_out_size: ro.1,
            response_in_sha256: si.0,
            response_in_size: si.1,
            response_out_sha256: so.0,
            response_out_size: so.1,
            request_mapping: rec.request_mapping,
            response_mapping: rec.response_mapping,
            prev_hash: String::new(),
            hash: String::new(),
        };
        Record {
            row,
            bodies: [ri.2, ro.2, si.2, so.2],
        }
    }

    /// The four messages with their names, in exchange order.
    pub fn messages(&self) -> [(&'static str, MessageView<'_>); 4] {
        let r = &self.row;
        let b = &self.bodies;
        [
            (
                KINDS[0],
                view(&r.request_in_sha256, r.request_in_size, &b[0]),
            ),
            (
                KINDS[1],
                view(&r.request_out_sha256, r.request_out_size, &b[1]),
            ),
            (
                KINDS[2],
                view(&r.response_in_sha256, r.response_in_size, &b[2]),
            ),
            (
                KINDS[3],
                view(&r.response_out_sha256, r.response_out_size, &b[3]),
            ),
        ]
    }

    /// Rows for `audit_messages` (only the bodies kept).
    pub fn message_rows(&self) -> impl Iterator<Item = NewMessage<'_>> {
        KINDS.iter().zip(&self.bodies).filter_map(|(k, b)| {
            b.as_ref().map(|b| NewMessage {
                node_id: &self.row.node_id,
                seq: self.row.seq,
                kind: k,
                received_at: self.row.received_at,
                body: b,
            })
        })
    }
}

fn view<'a>(sha: &'a Option<String>, size: Option<i64>, b: &'a Option<Vec<u8>>) -> MessageView<'a> {
    MessageView {
        sha256: sha.as_deref(),
        size,
        bytes: b.as_deref(),
    }
}

/// One stored message: what was kept of it.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    pub sha256: Option<&'a str>,
    pub size: Option<i64>,
    pub bytes: Option<&'a [u8]>,
}

impl MessageView<'_> {
    /// Whether the stored bytes are the whole message (not truncated or dropped).
    pub fn is_whole(&self) -> bool {
        matches!((self.bytes, self.size), (Some(b), Some(n)) if b.len() as i64 == n)
    }
}
