//! The verify stage: the caller's WS-Security signature, timestamp and certificate, and the
//! consumer identity they establish. The policy and the cryptography live in [`crate::wssec`];
//! this stage only applies the service's policy to the parsed envelope. What it returns, a
//! [`Caller`], is what [`super::authorise`] requires: no later stage can name a consumer
//! that did not come through here.

use crate::config::ServiceConfig;
use crate::model::AgencyCode;
use crate::registry::{Gateway, Service};
use crate::soap::envelope::{self, Envelope};
use crate::wssec::{Caller, Engine, WssError};

use super::receive::Received;
use super::{dispatch, PipelineError};

/// A request read as an envelope, its operation known, its signature checked.
pub struct Checked {
    pub envelope: Envelope,
    /// Index of the operation in the service's contract (see [`dispatch::operation`]).
    pub operation: usize,
    /// Kept apart so the record names the operation even when verification fails.
    pub caller: Result<Caller, WssError>,
}

/// envelope -> dispatch -> verify, on one thread.
pub fn checked(
    gw: &Gateway,
    service: &Service,
    request: Received,
) -> Result<Checked, PipelineError> {
    let limits = gw.config.limits.xml();
    let envelope = envelope::parse(request.bytes, request.version, &limits)?;
    let action = request.action.as_deref();
    let root = &envelope.payload.name;
    let operation = dispatch::operation(&service.contract, root, action, request.version)?;
    let claimed = request.claimed.as_ref();
    let caller = verify(&gw.security, &service.config, &envelope, claimed);
    Ok(Checked {
        envelope,
        operation,
        caller,
    })
}

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
