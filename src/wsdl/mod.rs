//! WSDL 1.1 contracts: loading (with `wsdl:import`, `xsd:import`/`xsd:include` and an XML
//! catalog; nothing is ever fetched), the dispatch table of operations, and publishing
//! (`?wsdl`, `?xsd=`) with the gateway's own address.
//!
//! - `parse` walks one file with a quick-xml `NsReader` (namespace URIs, never
//!   prefixes), collecting definitions and the byte spans publishing rewrites;
//! - `resolve` follows imports and includes from the main WSDL (relative paths, the XML
//!   [`Catalog`] for absolute URLs), loading each file once;
//! - `contract` checks every reference across the set and builds the [`Operation`]s;
//! - [`publish`] renders a document with addresses and locations pointing at the gateway;
//! - `local` renders documents for the schema validator, every location a `file://` URL.
//!
//! Every problem found is reported as `file:line: reason`, all of them, not just the first.

mod catalog;
mod contract;
mod local;
mod model;
mod parse;
mod publish;
mod resolve;
mod uri;

use std::path::Path;

pub use catalog::{Catalog, CATALOG_NS};
pub use model::{Contract, Document, DocumentKind, InlineSchema, Link, LinkKind, Operation, Style};
pub use publish::{document_url, publish};

use crate::problem::Problems;

/// Loads a WSDL and everything it imports; every problem is reported with file and line.
pub fn load(path: &Path, catalog: &Catalog) -> Result<Contract, Problems> {
    contract::build(resolve::load_all(path, catalog))
}
