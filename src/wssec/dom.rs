//! The message as a libxml2 tree for libxmlsec1: parsed with the shared wrapper's
//! [`Options::MESSAGE`] (no recovery, network or DTD: docs/LIBRARIES.md, "libxml2 recovers
//! unless told not to"), with every ID-like attribute collected and the accepted ones
//! registered.
//!
//! The tree types are `crate::libxml2`'s: [`Document`] owns the tree and `Elem<'d>`
//! borrows an element of it, neither `Send` (docs/LIBRARIES.md, "Library objects stay on
//! one thread"); the tree invariant the `unsafe` blocks here rely on is stated there
//! (`src/libxml2/tree.rs`).

use std::collections::HashMap;
use std::ffi::CString;
use std::ptr;

use libxml::bindings as lx;

use crate::libxml2::{self, cstr, node_content, ns_href, Document, Elem, Options, ParseError};
use crate::xml::ns;

#[derive(Debug, thiserror::Error)]
pub enum DomError {
    #[error("the message is not well-formed XML")]
    Malformed,
    #[error("DOCTYPE is not allowed in SOAP messages")]
    Doctype,
    #[error("the ID `{0}` is used by more than one element")]
    DuplicateId(String),
    #[error("entity references and processing instructions are not allowed")]
    Forbidden,
    /// WSU schema: `wsu:Id` is an `xsd:ID`, so an NCName (XML Schema 1.0 Part 2 §3.3.8).
    #[error("the wsu:Id `{0}` is not an XML NCName")]
    NotAnId(String),
}

/// Parses a message. The caller has already refused DOCTYPE in the byte scan; the tree is
/// checked again so that no path reaches libxmlsec1 with a DTD.
pub fn parse(bytes: &[u8]) -> Result<Document, DomError> {
    Document::parse(bytes, &Options::MESSAGE).map_err(|e| match e {
        ParseError::Doctype | ParseError::DtdDeclared => DomError::Doctype,
        ParseError::TooLarge | ParseError::Malformed(_) => DomError::Malformed,
    })
}

/// Every ID-like attribute of the document, by value.
pub struct Ids<'d> {
    by_value: HashMap<String, Elem<'d>>,
}

impl<'d> Ids<'d> {
    pub fn element(&self, id: &str) -> Option<Elem<'d>> {
        self.by_value.get(id).copied()
    }
}

/// Attributes that name an element for a same-document reference.
///
/// docs/SECURITY.md R9: `wsu:Id` is the norm and some clients sign with a plain `Id`; those
/// two are registered as XML IDs (docs/LIBRARIES.md, "libxml2 does not know wsu:Id"). `ID`,
/// `id` and `xml:id` are collected too, so that no two elements of a message share an ID
/// value whichever attribute carries it; `xml:id` is registered by libxml2 itself.
fn id_kind(attr_ns: Option<&str>, local: &str) -> Option<bool> {
    match (attr_ns, local) {
        (Some(ns::WSU), "Id") | (None, "Id") => Some(true),
        (None, "ID") | (None, "id") | (Some(ns::XML), "id") => Some(false),
        _ => None,
    }
}

/// Walks the whole tree once (iteratively: attacker depth costs no stack), refusing
/// entity references and processing instructions, collecting ID-like attributes,
/// refusing duplicate values and registering `wsu:Id` / `Id` with libxml2.
pub fn index_ids(doc: &Document) -> Result<Ids<'_>, DomError> {
    let mut by_value: HashMap<String, Elem<'_>> = HashMap::new();
    let Some(root) = doc.root() else {
        return Err(DomError::Malformed);
    };
    let top = root.node();
    let mut node = top;
    // SAFETY: the tree invariant (`src/libxml2/tree.rs`): the walk follows null-checked
    // links of the live tree `doc` owns, inside its root; `xmlAddID` only records an
    // attribute of this document in its ID table (the CString is copied by libxml2), which
    // frees no node.
    unsafe {
        while !node.is_null() {
            let t = (*node).type_;
            if t == lx::xmlElementType_XML_ENTITY_REF_NODE || t == lx::xmlElementType_XML_PI_NODE {
                return Err(DomError::Forbidden);
            }
            if t == lx::xmlElementType_XML_ELEMENT_NODE {
                let mut a = (*node).properties;
                while !a.is_null() {
                    let ans = ns_href((*a).ns);
                    let local = cstr((*a).name);
                    if let Some(register) = id_kind(ans, local) {
                        let value = node_content(a as *const lx::xmlNode);
                        if ans == Some(ns::WSU) && !crate::xml::wellformed::is_ncname(&value) {
                            return Err(DomError::NotAnId(truncate(&value)));
                        }
                        if by_value.contains_key(&value) {
                            return Err(DomError::DuplicateId(truncate(&value)));
                        }
                        if register {
                            let c = CString::new(value.clone()).map_err(|_| DomError::Malformed)?;
                            let existing = lx::xmlGetID(doc.as_ptr(), c.as_ptr() as *const u8);
                            if existing.is_null() {
                                lx::xmlAddID(
                                    ptr::null_mut(),
                                    doc.as_ptr(),
                                    c.as_ptr() as *const u8,
                                    a,
                                );
                            } else if existing != a {
                                return Err(DomError::DuplicateId(truncate(&value)));
                            }
                        }
                        by_value.insert(value, Elem::from_raw(doc, node));
                    }
                    a = (*a).next;
                }
            }
            node = libxml2::next_in_order(node, top);
        }
    }
    Ok(Ids { by_value })
}

/// Registers the `wsu:Id` of one element (documents the gateway builds itself).
pub fn register_id(doc: &Document, e: Elem<'_>) -> Result<(), DomError> {
    // SAFETY: as in `index_ids`; `e` is an element of this document.
    unsafe {
        let mut a = (*e.node()).properties;
        while !a.is_null() {
            if ns_href((*a).ns) == Some(ns::WSU) && cstr((*a).name) == "Id" {
                let c = CString::new(node_content(a as *const lx::xmlNode))
                    .map_err(|_| DomError::Malformed)?;
                if !lx::xmlGetID(doc.as_ptr(), c.as_ptr() as *const u8).is_null() {
                    return Err(DomError::DuplicateId(c.to_string_lossy().into_owned()));
                }
                lx::xmlAddID(ptr::null_mut(), doc.as_ptr(), c.as_ptr() as *const u8, a);
                return Ok(());
            }
            a = (*a).next;
        }
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_registered_and_duplicates_refused() {
        let doc = parse(
            format!(
                r#"<a xmlns:wsu="{}"><b wsu:Id="x"/><c Id="y"><!-- c --></c></a>"#,
                ns::WSU
            )
            .as_bytes(),
        )
        .unwrap();
        let ids = index_ids(&doc).unwrap();
        assert_eq!(ids.element("x").unwrap().local(), "b");
        assert_eq!(ids.element("y").unwrap().local(), "c");
        assert!(ids.element("y").unwrap().contains_comment());
        assert!(!ids.element("x").unwrap().contains_comment());

        let doc = parse(
            format!(
                r#"<a xmlns:wsu="{}"><b wsu:Id="x"/><c ID="x"/></a>"#,
                ns::WSU
            )
            .as_bytes(),
        )
        .unwrap();
        assert!(matches!(index_ids(&doc), Err(DomError::DuplicateId(_))));
    }

    #[test]
    fn a_wsu_id_must_be_an_ncname() {
        for bad in ["a&quot;b", "1x", "a:b", "a&lt;b", "a b", ""] {
            let text = format!(r#"<a xmlns:wsu="{}"><b wsu:Id="{bad}"/></a>"#, ns::WSU);
            let doc = parse(text.as_bytes()).unwrap();
            assert!(
                matches!(index_ids(&doc), Err(DomError::NotAnId(_))),
                "{bad}"
            );
        }
        // Plain `Id` and `ID` in a payload keep their own rules (numbers are common there).
        let text = format!(r#"<a xmlns:wsu="{}"><b Id="1"/><c ID="2"/></a>"#, ns::WSU);
        index_ids(&parse(text.as_bytes()).unwrap()).unwrap();
    }

    #[test]
    fn doctype_and_broken_xml_are_refused() {
        assert!(matches!(
            parse(b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"),
            Err(DomError::Doctype)
        ));
        assert!(matches!(parse(b"<a><b></a>"), Err(DomError::Malformed)));
    }
}
