//! A contract's schema set, compiled from the documents the WSDL layer loaded rather than
//! from the files again: each XSD document and each inline `wsdl:types` schema is rendered
//! by [`Contract::rendered`] / [`Contract::inline_schema_document`] (DOCTYPE removed,
//! internal entities expanded, every import/include location pointing at the memory copy
//! of its target) and served to libxml2 from memory. So every kind of catalog entry the
//! WSDL layer resolved (`uri`, `system`, `rewriteURI`, suffixes, `nextCatalog`) holds here
//! too, trusted files may carry an internal DTD subset, and nothing is read twice or
//! fetched.
//!
//! rpc/literal operations get a generated wrapper schema ([`super::rpc`]) compiled with
//! the rest, so their Body child validates like a document/literal one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::ffi;
use super::rpc;
use super::set::SchemaSet;
use crate::problem::Problems;
use crate::wsdl::{Contract, DocumentKind};

impl SchemaSet {
    /// Compiles the contract's XSD documents, its inline schemas and the rpc wrappers of
    /// its rpc-style operations.
    pub fn compile_contract(contract: &Contract) -> Result<SchemaSet, Problems> {
        ffi::init();
        let id = SchemaSet::next_id();
        let docs = &contract.documents;
        let doc_uri = |i: usize| {
            let name = docs[i]
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("lienthong-mem:/{id}/doc-{i}/{}", uri_safe(&name))
        };
        let inline_uri = |i: usize, j: usize| format!("lienthong-mem:/{id}/doc-{i}/inline-{j}.xsd");
        // A location naming a WSDL (an `xsd:import` of a namespace defined inline there)
        // stands for its first inline schema: libxml2 compiles schemas, not WSDLs.
        let link = |t: usize| match docs[t].kind {
            DocumentKind::Wsdl if !docs[t].inline_schemas.is_empty() => inline_uri(t, 0),
            _ => doc_uri(t),
        };

        let mut served = Vec::new();
        let mut origins: BTreeMap<String, (PathBuf, usize)> = BTreeMap::new();
        let mut by_ns: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut serve = |uri: String, text: Vec<u8>, ns: &str, origin: Option<(PathBuf, usize)>| {
            ffi::serve_memory(&uri, &String::from_utf8_lossy(&text));
            served.push(uri.clone());
            if let Some(o) = origin {
                origins.insert(uri.clone(), o);
            }
            by_ns.entry(ns.to_string()).or_default().push(uri);
        };
        for (i, d) in docs.iter().enumerate() {
            match d.kind {
                DocumentKind::Xsd => serve(
                    doc_uri(i),
                    contract.rendered(i, &link),
                    d.target_namespace.as_deref().unwrap_or(""),
                    Some((d.path.clone(), 1)),
                ),
                DocumentKind::Wsdl => {
                    for (j, s) in d.inline_schemas.iter().enumerate() {
                        // The standalone copy starts with an XML declaration line; the
                        // schema's start tag is on its line 2.
                        let line = 1 + d.bytes[..s.span.start]
                            .iter()
                            .filter(|&&b| b == b'\n')
                            .count();
                        serve(
                            inline_uri(i, j),
                            contract.inline_schema_document(i, j, &link),
                            s.target_namespace.as_deref().unwrap_or(""),
                            Some((d.path.clone(), line.saturating_sub(1))),
                        );
                    }
                }
            }
        }
        for (n, w) in rpc::wrappers(&contract.operations).into_iter().enumerate() {
            serve(
                format!("lienthong-mem:/{id}/rpc-{n}.xsd"),
                w.text.into_bytes(),
                &w.namespace,
                None,
            );
        }
        SchemaSet::assemble(id, by_ns, served, origins)
    }
}

/// A file name usable as the last segment of a memory URI (libxml2 resolves nothing
/// against it: every location in the rendered documents is absolute).
fn uri_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
