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

use super::dtd;
use super::rpc;
use super::set::SchemaSet;
use crate::libxml2;
use crate::problem::Problems;
use crate::wsdl::{Contract, DocumentKind};

impl SchemaSet {
    /// Compiles the contract's XSD documents, its inline schemas and the rpc wrappers of
    /// its rpc-style operations.
    pub fn compile_contract(contract: &Contract) -> Result<SchemaSet, Problems> {
        libxml2::init();
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
            libxml2::serve_memory(&uri, &String::from_utf8_lossy(&text));
            served.push(uri.clone());
            if let Some(o) = origin {
                origins.insert(uri.clone(), o);
            }
            by_ns.entry(ns.to_string()).or_default().push(uri);
        };
        for (i, d) in docs.iter().enumerate() {
            match d.kind {
                // The rendered copy lacks the DOCTYPE's lines: errors are shifted back.
                DocumentKind::Xsd => serve(
                    doc_uri(i),
                    contract.rendered(i, &link),
                    d.target_namespace.as_deref().unwrap_or(""),
                    Some((
                        d.path.clone(),
                        1 + dtd::doctype_line_breaks(&String::from_utf8_lossy(&d.bytes)),
                    )),
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::schema::SchemaSet;
    use crate::wsdl::{load, Catalog};
    use crate::xml::QName;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn rpc_wrappers_validate_part_accessors_both_ways() {
        let c = load(
            &root().join("wsdl/dang-ky-kinh-doanh/DangKyKinhDoanh.wsdl"),
            &Catalog::default(),
        )
        .unwrap();
        let set = SchemaSet::compile_contract(&c).unwrap();
        let op = c.operation("TraCuuDoanhNghiep").unwrap();
        let request = std::fs::read_to_string(
            root().join("conf/examples/dang-ky-kinh-doanh-TraCuuDoanhNghiep.xml"),
        )
        .unwrap();
        set.validate(request.as_bytes(), Some(&op.request_root))
            .unwrap();
        let short = request.replace(">2801234567<", ">28012<");
        let v = set
            .validate(short.as_bytes(), Some(&op.request_root))
            .unwrap_err();
        assert!(
            v[0].starts_with("/dk:TraCuuDoanhNghiep/MaSoDoanhNghiep: [facet 'pattern']"),
            "{v:?}"
        );
        // The answer wrapper: its part is typed, so an empty accessor is refused.
        let answer = QName::new("urn:lgsp:h38:dkkd:wsdl:1.0", "TraCuuDoanhNghiepResponse");
        assert_eq!(op.response_root.as_ref(), Some(&answer));
        let v = set
            .validate(
                b"<r:TraCuuDoanhNghiepResponse xmlns:r=\"urn:lgsp:h38:dkkd:wsdl:1.0\"><DoanhNghiep/></r:TraCuuDoanhNghiepResponse>",
                Some(&answer),
            )
            .unwrap_err();
        assert!(
            v[0].starts_with("/r:TraCuuDoanhNghiepResponse/DoanhNghiep: "),
            "{v:?}"
        );
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// A schema imported by URL through a `rewriteURI` entry, carrying an internal DTD
    /// subset whose entity names its namespace: compiled from the WSDL layer's copies.
    #[test]
    fn rewrite_uri_entries_and_internal_entities_compile() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("remote")).unwrap();
        write(
            &d.join("remote"),
            "a.xsd",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE xs:schema [\n<!ENTITY ns \"urn:a\">\n]>\n\
             <xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"&ns;\" \
             elementFormDefault=\"qualified\">\n<xs:element name=\"A\" type=\"xs:date\"/>\n</xs:schema>\n",
        );
        write(
            d,
            "catalog.xml",
            "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\
             <rewriteURI uriStartString=\"http://schemas.example.org/\" rewritePrefix=\"remote/\"/>\
             </catalog>",
        );
        write(
            d,
            "s.wsdl",
            r#"<w:definitions xmlns:w="http://schemas.xmlsoap.org/wsdl/" xmlns:s="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:a="urn:a" xmlns:t="urn:t" targetNamespace="urn:t">
<w:types><xs:schema targetNamespace="urn:t"><xs:import namespace="urn:a" schemaLocation="http://schemas.example.org/a.xsd"/></xs:schema></w:types>
<w:message name="M"><w:part name="p" element="a:A"/></w:message>
<w:portType name="P"><w:operation name="O"><w:input message="t:M"/></w:operation></w:portType>
<w:binding name="B" type="t:P"><s:binding/><w:operation name="O"/></w:binding>
</w:definitions>"#,
        );
        let catalog = Catalog::load(&d.join("catalog.xml")).unwrap();
        assert!(catalog.entries.is_empty());
        let c = load(&d.join("s.wsdl"), &catalog).unwrap();
        let set = SchemaSet::compile_contract(&c).unwrap();
        let a = QName::new("urn:a", "A");
        set.validate(b"<A xmlns=\"urn:a\">2024-01-01</A>", Some(&a))
            .unwrap();
        assert!(set.validate(b"<A xmlns=\"urn:a\">x</A>", Some(&a)).is_err());

        // A compile error points at the file's own line, DOCTYPE lines counted.
        let a_xsd = std::fs::read_to_string(d.join("remote/a.xsd")).unwrap();
        write(
            &d.join("remote"),
            "a.xsd",
            &a_xsd.replace("xs:date", "xs:nope"),
        );
        let c = load(&d.join("s.wsdl"), &catalog).unwrap();
        let msg = SchemaSet::compile_contract(&c).unwrap_err().to_string();
        assert!(msg.contains("a.xsd:6: "), "{msg}");
    }

    /// Every fixture contract of the WSDL layer that loads (catalog-mapped trees,
    /// chameleon includes, import cycles, inline schemas, rpc, DTD subsets) compiles.
    #[test]
    fn every_loadable_fixture_contract_compiles() {
        fn walk(d: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "wsdl") {
                    out.push(p);
                }
            }
        }
        let fixtures = root().join("tests/fixtures/wsdl");
        let catalog = Catalog::load(&fixtures.join("catalog.xml")).unwrap();
        let mut wsdls = Vec::new();
        walk(&fixtures, &mut wsdls);
        let mut compiled = 0;
        for w in wsdls {
            let Ok(c) = load(&w, &catalog) else { continue };
            if let Err(p) = SchemaSet::compile_contract(&c) {
                panic!("{}: {p}", w.display());
            }
            compiled += 1;
        }
        assert!(compiled >= 8, "{compiled}");
    }
}
