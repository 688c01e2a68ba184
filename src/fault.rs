//! Every internal error becomes a SOAP fault here, and only here.
//!
//! A fault tells the caller what it can act on (the class, a standard subcode, a short
//! reason) and the exchange id to quote to an auditor; internals (paths, stack traces,
//! provider addresses) go to the log and the audit record, never into the fault.

use http::StatusCode;

use crate::model::SoapVersion;
use crate::pipeline::PipelineError;
use crate::xml::{escape, ns};

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
}

impl Fault {
    pub fn sender(reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Sender,
            subcode: None,
            reason: reason.into(),
            details: Vec::new(),
            status: None,
        }
    }

    pub fn receiver(reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Receiver,
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

    /// `faultcode` text as SOAP 1.1 writes it; the audit record stores this too.
    pub fn code_label(&self) -> String {
        if let Some(s) = self.subcode {
            return format!("{}:{}", s.prefix, s.local);
        }
        match self.code {
            FaultCode::Sender => "Client",
            FaultCode::Receiver => "Server",
            FaultCode::VersionMismatch => "VersionMismatch",
            FaultCode::MustUnderstand => "MustUnderstand",
        }
        .to_string()
    }

    /// The fault as a complete SOAP envelope of the request's version.
    pub fn render(&self, version: SoapVersion, exchange_id: &str) -> Vec<u8> {
        let mut out = String::with_capacity(512 + self.reason.len());
        out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let sub_ns = self
            .subcode
            .map(|s| format!(r#" xmlns:{}="{}""#, s.prefix, s.ns))
            .unwrap_or_default();
        let reason = escape::text(&self.reason);
        match version {
            SoapVersion::V11 => {
                let code = match self.subcode {
                    Some(s) => format!("{}:{}", s.prefix, s.local),
                    None => format!("soap:{}", self.code_label()),
                };
                out.push_str(&format!(
                    r#"<soap:Envelope xmlns:soap="{}"><soap:Body><soap:Fault{sub_ns}><faultcode>{code}</faultcode><faultstring xml:lang="en">{reason}</faultstring>"#,
                    ns::SOAP11_ENV
                ));
                out.push_str("<detail>");
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
                out.push_str(&format!(
                    r#"<env:Envelope xmlns:env="{}"><env:Body><env:Fault{sub_ns}><env:Code><env:Value>{value}</env:Value>"#,
                    ns::SOAP12_ENV
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

    fn push_detail(&self, out: &mut String, exchange_id: &str) {
        out.push_str(&format!(
            r#"<lt:FaultDetail xmlns:lt="{}"><lt:ExchangeId>{}</lt:ExchangeId>"#,
            ns::LIENTHONG,
            escape::text(exchange_id)
        ));
        for d in &self.details {
            out.push_str("<lt:Problem>");
            out.push_str(&escape::text(d));
            out.push_str("</lt:Problem>");
        }
        out.push_str("</lt:FaultDetail>");
    }
}

/// The detail entry a relayed provider fault gets: the same `lt:FaultDetail` the
/// gateway's own faults carry, with the exchange id only.
pub fn exchange_entry(exchange_id: &str) -> String {
    format!(
        r#"<lt:FaultDetail xmlns:lt="{}"><lt:ExchangeId>{}</lt:ExchangeId></lt:FaultDetail>"#,
        ns::LIENTHONG,
        escape::text(exchange_id)
    )
}

impl From<&PipelineError> for Fault {
    fn from(e: &PipelineError) -> Self {
        use crate::pipeline::envelope::EnvelopeError as E;
        use crate::pipeline::receive::ReceiveError as R;
        use PipelineError as P;
        match e {
            P::Receive(r) => match r {
                R::UnknownService(_) => {
                    Fault::sender(r.to_string()).with_status(StatusCode::NOT_FOUND)
                }
                R::TooLarge { .. } => {
                    Fault::sender(r.to_string()).with_status(StatusCode::PAYLOAD_TOO_LARGE)
                }
                R::MethodNotAllowed => {
                    Fault::sender(r.to_string()).with_status(StatusCode::METHOD_NOT_ALLOWED)
                }
                R::Overloaded => {
                    Fault::receiver(r.to_string()).with_status(StatusCode::SERVICE_UNAVAILABLE)
                }
                R::Timeout => Fault::sender(r.to_string()).with_status(StatusCode::REQUEST_TIMEOUT),
                R::UnsupportedMediaType(_) | R::Charset(_) | R::Read(_) | R::AmbiguousLength => {
                    Fault::sender(r.to_string())
                }
            },
            P::Envelope(env) => match env {
                E::VersionMismatch(_) => Fault {
                    code: FaultCode::VersionMismatch,
                    ..Fault::sender(env.to_string())
                },
                E::MustUnderstand(_) => Fault {
                    code: FaultCode::MustUnderstand,
                    ..Fault::sender(env.to_string())
                },
                _ => Fault::sender(env.to_string()),
            },
            P::Dispatch(d) => Fault::sender(d.to_string()),
            P::Security(w) => crate::wssec::fault_for(w),
            P::Authorise(a) => {
                Fault::sender(a.to_string()).with_subcode(Subcode::lienthong("AccessDenied"))
            }
            P::Validate(v) => crate::schema::fault_for(v),
            P::Map(m) => crate::mapping::fault_for(m),
            P::Forward(f) => {
                use crate::pipeline::forward::ForwardError as F;
                let status = match f {
                    F::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                Fault::receiver(f.to_string())
                    .with_subcode(Subcode::lienthong("ProviderUnavailable"))
                    .with_status(status)
            }
            P::Audit(_) => Fault::receiver("the exchange could not be recorded; refused")
                .with_subcode(Subcode::lienthong("AuditUnavailable"))
                .with_status(StatusCode::SERVICE_UNAVAILABLE),
            P::Internal(_) => Fault::receiver("internal gateway error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soap11_fault_shape() {
        let f = Fault::sender("bad <thing>");
        let xml = String::from_utf8(f.render(SoapVersion::V11, "x-1")).unwrap();
        assert!(xml.contains("<faultcode>soap:Client</faultcode>"), "{xml}");
        assert!(xml.contains("bad &lt;thing&gt;"), "{xml}");
        assert_eq!(
            f.http_status(SoapVersion::V11),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn soap12_fault_shape_with_subcode() {
        let f = Fault::sender("no").with_subcode(Subcode::wsse("InvalidSecurity"));
        let xml = String::from_utf8(f.render(SoapVersion::V12, "x-1")).unwrap();
        assert!(xml.contains("<env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsse:InvalidSecurity</env:Value>"), "{xml}");
        assert_eq!(f.http_status(SoapVersion::V12), StatusCode::BAD_REQUEST);
        assert_eq!(f.code_label(), "wsse:InvalidSecurity");
    }
}
