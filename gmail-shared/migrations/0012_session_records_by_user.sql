-- Each user keeps at most a fixed number of session records (the newest): trimming them on
-- every open reads a user's records by creation time.
CREATE INDEX IF NOT EXISTS mcp_sessions_user ON mcp_sessions (user_id, created_at);
