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

const KEYREF_WSDL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:k="urn:test:keyref" xmlns:tns="urn:test:keyref:wsdl"
    name="KeyRef" targetNamespace="urn:test:keyref:wsdl">
  <wsdl:types>
    <xsd:schema targetNamespace="urn:test:keyref:wsdl">
      <xsd:import namespace="urn:test:keyref" schemaLocation="keyref.xsd"/>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="In"><wsdl:part name="parameters" element="k:DanhSach"/></wsdl:message>
  <wsdl:message name="Out"><wsdl:part name="parameters" element="k:DanhSach"/></wsdl:message>
  <wsdl:portType name="P"><wsdl:operation name="Gui"><wsdl:input message="tns:In"/><wsdl:output message="tns:Out"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:P">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Gui"><soap:operation soapAction="urn:test:keyref:Gui"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="S"><wsdl:port name="Port" binding="tns:B"><soap:address location="http://127.0.0.1:9/keyref"/></wsdl:port></wsdl:service>
</wsdl:definitions>
"#;

#[test]
fn keyref_violations_name_their_element() {
    let contracts = tempfile::tempdir().unwrap();
    std::fs::write(contracts.path().join("keyref.xsd"), KEYREF_XSD).unwrap();
    let wsdl = contracts.path().join("keyref.wsdl");
    std::fs::write(&wsdl, KEYREF_WSDL).unwrap();
    let gw = Gateway::start(|doc| {
        let service: toml::Table = toml::from_str(&format!(
            r#"name = "keyref"
provider_agency = "000.00.12.H38"
wsdl = "{}"
endpoint = "http://127.0.0.1:9/keyref"
grants = [{{ consumer = "{PROVINCE}", operations = ["*"] }}]
"#,
            wsdl.display()
        ))
        .unwrap();
        doc.get_mut("services")
            .and_then(|s| s.as_array_mut())
            .unwrap()
            .push(toml::Value::Table(service));
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
