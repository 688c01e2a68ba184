//! WS-Security hardening, end to end: Timestamps without Expires or with `+00:00`, and
//! lifetimes too long to keep; replays across a restart (kill -9 included); peer-derived
//! values in the XML the gateway writes; and which header blocks reach the provider.

use std::net::SocketAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use lienthong::wssec::Signer;

use crate::common::*;
use crate::traffic::{signer, PROVINCE};

const S11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const X509V3: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
const BASE64: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// A signed SOAP 1.1 request of the shape a caller's stack makes, every part adjustable.
struct Request {
    created: String,
    /// `None`: no `wsu:Expires` (WSS4J with a TTL of 0).
    expires: Option<String>,
    /// Header blocks before the Security header, verbatim.
    headers: String,
    /// `wsu:Id`s the signature covers besides the Body's and the Timestamp's.
    signed: Vec<String>,
    body_id: String,
    payload: String,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Request {
    fn new() -> Request {
        let now = Utc::now();
        Request {
            created: stamp(now),
            expires: Some(stamp(now + chrono::Duration::seconds(300))),
            headers: String::new(),
            signed: Vec::new(),
            body_id: "Body-1".into(),
            payload: without_comments(&example("ho-tich-TraCuuKhaiSinh")),
        }
    }

    fn sign(&self, signer: &Signer) -> Vec<u8> {
        let expires = self
            .expires
            .as_ref()
            .map(|e| format!("<wsu:Expires>{e}</wsu:Expires>"))
            .unwrap_or_default();
        let refs: String = [self.body_id.as_str(), "TS-1"]
            .into_iter()
            .chain(self.signed.iter().map(String::as_str))
            .map(|id| {
                format!(
                    r##"<ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="{EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>"##
                )
            })
            .collect();
        let xml = format!(
            r##"<soap:Envelope xmlns:soap="{S11}" xmlns:wsu="{WSU}"><soap:Header>{headers}<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1"><wsse:BinarySecurityToken EncodingType="{BASE64}" ValueType="{X509V3}" wsu:Id="X509-1">{cert}</wsse:BinarySecurityToken><wsu:Timestamp wsu:Id="TS-1"><wsu:Created>{created}</wsu:Created>{expires}</wsu:Timestamp><ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC}"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>{refs}</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#X509-1" ValueType="{X509V3}"/></wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature></wsse:Security></soap:Header><soap:Body wsu:Id="{body_id}">{payload}</soap:Body></soap:Envelope>"##,
            headers = self.headers,
            cert = signer.certificate_base64(),
            created = self.created,
            body_id = self.body_id,
            payload = self.payload,
        );
        signer
            .sign_template(xml.as_bytes())
            .unwrap_or_else(|e| panic!("{e}\n{xml}"))
    }
}

/// The example payload without its leading comment (a comment may not sit in signed content).
fn without_comments(payload: &str) -> String {
    let mut rest = payload.trim_start();
    while let Some(after) = rest.strip_prefix("<!--") {
        rest = after[after.find("-->").unwrap() + 3..].trim_start();
    }
    rest.to_string()
}

fn post(addr: SocketAddr, body: &[u8]) -> HttpResponse {
    http(
        addr,
        "POST",
        "/services/ho-tich",
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", "\"\""),
        ],
        body,
    )
}

/// The gateway's answer is a SOAP fault whose faultcode is `code`.
fn assert_fault(r: &HttpResponse, code: &str) -> String {
    let t = r.text();
    assert_eq!(r.status, 500, "{t}");
    assert!(t.contains(&format!("<faultcode>{code}</faultcode>")), "{t}");
    t
}

#[test]
fn timestamps_without_expires_or_with_a_numeric_utc_offset_are_accepted() {
    let gw = Gateway::start(|_| {});
    let province = signer(&gw.data_dir(), PROVINCE);

    // WSS 1.1 §10: Expires is optional (WSS4J leaves it out with a TTL of 0).
    let no_expires = Request {
        expires: None,
        ..Request::new()
    };
    let r = post(gw.gateway.addr, &no_expires.sign(&province));
    assert_eq!(r.status, 200, "{}", r.text());

    // UTC written as +00:00 (and -00:00) is the same instant as Z.
    let now = Utc::now();
    let plus_zero = Request {
        created: now.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string(),
        expires: Some(
            (now + chrono::Duration::seconds(300))
                .format("%Y-%m-%dT%H:%M:%S-00:00")
                .to_string(),
        ),
        ..Request::new()
    };
    let r = post(gw.gateway.addr, &plus_zero.sign(&province));
    assert_eq!(r.status, 200, "{}", r.text());

    // Local time with its offset is refused: WSS 1.1 §10 asks for UTC.
    let local = Request {
        created: (now + chrono::Duration::hours(7))
            .format("%Y-%m-%dT%H:%M:%S+07:00")
            .to_string(),
        ..Request::new()
    };
    assert_fault(
        &post(gw.gateway.addr, &local.sign(&province)),
        "wsse:InvalidSecurity",
    );
    assert_eq!(gw.provider_calls(), 2);
}

#[test]
fn a_timestamp_living_two_days_is_refused_by_the_lifetime_rule() {
    let gw = Gateway::start(|_| {});
    let province = signer(&gw.data_dir(), PROVINCE);
    let now = Utc::now();
    let two_days = Request {
        expires: Some(stamp(now + chrono::Duration::days(2))),
        ..Request::new()
    };
    let t = assert_fault(
        &post(gw.gateway.addr, &two_days.sign(&province)),
        "wsse:MessageExpired",
    );
    assert!(t.contains("lifetime (Expires - Created)"), "{t}");
    assert!(t.contains("3600 s"), "{t}");
    assert_eq!(gw.provider_calls(), 0);
}

/// Kills the gateway with SIGKILL (no shutdown of any kind) and starts it again on the same
/// configuration and data directory.
fn kill_9_and_restart(gw: &mut Gateway) {
    gw.gateway.child.kill().unwrap();
    gw.gateway.child.wait().unwrap();
    let data = gw.data_dir();
    gw.gateway = spawn(
        &[
            "serve",
            "--config",
            gw.config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        "listening on",
        gw.dir.path(),
        &[],
    );
}

#[test]
fn a_message_accepted_before_a_kill_9_is_refused_after_the_restart() {
    let mut gw = Gateway::start(|_| {});
    let province = signer(&gw.data_dir(), PROVINCE);
    let once = Request::new().sign(&province);
    let r = post(gw.gateway.addr, &once);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(gw.provider_calls(), 1);

    kill_9_and_restart(&mut gw);
    // The in-memory cache is empty now; the same bytes are still refused.
    let t = assert_fault(&post(gw.gateway.addr, &once), "wsse:InvalidSecurity");
    assert!(t.contains("before the gateway restarted"), "{t}");
    assert_eq!(gw.provider_calls(), 1, "the replay reached the provider");

    // A message signed after the restart (past the bound, a step ahead of the last
    // accepted Created) is new.
    std::thread::sleep(lienthong::wssec::horizon::STEP);
    let r = post(gw.gateway.addr, &Request::new().sign(&province));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(gw.provider_calls(), 2);
}
