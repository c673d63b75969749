-- REST Idempotency-Key answers, shared by every gmail-api-server instance on this database,
-- so a retry that a load balancer sends to another instance still sends nothing twice.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- 0 while the first request runs, then the HTTP status of its answer.
    status BIGINT NOT NULL,
    body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
