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
    assert_eq!(v.consumer().as_str(), CONSUMER);
    assert_eq!(v.certificate().len(), 64);
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

#[test]
fn shipped_configuration_security_section_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/gateway.toml");
    let c = lienthong::config::Config::load(&path).unwrap();
    assert_eq!(c.security.clock_skew_secs, 300);
    assert_eq!(c.security.replay, "memory");
}

#[test]
fn engine_load_reports_a_missing_key_and_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let c = Fixture::config_in(
        dir.path(),
        "replay = \"mongodb://x\"\n[security.algorithms]\nsignature = [\"hmac-sha256\"]",
    );
    let err = lienthong::wssec::Engine::load(&c, dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("pki init"), "{err}");
    assert!(err.contains("hmac-sha256"), "{err}");
    assert!(err.contains("mongodb"), "{err}");
}

#[test]
fn encrypted_gateway_key_with_a_passphrase_from_the_environment() {
    let f = Fixture::new("");
    let key = openssl::pkey::PKey::private_key_from_pem(
        &std::fs::read(f.path("pki/gateway.key")).unwrap(),
    )
    .unwrap();
    let pem = key
        .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_256_cbc(), b"s3cret")
        .unwrap();
    std::fs::write(f.path("pki/gateway-enc.key"), pem).unwrap();
    std::env::set_var("LT_TEST_KEY_PASS", "s3cret");
    let c = Fixture::config_in(
        f.data(),
        "key = \"pki/gateway-enc.key\"\ncertificate = \"pki/gateway.crt\"\nkey_passphrase_env = \"LT_TEST_KEY_PASS\"",
    );
    let engine = lienthong::wssec::Engine::load(&c, f.data()).unwrap();
    let signed = engine.sign(request(SoapVersion::V11, PAYLOAD)).unwrap();
    let env = parse(&signed, SoapVersion::V11);
    engine
        .verify_answer(&env, Expect::Certificate(engine.certificate()))
        .unwrap();
    // Without the variable, start-up names it.
    let c = Fixture::config_in(
        f.data(),
        "key = \"pki/gateway-enc.key\"\ncertificate = \"pki/gateway.crt\"\nkey_passphrase_env = \"LT_TEST_KEY_PASS_UNSET\"",
    );
    let err = lienthong::wssec::Engine::load(&c, f.data())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("LT_TEST_KEY_PASS_UNSET"), "{err}");
}

#[test]
fn faults_are_signed_too() {
    let f = Fixture::new("");
    let engine = f.engine();
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let fault =
            lienthong::pipeline::fault_map::security(&lienthong::wssec::WssError::MessageExpired(
                "the message has expired (wsu:Expires)".into(),
            ));
        let signed = engine.sign(fault.render(version, "exchange-1")).unwrap();
        let env = parse(&signed, version);
        assert!(env.is_fault());
        engine
            .verify_answer(&env, Expect::Certificate(engine.certificate()))
            .unwrap_or_else(|e| panic!("{e:?}\n{}", s(&signed)));
    }
}

#[test]
fn one_engine_serves_several_threads() {
    let f = Fixture::new("");
    let engine = std::sync::Arc::new(f.engine());
    let signed: Vec<Vec<u8>> = (0..8).map(|_| signed_request(&f, CONSUMER)).collect();
    let signed = std::sync::Arc::new(signed);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (engine, signed) = (engine.clone(), signed.clone());
            std::thread::spawn(move || {
                for i in 0..10 {
                    let v = verify(&engine, &signed[(t + i) % signed.len()]).unwrap();
                    assert_eq!(v.consumer().as_str(), CONSUMER);
                    engine.sign(request(SoapVersion::V11, PAYLOAD)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
