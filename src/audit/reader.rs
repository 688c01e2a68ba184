//! Read access for the auditor's API: a few connections, used off the async runtime.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::backend::{Conn, StoreUrl};
use super::AuditError;

/// A small pool of read connections (the writer has its own).
pub struct AuditReader {
    url: StoreUrl,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

impl AuditReader {
    /// Does not connect yet; the first query does (so the API starts even while the store
    /// is down, and answers 503 until it is back).
    pub fn new(url: &str, max_connections: usize) -> Arc<AuditReader> {
        Arc::new(AuditReader {
            url: StoreUrl::parse(url),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_connections.max(1)),
        })
    }

    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// Runs `f` with a connection on a blocking thread. A connection that saw an error is
    /// dropped rather than reused.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, AuditError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, AuditError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AuditError::Unavailable("reader closed".into()))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = me.take()?;
            let r = f(&mut conn);
            if r.is_ok() {
                me.idle.lock().expect("reader pool").push(conn);
            }
            r
        })
        .await
        .map_err(|e| AuditError::Store(format!("query task failed: {e}")))?
    }

    /// Runs `f` on a blocking thread with a connection of its own for as long as it needs
    /// (streaming exports); not returned to the pool.
    pub fn take(&self) -> Result<Conn, AuditError> {
        if let Some(c) = self.idle.lock().expect("reader pool").pop() {
            return Ok(c);
        }
        if let StoreUrl::Sqlite(p) = &self.url {
            if !std::path::Path::new(p).exists() {
                return Err(AuditError::Unavailable(format!("no audit store at {p}")));
            }
        }
        Conn::connect(&self.url)
    }
}
