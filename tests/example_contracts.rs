//! The example agencies' contracts (wsdl/, schemas/) against their samples and providers:
//!
//! - every shipped sample request (conf/examples/) validates against its XSD with libxml2,
//!   and the schemas are strict enough to reject what a real service would refuse;
//! - every answer and fault the example providers give validates against the contract;
//! - Python zeep, a third-party SOAP client, loads each WSDL, builds each request, and
//!   reads each provider answer and fault through the contract.

use std::path::PathBuf;
use std::process::Command;

use libxml::parser::Parser;
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use libxml::tree::{Document, Node};
use lienthong::model::SoapVersion;
use lienthong::providers;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema_file(rel: &str) -> SchemaValidationContext {
    let path = root().join(rel);
    let mut parser = SchemaParserContext::from_file(path.to_str().unwrap());
    SchemaValidationContext::from_parser(&mut parser)
        .unwrap_or_else(|e| panic!("{rel} does not compile: {e:?}"))
}

/// rpc/literal has no element for the wrapper: describe it the way WSDL 1.1 §3.5 does
/// (wrapper in the `soap:body namespace`, unqualified part accessors of the part types).
fn dkkd_rpc_schema() -> SchemaValidationContext {
    let xsd = root().join("schemas/dang-ky-kinh-doanh/DoanhNghiep.xsd");
    let text = format!(
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:dn="urn:lgsp:h38:dkkd:1.0"
             targetNamespace="urn:lgsp:h38:dkkd:wsdl:1.0" elementFormDefault="unqualified">
  <xs:import namespace="urn:lgsp:h38:dkkd:1.0" schemaLocation="file://{}"/>
  <xs:element name="TraCuuDoanhNghiep"><xs:complexType><xs:sequence>
    <xs:element name="MaSoDoanhNghiep" type="dn:MaSoDoanhNghiep"/>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="TraCuuDoanhNghiepResponse"><xs:complexType><xs:sequence>
    <xs:element name="DoanhNghiep" type="dn:ThongTinDoanhNghiep"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"#,
        xsd.display()
    );
    let mut parser = SchemaParserContext::from_buffer(text.as_bytes());
    SchemaValidationContext::from_parser(&mut parser)
        .unwrap_or_else(|e| panic!("rpc wrapper schema does not compile: {e:?}"))
}

fn parse(xml: &str) -> Document {
    Parser::default()
        .parse_string(xml)
        .unwrap_or_else(|e| panic!("not XML: {e:?}\n{xml}"))
}

fn messages(errors: &[libxml::error::StructuredError]) -> String {
    errors
        .iter()
        .map(|e| e.message.clone().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("; ")
}

fn check(schema: &mut SchemaValidationContext, doc: &Document, what: &str) {
    if let Err(e) = schema.validate_document(doc) {
        panic!("{what} does not validate: {}", messages(&e));
    }
}

fn refused(schema: &mut SchemaValidationContext, xml: &str, what: &str) {
    let doc = parse(xml);
    assert!(
        schema.validate_document(&doc).is_err(),
        "the schema accepts {what}:\n{xml}"
    );
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(root().join("conf/examples").join(name)).unwrap()
}

/// The Body's child of a provider answer, and the SOAP 1.1/1.2 fault's detail entry.
fn body_child(doc: &Document) -> Node {
    let env = doc.get_root_element().unwrap();
    let body = env
        .get_child_elements()
        .into_iter()
        .find(|n| n.get_name() == "Body")
        .unwrap();
    body.get_child_elements().into_iter().next().unwrap()
}

fn fault_detail(doc: &Document) -> Node {
    let fault = body_child(doc);
    let detail = fault
        .get_child_elements()
        .into_iter()
        .find(|n| n.get_name() == "detail" || n.get_name() == "Detail")
        .expect("fault has a detail");
    detail.get_child_elements().into_iter().next().unwrap()
}

fn envelope(version: SoapVersion, payload: &str) -> Vec<u8> {
    let payload = match payload.find("?>") {
        Some(i) if payload.trim_start().starts_with("<?xml") => &payload[i + 2..],
        _ => payload,
    };
    lienthong::soap::envelope::build(version, &[], payload.as_bytes())
}

fn content_type(version: SoapVersion, action: &str) -> String {
    match version {
        SoapVersion::V11 => "text/xml; charset=utf-8".into(),
        SoapVersion::V12 => format!(r#"application/soap+xml; charset=utf-8; action="{action}""#),
    }
}

struct Case {
    path: &'static str,
    wsdl: &'static str,
    operation: &'static str,
    action: &'static str,
    version: SoapVersion,
    payload: String,
}

fn cases() -> Vec<Case> {
    let ks = |id: &str| {
        format!(
            r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDinhDanh>{id}</ht:SoDinhDanh></ht:TraCuuKhaiSinh>"#
        )
    };
    let kh = |id: &str| {
        format!(
            r#"<ht:TraCuuKetHon xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDinhDanh>{id}</ht:SoDinhDanh></ht:TraCuuKetHon>"#
        )
    };
    let dn = |code: &str| {
        format!(
            r#"<dk:TraCuuDoanhNghiep xmlns:dk="urn:lgsp:h38:dkkd:wsdl:1.0"><MaSoDoanhNghiep>{code}</MaSoDoanhNghiep></dk:TraCuuDoanhNghiep>"#
        )
    };
    let hs = |code: &str| {
        format!(
            r#"<mc:TraCuuTrangThaiHoSo xmlns:mc="urn:lgsp:h38:motcua:1.0"><mc:MaHoSo>{code}</mc:MaHoSo></mc:TraCuuTrangThaiHoSo>"#
        )
    };
    let mut out = Vec::new();
    for version in [SoapVersion::V11, SoapVersion::V12] {
        for id in [
            "038224001234",
            "038196004567",
            "038094007890",
            "038200999999",
        ] {
            out.push(Case {
                path: "/ho-tich",
                wsdl: "wsdl/ho-tich/HoTich.wsdl",
                operation: "TraCuuKhaiSinh",
                action: "urn:lgsp:h38:hotich:TraCuuKhaiSinh",
                version,
                payload: ks(id),
            });
        }
        for id in ["038094007890", "038089002468", "038224001234"] {
            out.push(Case {
                path: "/ho-tich",
                wsdl: "wsdl/ho-tich/HoTich.wsdl",
                operation: "TraCuuKetHon",
                action: "urn:lgsp:h38:hotich:TraCuuKetHon",
                version,
                payload: kh(id),
            });
        }
    }
    for code in ["2801234567", "2802345678", "2803456789", "2809999999"] {
        out.push(Case {
            path: "/dang-ky-kinh-doanh",
            wsdl: "wsdl/dang-ky-kinh-doanh/DangKyKinhDoanh.wsdl",
            operation: "TraCuuDoanhNghiep",
            action: "urn:lgsp:h38:dkkd:TraCuuDoanhNghiep",
            version: SoapVersion::V11,
            payload: dn(code),
        });
    }
    for code in [
        "000.00.21.H38-261118-0007",
        "000.00.21.H38-261105-0012",
        "000.00.21.H38-261120-0003",
        "000.00.21.H38-261231-9999",
    ] {
        out.push(Case {
            path: "/mot-cua",
            wsdl: "wsdl/mot-cua/MotCua.wsdl",
            operation: "TraCuuTrangThaiHoSo",
            action: "urn:lgsp:h38:motcua:TraCuuTrangThaiHoSo",
            version: SoapVersion::V12,
            payload: hs(code),
        });
    }
    out
}

/// libxml2 keeps global state; one test walks all documents in order.
#[test]
fn samples_requests_answers_and_faults_follow_the_contracts() {
    let mut ho_tich = schema_file("schemas/ho-tich/HoTich.xsd");
    let mut mot_cua = schema_file("schemas/mot-cua/HoSo.xsd");
    let mut danh_muc = schema_file("schemas/common/DanhMuc.xsd");
    let mut dkkd = dkkd_rpc_schema();

    // Every shipped sample of these services validates, and its provider answers it
    // from the fixtures (samples of other services in conf/examples/ are theirs to check).
    let mut samples = 0;
    for entry in std::fs::read_dir(root().join("conf/examples")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(op) = name.strip_suffix(".xml") else {
            continue;
        };
        let (schema, path, version, action) = if let Some(op) = op.strip_prefix("ho-tich-") {
            (
                &mut ho_tich,
                "/ho-tich",
                SoapVersion::V11,
                format!("urn:lgsp:h38:hotich:{op}"),
            )
        } else if let Some(op) = op.strip_prefix("dang-ky-kinh-doanh-") {
            (
                &mut dkkd,
                "/dang-ky-kinh-doanh",
                SoapVersion::V11,
                format!("urn:lgsp:h38:dkkd:{op}"),
            )
        } else if let Some(op) = op.strip_prefix("mot-cua-") {
            (
                &mut mot_cua,
                "/mot-cua",
                SoapVersion::V12,
                format!("urn:lgsp:h38:motcua:{op}"),
            )
        } else {
            continue;
        };
        let text = sample(&name);
        check(schema, &parse(&text), &name);
        let quoted = format!("\"{action}\"");
        let r = providers::answer(
            path,
            Some(&content_type(version, &action)),
            (version == SoapVersion::V11).then_some(quoted.as_str()),
            &envelope(version, &text),
        );
        assert!(
            r.status.is_success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        samples += 1;
    }
    assert!(samples >= 4, "conf/examples/ lost its samples");

    // Strict: what a real service refuses, the schema refuses.
    let ks = sample("ho-tich-TraCuuKhaiSinh.xml");
    refused(
        &mut ho_tich,
        &ks.replace("038224001234", "03822400123"),
        "an 11-digit CCCD",
    );
    refused(
        &mut ho_tich,
        &ks.replace("038224001234", "03822400123A"),
        "a CCCD with a letter",
    );
    refused(
        &mut ho_tich,
        &ks.replace("<ht:MucDich>", "<ht:HoTen>X</ht:HoTen><ht:MucDich>"),
        "an undeclared element",
    );
    refused(
        &mut ho_tich,
        r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDangKy>12/2024</ht:SoDangKy></ht:TraCuuKhaiSinh>"#,
        "a register entry without its authority",
    );
    refused(
        &mut ho_tich,
        r#"<ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0"><ht:SoDangKy>12/2024</ht:SoDangKy><ht:MaCoQuanDangKy>000.03.21.h38</ht:MaCoQuanDangKy></ht:TraCuuKhaiSinh>"#,
        "a malformed agency code",
    );
    refused(
        &mut ho_tich,
        r#"<TraCuuKhaiSinh><SoDinhDanh>038224001234</SoDinhDanh></TraCuuKhaiSinh>"#,
        "an unqualified request",
    );
    let dn = sample("dang-ky-kinh-doanh-TraCuuDoanhNghiep.xml");
    refused(
        &mut dkkd,
        &dn.replace("2801234567", "280123456"),
        "a 9-digit enterprise code",
    );
    refused(
        &mut dkkd,
        &dn.replace("<MaSoDoanhNghiep>", "<dk:MaSoDoanhNghiep>")
            .replace("</MaSoDoanhNghiep>", "</dk:MaSoDoanhNghiep>"),
        "a qualified rpc part accessor",
    );
    check(
        &mut dkkd,
        &parse(&dn.replace("2801234567", "2801234567-001")),
        "a branch code (10-3)",
    );
    let hs = sample("mot-cua-TraCuuTrangThaiHoSo.xml");
    refused(
        &mut mot_cua,
        &hs.replace("-261118-", "-2611-"),
        "a malformed dossier code",
    );

    // Every provider answer and fault, against the contract.
    let mut answers = Vec::new();
    for c in cases() {
        let ct = content_type(c.version, c.action);
        let quoted = format!("\"{}\"", c.action);
        let sa = (c.version == SoapVersion::V11).then_some(quoted.as_str());
        let r = providers::answer(c.path, Some(&ct), sa, &envelope(c.version, &c.payload));
        let body = String::from_utf8(r.body.clone()).unwrap();
        let doc = parse(&body);
        let what = format!("{} {} answer to {}", c.path, c.version.label(), c.payload);
        if r.status.is_success() {
            let schema = match c.path {
                "/ho-tich" => &mut ho_tich,
                "/mot-cua" => &mut mot_cua,
                _ => &mut dkkd,
            };
            if let Err(e) = schema.validate_node(&body_child(&doc)) {
                panic!("{what} does not validate: {}\n{body}", messages(&e));
            }
        } else {
            assert_eq!(body_child(&doc).get_name(), "Fault", "{what}");
            if let Err(e) = danh_muc.validate_node(&fault_detail(&doc)) {
                panic!(
                    "{what}: fault detail does not validate: {}\n{body}",
                    messages(&e)
                );
            }
        }
        answers.push(serde_json::json!({
            "wsdl": root().join(c.wsdl),
            "operation": c.operation,
            "action": c.action,
            "soap12": c.version == SoapVersion::V12,
            "status": r.status.as_u16(),
            "content_type": r.content_type,
            "body": body,
        }));
    }
    zeep_reads(&answers);
}

/// zeep loads each WSDL (with its imports), checks the soapActions, and reads every answer.
fn zeep_reads(answers: &[serde_json::Value]) {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.json");
    std::fs::write(&cases, serde_json::to_vec(answers).unwrap()).unwrap();
    let script = r#"
import json, sys
import requests, zeep
from lxml import etree
from zeep.exceptions import Fault
clients, seen = {}, {"ok": 0, "fault": 0}
for c in json.load(open(sys.argv[1])):
    client = clients.get(c["wsdl"]) or zeep.Client(c["wsdl"])
    clients[c["wsdl"]] = client
    port = next(p for s in client.wsdl.services.values() for p in s.ports.values()
                if (type(p.binding).__name__ == "Soap12Binding") == c["soap12"])
    binding = port.binding
    op = binding.get(c["operation"])
    assert op.soapaction == c["action"], (op.soapaction, c["action"])
    resp = requests.models.Response()
    resp.status_code = c["status"]
    resp._content = c["body"].encode()
    resp.headers["Content-Type"] = c["content_type"]
    try:
        result = binding.process_reply(client, op, resp)
        assert result is not None, c["body"]
        seen["ok"] += 1
    except Fault as f:
        assert f.code is not None and f.detail is not None, c["body"]
        assert b"KHONG_TIM_THAY" in etree.tostring(f.detail), c["body"]
        seen["fault"] += 1
print(json.dumps(seen))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&cases)
        .output()
        .expect("python3 (with zeep) is needed: .ci/run installs it");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "zeep could not read the answers:\n{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let faults = answers.iter().filter(|a| a["status"] != 200).count();
    assert_eq!(seen["fault"], faults as u64, "{stdout}");
    assert_eq!(seen["ok"], (answers.len() - faults) as u64, "{stdout}");
}

#[test]
fn zeep_builds_each_request_from_the_wsdls() {
    let script = r#"
import sys, zeep
from lxml import etree
root = sys.argv[1]
calls = [
    ("wsdl/ho-tich/HoTich.wsdl", "TraCuuKhaiSinh", {"SoDinhDanh": "038224001234"}),
    ("wsdl/ho-tich/HoTich.wsdl", "TraCuuKetHon", {"SoDangKy": "37/2021", "MaCoQuanDangKy": "000.03.21.H38"}),
    ("wsdl/dang-ky-kinh-doanh/DangKyKinhDoanh.wsdl", "TraCuuDoanhNghiep", {"MaSoDoanhNghiep": "2801234567"}),
    ("wsdl/mot-cua/MotCua.wsdl", "TraCuuTrangThaiHoSo", {"MaHoSo": "000.00.21.H38-261118-0007"}),
]
for wsdl, op, args in calls:
    client = zeep.Client(root + "/" + wsdl)
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            proxy = client.bind(service.name, port.name)
            env = client.create_message(proxy, op, **args)
            print(wsdl, port.name, etree.tostring(env).decode())
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(root())
        .output()
        .expect("python3 (with zeep) is needed: .ci/run installs it");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two ports for ho-tich (SOAP 1.1 and 1.2), one for each of the others.
    assert_eq!(stdout.lines().count(), 2 + 2 + 1 + 1, "{stdout}");
    assert!(stdout.contains("HoTichSoap12Port <soap-env:Envelope xmlns:soap-env=\"http://www.w3.org/2003/05/soap-envelope\""));
    assert!(
        stdout.contains("<MaSoDoanhNghiep>2801234567</MaSoDoanhNghiep>"),
        "rpc part accessor unqualified: {stdout}"
    );
    // Each request zeep builds is one the example providers answer.
    for line in stdout.lines() {
        let (_port, env) = line.split_once(' ').unwrap().1.split_once(' ').unwrap();
        let path = if line.starts_with("wsdl/ho-tich") {
            "/ho-tich"
        } else if line.starts_with("wsdl/mot-cua") {
            "/mot-cua"
        } else {
            "/dang-ky-kinh-doanh"
        };
        let v12 = env.contains("http://www.w3.org/2003/05/soap-envelope");
        let ct = if v12 {
            "application/soap+xml; charset=utf-8"
        } else {
            "text/xml; charset=utf-8"
        };
        let r = providers::answer(path, Some(ct), None, env.as_bytes());
        assert!(
            r.status.is_success(),
            "{line}\n{}",
            String::from_utf8_lossy(&r.body)
        );
    }
}
