//! The audit stage: the exchange's record, committed before its answer leaves (fail closed:
//! if the record cannot be written, the caller gets a Server fault instead of the answer).

use crate::audit::{AuditError, AuditLog, ExchangeRecord};

pub async fn write(log: &AuditLog, record: ExchangeRecord) -> Result<(), AuditError> {
    log.record(record).await
}
