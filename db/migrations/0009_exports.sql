-- CSV exports: when an export's file expires, and the key that signs download links.

-- Until when a job's output (an export's file) is kept; the worker deletes the file after it.
ALTER TABLE jobs ADD COLUMN expires_at timestamptz;
CREATE INDEX jobs_expiring ON jobs (expires_at) WHERE file_id IS NOT NULL AND kind = 'EXPORT';

-- Keys for signing links (HMAC-SHA256), shared by every API instance without configuration.
-- Not a tenant's data. gen_random_uuid() draws from PostgreSQL's strong random source: two of
-- them, hashed, give 244 random bits. Rotate with UPDATE (every link signed before stops working).
CREATE TABLE signing_keys (
    name text PRIMARY KEY,
    key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO signing_keys (name, key)
VALUES ('export_links', sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')));
