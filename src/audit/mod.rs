//! The tamper-evident exchange log: one record per exchange (accepted, rejected or
//! failed), committed before the answer leaves the gateway.
//!
//! Owns the store (diesel over SQLite or PostgreSQL), the hash chain and seals, queries,
//! export, verification and archiving. The pipeline only builds an [`ExchangeRecord`] and
//! calls [`AuditLog::record`]. See `docs/AUDIT.md` for the auditor's view.
//!
//! - [`store`]: the [`AuditLog`] handle and its batching writer thread.
//! - [`backend`]: SQLite / PostgreSQL connections and embedded migrations.
//! - [`schema`], [`row`]: tables and the stored form of a record.
//! - [`chain`]: canonical encoding and the SHA-256 chain; [`seal`]: signed chain heads.
//! - [`daily`]: per-day counts kept beside the records for the chart.
//! - [`query`]: filters and pagination; [`export`]: CSV / JSON Lines.
//! - [`verify`]: recompute and report the first break; [`archive`]: retention.

pub mod archive;
pub mod backend;
pub mod chain;
pub mod daily;
pub mod export;

pub mod postgres;
pub mod pretty;
pub mod query;
pub mod reader;
mod record;
pub mod row;
pub mod schema;
pub mod seal;
pub mod store;
#[cfg(test)]
pub(crate) mod testutil;
pub mod verify;

pub use reader::AuditReader;
pub use record::{ExchangeRecord, Message, Outcome};
pub use seal::SealKey;
pub use store::AuditLog;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit store unavailable: {0}")]
    Unavailable(String),
    #[error("audit store error: {0}")]
    Store(String),
    #[error("audit seal key: {0}")]
    Key(String),
}

/// What of each message the store keeps.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MessagePolicy {
    /// The messages themselves, as received and as sent.
    #[default]
    Full,
    /// Only their SHA-256 and size.
    HashOnly,
}

/// `[audit]` in `gateway.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// `sqlite://PATH`, a plain path, or `postgres://...`. Default: `DATA_DIR/audit.db`.
    pub database: Option<String>,
    pub messages: MessagePolicy,
    /// Largest message stored whole; larger ones are stored truncated, hash kept in full.
    pub max_stored_message_bytes: usize,
    /// Seal the chain head after this many records...
    pub seal_every_records: u64,
    /// ...or after this many seconds with unsealed records, whichever comes first.
    pub seal_every_seconds: u64,
    /// Most records committed in one transaction.
    pub batch_max: usize,
    /// true (default): a record is on stable storage before its exchange is answered
    /// (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`), so even a power cut
    /// loses no answered exchange. false trades that for speed on the writer's connection
    /// (SQLite `synchronous=NORMAL`, PostgreSQL `synchronous_commit=off`): a crash of the
    /// gateway still loses nothing, but a power cut or an operating-system (or PostgreSQL
    /// server) crash may lose the last answered exchanges. See docs/AUDIT.md.
    pub durable_commits: bool,
    /// PEM private key seals are signed with (RSA or EC). Default: `DATA_DIR/audit-seal.key`,
    /// generated at first start. Relative paths are against the data directory.
    pub seal_key: Option<PathBuf>,
    /// Where the auditor's API and page listen (a listener of their own, never the SOAP
    /// one). None: not served.
    pub api_listen: Option<SocketAddr>,
    /// PEM certificate chain and key: serve the auditor's listener over HTTPS (both or none).
    /// Relative paths are against the configuration file's directory.
    pub api_tls_cert: Option<PathBuf>,
    pub api_tls_key: Option<PathBuf>,
    /// PEM CA certificate(s): when set, the HTTPS listener asks for a client certificate and
    /// verifies it against these; a verified certificate listed by fingerprint in
    /// `[[audit.auditors]] certificate_sha256` authenticates its auditor (RFC 8446 4.3.2).
    pub api_client_ca: Option<PathBuf>,
    /// Who may use the auditor's API: bearer tokens (stored as their SHA-256) or client
    /// certificates (by SHA-256 fingerprint).
    pub auditors: Vec<Auditor>,
}

/// `[[audit.auditors]]`: one auditor's credential, either a bearer token (make one with
/// `lienthong audit token`) or a client certificate; exactly one of the two.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Auditor {
    pub name: String,
    /// Hex SHA-256 of the bearer token (the token itself is never stored).
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// Hex SHA-256 of the client certificate (DER), as `openssl x509 -noout -fingerprint
    /// -sha256` prints it (colons allowed). Needs `api_client_ca`.
    #[serde(default)]
    pub certificate_sha256: Option<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            database: None,
            messages: MessagePolicy::Full,
            max_stored_message_bytes: 1024 * 1024,
            seal_every_records: 1000,
            seal_every_seconds: 60,
            batch_max: 512,
            durable_commits: true,
            seal_key: None,
            api_listen: None,
            api_tls_cert: None,
            api_tls_key: None,
            api_client_ca: None,
            auditors: Vec::new(),
        }
    }
}

impl AuditConfig {
    /// Resolves the auditor listener's TLS files against the configuration's directory.
    pub fn resolve_paths(&mut self, base_dir: &Path) {
        for p in [
            &mut self.api_tls_cert,
            &mut self.api_tls_key,
            &mut self.api_client_ca,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base_dir.join(&*p);
            }
        }
    }

    /// Where the seal key lives for a gateway whose state is in `data_dir`.
    pub fn seal_key_path(&self, data_dir: &Path) -> PathBuf {
        match &self.seal_key {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => data_dir.join(p),
            None => data_dir.join("audit-seal.key"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_tls_and_certificate_auditors_parse() {
        let mut c: AuditConfig = toml::from_str(
            r#"
api_listen = "127.0.0.1:8081"
api_tls_cert = "tls/audit.crt"
api_tls_key = "/etc/lienthong/audit.key"
api_client_ca = "tls/auditors-ca.pem"
[[auditors]]
name = "thanh-tra"
token_sha256 = "00"
[[auditors]]
name = "kiem-toan"
certificate_sha256 = "AB:CD"
"#,
        )
        .unwrap();
        c.resolve_paths(Path::new("/conf"));
        assert_eq!(
            c.api_tls_cert.as_deref(),
            Some(Path::new("/conf/tls/audit.crt"))
        );
        assert_eq!(
            c.api_tls_key.as_deref(),
            Some(Path::new("/etc/lienthong/audit.key"))
        );
        assert_eq!(
            c.api_client_ca.as_deref(),
            Some(Path::new("/conf/tls/auditors-ca.pem"))
        );
        assert_eq!(c.auditors[0].token_sha256.as_deref(), Some("00"));
        assert_eq!(c.auditors[1].certificate_sha256.as_deref(), Some("AB:CD"));
        assert!(toml::from_str::<AuditConfig>("api_client_cert = \"x\"").is_err());
    }
}
