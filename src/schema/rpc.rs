//! Wrapper schemas for rpc/literal operations. The Body child of an rpc message is a
//! wrapper named after the operation (`Response` appended for the answer) in the
//! `soap:body/@namespace` (WSDL 1.1 §3.5), which no schema of the contract declares; its
//! children are one accessor per part, unqualified and named after the part (WS-I BP 1.1
//! R2729, R2735), of the part's type. A part naming an element (not allowed by R2203, but
//! seen) is that element. The generated schema declares exactly that, so an rpc request
//! validates like a document/literal one.

use std::collections::BTreeSet;

use crate::wsdl::{MessagePart, Operation, Style};
use crate::xml::escape::text as esc;
use crate::xml::{ns, QName};

/// One generated schema document: the wrapper elements of one namespace.
#[derive(Debug)]
pub struct Wrapper {
    pub namespace: String,
    pub text: String,
}

/// One wrapper schema per wrapper element of the rpc-style operations (an operation
/// bound twice with the same wrapper gets it once).
pub fn wrappers(operations: &[Operation]) -> Vec<Wrapper> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for op in operations.iter().filter(|o| o.style == Style::Rpc) {
        let directions = [
            (Some(&op.request_root), &op.input_parts),
            (op.response_root.as_ref(), &op.output_parts),
        ];
        for (root, parts) in directions {
            let Some(root) = root.filter(|r| !r.local.is_empty()) else {
                continue;
            };
            if seen.insert((root.ns.clone(), root.local.clone())) {
                out.push(Wrapper {
                    namespace: root.ns.clone(),
                    text: schema(root, parts),
                });
            }
        }
    }
    out
}

/// `<xs:schema targetNamespace=NS><xs:element name=WRAPPER>` with a sequence of the parts.
fn schema(root: &QName, parts: &[MessagePart]) -> String {
    let target = root.ns.as_str();
    // Namespaces the parts refer to, each with a prefix `p0`, `p1`, ...
    let mut namespaces: Vec<&str> = Vec::new();
    for p in parts {
        if let Some(q) = p.type_.as_ref().or(p.element.as_ref()) {
            if !q.ns.is_empty() && q.ns != ns::XSD && !namespaces.contains(&q.ns.as_str()) {
                namespaces.push(&q.ns);
            }
        }
    }
    let name = |q: &QName| -> String {
        if q.ns.is_empty() {
            q.local.to_string()
        } else if q.ns == ns::XSD {
            format!("xs:{}", q.local)
        } else {
            let i = namespaces.iter().position(|n| *n == q.ns).unwrap_or(0);
            format!("p{i}:{}", q.local)
        }
    };
    let mut s = format!("<xs:schema xmlns:xs=\"{}\"", ns::XSD);
    if !target.is_empty() {
        s.push_str(&format!(" targetNamespace=\"{}\"", esc(target)));
    }
    for (i, n) in namespaces.iter().enumerate() {
        s.push_str(&format!(" xmlns:p{i}=\"{}\"", esc(n)));
    }
    s.push('>');
    for n in &namespaces {
        if *n != target {
            s.push_str(&format!("<xs:import namespace=\"{}\"/>", esc(n)));
        }
    }
    let no_namespace_refs = parts
        .iter()
        .filter_map(|p| p.type_.as_ref().or(p.element.as_ref()))
        .any(|q| q.ns.is_empty());
    if no_namespace_refs && !target.is_empty() {
        s.push_str("<xs:import/>");
    }
    s.push_str(&format!(
        "<xs:element name=\"{}\"><xs:complexType><xs:sequence>",
        esc(&root.local)
    ));
    for p in parts {
        match (&p.element, &p.type_) {
            (Some(e), _) => s.push_str(&format!("<xs:element ref=\"{}\"/>", esc(&name(e)))),
            (None, Some(t)) => s.push_str(&format!(
                "<xs:element name=\"{}\" type=\"{}\"/>",
                esc(&p.name),
                esc(&name(t))
            )),
            // A part without a usable type was reported by the WSDL layer; anything goes.
            (None, None) => s.push_str(&format!("<xs:element name=\"{}\"/>", esc(&p.name))),
        }
    }
    s.push_str("</xs:sequence></xs:complexType></xs:element></xs:schema>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, ty: Option<QName>, el: Option<QName>) -> MessagePart {
        MessagePart {
            name: name.into(),
            element: el,
            type_: ty,
        }
    }

    #[test]
    fn wrapper_declares_unqualified_accessors_of_the_part_types() {
        let root = QName::new("urn:w", "Op");
        let s = schema(
            &root,
            &[
                part("a", Some(QName::new("urn:t", "T")), None),
                part("b", Some(QName::new(ns::XSD, "int")), None),
                part("c", None, Some(QName::new("urn:e", "E"))),
            ],
        );
        assert_eq!(
            s,
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"urn:w\" \
             xmlns:p0=\"urn:t\" xmlns:p1=\"urn:e\"><xs:import namespace=\"urn:t\"/>\
             <xs:import namespace=\"urn:e\"/><xs:element name=\"Op\"><xs:complexType>\
             <xs:sequence><xs:element name=\"a\" type=\"p0:T\"/><xs:element name=\"b\" \
             type=\"xs:int\"/><xs:element ref=\"p1:E\"/></xs:sequence></xs:complexType>\
             </xs:element></xs:schema>"
        );
    }
}
