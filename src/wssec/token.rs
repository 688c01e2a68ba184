//! From `ds:KeyInfo` to the certificate whose key must have made the signature
//! (X.509 Token Profile 1.1 §3.2; docs/SECURITY.md, R10; libxmlsec1 does not follow
//! `wsse:SecurityTokenReference`, so we resolve it: docs/LIBRARIES.md, "libxmlsec1 does not
//! follow SecurityTokenReference").
//!
//! Accepted: a direct `wsse:Reference` to a `wsse:BinarySecurityToken` (X509v3) in the same
//! Security header; a `wsse:KeyIdentifier` carrying the certificate itself (X509v3), or
//! naming a registered agency certificate by X509SubjectKeyIdentifier or ThumbprintSHA1; an
//! `ds:X509Data/ds:X509IssuerSerial` naming a registered agency certificate. Refused:
//! `ds:KeyValue`, `ds:KeyName`, `ds:RetrievalMethod`, anything else in KeyInfo.

use base64::Engine as _;
use openssl::x509::X509;

use super::dom::Ids;
use super::trust::TrustStore;
use super::WssError;
use crate::libxml2::Elem;
use crate::xml::ns;

pub const X509V3: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
pub const SKI: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier";
pub const THUMBPRINT: &str =
    "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1";
pub const BASE64: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

fn unsupported(m: &str) -> WssError {
    WssError::UnsupportedSecurityToken(m.to_string())
}

fn invalid(m: &str) -> WssError {
    WssError::InvalidSecurityToken(m.to_string())
}

fn unavailable(m: &str) -> WssError {
    WssError::SecurityTokenUnavailable(m.to_string())
}

/// Base64 with line breaks and spaces (as clients write it).
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    if !text.bytes().any(|b| b.is_ascii_whitespace()) {
        return b64.decode(text).ok();
    }
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    b64.decode(compact).ok()
}

fn encoding_ok(e: Elem<'_>) -> bool {
    e.attr(None, "EncodingType").is_none_or(|t| t == BASE64)
}

/// The certificate KeyInfo designates: carried in the message (DER, not parsed yet, so
/// that the trust store's cache can skip parsing), or registered in the configuration.
pub enum Token {
    Der(Vec<u8>),
    Registered(X509),
}

/// Resolves KeyInfo to a certificate. `security` is the gateway's Security header.
pub fn resolve(
    key_info: Elem<'_>,
    security: Elem<'_>,
    ids: &Ids<'_>,
    trust: &TrustStore,
) -> Result<Token, WssError> {
    let mut kids = key_info.children();
    let str_ = kids
        .next()
        .ok_or_else(|| unavailable("ds:KeyInfo is empty"))?;
    if kids.next().is_some() || !str_.is(ns::WSSE, "SecurityTokenReference") {
        return Err(unsupported(
            "ds:KeyInfo must hold exactly one wsse:SecurityTokenReference (no KeyValue, KeyName or RetrievalMethod)",
        ));
    }
    let mut refs = str_.children();
    let r = refs
        .next()
        .ok_or_else(|| unavailable("wsse:SecurityTokenReference is empty"))?;
    if refs.next().is_some() {
        return Err(unsupported(
            "wsse:SecurityTokenReference must hold exactly one reference",
        ));
    }
    if r.is(ns::WSSE, "Reference") {
        let uri = r
            .attr(None, "URI")
            .ok_or_else(|| invalid("wsse:Reference without URI"))?;
        if let Some(vt) = r.attr(None, "ValueType") {
            if vt != X509V3 {
                return Err(unsupported("only X509v3 tokens are accepted"));
            }
        }
        let id = uri
            .strip_prefix('#')
            .ok_or_else(|| unavailable("wsse:Reference must point into the message (#id)"))?;
        let bst = ids
            .element(id)
            .ok_or_else(|| unavailable("the referenced security token is not in the message"))?;
        if !bst.is(ns::WSSE, "BinarySecurityToken") || bst.parent() != Some(security) {
            return Err(unavailable(
                "the reference must point to a wsse:BinarySecurityToken in the same Security header",
            ));
        }
        if bst.attr(None, "ValueType").as_deref() != Some(X509V3) || !encoding_ok(bst) {
            return Err(unsupported(
                "only base64 X509v3 BinarySecurityTokens are accepted",
            ));
        }
        let der = decode_b64(&bst.text()).ok_or_else(|| invalid("the token is not base64"))?;
        return Ok(Token::Der(der));
    }
    if r.is(ns::WSSE, "KeyIdentifier") {
        let vt = r.attr(None, "ValueType").unwrap_or_default();
        if !encoding_ok(r) {
            return Err(unsupported("KeyIdentifier must be base64"));
        }
        let bytes = decode_b64(&r.text()).ok_or_else(|| invalid("KeyIdentifier is not base64"))?;
        return match vt.as_str() {
            X509V3 => Ok(Token::Der(bytes)),
            SKI => trust.by_ski(&bytes).map(Token::Registered).ok_or_else(|| {
                unavailable("no registered certificate has this subject key identifier")
            }),
            THUMBPRINT => trust
                .by_thumbprint(&bytes)
                .map(Token::Registered)
                .ok_or_else(|| unavailable("no registered certificate has this thumbprint")),
            _ => Err(unsupported("unsupported KeyIdentifier ValueType")),
        };
    }
    if r.is(ns::DS, "X509Data") {
        let mut serial = None;
        let mut embedded = None;
        for c in r.children() {
            if c.is(ns::DS, "X509IssuerSerial") && serial.is_none() {
                let name = c.children().find(|e| e.is(ns::DS, "X509IssuerName"));
                let number = c.children().find(|e| e.is(ns::DS, "X509SerialNumber"));
                match (name, number) {
                    (Some(n), Some(s)) => serial = Some((n.text(), s.text())),
                    _ => return Err(invalid("incomplete X509IssuerSerial")),
                }
            } else if c.is(ns::DS, "X509Certificate") && embedded.is_none() {
                embedded = Some(
                    decode_b64(&c.text())
                        .ok_or_else(|| invalid("X509Certificate is not base64"))?,
                );
            } else {
                return Err(unsupported("unsupported content in ds:X509Data"));
            }
        }
        let (issuer, number) =
            serial.ok_or_else(|| unsupported("ds:X509Data must name X509IssuerSerial"))?;
        let cert = trust
            .by_issuer_serial(&issuer, &number)
            .ok_or_else(|| unavailable("no registered certificate has this issuer and serial"))?;
        if let Some(der) = embedded {
            // Key substitution: an embedded certificate must be the registered one.
            if cert.to_der().ok().as_deref() != Some(der.as_slice()) {
                return Err(invalid(
                    "the embedded certificate differs from the one named by issuer and serial",
                ));
            }
        }
        return Ok(Token::Registered(cert));
    }
    Err(unsupported("unsupported security token reference"))
}
