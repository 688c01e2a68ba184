//! The two stores behind one enum: SQLite (embedded default, WAL) and PostgreSQL.
//!
//! Queries are written once and type-checked for each backend through [`with_conn!`];
//! migrations are per backend (dialects differ) and embedded in the binary.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::AuditError;

/// How long connecting to PostgreSQL may take (libpq `connect_timeout`, unless the URL sets
/// one). Without it a dead host would hold every exchange for minutes; with it they are
/// refused quickly (fail closed) until the store is back.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub(crate) const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where the store is, parsed from the URL given on the command line or in `[audit]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A file path (`sqlite://PATH` or a plain path).
    Sqlite(String),
    /// A libpq URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl StoreUrl {
    pub fn parse(url: &str) -> StoreUrl {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            StoreUrl::Postgres(url.to_string())
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            StoreUrl::Sqlite(path.to_string())
        } else {
            StoreUrl::Sqlite(url.to_string())
        }
    }

    /// The URL without a password, for messages.
    pub fn redacted(&self) -> String {
        match self {
            StoreUrl::Sqlite(p) => format!("sqlite://{p}"),
            StoreUrl::Postgres(u) => match (u.find("://"), u.rfind('@')) {
                (Some(s), Some(at)) if at > s => {
                    let userinfo = &u[s + 3..at];
                    let user = userinfo.split(':').next().unwrap_or("");
                    format!("{}{}@{}", &u[..s + 3], user, &u[at + 1..])
                }
                _ => u.clone(),
            },
        }
    }
}

pub enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Runs `$body` with `$c` bound to the backend's concrete connection.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::audit::backend::Conn::Sqlite($c) => $body,
            $crate::audit::backend::Conn::Pg($c) => $body,
        }
    };
}
pub(crate) use with_conn;

impl Conn {
    /// Connects; does not migrate.
    pub fn connect(url: &StoreUrl) -> Result<Conn, AuditError> {
        match url {
            StoreUrl::Sqlite(path) => {
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            AuditError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                        })?;
                    }
                }
                let mut c = SqliteConnection::establish(path)
                    .map_err(|e| AuditError::Unavailable(e.to_string()))?;
                // WAL: readers (the auditor's CLI and API) never block the writer; with
                // synchronous=FULL a committed transaction survives power loss, not only a
                // killed process. 16 KiB pages (taken only when the file is created): a 2 KiB
                // message no longer fills a 4 KiB page alone, which halves the bytes written
                // and doubled the records/s with full messages (docs/AUDIT.md).
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA page_size = 16384; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(store)?;
                Ok(Conn::Sqlite(c))
            }
            StoreUrl::Postgres(u) => {
                let url = if u.contains("connect_timeout=") {
                    u.clone()
                } else {
                    format!(
                        "{u}{}connect_timeout={}",
                        if u.contains('?') { '&' } else { '?' },
                        CONNECT_TIMEOUT.as_secs()
                    )
                };
                let mut c = PgConnection::establish(&url)
                    .map_err(|e| AuditError::Unavailable(e.to_string()))?;
                c.batch_execute("SET TIME ZONE 'UTC'").map_err(store)?;
                Ok(Conn::Pg(c))
            }
        }
    }

    /// Applies pending migrations; returns the names of those applied.
    pub fn migrate(&mut self) -> Result<Vec<String>, AuditError> {
        let applied = match self {
            Conn::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
            Conn::Pg(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
        };
        applied.map_err(|e| AuditError::Store(format!("migration failed: {e}")))
    }

    /// Migrates unless every embedded migration is already applied. Checking first lets the
    /// gateway run as a PostgreSQL role without CREATE rights once the owner has migrated.
    pub fn ensure_migrated(&mut self) -> Result<(), AuditError> {
        use diesel::migration::MigrationSource;
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Text)]
            version: String,
        }
        let q = "SELECT version FROM __diesel_schema_migrations";
        let (applied, wanted) = match self {
            Conn::Sqlite(c) => (
                diesel::sql_query(q).load::<V>(c).ok(),
                MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                    .map(|v| v.iter().map(|m| m.name().version().to_string()).collect()),
            ),
            Conn::Pg(c) => (
                diesel::sql_query(q).load::<V>(c).ok(),
                MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                    .map(|v| v.iter().map(|m| m.name().version().to_string()).collect()),
            ),
        };
        let wanted: Vec<String> = wanted.map_err(|e| AuditError::Store(e.to_string()))?;
        let applied: Vec<String> = applied
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.version)
            .collect();
        if wanted.iter().all(|w| applied.contains(w)) {
            return Ok(());
        }
        self.migrate().map(|_| ())
    }

    /// Commits acknowledged before they reach stable storage (`[audit] durable_commits =
    /// false`), for this connection only: the writer's, never the readers'.
    pub fn relax_commits(&mut self) -> Result<(), AuditError> {
        match self {
            Conn::Sqlite(c) => c.batch_execute("PRAGMA synchronous = NORMAL"),
            Conn::Pg(c) => c.batch_execute("SET synchronous_commit = off"),
        }
        .map_err(store)
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }
}

/// A failed query: the store answered but refused, or the connection broke.
pub fn store(e: diesel::result::Error) -> AuditError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            AuditError::Unavailable(info.message().to_string())
        }
        Error::BrokenTransactionManager => AuditError::Unavailable(e.to_string()),
        other => AuditError::Store(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            StoreUrl::parse("data/a.db"),
            StoreUrl::Sqlite("data/a.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///x/a.db"),
            StoreUrl::Sqlite("/x/a.db".into())
        );
        assert!(matches!(
            StoreUrl::parse("postgres://h/db"),
            StoreUrl::Postgres(_)
        ));
        assert_eq!(
            StoreUrl::parse("postgres://u:secret@h/db").redacted(),
            "postgres://u@h/db"
        );
    }
}
