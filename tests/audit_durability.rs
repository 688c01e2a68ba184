//! The audit store under the real gateway: kill -9 under load loses no record of an answered
//! exchange and leaves a chain that verifies; the same on PostgreSQL, where a changed row
//! is then detected by `audit verify`.

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

const CONSUMER: &str = "000.00.00.H38";

/// A fresh PostgreSQL schema on the test server, dropped on drop.
struct PgSchema(String);

impl PgSchema {
    fn new() -> PgSchema {
        let name = format!("e2e_{}", std::process::id()) + &format!("_{}", rand_suffix());
        psql(&format!("CREATE SCHEMA {name}"));
        PgSchema(name)
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{}",
            self.0
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        psql(&format!("DROP SCHEMA {} CASCADE", self.0));
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    format!(
        "{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-tAc",
            sql,
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn exported_ids(gw: &Gateway, extra: &[&str]) -> HashSet<String> {
    gw.audit_records(extra)
        .iter()
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect()
}

/// Calls the gateway from 8 threads until stopped; returns the ids of answered exchanges.
fn load(gw: &Gateway, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    let body = envelope11(&example("ho-tich-TraCuuKhaiSinh"));
    (0..8)
        .map(|_| {
            let (addr, body, stop) = (gw.gateway.addr, body.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut s) = std::net::TcpStream::connect(addr) else { break };
                    use std::io::Write;
                    let req = format!(
                        "POST /services/ho-tich HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/xml\r\nX-Lienthong-Consumer: {CONSUMER}\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(req.as_bytes()).is_err() {
                        break;
                    }
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    let mut raw = Vec::new();
                    use std::io::Read;
                    let _ = s.read_to_end(&mut raw);
                    let head = String::from_utf8_lossy(&raw);
                    // Only a complete answer counts as answered.
                    if let Some(line) = head.lines().find(|l| l.to_ascii_lowercase().starts_with("x-lienthong-exchange-id:")) {
                        if head.contains("</soap:Envelope>") {
                            ids.push(line.split(':').nth(1).unwrap().trim().to_string());
                        }
                    }
                }
                ids
            })
        })
        .collect()
}

fn kill9_loses_no_answered_exchange(extra: &[&str]) {
    let mut gw = Gateway::start_with(extra, unsigned);
    let stop = Arc::new(AtomicBool::new(false));
    let workers = load(&gw, stop.clone());
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("kill")
        .args(["-9", &gw.gateway.child.id().to_string()])
        .status()
        .unwrap();
    let _ = gw.gateway.child.wait();
    stop.store(true, Ordering::Relaxed);
    let answered: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        answered.len() > 20,
        "only {} exchanges answered before the kill",
        answered.len()
    );

    let stored = exported_ids(&gw, extra);
    let missing: Vec<&String> = answered.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered exchanges missing after kill -9: {missing:?}",
        missing.len(),
        answered.len()
    );
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    let out = gw.cli(&args);
    assert!(
        out.status.success(),
        "verify after kill -9: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kill9_under_load_on_sqlite() {
    kill9_loses_no_answered_exchange(&[]);
}

#[test]
fn kill9_under_load_on_postgres() {
    let schema = PgSchema::new();
    let url = schema.url();
    kill9_loses_no_answered_exchange(&["--audit-db", &url]);
}

#[test]
fn postgres_store_behind_the_gateway_is_append_only_and_verified() {
    let schema = PgSchema::new();
    let url = schema.url();
    let gw = Gateway::start_with(&["--audit-db", &url], unsigned);
    for _ in 0..5 {
        let r = http(
            gw.gateway.addr,
            "POST",
            "/services/ho-tich",
            &[
                ("Content-Type", "text/xml"),
                ("X-Lienthong-Consumer", CONSUMER),
            ],
            envelope11(&example("ho-tich-TraCuuKhaiSinh")).as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let out = gw.cli(&["audit", "verify", "--audit-db", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The triggers refuse a plain UPDATE...
    let refused = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c"])
        .arg(format!(
            "SET search_path={}; UPDATE audit_records SET http_status = 201",
            schema.0
        ))
        .output()
        .unwrap();
    assert!(!refused.status.success(), "UPDATE was allowed");
    // ...and one made around them (as a superuser can) is detected.
    psql(&format!(
        "BEGIN; SET LOCAL session_replication_role = replica; SET LOCAL search_path={}; UPDATE audit_records SET http_status = 201 WHERE seq = 3; COMMIT;",
        schema.0
    ));
    let out = gw.cli(&["audit", "verify", "--audit-db", &url]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains('3'), "{report}");
}

#[test]
fn store_lost_mid_run_fails_closed_with_a_signed_fault() {
    let schema = PgSchema::new();
    let url = schema.url();
    let gw = Gateway::start_with(&["--audit-db", &url], unsigned);
    let call = || {
        http(
            gw.gateway.addr,
            "POST",
            "/services/ho-tich",
            &[
                ("Content-Type", "text/xml"),
                ("X-Lienthong-Consumer", CONSUMER),
            ],
            envelope11(&example("ho-tich-TraCuuKhaiSinh")).as_bytes(),
        )
    };
    assert_eq!(call().status, 200);
    // The store disappears: answers are withheld, the caller gets a (signed) Server fault.
    psql(&format!(
        "DROP SCHEMA {} CASCADE; CREATE SCHEMA {}",
        schema.0, schema.0
    ));
    let r = call();
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("lt:AuditUnavailable"), "{}", r.text());
    assert!(
        r.text().contains("SignatureValue"),
        "fault not signed: {}",
        r.text()
    );
}
