//! The [`AuditLog`] handle and its writer thread.
//!
//! All writes go through one thread per gateway node that owns the connection: it takes
//! every record waiting, links them into the chain, inserts them in one transaction,
//! commits, and only then wakes each caller. So batching raises throughput without ever
//! answering an exchange whose record is not durable (the pipeline sends its answer after
//! [`AuditLog::record`] returns). If the store fails, the batch's callers get an error (the
//! exchange is refused) and the next batch reconnects and re-reads the chain head, so the
//! log recovers by itself when the store comes back. Diesel never runs on the async
//! runtime.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Datelike;
use diesel::prelude::*;
use tokio::sync::oneshot;

use super::backend::{store, Conn, StoreUrl};
use super::chain;
use super::daily;
use super::row::{Record, Row};
use super::schema::{audit_archives, audit_messages, audit_records, audit_seals};
use super::seal::{Seal, SealKey};
use super::{AuditConfig, AuditError, ExchangeRecord};

type Reply<T> = oneshot::Sender<Result<T, AuditError>>;

enum Cmd {
    Record(Box<ExchangeRecord>, Reply<()>),
    Seal(Reply<Option<Seal>>),
    Shutdown(Reply<Option<Seal>>),
}

/// Handle on the store shared by all exchanges.
pub struct AuditLog {
    tx: Mutex<Option<mpsc::Sender<Cmd>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    url: StoreUrl,
    node_id: String,
}

impl AuditLog {
    /// Opens (creating and migrating) the store at `url` (`sqlite://PATH`, a plain path, or
    /// `postgres://...`) and starts the node's writer. Seals are signed with `key`.
    pub fn open(
        url: &str,
        node_id: &str,
        cfg: &AuditConfig,
        key: SealKey,
    ) -> Result<AuditLog, AuditError> {
        let url = StoreUrl::parse(url);
        let mut conn = Conn::connect(&url)?;
        conn.ensure_migrated()?;
        let mut writer = Writer {
            url: url.clone(),
            node_id: node_id.to_string(),
            cfg: cfg.clone(),
            key,
            conn: None,
            head: None,
            since_seal: 0,
            last_seal: Instant::now(),
            months: Vec::new(),
        };
        writer.attach(conn)?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("audit-writer-{node_id}"))
            .spawn(move || writer.run(rx))
            .map_err(|e| AuditError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(AuditLog {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            url,
            node_id: node_id.to_string(),
        })
    }

    /// Appends one record; returns once it is committed.
    pub async fn record(&self, rec: ExchangeRecord) -> Result<(), AuditError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Record(Box::new(rec), tx))?;
        rx.await.map_err(|_| stopped())?
    }

    /// Writes a seal over the current head now (none if nothing new since the last one).
    pub async fn seal(&self) -> Result<Option<Seal>, AuditError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Seal(tx))?;
        rx.await.map_err(|_| stopped())?
    }

    /// Seals the head and stops the writer; later `record` calls fail. Call after the
    /// server has drained its in-flight exchanges.
    pub async fn shutdown(&self) -> Result<Option<Seal>, AuditError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Shutdown(tx))?;
        let sealed = rx.await.map_err(|_| stopped())?;
        self.tx.lock().expect("audit sender lock").take();
        let thread = self.thread.lock().expect("audit thread lock").take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        sealed
    }

    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    fn send(&self, cmd: Cmd) -> Result<(), AuditError> {
        let guard = self.tx.lock().expect("audit sender lock");
        match guard.as_ref() {
            Some(tx) => tx.send(cmd).map_err(|_| stopped()),
            None => Err(stopped()),
        }
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Closing the channel makes the writer seal and exit; wait so the seal lands.
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

fn stopped() -> AuditError {
    AuditError::Unavailable("the audit writer has stopped".into())
}

#[derive(Debug, Clone)]
struct Head {
    seq: i64,
    hash: String,
    /// `seq` of the newest seal.
    sealed_seq: i64,
}

struct Writer {
    url: StoreUrl,
    node_id: String,
    cfg: AuditConfig,
    key: SealKey,
    conn: Option<Conn>,
    /// Known only while connected; re-read after any failure.
    head: Option<Head>,
    since_seal: u64,
    last_seal: Instant,
    /// PostgreSQL months whose partition exists (checked once per connection).
    months: Vec<(i32, u32)>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Cmd>) {
        let interval = Duration::from_secs(self.cfg.seal_every_seconds.max(1));
        loop {
            let wait = interval.saturating_sub(self.last_seal.elapsed());
            let first = match rx.recv_timeout(wait) {
                Ok(cmd) => cmd,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.seal_if_due("time");
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = self.seal("shutdown");
                    return;
                }
            };
            let mut records = Vec::new();
            let mut others = Vec::new();
            let mut next = Some(first);
            while let Some(cmd) = next.take() {
                match cmd {
                    Cmd::Record(r, reply) => records.push((r, reply)),
                    other => others.push(other),
                }
                if records.len() < self.cfg.batch_max.max(1) && others.is_empty() {
                    next = rx.try_recv().ok();
                }
            }
            if !records.is_empty() {
                self.write(records);
                if self.since_seal >= self.cfg.seal_every_records.max(1) {
                    self.seal_if_due("count");
                }
            }
            for cmd in others {
                match cmd {
                    Cmd::Record(..) => unreachable!("records were split out"),
                    Cmd::Seal(reply) => {
                        let _ = reply.send(self.seal("request"));
                    }
                    Cmd::Shutdown(reply) => {
                        let _ = reply.send(self.seal("shutdown"));
                        return;
                    }
                }
            }
            if self.last_seal.elapsed() >= interval {
                self.seal_if_due("time");
            }
        }
    }

    /// Takes a fresh connection and reads the chain head from it.
    fn attach(&mut self, mut conn: Conn) -> Result<(), AuditError> {
        if !self.cfg.durable_commits {
            conn.relax_commits()?;
        }
        let head = read_head(&mut conn, &self.node_id)?;
        self.conn = Some(conn);
        self.head = Some(head);
        self.months.clear();
        Ok(())
    }

    fn ensure(&mut self) -> Result<(), AuditError> {
        if self.conn.is_none() || self.head.is_none() {
            let conn = Conn::connect(&self.url)?;
            self.attach(conn)?;
        }
        Ok(())
    }

    fn fail(&mut self, e: &AuditError) {
        log::error!("audit store ({}) failed: {e}", self.url.redacted());
        self.conn = None;
        self.head = None;
    }

    fn write(&mut self, batch: Vec<(Box<ExchangeRecord>, Reply<()>)>) {
        let (recs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let result = self.ensure().and_then(|()| {
            let head = self.head.clone().expect("attached");
            let mut rows = Vec::with_capacity(recs.len());
            let (mut seq, mut prev) = (head.seq, head.hash.clone());
            for rec in recs {
                let mut row = Record::from_exchange(*rec, &self.node_id, &self.cfg);
                seq += 1;
                chain::link(&mut row, seq, &prev);
                prev = row.row.hash.clone();
                rows.push(row);
            }
            self.insert(&rows)?;
            Ok(Head {
                seq,
                hash: prev,
                sealed_seq: head.sealed_seq,
            })
        });
        match result {
            Ok(head) => {
                self.since_seal += replies.len() as u64;
                self.head = Some(head);
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                self.fail(&e);
                for reply in replies {
                    let _ = reply.send(Err(clone_err(&e)));
                }
            }
        }
    }

    fn insert(&mut self, recs: &[Record]) -> Result<(), AuditError> {
        let conn = self.conn.as_mut().expect("attached");
        if let Conn::Pg(c) = conn {
            for Record { row: r, .. } in recs {
                let m = (r.received_at.year(), r.received_at.month());
                if !self.months.contains(&m) {
                    diesel::sql_query("SELECT audit_ensure_partition($1)")
                        .bind::<diesel::sql_types::Timestamp, _>(r.received_at)
                        .execute(c)
                        .map_err(store)?;
                    self.months.push(m);
                }
            }
        }
        let messages: Vec<_> = recs.iter().flat_map(Record::message_rows).collect();
        let rows: Vec<&Row> = recs.iter().map(|r| &r.row).collect();
        let daily = daily::of(rows.iter().copied());
        conn.transaction(|conn| {
            match conn {
                // COPY streams the rows in PostgreSQL's binary format: no SQL text of
                // thousands of parameters to parse and plan per batch, which was most of the
                // server's work.
                Conn::Pg(c) => {
                    diesel::copy_from(audit_records::table)
                        .from_insertable(rows)
                        .execute(c)?;
                    if !messages.is_empty() {
                        diesel::copy_from(audit_messages::table)
                            .from_insertable(messages)
                            .execute(c)?;
                    }
                }
                // One prepared statement per table, reused for every row: SQLite runs it
                // without the parsing a multi-row statement (different for each batch size)
                // would need.
                Conn::Sqlite(c) => {
                    for r in &rows {
                        diesel::insert_into(audit_records::table)
                            .values(*r)
                            .execute(c)?;
                    }
                    for m in &messages {
                        diesel::insert_into(audit_messages::table)
                            .values(m)
                            .execute(c)?;
                    }
                }
            }
            daily::add(conn, &daily)
        })
        .map_err(store)
    }

    fn seal_if_due(&mut self, reason: &str) {
        if self.since_seal > 0 || self.head.as_ref().is_some_and(|h| h.seq > h.sealed_seq) {
            if let Err(e) = self.seal(reason) {
                log::error!("audit seal failed (retried later): {e}");
            }
        }
        self.last_seal = Instant::now();
    }

    /// Seals the current head unless it is already sealed.
    fn seal(&mut self, reason: &str) -> Result<Option<Seal>, AuditError> {
        self.last_seal = Instant::now();
        if let Err(e) = self.ensure() {
            self.fail(&e);
            return Err(e);
        }
        let head = self.head.clone().expect("attached");
        if head.seq == 0 || head.seq == head.sealed_seq {
            self.since_seal = 0;
            return Ok(None);
        }
        let seal = self.key.seal(
            &self.node_id,
            head.seq,
            &head.hash,
            super::row::micros(chrono::Utc::now()),
            reason,
        )?;
        let conn = self.conn.as_mut().expect("attached");
        let written = diesel::insert_into(audit_seals::table)
            .values(&seal)
            .execute(conn)
            .map_err(store);
        match written {
            Ok(_) => {
                self.since_seal = 0;
                if let Some(h) = self.head.as_mut() {
                    h.sealed_seq = head.seq;
                }
                Ok(Some(seal))
            }
            Err(e) => {
                self.fail(&e);
                Err(e)
            }
        }
    }
}

/// The newest record of `node_id` (or the end of its last archive), and its newest seal.
fn read_head(conn: &mut Conn, node_id: &str) -> Result<Head, AuditError> {
    let last: Option<(i64, String)> = audit_records::table
        .filter(audit_records::node_id.eq(node_id))
        .order(audit_records::seq.desc())
        .select((audit_records::seq, audit_records::hash))
        .first(conn)
        .optional()
        .map_err(store)?;
    let archived: Option<(i64, String)> = audit_archives::table
        .filter(audit_archives::node_id.eq(node_id))
        .order(audit_archives::last_seq.desc())
        .select((audit_archives::last_seq, audit_archives::last_hash))
        .first(conn)
        .optional()
        .map_err(store)?;
    let sealed: Option<i64> = audit_seals::table
        .filter(audit_seals::node_id.eq(node_id))
        .select(diesel::dsl::max(audit_seals::seq))
        .first(conn)
        .map_err(store)?;
    let (seq, hash) = match (last, archived) {
        (Some(l), Some(a)) if a.0 > l.0 => a,
        (Some(l), _) => l,
        (None, Some(a)) => a,
        (None, None) => (0, chain::GENESIS.to_string()),
    };
    Ok(Head {
        seq,
        hash,
        sealed_seq: sealed.unwrap_or(0),
    })
}

fn clone_err(e: &AuditError) -> AuditError {
    match e {
        AuditError::Unavailable(m) => AuditError::Unavailable(m.clone()),
        other => AuditError::Store(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::audit::query::{self, Filter};
    use crate::audit::testutil::{exchange, TestStore};

    async fn concurrent_records_are_chained(store: TestStore) {
        let cfg = AuditConfig {
            seal_every_records: 50,
            // The relaxed commits take the same path (the durable ones are tested elsewhere).
            durable_commits: false,
            ..AuditConfig::default()
        };
        let log = Arc::new(
            AuditLog::open(store.url(), "node-1", &cfg, SealKey::generate().unwrap()).unwrap(),
        );
        let mut tasks = Vec::new();
        for i in 0..200 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move { log.record(exchange(i)).await }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        log.shutdown().await.unwrap();
        let mut conn = Conn::connect(&StoreUrl::parse(store.url())).unwrap();
        assert_eq!(query::count(&mut conn, &Filter::default()).unwrap(), 200);
        let recs = query::rows_after(&mut conn, &Filter::default(), None, 1000).unwrap();
        assert!(recs.iter().all(chain::is_intact));
        assert!(recs.iter().all(|r| r.bodies.iter().all(Option::is_some)));
        let head = read_head(&mut conn, "node-1").unwrap();
        assert_eq!((head.seq, head.sealed_seq), (200, 200));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite_concurrent_records_are_chained() {
        concurrent_records_are_chained(TestStore::sqlite()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn postgres_concurrent_records_are_chained() {
        concurrent_records_are_chained(TestStore::pg()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn reopened_store_continues_the_chain() {
        let store = TestStore::sqlite();
        let key = SealKey::generate().unwrap();
        for _ in 0..2 {
            let log = AuditLog::open(store.url(), "node-1", &AuditConfig::default(), key.clone())
                .unwrap();
            log.record(exchange(1)).await.unwrap();
            log.record(exchange(2)).await.unwrap();
            log.shutdown().await.unwrap();
        }
        let mut conn = Conn::connect(&StoreUrl::parse(store.url())).unwrap();
        let recs = query::rows_after(&mut conn, &Filter::default(), None, 10).unwrap();
        assert_eq!(recs.len(), 4);
        let mut by_seq = recs.clone();
        by_seq.sort_by_key(|r| r.row.seq);
        for w in by_seq.windows(2) {
            assert_eq!(w[1].row.prev_hash, w[0].row.hash);
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn unreachable_store_fails_closed_then_recovers() {
        let store = TestStore::pg();
        let log = store.open_log();
        log.record(exchange(1)).await.unwrap();
        // Make the store refuse writes (as an outage does), then bring it back.
        let TestStore::Pg(schema, _) = &store else {
            unreachable!()
        };
        store.tamper(&format!(
            "ALTER TABLE {schema}.audit_records RENAME TO audit_records_away"
        ));
        assert!(log.record(exchange(2)).await.is_err());
        store.tamper(&format!(
            "ALTER TABLE {schema}.audit_records_away RENAME TO audit_records"
        ));
        log.record(exchange(3)).await.unwrap();
        log.shutdown().await.unwrap();
        let mut conn = Conn::connect(&StoreUrl::parse(store.url())).unwrap();
        assert_eq!(query::count(&mut conn, &Filter::default()).unwrap(), 2);
    }
}
