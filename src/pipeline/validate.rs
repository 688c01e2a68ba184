//! Stages 6 and 9, validate: the payload against the XSDs of the service's contract, the
//! request before it is mapped and forwarded, the answer before it is mapped back.
//!
//! The payload is validated as cut out of its envelope; `first_line` (the line of the
//! envelope where the payload starts) makes every violation name the line of the message
//! as its sender wrote it.

use crate::registry::Service;
use crate::schema::{Direction, ValidationError};
use crate::soap::envelope::Envelope;
use crate::wsdl::Operation;

pub fn request(
    service: &Service,
    op: &Operation,
    env: &Envelope,
    payload: &[u8],
) -> Result<(), ValidationError> {
    if !service.config.validate.request {
        return Ok(());
    }
    service.validate_at(op, Direction::Request, payload, env.payload_line())
}

pub fn response(
    service: &Service,
    op: &Operation,
    env: &Envelope,
    payload: &[u8],
) -> Result<(), ValidationError> {
    if !service.config.validate.response {
        return Ok(());
    }
    service.validate_at(op, Direction::Response, payload, env.payload_line())
}
