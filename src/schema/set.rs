//! A compiled set of schemas: the XSD files and the inline `wsdl:types` schemas of a
//! contract (or the source/target XSD of a mapping), validated against as one union.
//!
//! libxml2 resolves components across documents only through `xs:import`, and imports a
//! namespace once; so the set is a generated wrapper schema that imports every namespace
//! (namespaces spread over several documents get a generated aggregator that includes them
//! all). Inline schemas are cut out of their WSDL with the namespace declarations in scope
//! on `wsdl:definitions` copied onto them (WSDL 1.1 §2.2 lets them rely on those), and are
//! served to libxml2 from memory by [`ffi`]'s loader, which never fetches over the network.
//!
//! A set is compiled once, when it is loaded (or reloaded), and the compiled schema is
//! shared by every thread; each validation makes its own cheap libxml2 context
//! ([`ffi::Compiled`]). No request waits for a compile, and memory does not grow with the
//! number of worker threads.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::dtd;
use super::ffi::Compiled;
use super::tree::Tree;
use crate::libxml2::{self, Diagnostic, Document, Options};
use crate::problem::{Problem, Problems};
use crate::xml::escape::text as esc;
use crate::xml::{ns, QName};

/// Most violations listed in one fault; the rest are counted.
const MAX_VIOLATIONS: usize = 20;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

#[derive(Clone)]
pub struct SchemaSet {
    inner: Arc<Inner>,
}

struct Inner {
    /// The compiled wrapper schema; `None` for an empty set.
    compiled: Option<Compiled>,
    /// Every URI registered with the loader, forgotten on drop.
    served: Vec<String>,
    /// Memory URI -> (WSDL it was cut from, line of the `xs:schema` start tag there).
    origins: BTreeMap<String, (PathBuf, usize)>,
    /// Namespaces covered, for messages.
    namespaces: Vec<String>,
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("namespaces", &self.inner.namespaces)
            .finish()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        libxml2::forget(&self.served);
    }
}

impl SchemaSet {
    /// Compiles `xsd_files` plus the inline schemas of `inline_schemas_from` (WSDL files).
    /// Every problem (unreadable file, not a schema, libxml2 compile error) is reported as
    /// `file:line: reason`.
    pub fn compile(
        xsd_files: &[PathBuf],
        inline_schemas_from: &[PathBuf],
    ) -> Result<SchemaSet, Problems> {
        Self::compile_with_catalog(xsd_files, inline_schemas_from, &[])
    }

    /// As [`compile`](Self::compile), with absolute import URLs mapped to local files.
    pub fn compile_with_catalog(
        xsd_files: &[PathBuf],
        inline_schemas_from: &[PathBuf],
        catalog: &[(String, PathBuf)],
    ) -> Result<SchemaSet, Problems> {
        libxml2::init();
        for (url, path) in catalog {
            libxml2::serve_file(url, path);
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut problems = Vec::new();
        let mut served = Vec::new();
        let mut origins = BTreeMap::new();
        // namespace -> schema locations
        let mut by_ns: BTreeMap<String, Vec<String>> = BTreeMap::new();

        for (k, f) in xsd_files.iter().enumerate() {
            let text = match std::fs::read_to_string(f) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::file(f, format!("cannot read: {e}")));
                    continue;
                }
            };
            // A trusted file may carry an internal DTD subset: libxml2 gets a copy without
            // it (entities expanded, external ones never), served from memory.
            let expanded = match dtd::expand_internal(&text) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::file(f, e));
                    continue;
                }
            };
            match Tree::parse(&expanded, true) {
                Err(e) => problems.push(Problem::file(f, format!("not well-formed: {e}"))),
                Ok(t) if !t.root().is(ns::XSD, "schema") => problems.push(Problem::at(
                    f,
                    t.root().line,
                    "not an XML Schema (root is not xs:schema)",
                )),
                Ok(t) => {
                    let tns = t.root().attr("targetNamespace").unwrap_or("").to_string();
                    let location = match expanded {
                        Cow::Borrowed(_) => libxml2::location(f),
                        Cow::Owned(copy) => {
                            let dir = f.parent().unwrap_or(Path::new("."));
                            let uri = format!("lienthong-mem:/{id}/file-{k}.xsd");
                            libxml2::serve_memory(&uri, &absolute_locations(&t, 0, dir, copy));
                            served.push(uri.clone());
                            origins.insert(uri.clone(), (f.clone(), 1));
                            uri
                        }
                    };
                    push_unique(by_ns.entry(tns).or_default(), location);
                }
            }
        }
        let mut n = 0;
        for w in inline_schemas_from {
            let text = match std::fs::read_to_string(w) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::file(w, format!("cannot read: {e}")));
                    continue;
                }
            };
            match extract_inline(w, &text) {
                Err(p) => problems.push(p),
                Ok(schemas) => {
                    for s in schemas {
                        n += 1;
                        let uri = format!("lienthong-mem:/{id}/inline-{n}.xsd");
                        libxml2::serve_memory(&uri, &s.text);
                        served.push(uri.clone());
                        origins.insert(uri.clone(), (w.clone(), s.line));
                        by_ns.entry(s.target_ns).or_default().push(uri);
                    }
                }
            }
        }
        if !problems.is_empty() {
            libxml2::forget(&served);
            return Err(Problems(problems));
        }
        Self::assemble(id, by_ns, served, origins)
    }

    /// A fresh identity for the memory URIs of a set (`lienthong-mem:/{id}/...`).
    pub(crate) fn next_id() -> u64 {
        NEXT_ID.fetch_add(1, Ordering::Relaxed)
    }

    /// The set of the schema documents `by_ns` (namespace -> locations the loader finds;
    /// memory documents already served, listed in `served`), compiled once now so that
    /// every problem is reported at load time. `origins` maps memory URIs back to the file
    /// and line their text came from.
    pub(crate) fn assemble(
        id: u64,
        by_ns: BTreeMap<String, Vec<String>>,
        mut served: Vec<String>,
        origins: BTreeMap<String, (PathBuf, usize)>,
    ) -> Result<SchemaSet, Problems> {
        if by_ns.is_empty() {
            return Ok(SchemaSet {
                inner: Arc::new(Inner {
                    compiled: None,
                    served,
                    origins,
                    namespaces: Vec::new(),
                }),
            });
        }

        let wrapper_ns = format!("urn:lienthong:schema-set:{id}");
        let mut wrapper = format!(
            "<xs:schema xmlns:xs=\"{}\" targetNamespace=\"{}\">",
            ns::XSD,
            wrapper_ns
        );
        for (i, (tns, locations)) in by_ns.iter().enumerate() {
            let location = if locations.len() == 1 {
                locations[0].clone()
            } else {
                let uri = format!("lienthong-mem:/{id}/ns-{i}.xsd");
                let mut agg = format!("<xs:schema xmlns:xs=\"{}\"", ns::XSD);
                if !tns.is_empty() {
                    agg.push_str(&format!(" targetNamespace=\"{}\"", esc(tns)));
                }
                agg.push('>');
                for l in locations {
                    agg.push_str(&format!("<xs:include schemaLocation=\"{}\"/>", esc(l)));
                }
                agg.push_str("</xs:schema>");
                libxml2::serve_memory(&uri, &agg);
                served.push(uri.clone());
                uri
            };
            if tns.is_empty() {
                wrapper.push_str("<xs:import");
            } else {
                wrapper.push_str(&format!("<xs:import namespace=\"{}\"", esc(tns)));
            }
            wrapper.push_str(&format!(" schemaLocation=\"{}\"/>", esc(&location)));
        }
        wrapper.push_str("</xs:schema>");
        let wrapper_uri = format!("lienthong-mem:/{id}/set.xsd");
        libxml2::serve_memory(&wrapper_uri, &wrapper);
        served.push(wrapper_uri.clone());

        // Compiled once, now: every problem is reported at load time, and no request ever
        // waits for a compile.
        let compiled = Compiled::compile(&wrapper_uri);
        let mut inner = Inner {
            compiled: None,
            served,
            origins,
            namespaces: by_ns.keys().cloned().collect(),
        };
        match compiled {
            Ok(c) => inner.compiled = Some(c),
            Err(diags) => return Err(inner.problems(diags)),
        }
        Ok(SchemaSet {
            inner: Arc::new(inner),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.inner.compiled.is_none()
    }

    pub fn namespaces(&self) -> &[String] {
        &self.inner.namespaces
    }

    /// Validates a standalone document. `expected_root`, when given, is also enforced: the
    /// union accepts any global element, the operation accepts one.
    pub fn validate(
        &self,
        payload: &[u8],
        expected_root: Option<&QName>,
    ) -> Result<(), Vec<String>> {
        self.validate_at(payload, expected_root, 1)
    }

    /// As [`validate`](Self::validate), for a payload that starts on line `first_line` of
    /// the message as its sender wrote it: violations name the sender's lines.
    pub fn validate_at(
        &self,
        payload: &[u8],
        expected_root: Option<&QName>,
        first_line: usize,
    ) -> Result<(), Vec<String>> {
        // Fast path for the common case, a valid message: validated as it streams through
        // the parser, without a tree. Only a message that fails is parsed into a tree, to
        // report every violation with its path.
        if !self.is_empty()
            && expected_root.is_none_or(|want| {
                crate::soap::envelope::root_name(payload).is_some_and(|r| r == *want)
            })
            && self.compiled().is_some_and(|c| c.stream_valid(payload))
        {
            return Ok(());
        }
        let doc = Document::parse(payload, &Options::PAYLOAD).map_err(|e| vec![e.to_string()])?;
        self.validate_doc(&doc, expected_root, first_line)
    }

    fn validate_doc(
        &self,
        doc: &Document,
        expected_root: Option<&QName>,
        first_line: usize,
    ) -> Result<(), Vec<String>> {
        if let Some(want) = expected_root {
            let (ns, local) = doc
                .root()
                .map(|r| (r.ns().to_string(), r.local().to_string()))
                .unwrap_or_default();
            if !want.is(&ns, &local) {
                return Err(vec![format!(
                    "/: expected root element {want}, found {}",
                    QName::new(ns, local)
                )]);
            }
        }
        let Some(compiled) = self.compiled() else {
            return Ok(());
        };
        let diags = compiled.validate(doc);
        if diags.is_empty() {
            return Ok(());
        }
        let total = diags.len();
        let mut out: Vec<String> = diags
            .iter()
            .take(MAX_VIOLATIONS)
            .map(|d| d.violation_at(first_line))
            .collect();
        if total > MAX_VIOLATIONS {
            out.push(format!("... and {} more", total - MAX_VIOLATIONS));
        }
        Err(out)
    }

    /// The compiled schema, shared by every thread; `None` for an empty set.
    fn compiled(&self) -> Option<&Compiled> {
        self.inner.compiled.as_ref()
    }
}

impl Inner {
    fn problems(&self, diags: Vec<Diagnostic>) -> Problems {
        if diags.is_empty() {
            return Problems(vec![Problem {
                file: PathBuf::from("<schema set>"),
                line: None,
                reason: "libxml2 could not compile the schemas".into(),
            }]);
        }
        Problems(
            diags
                .into_iter()
                .map(|d| {
                    let reason = d.message.trim().to_string();
                    match d.file.as_deref() {
                        Some(f) if f.starts_with("lienthong-mem:") => match self.origins.get(f) {
                            Some((wsdl, start)) => Problem {
                                file: wsdl.clone(),
                                line: d.line.map(|l| start + l - 1),
                                reason,
                            },
                            None => Problem {
                                file: PathBuf::from("<generated schema set>"),
                                line: None,
                                reason,
                            },
                        },
                        Some(f) => Problem {
                            file: libxml2::path_of(f),
                            line: d.line,
                            reason,
                        },
                        None => Problem {
                            file: PathBuf::from("<schema set>"),
                            line: None,
                            reason,
                        },
                    }
                })
                .collect(),
        )
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// An `xs:schema` cut out of a WSDL's `types`.
struct Inline {
    target_ns: String,
    text: String,
    line: usize,
}

/// Cuts each `wsdl:types/xs:schema` out as a standalone document: namespace declarations in
/// scope copied onto its start tag, relative `schemaLocation`s made absolute (they are
/// relative to the WSDL, the cut-out lives in memory). Lines are preserved so that compile
/// errors can point back into the WSDL.
fn extract_inline(wsdl: &Path, text: &str) -> Result<Vec<Inline>, Problem> {
    let tree = Tree::parse(text, true)
        .map_err(|e| Problem::file(wsdl, format!("not well-formed: {e}")))?;
    if !tree.root().is(ns::WSDL11, "definitions") {
        return Err(Problem::at(
            wsdl,
            tree.root().line,
            "not a WSDL 1.1 document (root is not wsdl:definitions)",
        ));
    }
    let dir = wsdl.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (ti, types) in tree.children(0) {
        if !types.is(ns::WSDL11, "types") {
            continue;
        }
        for (si, schema) in tree.children(ti) {
            if !schema.is(ns::XSD, "schema") {
                continue;
            }
            let (start, end) = element_span(text, schema.line, &schema.local)
                .ok_or_else(|| Problem::at(wsdl, schema.line, "cannot locate inline schema"))?;
            let mut s = text[start..end].to_string();
            // Declarations in scope from ancestors, unless redeclared on the schema itself.
            let missing: String = tree
                .in_scope(si)
                .into_iter()
                .filter(|(p, _)| !schema.ns_decls.iter().any(|(q, _)| q == p))
                .map(|(p, u)| {
                    if p.is_empty() {
                        format!(" xmlns=\"{}\"", esc(&u))
                    } else {
                        format!(" xmlns:{p}=\"{}\"", esc(&u))
                    }
                })
                .collect();
            let name_end = s[1..]
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .map(|i| i + 1)
                .unwrap_or(s.len());
            s.insert_str(name_end, &missing);
            // Relative schemaLocations of imports/includes inside the schema.
            let s = absolute_locations(&tree, si, dir, s);
            out.push(Inline {
                target_ns: schema.attr("targetNamespace").unwrap_or("").to_string(),
                text: s,
                line: schema.line,
            });
        }
    }
    Ok(out)
}

/// `text` (the schema at `idx` of `tree`) with relative `schemaLocation`s made absolute
/// against `dir`: the copy lives in memory, where nothing is relative to the file.
fn absolute_locations(tree: &Tree, idx: usize, dir: &Path, mut text: String) -> String {
    let mut locations = Vec::new();
    collect_locations(tree, idx, &mut locations);
    for loc in locations {
        if loc.contains(':') || loc.starts_with('/') {
            continue;
        }
        let abs = libxml2::location(&dir.join(&loc));
        for q in ['"', '\''] {
            text = text.replace(
                &format!("schemaLocation={q}{loc}{q}"),
                &format!("schemaLocation=\"{}\"", esc(&abs)),
            );
        }
    }
    text
}

fn collect_locations(tree: &Tree, idx: usize, out: &mut Vec<String>) {
    for (c, el) in tree.children(idx) {
        if *el.ns == *ns::XSD && matches!(el.local.as_str(), "import" | "include" | "redefine") {
            if let Some(l) = el.attr("schemaLocation") {
                out.push(l.to_string());
            }
        }
        collect_locations(tree, c, out);
    }
}

/// Byte span of the element whose start tag is on `line` with local name `local`:
/// from its `<` to the end of its matching end tag (or of its empty-element tag).
fn element_span(text: &str, line: usize, local: &str) -> Option<(usize, usize)> {
    let line_start = text
        .match_indices('\n')
        .nth(line.checked_sub(2)?)
        .map(|(i, _)| i + 1)
        .unwrap_or(0);
    let line_start = if line == 1 { 0 } else { line_start };
    let bytes = text.as_bytes();
    // The start tag: `<` then an optional prefix then the local name.
    let mut i = line_start;
    let start = loop {
        let j = text[i..].find('<')? + i;
        let name: String = text[j + 1..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        if name.rsplit(':').next() == Some(local) {
            break j;
        }
        i = j + 1;
    };
    // Walk tags counting depth (CDATA/comments inside schemas are rare and tag-free).
    let mut depth = 0usize;
    let mut k = start;
    while k < bytes.len() {
        let lt = text[k..].find('<')? + k;
        let gt = text[lt..].find('>')? + lt;
        let tag = &text[lt..=gt];
        if tag.starts_with("<!--") {
            k = text[lt..].find("-->")? + lt + 3;
            continue;
        }
        if tag.starts_with("</") {
            depth -= 1;
            if depth == 0 {
                return Some((start, gt + 1));
            }
        } else if tag.ends_with("/>") {
            if depth == 0 {
                return Some((start, gt + 1));
            }
        } else if !tag.starts_with("<?") && !tag.starts_with("<!") {
            depth += 1;
        }
        k = gt + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn contract() -> SchemaSet {
        SchemaSet::compile(
            &[],
            &[root().join("wsdl/tiep-nhan-ho-so/TiepNhanHoSo.wsdl")],
        )
        .unwrap()
    }

    const HO_SO: &str = r#"<h:HoSo xmlns:h="urn:mot-cua-huyen:ho-so:1"><h:MaHoSo>H38.21-240301-0001</h:MaHoSo><h:MaThuTuc>1.001612</h:MaThuTuc><h:LinhVuc>HT</h:LinhVuc><h:NgayNop>01/03/2024</h:NgayNop><h:NguoiNop><h:HoTen>Lê Thị Hoa</h:HoTen><h:SoCCCD>038190001234</h:SoCCCD><h:DiaChi>Đông Sơn</h:DiaChi></h:NguoiNop><h:MaDonVi>000.00.21.H38</h:MaDonVi></h:HoSo>"#;

    /// A valid message takes the streaming path; an invalid one is refused by it too (and
    /// then reported from a tree, as above).
    #[test]
    fn streaming_validation_agrees_with_the_tree() {
        let set = contract();
        let compiled = set.compiled().unwrap();
        assert!(compiled.stream_valid(HO_SO.as_bytes()));
        let bad = HO_SO.replace("01/03/2024", "2024-03-01T99");
        let doc = Document::parse(bad.as_bytes(), &Options::PAYLOAD).unwrap();
        assert!(!compiled.validate(&doc).is_empty());
        assert!(!compiled.stream_valid(bad.as_bytes()));
        assert!(!compiled.stream_valid(b"<h:HoSo xmlns:h=\"urn:mot-cua-huyen:ho-so:1\">"));
        assert!(!compiled.stream_valid(b"<!DOCTYPE x []><x/>"));
    }

    #[test]
    fn inline_wsdl_schemas_with_relative_imports_validate_both_namespaces() {
        let set = contract();
        assert!(set
            .namespaces()
            .contains(&"urn:tinh:tiep-nhan-ho-so:wsdl:1".to_string()));
        let want = QName::new("urn:mot-cua-huyen:ho-so:1", "HoSo");
        set.validate(HO_SO.as_bytes(), Some(&want)).unwrap();
        let bad = r#"<t:KetQuaTiepNhanHoSo xmlns:t="urn:tinh:tiep-nhan-ho-so:1"><t:SoHoSo>1</t:SoHoSo><t:MaTrangThai>1</t:MaTrangThai><t:NgayHenTraKetQua>abc</t:NgayHenTraKetQua></t:KetQuaTiepNhanHoSo>"#;
        let v = set.validate(bad.as_bytes(), None).unwrap_err();
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].starts_with("/t:KetQuaTiepNhanHoSo/t:NgayHenTraKetQua: 'abc' is not a valid value of the atomic type 'xs:date'"),
            "{v:?}"
        );
    }

    #[test]
    fn every_violation_is_listed_with_its_path() {
        let set =
            SchemaSet::compile(&[root().join("schemas/mot-cua-huyen/HoSo.xsd")], &[]).unwrap();
        let bad = HO_SO
            .replace("<h:LinhVuc>HT</h:LinhVuc>", "<h:LinhVuc>ZZ</h:LinhVuc>")
            .replace("01/03/2024", "2024-03-01");
        let v = set.validate(bad.as_bytes(), None).unwrap_err();
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].starts_with("/h:HoSo/h:LinhVuc: "), "{v:?}");
        assert!(v[1].starts_with("/h:HoSo/h:NgayNop: "), "{v:?}");
        let missing = HO_SO.replace("<h:MaThuTuc>1.001612</h:MaThuTuc>", "");
        let v = set.validate(missing.as_bytes(), None).unwrap_err();
        assert!(v[0].contains("MaThuTuc"), "{v:?}");
    }

    #[test]
    fn wrong_root_doctype_and_malformed_are_refused() {
        let set = contract();
        let want = QName::new("urn:tinh:tiep-nhan-ho-so:1", "ThongTinHoSo");
        let v = set.validate(HO_SO.as_bytes(), Some(&want)).unwrap_err();
        assert!(v[0].contains("expected root element"), "{v:?}");
        let xxe = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
        let v = set.validate(xxe.as_bytes(), None).unwrap_err();
        assert!(v[0].contains("DOCTYPE"), "{v:?}");
        let v = set.validate(b"<h:HoSo xmlns:h=\"x\">", None).unwrap_err();
        assert!(v[0].starts_with("not well-formed"), "{v:?}");
    }

    #[test]
    fn keyref_violations_name_their_element() {
        let dir = tempfile::tempdir().unwrap();
        let xsd = dir.path().join("k.xsd");
        std::fs::write(
            &xsd,
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:k="urn:k" targetNamespace="urn:k" elementFormDefault="qualified">
  <xs:element name="R">
    <xs:complexType><xs:sequence>
      <xs:element name="A" maxOccurs="unbounded"><xs:complexType><xs:attribute name="id" type="xs:string"/></xs:complexType></xs:element>
      <xs:element name="B" maxOccurs="unbounded"><xs:complexType><xs:attribute name="ref" type="xs:string"/></xs:complexType></xs:element>
    </xs:sequence></xs:complexType>
    <xs:key name="AKey"><xs:selector xpath="k:A"/><xs:field xpath="@id"/></xs:key>
    <xs:keyref name="BRef" refer="k:AKey"><xs:selector xpath="k:B"/><xs:field xpath="@ref"/></xs:keyref>
  </xs:element>
</xs:schema>"#,
        )
        .unwrap();
        let set = SchemaSet::compile(&[xsd], &[]).unwrap();
        let doc = "<R xmlns=\"urn:k\">\n<A id=\"1\"/>\n<B ref=\"1\"/>\n<B ref=\"2\"/>\n</R>";
        // The payload starts on line 10 of the message: the second B is on line 13.
        let v = set.validate_at(doc.as_bytes(), None, 10).unwrap_err();
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].starts_with("/R/B[2]: "), "{v:?}");
        assert!(v[0].contains("keyref '{urn:k}BRef'"), "{v:?}");
        assert!(v[0].ends_with("(line 13)"), "{v:?}");
        let dup = "<R xmlns=\"urn:k\"><A id=\"1\"/><A id=\"1\"/><B ref=\"1\"/></R>";
        let v = set.validate(dup.as_bytes(), None).unwrap_err();
        assert!(v[0].starts_with("/R/A[2]: Duplicate key-sequence"), "{v:?}");
    }

    /// One compiled schema serves several threads at once, valid and invalid messages
    /// interleaved (the tree pass of an invalid one never sees a streaming context).
    #[test]
    fn one_compiled_schema_serves_threads_at_once() {
        let set = contract();
        let bad = HO_SO.replace("01/03/2024", "2024-03-01T99");
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (set, bad) = (set.clone(), bad.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        set.validate(HO_SO.as_bytes(), None).unwrap();
                        let v = set.validate(bad.as_bytes(), None).unwrap_err();
                        assert!(v[0].contains("NgayNop"), "{v:?}");
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    }

    #[test]
    fn compile_errors_point_at_file_and_line_and_nothing_is_fetched() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.xsd");
        std::fs::write(
            &bad,
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n  <xs:element name=\"a\" type=\"xs:nope\"/>\n</xs:schema>\n",
        )
        .unwrap();
        let err = SchemaSet::compile(&[bad], &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bad.xsd:2:"), "{msg}");

        let wsdl = dir.path().join("net.wsdl");
        std::fs::write(
            &wsdl,
            "<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n<wsdl:types>\n<xs:schema targetNamespace=\"urn:a\">\n<xs:import namespace=\"urn:b\" schemaLocation=\"http://127.0.0.1:9/b.xsd\"/>\n<xs:element name=\"a\" type=\"b:T\" xmlns:b=\"urn:b\"/>\n</xs:schema>\n</wsdl:types>\n</wsdl:definitions>\n",
        )
        .unwrap();
        let err = SchemaSet::compile(&[], &[wsdl]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("net.wsdl:"), "{msg}");

        let not = dir.path().join("not.xsd");
        std::fs::write(&not, "<html/>").unwrap();
        let err = SchemaSet::compile(&[not], &[]).unwrap_err();
        assert!(err.to_string().contains("not an XML Schema"), "{err}");
    }

    #[test]
    fn inline_schemas_importing_each_other_without_location() {
        let dir = tempfile::tempdir().unwrap();
        let wsdl = dir.path().join("two.wsdl");
        std::fs::write(
            &wsdl,
            r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:a="urn:a" xmlns:b="urn:b">
<wsdl:types>
<xs:schema targetNamespace="urn:a" elementFormDefault="qualified">
  <xs:import namespace="urn:b"/>
  <xs:element name="R" type="b:T"/>
</xs:schema>
<xs:schema targetNamespace="urn:b" elementFormDefault="qualified">
  <xs:complexType name="T"><xs:sequence><xs:element name="d" type="xs:date"/></xs:sequence></xs:complexType>
</xs:schema>
</wsdl:types>
</wsdl:definitions>"#,
        )
        .unwrap();
        let set = SchemaSet::compile(&[], &[wsdl]).unwrap();
        set.validate(
            b"<R xmlns=\"urn:a\"><d xmlns=\"urn:b\">2024-01-01</d></R>",
            None,
        )
        .unwrap();
        let v = set
            .validate(b"<R xmlns=\"urn:a\"><d xmlns=\"urn:b\">x</d></R>", None)
            .unwrap_err();
        assert!(v[0].starts_with("/R/d: 'x' is not a valid value"), "{v:?}");
    }

    #[test]
    fn one_namespace_over_several_files() {
        let dir = tempfile::tempdir().unwrap();
        let head = "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:a=\"urn:a\" targetNamespace=\"urn:a\" elementFormDefault=\"qualified\">";
        let a = dir.path().join("a1.xsd");
        let b = dir.path().join("a2.xsd");
        std::fs::write(
            &a,
            format!("{head}<xs:element name=\"R\" type=\"a:T\"/></xs:schema>"),
        )
        .unwrap();
        std::fs::write(
            &b,
            format!("{head}<xs:complexType name=\"T\"><xs:sequence><xs:element name=\"x\" type=\"xs:int\"/></xs:sequence></xs:complexType></xs:schema>"),
        )
        .unwrap();
        let set = SchemaSet::compile(&[a, b], &[]).unwrap();
        set.validate(b"<R xmlns=\"urn:a\"><x>1</x></R>", None)
            .unwrap();
        assert!(set
            .validate(b"<R xmlns=\"urn:a\"><x>z</x></R>", None)
            .is_err());
    }

    /// Files named directly (mapping sides) may carry an internal DTD subset: its entities
    /// are expanded, relative includes still found, lines still right; external entities
    /// are refused, never read.
    #[test]
    fn files_with_an_internal_dtd_subset_compile() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("t.xsd"),
            "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"urn:a\"><xs:simpleType name=\"T\"><xs:restriction base=\"xs:int\"/></xs:simpleType></xs:schema>",
        )
        .unwrap();
        let main = d.join("a.xsd");
        std::fs::write(
            &main,
            "<!DOCTYPE xs:schema [\n<!ENTITY ns \"urn:a\">\n<!ENTITY inc \"t.xsd\">\n]>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:a=\"&ns;\" targetNamespace=\"&ns;\">\n<xs:include schemaLocation=\"&inc;\"/>\n<xs:element name=\"R\" type=\"a:T\"/>\n</xs:schema>\n",
        )
        .unwrap();
        let set = SchemaSet::compile(std::slice::from_ref(&main), &[]).unwrap();
        set.validate(b"<R xmlns=\"urn:a\">1</R>", None).unwrap();
        assert!(set.validate(b"<R xmlns=\"urn:a\">x</R>", None).is_err());
        crate::schema::model::Xsd::load(std::slice::from_ref(&main)).unwrap();

        std::fs::write(
            &main,
            "<!DOCTYPE xs:schema [\n<!ENTITY ns \"urn:a\">\n]>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"&ns;\">\n<xs:element name=\"R\" type=\"xs:nope\"/>\n</xs:schema>\n",
        )
        .unwrap();
        let msg = SchemaSet::compile(std::slice::from_ref(&main), &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("a.xsd:5:"), "{msg}");

        std::fs::write(
            &main,
            "<!DOCTYPE xs:schema [<!ENTITY x SYSTEM \"/etc/passwd\">]><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:annotation><xs:documentation>&x;</xs:documentation></xs:annotation></xs:schema>",
        )
        .unwrap();
        let msg = SchemaSet::compile(std::slice::from_ref(&main), &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("external entities are never expanded"),
            "{msg}"
        );
    }
}
