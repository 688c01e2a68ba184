//! Following `wsdl:import`, `xsd:import`, `xsd:include` and `xsd:redefine` from the main
//! WSDL to every document of the contract. Relative locations resolve against the
//! importing document; absolute URLs only through the XML catalog (nothing is ever
//! fetched); each file is loaded once, so import cycles terminate.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use super::catalog::Catalog;
use super::model::DocumentKind;
use super::parse::{self, Parsed, Ref, RefKind};
use super::uri;
use crate::problem::Problem;
use crate::xml::line_of;

/// One document as loaded.
pub(crate) struct Doc {
    /// Lexically normalised path, as problems name it.
    pub path: PathBuf,
    /// The absolute URL the document was imported as (catalog-mapped), against which its
    /// own relative locations resolve first.
    pub uri: Option<String>,
    pub bytes: Vec<u8>,
    pub parsed: Parsed,
    /// (index into `parsed.refs`, target document) for each followed reference.
    pub links: Vec<(usize, usize)>,
    /// Namespace-only `xsd:import`s resolved through the catalog's namespace entries.
    pub namespace_links: Vec<(usize, usize)>,
}

impl Doc {
    pub fn line(&self, offset: usize) -> usize {
        line_of(&self.bytes, offset)
    }

    pub fn kind(&self) -> DocumentKind {
        self.parsed.kind.unwrap_or(DocumentKind::Xsd)
    }
}

pub(crate) struct Loaded {
    pub docs: Vec<Doc>,
    pub problems: Vec<Problem>,
}

/// Loads the main WSDL (document 0) and everything it brings in.
pub(crate) fn load_all(main: &Path, catalog: &Catalog) -> Loaded {
    let mut l = Loader {
        catalog,
        docs: Vec::new(),
        by_key: HashMap::new(),
        problems: Vec::new(),
    };
    let main = uri::normalize(main);
    match std::fs::read(&main) {
        Err(e) => l
            .problems
            .push(Problem::file(&main, format!("cannot read WSDL: {e}"))),
        Ok(bytes) => {
            l.add(main, None, bytes);
        }
    }
    let mut queue: VecDeque<usize> = (0..l.docs.len()).collect();
    let mut namespace_only: Vec<(usize, usize)> = Vec::new();
    loop {
        while let Some(i) = queue.pop_front() {
            for j in 0..l.docs[i].parsed.refs.len() {
                let r = &l.docs[i].parsed.refs[j];
                let location = r.location.as_deref().map(str::trim).unwrap_or("");
                if location.is_empty() {
                    match r.kind {
                        RefKind::XsdImport => namespace_only.push((i, j)),
                        kind => {
                            let what = match kind {
                                RefKind::WsdlImport => "wsdl:import without location",
                                RefKind::XsdInclude => "xsd:include without schemaLocation",
                                _ => "xsd:redefine without schemaLocation",
                            };
                            let line = l.docs[i].line(r.offset);
                            l.problems.push(Problem::at(&l.docs[i].path, line, what));
                        }
                    }
                    continue;
                }
                let location = location.to_string();
                if let Some(t) = l.follow(i, j, &location, &mut queue) {
                    l.docs[i].links.push((j, t));
                }
            }
        }
        // Namespace-only imports need nothing when a loaded schema (inline or file)
        // already declares the namespace: inline schemas of one WSDL import each other
        // this way. Otherwise the catalog may name a file for the namespace.
        let declared: HashSet<String> = l.declared_namespaces();
        let pending = std::mem::take(&mut namespace_only);
        for (i, j) in pending {
            let Some(ns) = l.docs[i].parsed.refs[j].namespace.clone() else {
                continue;
            };
            if declared.contains(&ns) {
                continue;
            }
            if let Some(path) = l.catalog.resolve_namespace(&ns) {
                if let Some(t) = l.open(i, j, &ns, path, None, &mut queue) {
                    l.docs[i].namespace_links.push((j, t));
                }
            }
        }
        if queue.is_empty() {
            break;
        }
    }
    Loaded {
        docs: l.docs,
        problems: l.problems,
    }
}

struct Loader<'c> {
    catalog: &'c Catalog,
    docs: Vec<Doc>,
    /// Canonical path -> document (`None`: unusable, already reported).
    by_key: HashMap<PathBuf, Option<usize>>,
    problems: Vec<Problem>,
}

impl Loader<'_> {
    /// Resolves reference `j` of document `i` to a local file and loads it.
    fn follow(
        &mut self,
        i: usize,
        j: usize,
        location: &str,
        queue: &mut VecDeque<usize>,
    ) -> Option<usize> {
        let doc = &self.docs[i];
        // Lines are counted only when a problem needs one.
        let line = || doc.line(doc.parsed.refs[j].offset);
        // Relative locations inside a catalog-mapped document resolve against the URL it
        // was imported as (RFC 3986 §5.1.3), then through the catalog again; when the
        // catalog has no entry for that URL, next to the local file.
        let absolute = if uri::is_absolute(location) {
            Some(location.to_string())
        } else {
            doc.uri.as_deref().map(|base| uri::resolve(base, location))
        };
        let (path, as_uri) = match absolute {
            Some(abs) if abs.starts_with("file:") => match uri::file_path(&abs) {
                Some(p) => (p, None),
                None => {
                    let reason = format!("`{location}` is not a local file URL");
                    self.problems.push(Problem::at(&doc.path, line(), reason));
                    return None;
                }
            },
            Some(abs) => match self.catalog.resolve(&abs) {
                Some(p) => (p, Some(abs)),
                None if !uri::is_absolute(location) => (self.beside(i, location), None),
                None => {
                    let reason = format!(
                        "`{location}` is not mapped by the XML catalog (nothing is ever \
                         fetched; add a `uri` or `rewriteURI` entry for it)"
                    );
                    self.problems.push(Problem::at(&doc.path, line(), reason));
                    return None;
                }
            },
            None => (self.beside(i, location), None),
        };
        self.open(i, j, location, path, as_uri, queue)
    }

    fn beside(&self, i: usize, location: &str) -> PathBuf {
        let dir = self.docs[i].path.parent().unwrap_or(Path::new(""));
        // A query stays part of the name: sets saved from `Service.svc?xsd=xsd0` URLs
        // keep it in their file names.
        uri::normalize(&dir.join(crate::percent::decode_lenient(location)))
    }

    /// Loads `path` (once) for reference `j` of document `i`, checking its kind and
    /// namespace against the reference.
    fn open(
        &mut self,
        i: usize,
        j: usize,
        location: &str,
        path: PathBuf,
        as_uri: Option<String>,
        queue: &mut VecDeque<usize>,
    ) -> Option<usize> {
        let importer = &self.docs[i];
        let offset = importer.parsed.refs[j].offset;
        let importer_path = importer.path.clone();
        let line = |docs: &[Doc]| docs[i].line(offset);
        let path = uri::normalize(&path);
        let target = match std::fs::canonicalize(&path) {
            Err(e) => {
                let line = line(&self.docs);
                self.problems.push(Problem::at(
                    &importer_path,
                    line,
                    format!("cannot read `{location}` ({}): {e}", path.display()),
                ));
                return None;
            }
            Ok(key) => match self.by_key.get(&key) {
                Some(t) => *t,
                None => {
                    let t = match std::fs::read(&path) {
                        Ok(bytes) => self.add(path.clone(), as_uri, bytes),
                        Err(e) => {
                            self.problems.push(Problem::at(
                                &importer_path,
                                line(&self.docs),
                                format!("cannot read `{location}` ({}): {e}", path.display()),
                            ));
                            None
                        }
                    };
                    self.by_key.insert(key, t);
                    if let Some(t) = t {
                        queue.push_back(t);
                    }
                    t
                }
            },
        }?;
        let reason = self.check_link(i, j, target, location);
        match reason {
            Some(reason) => {
                let line = line(&self.docs);
                self.problems
                    .push(Problem::at(&importer_path, line, reason));
                None
            }
            None => Some(target),
        }
    }

    /// Reads and parses one file; a file that is not a WSDL/XSD is reported with its name.
    fn add(&mut self, path: PathBuf, uri: Option<String>, bytes: Vec<u8>) -> Option<usize> {
        if self.docs.is_empty() {
            if let Ok(key) = std::fs::canonicalize(&path) {
                self.by_key.insert(key, Some(0));
            }
        }
        match parse::parse(&bytes) {
            Ok(parsed) => {
                for (offset, reason) in &parsed.problems {
                    let line = line_of(&bytes, *offset);
                    self.problems.push(Problem::at(&path, line, reason.clone()));
                }
                self.docs.push(Doc {
                    path,
                    uri,
                    bytes,
                    parsed,
                    links: Vec::new(),
                    namespace_links: Vec::new(),
                });
                Some(self.docs.len() - 1)
            }
            Err(fatal) => {
                let line = line_of(&bytes, fatal.offset);
                self.problems.push(Problem::at(&path, line, fatal.reason));
                None
            }
        }
    }

    /// What is wrong with reference `j` of document `i` pointing at `target`, if anything.
    fn check_link(&self, i: usize, j: usize, target: usize, location: &str) -> Option<String> {
        let r: &Ref = &self.docs[i].parsed.refs[j];
        let t = &self.docs[target];
        let tns = t
            .parsed
            .target_namespace
            .as_deref()
            .filter(|s| !s.is_empty());
        let shown = |ns: Option<&str>| match ns {
            Some(n) => format!("`{n}`"),
            None => "no namespace".to_string(),
        };
        match r.kind {
            RefKind::WsdlImport => {
                let want = r.namespace.as_deref().filter(|s| !s.is_empty());
                (want.is_some() && want != tns).then(|| {
                    format!(
                        "wsdl:import of namespace {} but `{location}` has targetNamespace {}",
                        shown(want),
                        shown(tns)
                    )
                })
            }
            // Some toolkits import a namespace from the WSDL whose inline schema holds it.
            RefKind::XsdImport
                if t.kind() == DocumentKind::Wsdl
                    && t.parsed.schemas.iter().any(|s| {
                        s.target_namespace.as_deref().filter(|n| !n.is_empty())
                            == r.namespace.as_deref().filter(|n| !n.is_empty())
                    }) =>
            {
                None
            }
            _ if t.kind() == DocumentKind::Wsdl => Some(format!(
                "`{location}` is a WSDL, but xsd:import/include need an XML Schema"
            )),
            RefKind::XsdImport => {
                let want = r.namespace.as_deref().filter(|s| !s.is_empty());
                (want != tns).then(|| {
                    format!(
                        "xsd:import of {} but `{location}` has targetNamespace {}",
                        shown(want),
                        shown(tns)
                    )
                })
            }
            RefKind::XsdInclude | RefKind::XsdRedefine => {
                // XSD 1.0 §4.2.1: the included schema has the includer's namespace, or
                // none (a "chameleon" include takes the includer's).
                let own = r
                    .schema
                    .and_then(|s| self.docs[i].parsed.schemas[s].target_namespace.as_deref())
                    .filter(|s| !s.is_empty());
                (tns.is_some() && tns != own).then(|| {
                    format!(
                        "xsd:include of `{location}` (targetNamespace {}) into a schema of {}",
                        shown(tns),
                        shown(own)
                    )
                })
            }
        }
    }

    fn declared_namespaces(&self) -> HashSet<String> {
        self.docs
            .iter()
            .flat_map(|d| &d.parsed.schemas)
            .map(|s| s.target_namespace.clone().unwrap_or_default())
            .collect()
    }
}
