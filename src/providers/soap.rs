//! The SOAP plumbing the example providers share: read a request envelope, write an answer
//! or a fault in the request's version, and decode/encode the fixed payload types.
//!
//! The providers stand for other agencies' systems, so this is deliberately independent of
//! the gateway's own envelope parser and fault module: an end-to-end test then checks the
//! gateway against a second, separate reading of SOAP instead of against itself.

use std::fmt;

use http::StatusCode;
use quick_xml::events::Event;
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::NsReader;
use yaserde::{YaDeserialize, YaSerialize};

use crate::model::SoapVersion;
use crate::xml::{escape, ns, QName};

/// A provider request, read from the HTTP content type and the envelope.
#[derive(Debug, Clone)]
pub struct SoapRequest {
    pub version: SoapVersion,
    /// SOAP 1.1 `SOAPAction` header or SOAP 1.2 `action` media-type parameter, unquoted;
    /// `None` when absent or empty.
    pub action: Option<String>,
    /// The gateway's `lt:Exchange` header block as it arrived, when present.
    pub exchange_header: Option<String>,
    /// A `wsse:Security` header block arrived (the gateway signed what it forwarded).
    pub security_header: bool,
    /// Every header block, in Clark notation (`{ns}local`), in document order.
    pub header_blocks: Vec<String>,
    /// The Body's child element as a standalone document (in-scope namespace
    /// declarations of Envelope and Body copied onto it).
    pub payload: String,
    /// Namespace and local name of the Body's child.
    pub root: QName,
}

/// A fault the provider answers with. `Client` faults are the caller's doing (SOAP 1.2
/// `env:Sender`), `Server` faults the provider's (`env:Receiver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFault {
    pub code: FaultClass,
    /// `faultstring` / `env:Reason`, in Vietnamese as the agencies' systems answer.
    pub reason: String,
    /// `dm:LoiNghiepVu` detail: a machine-readable error code and a description.
    pub detail: Option<LoiNghiepVu>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    Client,
    Server,
    VersionMismatch,
}

impl ProviderFault {
    /// The caller sent something this provider cannot use (malformed, unknown operation).
    pub fn client(reason: impl Into<String>) -> Self {
        Self {
            code: FaultClass::Client,
            reason: reason.into(),
            detail: None,
        }
    }

    /// A business error: the request was understood, the answer is "no" (e.g. not found).
    pub fn business(agency: &str, code: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self {
            code: FaultClass::Client,
            detail: Some(LoiNghiepVu {
                ma_loi: code.to_string(),
                mo_ta: reason.clone(),
                co_quan_xu_ly: Some(agency.to_string()),
            }),
            reason,
        }
    }

    pub fn server(reason: impl Into<String>) -> Self {
        Self {
            code: FaultClass::Server,
            reason: reason.into(),
            detail: None,
        }
    }

    pub fn version_mismatch(reason: impl Into<String>) -> Self {
        Self {
            code: FaultClass::VersionMismatch,
            reason: reason.into(),
            detail: None,
        }
    }
}

impl fmt::Display for ProviderFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.reason)?;
        if let Some(d) = &self.detail {
            write!(f, " [{}]", d.ma_loi)?;
        }
        Ok(())
    }
}

/// `dm:LoiNghiepVu` of schemas/common/DanhMuc.xsd: the fault detail every example service
/// declares as its `wsdl:fault`.
#[derive(Debug, Clone, Default, PartialEq, Eq, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "LoiNghiepVu",
    prefix = "dm",
    namespaces = { "dm" = "urn:lgsp:h38:danhmuc:1.0" }
)]
pub struct LoiNghiepVu {
    #[yaserde(rename = "MaLoi", prefix = "dm")]
    pub ma_loi: String,
    #[yaserde(rename = "MoTa", prefix = "dm")]
    pub mo_ta: String,
    #[yaserde(rename = "CoQuanXuLy", prefix = "dm")]
    pub co_quan_xu_ly: Option<String>,
}

/// What the HTTP layer sends back.
#[derive(Debug, Clone)]
pub struct SoapResponse {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// The SOAP version the content type announces, with the 1.2 `action` parameter
/// (SOAP 1.2 Part 2 §7.1.4; RFC 3902). SOAP 1.1 §6.1.1 puts the action in `SOAPAction`.
pub fn version_of(
    content_type: Option<&str>,
    soap_action: Option<&str>,
) -> Result<(SoapVersion, Option<String>), ProviderFault> {
    let ct = content_type.unwrap_or("");
    let mut parts = ct.split(';').map(str::trim);
    let media = parts.next().unwrap_or("").to_ascii_lowercase();
    match media.as_str() {
        "text/xml" => {
            let action = soap_action
                .map(|a| a.trim().trim_matches('"').to_string())
                .filter(|a| !a.is_empty());
            Ok((SoapVersion::V11, action))
        }
        "application/soap+xml" => {
            let action = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("action"))
                .map(|(_, v)| v.trim().trim_matches('"').to_string())
                .filter(|a| !a.is_empty());
            Ok((SoapVersion::V12, action))
        }
        _ => Err(ProviderFault::client(format!(
            "Kiểu nội dung không được hỗ trợ (unsupported content type `{}`): dùng text/xml (SOAP 1.1) hoặc application/soap+xml (SOAP 1.2)",
            ct.chars().take(80).collect::<String>()
        ))),
    }
}

/// Reads the envelope: its version must match the content type's, the Body must hold
/// exactly one element (WS-I BP 1.1 R2201 for document/literal, R2210 for rpc/literal).
pub fn parse(
    bytes: &[u8],
    version: SoapVersion,
    action: Option<String>,
) -> Result<SoapRequest, ProviderFault> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ProviderFault::client("Thông điệp không phải UTF-8 (not UTF-8)"))?;
    let malformed = |e: &dyn fmt::Display| {
        ProviderFault::client(format!("Thông điệp XML không hợp lệ (malformed XML): {e}"))
    };
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;

    // Declarations on Envelope and Body, outermost first, for the standalone payload.
    let mut scope: Vec<(String, String)> = Vec::new();
    let mut depth = 0usize;
    let mut in_header = false;
    let mut in_body = false;
    let mut exchange_header = None;
    let mut security_header = false;
    let mut header_blocks = Vec::new();
    // (start offset, name end offset, own prefixes, qname, is Exchange header)
    let mut open: Option<(usize, usize, Vec<String>, QName, bool)> = None;
    let mut payload: Option<(String, QName)> = None;

    loop {
        let start = reader.buffer_position() as usize;
        let (resolved, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        let name_ns = match resolved {
            ResolveResult::Bound(n) => n.0.to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(malformed(&format!("prefix `{p}` is not declared")))
            }
        };
        let end = reader.buffer_position() as usize;
        match event {
            Event::DocType(_) => return Err(ProviderFault::client(
                "DOCTYPE không được phép trong thông điệp SOAP (SOAP 1.1 §3, SOAP 1.2 Part 1 §5)",
            )),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let local = e.local_name().as_ref().to_string();
                let qname = QName::new(name_ns, local);
                let mut decls = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|e| malformed(&e))?;
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| malformed(&e))?
                        .into_owned();
                    match a.key.as_namespace_binding() {
                        Some(PrefixDeclaration::Default) => decls.push((String::new(), value)),
                        Some(PrefixDeclaration::Named(p)) => decls.push((p.to_string(), value)),
                        None => {}
                    }
                }
                match depth {
                    0 => {
                        if qname.local != "Envelope"
                            || !(qname.ns == ns::SOAP11_ENV || qname.ns == ns::SOAP12_ENV)
                        {
                            return Err(ProviderFault::client(format!(
                                "Phần tử gốc không phải SOAP Envelope (root element is {qname})"
                            )));
                        }
                        if qname.ns != version.envelope_ns() {
                            // SOAP 1.2 Part 1 §5.4.7 / SOAP 1.1 §4.4.1.
                            return Err(ProviderFault::version_mismatch(format!(
                                "Phiên bản SOAP của Envelope không khớp kiểu nội dung (envelope is not SOAP {})",
                                version.label()
                            )));
                        }
                        scope.extend(decls);
                    }
                    1 => {
                        let env = version.envelope_ns();
                        if qname.is(env, "Header") {
                            in_header = !empty;
                        } else if qname.is(env, "Body") {
                            in_body = !empty;
                            scope.extend(decls);
                        } else {
                            return Err(ProviderFault::client(format!(
                                "Envelope chỉ chứa Header và Body (unexpected {qname})"
                            )));
                        }
                    }
                    2 if in_body || in_header => {
                        if in_body && payload.is_some() {
                            return Err(ProviderFault::client(
                                "Body chứa nhiều hơn một phần tử (the Body holds more than one element)",
                            ));
                        }
                        let exchange = in_header && qname.is(ns::LIENTHONG, "Exchange");
                        security_header |= in_header && qname.is(ns::WSSE, "Security");
                        if in_header {
                            header_blocks.push(qname.to_string());
                        }
                        if in_body || exchange {
                            let name_end = start + 1 + e.name().as_ref().len();
                            let own = decls.into_iter().map(|(p, _)| p).collect();
                            open = Some((start, name_end, own, qname, exchange));
                        }
                    }
                    _ => {}
                }
                if empty {
                    if depth == 2 {
                        close(
                            text,
                            &scope,
                            end,
                            &mut open,
                            &mut payload,
                            &mut exchange_header,
                        );
                    }
                } else {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                match depth {
                    2 => close(
                        text,
                        &scope,
                        end,
                        &mut open,
                        &mut payload,
                        &mut exchange_header,
                    ),
                    1 => {
                        in_header = false;
                        in_body = false;
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (payload, root) = payload
        .ok_or_else(|| ProviderFault::client("Body không chứa yêu cầu nào (the Body is empty)"))?;
    Ok(SoapRequest {
        version,
        action,
        exchange_header,
        security_header,
        header_blocks,
        payload,
        root,
    })
}

/// Finishes the element opened at depth 2: the payload, or the Exchange header.
fn close(
    text: &str,
    scope: &[(String, String)],
    end: usize,
    open: &mut Option<(usize, usize, Vec<String>, QName, bool)>,
    payload: &mut Option<(String, QName)>,
    exchange: &mut Option<String>,
) {
    let Some((start, name_end, own, qname, is_exchange)) = open.take() else {
        return;
    };
    let doc = standalone(text, start, name_end, end, &own, scope);
    if is_exchange {
        *exchange = Some(doc);
    } else {
        *payload = Some((doc, qname));
    }
}

/// Copies `text[start..end]`, declaring on its start tag every in-scope namespace it does
/// not declare itself, so the copy means what it meant inside the envelope.
fn standalone(
    text: &str,
    start: usize,
    name_end: usize,
    end: usize,
    own: &[String],
    scope: &[(String, String)],
) -> String {
    let mut out = String::with_capacity(end - start + 128);
    out.push_str(&text[start..name_end]);
    let mut seen: Vec<&str> = own.iter().map(String::as_str).collect();
    // Inner declarations (Body) shadow outer ones (Envelope): walk backwards.
    for (prefix, uri) in scope.iter().rev() {
        if seen.contains(&prefix.as_str()) {
            continue;
        }
        seen.push(prefix);
        let uri = escape::text(uri);
        if prefix.is_empty() {
            out.push_str(&format!(r#" xmlns="{uri}""#));
        } else {
            out.push_str(&format!(r#" xmlns:{prefix}="{uri}""#));
        }
    }
    out.push_str(&text[name_end..end]);
    out
}

/// The operation named by the Body's root element must be the one the action names, when
/// the caller sent one (WS-I BP 1.1 R2744: SOAPAction equals the binding's soapAction).
pub fn check_action(
    req: &SoapRequest,
    operation: &str,
    expected: &str,
) -> Result<(), ProviderFault> {
    match req.action.as_deref() {
        Some(a) if a != expected => Err(ProviderFault::client(format!(
            "SOAPAction `{}` không khớp thao tác {operation} (expected `{expected}`)",
            a.chars().take(120).collect::<String>()
        ))),
        _ => Ok(()),
    }
}

/// The fault for a Body root no operation of the service reads.
pub fn unknown_operation(root: &QName) -> ProviderFault {
    ProviderFault::client(format!(
        "Thao tác không được hỗ trợ (no operation reads {root})"
    ))
}

/// A successful answer: the payload wrapped in an envelope of the request's version.
pub fn answer(version: SoapVersion, payload: &str) -> SoapResponse {
    let mut body = String::with_capacity(payload.len() + 200);
    body.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    body.push_str(&format!(
        r#"<soap:Envelope xmlns:soap="{}"><soap:Body>"#,
        version.envelope_ns()
    ));
    body.push_str(payload);
    body.push_str("</soap:Body></soap:Envelope>");
    SoapResponse {
        status: StatusCode::OK,
        content_type: version.content_type(),
        body: body.into_bytes(),
    }
}

/// A fault in the request's version: SOAP 1.1 §4.4 (`faultcode`, `faultstring`, `detail`,
/// HTTP 500 per §6.2) or SOAP 1.2 Part 1 §5.4 (`env:Code`, `env:Reason`, `env:Detail`;
/// Part 2 §7.5.1.2: HTTP 400 for Sender, 500 otherwise).
pub fn fault(version: SoapVersion, f: &ProviderFault) -> SoapResponse {
    let reason = escape::text(&f.reason);
    let detail = f
        .detail
        .as_ref()
        .and_then(|d| encode(d).ok())
        .unwrap_or_default();
    let env = version.envelope_ns();
    let body = match version {
        SoapVersion::V11 => {
            let code = match f.code {
                FaultClass::Client => "Client",
                FaultClass::Server => "Server",
                FaultClass::VersionMismatch => "VersionMismatch",
            };
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!("<detail>{detail}</detail>")
            };
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{env}"><soap:Body><soap:Fault><faultcode>soap:{code}</faultcode><faultstring xml:lang="vi">{reason}</faultstring>{detail}</soap:Fault></soap:Body></soap:Envelope>"#
            )
        }
        SoapVersion::V12 => {
            let code = match f.code {
                FaultClass::Client => "Sender",
                FaultClass::Server => "Receiver",
                FaultClass::VersionMismatch => "VersionMismatch",
            };
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!("<soap:Detail>{detail}</soap:Detail>")
            };
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{env}"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:{code}</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="vi">{reason}</soap:Text></soap:Reason>{detail}</soap:Fault></soap:Body></soap:Envelope>"#
            )
        }
    };
    let status = match (version, f.code) {
        (SoapVersion::V12, FaultClass::Client) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    SoapResponse {
        status,
        content_type: version.content_type(),
        body: body.into_bytes(),
    }
}

/// Decodes a payload with yaserde, then proves nothing was silently dropped: yaserde skips
/// any element whose namespace does not match the one the type declares (docs/LIBRARIES.md,
/// "yaserde drops elements in an unexpected namespace"), so the leaf elements of the input
/// must all reappear in the re-encoded value.
pub fn decode<T: YaDeserialize + YaSerialize>(payload: &str) -> Result<T, ProviderFault> {
    let value: T = yaserde::de::from_str(payload).map_err(|e| {
        ProviderFault::client(format!("Yêu cầu không đọc được (unreadable request): {e}"))
    })?;
    let again = encode(&value).map_err(ProviderFault::server)?;
    let (mut got, mut read) = (leaves(payload)?, leaves(&again)?);
    // Compared as multisets: element order is the schema validator's business, loss is ours.
    got.sort();
    read.sort();
    if got != read {
        let missing: Vec<String> = got
            .iter()
            .filter(|l| !read.contains(l))
            .map(|l| l.0.to_string())
            .collect();
        return Err(ProviderFault::client(format!(
            "Yêu cầu có phần tử không được xử lý (elements not understood): {}",
            missing.join(", ")
        )));
    }
    Ok(value)
}

/// Encodes a payload type as an element without an XML declaration.
pub fn encode<T: YaSerialize>(value: &T) -> Result<String, String> {
    let config = yaserde::ser::Config {
        perform_indent: false,
        write_document_declaration: false,
        indent_string: None,
    };
    yaserde::ser::to_string_with_config(value, &config)
}

/// The leaf elements (no element children) of a document, in order, each with its
/// namespace-qualified name and trimmed text.
pub fn leaves(xml: &str) -> Result<Vec<(QName, String)>, ProviderFault> {
    let mut reader = NsReader::from_str(xml);
    let mut out = Vec::new();
    // Per open element: its name, collected text, and whether it has element children.
    let mut stack: Vec<(QName, String, bool)> = Vec::new();
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| ProviderFault::client(format!("XML không hợp lệ: {e}")))?;
        let name_ns = match resolved {
            ResolveResult::Bound(n) => n.0.to_string(),
            _ => String::new(),
        };
        match event {
            Event::Start(e) => {
                if let Some(parent) = stack.last_mut() {
                    parent.2 = true;
                }
                let local = e.local_name().as_ref().to_string();
                stack.push((QName::new(name_ns, local), String::new(), false));
            }
            Event::Empty(e) => {
                if let Some(parent) = stack.last_mut() {
                    parent.2 = true;
                }
                let local = e.local_name().as_ref().to_string();
                out.push((QName::new(name_ns, local), String::new()));
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.1.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let c = match &*r {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => r.resolve_char_ref().ok().flatten(),
                    };
                    top.1.extend(c);
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.1.push_str(&c);
                }
            }
            Event::End(_) => {
                if let Some((name, text, has_children)) = stack.pop() {
                    if !has_children {
                        out.push((name, text.trim().to_string()));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Test helpers shared by the providers' tests.
#[cfg(test)]
pub mod testing {
    use super::*;

    /// What the gateway forwards: `envelope::build` around the payload, with an Exchange
    /// header, so the providers are tested against the exact forms the gateway sends.
    pub fn forwarded(version: SoapVersion, payload: &str) -> Vec<u8> {
        let exchange = format!(
            r#"<lt:Exchange xmlns:lt="{}"><lt:Consumer>000.00.00.H38</lt:Consumer></lt:Exchange>"#,
            ns::LIENTHONG
        );
        crate::soap::envelope::build(version, &[exchange.into_bytes()], payload.as_bytes())
    }

    pub fn content_type(version: SoapVersion, action: &str) -> String {
        match version {
            SoapVersion::V11 => "text/xml; charset=utf-8".to_string(),
            SoapVersion::V12 => {
                format!(r#"application/soap+xml; charset=utf-8; action="{action}""#)
            }
        }
    }

    /// Calls the provider at `path` with the payload as the gateway would send it.
    pub fn call(
        path: &str,
        version: SoapVersion,
        action: &str,
        payload: &str,
    ) -> (StatusCode, String) {
        let ct = content_type(version, action);
        let sa = format!("\"{action}\"");
        let r = crate::providers::answer(
            path,
            Some(&ct),
            (version == SoapVersion::V11).then_some(sa.as_str()),
            &forwarded(version, payload),
        );
        assert_eq!(r.content_type, version.content_type());
        (r.status, String::from_utf8(r.body).expect("UTF-8 answer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV11: &str = r#"<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ht="urn:x">
  <s:Header><lt:Exchange xmlns:lt="urn:lienthong:gateway:1"><lt:Consumer>000.00.00.H38</lt:Consumer></lt:Exchange></s:Header>
  <s:Body><ht:Q><ht:A>1</ht:A></ht:Q></s:Body>
</s:Envelope>"#;

    #[test]
    fn reads_payload_with_inherited_namespaces_and_exchange_header() {
        let r = parse(ENV11.as_bytes(), SoapVersion::V11, None).unwrap();
        assert!(r.root.is("urn:x", "Q"));
        assert!(
            r.payload.starts_with(r#"<ht:Q xmlns:ht="urn:x" xmlns:s="#),
            "{}",
            r.payload
        );
        assert!(r.payload.ends_with("</ht:Q>"));
        let ex = r.exchange_header.unwrap();
        assert!(
            ex.contains("<lt:Consumer>000.00.00.H38</lt:Consumer>"),
            "{ex}"
        );
    }

    #[test]
    fn version_must_match_content_type() {
        let f = parse(ENV11.as_bytes(), SoapVersion::V12, None).unwrap_err();
        assert_eq!(f.code, FaultClass::VersionMismatch);
    }

    #[test]
    fn two_body_children_or_none_are_refused() {
        let two = ENV11.replace("</ht:Q>", "</ht:Q><ht:Q/>");
        assert_eq!(
            parse(two.as_bytes(), SoapVersion::V11, None)
                .unwrap_err()
                .code,
            FaultClass::Client
        );
        let none = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#;
        assert!(parse(none.as_bytes(), SoapVersion::V11, None).is_err());
        let doctype = format!("<!DOCTYPE x []>{}", &ENV11[21..]);
        assert!(parse(doctype.as_bytes(), SoapVersion::V11, None).is_err());
    }

    #[test]
    fn content_types() {
        let (v, a) = version_of(Some("text/xml; charset=utf-8"), Some("\"urn:a\"")).unwrap();
        assert_eq!((v, a.as_deref()), (SoapVersion::V11, Some("urn:a")));
        let (v, a) = version_of(Some("text/xml"), Some("\"\"")).unwrap();
        assert_eq!((v, a), (SoapVersion::V11, None));
        let (v, a) = version_of(
            Some("application/soap+xml; charset=utf-8; action=\"urn:b\""),
            None,
        )
        .unwrap();
        assert_eq!((v, a.as_deref()), (SoapVersion::V12, Some("urn:b")));
        assert!(version_of(Some("application/json"), None).is_err());
        assert!(version_of(None, None).is_err());
    }

    #[test]
    fn faults_per_version() {
        let f = ProviderFault::business("000.00.12.H38", "KHONG_TIM_THAY", "Không tìm thấy");
        let r = fault(SoapVersion::V11, &f);
        let body = String::from_utf8(r.body).unwrap();
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.content_type, "text/xml; charset=utf-8");
        assert!(
            body.contains("<faultcode>soap:Client</faultcode>"),
            "{body}"
        );
        assert!(body.contains("<detail><dm:LoiNghiepVu"), "{body}");
        assert!(
            body.contains("<dm:MaLoi>KHONG_TIM_THAY</dm:MaLoi>"),
            "{body}"
        );
        let r = fault(SoapVersion::V12, &f);
        let body = String::from_utf8(r.body).unwrap();
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("<soap:Value>soap:Sender</soap:Value>"),
            "{body}"
        );
        assert!(body.contains("<soap:Detail><dm:LoiNghiepVu"), "{body}");
        let r = fault(SoapVersion::V12, &ProviderFault::server("x"));
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn decode_guard_counts_repeats_and_ignores_order() {
        let two = r#"<dm:LoiNghiepVu xmlns:dm="urn:lgsp:h38:danhmuc:1.0"><dm:MaLoi>A</dm:MaLoi><dm:MoTa>x</dm:MoTa><dm:MoTa>y</dm:MoTa></dm:LoiNghiepVu>"#;
        // yaserde keeps the last MoTa and forgets the first: refused.
        assert!(decode::<LoiNghiepVu>(two).is_err());
        let reordered = r#"<dm:LoiNghiepVu xmlns:dm="urn:lgsp:h38:danhmuc:1.0"><dm:MoTa>x &amp; y</dm:MoTa><dm:MaLoi>A</dm:MaLoi></dm:LoiNghiepVu>"#;
        let v: LoiNghiepVu = decode(reordered).unwrap();
        assert_eq!((v.ma_loi.as_str(), v.mo_ta.as_str()), ("A", "x & y"));
    }

    #[test]
    fn leaves_are_namespace_qualified() {
        let l = leaves(r#"<a xmlns="urn:a"><b> x &amp; y </b><c/><d><e>1</e></d></a>"#).unwrap();
        let names: Vec<String> = l.iter().map(|(q, t)| format!("{q}={t}")).collect();
        assert_eq!(names, ["{urn:a}b=x & y", "{urn:a}c=", "{urn:a}e=1"]);
    }
}
