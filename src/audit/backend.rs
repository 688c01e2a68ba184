//! The two stores behind one connection type: SQLite (embedded default, WAL) and
//! PostgreSQL, joined by `#[derive(diesel::MultiConnection)]`.
//!
//! Queries are written once against [`Conn`] (diesel renders them in the dialect of the
//! connection they run on). What the common dialect lacks is written per backend by
//! matching on the variant: the per-day upsert (`ON CONFLICT` is not in it), PostgreSQL's
//! binary COPY and partitions, SQL text with placeholders (`?` / `$1`), session settings.
//! Migrations are per backend (dialects differ) and embedded in the binary.

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

/// A connection to either store. Open it with [`Conn::connect`], never with diesel's
/// `Connection::establish`: the derived `establish` tries each backend in turn with the
/// same URL and, when all fail, reports "Invalid connection url for multiconnection"
/// instead of the server's reason; it also skips the session settings below.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

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

    /// The embedded migrations of this connection's backend.
    fn migrations(&self) -> EmbeddedMigrations {
        match self {
            Conn::Sqlite(_) => SQLITE_MIGRATIONS,
            Conn::Pg(_) => POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations; returns the names of those applied.
    pub fn migrate(&mut self) -> Result<Vec<String>, AuditError> {
        let migrations = self.migrations();
        self.run_pending_migrations(migrations)
            .map(|v| v.iter().map(|m| m.to_string()).collect())
            .map_err(|e| AuditError::Store(format!("migration failed: {e}")))
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
        let wanted: Vec<String> = MigrationSource::<MultiBackend>::migrations(&self.migrations())
            .map_err(|e| AuditError::Store(e.to_string()))?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        let applied: Vec<String> =
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
                .load::<V>(self)
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

    /// Why the store opens with `Conn::connect` (and the reader's pool with its own
    /// manager): the derived `establish` hides why a connection failed.
    #[test]
    fn connect_keeps_the_reason_establish_loses() {
        let url = "postgres://postgres@127.0.0.1:1/test";
        let derived = <Conn as diesel::Connection>::establish(url).err().unwrap();
        assert!(
            derived
                .to_string()
                .contains("Invalid connection url for multiconnection"),
            "{derived}"
        );
        let ours = Conn::connect(&StoreUrl::parse(url)).err().unwrap();
        assert!(ours.to_string().contains("127.0.0.1"), "{ours}");
    }
}
