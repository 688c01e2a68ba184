//! The structure an XSD describes (elements, their order and cardinality, attributes,
//! simple types down to their built-in base and enumerations), read from the schema files
//! and their `xs:include`/`xs:import`s. The mapping checker walks it to prove that every
//! path of a mapping exists, that types fit and that required elements are produced; the
//! mapper takes the order of children from it. Validation itself is libxml2's job
//! ([`super::SchemaSet`]); this is a reading of the same files, not a second validator.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::tree::Tree;
use crate::problem::{Problem, Problems};
use crate::xml::{ns, QName};

/// Nesting of named types followed before giving up (recursive types).
const MAX_TYPE_DEPTH: usize = 32;

struct Doc {
    path: PathBuf,
    tree: Tree,
    tns: String,
    qualified_elements: bool,
    qualified_attributes: bool,
}

/// An `xs:element` declaration node (global or local).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decl {
    doc: usize,
    node: usize,
}

#[derive(Debug, Clone)]
pub struct Child {
    pub name: QName,
    pub decl: Decl,
    pub min: u64,
    /// maxOccurs > 1 or unbounded.
    pub many: bool,
    /// Inside an `xs:choice`: required only if the choice is taken.
    pub in_choice: bool,
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub name: QName,
    pub required: bool,
    pub simple: Simple,
}

/// A simple type reduced to its XSD built-in base and enumeration facets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simple {
    /// Local name of the built-in (`string`, `date`, `decimal`, `int`, ...).
    pub builtin: String,
    pub enumerations: Vec<String>,
}

impl Simple {
    fn string() -> Self {
        Simple {
            builtin: "string".into(),
            enumerations: Vec::new(),
        }
    }
}

/// What an element may contain.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub children: Vec<Child>,
    pub attributes: Vec<Attr>,
    /// Character data type, for simple types and simple content.
    pub text: Option<Simple>,
    /// A wildcard or `anyType`: anything may appear below.
    pub any: bool,
}

pub struct Xsd {
    docs: Vec<Doc>,
    /// (component kind, QName) -> (doc, node)
    globals: HashMap<(&'static str, QName), (usize, usize)>,
}

impl Xsd {
    /// Reads `files` and everything they include or import by location.
    pub fn load(files: &[PathBuf]) -> Result<Xsd, Problems> {
        let mut xsd = Xsd {
            docs: Vec::new(),
            globals: HashMap::new(),
        };
        let mut problems = Vec::new();
        let mut queue: Vec<(PathBuf, Option<String>)> =
            files.iter().map(|f| (f.clone(), None)).collect();
        let mut seen: Vec<PathBuf> = Vec::new();
        while let Some((path, chameleon_ns)) = queue.pop() {
            let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if seen.contains(&canon) {
                continue;
            }
            seen.push(canon);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::file(&path, format!("cannot read: {e}")));
                    continue;
                }
            };
            let tree = match Tree::parse(&text, true) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::file(&path, format!("not well-formed: {e}")));
                    continue;
                }
            };
            if !tree.root().is(ns::XSD, "schema") {
                problems.push(Problem::at(&path, 1, "not an XML Schema"));
                continue;
            }
            let root = tree.root();
            let tns = root
                .attr("targetNamespace")
                .map(str::to_string)
                .or(chameleon_ns)
                .unwrap_or_default();
            let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            for (_, c) in tree.children(0) {
                if *c.ns != *ns::XSD {
                    continue;
                }
                if let Some(loc) = c.attr("schemaLocation") {
                    if loc.contains("://") {
                        continue;
                    }
                    match c.local.as_str() {
                        "include" | "redefine" => queue.push((dir.join(loc), Some(tns.clone()))),
                        "import" => queue.push((dir.join(loc), None)),
                        _ => {}
                    }
                }
            }
            let d = Doc {
                qualified_elements: root.attr("elementFormDefault") == Some("qualified"),
                qualified_attributes: root.attr("attributeFormDefault") == Some("qualified"),
                path,
                tns,
                tree,
            };
            let di = xsd.docs.len();
            for (ci, c) in d.tree.children(0) {
                if *c.ns != *ns::XSD {
                    continue;
                }
                let kind: &'static str = match c.local.as_str() {
                    "element" => "element",
                    "complexType" | "simpleType" => "type",
                    "group" => "group",
                    "attributeGroup" => "attributeGroup",
                    "attribute" => "attribute",
                    _ => continue,
                };
                if let Some(n) = c.attr("name") {
                    xsd.globals
                        .insert((kind, QName::new(d.tns.clone(), n)), (di, ci));
                }
            }
            xsd.docs.push(d);
        }
        if problems.is_empty() {
            Ok(xsd)
        } else {
            Err(Problems(problems))
        }
    }

    /// Where a declaration is written, for messages.
    pub fn location(&self, d: Decl) -> (PathBuf, usize) {
        let doc = &self.docs[d.doc];
        (doc.path.clone(), doc.tree.nodes[d.node].line)
    }

    pub fn global_element(&self, name: &QName) -> Option<Decl> {
        self.globals
            .get(&("element", name.clone()))
            .map(|&(doc, node)| Decl { doc, node })
    }

    pub fn global_elements(&self) -> Vec<QName> {
        let mut v: Vec<QName> = self
            .globals
            .keys()
            .filter(|(k, _)| *k == "element")
            .map(|(_, q)| q.clone())
            .collect();
        v.sort();
        v
    }

    /// The content model of a declared element.
    pub fn content(&self, d: Decl) -> Content {
        let el = &self.docs[d.doc].tree.nodes[d.node];
        if let Some(t) = el.attr("type") {
            return match self.docs[d.doc].tree.resolve_qname(d.node, t) {
                Some((tns, local)) => self.named_type(&QName::new(tns, local), 0),
                None => Content::default(),
            };
        }
        for (c, ch) in self.docs[d.doc].tree.children(d.node) {
            if ch.is(ns::XSD, "complexType") {
                return self.complex(d.doc, c, 0);
            }
            if ch.is(ns::XSD, "simpleType") {
                return Content {
                    text: Some(self.simple_node(d.doc, c, 0)),
                    ..Content::default()
                };
            }
        }
        // No type at all: xs:anyType.
        Content {
            any: true,
            text: Some(Simple::string()),
            ..Content::default()
        }
    }

    fn named_type(&self, q: &QName, depth: usize) -> Content {
        if q.ns == ns::XSD {
            if q.local == "anyType" {
                return Content {
                    any: true,
                    text: Some(Simple::string()),
                    ..Content::default()
                };
            }
            return Content {
                text: Some(Simple {
                    builtin: q.local.clone(),
                    enumerations: Vec::new(),
                }),
                ..Content::default()
            };
        }
        if depth > MAX_TYPE_DEPTH {
            return Content::default();
        }
        match self.globals.get(&("type", q.clone())) {
            Some(&(doc, node)) => {
                if self.docs[doc].tree.nodes[node].local == "simpleType" {
                    Content {
                        text: Some(self.simple_node(doc, node, depth + 1)),
                        ..Content::default()
                    }
                } else {
                    self.complex(doc, node, depth + 1)
                }
            }
            None => Content {
                any: true,
                ..Content::default()
            },
        }
    }

    fn simple_named(&self, q: &QName, depth: usize) -> Simple {
        if q.ns == ns::XSD {
            return Simple {
                builtin: q.local.clone(),
                enumerations: Vec::new(),
            };
        }
        match self.globals.get(&("type", q.clone())) {
            Some(&(doc, node)) if depth <= MAX_TYPE_DEPTH => self.simple_node(doc, node, depth + 1),
            _ => Simple::string(),
        }
    }

    fn simple_node(&self, doc: usize, node: usize, depth: usize) -> Simple {
        let tree = &self.docs[doc].tree;
        for (c, ch) in tree.children(node) {
            if *ch.ns != *ns::XSD {
                continue;
            }
            match ch.local.as_str() {
                "restriction" => {
                    let mut base = match ch.attr("base").and_then(|b| tree.resolve_qname(c, b)) {
                        Some((n, l)) => self.simple_named(&QName::new(n, l), depth),
                        None => tree
                            .children(c)
                            .find(|(_, g)| g.is(ns::XSD, "simpleType"))
                            .map(|(g, _)| self.simple_node(doc, g, depth + 1))
                            .unwrap_or_else(Simple::string),
                    };
                    let enums: Vec<String> = tree
                        .children(c)
                        .filter(|(_, f)| f.is(ns::XSD, "enumeration"))
                        .filter_map(|(_, f)| f.attr("value").map(str::to_string))
                        .collect();
                    if !enums.is_empty() {
                        base.enumerations = enums;
                    }
                    return base;
                }
                "list" | "union" => return Simple::string(),
                _ => {}
            }
        }
        Simple::string()
    }

    fn complex(&self, doc: usize, node: usize, depth: usize) -> Content {
        let mut out = Content::default();
        let tree = &self.docs[doc].tree;
        if tree.nodes[node].attr("mixed") == Some("true") {
            out.text = Some(Simple::string());
        }
        for (c, ch) in tree.children(node) {
            if *ch.ns != *ns::XSD {
                continue;
            }
            match ch.local.as_str() {
                "sequence" | "choice" | "all" | "group" => {
                    self.particles(doc, c, false, depth, &mut out)
                }
                "attribute" | "attributeGroup" => self.attribute(doc, c, depth, &mut out),
                "anyAttribute" => {}
                "complexContent" | "simpleContent" => {
                    for (d, der) in tree.children(c) {
                        if !(der.is(ns::XSD, "extension") || der.is(ns::XSD, "restriction")) {
                            continue;
                        }
                        let base = der
                            .attr("base")
                            .and_then(|b| tree.resolve_qname(d, b))
                            .map(|(n, l)| QName::new(n, l));
                        if let Some(base) = &base {
                            let inherited = self.named_type(base, depth + 1);
                            // A restriction of a complex type restates its particles; an
                            // extension appends to the base's (XSD 1.0 Part 1 §3.4.2).
                            if der.local == "extension" || ch.local == "simpleContent" {
                                out.children.extend(inherited.children);
                                out.text = out.text.or(inherited.text);
                                out.any |= inherited.any;
                            }
                            out.attributes.extend(inherited.attributes);
                        }
                        for (e, part) in tree.children(d) {
                            if *part.ns != *ns::XSD {
                                continue;
                            }
                            match part.local.as_str() {
                                "sequence" | "choice" | "all" | "group" => {
                                    self.particles(doc, e, false, depth, &mut out)
                                }
                                "attribute" | "attributeGroup" => {
                                    self.attribute(doc, e, depth, &mut out)
                                }
                                "enumeration" => {
                                    if let (Some(t), Some(v)) = (&mut out.text, part.attr("value"))
                                    {
                                        t.enumerations.push(v.to_string());
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn particles(&self, doc: usize, node: usize, in_choice: bool, depth: usize, out: &mut Content) {
        let tree = &self.docs[doc].tree;
        let el = &tree.nodes[node];
        match el.local.as_str() {
            "group" => {
                if let Some((n, l)) = el.attr("ref").and_then(|r| tree.resolve_qname(node, r)) {
                    if let Some(&(gd, gn)) = self.globals.get(&("group", QName::new(n, l))) {
                        if depth <= MAX_TYPE_DEPTH {
                            for (c, _) in self.docs[gd].tree.children(gn) {
                                self.particles(gd, c, in_choice, depth + 1, out);
                            }
                        }
                    }
                } else {
                    for (c, _) in tree.children(node) {
                        self.particles(doc, c, in_choice, depth, out);
                    }
                }
            }
            "sequence" | "all" | "choice" => {
                let choice = in_choice || el.local == "choice" || el.attr("minOccurs") == Some("0");
                for (c, ch) in tree.children(node) {
                    if *ch.ns == *ns::XSD {
                        self.particles(doc, c, choice, depth, out);
                    }
                }
            }
            "element" => {
                let min = el
                    .attr("minOccurs")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                let many = match el.attr("maxOccurs") {
                    Some("unbounded") => true,
                    Some(v) => v.parse::<u64>().map(|m| m > 1).unwrap_or(false),
                    None => false,
                };
                let (name, decl) = if let Some(r) = el.attr("ref") {
                    let Some((n, l)) = tree.resolve_qname(node, r) else {
                        return;
                    };
                    let q = QName::new(n, l);
                    match self.global_element(&q) {
                        Some(d) => (q, d),
                        None => return,
                    }
                } else {
                    let Some(n) = el.attr("name") else { return };
                    let d = &self.docs[doc];
                    let qualified = match el.attr("form") {
                        Some(f) => f == "qualified",
                        None => d.qualified_elements,
                    };
                    let ns = if qualified {
                        d.tns.clone()
                    } else {
                        String::new()
                    };
                    (QName::new(ns, n), Decl { doc, node })
                };
                out.children.push(Child {
                    name,
                    decl,
                    min,
                    many,
                    in_choice,
                });
            }
            "any" => out.any = true,
            _ => {}
        }
    }

    fn attribute(&self, doc: usize, node: usize, depth: usize, out: &mut Content) {
        let tree = &self.docs[doc].tree;
        let el = &tree.nodes[node];
        if el.local == "attributeGroup" {
            if let Some((n, l)) = el.attr("ref").and_then(|r| tree.resolve_qname(node, r)) {
                if let Some(&(gd, gn)) = self.globals.get(&("attributeGroup", QName::new(n, l))) {
                    if depth <= MAX_TYPE_DEPTH {
                        for (c, _) in self.docs[gd].tree.children(gn) {
                            self.attribute(gd, c, depth + 1, out);
                        }
                    }
                }
            }
            return;
        }
        if el.local != "attribute" {
            return;
        }
        let required = el.attr("use") == Some("required");
        let (name, decl_doc, decl_node) = if let Some(r) = el.attr("ref") {
            let Some((n, l)) = tree.resolve_qname(node, r) else {
                return;
            };
            let q = QName::new(n, l);
            match self.globals.get(&("attribute", q.clone())) {
                Some(&(d, n)) => (q, d, n),
                None => (q, doc, node),
            }
        } else {
            let Some(n) = el.attr("name") else { return };
            let d = &self.docs[doc];
            let qualified = match el.attr("form") {
                Some(f) => f == "qualified",
                None => d.qualified_attributes,
            };
            let ns = if qualified {
                d.tns.clone()
            } else {
                String::new()
            };
            (QName::new(ns, n), doc, node)
        };
        let dt = &self.docs[decl_doc].tree;
        let simple = match dt.nodes[decl_node].attr("type") {
            Some(t) => match dt.resolve_qname(decl_node, t) {
                Some((n, l)) => self.simple_named(&QName::new(n, l), depth),
                None => Simple::string(),
            },
            None => dt
                .children(decl_node)
                .find(|(_, c)| c.is(ns::XSD, "simpleType"))
                .map(|(c, _)| self.simple_node(decl_doc, c, depth + 1))
                .unwrap_or_else(Simple::string),
        };
        out.attributes.push(Attr {
            name,
            required,
            simple,
        });
    }
}

/// Built-in families the checker reasons about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Text,
    Date,
    DateTime,
    Time,
    Number,
    Boolean,
}

pub fn family(builtin: &str) -> Family {
    match builtin {
        "date" => Family::Date,
        "dateTime" => Family::DateTime,
        "time" => Family::Time,
        "boolean" => Family::Boolean,
        "decimal" | "integer" | "int" | "long" | "short" | "byte" | "float" | "double"
        | "nonNegativeInteger" | "positiveInteger" | "nonPositiveInteger" | "negativeInteger"
        | "unsignedLong" | "unsignedInt" | "unsignedShort" | "unsignedByte" => Family::Number,
        _ => Family::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rel: &str) -> Xsd {
        Xsd::load(&[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)]).unwrap()
    }

    #[test]
    fn reads_order_cardinality_types_and_enumerations() {
        let x = load("schemas/tiep-nhan-ho-so/ThongTinHoSo.xsd");
        let t = "urn:tinh:tiep-nhan-ho-so:1";
        let root = x.global_element(&QName::new(t, "ThongTinHoSo")).unwrap();
        let c = x.content(root);
        let names: Vec<&str> = c.children.iter().map(|c| c.name.local.as_str()).collect();
        assert_eq!(&names[..4], &["SoHoSo", "MaThuTuc", "MaLinhVuc", "NgayNop"]);
        assert_eq!(c.attributes[0].name, QName::new("", "phienBan"));
        assert!(c.attributes[0].required);
        let ngay = &c.children[3];
        assert_eq!(x.content(ngay.decl).text.unwrap().builtin, "date");
        let lv = x.content(c.children[2].decl).text.unwrap();
        assert!(lv.enumerations.contains(&"LV-HOTICH".to_string()));
        let chu = c
            .children
            .iter()
            .find(|c| c.name.local == "ChuHoSo")
            .unwrap();
        let kids = x.content(chu.decl).children;
        assert_eq!(kids[1].name, QName::new(t, "SoDinhDanh"));
        assert_eq!(kids[2].min, 0);
        let tp = c
            .children
            .iter()
            .find(|c| c.name.local == "ThanhPhanHoSo")
            .unwrap();
        let tep = &x.content(tp.decl).children[0];
        assert!(tep.many);
        let la = &x.content(tep.decl).children[2];
        assert_eq!(
            family(&x.content(la.decl).text.unwrap().builtin),
            Family::Boolean
        );
    }
}
