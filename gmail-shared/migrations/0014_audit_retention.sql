-- Audit entries past the retention are deleted hourly, across all accounts: the purge finds
-- them by time alone, which neither (account, at) nor (user_id, id) serves.
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
