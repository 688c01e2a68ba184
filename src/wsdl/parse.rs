//! One pass of a quick-xml `NsReader` over one WSDL or XSD file, collecting what the
//! contract needs (definitions, references, import locations with their byte spans).
//!
//! Elements and QName-valued attributes are matched by namespace URI, never by prefix:
//! a `soap` prefix bound to the SOAP 1.2 binding namespace is SOAP 1.2. Files on disk are
//! trusted, so a DOCTYPE is tolerated (W3C's `xml.xsd` carries one); only internal
//! entities with literal values are expanded, external ones never (and nothing is fetched).

use std::collections::HashMap;
use std::ops::Range;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::NsReader;

use super::model::{DocumentKind, Style};
use crate::model::SoapVersion;
use crate::xml::{ns, QName};

/// What one file says, with byte offsets for problems and rewriting.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub kind: Option<DocumentKind>,
    pub target_namespace: Option<String>,
    /// Start of the root element.
    pub root_offset: usize,
    pub refs: Vec<Ref>,
    /// The root schema of an XSD, or the inline schemas of a WSDL.
    pub schemas: Vec<SchemaFacts>,
    pub messages: Vec<Message>,
    pub port_types: Vec<PortType>,
    pub bindings: Vec<Binding>,
    pub services: Vec<Service>,
    /// `location` value spans of `soap:address` / `soap12:address`.
    pub addresses: Vec<Range<usize>>,
    /// Offset of `</wsdl:definitions>`, where a generated service goes.
    pub definitions_end: Option<usize>,
    /// The `<!DOCTYPE ...>` declaration, internal subset included.
    pub doctype: Option<Range<usize>>,
    /// References to internal entities of the DOCTYPE, with their expansion (escaped for
    /// an attribute value where they sit in one). Published documents carry no DTD:
    /// hardened consumers (zeep, .NET) refuse DOCTYPEs and entity declarations.
    pub entity_refs: Vec<(Range<usize>, String)>,
    /// Problems that do not stop the walk: (byte offset, reason).
    pub problems: Vec<(usize, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    WsdlImport,
    XsdImport,
    XsdInclude,
    XsdRedefine,
}

#[derive(Debug)]
pub(crate) struct Ref {
    pub kind: RefKind,
    pub namespace: Option<String>,
    pub location: Option<String>,
    /// Span of the location attribute's value.
    pub span: Option<Range<usize>>,
    /// Start of the element (for its line).
    pub offset: usize,
    /// Where ` schemaLocation="..."` can be inserted (before `/>` or `>`).
    pub insert_at: usize,
    /// Index of the schema (in `Parsed::schemas`) the reference sits in, if any.
    pub schema: Option<usize>,
}

#[derive(Debug, Default)]
pub(crate) struct SchemaFacts {
    pub target_namespace: Option<String>,
    /// Global element declarations: (local name, offset).
    pub elements: Vec<(String, usize)>,
    /// Global type definitions (complex and simple).
    pub types: Vec<String>,
    pub span: Range<usize>,
    pub namespaces: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Message {
    pub name: String,
    pub offset: usize,
    pub parts: Vec<Part>,
}

#[derive(Debug)]
pub(crate) struct Part {
    pub name: String,
    pub element: Option<QName>,
    pub type_: Option<QName>,
    pub offset: usize,
    /// An `element`/`type` attribute was present but unusable (already reported).
    pub broken: bool,
}

#[derive(Debug)]
pub(crate) struct PortType {
    pub name: String,
    pub offset: usize,
    pub operations: Vec<PortTypeOperation>,
}

#[derive(Debug, Default)]
pub(crate) struct PortTypeOperation {
    pub name: String,
    /// (message QName, offset of the `input`/`output` element)
    pub input: Option<(QName, usize)>,
    pub output: Option<(QName, usize)>,
    /// The input's WS-Addressing `Action` (wsam/wsaw), which SOAP 1.2 clients send as
    /// the `action` parameter.
    pub input_action: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Binding {
    pub name: String,
    pub offset: usize,
    pub port_type: Option<QName>,
    /// Set by the `soap:binding` / `soap12:binding` extension; `None`: not a SOAP binding.
    pub version: Option<SoapVersion>,
    pub style: Option<Style>,
    pub operations: Vec<BindingOperation>,
}

#[derive(Debug, Default)]
pub(crate) struct BindingOperation {
    pub name: String,
    pub offset: usize,
    pub action: Option<String>,
    pub style: Option<Style>,
    pub input: BodyUse,
    pub output: BodyUse,
}

/// The `soap:body` of a binding operation's input or output.
#[derive(Debug, Default)]
pub(crate) struct BodyUse {
    pub namespace: Option<String>,
    /// `parts="..."`, when the body carries only some of the message's parts.
    pub parts: Option<Vec<String>>,
}

#[derive(Debug)]
pub(crate) struct Service {
    pub ports: Vec<Port>,
}

#[derive(Debug)]
pub(crate) struct Port {
    pub name: String,
    pub binding: Option<QName>,
    pub offset: usize,
}

/// A file that cannot be used at all: (byte offset, reason).
#[derive(Debug)]
pub(crate) struct Fatal {
    pub offset: usize,
    pub reason: String,
}

const WSA10: &str = crate::xml::ns::WSA;
const WSA04: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Addressing 1.0 Metadata and the older WSDL Binding namespaces of `Action`.
const WSAM: &str = "http://www.w3.org/2007/05/addressing/metadata";
const WSAW: &str = "http://www.w3.org/2006/05/addressing/wsdl";

/// XSD attributes whose value is a QName (XSD 1.0 Part 1, the schema for schemas).
const QNAME_ATTRIBUTES: [&str; 5] = ["type", "ref", "base", "itemType", "substitutionGroup"];

#[derive(Clone, Copy)]
enum Ctx {
    Definitions,
    Types,
    Schema(usize),
    /// Below a schema's top-level components (QName prefixes still checked).
    InSchema,
    Message(usize),
    PortType(usize),
    PortTypeOperation(usize, usize),
    Binding(usize),
    BindingOperation(usize, usize),
    BindingMessage(usize, usize, bool),
    Service(usize),
    Port,
    /// `wsa:EndpointReference` in a port (WCF publishes one beside `soap12:address`).
    EndpointReference,
    /// Its `wsa:Address`, whose text is an endpoint address too.
    EndpointAddress,
    Other,
}

/// Parses one file. `Err` when it is not well-formed XML or not a WSDL/XSD.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, Fatal> {
    let (skip, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    let text = std::str::from_utf8(body).map_err(|e| Fatal {
        offset: skip + e.valid_up_to(),
        reason: "not UTF-8 (WSDL and XSD files are read as UTF-8)".into(),
    })?;
    let mut walker = Walker {
        input: text,
        out: Parsed::default(),
        entities: HashMap::new(),
        stack: Vec::new(),
        epr_text: None,
    };
    walker.run().map_err(|mut f| {
        f.offset += skip;
        f
    })?;
    let mut out = walker.out;
    let shift = |r: &mut Range<usize>| {
        r.start += skip;
        r.end += skip;
    };
    if skip > 0 {
        for r in &mut out.refs {
            r.offset += skip;
            r.insert_at += skip;
            if let Some(s) = &mut r.span {
                shift(s);
            }
        }
        out.addresses.iter_mut().for_each(shift);
        for s in &mut out.schemas {
            shift(&mut s.span);
        }
        if let Some(e) = &mut out.definitions_end {
            *e += skip;
        }
        out.root_offset += skip;
        if let Some(d) = &mut out.doctype {
            shift(d);
        }
        for (r, _) in &mut out.entity_refs {
            shift(r);
        }
        for p in &mut out.problems {
            p.0 += skip;
        }
    }
    Ok(out)
}

struct Walker<'i> {
    input: &'i str,
    out: Parsed,
    /// Internal general entities of the DOCTYPE (name -> literal value); `None` for an
    /// external entity, which is never expanded.
    entities: HashMap<String, Option<String>>,
    stack: Vec<Ctx>,
    /// Text span of the `wsa:Address` being read.
    epr_text: Option<Range<usize>>,
}

impl<'i> Walker<'i> {
    fn run(&mut self) -> Result<(), Fatal> {
        let mut reader = NsReader::from_str(self.input);
        let mut root_seen = false;
        loop {
            let start = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|e| Fatal {
                offset: reader.error_position() as usize,
                reason: format!("malformed XML: {e}"),
            })?;
            let end = reader.buffer_position() as usize;
            match event {
                Event::Start(_) | Event::Empty(_) if !self.entities.is_empty() => {
                    self.attribute_references(start, end);
                    self.dispatch(&reader, event, start, end, &mut root_seen)?;
                }
                Event::Start(_) | Event::Empty(_) => {
                    self.dispatch(&reader, event, start, end, &mut root_seen)?;
                }
                Event::Text(_) | Event::GeneralRef(_) | Event::CData(_)
                    if matches!(self.stack.last(), Some(Ctx::EndpointAddress)) =>
                {
                    if matches!(event, Event::GeneralRef(_)) {
                        self.text_reference(start, end);
                    }
                    let from = self.epr_text.as_ref().map_or(start, |r| r.start);
                    self.epr_text = Some(from..end);
                }
                Event::End(_) => {
                    self.end(end);
                    if self.stack.is_empty() && self.out.kind == Some(DocumentKind::Wsdl) {
                        self.out.definitions_end = Some(start);
                    }
                }

                Event::DocType(d) => {
                    self.doctype(&d);
                    self.out.doctype = Some(start..end);
                }
                Event::GeneralRef(_) => self.text_reference(start, end),
                Event::Eof => break,
                _ => {}
            }
        }
        if !root_seen {
            return Err(Fatal {
                offset: 0,
                reason: "not a WSDL or XML Schema document (no root element)".into(),
            });
        }
        if !self.stack.is_empty() {
            return Err(Fatal {
                offset: self.input.len(),
                reason: "malformed XML: unexpected end of file (unclosed elements)".into(),
            });
        }
        Ok(())
    }

    /// An end tag: closes the context it opened.
    fn end(&mut self, end: usize) {
        match self.stack.pop() {
            Some(Ctx::Schema(i)) => self.out.schemas[i].span.end = end,
            Some(Ctx::EndpointAddress) => {
                if let Some(r) = self.epr_text.take() {
                    let text = &self.input[r.clone()];
                    let lead = text.len() - text.trim_start().len();
                    let trail = text.len() - text.trim_end().len();
                    if lead + trail < text.len() {
                        self.out.addresses.push(r.start + lead..r.end - trail);
                    }
                }
            }
            _ => {}
        }
    }

    fn dispatch(
        &mut self,
        reader: &NsReader<&'i [u8]>,
        event: Event<'i>,
        start: usize,
        end: usize,
        root_seen: &mut bool,
    ) -> Result<(), Fatal> {
        match event {
            Event::Start(e) | Event::Empty(e) if !*root_seen => {
                *root_seen = true;
                let empty = end >= 2 && self.input.as_bytes()[end - 2] == b'/';
                let ctx = self.root(reader, &e, start, end)?;
                if !empty {
                    self.stack.push(ctx);
                }
            }
            // XML 1.0 §2.1: exactly one root element.
            Event::Start(_) | Event::Empty(_) if self.stack.is_empty() => {
                return Err(Fatal {
                    offset: start,
                    reason: "malformed XML: a second root element".into(),
                });
            }
            Event::Start(e) => {
                let ctx = self.element(reader, &e, start, end);
                self.stack.push(ctx);
            }
            Event::Empty(e) => {
                self.element(reader, &e, start, end);
            }
            _ => {}
        }
        Ok(())
    }

    /// `&name;` in text content: an internal entity is expanded when publishing; an
    /// external one is never expanded, and an undeclared one is an error.
    fn text_reference(&mut self, start: usize, end: usize) {
        let name = &self.input[start + 1..end.saturating_sub(1).max(start + 1)];
        if name.starts_with('#') || quick_xml::escape::resolve_predefined_entity(name).is_some() {
            return;
        }
        match self.entities.get(name) {
            Some(Some(value)) => self.out.entity_refs.push((start..end, value.clone())),
            Some(None) => self.out.problems.push((
                start,
                format!("entity `&{name};` is external; external entities are never expanded"),
            )),
            None => self
                .out
                .problems
                .push((start, format!("entity `&{name};` is not declared"))),
        }
    }

    /// Internal entity references inside a start tag (that is, in attribute values).
    fn attribute_references(&mut self, start: usize, end: usize) {
        let tag = &self.input[start..end];
        let mut from = 0;
        while let Some(i) = tag[from..].find('&') {
            let at = from + i;
            let Some(len) = tag[at..].find(';') else {
                break;
            };
            let name = &tag[at + 1..at + len];
            if let Some(Some(value)) = self.entities.get(name) {
                let value = crate::xml::escape::text(value).into_owned();
                self.out
                    .entity_refs
                    .push((start + at..start + at + len + 1, value));
            }
            from = at + len + 1;
        }
    }

    fn root(
        &mut self,
        reader: &NsReader<&'i [u8]>,
        e: &BytesStart<'i>,
        start: usize,
        end: usize,
    ) -> Result<Ctx, Fatal> {
        let (ns_uri, local) = element_name(reader, e);
        let attrs = self.attrs(e, start);
        let tns = self.value(&attrs, "targetNamespace");
        self.out.root_offset = start;
        if ns_uri == ns::WSDL11 && local == "definitions" {
            self.out.kind = Some(DocumentKind::Wsdl);
            self.out.target_namespace = tns;
            Ok(Ctx::Definitions)
        } else if ns_uri == ns::XSD && local == "schema" {
            let tns = tns.clone();
            self.out.kind = Some(DocumentKind::Xsd);
            self.out.target_namespace = tns.clone();
            self.out.schemas.push(SchemaFacts {
                target_namespace: tns,
                span: start..end,
                ..Default::default()
            });
            Ok(Ctx::Schema(0))
        } else {
            let what = if ns_uri.is_empty() {
                format!("`{local}` in no namespace")
            } else {
                format!("`{local}` in namespace `{ns_uri}`")
            };
            Err(Fatal {
                offset: start,
                reason: format!(
                    "not a WSDL 1.1 or XML Schema document (root element is {what}; expected \
                     wsdl:definitions or xsd:schema)"
                ),
            })
        }
    }

    /// Handles one start tag below the root; returns the context its children live in.
    fn element(
        &mut self,
        reader: &NsReader<&'i [u8]>,
        e: &BytesStart<'i>,
        start: usize,
        end: usize,
    ) -> Ctx {
        let parent = match self.stack.last() {
            Some(Ctx::Other) | None => return Ctx::Other,
            Some(c) => *c,
        };
        let (ns_uri, local) = element_name(reader, e);
        if let Ctx::InSchema = parent {
            // The bulk of a schema: only QName prefixes are of interest here.
            if ns_uri == ns::XSD {
                self.check_nested_qnames(reader, e.attributes_raw(), start);
            }
            return Ctx::InSchema;
        }
        let is = |n: &str, l: &str| ns_uri == n && local == l;
        let soap_version = match ns_uri {
            ns::WSDL_SOAP11 => Some(SoapVersion::V11),
            ns::WSDL_SOAP12 => Some(SoapVersion::V12),
            _ => None,
        };
        match parent {
            Ctx::Definitions => {
                let attrs = self.attrs(e, start);
                if is(ns::WSDL11, "import") {
                    let (location, span) = self.value_span(&attrs, "location");
                    let namespace = self.value(&attrs, "namespace");
                    self.out.refs.push(Ref {
                        kind: RefKind::WsdlImport,
                        namespace,
                        location,
                        span,
                        offset: start,
                        insert_at: insert_point(self.input, end),
                        schema: None,
                    });
                    Ctx::Other
                } else if is(ns::WSDL11, "types") {
                    Ctx::Types
                } else if is(ns::WSDL11, "message") {
                    let name = self.value(&attrs, "name").unwrap_or_default();
                    self.out.messages.push(Message {
                        name,
                        offset: start,
                        parts: Vec::new(),
                    });
                    Ctx::Message(self.out.messages.len() - 1)
                } else if is(ns::WSDL11, "portType") {
                    let name = self.value(&attrs, "name").unwrap_or_default();
                    self.out.port_types.push(PortType {
                        name,
                        offset: start,
                        operations: Vec::new(),
                    });
                    Ctx::PortType(self.out.port_types.len() - 1)
                } else if is(ns::WSDL11, "binding") {
                    let port_type = self.qname(reader, &attrs, "type");
                    let name = self.value(&attrs, "name").unwrap_or_default();
                    self.out.bindings.push(Binding {
                        name,
                        offset: start,
                        port_type,
                        version: None,
                        style: None,
                        operations: Vec::new(),
                    });
                    Ctx::Binding(self.out.bindings.len() - 1)
                } else if is(ns::WSDL11, "service") {
                    self.out.services.push(Service { ports: Vec::new() });
                    Ctx::Service(self.out.services.len() - 1)
                } else {
                    Ctx::Other
                }
            }
            Ctx::Types if is(ns::XSD, "schema") => {
                let attrs = self.attrs(e, start);
                let namespaces = reader
                    .resolver()
                    .bindings()
                    .map(|(p, n)| {
                        let prefix = match p {
                            PrefixDeclaration::Default => String::new(),
                            PrefixDeclaration::Named(p) => p.to_string(),
                        };
                        (prefix, n.into_inner().to_string())
                    })
                    .collect();
                let target_namespace = self.value(&attrs, "targetNamespace");
                self.out.schemas.push(SchemaFacts {
                    target_namespace,
                    span: start..end,
                    namespaces,
                    ..Default::default()
                });
                Ctx::Schema(self.out.schemas.len() - 1)
            }
            Ctx::Schema(si) if ns_uri == ns::XSD => {
                let attrs = self.attrs(e, start);
                self.check_schema_qnames(reader, &attrs);
                let kind = match local {
                    "import" => Some(RefKind::XsdImport),
                    "include" => Some(RefKind::XsdInclude),
                    // `override` (XSD 1.1) brings a document in the same way.
                    "redefine" | "override" => Some(RefKind::XsdRedefine),
                    _ => None,
                };
                if let Some(kind) = kind {
                    let (location, span) = self.value_span(&attrs, "schemaLocation");
                    let namespace = self.value(&attrs, "namespace");
                    self.out.refs.push(Ref {
                        kind,
                        namespace,
                        location,
                        span,
                        offset: start,
                        insert_at: insert_point(self.input, end),
                        schema: Some(si),
                    });
                } else if let Some(name) = self.value(&attrs, "name") {
                    match local {
                        "element" => self.out.schemas[si].elements.push((name, start)),
                        "complexType" | "simpleType" => self.out.schemas[si].types.push(name),
                        _ => {}
                    }
                }
                Ctx::InSchema
            }
            Ctx::Message(mi) if is(ns::WSDL11, "part") => {
                let attrs = self.attrs(e, start);
                let before = self.out.problems.len();
                let element = self.qname(reader, &attrs, "element");
                let type_ = self.qname(reader, &attrs, "type");
                let broken = self.out.problems.len() > before;
                let name = self.value(&attrs, "name").unwrap_or_default();
                self.out.messages[mi].parts.push(Part {
                    name,
                    element,
                    type_,
                    offset: start,
                    broken,
                });
                Ctx::Other
            }
            Ctx::PortType(pi) if is(ns::WSDL11, "operation") => {
                let attrs = self.attrs(e, start);
                let ops = &mut self.out.port_types[pi].operations;
                ops.push(PortTypeOperation {
                    name: value_of(&attrs, "name", &self.entities).unwrap_or_default(),
                    ..Default::default()
                });
                Ctx::PortTypeOperation(pi, ops.len() - 1)
            }
            Ctx::PortTypeOperation(pi, oi)
                if is(ns::WSDL11, "input") || is(ns::WSDL11, "output") =>
            {
                let attrs = self.attrs(e, start);
                let action = addressing_action(reader, &attrs, &self.entities);
                if local == "input" {
                    self.out.port_types[pi].operations[oi].input_action = action;
                }
                if let Some(q) = self.qname(reader, &attrs, "message") {
                    let op = &mut self.out.port_types[pi].operations[oi];
                    if local == "input" {
                        op.input = Some((q, start));
                    } else {
                        op.output = Some((q, start));
                    }
                }
                Ctx::Other
            }
            Ctx::Binding(bi) => {
                let attrs = self.attrs(e, start);
                if soap_version.is_some() && local == "binding" {
                    let style = self.style(&attrs, start);
                    let b = &mut self.out.bindings[bi];
                    b.version = soap_version;
                    b.style = style;
                    Ctx::Other
                } else if is(ns::WSDL11, "operation") {
                    let ops = &mut self.out.bindings[bi].operations;
                    ops.push(BindingOperation {
                        name: value_of(&attrs, "name", &self.entities).unwrap_or_default(),
                        offset: start,
                        ..Default::default()
                    });
                    Ctx::BindingOperation(bi, ops.len() - 1)
                } else {
                    Ctx::Other
                }
            }
            Ctx::BindingOperation(bi, oi) => {
                if soap_version.is_some() && local == "operation" {
                    let attrs = self.attrs(e, start);
                    let action = self.value(&attrs, "soapAction").filter(|a| !a.is_empty());
                    let style = self.style(&attrs, start);
                    let op = &mut self.out.bindings[bi].operations[oi];
                    op.action = action;
                    op.style = style;
                    Ctx::Other
                } else if is(ns::WSDL11, "input") || is(ns::WSDL11, "output") {
                    Ctx::BindingMessage(bi, oi, local == "input")
                } else {
                    Ctx::Other
                }
            }
            Ctx::BindingMessage(bi, oi, input) if soap_version.is_some() && local == "body" => {
                let attrs = self.attrs(e, start);
                let body = BodyUse {
                    namespace: self.value(&attrs, "namespace"),
                    parts: self
                        .value(&attrs, "parts")
                        .map(|p| p.split_whitespace().map(str::to_string).collect()),
                };
                let op = &mut self.out.bindings[bi].operations[oi];
                if input {
                    op.input = body;
                } else {
                    op.output = body;
                }
                Ctx::Other
            }
            Ctx::Service(si) if is(ns::WSDL11, "port") => {
                let attrs = self.attrs(e, start);
                let binding = self.qname(reader, &attrs, "binding");
                let ports = &mut self.out.services[si].ports;
                ports.push(Port {
                    name: value_of(&attrs, "name", &self.entities).unwrap_or_default(),
                    binding,
                    offset: start,
                });
                Ctx::Port
            }
            Ctx::Port if is(WSA10, "EndpointReference") || is(WSA04, "EndpointReference") => {
                Ctx::EndpointReference
            }
            Ctx::EndpointReference if is(WSA10, "Address") || is(WSA04, "Address") => {
                self.epr_text = None;
                Ctx::EndpointAddress
            }
            Ctx::Port if soap_version.is_some() && local == "address" => {
                let attrs = self.attrs(e, start);
                if let (Some(_), Some(span)) = self.value_span(&attrs, "location") {
                    self.out.addresses.push(span);
                }
                Ctx::Other
            }
            _ => Ctx::Other,
        }
    }

    /// An element's attributes with the byte span of each value.
    fn attrs(
        &mut self,
        e: &BytesStart<'i>,
        start: usize,
    ) -> Vec<(Attribute<'i>, Option<Range<usize>>)> {
        let mut out = Vec::new();
        for a in e.attributes() {
            match a {
                Ok(a) => {
                    let span = span_in(self.input, &a.value);
                    // With a slice reader, attributes borrow from the element, which borrows
                    // from the input: the value's position in the input is its span (the
                    // spans publishing rewrites). `None` cannot happen with `from_str`, but
                    // a value without a span is never rewritten.
                    let a: Attribute<'i> = Attribute {
                        key: quick_xml::name::QName(self.input_str(a.key.0)),
                        value: match span.clone() {
                            Some(r) => std::borrow::Cow::Borrowed(&self.input[r]),
                            None => std::borrow::Cow::Owned(a.value.into_owned()),
                        },
                    };
                    out.push((a, span));
                }
                Err(err) => self
                    .out
                    .problems
                    .push((start, format!("malformed attribute: {err}"))),
            }
        }
        out
    }

    /// Re-borrows a slice of the element as a slice of the input (same bytes).
    fn input_str(&self, s: &str) -> &'i str {
        match span_in(self.input, s) {
            Some(r) => &self.input[r],
            None => "",
        }
    }

    fn value(
        &mut self,
        attrs: &[(Attribute<'i>, Option<Range<usize>>)],
        name: &str,
    ) -> Option<String> {
        self.value_span(attrs, name).0
    }

    /// An unprefixed attribute's value (entities expanded) and the span of its raw value.
    fn value_span(
        &mut self,
        attrs: &[(Attribute<'i>, Option<Range<usize>>)],
        name: &str,
    ) -> (Option<String>, Option<Range<usize>>) {
        let Some((a, span)) = attrs.iter().find(|(a, _)| a.key.0 == name) else {
            return (None, None);
        };
        match unescape(a, &self.entities) {
            Ok(v) => (Some(v), span.clone()),
            Err(reason) => {
                let at = span.as_ref().map_or(0, |s| s.start);
                self.out.problems.push((at, reason));
                (None, None)
            }
        }
    }

    /// A QName-valued attribute (`message="tns:X"`) resolved against the namespaces in
    /// scope; an unprefixed value takes the default namespace (XSD 1.0 §3.15.3, QName).
    fn qname(
        &mut self,
        reader: &NsReader<&'i [u8]>,
        attrs: &[(Attribute<'i>, Option<Range<usize>>)],
        name: &str,
    ) -> Option<QName> {
        let (value, span) = self.value_span(attrs, name);
        let value = value?;
        let offset = span.map_or(0, |s| s.start);
        resolve_qname(reader, &value)
            .map_err(|prefix| {
                self.out.problems.push((
                    offset,
                    format!("unknown namespace prefix `{prefix}` in {name}=\"{value}\""),
                ))
            })
            .ok()
    }

    fn style(
        &mut self,
        attrs: &[(Attribute<'i>, Option<Range<usize>>)],
        start: usize,
    ) -> Option<Style> {
        match self.value(attrs, "style").as_deref() {
            None => None,
            Some("document") => Some(Style::Document),
            Some("rpc") => Some(Style::Rpc),
            Some(other) => {
                self.out.problems.push((
                    start,
                    format!("style=\"{other}\" is neither `document` nor `rpc`"),
                ));
                None
            }
        }
    }

    /// Prefixes of QName-valued XSD attributes must be bound; the schema compiler reports
    /// the rest (unresolved components).
    fn check_schema_qnames(
        &mut self,
        reader: &NsReader<&'i [u8]>,
        attrs: &[(Attribute<'i>, Option<Range<usize>>)],
    ) {
        for (a, span) in attrs {
            let key = a.key.0;
            if !QNAME_ATTRIBUTES.contains(&key) {
                continue;
            }
            if let Ok(v) = unescape(a, &self.entities) {
                if let Err(prefix) = resolve_qname(reader, &v) {
                    self.out.problems.push((
                        span.as_ref().map_or(0, |s| s.start),
                        format!("unknown namespace prefix `{prefix}` in {key}=\"{v}\""),
                    ));
                }
            }
        }
    }

    /// As `check_schema_qnames`, for the many elements inside schema components (most of
    /// a schema's bytes): one pass over the raw attribute text, no attribute list built,
    /// nothing copied. Malformed attributes there are left to the schema compiler.
    fn check_nested_qnames(&mut self, reader: &NsReader<&'i [u8]>, raw: &str, start: usize) {
        let b = raw.as_bytes();
        let mut i = 0;
        while let Some(eq) = b[i..].iter().position(|&c| c == b'=').map(|p| p + i) {
            i = eq + 1;
            let key_end = raw[..eq].trim_end().len();
            let key_start = raw[..key_end]
                .rfind(|c: char| c.is_ascii_whitespace())
                .map_or(0, |p| p + 1);
            let key = &raw[key_start..key_end];
            let rest = raw[eq + 1..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(len) = rest[1..].find(quote) else {
                break;
            };
            let value = &rest[1..1 + len];
            i = raw.len() - rest.len() + len + 2;
            if !QNAME_ATTRIBUTES.contains(&key) {
                continue;
            }
            let Some((prefix, _)) = value.trim().split_once(':') else {
                continue; // unprefixed: the default namespace or none, always resolvable
            };
            if prefix.contains('&') {
                continue; // written with an entity: left to the schema compiler
            }
            let res = reader
                .resolver()
                .resolve_prefix(quick_xml::name::QName(value.trim()).prefix(), false);
            if matches!(res, ResolveResult::Unknown(_)) {
                let at = span_in(self.input, value).map_or(start, |r| r.start);
                self.out.problems.push((
                    at,
                    format!(
                        "unknown namespace prefix `{prefix}` in {key}=\"{}\"",
                        value.trim()
                    ),
                ));
            }
        }
    }

    /// Records the internal subset's general entities so attribute values using them
    /// resolve; external entities (SYSTEM/PUBLIC) are recorded as not expandable.
    fn doctype(&mut self, d: &quick_xml::events::BytesText<'_>) {
        let text = String::from_utf8_lossy(d.as_ref().as_bytes()).into_owned();
        for (name, value) in crate::xml::dtd::entity_declarations(&text) {
            self.entities.entry(name).or_insert(value);
        }
    }
}

/// An element's namespace URI and local name, borrowed (no allocation per element).
fn element_name<'r, 'e>(reader: &'r NsReader<&[u8]>, e: &'e BytesStart<'_>) -> (&'r str, &'e str) {
    let (res, local) = reader.resolver().resolve_element(e.name());
    let ns_uri = match res {
        ResolveResult::Bound(n) => n.into_inner(),
        _ => "",
    };
    (ns_uri, local.into_inner())
}

fn resolve_qname(reader: &NsReader<&[u8]>, value: &str) -> Result<QName, String> {
    let value = value.trim();
    let (res, local) = reader
        .resolver()
        .resolve_element(quick_xml::name::QName(value));
    match res {
        ResolveResult::Bound(n) => Ok(QName::new(n.into_inner(), local.into_inner())),
        ResolveResult::Unbound => Ok(QName::new("", local.into_inner())),
        ResolveResult::Unknown(p) => Err(p),
    }
}

/// A `wsam:Action` / `wsaw:Action` attribute, matched by namespace.
fn addressing_action(
    reader: &NsReader<&[u8]>,
    attrs: &[(Attribute<'_>, Option<Range<usize>>)],
    entities: &HashMap<String, Option<String>>,
) -> Option<String> {
    attrs.iter().find_map(|(a, _)| {
        let (res, local) = reader.resolver().resolve_attribute(a.key);
        match res {
            ResolveResult::Bound(n)
                if local.into_inner() == "Action" && matches!(n.into_inner(), WSAM | WSAW) =>
            {
                unescape(a, entities).ok().filter(|v| !v.is_empty())
            }
            _ => None,
        }
    })
}

fn value_of(
    attrs: &[(Attribute<'_>, Option<Range<usize>>)],
    name: &str,
    entities: &HashMap<String, Option<String>>,
) -> Option<String> {
    let (a, _) = attrs.iter().find(|(a, _)| a.key.0 == name)?;
    unescape(a, entities).ok()
}

fn unescape(
    a: &Attribute<'_>,
    entities: &HashMap<String, Option<String>>,
) -> Result<String, String> {
    let mut external = None;
    let r = a.normalized_value_with(quick_xml::XmlVersion::Implicit1_0, 8, |name| {
        if let Some(v) = quick_xml::escape::resolve_predefined_entity(name) {
            return Some(v);
        }
        match entities.get(name) {
            Some(Some(v)) => Some(v.as_str()),
            Some(None) => {
                external = Some(name.to_string());
                None
            }
            None => None,
        }
    });
    match (r, external) {
        (Ok(v), _) => Ok(v.into_owned()),
        (Err(_), Some(name)) => Err(format!(
            "entity `&{name};` is external; external entities are never expanded"
        )),
        (Err(e), None) => Err(format!("attribute `{}`: {e}", a.key.0)),
    }
}

/// The byte range of `part` inside `whole`, when `part` borrows from it.
fn span_in(whole: &str, part: &str) -> Option<Range<usize>> {
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= w && p + part.len() <= w + whole.len()).then(|| (p - w)..(p - w + part.len()))
}

/// Just before the `/>` or `>` that ends a start tag ending at `end`.
fn insert_point(input: &str, end: usize) -> usize {
    let b = input.as_bytes();
    if end >= 2 && b[end - 2] == b'/' {
        end - 2
    } else {
        end.saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WSDL: &str = r#"<?xml version="1.0"?>
<w:definitions xmlns:w="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:t="urn:t" targetNamespace="urn:t">
  <w:types>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">
      <xs:import namespace="urn:other"/>
      <xs:element name="Req" type="xs:string"/>
    </xs:schema>
  </w:types>
  <w:message name="In"><w:part name="p" element="t:Req"/></w:message>
  <w:portType name="PT"><w:operation name="Op"><w:input message="t:In"/></w:operation></w:portType>
  <w:binding name="B" type="t:PT">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <w:operation name="Op"><soap:operation soapAction="urn:t#Op"/>
      <w:input><soap:body use="literal"/></w:input></w:operation>
  </w:binding>
  <w:service name="S"><w:port name="P" binding="t:B">
    <soap:address location="http://old/&amp;x"/></w:port></w:service>
</w:definitions>"#;

    #[test]
    fn soap_prefix_bound_to_soap12_is_soap12() {
        let p = parse(WSDL.as_bytes()).unwrap();
        assert_eq!(p.kind, Some(DocumentKind::Wsdl));
        assert_eq!(p.bindings[0].version, Some(SoapVersion::V12));
        assert_eq!(
            p.bindings[0].operations[0].action.as_deref(),
            Some("urn:t#Op")
        );
        assert_eq!(
            p.messages[0].parts[0].element,
            Some(QName::new("urn:t", "Req"))
        );
        assert_eq!(p.schemas[0].elements[0].0, "Req");
        assert!(p.schemas[0]
            .namespaces
            .iter()
            .any(|(p, n)| p == "t" && n == "urn:t"));
        let span = p.addresses[0].clone();
        assert_eq!(&WSDL[span], "http://old/&amp;x");
        assert_eq!(p.refs[0].kind, RefKind::XsdImport);
        assert!(WSDL[p.definitions_end.unwrap()..].starts_with("</w:definitions>"));
        let s = p.schemas[0].span.clone();
        assert!(WSDL[s.clone()].starts_with("<xs:schema") && WSDL[s].ends_with("</xs:schema>"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn unknown_prefix_is_reported_where_it_is() {
        let w = WSDL.replace(r#"message="t:In""#, r#"message="zz:In""#);
        let p = parse(w.as_bytes()).unwrap();
        assert_eq!(p.problems.len(), 1);
        assert_eq!(crate::xml::line_of(w.as_bytes(), p.problems[0].0), 12);
        assert_eq!(
            p.problems[0].1,
            "unknown namespace prefix `zz` in message=\"zz:In\""
        );
    }

    #[test]
    fn refuses_other_documents_and_malformed_xml() {
        let e = parse(b"<html><body/></html>").unwrap_err();
        assert!(e
            .reason
            .starts_with("not a WSDL 1.1 or XML Schema document"));
        let bad = b"<s:schema xmlns:s='http://www.w3.org/2001/XMLSchema'>\n<b>\n</s:schema>";
        let e = parse(bad).unwrap_err();
        assert_eq!(crate::xml::line_of(bad, e.offset), 3);
        assert!(e.reason.starts_with("malformed XML: "), "{}", e.reason);
        let open = b"<s:schema xmlns:s='http://www.w3.org/2001/XMLSchema'>\n<b>\n";
        assert!(parse(open)
            .unwrap_err()
            .reason
            .contains("unexpected end of file"));
        assert!(parse(b"{\"json\": true}").is_err());
        assert!(parse(b"\xff\xfe<").is_err());
    }

    #[test]
    fn doctype_with_internal_subset_is_tolerated() {
        let x = r#"<?xml version="1.0"?>
<!DOCTYPE xs:schema [
  <!ENTITY tns "urn:example:x">
  <!ENTITY ext SYSTEM "http://example.org/never">
  <!ELEMENT xs:schema ANY>
]>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="&tns;">
  <xs:element name="A" ref="xml:lang"/>
</xs:schema>"#;
        let p = parse(x.as_bytes()).unwrap();
        assert_eq!(p.target_namespace.as_deref(), Some("urn:example:x"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let doctype = p.doctype.clone().unwrap();
        assert!(
            x[doctype].starts_with("<!DOCTYPE") && x[p.doctype.clone().unwrap()].ends_with("]>")
        );
        assert_eq!(p.entity_refs.len(), 1);
        assert_eq!(&x[p.entity_refs[0].0.clone()], "&tns;");
        assert_eq!(p.entity_refs[0].1, "urn:example:x");
        let y = x.replace("\"&tns;\"", "\"&ext;\"");
        let p = parse(y.as_bytes()).unwrap();
        assert_eq!(p.target_namespace, None);
        assert!(
            p.problems[0].1.contains("never expanded"),
            "{:?}",
            p.problems
        );
    }

    #[test]
    fn unknown_prefixes_deep_inside_schemas() {
        let x = "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:t=\"urn:t\">\n\
                 <xs:element name=\"A\"><xs:complexType><xs:sequence>\n\
                 <xs:element name=\"B\" type=\"t:T\"/><xs:element ref=\"xml:lang\"/>\n\
                 <xs:element name=\"C\"\n   type=\"qq:T\"/>\n\
                 </xs:sequence></xs:complexType></xs:element></xs:schema>";
        let p = parse(x.as_bytes()).unwrap();
        let found: Vec<(usize, &str)> = p
            .problems
            .iter()
            .map(|(o, r)| (crate::xml::line_of(x.as_bytes(), *o), r.as_str()))
            .collect();
        assert_eq!(
            found,
            [(5, "unknown namespace prefix `qq` in type=\"qq:T\"")]
        );
    }

    /// Truncated and corrupted files are problems, never panics (files on disk are
    /// trusted, but a half-copied set is common).
    #[test]
    fn damaged_input_never_panics() {
        let x = format!(
            "{}<!DOCTYPE x [<!ENTITY e \"v\">]><!-- &e; -->",
            &WSDL[..WSDL.find("<w:definitions").unwrap()]
        ) + &WSDL[WSDL.find("<w:definitions").unwrap()..].replace("urn:t#Op", "&e;&#x41;");
        let bytes = x.as_bytes();
        for end in 0..bytes.len() {
            let _ = parse(&bytes[..end]);
        }
        for (i, junk) in (0..bytes.len())
            .step_by(7)
            .zip([b'<', b'&', b'"', b'>', 0xC3, b';'].iter().cycle())
        {
            let mut b = bytes.to_vec();
            b[i] = *junk;
            let _ = parse(&b);
        }
    }

    #[test]
    fn byte_order_mark_shifts_offsets() {
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice(WSDL.as_bytes());
        let p = parse(&b).unwrap();
        let span = p.addresses[0].clone();
        assert_eq!(&b[span], b"http://old/&amp;x");
    }
}
