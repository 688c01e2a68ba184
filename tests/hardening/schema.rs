//! Validation faults as a caller can act on them: lines of the message as the caller sent
//! it (not of the payload cut out of the envelope), and identity-constraint violations
//! naming their element.

use crate::common::*;

const PROVINCE: &str = "000.00.00.H38";

fn post11(addr: std::net::SocketAddr, service: &str, body: &str) -> HttpResponse {
    post_unsigned11(addr, service, PROVINCE, body.as_bytes())
}

#[test]
fn violations_name_the_line_of_the_message_as_sent() {
    let gw = Gateway::start(unsigned);
    // The envelope spreads over lines; the element the schema refuses is on line 7.
    let body = [
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">"#,
        r#"  <soapenv:Header/>"#,
        r#"  <soapenv:Body>"#,
        r#"    <ht:TraCuuKhaiSinh xmlns:ht="urn:lgsp:h38:hotich:1.0">"#,
        r#"      <ht:SoDinhDanh>038224001234</ht:SoDinhDanh>"#,
        r#"      <ht:MucDich>Giải quyết thủ tục</ht:MucDich><ht:Thua>x</ht:Thua>"#,
        r#"    </ht:TraCuuKhaiSinh>"#,
        r#"  </soapenv:Body>"#,
        r#"</soapenv:Envelope>"#,
    ]
    .join("\n");
    let r = post11(gw.gateway.addr, "ho-tich", &body);
    let t = r.text();
    assert_eq!(r.status, 500, "{t}");
    assert!(t.contains("Thua") && t.contains("(line 7)"), "{t}");
    assert_eq!(gw.provider_calls(), 0);
}

const KEYREF_XSD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:k="urn:test:keyref" targetNamespace="urn:test:keyref" elementFormDefault="qualified">
  <xs:element name="DanhSach">
    <xs:complexType><xs:sequence>
      <xs:element name="CoQuan" maxOccurs="unbounded"><xs:complexType><xs:attribute name="ma" type="xs:string" use="required"/></xs:complexType></xs:element>
      <xs:element name="HoSo" maxOccurs="unbounded"><xs:complexType><xs:attribute name="coQuan" type="xs:string" use="required"/></xs:complexType></xs:element>
    </xs:sequence></xs:complexType>
    <xs:key name="MaCoQuan"><xs:selector xpath="k:CoQuan"/><xs:field xpath="@ma"/></xs:key>
    <xs:keyref name="HoSoCoQuan" refer="k:MaCoQuan"><xs:selector xpath="k:HoSo"/><xs:field xpath="@coQuan"/></xs:keyref>
  </xs:element>
</xs:schema>
"#;

#[test]
fn keyref_violations_name_their_element() {
    let contracts = tempfile::tempdir().unwrap();
    let wsdl = one_operation_contract(
        contracts.path(),
        "keyref",
        "urn:test:keyref",
        KEYREF_XSD,
        "DanhSach",
        "DanhSach",
    );
    let gw = Gateway::start(|doc| {
        add_service(doc, "keyref", &wsdl, "http://127.0.0.1:9/keyref", PROVINCE);
        unsigned(doc);
    });
    let body = envelope11(
        r#"<k:DanhSach xmlns:k="urn:test:keyref"><k:CoQuan ma="000.00.12.H38"/><k:HoSo coQuan="000.00.12.H38"/><k:HoSo coQuan="000.00.99.H38"/></k:DanhSach>"#,
    );
    let r = post11(gw.gateway.addr, "keyref", &body);
    let t = r.text();
    assert_eq!(r.status, 500, "{t}");
    assert!(t.contains("/k:DanhSach/k:HoSo[2]: "), "{t}");
    assert!(t.contains("HoSoCoQuan"), "{t}");
}
