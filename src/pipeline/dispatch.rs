//! The dispatch stage: which operation of the contract this message calls.
//!
//! The Body's root element decides (it is covered by the signature); the SOAPAction /
//! `action` is not signed, so it may only confirm, never choose (docs/SECURITY.md, R3).
//!
//! Clients send the action in many forms for the same operation: the WSDL's soapAction,
//! nothing (`""` or no header; WS-I BP 1.1 R2744 asks for the WSDL's value, many stacks
//! send none), the operation's name, or `namespace/operation` (the WCF and JAX-WS
//! defaults), quoted or not. All are accepted
//! ([`crate::wsdl::Operation::is_named_by`]). Only an action naming a *different*
//! operation of the contract is refused: that is the spoofing CXF closed in
//! CVE-2012-3451 (an action choosing one operation while the Body holds another, to get
//! past a per-operation policy). An action naming nothing the contract knows is accepted,
//! as WSO2/Axis2 do when their action-based dispatcher finds nothing and the Body-based
//! one decides; CXF refuses it, but there it could route, here it cannot, and the
//! provider is always sent the action its WSDL declares, never the consumer's.

use crate::model::SoapVersion;
use crate::wsdl::{Contract, Operation};
use crate::xml::QName;

/// Longest part of a caller's action repeated in a fault.
const ACTION_SHOWN: usize = 120;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("the service has no operation whose request is {0}")]
    UnknownOperation(String),
    #[error(
        "the SOAP action `{action}` names operation `{named}`, but the Body holds a request of operation `{operation}`"
    )]
    ActionMismatch {
        /// As the caller sent it, cut to [`ACTION_SHOWN`] characters.
        action: String,
        /// The operation the action names.
        named: String,
        /// The operation the Body's root element belongs to.
        operation: String,
    },
    #[error("operation `{operation}` is not offered over SOAP {version}")]
    WrongVersion {
        operation: String,
        version: &'static str,
    },
}

/// The operation called, as its index in `contract.operations` (the value that crosses to
/// the answer's stages without cloning the operation).
pub fn operation(
    contract: &Contract,
    body_root: &QName,
    action: Option<&str>,
    version: SoapVersion,
) -> Result<usize, DispatchError> {
    let index = contract
        .index_by_root(body_root)
        .ok_or_else(|| DispatchError::UnknownOperation(body_root.to_string()))?;
    let op: &Operation = &contract.operations[index];
    if let Some(action) = action {
        let tns = contract.target_namespace.as_str();
        if !op.is_named_by(action, tns) {
            let other = contract
                .operations
                .iter()
                .find(|o| o.name != op.name && o.is_named_by(action, tns));
            if let Some(other) = other {
                return Err(DispatchError::ActionMismatch {
                    action: action.chars().take(ACTION_SHOWN).collect(),
                    named: other.name.clone(),
                    operation: op.name.clone(),
                });
            }
        }
    }
    if !op.versions.is_empty() && !op.versions.contains(&version) {
        return Err(DispatchError::WrongVersion {
            operation: op.name.clone(),
            version: version.label(),
        });
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsdl::Style;

    fn op(name: &str, action: Option<&str>) -> Operation {
        Operation {
            name: name.into(),
            style: Style::Document,
            soap_action: action.map(str::to_string),
            soap_actions: action.into_iter().map(str::to_string).collect(),
            binding_actions: Vec::new(),
            request_root: QName::new("urn:msg", name),
            response_root: None,
            versions: vec![SoapVersion::V11, SoapVersion::V12],
            input_message: None,
            output_message: None,
            input_parts: Vec::new(),
            output_parts: Vec::new(),
        }
    }

    fn contract() -> Contract {
        Contract {
            main: "x.wsdl".into(),
            target_namespace: "http://tempuri.org/".into(),
            operations: vec![op("A", Some("urn:act:A")), op("B", None)],
            documents: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn dispatch(root: &str, action: Option<&str>) -> Result<String, DispatchError> {
        let c = contract();
        operation(&c, &QName::new("urn:msg", root), action, SoapVersion::V11)
            .map(|i| c.operations[i].name.clone())
    }

    #[test]
    fn every_form_naming_the_bodys_operation_is_accepted() {
        for action in [
            None,
            Some("urn:act:A"),
            Some("A"),
            Some("http://tempuri.org/A"),
            Some("http://tempuri.org/A/"),
            Some("urn:msg/A"),
            Some("urn:msg:A"),
            Some("urn:elsewhere:Something"),
        ] {
            assert_eq!(dispatch("A", action).unwrap(), "A", "{action:?}");
        }
        assert_eq!(dispatch("B", Some("http://tempuri.org/B")).unwrap(), "B");
    }

    #[test]
    fn an_action_naming_another_operation_is_refused_with_both_names() {
        for action in ["urn:act:A", "A", "http://tempuri.org/A/"] {
            let e = dispatch("B", Some(action)).unwrap_err().to_string();
            assert!(
                e.contains("operation `A`") && e.contains("operation `B`"),
                "{e}"
            );
        }
        // A prefix of a name is not the name.
        assert_eq!(dispatch("B", Some("http://tempuri.org/AB")).unwrap(), "B");
    }
}
