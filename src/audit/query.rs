//! The auditor's filters (shared by the CLI, the HTTP API and exports), keyset pagination
//! and reads of single records.
//!
//! Every filter maps to an indexed column (see the migrations): time range on
//! `received_at`, agencies and service with `received_at` as second key, exact id.

use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::backend::{store, Conn, MultiBackend};
use super::row::{MessageRow, Record, Row, Summary, KINDS};
use super::schema::audit_messages as am;
use super::schema::audit_records as ar;
use super::AuditError;

/// A malformed filter, naming the parameter.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid parameter `{param}`: {reason}")]
pub struct FilterError {
    pub param: String,
    pub reason: String,
}

fn bad(param: &str, reason: impl Into<String>) -> FilterError {
    FilterError {
        param: param.into(),
        reason: reason.into(),
    }
}

/// Which records to return. All conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `received_at >= from`.
    pub from: Option<NaiveDateTime>,
    /// `received_at < to`.
    pub to: Option<NaiveDateTime>,
    pub consumer: Option<String>,
    pub provider: Option<String>,
    /// Consumer or provider.
    pub agency: Option<String>,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub outcome: Option<String>,
    pub fault: Option<String>,
    pub node: Option<String>,
    /// Substring of the exchange id or the consumer certificate fingerprint.
    pub text: Option<String>,
}

/// The names [`Filter::set`] accepts, for help texts and the OpenAPI description.
pub const PARAMS: &[&str] = &[
    "from",
    "to",
    "consumer",
    "provider",
    "agency",
    "service",
    "operation",
    "outcome",
    "fault",
    "node",
    "q",
];

impl Filter {
    /// Sets one parameter from its text form. `from`/`to` take RFC 3339 times or dates
    /// (`to=2026-11-26` includes that whole day).
    pub fn set(&mut self, param: &str, value: &str) -> Result<(), FilterError> {
        let v = value.trim();
        let text = |max: usize| -> Result<Option<String>, FilterError> {
            if v.is_empty() {
                return Ok(None);
            }
            if v.len() > max || v.chars().any(char::is_control) {
                return Err(bad(param, format!("at most {max} printable characters")));
            }
            Ok(Some(v.to_string()))
        };
        match param {
            "from" => self.from = time(param, v, false)?,
            "to" => self.to = time(param, v, true)?,
            "consumer" => self.consumer = agency(param, v)?,
            "provider" => self.provider = agency(param, v)?,
            "agency" => self.agency = agency(param, v)?,
            "service" => self.service = text(128)?,
            "operation" => self.operation = text(128)?,
            "fault" => self.fault = text(128)?,
            "node" => self.node = text(128)?,
            "q" => self.text = text(128)?,
            "outcome" => {
                self.outcome = match v {
                    "" => None,
                    "accepted" | "rejected" | "failed" => Some(v.to_string()),
                    _ => return Err(bad(param, "one of accepted, rejected, failed")),
                }
            }
            _ => return Err(bad(param, "unknown parameter")),
        }
        if let (Some(f), Some(t)) = (self.from, self.to) {
            if f > t {
                return Err(bad(param, "`from` is after `to`"));
            }
        }
        Ok(())
    }
}

fn time(param: &str, v: &str, end: bool) -> Result<Option<NaiveDateTime>, FilterError> {
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.naive_utc()));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Some(t));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M") {
        return Ok(Some(t));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let d = if end { d.succ_opt().unwrap_or(d) } else { d };
        return Ok(Some(d.and_time(NaiveTime::MIN)));
    }
    Err(bad(
        param,
        "expected a date (2026-11-26) or an RFC 3339 time (2026-11-26T08:00:00Z)",
    ))
}

fn agency(param: &str, v: &str) -> Result<Option<String>, FilterError> {
    if v.is_empty() {
        return Ok(None);
    }
    // Electronic agency codes (QĐ 20/2020/QĐ-TTg): four dot-separated groups.
    let ok = v.len() <= 32
        && v.split('.').count() == 4
        && v.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !ok {
        return Err(bad(param, "expected an agency code like 000.00.12.H38"));
    }
    Ok(Some(v.to_string()))
}

/// Where a page ends: the last row's time and id (rows are ordered newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub received_at: NaiveDateTime,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let s = format!(
            "{}|{}",
            self.received_at.format("%Y-%m-%dT%H:%M:%S%.6f"),
            self.id
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    pub fn decode(param: &str, s: &str) -> Result<Cursor, FilterError> {
        let err = || bad(param, "not a cursor returned by this API");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| err())?;
        let raw = String::from_utf8(raw).map_err(|_| err())?;
        let (t, id) = raw.split_once('|').ok_or_else(err)?;
        let received_at =
            NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| err())?;
        Ok(Cursor {
            received_at,
            id: id.to_string(),
        })
    }
}

/// Applies a [`Filter`] to a boxed `audit_records` query.
fn filtered<'a>(
    mut q: ar::BoxedQuery<'a, MultiBackend>,
    f: &Filter,
) -> ar::BoxedQuery<'a, MultiBackend> {
    if let Some(t) = f.from {
        q = q.filter(ar::received_at.ge(t));
    }
    if let Some(t) = f.to {
        q = q.filter(ar::received_at.lt(t));
    }
    if let Some(v) = &f.consumer {
        q = q.filter(ar::consumer.eq(v.clone()));
    }
    if let Some(v) = &f.provider {
        q = q.filter(ar::provider.eq(v.clone()));
    }
    if let Some(v) = &f.agency {
        q = q.filter(ar::consumer.eq(v.clone()).or(ar::provider.eq(v.clone())));
    }
    if let Some(v) = &f.service {
        q = q.filter(ar::service.eq(v.clone()));
    }
    if let Some(v) = &f.operation {
        q = q.filter(ar::operation.eq(v.clone()));
    }
    if let Some(v) = &f.outcome {
        q = q.filter(ar::outcome.eq(v.clone()));
    }
    if let Some(v) = &f.fault {
        q = q.filter(ar::fault_code.eq(v.clone()));
    }
    if let Some(v) = &f.node {
        q = q.filter(ar::node_id.eq(v.clone()));
    }
    if let Some(v) = &f.text {
        let pat = format!("%{}%", like_escape(v));
        q = q.filter(
            ar::id
                .like(pat.clone())
                .escape('\\')
                .or(ar::consumer_cert.like(pat).escape('\\')),
        );
    }
    q
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
pub fn like_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// One page of summaries, newest first, and the cursor of the next page if any.
pub fn page(
    conn: &mut Conn,
    f: &Filter,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Summary>, Option<Cursor>), AuditError> {
    let limit = limit.clamp(1, 10_000);
    let mut rows: Vec<Summary> = {
        let mut q = filtered(ar::table.into_boxed(), f);
        if let Some(cur) = after {
            q = q.filter(
                ar::received_at.lt(cur.received_at).or(ar::received_at
                    .eq(cur.received_at)
                    .and(ar::id.lt(cur.id.clone()))),
            );
        }
        q.order((ar::received_at.desc(), ar::id.desc()))
            .limit(limit as i64 + 1)
            .select(Summary::as_select())
            .load(conn)
    }
    .map_err(store)?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| Cursor {
            received_at: r.received_at,
            id: r.id.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// Full rows (messages included) matching `f`, oldest first, in pages of `batch` —
/// for exports, which stream.
pub fn rows_after(
    conn: &mut Conn,
    f: &Filter,
    after: Option<&Cursor>,
    batch: usize,
) -> Result<Vec<Record>, AuditError> {
    let rows = {
        let mut q = filtered(ar::table.into_boxed(), f);
        if let Some(cur) = after {
            q = q.filter(
                ar::received_at.gt(cur.received_at).or(ar::received_at
                    .eq(cur.received_at)
                    .and(ar::id.gt(cur.id.clone()))),
            );
        }
        q.order((ar::received_at.asc(), ar::id.asc()))
            .limit(batch as i64)
            .select(Row::as_select())
            .load(conn)
    }
    .map_err(store)?;
    with_bodies(conn, rows)
}

/// Loads the stored message bytes of `rows`.
pub fn with_bodies(conn: &mut Conn, rows: Vec<Row>) -> Result<Vec<Record>, AuditError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut by_node: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
    for r in &rows {
        by_node.entry(&r.node_id).or_default().push(r.seq);
    }
    let mut bodies: std::collections::HashMap<(String, i64), Vec<MessageRow>> = Default::default();
    for (node, seqs) in by_node {
        for chunk in seqs.chunks(1000) {
            let found: Vec<MessageRow> = am::table
                .filter(am::node_id.eq(node))
                .filter(am::seq.eq_any(chunk))
                .select(MessageRow::as_select())
                .load(conn)
                .map_err(store)?;
            for m in found {
                bodies
                    .entry((m.node_id.clone(), m.seq))
                    .or_default()
                    .push(m);
            }
        }
    }
    for row in rows {
        let mut rec = Record {
            row,
            bodies: Default::default(),
        };
        for m in bodies
            .remove(&(rec.row.node_id.clone(), rec.row.seq))
            .unwrap_or_default()
        {
            if let Some(i) = KINDS.iter().position(|k| *k == m.kind) {
                rec.bodies[i] = Some(m.body);
            }
        }
        out.push(rec);
    }
    Ok(out)
}

/// The records with exchange id `id` (one, unless a tampered store duplicated it).
pub fn by_id(conn: &mut Conn, id: &str) -> Result<Vec<Record>, AuditError> {
    let rows = ar::table
        .filter(ar::id.eq(id))
        .order((ar::node_id.asc(), ar::seq.asc()))
        .select(Row::as_select())
        .load(conn)
        .map_err(store)?;
    with_bodies(conn, rows)
}

/// Number of records matching `f`: from the per-day counts when the filter allows it (see
/// [`Sql::new`]), else by counting the records.
pub fn count(conn: &mut Conn, f: &Filter) -> Result<i64, AuditError> {
    let q = Sql::new(f, conn.is_postgres());
    if q.daily {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM audit_daily {}",
            q.where_clause()
        );
        let rows: Vec<N> = q.load(conn, sql)?;
        return Ok(rows.first().map_or(0, |r| r.n));
    }
    filtered(ar::table.into_boxed(), f)
        .count()
        .get_result(conn)
        .map_err(store)
}

/// Exchanges per day and consumer agency (for the auditor's chart).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayCount {
    pub day: String,
    pub consumer: Option<String>,
    pub count: i64,
}

enum Bind {
    T(String),
    Ts(NaiveDateTime),
}

/// A [`Filter`] rendered as SQL conditions with bound parameters, over `audit_daily` when
/// every condition is one of its columns and the time range falls on UTC midnights (whole
/// days, as the page and the CLI's dates give), else over `audit_records`.
struct Sql {
    pg: bool,
    daily: bool,
    conds: Vec<String>,
    binds: Vec<Bind>,
}

impl Sql {
    fn new(f: &Filter, pg: bool) -> Sql {
        let whole_day = |t: &Option<NaiveDateTime>| t.is_none_or(|t| t.time() == NaiveTime::MIN);
        let mut q = Sql {
            pg,
            daily: f.text.is_none() && whole_day(&f.from) && whole_day(&f.to),
            conds: Vec::new(),
            binds: Vec::new(),
        };
        // Whole days compare as dates with the `day` column (`to` is exclusive either way).
        let col = if q.daily { "day" } else { "received_at" };
        for (t, op) in [(f.from, ">="), (f.to, "<")] {
            if let Some(t) = t {
                let b = if q.daily {
                    Bind::T(t.format("%Y-%m-%d").to_string())
                } else {
                    Bind::Ts(t)
                };
                q.push(&format!("{col} {op} ?"), vec![b]);
            }
        }
        for (col, v) in [
            ("consumer", &f.consumer),
            ("provider", &f.provider),
            ("service", &f.service),
            ("operation", &f.operation),
            ("outcome", &f.outcome),
            ("fault_code", &f.fault),
            ("node_id", &f.node),
        ] {
            if let Some(v) = v {
                q.push(&format!("{col} = ?"), vec![Bind::T(v.clone())]);
            }
        }
        if let Some(v) = &f.agency {
            q.push(
                "(consumer = ? OR provider = ?)",
                vec![Bind::T(v.clone()), Bind::T(v.clone())],
            );
        }
        if let Some(v) = &f.text {
            let pat = format!("%{}%", like_escape(v));
            q.push(
                "(id LIKE ? ESCAPE '\\' OR consumer_cert LIKE ? ESCAPE '\\')",
                vec![Bind::T(pat.clone()), Bind::T(pat)],
            );
        }
        q
    }

    /// Appends `cond`, its `?` numbered for PostgreSQL, with one value per `?`.
    fn push(&mut self, cond: &str, values: Vec<Bind>) {
        let mut c = String::new();
        for (i, part) in cond.split('?').enumerate() {
            if i > 0 {
                c += &if self.pg {
                    format!("${}", self.binds.len() + i)
                } else {
                    "?".to_string()
                };
            }
            c += part;
        }
        self.binds.extend(values);
        self.conds.push(c);
    }

    fn where_clause(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conds.join(" AND "))
        }
    }

    fn load<T>(self, conn: &mut Conn, sql: String) -> Result<Vec<T>, AuditError>
    where
        T: QueryableByName<MultiBackend> + 'static,
    {
        use diesel::sql_types::{Text, Timestamp};
        let mut q = diesel::sql_query(sql).into_boxed();
        for b in &self.binds {
            q = match b {
                Bind::T(s) => q.bind::<Text, _>(s.clone()),
                Bind::Ts(t) => q.bind::<Timestamp, _>(*t),
            };
        }
        q.load(conn).map_err(store)
    }
}

/// Counts per (UTC day, consumer) of the records matching `f`, oldest day first; at most
/// `max_rows` groups. Written as SQL (the filter rendered with bound parameters) because
/// diesel's boxed queries do not take a GROUP BY over expressions.
pub fn stats(conn: &mut Conn, f: &Filter, max_rows: i64) -> Result<Vec<DayCount>, AuditError> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    #[derive(QueryableByName)]
    struct G {
        #[diesel(sql_type = Text)]
        day: String,
        #[diesel(sql_type = Nullable<Text>)]
        consumer: Option<String>,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let q = Sql::new(f, conn.is_postgres());
    let (day, consumer, n, table) = match (q.daily, q.pg) {
        (true, _) => (
            "day",
            "NULLIF(consumer, '')",
            "CAST(SUM(n) AS BIGINT)",
            "audit_daily",
        ),
        (false, true) => (
            "to_char(received_at, 'YYYY-MM-DD')",
            "consumer",
            "COUNT(*)",
            "audit_records",
        ),
        (false, false) => (
            "substr(received_at, 1, 10)",
            "consumer",
            "COUNT(*)",
            "audit_records",
        ),
    };
    let sql = format!(
        "SELECT {day} AS day, {consumer} AS consumer, {n} AS n FROM {table} {} \
         GROUP BY 1, 2 ORDER BY 1, 2 LIMIT {}",
        q.where_clause(),
        max_rows.max(1)
    );
    let rows: Vec<G> = q.load(conn, sql)?;
    Ok(rows
        .into_iter()
        .map(|g| DayCount {
            day: g.day,
            consumer: g.consumer,
            count: g.n,
        })
        .collect())
}

/// What the chain says about one record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainStatus {
    /// The stored hash matches the record's content and stored predecessor.
    pub hash_matches: bool,
    /// The predecessor's stored hash equals this record's `prev_hash` (None: first record
    /// of the live chain, archived predecessor or none).
    pub link_matches: Option<bool>,
    /// The first seal at or after this record, if any, and whether its signature verifies.
    pub seal: Option<SealStatus>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SealStatus {
    pub seq: i64,
    pub sealed_at: NaiveDateTime,
    pub key_id: String,
    pub signature_ok: bool,
}

pub fn chain_status(conn: &mut Conn, rec: &Record) -> Result<ChainStatus, AuditError> {
    use super::schema::audit_seals as s;
    let r = &rec.row;
    let prev: Option<String> = ar::table
        .filter(ar::node_id.eq(&r.node_id))
        .filter(ar::seq.eq(r.seq - 1))
        .select(ar::hash)
        .first(conn)
        .optional()
        .map_err(store)?;
    let seal: Option<super::seal::Seal> = s::table
        .filter(s::node_id.eq(&r.node_id))
        .filter(s::seq.ge(r.seq))
        .order(s::seq.asc())
        .select(super::seal::Seal::as_select())
        .first(conn)
        .optional()
        .map_err(store)?;
    Ok(ChainStatus {
        hash_matches: super::chain::is_intact(rec),
        link_matches: prev.map(|p| p == r.prev_hash),
        seal: seal.map(|s| SealStatus {
            seq: s.seq,
            sealed_at: s.sealed_at,
            key_id: s.key_id.clone(),
            signature_ok: super::seal::check(&s).is_ok(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_name_the_bad_parameter() {
        let mut f = Filter::default();
        f.set("from", "2026-11-26").unwrap();
        f.set("to", "2026-11-26").unwrap();
        assert_eq!(f.to.unwrap().to_string(), "2026-11-27 00:00:00");
        f.set("consumer", "000.00.21.H38").unwrap();
        assert_eq!(f.set("consumer", "H38").unwrap_err().param, "consumer");
        assert_eq!(f.set("from", "yesterday").unwrap_err().param, "from");
        assert_eq!(f.set("outcome", "ok").unwrap_err().param, "outcome");
        assert_eq!(f.set("colour", "x").unwrap_err().param, "colour");
        assert_eq!(f.set("from", "2026-12-01").unwrap_err().param, "from");
    }

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            received_at: NaiveDateTime::parse_from_str(
                "2026-11-26T02:55:06.123456",
                "%Y-%m-%dT%H:%M:%S%.f",
            )
            .unwrap(),
            id: "0190abc".into(),
        };
        assert_eq!(Cursor::decode("cursor", &c.encode()).unwrap(), c);
        assert_eq!(Cursor::decode("cursor", "!!").unwrap_err().param, "cursor");
    }

    async fn pages_and_filters(store: crate::audit::testutil::TestStore) {
        use crate::audit::testutil::exchange;
        let log = store.open_log();
        let day = chrono::DateTime::parse_from_rfc3339("2026-03-10T08:00:00Z")
            .unwrap()
            .to_utc();
        for i in 0..30usize {
            let mut r = exchange(i);
            r.received_at = day + chrono::Duration::hours(i as i64);
            if i == 7 {
                r.fault_code = Some("wsse:FailedCheck".into());
                r.outcome = crate::audit::Outcome::Rejected;
            }
            log.record(r).await.unwrap();
        }
        log.shutdown().await.unwrap();
        let mut conn = Conn::connect(&super::super::backend::StoreUrl::parse(store.url())).unwrap();
        let mut f = Filter::default();
        f.set("from", "2026-03-10").unwrap();
        f.set("to", "2026-03-10").unwrap();
        assert_eq!(count(&mut conn, &f).unwrap(), 16);
        f.set("consumer", "000.00.21.H38").unwrap();
        assert_eq!(count(&mut conn, &f).unwrap(), 8);
        let (p1, c1) = page(&mut conn, &f, None, 5).unwrap();
        let (p2, c2) = page(&mut conn, &f, c1.as_ref(), 5).unwrap();
        assert_eq!((p1.len(), p2.len(), c2), (5, 3, None));
        assert!(p1[0].received_at > p1[4].received_at && p1[4].received_at > p2[0].received_at);
        let mut g = Filter::default();
        g.set("fault", "wsse:FailedCheck").unwrap();
        g.set("outcome", "rejected").unwrap();
        let (hit, _) = page(&mut conn, &g, None, 10).unwrap();
        assert_eq!(hit.len(), 1);
        let mut t = Filter::default();
        t.set("q", &hit[0].id[..13]).unwrap();
        assert!(count(&mut conn, &t).unwrap() >= 1);
        t.set("q", "%").unwrap();
        assert_eq!(count(&mut conn, &t).unwrap(), 0);
        let st = stats(&mut conn, &Filter::default(), 100).unwrap();
        assert_eq!(st[0].day, "2026-03-10");
        assert_eq!(st.iter().map(|d| d.count).sum::<i64>(), 30);
        assert_eq!(st.len(), 4, "{st:?}");
        // Not whole days: counted from the records, which must agree with the per-day counts.
        let mut raw = Filter::default();
        raw.set("from", "2026-03-10T00:00:00.000001").unwrap();
        assert_eq!(stats(&mut conn, &raw, 100).unwrap(), st);
        assert_eq!(count(&mut conn, &raw).unwrap(), 30);
        raw.set("to", "2026-03-10T23:59:59").unwrap();
        f.set("consumer", "").unwrap();
        assert_eq!(
            count(&mut conn, &raw).unwrap(),
            count(&mut conn, &f).unwrap()
        );
        let recs = by_id(&mut conn, &hit[0].id).unwrap();
        let cs = chain_status(&mut conn, &recs[0]).unwrap();
        assert!(cs.hash_matches && cs.link_matches == Some(true));
        assert!(cs.seal.unwrap().signature_ok);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite_pages_and_filters() {
        pages_and_filters(crate::audit::testutil::TestStore::sqlite()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn postgres_pages_and_filters() {
        pages_and_filters(crate::audit::testutil::TestStore::pg()).await;
    }
}
