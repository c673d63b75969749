-- New mail as events. Each connected mailbox has a cursor into its Gmail history; a sync turns
-- the history since the cursor into events, stored (with one delivery row per matching
-- webhook) in the same transaction that moves the cursor, so a crash loses or doubles nothing.
-- Events are numbered per user (event_seqs): streams resume from a number.
CREATE TABLE IF NOT EXISTS event_cursors (
    user_id TEXT NOT NULL,
    account TEXT NOT NULL,
    history_id TEXT,
    hinted_at BIGINT NOT NULL DEFAULT 0,
    synced_at BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    watch_expires_at BIGINT,
    watch_renewed_at BIGINT NOT NULL DEFAULT 0,
    resyncs BIGINT NOT NULL DEFAULT 0,
    last_resync_at BIGINT,
    last_error TEXT,
    PRIMARY KEY (user_id, account)
);

CREATE TABLE IF NOT EXISTS event_seqs (
    user_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    account TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_user_seq ON events (user_id, seq);
CREATE INDEX IF NOT EXISTS events_created ON events (created_at);

CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    label_ids TEXT NOT NULL,
    query TEXT,
    account TEXT,
    secret TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    disabled_reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_user ON webhooks (user_id);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    claim TEXT,
    created_at BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at);
