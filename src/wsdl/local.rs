//! The contract's documents for local consumers (the schema validator): every import and
//! include pointing where the caller says (e.g. copies written side by side), so a schema
//! compiler needs neither the XML catalog nor the network, and no DTD left in them.

use std::path::Path;

use super::model::{Contract, InlineSchema};
use super::publish::render_range;

impl Contract {
    /// Document `index` with every resolved location replaced by `link(target)` (target
    /// an index into `documents`; namespace-only imports resolved through the catalog gain
    /// a `schemaLocation`), the DOCTYPE removed and internal entities expanded. Endpoint
    /// addresses are kept. Writing every document to `DIR/{i}.xsd` with
    /// `link = |t| format!("{t}.xsd")` gives a set libxml2 compiles offline.
    pub fn rendered(&self, index: usize, link: &dyn Fn(usize) -> String) -> Vec<u8> {
        let d = &self.documents[index];
        render_range(self, index, 0..d.bytes.len(), link, None)
    }

    /// Inline schema `schema` of WSDL document `index` as a standalone schema document:
    /// the namespace declarations it inherits from `wsdl:definitions` re-declared on
    /// `xsd:schema`, locations rendered as in [`Contract::rendered`].
    pub fn inline_schema_document(
        &self,
        index: usize,
        schema: usize,
        link: &dyn Fn(usize) -> String,
    ) -> Vec<u8> {
        let s: &InlineSchema = &self.documents[index].inline_schemas[schema];
        let body = render_range(self, index, s.span.clone(), link, None);
        let tag_end = body.iter().position(|&b| b == b'>').unwrap_or(body.len());
        let name_end = body[..tag_end]
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'/')
            .unwrap_or(tag_end);
        let tag = String::from_utf8_lossy(&body[..tag_end]);
        let mut declarations = String::new();
        for (prefix, uri) in &s.namespaces {
            let attr = if prefix.is_empty() {
                "xmlns".to_string()
            } else {
                format!("xmlns:{prefix}")
            };
            // Declared on xsd:schema itself already (attribute names end at `=`).
            if tag.contains(&format!(" {attr}=")) || tag.contains(&format!("\n{attr}=")) {
                continue;
            }
            declarations.push_str(&format!(" {attr}=\"{}\"", crate::xml::escape::text(uri)));
        }
        let mut out = Vec::with_capacity(body.len() + declarations.len() + 40);
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.extend_from_slice(&body[..name_end]);
        out.extend_from_slice(declarations.as_bytes());
        out.extend_from_slice(&body[name_end..]);
        out
    }

    /// `file:///absolute/path` of document `index` (as read, before any rendering).
    pub fn file_url(&self, index: usize) -> String {
        let path = &self.documents[index].path;
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        file_url(&super::uri::normalize(&abs))
    }
}

fn file_url(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::wsdl::{load, Catalog};

    #[test]
    fn inline_schemas_stand_alone_with_local_locations() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("t y.xsd"),
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:ty"><xs:element name="Y"/></xs:schema>"#,
        )
        .unwrap();
        std::fs::write(
            d.join("s.wsdl"),
            r#"<w:definitions xmlns:w="http://schemas.xmlsoap.org/wsdl/" xmlns:s="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" xmlns:y="urn:ty" targetNamespace="urn:t">
<w:types><xs:schema targetNamespace="urn:t" xmlns:t="urn:t"><xs:import namespace="urn:ty" schemaLocation="t%20y.xsd"/>
<xs:element name="E" type="y:Y"/></xs:schema></w:types>
<w:message name="M"><w:part name="p" element="t:E"/></w:message>
<w:portType name="P"><w:operation name="O"><w:input message="t:M"/></w:operation></w:portType>
<w:binding name="B" type="t:P"><s:binding/><w:operation name="O"/></w:binding>
</w:definitions>"#,
        )
        .unwrap();
        let c = load(&d.join("s.wsdl"), &Catalog::default()).unwrap();
        let link = |t: usize| c.file_url(t);
        let standalone = String::from_utf8(c.inline_schema_document(0, 0, &link)).unwrap();
        let xsd_url = super::file_url(&crate::wsdl::uri::normalize(
            &std::path::absolute(d.join("t y.xsd")).unwrap(),
        ));
        assert!(xsd_url.ends_with("/t%20y.xsd"), "{xsd_url}");
        assert_eq!(
            standalone,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xs:schema \
                 xmlns:w=\"http://schemas.xmlsoap.org/wsdl/\" \
                 xmlns:s=\"http://schemas.xmlsoap.org/wsdl/soap/\" \
                 xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:y=\"urn:ty\" \
                 targetNamespace=\"urn:t\" xmlns:t=\"urn:t\"><xs:import namespace=\"urn:ty\" \
                 schemaLocation=\"{xsd_url}\"/>\n<xs:element name=\"E\" type=\"y:Y\"/></xs:schema>"
            )
        );
        let local = String::from_utf8(c.rendered(0, &|t| format!("{t}.xsd"))).unwrap();
        assert!(local.contains("schemaLocation=\"1.xsd\""));
        assert!(Path::new(&c.documents[1].path).exists());
    }
}
