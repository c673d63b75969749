-- One-line setup (install.sh): a device asks for a key, its user approves it in the browser.
-- The device holds device_code (only its hash is here); the user compares user_code on both
-- sides. The key is made when the approved device polls, so no plaintext key is ever stored.
CREATE TABLE IF NOT EXISTS device_grants (
    device_hash TEXT PRIMARY KEY,
    user_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    approved_by TEXT REFERENCES users(id) ON DELETE CASCADE,
    denied BIGINT NOT NULL DEFAULT 0,
    issued BIGINT NOT NULL DEFAULT 0
);
