//! The request pipeline, one stage per module, run in this order (docs/DESIGN.md, "The
//! pipeline", draws it with what each stage checks):
//!
//! ```text
//!  receive   HTTP checks, body (gunzipped) read under the cap    (async)
//!  envelope  hardened parse, full recognition of the envelope     ┐
//!  dispatch  operation from the Body's root (+ action check)      │
//!  verify    WS-Security: signature, timestamp, certificate       │ one blocking task:
//!  authorise grants of gateway.toml                               │ libxml2/xmlsec are
//!  validate  request payload against the contract's XSDs          │ not Send
//!  map       consumer schema -> provider schema                   │
//!  headers   header blocks: signed by the caller or allowed only  │
//!  sign      the gateway's signature on what it forwards          ┘
//!  replay    the verified signature into the replay cache         (async)
//!  forward   pooled hyper client to the provider                  (async)
//!  answer    the provider's envelope, its signature if required   ┐
//!  relay     a provider's fault: exchange id added to its detail  │ one blocking task
//!  validate, map the answer back, sign the answer                 ┘
//!  fault     any error -> a fault (signed), in the request's version
//!  audit     record committed before the answer leaves            (async, fail closed)
//! ```
//!
//! Every stage returns `Result<_, PipelineError>`; [`fault_map`] turns errors into faults.

pub mod audit;
pub mod authorise;
pub mod dispatch;
pub mod fault_map;
pub mod forward;
pub mod headers;
pub mod inflate;
pub mod map;
pub mod receive;
pub mod relay;
pub mod sign;
pub mod validate;
pub mod verify;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;

use crate::audit::{ExchangeRecord, Message, Outcome};
use crate::model::{AgencyCode, SoapVersion};
use crate::registry::{Gateway, Service};
use crate::soap::envelope;
use crate::soap::fault::Fault;
use crate::xml::ns;

/// Any stage's error; [`Fault::from`] is the one place these become faults.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Receive(#[from] receive::ReceiveError),
    #[error(transparent)]
    Envelope(#[from] envelope::EnvelopeError),
    #[error(transparent)]
    Dispatch(#[from] dispatch::DispatchError),
    #[error(transparent)]
    Security(#[from] crate::wssec::WssError),
    #[error(transparent)]
    Authorise(#[from] authorise::AuthoriseError),
    #[error(transparent)]
    Headers(#[from] headers::HeaderError),
    #[error(transparent)]
    Validate(#[from] crate::schema::ValidationError),
    #[error(transparent)]
    Map(#[from] crate::mapping::MappingError),
    #[error(transparent)]
    Forward(#[from] forward::ForwardError),
    #[error(transparent)]
    Deadline(#[from] DeadlineError),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error("internal error: {0}")]
    Internal(#[from] InternalError),
}

/// The gateway's own failure, whatever the message: always `internal gateway error` to the
/// caller, this text to the log and the audit record only.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    #[error("a pipeline stage panicked")]
    Panicked,
    /// A blocking-pool task panicked or was cancelled.
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
    /// Dispatch returned an operation that is not its service's (a bug, not the caller's).
    #[error("dispatched operation not in the contract")]
    UnknownOperation,
}

/// `[limits] request_timeout_ms` ran out before the answer was ready. Who was being
/// waited for decides whose fault it is (see [`fault_map`]).
#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    /// Nothing was forwarded yet: the caller's request, or the gateway's checks of it.
    #[error("the request was not received in time")]
    Request,
    /// The request was forwarded: the provider's answer was being waited for (or checked).
    #[error("the provider did not answer in time")]
    Provider,
}

impl PipelineError {
    /// What the audit record and the log keep: more than the fault string may say (the
    /// libraries' own text: hyper's, OpenSSL's, libxmlsec1's, libxml2's).
    fn audit_reason(&self) -> String {
        match self {
            PipelineError::Forward(f) => f.detail(),
            PipelineError::Security(w) => w.audit_reason(),
            PipelineError::Receive(
                receive::ReceiveError::Read(d) | receive::ReceiveError::BadGzip(d),
            ) => format!("{self}: {d}"),
            PipelineError::Validate(crate::schema::ValidationError::Invalid {
                violations, ..
            }) => {
                format!("{self}: {}", violations.join("; "))
            }
            other => other.to_string(),
        }
    }
}

/// HTTP header naming the consumer for services that accept unsigned calls.
pub const CONSUMER_HEADER: &str = "x-lienthong-consumer";

/// The answer to send.
struct Answer {
    version: SoapVersion,
    status: StatusCode,
    envelope: Vec<u8>,
    /// Already signed (or left unsigned by policy) on the thread that built it.
    signed: bool,
}

/// Messages up to this size are parsed, validated and mapped on the reactor thread when no
/// signature work is involved: tens of microseconds, less than the two thread switches a
/// trip to the blocking pool costs. Larger messages and all signature work go to the
/// blocking pool, so that one exchange cannot hold up the others on its worker.
const INLINE_MAX_BYTES: usize = 16 * 1024;

/// How much of a body with an unusable content type is read to guess the fault's version:
/// enough for an XML declaration, comments and an Envelope start tag with its namespaces.
const SNIFF_BYTES: usize = 4 * 1024;

/// Runs CPU-bound pipeline work inline or on the blocking pool (libxml2 and libxmlsec1
/// objects never cross an `.await`, so either is safe).
async fn cpu<T, F>(inline: bool, work: F) -> Result<T, PipelineError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if inline {
        // As on the blocking pool, a panic becomes this exchange's Receiver fault (and its
        // audit record) instead of tearing down the connection's task unrecorded.
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .map_err(|_| InternalError::Panicked.into());
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PipelineError::from(InternalError::from(e)))
}

/// Runs one exchange end to end; never fails: errors become signed faults, and the audit
/// record is committed before this returns a response.
pub async fn handle<B>(
    gw: Arc<Gateway>,
    service_name: String,
    req: Request<B>,
    remote: SocketAddr,
) -> Response<Full<Bytes>>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let id = uuid::Uuid::now_v7().to_string();
    let mut rec = ExchangeRecord::new(id.clone(), remote.to_string());
    let fallback_version = receive::guess_version(req.headers());
    let deadline = Duration::from_millis(gw.config.limits.request_timeout_ms);
    let sign_answers = gw
        .service(&service_name)
        .is_none_or(|s| s.config.security.sign_answers);

    let result = match tokio::time::timeout(deadline, run(&gw, &service_name, req, &mut rec)).await
    {
        Ok(r) => r,
        // `run` sets `forwarded_at` just before it waits for the provider.
        Err(_) if rec.forwarded_at.is_some() => Err(DeadlineError::Provider.into()),
        Err(_) => Err(DeadlineError::Request.into()),
    };
    let answer = match result {
        Ok(a) => {
            rec.outcome = Outcome::Accepted;
            a
        }
        Err(e) => {
            let fault = Fault::from(&e);
            rec.outcome = if rec.forwarded_at.is_some() {
                Outcome::Failed
            } else {
                Outcome::Rejected
            };
            rec.fault_code = Some(fault.code_label());
            rec.fault_reason = Some(with_note(e.audit_reason(), rec.fault_reason.take()));
            let version = match rec.soap_version.as_deref() {
                Some("1.2") => SoapVersion::V12,
                Some(_) => SoapVersion::V11,
                None => fallback_version,
            };
            Answer {
                version,
                status: fault.http_status(version),
                envelope: fault.render(version, &id),
                signed: false,
            }
        }
    };

    let Answer {
        version,
        status,
        envelope,
        signed,
    } = answer;
    let (status, body) = match sign_off_thread(&gw, sign_answers && !signed, envelope).await {
        Ok(body) => (status, body),
        Err(e) => {
            let fault = Fault::from(&e);
            rec.outcome = Outcome::Failed;
            rec.fault_code = Some(fault.code_label());
            rec.fault_reason = Some(with_note(e.audit_reason(), rec.fault_reason.take()));
            (fault.http_status(version), fault.render(version, &id))
        }
    };

    rec.http_status = status.as_u16();
    rec.response_out = Some(Message::of(&body));
    rec.answered_at = Some(Utc::now());
    // The log line is made only when it will be written: formatting it for every exchange
    // cost a few microseconds of each one at the default level (warn).
    let line = log::log_enabled!(log::Level::Info).then(|| exchange_line(&rec, started));
    if let Err(e) = audit::write(&gw.audit, rec).await {
        // Fail closed: the answer is withheld when its record cannot be kept.
        let line = line.unwrap_or_else(|| format!("exchange {id} service={service_name}"));
        log::error!("{line}: audit write failed, answer withheld: {e}");
        let fault = Fault::from(&PipelineError::Audit(e));
        let rendered = fault.render(version, &id);
        // Signed like every answer when the key allows; a client verifies before it reads.
        let body = sign_off_thread(&gw, sign_answers, rendered.clone())
            .await
            .unwrap_or(rendered);
        return respond(version, fault.http_status(version), body, &id);
    }
    if let Some(line) = line {
        log::info!("{line}");
    }
    respond(version, status, body, &id)
}

/// The reason of a failure, followed by what the record already noted (dropped headers).
fn with_note(reason: String, note: Option<String>) -> String {
    match note {
        Some(note) => format!("{reason}; {note}"),
        None => reason,
    }
}

/// The one log line per exchange: id, consumer, service, operation, outcome, status, ms.
fn exchange_line(rec: &ExchangeRecord, started: Instant) -> String {
    format!(
        "exchange {} consumer={} service={} operation={} outcome={} status={} fault={} ms={:.1}",
        rec.id,
        rec.consumer.as_deref().unwrap_or("-"),
        rec.service.as_deref().unwrap_or("-"),
        rec.operation.as_deref().unwrap_or("-"),
        rec.outcome.as_str(),
        rec.http_status,
        rec.fault_code.as_deref().unwrap_or("-"),
        started.elapsed().as_secs_f64() * 1000.0
    )
}

/// Signs an answer on the blocking pool (libxmlsec1 work stays off the reactor).
async fn sign_off_thread(
    gw: &Arc<Gateway>,
    sign: bool,
    envelope: Vec<u8>,
) -> Result<Vec<u8>, PipelineError> {
    if !sign {
        // Unsigned by policy: no trip to the blocking pool.
        return Ok(envelope);
    }
    let engine = gw.security.clone();
    tokio::task::spawn_blocking(move || sign::answer(&engine, true, envelope))
        .await
        .map_err(|e| PipelineError::from(InternalError::from(e)))?
        .map_err(PipelineError::from)
}

/// Response header carrying the exchange id, so a caller can quote it to an auditor.
pub const EXCHANGE_ID_HEADER: &str = "x-lienthong-exchange-id";

fn respond(
    version: SoapVersion,
    status: StatusCode,
    body: Vec<u8>,
    id: &str,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(version.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(id) {
        headers.insert(EXCHANGE_ID_HEADER, v);
    }
    resp
}

/// What the inbound stages learnt, kept for the audit record whether or not they succeed.
#[derive(Default)]
struct InboundFacts {
    operation: Option<String>,
    consumer: Option<String>,
    certificate: Option<String>,
    mapping: Option<String>,
    /// The verified signature, recorded in the replay cache before anything is forwarded.
    replay: Option<crate::wssec::ReplayTicket>,
    /// The header blocks not forwarded, for the audit record.
    dropped_headers: Option<String>,
}

/// The request, ready to forward.
struct Outbound {
    /// The consumer-side operation (its answer is validated and mapped back), as its index
    /// in the service's contract: cloning the operation cost some twenty allocations.
    operation: usize,
    /// SOAPAction for the provider, as its WSDL declares it for the request's version:
    /// after a mapping, that of the operation whose request element the mapped payload
    /// is, since the provider dispatches on it.
    action: Option<String>,
    envelope: Vec<u8>,
}

async fn run<B>(
    gw: &Arc<Gateway>,
    service_name: &str,
    req: Request<B>,
    rec: &mut ExchangeRecord,
) -> Result<Answer, PipelineError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = gw.service(service_name).ok_or_else(|| {
        receive::ReceiveError::UnknownService(service_name.chars().take(64).collect())
    })?;
    rec.service = Some(service.config.name.to_string());
    rec.provider = Some(service.config.provider_agency.to_string());
    rec.provider_endpoint = Some(service.config.endpoint.clone());
    if req.method() != http::Method::POST {
        return Err(receive::ReceiveError::MethodNotAllowed.into());
    }
    let (parts, body) = req.into_parts();
    let soap = match receive::soap_http(&parts.headers) {
        Ok(soap) => soap,
        Err(e) => {
            if matches!(e, receive::ReceiveError::UnsupportedMediaType(_)) {
                // No usable content type: the fault is shaped after the envelope, if the
                // first bytes show one (a few KiB, read under the exchange's deadline).
                let head = receive::read_head(body, SNIFF_BYTES).await;
                rec.soap_version = Some(receive::sniff_version(&head).label().to_string());
            }
            return Err(e.into());
        }
    };
    rec.soap_version = Some(soap.version.label().to_string());
    let coding = receive::content_coding(&parts.headers)?;
    let limits = &gw.config.limits;
    let raw = receive::read_body(&parts.headers, body, limits.max_request_bytes).await?;
    let bytes = receive::decode_body(
        coding,
        raw,
        limits.max_request_bytes,
        limits.max_inflate_ratio,
    )
    .await?;
    rec.request_in = Some(Message::of(&bytes));
    let claimed = parts
        .headers
        .get(CONSUMER_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| AgencyCode::parse(v).ok());

    let (gw2, svc2, version) = (gw.clone(), service.clone(), soap.version);
    let action = soap.action.clone();
    let policy = &service.config.security;
    let inline = bytes.len() <= INLINE_MAX_BYTES
        && policy.dangerous_accept_unsigned
        && !policy.sign_forwarded;
    let (facts, outbound) = cpu(inline, move || {
        let mut facts = InboundFacts::default();
        let r = inbound(
            &gw2,
            &svc2,
            version,
            action.as_deref(),
            bytes,
            claimed.as_ref(),
            &mut facts,
        );
        (facts, r)
    })
    .await?;
    rec.operation = facts.operation;
    rec.consumer = facts.consumer;
    rec.consumer_cert = facts.certificate;
    rec.request_mapping = facts.mapping;
    // An accepted exchange has no fault: its reason field says what the gateway left out.
    rec.fault_reason = facts.dropped_headers;
    let outbound = outbound?;
    if let Some(ticket) = &facts.replay {
        // WSS 1.1 §10, docs/SECURITY.md R14: once only, across every node sharing the cache.
        gw.security.check_replay(ticket).await?;
    }
    rec.request_out = Some(Message::of(&outbound.envelope));

    rec.forwarded_at = Some(Utc::now());
    let provider = gw
        .forwarder
        .send(
            &service.config.endpoint,
            version,
            outbound.action.as_deref(),
            outbound.envelope,
            Duration::from_millis(service.config.timeout_ms),
        )
        .await?;
    rec.response_in = Some(Message::of(&provider.body));

    let (gw2, svc2, id) = (gw.clone(), service.clone(), rec.id.clone());
    let policy = &service.config.security;
    let inline = provider.body.len() <= INLINE_MAX_BYTES
        && !policy.verify_provider_answer
        && !policy.sign_answers;
    let (mapping, answer) = cpu(inline, move || {
        let mut mapping = None;
        let r = answer(
            &gw2,
            &svc2,
            &svc2.contract.operations[outbound.operation],
            version,
            provider,
            &id,
            &mut mapping,
        )
        .and_then(|a| {
            // Signed here, on the thread that built it, to save a second trip.
            let sign = svc2.config.security.sign_answers;
            let envelope = sign::answer(&gw2.security, sign, a.envelope)?;
            Ok(Answer {
                envelope,
                signed: true,
                ..a
            })
        });
        (mapping, r)
    })
    .await?;
    rec.response_mapping = mapping;
    answer
}

/// envelope -> dispatch -> verify -> authorise -> validate -> map -> headers -> sign, on one
/// thread.
fn inbound(
    gw: &Gateway,
    service: &Service,
    version: SoapVersion,
    action: Option<&str>,
    bytes: Bytes,
    claimed: Option<&AgencyCode>,
    facts: &mut InboundFacts,
) -> Result<Outbound, PipelineError> {
    let env = envelope::parse(bytes, version, &gw.config.limits.xml())?;
    let op = dispatch::operation(&service.contract, &env.payload.name, action, version)?;
    facts.operation = Some(op.name.clone());
    let caller = verify::verify(&gw.security, &service.config, &env, claimed)?;
    let verified = caller.verified();
    facts.consumer = Some(caller.consumer().to_string());
    facts.certificate = verified.map(|v| v.certificate().to_string());
    facts.replay = verified.map(|v| v.replay().clone());
    authorise::check(&service.config, &caller, &op.name)?;
    let payload = env.payload_document();
    validate::request(service, op, &env, &payload)?;
    let mapped = map::request(service, op, payload)?;
    facts.mapping = mapped.mapping;

    let policy = &service.config.security;
    let keep_consumer = policy.forward_consumer_security && facts.mapping.is_none();
    let selected = headers::select(&env, &caller, policy, keep_consumer)?;
    facts.dropped_headers = selected.audit_note();
    let mut headers = selected.blocks;
    headers.push(exchange_header(gw, service, caller.consumer(), &op.name));
    let envelope = envelope::build(version, &headers, &mapped.payload);
    let body_id = verified
        .filter(|_| keep_consumer)
        .map(|v| v.body_id().to_string());
    let envelope = sign::outbound(&gw.security, policy, envelope, body_id)?;
    // The WSDL's action for this version, never the form the consumer sent (dispatch).
    let action = match &facts.mapping {
        Some(_) => envelope::root_name(&mapped.payload)
            .and_then(|root| service.contract.operation_by_root(&root))
            .and_then(|target| target.action_for(version)),
        None => op.action_for(version),
    }
    .map(str::to_string);
    Ok(Outbound {
        operation: service
            .contract
            .operations
            .iter()
            .position(|o| std::ptr::eq(o, op))
            .ok_or(InternalError::UnknownOperation)?,
        action,
        envelope,
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

/// The provider's answer -> validated, mapped back, as an envelope for the consumer.
fn answer(
    gw: &Gateway,
    service: &Service,
    op: &crate::wsdl::Operation,
    version: SoapVersion,
    provider: forward::ProviderAnswer,
    exchange_id: &str,
    mapping: &mut Option<String>,
) -> Result<Answer, PipelineError> {
    let env = envelope::parse(provider.body, version, &gw.config.limits.xml())
        .map_err(|e| forward::ForwardError::BadAnswer(e.to_string()))?;
    if service.config.security.verify_provider_answer {
        // The provider's own signature problem is a Receiver-side failure for the consumer.
        gw.security
            .verify_answer(
                &env,
                crate::wssec::Expect::Agency(&service.config.provider_agency),
            )
            .map_err(|e| {
                forward::ForwardError::BadAnswer(format!(
                    "provider signature refused: {}",
                    e.audit_reason()
                ))
            })?;
    }
    if env.is_fault() {
        // The provider's own fault goes back as it was sent, with the exchange id added to
        // its detail (relay.rs), re-signed by the gateway.
        let status = if provider.status.is_client_error() || provider.status.is_server_error() {
            provider.status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        return Ok(Answer {
            version,
            status,
            envelope: envelope::build(
                version,
                &[],
                &relay::provider_fault(version, &env.payload_document(), exchange_id),
            ),
            signed: false,
        });
    }
    if !provider.status.is_success() {
        return Err(forward::ForwardError::BadAnswer(format!(
            "HTTP {} without a SOAP fault",
            provider.status
        ))
        .into());
    }
    let payload = env.payload_document();
    validate::response(service, op, &env, &payload)?;
    let mapped = map::response(service, op, payload)?;
    *mapping = mapped.mapping;
    Ok(Answer {
        version,
        status: StatusCode::OK,
        envelope: envelope::build(version, &[], &mapped.payload),
        signed: false,
    })
}
