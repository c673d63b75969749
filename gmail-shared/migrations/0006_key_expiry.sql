-- API keys stop working at expires_at (unix seconds); keys made before this have none.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
