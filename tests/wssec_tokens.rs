//! The key references, ID styles, canonicalization options and key types real clients
//! use (docs/SECURITY.md, "What real clients send"), and certificate policy.

mod wssec_util;

use std::process::Command;

use base64::Engine as _;
use lienthong::wssec::{pki, Caller, Signer, WssError};
use openssl::hash::MessageDigest;
use openssl::x509::X509;
use wssec_util::*;

const THUMBPRINT: &str =
    "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1";
const SKI: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier";
const B64: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

fn registered() -> String {
    format!(
        "{}\n{}",
        agencies_toml().replace(
            "name = \"UBND huyện Đông Sơn\"",
            &format!(
                "name = \"UBND huyện Đông Sơn\"\ncertificates = [\"pki/agencies/{CONSUMER}.crt\"]"
            ),
        ),
        ""
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn consumer_cert(f: &Fixture) -> X509 {
    X509::from_pem(&std::fs::read(pki::agency_cert(f.data(), CONSUMER)).unwrap()).unwrap()
}

fn key_identifier(value_type: &str, value: &str) -> String {
    format!(
        r#"<wsse:SecurityTokenReference><wsse:KeyIdentifier EncodingType="{B64}" ValueType="{value_type}">{value}</wsse:KeyIdentifier></wsse:SecurityTokenReference>"#
    )
}

#[test]
fn thumbprint_sha1_of_a_registered_certificate() {
    let f = Fixture::with_agencies("", &registered());
    let thumb = consumer_cert(&f).digest(MessageDigest::sha1()).unwrap();
    let tpl = Tpl {
        key_info: Some(key_identifier(THUMBPRINT, &b64(&thumb))),
        ..Default::default()
    };
    let v = verify(&f.engine(), &tpl.sign(&f.signer(CONSUMER))).unwrap();
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn thumbprint_of_an_unregistered_certificate_is_unavailable() {
    let f = Fixture::new("");
    let thumb = consumer_cert(&f).digest(MessageDigest::sha1()).unwrap();
    let tpl = Tpl {
        key_info: Some(key_identifier(THUMBPRINT, &b64(&thumb))),
        ..Default::default()
    };
    let r = verify(&f.engine(), &tpl.sign(&f.signer(CONSUMER)));
    assert!(
        matches!(r, Err(WssError::SecurityTokenUnavailable(_))),
        "{r:?}"
    );
}

#[test]
fn subject_key_identifier_of_a_registered_certificate() {
    let f = Fixture::with_agencies("", &registered());
    let cert = consumer_cert(&f);
    let ski = cert.subject_key_id().unwrap().as_slice().to_vec();
    let tpl = Tpl {
        key_info: Some(key_identifier(SKI, &b64(&ski))),
        ..Default::default()
    };
    let v = verify(&f.engine(), &tpl.sign(&f.signer(CONSUMER))).unwrap();
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn x509v3_key_identifier_carrying_the_certificate() {
    let f = Fixture::new("");
    let der = consumer_cert(&f).to_der().unwrap();
    let tpl = Tpl {
        key_info: Some(key_identifier(X509V3, &b64(&der))),
        ..Default::default()
    };
    let v = verify(&f.engine(), &tpl.sign(&f.signer(CONSUMER))).unwrap();
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn issuer_serial_of_a_registered_certificate() {
    let f = Fixture::with_agencies("", &registered());
    let cert = consumer_cert(&f);
    // RFC 2253 order: most specific first.
    let issuer: Vec<String> = cert
        .issuer_name()
        .entries()
        .map(|e| {
            format!(
                "{}={}",
                e.object().nid().short_name().unwrap(),
                e.data().to_string().unwrap()
            )
        })
        .collect();
    let issuer = issuer.into_iter().rev().collect::<Vec<_>>().join(",");
    let serial = cert.serial_number().to_bn().unwrap().to_dec_str().unwrap();
    let tpl = Tpl {
        key_info: Some(format!(
            "<wsse:SecurityTokenReference><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>{issuer}</ds:X509IssuerName><ds:X509SerialNumber>{serial}</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></wsse:SecurityTokenReference>"
        )),
        ..Default::default()
    };
    let v = verify(&f.engine(), &tpl.sign(&f.signer(CONSUMER))).unwrap();
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn pinned_certificate_from_another_ca_maps_to_its_registered_agency() {
    let f = Fixture::new("");
    let (ca, ca_key) = pki::new_ca("Other CA").unwrap();
    // Its CN names another agency: registration wins over names.
    let (cert, key) =
        pki::issue_leaf(CONSUMER, "Pinned", None, (&ca, &ca_key), pki::LEAF_VALIDITY).unwrap();
    std::fs::write(f.path("pinned.crt"), cert.to_pem().unwrap()).unwrap();
    let agencies = agencies_toml().replace(
        "name = \"UBND tỉnh\"",
        "name = \"UBND tỉnh\"\ncertificates = [\"pinned.crt\"]",
    );
    let f = Fixture::with_agencies_in(f, "", &agencies);
    let signer = Signer::new(key, cert, None).unwrap();
    let v = verify(&f.engine(), &Tpl::default().sign(&signer)).unwrap();
    assert_eq!(v.consumer().as_str(), "000.00.00.H38");
}

#[test]
fn plain_id_attribute_on_the_body() {
    let f = Fixture::new("");
    let tpl = Tpl {
        body_attrs: r#" Id="B""#.into(),
        ..Default::default()
    };
    let v = verify(&f.engine(), &tpl.sign(&f.signer(CONSUMER))).unwrap();
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn inclusive_namespaces_prefix_list_and_enveloped_transform() {
    // What WSS4J-based clients send.
    let f = Fixture::new("");
    let signer = f.signer(CONSUMER);
    let xml = Tpl::default()
        .render(signer.certificate_base64())
        .replace(
            &format!(r#"<ds:CanonicalizationMethod Algorithm="{EXC}"/>"#),
            &format!(r#"<ds:CanonicalizationMethod Algorithm="{EXC}"><ec:InclusiveNamespaces xmlns:ec="{EXC}" PrefixList="soap"/></ds:CanonicalizationMethod>"#),
        )
        .replace(
            &format!(r#"<ds:Transforms><ds:Transform Algorithm="{EXC}"/></ds:Transforms>"#),
            &format!(r#"<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="{EXC}"><ec:InclusiveNamespaces xmlns:ec="{EXC}" PrefixList="soap wsu"/></ds:Transform></ds:Transforms>"#),
        );
    let signed = signer.sign_template(xml.as_bytes()).unwrap();
    let v = verify(&f.engine(), &signed).unwrap_or_else(|e| panic!("{e:?}\n{}", s(&signed)));
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

fn dev_ca(f: &Fixture) -> (X509, openssl::pkey::PKey<openssl::pkey::Private>) {
    let c = X509::from_pem(&std::fs::read(f.path("pki/ca.crt")).unwrap()).unwrap();
    let k =
        openssl::pkey::PKey::private_key_from_pem(&std::fs::read(f.path("pki/ca.key")).unwrap())
            .unwrap();
    (c, k)
}

#[test]
fn ecdsa_p256_agency_signature() {
    let f = Fixture::new("");
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    let key =
        openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
    let (ca, ca_key) = dev_ca(&f);
    let cert = pki::issue_for(
        &key,
        CONSUMER,
        "EC",
        Some(CONSUMER),
        (&ca, &ca_key),
        pki::LEAF_VALIDITY,
    )
    .unwrap();
    let signer = Signer::new(key, cert, None).unwrap();
    let signed = signer
        .sign(
            &request(lienthong::model::SoapVersion::V11, PAYLOAD),
            &Default::default(),
            chrono::Duration::seconds(300),
        )
        .unwrap();
    assert!(s(&signed).contains("ecdsa-sha256"));
    let v = verify(&f.engine(), &signed).unwrap();
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn short_rsa_key_is_refused() {
    let f = Fixture::new("");
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(1024).unwrap()).unwrap();
    let (ca, ca_key) = dev_ca(&f);
    let cert = pki::issue_for(
        &key,
        CONSUMER,
        "Weak",
        Some(CONSUMER),
        (&ca, &ca_key),
        pki::LEAF_VALIDITY,
    )
    .unwrap();
    let signed = Tpl::default().sign(&Signer::new(key, cert, None).unwrap());
    let r = verify(&f.engine(), &signed);
    assert!(matches!(r, Err(WssError::InvalidSecurityToken(_))), "{r:?}");
}

/// Revokes the consumer's certificate with the `openssl ca` tool and returns the CRL path.
fn revoke(f: &Fixture, revoke_consumer: bool) -> std::path::PathBuf {
    let dir = f.path("ca-db");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 1\n",
    )
    .unwrap();
    let ca = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(&dir)
            .args(["ca", "-config", "ca.cnf", "-keyfile"])
            .arg(f.path("pki/ca.key"))
            .arg("-cert")
            .arg(f.path("pki/ca.crt"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if revoke_consumer {
        ca(&[
            "-revoke",
            pki::agency_cert(f.data(), CONSUMER).to_str().unwrap(),
        ]);
    }
    ca(&["-gencrl", "-out", "crl.pem"]);
    dir.join("crl.pem")
}

#[test]
fn revoked_certificate_is_refused_and_others_pass_with_crls() {
    let f = Fixture::new("");
    let crl = revoke(&f, true);
    let f = Fixture::with_agencies_in(
        f,
        &format!("crls = [\"{}\"]", crl.display()),
        agencies_toml(),
    );
    let engine = f.engine();
    let r = verify(&engine, &signed_request(&f, CONSUMER));
    assert!(
        matches!(&r, Err(WssError::FailedAuthentication(m)) if m.contains("revoked")),
        "{r:?}"
    );
    let v = verify(&engine, &signed_request(&f, PROVIDER)).unwrap();
    assert_eq!(v.consumer().as_str(), PROVIDER);
}

const WSA: &str = "http://www.w3.org/2005/08/addressing";

fn with_message_id(signed_refs: &[&str]) -> Tpl {
    Tpl {
        extra_headers: format!(
            r#"<wsa:MessageID xmlns:wsa="{WSA}" xmlns:wsu="{WSU}" wsu:Id="M">urn:uuid:6c1f0e52-1b7e-4a37-9a52-4c2b9d0e8f11</wsa:MessageID>"#
        ),
        refs: signed_refs.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn headers_listed_by_the_policy_must_be_present_and_signed() {
    let f = Fixture::new("");
    let engine = f.engine();
    let policy = lienthong::wssec::ServicePolicy {
        signed_headers: vec![format!("{{{WSA}}}MessageID")],
        ..Default::default()
    };
    let check = |bytes: &[u8]| {
        let env = parse(bytes, lienthong::model::SoapVersion::V11);
        engine.verify(&policy, &env)
    };
    let signer = f.signer(CONSUMER);
    assert!(check(&with_message_id(&["B", "TS", "M"]).sign(&signer)).is_ok());
    let r = check(&with_message_id(&["B", "TS"]).sign(&signer));
    assert!(
        matches!(&r, Err(WssError::FailedCheck(m)) if m.contains("MessageID")),
        "{r:?}"
    );
    let r = check(&Tpl::default().sign(&signer));
    assert!(
        matches!(&r, Err(WssError::FailedCheck(m)) if m.contains("required")),
        "{r:?}"
    );
}

#[test]
fn dangerous_accept_unsigned_takes_the_claimed_consumer_but_still_checks_signatures() {
    let f = Fixture::new("");
    let engine = f.engine();
    let policy = lienthong::wssec::ServicePolicy {
        dangerous_accept_unsigned: true,
        ..Default::default()
    };
    let claimed = lienthong::model::AgencyCode::parse(PROVIDER).unwrap();
    let plain = request(lienthong::model::SoapVersion::V11, PAYLOAD);
    let env = parse(&plain, lienthong::model::SoapVersion::V11);
    let v = engine.caller(&policy, &env, Some(&claimed)).unwrap();
    assert_eq!(v.consumer().as_str(), PROVIDER);
    assert!(matches!(v, Caller::Declared(_)), "{v:?}");
    let r = engine.caller(&policy, &env, None);
    assert!(matches!(r, Err(WssError::InvalidSecurity(_))), "{r:?}");
    // A signed request is verified, and its certificate, not the claim, names the consumer.
    let signed = signed_request(&f, CONSUMER);
    let env = parse(&signed, lienthong::model::SoapVersion::V11);
    let v = engine.caller(&policy, &env, Some(&claimed)).unwrap();
    assert_eq!(v.consumer().as_str(), CONSUMER);
    assert!(matches!(v, Caller::Verified(_)), "{v:?}");
    let tampered = s(&signed).replace("Nguyễn", "Lê");
    let env = parse(tampered.as_bytes(), lienthong::model::SoapVersion::V11);
    assert!(matches!(
        engine.caller(&policy, &env, Some(&claimed)),
        Err(e) if matches!(e.kind(), WssError::FailedCheck(_))
    ));
}
