//! Inbound verification, cheap checks first and cryptography last (docs/SECURITY.md, R6 to
//! R13; the `// Rn` comments below name each rule):
//! structure, unique IDs, the one Security header, the Timestamp, the SignedInfo
//! allow-list, the references resolving to the actual Body and Timestamp (wrapping),
//! the key reference and the certificate's trust, then libxmlsec1's digests and value.

use chrono::{DateTime, Utc};
use openssl::hash::{hash, MessageDigest};
use openssl::x509::X509;

use super::dom::{self, DomError};
use super::ffi::{DsigCtx, Key, Status};
use super::policy::{self, Allowed};
use super::timestamp::{self, Rules};
use super::token;
use super::trust::{CertIdentity, TrustStore};
use super::WssError;
use crate::libxml2::Elem;
use crate::model::SoapVersion;
use crate::xml::{ns, QName};

/// What a successful verification established.
#[derive(Debug)]
pub struct Checked {
    pub identity: CertIdentity,
    pub certificate: X509,
    /// Hex SHA-256 of the decoded SignatureValue (the replay key).
    pub replay_key: String,
    pub retention: std::time::Duration,
    /// The verified `wsu:Created`.
    pub created: DateTime<Utc>,
    /// The `wsu:Id` (or `Id`) of the verified Body.
    pub body_id: String,
    /// For each header block, in document order: whether the signature covers it.
    pub signed_headers: Vec<bool>,
}

/// Everything verification needs from the engine.
pub struct Context<'a> {
    pub trust: &'a TrustStore,
    pub allowed: &'a Allowed,
    pub rules: Rules,
    pub now: DateTime<Utc>,
}

fn invalid(m: &str) -> WssError {
    WssError::InvalidSecurity(m.to_string())
}

fn not_covered(m: &str) -> WssError {
    WssError::FailedCheck(m.to_string())
}

impl From<DomError> for WssError {
    fn from(e: DomError) -> Self {
        WssError::InvalidSecurity(e.to_string())
    }
}

/// True when a header block is addressed to the receiver (no actor/role, `next`, or the
/// ultimate receiver): SOAP 1.1 §4.2.2, SOAP 1.2 Part 1 §5.2.2; WSS 1.1 §6.1 allows one
/// Security header per actor.
fn targets_receiver(e: Elem<'_>, version: SoapVersion) -> bool {
    match version {
        SoapVersion::V11 => e
            .attr(Some(ns::SOAP11_ENV), "actor")
            .is_none_or(|a| a == "http://schemas.xmlsoap.org/soap/actor/next"),
        SoapVersion::V12 => e.attr(Some(ns::SOAP12_ENV), "role").is_none_or(|r| {
            r == "http://www.w3.org/2003/05/soap-envelope/role/next"
                || r == "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
        }),
    }
}

/// Verifies a whole message. `payload` is the Body child the caller's own scan found
/// (cross-checked, so both parsers agree on what is forwarded); `signed_headers` are the
/// header blocks the policy requires to be signed.
pub fn verify(
    cx: &Context<'_>,
    bytes: &[u8],
    version: SoapVersion,
    payload: Option<&QName>,
    signed_headers: &[(String, String)],
) -> Result<Checked, WssError> {
    let doc = dom::parse(bytes)?;
    let ids = dom::index_ids(&doc)?;

    // R6: Envelope = optional Header, then exactly one Body, nothing else.
    let env_ns = version.envelope_ns();
    let root = doc.root().ok_or_else(|| invalid("empty message"))?;
    if !root.is(env_ns, "Envelope") {
        return Err(invalid("the root element is not a SOAP Envelope"));
    }
    let mut parts = root.children();
    let mut first = parts.next();
    let header = first.filter(|e| e.is(env_ns, "Header"));
    if header.is_some() {
        first = parts.next();
    }
    let body = first
        .filter(|e| e.is(env_ns, "Body"))
        .ok_or_else(|| invalid("the Envelope must hold an optional Header, then one Body"))?;
    if parts.next().is_some() {
        return Err(invalid("the Envelope must hold exactly one Body"));
    }
    let mut body_kids = body.children();
    let body_child = body_kids.next();
    if body_kids.next().is_some() {
        return Err(invalid("the Body must hold exactly one element"));
    }
    if let (Some(expected), Some(child)) = (payload, body_child) {
        if !child.is(&expected.ns, &expected.local) {
            return Err(invalid(
                "the Body does not hold the element the gateway routed on",
            ));
        }
    }

    // R7: exactly one Security header for the gateway.
    let header = header.ok_or_else(|| invalid("a wsse:Security header is required"))?;
    let mut securities = header
        .children()
        .filter(|h| h.is(ns::WSSE, "Security") && targets_receiver(*h, version));
    let security = securities
        .next()
        .ok_or_else(|| invalid("a wsse:Security header is required"))?;
    if securities.next().is_some() {
        return Err(invalid(
            "more than one wsse:Security header for the gateway",
        ));
    }
    let mut ts = None;
    let mut sig = None;
    for c in security.children() {
        if c.is(ns::WSU, "Timestamp") {
            if ts.replace(c).is_some() {
                return Err(invalid("more than one wsu:Timestamp"));
            }
        } else if c.is(ns::DS, "Signature") {
            if sig.replace(c).is_some() {
                return Err(invalid("more than one ds:Signature"));
            }
        } else if !c.is(ns::WSSE, "BinarySecurityToken") {
            return Err(WssError::UnsupportedSecurityToken(format!(
                "unexpected {{{}}}{} in the Security header",
                c.ns(),
                c.local()
            )));
        }
    }
    let ts = ts.ok_or_else(|| invalid("a signed wsu:Timestamp is required"))?;
    let sig = sig.ok_or_else(|| invalid("a ds:Signature is required"))?;

    // R12: time, before any cryptography.
    let window = timestamp::check(ts, &cx.rules, cx.now)?;

    // R8: the allow-list.
    let si = policy::check(sig, cx.allowed)?;

    // R9: references resolve, by registered ID, to the actual Body and Timestamp.
    let mut targets = Vec::new();
    for id in &si.references {
        let e = ids
            .element(id)
            .ok_or_else(|| not_covered("a reference points to no element of the message"))?;
        if e.attr(Some(ns::WSU), "Id").as_deref() != Some(id.as_str())
            && e.attr(None, "Id").as_deref() != Some(id.as_str())
        {
            return Err(not_covered("references must use wsu:Id or Id attributes"));
        }
        if e == root || e == header || e.is_within(sig) {
            return Err(not_covered(
                "a reference points to an element that cannot be signed",
            ));
        }
        targets.push(e);
    }
    if !targets.contains(&body) {
        return Err(not_covered("the signature does not cover the SOAP Body"));
    }
    if !targets.contains(&ts) {
        return Err(not_covered(
            "the signature does not cover the wsu:Timestamp",
        ));
    }
    for (hns, hlocal) in signed_headers {
        let blocks: Vec<Elem<'_>> = header.children().filter(|h| h.is(hns, hlocal)).collect();
        if blocks.is_empty() {
            return Err(not_covered(&format!(
                "the header {{{hns}}}{hlocal} is required and must be signed"
            )));
        }
        if blocks.iter().any(|b| !targets.contains(b)) {
            return Err(not_covered(&format!(
                "the signature does not cover the header {{{hns}}}{hlocal}"
            )));
        }
    }
    // R4: exclusive C14N drops comments, so none may hide in signed content.
    if targets.iter().any(|t| t.contains_comment()) {
        return Err(invalid("comments are not allowed inside signed elements"));
    }

    // R10, R11: the key, from a trusted certificate.
    let token = token::resolve(si.key_info, security, &ids, cx.trust)?;
    let (cert, identity) = cx.trust.check(token)?;

    // R13: digests and signature value.
    let unusable = || WssError::InvalidSecurityToken("the certificate's key cannot be used".into());
    let public = cert
        .public_key()
        .map_err(|e| unusable().with_detail(e.to_string()))?;
    let key = Key::from_pkey(&public).map_err(|e| unusable().with_detail(e))?;
    let mut ctx =
        DsigCtx::new(&cx.allowed.signature, &cx.allowed.digest).map_err(WssError::Signing)?;
    match ctx.verify(sig, key) {
        Ok(Status::Valid) => {}
        Ok(Status::Invalid) => {
            // libxmlsec1's own account (which digest or the value) is for the audit record.
            return Err(WssError::FailedCheck(
                "the signature or a digest does not match the message".into(),
            )
            .with_detail(format!("libxmlsec1: {}", super::ffi::last_error())));
        }
        Err(detail) => {
            log::debug!("signature check failed: {detail}");
            return Err(WssError::FailedCheck(
                "the signature could not be checked with the referenced certificate".into(),
            )
            .with_detail(detail));
        }
    }

    let value = token::decode_b64(&si.signature_value.text())
        .ok_or_else(|| invalid("SignatureValue is not base64"))?;
    let replay_key =
        hex::encode(hash(MessageDigest::sha256(), &value).map_err(|e| {
            invalid("the signature value cannot be hashed").with_detail(e.to_string())
        })?);
    // The ID the signature named the Body by (an NCName, checked by the policy), not
    // another ID-like attribute the Body may also carry.
    let signed_headers = header.children().map(|h| targets.contains(&h)).collect();
    let body_id = si
        .references
        .iter()
        .zip(&targets)
        .find(|(_, t)| **t == body)
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    Ok(Checked {
        identity,
        certificate: cert,
        replay_key,
        retention: timestamp::retention(&window, &cx.rules, cx.now),
        created: window.created,
        body_id,
        signed_headers,
    })
}
