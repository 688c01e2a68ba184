DROP TABLE audit_archives;
DROP TABLE audit_seals;
DROP TABLE audit_messages;
DROP TABLE audit_records;
