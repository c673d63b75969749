-- Audit entries are listed and paged by id, which sorts by time.
DROP INDEX IF EXISTS audit_log_user_at;
CREATE INDEX IF NOT EXISTS audit_log_user_id ON audit_log (user_id, id);
