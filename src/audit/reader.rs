//! Read access for the auditor's API: an r2d2 pool of read connections, used off the async
//! runtime. The writer keeps a connection of its own (see [`super::store`]).

use std::sync::Arc;

use diesel::r2d2::{ManageConnection, NopErrorHandler, Pool, PooledConnection, R2D2Connection};
use tokio::sync::Semaphore;

use super::backend::{store, Conn, StoreUrl, CONNECT_TIMEOUT};
use super::AuditError;

/// The auditor's read connections, made when first needed.
pub struct AuditReader {
    url: StoreUrl,
    pool: Pool<Manager>,
    /// Callers queue here, on the runtime, for one of the pool's connections: r2d2's `get`
    /// waits on a blocking thread and gives up after its timeout, while a busy store should
    /// only make the auditor wait.
    permits: Semaphore,
}

impl AuditReader {
    /// Does not connect yet; the first query does (so the API starts even while the store
    /// is down, and answers 503 until it is back).
    pub fn new(url: &str, max_connections: usize) -> Arc<AuditReader> {
        let url = StoreUrl::parse(url);
        let max = max_connections.max(1);
        let pool = Pool::builder()
            .max_size(u32::try_from(max).unwrap_or(u32::MAX))
            .min_idle(Some(0))
            // Long enough for one connection attempt (bounded by CONNECT_TIMEOUT) to fail
            // with its own reason, which the 503's log line then carries.
            .connection_timeout(CONNECT_TIMEOUT + std::time::Duration::from_secs(1))
            // The API logs each failure it answers; r2d2 retries a failed connection in the
            // background and would log it again every few seconds while the store is down.
            .error_handler(Box::new(NopErrorHandler))
            .build_unchecked(Manager(url.clone()));
        Arc::new(AuditReader {
            url,
            pool,
            permits: Semaphore::new(max),
        })
    }

    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// Runs `f` with a pooled connection on a blocking thread. r2d2 pings a connection
    /// before handing it out again, so one that broke is replaced, not reused.
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
        tokio::task::spawn_blocking(move || f(&mut *me.pooled()?))
            .await
            .map_err(|e| AuditError::Store(format!("query task failed: {e}")))?
    }

    /// A connection of its own for as long as the caller needs it (streaming exports), so
    /// that exports never hold the API's pooled connections. Blocks: call off the runtime.
    pub fn take(&self) -> Result<Conn, AuditError> {
        existing(&self.url)?;
        Conn::connect(&self.url)
    }

    fn pooled(&self) -> Result<PooledConnection<Manager>, AuditError> {
        // Checked here too so that a missing file is a 503 at once, not after the timeout.
        existing(&self.url)?;
        self.pool
            .get()
            .map_err(|e| AuditError::Unavailable(e.to_string()))
    }
}

/// Reading must never create an empty SQLite store (as connecting would).
fn existing(url: &StoreUrl) -> Result<(), AuditError> {
    match url {
        StoreUrl::Sqlite(p) if !std::path::Path::new(p).exists() => {
            Err(AuditError::Unavailable(format!("no audit store at {p}")))
        }
        _ => Ok(()),
    }
}

/// Connects through [`Conn::connect`]: the backend the URL names, with its session
/// settings (SQLite pragmas, PostgreSQL connect timeout and time zone). Not diesel's
/// `ConnectionManager<Conn>`: that one connects with `Conn::establish`, which for a
/// `MultiConnection` tries each backend with the URL in turn and, when all fail, loses the
/// server's reason ("Invalid connection url for multiconnection"); and it would take the
/// session settings as a customizer, while the writer and the CLI, which use no pool, need
/// them too.
#[derive(Debug)]
struct Manager(StoreUrl);

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = AuditError;

    fn connect(&self) -> Result<Conn, AuditError> {
        existing(&self.0)?;
        Conn::connect(&self.0)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), AuditError> {
        conn.ping().map_err(store)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::query::{self, Filter};
    use crate::audit::testutil::{exchange, TestStore};

    #[tokio::test(flavor = "multi_thread")]
    async fn queries_share_pooled_connections() {
        let store = TestStore::sqlite();
        let log = store.open_log();
        log.record(exchange(1)).await.unwrap();
        log.shutdown().await.unwrap();
        let reader = AuditReader::new(store.url(), 2);
        assert_eq!(reader.pool.state().connections, 0, "connects lazily");
        for _ in 0..3 {
            let n = reader
                .run(|c| query::count(c, &Filter::default()))
                .await
                .unwrap();
            assert_eq!(n, 1);
        }
        assert_eq!(reader.pool.state().connections, 1);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_missing_store_is_unavailable_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let reader = AuditReader::new(&path.display().to_string(), 2);
        let started = std::time::Instant::now();
        let e = reader.run(|_| Ok(())).await.unwrap_err();
        assert!(matches!(e, AuditError::Unavailable(_)), "{e}");
        assert!(started.elapsed() < CONNECT_TIMEOUT, "at once");
        assert!(reader.take().is_err());
        assert!(!path.exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_unreachable_server_is_unavailable_with_its_reason() {
        let reader = AuditReader::new("postgres://postgres@127.0.0.1:1/test", 2);
        let e = reader.run(|_| Ok(())).await.unwrap_err();
        let AuditError::Unavailable(m) = e else {
            panic!("{e}")
        };
        assert!(m.contains("127.0.0.1"), "{m}");
    }
}
