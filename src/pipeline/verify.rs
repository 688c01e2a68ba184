//! The verify stage: the caller's WS-Security signature, timestamp and certificate, and the
//! consumer identity they establish. The policy and the cryptography live in [`crate::wssec`];
//! this stage only applies the service's policy to the parsed envelope.

use crate::config::ServiceConfig;
use crate::model::AgencyCode;
use crate::pipeline::envelope::Envelope;
use crate::wssec::{Engine, Verified, WssError};

pub fn verify(
    engine: &Engine,
    service: &ServiceConfig,
    envelope: &Envelope,
    claimed: Option<&AgencyCode>,
) -> Result<Verified, WssError> {
    engine.verify(&service.security, envelope, claimed)
}
