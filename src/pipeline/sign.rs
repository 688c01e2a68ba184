//! Stages 8 and 11, sign: the gateway signs what it forwards to a provider and every answer
//! it returns to a consumer, faults included (clients verify before reading a fault).

use crate::wssec::{Engine, SignOptions, WssError};

/// `body_id`: keep the consumer's Body `wsu:Id` when its Security header is forwarded.
pub fn outbound(
    engine: &Engine,
    envelope: Vec<u8>,
    body_id: Option<String>,
) -> Result<Vec<u8>, WssError> {
    engine.sign_with(&envelope, &SignOptions { body_id })
}

pub fn answer(engine: &Engine, envelope: Vec<u8>) -> Result<Vec<u8>, WssError> {
    engine.sign(envelope)
}
