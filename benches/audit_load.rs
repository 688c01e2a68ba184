//! Audit store load test (not a criterion bench: it measures a running system).
//!
//! ```sh
//! # records/s through AuditLog::record under concurrent load (batching writer)
//! cargo bench --bench audit_load -- write --url /tmp/a.db --tasks 256 --records 100000
//! cargo bench --bench audit_load -- write --url postgres://postgres@127.0.0.1/test --tasks 256 --records 100000
//! #   also: --messages hash-only, --message-bytes N, --fast-commits ([audit] durable_commits = false),
//! #   --nodes N (N gateway nodes, each with its own writer and chain, sharing the store)
//! # p95 of the auditor's common queries on a large generated store, with query plans
//! cargo bench --bench audit_load -- query --url /tmp/big.db --rows 1000000
//! ```
//!
//! PostgreSQL runs go into a fresh schema (dropped at the end) so they never touch real data.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use lienthong::audit::backend::{Conn, StoreUrl};
use lienthong::audit::query::{self, Filter};
use lienthong::audit::{AuditConfig, AuditLog, ExchangeRecord, Message, Outcome, SealKey};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// For PostgreSQL: a fresh schema and the URL that selects it; dropped by `cleanup`.
fn scoped(url: &str) -> (String, Option<String>) {
    if !url.starts_with("postgres") {
        return (url.to_string(), None);
    }
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut c = PgConnection::establish(url).expect("connect");
    c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    (
        format!("{url}{sep}options=-csearch_path%3D{schema}"),
        Some(schema),
    )
}

fn cleanup(base: &str, schema: Option<String>) {
    if let Some(s) = schema {
        if std::env::var_os("KEEP").is_none() {
            let mut c = PgConnection::establish(base).unwrap();
            c.batch_execute(&format!("DROP SCHEMA {s} CASCADE"))
                .unwrap();
        } else {
            eprintln!("kept schema {s}");
        }
    }
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// One record; `request` and `response` come with their digests made once (the gateway's
/// workers compute those, not the store), so the generator leaves the CPU to the store.
fn exchange(i: usize, request: &Message, response: &Message) -> ExchangeRecord {
    let mut r = ExchangeRecord::new(uuid::Uuid::now_v7().to_string(), "127.0.0.1:40000".into());
    r.consumer = Some(["000.00.21.H38", "000.00.40.H38", "000.00.00.H38"][i % 3].into());
    r.provider = Some("000.00.12.H38".into());
    r.service = Some("ho-tich".into());
    r.operation = Some("TraCuuKhaiSinh".into());
    r.provider_endpoint = Some("http://127.0.0.1:9100/ho-tich".into());
    r.soap_version = Some(lienthong::model::SoapVersion::V11);
    r.outcome = Outcome::Accepted;
    r.http_status = 200;
    r.request_in = Some(request.clone());
    r.request_out = Some(request.clone());
    r.response_in = Some(response.clone());
    r.response_out = Some(response.clone());
    r.answered_at = Some(r.received_at);
    r
}

/// A message like the ones the gateway stores: a WS-Security header whose certificate,
/// digests and signature value are base64 of random bytes (as incompressible as real ones),
/// around an example payload, padded with text fields (compressible, as XML text is) to
/// about `size` bytes.
fn signed_message(size: usize) -> Vec<u8> {
    use base64::Engine as _;
    let random = |n: usize| {
        let mut b = vec![0u8; n];
        openssl::rand::rand_bytes(&mut b).unwrap();
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let mut m = format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:BinarySecurityToken>{}</wsse:BinarySecurityToken><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:DigestValue>{}</ds:DigestValue><ds:DigestValue>{}</ds:DigestValue><ds:SignatureValue>{}</ds:SignatureValue></ds:Signature></wsse:Security></soap:Header><soap:Body><ht:TraCuuKhaiSinh xmlns:ht="urn:lienthong:vi-du:ho-tich:v1"><ht:SoDinhDanh>038224001234</ht:SoDinhDanh><ht:HoVaTen>Nguyễn Thị Minh Anh</ht:HoVaTen>"#,
        random(700),
        random(32),
        random(32),
        random(256)
    );
    let mut i = 0;
    while m.len() + 40 < size {
        m.push_str(&format!(
            "<ht:GhiChu>Hồ sơ {i:04} tiếp nhận lúc 08:{:02}, mã {}</ht:GhiChu>",
            i % 60,
            random(6)
        ));
        i += 1;
    }
    m.push_str("</ht:TraCuuKhaiSinh></soap:Body></soap:Envelope>");
    m.into_bytes()
}

async fn write(args: &[String]) {
    let base = arg(args, "--url", "/tmp/lienthong-bench.db");
    let tasks: usize = arg(args, "--tasks", "256").parse().unwrap();
    let total: usize = arg(args, "--records", "50000").parse().unwrap();
    let msg: usize = arg(args, "--message-bytes", "2048").parse().unwrap();
    let policy = arg(args, "--messages", "full");
    let (url, schema) = scoped(&base);
    if !base.starts_with("postgres") {
        let _ = std::fs::remove_file(&base);
    }
    let cfg = AuditConfig {
        messages: if policy == "hash-only" {
            lienthong::audit::MessagePolicy::HashOnly
        } else {
            lienthong::audit::MessagePolicy::Full
        },
        durable_commits: !args.iter().any(|a| a == "--fast-commits"),
        ..AuditConfig::default()
    };
    // Several gateway nodes share one PostgreSQL store, each with its own writer and chain
    // (they never serialise on each other); `--nodes N` runs N of them in this process.
    let nodes: usize = arg(args, "--nodes", "1").parse().unwrap();
    let logs: Vec<Arc<AuditLog>> = (0..nodes.max(1))
        .map(|n| {
            let node = if nodes > 1 {
                format!("bench-{n}")
            } else {
                "bench".into()
            };
            Arc::new(AuditLog::open(&url, &node, &cfg, SealKey::generate().unwrap()).unwrap())
        })
        .collect();
    let request = Arc::new(Message::of(&signed_message(msg)));
    let response = Arc::new(Message::of(&signed_message(msg)));
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let log = logs[t % logs.len()].clone();
        let (request, response) = (request.clone(), response.clone());
        let n = total / tasks + usize::from(t < total % tasks);
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n);
            for i in 0..n {
                let rec = exchange(i, &request, &response);
                let s = Instant::now();
                log.record(rec).await.expect("record");
                lat.push(s.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    for log in &logs {
        log.shutdown().await.unwrap();
    }
    println!(
        "write {}: {total} records, {tasks} concurrent callers on {} node(s), messages {policy} ({msg} B x 4): \
         {:.0} records/s; record() latency p50 {:?} p99 {:?}{}",
        StoreUrl::parse(&base).redacted(),
        logs.len(),
        total as f64 / secs,
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99),
        if cfg.durable_commits {
            ""
        } else {
            " (durable_commits = false)"
        }
    );
    cleanup(&base, schema);
}

const SQLITE_FILL: &str = "
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
INSERT INTO audit_records (node_id, seq, id, received_at, answered_at, remote_addr, consumer,
    provider, service, operation, outcome, fault_code, http_status, request_in_sha256,
    request_in_size, prev_hash, hash)
SELECT 'gen', i,
    printf('%012x-7000-8000-%012d', 1735689600000 + i * {step_ms}, i),
    strftime('%Y-%m-%d %H:%M:%f', 1735689600 + i * {step_ms} / 1000.0, 'unixepoch'),
    strftime('%Y-%m-%d %H:%M:%f', 1735689600 + i * {step_ms} / 1000.0 + 0.004, 'unixepoch'),
    '10.0.0.' || (i % 250),
    CASE i % 5 WHEN 0 THEN '000.00.00.H38' WHEN 1 THEN '000.00.12.H38' WHEN 2 THEN '000.00.13.H38'
              WHEN 3 THEN '000.00.21.H38' ELSE '000.00.40.H38' END,
    CASE i % 3 WHEN 0 THEN '000.00.12.H38' WHEN 1 THEN '000.00.13.H38' ELSE '000.00.21.H38' END,
    CASE i % 3 WHEN 0 THEN 'ho-tich' WHEN 1 THEN 'dang-ky-kinh-doanh' ELSE 'mot-cua' END,
    'Op' || (i % 3),
    CASE WHEN i % 20 = 0 THEN 'rejected' ELSE 'accepted' END,
    CASE WHEN i % 20 = 0 THEN 'wsse:FailedCheck' END,
    CASE WHEN i % 20 = 0 THEN 500 ELSE 200 END,
    printf('%064d', i), 2048, printf('%064d', i - 1), printf('%064d', i)
FROM n;";

const PG_FILL: &str = "
SELECT audit_ensure_partition(m) FROM generate_series(timestamp '2025-01-01', timestamp '2025-01-01' + ({rows}::bigint * {step_ms}) * interval '1 millisecond', interval '1 month') m;
INSERT INTO audit_records (node_id, seq, id, received_at, answered_at, remote_addr, consumer,
    provider, service, operation, outcome, fault_code, http_status, request_in_sha256,
    request_in_size, prev_hash, hash)
SELECT 'gen', i,
    lpad(to_hex(1735689600000 + i * {step_ms}), 12, '0') || '-7000-8000-' || lpad(i::text, 12, '0'),
    timestamp '2025-01-01' + (i * {step_ms}) * interval '1 millisecond',
    timestamp '2025-01-01' + (i * {step_ms} + 4) * interval '1 millisecond',
    '10.0.0.' || (i % 250),
    (ARRAY['000.00.00.H38','000.00.12.H38','000.00.13.H38','000.00.21.H38','000.00.40.H38'])[i % 5 + 1],
    (ARRAY['000.00.12.H38','000.00.13.H38','000.00.21.H38'])[i % 3 + 1],
    (ARRAY['ho-tich','dang-ky-kinh-doanh','mot-cua'])[i % 3 + 1],
    'Op' || (i % 3),
    CASE WHEN i % 20 = 0 THEN 'rejected' ELSE 'accepted' END,
    CASE WHEN i % 20 = 0 THEN 'wsse:FailedCheck' END,
    CASE WHEN i % 20 = 0 THEN 500 ELSE 200 END,
    lpad(i::text, 64, '0'), 2048, lpad((i - 1)::text, 64, '0'), lpad(i::text, 64, '0')
FROM generate_series(1::bigint, {rows}) i;
ANALYZE audit_records;";

/// The auditor's common questions, as filters.
fn questions(mid_day: &str, mid_month: &str) -> Vec<(&'static str, Filter)> {
    let f = |pairs: &[(&str, &str)]| {
        let mut f = Filter::default();
        for (k, v) in pairs {
            f.set(k, v).unwrap();
        }
        f
    };
    vec![
        ("newest 50, no filter", f(&[])),
        ("one day", f(&[("from", mid_day), ("to", mid_day)])),
        (
            "one consumer, one day",
            f(&[
                ("consumer", "000.00.21.H38"),
                ("from", mid_day),
                ("to", mid_day),
            ]),
        ),
        (
            "one agency (either side), one day",
            f(&[
                ("agency", "000.00.13.H38"),
                ("from", mid_day),
                ("to", mid_day),
            ]),
        ),
        (
            "one consumer, one month",
            f(&[
                ("consumer", "000.00.40.H38"),
                ("from", mid_month),
                ("to", &month_end(mid_month)),
            ]),
        ),
        (
            "rejected with a fault code, one day",
            f(&[
                ("fault", "wsse:FailedCheck"),
                ("from", mid_day),
                ("to", mid_day),
            ]),
        ),
        (
            "service + operation, one day",
            f(&[
                ("service", "ho-tich"),
                ("operation", "Op0"),
                ("from", mid_day),
                ("to", mid_day),
            ]),
        ),
    ]
}

fn month_end(first: &str) -> String {
    let d = chrono::NaiveDate::parse_from_str(first, "%Y-%m-%d").unwrap();
    let next = if d.month0() == 11 {
        chrono::NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    };
    (next.unwrap() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

use chrono::Datelike;

async fn queries(args: &[String]) {
    let base = arg(args, "--url", "/tmp/lienthong-big.db");
    let rows: i64 = arg(args, "--rows", "1000000").parse().unwrap();
    let runs: usize = arg(args, "--runs", "40").parse().unwrap();
    let reuse = args.iter().any(|a| a == "--reuse");
    let (url, schema) = if reuse {
        (base.clone(), None)
    } else {
        scoped(&base)
    };
    let sqlite = !base.starts_with("postgres");
    if sqlite && !reuse {
        let _ = std::fs::remove_file(&base);
    }
    let mut conn = Conn::connect(&StoreUrl::parse(&url)).unwrap();
    conn.ensure_migrated().unwrap();
    // Spread the rows over one year.
    let step_ms = (365 * 86_400_000i64 / rows).max(1);
    if !reuse {
        let t = Instant::now();
        let sql = if sqlite { SQLITE_FILL } else { PG_FILL }
            .replace("{rows}", &rows.to_string())
            .replace("{step_ms}", &step_ms.to_string());
        match &mut conn {
            Conn::Sqlite(c) => {
                c.batch_execute("PRAGMA synchronous = OFF").unwrap();
                c.batch_execute(&format!("BEGIN; {sql} COMMIT; ANALYZE;"))
                    .unwrap();
                c.batch_execute("PRAGMA synchronous = FULL").unwrap();
            }
            Conn::Pg(c) => c.batch_execute(&sql).unwrap(),
        }
        // The writer keeps the per-day counts; rows generated in SQL need them computed.
        lienthong::audit::daily::rebuild(&mut conn).unwrap();
        println!("generated {rows} rows in {:.1?}", t.elapsed());
    }
    let mid_day = "2025-07-15";
    let mid_month = "2025-07-01";
    println!(
        "query p95 over {runs} runs, {} rows, {}",
        rows,
        StoreUrl::parse(&base).redacted()
    );
    for (name, f) in questions(mid_day, mid_month) {
        let mut lat = Vec::new();
        let mut n = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let (page, _) = query::page(&mut conn, &f, None, 50).unwrap();
            lat.push(t.elapsed());
            n = page.len();
        }
        let p95 = percentile(&mut lat, 0.95);
        let p50 = percentile(&mut lat, 0.5);
        println!("  {name:<40} page of {n:>2}: p50 {p50:>10.2?}  p95 {p95:>10.2?}");
    }
    // Counting a month for one agency, and the chart's per-day counts over a month.
    let mut f = Filter::default();
    f.set("consumer", "000.00.21.H38").unwrap();
    f.set("from", mid_month).unwrap();
    f.set("to", &month_end(mid_month)).unwrap();
    for (name, which) in [
        ("count: one consumer, one month", 0),
        ("chart: per day x consumer, one month", 1),
    ] {
        let mut lat = Vec::new();
        for _ in 0..runs.min(10) {
            let t = Instant::now();
            if which == 0 {
                query::count(&mut conn, &f).unwrap();
            } else {
                let mut g = f.clone();
                g.consumer = None;
                query::stats(&mut conn, &g, 5000).unwrap();
            }
            lat.push(t.elapsed());
        }
        println!(
            "  {name:<40}            p50 {:>10.2?}  p95 {:>10.2?}",
            percentile(&mut lat, 0.5),
            percentile(&mut lat, 0.95)
        );
    }
    let id_lookup = {
        let (page, _) = query::page(&mut conn, &Filter::default(), None, 1).unwrap();
        page[0].id.clone()
    };
    let mut lat = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        query::by_id(&mut conn, &id_lookup).unwrap();
        lat.push(t.elapsed());
    }
    println!(
        "  {:<40}            p50 {:>10.2?}  p95 {:>10.2?}",
        "one exchange by id",
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.95)
    );

    println!("plans:");
    let plans = [
        ("one consumer, one day", format!("SELECT * FROM audit_records WHERE received_at >= '{mid_day} 00:00:00' AND received_at < '2025-07-16 00:00:00' AND consumer = '000.00.21.H38' ORDER BY received_at DESC, id DESC LIMIT 51")),
        ("one day", format!("SELECT * FROM audit_records WHERE received_at >= '{mid_day} 00:00:00' AND received_at < '2025-07-16 00:00:00' ORDER BY received_at DESC, id DESC LIMIT 51")),
        ("one agency (either side), one day", format!("SELECT * FROM audit_records WHERE received_at >= '{mid_day} 00:00:00' AND received_at < '2025-07-16 00:00:00' AND (consumer = '000.00.13.H38' OR provider = '000.00.13.H38') ORDER BY received_at DESC, id DESC LIMIT 51")),
        ("by id", format!("SELECT * FROM audit_records WHERE id = '{id_lookup}'")),
        // What query::count and query::stats send for whole days (audit_daily).
        ("count: one consumer, one month", format!("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM audit_daily WHERE day >= '{mid_month}' AND day < '2025-08-01' AND consumer = '000.00.21.H38'")),
        ("chart: per day x consumer, one month", format!("SELECT day, NULLIF(consumer, '') AS consumer, CAST(SUM(n) AS BIGINT) AS n FROM audit_daily WHERE day >= '{mid_month}' AND day < '2025-08-01' GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 5000")),
    ];
    for (name, sql) in plans {
        println!("  -- {name}");
        match &mut conn {
            Conn::Sqlite(c) => {
                #[derive(diesel::QueryableByName)]
                struct P {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    detail: String,
                }
                let ps: Vec<P> = diesel::RunQueryDsl::load(
                    diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")),
                    c,
                )
                .unwrap();
                for p in ps {
                    println!("     {}", p.detail);
                }
            }
            Conn::Pg(c) => {
                #[derive(diesel::QueryableByName)]
                struct P {
                    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
                    line: String,
                }
                let ps: Vec<P> = diesel::RunQueryDsl::load(
                    diesel::sql_query(format!(
                        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}"
                    )),
                    c,
                )
                .unwrap();
                for p in ps {
                    println!("     {}", p.line);
                }
            }
        }
    }
    drop(conn);
    cleanup(&base, schema);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match args
        .iter()
        .find(|a| *a == "write" || *a == "query")
        .map(String::as_str)
    {
        Some("write") => rt.block_on(write(&args)),
        Some("query") => rt.block_on(queries(&args)),
        _ => eprintln!("usage: audit_load write|query --url URL [...] (see the file's doc)"),
    }
}
