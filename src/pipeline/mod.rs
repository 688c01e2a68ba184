//! The request pipeline, one stage per module, run in this order (docs/DESIGN.md, "The
//! pipeline", draws it with what each stage checks):
//!
//! ```text
//!  receive   HTTP checks, body (gunzipped) read under the cap    (async)
//!  envelope  hardened parse, full recognition of the envelope     ┐ one task
//!  dispatch  operation from the Body's root (+ action check)      │ (verify.rs)
//!  verify    WS-Security: signature, timestamp, certificate       ┘
//!  replay    the verified signature into the replay cache         (async)
//!  authorise grants of gateway.toml                               ┐
//!  validate  request payload against the contract's XSDs          │ one task
//!  map       consumer schema -> provider schema                   │ (outbound.rs)
//!  headers   header blocks: signed by the caller or allowed only  │
//!  sign      the gateway's signature on what it forwards          ┘
//!  forward   pooled hyper client to the provider                  (async)
//!  answer    the provider's envelope, its signature if required   ┐ one task
//!  relay     a provider's fault: exchange id added to its detail  │ (answer.rs)
//!  validate, map the answer back, sign the answer                 ┘
//!  fault     any error -> a fault (signed), in the request's version   (respond.rs)
//!  audit     record committed before the answer leaves            (async, fail closed)
//! ```
//!
//! A task runs on the blocking pool, or inline when it is small and has no signature work
//! (task.rs): libxml2 and libxmlsec1 objects are not `Send`, so each task takes plain values
//! (bytes, the scanned envelope, the verified caller) in and gives plain values back.
//!
//! Every stage returns `Result<_, PipelineError>`; [`fault_map`] turns errors into faults.

pub mod answer;
pub mod audit;
pub mod authorise;
pub mod dispatch;
pub mod fault_map;
pub mod headers;
pub mod inflate;
pub mod map;
pub mod outbound;
pub mod receive;
pub mod relay;
pub mod replay;
pub mod respond;
pub mod sign;
pub mod task;
pub mod validate;
pub mod verify;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::{Request, Response};
use http_body_util::Full;

use crate::audit::{ExchangeRecord, Message, Outcome};
use crate::model::SoapVersion;
use crate::registry::{Gateway, Service};
use crate::soap::envelope;

pub use receive::CONSUMER_HEADER;
pub use respond::EXCHANGE_ID_HEADER;

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
    Forward(#[from] crate::net::forward::ForwardError),
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

impl DeadlineError {
    /// Whose wait ran out: the provider's once the request was forwarded.
    fn of(rec: &ExchangeRecord) -> Self {
        match rec.forwarded_at {
            Some(_) => DeadlineError::Provider,
            None => DeadlineError::Request,
        }
    }
}

impl PipelineError {
    /// The version a body with an unusable content type looks like, to shape its fault.
    fn looks_like(&self) -> Option<SoapVersion> {
        match self {
            PipelineError::Receive(receive::ReceiveError::UnsupportedMediaType {
                looks_like,
                ..
            }) => *looks_like,
            _ => None,
        }
    }

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
    let mut rec = ExchangeRecord::new(uuid::Uuid::now_v7().to_string(), remote.to_string());
    let service = gw.service(&service_name);
    let sign_answers = service
        .as_ref()
        .is_none_or(|s| s.config.security.sign_answers);
    let fallback = receive::guess_version(req.headers());
    let deadline = Duration::from_millis(gw.config.limits.request_timeout_ms);

    let exchange = run(&gw, service.as_ref(), &service_name, req, &mut rec);
    let result = match tokio::time::timeout(deadline, exchange).await {
        Ok(result) => result,
        Err(_) => Err(DeadlineError::of(&rec).into()),
    };
    let looks_like = result.as_ref().err().and_then(PipelineError::looks_like);
    let version = rec.soap_version.or(looks_like).unwrap_or(fallback);
    rec.soap_version = Some(version);
    let answer = match result {
        Ok(answer) => {
            rec.outcome = Outcome::Accepted;
            answer
        }
        Err(e) => respond::refusal(&mut rec, &e, version),
    };
    let answer = respond::signed(&gw, sign_answers, &mut rec, answer).await;
    respond::committed(&gw, sign_answers, rec, answer, started).await
}

/// The stages in order; each fills the record with what it returns.
async fn run<B>(
    gw: &Arc<Gateway>,
    service: Option<&Arc<Service>>,
    service_name: &str,
    req: Request<B>,
    rec: &mut ExchangeRecord,
) -> Result<answer::Answer, PipelineError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = service.cloned().ok_or_else(|| {
        receive::ReceiveError::UnknownService(service_name.chars().take(64).collect())
    })?;
    rec.service = Some(service.config.name.to_string());
    rec.provider = Some(service.config.provider_agency.to_string());
    rec.provider_endpoint = Some(service.config.endpoint.clone());
    let policy = &service.config.security;

    let request = receive::request(req, &gw.config.limits).await?;
    let version = request.version;
    rec.soap_version = Some(version);
    rec.request_in = Some(Message::of(&request.bytes));

    let inline = task::request_inline(request.bytes.len(), policy);
    let (gw2, svc2) = (gw.clone(), service.clone());
    let checked = task::cpu(inline, move || verify::checked(&gw2, &svc2, request)).await?;
    rec.operation = Some(service.contract.operations[checked.operation].name.clone());
    let caller = checked.caller?;
    rec.consumer = Some(caller.consumer().to_string());
    rec.consumer_cert = caller.verified().map(|v| v.certificate().to_string());
    replay::check(&gw.security, &caller).await?;

    let (gw2, svc2, env, op) = (
        gw.clone(),
        service.clone(),
        checked.envelope,
        checked.operation,
    );
    let outbound = task::cpu(inline, move || {
        outbound::build(&gw2, &svc2, &env, op, &caller)
    })
    .await?;
    rec.request_mapping = outbound.mapping;
    // An accepted exchange has no fault: its reason field says what the gateway left out.
    rec.fault_reason = outbound.dropped_headers;
    rec.request_out = Some(Message::of(&outbound.envelope));

    rec.forwarded_at = Some(Utc::now());
    let timeout = Duration::from_millis(service.config.timeout_ms);
    let endpoint = &service.config.endpoint;
    let action = outbound.action.as_deref();
    let provider = gw
        .forwarder
        .send(endpoint, version, action, outbound.envelope, timeout)
        .await?;
    rec.response_in = Some(Message::of(&provider.body));

    let inline = task::answer_inline(provider.body.len(), policy);
    let (gw2, svc2, id) = (gw.clone(), service.clone(), rec.id.clone());
    let mut answer = task::cpu(inline, move || {
        answer::back(&gw2, &svc2, op, version, provider, &id)
    })
    .await?;
    rec.response_mapping = answer.mapping.take();
    Ok(answer)
}
