//! XSD validation through libxml2: the schemas of `schemas/` and of each WSDL's `types`,
//! compiled once, never fetching anything over the network.
//!
//! - [`set`]: [`SchemaSet`], a union of XSD files and inline WSDL schemas, compiled per
//!   thread and validated against.
//! - [`contract`]: a contract's set, from the documents the WSDL layer rendered, with
//!   generated wrappers for rpc/literal operations ([`rpc`]).
//! - [`dtd`]: a trusted schema file's internal DTD subset, expanded away.
//! - [`ffi`]: compiled schemas and validation over the shared `crate::libxml2` wrapper
//!   (which holds the no-network loader, the error collector and the payload parser).
//! - [`tree`]: a small namespace-resolved element tree used by mappings and the XSD model.
//! - [`model`]: the element/type structure of an XSD, for the mapping checker.

pub mod contract;
pub mod dtd;
pub mod ffi;
pub mod model;
pub mod rpc;
pub mod set;
pub mod tree;

pub use set::SchemaSet;

/// Which message failed validation decides who is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    #[error("the {direction:?} does not match its schema ({} problems)", violations.len())]
    Invalid {
        direction: Direction,
        violations: Vec<String>,
    },
}
