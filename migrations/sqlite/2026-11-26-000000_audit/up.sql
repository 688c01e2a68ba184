-- The exchange log (one row per exchange), its seals and the archives cut from it.
-- Timestamps are UTC, stored by diesel as TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]', which sorts
-- in time order. See docs/AUDIT.md for the chain and the canonical encoding.

CREATE TABLE audit_records (
    node_id            TEXT    NOT NULL,
    seq                BIGINT  NOT NULL,   -- position in this node's chain, from 1
    id                 TEXT    NOT NULL,   -- exchange id (UUIDv7)
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
    PRIMARY KEY (node_id, seq)
);

-- The auditor's common queries: by time, by agency over time, by exchange id.
CREATE INDEX audit_records_time ON audit_records (received_at, id);
CREATE INDEX audit_records_consumer_time ON audit_records (consumer, received_at);
CREATE INDEX audit_records_provider_time ON audit_records (provider, received_at);
CREATE INDEX audit_records_service_time ON audit_records (service, received_at);
CREATE INDEX audit_records_id ON audit_records (id);

-- Stored message bytes, apart so that scans of the record table never drag them along.
-- kind: request_in, request_out, response_in, response_out. Part of the hashed content.
CREATE TABLE audit_messages (
    node_id     TEXT      NOT NULL,
    seq         BIGINT    NOT NULL,
    kind        TEXT      NOT NULL,
    received_at TIMESTAMP NOT NULL,
    body        BLOB      NOT NULL,
    PRIMARY KEY (node_id, seq, kind)
);

CREATE TABLE audit_seals (
    node_id    TEXT      NOT NULL,
    seq        BIGINT    NOT NULL,   -- chain length at the sealed head
    head_hash  TEXT      NOT NULL,
    sealed_at  TIMESTAMP NOT NULL,
    reason     TEXT      NOT NULL,
    key_id     TEXT      NOT NULL,   -- SHA-256 of the public key (DER SubjectPublicKeyInfo)
    public_key TEXT      NOT NULL,   -- PEM
    signature  TEXT      NOT NULL,   -- base64
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

-- Append-only: rows are never updated, and deleted only once an archive covers them.
-- (Anyone who can write the file can drop these triggers: `verify` is the real defence.)
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END;
CREATE TRIGGER audit_records_delete_archived_only BEFORE DELETE ON audit_records
WHEN NOT EXISTS (SELECT 1 FROM audit_archives a
                 WHERE a.node_id = OLD.node_id AND OLD.seq <= a.last_seq)
BEGIN SELECT RAISE(ABORT, 'audit_records: only archived records may be deleted'); END;
CREATE TRIGGER audit_messages_no_update BEFORE UPDATE ON audit_messages
BEGIN SELECT RAISE(ABORT, 'audit_messages is append-only'); END;
CREATE TRIGGER audit_messages_delete_archived_only BEFORE DELETE ON audit_messages
WHEN NOT EXISTS (SELECT 1 FROM audit_archives a
                 WHERE a.node_id = OLD.node_id AND OLD.seq <= a.last_seq)
BEGIN SELECT RAISE(ABORT, 'audit_messages: only archived records may be deleted'); END;
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
WHEN NOT EXISTS (SELECT 1 FROM audit_archives a
                 WHERE a.node_id = OLD.node_id AND OLD.seq <= a.last_seq)
BEGIN SELECT RAISE(ABORT, 'audit_seals: only archived seals may be deleted'); END;
CREATE TRIGGER audit_archives_no_update BEFORE UPDATE ON audit_archives
BEGIN SELECT RAISE(ABORT, 'audit_archives is append-only'); END;
CREATE TRIGGER audit_archives_no_delete BEFORE DELETE ON audit_archives
BEGIN SELECT RAISE(ABORT, 'audit_archives is append-only'); END;
