//! The SOAP fault: its value and its SOAP 1.1 / 1.2 rendering. Which error becomes which
//! fault is decided in one place, `pipeline::fault_map`.
//!
//! A fault tells the caller what it can act on (the class, a standard subcode, a short
//! reason) and the exchange id to quote to an auditor; internals (paths, stack traces,
//! library messages, provider addresses) go to the log and the audit record, never into
//! the fault. The shapes, and why, are in docs/SECURITY.md, "What a fault says".

use http::StatusCode;

use crate::model::SoapVersion;
use crate::xml::{escape, ns, QName};

/// SOAP 1.2 names; SOAP 1.1 spells Sender `Client` and Receiver `Server`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    Sender,
    Receiver,
    VersionMismatch,
    MustUnderstand,
}

/// A standard subcode such as `wsse:InvalidSecurity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subcode {
    pub ns: &'static str,
    pub prefix: &'static str,
    pub local: &'static str,
}

impl Subcode {
    pub const fn wsse(local: &'static str) -> Self {
        Self {
            ns: ns::WSSE,
            prefix: "wsse",
            local,
        }
    }

    pub const fn lienthong(local: &'static str) -> Self {
        Self {
            ns: ns::LIENTHONG,
            prefix: "lt",
            local,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: FaultCode,
    pub subcode: Option<Subcode>,
    /// Short, caller-actionable, free of internals.
    pub reason: String,
    /// Items for the detail element (e.g. schema violations with their paths).
    pub details: Vec<String>,
    /// When the HTTP status is not the SOAP default (404, 413, 502, 503, 504).
    pub status: Option<StatusCode>,
    /// For a MustUnderstand fault: the mandatory header blocks addressed to the gateway
    /// that it does not process, whatever found them (the envelope scan, the WS-Security
    /// check). SOAP 1.2 names each in an `env:NotUnderstood` header block.
    pub not_understood: Vec<QName>,
}

impl Fault {
    pub fn sender(reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Sender,
            subcode: None,
            reason: reason.into(),
            details: Vec::new(),
            status: None,
            not_understood: Vec::new(),
        }
    }

    pub fn receiver(reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Receiver,
            ..Self::sender(reason)
        }
    }

    /// SOAP 1.1 §4.4.1 / SOAP 1.2 Part 1 §5.4.6: the envelope is not one of a version the
    /// gateway speaks. Rendered with an `env:Upgrade` header block listing those it does.
    pub fn version_mismatch(reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::VersionMismatch,
            ..Self::sender(reason)
        }
    }

    /// SOAP 1.1 §4.4.1 / SOAP 1.2 Part 1 §5.4.8: mandatory header blocks the gateway does
    /// not process. The reason names them too, since SOAP 1.1 has no other place to.
    pub fn must_understand(reason: impl Into<String>, blocks: Vec<QName>) -> Self {
        Self {
            code: FaultCode::MustUnderstand,
            not_understood: blocks,
            ..Self::sender(reason)
        }
    }

    pub fn with_subcode(mut self, subcode: Subcode) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// SOAP 1.1 §6.2: faults travel with 500. SOAP 1.2 Part 2 §7.5.1.2: 400 for Sender,
    /// 500 otherwise. An explicit status wins (404 unknown service, 413 too large, ...).
    pub fn http_status(&self, version: SoapVersion) -> StatusCode {
        if let Some(s) = self.status {
            return s;
        }
        match (version, self.code) {
            (SoapVersion::V12, FaultCode::Sender) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The most specific code: the subcode (`wsse:FailedCheck`, `lt:AccessDenied`) or
    /// else the class as SOAP 1.1 spells it (`Client`, `Server`, ...). The audit record
    /// stores this and `lienthong audit --fault` filters on it.
    pub fn code_label(&self) -> String {
        if let Some(s) = self.subcode {
            return format!("{}:{}", s.prefix, s.local);
        }
        self.class_11().to_string()
    }

    /// The class as SOAP 1.1 §4.4.1 spells it.
    fn class_11(&self) -> &'static str {
        match self.code {
            FaultCode::Sender => "Client",
            FaultCode::Receiver => "Server",
            FaultCode::VersionMismatch => "VersionMismatch",
            FaultCode::MustUnderstand => "MustUnderstand",
        }
    }

    /// The fault as a complete SOAP envelope of the request's version.
    ///
    /// SOAP 1.1 has one `faultcode`: it is always the class (`soap:Client` for the
    /// caller's errors, `soap:Server` for the gateway's or the provider's, §4.4.1), so a
    /// client can tell the two apart; the subcode goes in the detail. (WSS 1.1 §12 shows
    /// its `wsse:*` QNames as SOAP 1.1 faultcodes; they are in the detail here too, so that
    /// the one faultcode keeps saying whose error it is.) SOAP 1.2 has a place
    /// for both: `env:Code/env:Value` and `env:Subcode` (Part 1 §5.4.6). The detail of
    /// both carries `lt:FaultDetail` with the subcode as `lt:Code` (one shape for clients
    /// of either version), the exchange id and the problems found.
    pub fn render(&self, version: SoapVersion, exchange_id: &str) -> Vec<u8> {
        let mut out = String::with_capacity(768 + self.reason.len());
        out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let reason = escape::text(&self.reason);
        let env_ns = version.envelope_ns();
        let prefix = match version {
            SoapVersion::V11 => "soap",
            SoapVersion::V12 => "env",
        };
        out.push_str(&format!(r#"<{prefix}:Envelope xmlns:{prefix}="{env_ns}">"#));
        let headers = self.header_blocks(version);
        if !headers.is_empty() {
            out.push_str(&format!("<{prefix}:Header>{headers}</{prefix}:Header>"));
        }
        match version {
            SoapVersion::V11 => {
                out.push_str(&format!(
                    r#"<soap:Body><soap:Fault><faultcode>soap:{}</faultcode><faultstring xml:lang="en">{reason}</faultstring><detail>"#,
                    self.class_11()
                ));
                self.push_detail(&mut out, exchange_id);
                out.push_str("</detail></soap:Fault></soap:Body></soap:Envelope>");
            }
            SoapVersion::V12 => {
                let value = match self.code {
                    FaultCode::Sender => "env:Sender",
                    FaultCode::Receiver => "env:Receiver",
                    FaultCode::VersionMismatch => "env:VersionMismatch",
                    FaultCode::MustUnderstand => "env:MustUnderstand",
                };
                let sub_ns = self
                    .subcode
                    .map(|s| format!(r#" xmlns:{}="{}""#, s.prefix, s.ns))
                    .unwrap_or_default();
                out.push_str(&format!(
                    r#"<env:Body><env:Fault{sub_ns}><env:Code><env:Value>{value}</env:Value>"#
                ));
                if let Some(s) = self.subcode {
                    out.push_str(&format!(
                        "<env:Subcode><env:Value>{}:{}</env:Value></env:Subcode>",
                        s.prefix, s.local
                    ));
                }
                out.push_str(&format!(
                    r#"</env:Code><env:Reason><env:Text xml:lang="en">{reason}</env:Text></env:Reason><env:Detail>"#
                ));
                self.push_detail(&mut out, exchange_id);
                out.push_str("</env:Detail></env:Fault></env:Body></env:Envelope>");
            }
        }
        out.into_bytes()
    }

    /// The header blocks a fault carries, in the SOAP 1.2 namespace whatever the
    /// envelope's version:
    /// - VersionMismatch: `env:Upgrade` with the envelopes the gateway reads, the
    ///   answer's version first (SOAP 1.2 Part 1 §5.4.7; Appendix A allows the block in
    ///   a SOAP 1.1 fault to tell a 1.1 sender that 1.2 is understood).
    /// - MustUnderstand over SOAP 1.2: one `env:NotUnderstood` per block (§5.4.8). SOAP
    ///   1.1 defines no such block; its faultstring names them.
    fn header_blocks(&self, version: SoapVersion) -> String {
        let env12 = ns::SOAP12_ENV;
        match self.code {
            FaultCode::VersionMismatch => {
                let mut supported = [SoapVersion::V12, SoapVersion::V11];
                if version == SoapVersion::V11 {
                    supported.reverse();
                }
                let mut out = format!(r#"<up:Upgrade xmlns:up="{env12}">"#);
                for v in supported {
                    out.push_str(&format!(
                        r#"<up:SupportedEnvelope xmlns:v="{}" qname="v:Envelope"/>"#,
                        v.envelope_ns()
                    ));
                }
                out.push_str("</up:Upgrade>");
                out
            }
            FaultCode::MustUnderstand if version == SoapVersion::V12 => self
                .not_understood
                .iter()
                .map(|q| {
                    // An unqualified block: an unprefixed QName names no namespace, as no
                    // default namespace is in scope here (and `xmlns:b=""` is not allowed
                    // in XML Namespaces 1.0).
                    if q.ns.is_empty() {
                        format!(
                            r#"<nu:NotUnderstood xmlns:nu="{env12}" qname="{}"/>"#,
                            escape::text(&q.local)
                        )
                    } else {
                        format!(
                            r#"<nu:NotUnderstood xmlns:nu="{env12}" xmlns:b="{}" qname="b:{}"/>"#,
                            escape::text(&q.ns),
                            escape::text(&q.local)
                        )
                    }
                })
                .collect(),
            _ => String::new(),
        }
    }

    fn push_detail(&self, out: &mut String, exchange_id: &str) {
        fault_detail(out, self.subcode, exchange_id, &self.details);
    }
}

/// `lt:FaultDetail`: the subcode as `lt:Code` (its prefix declared on it), the exchange
/// id, then each problem as `lt:Problem`.
fn fault_detail(out: &mut String, code: Option<Subcode>, exchange_id: &str, problems: &[String]) {
    out.push_str(&format!(r#"<lt:FaultDetail xmlns:lt="{}">"#, ns::LIENTHONG));
    if let Some(s) = code {
        let decl = if s.ns == ns::LIENTHONG {
            String::new()
        } else {
            format!(r#" xmlns:{}="{}""#, s.prefix, s.ns)
        };
        out.push_str(&format!(
            "<lt:Code{decl}>{}:{}</lt:Code>",
            s.prefix, s.local
        ));
    }
    out.push_str(&format!(
        "<lt:ExchangeId>{}</lt:ExchangeId>",
        escape::text(exchange_id)
    ));
    for p in problems {
        out.push_str("<lt:Problem>");
        out.push_str(&escape::text(p));
        out.push_str("</lt:Problem>");
    }
    out.push_str("</lt:FaultDetail>");
}

/// The detail entry a relayed provider fault gets: the same `lt:FaultDetail` the
/// gateway's own faults carry, with the exchange id only.
pub fn exchange_entry(exchange_id: &str) -> String {
    let mut out = String::with_capacity(128);
    fault_detail(&mut out, None, exchange_id, &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(f: &Fault, v: SoapVersion) -> String {
        String::from_utf8(f.render(v, "x-1")).unwrap()
    }

    #[test]
    fn soap11_fault_shape() {
        let f = Fault::sender("bad <thing>");
        let xml = xml(&f, SoapVersion::V11);
        assert!(xml.contains("<faultcode>soap:Client</faultcode>"), "{xml}");
        assert!(xml.contains("bad &lt;thing&gt;"), "{xml}");
        assert!(
            xml.contains("<lt:ExchangeId>x-1</lt:ExchangeId>") && !xml.contains("lt:Code"),
            "{xml}"
        );
        assert!(!xml.contains("Header"), "{xml}");
        assert_eq!(
            f.http_status(SoapVersion::V11),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn soap11_faultcode_is_the_class_and_the_subcode_is_in_the_detail() {
        let f = Fault::sender("no").with_subcode(Subcode::wsse("FailedCheck"));
        let x = xml(&f, SoapVersion::V11);
        assert!(x.contains("<faultcode>soap:Client</faultcode>"), "{x}");
        assert!(
            x.contains(&format!(
                r#"<detail><lt:FaultDetail xmlns:lt="{}"><lt:Code xmlns:wsse="{}">wsse:FailedCheck</lt:Code><lt:ExchangeId>x-1</lt:ExchangeId>"#,
                ns::LIENTHONG,
                ns::WSSE
            )),
            "{x}"
        );
        let f = Fault::receiver("down").with_subcode(Subcode::lienthong("ProviderUnavailable"));
        let x = xml(&f, SoapVersion::V11);
        assert!(x.contains("<faultcode>soap:Server</faultcode>"), "{x}");
        assert!(
            x.contains("<lt:Code>lt:ProviderUnavailable</lt:Code>"),
            "{x}"
        );
        // The audit record keeps the most specific code.
        assert_eq!(f.code_label(), "lt:ProviderUnavailable");
        assert_eq!(Fault::receiver("x").code_label(), "Server");
    }

    #[test]
    fn soap12_fault_shape_with_subcode() {
        let f = Fault::sender("no").with_subcode(Subcode::wsse("InvalidSecurity"));
        let xml = xml(&f, SoapVersion::V12);
        assert!(xml.contains("<env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsse:InvalidSecurity</env:Value>"), "{xml}");
        assert!(xml.contains(">wsse:InvalidSecurity</lt:Code>"), "{xml}");
        assert_eq!(f.http_status(SoapVersion::V12), StatusCode::BAD_REQUEST);
        assert_eq!(f.code_label(), "wsse:InvalidSecurity");
    }

    #[test]
    fn version_mismatch_carries_an_upgrade_block_in_either_version() {
        let f = Fault::version_mismatch("wrong envelope");
        let x = xml(&f, SoapVersion::V12);
        // The Upgrade block listing `first`, then `second`.
        let upgrade = |first: SoapVersion, second: SoapVersion| {
            let supported = |v: SoapVersion| {
                format!(
                    r#"<up:SupportedEnvelope xmlns:v="{}" qname="v:Envelope"/>"#,
                    v.envelope_ns()
                )
            };
            format!(
                r#"<up:Upgrade xmlns:up="{}">{}{}</up:Upgrade>"#,
                ns::SOAP12_ENV,
                supported(first),
                supported(second)
            )
        };
        let up = upgrade(SoapVersion::V12, SoapVersion::V11);
        assert!(x.contains(&format!("<env:Header>{up}</env:Header>")), "{x}");
        assert!(
            x.contains("<env:Value>env:VersionMismatch</env:Value>"),
            "{x}"
        );
        let x = xml(&f, SoapVersion::V11);
        let up = upgrade(SoapVersion::V11, SoapVersion::V12);
        assert!(
            x.contains(&format!("<soap:Header>{up}</soap:Header>")),
            "{x}"
        );
        assert!(
            x.contains("<faultcode>soap:VersionMismatch</faultcode>"),
            "{x}"
        );
    }

    #[test]
    fn must_understand_names_each_block_in_soap12_headers() {
        let f = Fault::must_understand(
            "not understood",
            vec![QName::new("urn:a&b", "X"), QName::new("", "Plain")],
        );
        let x = xml(&f, SoapVersion::V12);
        assert!(
            x.contains(&format!(
                r#"<env:Header><nu:NotUnderstood xmlns:nu="{0}" xmlns:b="urn:a&amp;b" qname="b:X"/><nu:NotUnderstood xmlns:nu="{0}" qname="Plain"/></env:Header>"#,
                ns::SOAP12_ENV
            )),
            "{x}"
        );
        assert!(
            x.contains("<env:Value>env:MustUnderstand</env:Value>"),
            "{x}"
        );
        // SOAP 1.1 has no NotUnderstood block.
        let x = xml(&f, SoapVersion::V11);
        assert!(!x.contains("Header"), "{x}");
        assert!(
            x.contains("<faultcode>soap:MustUnderstand</faultcode>"),
            "{x}"
        );
    }
}
