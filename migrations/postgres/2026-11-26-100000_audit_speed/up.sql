-- Write and chart speed (docs/AUDIT.md, "Benchmarks").

-- The primary key (node_id, seq, received_at) already serves every lookup by node and seq;
-- a second index on them only cost each insert another B-tree update.
DROP INDEX audit_records_node_seq;

-- Message bodies are XML that compresses well; lz4 does it several times faster than the
-- default pglz, which was the largest single cost of a write with full messages. Needs
-- PostgreSQL 14 built with lz4 (Debian's is); elsewhere the default is kept. Partitions made
-- later take the parent's setting; existing ones need their own.
DO $$
DECLARE
    part REGCLASS;
BEGIN
    EXECUTE 'ALTER TABLE audit_messages ALTER COLUMN body SET COMPRESSION lz4';
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                WHERE inhparent = 'audit_messages'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN body SET COMPRESSION lz4', part);
    END LOOP;
EXCEPTION WHEN others THEN
    RAISE NOTICE 'audit_messages.body keeps the default compression: %', SQLERRM;
END $$;

-- Exchanges per UTC day and the filterable columns, kept by the writer in the same
-- transaction as the records, so that the auditor's chart and counts read a few rows per
-- day instead of every record. Derived data: `verify` never reads it, and it is not
-- append-only (the writer adds to its counts; an archive subtracts what it removes).
-- Absent values are stored as '' so that they take part in the key.
CREATE TABLE audit_daily (
    day        TEXT   NOT NULL,
    node_id    TEXT   NOT NULL,
    consumer   TEXT   NOT NULL,
    provider   TEXT   NOT NULL,
    service    TEXT   NOT NULL,
    operation  TEXT   NOT NULL,
    outcome    TEXT   NOT NULL,
    fault_code TEXT   NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (day, node_id, consumer, provider, service, operation, outcome, fault_code)
);

INSERT INTO audit_daily
SELECT to_char(received_at, 'YYYY-MM-DD'), node_id, COALESCE(consumer, ''),
       COALESCE(provider, ''), COALESCE(service, ''), COALESCE(operation, ''), outcome,
       COALESCE(fault_code, ''), COUNT(*)
FROM audit_records GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- Roles that already write or read the audit records (granted by `lienthong audit migrate
-- --gateway-role/--auditor-role` before this table existed) get the same on audit_daily,
-- so that an upgrade does not refuse every exchange until the grants are run again.
DO $$
DECLARE
    r TEXT;
BEGIN
    FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
             WHERE table_schema = current_schema() AND table_name = 'audit_records'
               AND privilege_type = 'INSERT' AND grantee <> current_user LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON audit_daily TO %I', r);
    END LOOP;
    FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
             WHERE table_schema = current_schema() AND table_name = 'audit_records'
               AND privilege_type = 'SELECT' AND grantee <> current_user LOOP
        EXECUTE format('GRANT SELECT ON audit_daily TO %I', r);
    END LOOP;
END $$;
