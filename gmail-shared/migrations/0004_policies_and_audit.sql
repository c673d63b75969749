-- Send guardrails and tool limits per user and per API key (JSON; they only narrow the
-- server's), and the audit log of write actions (never a body).
ALTER TABLE users ADD COLUMN policy TEXT;
ALTER TABLE api_keys ADD COLUMN policy TEXT;

CREATE TABLE IF NOT EXISTS audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    key_id TEXT,
    entry TEXT NOT NULL,
    account TEXT NOT NULL,
    action TEXT NOT NULL,
    recipients TEXT NOT NULL,
    ids TEXT NOT NULL,
    request_id TEXT,
    outcome TEXT NOT NULL,
    detail TEXT
);

CREATE INDEX IF NOT EXISTS audit_log_user_at ON audit_log (user_id, at);
CREATE INDEX IF NOT EXISTS audit_log_account_at ON audit_log (account, at);
