//! Third-party checks: the `xmlsec1` command-line tool and Python zeep (python-xmlsec)
//! verify what the gateway signs, and the Engine verifies what zeep signs.

mod wssec_util;

use std::process::Command;

use lienthong::model::SoapVersion;
use wssec_util::*;

/// `xmlsec1 --verify` with the gateway's certificate, `wsu:Id` declared as ID attribute of
/// Body and Timestamp, and only same-document references enabled.
fn xmlsec1_verify(
    file: &std::path::Path,
    cert: &std::path::Path,
    version: SoapVersion,
) -> std::process::Output {
    let env_ns = match version {
        SoapVersion::V11 => S11,
        SoapVersion::V12 => "http://www.w3.org/2003/05/soap-envelope",
    };
    Command::new("xmlsec1")
        .arg("--verify")
        .arg("--enabled-reference-uris")
        .arg("same-doc")
        .arg("--id-attr:Id")
        .arg(format!("{env_ns}:Body"))
        .arg("--id-attr:Id")
        .arg(format!("{WSU}:Timestamp"))
        .arg("--pubkey-cert-pem")
        .arg(cert)
        .arg(file)
        .output()
        .expect("xmlsec1 is installed")
}

#[test]
fn xmlsec1_cli_verifies_the_gateways_signatures() {
    let f = Fixture::new("");
    let engine = f.engine();
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let signed = engine.sign(request(version, PAYLOAD)).unwrap();
        let file = f.path(&format!("signed-{}.xml", version.label()));
        std::fs::write(&file, &signed).unwrap();
        let out = xmlsec1_verify(&file, &f.path("pki/gateway.crt"), version);
        assert!(
            out.status.success(),
            "xmlsec1 refused: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            s(&signed)
        );
        // And it notices a change.
        let tampered = s(&signed).replace("Nguyễn", "Nguyen");
        std::fs::write(&file, tampered).unwrap();
        let out = xmlsec1_verify(&file, &f.path("pki/gateway.crt"), version);
        assert!(!out.status.success());
    }
}

fn python(script: &str, args: &[&std::path::Path]) -> std::process::Output {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    Command::new("python3")
        .arg(path)
        .args(args)
        .output()
        .expect("python3 with zeep is installed")
}

#[test]
fn engine_verifies_a_zeep_binary_signature() {
    let f = Fixture::new("");
    let payload = f.path("payload.xml");
    std::fs::write(&payload, PAYLOAD).unwrap();
    let out_file = f.path("zeep-signed.xml");
    let key = lienthong::wssec::pki::agency_key(f.data(), CONSUMER);
    let cert = lienthong::wssec::pki::agency_cert(f.data(), CONSUMER);
    let out = python("zeep_sign.py", &[&key, &cert, &payload, &out_file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed = std::fs::read(&out_file).unwrap();
    let v = verify(&f.engine(), &signed).unwrap_or_else(|e| panic!("{e:?}\n{}", s(&signed)));
    assert_eq!(v.consumer().as_str(), CONSUMER);
}

#[test]
fn zeep_verifies_the_gateways_signed_answer() {
    let f = Fixture::new("");
    let engine = f.engine();
    let signed = engine.sign(request(SoapVersion::V11, PAYLOAD)).unwrap();
    let file = f.path("answer.xml");
    std::fs::write(&file, &signed).unwrap();
    let out = python("zeep_verify.py", &[&file, &f.path("pki/gateway.crt")]);
    assert!(
        out.status.success(),
        "zeep refused: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        s(&signed)
    );
    std::fs::write(&file, s(&signed).replace("Nguyễn", "Nguyen")).unwrap();
    let out = python("zeep_verify.py", &[&file, &f.path("pki/gateway.crt")]);
    assert!(!out.status.success());
}
