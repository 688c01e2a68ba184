//! Stages 7 and 10, map: the consumer's schema into the provider's and back, where the
//! service binds a mapping to the operation. Nothing half-mapped ever leaves: a mapping
//! either yields a whole document or an error.

use crate::mapping::{Mapped, MappingError};
use crate::registry::Service;
use crate::schema::Direction;
use crate::wsdl::Operation;

pub fn request(
    service: &Service,
    op: &Operation,
    payload: Vec<u8>,
) -> Result<Mapped, MappingError> {
    service.map(op, Direction::Request, payload)
}

pub fn response(
    service: &Service,
    op: &Operation,
    payload: Vec<u8>,
) -> Result<Mapped, MappingError> {
    service.map(op, Direction::Response, payload)
}
