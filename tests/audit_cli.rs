//! `lienthong audit ...` against a real SQLite store written by the gateway's own writer.

use std::path::Path;
use std::process::Command;

use lienthong::audit::{AuditConfig, AuditLog, ExchangeRecord, Message, Outcome, SealKey};

fn bin(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .arg("--config")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/gateway.toml"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run lienthong");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn exchange(i: usize, consumer: &str) -> ExchangeRecord {
    let mut r = ExchangeRecord::new(uuid::Uuid::now_v7().to_string(), "127.0.0.1:5000".into());
    r.consumer = Some(consumer.into());
    r.provider = Some("000.00.12.H38".into());
    r.service = Some("ho-tich".into());
    r.operation = Some("TraCuuKhaiSinh".into());
    r.outcome = if i == 2 {
        Outcome::Rejected
    } else {
        Outcome::Accepted
    };
    r.fault_code = (i == 2).then(|| "wsse:FailedCheck".to_string());
    r.http_status = if i == 2 { 500 } else { 200 };
    let req =
        format!("<Envelope><Body><TraCuuKhaiSinh><So>{i}</So></TraCuuKhaiSinh></Body></Envelope>");
    r.request_in = Some(Message::of(req.as_bytes()));
    r.response_out = Some(Message::of(
        b"<Envelope><Body><KetQua>ok</KetQua></Body></Envelope>",
    ));
    r.answered_at = Some(r.received_at + chrono::Duration::milliseconds(4));
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn list_show_verify_and_a_tampered_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (key, _) = SealKey::load_or_generate(&data.join("audit-seal.key")).unwrap();
    let url = data.join("audit.db").display().to_string();
    let log = AuditLog::open(&url, "node-1", &AuditConfig::default(), key).unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let consumer = if i % 2 == 0 {
            "000.00.21.H38"
        } else {
            "000.00.40.H38"
        };
        let rec = exchange(i, consumer);
        ids.push(rec.id.clone());
        log.record(rec).await.unwrap();
    }
    log.shutdown().await.unwrap();

    let (code, out, err) = bin(data, &["audit", "list", "--limit", "3"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Ủy ban nhân dân huyện Đông Sơn"), "{out}");
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(out.contains(&ids[4]) && !out.contains(&ids[1]), "{out}");

    let (code, out, _) = bin(data, &["audit", "list", "--consumer", "000.00.40.H38"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3, "{out}");
    let (code, out, _) = bin(data, &["audit", "list", "--fault", "wsse:FailedCheck"]);
    assert_eq!(code, 0);
    assert!(out.contains(&ids[2]) && out.lines().count() == 2, "{out}");

    let (code, _, err) = bin(data, &["audit", "list", "--from", "last tuesday"]);
    assert_ne!(code, 0);
    assert!(err.contains("--from"), "{err}");

    let (code, out, _) = bin(data, &["audit", "show", &ids[1]]);
    assert_eq!(code, 0);
    assert!(out.contains("  <Body>\n    <TraCuuKhaiSinh>"), "{out}");
    assert!(out.contains("hash matches content"), "{out}");

    let (code, out, err) = bin(
        data,
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--consumer",
            "000.00.21.H38",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("received_at,id,node_id,seq,consumer,consumer_name"));
    assert!(
        lines[1].contains(&ids[0]) && lines[3].contains(&ids[4]),
        "oldest first: {out}"
    );
    let (code, out, _) = bin(
        data,
        &["audit", "export", "--format", "jsonl", "--with-messages"],
    );
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["format"], "lienthong-audit-export");
    assert_eq!(
        lines[1]["consumer_name"],
        "Ủy ban nhân dân huyện Đông Sơn (District People's Committee)"
    );
    assert!(lines[2]["messages"]["request_in"]["text"]
        .as_str()
        .unwrap()
        .contains("<So>1</So>"));
    let (code, _, err) = bin(data, &["audit", "export", "--format", "xml"]);
    assert_ne!(code, 0);
    assert!(err.contains("--format"), "{err}");

    let (code, out, err) = bin(data, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("5 record(s) verified"), "{out}");

    // An auditor-visible change: one consumer code altered behind the gateway's back.
    let db = rusqlite_free_update(&url, &ids[3]);
    assert!(db);
    let (code, out, _) = bin(data, &["audit", "verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("seq 4 (exchange {}): changed", ids[3])),
        "{out}"
    );
}

/// Alters a row with diesel, dropping the append-only trigger first (as someone with the
/// file could).
fn rusqlite_free_update(url: &str, id: &str) -> bool {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let mut c = diesel::SqliteConnection::establish(url).unwrap();
    c.batch_execute(&format!(
        "DROP TRIGGER audit_records_no_update; \
         UPDATE audit_records SET consumer = '000.00.13.H38' WHERE id = '{id}';"
    ))
    .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_then_verify_across_file_and_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (key, _) = SealKey::load_or_generate(&data.join("audit-seal.key")).unwrap();
    let url = data.join("audit.db").display().to_string();
    let log = AuditLog::open(&url, "node-1", &AuditConfig::default(), key.clone()).unwrap();
    for i in 0..4 {
        log.record(exchange(i, "000.00.21.H38")).await.unwrap();
    }
    log.shutdown().await.unwrap();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let file = data.join("a.jsonl");
    let (code, out, err) = bin(
        data,
        &[
            "audit",
            "archive",
            "--before",
            &tomorrow,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("seq 1..=4 (4 records) archived"), "{out}");
    let log = AuditLog::open(&url, "node-1", &AuditConfig::default(), key).unwrap();
    log.record(exchange(9, "000.00.40.H38")).await.unwrap();
    log.shutdown().await.unwrap();
    let (code, out, _) = bin(data, &["audit", "list"]);
    assert_eq!((code, out.lines().count()), (0, 2), "{out}");
    let (code, out, err) = bin(
        data,
        &["audit", "verify", "--archive", file.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 record(s) verified (seq 5..=5)"), "{out}");
    let (code, _, err) = bin(data, &["audit", "archive", "--before", "soon"]);
    assert_ne!(code, 0);
    assert!(err.contains("--before"), "{err}");
}
