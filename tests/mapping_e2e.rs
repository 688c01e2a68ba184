//! A district speaking its own dossier schema (HoSo) calls the provincial registry, which
//! speaks ThongTinHoSo, through the gateway's mapping; the answer comes back in the
//! district's schema. Bad values and invalid documents are refused and never forwarded.

mod common;

use common::*;

const DISTRICT: &str = "000.00.21.H38";

fn case(name: &str) -> String {
    payload(&format!(
        "conf/mappings/ho-so-huyen-tinh/tests/{name}/input.xml"
    ))
}

fn post(gw: &Gateway, payload: &str) -> HttpResponse {
    http(
        gw.gateway.addr,
        "POST",
        "/services/tiep-nhan-ho-so",
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("X-Lienthong-Consumer", DISTRICT),
        ],
        envelope11(payload).as_bytes(),
    )
}

fn received(gw: &Gateway) -> serde_json::Value {
    let r = http(gw.providers.addr, "GET", "/_received", &[], b"");
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn district_schema_is_mapped_to_the_provincial_one_and_back() {
    let gw = Gateway::start(unsigned);
    let r = post(&gw, &case("day-du"));
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = r.text();
    assert!(
        answer.contains("KetQuaTiepNhan") && answer.contains("urn:mot-cua-huyen"),
        "{answer}"
    );
    assert!(
        !answer.contains("KetQuaTiepNhanHoSo"),
        "provincial answer leaked: {answer}"
    );
    // The provider saw its own schema.
    let got = received(&gw);
    assert_eq!(got["count"], 1);
    assert!(
        got["last"][0]["body_root"]
            .as_str()
            .unwrap()
            .contains("ThongTinHoSo"),
        "{got}"
    );
    // ...and the SOAPAction of its own operation, not the district-side one.
    assert_eq!(
        got["last"][0]["action"], "urn:tinh:tiep-nhan-ho-so:TiepNhanHoSo",
        "{got}"
    );
    // The audit record names the mappings (name@version) both ways.
    let out = gw.cli(&["audit", "export", "--format", "jsonl"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let rec: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["outcome"] == "accepted")
        .unwrap();
    assert!(
        rec["request_mapping"]
            .as_str()
            .unwrap()
            .contains("ho-so-huyen-tinh"),
        "{rec}"
    );
    assert!(
        rec["response_mapping"]
            .as_str()
            .unwrap()
            .contains("ket-qua-tinh-huyen"),
        "{rec}"
    );
}

#[test]
fn bad_values_and_invalid_documents_are_refused_before_forwarding() {
    let gw = Gateway::start(unsigned);
    // 31/02/2024 is not a date: a Client fault naming the element, nothing half-mapped sent.
    let r = post(&gw, &case("loi-ngay-nop"));
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.text().contains("NgayNop") && r.text().contains("31/02/2024"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("lt:MappingFailed"), "{}", r.text());
    // Not valid against the district schema: the violations are listed in the detail.
    let invalid = case("day-du").replace(
        "<MaThuTuc>1.001612</MaThuTuc>",
        "<MaThuTuc>1.001612</MaThuTuc><Thua>x</Thua>",
    );
    let r = post(&gw, &invalid);
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().contains("lt:SchemaViolation"), "{}", r.text());
    assert!(r.text().contains("Thua"), "{}", r.text());
    assert_eq!(received(&gw)["count"], 0);
}
