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
