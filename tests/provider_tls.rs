//! TLS from the gateway to provider agencies, end to end through the real binary: example
//! providers serving HTTPS with a certificate from a test CA generated here, a gateway that
//! trusts that CA through `[gateway] provider_ca`, and one that does not.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::testpki::{ca, issue};
use common::*;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod};

const CONSUMER: &str = "000.00.00.H38";

/// Test PKI in `dir`: `ca.pem` (the agencies' CA, written for `provider_ca`), the
/// provider's `provider.pem`/`provider.key` for IP 127.0.0.1, and the gateway's client
/// certificate `gateway.pem`/`gateway.key` for mutual TLS, both issued by the CA.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn make_pki(dir: &Path) -> Pki {
    let (ca, ca_key) = ca("lienthong test provider CA");
    let (server, server_key) = issue(&ca, &ca_key, "provider 000.00.12.H38", true);
    let (client, client_key) = issue(&ca, &ca_key, "lienthong gateway", false);

    let pki = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("provider.pem"),
        key: dir.join("provider.key"),
        client_cert: dir.join("gateway.pem"),
        client_key: dir.join("gateway.key"),
    };
    std::fs::write(&pki.ca, ca.to_pem().unwrap()).unwrap();
    std::fs::write(&pki.cert, server.to_pem().unwrap()).unwrap();
    std::fs::write(&pki.key, server_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    std::fs::write(&pki.client_cert, client.to_pem().unwrap()).unwrap();
    let pem = client_key.private_key_to_pem_pkcs8().unwrap();
    std::fs::write(&pki.client_key, pem).unwrap();
    pki
}

/// Example providers over HTTPS in their own process; requiring client certificates from
/// the test CA when `mutual`.
fn start_https_providers(dir: &Path, pki: &Pki, mutual: bool) -> Proc {
    let mut args = vec![
        "provider",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        pki.cert.to_str().unwrap(),
        "--tls-key",
        pki.key.to_str().unwrap(),
    ];
    if mutual {
        args.extend(["--tls-client-ca", pki.ca.to_str().unwrap()]);
    }
    spawn(&args, "example providers on https://", dir, &[])
}

/// A GET over TLS that verifies the provider against the test CA (and its IP SAN), and
/// presents the gateway's client certificate (which providers without mTLS ignore).
fn https_get(addr: SocketAddr, path: &str, pki: &Pki) -> HttpResponse {
    let mut c = SslConnector::builder(SslMethod::tls_client()).unwrap();
    c.set_ca_file(&pki.ca).unwrap();
    c.set_certificate_chain_file(&pki.client_cert).unwrap();
    c.set_private_key_file(&pki.client_key, SslFiletype::PEM)
        .unwrap();
    let c = c.build();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut s = c.connect(&addr.ip().to_string(), tcp).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    read_response(&mut s)
}

fn provider_calls(gw: &Gateway, pki: &Pki) -> u64 {
    let r = https_get(gw.providers.addr, "/_received", pki);
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["count"].as_u64().unwrap()
}

/// Points every service at the HTTPS providers and applies the rest of the edit.
fn https_endpoints(doc: &mut toml::Table) {
    unsigned(doc);
    for s in doc["services"].as_array_mut().unwrap() {
        let t = s.as_table_mut().unwrap();
        let ep = t["endpoint"]
            .as_str()
            .unwrap()
            .replace("http://", "https://");
        t.insert("endpoint".into(), ep.into());
    }
}

/// Sets `[gateway] KEY = VALUE`.
fn gateway_key(doc: &mut toml::Table, key: &str, value: toml::Value) {
    doc.entry("gateway")
        .or_insert_with(|| toml::Value::Table(Default::default()))
        .as_table_mut()
        .unwrap()
        .insert(key.into(), value);
}

fn path_value(p: &Path) -> toml::Value {
    p.display().to_string().into()
}

/// The `fault_reason` of the failed exchange that answered `r`, from the audit export.
fn failure_reason(gw: &Gateway, r: &HttpResponse) -> String {
    let id = r.header("x-lienthong-exchange-id").unwrap().to_string();
    let out = gw.cli(&["audit", "export", "--format", "jsonl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["id"] == id.as_str())
        .expect("audit record of the exchange");
    assert_eq!(rec["outcome"], "failed", "{rec}");
    rec["fault_reason"].as_str().unwrap_or_default().to_string()
}

fn call_ho_tich(gw: &Gateway) -> HttpResponse {
    post_unsigned11(
        gw.gateway.addr,
        "ho-tich",
        CONSUMER,
        envelope11(&example("ho-tich-TraCuuKhaiSinh")).as_bytes(),
    )
}

#[test]
fn provider_over_tls_trusted_through_provider_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let providers = start_https_providers(dir.path(), &pki, false);
    let ca = path_value(&pki.ca);
    let gw = Gateway::start_on(dir, providers, &[], |doc| {
        https_endpoints(doc);
        gateway_key(doc, "provider_ca", toml::Value::Array(vec![ca]));
    });
    assert_eq!(provider_calls(&gw, &pki), 0);
    let r = call_ho_tich(&gw);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("TraCuuKhaiSinhResponse"), "{}", r.text());
    assert_eq!(provider_calls(&gw, &pki), 1);
    // A second call (pooled connection or a new handshake) works as well.
    let r = call_ho_tich(&gw);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(provider_calls(&gw, &pki), 2);
}

#[test]
fn provider_with_an_untrusted_certificate_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let providers = start_https_providers(dir.path(), &pki, false);
    let gw = Gateway::start_on(dir, providers, &[], https_endpoints);
    let r = call_ho_tich(&gw);
    let t = r.text();
    assert_eq!(r.status, 502, "{t}");
    assert!(
        t.contains("<faultcode>soap:Server</faultcode>")
            && t.contains("<lt:Code>lt:ProviderUnavailable</lt:Code>"),
        "{t}"
    );
    // The handshake failed: nothing reached the provider's service.
    assert_eq!(provider_calls(&gw, &pki), 0);
    // The audit record says why (certificate verification), for the operator.
    let reason = failure_reason(&gw, &r);
    assert!(reason.contains("certificate verify failed"), "{reason}");
}

/// Starts a gateway trusting the test CA, in front of providers that require mutual TLS;
/// with the gateway's client certificate configured when `client`.
fn mutual_tls_gateway(client: bool) -> (Gateway, Pki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let providers = start_https_providers(dir.path(), &pki, true);
    let (ca, cert, key) = (
        path_value(&pki.ca),
        path_value(&pki.client_cert),
        path_value(&pki.client_key),
    );
    let gw = Gateway::start_on(dir, providers, &[], |doc| {
        https_endpoints(doc);
        gateway_key(doc, "provider_ca", toml::Value::Array(vec![ca]));
        if client {
            gateway_key(doc, "provider_client_cert", cert);
            gateway_key(doc, "provider_client_key", key);
        }
    });
    (gw, pki)
}

#[test]
fn mutual_tls_presents_the_configured_client_certificate() {
    let (gw, pki) = mutual_tls_gateway(true);
    let r = call_ho_tich(&gw);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("TraCuuKhaiSinhResponse"), "{}", r.text());
    assert_eq!(provider_calls(&gw, &pki), 1);
}

#[test]
fn mutual_tls_without_a_client_certificate_is_unavailable() {
    let (gw, pki) = mutual_tls_gateway(false);
    let r = call_ho_tich(&gw);
    let t = r.text();
    assert_eq!(r.status, 502, "{t}");
    assert!(
        t.contains("<faultcode>soap:Server</faultcode>")
            && t.contains("<lt:Code>lt:ProviderUnavailable</lt:Code>"),
        "{t}"
    );
    assert_eq!(provider_calls(&gw, &pki), 0);
}

#[test]
fn provider_certificate_for_another_host_is_refused() {
    // Trusted CA, but the endpoint names `localhost` and the certificate only 127.0.0.1:
    // host name verification (RFC 6125) refuses it.
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let providers = start_https_providers(dir.path(), &pki, false);
    let ca = path_value(&pki.ca);
    let gw = Gateway::start_on(dir, providers, &[], |doc| {
        https_endpoints(doc);
        for s in doc["services"].as_array_mut().unwrap() {
            let t = s.as_table_mut().unwrap();
            let ep = t["endpoint"]
                .as_str()
                .unwrap()
                .replace("://127.0.0.1:", "://localhost:");
            t.insert("endpoint".into(), ep.into());
        }
        gateway_key(doc, "provider_ca", toml::Value::Array(vec![ca]));
    });
    let r = call_ho_tich(&gw);
    let t = r.text();
    assert_eq!(r.status, 502, "{t}");
    assert!(
        t.contains("<faultcode>soap:Server</faultcode>")
            && t.contains("<lt:Code>lt:ProviderUnavailable</lt:Code>"),
        "{t}"
    );
    assert_eq!(provider_calls(&gw, &pki), 0);
    let reason = failure_reason(&gw, &r);
    assert!(reason.contains("certificate verify failed"), "{reason}");
}
