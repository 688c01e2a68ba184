//! PostgreSQL specifics: the privileges of the gateway and auditor roles.
//!
//! The owner (who runs migrations) could disable the append-only triggers, so the gateway
//! connects as a role that may only INSERT and SELECT, and auditors as a read-only role
//! (docs/LIBRARIES.md, "A table owner can disable the append-only triggers"). Partitions
//! made later by `audit_ensure_partition` (a SECURITY DEFINER function) are reached through
//! their parent, whose grants apply.

use diesel::connection::SimpleConnection;

use super::backend::{store, Conn};
use super::AuditError;

/// Grants the gateway role INSERT+SELECT and the auditor role SELECT on the audit tables
/// of the current schema. Roles must exist (`CREATE ROLE ... LOGIN`).
pub fn grant(
    conn: &mut Conn,
    gateway: Option<&str>,
    auditor: Option<&str>,
) -> Result<(), AuditError> {
    let Conn::Pg(c) = conn else {
        return Err(AuditError::Store(
            "roles exist only on PostgreSQL; SQLite is protected by file permissions".into(),
        ));
    };
    let mut sql = String::new();
    if let Some(g) = gateway {
        let g = ident(g)?;
        sql += &format!(
            "GRANT USAGE ON SCHEMA {s} TO {g};
             GRANT SELECT, INSERT ON audit_records, audit_messages, audit_seals TO {g};
             GRANT SELECT ON audit_archives, __diesel_schema_migrations TO {g};
             GRANT SELECT, INSERT, UPDATE ON audit_daily TO {g};
             GRANT EXECUTE ON FUNCTION audit_ensure_partition(TIMESTAMP) TO {g};",
            s = "CURRENT_SCHEMA"
        )
        .replace(
            "SCHEMA CURRENT_SCHEMA",
            &format!("SCHEMA {}", current_schema(c)?),
        );
    }
    if let Some(a) = auditor {
        let a = ident(a)?;
        sql += &format!(
            "GRANT USAGE ON SCHEMA {s} TO {a};
             GRANT SELECT ON audit_records, audit_messages, audit_seals, audit_archives,
                 audit_daily, __diesel_schema_migrations TO {a};",
            s = current_schema(c)?
        );
    }
    c.batch_execute(&sql).map_err(store)
}

fn current_schema(c: &mut diesel::PgConnection) -> Result<String, AuditError> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct S {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    let r: S = diesel::sql_query("SELECT current_schema() AS s")
        .get_result(c)
        .map_err(store)?;
    ident(&r.s)
}

/// A role or schema name, double-quoted.
fn ident(name: &str) -> Result<String, AuditError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if !ok {
        return Err(AuditError::Store(format!(
            "`{name}`: role names are letters, digits and underscores"
        )));
    }
    Ok(format!("\"{name}\""))
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};

    use super::*;
    use crate::audit::backend::StoreUrl;
    use crate::audit::testutil::{exchange, TestStore, PG_BASE};
    use crate::audit::{AuditConfig, AuditLog, SealKey};

    struct Roles(Vec<String>);
    impl Drop for Roles {
        fn drop(&mut self) {
            if let Ok(mut c) = PgConnection::establish(PG_BASE) {
                for r in &self.0 {
                    let _ = c.batch_execute(&format!("DROP OWNED BY {r}; DROP ROLE {r}"));
                }
            }
        }
    }

    impl Roles {
        /// A fresh gateway and auditor login role, dropped with the guard.
        fn create() -> (Roles, String, String) {
            let tag = uuid::Uuid::new_v4().simple().to_string();
            let (gw, au) = (format!("lt_gw_{tag}"), format!("lt_au_{tag}"));
            PgConnection::establish(PG_BASE)
                .unwrap()
                .batch_execute(&format!("CREATE ROLE {gw} LOGIN; CREATE ROLE {au} LOGIN"))
                .unwrap();
            (Roles(vec![gw.clone(), au.clone()]), gw, au)
        }
    }

    fn as_role(url: &str, role: &str) -> String {
        url.replace("postgres://postgres@", &format!("postgres://{role}@"))
    }

    /// A store made before `audit_daily` existed, with the roles granted then: after the
    /// upgrade the gateway still writes (it keeps the per-day counts) and the auditor reads.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_upgrade_carries_the_roles_over_to_new_tables() {
        use diesel_migrations::MigrationHarness;
        let store = TestStore::pg();
        let (_roles, gw, au) = Roles::create();

        let mut owner = PgConnection::establish(store.url()).unwrap();
        owner
            .run_next_migration(crate::audit::backend::POSTGRES_MIGRATIONS)
            .unwrap();
        let s = current_schema(&mut owner).unwrap();
        // What `audit migrate --gateway-role --auditor-role` granted before the upgrade.
        owner
            .batch_execute(&format!(
                "GRANT USAGE ON SCHEMA {s} TO {gw}, {au};
                 GRANT SELECT, INSERT ON audit_records, audit_messages, audit_seals TO {gw};
                 GRANT SELECT ON audit_archives, __diesel_schema_migrations TO {gw};
                 GRANT EXECUTE ON FUNCTION audit_ensure_partition(TIMESTAMP) TO {gw};
                 GRANT SELECT ON audit_records, audit_messages, audit_seals, audit_archives,
                     __diesel_schema_migrations TO {au};"
            ))
            .unwrap();
        owner
            .run_pending_migrations(crate::audit::backend::POSTGRES_MIGRATIONS)
            .unwrap();

        let log = AuditLog::open(
            &as_role(store.url(), &gw),
            "node-1",
            &AuditConfig::default(),
            SealKey::generate().unwrap(),
        )
        .unwrap();
        log.record(exchange(0)).await.unwrap();
        log.shutdown().await.unwrap();
        let mut a = PgConnection::establish(&as_role(store.url(), &au)).unwrap();
        a.batch_execute("SELECT sum(n) FROM audit_daily").unwrap();
        let e = a
            .batch_execute("UPDATE audit_daily SET n = 0")
            .unwrap_err()
            .to_string();
        assert!(e.contains("permission denied"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn gateway_appends_only_and_auditor_reads_only() {
        let store = TestStore::pg();
        let (_roles, gw, au) = Roles::create();

        let mut owner = Conn::connect(&StoreUrl::parse(store.url())).unwrap();
        owner.migrate().unwrap();
        grant(&mut owner, Some(&gw), Some(&au)).unwrap();

        // The gateway writes (and extends partitions) as its own role.
        let log = AuditLog::open(
            &as_role(store.url(), &gw),
            "node-1",
            &AuditConfig::default(),
            SealKey::generate().unwrap(),
        )
        .unwrap();
        let mut next_year = exchange(1);
        next_year.received_at += chrono::Duration::days(400);
        log.record(exchange(0)).await.unwrap();
        log.record(next_year).await.unwrap();
        log.shutdown().await.unwrap();

        let mut g = PgConnection::establish(&as_role(store.url(), &gw)).unwrap();
        for sql in [
            "UPDATE audit_records SET consumer = 'x'",
            "DELETE FROM audit_records",
            "TRUNCATE audit_records",
            "UPDATE audit_seals SET seq = 0",
            "ALTER TABLE audit_records DISABLE TRIGGER ALL",
        ] {
            let e = g.batch_execute(sql).unwrap_err().to_string();
            assert!(
                e.contains("permission denied") || e.contains("must be owner"),
                "{sql}: {e}"
            );
        }
        // Even the owner meets the triggers.
        let mut o = PgConnection::establish(store.url()).unwrap();
        for sql in [
            "UPDATE audit_records SET consumer = 'x'",
            "DELETE FROM audit_records",
            "TRUNCATE audit_records",
            "TRUNCATE audit_messages_default",
        ] {
            let e = o.batch_execute(sql).unwrap_err().to_string();
            assert!(
                e.contains("append-only") || e.contains("archived"),
                "{sql}: {e}"
            );
        }
        let mut a = PgConnection::establish(&as_role(store.url(), &au)).unwrap();
        a.batch_execute("SELECT count(*) FROM audit_records")
            .unwrap();
        let e = a
            .batch_execute("INSERT INTO audit_seals SELECT * FROM audit_seals")
            .unwrap_err()
            .to_string();
        assert!(e.contains("permission denied"), "{e}");
    }
}
