-- A consent page's decision is spent here, not only in the browser's session cookie (which an
-- old copy restores): one row per authorization request decided, with its outcome (the
-- redirect sent back, sealed: it carries the code) so a repeat of the same decision (a
-- double click, a replayed cookie) answers the same redirect and approves nothing more; kept
-- a while past the request's expiry, after which the request is refused as expired anyway.
CREATE TABLE IF NOT EXISTS oauth_decisions (
    request_id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    outcome TEXT
);
