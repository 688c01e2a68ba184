//! Whatever a caller puts in the request line, headers or body framing, the gateway answers
//! with a status and a reason and goes on answering: request targets with broken
//! percent-escapes, non-UTF-8 bytes or a huge query (issue #10).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::*;

/// Sends `GET TARGET` with the target's bytes exactly as given.
fn get_raw(addr: SocketAddr, target: &[u8]) -> HttpResponse {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
    s.write_all(&req).unwrap();
    read_response(&mut s)
}

/// The gateway still serves its health check and a contract.
fn still_answers(addr: SocketAddr) {
    assert_eq!(http(addr, "GET", "/healthz", &[], b"").status, 200);
    assert_eq!(
        http(addr, "GET", "/services/ho-tich?wsdl", &[], b"").status,
        200
    );
}

#[test]
fn malformed_request_targets_are_refused_and_the_gateway_goes_on() {
    let gw = Gateway::start(unsigned);
    let addr = gw.gateway.addr;
    let huge = format!("/services/ho-tich?xsd={}", "%zz".repeat(3_000));
    let over = format!("/services/ho-tich?xsd={}", "a".repeat(64 * 1024));
    let targets: Vec<Vec<u8>> = vec![
        // `%a` followed by a two-byte character: the slice that panicked.
        "/services/ho-tich?xsd=%aé".into(),
        "/services/ho-tich?wsdl=%aé".into(),
        "/services/ho-tich?xsd=%a%C3%A9".into(),
        "/services/ho-tich?xsd=%".into(),
        "/services/ho-tich?xsd=%a".into(),
        "/services/ho-tich?xsd=%zz".into(),
        "/services/ho-tich?xsd=%FF%FE".into(),
        b"/services/ho-tich?xsd=\xff\xfe".to_vec(),
        b"/services/ho-\xc3tich?wsdl".to_vec(),
        "/services/ho%?wsdl".into(),
        "/services/%E0%80?wsdl".into(),
        "/services/ho-tich?foo".into(),
        huge.into_bytes(),
        over.into_bytes(),
    ];
    for t in &targets {
        let r = get_raw(addr, t);
        let shown = String::from_utf8_lossy(&t[..t.len().min(60)]).into_owned();
        assert!(
            [400, 404, 414, 431].contains(&r.status),
            "{shown}: {} {}",
            r.status,
            r.text()
        );
        assert!(
            !r.text().contains("%zz%zz"),
            "{shown}: the target is echoed"
        );
        still_answers(addr);
    }
    // A well-formed escape still names its document.
    let r = http(addr, "GET", "/services/ho%2Dtich?wsdl", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        !gw.gateway.log_text().contains("panicked"),
        "{}",
        gw.gateway.log_text()
    );
}

const PROVINCE: &str = "000.00.00.H38";

/// An unsigned call of `ho-tich` (the consumer named by header) in `version`.
fn ho_tich(version: lienthong::model::SoapVersion) -> Vec<u8> {
    lienthong::soap::envelope::build(version, &[], example("ho-tich-TraCuuKhaiSinh").as_bytes())
}

fn post(addr: SocketAddr, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    let mut h = vec![("SOAPAction", "\"\""), ("X-Lienthong-Consumer", PROVINCE)];
    h.extend_from_slice(headers);
    http(addr, "POST", "/services/ho-tich", &h, body)
}

/// A SOAP 1.1 fault (Client) or a SOAP 1.2 one (Sender), with its content type.
fn assert_fault(r: &HttpResponse, status: u16, v12: bool, reason: &str) {
    let t = r.text();
    assert_eq!(r.status, status, "{t}");
    if v12 {
        assert!(t.contains("<env:Value>env:Sender</env:Value>"), "{t}");
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/soap+xml"));
    } else {
        assert!(t.contains("<faultcode>soap:Client</faultcode>"), "{t}");
        assert!(r.header("content-type").unwrap().starts_with("text/xml"));
    }
    assert!(t.contains(reason), "{t}");
}

#[test]
fn wrong_content_types_and_charsets_get_415_in_the_guessed_version() {
    use lienthong::model::SoapVersion::{V11, V12};
    let gw = Gateway::start(unsigned);
    let addr = gw.gateway.addr;
    let ct = |v| vec![("Content-Type", v)];
    // The version from the content type, whatever the body.
    for (t, v12) in [
        ("application/json", false),
        ("text/plain", false),
        ("application/xml; charset=utf-8", false),
    ] {
        assert_fault(&post(addr, &ct(t), &ho_tich(V11)), 415, v12, "is not SOAP");
    }
    // No usable content type: the envelope's namespace decides.
    assert_fault(
        &post(addr, &ct("application/xml"), &ho_tich(V12)),
        415,
        true,
        "is not SOAP",
    );
    assert_fault(&post(addr, &[], &ho_tich(V12)), 415, true, "is not SOAP");
    assert_fault(&post(addr, &[], b"{\"a\": 1}"), 415, false, "is not SOAP");
    // Charsets other than UTF-8, refused as such, in the content type's version.
    assert_fault(
        &post(addr, &ct("text/xml; charset=iso-8859-1"), &ho_tich(V11)),
        415,
        false,
        "charset `iso-8859-1` is not accepted; send UTF-8",
    );
    assert_fault(
        &post(
            addr,
            &ct("application/soap+xml; charset=\"UTF-16\""),
            &ho_tich(V12),
        ),
        415,
        true,
        "charset `UTF-16` is not accepted",
    );
    assert_eq!(gw.provider_calls(), 0);
    // US-ASCII is UTF-8's subset: accepted.
    let r = post(addr, &ct("text/xml; charset=us-ascii"), &ho_tich(V11));
    assert_eq!(r.status, 200, "{}", r.text());
    still_answers(addr);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_at(data, flate2::Compression::fast())
}

fn gzip_at(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn post_gzip(addr: SocketAddr, encoding: &str, body: &[u8]) -> HttpResponse {
    post(
        addr,
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Content-Encoding", encoding),
        ],
        body,
    )
}

#[test]
fn gzip_bodies_are_inflated_under_the_limits_and_bombs_refused() {
    use lienthong::model::SoapVersion::V11;
    let gw = Gateway::start(|_| {});
    let addr = gw.gateway.addr;
    // A signed call, gzipped as CXF's GZIP feature sends it.
    let signed = crate::traffic::signed(
        &gw.data_dir(),
        PROVINCE,
        V11,
        &example("ho-tich-TraCuuKhaiSinh"),
    );
    let r = post_gzip(addr, "gzip", &gzip(&signed));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("TraCuuKhaiSinhResponse"), "{}", r.text());
    assert_eq!(gw.provider_calls(), 1);

    // 1 GB of zeros in 1,024 gzip members of 1 MiB each (RFC 1952 §2.2 allows several):
    // about 1 MB on the wire, refused on the ratio once past the first MiB.
    let member = gzip_at(&vec![0u8; 1 << 20], flate2::Compression::best());
    let bomb = member.repeat(1024);
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    assert_fault(
        &post_gzip(addr, "gzip", &bomb),
        413,
        false,
        "max_inflate_ratio (100)",
    );
    // The same in one member.
    let mut one = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..64 {
        std::io::Write::write_all(&mut one, &vec![0u8; 1 << 20]).unwrap();
    }
    let one = one.finish().unwrap();
    assert_fault(
        &post_gzip(addr, "x-gzip", &one),
        413,
        false,
        "max_inflate_ratio",
    );
    // Within the ratio but past max_request_bytes once inflated (12 MB of hex digits).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let text: Vec<u8> = (0..12_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"0123456789abcdef"[(x & 15) as usize]
        })
        .collect();
    let big = gzip(&text);
    assert!(big.len() < 10 << 20);
    assert_fault(
        &post_gzip(addr, "gzip", &big),
        413,
        false,
        "exceeds max_request_bytes (10485760 bytes)",
    );
    // Not gzip at all, or cut short.
    assert_fault(
        &post_gzip(addr, "gzip", &signed),
        500,
        false,
        "could not be decompressed",
    );
    let cut = gzip(&signed);
    assert_fault(
        &post_gzip(addr, "gzip", &cut[..cut.len() / 2]),
        500,
        false,
        "could not be decompressed",
    );
    // Other codings: 415 naming what is accepted.
    for coding in ["br", "deflate", "gzip, br", "zstd"] {
        assert_fault(
            &post_gzip(addr, coding, &signed),
            415,
            false,
            "is not accepted; send the body as is (identity) or gzip",
        );
    }
    assert_eq!(gw.provider_calls(), 1);
    still_answers(addr);
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What a raw provider answers: status, content type and body.
type RawAnswer = (u16, String, Vec<u8>);

/// A provider on a bare socket, one request per connection: `answer` gets the path, the
/// Content-Type and SOAPAction headers, and the body.
fn raw_provider(
    answer: impl Fn(&str, &[(&str, &str)], &[u8]) -> RawAnswer + Send + 'static,
) -> SocketAddr {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split(' ').nth(1).unwrap_or("/").to_string();
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let Some((k, v)) = h.trim_end().split_once(':') else {
                    break;
                };
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    length = v.parse().unwrap();
                } else if k == "content-type" || k == "soapaction" {
                    headers.push((k, v));
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (status, content_type, body) = answer(&path, &h, &body);
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(&body);
            let _ = conn.write_all(&out);
        }
    });
    addr
}

/// A provider that relays each call to `upstream` and answers with what came back, a UTF-8
/// byte-order mark put in front (as some .NET and Java stacks write their answers).
fn bom_relay(upstream: SocketAddr) -> SocketAddr {
    raw_provider(move |path, headers, body| {
        let answer = http(upstream, "POST", path, headers, body);
        let content_type = answer
            .header("content-type")
            .unwrap_or("text/xml")
            .to_string();
        let mut with_bom = BOM.to_vec();
        with_bom.extend_from_slice(&answer.body);
        (answer.status, content_type, with_bom)
    })
}

#[test]
fn a_byte_order_mark_is_accepted_in_requests_and_in_answers() {
    use lienthong::model::SoapVersion::{V11, V12};
    let dir = tempfile::tempdir().unwrap();
    let providers = start_providers(dir.path());
    let relay = bom_relay(providers.addr);
    let upstream = providers.addr.to_string();
    let gw = Gateway::start_on(dir, providers, &[], |doc| {
        for s in doc["services"].as_array_mut().unwrap() {
            if s["name"].as_str() == Some("ho-tich") {
                let ep = s["endpoint"]
                    .as_str()
                    .unwrap()
                    .replace(&upstream, &relay.to_string());
                s["endpoint"] = toml::Value::String(ep);
            }
        }
    });
    let data = gw.data_dir();
    let payload = example("ho-tich-TraCuuKhaiSinh");
    for version in [V11, V12] {
        // Through the relay: the provider's answer starts with a BOM.
        let mut body = BOM.to_vec();
        body.extend(crate::traffic::signed(&data, PROVINCE, version, &payload));
        let case = crate::traffic::Case {
            label: "bom".into(),
            service: "ho-tich",
            version,
            body,
            statuses: &[200],
        };
        let r = crate::traffic::send(gw.gateway.addr, &case);
        let t = r.text();
        assert_eq!(r.status, 200, "{t}");
        assert!(t.contains("TraCuuKhaiSinhResponse"), "{t}");
        assert!(!t.contains("Fault"), "{t}");
    }
    // A request with a BOM to a service answered without one.
    let mut body = BOM.to_vec();
    body.extend(crate::traffic::signed(
        &data,
        PROVINCE,
        V11,
        &example("dang-ky-kinh-doanh-TraCuuDoanhNghiep"),
    ));
    let case = crate::traffic::Case {
        label: "bom".into(),
        service: "dang-ky-kinh-doanh",
        version: V11,
        body,
        statuses: &[200],
    };
    let r = crate::traffic::send(gw.gateway.addr, &case);
    assert_eq!(r.status, 200, "{}", r.text());
}

const LARGE_XSD: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:lon" elementFormDefault="qualified">
  <xs:element name="GuiTaiLieu">
    <xs:complexType><xs:sequence>
      <xs:element name="Ten" type="xs:string"/>
      <xs:element name="NoiDung" type="xs:base64Binary"/>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:element name="KetQua" type="xs:string"/>
</xs:schema>
"#;

/// A document of `bytes` base64 characters, with a tail the provider looks for.
fn document(bytes: usize) -> String {
    format!(
        r#"<k:GuiTaiLieu xmlns:k="urn:test:lon"><k:Ten>ho-so.pdf</k:Ten><k:NoiDung>{}TGllblRob25n</k:NoiDung></k:GuiTaiLieu>"#,
        "QUJD".repeat(bytes / 4)
    )
}

#[test]
fn large_signed_messages_within_the_limits_are_forwarded_and_limits_named() {
    use lienthong::model::SoapVersion::V11;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let contracts = tempfile::tempdir().unwrap();
    let wsdl = one_operation_contract(
        contracts.path(),
        "lon",
        "urn:test:lon",
        LARGE_XSD,
        "GuiTaiLieu",
        "KetQua",
    );
    // The provider notes the size of what reached it, if it holds the whole document.
    let received = Arc::new(AtomicUsize::new(0));
    let seen = received.clone();
    let provider = raw_provider(move |_, _, body| {
        if body.windows(16).any(|w| w == b"QUJDTGllblRob25n") {
            seen.store(body.len(), Ordering::SeqCst);
        }
        let answer = lienthong::soap::envelope::build(
            V11,
            &[],
            br#"<k:KetQua xmlns:k="urn:test:lon">da nhan</k:KetQua>"#,
        );
        (200, "text/xml; charset=utf-8".into(), answer)
    });
    let gw = Gateway::start(|doc| {
        let endpoint = format!("http://{provider}/lon");
        add_service(doc, "lon", &wsdl, &endpoint, PROVINCE);
        let limits = doc["limits"].as_table_mut().unwrap();
        limits.insert("max_request_bytes".into(), toml::Value::Integer(32 << 20));
        limits.insert("max_value_bytes".into(), toml::Value::Integer(16 << 20));
    });
    let addr = gw.gateway.addr;
    let send = |body: Vec<u8>| {
        crate::traffic::send(
            addr,
            &crate::traffic::Case {
                label: "large".into(),
                service: "lon",
                version: V11,
                body,
                statuses: &[200],
            },
        )
    };
    // 12 MB, one 12 MB text node: past libxml2's own 10 MB ceiling, within [limits].
    let signed = crate::traffic::signed(&gw.data_dir(), PROVINCE, V11, &document(12_000_000));
    assert!(signed.len() > 12_000_000);
    let r = send(signed);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("da nhan"), "{}", r.text());
    assert!(received.load(Ordering::SeqCst) > 12_000_000);

    // Past max_request_bytes: 413 naming it (refused before it is parsed or verified).
    let over = lienthong::soap::envelope::build(V11, &[], document(33 << 20).as_bytes());
    assert_fault(
        &send(over),
        413,
        false,
        "exceeds max_request_bytes (33554432 bytes)",
    );
    // Within it, but one text node past max_value_bytes: the fault names that key.
    let long = lienthong::soap::envelope::build(V11, &[], document(17 << 20).as_bytes());
    assert_fault(
        &send(long),
        500,
        false,
        "the limit on the size of one text node ([limits] max_value_bytes = 16777216)",
    );
    still_answers(addr);
}
