//! Sign -> verify round trips through the real libxmlsec1 and OpenSSL.

mod wssec_util;

use lienthong::model::SoapVersion;
use lienthong::wssec::Expect;
use wssec_util::*;

#[test]
fn agency_signed_request_verifies_and_names_the_agency() {
    let f = Fixture::new("");
    let engine = f.engine();
    let signed = signed_request(&f, CONSUMER);
    let v = verify(&engine, &signed).unwrap_or_else(|e| panic!("{e:?}\n{}", s(&signed)));
    assert_eq!(v.consumer.as_str(), CONSUMER);
    assert_eq!(v.certificate.as_deref().map(str::len), Some(64));
    assert!(v.replay.is_some());
}

#[test]
fn gateway_signed_answers_verify_in_both_soap_versions() {
    let f = Fixture::new("");
    let engine = f.engine();
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let signed = engine.sign(request(version, PAYLOAD)).unwrap();
        let env = parse(&signed, version);
        let who = engine
            .verify_answer(&env, Expect::Certificate(engine.certificate()))
            .unwrap_or_else(|e| panic!("{e:?}\n{}", s(&signed)));
        assert!(who.subject.contains("lienthong gateway"), "{}", who.subject);
    }
}
