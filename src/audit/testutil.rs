//! Test stores: a SQLite file in a temporary directory, or a PostgreSQL schema of its own
//! (dropped at the end) on the machine's server (127.0.0.1:5432, user postgres, db test).

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::{ExchangeRecord, Message, Outcome};

pub const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store URL that lives as long as the value.
pub enum TestStore {
    Sqlite(#[allow(dead_code)] tempfile::TempDir, String),
    Pg(String, String),
}

impl TestStore {
    pub fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("audit.db").display());
        TestStore::Sqlite(dir, url)
    }

    /// A fresh schema; the URL sets `search_path` to it.
    pub fn pg() -> TestStore {
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut c = PgConnection::establish(PG_BASE).expect("PostgreSQL at 127.0.0.1:5432");
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        let url = format!("{PG_BASE}?options=-csearch_path%3D{schema}");
        TestStore::Pg(schema, url)
    }

    pub fn url(&self) -> &str {
        match self {
            TestStore::Sqlite(_, u) | TestStore::Pg(_, u) => u,
        }
    }

    /// The store opened by node `node-1` with the default configuration and a new seal key.
    pub fn open_log(&self) -> super::AuditLog {
        let key = super::SealKey::generate().expect("seal key");
        super::AuditLog::open(self.url(), "node-1", &super::AuditConfig::default(), key)
            .expect("audit store opens")
    }

    /// Runs raw SQL as the owner with the append-only triggers out of the way — what an
    /// attacker with the database's files or superuser rights can do.
    pub fn tamper(&self, sql: &str) {
        match self {
            TestStore::Sqlite(_, u) => {
                let mut c =
                    diesel::SqliteConnection::establish(u.trim_start_matches("sqlite://")).unwrap();
                c.batch_execute(
                    "DROP TRIGGER IF EXISTS audit_records_no_update; \
                     DROP TRIGGER IF EXISTS audit_records_delete_archived_only; \
                     DROP TRIGGER IF EXISTS audit_messages_no_update; \
                     DROP TRIGGER IF EXISTS audit_messages_delete_archived_only; \
                     DROP TRIGGER IF EXISTS audit_seals_no_update; \
                     DROP TRIGGER IF EXISTS audit_seals_no_delete;",
                )
                .unwrap();
                c.batch_execute(sql).unwrap();
            }
            TestStore::Pg(_, u) => {
                let mut c = PgConnection::establish(u).unwrap();
                c.batch_execute(&format!(
                    "BEGIN; SET LOCAL session_replication_role = replica; {sql}; COMMIT;"
                ))
                .unwrap();
            }
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let TestStore::Pg(schema, _) = self {
            if let Ok(mut c) = PgConnection::establish(PG_BASE) {
                let _ = c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
    }
}

/// An accepted ho-tich exchange with both messages.
pub fn exchange(i: usize) -> ExchangeRecord {
    let mut r = ExchangeRecord::new(
        uuid::Uuid::now_v7().to_string(),
        format!("127.0.0.1:{}", 40000 + i),
    );
    r.consumer = Some(
        if i.is_multiple_of(2) {
            "000.00.21.H38"
        } else {
            "000.00.40.H38"
        }
        .into(),
    );
    r.provider = Some("000.00.12.H38".into());
    r.service = Some("ho-tich".into());
    r.operation = Some("TraCuuKhaiSinh".into());
    r.soap_version = Some(crate::model::SoapVersion::V11);
    r.outcome = Outcome::Accepted;
    r.http_status = 200;
    let req = format!("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><TraCuuKhaiSinh><SoDinhDanh>0380{i:08}</SoDinhDanh></TraCuuKhaiSinh></soap:Body></soap:Envelope>");
    r.request_in = Some(Message::of(req.as_bytes()));
    r.request_out = Some(Message::of(req.as_bytes()));
    r.response_in = Some(Message::of(b"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><KetQua>1</KetQua></soap:Body></soap:Envelope>"));
    r.response_out = r.response_in.clone();
    r.answered_at = Some(r.received_at + chrono::Duration::milliseconds(3));
    r
}
