//! The hash chain: each record's hash covers a canonical encoding of its content and the
//! hash of the record before it, so changing, removing, inserting or reordering a record
//! breaks a link that `verify` finds.
//!
//! # Canonical encoding (version 1)
//!
//! ```text
//! content = "lienthong-audit-record-v1" || field_1 || ... || field_n
//! field   = 0x00                                  (absent)
//!         | 0x01 || u64 big-endian length || bytes (present)
//! hash    = SHA-256("lienthong-audit-chain-v1" || prev_hash (32 bytes) || SHA-256(content))
//! ```
//!
//! Fields, in this order: node_id, id, received_at, forwarded_at, answered_at, remote_addr,
//! consumer, consumer_cert, provider, service, operation, provider_endpoint, soap_version,
//! outcome, fault_code, fault_reason, http_status, then for each message (request_in,
//! request_out, response_in, response_out) its sha256, size and stored bytes, then
//! request_mapping, response_mapping. Text is UTF-8; times are UTC RFC 3339 with exactly six
//! fractional digits (`2026-11-26T02:55:06.123456Z`); integers are decimal ASCII. The
//! length prefix makes the encoding injective: no two different records encode alike.
//! The first record of a chain has `prev_hash` = 32 zero bytes. `seq` is not hashed (see
//! [`super::row::Row::seq`]).

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::row::Record;

/// `prev_hash` of a chain's first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const CONTENT_TAG: &[u8] = b"lienthong-audit-record-v1";
const CHAIN_TAG: &[u8] = b"lienthong-audit-chain-v1";

struct Encoder(Sha256);

impl Encoder {
    fn field(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.0.update([0u8]),
            Some(b) => {
                self.0.update([1u8]);
                self.0.update((b.len() as u64).to_be_bytes());
                self.0.update(b);
            }
        }
    }
    fn text(&mut self, v: Option<&str>) {
        self.field(v.map(str::as_bytes));
    }
    fn time(&mut self, v: Option<&NaiveDateTime>) {
        let s = v.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        self.text(s.as_deref());
    }
    fn int(&mut self, v: Option<i64>) {
        let s = v.map(|n| n.to_string());
        self.text(s.as_deref());
    }
}

/// SHA-256 of the record's canonical content.
pub fn content_hash(rec: &Record) -> [u8; 32] {
    let r = &rec.row;
    let mut e = Encoder(Sha256::new());
    e.0.update(CONTENT_TAG);
    e.text(Some(&r.node_id));
    e.text(Some(&r.id));
    e.time(Some(&r.received_at));
    e.time(r.forwarded_at.as_ref());
    e.time(r.answered_at.as_ref());
    e.text(Some(&r.remote_addr));
    e.text(r.consumer.as_deref());
    e.text(r.consumer_cert.as_deref());
    e.text(r.provider.as_deref());
    e.text(r.service.as_deref());
    e.text(r.operation.as_deref());
    e.text(r.provider_endpoint.as_deref());
    e.text(r.soap_version.as_deref());
    e.text(Some(&r.outcome));
    e.text(r.fault_code.as_deref());
    e.text(r.fault_reason.as_deref());
    e.int(Some(i64::from(r.http_status)));
    for (_, m) in rec.messages() {
        e.text(m.sha256);
        e.int(m.size);
        e.field(m.bytes);
    }
    e.text(r.request_mapping.as_deref());
    e.text(r.response_mapping.as_deref());
    e.0.finalize().into()
}

/// The chain hash (hex) of `r` given the hex hash of its predecessor; `None` when
/// `prev_hash` is not 64 hex digits.
pub fn chain_hash(prev_hash: &str, r: &Record) -> Option<String> {
    let prev = hex::decode(prev_hash).ok().filter(|p| p.len() == 32)?;
    let mut h = Sha256::new();
    h.update(CHAIN_TAG);
    h.update(&prev);
    h.update(content_hash(r));
    Some(hex::encode(h.finalize()))
}

/// Places `r` after `prev_hash` at position `seq`: fills `seq`, `prev_hash` and `hash`.
pub fn link(r: &mut Record, seq: i64, prev_hash: &str) {
    r.row.seq = seq;
    r.row.prev_hash = prev_hash.to_string();
    r.row.hash = chain_hash(prev_hash, r).expect("prev_hash comes from a stored chain hash");
}

/// Whether the stored hash matches the record's content and stored predecessor.
pub fn is_intact(r: &Record) -> bool {
    chain_hash(&r.row.prev_hash, r).as_deref() == Some(r.row.hash.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditConfig, ExchangeRecord, Message};

    fn row() -> Record {
        let mut rec = ExchangeRecord::new("0190-test".into(), "127.0.0.1:1".into());
        rec.consumer = Some("000.00.21.H38".into());
        rec.request_in = Some(Message::of(b"<a/>"));
        Record::from_exchange(rec, "node-1", &AuditConfig::default())
    }

    #[test]
    fn every_field_and_the_predecessor_count() {
        let mut a = row();
        link(&mut a, 1, GENESIS);
        assert!(is_intact(&a));
        let mut b = a.clone();
        b.row.consumer = Some("000.00.21.H39".into());
        assert!(!is_intact(&b));
        let mut c = a.clone();
        c.bodies[0].as_mut().unwrap()[0] = b'[';
        assert!(!is_intact(&c));
        let mut d = a.clone();
        d.row.prev_hash = "1".repeat(64);
        assert!(!is_intact(&d));
    }

    #[test]
    fn absent_and_empty_differ() {
        let mut a = row();
        a.row.fault_code = None;
        let mut b = row();
        b.row.fault_code = Some(String::new());
        assert_ne!(content_hash(&a), content_hash(&b));
    }

    #[test]
    fn seq_is_not_content() {
        let mut a = row();
        link(&mut a, 1, GENESIS);
        let mut b = a.clone();
        b.row.seq = 7;
        assert!(is_intact(&b));
    }
}
