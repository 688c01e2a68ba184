//! `lienthong call` and `lienthong wss`, run as the real binary. The far end is a
//! stand-in for the gateway's HTTP layer built on the same `Engine` (the full pipeline is
//! tested end to end elsewhere): it verifies the signed request, refuses replays, and
//! answers with a gateway-signed envelope, a signed fault, or an unsigned answer.

mod wssec_util;

use std::convert::Infallible;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lienthong::model::SoapVersion;
use lienthong::pipeline::fault_map;
use lienthong::soap::fault::Fault;
use lienthong::wssec::Engine;
use wssec_util::*;

#[derive(Clone, Copy)]
enum Mode {
    Signed,
    Unsigned,
}

const ANSWER: &str = r#"<ht:TraCuuKhaiSinhResponse xmlns:ht="urn:lienthong:example:ho-tich:1"><ht:KetQua>Đã tìm thấy</ht:KetQua></ht:TraCuuKhaiSinhResponse>"#;

async fn answer(engine: Arc<Engine>, mode: Mode, body: Bytes) -> hyper::Response<Full<Bytes>> {
    let env =
        lienthong::soap::envelope::parse(body, SoapVersion::V11, &Default::default()).unwrap();
    let verified = engine.verify(&Default::default(), &env);
    let outcome = match verified {
        Ok(v) => engine.check_replay(v.replay()).await.map(|_| v),
        Err(e) => Err(e),
    };
    let (status, envelope) = match outcome {
        Ok(v) => {
            assert_eq!(v.consumer().as_str(), CONSUMER);
            (200, request(SoapVersion::V11, ANSWER))
        }
        Err(e) => {
            let f: Fault = fault_map::security(&e);
            (500, f.render(SoapVersion::V11, "test"))
        }
    };
    let bytes = match mode {
        Mode::Signed => engine.sign(envelope).unwrap(),
        Mode::Unsigned => envelope,
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", "text/xml; charset=utf-8")
        .body(Full::new(Bytes::from(bytes)))
        .unwrap()
}

/// Serves on a free port in a background thread; returns the base URL.
fn stand_in(engine: Arc<Engine>, mode: Mode) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let engine = engine.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let engine = engine.clone();
                        async move {
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            Ok::<_, Infallible>(answer(engine, mode, body).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
    });
    format!("http://{addr}")
}

fn lienthong(f: &Fixture, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .arg("--config")
        .arg(f.path("gateway.toml"))
        .arg("--data-dir")
        .arg(f.data())
        .args(args)
        .output()
        .unwrap()
}

fn payload_file(f: &Fixture) -> String {
    let p = f.path("TraCuuKhaiSinh.xml");
    std::fs::write(&p, PAYLOAD).unwrap();
    p.display().to_string()
}

#[test]
fn call_signs_sends_and_verifies_the_signed_answer() {
    let f = Fixture::new("");
    let url = stand_in(Arc::new(f.engine()), Mode::Signed);
    let file = payload_file(&f);
    let args = [
        "call",
        "--url",
        &url,
        "--service",
        "ho-tich",
        "--operation",
        "TraCuuKhaiSinh",
        "--as",
        CONSUMER,
        &file,
    ];
    let out = lienthong(&f, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Đã tìm thấy"), "{stdout}");
    assert!(stderr.contains("signed by the gateway"), "{stderr}");
}

#[test]
fn call_exits_non_zero_on_a_fault_and_on_an_unsigned_answer() {
    let f = Fixture::new("");
    let file = payload_file(&f);
    // A caller the stand-in refuses (its certificate names no agency of the gateway):
    // a signed wsse fault, exit status 1.
    let url = stand_in(Arc::new(f.engine()), Mode::Signed);
    let args = [
        "call",
        "--url",
        &url,
        "--service",
        "ho-tich",
        "--operation",
        "TraCuuKhaiSinh",
        "--as",
        "000.00.13.H38",
        &file,
    ];
    std::fs::create_dir_all(f.path("pki/agencies")).unwrap();
    let stray = lienthong::wssec::pki::issue_leaf(
        "000.00.13.H38",
        "Not configured",
        None,
        (
            &openssl::x509::X509::from_pem(&std::fs::read(f.path("pki/ca.crt")).unwrap()).unwrap(),
            &openssl::pkey::PKey::private_key_from_pem(
                &std::fs::read(f.path("pki/ca.key")).unwrap(),
            )
            .unwrap(),
        ),
        lienthong::wssec::pki::LEAF_VALIDITY,
    )
    .unwrap();
    std::fs::write(
        f.path("pki/agencies/000.00.13.H38.crt"),
        stray.0.to_pem().unwrap(),
    )
    .unwrap();
    std::fs::write(
        f.path("pki/agencies/000.00.13.H38.key"),
        stray.1.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    let out = lienthong(&f, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("wsse:FailedAuthentication"), "{stdout}");

    // An answer without the gateway's signature: exit status 3.
    let url = stand_in(Arc::new(f.engine()), Mode::Unsigned);
    let args = [
        "call",
        "--url",
        &url,
        "--service",
        "ho-tich",
        "--operation",
        "TraCuuKhaiSinh",
        "--as",
        CONSUMER,
        &file,
    ];
    let out = lienthong(&f, &args);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn wss_sign_then_verify_offline() {
    let f = Fixture::new("");
    let file = f.path("req.xml");
    std::fs::write(&file, request(SoapVersion::V12, PAYLOAD)).unwrap();
    let file = file.display().to_string();
    let out = lienthong(&f, &["wss", "sign", "--as", CONSUMER, &file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed = f.path("signed.xml");
    std::fs::write(&signed, &out.stdout).unwrap();
    let signed = signed.display().to_string();
    let out = lienthong(&f, &["wss", "verify", &signed]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(CONSUMER), "{stdout}");
    std::fs::write(
        &signed,
        s(&std::fs::read(&signed).unwrap()).replace("Nguyễn", "Lê"),
    )
    .unwrap();
    let out = lienthong(&f, &["wss", "verify", &signed]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wsse:FailedCheck"));
}

#[test]
fn pki_init_is_idempotent_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        config: Fixture::config_in(dir.path(), ""),
        dir,
    };
    let out = lienthong(&f, &["pki", "init"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DEVELOPMENT"));
    let first = std::fs::read(f.path("pki/gateway.key")).unwrap();
    let out = lienthong(&f, &["pki", "init"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept"));
    assert_eq!(std::fs::read(f.path("pki/gateway.key")).unwrap(), first);
    for code in ["000.00.00.H38", "000.00.12.H38", "000.00.21.H38"] {
        assert!(f.path(&format!("pki/agencies/{code}.crt")).exists());
    }
}

#[test]
fn pki_init_with_p256_keys_signs_and_verifies_with_ecdsa() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        config: Fixture::config_in(dir.path(), ""),
        dir,
    };
    let out = lienthong(&f, &["pki", "init", "--key-type", "p256"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = std::fs::read(f.path("pki/gateway.key")).unwrap();
    let key = openssl::pkey::PKey::private_key_from_pem(&key).unwrap();
    assert_eq!(key.id(), openssl::pkey::Id::EC);

    let file = f.path("req.xml");
    std::fs::write(&file, request(SoapVersion::V11, PAYLOAD)).unwrap();
    let out = lienthong(
        &f,
        &["wss", "sign", "--as", CONSUMER, &file.display().to_string()],
    );
    assert!(out.status.success());
    assert!(
        s(&out.stdout).contains("xmldsig-more#ecdsa-sha256"),
        "{}",
        s(&out.stdout)
    );
    let signed = f.path("signed.xml");
    std::fs::write(&signed, &out.stdout).unwrap();
    let out = lienthong(&f, &["wss", "verify", &signed.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s(&out.stdout).contains(CONSUMER));
}
