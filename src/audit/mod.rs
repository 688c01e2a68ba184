//! The tamper-evident exchange log: one record per exchange (accepted, rejected or
//! failed), committed before the answer leaves the gateway.
//!
//! Owns the store (diesel over SQLite or PostgreSQL), the hash chain and seals, queries,
//! export, verification and archiving. The pipeline only builds an [`ExchangeRecord`] and
//! calls [`AuditLog::record`].

mod record;

pub use record::{ExchangeRecord, Message, Outcome};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit store unavailable: {0}")]
    Unavailable(String),
    #[error("audit store error: {0}")]
    Store(String),
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
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            database: None,
            messages: MessagePolicy::Full,
            max_stored_message_bytes: 1024 * 1024,
        }
    }
}

/// Handle on the store shared by all exchanges.
pub struct AuditLog {
    _private: (),
}

impl AuditLog {
    /// Opens (creating and migrating) the store at `url`.
    pub fn open(_url: &str, _node_id: &str, _cfg: &AuditConfig) -> Result<AuditLog, AuditError> {
        Err(AuditError::Unavailable("audit store not built yet".into()))
    }

    /// Appends one record; returns once it is committed.
    pub async fn record(&self, _rec: ExchangeRecord) -> Result<(), AuditError> {
        Err(AuditError::Unavailable("audit store not built yet".into()))
    }
}
