//! Stages 8 and 11, sign: the gateway signs what it forwards to a provider and every answer
//! it returns to a consumer, faults included (clients verify before reading a fault),
//! unless the service's policy turns that off (`sign_forwarded`, `sign_answers`).

use crate::wssec::{Engine, ServicePolicy, SignOptions, WssError};

/// `body_id`: keep the consumer's Body `wsu:Id` when its Security header is forwarded.
pub fn outbound(
    engine: &Engine,
    policy: &ServicePolicy,
    envelope: Vec<u8>,
    body_id: Option<String>,
) -> Result<Vec<u8>, WssError> {
    if !policy.sign_forwarded {
        return Ok(envelope);
    }
    engine.sign_with(&envelope, &SignOptions { body_id })
}

/// `sign`: false only for a known service whose policy says `sign_answers = false`; a fault
/// for an unknown service is always signed.
pub fn answer(engine: &Engine, sign: bool, envelope: Vec<u8>) -> Result<Vec<u8>, WssError> {
    if !sign {
        return Ok(envelope);
    }
    engine.sign(envelope)
}
