//! `verify`: recompute every record's hash, every chain link and every seal signature, and
//! report the first break of each node's chain precisely.
//!
//! Walking a node's records in `seq` order, the first record that does not fit is
//! classified:
//! - **changed**: its content (or stored predecessor) no longer matches its hash, or its
//!   content was rewritten with a recomputed chain, which the next seal exposes;
//! - **inserted**: it is intact but the chain skips it (the next record links to the one
//!   before it), or its predecessor link points further back;
//! - **removed**: its predecessor is nowhere in the store (or seq numbers jump), or a seal
//!   signs a head that no longer exists;
//! - **reordered**: its predecessor is a record stored after it.
//!
//! Records after a break are not trusted and not reported: fix or explain the first break.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::backend::{store, Conn};
use super::chain;
use super::query;
use super::row::{Record, Row};
use super::schema::{audit_archives, audit_records as ar, audit_seals};
use super::seal::{self, Seal};
use super::AuditError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BreakKind {
    Changed,
    Removed,
    Inserted,
    Reordered,
    /// A seal whose signature fails or whose key is not trusted.
    Seal,
}

impl std::fmt::Display for BreakKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BreakKind::Changed => "changed",
            BreakKind::Removed => "removed",
            BreakKind::Inserted => "inserted",
            BreakKind::Reordered => "reordered",
            BreakKind::Seal => "seal",
        })
    }
}

/// The first place a node's chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    pub node_id: String,
    pub kind: BreakKind,
    /// Where the walk stopped (the record's `seq`, or the seal's).
    pub seq: i64,
    /// Exchange id of the record concerned, when there is one.
    pub id: Option<String>,
    pub detail: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node {} seq {}", self.node_id, self.seq)?;
        if let Some(id) = &self.id {
            write!(f, " (exchange {id})")?;
        }
        write!(f, ": {}: {}", self.kind, self.detail)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeReport {
    pub node_id: String,
    pub records: i64,
    /// Where the live chain starts (after archived records) and ends.
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub head: Option<String>,
    pub seals: usize,
    pub last_sealed_seq: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub nodes: Vec<NodeReport>,
    pub breaks: Vec<Break>,
    pub warnings: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// What to check seals against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `key_id`s (hex SHA-256 of the DER public key) seals may be signed with. Empty: any
    /// key whose signature verifies, with a warning.
    pub trusted_keys: Vec<String>,
    /// Where each node's live chain starts when older records were archived
    /// (`node -> (last archived seq, its hash)`), from verified archive files. Without it,
    /// the `audit_archives` rows are taken as they are.
    pub archived_heads: BTreeMap<String, (i64, String)>,
}

const BATCH: usize = 2000;

/// Verifies every node's chain in the store.
pub fn verify(conn: &mut Conn, opts: &Options) -> Result<Report, AuditError> {
    let mut nodes: Vec<String> = ar::table
        .select(ar::node_id)
        .distinct()
        .load(conn)
        .map_err(store)?;
    let sealed: Vec<String> = audit_seals::table
        .select(audit_seals::node_id)
        .distinct()
        .load(conn)
        .map_err(store)?;
    for n in sealed {
        if !nodes.contains(&n) {
            nodes.push(n);
        }
    }
    nodes.sort();
    let mut report = Report::default();
    if opts.trusted_keys.is_empty() {
        report.warnings.push(
            "no trusted seal key given: seals are checked with the key they carry; pass the \
             gateway's seal key to prove who signed them"
                .into(),
        );
    }
    for node in nodes {
        let (n, b) = verify_node(conn, &node, opts, &mut report.warnings)?;
        report.nodes.push(n);
        report.breaks.extend(b);
    }
    Ok(report)
}

fn verify_node(
    conn: &mut Conn,
    node: &str,
    opts: &Options,
    warnings: &mut Vec<String>,
) -> Result<(NodeReport, Option<Break>), AuditError> {
    let mut nr = NodeReport {
        node_id: node.to_string(),
        ..Default::default()
    };
    let seals: Vec<Seal> = audit_seals::table
        .filter(audit_seals::node_id.eq(node))
        .order(audit_seals::seq.asc())
        .select(Seal::as_select())
        .load(conn)
        .map_err(store)?;
    nr.seals = seals.len();
    let brk = |kind, seq, id: Option<&str>, detail: String| Break {
        node_id: node.to_string(),
        kind,
        seq,
        id: id.map(str::to_string),
        detail,
    };
    for s in &seals {
        if let Err(e) = seal::check(s) {
            return Ok((nr, Some(brk(BreakKind::Seal, s.seq, None, e))));
        }
        if !opts.trusted_keys.is_empty() && !opts.trusted_keys.contains(&s.key_id) {
            let detail = format!("seal signed by untrusted key {}", s.key_id);
            return Ok((nr, Some(brk(BreakKind::Seal, s.seq, None, detail))));
        }
    }

    // Where the live chain starts: genesis, or the end of the last archive.
    let archived: Option<(i64, String)> = match opts.archived_heads.get(node) {
        Some(h) => Some(h.clone()),
        None => audit_archives::table
            .filter(audit_archives::node_id.eq(node))
            .order(audit_archives::last_seq.desc())
            .select((audit_archives::last_seq, audit_archives::last_hash))
            .first(conn)
            .optional()
            .map_err(store)?,
    };
    let (mut prev_seq, mut prev_hash) = archived.unwrap_or((0, chain::GENESIS.to_string()));
    let mut seal_at: BTreeMap<i64, &Seal> = seals.iter().map(|s| (s.seq, s)).collect();
    // Seals over archived records were checked when the archive was cut.
    seal_at.retain(|seq, _| *seq > prev_seq);

    let mut after = prev_seq;
    let mut pending: Vec<Record> = Vec::new();
    loop {
        if pending.len() < 2 {
            let rows: Vec<Row> = ar::table
                .filter(ar::node_id.eq(node))
                .filter(ar::seq.gt(after))
                .order(ar::seq.asc())
                .limit(BATCH as i64)
                .select(Row::as_select())
                .load(conn)
                .map_err(store)?;
            if let Some(last) = rows.last() {
                after = last.seq;
            }
            pending.extend(query::with_bodies(conn, rows)?);
        }
        if pending.is_empty() {
            break;
        }
        let rec = pending.remove(0);
        let r = &rec.row;
        nr.first_seq.get_or_insert(r.seq);
        if !chain::is_intact(&rec) {
            let skipped = pending
                .first()
                .is_some_and(|next| chain::is_intact(next) && next.row.prev_hash == prev_hash);
            let b = if skipped {
                brk(
                    BreakKind::Inserted,
                    r.seq,
                    Some(&r.id),
                    format!(
                        "this record is not part of the chain: the next record (seq {}) links to \
                         the one before it (seq {prev_seq})",
                        pending[0].row.seq
                    ),
                )
            } else {
                brk(
                    BreakKind::Changed,
                    r.seq,
                    Some(&r.id),
                    format!(
                        "content does not match its hash {}{}",
                        r.hash,
                        message_detail(&rec)
                    ),
                )
            };
            return Ok((nr, Some(b)));
        }
        if r.prev_hash != prev_hash {
            let b = classify_link(conn, node, prev_seq, &prev_hash, r)?;
            return Ok((nr, Some(brk(b.0, r.seq, Some(&r.id), b.1))));
        }
        if r.seq != prev_seq + 1 {
            let detail = format!(
                "links correctly but is numbered {} after seq {prev_seq} (renumbered rows)",
                r.seq
            );
            warnings.push(format!("node {node} seq {}: {detail}", r.seq));
        }
        if let Some(s) = seal_at.remove(&r.seq) {
            if s.head_hash != r.hash {
                let detail = format!(
                    "the seal of {} signs head {} here but the record hashes to {}: records up to \
                     this one were rewritten (chain recomputed) after seq {}",
                    s.sealed_at, s.head_hash, r.hash, nr.last_sealed_seq
                );
                return Ok((
                    nr,
                    Some(brk(BreakKind::Changed, r.seq, Some(&r.id), detail)),
                ));
            }
            nr.last_sealed_seq = r.seq;
        }
        prev_seq = r.seq;
        prev_hash = r.hash.clone();
        nr.records += 1;
        nr.last_seq = Some(r.seq);
        nr.head = Some(r.hash.clone());
    }
    if let Some((&seq, s)) = seal_at.iter().next() {
        let detail = format!(
            "the chain ends at seq {prev_seq} but a seal of {} signs head {} at seq {seq}: the \
             last {} record(s) were removed",
            s.sealed_at,
            s.head_hash,
            seq - prev_seq
        );
        return Ok((nr, Some(brk(BreakKind::Removed, seq, None, detail))));
    }
    let unsealed = prev_seq - nr.last_sealed_seq.max(archived_seq(opts, node));
    if unsealed > 0 && nr.records > 0 {
        warnings.push(format!(
            "node {node}: the last {unsealed} record(s) (after seq {}) are not sealed yet",
            nr.last_sealed_seq
        ));
    }
    Ok((nr, None))
}

fn archived_seq(opts: &Options, node: &str) -> i64 {
    opts.archived_heads.get(node).map_or(0, |h| h.0)
}

/// An intact record whose predecessor link does not match the record before it.
fn classify_link(
    conn: &mut Conn,
    node: &str,
    prev_seq: i64,
    prev_hash: &str,
    r: &Row,
) -> Result<(BreakKind, String), AuditError> {
    let target: Option<(i64, String)> = ar::table
        .filter(ar::node_id.eq(node))
        .filter(ar::hash.eq(&r.prev_hash))
        .select((ar::seq, ar::id))
        .first(conn)
        .optional()
        .map_err(store)?;
    Ok(match target {
        Some((j, id)) if j > r.seq => (
            BreakKind::Reordered,
            format!(
                "its predecessor is exchange {id}, stored later at seq {j}: records were moved"
            ),
        ),
        Some((j, id)) if j < prev_seq => (
            BreakKind::Inserted,
            format!(
                "it links to seq {j} (exchange {id}), so records seq {}..={prev_seq} were inserted \
                 into the chain",
                j + 1
            ),
        ),
        _ if r.seq > prev_seq + 1 => (
            BreakKind::Removed,
            format!(
                "records seq {}..={} are missing (its predecessor {} is gone)",
                prev_seq + 1,
                r.seq - 1,
                r.prev_hash
            ),
        ),
        _ if prev_seq == 0 || prev_hash == chain::GENESIS => (
            BreakKind::Removed,
            format!(
                "the chain starts here but links to {}: earlier records are missing and no \
                 archive accounts for them",
                r.prev_hash
            ),
        ),
        _ => (
            BreakKind::Removed,
            format!(
                "its predecessor {} is not in the store: records between seq {prev_seq} and this \
                 one were removed (and the rest renumbered)",
                r.prev_hash
            ),
        ),
    })
}

/// Which stored message disagrees with its recorded SHA-256, if any (for the report).
fn message_detail(rec: &Record) -> String {
    for (name, m) in rec.messages() {
        if let (Some(b), Some(sha)) = (m.bytes, m.sha256) {
            if m.is_whole() && hex::encode(Sha256::digest(b)) != sha {
                return format!(" (stored {name} no longer matches its SHA-256)");
            }
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::backend::StoreUrl;
    use crate::audit::testutil::{exchange, TestStore};
    use crate::audit::{AuditConfig, AuditLog, SealKey};

    /// A store with 10 records of node-1, sealed at 4 and at 10.
    async fn store(pg: bool) -> (TestStore, SealKey) {
        let store = if pg {
            TestStore::pg()
        } else {
            TestStore::sqlite()
        };
        let key = SealKey::generate().unwrap();
        let cfg = AuditConfig::default();
        let log = AuditLog::open(store.url(), "node-1", &cfg, key.clone()).unwrap();
        for i in 0..10 {
            log.record(exchange(i)).await.unwrap();
            if i == 3 {
                log.seal().await.unwrap();
            }
        }
        log.shutdown().await.unwrap();
        (store, key)
    }

    fn run(store: &TestStore, key: &SealKey) -> Report {
        let mut conn = Conn::connect(&StoreUrl::parse(store.url())).unwrap();
        let opts = Options {
            trusted_keys: vec![key.key_id().to_string()],
            ..Default::default()
        };
        verify(&mut conn, &opts).unwrap()
    }

    fn first(store: &TestStore, key: &SealKey) -> Break {
        let r = run(store, key);
        assert_eq!(r.breaks.len(), 1, "{r:?}");
        r.breaks[0].clone()
    }

    /// Moves records `seq >= from` by `by` positions (both tables), as a tamperer must to
    /// make room or close a gap.
    fn shift(from: i64, by: i64) -> String {
        let mut s = String::new();
        for t in ["audit_records", "audit_messages"] {
            s += &format!(
                "UPDATE {t} SET seq = -seq WHERE seq >= {from}; \
                 UPDATE {t} SET seq = -seq + ({by}) WHERE seq < 0;"
            );
        }
        s
    }

    async fn tamper_kinds(pg: bool) {
        // Intact.
        let (s, k) = store(pg).await;
        let r = run(&s, &k);
        assert!(r.ok(), "{r:?}");
        assert_eq!(r.nodes[0].records, 10);
        assert_eq!(r.nodes[0].last_sealed_seq, 10);

        // One byte of a stored message.
        let (s, k) = store(pg).await;
        let body = if pg {
            "UPDATE audit_messages SET body = overlay(body placing '9'::bytea from 110 for 1) \
             WHERE seq = 5 AND kind = 'request_in'"
        } else {
            "UPDATE audit_messages SET body = CAST(substr(body, 1, 109) || '9' || substr(body, 111) AS BLOB) \
             WHERE seq = 5 AND kind = 'request_in'"
        };
        s.tamper(body);
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Changed, 5), "{b}");
        assert!(b.detail.contains("request_in"), "{b}");

        // A field.
        let (s, k) = store(pg).await;
        s.tamper("UPDATE audit_records SET consumer = '000.00.13.H38' WHERE seq = 6");
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Changed, 6), "{b}");

        // A record deleted, leaving a gap.
        let (s, k) = store(pg).await;
        s.tamper(
            "DELETE FROM audit_records WHERE seq = 7; DELETE FROM audit_messages WHERE seq = 7",
        );
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Removed, 8), "{b}");

        // A record deleted and the rest renumbered to hide the gap.
        let (s, k) = store(pg).await;
        s.tamper(&format!(
            "DELETE FROM audit_records WHERE seq = 7; DELETE FROM audit_messages WHERE seq = 7; {}",
            shift(8, -1)
        ));
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Removed, 7), "{b}");

        // The newest records deleted: the shutdown seal still names the head.
        let (s, k) = store(pg).await;
        s.tamper(
            "DELETE FROM audit_records WHERE seq >= 9; DELETE FROM audit_messages WHERE seq >= 9",
        );
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Removed, 10), "{b}");

        // Two records swapped.
        let (s, k) = store(pg).await;
        let mut swap = String::new();
        for t in ["audit_records", "audit_messages"] {
            swap += &format!(
                "UPDATE {t} SET seq = -1 WHERE seq = 3; UPDATE {t} SET seq = 3 WHERE seq = 4; \
                 UPDATE {t} SET seq = 4 WHERE seq = -1;"
            );
        }
        s.tamper(&swap);
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Reordered, 3), "{b}");

        // A forged record inserted (copy of seq 2 under a new id) between 5 and 6.
        let (s, k) = store(pg).await;
        let cols = "node_id, id, received_at, forwarded_at, answered_at, remote_addr, consumer, \
            consumer_cert, provider, service, operation, provider_endpoint, soap_version, outcome, \
            fault_code, fault_reason, http_status, request_in_sha256, request_in_size, \
            request_out_sha256, request_out_size, response_in_sha256, response_in_size, \
            response_out_sha256, response_out_size, request_mapping, response_mapping, prev_hash, hash";
        s.tamper(&format!(
            "{} INSERT INTO audit_records (seq, {cols}) SELECT 6, {} FROM audit_records WHERE seq = 2",
            shift(6, 1),
            cols.replace("id, received_at", "'forged', received_at")
        ));
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Inserted, 6), "{b}");
        assert_eq!(b.id.as_deref(), Some("forged"));

        // A record changed and the whole chain after it recomputed: only the seals show it.
        let (s, k) = store(pg).await;
        let mut conn = Conn::connect(&StoreUrl::parse(s.url())).unwrap();
        let mut recs =
            crate::audit::query::rows_after(&mut conn, &Default::default(), None, 100).unwrap();
        recs.sort_by_key(|r| r.row.seq);
        let mut prev = recs[0].row.hash.clone();
        let mut sql = String::new();
        for r in recs.iter_mut().skip(1) {
            if r.row.seq == 2 {
                r.row.consumer = Some("000.00.13.H38".into());
            }
            let seq = r.row.seq;
            crate::audit::chain::link(r, seq, &prev);
            prev = r.row.hash.clone();
            sql += &format!(
                "UPDATE audit_records SET consumer = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {seq};",
                r.row.consumer.as_deref().unwrap(),
                r.row.prev_hash,
                r.row.hash
            );
        }
        drop(conn);
        s.tamper(&sql);
        let b = first(&s, &k);
        assert_eq!((b.kind, b.seq), (BreakKind::Changed, 4), "{b}");
        assert!(b.detail.contains("rewritten"), "{b}");

        // A seal forged with another key.
        let (s, k) = store(pg).await;
        let other = SealKey::generate().unwrap();
        let r = run(&s, &other);
        assert_eq!(r.breaks[0].kind, BreakKind::Seal, "{r:?}");
        let _ = k;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite_tampering_is_found() {
        tamper_kinds(false).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn postgres_tampering_is_found() {
        tamper_kinds(true).await;
    }
}
