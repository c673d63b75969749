-- An authorization belongs to the browser that opened its start link (the hash of a cookie
-- set then) and remembers the address to suggest on the consent page.
ALTER TABLE oauth_states ADD COLUMN browser_hash TEXT;
ALTER TABLE oauth_states ADD COLUMN login_hint TEXT;
-- A disabled user's keys stop working and their open sessions close.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
