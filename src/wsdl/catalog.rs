//! OASIS XML Catalogs 1.1 (the subset schema loading needs): `uri`, `system`,
//! `rewriteURI`, `rewriteSystem`, `uriSuffix`, `systemSuffix`, `group`, `nextCatalog` and
//! `xml:base`. A catalog maps the absolute URLs real WSDL/XSD sets import to local files;
//! the gateway never fetches anything, so every entry must name a local file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::uri;
use crate::problem::{Problem, Problems};
use crate::xml::line_of;

/// The catalog namespace (XML Catalogs 1.1 §6.1).
pub const CATALOG_NS: &str = "urn:oasis:names:tc:entity:xmlns:xml:catalog";

/// Absolute-URL-to-file mapping (OASIS XML Catalogs).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Exact `uri` entries: name -> file.
    pub entries: Vec<(String, PathBuf)>,
    /// Exact `system` entries: systemId -> file.
    system: Vec<(String, PathBuf)>,
    /// `rewriteURI` and `rewriteSystem`: start string -> local prefix (a path string,
    /// trailing `/` kept, so that prefix + rest of the URL is the file).
    rewrite: Vec<(String, String)>,
    /// `uriSuffix` and `systemSuffix`: suffix -> file.
    suffix: Vec<(String, PathBuf)>,
    /// `nextCatalog`s, consulted in order when this one has no match (§4.1.1).
    next: Vec<Catalog>,
}

impl Catalog {
    pub fn load(path: &Path) -> Result<Catalog, Problems> {
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        let cat = load_one(path, &mut seen, &mut problems);
        if problems.is_empty() {
            Ok(cat)
        } else {
            Err(Problems(problems))
        }
    }

    /// The local file for an absolute URI (a `schemaLocation`, a `wsdl:import`
    /// `location`). Exact entries first, then the longest rewrite prefix, then the longest
    /// suffix (§7.2.2); `system` entries are consulted too, since many catalogs written for
    /// schema sets use them for what are URI references.
    pub fn resolve(&self, uri_ref: &str) -> Option<PathBuf> {
        if let Some((_, p)) = self
            .entries
            .iter()
            .chain(&self.system)
            .find(|(name, _)| name == uri_ref)
        {
            return Some(p.clone());
        }
        if let Some((start, prefix)) = self
            .rewrite
            .iter()
            .filter(|(start, _)| uri_ref.starts_with(start.as_str()))
            .max_by_key(|(start, _)| start.len())
        {
            // The query stays in the name (`Service.svc?xsd=xsd0` saved as a file).
            let rest = crate::percent::decode_lenient(&uri_ref[start.len()..]);
            return Some(uri::normalize(Path::new(&format!("{prefix}{rest}"))));
        }
        if let Some((_, p)) = self
            .suffix
            .iter()
            .filter(|(suffix, _)| uri_ref.ends_with(suffix.as_str()))
            .max_by_key(|(suffix, _)| suffix.len())
        {
            return Some(p.clone());
        }
        self.next.iter().find_map(|c| c.resolve(uri_ref))
    }

    /// The schema for a namespace imported without `schemaLocation`: a `uri` entry whose
    /// name is the namespace (the convention libxml2 and Xerces resolvers follow).
    pub fn resolve_namespace(&self, namespace: &str) -> Option<PathBuf> {
        self.entries
            .iter()
            .find(|(name, _)| name == namespace)
            .map(|(_, p)| p.clone())
            .or_else(|| {
                self.next
                    .iter()
                    .find_map(|c| c.resolve_namespace(namespace))
            })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
            && self.system.is_empty()
            && self.rewrite.is_empty()
            && self.suffix.is_empty()
            && self.next.iter().all(Catalog::is_empty)
    }
}

fn load_one(path: &Path, seen: &mut HashSet<PathBuf>, problems: &mut Vec<Problem>) -> Catalog {
    let mut cat = Catalog::default();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if !seen.insert(key) {
        return cat; // nextCatalog cycle: already consulted
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            problems.push(Problem::file(path, format!("cannot read XML catalog: {e}")));
            return cat;
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        problems.push(Problem::file(path, "XML catalog is not UTF-8"));
        return cat;
    };
    // `catalog.xml` has the parent "", which must not become the root directory.
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The base of each open element (xml:base, §6.3), as a directory path string.
    let mut bases: Vec<String> = vec![format!("{}/", dir.display())];
    let mut reader = NsReader::from_str(text);
    let mut root = true;
    let mut next_paths = Vec::new();
    loop {
        let start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = line_of(&bytes, reader.error_position() as usize);
                problems.push(Problem::at(path, line, format!("malformed XML: {e}")));
                return cat;
            }
        };
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                bases.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let line = line_of(&bytes, start);
        let (res, local) = reader.resolver().resolve_element(e.name());
        let in_ns = matches!(res, ResolveResult::Bound(n) if n.into_inner() == CATALOG_NS);
        let local = local.into_inner().to_string();
        let attr = |name: &str| attribute(&e, name);
        let parent_base = bases.last().cloned().unwrap_or_default();
        let base = match attribute_xml_base(&e) {
            Some(b) => as_base(&parent_base, &b),
            None => parent_base,
        };
        if root {
            root = false;
            if !(in_ns && local == "catalog") {
                problems.push(Problem::at(
                    path,
                    line,
                    format!(
                        "not an OASIS XML catalog (root element `{local}`; expected \
                         `catalog` in namespace {CATALOG_NS})"
                    ),
                ));
                return cat;
            }
        } else if in_ns {
            let mut need = |name: &str| {
                let v = attr(name);
                if v.is_none() {
                    problems.push(Problem::at(
                        path,
                        line,
                        format!("catalog entry `{local}` lacks `{name}`"),
                    ));
                }
                v
            };
            match local.as_str() {
                "uri" | "system" => {
                    let key = if local == "uri" { "name" } else { "systemId" };
                    if let (Some(name), Some(target)) = (need(key), need("uri")) {
                        match local_target(&base, &target) {
                            Some(p) if local == "uri" => cat.entries.push((name, p)),
                            Some(p) => cat.system.push((name, p)),
                            None => problems.push(not_local(path, line, &target)),
                        }
                    }
                }
                "rewriteURI" | "rewriteSystem" => {
                    let key = if local == "rewriteURI" {
                        "uriStartString"
                    } else {
                        "systemIdStartString"
                    };
                    if let (Some(start), Some(prefix)) = (need(key), need("rewritePrefix")) {
                        match local_target(&base, &prefix) {
                            Some(p) => {
                                let mut s = p.display().to_string();
                                if prefix.ends_with('/') && !s.ends_with('/') {
                                    s.push('/');
                                }
                                cat.rewrite.push((start, s));
                            }
                            None => problems.push(not_local(path, line, &prefix)),
                        }
                    }
                }
                "uriSuffix" | "systemSuffix" => {
                    let key = if local == "uriSuffix" {
                        "uriSuffix"
                    } else {
                        "systemIdSuffix"
                    };
                    if let (Some(suffix), Some(target)) = (need(key), need("uri")) {
                        match local_target(&base, &target) {
                            Some(p) => cat.suffix.push((suffix, p)),
                            None => problems.push(not_local(path, line, &target)),
                        }
                    }
                }
                "nextCatalog" => {
                    if let Some(target) = need("catalog") {
                        match local_target(&base, &target) {
                            Some(p) => next_paths.push(p),
                            None => problems.push(not_local(path, line, &target)),
                        }
                    }
                }
                // group only carries xml:base/prefer; public, delegate* and uri/system
                // kinds for DTDs do not apply to schema locations.
                _ => {}
            }
        }
        if !empty {
            bases.push(base);
        }
    }
    for p in next_paths {
        cat.next.push(load_one(&p, seen, problems));
    }
    cat
}

fn not_local(path: &Path, line: usize, target: &str) -> Problem {
    Problem::at(
        path,
        line,
        format!("catalog target `{target}` is not a local file (nothing is ever fetched)"),
    )
}

fn attribute(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.0 == name)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
        .map(|v| v.trim().to_string())
}

fn attribute_xml_base(e: &BytesStart<'_>) -> Option<String> {
    attribute(e, "xml:base")
}

/// A new base from an `xml:base` value, as a directory string ending in `/`.
fn as_base(parent: &str, value: &str) -> String {
    let mut s = match local_target(parent, value) {
        Some(p) => p.display().to_string(),
        None => value.to_string(),
    };
    if value.ends_with('/') && !s.ends_with('/') {
        s.push('/');
    }
    // A base without a trailing slash names a file; its directory is the base.
    if !s.ends_with('/') {
        if let Some(i) = s.rfind('/') {
            s.truncate(i + 1);
        }
    }
    s
}

/// A catalog target as a local path: relative to the base, an absolute path, or `file:`.
fn local_target(base: &str, target: &str) -> Option<PathBuf> {
    if let Some(p) = uri::file_path(target) {
        return Some(uri::normalize(&p));
    }
    if uri::is_absolute(target) {
        return None;
    }
    if uri::is_absolute(base) {
        // A non-file base (e.g. an http xml:base) makes relative targets non-local too.
        return uri::file_path(&uri::resolve(base, target)).map(|p| uri::normalize(&p));
    }
    let decoded = crate::percent::decode_lenient(target);
    let p = Path::new(&decoded);
    Some(uri::normalize(&if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(base).join(p)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn entries_rewrites_suffixes_bases_and_next_catalogs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "next.xml",
            r#"<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <uri name="http://n.example/x.xsd" uri="n/x.xsd"/>
  <nextCatalog catalog="catalog.xml"/>
</catalog>"#,
        );
        let cat = write(
            d,
            "catalog.xml",
            r#"<?xml version="1.0"?>
<!DOCTYPE catalog PUBLIC "-//OASIS//DTD XML Catalogs V1.1//EN" "http://www.oasis-open.org/committees/entity/release/1.1/catalog.dtd">
<c:catalog xmlns:c="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <c:uri name="http://www.w3.org/2001/xml.xsd" uri="../w3c/xml.xsd"/>
  <c:uri name="urn:ns:only" uri="ns.xsd"/>
  <c:system systemId="http://s.example/s.xsd" uri="file:///opt/s.xsd"/>
  <c:group xml:base="vendor/">
    <c:rewriteURI uriStartString="http://v.example/" rewritePrefix="v/"/>
    <c:rewriteURI uriStartString="http://v.example/deep/" rewritePrefix="deep/"/>
    <c:uriSuffix uriSuffix="/common.xsd" uri="common.xsd"/>
  </c:group>
  <c:nextCatalog catalog="next.xml"/>
</c:catalog>"#,
        );
        let c = Catalog::load(&cat).unwrap();
        let parent = d.parent().unwrap();
        assert_eq!(
            c.resolve("http://www.w3.org/2001/xml.xsd"),
            Some(parent.join("w3c/xml.xsd"))
        );
        assert_eq!(
            c.resolve("http://s.example/s.xsd"),
            Some("/opt/s.xsd".into())
        );
        assert_eq!(
            c.resolve("http://v.example/a/b%20c.xsd"),
            Some(d.join("vendor/v/a/b c.xsd"))
        );
        assert_eq!(
            c.resolve("http://v.example/deep/e.xsd"),
            Some(d.join("vendor/deep/e.xsd"))
        );
        assert_eq!(
            c.resolve("http://other.example/x/common.xsd"),
            Some(d.join("vendor/common.xsd"))
        );
        assert_eq!(c.resolve("http://n.example/x.xsd"), Some(d.join("n/x.xsd")));
        assert_eq!(c.resolve("http://unknown.example/"), None);
        assert_eq!(c.resolve_namespace("urn:ns:only"), Some(d.join("ns.xsd")));
    }

    #[test]
    fn problems_carry_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "c.xml",
            "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n<uri name=\"x\"/>\n\
             <uri name=\"y\" uri=\"http://remote/y.xsd\"/>\n</catalog>",
        );
        let e = Catalog::load(&p).unwrap_err().to_string();
        let f = p.display();
        assert_eq!(
            e,
            format!(
                "{f}:2: catalog entry `uri` lacks `uri`\n{f}:3: catalog target \
                 `http://remote/y.xsd` is not a local file (nothing is ever fetched)"
            )
        );
        let p = write(dir.path(), "d.xml", "<root/>");
        assert!(Catalog::load(&p)
            .unwrap_err()
            .to_string()
            .contains("not an OASIS XML catalog"));
        let p = write(
            dir.path(),
            "e.xml",
            "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n<oops></catalog>",
        );
        assert!(Catalog::load(&p)
            .unwrap_err()
            .to_string()
            .contains("e.xml:2: malformed XML"));
    }
}
