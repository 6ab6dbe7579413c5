-- Every row knows its organisation, first in every key (issue #24): the primary, unique and
-- foreign keys of every per-organisation table, and the indexes of per-organisation queries,
-- lead with tenant_id. An organisation's rows then sit together in every index, and a
-- distributed PostgreSQL (Citus, distributing each table by tenant_id) can keep each
-- organisation on one node: docs/operations.md, "Sharding by organisation".
--
-- The tables that lacked tenant_id (user_roles, file_chunks, the job tables, console_sessions)
-- get it from their parent row. What still looks rows up across organisations keeps an index
-- that does not lead with tenant_id, for that look-up alone (tests/test_row_security.py lists
-- them): a token or link by its hash, a job or token by its id for the worker and the sockets'
-- revocation check, the worker's sweeps (unfinished jobs, expired exports, old deliveries,
-- welcome e-mail requests).
--
-- One transaction, holding every table it changes until it commits: the API waits meanwhile
-- (docs/operations.md says how long, measured on a million users).

-- The keys are built in memory, not in temporary files (a million users' roles: 1.3 million
-- rows, for each of their two indexes).
SET LOCAL maintenance_work_mem = '256MB';

-- The foreign keys that name a parent by its id alone go first; they come back below with the
-- organisation in them.
ALTER TABLE user_roles
    DROP CONSTRAINT user_roles_user_id_fkey, DROP CONSTRAINT user_roles_platform_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_actor_token_id_fkey;
ALTER TABLE file_chunks DROP CONSTRAINT file_chunks_file_id_fkey, DROP CONSTRAINT file_chunks_pkey;
ALTER TABLE jobs DROP CONSTRAINT jobs_actor_token_id_fkey, DROP CONSTRAINT jobs_file_id_fkey;
ALTER TABLE job_row_errors DROP CONSTRAINT job_row_errors_job_id_fkey,
    DROP CONSTRAINT job_row_errors_pkey;
ALTER TABLE job_row_plans DROP CONSTRAINT job_row_plans_job_id_fkey,
    DROP CONSTRAINT job_row_plans_pkey;
ALTER TABLE job_chunks DROP CONSTRAINT job_chunks_job_id_fkey, DROP CONSTRAINT job_chunks_pkey;
ALTER TABLE job_keys DROP CONSTRAINT job_keys_pkey;
ALTER TABLE email_recipients DROP CONSTRAINT email_recipients_job_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_platform_id_fkey;
ALTER TABLE console_sessions DROP CONSTRAINT console_sessions_token_id_fkey,
    DROP CONSTRAINT console_sessions_pkey;

-- The parents: (tenant_id, id). A user's (tenant_id, id) was unique already (0008).
ALTER TABLE users DROP CONSTRAINT users_pkey,
    ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_tenant_id_key;
ALTER TABLE platforms DROP CONSTRAINT platforms_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE files DROP CONSTRAINT files_pkey, ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE jobs DROP CONSTRAINT jobs_pkey, ADD PRIMARY KEY (tenant_id, id);
-- The worker is handed a job by its id alone (jobs/lifecycle.py).
CREATE INDEX jobs_id ON jobs (id);
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (tenant_id, id);
-- The primary key covers it now.
DROP INDEX events_tenant;
-- A request's token is found by its hash, and an open socket's by its id (roster.revocation),
-- before anyone knows the organisation. 256 random bits: two tokens never share a hash, and
-- the hash needs no unique key of its own (which would not lead with the organisation).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_pkey, ADD PRIMARY KEY (tenant_id, id),
    DROP CONSTRAINT api_tokens_token_hash_key;
CREATE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_id ON api_tokens (id);
-- A sign-in link is opened by its hash alone, as a token is; expired ones are pruned per
-- organisation, by the next link made for it.
ALTER TABLE console_links DROP CONSTRAINT console_links_pkey,
    ADD PRIMARY KEY (tenant_id, link_hash);
CREATE INDEX console_links_hash ON console_links (link_hash);
DROP INDEX console_links_expired;
CREATE INDEX console_links_expired ON console_links (tenant_id, expires_at);
-- A set-password link is found by its hash alone too.
DROP INDEX set_password_tokens_hash;
CREATE INDEX set_password_tokens_hash ON set_password_tokens (token_hash);

-- The children: the organisation from the parent row. The roles, as many as the users or more,
-- are written again in a table of their own, in key order (at a million users an UPDATE of
-- each row in place took four times as long, and left as many dead rows behind); nothing else
-- refers to the table.
CREATE TABLE user_roles_keyed (
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    platform_id uuid NOT NULL,
    role text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO user_roles_keyed (tenant_id, user_id, platform_id, role, granted_at)
SELECT u.tenant_id, r.user_id, r.platform_id, r.role, r.granted_at
FROM user_roles r JOIN users u ON u.id = r.user_id
ORDER BY 1, 2, 3, 4;
DROP TABLE user_roles;
ALTER TABLE user_roles_keyed RENAME TO user_roles;
ALTER TABLE user_roles
    ADD CONSTRAINT user_roles_pkey PRIMARY KEY (tenant_id, user_id, platform_id, role),
    ADD FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    ADD FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms (tenant_id, id)
        ON DELETE CASCADE;
CREATE INDEX user_roles_platform ON user_roles (tenant_id, platform_id, role, user_id);
-- A new table has no statistics until autovacuum comes by (if it runs at all): counts of a
-- role's holders would be planned blind meanwhile.
ANALYZE user_roles;

-- The others hold a few rows per job or file: the organisation is written into each row in
-- place, their keys dropped above so that the UPDATE maintains no index it rebuilds anyway.

ALTER TABLE file_chunks ADD COLUMN tenant_id uuid;
UPDATE file_chunks c SET tenant_id = f.tenant_id FROM files f WHERE f.id = c.file_id;
ALTER TABLE file_chunks ALTER COLUMN tenant_id SET NOT NULL,
    ADD PRIMARY KEY (tenant_id, file_id, seq),
    ADD FOREIGN KEY (tenant_id, file_id) REFERENCES files (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE job_row_errors ADD COLUMN tenant_id uuid;
UPDATE job_row_errors e SET tenant_id = j.tenant_id FROM jobs j WHERE j.id = e.job_id;
ALTER TABLE job_row_errors ALTER COLUMN tenant_id SET NOT NULL,
    ADD PRIMARY KEY (tenant_id, job_id, row, seq),
    ADD FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE;
DROP INDEX job_row_errors_user;
CREATE INDEX job_row_errors_user ON job_row_errors (tenant_id, user_id) WHERE user_id IS NOT NULL;

ALTER TABLE job_row_plans ADD COLUMN tenant_id uuid;
UPDATE job_row_plans p SET tenant_id = j.tenant_id FROM jobs j WHERE j.id = p.job_id;
ALTER TABLE job_row_plans ALTER COLUMN tenant_id SET NOT NULL,
    ADD PRIMARY KEY (tenant_id, job_id, row),
    ADD FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE;

ALTER TABLE job_chunks ADD COLUMN tenant_id uuid;
UPDATE job_chunks c SET tenant_id = j.tenant_id FROM jobs j WHERE j.id = c.job_id;
ALTER TABLE job_chunks ALTER COLUMN tenant_id SET NOT NULL,
    ADD PRIMARY KEY (tenant_id, job_id, after_record),
    ADD FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE;

-- Scratch rows without a foreign key (0003): those of a job gone with its organisation go too.
ALTER TABLE job_keys ADD COLUMN tenant_id uuid;
UPDATE job_keys k SET tenant_id = j.tenant_id FROM jobs j WHERE j.id = k.job_id;
DELETE FROM job_keys WHERE tenant_id IS NULL;
ALTER TABLE job_keys ALTER COLUMN tenant_id SET NOT NULL,
    ADD PRIMARY KEY (tenant_id, job_id, kind, key);

ALTER TABLE console_sessions ADD COLUMN tenant_id uuid;
UPDATE console_sessions s SET tenant_id = t.tenant_id FROM api_tokens t WHERE t.id = s.token_id;
ALTER TABLE console_sessions ALTER COLUMN tenant_id SET NOT NULL,
    ADD PRIMARY KEY (tenant_id, token_id),
    ADD FOREIGN KEY (tenant_id, token_id) REFERENCES api_tokens (tenant_id, id)
        ON DELETE CASCADE;

-- Foreign keys that had tenant_id beside them all along. A token or file that goes leaves its
-- events and jobs (SET NULL of the one column: the organisation stays).
ALTER TABLE events
    ADD FOREIGN KEY (tenant_id, actor_token_id) REFERENCES api_tokens (tenant_id, id)
        ON DELETE SET NULL (actor_token_id);
ALTER TABLE jobs
    ADD FOREIGN KEY (tenant_id, actor_token_id) REFERENCES api_tokens (tenant_id, id)
        ON DELETE SET NULL (actor_token_id),
    ADD FOREIGN KEY (tenant_id, file_id) REFERENCES files (tenant_id, id)
        ON DELETE SET NULL (file_id);
ALTER TABLE email_recipients
    ADD FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE;
DROP INDEX email_recipients_pending;
CREATE INDEX email_recipients_pending ON email_recipients (tenant_id, job_id, position)
    WHERE state IN ('PENDING', 'SENDING');
ALTER TABLE webhook_deliveries
    ADD FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms (tenant_id, id)
        ON DELETE CASCADE;
