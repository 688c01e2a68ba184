//! The allow-list applied to `ds:Signature` before any cryptography (docs/SECURITY.md, R8).
//!
//! Everything not listed is refused: exclusive C14N only (with an optional
//! `InclusiveNamespaces PrefixList`, as WSS4J sends), RSA/ECDSA with SHA-256 or better,
//! a small number of references, each a bare `#id`, transforms only exc-C14N and
//! enveloped-signature, SHA-256+ digests, no `ds:Object`/`ds:Manifest`, no XPath, XSLT or
//! XPointer (wrapping and denial of service), no HMAC (CVE-2009-0217).

use super::config::{DIGEST_ALGORITHMS, SIGNATURE_ALGORITHMS};
use super::ffi::{DigestAlg, SigAlg};
use super::WssError;
use crate::libxml2::Elem;
use crate::xml::ns;

pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// The checked content of a Signature: what the crypto step may rely on.
#[derive(Debug)]
pub struct SignedInfo<'d> {
    /// `#id` targets, without the `#`, in document order.
    pub references: Vec<String>,
    pub signature_value: Elem<'d>,
    pub key_info: Elem<'d>,
}

/// What the policy accepts, resolved from `[security.algorithms]`.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub signature: Vec<SigAlg>,
    pub digest: Vec<DigestAlg>,
    pub max_references: usize,
}

const USE_SIGNATURE: &str =
    "use http://www.w3.org/2001/04/xmldsig-more#rsa-sha256 (or #ecdsa-sha256)";
const USE_DIGEST: &str = "use http://www.w3.org/2001/04/xmlenc#sha256";

fn unsupported(msg: String) -> WssError {
    WssError::UnsupportedAlgorithm(msg)
}

fn invalid(msg: &str) -> WssError {
    WssError::InvalidSecurity(msg.to_string())
}

impl Allowed {
    fn signature_alg(&self, uri: &str) -> Result<SigAlg, WssError> {
        let known = SIGNATURE_ALGORITHMS.iter().find(|(_, u, _)| *u == uri);
        match known {
            Some((_, _, a)) if self.signature.contains(a) => Ok(*a),
            _ => Err(unsupported(format!(
                "signature algorithm {} is not accepted; {USE_SIGNATURE}",
                shorten(uri)
            ))),
        }
    }

    fn digest_alg(&self, uri: &str) -> Result<DigestAlg, WssError> {
        let known = DIGEST_ALGORITHMS.iter().find(|(_, u, _)| *u == uri);
        match known {
            Some((_, _, a)) if self.digest.contains(a) => Ok(*a),
            _ => Err(unsupported(format!(
                "digest algorithm {} is not accepted; {USE_DIGEST}",
                shorten(uri)
            ))),
        }
    }
}

/// Peer-supplied text going into a fault string: bounded, so it cannot flood a log.
fn shorten(s: &str) -> String {
    let s: String = s.chars().take(100).collect();
    s.replace(|c: char| c.is_control(), "?")
}

fn algorithm(e: Elem<'_>) -> Result<String, WssError> {
    e.attr(None, "Algorithm")
        .ok_or_else(|| invalid("an algorithm element lacks its Algorithm attribute"))
}

/// Children allowed under an exc-C14N method or transform: one `InclusiveNamespaces`.
fn check_c14n_children(e: Elem<'_>) -> Result<(), WssError> {
    let mut n = 0;
    for c in e.children() {
        n += 1;
        if n > 1 || !c.is(EXC_C14N, "InclusiveNamespaces") || c.children().next().is_some() {
            return Err(invalid("unexpected content in a canonicalization element"));
        }
    }
    Ok(())
}

/// Checks a `ds:Signature` element against the allow-list.
pub fn check<'d>(signature: Elem<'d>, allowed: &Allowed) -> Result<SignedInfo<'d>, WssError> {
    let mut kids = signature.children();
    let signed_info = kids
        .next()
        .filter(|e| e.is(ns::DS, "SignedInfo"))
        .ok_or_else(|| invalid("ds:Signature must start with ds:SignedInfo"))?;
    let signature_value = kids
        .next()
        .filter(|e| e.is(ns::DS, "SignatureValue"))
        .ok_or_else(|| invalid("ds:SignatureValue is missing"))?;
    let key_info = kids
        .next()
        .filter(|e| e.is(ns::DS, "KeyInfo"))
        .ok_or_else(|| {
            WssError::SecurityTokenUnavailable(
                "ds:KeyInfo with a wsse:SecurityTokenReference is required".into(),
            )
        })?;
    if kids.next().is_some() {
        // ds:Object (and through it ds:Manifest) is never needed for WS-Security.
        return Err(invalid(
            "ds:Object is not allowed in a WS-Security signature",
        ));
    }

    let mut si = signed_info.children();
    let c14n = si
        .next()
        .filter(|e| e.is(ns::DS, "CanonicalizationMethod"))
        .ok_or_else(|| invalid("ds:CanonicalizationMethod is missing"))?;
    let c14n_alg = algorithm(c14n)?;
    if c14n_alg != EXC_C14N {
        return Err(unsupported(format!(
            "canonicalization {} is not accepted; use {EXC_C14N}",
            shorten(&c14n_alg)
        )));
    }
    check_c14n_children(c14n)?;
    let method = si
        .next()
        .filter(|e| e.is(ns::DS, "SignatureMethod"))
        .ok_or_else(|| invalid("ds:SignatureMethod is missing"))?;
    let method_alg = algorithm(method)?;
    allowed.signature_alg(&method_alg)?;
    if method.children().next().is_some() {
        // HMACOutputLength and friends: nothing may parameterise the signature method.
        return Err(unsupported(format!(
            "parameters on the signature method are not accepted; {USE_SIGNATURE}"
        )));
    }

    let mut references = Vec::new();
    for r in si {
        if !r.is(ns::DS, "Reference") {
            return Err(invalid("unexpected element in ds:SignedInfo"));
        }
        if references.len() == allowed.max_references {
            return Err(invalid("too many references in ds:SignedInfo"));
        }
        let uri = r
            .attr(None, "URI")
            .ok_or_else(|| invalid("every ds:Reference needs a URI=\"#id\""))?;
        let id = uri
            .strip_prefix('#')
            .filter(|id| is_ncname(id))
            .ok_or_else(|| {
                invalid("references must be same-document `#id` URIs (no external URI, XPointer or whole-document reference)")
            })?;
        if references.iter().any(|x: &String| x == id) {
            return Err(invalid("two references to the same element"));
        }
        let mut parts = r.children();
        let mut next = parts.next();
        if let Some(t) = next.filter(|e| e.is(ns::DS, "Transforms")) {
            let mut count = 0;
            for tr in t.children() {
                count += 1;
                if !tr.is(ns::DS, "Transform") || count > 2 {
                    return Err(invalid("unexpected content in ds:Transforms"));
                }
                let alg = algorithm(tr)?;
                match alg.as_str() {
                    EXC_C14N => check_c14n_children(tr)?,
                    ENVELOPED if tr.children().next().is_none() => {}
                    other => {
                        return Err(unsupported(format!(
                            "transform {} is not accepted; use {EXC_C14N}",
                            shorten(other)
                        )))
                    }
                }
            }
            next = parts.next();
        }
        let dm = next
            .filter(|e| e.is(ns::DS, "DigestMethod"))
            .ok_or_else(|| invalid("ds:DigestMethod is missing"))?;
        allowed.digest_alg(&algorithm(dm)?)?;
        parts
            .next()
            .filter(|e| e.is(ns::DS, "DigestValue"))
            .ok_or_else(|| invalid("ds:DigestValue is missing"))?;
        if parts.next().is_some() {
            return Err(invalid("unexpected element in ds:Reference"));
        }
        references.push(id.to_string());
    }
    if references.is_empty() {
        return Err(invalid("ds:SignedInfo has no reference"));
    }
    Ok(SignedInfo {
        references,
        signature_value,
        key_info,
    })
}

/// What a `#id` may be: an NCName (XML-DSig §4.4.3.3 bare-name XPointer, XPointer
/// Framework §3.2), of a sane length.
fn is_ncname(s: &str) -> bool {
    s.len() <= 256 && crate::xml::wellformed::is_ncname(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ncnames() {
        assert!(is_ncname("id-1.a_b"));
        assert!(!is_ncname("xpointer(/)"));
        assert!(!is_ncname(""));
        assert!(!is_ncname("1abc"));
    }
}
