//! From loaded documents to a [`Contract`]: every QName reference checked across the
//! whole document set (messages, port types, bindings, schema elements), and the
//! dispatch table built from the SOAP bindings (WSDL 1.1 §3, WS-I Basic Profile 1.1 §4.7).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::model::{
    Contract, Document, DocumentKind, Edit, EditAction, GeneratedPort, InlineSchema, Link,
    LinkKind, MessagePart, Operation, Style,
};
use super::parse::{BodyUse, Message, Part, RefKind};
use super::resolve::{Doc, Loaded};
use super::uri;
use crate::problem::{Problem, Problems};
use crate::xml::{ns, QName};

/// Namespaces whose types are built in (parts may use them without a schema).
const BUILTIN_TYPE_NS: [&str; 2] = [ns::XSD, "http://schemas.xmlsoap.org/soap/encoding/"];

pub(crate) fn build(loaded: Loaded) -> Result<Contract, Problems> {
    let Loaded { docs, mut problems } = loaded;
    let result = build_checked(docs, &mut problems);
    // Files in the order they were reached, lines ascending within a file.
    let mut order: Vec<std::path::PathBuf> = Vec::new();
    for p in &problems {
        if !order.contains(&p.file) {
            order.push(p.file.clone());
        }
    }
    problems.sort_by_key(|p| (order.iter().position(|f| f == &p.file), p.line));
    match result {
        Some(c) if problems.is_empty() => Ok(c),
        _ => Err(Problems(problems)),
    }
}

fn build_checked(docs: Vec<Doc>, problems: &mut Vec<Problem>) -> Option<Contract> {
    let main = docs.first()?;
    if main.kind() != DocumentKind::Wsdl {
        problems.push(Problem::at(
            &main.path,
            line(main, main.parsed.root_offset),
            "this is an XML Schema; a service needs a WSDL 1.1 document (wsdl:definitions)",
        ));
        return None;
    }
    let mut b = Builder {
        docs: &docs,
        problems: Vec::new(),
        elements: HashSet::new(),
        types: HashSet::new(),
        messages: HashMap::new(),
        port_types: HashMap::new(),
        bindings: HashMap::new(),
        declared_at: Vec::new(),
        unavailable: unavailable_namespaces(&docs),
    };
    b.index();
    b.check_references();
    let operations = b.operations();
    let warnings = b.warnings(&operations);
    problems.extend(b.problems);
    if operations.is_empty() && problems.is_empty() {
        problems.push(Problem::at(
            &main.path,
            line(main, main.parsed.root_offset),
            "no operation has a SOAP 1.1 or SOAP 1.2 binding (soap:binding / soap12:binding), \
             so there is nothing to call",
        ));
    }
    if !problems.is_empty() {
        return None;
    }
    let main = docs[0].path.clone();
    let target_namespace = docs[0].parsed.target_namespace.clone().unwrap_or_default();
    Some(Contract {
        main,
        target_namespace,
        operations,
        documents: documents(docs),
        warnings,
    })
}

/// Namespaces of the imports and includes that did not load.
fn unavailable_namespaces(docs: &[Doc]) -> HashSet<String> {
    let mut out = HashSet::new();
    for d in docs {
        for (j, r) in d.parsed.refs.iter().enumerate() {
            let followed = d
                .links
                .iter()
                .chain(&d.namespace_links)
                .any(|&(k, _)| k == j);
            let has_location = r.location.as_deref().is_some_and(|l| !l.trim().is_empty());
            if followed || !has_location {
                continue;
            }
            let ns = match r.kind {
                RefKind::WsdlImport | RefKind::XsdImport => r.namespace.clone(),
                RefKind::XsdInclude | RefKind::XsdRedefine => r
                    .schema
                    .and_then(|s| d.parsed.schemas[s].target_namespace.clone()),
            };
            out.insert(ns.unwrap_or_default());
        }
    }
    out
}

fn line(d: &Doc, offset: usize) -> usize {
    d.line(offset)
}

struct Builder<'d> {
    docs: &'d [Doc],
    problems: Vec<Problem>,
    elements: HashSet<QName>,
    types: HashSet<QName>,
    /// QName -> (document, index in that document's list)
    messages: HashMap<QName, (usize, usize)>,
    port_types: HashMap<QName, (usize, usize)>,
    bindings: HashMap<QName, (usize, usize)>,
    /// (document, offset) of the binding operation each entry of the operations list
    /// was first built from, for warnings.
    declared_at: Vec<(usize, usize)>,
    /// Namespaces an import or include failed to bring in (already reported): references
    /// into them are not reported again, one missing file is one problem.
    unavailable: HashSet<String>,
}

impl<'d> Builder<'d> {
    fn index(&mut self) {
        for (di, d) in self.docs.iter().enumerate() {
            let tns = d.parsed.target_namespace.clone().unwrap_or_default();
            for s in &d.parsed.schemas {
                let ns = s.target_namespace.clone().unwrap_or_default();
                self.register_schema(&ns, s);
            }
            // A chameleon include (no targetNamespace) declares its components in the
            // including schema's namespace (XSD 1.0 §4.2.1).
            for &(j, t) in &d.links {
                let r = &d.parsed.refs[j];
                let target = &self.docs[t];
                if matches!(r.kind, RefKind::XsdInclude | RefKind::XsdRedefine)
                    && target
                        .parsed
                        .target_namespace
                        .as_deref()
                        .unwrap_or("")
                        .is_empty()
                {
                    let own = r
                        .schema
                        .and_then(|s| d.parsed.schemas[s].target_namespace.clone())
                        .unwrap_or_default();
                    for s in &target.parsed.schemas {
                        self.register_schema(&own, s);
                    }
                }
            }
            if d.kind() != DocumentKind::Wsdl {
                continue;
            }
            let p = &d.parsed;
            let named = |name: &str| QName::new(tns.clone(), name);
            for (i, m) in p.messages.iter().enumerate() {
                self.define("message", named(&m.name), (di, i), m.offset, 0);
            }
            for (i, pt) in p.port_types.iter().enumerate() {
                self.define("portType", named(&pt.name), (di, i), pt.offset, 1);
            }
            for (i, bi) in p.bindings.iter().enumerate() {
                self.define("binding", named(&bi.name), (di, i), bi.offset, 2);
            }
        }
    }

    fn register_schema(&mut self, ns: &str, s: &super::parse::SchemaFacts) {
        for (name, _) in &s.elements {
            self.elements.insert(QName::new(ns, name.as_str()));
        }
        for name in &s.types {
            self.types.insert(QName::new(ns, name.as_str()));
        }
    }

    /// Records a named WSDL component; a second definition of one name is a problem.
    fn define(&mut self, what: &str, q: QName, at: (usize, usize), offset: usize, table: u8) {
        let map = match table {
            0 => &mut self.messages,
            1 => &mut self.port_types,
            _ => &mut self.bindings,
        };
        if let Some(&(fd, fi)) = map.get(&q) {
            let first = &self.docs[fd];
            let first_offset = match table {
                0 => first.parsed.messages[fi].offset,
                1 => first.parsed.port_types[fi].offset,
                _ => first.parsed.bindings[fi].offset,
            };
            let first_line = line(first, first_offset);
            let d = &self.docs[at.0];
            let where_first = if fd == at.0 {
                format!("line {first_line}")
            } else {
                format!("{}:{first_line}", first.path.display())
            };
            self.problems.push(Problem::at(
                &d.path,
                line(d, offset),
                format!("wsdl:{what} {q} is defined twice (first at {where_first})"),
            ));
        } else {
            map.insert(q, at);
        }
    }

    fn problem(&mut self, di: usize, offset: usize, reason: String) {
        let d = &self.docs[di];
        self.problems
            .push(Problem::at(&d.path, line(d, offset), reason));
    }

    fn check_references(&mut self) {
        for (di, d) in self.docs.iter().enumerate() {
            let p = &d.parsed;
            for m in &p.messages {
                for part in &m.parts {
                    self.check_part(di, m, part);
                }
            }
            for pt in &p.port_types {
                for op in &pt.operations {
                    for (q, offset) in op.input.iter().chain(&op.output) {
                        if !self.messages.contains_key(q) && !self.unavailable.contains(&q.ns) {
                            self.problem(
                                di,
                                *offset,
                                format!(
                                    "operation `{}` refers to message {q}, which is not \
                                     defined",
                                    op.name
                                ),
                            );
                        }
                    }
                }
            }
            for b in &p.bindings {
                let Some(ptq) = &b.port_type else { continue };
                let Some(&(pd, pi)) = self.port_types.get(ptq) else {
                    if self.unavailable.contains(&ptq.ns) {
                        continue;
                    }
                    self.problem(
                        di,
                        b.offset,
                        format!(
                            "binding `{}` refers to portType {ptq}, which is not defined",
                            b.name
                        ),
                    );
                    continue;
                };
                let pt = &self.docs[pd].parsed.port_types[pi];
                for op in &b.operations {
                    if !pt.operations.iter().any(|o| o.name == op.name) {
                        self.problem(
                            di,
                            op.offset,
                            format!(
                                "binding `{}` binds operation `{}`, which portType {ptq} \
                                 does not have",
                                b.name, op.name
                            ),
                        );
                    }
                }
            }
            for s in &p.services {
                for port in &s.ports {
                    if let Some(q) = &port.binding {
                        if !self.bindings.contains_key(q) && !self.unavailable.contains(&q.ns) {
                            self.problem(
                                di,
                                port.offset,
                                format!(
                                    "port `{}` refers to binding {q}, which is not defined",
                                    port.name
                                ),
                            );
                        }
                    }
                }
            }
        }
    }

    fn check_part(&mut self, di: usize, m: &Message, part: &Part) {
        let named = part.element.as_ref().or(part.type_.as_ref());
        if named.is_some_and(|q| self.unavailable.contains(&q.ns)) {
            return;
        }
        match (&part.element, &part.type_) {
            (Some(e), _) if !self.elements.contains(e) => self.problem(
                di,
                part.offset,
                format!(
                    "part `{}` of message `{}` refers to element {e}, which no schema of the \
                     contract declares",
                    part.name, m.name
                ),
            ),
            (None, Some(t))
                if !BUILTIN_TYPE_NS.contains(&t.ns.as_str()) && !self.types.contains(t) =>
            {
                self.problem(
                    di,
                    part.offset,
                    format!(
                        "part `{}` of message `{}` refers to type {t}, which no schema of the \
                         contract defines",
                        part.name, m.name
                    ),
                )
            }
            _ => {}
        }
    }

    /// One entry per operation and Body root; versions and actions merged over bindings.
    fn operations(&mut self) -> Vec<Operation> {
        let mut ops: Vec<Operation> = Vec::new();
        let docs = self.docs;
        for (di, d) in docs.iter().enumerate() {
            for b in &d.parsed.bindings {
                let (Some(version), Some(ptq)) = (b.version, &b.port_type) else {
                    continue; // not a SOAP binding (HTTP, MIME), or already reported
                };
                let Some(&(pd, pi)) = self.port_types.get(ptq) else {
                    continue;
                };
                let pt = &docs[pd].parsed.port_types[pi];
                for bop in &b.operations {
                    let Some(pop) = pt.operations.iter().find(|o| o.name == bop.name) else {
                        continue;
                    };
                    let style = bop.style.or(b.style).unwrap_or(Style::Document);
                    let input = pop.input.as_ref().map(|(q, _)| q.clone());
                    let output = pop.output.as_ref().map(|(q, _)| q.clone());
                    let Some(request_root) = self.root(
                        di,
                        bop.offset,
                        &bop.name,
                        style,
                        input.as_ref(),
                        &bop.input,
                        "",
                    ) else {
                        continue;
                    };
                    let response_root = match &output {
                        Some(_) => self.root(
                            di,
                            bop.offset,
                            &bop.name,
                            style,
                            output.as_ref(),
                            &bop.output,
                            "Response",
                        ),
                        None => None,
                    };
                    // SOAP 1.2 clients using WS-Addressing send the input's wsam:Action as
                    // the `action` parameter; it names this operation as well.
                    let soap_actions = bop
                        .action
                        .iter()
                        .chain(&pop.input_action)
                        .cloned()
                        .collect();
                    let input_parts = self.body_parts(input.as_ref(), &bop.input);
                    let output_parts = self.body_parts(output.as_ref(), &bop.output);
                    if !ops
                        .iter()
                        .any(|o| o.name == bop.name && o.request_root == request_root)
                    {
                        self.declared_at.push((di, bop.offset));
                    }
                    merge(
                        &mut ops,
                        Operation {
                            name: bop.name.clone(),
                            style,
                            soap_action: bop.action.clone(),
                            soap_actions,
                            binding_actions: bop
                                .action
                                .iter()
                                .map(|a| (version, a.clone()))
                                .collect(),
                            request_root,
                            response_root,
                            versions: vec![version],
                            input_message: input,
                            output_message: output,
                            input_parts,
                            output_parts,
                        },
                    );
                }
            }
        }
        ops
    }

    /// What loads but will not dispatch as the author may expect.
    fn warnings(&self, ops: &[Operation]) -> Vec<Problem> {
        let mut out = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let (di, offset) = self.declared_at[i];
            let d = &self.docs[di];
            let at = |reason: String| Problem::at(&d.path, line(d, offset), reason);
            if op.request_root.local.is_empty() {
                out.push(at(format!(
                    "operation `{}` has an empty request Body, so no message can be \
                     dispatched to it (the gateway dispatches on the Body element)",
                    op.name
                )));
            } else if let Some(first) = ops[..i]
                .iter()
                .find(|o| o.request_root == op.request_root && o.name != op.name)
            {
                out.push(at(format!(
                    "operations `{}` and `{}` have the same request element {}; messages \
                     go to `{}` (the SOAP action is not signed, so it cannot choose)",
                    first.name, op.name, op.request_root, first.name
                )));
            }
        }
        out
    }

    /// The parts of `message` one body carries (`soap:body/@parts` narrows them).
    fn body_parts(&self, message: Option<&QName>, body: &BodyUse) -> Vec<MessagePart> {
        let Some(&(md, mi)) = message.and_then(|m| self.messages.get(m)) else {
            return Vec::new();
        };
        self.docs[md].parsed.messages[mi]
            .parts
            .iter()
            .filter(|p| match &body.parts {
                Some(names) => names.iter().any(|n| n == &p.name),
                None => true,
            })
            .map(|p| MessagePart {
                name: p.name.clone(),
                element: p.element.clone(),
                type_: p.type_.clone(),
            })
            .collect()
    }

    /// The Body child of one direction: the part's element (document) or the operation
    /// wrapper in `soap:body/@namespace` (rpc, WSDL 1.1 §3.5; BP 1.1 R2729 for the
    /// `Response` suffix of the answer wrapper).
    #[allow(clippy::too_many_arguments)]
    fn root(
        &mut self,
        di: usize,
        offset: usize,
        op: &str,
        style: Style,
        message: Option<&QName>,
        body: &BodyUse,
        suffix: &str,
    ) -> Option<QName> {
        if style == Style::Rpc {
            let ns = body.namespace.clone().unwrap_or_default();
            return Some(QName::new(ns, format!("{op}{suffix}")));
        }
        let Some(mq) = message else {
            return Some(QName::new("", ""));
        };
        let &(md, mi) = self.messages.get(mq)?;
        let m = &self.docs[md].parsed.messages[mi];
        let part = m.parts.iter().find(|p| match &body.parts {
            Some(names) => names.iter().any(|n| n == &p.name),
            None => true,
        });
        match part {
            None => Some(QName::new("", "")),
            Some(Part {
                element: Some(e), ..
            }) => Some(e.clone()),
            Some(Part {
                element: None,
                type_: Some(_),
                name,
                ..
            }) => {
                let reason = format!(
                    "document-style operation `{op}`: part `{name}` of message `{}` has a \
                     type, not an element, so the Body element is undefined (WS-I BP 1.1 R2204)",
                    m.name
                );
                self.problem(di, offset, reason);
                None
            }
            Some(p) if p.broken => None,
            Some(p) => {
                let reason = format!(
                    "part `{}` of message `{}` has neither element nor type",
                    p.name, m.name
                );
                self.problem(md, p.offset, reason);
                None
            }
        }
    }
}

fn merge(ops: &mut Vec<Operation>, op: Operation) {
    if let Some(existing) = ops
        .iter_mut()
        .find(|o| o.name == op.name && o.request_root == op.request_root)
    {
        for v in op.versions {
            if !existing.versions.contains(&v) {
                existing.versions.push(v);
            }
        }
        for a in op.soap_actions {
            if !existing.soap_actions.contains(&a) {
                existing.soap_actions.push(a);
            }
        }
        for a in op.binding_actions {
            if !existing.binding_actions.iter().any(|(v, _)| *v == a.0) {
                existing.binding_actions.push(a);
            }
        }
        if existing.soap_action.is_none() {
            existing.soap_action = existing.soap_actions.first().cloned();
        }
    } else {
        ops.push(op);
    }
}

/// The published documents with their links and the edits publishing applies.
fn documents(docs: Vec<Doc>) -> Vec<Document> {
    let absolute = |p: &Path| uri::normalize(&std::path::absolute(p).unwrap_or(p.to_path_buf()));
    let main_dir = absolute(&docs[0].path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let any_service = docs.iter().any(|d| !d.parsed.services.is_empty());
    let generated = (!any_service).then(|| generated_ports(&docs));
    docs.into_iter()
        .enumerate()
        .map(|(di, d)| {
            let p = &d.parsed;
            let mut edits = Vec::new();
            let mut links = Vec::new();
            for &(j, t) in &d.links {
                let r = &p.refs[j];
                if let Some(span) = &r.span {
                    edits.push(Edit {
                        span: span.clone(),
                        action: EditAction::Location(t),
                    });
                }
                links.push(link(r, t));
            }
            for &(j, t) in &d.namespace_links {
                let r = &p.refs[j];
                edits.push(Edit {
                    span: r.insert_at..r.insert_at,
                    action: EditAction::AddSchemaLocation(t),
                });
                links.push(link(r, t));
            }
            for span in &p.addresses {
                edits.push(Edit {
                    span: span.clone(),
                    action: EditAction::Address,
                });
            }
            if let (0, Some(ports), Some(at)) = (di, &generated, p.definitions_end) {
                edits.push(Edit {
                    span: at..at,
                    action: EditAction::AddService(ports.clone()),
                });
            }
            // Published documents carry no DTD (consumers such as zeep and .NET refuse
            // one): the DOCTYPE goes and internal entity references are expanded, except
            // inside a value rewritten anyway (a location written as an entity).
            let rewritten: Vec<std::ops::Range<usize>> =
                edits.iter().map(|e| e.span.clone()).collect();
            if let Some(span) = &p.doctype {
                edits.push(Edit {
                    span: span.clone(),
                    action: EditAction::Replace(String::new()),
                });
            }
            for (span, value) in &p.entity_refs {
                if !rewritten
                    .iter()
                    .any(|r| r.start <= span.start && span.end <= r.end)
                {
                    edits.push(Edit {
                        span: span.clone(),
                        action: EditAction::Replace(value.clone()),
                    });
                }
            }
            edits.sort_by_key(|e| (e.span.start, e.span.end));
            let kind = d.kind();
            Document {
                published_as: uri::relative_to(&main_dir, &absolute(&d.path)),
                path: d.path.clone(),
                kind,
                target_namespace: p.target_namespace.clone(),
                // Moved, not copied: the contract keeps the only copy of each file.
                bytes: d.bytes,
                links,
                inline_schemas: if kind == DocumentKind::Wsdl {
                    p.schemas
                        .iter()
                        .map(|s| InlineSchema {
                            target_namespace: s.target_namespace.clone(),
                            span: s.span.clone(),
                            namespaces: s.namespaces.clone(),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                edits,
            }
        })
        .collect()
}

fn link(r: &super::parse::Ref, target: usize) -> Link {
    Link {
        kind: match r.kind {
            RefKind::WsdlImport => LinkKind::WsdlImport,
            RefKind::XsdImport => LinkKind::XsdImport,
            RefKind::XsdInclude => LinkKind::XsdInclude,
            RefKind::XsdRedefine => LinkKind::XsdRedefine,
        },
        location: r.location.clone(),
        namespace: r.namespace.clone(),
        target,
    }
}

/// A port per SOAP binding, for a contract published without any `wsdl:service`.
fn generated_ports(docs: &[Doc]) -> Vec<GeneratedPort> {
    let mut ports: Vec<GeneratedPort> = Vec::new();
    let mut names = HashSet::new();
    for d in docs {
        let tns = d.parsed.target_namespace.clone().unwrap_or_default();
        for b in &d.parsed.bindings {
            let Some(version) = b.version else { continue };
            let mut name = format!("{}Port", b.name);
            let mut n = 2;
            while !names.insert(name.clone()) {
                name = format!("{}Port{n}", b.name);
                n += 1;
            }
            ports.push(GeneratedPort {
                name,
                binding: QName::new(tns.clone(), b.name.clone()),
                version,
            });
        }
    }
    ports
}

#[cfg(test)]
mod tests {
    use crate::model::SoapVersion;
    use crate::wsdl::{load, Catalog, Style};
    use crate::xml::QName;

    /// A WSDL around `body` (messages, portType, bindings) with one inline schema.
    fn wsdl(body: &str) -> String {
        format!(
            r#"<?xml version="1.0"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:s="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:s12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:t="urn:t" targetNamespace="urn:t">
  <types><xs:schema targetNamespace="urn:t">
    <xs:element name="A"/><xs:element name="B"/><xs:complexType name="T"/>
  </xs:schema></types>
  <message name="A"><part name="p" element="t:A"/></message>
  <message name="B"><part name="p" element="t:B"/></message>
  <message name="Typed"><part name="p" type="t:T"/></message>
  <message name="Empty"/>
{body}
</definitions>"#
        )
    }

    fn load_text(text: &str) -> Result<crate::wsdl::Contract, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.wsdl");
        std::fs::write(&p, text).unwrap();
        load(&p, &Catalog::default()).map_err(|e| {
            e.0.iter()
                .map(|p| format!("{}: {}", p.line.unwrap_or(0), p.reason))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn versions_and_actions_merge_over_bindings() {
        let c = load_text(&wsdl(
            r#"<portType name="P" xmlns:am="http://www.w3.org/2007/05/addressing/metadata"><operation name="Op"><input message="t:A" am:Action="urn:wsa:op"/><output message="t:B"/></operation>
  <operation name="Notify"><input message="t:B"/></operation>
  <operation name="Ping"><input message="t:Empty"/></operation></portType>
<binding name="B11" type="t:P"><s:binding/>
  <operation name="Op"><s:operation soapAction="urn:op11"/></operation>
  <operation name="Notify"><s:operation soapAction=""/></operation>
  <operation name="Ping"/></binding>
<binding name="B12" type="t:P"><s12:binding style="document"/>
  <operation name="Op"><s12:operation soapAction="urn:op12"/></operation></binding>
<binding name="Http" type="t:P"><operation name="Op"/></binding>"#,
        ))
        .unwrap();
        let op = c.operation("Op").unwrap();
        assert_eq!(op.versions, [SoapVersion::V11, SoapVersion::V12]);
        assert_eq!(op.soap_action.as_deref(), Some("urn:op11"));
        assert_eq!(op.soap_actions, ["urn:op11", "urn:wsa:op", "urn:op12"]);
        assert_eq!(c.operation_by_action("urn:wsa:op").unwrap().name, "Op");
        assert_eq!(c.operation_by_action("urn:op12").unwrap().name, "Op");
        assert_eq!(op.action_for(SoapVersion::V11), Some("urn:op11"));
        assert_eq!(op.action_for(SoapVersion::V12), Some("urn:op12"));
        assert_eq!(op.response_root, Some(QName::new("urn:t", "B")));
        let notify = c.operation("Notify").unwrap();
        assert_eq!(
            (notify.soap_action.as_deref(), &notify.response_root),
            (None, &None)
        );
        // An empty input has no Body element to dispatch on.
        assert_eq!(
            c.operation("Ping").unwrap().request_root,
            QName::new("", "")
        );
        assert_eq!(c.operations.len(), 3);
        let warnings: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].ends_with(
                "x.wsdl:18: operation `Ping` has an empty request Body, so no message can be \
             dispatched to it (the gateway dispatches on the Body element)"
            ),
            "{warnings:?}"
        );
    }

    #[test]
    fn two_operations_with_one_request_element_are_a_warning() {
        let c = load_text(&wsdl(
            r#"<portType name="P"><operation name="One"><input message="t:A"/></operation>
  <operation name="Two"><input message="t:A"/></operation></portType>
<binding name="B" type="t:P"><s:binding/><operation name="One"/>
  <operation name="Two"/></binding>"#,
        ))
        .unwrap();
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].to_string().ends_with(
            "x.wsdl:15: operations `One` and `Two` have the same request element {urn:t}A; \
             messages go to `One` (the SOAP action is not signed, so it cannot choose)"
        ));
    }

    #[test]
    fn operation_style_overrides_the_binding() {
        let c = load_text(&wsdl(
            r#"<portType name="P"><operation name="Op"><input message="t:Typed"/><output message="t:Typed"/></operation></portType>
<binding name="B" type="t:P"><s:binding style="document"/>
  <operation name="Op"><s:operation style="rpc"/>
    <input><s:body use="literal" namespace="urn:rpc"/></input>
    <output><s:body use="literal" namespace="urn:rpc:out"/></output></operation></binding>"#,
        ))
        .unwrap();
        let op = c.operation("Op").unwrap();
        assert_eq!(op.style, Style::Rpc);
        assert_eq!(op.request_root, QName::new("urn:rpc", "Op"));
        assert_eq!(
            op.response_root,
            Some(QName::new("urn:rpc:out", "OpResponse"))
        );
    }

    #[test]
    fn document_style_needs_elements_and_known_components() {
        let e = load_text(&wsdl(
            r#"<portType name="P"><operation name="Op"><input message="t:Typed"/></operation></portType>
<binding name="B" type="t:P"><s:binding style="document"/>
  <operation name="Op"><s:operation/></operation>
  <operation name="Extra"><s:operation/></operation></binding>
<binding name="B" type="t:P"><s:binding/></binding>"#,
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "14: document-style operation `Op`: part `p` of message `Typed` has a type, not an \
             element, so the Body element is undefined (WS-I BP 1.1 R2204)\n\
             15: binding `B` binds operation `Extra`, which portType {urn:t}P does not have\n\
             16: wsdl:binding {urn:t}B is defined twice (first at line 13)"
        );
    }
}
