//! Stage 3, dispatch: which operation of the contract this message calls.
//!
//! The Body's root element decides (it is covered by the signature); the SOAPAction /
//! `action` is not signed, so it may only confirm, never choose (DOMAIN.md, rule 3).

use crate::model::SoapVersion;
use crate::wsdl::{Contract, Operation};
use crate::xml::QName;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("the service has no operation whose request is {0}")]
    UnknownOperation(String),
    #[error("SOAP action `{action}` does not match the Body's operation `{operation}`")]
    ActionMismatch { action: String, operation: String },
    #[error("operation `{operation}` is not offered over SOAP {version}")]
    WrongVersion {
        operation: String,
        version: &'static str,
    },
}

pub fn operation<'c>(
    contract: &'c Contract,
    body_root: &QName,
    action: Option<&str>,
    version: SoapVersion,
) -> Result<&'c Operation, DispatchError> {
    let op = contract
        .operation_by_root(body_root)
        .ok_or_else(|| DispatchError::UnknownOperation(body_root.to_string()))?;
    if let Some(action) = action {
        // An action that names an operation is checked; one the WSDL does not declare
        // anywhere (clients send the operation name, a URL, ...) is tolerated as BP 1.1 does.
        let named = contract.operation_by_action(action);
        let mismatch = match named {
            Some(other) => other.name != op.name,
            None => op.soap_action.is_some(),
        };
        if mismatch {
            return Err(DispatchError::ActionMismatch {
                action: action.to_string(),
                operation: op.name.clone(),
            });
        }
    }
    if !op.versions.is_empty() && !op.versions.contains(&version) {
        return Err(DispatchError::WrongVersion {
            operation: op.name.clone(),
            version: version.label(),
        });
    }
    Ok(op)
}
