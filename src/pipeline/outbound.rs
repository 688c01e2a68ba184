//! From a verified request to what is forwarded: authorise, validate, map, headers, sign,
//! on one thread (libxml2 documents are not `Send`).

use crate::model::AgencyCode;
use crate::registry::{Gateway, Service};
use crate::soap::envelope::{self, Envelope};
use crate::wssec::Caller;
use crate::xml::ns;

use super::{authorise, headers, map, sign, validate, PipelineError};

/// The request, ready to forward, and what the audit record keeps of how it was made.
pub struct Outbound {
    /// SOAPAction for the provider, as its WSDL declares it for the request's version:
    /// after a mapping, that of the operation whose request element the mapped payload
    /// is, since the provider dispatches on it.
    pub action: Option<String>,
    pub envelope: Vec<u8>,
    /// The request mapping's name and version, if one applied.
    pub mapping: Option<String>,
    /// The header blocks not forwarded.
    pub dropped_headers: Option<String>,
}

/// authorise -> validate -> map -> headers -> sign.
pub fn build(
    gw: &Gateway,
    service: &Service,
    env: &Envelope,
    operation: usize,
    caller: &Caller,
) -> Result<Outbound, PipelineError> {
    let op = &service.contract.operations[operation];
    let version = env.version;
    authorise::check(&service.config, caller, &op.name)?;
    let payload = env.payload_document();
    validate::request(service, op, env, &payload)?;
    let mapped = map::request(service, op, payload)?;

    let policy = &service.config.security;
    let keep_consumer = policy.forward_consumer_security && mapped.mapping.is_none();
    let selected = headers::select(env, caller, policy, keep_consumer)?;
    let dropped_headers = selected.audit_note();
    let mut blocks = selected.blocks;
    blocks.push(exchange_header(gw, service, caller.consumer(), &op.name));
    let envelope = envelope::build(version, &blocks, &mapped.payload);
    let body_id = caller
        .verified()
        .filter(|_| keep_consumer)
        .map(|v| v.body_id().to_string());
    let envelope = sign::outbound(&gw.security, policy, envelope, body_id)?;
    // The WSDL's action for this version, never the form the consumer sent (dispatch).
    let action = match &mapped.mapping {
        Some(_) => envelope::root_name(&mapped.payload)
            .and_then(|root| service.contract.operation_by_root(&root))
            .and_then(|target| target.action_for(version)),
        None => op.action_for(version),
    }
    .map(str::to_string);
    Ok(Outbound {
        action,
        envelope,
        mapping: mapped.mapping,
        dropped_headers,
    })
}

/// Tells the provider who is calling, as the gateway verified it (like X-Road's `client`).
fn exchange_header(
    gw: &Gateway,
    service: &Service,
    consumer: &AgencyCode,
    operation: &str,
) -> Vec<u8> {
    use crate::xml::escape::text;
    format!(
        r#"<lt:Exchange xmlns:lt="{}"><lt:Consumer>{}</lt:Consumer><lt:Service>{}</lt:Service><lt:Operation>{}</lt:Operation><lt:Gateway>{}</lt:Gateway></lt:Exchange>"#,
        ns::LIENTHONG,
        text(consumer.as_str()),
        text(service.config.name.as_str()),
        text(operation),
        text(&gw.config.gateway.node_id),
    )
    .into_bytes()
}
