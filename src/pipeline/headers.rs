//! The headers stage: which of the caller's header blocks travel on to the provider.
//!
//! The gateway signs what it forwards, so every block inside that envelope reads to the
//! provider as vouched for by the gateway. Only two kinds of block earn that: those the
//! caller's verified signature covers (a `ds:Reference` to the block itself), and those
//! the service names in `[services.security] forward_unsigned_headers`. Every other
//! block is dropped, and the audit record lists what was (a `wsa:Action` naming another
//! operation must not reach the provider as if the caller had signed it).
//!
//! A dropped block the caller marked `mustUnderstand` would change what the caller asked
//! for without telling it (SOAP 1.1 §4.2.3, SOAP 1.2 Part 1 §5.2.3: such a block must be
//! processed, or the message faulted): that message is refused with a MustUnderstand fault
//! naming the block. The caller's Security header for the gateway is the gateway's business
//! (removed, or re-addressed when `forward_consumer_security` is on); blocks in the
//! gateway's own namespace (`lt:Exchange`) are never taken from a caller, since the gateway
//! writes its own.

use crate::pipeline::PipelineError;
use crate::soap::envelope::{Envelope, HeaderBlock};
use crate::wssec::{Caller, ServicePolicy, Verified, WssError};
use crate::xml::{ns, QName};

#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// Carries the block's name for the fault's `NotUnderstood` (SOAP 1.2 Part 1 §5.4.8).
    #[error("header {0} is mandatory (mustUnderstand) but not signed by the caller, and the service does not forward it unsigned")]
    MustUnderstand(QName),
}

/// The blocks to forward, each a standalone element, and the names of those dropped.
#[derive(Debug, Default)]
pub struct Selected {
    pub blocks: Vec<Vec<u8>>,
    pub dropped: Vec<QName>,
}

impl Selected {
    /// What the audit record keeps about the dropped blocks; `None` when none was.
    pub fn audit_note(&self) -> Option<String> {
        if self.dropped.is_empty() {
            return None;
        }
        let names: Vec<String> = self.dropped.iter().map(QName::to_string).collect();
        Some(format!(
            "header blocks not forwarded (not signed by the caller, not allowed by the service): {}",
            names.join(", ")
        ))
    }
}

/// Chooses the blocks of `env` to forward. `keep_consumer_security`: the caller's Security
/// header goes on, re-addressed (the service's `forward_consumer_security`, no mapping).
pub fn select(
    env: &Envelope,
    caller: &Caller,
    policy: &ServicePolicy,
    keep_consumer_security: bool,
) -> Result<Selected, PipelineError> {
    // An unsigned call (dangerous_accept_unsigned) has no block signed.
    let signed = match caller.verified().map(Verified::signed_headers) {
        Some(s) if s.len() != env.headers.len() => {
            // The two parsers must agree on the blocks, or "signed" would mean nothing.
            return Err(WssError::InvalidSecurity(
                "the header blocks differ between two readings of the message".into(),
            )
            .into());
        }
        Some(s) => s,
        None => &[],
    };
    let mut out = Selected::default();
    for (i, h) in env.headers.iter().enumerate() {
        let name = &h.span.name;
        if name.is(ns::WSSE, "Security") && h.targets_gateway {
            if keep_consumer_security {
                out.blocks
                    .extend(crate::wssec::consumer_security_for_provider(env, h));
            }
            continue;
        }
        if forwardable(h, signed.get(i).copied().unwrap_or(false), policy) {
            out.blocks.push(env.header_document(h));
        } else if h.must_understand && !reserved(name) {
            return Err(HeaderError::MustUnderstand(name.clone()).into());
        } else {
            out.dropped.push(name.clone());
        }
    }
    Ok(out)
}

fn forwardable(h: &HeaderBlock, signed: bool, policy: &ServicePolicy) -> bool {
    let name = &h.span.name;
    !reserved(name) && (signed || policy.forward_unsigned_headers.contains(name))
}

/// Blocks no caller can have forwarded: the gateway's own vocabulary, and Security headers
/// for other actors (one signature per Security header, WSS 1.1 §6.1, none of them ours).
fn reserved(name: &QName) -> bool {
    name.ns == ns::LIENTHONG || name.is(ns::WSSE, "Security")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgencyCode, SoapVersion};
    use bytes::Bytes;

    const WSA: &str = "http://www.w3.org/2005/08/addressing";

    fn envelope(headers: &str) -> Envelope {
        let text = format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="{WSA}"><s:Header>{headers}</s:Header><s:Body><a/></s:Body></s:Envelope>"#
        );
        crate::soap::envelope::parse(Bytes::from(text), SoapVersion::V11, &Default::default())
            .unwrap()
    }

    /// A caller whose signature covers these blocks.
    fn verified(signed: Vec<bool>) -> Caller {
        let consumer = AgencyCode::parse("000.00.00.H38").unwrap();
        Caller::Verified(Verified::for_tests(consumer, signed))
    }

    /// An unsigned caller: no block is signed.
    fn unsigned(env: &Envelope, policy: &ServicePolicy) -> Selected {
        let consumer = AgencyCode::parse("000.00.00.H38").unwrap();
        let caller = Caller::Declared(crate::wssec::Declared::for_tests(consumer));
        select(env, &caller, policy, false).unwrap()
    }

    #[test]
    fn only_signed_or_allowed_blocks_go_on() {
        let env = envelope(
            "<wsa:Action>urn:other</wsa:Action><wsa:MessageID>m</wsa:MessageID><x:Trace xmlns:x=\"urn:x\"/>",
        );
        let policy = ServicePolicy {
            forward_unsigned_headers: vec![QName::new("urn:x", "Trace")],
            ..Default::default()
        };
        let out = select(&env, &verified(vec![false, true, false]), &policy, false).unwrap();
        assert_eq!(out.blocks.len(), 2);
        assert!(String::from_utf8_lossy(&out.blocks[0]).contains("MessageID"));
        assert_eq!(out.dropped, vec![QName::new(WSA, "Action")]);
        assert!(out.audit_note().unwrap().contains("Action"));

        // Unsigned call: nothing is signed.
        let out = unsigned(&env, &policy);
        assert_eq!(out.blocks.len(), 1);
        assert_eq!(out.dropped.len(), 2);
        // Disagreement between the two readings fails closed.
        assert!(select(&env, &verified(vec![true]), &policy, false).is_err());
    }

    /// With the default policy and these blocks signed.
    fn select_signed(env: &Envelope, signed: Vec<bool>) -> Result<Selected, PipelineError> {
        select(env, &verified(signed), &Default::default(), false)
    }

    #[test]
    fn an_unsigned_mandatory_block_is_refused_and_caller_exchange_headers_dropped() {
        let env = envelope(r#"<wsa:Action s:mustUnderstand="1">urn:other</wsa:Action>"#);
        let err = select_signed(&env, vec![false]).unwrap_err();
        // The fault names the block (SOAP 1.2: in an env:NotUnderstood header).
        let fault = crate::soap::fault::Fault::from(&err);
        assert_eq!(fault.code, crate::soap::fault::FaultCode::MustUnderstand);
        assert_eq!(fault.not_understood, [QName::new(WSA, "Action")]);
        match err {
            PipelineError::Headers(HeaderError::MustUnderstand(q)) => {
                assert_eq!(q, QName::new(WSA, "Action"))
            }
            other => panic!("{other:?}"),
        }
        let env = envelope(&format!(
            r#"<lt:Exchange xmlns:lt="{}"><lt:Consumer>x</lt:Consumer></lt:Exchange>"#,
            ns::LIENTHONG
        ));
        let out = select_signed(&env, vec![true]).unwrap();
        assert!(out.blocks.is_empty());
        assert_eq!(out.dropped.len(), 1);
    }
}
