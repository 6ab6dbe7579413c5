-- Look-alike identifiers, the cursor secret, and row errors a deleted user can be traced in.

-- The confusable skeleton (Unicode TS #39, case-folded) of each user's username and e-mail,
-- computed by rules/identifiers.py on every write. Unique per tenant, so that no race lets two
-- users look alike ("admin" and "аdmin" with a Cyrillic а). The skeletons come from a Python
-- table, not from SQL: `roster migrate` fills them in for users stored before this migration
-- (NULL until then, and for the later of two stored look-alikes, which it reports).
ALTER TABLE users ADD COLUMN username_skeleton text, ADD COLUMN email_skeleton text;
CREATE UNIQUE INDEX users_tenant_username_skeleton_key ON users (tenant_id, username_skeleton);
CREATE UNIQUE INDEX users_tenant_email_skeleton_key ON users (tenant_id, email_skeleton);

-- Secrets that every API instance must share, made once per database by this migration (under
-- the migration lock: no two instances can each make their own). 'cursor' seals page cursors
-- unless ROSTER_CURSOR_SECRET is set. gen_random_uuid() draws from PostgreSQL's strong random
-- source: two of them give 244 random bits.
CREATE TABLE app_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO app_secrets (name, secret)
VALUES ('cursor', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));

-- Whom a row error is about, so that deleting the user deletes what the error kept of them:
-- the user the row matched (when it matched one), and the row's username and e-mail in lower
-- case (when they could be read), with the first problem of the row, as its cells.
ALTER TABLE job_row_errors ADD COLUMN user_id uuid, ADD COLUMN user_keys text[];
CREATE INDEX job_row_errors_user ON job_row_errors (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX job_row_errors_user_keys ON job_row_errors USING gin (user_keys)
    WHERE user_keys IS NOT NULL;
