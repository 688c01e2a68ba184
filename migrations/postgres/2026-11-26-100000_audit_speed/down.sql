DROP TABLE audit_daily;
ALTER TABLE audit_messages ALTER COLUMN body SET COMPRESSION DEFAULT;
CREATE INDEX audit_records_node_seq ON audit_records (node_id, seq);
