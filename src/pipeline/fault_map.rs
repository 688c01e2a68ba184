//! Every layer's error becomes a SOAP fault here, and only here: one `match` per layer's
//! typed error deciding the fault's class, subcode, reason, detail and HTTP status. What
//! the log and the audit record keep besides is [`PipelineError::audit_reason`].
//!
//! The layers below the pipeline (`wssec`, `schema`, `mapping`) return their own errors
//! and know nothing of faults (docs/DESIGN.md, "The layer rule"). A fault says only what
//! the caller can act on; why, and the shapes, are in docs/SECURITY.md, "What a fault says".

use http::StatusCode;

use crate::mapping::{Failure, MappingError};
use crate::net::forward::ForwardError;
use crate::pipeline::headers::HeaderError;
use crate::pipeline::receive::ReceiveError;
use crate::pipeline::{DeadlineError, PipelineError};
use crate::schema::{Direction, ValidationError};
use crate::soap::envelope::EnvelopeError;
use crate::soap::fault::{Fault, Subcode};
use crate::wssec::WssError;

impl From<&PipelineError> for Fault {
    fn from(e: &PipelineError) -> Self {
        use PipelineError as P;
        match e {
            P::Receive(r) => receive(r),
            P::Envelope(env) => match env {
                EnvelopeError::VersionMismatch(_) => Fault::version_mismatch(env.to_string()),
                EnvelopeError::MustUnderstand(blocks) => {
                    Fault::must_understand(env.to_string(), blocks.clone())
                }
                _ => Fault::sender(env.to_string()),
            },
            P::Dispatch(d) => Fault::sender(d.to_string()),
            P::Security(w) => security(w),
            P::Headers(h @ HeaderError::MustUnderstand(block)) => {
                Fault::must_understand(h.to_string(), vec![block.clone()])
            }
            P::Authorise(a) => {
                Fault::sender(a.to_string()).with_subcode(Subcode::lienthong("AccessDenied"))
            }
            P::Validate(v) => validation(v),
            P::Map(m) => mapping(m),
            P::Forward(f) => {
                let status = match f {
                    ForwardError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    _ => StatusCode::BAD_GATEWAY,
                };
                provider_unavailable(f.to_string(), status)
            }
            P::Deadline(d) => match d {
                // RFC 9110 §15.5.9: the caller (or the gateway's checks of what it sent)
                // took longer than `[limits] request_timeout_ms`.
                DeadlineError::Request => {
                    Fault::sender(d.to_string()).with_status(StatusCode::REQUEST_TIMEOUT)
                }
                // RFC 9110 §15.6.5: the provider was being waited for; the caller is not
                // at fault, as with the service's own `timeout_ms`.
                DeadlineError::Provider => {
                    provider_unavailable(d.to_string(), StatusCode::GATEWAY_TIMEOUT)
                }
            },
            P::Audit(_) => Fault::receiver("the exchange could not be recorded; refused")
                .with_subcode(Subcode::lienthong("AuditUnavailable"))
                .with_status(StatusCode::SERVICE_UNAVAILABLE),
            P::Internal(_) => Fault::receiver("internal gateway error"),
        }
    }
}

fn receive(r: &ReceiveError) -> Fault {
    use ReceiveError as R;
    match r {
        R::UnknownService(_) => Fault::sender(r.to_string()).with_status(StatusCode::NOT_FOUND),
        R::TooLarge { .. } | R::InflateRatio { .. } => {
            Fault::sender(r.to_string()).with_status(StatusCode::PAYLOAD_TOO_LARGE)
        }
        R::MethodNotAllowed => {
            Fault::sender(r.to_string()).with_status(StatusCode::METHOD_NOT_ALLOWED)
        }
        R::Overloaded => {
            Fault::receiver(r.to_string()).with_status(StatusCode::SERVICE_UNAVAILABLE)
        }
        // RFC 9110 §15.5.16: the content type, its charset or the content coding is not
        // one accepted.
        R::UnsupportedMediaType { .. } | R::Charset(_) | R::UnsupportedEncoding(_) => {
            Fault::sender(r.to_string()).with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        }
        R::Read(_) | R::AmbiguousLength | R::BadGzip(_) => Fault::sender(r.to_string()),
    }
}

/// The provider did not answer usably: the Receiver's, with `lt:ProviderUnavailable`.
fn provider_unavailable(reason: String, status: StatusCode) -> Fault {
    Fault::receiver(reason)
        .with_subcode(Subcode::lienthong("ProviderUnavailable"))
        .with_status(status)
}

/// WSS 1.1 §12: one subcode per error; the gateway's own trouble (its replay cache, its
/// key) is the Receiver's and says nothing of internals.
pub fn security(e: &WssError) -> Fault {
    let sub = match e.kind() {
        // `kind()` never returns `Detailed`; it is listed to keep the match exhaustive.
        WssError::InvalidSecurity(_) | WssError::Replay(_) | WssError::Detailed { .. } => {
            "InvalidSecurity"
        }
        WssError::InvalidSecurityToken(_) => "InvalidSecurityToken",
        WssError::FailedAuthentication(_) => "FailedAuthentication",
        WssError::FailedCheck(_) => "FailedCheck",
        WssError::SecurityTokenUnavailable(_) => "SecurityTokenUnavailable",
        WssError::MessageExpired(_) => "MessageExpired",
        WssError::UnsupportedAlgorithm(_) => "UnsupportedAlgorithm",
        WssError::UnsupportedSecurityToken(_) => "UnsupportedSecurityToken",
        WssError::ReplayCacheUnavailable(_) => {
            return Fault::receiver("the gateway cannot check for replays at the moment")
        }
        WssError::Signing(_) => return Fault::receiver("the gateway could not sign its message"),
    };
    Fault::sender(e.kind().to_string()).with_subcode(Subcode::wsse(sub))
}

/// Which message failed validation decides who is at fault; only the caller's own
/// violations are listed to it.
pub fn validation(e: &ValidationError) -> Fault {
    match e {
        ValidationError::Invalid {
            direction: Direction::Request,
            violations,
        } => Fault::sender("the request does not match the service schema")
            .with_subcode(Subcode::lienthong("SchemaViolation"))
            .with_details(violations.clone()),
        ValidationError::Invalid {
            direction: Direction::Response,
            ..
        } => Fault::receiver("the provider's answer does not match the service schema")
            .with_subcode(Subcode::lienthong("InvalidProviderAnswer")),
    }
}

/// A request that cannot be mapped is the consumer's to fix (its values); an answer that
/// cannot be mapped back is the provider's, and its details stay in the log and audit. A
/// mapping that cannot run at all on a request already validated (`Failure::Input`: the
/// stylesheet, libxml2 or libxslt failed) is the gateway's, and its text (a library's)
/// stays in the log and audit too.
pub fn mapping(e: &MappingError) -> Fault {
    match e.direction {
        Direction::Request => {
            let details = match &e.failure {
                Failure::Output { violations } => violations.clone(),
                Failure::Input(_) => {
                    return Fault::receiver("the gateway could not map the request")
                        .with_subcode(Subcode::lienthong("MappingFailed"))
                }
                other => vec![other.to_string()],
            };
            Fault::sender("the request cannot be mapped to the provider's schema")
                .with_subcode(Subcode::lienthong("MappingFailed"))
                .with_details(details)
        }
        Direction::Response => {
            Fault::receiver("the provider's answer cannot be mapped to the consumer's schema")
                .with_subcode(Subcode::lienthong("MappingFailed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::fault::FaultCode;

    #[test]
    fn errors_map_to_wss_subcodes() {
        let f = security(&WssError::Replay("again".into()));
        assert_eq!(f.code, FaultCode::Sender);
        assert_eq!(f.code_label(), "wsse:InvalidSecurity");
        let f = security(&WssError::MessageExpired("old".into()));
        assert_eq!(f.code_label(), "wsse:MessageExpired");
        let f = security(&WssError::UnsupportedAlgorithm("sha1".into()));
        assert_eq!(f.code_label(), "wsse:UnsupportedAlgorithm");
        // The gateway's own trouble is the Receiver's, and says nothing of internals.
        let f = security(&WssError::ReplayCacheUnavailable("redis: refused".into()));
        assert_eq!(f.code, FaultCode::Receiver);
        assert!(!f.reason.contains("redis"));
        let f = security(&WssError::Signing("key".into()));
        assert_eq!(f.code, FaultCode::Receiver);
    }

    #[test]
    fn a_mapping_failure_lists_the_callers_problem_and_hides_the_providers() {
        let e = MappingError {
            mapping: "m@1".into(),
            direction: Direction::Request,
            failure: Failure::Missing { path: "/a".into() },
        };
        let f = mapping(&e);
        assert_eq!(f.code_label(), "lt:MappingFailed");
        assert_eq!(f.details, vec!["required value missing: /a".to_string()]);
        let e2 = MappingError {
            direction: Direction::Response,
            ..e
        };
        let f = mapping(&e2);
        assert_eq!(f.code, FaultCode::Receiver);
        assert!(f.details.is_empty());
    }

    #[test]
    fn the_gateways_own_failure_says_nothing_of_it() {
        let e = PipelineError::from(crate::pipeline::InternalError::UnknownOperation);
        let f = Fault::from(&e);
        assert_eq!(f.code, FaultCode::Receiver);
        assert_eq!(f.reason, "internal gateway error");
        assert_eq!(
            e.to_string(),
            "internal error: dispatched operation not in the contract"
        );
    }

    #[test]
    fn the_deadline_is_the_callers_only_before_anything_was_forwarded() {
        let f = Fault::from(&PipelineError::Deadline(DeadlineError::Request));
        assert_eq!(f.code, FaultCode::Sender);
        assert_eq!(f.status, Some(StatusCode::REQUEST_TIMEOUT));
        let f = Fault::from(&PipelineError::Deadline(DeadlineError::Provider));
        assert_eq!(f.code, FaultCode::Receiver);
        assert_eq!(f.code_label(), "lt:ProviderUnavailable");
        assert_eq!(f.status, Some(StatusCode::GATEWAY_TIMEOUT));
    }
}
