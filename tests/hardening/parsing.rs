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
