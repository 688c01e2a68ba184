//! End to end through the real binary: publishing, proxying, every fault case in both SOAP
//! versions, hostile XML, failing providers, and the audit row of each exchange.

mod common;

use std::time::{Duration, Instant};

use common::*;

const CONSUMER: &str = "000.00.00.H38";
const DISTRICT: &str = "000.00.21.H38";

fn post11(gw: &Gateway, service: &str, body: &str, consumer: &str) -> HttpResponse {
    http(
        gw.gateway.addr,
        "POST",
        &format!("/services/{service}"),
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", "\"\""),
            ("X-Lienthong-Consumer", consumer),
        ],
        body.as_bytes(),
    )
}

fn post12(gw: &Gateway, service: &str, body: &str, consumer: &str) -> HttpResponse {
    http(
        gw.gateway.addr,
        "POST",
        &format!("/services/{service}"),
        &[
            ("Content-Type", "application/soap+xml; charset=utf-8"),
            ("X-Lienthong-Consumer", consumer),
        ],
        body.as_bytes(),
    )
}

/// Asserts a SOAP 1.1 fault with `code` (e.g. `soap:Client`) and HTTP `status`.
fn assert_fault11(r: &HttpResponse, status: u16, code: &str) {
    let t = r.text();
    assert_eq!(r.status, status, "{t}");
    assert!(
        r.header("content-type").unwrap().starts_with("text/xml"),
        "{:?}",
        r.headers
    );
    assert!(
        t.contains(&format!("<faultcode>{code}</faultcode>")),
        "expected {code}: {t}"
    );
}

/// Asserts a SOAP 1.2 fault with Code/Value `value` (e.g. `env:Sender`) and HTTP `status`.
fn assert_fault12(r: &HttpResponse, status: u16, value: &str) {
    let t = r.text();
    assert_eq!(r.status, status, "{t}");
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/soap+xml"),
        "{:?}",
        r.headers
    );
    assert!(
        t.contains(&format!("<env:Value>{value}</env:Value>")),
        "expected {value}: {t}"
    );
}

/// The audit records of this gateway, as exported (one JSON object per line).
fn audit_records(gw: &Gateway) -> Vec<serde_json::Value> {
    gw.audit_records(&[])
}

fn audit_record(gw: &Gateway, id: &str) -> serde_json::Value {
    audit_records(gw)
        .into_iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no audit record for exchange {id}"))
}

#[test]
fn publishes_wsdl_with_the_gateway_address_and_its_imports() {
    let gw = Gateway::start(unsigned);
    let r = http(gw.gateway.addr, "GET", "/services/ho-tich?wsdl", &[], b"");
    assert_eq!(r.status, 200);
    let wsdl = r.text();
    let own = gw.url("/services/ho-tich");
    assert!(wsdl.contains(&format!("location=\"{own}\"")), "{wsdl}");
    assert!(
        !wsdl.contains("127.0.0.1:9100"),
        "provider address leaked: {wsdl}"
    );
    // Every imported document is reachable through the gateway.
    let mut n = 0;
    for part in wsdl
        .split("schemaLocation=\"")
        .skip(1)
        .chain(wsdl.split("location=\"").skip(1))
    {
        let url = &part[..part.find('"').unwrap()];
        if let Some(q) = url.strip_prefix(&own) {
            if q.starts_with("?xsd=") || q.starts_with("?wsdl=") {
                let r = http(
                    gw.gateway.addr,
                    "GET",
                    &format!("/services/ho-tich{q}"),
                    &[],
                    b"",
                );
                assert_eq!(r.status, 200, "{url}");
                assert!(
                    r.text().contains("schema") || r.text().contains("definitions"),
                    "{url}"
                );
                n += 1;
            }
        }
    }
    assert!(n > 0, "no imported documents published: {wsdl}");
    // No path outside the contract.
    let r = http(
        gw.gateway.addr,
        "GET",
        "/services/ho-tich?xsd=../../conf/gateway.toml",
        &[],
        b"",
    );
    assert_eq!(r.status, 404);

    let r = http(gw.gateway.addr, "GET", "/services", &[], b"");
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let names: Vec<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"ho-tich") && names.contains(&"mot-cua"),
        "{names:?}"
    );
    let r = http(
        gw.gateway.addr,
        "GET",
        "/services",
        &[("Accept", "text/html")],
        b"",
    );
    assert!(r.text().contains("<table>") && r.text().contains("ho-tich"));
}

#[test]
fn proxies_soap11_and_soap12_and_audits_each_exchange() {
    let gw = Gateway::start(unsigned);
    let r = post11(
        &gw,
        "ho-tich",
        &envelope11(&example("ho-tich-TraCuuKhaiSinh")),
        CONSUMER,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("content-type").unwrap().starts_with("text/xml"));
    assert!(r.text().contains("TraCuuKhaiSinhResponse"), "{}", r.text());
    let id11 = r.header("x-lienthong-exchange-id").unwrap().to_string();

    let r = post12(
        &gw,
        "mot-cua",
        &envelope12(&example("mot-cua-TraCuuTrangThaiHoSo")),
        CONSUMER,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/soap+xml"));
    let id12 = r.header("x-lienthong-exchange-id").unwrap().to_string();
    assert_eq!(gw.provider_calls(), 2);

    let rec = audit_record(&gw, &id11);
    assert_eq!(rec["outcome"], "accepted");
    assert_eq!(rec["consumer"], CONSUMER);
    assert_eq!(rec["service"], "ho-tich");
    assert_eq!(rec["operation"], "TraCuuKhaiSinh");
    assert_eq!(audit_record(&gw, &id12)["service"], "mot-cua");
}

#[test]
fn provider_faults_pass_back_faithfully() {
    let gw = Gateway::start(unsigned);
    // A record the provider does not have: its own fault comes back, audited as accepted.
    let payload = example("dang-ky-kinh-doanh-TraCuuDoanhNghiep");
    let start = payload
        .find("<MaSoDoanhNghiep>")
        .map(|i| i + "<MaSoDoanhNghiep>".len());
    let payload = match start {
        Some(s) => {
            let e = payload[s..].find('<').unwrap() + s;
            format!("{}9999999999{}", &payload[..s], &payload[e..])
        }
        None => payload,
    };
    let r = post11(&gw, "dang-ky-kinh-doanh", &envelope11(&payload), CONSUMER);
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().contains("faultstring"), "{}", r.text());
    assert_eq!(gw.provider_calls(), 1);
}

#[test]
fn every_refusal_is_a_fault_of_the_request_version_and_never_forwarded() {
    let gw = Gateway::start(unsigned);
    let good11 = envelope11(&example("ho-tich-TraCuuKhaiSinh"));
    let good12 = envelope12(&example("ho-tich-TraCuuKhaiSinh"));

    // Unknown service -> 404 with a fault.
    assert_fault11(
        &post11(&gw, "khong-co", &good11, CONSUMER),
        404,
        "soap:Client",
    );
    assert_fault12(
        &post12(&gw, "khong-co", &good12, CONSUMER),
        404,
        "env:Sender",
    );

    // Unknown operation.
    let unknown = envelope11(r#"<x:Nothing xmlns:x="urn:nothing"/>"#);
    assert_fault11(
        &post11(&gw, "ho-tich", &unknown, CONSUMER),
        500,
        "soap:Client",
    );
    let unknown = envelope12(r#"<x:Nothing xmlns:x="urn:nothing"/>"#);
    assert_fault12(
        &post12(&gw, "ho-tich", &unknown, CONSUMER),
        400,
        "env:Sender",
    );

    // Wrong content type.
    let r = http(
        gw.gateway.addr,
        "POST",
        "/services/ho-tich",
        &[("Content-Type", "application/json")],
        good11.as_bytes(),
    );
    assert_fault11(&r, 415, "soap:Client");

    // SOAP 1.2 envelope with the 1.1 content type, and the reverse.
    assert_fault11(
        &post11(&gw, "ho-tich", &good12, CONSUMER),
        500,
        "soap:VersionMismatch",
    );
    assert_fault12(
        &post12(&gw, "ho-tich", &good11, CONSUMER),
        500,
        "env:VersionMismatch",
    );

    // Malformed XML.
    let broken = good11.replace("</soapenv:Body>", "");
    assert_fault11(
        &post11(&gw, "ho-tich", &broken, CONSUMER),
        500,
        "soap:Client",
    );
    let broken = good12.replace("</env:Body>", "");
    assert_fault12(
        &post12(&gw, "ho-tich", &broken, CONSUMER),
        400,
        "env:Sender",
    );
    // Characters XML forbids, literally or by reference, deep in the payload.
    let control = good11.replace("038224001234", "0382\u{1c}24001234");
    assert_fault11(
        &post11(&gw, "ho-tich", &control, CONSUMER),
        500,
        "soap:Client",
    );
    let by_reference = good12.replace("038224001234", "0382&#28;24001234");
    assert_fault12(
        &post12(&gw, "ho-tich", &by_reference, CONSUMER),
        400,
        "env:Sender",
    );
    // A character reference outside the root element (found by the envelope fuzz target:
    // the scan passed it, libxml2 refuses it).
    let before_root = good11.replacen("<soapenv:Envelope", "&#65;<soapenv:Envelope", 1);
    assert_ne!(before_root, good11);
    assert_fault11(
        &post11(&gw, "ho-tich", &before_root, CONSUMER),
        500,
        "soap:Client",
    );
    assert_fault12(
        &post12(&gw, "ho-tich", &format!("{good12}&#65;"), CONSUMER),
        400,
        "env:Sender",
    );

    // SOAPAction naming another operation than the Body's.
    let r = http(
        gw.gateway.addr,
        "POST",
        "/services/ho-tich",
        &[
            ("Content-Type", "text/xml"),
            ("SOAPAction", "\"urn:lgsp:h38:hotich:TraCuuKetHon\""),
            ("X-Lienthong-Consumer", CONSUMER),
        ],
        good11.as_bytes(),
    );
    assert_fault11(&r, 500, "soap:Client");
    let r = http(
        gw.gateway.addr,
        "POST",
        "/services/ho-tich",
        &[
            (
                "Content-Type",
                "application/soap+xml; action=\"urn:lgsp:h38:hotich:TraCuuKetHon\"",
            ),
            ("X-Lienthong-Consumer", CONSUMER),
        ],
        good12.as_bytes(),
    );
    assert_fault12(&r, 400, "env:Sender");

    // An agency without a grant for the operation.
    let ket_hon11 = envelope11(&example("ho-tich-TraCuuKetHon"));
    let r = post11(&gw, "ho-tich", &ket_hon11, DISTRICT);
    // The caller's error: soap:Client, lienthong's code in the detail.
    assert_fault11(&r, 500, "soap:Client");
    assert!(
        r.text().contains("<lt:Code>lt:AccessDenied</lt:Code>"),
        "{}",
        r.text()
    );
    let ket_hon12 = envelope12(&example("ho-tich-TraCuuKetHon"));
    assert_fault12(
        &post12(&gw, "ho-tich", &ket_hon12, DISTRICT),
        400,
        "env:Sender",
    );

    // Unknown mustUnderstand header addressed to the gateway.
    let mu = good11.replace(
        "<soapenv:Header/>",
        r#"<soapenv:Header><x:Must xmlns:x="urn:x" soapenv:mustUnderstand="1"/></soapenv:Header>"#,
    );
    assert_fault11(
        &post11(&gw, "ho-tich", &mu, CONSUMER),
        500,
        "soap:MustUnderstand",
    );

    // Oversize body -> 413, refused before it is read whole.
    let big = vec![b'a'; 11 * 1024 * 1024];
    let r = http(
        gw.gateway.addr,
        "POST",
        "/services/ho-tich",
        &[
            ("Content-Type", "text/xml"),
            ("X-Lienthong-Consumer", CONSUMER),
        ],
        &big,
    );
    assert_fault11(&r, 413, "soap:Client");

    assert_eq!(
        gw.provider_calls(),
        0,
        "a refused request reached the provider"
    );

    // Each refusal is in the audit store, as rejected, with its fault code.
    let recs = audit_records(&gw);
    assert_eq!(recs.len(), 19, "{recs:?}");
    assert!(recs.iter().all(|r| r["outcome"] == "rejected"), "{recs:?}");
    assert!(recs.iter().any(|r| r["fault_code"] == "lt:AccessDenied"));
}

#[test]
fn hostile_xml_is_refused_quickly() {
    let gw = Gateway::start(unsigned);
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><a>&x;</a></soapenv:Body></soapenv:Envelope>"#;
    let laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">{}]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><a>&lol9;</a></soapenv:Body></soapenv:Envelope>"#,
        (1..10)
            .map(|i| format!(
                r#"<!ENTITY lol{i} "{}">"#,
                format!("&lol{};", i - 1).repeat(10)
            ))
            .collect::<String>()
    );
    let deep = envelope11(&format!(
        "{}{}",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    ));
    let attrs = envelope11(&format!(
        "<a {}/>",
        (0..10_000)
            .map(|i| format!("a{i}=\"x\""))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    for (name, body) in [
        ("xxe", xxe.to_string()),
        ("billion laughs", laughs),
        ("deep", deep),
        ("attributes", attrs),
    ] {
        let t = Instant::now();
        let r = post11(&gw, "ho-tich", &body, CONSUMER);
        assert_fault11(&r, 500, "soap:Client");
        assert!(!r.text().contains("root:"), "{name}: file contents leaked");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{name} took {:?}",
            t.elapsed()
        );
    }
    assert_eq!(gw.provider_calls(), 0);
}

#[test]
fn failing_providers_become_receiver_faults() {
    // A port nothing listens on, and a provider that accepts and never answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gw = Gateway::start(|doc| {
        unsigned(doc);
        let services = doc.get_mut("services").unwrap().as_array_mut().unwrap();
        for s in services {
            let t = s.as_table_mut().unwrap();
            match t["name"].as_str().unwrap() {
                "ho-tich" => {
                    t.insert("endpoint".into(), format!("http://{closed}/ho-tich").into());
                }
                "mot-cua" => {
                    let ep = t["endpoint"]
                        .as_str()
                        .unwrap()
                        .replace("/mot-cua", "/_hang");
                    t.insert("endpoint".into(), ep.into());
                    t.insert("timeout_ms".into(), toml::Value::Integer(1500));
                }
                _ => {}
            }
        }
    });
    let r = post11(
        &gw,
        "ho-tich",
        &envelope11(&example("ho-tich-TraCuuKhaiSinh")),
        CONSUMER,
    );
    // Not the caller's error: soap:Server, lienthong's code in the detail.
    assert_fault11(&r, 502, "soap:Server");
    assert!(
        r.text()
            .contains("<lt:Code>lt:ProviderUnavailable</lt:Code>"),
        "{}",
        r.text()
    );
    let t = Instant::now();
    let r = post12(
        &gw,
        "mot-cua",
        &envelope12(&example("mot-cua-TraCuuTrangThaiHoSo")),
        CONSUMER,
    );
    assert_fault12(&r, 504, "env:Receiver");
    assert!(t.elapsed() < Duration::from_secs(10));
    let recs = audit_records(&gw);
    assert_eq!(
        recs.iter().filter(|r| r["outcome"] == "failed").count(),
        2,
        "{recs:?}"
    );
}

#[test]
fn check_reports_a_broken_wsdl_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let wsdl = broken_wsdl(dir.path());
    let config = write_config(dir.path(), "127.0.0.1:9".parse().unwrap(), |doc| {
        let s = &mut doc.get_mut("services").unwrap().as_array_mut().unwrap()[0];
        s.as_table_mut()
            .unwrap()
            .insert("wsdl".into(), wsdl.display().to_string().into());
    });
    let out = std::process::Command::new(bin())
        .args(["check", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("{}:4:", wsdl.display())), "{err}");

    let out = std::process::Command::new(bin())
        .args([
            "check",
            "--config",
            repo().join("conf/gateway.toml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn graceful_shutdown_finishes_in_flight_exchanges() {
    let mut gw = Gateway::start(|doc| {
        unsigned(doc);
        hang_service(doc, "mot-cua", 2000);
    });
    let addr = gw.gateway.addr;
    let body = envelope12(&example("mot-cua-TraCuuTrangThaiHoSo"));
    let inflight = std::thread::spawn(move || {
        http(
            addr,
            "POST",
            "/services/mot-cua",
            &[
                ("Content-Type", "application/soap+xml"),
                ("X-Lienthong-Consumer", CONSUMER),
            ],
            body.as_bytes(),
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    let status = gw.gateway.terminate();
    assert!(status.success(), "{status:?}: {}", gw.gateway.log_text());
    let r = inflight.join().unwrap();
    assert_eq!(r.status, 504, "{}", r.text());
    let id = r.header("x-lienthong-exchange-id").unwrap().to_string();
    assert_eq!(audit_record(&gw, &id)["outcome"], "failed");
}

#[test]
fn check_loads_the_gateway_key_and_trust_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.key");
    let m = missing.display().to_string();
    let config = write_config(dir.path(), "127.0.0.1:9".parse().unwrap(), move |doc| {
        let sec = doc
            .entry("security")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        sec.as_table_mut().unwrap().insert("key".into(), m.into());
    });
    let out = std::process::Command::new(bin())
        .args(["check", "--config", config.to_str().unwrap(), "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nope.key"), "{err}");
}

/// `sign_forwarded = false` and `sign_answers = false` make a plain pass-through service:
/// nothing the gateway sends carries its signature, and everything is still audited. The
/// default signs both ways.
#[test]
fn plain_services_pass_through_unsigned_and_default_ones_are_signed() {
    let gw = Gateway::start(|doc| {
        unsigned(doc);
        let toml::Value::Array(services) = doc.get_mut("services").unwrap() else {
            panic!("services")
        };
        for s in services {
            let t = s.as_table_mut().unwrap();
            if t["name"].as_str() == Some("ho-tich") {
                let sec = t["security"].as_table_mut().unwrap();
                sec.insert("sign_forwarded".into(), toml::Value::Boolean(false));
                sec.insert("sign_answers".into(), toml::Value::Boolean(false));
            }
        }
    });
    let received = |gw: &Gateway| -> serde_json::Value {
        let r = http(gw.providers.addr, "GET", "/_received", &[], b"");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["last"].as_array().unwrap().last().unwrap().clone()
    };

    let plain = post11(
        &gw,
        "ho-tich",
        &envelope11(&example("ho-tich-TraCuuKhaiSinh")),
        CONSUMER,
    );
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert!(!plain.text().contains("Security"), "{}", plain.text());
    let seen = received(&gw);
    assert_eq!(seen["security_header"], false, "{seen}");
    assert!(seen["exchange_header"].as_str().unwrap().contains(CONSUMER));
    let id = plain.header("x-lienthong-exchange-id").unwrap();
    assert_eq!(audit_record(&gw, id)["outcome"], "accepted");

    // A refusal on the plain service is unsigned too, and still audited.
    let refused = post11(&gw, "ho-tich", "<not-soap/>", CONSUMER);
    assert_fault11(&refused, 500, "soap:Client");
    assert!(!refused.text().contains("Signature"), "{}", refused.text());
    let id = refused.header("x-lienthong-exchange-id").unwrap();
    assert_eq!(audit_record(&gw, id)["outcome"], "rejected");

    let signed = post12(
        &gw,
        "mot-cua",
        &envelope12(&example("mot-cua-TraCuuTrangThaiHoSo")),
        CONSUMER,
    );
    assert_eq!(signed.status, 200, "{}", signed.text());
    assert!(
        signed.text().contains("SignatureValue"),
        "{}",
        signed.text()
    );
    assert_eq!(received(&gw)["security_header"], true);
}
