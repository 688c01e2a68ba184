//! The envelope stage: full recognition of the SOAP envelope before anything acts on it.
//!
//! One hardened pass with quick-xml over the raw bytes (docs/SECURITY.md, R2, R4 to R6):
//! strictly UTF-8, no DOCTYPE, entity, processing instruction or trailing content; bounded
//! depth, element count, attributes and value sizes (an iterative walk, so attacker depth
//! costs no stack); `Envelope` = optional `Header`, then exactly one `Body` with exactly one
//! child; no SOAP Envelope/Header/Body element anywhere else. The result records byte
//! spans, so later stages cut the original bytes rather than re-serialise a tree.

use std::ops::Range;

use bytes::Bytes;
use quick_xml::events::Event;
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::NsReader;

use crate::model::SoapVersion;
use crate::xml::limits::{Bound, XmlLimits};
use crate::xml::{ns, wellformed, QName};

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the message is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the message is not UTF-8")]
    NotUtf8,
    #[error("DOCTYPE is not allowed in SOAP messages")]
    Doctype,
    #[error("processing instructions are not allowed in SOAP messages")]
    ProcessingInstruction,
    #[error("entity references are not allowed in SOAP messages")]
    Entity,
    #[error("the message exceeds the limit on {0} ([limits] {key} = {1})", key = .0.key())]
    Limit(Bound, usize),
    #[error("the message is not a SOAP envelope: {0}")]
    NotAnEnvelope(String),
    #[error("{0}")]
    VersionMismatch(String),
    /// Every mandatory block addressed to the gateway that it does not process, in
    /// message order (SOAP 1.2 Part 1 §5.4.8 names each in the fault).
    #[error(
        "header {} mandatory (mustUnderstand) but not understood by the gateway",
        must_understand_list(.0)
    )]
    MustUnderstand(Vec<QName>),
    #[error("the SOAP Body must hold exactly one element (WS-I BP R2201)")]
    BodyChildren,
}

/// `{ns}a is` or `{ns}a, {ns}b are`, for the MustUnderstand reason.
fn must_understand_list(blocks: &[QName]) -> String {
    let names: Vec<String> = blocks.iter().map(QName::to_string).collect();
    match names.len() {
        1 => format!("{} is", names[0]),
        _ => format!("blocks {} are", names.join(", ")),
    }
}

/// The start of an element inside the original bytes.
#[derive(Debug, Clone)]
pub struct ElementSpan {
    pub name: QName,
    /// The whole element, start tag to end tag.
    pub range: Range<usize>,
    /// Byte offset just after the element's tag name in its start tag: where inherited
    /// namespace declarations are inserted to make the element stand alone.
    pub name_end: usize,
    /// Prefixes the element declares itself (`""` for the default namespace).
    pub own_prefixes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct HeaderBlock {
    pub span: ElementSpan,
    pub must_understand: bool,
    /// True when `actor`/`role` addresses the gateway (absent, `next`, or ultimate receiver).
    pub targets_gateway: bool,
}

#[derive(Debug, Clone)]
pub struct Envelope {
    pub version: SoapVersion,
    pub bytes: Bytes,
    /// Namespace declarations in scope for header blocks (Envelope's, then Header's).
    pub header_scope: Vec<(String, String)>,
    pub headers: Vec<HeaderBlock>,
    /// Namespace declarations in scope for the Body's child (Envelope's, then Body's).
    pub body_scope: Vec<(String, String)>,
    pub body: ElementSpan,
    /// The Body's one child element.
    pub payload: ElementSpan,
}

/// Header blocks the gateway processes itself; any other `mustUnderstand` block addressed
/// to it is a MustUnderstand fault (SOAP 1.1 §4.2.3, SOAP 1.2 Part 1 §5.2.3).
const UNDERSTOOD: &[(&str, &str)] = &[
    (ns::WSSE, "Security"),
    (ns::WSA, "Action"),
    (ns::WSA, "MessageID"),
    (ns::WSA, "To"),
    (ns::WSA, "ReplyTo"),
    (ns::WSA, "From"),
    (ns::WSA, "RelatesTo"),
];

impl Envelope {
    /// The Body's child as a standalone XML document (inherited namespaces declared on it).
    pub fn payload_document(&self) -> Vec<u8> {
        standalone(&self.bytes, &self.payload, &self.body_scope)
    }

    /// The line (1-based) of the message on which the payload's start tag begins.
    pub fn payload_line(&self) -> usize {
        1 + self.bytes[..self.payload.range.start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// A header block as a standalone element.
    pub fn header_document(&self, block: &HeaderBlock) -> Vec<u8> {
        standalone(&self.bytes, &block.span, &self.header_scope)
    }

    pub fn is_fault(&self) -> bool {
        self.payload.name.is(self.version.envelope_ns(), "Fault")
    }

    pub fn header(&self, ns: &str, local: &str) -> impl Iterator<Item = &HeaderBlock> {
        let (ns, local) = (ns.to_string(), local.to_string());
        self.headers
            .iter()
            .filter(move |h| h.span.name.is(&ns, &local))
    }
}

/// Copies `span` out of `bytes`, declaring on its start tag each namespace in `scope` it
/// does not declare itself, so the copy means what it meant in place.
fn standalone(bytes: &[u8], span: &ElementSpan, scope: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(span.range.len() + 128);
    out.extend_from_slice(&bytes[span.range.start..span.name_end]);
    let mut seen: Vec<&str> = span.own_prefixes.iter().map(String::as_str).collect();
    // Later declarations (inner elements) shadow earlier ones: walk the scope backwards.
    for (prefix, uri) in scope.iter().rev() {
        if seen.contains(&prefix.as_str()) {
            continue;
        }
        seen.push(prefix);
        let uri = crate::xml::escape::attr(uri);
        if prefix.is_empty() {
            out.extend_from_slice(format!(" xmlns=\"{uri}\"").as_bytes());
        } else {
            out.extend_from_slice(format!(" xmlns:{prefix}=\"{uri}\"").as_bytes());
        }
    }
    out.extend_from_slice(&bytes[span.name_end..span.range.end]);
    out
}

/// The qualified name of a standalone document's root element (`None` if there is none).
pub fn root_name(doc: &[u8]) -> Option<QName> {
    let text = std::str::from_utf8(doc).ok()?;
    let mut reader = NsReader::from_str(text);
    loop {
        match reader.read_resolved_event().ok()? {
            (ResolveResult::Bound(n), Event::Start(e) | Event::Empty(e)) => {
                return Some(QName::new(n.0, e.local_name().as_ref()));
            }
            (ResolveResult::Unbound, Event::Start(e) | Event::Empty(e)) => {
                return Some(QName::new("", e.local_name().as_ref()));
            }
            (_, Event::Eof) | (ResolveResult::Unknown(_), _) => return None,
            _ => {}
        }
    }
}

/// Builds an envelope around already-standalone header blocks and payload.
pub fn build(version: SoapVersion, headers: &[Vec<u8>], payload: &[u8]) -> Vec<u8> {
    let payload = strip_xml_declaration(payload);
    let mut out = Vec::with_capacity(payload.len() + 256);
    out.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.extend_from_slice(
        format!(r#"<soap:Envelope xmlns:soap="{}">"#, version.envelope_ns()).as_bytes(),
    );
    if !headers.is_empty() {
        out.extend_from_slice(b"<soap:Header>");
        for h in headers {
            out.extend_from_slice(strip_xml_declaration(h));
        }
        out.extend_from_slice(b"</soap:Header>");
    }
    out.extend_from_slice(b"<soap:Body>");
    out.extend_from_slice(payload);
    out.extend_from_slice(b"</soap:Body></soap:Envelope>");
    out
}

fn strip_xml_declaration(doc: &[u8]) -> &[u8] {
    let trimmed = doc.trim_ascii_start();
    if trimmed.starts_with(b"<?xml") {
        if let Some(end) = trimmed.windows(2).position(|w| w == b"?>") {
            return trimmed[end + 2..].trim_ascii_start();
        }
    }
    trimmed
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses and checks a message. `expected` is the version the content type announced.
pub fn parse(
    bytes: Bytes,
    expected: SoapVersion,
    limits: &XmlLimits,
) -> Result<Envelope, EnvelopeError> {
    // XML 1.0 §4.3.3 / Appendix F: a UTF-8 entity may begin with the byte-order mark, which
    // is not part of the document. quick-xml skips it without counting it, so every span
    // would be three bytes short of the bytes it cuts: drop it here, once, for requests and
    // providers' answers alike.
    let bytes = match bytes.strip_prefix(UTF8_BOM) {
        Some(_) => bytes.slice(UTF8_BOM.len()..),
        None => bytes,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| EnvelopeError::NotUtf8)?;
    if let Some((at, c)) = wellformed::first_illegal_char(text) {
        return Err(EnvelopeError::Malformed(format!(
            "character U+{:04X} at byte {at} is not allowed in XML",
            u32::from(c)
        )));
    }
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;

    // One entry per open element: its slot and where it started.
    let mut stack: Vec<(Slot, usize)> = Vec::new();
    let mut elements = 0usize;
    let mut version = None;
    let mut saw_root = false;
    let mut saw_header = false;
    let mut header_scope = Vec::new();
    let mut body_scope = Vec::new();
    let mut envelope_decls = Vec::new();
    let mut headers: Vec<HeaderBlock> = Vec::new();
    let mut body: Option<ElementSpan> = None;
    let mut payload: Option<ElementSpan> = None;
    let mut pending_header: Option<(ElementSpan, bool, bool)> = None;

    loop {
        let start = reader.buffer_position() as usize;
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        // Inside a header block or the payload (most of a message's elements) names stay
        // borrowed: only whether one is in a SOAP envelope namespace matters there.
        let deep = matches!(
            stack.last(),
            Some((Slot::HeaderBlock | Slot::Payload | Slot::Deep, _))
        );
        let (resolved_ns, soap_ns) = match &resolved {
            ResolveResult::Bound(n) => {
                let uri = namespace_name(n.as_ref())?;
                let soap_ns = [ns::SOAP11_ENV, ns::SOAP12_ENV]
                    .into_iter()
                    .find(|s| uri == *s);
                (if deep { None } else { Some(uri.into_owned()) }, soap_ns)
            }
            ResolveResult::Unbound => (None, None),
            ResolveResult::Unknown(p) => return Err(undeclared(p)),
        };
        let end = reader.buffer_position() as usize;
        match event {
            Event::Decl(d) => {
                // XML 1.0 §2.8: the declaration starts the document and names its version;
                // `<?xml?>` anywhere else, or without a version, is a processing instruction
                // with a reserved name, which libxml2 refuses (the envelope fuzz target's
                // third finding).
                if start != 0 {
                    return Err(EnvelopeError::Malformed(
                        "the XML declaration must start the document".into(),
                    ));
                }
                let version = d.version().map_err(|_| {
                    EnvelopeError::Malformed("the XML declaration names no version".into())
                })?;
                let digits = version.strip_prefix("1.").unwrap_or_default();
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(EnvelopeError::Malformed(
                        "the XML declaration's version is not 1.x".into(),
                    ));
                }
                if let Some(standalone) = d.standalone() {
                    let standalone =
                        standalone.map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
                    if !matches!(&*standalone, "yes" | "no") {
                        return Err(EnvelopeError::Malformed(
                            "the XML declaration's standalone is neither yes nor no".into(),
                        ));
                    }
                }
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
                    if !enc.eq_ignore_ascii_case("utf-8") {
                        return Err(EnvelopeError::NotUtf8);
                    }
                }
            }
            Event::DocType(_) => return Err(EnvelopeError::Doctype),
            Event::PI(_) => return Err(EnvelopeError::ProcessingInstruction),
            Event::GeneralRef(r) => {
                // Character references and the five predefined entities are plain text;
                // anything else names an entity that could only come from a DTD.
                let predefined = matches!(&*r, "lt" | "gt" | "amp" | "quot" | "apos");
                let ch = if r.is_char_ref() {
                    Some(wellformed::char_ref(&r).ok_or_else(|| bad_char_ref(&r))?)
                } else if predefined {
                    None
                } else {
                    return Err(EnvelopeError::Entity);
                };
                // A reference is character data, which XML allows only inside the root
                // element (XML 1.0 §2.8, `Misc` holds no references: libxml2 refuses
                // `&#65;<Envelope…`, found by the envelope fuzz target), and which SOAP
                // does not allow directly in Envelope, Header or Body unless it is white
                // space, as for literal text below.
                if stack.is_empty() {
                    return Err(text_outside_the_root());
                }
                character_data_placed(&stack, ch.is_some_and(|c| c.is_ascii_whitespace()))?;
            }
            Event::Text(t) => {
                if t.len() > limits.max_value_bytes {
                    return Err(EnvelopeError::Limit(
                        Bound::TextBytes,
                        limits.max_value_bytes,
                    ));
                }
                if t.contains("]]>") {
                    return Err(EnvelopeError::Malformed(
                        "`]]>` in text outside a CDATA section".into(),
                    ));
                }
                let white = t.bytes().all(|b| b.is_ascii_whitespace());
                if stack.is_empty() && !white {
                    return Err(text_outside_the_root());
                }
                character_data_placed(&stack, white)?;
            }
            Event::CData(c) => {
                if c.len() > limits.max_value_bytes {
                    return Err(EnvelopeError::Limit(
                        Bound::TextBytes,
                        limits.max_value_bytes,
                    ));
                }
                if matches!(
                    stack.last(),
                    None | Some((Slot::Envelope | Slot::Header | Slot::Body, _))
                ) {
                    return Err(EnvelopeError::NotAnEnvelope("misplaced CDATA".into()));
                }
            }
            Event::Comment(c) => {
                // XML 1.0 §2.5: `--` may not occur inside a comment, nor may it end in `-`.
                if c.contains("--") || c.ends_with('-') {
                    return Err(EnvelopeError::Malformed("`--` inside a comment".into()));
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                if !wellformed::is_qname(e.name().as_ref()) {
                    return Err(bad_name("element", e.name().as_ref()));
                }
                if !wellformed::attributes_separated(e.attributes_raw()) {
                    return Err(EnvelopeError::Malformed(
                        "attributes without white space between them".into(),
                    ));
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(EnvelopeError::Limit(Bound::Elements, limits.max_elements));
                }
                if stack.len() + 1 > limits.max_depth {
                    return Err(EnvelopeError::Limit(Bound::Depth, limits.max_depth));
                }
                if deep {
                    // Only the limits and the no-nested-SOAP rule apply: checked without
                    // building names or attribute lists.
                    check_deep(
                        soap_ns,
                        e.local_name().as_ref(),
                        e,
                        reader.resolver(),
                        limits,
                    )?;
                    if !is_empty {
                        stack.push((Slot::Deep, start));
                    }
                    continue;
                }
                let parent = stack.last().map(|(s, _)| *s);
                let local = e.local_name().as_ref().to_string();
                let name = QName::new(resolved_ns.unwrap_or_default(), local);
                let mut decls = Vec::new();
                let mut attrs = Vec::new();
                for (i, a) in e.attributes().enumerate() {
                    let a = checked_attribute(i, a, limits)?;
                    // Values as XML reads them (references resolved, white space
                    // normalised), as libxml2 and the provider will: the raw text of
                    // `mustUnderstand="&#49;"` or `xmlns:p="urn:a&amp;b"` is not its value.
                    let value = attribute_value(&a)?;
                    match a.key.as_namespace_binding() {
                        Some(PrefixDeclaration::Default) => decls.push((String::new(), value)),
                        Some(PrefixDeclaration::Named(p)) => decls.push((p.to_string(), value)),
                        None => {
                            let (ans, alocal) = reader.resolver().resolve_attribute(a.key);
                            let ans = match ans {
                                ResolveResult::Bound(n) => namespace_name(n.0)?.into_owned(),
                                ResolveResult::Unbound => String::new(),
                                ResolveResult::Unknown(p) => return Err(undeclared(&p)),
                            };
                            attrs.push((ans, alocal.as_ref().to_string(), value));
                        }
                    }
                }
                let name_end = start + 1 + e.name().as_ref().len();
                let own_prefixes: Vec<String> = decls.iter().map(|(p, _)| p.clone()).collect();
                let slot = match parent {
                    None => {
                        if saw_root {
                            return Err(EnvelopeError::Malformed(
                                "more than one root element".into(),
                            ));
                        }
                        saw_root = true;
                        if name.local != "Envelope" {
                            return Err(EnvelopeError::NotAnEnvelope(format!(
                                "root element is {name}"
                            )));
                        }
                        let v = match name.ns.as_str() {
                            ns::SOAP11_ENV => SoapVersion::V11,
                            ns::SOAP12_ENV => SoapVersion::V12,
                            other => {
                                return Err(EnvelopeError::VersionMismatch(format!(
                                    "unsupported envelope namespace `{other}`"
                                )))
                            }
                        };
                        if v != expected {
                            return Err(EnvelopeError::VersionMismatch(format!(
                                "a SOAP {} envelope was sent with the SOAP {} content type",
                                v.label(),
                                expected.label()
                            )));
                        }
                        version = Some(v);
                        envelope_decls = decls.clone();
                        Slot::Envelope
                    }
                    Some(Slot::Envelope) => {
                        let env_ns = expected.envelope_ns();
                        if name.is(env_ns, "Header") && !saw_header && body.is_none() {
                            saw_header = true;
                            header_scope = envelope_decls.clone();
                            header_scope.extend(decls.iter().cloned());
                            Slot::Header
                        } else if name.is(env_ns, "Body") && body.is_none() {
                            body_scope = envelope_decls.clone();
                            body_scope.extend(decls.iter().cloned());
                            body = Some(ElementSpan {
                                name: name.clone(),
                                range: start..end,
                                name_end,
                                own_prefixes: own_prefixes.clone(),
                            });
                            Slot::Body
                        } else {
                            return Err(EnvelopeError::NotAnEnvelope(format!(
                                "unexpected {name} in Envelope (expected an optional Header, then one Body)"
                            )));
                        }
                    }
                    Some(Slot::Header) => {
                        check_not_soap(&name)?;
                        let (must_understand, targets_gateway) = header_flags(expected, &attrs);
                        pending_header = Some((
                            ElementSpan {
                                name: name.clone(),
                                range: start..end,
                                name_end,
                                own_prefixes: own_prefixes.clone(),
                            },
                            must_understand,
                            targets_gateway,
                        ));
                        Slot::HeaderBlock
                    }
                    Some(Slot::Body) => {
                        if payload.is_some() {
                            return Err(EnvelopeError::BodyChildren);
                        }
                        if name.ns == expected.envelope_ns() && name.local != "Fault" {
                            return Err(EnvelopeError::NotAnEnvelope(format!(
                                "{name} inside Body"
                            )));
                        }
                        payload = Some(ElementSpan {
                            name: name.clone(),
                            range: start..end,
                            name_end,
                            own_prefixes: own_prefixes.clone(),
                        });
                        Slot::Payload
                    }
                    Some(Slot::HeaderBlock | Slot::Payload | Slot::Deep) => {
                        check_not_soap(&name)?;
                        Slot::Deep
                    }
                };
                if is_empty {
                    close(
                        slot,
                        end,
                        &mut body,
                        &mut payload,
                        &mut pending_header,
                        &mut headers,
                    );
                } else {
                    stack.push((slot, start));
                }
            }
            Event::End(_) => {
                let (slot, _) = stack
                    .pop()
                    .ok_or_else(|| EnvelopeError::Malformed("unbalanced end tag".into()))?;
                close(
                    slot,
                    end,
                    &mut body,
                    &mut payload,
                    &mut pending_header,
                    &mut headers,
                );
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(EnvelopeError::Malformed(
            "unexpected end of document".into(),
        ));
    }
    let version = version.ok_or_else(|| EnvelopeError::NotAnEnvelope("empty document".into()))?;
    let body = body.ok_or_else(|| EnvelopeError::NotAnEnvelope("no Body".into()))?;
    let payload = payload.ok_or(EnvelopeError::BodyChildren)?;
    let not_understood: Vec<QName> = headers
        .iter()
        .filter(|h| h.must_understand && h.targets_gateway)
        .filter(|h| !UNDERSTOOD.iter().any(|(n, l)| h.span.name.is(n, l)))
        .map(|h| h.span.name.clone())
        .collect();
    if !not_understood.is_empty() {
        return Err(EnvelopeError::MustUnderstand(not_understood));
    }
    Ok(Envelope {
        version,
        bytes,
        header_scope,
        headers,
        body_scope,
        body,
        payload,
    })
}

/// Where an open element sits in the envelope's structure.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Envelope,
    Header,
    HeaderBlock,
    Body,
    Payload,
    Deep,
}

/// Records where an element ends once its end tag (or empty tag) has been read.
fn close(
    slot: Slot,
    end: usize,
    body: &mut Option<ElementSpan>,
    payload: &mut Option<ElementSpan>,
    pending_header: &mut Option<(ElementSpan, bool, bool)>,
    headers: &mut Vec<HeaderBlock>,
) {
    match slot {
        Slot::Body => {
            if let Some(b) = body {
                b.range.end = end;
            }
        }
        Slot::Payload => {
            if let Some(p) = payload {
                if p.range.end < end {
                    p.range.end = end;
                }
            }
        }
        Slot::HeaderBlock => {
            if let Some((mut span, mu, tg)) = pending_header.take() {
                span.range.end = end;
                headers.push(HeaderBlock {
                    span,
                    must_understand: mu,
                    targets_gateway: tg,
                });
            }
        }
        Slot::Envelope | Slot::Header | Slot::Deep => {}
    }
}

/// The checks an element deep inside a header block or the payload gets: attribute count,
/// size and references (the same limits as everywhere), and no SOAP Envelope, Header or
/// Body nested inside the message.
fn check_deep(
    soap_ns: Option<&str>,
    local: &str,
    e: &quick_xml::events::BytesStart<'_>,
    resolver: &quick_xml::name::NamespaceResolver,
    limits: &XmlLimits,
) -> Result<(), EnvelopeError> {
    for (i, a) in e.attributes().enumerate() {
        let a = checked_attribute(i, a, limits)?;
        if a.key.as_namespace_binding().is_none() {
            if let (ResolveResult::Unknown(p), _) = resolver.resolve_attribute(a.key) {
                return Err(undeclared(&p));
            }
        }
    }
    match soap_ns {
        Some(ns) => check_not_soap(&QName::new(ns.to_string(), local.to_string())),
        None => Ok(()),
    }
}

/// The `index`-th attribute of an element, once well-formed, within the limits, and free
/// of references to entities other than the predefined ones.
fn checked_attribute<'a>(
    index: usize,
    a: Result<
        quick_xml::events::attributes::Attribute<'a>,
        quick_xml::events::attributes::AttrError,
    >,
    limits: &XmlLimits,
) -> Result<quick_xml::events::attributes::Attribute<'a>, EnvelopeError> {
    let a = a.map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if !wellformed::is_qname(a.key.as_ref()) {
        return Err(bad_name("attribute", a.key.as_ref()));
    }
    if a.value.contains('<') {
        return Err(EnvelopeError::Malformed("`<` in an attribute value".into()));
    }
    if index >= limits.max_attributes {
        return Err(EnvelopeError::Limit(
            Bound::Attributes,
            limits.max_attributes,
        ));
    }
    if a.value.len() > limits.max_value_bytes {
        return Err(EnvelopeError::Limit(
            Bound::AttributeBytes,
            limits.max_value_bytes,
        ));
    }
    if a.value.contains('&') {
        check_references(&a.value)?;
    }
    let prefix = match a.key.as_namespace_binding() {
        Some(PrefixDeclaration::Default) => Some(None),
        Some(PrefixDeclaration::Named(p)) => Some(Some(p)),
        None => None,
    };
    if let Some(prefix) = prefix {
        // Checked as XML reads it: `&#x20;` in the raw value is a space in the name.
        let uri = attribute_value(&a)?;
        wellformed::namespace_declaration(prefix, &uri).map_err(EnvelopeError::Malformed)?;
    }
    Ok(a)
}

/// An attribute's value after XML 1.0 §3.3.3 normalisation (references already checked).
fn attribute_value(
    a: &quick_xml::events::attributes::Attribute<'_>,
) -> Result<String, EnvelopeError> {
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map(|v| v.into_owned())
        .map_err(|e| EnvelopeError::Malformed(e.to_string()))
}

/// The namespace name a resolved prefix stands for: quick-xml's resolver keeps the raw
/// text of the declaration, while the name is its normalised value (Namespaces in XML
/// §3). Borrowed, at no cost, unless the text holds a reference or white space.
fn namespace_name(raw: &str) -> Result<std::borrow::Cow<'_, str>, EnvelopeError> {
    if !raw.contains(['&', '\t', '\n', '\r']) {
        return Ok(raw.into());
    }
    let a = quick_xml::events::attributes::Attribute {
        key: quick_xml::name::QName("xmlns"),
        value: raw.into(),
    };
    attribute_value(&a).map(Into::into)
}

fn check_not_soap(name: &QName) -> Result<(), EnvelopeError> {
    if (name.ns == ns::SOAP11_ENV || name.ns == ns::SOAP12_ENV)
        && matches!(name.local.as_str(), "Envelope" | "Header" | "Body")
    {
        return Err(EnvelopeError::NotAnEnvelope(format!(
            "{name} nested inside the message"
        )));
    }
    Ok(())
}

fn undeclared(prefix: &str) -> EnvelopeError {
    let shown: String = prefix.chars().take(64).collect();
    EnvelopeError::Malformed(format!("prefix `{shown}` is not declared"))
}

fn bad_name(what: &str, name: &str) -> EnvelopeError {
    let shown: String = name.chars().take(64).collect();
    EnvelopeError::Malformed(format!("`{shown}` is not a valid {what} name"))
}

fn text_outside_the_root() -> EnvelopeError {
    EnvelopeError::Malformed("text outside the root element".into())
}

/// SOAP allows only white space as character data directly in Envelope, Header or Body.
fn character_data_placed(stack: &[(Slot, usize)], white: bool) -> Result<(), EnvelopeError> {
    if !white
        && matches!(
            stack.last(),
            Some((Slot::Envelope | Slot::Header | Slot::Body, _))
        )
    {
        return Err(EnvelopeError::NotAnEnvelope(
            "text directly inside Envelope, Header or Body".into(),
        ));
    }
    Ok(())
}

fn bad_char_ref(body: &str) -> EnvelopeError {
    let shown: String = body.chars().take(16).collect();
    EnvelopeError::Malformed(format!(
        "`&{shown};` is not a reference to a character XML allows"
    ))
}

fn check_references(value: &str) -> Result<(), EnvelopeError> {
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        let after = &rest[i + 1..];
        let semi = after
            .find(';')
            .ok_or_else(|| EnvelopeError::Malformed("bare `&` in attribute".into()))?;
        let name = &after[..semi];
        if name.starts_with('#') {
            if wellformed::char_ref(name).is_none() {
                return Err(bad_char_ref(name));
            }
        } else if !matches!(name, "lt" | "gt" | "amp" | "quot" | "apos") {
            return Err(EnvelopeError::Entity);
        }
        rest = &after[semi + 1..];
    }
    Ok(())
}

/// `mustUnderstand` and whether `actor` (1.1) / `role` (1.2) addresses the gateway.
fn header_flags(version: SoapVersion, attrs: &[(String, String, String)]) -> (bool, bool) {
    let env = version.envelope_ns();
    let mut must = false;
    let mut targets = true;
    for (ans, local, value) in attrs {
        if ans != env {
            continue;
        }
        match local.as_str() {
            "mustUnderstand" => must = matches!(value.trim(), "1" | "true"),
            "actor" => targets = value == "http://schemas.xmlsoap.org/soap/actor/next",
            "role" => {
                targets = matches!(
                    value.as_str(),
                    "http://www.w3.org/2003/05/soap-envelope/role/next"
                        | "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
                )
            }
            _ => {}
        }
    }
    (must, targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse11(s: &str) -> Result<Envelope, EnvelopeError> {
        parse(
            Bytes::from(s.to_string()),
            SoapVersion::V11,
            &XmlLimits::default(),
        )
    }

    const OK11: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ht="urn:ht">
  <s:Header><x:Trace xmlns:x="urn:x">1</x:Trace></s:Header>
  <s:Body><ht:TraCuu><ht:So>1 &amp; 2</ht:So></ht:TraCuu></s:Body>
</s:Envelope>"#;

    #[test]
    fn byte_order_mark_is_not_part_of_the_document() {
        let plain = parse11(OK11).unwrap();
        let with_bom = parse11(&format!("\u{FEFF}{OK11}")).unwrap();
        assert_eq!(with_bom.payload_document(), plain.payload_document());
        assert_eq!(
            with_bom.header_document(&with_bom.headers[0]),
            plain.header_document(&plain.headers[0])
        );
        assert_eq!(with_bom.payload.range, plain.payload.range);
        // Only at the very start.
        assert!(parse11(&format!(" \u{FEFF}{OK11}")).is_err());
    }

    #[test]
    fn references_outside_the_root_or_directly_in_the_envelope_are_refused() {
        let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a/></s:Body></s:Envelope>"#;
        for before in ["&#65;", "&#x20;", "&amp;", "&#0344551;"] {
            assert!(
                matches!(
                    parse11(&format!("{before}{body}")),
                    Err(EnvelopeError::Malformed(_))
                ),
                "{before} before the root"
            );
            assert!(
                matches!(
                    parse11(&format!("{body}{before}")),
                    Err(EnvelopeError::Malformed(_))
                ),
                "{before} after the root"
            );
        }
        let inside = |r: &str| {
            parse11(&format!(
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{r}<a/></s:Body></s:Envelope>"#
            ))
        };
        assert!(matches!(
            inside("&#65;"),
            Err(EnvelopeError::NotAnEnvelope(_))
        ));
        assert!(matches!(
            inside("&lt;"),
            Err(EnvelopeError::NotAnEnvelope(_))
        ));
        inside("&#32;&#x9;").unwrap();
    }

    #[test]
    fn the_xml_declaration_starts_the_document_and_names_its_version() {
        let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a/></s:Body></s:Envelope>"#;
        for decl in [
            "<?xml version=\"1.0\"?>",
            "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>",
        ] {
            parse11(&format!("{decl}{body}")).unwrap();
        }
        for decl in [
            "<?xml?>",
            "<?xml encoding=\"UTF-8\"?>",
            "<?xml version=\"2.0\"?>",
            "<?xml version=\"1.\"?>",
            "<?xml version=\"1.0\" standalone=\"maybe\"?>",
            " <?xml version=\"1.0\"?>",
        ] {
            assert!(
                matches!(
                    parse11(&format!("{decl}{body}")),
                    Err(EnvelopeError::Malformed(_))
                ),
                "{decl}"
            );
        }
    }

    #[test]
    fn recognises_a_soap11_envelope() {
        let env = parse11(OK11).unwrap();
        assert_eq!(env.version, SoapVersion::V11);
        assert_eq!(env.payload.name, QName::new("urn:ht", "TraCuu"));
        assert_eq!(env.headers.len(), 1);
        let doc = String::from_utf8(env.payload_document()).unwrap();
        assert!(
            doc.starts_with(r#"<ht:TraCuu xmlns:ht="urn:ht" xmlns:s="#),
            "{doc}"
        );
        assert!(doc.ends_with("</ht:TraCuu>"), "{doc}");
        let header = String::from_utf8(env.header_document(&env.headers[0])).unwrap();
        assert!(
            header.starts_with("<x:Trace ") && header.contains(r#"xmlns:x="urn:x""#),
            "{header}"
        );
    }

    #[test]
    fn payload_keeps_its_own_declarations_over_inherited_ones() {
        let s = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns="urn:outer"><e:Body><A xmlns="urn:inner"><B/></A></e:Body></e:Envelope>"#;
        let env = parse(Bytes::from(s), SoapVersion::V12, &XmlLimits::default()).unwrap();
        let doc = String::from_utf8(env.payload_document()).unwrap();
        assert!(doc.starts_with(r#"<A xmlns:e="#), "{doc}");
        assert!(!doc.contains("urn:outer"), "{doc}");
        assert_eq!(env.payload.name, QName::new("urn:inner", "A"));
    }

    #[test]
    fn empty_payload_element() {
        let s = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><p:X xmlns:p="urn:p"/></s:Body></s:Envelope>"#;
        let env = parse11(s).unwrap();
        assert_eq!(
            String::from_utf8(env.payload_document()).unwrap(),
            r#"<p:X xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="urn:p"/>"#
        );
    }

    #[test]
    fn version_mismatch_between_content_type_and_envelope() {
        let s = OK11.replace(
            "http://schemas.xmlsoap.org/soap/envelope/",
            "http://www.w3.org/2003/05/soap-envelope",
        );
        assert!(matches!(
            parse11(&s),
            Err(EnvelopeError::VersionMismatch(_))
        ));
        let s = OK11.replace("http://schemas.xmlsoap.org/soap/envelope/", "urn:other");
        assert!(matches!(
            parse11(&s),
            Err(EnvelopeError::VersionMismatch(_))
        ));
    }

    #[test]
    fn refuses_doctype_entities_and_pis() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a>&e;</a></s:Body></s:Envelope>"#;
        assert!(matches!(parse11(xxe), Err(EnvelopeError::Doctype)));
        let ent = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a>&e;</a></s:Body></s:Envelope>"#;
        assert!(matches!(parse11(ent), Err(EnvelopeError::Entity)));
        let ent_attr = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a b="&e;"/></s:Body></s:Envelope>"#;
        assert!(matches!(parse11(ent_attr), Err(EnvelopeError::Entity)));
        let pi = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><?php x?><a/></s:Body></s:Envelope>"#;
        assert!(matches!(
            parse11(pi),
            Err(EnvelopeError::ProcessingInstruction)
        ));
        let latin = r#"<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a/></s:Body></s:Envelope>"#;
        assert!(matches!(parse11(latin), Err(EnvelopeError::NotUtf8)));
        assert!(matches!(
            parse(
                Bytes::from_static(b"<a>\xff</a>"),
                SoapVersion::V11,
                &XmlLimits::default()
            ),
            Err(EnvelopeError::NotUtf8)
        ));
    }

    #[test]
    fn bounded_depth_without_recursion() {
        let deep = format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}{}</s:Body></s:Envelope>"#,
            "<a>".repeat(10_000),
            "</a>".repeat(10_000)
        );
        assert!(matches!(
            parse11(&deep),
            Err(EnvelopeError::Limit(Bound::Depth, _))
        ));
    }

    #[test]
    fn what_xml_forbids_is_refused() {
        // Found by the `envelope` fuzz target: quick-xml passes these through (characters,
        // references, names, declarations, `<` in values, `]]>`, `--` in comments) while
        // libxml2 refuses them; the payload document once carried a different namespace
        // (control characters became U+FFFD when written back) from the one dispatched on.
        let wrap = |decl: &str, inner: &str| {
            format!(
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"{decl}><s:Body><p:P xmlns:p="urn:p"><p:a>{inner}</p:a></p:P></s:Body></s:Envelope>"#
            )
        };
        for (decl, inner) in [
            ("", "\u{1c}"),
            ("", "\0"),
            ("", "\u{FFFF}"),
            ("", "<!-- \u{7} -->"),
            ("", "&#28;"),
            ("", "&#x0;"),
            ("", "&#xZZ;"),
            ("", "&#;"),
            ("", "&#xD800;"),
            ("", r#"<b c="&#1;"/>"#),
            (" xmlns:=\"urn:x\"", ""),
            (" xmlns:x=\"\"", ""),
            (" xmlns:xmlns=\"urn:x\"", ""),
            (" xmlns:xml=\"urn:x\"", ""),
            (" xmlns=\"http://www.w3.org/2000/xmlns/\"", ""),
            ("", r#"<b xmlns:=" urn:x"/>"#),
            ("", r#"<b xmlns:q=""/>"#),
            ("", r#"<b c="a<b"/>"#),
            ("", r#"<b a'b="1"/>"#),
            ("", r#"<b:c:d/>"#),
            ("", r#"<1b/>"#),
            (" xmlns:a:b=\"urn:x\"", ""),
            ("", "a ]]> b"),
            ("", "<!-- a -- b -->"),
            ("", "<!-- a --->"),
            ("", r#"<b c="1"d="2"/>"#),
            ("", r#"<b q:c="1"/>"#),
            (r#" q:c="1""#, ""),
        ] {
            let doc = wrap(decl, inner);
            assert!(
                matches!(parse11(&doc), Err(EnvelopeError::Malformed(_))),
                "accepted: {doc:?}"
            );
        }
        for inner in [
            "&#38;&#x26;&#x1EA0;",
            "\t\r\n",
            r#"<b c="&#x9;" xmlns="" xmlns:q="urn:q" q:d="1" xml:lang="vi"/>"#,
        ] {
            assert!(parse11(&wrap("", inner)).is_ok(), "{inner:?}");
        }
    }

    #[test]
    fn deep_elements_keep_every_check() {
        // Elements inside the payload and header blocks take a path that builds no names;
        // each rule must still hold there, at any depth.
        let wrap = |inner: &str| {
            format!(
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:H xmlns:h="urn:h"><h:x>{inner}</h:x></h:H></s:Header><s:Body><p:P xmlns:p="urn:p"><p:a><p:b>{inner}</p:b></p:a></p:P></s:Body></s:Envelope>"#
            )
        };
        assert!(parse11(&wrap(r#"<c k="1 &amp; &#38;"/>"#)).is_ok());
        let attrs: String = (0..65).map(|i| format!(" a{i}=\"1\"")).collect();
        assert!(matches!(
            parse11(&wrap(&format!("<c{attrs}/>"))),
            Err(EnvelopeError::Limit(Bound::Attributes, _))
        ));
        let limits = XmlLimits {
            max_value_bytes: 8,
            ..XmlLimits::default()
        };
        let long = wrap(r#"<c k="123456789"/>"#);
        assert!(matches!(
            parse(Bytes::from(long), SoapVersion::V11, &limits),
            Err(EnvelopeError::Limit(Bound::AttributeBytes, _))
        ));
        assert!(matches!(
            parse11(&wrap(r#"<c k="&e;"/>"#)),
            Err(EnvelopeError::Entity)
        ));
        assert!(matches!(
            parse11(&wrap(r#"<c k="1" k="2"/>"#)),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            parse11(&wrap("<q:c/>")),
            Err(EnvelopeError::Malformed(_))
        ));
        for nested in [
            r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"/>"#,
            r#"<s:Header/>"#,
            r#"<Body xmlns="http://schemas.xmlsoap.org/soap/envelope/"></Body>"#,
        ] {
            assert!(
                matches!(parse11(&wrap(nested)), Err(EnvelopeError::NotAnEnvelope(_))),
                "{nested}"
            );
        }
        // A SOAP-namespaced element that is not Envelope, Header or Body is payload data.
        assert!(parse11(&wrap("<s:Fault/>")).is_ok());
    }

    #[test]
    fn structure_is_recognised_fully() {
        let two_bodies = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a/></s:Body><s:Body><b/></s:Body></s:Envelope>"#;
        assert!(matches!(
            parse11(two_bodies),
            Err(EnvelopeError::NotAnEnvelope(_))
        ));
        let wrapped = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><w><s:Body><a/></s:Body></w></s:Header><s:Body><b/></s:Body></s:Envelope>"#;
        assert!(matches!(
            parse11(wrapped),
            Err(EnvelopeError::NotAnEnvelope(_))
        ));
        let two_children = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a/><b/></s:Body></s:Envelope>"#;
        assert!(matches!(
            parse11(two_children),
            Err(EnvelopeError::BodyChildren)
        ));
        let empty = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#;
        assert!(matches!(parse11(empty), Err(EnvelopeError::BodyChildren)));
        let trailing = format!("{OK11}<x/>");
        assert!(parse11(&trailing).is_err());
        let not_env = r#"<Envelope><Body><a/></Body></Envelope>"#;
        assert!(matches!(
            parse11(not_env),
            Err(EnvelopeError::VersionMismatch(_))
        ));
        let not_soap = r#"<html><body/></html>"#;
        assert!(matches!(
            parse11(not_soap),
            Err(EnvelopeError::NotAnEnvelope(_))
        ));
        assert!(matches!(parse11("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><a></s:Body></s:Envelope>"), Err(EnvelopeError::Malformed(_))));
    }

    #[test]
    fn must_understand_headers_for_the_gateway() {
        let s = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><x:T xmlns:x="urn:x" s:mustUnderstand="1"/></s:Header><s:Body><a/></s:Body></s:Envelope>"#;
        assert!(matches!(parse11(s), Err(EnvelopeError::MustUnderstand(_))));
        let other_actor = s.replace(
            "s:mustUnderstand=\"1\"",
            "s:mustUnderstand=\"1\" s:actor=\"urn:someone-else\"",
        );
        assert!(parse11(&other_actor).is_ok());
        // The value XML reads, not its raw text: `&#49;` is "1".
        let by_reference = s.replace("s:mustUnderstand=\"1\"", "s:mustUnderstand=\"&#49;\"");
        assert!(matches!(
            parse11(&by_reference),
            Err(EnvelopeError::MustUnderstand(_))
        ));
    }

    #[test]
    fn inherited_namespace_names_are_copied_as_they_read() {
        let s = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:q='urn:q&amp;&apos;&#x41;'><s:Header><q:T/></s:Header><s:Body><a/></s:Body></s:Envelope>"#;
        let env = parse11(s).unwrap();
        let block = &env.headers[0];
        assert_eq!(block.span.name, QName::new("urn:q&'A", "T"));
        let doc = String::from_utf8(env.header_document(block)).unwrap();
        assert!(
            doc.starts_with(r#"<q:T xmlns:q="urn:q&amp;'A" "#)
                || doc.starts_with(r#"<q:T xmlns:q="urn:q&amp;&apos;A" "#),
            "{doc}"
        );
        // A name no URI can be (here `"`, `<` and a tab) is refused, as libxml2 refuses it.
        let markup = s.replace("&amp;&apos;&#x41;", "&quot;&lt;&#x9;");
        assert!(matches!(parse11(&markup), Err(EnvelopeError::Malformed(_))));
    }

    #[test]
    fn root_names_of_standalone_documents() {
        assert_eq!(
            root_name(b"<?xml version=\"1.0\"?><!-- c --><p:X xmlns:p=\"urn:p\"><Y/></p:X>"),
            Some(QName::new("urn:p", "X"))
        );
        assert_eq!(root_name(b"<X/>"), Some(QName::new("", "X")));
        assert_eq!(root_name(b"<p:X/>"), None);
        assert_eq!(root_name(b""), None);
    }

    #[test]
    fn build_wraps_standalone_pieces() {
        let out = build(
            SoapVersion::V12,
            &[b"<h:H xmlns:h=\"urn:h\"/>".to_vec()],
            b"<?xml version=\"1.0\"?>\n<p:X xmlns:p=\"urn:p\"/>",
        );
        let env = parse(Bytes::from(out), SoapVersion::V12, &XmlLimits::default()).unwrap();
        assert_eq!(env.payload.name, QName::new("urn:p", "X"));
        assert_eq!(env.headers.len(), 1);
    }

    /// Mutated envelopes (byte flips, truncations, splices) never panic the parser.
    #[test]
    fn mutations_never_panic() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = OK11.as_bytes();
        let alphabet = b"<>/&;:=\"' xmlns!?[]-\xff\xc3";
        for _ in 0..20_000 {
            let mut m = base.to_vec();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % m.len();
                match next() % 3 {
                    0 => m[i] = alphabet[(next() as usize) % alphabet.len()],
                    1 => m.truncate(i.max(1)),
                    _ => {
                        let j = (next() as usize) % base.len();
                        m.splice(i..i, base[j..(j + 8).min(base.len())].iter().copied());
                    }
                }
            }
            let _ = parse(Bytes::from(m), SoapVersion::V11, &XmlLimits::default());
        }
    }
}
