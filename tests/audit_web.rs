//! The auditor's page in headless Chromium (Debian's `chromium`), driving a real search
//! against the real API and store, and checking what the page shows.

use std::process::Command;
use std::sync::Arc;

use lienthong::audit::{
    AuditConfig, AuditLog, AuditReader, Auditor, ExchangeRecord, Message, Outcome, SealKey,
};
use lienthong::web::{auth, Settings};

fn exchange(day: &str, hour: u32, consumer: &str, outcome: Outcome) -> ExchangeRecord {
    let mut r = ExchangeRecord::new(uuid::Uuid::now_v7().to_string(), "127.0.0.1:5000".into());
    r.received_at = chrono::DateTime::parse_from_rfc3339(&format!("{day}T{hour:02}:15:00Z"))
        .unwrap()
        .to_utc();
    r.answered_at = Some(r.received_at + chrono::Duration::milliseconds(7));
    r.consumer = Some(consumer.into());
    r.provider = Some("000.00.12.H38".into());
    r.service = Some("ho-tich".into());
    r.operation = Some("TraCuuKhaiSinh".into());
    r.outcome = outcome;
    r.http_status = if outcome == Outcome::Accepted {
        200
    } else {
        500
    };
    if outcome != Outcome::Accepted {
        r.fault_code = Some("wsse:FailedCheck".into());
    }
    r.request_in = Some(Message::of(
        b"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><TraCuuKhaiSinh><SoDinhDanh>038090001234</SoDinhDanh></TraCuuKhaiSinh></soap:Body></soap:Envelope>",
    ));
    r
}

fn chromium(url: &str, profile: &std::path::Path) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .expect("chromium must be installed (apt-get install chromium)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_days_exchanges_of_one_agency_in_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("audit.db").display().to_string();
    let log = AuditLog::open(
        &url,
        "node-1",
        &AuditConfig::default(),
        SealKey::generate().unwrap(),
    )
    .unwrap();
    let mut wanted = Vec::new();
    for (day, hour, consumer, outcome) in [
        ("2026-11-24", 9, "000.00.21.H38", Outcome::Accepted),
        ("2026-11-25", 8, "000.00.21.H38", Outcome::Accepted),
        ("2026-11-25", 9, "000.00.40.H38", Outcome::Accepted),
        ("2026-11-25", 10, "000.00.21.H38", Outcome::Rejected),
        ("2026-11-25", 11, "000.00.40.H38", Outcome::Accepted),
        ("2026-11-26", 7, "000.00.21.H38", Outcome::Accepted),
    ] {
        let r = exchange(day, hour, consumer, outcome);
        if day == "2026-11-25" && consumer == "000.00.21.H38" {
            wanted.push(r.id.clone());
        }
        log.record(r).await.unwrap();
    }
    log.shutdown().await.unwrap();

    let token = auth::generate();
    let mut settings = Settings {
        tokens: auth::Tokens::from_config(&[Auditor {
            name: "thanh-tra-tinh".into(),
            token_sha256: Some(auth::hash(&token)),
            ..Auditor::default()
        }])
        .unwrap(),
        ..Settings::default()
    };
    settings
        .agencies
        .insert("000.00.21.H38".into(), "UBND huyện Đông Sơn".into());
    settings.agencies.insert(
        "000.00.40.H38".into(),
        "Trung tâm Phục vụ hành chính công tỉnh".into(),
    );
    settings
        .agencies
        .insert("000.00.12.H38".into(), "Sở Tư pháp".into());
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

    // A search: one agency, one day, the page in English.
    let profile = tempfile::tempdir().unwrap();
    let page = format!(
        "http://{addr}/audit/#token={token}&lang=en&consumer=000.00.21.H38&from=2026-11-25&to=2026-11-25"
    );
    let dom = tokio::task::spawn_blocking({
        let p = profile.path().to_path_buf();
        move || chromium(&page, &p)
    })
    .await
    .unwrap();
    let rows = dom.matches("<tr data-id=").count();
    assert_eq!(rows, 2, "{dom}");
    for id in &wanted {
        assert!(dom.contains(id.as_str()), "{id} missing: {dom}");
    }
    assert!(
        dom.contains("UBND huyện Đông Sơn"),
        "agency name beside the code"
    );
    assert!(dom.contains("thanh-tra-tinh"), "signed-in auditor shown");
    assert!(
        dom.contains("Exchanges per day and consumer agency"),
        "English labels"
    );
    assert!(dom.contains("wsse:FailedCheck"));
    assert!(
        dom.contains("data-count=\"2\""),
        "chart bar for the day: {dom}"
    );
    assert!(
        !dom.contains(&token),
        "token must leave the address bar and the DOM"
    );

    // The detail of one exchange, in Vietnamese: message pretty-printed, chain status.
    let page = format!(
        "http://{addr}/audit/#token={token}&lang=vi&id={}",
        wanted[0]
    );
    let profile = tempfile::tempdir().unwrap();
    let dom = tokio::task::spawn_blocking({
        let p = profile.path().to_path_buf();
        move || chromium(&page, &p)
    })
    .await
    .unwrap();
    assert!(dom.contains("băm khớp nội dung"), "{dom}");
    assert!(dom.contains("được niêm phong (chữ ký hợp lệ)"), "{dom}");
    assert!(
        dom.contains("  &lt;soap:Body&gt;\n    &lt;TraCuuKhaiSinh&gt;"),
        "{dom}"
    );

    // A wrong token never shows data.
    let page = format!("http://{addr}/audit/#token=wrong&consumer=000.00.21.H38");
    let profile = tempfile::tempdir().unwrap();
    let dom = tokio::task::spawn_blocking({
        let p = profile.path().to_path_buf();
        move || chromium(&page, &p)
    })
    .await
    .unwrap();
    assert_eq!(dom.matches("<tr data-id=").count(), 0);
    assert!(dom.contains("Mã truy cập không hợp lệ."), "{dom}");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
