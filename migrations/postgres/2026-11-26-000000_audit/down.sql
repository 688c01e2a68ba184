DROP TABLE audit_archives;
DROP TABLE audit_seals;
DROP TABLE audit_messages;
DROP TABLE audit_records;
DROP FUNCTION audit_delete_archived_only();
DROP FUNCTION audit_refuse_change();
DROP FUNCTION audit_ensure_partition(TIMESTAMP);
