//! Traffic for the hardening tests: the example services' calls, signed as an agency with
//! the development PKI of the gateway's data directory, and the ways a caller gets them
//! wrong (schema-invalid, mapping-failing, tampered, unsigned, unauthorised, malformed).

use std::path::Path;

use lienthong::model::SoapVersion;
use lienthong::wssec::{pki, Signer};

use crate::common::*;

pub const PROVINCE: &str = "000.00.00.H38";
pub const DISTRICT: &str = "000.00.21.H38";
pub const PLANNING: &str = "000.00.13.H38";

/// One request of the mix: where it goes, how, and what must come back.
pub struct Case {
    pub label: String,
    pub service: &'static str,
    pub version: SoapVersion,
    pub body: Vec<u8>,
    /// The HTTP statuses this case may be answered with.
    pub statuses: &'static [u16],
}

/// Signs `payload` in an envelope of `version` as `agency`, with the development PKI the
/// gateway's data directory holds.
pub fn signed(data: &Path, agency: &str, version: SoapVersion, payload: &str) -> Vec<u8> {
    sign_with(&signer(data, agency), version, payload)
}

/// The signer of `agency` (loading a key costs: keep one per thread).
pub fn signer(data: &Path, agency: &str) -> Signer {
    Signer::load(
        &pki::agency_key(data, agency),
        &pki::agency_cert(data, agency),
        None,
        None,
    )
    .unwrap()
}

/// `payload` in an envelope of `version`, signed by `signer`, with a fresh signature.
pub fn sign_with(signer: &Signer, version: SoapVersion, payload: &str) -> Vec<u8> {
    let envelope = lienthong::soap::envelope::build(version, &[], payload.as_bytes());
    signer
        .sign(
            &envelope,
            &Default::default(),
            chrono::Duration::seconds(300),
        )
        .unwrap()
}

pub fn content_type(version: SoapVersion) -> &'static str {
    match version {
        SoapVersion::V11 => "text/xml; charset=utf-8",
        SoapVersion::V12 => "application/soap+xml; charset=utf-8",
    }
}

pub fn send(addr: std::net::SocketAddr, case: &Case) -> HttpResponse {
    let mut headers = vec![("Content-Type", content_type(case.version))];
    if case.version == SoapVersion::V11 {
        headers.push(("SOAPAction", "\"\""));
    }
    http(
        addr,
        "POST",
        &format!("/services/{}", case.service),
        &headers,
        &case.body,
    )
}

/// A valid call of an example service, and who may make it.
#[derive(Clone)]
pub struct Call {
    pub service: &'static str,
    pub version: SoapVersion,
    pub payload: String,
    pub agency: &'static str,
}

/// A payload of the district's dossier mapping tests (`conf/mappings/ho-so-huyen-tinh/tests`).
pub fn district_case(name: &str) -> String {
    payload(&format!(
        "conf/mappings/ho-so-huyen-tinh/tests/{name}/input.xml"
    ))
}

/// Every operation of every example service, in each SOAP version its binding has.
pub fn calls() -> Vec<Call> {
    let services: Vec<(&'static str, String, &'static str, &[SoapVersion])> = vec![
        (
            "ho-tich",
            example("ho-tich-TraCuuKhaiSinh"),
            PROVINCE,
            &[SoapVersion::V11, SoapVersion::V12],
        ),
        (
            "ho-tich",
            example("ho-tich-TraCuuKetHon"),
            PROVINCE,
            &[SoapVersion::V11, SoapVersion::V12],
        ),
        (
            "dang-ky-kinh-doanh",
            example("dang-ky-kinh-doanh-TraCuuDoanhNghiep"),
            PROVINCE,
            &[SoapVersion::V11],
        ),
        (
            "mot-cua",
            example("mot-cua-TraCuuTrangThaiHoSo"),
            PROVINCE,
            &[SoapVersion::V12],
        ),
        (
            "tiep-nhan-ho-so",
            district_case("day-du"),
            DISTRICT,
            &[SoapVersion::V11, SoapVersion::V12],
        ),
    ];
    services
        .into_iter()
        .flat_map(|(service, payload, agency, versions)| {
            versions.iter().map(move |&version| Call {
                service,
                version,
                payload: payload.clone(),
                agency,
            })
        })
        .collect()
}

/// The payload with an element its schema does not allow, after the first child's end tag.
pub fn schema_invalid(valid: &str) -> String {
    let close = valid.find("</").unwrap();
    let end = close + valid[close..].find('>').unwrap() + 1;
    format!("{}<Thua>x</Thua>{}", &valid[..end], &valid[end..])
}

/// A signed envelope with one character of its payload changed after signing.
pub fn tampered(signed: Vec<u8>, valid: &str) -> Vec<u8> {
    let text = first_text(valid);
    String::from_utf8(signed)
        .unwrap()
        .replacen(&format!(">{text}<"), &format!(">{text}0<"), 1)
        .into_bytes()
}

/// The mix: for each example service and each SOAP version its binding has, one request
/// of every kind. A fresh signature for each (the gateway accepts a signature once).
pub fn mix(data: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for Call {
        service,
        version,
        payload: valid,
        agency,
    } in calls()
    {
        let v = version.label();
        let mut push = |kind: &str, body: Vec<u8>, statuses: &'static [u16]| {
            out.push(Case {
                label: format!("{service} {v} {kind}"),
                service,
                version,
                body,
                statuses,
            })
        };
        push("valid", signed(data, agency, version, &valid), &[200]);
        push(
            "schema-invalid",
            signed(data, agency, version, &schema_invalid(&valid)),
            &[400, 500],
        );
        push(
            "tampered",
            tampered(signed(data, agency, version, &valid), &valid),
            &[400, 500],
        );
        push(
            "unsigned",
            lienthong::soap::envelope::build(version, &[], valid.as_bytes()),
            &[400, 500],
        );
        push(
            "unauthorised",
            signed(data, PLANNING, version, &valid),
            &[400, 500],
        );
        let whole = signed(data, agency, version, &valid);
        push("truncated", whole[..whole.len() / 2].to_vec(), &[400, 500]);
        push(
            "doctype",
            format!(
                "<!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
                String::from_utf8_lossy(&whole)
            )
            .into_bytes(),
            &[400, 500],
        );
        if service == "tiep-nhan-ho-so" {
            push(
                "mapping-failing",
                signed(data, agency, version, &district_case("loi-ngay-nop")),
                &[400, 500],
            );
        }
    }
    // The wrong SOAP version for a binding that has only the other one.
    out.push(Case {
        label: "mot-cua 1.1 (binding is 1.2 only)".into(),
        service: "mot-cua",
        version: SoapVersion::V11,
        body: signed(
            data,
            PROVINCE,
            SoapVersion::V11,
            &example("mot-cua-TraCuuTrangThaiHoSo"),
        ),
        statuses: &[400, 500],
    });
    out
}

/// The first text node of a payload (what a tamperer changes).
pub fn first_text(payload: &str) -> &str {
    let mut rest = payload;
    loop {
        let gt = rest.find('>').expect("a text node");
        rest = &rest[gt + 1..];
        let lt = rest.find('<').expect("a text node");
        if lt > 0 && !rest[..lt].trim().is_empty() {
            return &rest[..lt];
        }
    }
}
