//! One test per attack of docs/SECURITY.md, "Attacks the tests replay", each asserting the exact
//! `WssError` variant, with real signatures from libxmlsec1 and real certificates.

mod wssec_util;

use std::net::TcpListener;
use std::time::Duration;

use lienthong::model::SoapVersion;
use lienthong::soap::envelope::{self, EnvelopeError};
use lienthong::wssec::{pki, Signer, WssError};
use wssec_util::*;

fn assert_variant(
    r: Result<impl std::fmt::Debug, WssError>,
    pred: fn(&WssError) -> bool,
) -> String {
    match r {
        // The variant the caller is told about, whatever detail the audit record keeps.
        Err(e) if pred(e.kind()) => e.to_string(),
        other => panic!("unexpected outcome: {other:?}"),
    }
}

/// The Body element of a signed message, start tag to end tag.
fn body_of(signed: &str) -> (usize, usize) {
    let start = signed.find("<soap:Body").unwrap();
    let end = signed.find("</soap:Body>").unwrap() + "</soap:Body>".len();
    (start, end)
}

#[test]
fn a_template_signed_message_verifies() {
    // The baseline every hand-made variant below departs from.
    let f = Fixture::new("");
    let signed = Tpl::default().sign(&f.signer(CONSUMER));
    let v = verify(&f.engine(), &signed).unwrap_or_else(|e| panic!("{e:?}\n{}", s(&signed)));
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn body_changed_after_signing_fails_the_check() {
    let f = Fixture::new("");
    let signed = s(&signed_request(&f, CONSUMER)).replace("Nguyễn Văn An", "Trần Thị Bích");
    assert_variant(verify(&f.engine(), signed.as_bytes()), |e| {
        matches!(e, WssError::FailedCheck(_))
    });
}

#[test]
fn wrapping_signed_body_moved_into_a_header_with_a_forged_body() {
    let f = Fixture::new("");
    let signed = s(&signed_request(&f, CONSUMER));
    let (a, b) = body_of(&signed);
    let original = &signed[a..b];
    let forged = format!(
        "<soap:Body>{}</soap:Body>",
        PAYLOAD.replace("001203004567", "999999999999")
    );
    let attacked = format!("{}{}{}", &signed[..a], forged, &signed[b..]).replace(
        "</soap:Header>",
        &format!(r#"<w:Wrapper xmlns:w="urn:evil">{original}</w:Wrapper></soap:Header>"#),
    );
    // The gateway's byte scan refuses a SOAP Body anywhere but in its place ...
    let scan = envelope::parse(
        bytes::Bytes::from(attacked.clone()),
        SoapVersion::V11,
        &Default::default(),
    );
    assert!(
        matches!(scan, Err(EnvelopeError::NotAnEnvelope(_))),
        "{scan:?}"
    );
    // ... and the signature layer on its own refuses it too: the signed element is not
    // the Envelope's Body (docs/LIBRARIES.md, "libxmlsec1 alone accepts a wrapped message").
    assert_variant(
        f.engine().verify_document(attacked.as_bytes()),
        |e| matches!(e, WssError::FailedCheck(m) if m.contains("Body")),
    );
}

#[test]
fn wrapping_two_bodies() {
    let f = Fixture::new("");
    let signed = s(&signed_request(&f, CONSUMER));
    let attacked = signed.replace(
        "</soap:Envelope>",
        &format!("<soap:Body>{PAYLOAD}</soap:Body></soap:Envelope>"),
    );
    let scan = envelope::parse(
        bytes::Bytes::from(attacked.clone()),
        SoapVersion::V11,
        &Default::default(),
    );
    assert!(scan.is_err());
    assert_variant(f.engine().verify_document(attacked.as_bytes()), |e| {
        matches!(e, WssError::InvalidSecurity(_))
    });
}

#[test]
fn duplicate_wsu_id_is_refused() {
    let f = Fixture::new("");
    let signed = s(&signed_request(&f, CONSUMER));
    let id_start = signed.find("wsu:Id=\"Body-").unwrap() + 8;
    let id_end = id_start + signed[id_start..].find('"').unwrap();
    let id = &signed[id_start..id_end];
    let attacked = signed.replace(
        "<soap:Header>",
        &format!(r#"<soap:Header><w:Copy xmlns:w="urn:evil" xmlns:wsu="{WSU}" wsu:Id="{id}"/>"#),
    );
    let msg = assert_variant(verify(&f.engine(), attacked.as_bytes()), |e| {
        matches!(e, WssError::InvalidSecurity(_))
    });
    assert!(msg.contains("more than one element"), "{msg}");
}

#[test]
fn duplicate_id_across_attribute_kinds_is_refused() {
    let f = Fixture::new("");
    let tpl = Tpl {
        extra_headers: r#"<w:Other xmlns:w="urn:evil" Id="B"/>"#.into(),
        ..Default::default()
    };
    // libxmlsec1 could not even sign this ambiguous document.
    let xml = tpl.render(f.signer(CONSUMER).certificate_base64());
    assert!(f.signer(CONSUMER).sign_template(xml.as_bytes()).is_err());
    assert_variant(verify(&f.engine(), xml.as_bytes()), |e| {
        matches!(e, WssError::InvalidSecurity(_))
    });
}

#[test]
fn reference_to_a_header_instead_of_the_body() {
    let f = Fixture::new("");
    let tpl = Tpl {
        extra_headers: format!(
            r#"<w:Decoy xmlns:w="urn:evil" xmlns:wsu="{WSU}" wsu:Id="D">{PAYLOAD}</w:Decoy>"#
        ),
        refs: vec!["D".into(), "TS".into()],
        body_attrs: String::new(),
        ..Default::default()
    };
    let signed = tpl.sign(&f.signer(CONSUMER));
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::FailedCheck(_))
    });
    assert!(msg.contains("Body"), "{msg}");
}

#[test]
fn signature_over_the_timestamp_only() {
    let f = Fixture::new("");
    let tpl = Tpl {
        refs: vec!["TS".into()],
        ..Default::default()
    };
    let signed = tpl.sign(&f.signer(CONSUMER));
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::FailedCheck(_))
    });
    assert!(msg.contains("Body"), "{msg}");
}

#[test]
fn signature_over_the_body_only_misses_the_timestamp() {
    let f = Fixture::new("");
    let tpl = Tpl {
        refs: vec!["B".into()],
        ..Default::default()
    };
    let signed = tpl.sign(&f.signer(CONSUMER));
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::FailedCheck(_))
    });
    assert!(msg.contains("Timestamp"), "{msg}");
}

#[test]
fn comment_added_inside_the_signed_body() {
    // Exclusive C14N drops comments: the digest still matches, so only policy stops it.
    let f = Fixture::new("");
    let signed =
        s(&signed_request(&f, CONSUMER)).replace("<ht:HoTen>", "<!-- injected --><ht:HoTen>");
    assert_variant(
        verify(&f.engine(), signed.as_bytes()),
        |e| matches!(e, WssError::InvalidSecurity(m) if m.contains("comment")),
    );
}

#[test]
fn untrusted_certificate_is_refused() {
    let f = Fixture::new("");
    let (ca, ca_key) = pki::new_ca("Rogue CA").unwrap();
    let (cert, key) = pki::issue_leaf(
        CONSUMER,
        "Rogue",
        Some(CONSUMER),
        (&ca, &ca_key),
        pki::LEAF_VALIDITY,
    )
    .unwrap();
    let rogue = Signer::new(key, cert, None).unwrap();
    let signed = Tpl::default().sign(&rogue);
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::FailedAuthentication(_))
    });
    assert!(msg.contains("not trusted"), "{msg}");
}

fn dev_ca(
    f: &Fixture,
) -> (
    openssl::x509::X509,
    openssl::pkey::PKey<openssl::pkey::Private>,
) {
    let c = openssl::x509::X509::from_pem(&std::fs::read(f.path("pki/ca.crt")).unwrap()).unwrap();
    let k =
        openssl::pkey::PKey::private_key_from_pem(&std::fs::read(f.path("pki/ca.key")).unwrap())
            .unwrap();
    (c, k)
}

#[test]
fn expired_certificate_is_refused() {
    let f = Fixture::new("");
    let (ca, ca_key) = dev_ca(&f);
    let (cert, key) = pki::issue_leaf(
        CONSUMER,
        "Expired",
        Some(CONSUMER),
        (&ca, &ca_key),
        (-10 * 86_400, -86_400),
    )
    .unwrap();
    let signed = Tpl::default().sign(&Signer::new(key, cert, None).unwrap());
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::FailedAuthentication(_))
    });
    assert!(msg.contains("expired"), "{msg}");
}

#[test]
fn certificate_naming_no_agency_is_refused() {
    let f = Fixture::new("");
    let (ca, ca_key) = dev_ca(&f);
    let (cert, key) = pki::issue_leaf(
        "someone",
        "Nobody",
        None,
        (&ca, &ca_key),
        pki::LEAF_VALIDITY,
    )
    .unwrap();
    let signed = Tpl::default().sign(&Signer::new(key, cert, None).unwrap());
    assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::FailedAuthentication(_))
    });
}

#[test]
fn key_value_in_key_info_is_refused() {
    let f = Fixture::new("");
    let tpl = Tpl {
        key_info: Some(
            "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus><ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>".into(),
        ),
        ..Default::default()
    };
    let signed = tpl.sign(&f.signer(CONSUMER));
    assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::UnsupportedSecurityToken(_))
    });
}

#[test]
fn trusted_token_swapped_in_for_the_signing_key() {
    // Signed with a rogue key, then the BST replaced by the real agency's certificate:
    // the identity would be the agency's, but its key did not make the signature.
    let f = Fixture::new("");
    let (ca, ca_key) = pki::new_ca("Rogue CA").unwrap();
    let (cert, key) = pki::issue_leaf(
        CONSUMER,
        "Rogue",
        Some(CONSUMER),
        (&ca, &ca_key),
        pki::LEAF_VALIDITY,
    )
    .unwrap();
    let rogue = Signer::new(key, cert, None).unwrap();
    let signed = s(&Tpl::default().sign(&rogue)).replace(
        rogue.certificate_base64(),
        f.signer(CONSUMER).certificate_base64(),
    );
    assert_variant(verify(&f.engine(), signed.as_bytes()), |e| {
        matches!(e, WssError::FailedCheck(_))
    });
}

#[test]
fn token_reference_outside_the_security_header() {
    let f = Fixture::new("");
    let signer = f.signer(CONSUMER);
    let tpl = Tpl {
        extra_headers: format!(
            r#"<w:Elsewhere xmlns:w="urn:evil"><wsse:BinarySecurityToken xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" ValueType="{X509V3}" wsu:Id="X509-other">{}</wsse:BinarySecurityToken></w:Elsewhere>"#,
            signer.certificate_base64()
        ),
        key_info: Some(
            r##"<wsse:SecurityTokenReference><wsse:Reference URI="#X509-other"/></wsse:SecurityTokenReference>"##
                .to_string(),
        ),
        ..Default::default()
    };
    let signed = tpl.sign(&signer);
    assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::SecurityTokenUnavailable(_))
    });
}

#[test]
fn rsa_sha1_is_refused_naming_the_algorithm_to_use() {
    let f = Fixture::new("");
    let tpl = Tpl {
        sig_alg: "http://www.w3.org/2000/09/xmldsig#rsa-sha1".into(),
        ..Default::default()
    };
    let signed = tpl.sign(&f.signer(CONSUMER));
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::UnsupportedAlgorithm(_))
    });
    assert!(msg.contains("rsa-sha256"), "{msg}");
}

#[test]
fn sha1_digest_is_refused_naming_the_algorithm_to_use() {
    let f = Fixture::new("");
    let tpl = Tpl {
        digest: "http://www.w3.org/2000/09/xmldsig#sha1".into(),
        ..Default::default()
    };
    let signed = tpl.sign(&f.signer(CONSUMER));
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::UnsupportedAlgorithm(_))
    });
    assert!(msg.contains("xmlenc#sha256"), "{msg}");
}

#[test]
fn hmac_is_refused() {
    let f = Fixture::new("");
    let signed = s(&signed_request(&f, CONSUMER)).replace(
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
    );
    let msg = assert_variant(verify(&f.engine(), signed.as_bytes()), |e| {
        matches!(e, WssError::UnsupportedAlgorithm(_))
    });
    assert!(msg.contains("rsa-sha256"), "{msg}");
}

#[test]
fn xpath_transform_is_refused() {
    let f = Fixture::new("");
    let signed = s(&signed_request(&f, CONSUMER)).replacen(
        r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>/</ds:XPath></ds:Transform>"#,
        1,
    );
    assert_variant(verify(&f.engine(), signed.as_bytes()), |e| {
        matches!(e, WssError::UnsupportedAlgorithm(_))
    });
}

/// A listener that records whether anything connected.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn connected(l: &TcpListener) -> bool {
    std::thread::sleep(Duration::from_millis(200));
    l.accept().is_ok()
}

#[test]
fn remote_reference_uri_is_refused_and_never_fetched() {
    let f = Fixture::new("");
    let (l, port) = listener();
    let signed = s(&signed_request(&f, CONSUMER));
    let start = signed.find("URI=\"#Body-").unwrap() + 5;
    let end = start + signed[start..].find('"').unwrap();
    let attacked = format!(
        "{}http://127.0.0.1:{port}/payload{}",
        &signed[..start],
        &signed[end..]
    );
    assert_variant(
        verify(&f.engine(), attacked.as_bytes()),
        |e| matches!(e, WssError::InvalidSecurity(m) if m.contains("same-document")),
    );
    assert!(
        !connected(&l),
        "the verifier connected to the reference URI"
    );
}

#[test]
fn libxmlsec1_itself_is_locked_to_same_document_references() {
    // Defence in depth under the policy check (docs/LIBRARIES.md, "libxmlsec1 fetches any
    // Reference URI"): even the signing context,
    // asked to digest a remote URI, refuses without connecting.
    let f = Fixture::new("");
    let (l, port) = listener();
    let tpl = Tpl {
        refs: vec![format!("http://127.0.0.1:{port}/x"), "TS".into()],
        ..Default::default()
    };
    let xml = tpl.render(f.signer(CONSUMER).certificate_base64());
    assert!(f.signer(CONSUMER).sign_template(xml.as_bytes()).is_err());
    assert!(!connected(&l), "libxmlsec1 connected to the reference URI");
}

fn ts_at(created: chrono::DateTime<chrono::Utc>, expires: chrono::DateTime<chrono::Utc>) -> Tpl {
    Tpl {
        created: created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        expires: expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ..Default::default()
    }
}

#[test]
fn expired_timestamp() {
    let f = Fixture::new("clock_skew_secs = 60");
    let now = chrono::Utc::now();
    let signed = ts_at(
        now - chrono::Duration::seconds(400),
        now - chrono::Duration::seconds(100),
    )
    .sign(&f.signer(CONSUMER));
    assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::MessageExpired(_))
    });
}

#[test]
fn future_timestamp() {
    let f = Fixture::new("clock_skew_secs = 60");
    let now = chrono::Utc::now();
    let signed = ts_at(
        now + chrono::Duration::seconds(120),
        now + chrono::Duration::seconds(400),
    )
    .sign(&f.signer(CONSUMER));
    assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::MessageExpired(_))
    });
}

#[test]
fn too_old_timestamp_with_a_far_expiry() {
    let f = Fixture::new("clock_skew_secs = 60\nmax_age_secs = 300");
    let now = chrono::Utc::now();
    let signed = ts_at(
        now - chrono::Duration::seconds(3600),
        now + chrono::Duration::seconds(3600),
    )
    .sign(&f.signer(CONSUMER));
    assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::MessageExpired(_))
    });
}

#[test]
fn missing_timestamp() {
    let f = Fixture::new("");
    let tpl = Tpl {
        timestamp: false,
        refs: vec!["B".into()],
        ..Default::default()
    };
    let signed = tpl.sign(&f.signer(CONSUMER));
    let msg = assert_variant(verify(&f.engine(), &signed), |e| {
        matches!(e, WssError::InvalidSecurity(_))
    });
    assert!(msg.contains("Timestamp"), "{msg}");
}

#[test]
fn missing_security_header_and_two_security_headers() {
    let f = Fixture::new("");
    let plain = request(SoapVersion::V11, PAYLOAD);
    assert_variant(verify(&f.engine(), &plain), |e| {
        matches!(e, WssError::InvalidSecurity(_))
    });
    let signed = s(&signed_request(&f, CONSUMER));
    let twice = signed.replace(
        "<soap:Header>",
        &format!(r#"<soap:Header><wsse:Security xmlns:wsse="{WSSE}"/>"#),
    );
    assert_variant(
        verify(&f.engine(), twice.as_bytes()),
        |e| matches!(e, WssError::InvalidSecurity(m) if m.contains("more than one")),
    );
}

#[tokio::test]
async fn replay_on_the_same_engine() {
    let f = Fixture::new("");
    let engine = f.engine();
    let signed = signed_request(&f, CONSUMER);
    let first = verify(&engine, &signed).unwrap();
    engine.check_replay(first.replay()).await.unwrap();
    let second = verify(&engine, &signed).unwrap();
    let r = engine.check_replay(second.replay()).await;
    assert!(matches!(r, Err(WssError::Replay(_))), "{r:?}");
}

#[tokio::test]
async fn replay_across_two_nodes_through_redis() {
    let f = Fixture::new("replay = \"redis://127.0.0.1:6379/0\"");
    // Two engines, as on two gateway nodes behind a load balancer.
    let node_a = f.engine();
    let node_b = f.engine();
    let signed = signed_request(&f, CONSUMER);
    let on_a = verify(&node_a, &signed).unwrap();
    node_a.check_replay(on_a.replay()).await.unwrap();
    let on_b = verify(&node_b, &signed).unwrap();
    let r = node_b.check_replay(on_b.replay()).await;
    assert!(matches!(r, Err(WssError::Replay(_))), "{r:?}");
    // A fresh signature of the same body is a new message.
    let again = verify(&node_b, &signed_request(&f, CONSUMER)).unwrap();
    node_b.check_replay(again.replay()).await.unwrap();
}

#[tokio::test]
async fn unreachable_replay_cache_fails_closed() {
    let f = Fixture::new("replay = \"redis://127.0.0.1:1/0\"");
    let engine = f.engine();
    let v = verify(&engine, &signed_request(&f, CONSUMER)).unwrap();
    let r = engine.check_replay(v.replay()).await;
    assert!(
        matches!(r, Err(WssError::ReplayCacheUnavailable(_))),
        "{r:?}"
    );
}
