//! The last steps of every exchange: a refusal as a fault, the answer signed if it is not
//! yet, the record finished and committed (fail closed), the HTTP response.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::audit::{ExchangeRecord, Message, Outcome};
use crate::model::SoapVersion;
use crate::registry::Gateway;
use crate::soap::fault::Fault;

use super::answer::Answer;
use super::{audit, sign, InternalError, PipelineError};

/// Response header carrying the exchange id, so a caller can quote it to an auditor.
pub const EXCHANGE_ID_HEADER: &str = "x-lienthong-exchange-id";

/// The fault for `e`, with what the record keeps of it: rejected if nothing was forwarded,
/// failed after.
pub fn refusal(rec: &mut ExchangeRecord, e: &PipelineError, version: SoapVersion) -> Answer {
    let fault = Fault::from(e);
    rec.outcome = if rec.forwarded_at.is_some() {
        Outcome::Failed
    } else {
        Outcome::Rejected
    };
    rec.fault_code = Some(fault.code_label());
    rec.fault_reason = Some(with_note(e.audit_reason(), rec.fault_reason.take()));
    Answer {
        version,
        status: fault.http_status(version),
        envelope: fault.render(version, &rec.id),
        signed: false,
        mapping: None,
    }
}

/// The reason of a failure, followed by what the record already noted (dropped headers).
fn with_note(reason: String, note: Option<String>) -> String {
    match note {
        Some(note) => format!("{reason}; {note}"),
        None => reason,
    }
}

/// Signs an answer not signed yet (a fault), on the blocking pool: libxmlsec1 work stays
/// off the reactor. A failure to sign is the gateway's: its own fault goes out unsigned.
pub async fn signed(
    gw: &Arc<Gateway>,
    sign: bool,
    rec: &mut ExchangeRecord,
    answer: Answer,
) -> Answer {
    if !sign || answer.signed {
        return answer;
    }
    let Answer {
        version,
        status,
        envelope,
        ..
    } = answer;
    match on_pool(gw, envelope).await {
        Ok(envelope) => Answer {
            version,
            status,
            envelope,
            signed: true,
            mapping: None,
        },
        Err(e) => {
            let answer = refusal(rec, &e, version);
            rec.outcome = Outcome::Failed;
            answer
        }
    }
}

/// The gateway's signature on `envelope`, made on the blocking pool.
async fn on_pool(gw: &Arc<Gateway>, envelope: Vec<u8>) -> Result<Vec<u8>, PipelineError> {
    let engine = gw.security.clone();
    tokio::task::spawn_blocking(move || sign::answer(&engine, true, envelope))
        .await
        .map_err(|e| PipelineError::from(InternalError::from(e)))?
        .map_err(PipelineError::from)
}

/// Finishes the record, commits it, then answers; if the record cannot be kept the answer
/// is withheld and the caller gets a Server fault instead (fail closed).
pub async fn committed(
    gw: &Arc<Gateway>,
    sign: bool,
    mut rec: ExchangeRecord,
    answer: Answer,
    started: Instant,
) -> Response<Full<Bytes>> {
    let Answer {
        version,
        status,
        envelope,
        ..
    } = answer;
    let id = rec.id.clone();
    rec.http_status = status.as_u16();
    rec.response_out = Some(Message::of(&envelope));
    rec.answered_at = Some(Utc::now());
    // The log line is made only when it will be written: formatting it for every exchange
    // cost a few microseconds of each one at the default level (warn).
    let line = log::log_enabled!(log::Level::Info).then(|| exchange_line(&rec, started));
    let service = rec.service.clone();
    if let Err(e) = audit::write(&gw.audit, rec).await {
        let line = line.unwrap_or_else(|| {
            format!(
                "exchange {id} service={}",
                service.as_deref().unwrap_or("-")
            )
        });
        log::error!("{line}: audit write failed, answer withheld: {e}");
        let fault = Fault::from(&PipelineError::Audit(e));
        let rendered = fault.render(version, &id);
        // Signed like every answer when the key allows; a client verifies before it reads.
        let body = match sign {
            true => on_pool(gw, rendered.clone()).await.unwrap_or(rendered),
            false => rendered,
        };
        return respond(version, fault.http_status(version), body, &id);
    }
    if let Some(line) = line {
        log::info!("{line}");
    }
    respond(version, status, envelope, &id)
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
