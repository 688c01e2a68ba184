//! Stages 8 and 11, sign: the gateway signs what it forwards to a provider and every answer
//! it returns to a consumer, faults included (clients verify before reading a fault).

use crate::wssec::{Engine, WssError};

pub fn outbound(engine: &Engine, envelope: Vec<u8>) -> Result<Vec<u8>, WssError> {
    engine.sign(envelope)
}

pub fn answer(engine: &Engine, envelope: Vec<u8>) -> Result<Vec<u8>, WssError> {
    engine.sign(envelope)
}
