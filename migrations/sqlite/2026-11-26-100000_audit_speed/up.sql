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
SELECT substr(received_at, 1, 10), node_id, COALESCE(consumer, ''), COALESCE(provider, ''),
       COALESCE(service, ''), COALESCE(operation, ''), outcome, COALESCE(fault_code, ''),
       COUNT(*)
FROM audit_records GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
