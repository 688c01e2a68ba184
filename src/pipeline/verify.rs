//! The verify stage: the caller's WS-Security signature, timestamp and certificate, and the
//! consumer identity they establish. The policy and the cryptography live in [`crate::wssec`];
//! this stage only applies the service's policy to the parsed envelope. What it returns, a
//! [`Caller`], is what [`super::authorise`] requires: no later stage can name a consumer
//! that did not come through here.

use crate::config::ServiceConfig;
use crate::model::AgencyCode;
use crate::soap::envelope::Envelope;
use crate::wssec::{Caller, Engine, WssError};

/// `claimed`: the consumer named in the `x-lienthong-consumer` HTTP header, taken only for
/// a service with `dangerous_accept_unsigned` and an unsigned request.
pub fn verify(
    engine: &Engine,
    service: &ServiceConfig,
    envelope: &Envelope,
    claimed: Option<&AgencyCode>,
) -> Result<Caller, WssError> {
    engine.caller(&service.security, envelope, claimed)
}
