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
//! - [`query`]: filters and pagination; [`export`]: CSV / JSON Lines.
//! - [`verify`]: recompute and report the first break; [`archive`]: retention.

pub mod archive;
pub mod backend;
pub mod chain;
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
    /// PEM private key seals are signed with (RSA or EC). Default: `DATA_DIR/audit-seal.key`,
    /// generated at first start. Relative paths are against the data directory.
    pub seal_key: Option<PathBuf>,
    /// Where the auditor's API and page listen (a listener of their own, never the SOAP
    /// one). None: not served.
    pub api_listen: Option<SocketAddr>,
    /// Who may use the auditor's API: bearer tokens, stored as their SHA-256.
    pub auditors: Vec<Auditor>,
}

/// `[[audit.auditors]]`: one auditor's credential. Make one with `lienthong audit token`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Auditor {
    pub name: String,
    /// Hex SHA-256 of the bearer token (the token itself is never stored).
    pub token_sha256: String,
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
            seal_key: None,
            api_listen: None,
            auditors: Vec::new(),
        }
    }
}

impl AuditConfig {
    /// Where the seal key lives for a gateway whose state is in `data_dir`.
    pub fn seal_key_path(&self, data_dir: &Path) -> PathBuf {
        match &self.seal_key {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => data_dir.join(p),
            None => data_dir.join("audit-seal.key"),
        }
    }
}
