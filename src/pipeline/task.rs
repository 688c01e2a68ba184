//! Where CPU-bound stages run: inline on the reactor thread when they are small and involve
//! no signature work, otherwise on the blocking pool. libxml2 and libxmlsec1 objects never
//! cross an `.await` (they are not `Send`), so a stage's task takes plain values in and
//! gives plain values back.

use crate::wssec::ServicePolicy;

use super::{InternalError, PipelineError};

/// Messages up to this size are parsed, validated and mapped on the reactor thread when no
/// signature work is involved: tens of microseconds, less than the two thread switches a
/// trip to the blocking pool costs. Larger messages and all signature work go to the
/// blocking pool, so that one exchange cannot hold up the others on its worker.
const INLINE_MAX_BYTES: usize = 16 * 1024;

/// Whether the request's stages may run inline: small, unsigned, not to be signed.
pub fn request_inline(len: usize, policy: &ServicePolicy) -> bool {
    len <= INLINE_MAX_BYTES && policy.dangerous_accept_unsigned && !policy.sign_forwarded
}

/// Whether the answer's stages may run inline: small, not verified, not to be signed.
pub fn answer_inline(len: usize, policy: &ServicePolicy) -> bool {
    len <= INLINE_MAX_BYTES && !policy.verify_provider_answer && !policy.sign_answers
}

/// Runs `work` inline or on the blocking pool; a panic becomes this exchange's internal
/// error (and its audit record) instead of tearing down the connection's task unrecorded.
pub async fn cpu<T, F>(inline: bool, work: F) -> Result<T, PipelineError>
where
    F: FnOnce() -> Result<T, PipelineError> + Send + 'static,
    T: Send + 'static,
{
    if inline {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .map_err(|_| PipelineError::from(InternalError::Panicked))?;
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PipelineError::from(InternalError::from(e)))?
}
