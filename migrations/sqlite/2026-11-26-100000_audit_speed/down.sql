DROP TABLE audit_daily;
