//! The authorise stage: may this (verified) consumer call this operation of this service?
//! Deny by default: only the grants in `gateway.toml` open a door.

use crate::config::ServiceConfig;
use crate::model::AgencyCode;

#[derive(Debug, thiserror::Error)]
pub enum AuthoriseError {
    #[error("agency {consumer} may not call {service}.{operation}")]
    NotGranted {
        consumer: String,
        service: String,
        operation: String,
    },
}

pub fn check(
    service: &ServiceConfig,
    consumer: &AgencyCode,
    operation: &str,
) -> Result<(), AuthoriseError> {
    let granted = service
        .grants
        .iter()
        .any(|g| &g.consumer == consumer && g.allows(operation));
    if granted {
        Ok(())
    } else {
        Err(AuthoriseError::NotGranted {
            consumer: consumer.to_string(),
            service: service.name.to_string(),
            operation: operation.to_string(),
        })
    }
}
