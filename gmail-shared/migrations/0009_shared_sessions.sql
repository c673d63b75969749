-- MCP sessions that any instance can serve (several instances behind a load balancer on one
-- PostgreSQL). A Streamable HTTP session is restored from its `initialize` parameters by
-- whichever instance a request lands on; a legacy SSE stream stays on the instance that holds
-- it, and a POST /message that lands elsewhere is queued in mcp_relay for that instance (which
-- is told with NOTIFY, and also polls). Instances write a heartbeat, so the sessions of one that
-- died are known to be gone.
CREATE TABLE IF NOT EXISTS mcp_sessions (
    id TEXT PRIMARY KEY,
    transport TEXT NOT NULL,
    instance TEXT,
    user_id TEXT,
    key_id TEXT,
    state TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS mcp_instances (
    id TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS mcp_relay (
    id TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    session_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_us BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mcp_relay_instance ON mcp_relay (instance, created_us);
