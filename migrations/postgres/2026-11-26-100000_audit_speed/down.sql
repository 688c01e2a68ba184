DROP TABLE audit_daily;
DO $$
DECLARE
    part REGCLASS;
BEGIN
    EXECUTE 'ALTER TABLE audit_messages ALTER COLUMN body SET COMPRESSION DEFAULT';
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                WHERE inhparent = 'audit_messages'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN body SET COMPRESSION DEFAULT', part);
    END LOOP;
EXCEPTION WHEN others THEN
    NULL;
END $$;
CREATE INDEX audit_records_node_seq ON audit_records (node_id, seq);
