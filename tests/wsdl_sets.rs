//! Loading and publishing self-authored WSDL/XSD sets of different styles (fixtures under
//! tests/fixtures/wsdl/, see its README), the exact `file:line: reason` of each kind of
//! broken set, and a generated 200-operation set for load time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lienthong::model::SoapVersion;
use lienthong::wsdl::{self, Catalog, Contract, DocumentKind, Style};
use lienthong::xml::QName;
use quick_xml::events::Event;

const FIXTURES: &str = "tests/fixtures/wsdl";
const URL: &str = "https://lgsp.example.gov.vn/services/demo";

fn catalog() -> Catalog {
    Catalog::load(&Path::new(FIXTURES).join("catalog.xml")).expect("test catalog loads")
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

fn load(rel: &str) -> Contract {
    let started = std::time::Instant::now();
    let c = wsdl::load(&fixture(rel), &catalog()).unwrap_or_else(|p| panic!("{rel}:\n{p}"));
    let bytes: usize = c.documents.iter().map(|d| d.bytes.len()).sum();
    println!(
        "{rel}: {} operations, {} documents, {bytes} bytes, loaded in {:?}",
        c.operations.len(),
        c.documents.len(),
        started.elapsed()
    );
    c
}

fn problems(rel: &str) -> String {
    match wsdl::load(&fixture(rel), &catalog()) {
        Ok(_) => panic!("{rel} loaded, but it is broken"),
        Err(p) => p.to_string(),
    }
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

/// Well-formedness of a published document, with the locations it points to.
fn locations(doc: &[u8]) -> Vec<String> {
    let mut r = quick_xml::NsReader::from_str(text(doc));
    let mut out = Vec::new();
    loop {
        match r.read_event().expect("published document is well-formed") {
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.unwrap();
                    if matches!(a.key.0, "location" | "schemaLocation") {
                        out.push(
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        );
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// The document a `?wsdl=`/`?xsd=` query names, read as the gateway reads it.
fn linked_document(query: &str) -> String {
    use lienthong::target::{resolve, Document, Target};
    match resolve(&http::Method::GET, "/services/x", Some(query)) {
        Target::Published {
            document: Document::Named(d),
            ..
        } => d,
        other => panic!("{query}: {other:?}"),
    }
}

/// Follows every link of the published contract as a client would (`?wsdl`, then each
/// `?wsdl=`/`?xsd=` it finds); returns the documents reached.
fn crawl(c: &Contract) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![None::<String>];
    while let Some(doc) = todo.pop() {
        let bytes = wsdl::publish(c, doc.as_deref(), URL).expect("linked document is served");
        // `?wsdl` and `?wsdl=MAIN` are the same document.
        seen.insert(doc.clone().unwrap_or(c.documents[0].published_as.clone()));
        for loc in locations(&bytes) {
            if loc == URL {
                continue; // an endpoint address
            }
            let rest = loc
                .strip_prefix(&format!("{URL}?"))
                .unwrap_or_else(|| panic!("location not through the gateway: {loc}"));
            let rel = linked_document(rest);
            if !seen.contains(&rel) {
                todo.push(Some(rel));
            }
        }
    }
    seen
}

#[test]
fn document_literal_over_many_files_with_catalog_urls() {
    let c = load("dat-dai/DatDaiService.wsdl");
    assert_eq!(c.operations.len(), 30);
    assert_eq!(
        c.target_namespace,
        "urn:lienthong:example:dat-dai:service:1"
    );
    let m = "urn:lienthong:example:dat-dai:messages:1";
    let op = c.operation("TraCuuThuaDat").unwrap();
    assert_eq!(op.style, Style::Document);
    assert_eq!(op.request_root, QName::new(m, "TraCuuThuaDat"));
    assert_eq!(
        op.response_root,
        Some(QName::new(m, "TraCuuThuaDatResponse"))
    );
    assert_eq!(
        op.soap_action.as_deref(),
        Some("urn:lienthong:dat-dai:TraCuuThuaDat")
    );
    assert_eq!(op.versions, vec![SoapVersion::V11, SoapVersion::V12]);
    // Dispatch works on elements declared in each of the files the namespace spans.
    for name in [
        "XacNhanBanDoDiaChinh",
        "HuyBoChuSuDung",
        "DangKyGiayChungNhan",
    ] {
        let root = QName::new(m, name);
        assert_eq!(c.operation_by_root(&root).unwrap().name, name);
        let action = format!("urn:lienthong:dat-dai:{name}");
        assert_eq!(c.operation_by_action(&action).unwrap().name, name);
    }
    let docs: Vec<(&str, DocumentKind)> = c
        .documents
        .iter()
        .map(|d| (d.published_as.as_str(), d.kind))
        .collect();
    assert_eq!(
        docs,
        vec![
            ("DatDaiService.wsdl", DocumentKind::Wsdl),
            ("interface/DatDai.wsdl", DocumentKind::Wsdl),
            ("xsd/DatDaiMessages.xsd", DocumentKind::Xsd),
            ("xsd/DatDaiMessages-ThuaDat.xsd", DocumentKind::Xsd),
            ("xsd/DatDaiMessages-ChuSuDung.xsd", DocumentKind::Xsd),
            ("xsd/DatDaiMessages-HoSo.xsd", DocumentKind::Xsd),
            ("xsd/common/DatDaiKieu.xsd", DocumentKind::Xsd),
            (
                "../catalog-mirror/lienthong.example.gov.vn/schemas/common/v1/DiaChi.xsd",
                DocumentKind::Xsd
            ),
            ("../../../../schemas/w3c/xml.xsd", DocumentKind::Xsd),
            (
                "../catalog-mirror/lienthong.example.gov.vn/schemas/common/v1/KieuDuLieu.xsd",
                DocumentKind::Xsd
            ),
        ]
    );

    // The main WSDL: the three addresses and the one import, nothing else changed.
    let main = wsdl::publish(&c, None, URL).unwrap();
    let original = text(&c.documents[0].bytes)
        .replace("https://tnmt.example.gov.vn/dat-dai/soap11", URL)
        .replace("https://tnmt.example.gov.vn/dat-dai/soap12", URL)
        .replace("http://10.0.0.12:8080/dat-dai/noi-bo", URL)
        .replace(
            "location=\"interface/DatDai.wsdl\"",
            &format!("location=\"{URL}?wsdl=interface/DatDai.wsdl\""),
        );
    assert_eq!(text(&main), original);
    // Every document is reachable through the gateway and nothing points elsewhere.
    let reached = crawl(&c);
    assert_eq!(reached.len(), c.documents.len(), "{reached:?}");
    let thua_dat = wsdl::publish(&c, Some("xsd/DatDaiMessages-ThuaDat.xsd"), URL).unwrap();
    assert!(text(&thua_dat).contains(&format!(
        "schemaLocation=\"{URL}?xsd=../catalog-mirror/lienthong.example.gov.vn/schemas/common/v1/DiaChi.xsd\""
    )));
    assert!(text(&thua_dat).contains(&format!(
        "schemaLocation=\"{URL}?xsd=../../../../schemas/w3c/xml.xsd\""
    )));
}

#[test]
fn rpc_literal_with_typed_parts() {
    let c = load("bao-hiem-rpc/BaoHiemXaHoi.wsdl");
    assert_eq!(c.operations.len(), 15);
    let ns = "urn:lienthong:example:bao-hiem:1:rpc";
    let op = c.operation("KiemTraHuuTri").unwrap();
    assert_eq!(op.style, Style::Rpc);
    assert_eq!(op.request_root, QName::new(ns, "KiemTraHuuTri"));
    assert_eq!(
        op.response_root,
        Some(QName::new(ns, "KiemTraHuuTriResponse"))
    );
    // soapAction="" declares no action (dispatch by Body root only).
    assert_eq!(op.soap_action, None);
    assert_eq!(op.versions, vec![SoapVersion::V11]);
    let published = wsdl::publish(&c, None, URL).unwrap();
    assert!(text(&published).contains(&format!("schemaLocation=\"{URL}?xsd=BaoHiemTypes.xsd\"")));
    assert!(!text(&published).contains("bhxh.example.gov.vn"));
    assert_eq!(crawl(&c).len(), 2);
}

#[test]
fn soap_prefix_bound_to_soap12_is_soap12_only() {
    let c = load("thue-soap12/Thue.wsdl");
    assert_eq!(c.operations.len(), 15);
    for op in &c.operations {
        assert_eq!(op.versions, vec![SoapVersion::V12], "{}", op.name);
        assert_eq!(
            op.soap_action.as_deref(),
            Some(format!("http://thue.example.gov.vn/lienthong/{}", op.name).as_str())
        );
    }
    let published = wsdl::publish(&c, None, URL).unwrap();
    assert!(text(&published).contains(&format!("<soap:address location=\"{URL}\"/>")));
}

#[test]
fn inline_schemas_import_each_other_without_locations() {
    let c = load("inline-schemas/GiaoDuc.wsdl");
    assert_eq!(c.operations.len(), 8);
    let main = &c.documents[0];
    assert_eq!(main.inline_schemas.len(), 3);
    let s = &main.inline_schemas[1];
    assert_eq!(
        s.target_namespace.as_deref(),
        Some("urn:lienthong:example:giao-duc:1:thong-diep")
    );
    assert!(text(&main.bytes[s.span.clone()]).starts_with("<xs:schema"));
    assert!(s
        .namespaces
        .iter()
        .any(|(p, n)| p == "k" && n == "urn:lienthong:example:giao-duc:1:kieu"));
    // The xml namespace, imported by namespace only, came from the catalog's `uri` entry;
    // clients are told where to find it, the inline imports stay as they are.
    assert_eq!(c.documents.len(), 2);
    let published = text(&wsdl::publish(&c, None, URL).unwrap()).to_string();
    assert!(published.contains(&format!(
        "<xs:import namespace=\"http://www.w3.org/XML/1998/namespace\" \
         schemaLocation=\"{URL}?xsd=../../../../schemas/w3c/xml.xsd\"/>"
    )));
    assert!(published.contains("<xs:import namespace=\"urn:lienthong:example:giao-duc:1:loi\"/>"));
    assert_eq!(crawl(&c).len(), 2);
}

#[test]
fn wsdl_without_service_gets_one_when_published() {
    let c = load("no-service/CuTru.wsdl");
    assert_eq!(c.operations.len(), 6);
    assert!(c.operations.iter().all(|o| o.versions.len() == 2));
    let published = text(&wsdl::publish(&c, None, URL).unwrap()).to_string();
    locations(published.as_bytes());
    assert!(published.contains("name=\"LienthongGatewayService\""));
    assert!(published.contains(
        "<lt-wsdl:port name=\"CuTruSoap11Port\" binding=\"lt-b:CuTruSoap11\" \
         xmlns:lt-b=\"urn:lienthong:example:cu-tru:1\">"
    ));
    assert!(published.contains(&format!(
        "<lt-soap:address xmlns:lt-soap=\"http://schemas.xmlsoap.org/wsdl/soap12/\" \
         location=\"{URL}\"/>"
    )));
    assert!(published.ends_with("  </lt-wsdl:service>\n</definitions>\n"));
}

#[test]
fn trusted_schemas_with_an_internal_dtd_subset_load() {
    let c = load("dtd-schema/HoKinhDoanh.wsdl");
    let op = c.operation("TraCuuHoKinhDoanh").unwrap();
    assert_eq!(
        op.request_root,
        QName::new("urn:lienthong:example:ho-kinh-doanh:1", "TraCuuHoKinhDoanh")
    );
    // The import location came from an entity of the internal subset; it is rewritten.
    let xsd = text(&wsdl::publish(&c, Some("HoKinhDoanh.xsd"), URL).unwrap()).to_string();
    assert!(xsd.contains(&format!(
        "schemaLocation=\"{URL}?xsd=../../../../schemas/w3c/xml.xsd\""
    )));
    assert!(!xsd.contains("<!DOCTYPE") && !xsd.contains('&'), "{xsd}");
    assert!(xsd
        .contains("targetNamespace=\"urn:lienthong:example:ho-kinh-doanh:1\" elementFormDefault"));
    // The repository's own xml.xsd loads with its DOCTYPE, and is published without it
    // (zeep and .NET refuse DTDs), the rest byte-identical.
    let xml = c.document("../../../../schemas/w3c/xml.xsd").unwrap();
    let original = text(&xml.bytes);
    assert!(original.contains("<!DOCTYPE xs:schema ["));
    let doctype = &original[original.find("<!DOCTYPE").unwrap()..=original.find("]>").unwrap() + 1];
    let expected = original.replace(doctype, "");
    assert_eq!(
        text(&wsdl::publish(&c, Some("../../../../schemas/w3c/xml.xsd"), URL).unwrap()),
        expected
    );
}

#[test]
fn import_cycles_terminate() {
    let c = load("cycle/A.wsdl");
    assert_eq!(c.documents.len(), 4);
    let op = c.operation("Ping").unwrap();
    assert_eq!(
        op.request_root,
        QName::new("urn:lienthong:example:cycle:types", "Ping")
    );
    assert_eq!(crawl(&c).len(), 4);
}

#[test]
fn only_documents_of_the_contract_are_published() {
    let c = load("dat-dai/DatDaiService.wsdl");
    for bad in [
        "../../../../Cargo.toml",
        "/etc/passwd",
        "xsd/../xsd/DatDaiMessages.xsd",
        "xsd\\DatDaiMessages.xsd",
        "",
        "DatDaiService.wsdl/",
    ] {
        assert!(wsdl::publish(&c, Some(bad), URL).is_none(), "{bad}");
    }
    assert!(wsdl::publish(&c, Some("xsd/DatDaiMessages.xsd"), URL).is_some());
}

#[test]
fn the_shipped_catalog_maps_w3c_xml_xsd() {
    let cat = Catalog::load(Path::new("conf/catalog.xml")).unwrap();
    let p = cat.resolve("http://www.w3.org/2001/xml.xsd").unwrap();
    assert!(p.ends_with("schemas/w3c/xml.xsd"), "{}", p.display());
    assert!(p.exists());
}

// ---------------------------------------------------------------------------------------
// Broken sets: every problem, with its exact file and line.

const B: &str = "tests/fixtures/wsdl/broken";

#[test]
fn malformed_xml_is_reported_at_the_error() {
    assert_eq!(
        problems("broken/malformed.wsdl"),
        format!(
            "{B}/malformed.wsdl:19: malformed XML: ill-formed document: expected \
             `</wsdl:output>`, but `</wsdl:operation>` was found"
        )
    );
}

#[test]
fn unresolved_message_is_reported_at_the_reference() {
    assert_eq!(
        problems("broken/missing-message.wsdl"),
        format!(
            "{B}/missing-message.wsdl:17: operation `HoiDap` refers to message \
             {{urn:lienthong:example:broken:1}}Missing, which is not defined"
        )
    );
}

#[test]
fn binding_of_unknown_port_type() {
    assert_eq!(
        problems("broken/unknown-port-type.wsdl"),
        format!(
            "{B}/unknown-port-type.wsdl:21: binding `HoiDapBinding` refers to portType \
             {{urn:lienthong:example:broken:1}}NoSuchPortType, which is not defined"
        )
    );
}

#[test]
fn unknown_prefix_in_a_qname_attribute() {
    assert_eq!(
        problems("broken/unknown-prefix.wsdl"),
        format!("{B}/unknown-prefix.wsdl:13: unknown namespace prefix `zz` in element=\"zz:Hoi\"")
    );
}

#[test]
fn element_no_schema_declares() {
    assert_eq!(
        problems("broken/undeclared-element.wsdl"),
        format!(
            "{B}/undeclared-element.wsdl:13: part `p` of message `HoiIn` refers to element \
             {{urn:lienthong:example:broken:1}}KhongCo, which no schema of the contract declares"
        )
    );
}

#[test]
fn missing_uncatalogued_and_foreign_imports() {
    assert_eq!(
        problems("broken/bad-imports.wsdl"),
        format!(
            "{B}/bad-imports.wsdl:7: cannot read `types/KhongTonTai.xsd` \
             ({B}/types/KhongTonTai.xsd): No such file or directory (os error 2)\n\
             {B}/bad-imports.wsdl:8: `http://schemas.example.org/remote/v2/remote.xsd` is not \
             mapped by the XML catalog (nothing is ever fetched; add a `uri` or `rewriteURI` \
             entry for it)\n\
             {B}/not-a-schema.json:1: not a WSDL or XML Schema document (no root element)"
        )
    );
}

#[test]
fn a_file_that_is_not_a_wsdl_is_refused_with_its_name() {
    assert_eq!(
        problems("broken/not-a-wsdl.wsdl"),
        format!(
            "{B}/not-a-wsdl.wsdl:2: not a WSDL 1.1 or XML Schema document (root element is \
             `html` in namespace `http://www.w3.org/1999/xhtml`; expected wsdl:definitions or \
             xsd:schema)"
        )
    );
    assert_eq!(
        problems("bao-hiem-rpc/BaoHiemTypes.xsd"),
        format!(
            "{FIXTURES}/bao-hiem-rpc/BaoHiemTypes.xsd:2: this is an XML Schema; a service needs \
             a WSDL 1.1 document (wsdl:definitions)"
        )
    );
    assert_eq!(
        problems("broken/no-such.wsdl"),
        format!("{B}/no-such.wsdl: cannot read WSDL: No such file or directory (os error 2)")
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    assert_eq!(
        problems("broken/many.wsdl"),
        format!(
            "{B}/many.wsdl:7: cannot read `Missing.wsdl` ({B}/Missing.wsdl): No such file or \
             directory (os error 2)\n\
             {B}/many.wsdl:14: part `p` of message `HoiIn` refers to element \
             {{urn:lienthong:example:broken:1}}KhongCo, which no schema of the contract declares\n\
             {B}/many.wsdl:18: operation `HoiDap` refers to message \
             {{urn:lienthong:example:broken:1}}Missing, which is not defined\n\
             {B}/many.wsdl:22: unknown namespace prefix `qq` in type=\"qq:HoiDapPortType\"\n\
             {B}/many.wsdl:31: port `P` refers to binding \
             {{urn:lienthong:example:broken:1}}NoSuchBinding, which is not defined"
        )
    );
}

// ---------------------------------------------------------------------------------------
// A generated large set: 200 operations over 10 files, more than 500 KB.

fn generate_large(dir: &Path) {
    const OPS: usize = 200;
    const FILES: usize = 8; // XSDs; plus the main WSDL and an imported interface WSDL
    let tns = "urn:lienthong:example:lon:1";
    let mns = "urn:lienthong:example:lon:messages:1";
    let xs = "http://www.w3.org/2001/XMLSchema";
    std::fs::create_dir_all(dir.join("xsd")).unwrap();
    let mut root = format!("<xs:schema xmlns:xs=\"{xs}\" targetNamespace=\"{mns}\">\n");
    for f in 1..FILES {
        root.push_str(&format!("  <xs:include schemaLocation=\"part{f}.xsd\"/>\n"));
    }
    root.push_str("</xs:schema>\n");
    std::fs::write(dir.join("xsd/part0.xsd"), root).unwrap();
    for f in 1..FILES {
        let mut s = format!(
            "<?xml version=\"1.0\"?>\n<xs:schema xmlns:xs=\"{xs}\" xmlns:m=\"{mns}\" \
             targetNamespace=\"{mns}\" elementFormDefault=\"qualified\">\n"
        );
        for op in (0..OPS).filter(|o| o % (FILES - 1) == f - 1) {
            for dir in ["", "Response"] {
                s.push_str(&format!(
                    "  <xs:element name=\"ThaoTac{op:03}{dir}\" type=\"m:KieuThaoTac{op:03}{dir}\"/>\n\
                     <xs:complexType name=\"KieuThaoTac{op:03}{dir}\">\n    <xs:sequence>\n"
                ));
                for field in 0..12 {
                    s.push_str(&format!(
                        "      <xs:element name=\"TruongDuLieu{field:02}\" type=\"xs:string\" \
                         minOccurs=\"0\"><xs:annotation><xs:documentation xml:lang=\"vi\">Trường \
                         dữ liệu số {field} của thao tác {op}.</xs:documentation></xs:annotation>\
                         </xs:element>\n"
                    ));
                }
                s.push_str("    </xs:sequence>\n  </xs:complexType>\n");
            }
        }
        s.push_str("</xs:schema>\n");
        std::fs::write(dir.join(format!("xsd/part{f}.xsd")), s).unwrap();
    }
    let mut iface = format!(
        "<?xml version=\"1.0\"?>\n<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" \
         xmlns:xs=\"{xs}\" xmlns:tns=\"{tns}\" xmlns:m=\"{mns}\" targetNamespace=\"{tns}\">\n\
         <wsdl:types><xs:schema targetNamespace=\"{tns}\"><xs:import namespace=\"{mns}\" \
         schemaLocation=\"xsd/part0.xsd\"/></xs:schema></wsdl:types>\n"
    );
    for op in 0..OPS {
        iface.push_str(&format!(
            "  <wsdl:message name=\"In{op:03}\"><wsdl:part name=\"p\" element=\"m:ThaoTac{op:03}\"/></wsdl:message>\n\
             <wsdl:message name=\"Out{op:03}\"><wsdl:part name=\"p\" element=\"m:ThaoTac{op:03}Response\"/></wsdl:message>\n"
        ));
    }
    iface.push_str("  <wsdl:portType name=\"LonPortType\">\n");
    for op in 0..OPS {
        iface.push_str(&format!(
            "    <wsdl:operation name=\"ThaoTac{op:03}\"><wsdl:input message=\"tns:In{op:03}\"/>\
             <wsdl:output message=\"tns:Out{op:03}\"/></wsdl:operation>\n"
        ));
    }
    iface.push_str("  </wsdl:portType>\n</wsdl:definitions>\n");
    std::fs::write(dir.join("Interface.wsdl"), iface).unwrap();
    let mut main = format!(
        "<?xml version=\"1.0\"?>\n<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" \
         xmlns:s11=\"http://schemas.xmlsoap.org/wsdl/soap/\" \
         xmlns:s12=\"http://schemas.xmlsoap.org/wsdl/soap12/\" xmlns:tns=\"{tns}\" \
         targetNamespace=\"{tns}\">\n  <wsdl:import namespace=\"{tns}\" location=\"Interface.wsdl\"/>\n"
    );
    for (b, p) in [("Lon11", "s11"), ("Lon12", "s12")] {
        main.push_str(&format!(
            "  <wsdl:binding name=\"{b}\" type=\"tns:LonPortType\">\n    <{p}:binding \
             style=\"document\" transport=\"http://schemas.xmlsoap.org/soap/http\"/>\n"
        ));
        for op in 0..OPS {
            main.push_str(&format!(
                "    <wsdl:operation name=\"ThaoTac{op:03}\"><{p}:operation \
                 soapAction=\"urn:lon:ThaoTac{op:03}\"/><wsdl:input><{p}:body use=\"literal\"/>\
                 </wsdl:input><wsdl:output><{p}:body use=\"literal\"/></wsdl:output>\
                 </wsdl:operation>\n"
            ));
        }
        main.push_str("  </wsdl:binding>\n");
    }
    main.push_str(
        "  <wsdl:service name=\"Lon\">\n    <wsdl:port name=\"P11\" binding=\"tns:Lon11\">\
         <s11:address location=\"http://old/11\"/></wsdl:port>\n    <wsdl:port name=\"P12\" \
         binding=\"tns:Lon12\"><s12:address location=\"http://old/12\"/></wsdl:port>\n  \
         </wsdl:service>\n</wsdl:definitions>\n",
    );
    std::fs::write(dir.join("Lon.wsdl"), main).unwrap();
}

#[test]
fn a_large_generated_set_loads_quickly() {
    let dir = tempfile::tempdir().unwrap();
    generate_large(dir.path());
    // Kept for measuring elsewhere (e.g. an optimised build) when asked to.
    if let Some(keep) = std::env::var_os("LIENTHONG_WSDL_LARGE_SET") {
        generate_large(Path::new(&keep));
    }
    let cat = Catalog::default();
    let started = std::time::Instant::now();
    let c = wsdl::load(&dir.path().join("Lon.wsdl"), &cat).unwrap_or_else(|p| panic!("{p}"));
    let first = started.elapsed();
    let started = std::time::Instant::now();
    let rounds = 5;
    for _ in 0..rounds {
        wsdl::load(&dir.path().join("Lon.wsdl"), &cat).unwrap();
    }
    let each = started.elapsed() / rounds;
    let bytes: usize = c.documents.iter().map(|d| d.bytes.len()).sum();
    let started = std::time::Instant::now();
    let published: usize = (0..c.documents.len())
        .map(|i| {
            let name = (i > 0).then(|| c.documents[i].published_as.clone());
            wsdl::publish(&c, name.as_deref(), URL).unwrap().len()
        })
        .sum();
    println!(
        "large set: {} operations, {} files, {bytes} bytes; load {first:?} (first), {each:?} \
         (mean of {rounds}); publish all {published} bytes in {:?}",
        c.operations.len(),
        c.documents.len(),
        started.elapsed()
    );
    assert_eq!(c.operations.len(), 200);
    assert_eq!(c.documents.len(), 10);
    assert!(bytes > 500_000, "{bytes}");
    assert!(c.operations.iter().all(|o| o.versions.len() == 2));
    assert_eq!(crawl(&c).len(), 10);
}

// ---------------------------------------------------------------------------------------
// A real consumer: zeep loads what the gateway publishes, following every import back
// through the gateway's URLs (tests/fixtures/wsdl/zeep_load.py serves the documents).

/// Lines `SERVICE PORT VERSION OPERATION ADDRESS` as zeep sees the published contract.
fn through_zeep(rel: &str) -> Vec<String> {
    let c = load(rel);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/services/demo");
    let dir = tempfile::tempdir().unwrap();
    let mut index = String::from("wsdl\t0.xml\n");
    std::fs::write(
        dir.path().join("0.xml"),
        wsdl::publish(&c, None, &url).unwrap(),
    )
    .unwrap();
    for (i, d) in c.documents.iter().enumerate() {
        let query = wsdl::document_url(&c, i, &url)
            .split_once('?')
            .unwrap()
            .1
            .to_string();
        let file = format!("{}.xml", i + 1);
        let bytes = wsdl::publish(&c, Some(&d.published_as), &url).unwrap();
        std::fs::write(dir.path().join(&file), bytes).unwrap();
        index.push_str(&format!("{query}\t{file}\n"));
    }
    std::fs::write(dir.path().join("index.tsv"), index).unwrap();
    let out = std::process::Command::new("python3")
        .arg(fixture("zeep_load.py"))
        .arg(dir.path())
        .arg(port.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "zeep refused {rel}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.replace(&url, "URL"))
        .collect();
    lines
}

#[test]
fn zeep_loads_every_published_set() {
    let d = through_zeep("dat-dai/DatDaiService.wsdl");
    assert_eq!(d.len(), 30 + 30 + 10, "{d:#?}");
    assert!(d.contains(&"DatDaiService DatDaiSoap12Port 1.2 TraCuuThuaDat URL".to_string()));
    assert!(d.contains(&"DatDaiNoiBoService DatDaiNoiBoPort 1.1 CapNhatThuaDat URL".to_string()));
    let r = through_zeep("bao-hiem-rpc/BaoHiemXaHoi.wsdl");
    assert_eq!(r.len(), 15);
    let t = through_zeep("thue-soap12/Thue.wsdl");
    assert!(t.iter().all(|l| l.contains(" 1.2 ")), "{t:#?}");
    let i = through_zeep("inline-schemas/GiaoDuc.wsdl");
    assert_eq!(i.len(), 8);
    let n = through_zeep("no-service/CuTru.wsdl");
    assert!(
        n.contains(&"LienthongGatewayService CuTruSoap12Port 1.2 XacNhanNoiTamTru URL".to_string())
    );
    assert_eq!(n.len(), 12);
    assert_eq!(through_zeep("dtd-schema/HoKinhDoanh.wsdl").len(), 1);
    assert_eq!(through_zeep("cycle/A.wsdl").len(), 1);
}

#[test]
fn lienthong_check_lists_each_problem_as_file_line_reason() {
    let dir = tempfile::tempdir().unwrap();
    let here = std::env::current_dir().unwrap();
    let f = |rel: &str| here.join(fixture(rel)).display().to_string();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[gateway]\ncatalog = \"{}\"\n\n[[agencies]]\ncode = \"000.00.12.H38\"\n\
             name = \"Sở Tư pháp\"\n\n[[services]]\nname = \"dat-dai\"\n\
             provider_agency = \"000.00.12.H38\"\nwsdl = \"{}\"\n\
             endpoint = \"http://127.0.0.1:9100/dat-dai\"\n\n[[services]]\nname = \"hong\"\n\
             provider_agency = \"000.00.12.H38\"\nwsdl = \"{}\"\n\
             endpoint = \"http://127.0.0.1:9100/hong\"\n",
            f("catalog.xml"),
            f("dat-dai/DatDaiService.wsdl"),
            f("broken/missing-message.wsdl"),
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(["check", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{}:17: operation `HoiDap` refers to message \
             {{urn:lienthong:example:broken:1}}Missing, which is not defined\n\
             1 problem(s) found\n",
            f("broken/missing-message.wsdl")
        )
    );
}

#[test]
fn a_set_saved_from_a_wcf_service_keeps_queries_in_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let svc = "http://lienthong.example.gov.vn/contracts/tai-chinh";
    std::fs::create_dir_all(d.join("mirror")).unwrap();
    std::fs::write(
        d.join("catalog.xml"),
        r#"<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <rewriteURI uriStartString="http://provider.example.gov.vn/TaiChinh/" rewritePrefix="mirror/"/>
</catalog>"#,
    )
    .unwrap();
    std::fs::write(
        d.join("TaiChinh.wsdl"),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="TaiChinhService" targetNamespace="http://tempuri.org/"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:tns="http://tempuri.org/" xmlns:i0="{svc}">
  <wsdl:import namespace="{svc}" location="TaiChinh.svc?wsdl=wsdl0"/>
  <wsdl:types/>
  <wsdl:binding name="WSHttpBinding_ITaiChinh" type="i0:ITaiChinh">
    <soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="TraCuuNganSach">
      <soap12:operation soapAction="{svc}/ITaiChinh/TraCuuNganSach" style="document"/>
      <wsdl:input><soap12:body use="literal"/></wsdl:input>
      <wsdl:output><soap12:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="TaiChinhService">
    <wsdl:port name="WSHttpBinding_ITaiChinh" binding="tns:WSHttpBinding_ITaiChinh">
      <soap12:address location="http://provider.example.gov.vn/TaiChinh/TaiChinh.svc"/>
      <wsa10:EndpointReference xmlns:wsa10="http://www.w3.org/2005/08/addressing">
        <wsa10:Address>
          http://provider.example.gov.vn/TaiChinh/TaiChinh.svc
        </wsa10:Address>
        <Identity xmlns="http://schemas.xmlsoap.org/ws/2006/02/addressingidentity"><Dns>provider</Dns></Identity>
      </wsa10:EndpointReference>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>"#
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("TaiChinh.svc?wsdl=wsdl0"),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions targetNamespace="{svc}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="{svc}">
  <wsdl:types>
    <xsd:schema targetNamespace="{svc}/Imports">
      <xsd:import schemaLocation="TaiChinh.svc?xsd=xsd0" namespace="{svc}"/>
      <xsd:import schemaLocation="http://provider.example.gov.vn/TaiChinh/TaiChinh.svc?xsd=xsd1" namespace="http://schemas.microsoft.com/2003/10/Serialization/"/>
      <xsd:import schemaLocation="TaiChinh.svc?wsdl=wsdl0" namespace="{svc}/Imports"/>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="ITaiChinh_TraCuuNganSach_InputMessage">
    <wsdl:part name="parameters" element="tns:TraCuuNganSach"/>
  </wsdl:message>
  <wsdl:message name="ITaiChinh_TraCuuNganSach_OutputMessage">
    <wsdl:part name="parameters" element="tns:TraCuuNganSachResponse"/>
  </wsdl:message>
  <wsdl:portType name="ITaiChinh">
    <wsdl:operation name="TraCuuNganSach">
      <wsdl:input wsaw:Action="{svc}/ITaiChinh/TraCuuNganSachWsa" message="tns:ITaiChinh_TraCuuNganSach_InputMessage"
          xmlns:wsaw="http://www.w3.org/2006/05/addressing/wsdl"/>
      <wsdl:output message="tns:ITaiChinh_TraCuuNganSach_OutputMessage"/>
    </wsdl:operation>
  </wsdl:portType>
</wsdl:definitions>"#
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("TaiChinh.svc?xsd=xsd0"),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<xs:schema elementFormDefault="qualified" targetNamespace="{svc}" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="TraCuuNganSach"><xs:complexType><xs:sequence>
    <xs:element minOccurs="0" name="maDonVi" nillable="true" type="xs:string"/>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="TraCuuNganSachResponse"><xs:complexType><xs:sequence>
    <xs:element minOccurs="0" name="ketQua" nillable="true" type="xs:string"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"#
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("mirror/TaiChinh.svc?xsd=xsd1"),
        r#"<xs:schema attributeFormDefault="qualified" elementFormDefault="qualified"
    targetNamespace="http://schemas.microsoft.com/2003/10/Serialization/"
    xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="anyType" nillable="true" type="xs:anyType"/>
</xs:schema>"#,
    )
    .unwrap();
    let cat = Catalog::load(&d.join("catalog.xml")).unwrap();
    let c = wsdl::load(&d.join("TaiChinh.wsdl"), &cat).unwrap_or_else(|p| panic!("{p}"));
    let op = c.operation("TraCuuNganSach").unwrap();
    assert_eq!(op.versions, vec![SoapVersion::V12]);
    assert_eq!(op.request_root, QName::new(svc, "TraCuuNganSach"));
    assert_eq!(
        op.soap_actions,
        [
            format!("{svc}/ITaiChinh/TraCuuNganSach"),
            format!("{svc}/ITaiChinh/TraCuuNganSachWsa")
        ]
    );
    let names: Vec<&str> = c
        .documents
        .iter()
        .map(|d| d.published_as.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "TaiChinh.wsdl",
            "TaiChinh.svc?wsdl=wsdl0",
            "TaiChinh.svc?xsd=xsd0",
            "mirror/TaiChinh.svc?xsd=xsd1"
        ]
    );
    let main = text(&wsdl::publish(&c, None, URL).unwrap()).to_string();
    assert!(!main.contains("provider.example.gov.vn"), "{main}");
    assert!(main.contains(&format!(
        "<wsa10:Address>\n          {URL}\n        </wsa10:Address>"
    )));
    let wsdl0 = text(&wsdl::publish(&c, Some("TaiChinh.svc?wsdl=wsdl0"), URL).unwrap()).to_string();
    assert!(wsdl0.contains(&format!(
        "schemaLocation=\"{URL}?xsd=TaiChinh.svc%3Fxsd%3Dxsd0\""
    )));
    assert!(wsdl0.contains(&format!(
        "schemaLocation=\"{URL}?xsd=mirror/TaiChinh.svc%3Fxsd%3Dxsd1\""
    )));
    assert_eq!(crawl(&c).len(), 4);
}

#[test]
fn a_rendered_set_compiles_in_libxml2_offline() {
    let c = load("dat-dai/DatDaiService.wsdl");
    let dir = tempfile::tempdir().unwrap();
    let link = |t: usize| format!("{t}.xsd");
    for i in 0..c.documents.len() {
        std::fs::write(dir.path().join(link(i)), c.rendered(i, &link)).unwrap();
    }
    let messages = c
        .documents
        .iter()
        .position(|d| d.published_as == "xsd/DatDaiMessages.xsd")
        .unwrap();
    let instance = |phuong: &str| {
        format!(
            r#"<m:TraCuuThuaDat xmlns:m="urn:lienthong:example:dat-dai:messages:1"
    xmlns:c="http://lienthong.example.gov.vn/schemas/common/v1" xml:lang="vi">
  <m:MaDonVi>000.00.12.H38</m:MaDonVi>
  <m:DiaChi><c:PhuongXa>{phuong}</c:PhuongXa><c:QuanHuyen>380</c:QuanHuyen><c:TinhThanh>38</c:TinhThanh></m:DiaChi>
</m:TraCuuThuaDat>"#
        )
    };
    let run = |body: String| {
        let p = dir.path().join("instance.xml");
        std::fs::write(&p, body).unwrap();
        let out = std::process::Command::new("python3")
            .arg(fixture("lxml_validate.py"))
            .arg(dir.path().join(link(messages)))
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(instance("15901")), "valid\n");
    // The pattern from the catalog-mapped common schema applies.
    let refused = run(instance("1590"));
    assert!(
        refused.contains("PhuongXa"),
        "pattern not applied: {refused}"
    );
}

#[test]
fn a_missing_schema_is_one_problem_not_one_per_reference() {
    assert_eq!(
        problems("broken/missing-xsd.wsdl"),
        format!(
            "{B}/missing-xsd.wsdl:11: cannot read `types/ThongDiep.xsd` \
             ({B}/types/ThongDiep.xsd): No such file or directory (os error 2)"
        )
    );
}

/// A trusted schema whose internal DTD subset declares entities it uses must pass the whole
/// of `lienthong check`, schema compilation included (the schema layer can compile
/// `Contract::rendered` documents, which carry no DTD and have the entities expanded).
#[test]
fn lienthong_check_accepts_schemas_using_internal_dtd_entities() {
    let dir = tempfile::tempdir().unwrap();
    let here = std::env::current_dir().unwrap();
    let f = |rel: &str| here.join(fixture(rel)).display().to_string();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[gateway]\ncatalog = \"{}\"\n\n[[agencies]]\ncode = \"000.00.13.H38\"\n\
             name = \"Sở Kế hoạch và Đầu tư\"\n\n[[services]]\nname = \"ho-kinh-doanh\"\n\
             provider_agency = \"000.00.13.H38\"\nwsdl = \"{}\"\n\
             endpoint = \"http://127.0.0.1:9100/ho-kinh-doanh\"\n",
            f("catalog.xml"),
            f("dtd-schema/HoKinhDoanh.wsdl"),
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(["check", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
