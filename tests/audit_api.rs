//! The auditor's HTTP API on a real listener over a real SQLite store.

use std::sync::Arc;

use lienthong::audit::{
    AuditConfig, AuditLog, AuditReader, Auditor, ExchangeRecord, Message, Outcome, SealKey,
};
use lienthong::web::{auth, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, head.to_string(), body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (len, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(len.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

fn exchange(i: usize) -> ExchangeRecord {
    let mut r = ExchangeRecord::new(uuid::Uuid::now_v7().to_string(), "127.0.0.1:5000".into());
    r.consumer = Some(
        if i.is_multiple_of(3) {
            "000.00.21.H38"
        } else {
            "000.00.40.H38"
        }
        .into(),
    );
    r.provider = Some("000.00.12.H38".into());
    r.service = Some("ho-tich".into());
    r.operation = Some("TraCuuKhaiSinh".into());
    r.outcome = Outcome::Accepted;
    r.http_status = 200;
    r.request_in = Some(Message::of(format!("<a><b>{i}</b></a>").as_bytes()));
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn api_pages_filters_details_exports_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("audit.db").display().to_string();
    let log = AuditLog::open(
        &url,
        "node-1",
        &AuditConfig::default(),
        SealKey::generate().unwrap(),
    )
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
        let r = exchange(i);
        ids.push(r.id.clone());
        log.record(r).await.unwrap();
    }
    log.shutdown().await.unwrap();

    let token = auth::generate();
    let config = AuditConfig {
        auditors: vec![Auditor {
            name: "thanh-tra".into(),
            token_sha256: Some(auth::hash(&token)),
            ..Auditor::default()
        }],
        ..AuditConfig::default()
    };
    let mut settings = Settings {
        tokens: auth::Tokens::from_config(&config.auditors).unwrap(),
        ..Settings::default()
    };
    settings
        .agencies
        .insert("000.00.21.H38".into(), "UBND huyện Đông Sơn".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lienthong::web::serve(
        listener,
        AuditReader::new(&url, 2),
        Arc::new(settings),
        async move {
            let _ = stopped.await;
        },
    ));
    let t = Some(token.as_str());

    let (st, head, _) = get(addr, "/audit/api/exchanges", None).await;
    assert_eq!(st, 401);
    assert!(head.to_lowercase().contains("www-authenticate: bearer"));
    assert_eq!(
        get(addr, "/audit/api/exchanges", Some("wrong")).await.0,
        401
    );

    let (st, _, body) = get(addr, "/audit/api/exchanges?from=yesterday", t).await;
    assert_eq!(st, 400);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["parameter"], "from");
    let (st, _, body) = get(addr, "/audit/api/exchanges?limit=5000", t).await;
    assert_eq!(
        (
            st,
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["parameter"].as_str()
        ),
        (400, Some("limit"))
    );
    let (st, _, body) = get(addr, "/audit/api/exchanges?colour=red", t).await;
    assert_eq!(
        (
            st,
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["parameter"].as_str()
        ),
        (400, Some("colour"))
    );

    // Pages of 3 through the 4 records of one consumer.
    let (st, _, body) = get(
        addr,
        "/audit/api/exchanges?consumer=000.00.21.H38&limit=3",
        t,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let p1: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p1["items"].as_array().unwrap().len(), 3);
    assert_eq!(p1["items"][0]["id"], ids[9].as_str());
    assert_eq!(p1["items"][0]["consumer_name"], "UBND huyện Đông Sơn");
    let cursor = p1["next_cursor"].as_str().unwrap();
    let (_, _, body) = get(
        addr,
        &format!("/audit/api/exchanges?consumer=000.00.21.H38&limit=3&cursor={cursor}"),
        t,
    )
    .await;
    let p2: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert_eq!(p2["items"][0]["id"], ids[0].as_str());
    assert!(p2["next_cursor"].is_null());

    let (st, _, body) = get(addr, &format!("/audit/api/exchanges/{}", ids[4]), t).await;
    assert_eq!(st, 200);
    let d: serde_json::Value = serde_json::from_str(&body).unwrap();
    let item = &d["items"][0];
    assert_eq!(item["chain"]["hash_matches"], true);
    assert_eq!(item["chain"]["link_matches"], true);
    assert_eq!(item["chain"]["seal"]["signature_ok"], true);
    assert_eq!(item["messages"][0]["text"], "<a>\n  <b>4</b>\n</a>");
    assert_eq!(get(addr, "/audit/api/exchanges/nope", t).await.0, 404);

    let (st, _, body) = get(addr, "/audit/api/stats", t).await;
    assert_eq!(st, 200);
    let s: serde_json::Value = serde_json::from_str(&body).unwrap();
    let total: i64 = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 12);

    let (st, head, body) = get(
        addr,
        "/audit/api/export?format=csv&consumer=000.00.40.H38",
        t,
    )
    .await;
    assert_eq!(st, 200);
    assert!(head.contains("text/csv"));
    assert_eq!(body.lines().count(), 9, "{body}");
    let (st, _, body) = get(addr, "/audit/api/export?format=jsonl&messages=true", t).await;
    assert_eq!(st, 200);
    assert_eq!(body.lines().count(), 13);
    assert_eq!(get(addr, "/audit/api/export?format=pdf", t).await.0, 400);

    let (st, _, body) = get(addr, "/audit/api/openapi.json", None).await;
    assert_eq!(st, 200);
    assert!(body.contains("\"openapi\":\"3.0.3\""));
    let (st, head, body) = get(addr, "/audit/", None).await;
    assert_eq!(st, 200);
    assert!(head.contains("content-security-policy"));
    let _ = body;

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
