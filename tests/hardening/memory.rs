//! The real gateway under valgrind's memcheck, fed every kind of request the outside world
//! sends, concurrently: valid, schema-invalid, mapping-failing, unsigned, badly signed,
//! unauthorised and malformed, to every example service in SOAP 1.1 and 1.2. It passes only
//! when memcheck saw no invalid read or write and no use of freed memory (the class of
//! defect libxml2's reused validation context caused). Bounded: some 150 requests.

use std::path::Path;
use std::sync::Arc;

use lienthong::model::SoapVersion;
use lienthong::wssec::{pki, Signer};

use crate::common::*;

const PROVINCE: &str = "000.00.00.H38";
const DISTRICT: &str = "000.00.21.H38";
const PLANNING: &str = "000.00.13.H38";

/// valgrind's exit status when it found errors (`--error-exitcode`).
const MEMCHECK_FOUND_ERRORS: i32 = 99;

/// memcheck error kinds that mean memory was read, written or freed where it must not be.
const FORBIDDEN_KINDS: &[&str] = &[
    "InvalidRead",
    "InvalidWrite",
    "InvalidFree",
    "MismatchedFree",
    "InvalidJump",
    "InvalidMemPool",
    "FishyValue",
];

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
    let signer = Signer::load(
        &pki::agency_key(data, agency),
        &pki::agency_cert(data, agency),
        None,
        None,
    )
    .unwrap();
    let envelope = lienthong::pipeline::envelope::build(version, &[], payload.as_bytes());
    signer
        .sign(
            &envelope,
            &Default::default(),
            chrono::Duration::seconds(300),
        )
        .unwrap()
}

fn content_type(version: SoapVersion) -> &'static str {
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

/// The mix: for each example service and each SOAP version its binding has, one request
/// of every kind. A fresh signature for each (the gateway accepts a signature once).
pub fn mix(data: &Path) -> Vec<Case> {
    let district_case = |name: &str| {
        payload(&format!(
            "conf/mappings/ho-so-huyen-tinh/tests/{name}/input.xml"
        ))
    };
    // (service, payload of a valid call, the agency that may call it, the SOAP versions)
    let services: Vec<(&'static str, String, &str, &[SoapVersion])> = vec![
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
    let mut out = Vec::new();
    for (service, valid, agency, versions) in services {
        for &version in versions {
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
            // An element the schema does not allow, after the first child's end tag.
            let close = valid.find("</").unwrap();
            let end = close + valid[close..].find('>').unwrap() + 1;
            let invalid = format!("{}<Thua>x</Thua>{}", &valid[..end], &valid[end..]);
            push(
                "schema-invalid",
                signed(data, agency, version, &invalid),
                &[400, 500],
            );
            // One character of the signed payload changed after signing.
            let text = first_text(&valid);
            let tampered = String::from_utf8(signed(data, agency, version, &valid))
                .unwrap()
                .replacen(&format!(">{text}<"), &format!(">{text}0<"), 1)
                .into_bytes();
            push("tampered", tampered, &[400, 500]);
            push(
                "unsigned",
                lienthong::pipeline::envelope::build(version, &[], valid.as_bytes()),
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

#[test]
fn memcheck_sees_no_invalid_access_under_a_concurrent_hostile_mix() {
    let out = tempfile::tempdir().unwrap();
    let xml = out.path().join("memcheck.xml");
    let xml_arg = format!("--xml-file={}", xml.display());
    let wrapper = [
        "valgrind",
        "--tool=memcheck",
        "--error-exitcode=99",
        "--leak-check=no",
        "--errors-for-leak-kinds=none",
        "--xml=yes",
        &xml_arg,
        "--num-callers=30",
    ];
    let mut gw = Gateway::start_under(&wrapper, |_| {});
    let data = gw.data_dir();
    let cases = Arc::new(mix(&data));
    // Four clients at once, each taking the whole mix in its own order; fresh signatures
    // for the second round (a signature is accepted once).
    let mut rounds = vec![cases];
    rounds.push(Arc::new(mix(&data)));
    let addr = gw.gateway.addr;
    for round in rounds {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let round = round.clone();
                std::thread::spawn(move || {
                    let n = round.len();
                    let mut failures = Vec::new();
                    for i in 0..n {
                        // Worker w takes every fourth case, starting at w (each is sent
                        // once: a signed one twice would be a replay).
                        if i % 4 != w {
                            continue;
                        }
                        let case = &round[i];
                        let r = send(addr, case);
                        if !case.statuses.contains(&r.status) {
                            failures.push(format!(
                                "{}: HTTP {} {}",
                                case.label,
                                r.status,
                                r.text()
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        let failures: Vec<String> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }
    let status = gw.gateway.terminate();
    let report = std::fs::read_to_string(&xml).unwrap_or_default();
    let kinds: Vec<&str> = report
        .split("<kind>")
        .skip(1)
        .filter_map(|k| k.split("</kind>").next())
        .collect();
    let forbidden: Vec<&&str> = kinds
        .iter()
        .filter(|k| FORBIDDEN_KINDS.contains(k))
        .collect();
    assert!(
        forbidden.is_empty(),
        "memcheck found {forbidden:?} (all kinds: {kinds:?}); report in {}:\n{}",
        xml.display(),
        first_errors(&report)
    );
    assert!(
        status.code() != Some(MEMCHECK_FOUND_ERRORS),
        "memcheck found errors of kinds {kinds:?}:\n{}",
        first_errors(&report)
    );
    assert!(
        report.contains("</valgrindoutput>"),
        "valgrind did not finish its report"
    );
}

/// The first text node of a payload (what a tamperer changes).
fn first_text(payload: &str) -> &str {
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

/// The first few `<error>` blocks of a memcheck XML report, for the failure message.
fn first_errors(report: &str) -> String {
    report
        .split("<error>")
        .skip(1)
        .take(3)
        .map(|e| e.split("</error>").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n----\n")
}
