-- CSV exports: when an export's file expires, and the key that signs download links.

-- Until when a job's output (an export's file) is kept; the worker deletes the file after it.
ALTER TABLE jobs ADD COLUMN expires_at timestamptz;
CREATE INDEX jobs_expiring ON jobs (expires_at) WHERE file_id IS NOT NULL AND kind = 'EXPORT';

-- The key that signs download links (HMAC-SHA256), beside the other secrets every instance
-- shares without configuration (0006). Rotate with UPDATE: every link signed before stops
-- working.
INSERT INTO app_secrets (name, secret)
VALUES ('export_links', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
