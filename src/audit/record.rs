//! One exchange as the pipeline saw it, filled stage by stage.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Forwarded, and the provider's answer (possibly its own fault) passed back.
    Accepted,
    /// Refused by the gateway before forwarding (malformed, unsigned, unauthorised, ...).
    Rejected,
    /// Accepted but could not complete (provider unreachable, invalid answer, ...).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExchangeRecord {
    /// UUIDv7: time-ordered, quoted in faults and logs.
    pub id: String,
    pub received_at: DateTime<Utc>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub remote_addr: String,
    /// Verified consumer agency code (from its certificate), when known.
    pub consumer: Option<String>,
    /// SHA-256 fingerprint of the consumer's verified certificate.
    pub consumer_cert: Option<String>,
    pub provider: Option<String>,
    pub service: Option<String>,
    pub operation: Option<String>,
    pub provider_endpoint: Option<String>,
    pub soap_version: Option<crate::model::SoapVersion>,
    pub outcome: Outcome,
    /// `faultcode` as SOAP 1.1 spells it (`Client`, `wsse:FailedCheck`, ...).
    pub fault_code: Option<String>,
    /// The reason for the audit trail (may hold more than the fault string sent); for an
    /// exchange that went through, what the gateway left out of it (header blocks not
    /// forwarded, `pipeline::headers`).
    pub fault_reason: Option<String>,
    pub http_status: u16,
    /// The four messages: consumer request as received, as forwarded, provider answer as
    /// received, answer as sent. Each as (bytes, sha256 hex); bytes dropped per policy.
    pub request_in: Option<Message>,
    pub request_out: Option<Message>,
    pub response_in: Option<Message>,
    pub response_out: Option<Message>,
    /// Mapping name and version (file hash) applied to the request / the answer.
    pub request_mapping: Option<String>,
    pub response_mapping: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub sha256: String,
    pub size: usize,
    pub bytes: Vec<u8>,
}

impl Message {
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self {
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
            size: bytes.len(),
            bytes: bytes.to_vec(),
        }
    }
}

impl ExchangeRecord {
    pub fn new(id: String, remote_addr: String) -> Self {
        Self {
            id,
            received_at: Utc::now(),
            forwarded_at: None,
            answered_at: None,
            remote_addr,
            consumer: None,
            consumer_cert: None,
            provider: None,
            service: None,
            operation: None,
            provider_endpoint: None,
            soap_version: None,
            outcome: Outcome::Rejected,
            fault_code: None,
            fault_reason: None,
            http_status: 0,
            request_in: None,
            request_out: None,
            response_in: None,
            response_out: None,
            request_mapping: None,
            response_mapping: None,
        }
    }
}
