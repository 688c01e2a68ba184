//! Faults, end to end: which SOAP actions are accepted and what the provider is sent,
//! what a fault tells the caller and what only the audit record keeps, provider faults
//! relayed with the exchange id, SOAP 1.1 and 1.2 fault codes, and the SOAP 1.2 Upgrade
//! and NotUnderstood header blocks.

use lienthong::model::SoapVersion;

use crate::common::*;
use crate::traffic::{content_type, PROVINCE};

const KHAI_SINH_ACTION: &str = "urn:lgsp:h38:hotich:TraCuuKhaiSinh";

/// How a test sends the action: the raw `SOAPAction` header value (SOAP 1.1) or the raw
/// `action` parameter value (SOAP 1.2); `None` sends neither.
fn post(gw: &Gateway, version: SoapVersion, action: Option<&str>, body: &str) -> HttpResponse {
    let mut ct = content_type(version).to_string();
    let mut headers = vec![("X-Lienthong-Consumer", PROVINCE)];
    let soap_action;
    match (version, action) {
        (SoapVersion::V11, Some(a)) => {
            soap_action = a.to_string();
            headers.push(("SOAPAction", &soap_action));
        }
        (SoapVersion::V12, Some(a)) => ct.push_str(&format!("; action={a}")),
        (_, None) => {}
    }
    headers.push(("Content-Type", &ct));
    http(
        gw.gateway.addr,
        "POST",
        "/services/ho-tich",
        &headers,
        body.as_bytes(),
    )
}

fn envelope(version: SoapVersion, payload: &str) -> String {
    match version {
        SoapVersion::V11 => envelope11(payload),
        SoapVersion::V12 => envelope12(payload),
    }
}

/// The fault's reason text (`faultstring` or `env:Reason/env:Text`).
fn reason(r: &HttpResponse) -> String {
    let t = r.text();
    for open in [
        "<faultstring xml:lang=\"en\">",
        "<env:Text xml:lang=\"en\">",
    ] {
        if let Some(i) = t.find(open) {
            let rest = &t[i + open.len()..];
            return rest[..rest.find("</").unwrap()].to_string();
        }
    }
    panic!("no fault reason in {t}")
}

/// The last request the example providers received.
fn last_received(gw: &Gateway) -> serde_json::Value {
    let r = http(gw.providers.addr, "GET", "/_received", &[], b"");
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["last"].as_array().unwrap().last().cloned().unwrap()
}

#[test]
fn every_action_form_for_the_bodys_operation_is_accepted_and_the_provider_gets_the_wsdls() {
    let gw = Gateway::start(unsigned);
    let forms: &[Option<&str>] = &[
        None,
        Some("\"\""),
        Some("\"urn:lgsp:h38:hotich:TraCuuKhaiSinh\""),
        Some("urn:lgsp:h38:hotich:TraCuuKhaiSinh"),
        Some("\"TraCuuKhaiSinh\""),
        Some("TraCuuKhaiSinh"),
        // The WSDL's target namespace, and the request element's.
        Some("\"urn:lgsp:h38:hotich:wsdl:1.0/TraCuuKhaiSinh\""),
        Some("urn:lgsp:h38:hotich:wsdl:1.0/TraCuuKhaiSinh/"),
        Some("\"urn:lgsp:h38:hotich:1.0/TraCuuKhaiSinh/\""),
        // Names nothing of the contract: the Body decides (see src/pipeline/dispatch.rs).
        Some("\"urn:some-client:default-action\""),
    ];
    let mut calls = 0;
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let body = envelope(version, &example("ho-tich-TraCuuKhaiSinh"));
        for &form in forms {
            let r = post(&gw, version, form, &body);
            assert_eq!(r.status, 200, "{version:?} {form:?}: {}", r.text());
            calls += 1;
            assert_eq!(gw.provider_calls(), calls);
            let got = last_received(&gw);
            assert_eq!(
                got["action"], KHAI_SINH_ACTION,
                "{version:?} {form:?}: the provider must get the WSDL's action"
            );
        }
    }
}

#[test]
fn an_action_naming_another_operation_is_refused_naming_both() {
    let gw = Gateway::start(unsigned);
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let body = envelope(version, &example("ho-tich-TraCuuKhaiSinh"));
        for form in [
            "\"urn:lgsp:h38:hotich:TraCuuKetHon\"",
            "TraCuuKetHon",
            "\"urn:lgsp:h38:hotich:wsdl:1.0/TraCuuKetHon\"",
        ] {
            let r = post(&gw, version, Some(form), &body);
            let expected = match version {
                SoapVersion::V11 => 500,
                SoapVersion::V12 => 400,
            };
            assert_eq!(r.status, expected, "{form}: {}", r.text());
            let why = reason(&r);
            assert!(
                why.contains("operation `TraCuuKetHon`")
                    && why.contains("operation `TraCuuKhaiSinh`"),
                "{version:?} {form}: {why}"
            );
        }
    }
    assert_eq!(gw.provider_calls(), 0);
}

/// The audit record of the exchange `r` answered.
fn audit_of(gw: &Gateway, r: &HttpResponse) -> serde_json::Value {
    let id = r
        .header("x-lienthong-exchange-id")
        .expect("exchange id header");
    gw.audit_records(&[])
        .into_iter()
        .find(|rec| rec["id"] == id)
        .unwrap_or_else(|| panic!("no audit record for {id}"))
}

/// Library and host internals a fault must never carry.
const INTERNALS: &[&str] = &[
    "error:0",
    "libxml",
    "xmlsec",
    "openssl",
    "hyper",
    "tcp connect",
    "connection refused",
    "127.0.0.1",
    "/tmp/",
    "/work/",
    ".rs:",
];

fn assert_no_internals(label: &str, r: &HttpResponse) {
    let t = r.text().to_lowercase();
    for bad in INTERNALS {
        assert!(
            !t.contains(bad),
            "{label}: the fault carries `{bad}`: {}",
            r.text()
        );
    }
}

fn post_signed(gw: &Gateway, version: SoapVersion, body: &[u8]) -> HttpResponse {
    let mut headers = vec![("Content-Type", content_type(version))];
    if version == SoapVersion::V11 {
        headers.push(("SOAPAction", "\"\""));
    }
    http(gw.gateway.addr, "POST", "/services/ho-tich", &headers, body)
}

#[test]
fn faults_carry_no_library_text_and_the_audit_record_keeps_it() {
    use crate::traffic::{signed, tampered};
    let gw = Gateway::start(|_| {});
    let valid = example("ho-tich-TraCuuKhaiSinh");
    for version in [SoapVersion::V11, SoapVersion::V12] {
        // A signature broken after signing.
        let body = tampered(signed(&gw.data_dir(), PROVINCE, version, &valid), &valid);
        let r = post_signed(&gw, version, &body);
        assert_no_internals("tampered", &r);
        let rec = audit_of(&gw, &r);
        assert_eq!(rec["fault_code"], "wsse:FailedCheck", "{rec}");
        let kept = rec["fault_reason"].as_str().unwrap();
        assert!(
            kept.starts_with("the signature or a digest does not match the message: libxmlsec1: "),
            "the audit record must keep libxmlsec1's account: {kept}"
        );

        // A token that is not a certificate at all: the fault says so, the audit record
        // keeps OpenSSL's reason.
        let text = String::from_utf8(signed(&gw.data_dir(), PROVINCE, version, &valid)).unwrap();
        let open = text.find("<wsse:BinarySecurityToken").unwrap();
        let start = open + text[open..].find('>').unwrap() + 1;
        let end = start + text[start..].find("</wsse:BinarySecurityToken>").unwrap();
        // base64 of "this is not a certificate"
        let garbage = format!(
            "{}dGhpcyBpcyBub3QgYSBjZXJ0aWZpY2F0ZQ=={}",
            &text[..start],
            &text[end..]
        );
        let r = post_signed(&gw, version, garbage.as_bytes());
        assert_no_internals("garbage certificate", &r);
        assert!(
            reason(&r).contains("not an X.509 certificate"),
            "{}",
            r.text()
        );
        let rec = audit_of(&gw, &r);
        assert_eq!(rec["fault_code"], "wsse:InvalidSecurityToken", "{rec}");
        let kept = rec["fault_reason"].as_str().unwrap();
        assert!(
            kept.contains("not an X.509 certificate: ") && kept.contains("error:"),
            "the audit record must keep OpenSSL's reason: {kept}"
        );
    }
    assert_eq!(gw.provider_calls(), 0);
}

#[test]
fn a_provider_that_is_down_is_a_fault_without_its_address_or_hypers_words() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let gw = Gateway::start(|doc| {
        unsigned(doc);
        ho_tich_endpoint(doc, |_| "http://127.0.0.1:1/ho-tich".into());
    });
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let body = envelope(version, &example("ho-tich-TraCuuKhaiSinh"));
        let r = post(&gw, version, None, &body);
        assert_eq!(r.status, 502, "{}", r.text());
        assert_no_internals("provider down", &r);
        assert_eq!(reason(&r), "the provider could not be reached");
        let rec = audit_of(&gw, &r);
        let kept = rec["fault_reason"].as_str().unwrap();
        assert!(
            kept.starts_with("the provider could not be reached: ") && kept.len() > 40,
            "the audit record must keep the connection error: {kept}"
        );
    }
}

#[test]
fn a_body_that_breaks_off_is_a_fault_without_hypers_words() {
    let gw = Gateway::start(unsigned);
    // A chunk size that is not hexadecimal: the HTTP library refuses the body.
    let r = http(
        gw.gateway.addr,
        "POST",
        "/services/ho-tich",
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Transfer-Encoding", "chunked"),
            ("X-Lienthong-Consumer", PROVINCE),
        ],
        b"zz\r\n<soap:Envelope\r\n0\r\n\r\n",
    );
    assert_no_internals("broken body", &r);
    assert_eq!(
        reason(&r),
        "the request body could not be read",
        "{}",
        r.text()
    );
    let rec = audit_of(&gw, &r);
    let kept = rec["fault_reason"].as_str().unwrap();
    assert!(
        kept.starts_with("the request body could not be read: "),
        "the audit record must keep the HTTP library's reason: {kept}"
    );
}

/// Points the ho-tich service at `to(its endpoint)`.
fn ho_tich_endpoint(doc: &mut toml::Table, to: impl Fn(&str) -> String) {
    let services = doc.get_mut("services").unwrap().as_array_mut().unwrap();
    for s in services {
        let t = s.as_table_mut().unwrap();
        if t["name"].as_str() == Some("ho-tich") {
            let ep = to(t["endpoint"].as_str().unwrap());
            t.insert("endpoint".into(), ep.into());
        }
    }
}

/// The exchange id entry every fault must carry, for the exchange `r` answered.
fn assert_exchange_id(label: &str, r: &HttpResponse) {
    let id = r
        .header("x-lienthong-exchange-id")
        .expect("exchange id header");
    assert!(
        r.text()
            .contains(&format!("<lt:ExchangeId>{id}</lt:ExchangeId>")),
        "{label}: no lt:ExchangeId {id}: {}",
        r.text()
    );
}

#[test]
fn provider_faults_reach_the_consumer_whole_with_the_exchange_id() {
    let gw = Gateway::start(unsigned);
    let unknown = example("ho-tich-TraCuuKhaiSinh").replace("038224001234", "038200999999");
    assert_ne!(unknown, example("ho-tich-TraCuuKhaiSinh"));
    for version in [SoapVersion::V11, SoapVersion::V12] {
        // A business fault with the provider's own detail entry: kept, the id added.
        let r = post(&gw, version, None, &envelope(version, &unknown));
        let t = r.text();
        let (status, code) = match version {
            SoapVersion::V11 => (500, "<faultcode>soap:Client</faultcode>"),
            SoapVersion::V12 => (400, ":Sender</"),
        };
        assert_eq!(r.status, status, "{t}");
        assert!(t.contains(code), "{t}");
        assert!(
            t.contains("Không tìm thấy thông tin đăng ký khai sinh"),
            "{t}"
        );
        assert!(t.contains("<dm:MaLoi>KHONG_TIM_THAY</dm:MaLoi>"), "{t}");
        assert_exchange_id("business fault", &r);
        // The provider's entry first, the gateway's after it, in one detail element.
        let (dm, lt) = (
            t.find("dm:LoiNghiepVu").unwrap(),
            t.find("lt:FaultDetail").unwrap(),
        );
        assert!(dm < lt, "{t}");
        let detail = match version {
            SoapVersion::V11 => "detail>",
            SoapVersion::V12 => ":Detail>",
        };
        assert_eq!(t.matches(detail).count(), 2, "one detail element: {t}");
    }
    assert_eq!(gw.provider_calls(), 2);
}

#[test]
fn a_provider_fault_without_detail_gets_one_holding_the_exchange_id() {
    // ho-tich requests sent to the one-stop provider, which reads none of them: its
    // faults (VersionMismatch for SOAP 1.1, unknown operation for 1.2) have no detail.
    let gw = Gateway::start(|doc| {
        unsigned(doc);
        ho_tich_endpoint(doc, |ep| ep.replace("/ho-tich", "/mot-cua"));
    });
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let r = post(
            &gw,
            version,
            None,
            &envelope(version, &example("ho-tich-TraCuuKhaiSinh")),
        );
        let t = r.text();
        assert!(r.status >= 400, "{t}");
        assert!(t.contains("xml:lang=\"vi\""), "the provider's fault: {t}");
        assert_exchange_id("fault without detail", &r);
        let detail = match version {
            SoapVersion::V11 => "<detail><lt:FaultDetail",
            SoapVersion::V12 => ":Detail><lt:FaultDetail",
        };
        assert!(t.contains(detail), "{t}");
    }
    assert_eq!(gw.provider_calls(), 2);
}

#[test]
fn soap11_faultcode_is_client_or_server_with_lienthongs_code_in_the_detail() {
    let gw = Gateway::start(|doc| {
        unsigned(doc);
        ho_tich_endpoint(doc, |_| "http://127.0.0.1:1/ho-tich".into());
    });
    let invalid = crate::traffic::schema_invalid(&example("ho-tich-TraCuuKhaiSinh"));
    // (case, body, SOAP 1.1 class, SOAP 1.2 class, lienthong's code)
    let cases = [
        (
            "schema violation",
            invalid,
            "Client",
            "Sender",
            "lt:SchemaViolation",
        ),
        (
            "provider down",
            example("ho-tich-TraCuuKhaiSinh"),
            "Server",
            "Receiver",
            "lt:ProviderUnavailable",
        ),
    ];
    for (label, payload, class11, class12, code) in cases {
        let r = post(&gw, SoapVersion::V11, None, &envelope11(&payload));
        let t = r.text();
        assert!(
            t.contains(&format!("<faultcode>soap:{class11}</faultcode>")),
            "{label}: {t}"
        );
        assert!(
            t.contains(&format!("<lt:Code>{code}</lt:Code>")),
            "{label}: {t}"
        );
        assert_exchange_id(label, &r);
        // The audit record keeps the most specific code.
        assert_eq!(audit_of(&gw, &r)["fault_code"], code, "{label}");

        let r = post(&gw, SoapVersion::V12, None, &envelope12(&payload));
        let t = r.text();
        assert!(
            t.contains(&format!(
                "<env:Value>env:{class12}</env:Value><env:Subcode><env:Value>{code}</env:Value></env:Subcode>"
            )),
            "{label}: {t}"
        );
        assert!(
            t.contains(&format!("<lt:Code>{code}</lt:Code>")),
            "{label}: {t}"
        );
        assert_exchange_id(label, &r);
    }
}

#[test]
fn a_wss_refusal_is_soap_client_with_the_wsse_code_in_the_detail() {
    let gw = Gateway::start(|_| {});
    let unsigned = envelope11(&example("ho-tich-TraCuuKhaiSinh"));
    let r = post_signed(&gw, SoapVersion::V11, unsigned.as_bytes());
    let t = r.text();
    assert!(t.contains("<faultcode>soap:Client</faultcode>"), "{t}");
    assert!(
        t.contains(r#"<lt:Code xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">wsse:InvalidSecurity</lt:Code>"#),
        "{t}"
    );
    assert_eq!(audit_of(&gw, &r)["fault_code"], "wsse:InvalidSecurity");
}

#[test]
fn version_mismatch_names_the_supported_envelopes_in_an_upgrade_block() {
    let gw = Gateway::start(unsigned);
    let payload = example("ho-tich-TraCuuKhaiSinh");
    let (s11, s12) = (
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    );
    // The Upgrade block's content: the envelope `first`, then `second`.
    let upgrade = |first: &str, second: &str| {
        let supported =
            |ns: &str| format!(r#"<up:SupportedEnvelope xmlns:v="{ns}" qname="v:Envelope"/>"#);
        format!(
            r#"xmlns:up="{s12}">{}{}</up:Upgrade>"#,
            supported(first),
            supported(second)
        )
    };
    // A SOAP 1.1 envelope with the SOAP 1.2 content type: a SOAP 1.2 fault.
    let r = post(&gw, SoapVersion::V12, None, &envelope11(&payload));
    let t = r.text();
    assert!(
        t.contains("<env:Value>env:VersionMismatch</env:Value>"),
        "{t}"
    );
    assert!(t.contains(&upgrade(s12, s11)), "{t}");
    assert_exchange_id("1.2 version mismatch", &r);
    // The reverse: a SOAP 1.1 fault, with the same (SOAP 1.2) block, 1.1 first.
    let r = post(&gw, SoapVersion::V11, None, &envelope12(&payload));
    let t = r.text();
    assert!(
        t.contains("<faultcode>soap:VersionMismatch</faultcode>"),
        "{t}"
    );
    assert!(t.contains(&upgrade(s11, s12)), "{t}");
    assert_eq!(gw.provider_calls(), 0);
}

#[test]
fn must_understand_faults_name_each_block_not_understood() {
    let gw = Gateway::start(unsigned);
    let payload = example("ho-tich-TraCuuKhaiSinh");
    let blocks = r#"<x:Must xmlns:x="urn:x:1" env:mustUnderstand="true"/><y:Also xmlns:y="urn:y:2" env:mustUnderstand="1"/><z:Optional xmlns:z="urn:z"/>"#;
    let body12 = envelope12(&payload).replace(
        "<env:Body>",
        &format!("<env:Header>{blocks}</env:Header><env:Body>"),
    );
    let r = post(&gw, SoapVersion::V12, None, &body12);
    let t = r.text();
    assert!(
        t.contains("<env:Value>env:MustUnderstand</env:Value>"),
        "{t}"
    );
    let nu = |ns: &str, local: &str| {
        format!(
            r#"xmlns:nu="http://www.w3.org/2003/05/soap-envelope" xmlns:b="{ns}" qname="b:{local}"/>"#
        )
    };
    assert!(t.contains(&nu("urn:x:1", "Must")), "{t}");
    assert!(t.contains(&nu("urn:y:2", "Also")), "{t}");
    assert_eq!(t.matches("NotUnderstood ").count(), 2, "{t}");
    assert!(reason(&r).contains("{urn:x:1}Must, {urn:y:2}Also"), "{t}");
    assert_exchange_id("1.2 must understand", &r);

    // SOAP 1.1 has no NotUnderstood block: the faultstring names the block.
    let body11 = envelope11(&payload).replace(
        "<soapenv:Header/>",
        r#"<soapenv:Header><x:Must xmlns:x="urn:x:1" soapenv:mustUnderstand="1"/></soapenv:Header>"#,
    );
    let r = post(&gw, SoapVersion::V11, None, &body11);
    let t = r.text();
    assert!(
        t.contains("<faultcode>soap:MustUnderstand</faultcode>"),
        "{t}"
    );
    assert!(!t.contains("NotUnderstood"), "{t}");
    assert!(reason(&r).contains("{urn:x:1}Must"), "{t}");
    assert_eq!(gw.provider_calls(), 0);
}

/// `[limits] request_timeout_ms` running out while the provider is being waited for is the
/// provider's delay, not the caller's: a Receiver fault with 504 (RFC 9110 §15.6.5), as
/// when the service's own `timeout_ms` runs out, never the caller's 408.
#[test]
fn the_whole_exchange_deadline_while_the_provider_is_slow_is_a_receiver_504() {
    let gw = Gateway::start(|doc| {
        unsigned(doc);
        doc["limits"]
            .as_table_mut()
            .unwrap()
            .insert("request_timeout_ms".into(), toml::Value::Integer(1000));
        hang_service(doc, "ho-tich", 20_000);
    });
    let payload = example("ho-tich-TraCuuKhaiSinh");
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let r = post(&gw, version, None, &envelope(version, &payload));
        assert_eq!(r.status, 504, "{version:?}: {}", r.text());
        let class = match version {
            SoapVersion::V11 => "<faultcode>soap:Server</faultcode>",
            SoapVersion::V12 => "<env:Value>env:Receiver</env:Value>",
        };
        assert!(r.text().contains(class), "{version:?}: {}", r.text());
        assert_eq!(reason(&r), "the provider did not answer in time");
        let rec = audit_of(&gw, &r);
        assert_eq!(rec["fault_code"], "lt:ProviderUnavailable", "{rec}");
        assert_eq!(rec["outcome"], "failed", "{rec}");
    }
}
