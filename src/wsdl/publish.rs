//! The contract as the gateway publishes it: each document's bytes with only the edited
//! spans replaced (endpoint addresses, import locations), everything else byte-identical.

use super::model::{Contract, DocumentKind, EditAction, GeneratedPort};
use crate::model::SoapVersion;
use crate::xml::{escape, ns};

/// The WSDL (`doc` = None) or one of the contract's documents by its published name.
/// Only documents of the contract are served: `doc` is looked up, never opened as a path.
pub fn publish(contract: &Contract, doc: Option<&str>, service_url: &str) -> Option<Vec<u8>> {
    let index = match doc {
        None => 0,
        Some(name) => contract
            .documents
            .iter()
            .position(|d| d.published_as == name)?,
    };
    Some(render(contract, index, service_url))
}

/// `URL?wsdl=REL` / `URL?xsd=REL` of a document.
pub fn document_url(contract: &Contract, index: usize, service_url: &str) -> String {
    let d = &contract.documents[index];
    let key = match d.kind {
        DocumentKind::Wsdl => "wsdl",
        DocumentKind::Xsd => "xsd",
    };
    format!(
        "{service_url}?{key}={}",
        crate::percent::encode_query_value(&d.published_as)
    )
}

fn render(contract: &Contract, index: usize, service_url: &str) -> Vec<u8> {
    let d = &contract.documents[index];
    render_range(
        contract,
        index,
        0..d.bytes.len(),
        &|t| document_url(contract, t, service_url),
        Some(service_url),
    )
}

/// The bytes of `range` of document `index` with the edits inside it applied: links point
/// to `link(target)`, addresses become `address` (kept as written when `None`, and no
/// service is generated then).
pub(crate) fn render_range(
    contract: &Contract,
    index: usize,
    range: std::ops::Range<usize>,
    link: &dyn Fn(usize) -> String,
    address: Option<&str>,
) -> Vec<u8> {
    let d = &contract.documents[index];
    let mut out = Vec::with_capacity(range.len() + 512);
    let mut pos = range.start;
    for e in &d.edits {
        if e.span.start < range.start || e.span.end > range.end {
            continue;
        }
        let text: std::borrow::Cow<'_, str> = match (&e.action, address) {
            (EditAction::Address, None) | (EditAction::AddService(_), None) => continue,
            (EditAction::Address, Some(a)) => escape::text(a).into_owned().into(),
            (EditAction::AddService(ports), Some(a)) => service(ports, a).into(),
            (EditAction::Location(t), _) => escape::text(&link(*t)).into_owned().into(),
            (EditAction::AddSchemaLocation(t), _) => {
                format!(" schemaLocation=\"{}\"", escape::text(&link(*t))).into()
            }
            (EditAction::Replace(text), _) => text.as_str().into(),
        };
        out.extend_from_slice(&d.bytes[pos..e.span.start]);
        out.extend_from_slice(text.as_bytes());
        pos = e.span.end;
    }
    out.extend_from_slice(&d.bytes[pos..range.end]);
    out
}

/// A `wsdl:service` for a WSDL that has none; every name it uses is declared on the
/// element that uses it, so it cannot clash with the document's own prefixes.
fn service(ports: &[GeneratedPort], service_url: &str) -> String {
    let url = escape::text(service_url);
    let mut s = format!(
        "  <lt-wsdl:service xmlns:lt-wsdl=\"{}\" name=\"LienthongGatewayService\">\n",
        ns::WSDL11
    );
    for p in ports {
        let soap_ns = match p.version {
            SoapVersion::V11 => ns::WSDL_SOAP11,
            SoapVersion::V12 => ns::WSDL_SOAP12,
        };
        // `xmlns:p=""` is not allowed (Namespaces in XML 1.0 §3); a binding in no
        // namespace is named unprefixed with the default namespace undeclared.
        let binding = if p.binding.ns.is_empty() {
            format!("binding=\"{}\" xmlns=\"\"", escape::text(&p.binding.local))
        } else {
            format!(
                "binding=\"lt-b:{}\" xmlns:lt-b=\"{}\"",
                escape::text(&p.binding.local),
                escape::text(&p.binding.ns)
            )
        };
        s.push_str(&format!(
            "    <lt-wsdl:port name=\"{}\" {binding}>\n      \
             <lt-soap:address xmlns:lt-soap=\"{soap_ns}\" location=\"{url}\"/>\n    \
             </lt-wsdl:port>\n",
            escape::text(&p.name),
        ));
    }
    s.push_str("  </lt-wsdl:service>\n");
    s
}

#[cfg(test)]
mod tests {
    use crate::wsdl::{load, publish, Catalog};

    #[test]
    fn addresses_are_escaped_and_a_service_is_added_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a b.wsdl");
        // No targetNamespace: the generated port names its binding unprefixed.
        std::fs::write(
            &p,
            r#"<w:definitions xmlns:w="http://schemas.xmlsoap.org/wsdl/" xmlns:s="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:x="http://www.w3.org/2001/XMLSchema">
<w:types><x:schema><x:element name="E"/></x:schema></w:types>
<w:message name="M"><w:part name="p" element="E"/></w:message>
<w:portType name="P"><w:operation name="O"><w:input message="M"/></w:operation></w:portType>
<w:binding name="B" type="P"><s:binding/><w:operation name="O"/></w:binding>
</w:definitions>"#,
        )
        .unwrap();
        let c = load(&p, &Catalog::default()).unwrap();
        assert_eq!(c.documents[0].published_as, "a b.wsdl");
        let out = String::from_utf8(publish(&c, None, "http://h/s?a=1&b=\"2\"").unwrap()).unwrap();
        assert!(
            out.contains(
                "<lt-wsdl:port name=\"BPort\" binding=\"B\" xmlns=\"\">\n      <lt-soap:address \
             xmlns:lt-soap=\"http://schemas.xmlsoap.org/wsdl/soap/\" \
             location=\"http://h/s?a=1&amp;b=&quot;2&quot;\"/>"
            ),
            "{out}"
        );
        assert!(out.ends_with("  </lt-wsdl:service>\n</w:definitions>"));
        assert!(publish(&c, Some("a b.wsdl"), "u").is_some());
        assert_eq!(
            super::document_url(&c, 0, "http://g/s"),
            "http://g/s?wsdl=a%20b.wsdl"
        );
    }
}
