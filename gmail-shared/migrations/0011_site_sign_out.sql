-- Signing out of the team site ends every session cookie of the user issued before it (a
-- cookie copied elsewhere included): sessions carry when they were signed in, in ms.
ALTER TABLE users ADD COLUMN signed_out_at BIGINT NOT NULL DEFAULT 0;
