//! Exchanges per UTC day and filterable columns (`audit_daily`): derived data that the
//! writer keeps in the same transaction as the records it counts, so that the auditor's
//! chart and counts over a month read a few hundred rows instead of every record.
//!
//! `verify` never reads it: the records and their chain are the evidence. Absent values are
//! stored as `''` so that they take part in the primary key on both backends.

use std::collections::HashMap;

use diesel::prelude::*;

use super::backend::{store, Conn};
use super::row::Row;
use super::schema::audit_daily;
use super::AuditError;

/// One count (positive when records are added, negative when an archive removes them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Insertable, QueryableByName)]
#[diesel(table_name = audit_daily)]
pub struct Daily {
    pub day: String,
    pub node_id: String,
    pub consumer: String,
    pub provider: String,
    pub service: String,
    pub operation: String,
    pub outcome: String,
    pub fault_code: String,
    pub n: i64,
}

/// The counts `rows` add, one per key.
pub fn of<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<Daily> {
    // Keyed by the row with `n` = 0.
    let mut counts: HashMap<Daily, i64> = HashMap::new();
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    for r in rows {
        let key = Daily {
            day: r.received_at.format("%Y-%m-%d").to_string(),
            node_id: r.node_id.clone(),
            consumer: s(&r.consumer),
            provider: s(&r.provider),
            service: s(&r.service),
            operation: s(&r.operation),
            outcome: r.outcome.clone(),
            fault_code: s(&r.fault_code),
            n: 0,
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(mut d, n)| {
            d.n = n;
            d
        })
        .collect()
}

/// `SELECT` of the counts of the records matching `cond`, times `sign`.
fn grouped(pg: bool, cond: &str, sign: &str) -> String {
    let day = if pg {
        "to_char(received_at, 'YYYY-MM-DD')"
    } else {
        "substr(received_at, 1, 10)"
    };
    format!(
        "SELECT {day} AS day, node_id, COALESCE(consumer, '') AS consumer, \
         COALESCE(provider, '') AS provider, COALESCE(service, '') AS service, \
         COALESCE(operation, '') AS operation, outcome, \
         COALESCE(fault_code, '') AS fault_code, {sign}COUNT(*) AS n \
         FROM audit_records {cond} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
    )
}

/// The counts that removing node `node`'s records up to `last_seq` takes away (negative).
pub fn removed(conn: &mut Conn, node: &str, last_seq: i64) -> Result<Vec<Daily>, AuditError> {
    use diesel::sql_types::{BigInt, Text};
    let cond = if conn.is_postgres() {
        "WHERE node_id = $1 AND seq <= $2"
    } else {
        "WHERE node_id = ? AND seq <= ?"
    };
    let sql = grouped(conn.is_postgres(), cond, "-");
    diesel::sql_query(sql)
        .bind::<Text, _>(node)
        .bind::<BigInt, _>(last_seq)
        .load(conn)
        .map_err(store)
}

/// Recomputes every count from the records (for stores filled other than by the writer,
/// such as the benchmark's generated ones; needs UPDATE and DELETE on `audit_daily`).
pub fn rebuild(conn: &mut Conn) -> Result<(), AuditError> {
    use diesel::connection::SimpleConnection;
    let sql = format!(
        "DELETE FROM audit_daily; INSERT INTO audit_daily {};",
        grouped(conn.is_postgres(), "", "")
    );
    conn.batch_execute(&sql).map_err(store)
}

/// Adds `rows` (one per key) to the stored counts. One statement per key (diesel has no
/// multi-row upsert on SQLite); a batch has few keys.
pub fn add(conn: &mut Conn, rows: &[Daily]) -> diesel::QueryResult<()> {
    // Written per connection type: `ON CONFLICT` is not in the dialect common to both
    // (diesel's MultiBackend has `DoesNotSupportOnConflictClause`; the same statement on
    // `Conn` fails to compile, "`DoesNotSupportOnConflictClause: PgLikeOnConflictClause` is
    // not satisfied"), though each backend has it.
    macro_rules! upsert {
        ($c:expr) => {{
            use super::schema::audit_daily as d;
            use diesel::upsert::excluded;
            for row in rows {
                diesel::insert_into(d::table)
                    .values(row)
                    .on_conflict((
                        d::day,
                        d::node_id,
                        d::consumer,
                        d::provider,
                        d::service,
                        d::operation,
                        d::outcome,
                        d::fault_code,
                    ))
                    .do_update()
                    .set(d::n.eq(d::n + excluded(d::n)))
                    .execute($c)?;
            }
        }};
    }
    match conn {
        Conn::Sqlite(c) => upsert!(c),
        Conn::Pg(c) => upsert!(c),
    }
    Ok(())
}
