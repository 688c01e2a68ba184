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
const WSA: &str = "http://www.w3.org/2005/08/addressing";

/// A signed SOAP 1.1 request of the shape a caller's stack makes, every part adjustable.
struct Request {
    /// Attributes of the Header's start tag.
    header_attrs: String,
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
            header_attrs: String::new(),
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
            r##"<soap:Envelope xmlns:soap="{S11}" xmlns:wsu="{WSU}"><soap:Header{header_attrs}>{headers}<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1"><wsse:BinarySecurityToken EncodingType="{BASE64}" ValueType="{X509V3}" wsu:Id="X509-1">{cert}</wsse:BinarySecurityToken><wsu:Timestamp wsu:Id="TS-1"><wsu:Created>{created}</wsu:Created>{expires}</wsu:Timestamp><ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC}"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>{refs}</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#X509-1" ValueType="{X509V3}"/></wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature></wsse:Security></soap:Header><soap:Body wsu:Id="{body_id}">{payload}</soap:Body></soap:Envelope>"##,
            header_attrs = self.header_attrs,
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
    post_with_action(addr, body, "\"\"")
}

fn post_with_action(addr: SocketAddr, body: &[u8], action: &str) -> HttpResponse {
    http(
        addr,
        "POST",
        "/services/ho-tich",
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", action),
        ],
        body,
    )
}

/// What the example provider received last.
fn last_received(gw: &Gateway) -> serde_json::Value {
    let r = http(gw.providers.addr, "GET", "/_received", &[], b"");
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["last"].as_array().unwrap().last().cloned().unwrap()
}

/// Sets `key = value` in the `[services.security]` of the service `name`.
fn service_security(doc: &mut toml::Table, name: &str, key: &str, value: toml::Value) {
    let services = doc["services"].as_array_mut().unwrap();
    let svc = services
        .iter_mut()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap()
        .as_table_mut()
        .unwrap();
    svc.entry("security")
        .or_insert_with(|| toml::Value::Table(Default::default()))
        .as_table_mut()
        .unwrap()
        .insert(key.into(), value);
}

/// The answer is a well-formed SOAP 1.1 envelope (read by the gateway's own strict parser).
fn assert_well_formed(r: &HttpResponse) {
    lienthong::soap::envelope::parse(
        bytes::Bytes::from(r.body.clone()),
        lienthong::model::SoapVersion::V11,
        &Default::default(),
    )
    .unwrap_or_else(|e| panic!("{e}: {}", r.text()));
}

/// The gateway's answer is a SOAP 1.1 fault: `soap:X` is its faultcode; a WS-Security
/// code (`wsse:X`, not a SOAP 1.1 faultcode) comes as `soap:Client` with the code in
/// `lt:Code`.
fn assert_fault(r: &HttpResponse, code: &str) -> String {
    let t = r.text();
    assert_eq!(r.status, 500, "{t}");
    if code.starts_with("soap:") {
        assert!(t.contains(&format!("<faultcode>{code}</faultcode>")), "{t}");
    } else {
        assert!(t.contains("<faultcode>soap:Client</faultcode>"), "{t}");
        assert!(t.contains(&format!(">{code}</lt:Code>")), "{t}");
    }
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

#[test]
fn a_replayed_capture_is_refused_as_a_replay_before_anything_else_is_checked() {
    // The replay check runs straight after verification (docs/DESIGN.md, "The pipeline"):
    // a capture the gateway refused for its payload is refused as a replay when sent
    // again, before the XSD validation (or anything after it) is spent on it.
    let gw = Gateway::start(|_| {});
    let province = signer(&gw.data_dir(), PROVINCE);
    let payload = without_comments(&example("ho-tich-TraCuuKhaiSinh"));
    let close = payload.rfind("</").unwrap();
    let invalid = Request {
        payload: format!(
            "{}<x:NotInTheSchema xmlns:x=\"urn:not-in-the-schema\"/>{}",
            &payload[..close],
            &payload[close..]
        ),
        ..Request::new()
    };
    let capture = invalid.sign(&province);
    let first = post(gw.gateway.addr, &capture).text();
    assert!(
        first.contains("<faultcode>soap:Client</faultcode>"),
        "{first}"
    );
    assert!(!first.contains("already received"), "{first}");
    let again = assert_fault(&post(gw.gateway.addr, &capture), "wsse:InvalidSecurity");
    assert!(again.contains("already received"), "{again}");
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

#[test]
fn peer_values_in_the_xml_the_gateway_writes_are_refused_or_escaped() {
    // The consumer's Security header and Body wsu:Id travel on, into the gateway's own
    // signature: the Id is written into a ds:Reference URI.
    let gw = Gateway::start(|doc| {
        service_security(
            doc,
            "ho-tich",
            "forward_consumer_security",
            toml::Value::Boolean(true),
        )
    });
    let province = signer(&gw.data_dir(), PROVINCE);

    // A wsu:Id is an xsd:ID, so an NCName: quotes, `<` and `&` are refused before any use.
    let signed = Request::new().sign(&province);
    let bad_id = String::from_utf8(signed).unwrap().replacen(
        r#"<soap:Body wsu:Id="Body-1">"#,
        r#"<soap:Body wsu:Id="B&quot;/&gt;&lt;x a=&apos;&amp;">"#,
        1,
    );
    let r = post(gw.gateway.addr, bad_id.as_bytes());
    let t = assert_fault(&r, "wsse:InvalidSecurity");
    assert!(t.contains("is not an XML NCName"), "{t}");
    assert_well_formed(&r);
    assert_eq!(gw.provider_calls(), 0);

    // A SOAPAction naming no operation, with markup in it: the Body routes, and the
    // provider is sent the action of its WSDL, never the caller's text.
    let r = post_with_action(
        gw.gateway.addr,
        &Request::new().sign(&province),
        "\"urn:a\\\"<b>&c'\"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_well_formed(&r);
    let seen = last_received(&gw);
    assert_eq!(
        seen["action"], "urn:lgsp:h38:hotich:TraCuuKhaiSinh",
        "{seen}"
    );
    // The consumer's Body wsu:Id, an NCName, was kept beside the consumer's Security header.
    let blocks = header_blocks(&seen);
    assert_eq!(
        blocks.iter().filter(|b| b.ends_with("}Security")).count(),
        2,
        "{blocks:?}"
    );
}

fn header_blocks(received: &serde_json::Value) -> Vec<String> {
    received["header_blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn namespace_names_with_markup_reach_the_provider_unchanged() {
    // A namespace name holding `&` and `'` (written as references, both allowed in a URI),
    // declared on the Envelope for a header block: the gateway copies the declaration onto
    // the block it forwards, through its attribute escaper, once. Markup a URI cannot hold
    // (`"`, `<`) is refused by the scan, as libxml2 would refuse it. Only a pass-through
    // service (nothing signed on the way in or out) is used, so that the names reach the
    // provider as the gateway wrote them.
    let gw = Gateway::start(|doc| {
        for (key, on) in [
            ("dangerous_accept_unsigned", true),
            ("sign_forwarded", false),
        ] {
            service_security(doc, "ho-tich", key, toml::Value::Boolean(on));
        }
        // Unsigned, so forwarded only because the service names it.
        let allowed = toml::Value::Array(vec!["{urn:q&'x}Note".into()]);
        service_security(doc, "ho-tich", "forward_unsigned_headers", allowed);
    });
    let with_namespace = |name: &str| {
        format!(
            r#"<soap:Envelope xmlns:soap="{S11}" xmlns:q="{name}"><soap:Header><q:Note>x</q:Note></soap:Header><soap:Body>{}</soap:Body></soap:Envelope>"#,
            without_comments(&example("ho-tich-TraCuuKhaiSinh"))
        )
    };
    let body = with_namespace("urn:q&amp;&apos;x");
    let unsigned =
        |body: &str| post_unsigned11(gw.gateway.addr, "ho-tich", PROVINCE, body.as_bytes());
    let r = unsigned(&body);
    assert_eq!(r.status, 200, "{}", r.text());
    // The provider read the envelope (so it was well-formed) and the block's namespace
    // escaped once, not twice (`&amp;amp;`).
    let blocks = header_blocks(&last_received(&gw));
    assert!(
        blocks.iter().any(|b| b.starts_with("{urn:q&amp;")
            && b.ends_with("x}Note")
            && !b.contains("&amp;amp;")),
        "{blocks:?}"
    );

    // The same name in a fault (a mandatory block the gateway does not understand).
    let r = unsigned(&body.replace("<q:Note>", r#"<q:Note soap:mustUnderstand="1">"#));
    let t = assert_fault(&r, "soap:MustUnderstand");
    assert!(t.contains("{urn:q&amp;") && !t.contains("&amp;amp;"), "{t}");
    assert_well_formed(&r);
    assert_eq!(gw.provider_calls(), 1);

    // Markup no URI can hold is refused before anything is forwarded.
    let r = unsigned(&with_namespace("urn:q&quot;&lt;&amp;"));
    let t = assert_fault(&r, "soap:Client");
    assert!(t.contains("not a URI reference"), "{t}");
    assert_well_formed(&r);
    assert_eq!(gw.provider_calls(), 1);
}

/// The audit record of the exchange a response names.
fn audit_record(gw: &Gateway, r: &HttpResponse) -> serde_json::Value {
    let id = r.header("x-lienthong-exchange-id").unwrap();
    gw.audit_records(&[])
        .into_iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no audit record for {id}"))
}

/// A header block's name in Clark notation, as the example provider lists it.
fn clark(ns: &str, local: &str) -> String {
    format!("{{{ns}}}{local}")
}

#[test]
fn only_header_blocks_the_caller_signed_or_the_service_allows_reach_the_provider() {
    let gw = Gateway::start(|doc| {
        let allowed = toml::Value::Array(vec!["{urn:test:trace}Trace".into()]);
        service_security(doc, "ho-tich", "forward_unsigned_headers", allowed);
    });
    let province = signer(&gw.data_dir(), PROVINCE);
    let action = clark(WSA, "Action");

    // An unsigned wsa:Action naming another operation, a signed wsa:MessageID, and an
    // unsigned block the service allows.
    let mixed = Request {
        headers: format!(
            r#"<wsa:Action xmlns:wsa="{WSA}">urn:lgsp:h38:hotich:TraCuuKetHon</wsa:Action><wsa:MessageID xmlns:wsa="{WSA}" wsu:Id="M-1">urn:uuid:6c1f0e52</wsa:MessageID><t:Trace xmlns:t="urn:test:trace">abc</t:Trace>"#
        ),
        signed: vec!["M-1".into()],
        ..Request::new()
    };
    let r = post(gw.gateway.addr, &mixed.sign(&province));
    assert_eq!(r.status, 200, "{}", r.text());
    let blocks = header_blocks(&last_received(&gw));
    assert!(!blocks.contains(&action), "{blocks:?}");
    assert!(blocks.contains(&clark(WSA, "MessageID")), "{blocks:?}");
    assert!(
        blocks.contains(&clark("urn:test:trace", "Trace")),
        "{blocks:?}"
    );
    // The audit record says what was left out.
    let rec = audit_record(&gw, &r);
    assert_eq!(rec["outcome"], "accepted", "{rec}");
    let reason = rec["fault_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not forwarded"), "{rec}");
    assert!(reason.contains(&action), "{rec}");

    // The same block marked mustUnderstand cannot be dropped quietly: refused, not sent.
    let mandatory = Request {
        headers: format!(
            r#"<wsa:Action xmlns:wsa="{WSA}" soap:mustUnderstand="1">urn:lgsp:h38:hotich:TraCuuKetHon</wsa:Action>"#
        ),
        ..Request::new()
    };
    let r = post(gw.gateway.addr, &mandatory.sign(&province));
    let t = assert_fault(&r, "soap:MustUnderstand");
    assert!(t.contains("Action"), "{t}");
    assert_eq!(gw.provider_calls(), 1);
    assert_eq!(audit_record(&gw, &r)["fault_code"], "MustUnderstand");

    // Signed, it goes on.
    let signed = Request {
        headers: format!(
            r#"<wsa:Action xmlns:wsa="{WSA}" wsu:Id="A-1" soap:mustUnderstand="1">urn:lgsp:h38:hotich:TraCuuKhaiSinh</wsa:Action>"#
        ),
        signed: vec!["A-1".into()],
        ..Request::new()
    };
    let r = post(gw.gateway.addr, &signed.sign(&province));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(header_blocks(&last_received(&gw)).contains(&action));
}
