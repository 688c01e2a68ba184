//! Retention: `audit archive --before DATE` moves each node's oldest records (a prefix of its
//! chain), with their seals, into a signed, self-verifiable file, and only then deletes them
//! from the store. The chain still verifies across archive files and the live store.
//!
//! # File format (JSON Lines, UTF-8)
//!
//! ```text
//! {"format":"lienthong-audit-archive","version":1,"created_at":..,"before":..,"nodes":[
//!     {"node_id","first_seq","last_seq","first_prev_hash","last_hash","count"}]}
//! {"record":{...every column...},"bodies":{"request_in":"<base64>",...}}   one per record,
//!                                                                         seq order per node
//! {"seal":{...}}                                        the seals over the archived records
//! {"signature":"<base64>","key_id":"..","public_key":"<PEM>"}
//! ```
//!
//! The last line signs (SHA-256, the seal key) every byte before it. Anyone can check a file
//! alone: signature, every record hash and link, every seal.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::backend::{store, Conn};
use super::chain;
use super::query;
use super::row::{Record, Row, KINDS};
use super::schema::{
    audit_archives, audit_daily, audit_messages, audit_records as ar, audit_seals,
};
use super::seal::{self, Seal, SealKey};
use super::verify;
use super::AuditError;

/// One node's archived slice of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cut {
    pub node_id: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_prev_hash: String,
    pub last_hash: String,
    pub count: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_archives)]
struct ArchiveRow {
    node_id: String,
    first_seq: i64,
    last_seq: i64,
    first_prev_hash: String,
    last_hash: String,
    record_count: i64,
    before_time: NaiveDateTime,
    file_name: String,
    file_sha256: String,
    created_at: NaiveDateTime,
}

/// What `archive` did.
#[derive(Debug, Clone)]
pub struct Archived {
    pub file: PathBuf,
    pub cuts: Vec<Cut>,
}

/// Archives every node's records received before `before` (the longest prefix of each
/// chain that is older) into `file`, then removes them from the store. Refuses if the store
/// does not verify. `None` when there is nothing to archive.
pub fn archive(
    conn: &mut Conn,
    before: NaiveDateTime,
    key: &SealKey,
    file: &Path,
) -> Result<Option<Archived>, AuditError> {
    let report = verify::verify(
        conn,
        &verify::Options {
            trusted_keys: vec![key.key_id().to_string()],
            ..Default::default()
        },
    )?;
    if let Some(b) = report.breaks.first() {
        return Err(AuditError::Store(format!(
            "the store does not verify, nothing archived: {b}"
        )));
    }
    let now = super::row::micros(chrono::Utc::now());
    let mut cuts = Vec::new();
    for n in &report.nodes {
        let (Some(first), Some(last)) = (n.first_seq, n.last_seq) else {
            continue;
        };
        let newer: Option<i64> = ar::table
            .filter(ar::node_id.eq(&n.node_id))
            .filter(ar::received_at.ge(before))
            .select(diesel::dsl::min(ar::seq))
            .first(conn)
            .map_err(store)?;
        let upto = newer.map_or(last, |s| s - 1);
        if upto < first {
            continue;
        }
        let (first_prev, last_hash): (String, String) = {
            let a: String = ar::table
                .filter(ar::node_id.eq(&n.node_id))
                .filter(ar::seq.eq(first))
                .select(ar::prev_hash)
                .first(conn)
                .map_err(store)?;
            let b: String = ar::table
                .filter(ar::node_id.eq(&n.node_id))
                .filter(ar::seq.eq(upto))
                .select(ar::hash)
                .first(conn)
                .map_err(store)?;
            (a, b)
        };
        // A seal exactly at the cut, so the archive ends on a signed head.
        let sealed: i64 = audit_seals::table
            .filter(audit_seals::node_id.eq(&n.node_id))
            .filter(audit_seals::seq.eq(upto))
            .count()
            .get_result(conn)
            .map_err(store)?;
        if sealed == 0 {
            let s = key.seal(&n.node_id, upto, &last_hash, now, "archive")?;
            diesel::insert_into(audit_seals::table)
                .values(&s)
                .execute(conn)
                .map_err(store)?;
        }
        cuts.push(Cut {
            node_id: n.node_id.clone(),
            first_seq: first,
            last_seq: upto,
            first_prev_hash: first_prev,
            last_hash,
            count: upto - first + 1,
        });
    }
    if cuts.is_empty() {
        return Ok(None);
    }

    let sha = write_file(conn, &cuts, before, now, key, file)?;
    let file_name = file.display().to_string();
    let rows: Vec<ArchiveRow> = cuts
        .iter()
        .map(|c| ArchiveRow {
            node_id: c.node_id.clone(),
            first_seq: c.first_seq,
            last_seq: c.last_seq,
            first_prev_hash: c.first_prev_hash.clone(),
            last_hash: c.last_hash.clone(),
            record_count: c.count,
            before_time: before,
            file_name: file_name.clone(),
            file_sha256: sha.clone(),
            created_at: now,
        })
        .collect();
    // The chart's counts lose what is removed. Read before the transaction: records up to
    // a cut never change.
    let mut minus = Vec::new();
    for cut in &cuts {
        minus.extend(super::daily::removed(conn, &cut.node_id, cut.last_seq)?);
    }
    // The archive row first: the delete triggers allow only what an archive covers.
    conn.transaction(|conn| {
        // One row per statement: diesel's common dialect has no multi-row INSERT (SQLite
        // lacks the DEFAULT keyword it needs); there is one row per node.
        for row in &rows {
            diesel::insert_into(audit_archives::table)
                .values(row)
                .execute(conn)?;
        }
        for cut in &cuts {
            diesel::delete(
                audit_messages::table
                    .filter(audit_messages::node_id.eq(&cut.node_id))
                    .filter(audit_messages::seq.le(cut.last_seq)),
            )
            .execute(conn)?;
            diesel::delete(
                ar::table
                    .filter(ar::node_id.eq(&cut.node_id))
                    .filter(ar::seq.le(cut.last_seq)),
            )
            .execute(conn)?;
            diesel::delete(
                audit_seals::table
                    .filter(audit_seals::node_id.eq(&cut.node_id))
                    .filter(audit_seals::seq.le(cut.last_seq)),
            )
            .execute(conn)?;
        }
        super::daily::add(conn, &minus)?;
        diesel::delete(audit_daily::table.filter(audit_daily::n.le(0))).execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(|e| {
        AuditError::Store(format!(
            "the archive {file_name} was written but the records could not be removed \
             (run as the table owner): {e}"
        ))
    })?;
    Ok(Some(Archived {
        file: file.to_path_buf(),
        cuts,
    }))
}

fn write_file(
    conn: &mut Conn,
    cuts: &[Cut],
    before: NaiveDateTime,
    now: NaiveDateTime,
    key: &SealKey,
    file: &Path,
) -> Result<String, AuditError> {
    let io = |e: std::io::Error| AuditError::Store(format!("cannot write {}: {e}", file.display()));
    if let Some(dir) = file.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
    }
    let tmp = file.with_extension("partial");
    let mut body: Vec<u8> = Vec::new();
    let header = json!({
        "format": "lienthong-audit-archive", "version": 1,
        "created_at": now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "before": before.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "nodes": cuts,
    });
    body.extend_from_slice(format!("{header}\n").as_bytes());
    for cut in cuts {
        let mut after = cut.first_seq - 1;
        while after < cut.last_seq {
            let rows: Vec<Row> = ar::table
                .filter(ar::node_id.eq(&cut.node_id))
                .filter(ar::seq.gt(after))
                .filter(ar::seq.le(cut.last_seq))
                .order(ar::seq.asc())
                .limit(2000)
                .select(Row::as_select())
                .load(conn)
                .map_err(store)?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for rec in query::with_bodies(conn, rows)? {
                let bodies: BTreeMap<&str, String> = KINDS
                    .iter()
                    .zip(&rec.bodies)
                    .filter_map(|(k, b)| {
                        b.as_ref()
                            .map(|b| (*k, base64::engine::general_purpose::STANDARD.encode(b)))
                    })
                    .collect();
                let line = json!({ "record": rec.row, "bodies": bodies });
                body.extend_from_slice(format!("{line}\n").as_bytes());
            }
        }
        let seals: Vec<Seal> = audit_seals::table
            .filter(audit_seals::node_id.eq(&cut.node_id))
            .filter(audit_seals::seq.le(cut.last_seq))
            .order(audit_seals::seq.asc())
            .select(Seal::as_select())
            .load(conn)
            .map_err(store)?;
        for s in seals {
            body.extend_from_slice(format!("{}\n", json!({ "seal": s })).as_bytes());
        }
    }
    let signature = json!({
        "signature": key.sign_bytes(&body)?,
        "key_id": key.key_id(),
        "public_key": key.public_pem(),
    });
    body.extend_from_slice(format!("{signature}\n").as_bytes());
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&body).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, file).map_err(io)?;
    Ok(hex::encode(Sha256::digest(&body)))
}

/// What a verified archive file holds.
#[derive(Debug, Clone)]
pub struct Checked {
    pub cuts: Vec<Cut>,
    pub key_id: String,
    pub sha256: String,
}

#[derive(Deserialize)]
struct Line {
    record: Option<Row>,
    bodies: Option<BTreeMap<String, String>>,
    seal: Option<Seal>,
}

/// Checks an archive file alone: its signature (with a trusted key, if any are given),
/// every record's hash and link, every seal. The error names the first problem.
pub fn check_file(path: &Path, trusted_keys: &[String]) -> Result<Checked, String> {
    let at = |n: usize, m: String| format!("{}:{}: {m}", path.display(), n);
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let body_end = bytes[..bytes.len().saturating_sub(1)]
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|p| p + 1)
        .ok_or_else(|| at(1, "not an archive file".into()))?;
    let sig: serde_json::Value = serde_json::from_slice(&bytes[body_end..])
        .map_err(|e| at(0, format!("last line is not a signature: {e}")))?;
    let (Some(s), Some(k), Some(p)) = (
        sig["signature"].as_str(),
        sig["key_id"].as_str(),
        sig["public_key"].as_str(),
    ) else {
        return Err(at(0, "last line is not a signature".into()));
    };
    seal::check_bytes(p, k, &bytes[..body_end], s).map_err(|e| at(0, format!("archive {e}")))?;
    if !trusted_keys.is_empty() && !trusted_keys.iter().any(|t| t == k) {
        return Err(at(0, format!("archive signed by untrusted key {k}")));
    }
    let mut lines = bytes[..body_end].lines();
    let header: serde_json::Value = lines
        .next()
        .and_then(|l| l.ok())
        .and_then(|l| serde_json::from_str(&l).ok())
        .filter(|h: &serde_json::Value| h["format"] == "lienthong-audit-archive")
        .ok_or_else(|| at(1, "not a lienthong audit archive".into()))?;
    let cuts: Vec<Cut> = serde_json::from_value(header["nodes"].clone())
        .map_err(|e| at(1, format!("bad header: {e}")))?;
    // node -> (seq, hash) of the last record read.
    let mut heads: BTreeMap<String, (i64, String, i64)> = cuts
        .iter()
        .map(|c| {
            (
                c.node_id.clone(),
                (c.first_seq - 1, c.first_prev_hash.clone(), 0),
            )
        })
        .collect();
    let mut hashes: BTreeMap<(String, i64), String> = BTreeMap::new();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let line = line.map_err(|e| at(n, e.to_string()))?;
        let l: Line = serde_json::from_str(&line).map_err(|e| at(n, e.to_string()))?;
        if let Some(row) = l.record {
            let mut rec = Record {
                row,
                bodies: Default::default(),
            };
            for (k, b) in l.bodies.unwrap_or_default() {
                let i = KINDS
                    .iter()
                    .position(|x| *x == k)
                    .ok_or_else(|| at(n, format!("unknown message kind {k}")))?;
                rec.bodies[i] = Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .map_err(|_| at(n, "message is not base64".into()))?,
                );
            }
            let r = &rec.row;
            let head = heads
                .get_mut(&r.node_id)
                .ok_or_else(|| at(n, format!("record of node {} not in the header", r.node_id)))?;
            if !chain::is_intact(&rec) {
                return Err(at(
                    n,
                    format!(
                        "record seq {} ({}): content does not match its hash",
                        r.seq, r.id
                    ),
                ));
            }
            if r.prev_hash != head.1 || r.seq != head.0 + 1 {
                return Err(at(
                    n,
                    format!(
                        "record seq {} ({}): does not follow seq {}",
                        r.seq, r.id, head.0
                    ),
                ));
            }
            *head = (r.seq, r.hash.clone(), head.2 + 1);
            hashes.insert((r.node_id.clone(), r.seq), r.hash.clone());
        } else if let Some(s) = l.seal {
            seal::check(&s).map_err(|e| at(n, format!("seal at seq {}: {e}", s.seq)))?;
            if !trusted_keys.is_empty() && !trusted_keys.contains(&s.key_id) {
                return Err(at(
                    n,
                    format!("seal at seq {} signed by untrusted key", s.seq),
                ));
            }
            if hashes.get(&(s.node_id.clone(), s.seq)) != Some(&s.head_hash) {
                return Err(at(
                    n,
                    format!("seal at seq {} does not match the archived chain", s.seq),
                ));
            }
        } else {
            return Err(at(n, "unexpected line".into()));
        }
    }
    for c in &cuts {
        let h = &heads[&c.node_id];
        if (h.0, &h.1, h.2) != (c.last_seq, &c.last_hash, c.count) {
            return Err(at(
                0,
                format!(
                    "node {}: records missing (ends at seq {}, header says {})",
                    c.node_id, h.0, c.last_seq
                ),
            ));
        }
    }
    Ok(Checked {
        cuts,
        key_id: k.to_string(),
        sha256: hex::encode(Sha256::digest(&bytes[..body_end])),
    })
}

/// Chains archive files per node (each must start where the previous ended, the first at
/// the genesis) and returns where each node's live chain must start.
pub fn heads_from(files: &[Checked]) -> Result<BTreeMap<String, (i64, String)>, String> {
    let mut per_node: BTreeMap<String, Vec<&Cut>> = BTreeMap::new();
    for f in files {
        for c in &f.cuts {
            per_node.entry(c.node_id.clone()).or_default().push(c);
        }
    }
    let mut heads = BTreeMap::new();
    for (node, mut cuts) in per_node {
        cuts.sort_by_key(|c| c.first_seq);
        let mut prev = (0, chain::GENESIS.to_string());
        for c in cuts {
            if c.first_prev_hash != prev.1 || c.first_seq != prev.0 + 1 {
                return Err(format!(
                    "node {node}: the archive starting at seq {} does not follow seq {} (an archive is missing)",
                    c.first_seq, prev.0
                ));
            }
            prev = (c.last_seq, c.last_hash.clone());
        }
        heads.insert(node, prev);
    }
    Ok(heads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::backend::StoreUrl;
    use crate::audit::testutil::{exchange, TestStore};
    use crate::audit::{AuditConfig, AuditLog};

    async fn across_archive_and_store(store: TestStore) {
        let key = SealKey::generate().unwrap();
        let log =
            AuditLog::open(store.url(), "node-1", &AuditConfig::default(), key.clone()).unwrap();
        let base = chrono::DateTime::parse_from_rfc3339("2026-01-15T08:00:00Z")
            .unwrap()
            .to_utc();
        for i in 0..12usize {
            let mut r = exchange(i);
            // Two months: 6 in January, 6 in February.
            r.received_at = base
                + chrono::Duration::days(if i < 6 { 0 } else { 31 })
                + chrono::Duration::minutes(i as i64);
            log.record(r).await.unwrap();
        }
        log.shutdown().await.unwrap();
        let mut conn = Conn::connect(&StoreUrl::parse(store.url())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jan.jsonl");
        let before =
            NaiveDateTime::parse_from_str("2026-02-01T00:00:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        let done = archive(&mut conn, before, &key, &file).unwrap().unwrap();
        assert_eq!((done.cuts[0].first_seq, done.cuts[0].last_seq), (1, 6));
        assert_eq!(
            query::count(&mut conn, &query::Filter::default()).unwrap(),
            6
        );

        let trusted = vec![key.key_id().to_string()];
        let checked = check_file(&file, &trusted).unwrap();
        let heads = heads_from(&[checked]).unwrap();
        let opts = verify::Options {
            trusted_keys: trusted.clone(),
            archived_heads: heads,
        };
        let r = verify::verify(&mut conn, &opts).unwrap();
        assert!(r.ok(), "{r:?}");
        assert_eq!((r.nodes[0].first_seq, r.nodes[0].records), (Some(7), 6));
        // Also from the audit_archives row alone.
        let r = verify::verify(
            &mut conn,
            &verify::Options {
                trusted_keys: trusted.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(r.ok(), "{r:?}");

        // The store keeps writing after the cut.
        let log =
            AuditLog::open(store.url(), "node-1", &AuditConfig::default(), key.clone()).unwrap();
        log.record(exchange(99)).await.unwrap();
        log.shutdown().await.unwrap();
        assert!(verify::verify(&mut conn, &opts).unwrap().ok());

        // One byte changed in the file: its signature fails.
        let mut b = std::fs::read(&file).unwrap();
        let i = b.windows(13).position(|w| w == b"000.00.21.H38").unwrap();
        b[i + 12] = b'9';
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, &b).unwrap();
        assert!(check_file(&bad, &trusted)
            .unwrap_err()
            .contains("signature"));
        // Archived rows cannot come back in as updates; deleting live ones is refused.
        let e = diesel::delete(ar::table).execute(&mut conn).unwrap_err();
        assert!(e.to_string().contains("archived"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite_chain_verifies_across_archive_and_store() {
        across_archive_and_store(TestStore::sqlite()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn postgres_chain_verifies_across_archive_and_store() {
        across_archive_and_store(TestStore::pg()).await;
    }
}
