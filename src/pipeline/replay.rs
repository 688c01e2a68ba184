//! The replay stage: a verified signature is accepted once only, across every node sharing
//! the replay cache (WSS 1.1 §10, docs/SECURITY.md R14). It runs straight after
//! verification, so that a replayed capture is refused before the gateway spends anything
//! more on it (validation, mapping, an RSA signature of its own).

use crate::wssec::{Caller, Engine, WssError};

pub async fn check(engine: &Engine, caller: &Caller) -> Result<(), WssError> {
    match caller.verified() {
        Some(verified) => engine.check_replay(verified.replay()).await,
        // A declared (unsigned) caller has no signature to replay.
        None => Ok(()),
    }
}
