//! The auditor's API over HTTPS with client certificates, end to end through the real
//! binary: `lienthong serve` with `[audit] api_tls_cert/api_tls_key/api_client_ca` and one
//! auditor identified by certificate fingerprint, another by bearer token; certificates from
//! a test CA generated here.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::testpki::{ca, issue, write_pair};
use common::*;
use openssl::hash::MessageDigest;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod};

const TOKEN: &str = "lta_test-token-for-the-tls-listener";

struct Pki {
    dir: PathBuf,
    /// Fingerprint of the listed auditor's certificate, colon-separated as openssl prints it.
    listed_sha256: String,
}

fn make_pki(dir: &Path) -> Pki {
    let (server_ca, server_ca_key) = ca("lienthong test server CA");
    let (client_ca, client_ca_key) = ca("lienthong test auditors CA");
    let (rogue_ca, rogue_ca_key) = ca("someone else's CA");
    std::fs::write(dir.join("server-ca.pem"), server_ca.to_pem().unwrap()).unwrap();
    std::fs::write(dir.join("auditors-ca.pem"), client_ca.to_pem().unwrap()).unwrap();
    write_pair(
        dir,
        "server",
        &issue(&server_ca, &server_ca_key, "auditor listener", true),
    );
    let listed = issue(&client_ca, &client_ca_key, "kiem-toan", false);
    write_pair(dir, "listed", &listed);
    write_pair(
        dir,
        "unlisted",
        &issue(&client_ca, &client_ca_key, "stranger", false),
    );
    write_pair(
        dir,
        "rogue",
        &issue(&rogue_ca, &rogue_ca_key, "kiem-toan", false),
    );
    let listed_sha256 = listed
        .0
        .digest(MessageDigest::sha256())
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    Pki {
        dir: dir.to_path_buf(),
        listed_sha256,
    }
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// GET over HTTPS, presenting the client certificate `client` (a name in the PKI dir) if
/// any; Err when the handshake fails.
fn https_get(
    addr: SocketAddr,
    path: &str,
    pki: &Pki,
    client: Option<&str>,
    token: Option<&str>,
) -> Result<HttpResponse, String> {
    let mut c = SslConnector::builder(SslMethod::tls_client()).unwrap();
    c.set_ca_file(pki.dir.join("server-ca.pem")).unwrap();
    if let Some(name) = client {
        c.set_certificate_chain_file(pki.dir.join(format!("{name}.pem")))
            .unwrap();
        c.set_private_key_file(pki.dir.join(format!("{name}.key")), SslFiletype::PEM)
            .unwrap();
    }
    let c = c.build();
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut s = c
        .connect(&addr.ip().to_string(), tcp)
        .map_err(|e| e.to_string())?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    // TLS 1.3: a refused client certificate is reported after the client's Finished, on
    // the first read; an empty answer is a refused handshake.
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut s, &mut raw).map_err(|e| e.to_string())?;
    if raw.is_empty() {
        return Err("connection closed without an answer".into());
    }
    Ok(read_response(&mut raw.as_slice()))
}

fn sha256_hex(s: &str) -> String {
    openssl::sha::sha256(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn listed_certificate_or_token_over_https_and_nobody_else() {
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = make_pki(pki_dir.path());
    let api = free_port();
    let dir = pki.dir.clone();
    let fingerprint = pki.listed_sha256.clone();
    let gw = Gateway::start(move |doc| {
        let audit = doc
            .entry("audit")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap();
        let path = |n: &str| toml::Value::String(dir.join(n).display().to_string());
        audit.insert("api_listen".into(), toml::Value::String(api.to_string()));
        audit.insert("api_tls_cert".into(), path("server.pem"));
        audit.insert("api_tls_key".into(), path("server.key"));
        audit.insert("api_client_ca".into(), path("auditors-ca.pem"));
        let auditors: toml::Value = toml::from_str::<toml::Table>(&format!(
            r#"auditors = [
                {{ name = "kiem-toan", certificate_sha256 = "{fingerprint}" }},
                {{ name = "thanh-tra", token_sha256 = "{}" }},
            ]"#,
            sha256_hex(TOKEN)
        ))
        .unwrap()
        .remove("auditors")
        .unwrap();
        audit.insert("auditors".into(), auditors);
    });
    assert!(
        wait_for(Duration::from_secs(30), || TcpStream::connect(api).is_ok()),
        "auditor listener up: {}",
        gw.gateway.log_text()
    );

    let check = gw.cli(&["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // `check` loads the listener's TLS files as `serve` does: a missing key is reported.
    std::fs::rename(pki.dir.join("server.key"), pki.dir.join("moved.key")).unwrap();
    let check = gw.cli(&["check"]);
    std::fs::rename(pki.dir.join("moved.key"), pki.dir.join("server.key")).unwrap();
    assert!(!check.status.success());
    assert!(String::from_utf8_lossy(&check.stderr).contains("server.key"));

    // The listed certificate alone: in, and known by its name.
    let r = https_get(api, "/audit/api/exchanges", &pki, Some("listed"), None).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(v["items"].is_array(), "{v}");
    let r = https_get(api, "/audit/api/whoami", &pki, Some("listed"), None).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().contains("kiem-toan"), "{}", r.text());

    // A certificate from the configured CA that nobody listed: refused, JSON error.
    let r = https_get(api, "/audit/api/exchanges", &pki, Some("unlisted"), None).unwrap();
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("content-type").unwrap().contains("json"));
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["error"].is_string());

    // Neither certificate nor token: refused.
    let r = https_get(api, "/audit/api/exchanges", &pki, None, None).unwrap();
    assert_eq!(r.status, 401);
    let r = https_get(api, "/audit/api/exchanges", &pki, None, Some("wrong")).unwrap();
    assert_eq!(r.status, 401);

    // The bearer token over the same listener, with or without a certificate.
    let r = https_get(api, "/audit/api/exchanges", &pki, None, Some(TOKEN)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let r = https_get(
        api,
        "/audit/api/whoami",
        &pki,
        Some("unlisted"),
        Some(TOKEN),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().contains("thanh-tra"), "{}", r.text());

    // Same subject as the listed auditor, other CA: the handshake itself fails.
    assert!(https_get(api, "/audit/api/exchanges", &pki, Some("rogue"), None).is_err());

    // Plain HTTP on the HTTPS listener gets no records.
    let mut plain = TcpStream::connect(api).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The listener may already have dropped the connection (reset): that too is "nothing".
    let _ = write!(
        plain,
        "GET /audit/api/exchanges HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Connection: close\r\n\r\n"
    );
    let mut raw = Vec::new();
    let _ = std::io::Read::read_to_end(&mut plain, &mut raw);
    assert!(
        !raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
}
