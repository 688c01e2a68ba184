//! Stages 6 and 9, validate: the payload against the XSDs of the service's contract, the
//! request before it is mapped and forwarded, the answer before it is mapped back.

use crate::registry::Service;
use crate::schema::{Direction, ValidationError};
use crate::wsdl::Operation;

pub fn request(service: &Service, op: &Operation, payload: &[u8]) -> Result<(), ValidationError> {
    if !service.config.validate.request {
        return Ok(());
    }
    service.validate(op, Direction::Request, payload)
}

pub fn response(service: &Service, op: &Operation, payload: &[u8]) -> Result<(), ValidationError> {
    if !service.config.validate.response {
        return Ok(());
    }
    service.validate(op, Direction::Response, payload)
}
