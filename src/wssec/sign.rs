//! What the gateway signs: every envelope it sends gets a `wsse:Security` header with its
//! certificate (BinarySecurityToken), a Timestamp, and a Signature over the Body, the
//! Timestamp and the `lt:Exchange` header when present, all by `wsu:Id`, exclusive C14N,
//! SHA-256 digests, RSA-SHA256 (or ECDSA-SHA256 for an EC key).
//!
//! docs/LIBRARIES.md, "The xmlsec template builder is SAML-shaped": the `ds:Signature`
//! template is written as XML inside the Security header and libxmlsec1 fills in the
//! values.

use std::path::Path;

use base64::Engine as _;
use bytes::Bytes;
use chrono::Utc;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::X509;

use super::config::SIGNATURE_ALGORITHMS;
use super::dom;
use super::ffi::{DigestAlg, DsigCtx, Key, SigAlg};
use super::policy::EXC_C14N;
use super::token::{BASE64, X509V3};
use super::WssError;
use crate::libxml2::Elem;
use crate::model::SoapVersion;
use crate::soap::envelope::{self, Envelope};
use crate::xml::limits::XmlLimits;
use crate::xml::{escape, ns};

const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// A private key with its certificate, loaded once (docs/LIBRARIES.md, "OpenSSL 3 loads
/// keys slowly").
pub struct Signer {
    key: PKey<Private>,
    cert: X509,
    cert_b64: String,
    method: (&'static str, SigAlg),
}

/// Options for one signature.
#[derive(Debug, Default, Clone)]
pub struct SignOptions {
    /// Keep this `wsu:Id` on the Body (so a forwarded consumer signature still resolves).
    pub body_id: Option<String>,
}

impl Signer {
    /// Loads a PEM key (optionally encrypted) and certificate.
    pub fn load(
        key_path: &Path,
        cert_path: &Path,
        passphrase: Option<&[u8]>,
        algorithm: Option<&str>,
    ) -> Result<Signer, String> {
        let pem = std::fs::read(key_path)
            .map_err(|e| format!("{}: cannot read: {e}", key_path.display()))?;
        let key = match passphrase {
            Some(p) => PKey::private_key_from_pem_passphrase(&pem, p),
            None => PKey::private_key_from_pem(&pem),
        }
        .map_err(|_| {
            format!(
                "{}: not a PEM private key{}",
                key_path.display(),
                if passphrase.is_some() {
                    " (or wrong passphrase)"
                } else {
                    " (encrypted? set [security] key_passphrase_env)"
                }
            )
        })?;
        let cert_pem = std::fs::read(cert_path)
            .map_err(|e| format!("{}: cannot read: {e}", cert_path.display()))?;
        let cert = X509::from_pem(&cert_pem)
            .map_err(|_| format!("{}: not a PEM certificate", cert_path.display()))?;
        Signer::new(key, cert, algorithm).map_err(|e| format!("{}: {e}", key_path.display()))
    }

    pub fn new(key: PKey<Private>, cert: X509, algorithm: Option<&str>) -> Result<Signer, String> {
        // A key built in memory through the legacy EC_KEY API lacks the provider parameters
        // libxmlsec1 1.2.37 asks OpenSSL 3 for (the curve order): re-decode it once.
        let key = if key.id() == Id::EC {
            let der = key.private_key_to_pkcs8().map_err(|e| e.to_string())?;
            PKey::private_key_from_pkcs8(&der).map_err(|e| e.to_string())?
        } else {
            key
        };
        let public = cert.public_key().map_err(|e| e.to_string())?;
        if !key.public_eq(&public) {
            return Err("the key does not belong to the certificate".into());
        }
        let default = match key.id() {
            Id::RSA => "rsa-sha256",
            Id::EC if key.bits() > 256 => "ecdsa-sha384",
            Id::EC => "ecdsa-sha256",
            _ => return Err("only RSA and EC keys can sign".into()),
        };
        let name = algorithm.unwrap_or(default);
        let (_, uri, alg) = SIGNATURE_ALGORITHMS
            .iter()
            .find(|(n, _, _)| *n == name && *n != "rsa-sha1")
            .ok_or_else(|| format!("unknown signing algorithm `{name}`"))?;
        let rsa_alg = matches!(
            alg,
            SigAlg::RsaSha256 | SigAlg::RsaSha384 | SigAlg::RsaSha512
        );
        if rsa_alg != (key.id() == Id::RSA) {
            return Err(format!("`{name}` does not fit the key type"));
        }
        let der = cert.to_der().map_err(|e| e.to_string())?;
        Ok(Signer {
            key,
            cert,
            cert_b64: base64::engine::general_purpose::STANDARD.encode(der),
            method: (uri, *alg),
        })
    }

    pub fn certificate(&self) -> &X509 {
        &self.cert
    }

    /// Signs a SOAP envelope (1.1 or 1.2). Existing header blocks are kept, except a
    /// Security header addressed to the recipient, which the gateway's replaces.
    pub fn sign(
        &self,
        envelope: &[u8],
        opts: &SignOptions,
        ttl: chrono::Duration,
    ) -> Result<Vec<u8>, WssError> {
        let fail = |m: String| WssError::Signing(m);
        // The gateway built this envelope from content it already parsed under the
        // configured limits; only structure matters here (libxml2 keeps its own bounds).
        let limits = XmlLimits {
            max_depth: 256,
            max_elements: usize::MAX,
            max_attributes: 4096,
            max_value_bytes: usize::MAX,
        };
        let env =
            parse_any(envelope, &limits).map_err(|e| fail(format!("not a SOAP envelope: {e}")))?;
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let body_id = opts
            .body_id
            .clone()
            .unwrap_or_else(|| format!("Body-{suffix}"));
        // The kept ID comes from the consumer: an NCName (as verification made sure), so
        // that it is a valid bare-name reference, and escaped anyway where it is written.
        if !crate::xml::wellformed::is_ncname(&body_id) {
            return Err(fail("the Body's wsu:Id is not an NCName".into()));
        }
        let ts_id = format!("TS-{suffix}");
        let bst_id = format!("X509-{suffix}");
        let mut refs = vec![body_id.clone(), ts_id.clone()];
        let mut headers: Vec<Vec<u8>> = Vec::new();
        for h in &env.headers {
            if h.span.name.is(ns::WSSE, "Security") && h.targets_gateway {
                continue;
            }
            let doc = env.header_document(h);
            if h.span.name.is(ns::LIENTHONG, "Exchange") {
                let id = format!("Exchange-{suffix}");
                headers.push(insert_attributes(
                    &doc,
                    &format!(r#" xmlns:wsu="{}" wsu:Id="{id}""#, ns::WSU),
                ));
                refs.push(id);
            } else {
                headers.push(doc);
            }
        }
        let (created, expires) = super::timestamp::stamp(Utc::now(), ttl);
        let env_ns = env.version.envelope_ns();
        let mut out = String::with_capacity(envelope.len() + 4096);
        out.push_str(&format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{env_ns}"><soap:Header><wsse:Security xmlns:wsse="{wsse}" xmlns:wsu="{wsu}" soap:mustUnderstand="{mu}"><wsse:BinarySecurityToken EncodingType="{BASE64}" ValueType="{X509V3}" wsu:Id="{bst_id}">{cert}</wsse:BinarySecurityToken><wsu:Timestamp wsu:Id="{ts_id}"><wsu:Created>{created}</wsu:Created><wsu:Expires>{expires}</wsu:Expires></wsu:Timestamp><ds:Signature xmlns:ds="{ds}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/><ds:SignatureMethod Algorithm="{method}"/>"#,
            wsse = ns::WSSE,
            wsu = ns::WSU,
            ds = ns::DS,
            mu = match env.version {
                SoapVersion::V11 => "1",
                SoapVersion::V12 => "true",
            },
            cert = self.cert_b64,
            method = self.method.0,
        ));
        // Where libxmlsec1's values go: each DigestValue in reference order, then the
        // SignatureValue (see `splice_values`).
        let mut holes = Vec::with_capacity(refs.len() + 1);
        for r in &refs {
            let r = escape::attr(r);
            out.push_str(&format!(
                r##"<ds:Reference URI="#{r}"><ds:Transforms><ds:Transform Algorithm="{EXC_C14N}"/></ds:Transforms><ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue>"##
            ));
            holes.push(out.len());
            out.push_str("</ds:DigestValue></ds:Reference>");
        }
        out.push_str("</ds:SignedInfo><ds:SignatureValue>");
        holes.push(out.len());
        out.push_str(&format!(
            r##"</ds:SignatureValue><ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#{bst_id}" ValueType="{X509V3}"/></wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature></wsse:Security>"##
        ));
        let mut bytes = out.into_bytes();
        for h in &headers {
            bytes.extend_from_slice(h);
        }
        bytes.extend_from_slice(
            format!(
                r#"</soap:Header><soap:Body xmlns:wsu="{}" wsu:Id="{}">"#,
                ns::WSU,
                escape::attr(&body_id)
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(strip_declaration(&env.payload_document()));
        bytes.extend_from_slice(b"</soap:Body></soap:Envelope>");

        let doc = dom::parse(&bytes).map_err(|e| fail(e.to_string()))?;
        // The document is ours: register exactly the IDs this signature references (no
        // walk of the payload, whose own ID-like attributes play no part here).
        let root = doc.root().ok_or_else(|| fail("template lost".into()))?;
        let mut parts = root.children();
        let header = parts.next().ok_or_else(|| fail("template lost".into()))?;
        let body = parts.next().ok_or_else(|| fail("template lost".into()))?;
        let security = header
            .children()
            .next()
            .ok_or_else(|| fail("template lost".into()))?;
        let mut signature = None;
        for e in security.children() {
            if e.is(ns::DS, "Signature") {
                signature = Some(e);
            } else {
                dom::register_id(&doc, e).map_err(|e| fail(e.to_string()))?;
            }
        }
        dom::register_id(&doc, body).map_err(|e| fail(e.to_string()))?;
        for h in header.children().skip(1) {
            if h.is(ns::LIENTHONG, "Exchange") {
                dom::register_id(&doc, h).map_err(|e| fail(e.to_string()))?;
            }
        }
        let signature = signature.ok_or_else(|| fail("template lost".into()))?;
        let mut ctx = DsigCtx::new(&[self.method.1], &[DigestAlg::Sha256]).map_err(fail)?;
        ctx.sign(signature, Key::from_pkey(&self.key).map_err(fail)?)
            .map_err(fail)?;
        Ok(splice_values(&bytes, &holes, signature).unwrap_or_else(|| doc.to_bytes()))
    }
}

/// The signed message as the bytes the tree was parsed from, with the values libxmlsec1
/// wrote into the tree (DigestValues, then SignatureValue) put into their empty elements.
///
/// Re-serialising the whole tree would cost about as much as parsing it. The result
/// parses to the very tree that was signed: the rest of the bytes are unchanged and the
/// values are base64 text, which needs no escaping. Anything else in a value (never
/// written by libxmlsec1) returns `None`, and the caller serialises the tree instead.
fn splice_values(bytes: &[u8], holes: &[usize], signature: Elem<'_>) -> Option<Vec<u8>> {
    let mut parts = signature.children();
    let signed_info = parts.next()?;
    let mut values: Vec<String> = signed_info
        .children()
        .filter(|r| r.is(ns::DS, "Reference"))
        .map(|r| r.children().last().map(|d| d.text()))
        .collect::<Option<_>>()?;
    values.push(parts.next()?.text());
    let plain = |v: &String| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n'))
    };
    if values.len() != holes.len() || !values.iter().all(plain) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() + values.iter().map(String::len).sum::<usize>());
    let mut at = 0;
    for (hole, value) in holes.iter().zip(&values) {
        out.extend_from_slice(&bytes[at..*hole]);
        out.extend_from_slice(value.as_bytes());
        at = *hole;
    }
    out.extend_from_slice(&bytes[at..]);
    Some(out)
}

impl Signer {
    /// Signs a document that already holds a `ds:Signature` template (the first one in
    /// document order), after registering its IDs: for interoperability checks and for
    /// tests that need signatures of unusual shape. Same-document references only.
    pub fn sign_template(&self, document: &[u8]) -> Result<Vec<u8>, WssError> {
        let fail = |m: String| WssError::Signing(m);
        let doc = dom::parse(document).map_err(|e| fail(e.to_string()))?;
        dom::index_ids(&doc).map_err(|e| fail(e.to_string()))?;
        let root = doc.root().ok_or_else(|| fail("empty document".into()))?;
        let signature = find_first(root, ns::DS, "Signature")
            .ok_or_else(|| fail("no ds:Signature template".into()))?;
        let all_sigs: Vec<SigAlg> = SIGNATURE_ALGORITHMS.iter().map(|(_, _, a)| *a).collect();
        let mut ctx = DsigCtx::new(
            &all_sigs,
            &[
                DigestAlg::Sha256,
                DigestAlg::Sha384,
                DigestAlg::Sha512,
                DigestAlg::Sha1,
            ],
        )
        .map_err(fail)?;
        ctx.sign(signature, Key::from_pkey(&self.key).map_err(fail)?)
            .map_err(fail)?;
        Ok(doc.to_bytes())
    }

    /// The certificate as base64 DER, as a BinarySecurityToken carries it.
    pub fn certificate_base64(&self) -> &str {
        &self.cert_b64
    }
}

/// Depth-first search with an explicit stack.
fn find_first<'d>(root: Elem<'d>, ns_uri: &str, local: &str) -> Option<Elem<'d>> {
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        if e.is(ns_uri, local) {
            return Some(e);
        }
        let kids: Vec<_> = e.children().collect();
        stack.extend(kids.into_iter().rev());
    }
    None
}

/// Parses an envelope whatever its SOAP version.
pub fn parse_any(bytes: &[u8], limits: &XmlLimits) -> Result<Envelope, envelope::EnvelopeError> {
    let b = Bytes::copy_from_slice(bytes);
    match envelope::parse(b.clone(), SoapVersion::V11, limits) {
        Err(envelope::EnvelopeError::VersionMismatch(_)) => {
            envelope::parse(b, SoapVersion::V12, limits)
        }
        other => other,
    }
}

fn strip_declaration(doc: &[u8]) -> &[u8] {
    let t = doc.trim_ascii_start();
    if t.starts_with(b"<?xml") {
        if let Some(end) = t.windows(2).position(|w| w == b"?>") {
            return t[end + 2..].trim_ascii_start();
        }
    }
    t
}

/// Inserts attribute text right after the element name of a standalone element.
pub fn insert_attributes(element: &[u8], attrs: &str) -> Vec<u8> {
    let start = element.iter().position(|&b| b == b'<').unwrap_or(0);
    let name_end = element[start + 1..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        .map(|p| start + 1 + p)
        .unwrap_or(element.len());
    let mut out = Vec::with_capacity(element.len() + attrs.len());
    out.extend_from_slice(&element[..name_end]);
    out.extend_from_slice(attrs.as_bytes());
    out.extend_from_slice(&element[name_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_body_id_is_an_ncname_written_escaped() {
        let (cert, key) = super::super::pki::new_ca("sign test").unwrap();
        let signer = Signer::new(key, cert, None).unwrap();
        let envelope = envelope::build(SoapVersion::V11, &[], br#"<p:X xmlns:p="urn:p">1</p:X>"#);
        let ttl = chrono::Duration::seconds(60);
        let keep = |id: &str| SignOptions {
            body_id: Some(id.into()),
        };
        let out = signer.sign(&envelope, &keep("Body-1"), ttl).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r##"<ds:Reference URI="#Body-1">"##), "{text}");
        for bad in [r#"B"/><x"#, "a&b", "1st", "a:b"] {
            assert!(
                matches!(
                    signer.sign(&envelope, &keep(bad), ttl),
                    Err(WssError::Signing(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn values_are_spliced_only_when_plain_base64() {
        let text = format!(
            r#"<ds:Signature xmlns:ds="{}"><ds:SignedInfo><ds:Reference><ds:DigestValue>{{d}}</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>{{s}}</ds:SignatureValue></ds:Signature>"#,
            ns::DS
        );
        let template = text.replace("{d}", "").replace("{s}", "");
        let holes = [
            template.find("</ds:DigestValue>").unwrap(),
            template.find("</ds:SignatureValue>").unwrap(),
        ];
        let filled = text.replace("{d}", "q1w+/=").replace("{s}", "AB\nCD");
        let doc = dom::parse(filled.as_bytes()).unwrap();
        let out = splice_values(template.as_bytes(), &holes, doc.root().unwrap()).unwrap();
        assert_eq!(out, filled.as_bytes());

        let odd = text.replace("{d}", "a&lt;b").replace("{s}", "AB");
        let doc = dom::parse(odd.as_bytes()).unwrap();
        assert!(splice_values(template.as_bytes(), &holes, doc.root().unwrap()).is_none());
    }
}
