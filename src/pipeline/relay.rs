//! The answer stage for a provider's fault: relayed to the consumer as the provider wrote
//! it, with the exchange id added, so that every fault a consumer receives through the
//! gateway, its own or a provider's, carries `lt:FaultDetail/lt:ExchangeId` to quote to
//! an auditor.
//!
//! The id goes in as one more detail entry, after the provider's own: SOAP 1.1 §4.4
//! (`detail`, unqualified, holding namespace-qualified entries, and the last child of
//! `Fault`) and SOAP 1.2 Part 1 §5.4.5 (`env:Detail`, the last child of `env:Fault`). A
//! fault without a detail element gets one. Nothing the provider wrote is changed or
//! dropped: its code, reason and its own detail entries reach the consumer as they were.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::model::SoapVersion;
use crate::xml::ns;

/// The provider's `Fault` element (a standalone document: its namespaces declared on it)
/// with the exchange id added to its detail. Returned unchanged if it cannot be read,
/// which does not happen for a Fault the envelope parser accepted.
pub fn provider_fault(version: SoapVersion, fault: &[u8], exchange_id: &str) -> Vec<u8> {
    let entry = crate::soap::fault::exchange_entry(exchange_id);
    match insertion(version, fault) {
        Some(at) => at.apply(fault, &entry),
        None => {
            log::warn!("provider fault relayed without the exchange id: it could not be read");
            fault.to_vec()
        }
    }
}

/// Where the entry goes in the Fault's bytes.
#[derive(Debug, PartialEq)]
enum Insertion {
    /// Before the end tag of an existing detail element, at this offset.
    Into(usize),
    /// An empty detail element (`<detail/>`) over `range`, written `name`.
    Empty {
        range: std::ops::Range<usize>,
        name: String,
    },
    /// No detail element: a new one (start tag, name) before the Fault's end tag at
    /// this offset, or inside an empty `<Fault/>` (its range and name).
    New {
        at: usize,
        detail: (String, String),
        empty_fault: Option<(std::ops::Range<usize>, String)>,
    },
}

impl Insertion {
    fn apply(&self, fault: &[u8], entry: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(fault.len() + entry.len() + 64);
        match self {
            Insertion::Into(at) => {
                out.extend_from_slice(&fault[..*at]);
                out.extend_from_slice(entry.as_bytes());
                out.extend_from_slice(&fault[*at..]);
            }
            Insertion::Empty { range, name } => {
                out.extend_from_slice(&fault[..range.start]);
                out.extend_from_slice(&reopen(&fault[range.clone()]));
                out.extend_from_slice(format!("{entry}</{name}>").as_bytes());
                out.extend_from_slice(&fault[range.end..]);
            }
            Insertion::New {
                at,
                detail: (open, name),
                empty_fault,
            } => {
                let detail = format!("<{open}>{entry}</{name}>");
                match empty_fault {
                    Some((range, fault_name)) => {
                        out.extend_from_slice(&fault[..range.start]);
                        out.extend_from_slice(&reopen(&fault[range.clone()]));
                        out.extend_from_slice(format!("{detail}</{fault_name}>").as_bytes());
                        out.extend_from_slice(&fault[range.end..]);
                    }
                    None => {
                        out.extend_from_slice(&fault[..*at]);
                        out.extend_from_slice(detail.as_bytes());
                        out.extend_from_slice(&fault[*at..]);
                    }
                }
            }
        }
        out
    }
}

/// `<name attrs/>` as the start tag `<name attrs>`.
fn reopen(empty_tag: &[u8]) -> Vec<u8> {
    let inner = empty_tag
        .strip_suffix(b"/>")
        .unwrap_or(empty_tag)
        .trim_ascii_end();
    let mut out = inner.to_vec();
    out.push(b'>');
    out
}

/// The detail element of this version: SOAP 1.1 writes it unqualified (some stacks
/// qualify it with the envelope namespace; both are read), SOAP 1.2 as `env:Detail`.
fn is_detail(version: SoapVersion, ns_uri: &str, local: &str) -> bool {
    match version {
        SoapVersion::V11 => local == "detail" && (ns_uri.is_empty() || ns_uri == ns::SOAP11_ENV),
        SoapVersion::V12 => local == "Detail" && ns_uri == ns::SOAP12_ENV,
    }
}

fn insertion(version: SoapVersion, fault: &[u8]) -> Option<Insertion> {
    let text = std::str::from_utf8(fault).ok()?;
    let mut reader = NsReader::from_str(text);
    let mut depth = 0usize;
    // The Fault's tag name as written, and whether its detail element is open.
    let mut fault_name = None;
    let mut in_detail = false;
    loop {
        let start = reader.buffer_position() as usize;
        let (resolved, event) = reader.read_resolved_event().ok()?;
        let ns_uri = match resolved {
            ResolveResult::Bound(n) => n.0.to_string(),
            _ => String::new(),
        };
        let end = reader.buffer_position() as usize;
        match event {
            Event::Empty(e) if depth == 0 => {
                let name = e.name().as_ref().to_string();
                return Some(Insertion::New {
                    at: end,
                    detail: new_detail(version, &name),
                    empty_fault: Some((start..end, name)),
                });
            }
            Event::Start(e) if depth == 0 => {
                fault_name = Some(e.name().as_ref().to_string());
                depth = 1;
            }
            Event::Empty(e)
                if depth == 1 && is_detail(version, &ns_uri, e.local_name().as_ref()) =>
            {
                let name = e.name().as_ref().to_string();
                return Some(Insertion::Empty {
                    range: start..end,
                    name,
                });
            }
            Event::Start(e) => {
                if depth == 1 && is_detail(version, &ns_uri, e.local_name().as_ref()) {
                    in_detail = true;
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.checked_sub(1)?;
                if depth == 1 && in_detail {
                    return Some(Insertion::Into(start));
                }
                if depth == 0 {
                    return Some(Insertion::New {
                        at: start,
                        detail: new_detail(version, &fault_name?),
                        empty_fault: None,
                    });
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// A new detail element's start tag and name. SOAP 1.1's is unqualified (`xmlns=""` when
/// the Fault puts the envelope namespace in the default one); SOAP 1.2's takes the Fault's
/// own prefix, which the Fault (a standalone document) binds to the envelope namespace.
fn new_detail(version: SoapVersion, fault_name: &str) -> (String, String) {
    let prefix = fault_name.split_once(':').map(|(p, _)| p);
    match (version, prefix) {
        (SoapVersion::V11, Some(_)) => ("detail".into(), "detail".into()),
        (SoapVersion::V11, None) => (r#"detail xmlns="""#.into(), "detail".into()),
        (SoapVersion::V12, Some(p)) => (format!("{p}:Detail"), format!("{p}:Detail")),
        (SoapVersion::V12, None) => ("Detail".into(), "Detail".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0190-abc";

    fn relay(version: SoapVersion, fault: &str) -> String {
        let out = String::from_utf8(provider_fault(version, fault.as_bytes(), ID)).unwrap();
        // Still one well-formed element.
        let mut r = quick_xml::Reader::from_str(&out);
        r.config_mut().check_end_names = true;
        while !matches!(r.read_event().unwrap(), Event::Eof) {}
        out
    }

    fn entry() -> String {
        crate::soap::fault::exchange_entry(ID)
    }

    #[test]
    fn soap11_detail_gets_the_id_after_the_providers_entries() {
        let f = r#"<s:Fault xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><faultcode>s:Client</faultcode><faultstring>Không tìm thấy</faultstring><detail><dm:LoiNghiepVu xmlns:dm="urn:dm"><dm:MaLoi>X</dm:MaLoi></dm:LoiNghiepVu></detail></s:Fault>"#;
        let out = relay(SoapVersion::V11, f);
        let expected = f.replace("</detail>", &format!("{}</detail>", entry()));
        assert_eq!(out, expected);
    }

    #[test]
    fn soap11_without_or_with_an_empty_detail() {
        let f = r#"<s:Fault xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><faultcode>s:Server</faultcode><faultstring>x</faultstring></s:Fault>"#;
        let out = relay(SoapVersion::V11, f);
        assert!(
            out.ends_with(&format!(
                "<faultstring>x</faultstring><detail>{}</detail></s:Fault>",
                entry()
            )),
            "{out}"
        );
        let f = r#"<s:Fault xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><faultcode>s:Server</faultcode><faultstring>x</faultstring><detail a="1" /></s:Fault>"#;
        let out = relay(SoapVersion::V11, f);
        assert!(
            out.contains(&format!(r#"<detail a="1">{}</detail></s:Fault>"#, entry())),
            "{out}"
        );
    }

    #[test]
    fn soap12_detail_is_env_detail_and_a_new_one_takes_the_faults_prefix() {
        let f = r#"<e:Fault xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text xml:lang="vi">x</e:Text></e:Reason><e:Detail><d:X xmlns:d="urn:d"><detail/></d:X></e:Detail></e:Fault>"#;
        let out = relay(SoapVersion::V12, f);
        assert!(
            out.ends_with(&format!("</d:X>{}</e:Detail></e:Fault>", entry())),
            "{out}"
        );
        let f = r#"<e:Fault xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Code><e:Value>e:Receiver</e:Value></e:Code><e:Reason><e:Text xml:lang="vi">x</e:Text></e:Reason></e:Fault>"#;
        let out = relay(SoapVersion::V12, f);
        assert!(
            out.ends_with(&format!(
                "</e:Reason><e:Detail>{}</e:Detail></e:Fault>",
                entry()
            )),
            "{out}"
        );
        // A default namespace: the new Detail is unprefixed, in it.
        let f = r#"<Fault xmlns="http://www.w3.org/2003/05/soap-envelope"><Code><Value>Receiver</Value></Code><Reason><Text xml:lang="vi">x</Text></Reason></Fault>"#;
        let out = relay(SoapVersion::V12, f);
        assert!(
            out.ends_with(&format!("</Reason><Detail>{}</Detail></Fault>", entry())),
            "{out}"
        );
    }
}
