//! The provider's answer back to the consumer: parsed, its signature verified if the
//! service requires one, a provider's fault relayed with the exchange id, otherwise
//! validated, mapped back and signed, on one thread (libxml2 documents are not `Send`).

use http::StatusCode;

use crate::model::SoapVersion;
use crate::registry::{Gateway, Service};
use crate::soap::envelope;

use super::{map, relay, sign, validate, PipelineError};
use crate::net::forward::{ForwardError, ProviderAnswer};

/// The answer to send.
pub struct Answer {
    pub version: SoapVersion,
    pub status: StatusCode,
    pub envelope: Vec<u8>,
    /// Already signed (or left unsigned by policy) on the thread that built it.
    pub signed: bool,
    /// The answer mapping's name and version, if one applied.
    pub mapping: Option<String>,
}

/// parse -> verify the provider -> relay its fault, or validate -> map back -> sign.
pub fn back(
    gw: &Gateway,
    service: &Service,
    operation: usize,
    version: SoapVersion,
    provider: ProviderAnswer,
    exchange_id: &str,
) -> Result<Answer, PipelineError> {
    let op = &service.contract.operations[operation];
    let env = envelope::parse(provider.body, version, &gw.config.limits.xml())
        .map_err(|e| ForwardError::BadAnswer(e.to_string()))?;
    let policy = &service.config.security;
    if policy.verify_provider_answer {
        // The provider's own signature problem is a Receiver-side failure for the consumer.
        gw.security
            .verify_answer(
                &env,
                crate::wssec::Expect::Agency(&service.config.provider_agency),
            )
            .map_err(|e| {
                ForwardError::BadAnswer(format!("provider signature refused: {}", e.audit_reason()))
            })?;
    }
    let (status, payload, mapping) = if env.is_fault() {
        // The provider's own fault goes back as it was sent, with the exchange id added to
        // its detail (relay.rs), re-signed by the gateway.
        let status = if provider.status.is_client_error() || provider.status.is_server_error() {
            provider.status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        let fault = relay::provider_fault(version, &env.payload_document(), exchange_id);
        (status, fault, None)
    } else if !provider.status.is_success() {
        return Err(ForwardError::BadAnswer(format!(
            "HTTP {} without a SOAP fault",
            provider.status
        ))
        .into());
    } else {
        let payload = env.payload_document();
        validate::response(service, op, &env, &payload)?;
        let mapped = map::response(service, op, payload)?;
        (StatusCode::OK, mapped.payload, mapped.mapping)
    };
    // Signed here, on the thread that built it, to save a second trip.
    let envelope = envelope::build(version, &[], &payload);
    let envelope = sign::answer(&gw.security, policy.sign_answers, envelope)?;
    Ok(Answer {
        version,
        status,
        envelope,
        signed: true,
        mapping,
    })
}
