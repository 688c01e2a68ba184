-- The exchange log (one row per exchange), its seals and the archives cut from it.
-- Timestamps are UTC (timestamp without time zone). See docs/AUDIT.md for the chain, the
-- canonical encoding, and the roles to create (migrate as owner; gateway INSERT+SELECT).

-- Partitioned by month on received_at so that old months can be archived and detached,
-- and time-range queries touch only the months they name.
CREATE TABLE audit_records (
    node_id            TEXT    NOT NULL,
    seq                BIGINT  NOT NULL,
    id                 TEXT    NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    forwarded_at       TIMESTAMP,
    answered_at        TIMESTAMP,
    remote_addr        TEXT    NOT NULL,
    consumer           TEXT,
    consumer_cert      TEXT,
    provider           TEXT,
    service            TEXT,
    operation          TEXT,
    provider_endpoint  TEXT,
    soap_version       TEXT,
    outcome            TEXT    NOT NULL,
    fault_code         TEXT,
    fault_reason       TEXT,
    http_status        INTEGER NOT NULL,
    request_in_sha256  TEXT,
    request_in_size    BIGINT,
    request_out_sha256 TEXT,
    request_out_size   BIGINT,
    response_in_sha256 TEXT,
    response_in_size   BIGINT,
    response_out_sha256 TEXT,
    response_out_size  BIGINT,
    request_mapping    TEXT,
    response_mapping   TEXT,
    prev_hash          TEXT    NOT NULL,
    hash               TEXT    NOT NULL,
    -- A unique key on a partitioned table must include the partition key.
    PRIMARY KEY (node_id, seq, received_at)
) PARTITION BY RANGE (received_at);

CREATE TABLE audit_records_default PARTITION OF audit_records DEFAULT;

CREATE INDEX audit_records_time ON audit_records (received_at, id);
CREATE INDEX audit_records_consumer_time ON audit_records (consumer, received_at);
CREATE INDEX audit_records_provider_time ON audit_records (provider, received_at);
CREATE INDEX audit_records_service_time ON audit_records (service, received_at);
CREATE INDEX audit_records_id ON audit_records (id);
CREATE INDEX audit_records_node_seq ON audit_records (node_id, seq);

-- Stored message bytes, apart so that scans of the record table never drag them along.
-- kind: request_in, request_out, response_in, response_out. Part of the hashed content.
CREATE TABLE audit_messages (
    node_id     TEXT      NOT NULL,
    seq         BIGINT    NOT NULL,
    kind        TEXT      NOT NULL,
    received_at TIMESTAMP NOT NULL,
    body        BYTEA     NOT NULL,
    PRIMARY KEY (node_id, seq, kind, received_at)
) PARTITION BY RANGE (received_at);

CREATE TABLE audit_messages_default PARTITION OF audit_messages DEFAULT;

-- Creates the month's partition holding `ts` if missing. SECURITY DEFINER so that the
-- gateway role (INSERT/SELECT only) can extend the table without owning it.
CREATE FUNCTION audit_ensure_partition(ts TIMESTAMP) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    lo   TIMESTAMP := date_trunc('month', ts);
    hi   TIMESTAMP := date_trunc('month', ts) + INTERVAL '1 month';
    tbl  TEXT;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['audit_records', 'audit_messages'] LOOP
        IF to_regclass(format('%I.%I', current_schema(), tbl || '_' || to_char(lo, 'YYYY_MM'))) IS NULL THEN
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                           current_schema(), tbl || '_' || to_char(lo, 'YYYY_MM'),
                           current_schema(), tbl, lo, hi);
            -- Row triggers are cloned onto partitions; TRUNCATE triggers are not.
            EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %I.%I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_refuse_change()',
                           current_schema(), tbl || '_' || to_char(lo, 'YYYY_MM'), current_schema());
        END IF;
    END LOOP;
END $$;


CREATE TABLE audit_seals (
    node_id    TEXT      NOT NULL,
    seq        BIGINT    NOT NULL,
    head_hash  TEXT      NOT NULL,
    sealed_at  TIMESTAMP NOT NULL,
    reason     TEXT      NOT NULL,
    key_id     TEXT      NOT NULL,
    public_key TEXT      NOT NULL,
    signature  TEXT      NOT NULL,
    PRIMARY KEY (node_id, seq)
);

CREATE TABLE audit_archives (
    node_id         TEXT      NOT NULL,
    first_seq       BIGINT    NOT NULL,
    last_seq        BIGINT    NOT NULL,
    first_prev_hash TEXT      NOT NULL,
    last_hash       TEXT      NOT NULL,
    record_count    BIGINT    NOT NULL,
    before_time     TIMESTAMP NOT NULL,
    file_name       TEXT      NOT NULL,
    file_sha256     TEXT      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (node_id, last_seq)
);

-- Append-only. UPDATE and TRUNCATE are always refused; DELETE only of records (and seals)
-- that an archive row already covers. The owner can still disable triggers, which is why
-- the gateway must not connect as the owner, and why `verify` exists.
CREATE FUNCTION audit_refuse_change() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END $$;

CREATE FUNCTION audit_delete_archived_only() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_archives a
                   WHERE a.node_id = OLD.node_id AND OLD.seq <= a.last_seq) THEN
        RAISE EXCEPTION '%: only archived rows may be deleted', TG_TABLE_NAME;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_records_delete BEFORE DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_delete_archived_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_messages_no_update BEFORE UPDATE ON audit_messages
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_messages_delete BEFORE DELETE ON audit_messages
    FOR EACH ROW EXECUTE FUNCTION audit_delete_archived_only();
CREATE TRIGGER audit_messages_no_truncate BEFORE TRUNCATE ON audit_messages
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_seals_delete BEFORE DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_delete_archived_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_archives_no_change BEFORE UPDATE OR DELETE ON audit_archives
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_archives_no_truncate BEFORE TRUNCATE ON audit_archives
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_records_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_messages_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

SELECT audit_ensure_partition((now() AT TIME ZONE 'UTC')::timestamp);
SELECT audit_ensure_partition((now() AT TIME ZONE 'UTC')::timestamp + INTERVAL '1 month');
