//! `forward_consumer_security`: the consumer's own Security header travels on to the
//! provider (re-addressed to the `urn:lienthong:consumer` actor) next to the gateway's,
//! with the Body's `wsu:Id` kept, so the provider can check both signatures.

mod wssec_util;

use std::process::Command;

use lienthong::model::SoapVersion;
use lienthong::soap::envelope;
use lienthong::wssec::{consumer_security_for_provider, Expect, SignOptions};
use lienthong::xml::ns;
use wssec_util::*;

fn xmlsec1(file: &std::path::Path, cert: &std::path::Path, xpath: &str) -> std::process::Output {
    Command::new("xmlsec1")
        .args(["--verify", "--enabled-reference-uris", "same-doc"])
        .arg("--id-attr:Id")
        .arg(format!("{S11}:Body"))
        .arg("--id-attr:Id")
        .arg(format!("{WSU}:Timestamp"))
        .arg("--id-attr:Id")
        .arg("urn:lienthong:gateway:1:Exchange")
        .arg("--node-xpath")
        .arg(xpath)
        .arg("--pubkey-cert-pem")
        .arg(cert)
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn provider_can_check_both_the_consumers_and_the_gateways_signature() {
    let f = Fixture::new("");
    let engine = f.engine();
    let signed = signed_request(&f, CONSUMER);
    let env = parse(&signed, SoapVersion::V11);
    let verified = engine.verify(&Default::default(), &env).unwrap();

    // What the pipeline does for a service with forward_consumer_security = true.
    let consumer_header = env
        .headers
        .iter()
        .find(|h| h.span.name.is(ns::WSSE, "Security"))
        .and_then(|h| consumer_security_for_provider(&env, h))
        .unwrap();
    let exchange = format!(
        r#"<lt:Exchange xmlns:lt="{}"><lt:Consumer>{CONSUMER}</lt:Consumer></lt:Exchange>"#,
        ns::LIENTHONG
    );
    let outbound = envelope::build(
        SoapVersion::V11,
        &[consumer_header, exchange.into_bytes()],
        &env.payload_document(),
    );
    let forwarded = engine
        .sign_with(
            &outbound,
            &SignOptions {
                body_id: Some(verified.body_id().to_string()),
            },
        )
        .unwrap();
    let text = s(&forwarded);
    assert!(text.contains("urn:lienthong:consumer"), "{text}");

    // The gateway's signature, as a provider running lienthong's verifier sees it.
    let fwd_env = parse(&forwarded, SoapVersion::V11);
    engine
        .verify_answer(&fwd_env, Expect::Certificate(engine.certificate()))
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));

    // Both signatures, checked by the xmlsec1 tool.
    let file = f.path("forwarded.xml");
    std::fs::write(&file, &forwarded).unwrap();
    let gateway_sig = "//*[local-name()='Security' and not(@*[local-name()='actor'])]/*[local-name()='Signature']";
    let consumer_sig =
        "//*[local-name()='Security' and @*[local-name()='actor']]/*[local-name()='Signature']";
    let out = xmlsec1(&file, &f.path("pki/gateway.crt"), gateway_sig);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = xmlsec1(
        &file,
        &lienthong::wssec::pki::agency_cert(f.data(), CONSUMER),
        consumer_sig,
    );
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}
