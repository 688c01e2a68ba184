//! The authorise stage: may this (verified) consumer call this operation of this service?
//! Deny by default: only the grants in `gateway.toml` open a door. The consumer is a
//! [`Caller`] from the verify stage, never a bare agency code, so authorising an identity
//! that was not verified (or, for `dangerous_accept_unsigned`, declared) does not compile.

use crate::config::ServiceConfig;
use crate::wssec::Caller;

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
    caller: &Caller,
    operation: &str,
) -> Result<(), AuthoriseError> {
    let consumer = caller.consumer();
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
