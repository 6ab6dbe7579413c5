-- Row-level security, a second lock behind every query's own `tenant_id = $1` (issue #24).
--
-- The API and the worker act as roster_app (db/tenancy.py: a startup parameter of each
-- connection, whatever role DATABASE_URL names, a superuser's too), which `roster migrate`
-- creates: it owns nothing and cannot bypass row-level security. On every per-organisation
-- table it sees and writes only the rows of the organisation its transaction names in
-- `roster.tenant_id` (set_config(…, true): it lasts as long as the transaction). A transaction
-- that names none sees no row and can write none. FORCE holds the tables' owner to the
-- policies too; the owner (whoever migrates) has a policy of its own that lets it span
-- organisations, for migrations, the operator's CLI and the functions below.
--
-- The paths that legitimately span organisations are these SECURITY DEFINER functions, owned
-- by the owner, with a fixed search_path, executable by roster_app alone; each returns no more
-- than its caller needs to go on as one organisation (docs/operations.md lists them, and
-- tests/test_row_security.py keeps the list and this file the same).

-- The organisation of the current transaction, NULL when it names none. The policies read it
-- through a subquery, which PostgreSQL evaluates once per statement (an InitPlan) rather than
-- once per row, or per row of a LATERAL join (an export's roles: a million times); the planner
-- still compares it with the query's own tenant_id, and uses it in an index condition.
CREATE FUNCTION roster_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('roster.tenant_id', true), '')::uuid $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'users', 'user_roles', 'user_counts', 'platforms', 'api_tokens', 'console_sessions',
        'console_links', 'events', 'files', 'file_chunks', 'jobs', 'job_row_errors',
        'job_row_plans', 'job_keys', 'job_chunks', 'email_recipients', 'set_password_tokens',
        'webhook_outbox', 'webhook_deliveries'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY roster_organisation ON %I TO roster_app'
            ' USING (tenant_id = (SELECT roster_tenant_id()))'
            ' WITH CHECK (tenant_id = (SELECT roster_tenant_id()))',
            t
        );
        EXECUTE format('CREATE POLICY roster_owner ON %I TO CURRENT_USER USING (true)', t);
    END LOOP;
END
$$;

-- What roster_app does, and nothing more: no TRUNCATE, REFERENCES or TRIGGER anywhere, no
-- access to schema_migrations. Deletions a cascade makes run as the owner.
GRANT SELECT ON tenants, app_secrets, search_trigrams, search_trigrams_sampled TO roster_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, platforms, files, job_keys, job_chunks,
    set_password_tokens TO roster_app;
GRANT SELECT, INSERT, UPDATE ON user_counts, api_tokens, console_sessions, jobs, job_row_errors,
    email_recipients, webhook_deliveries TO roster_app;
GRANT SELECT, INSERT, DELETE ON user_roles, webhook_outbox TO roster_app;
GRANT SELECT, INSERT ON events, file_chunks, job_row_plans TO roster_app;
GRANT USAGE ON SEQUENCE events_id_seq TO roster_app;

-- The webhook outbox's trigger (0009) reads a user's roles within the event's organisation,
-- through the keys that lead with it.
CREATE OR REPLACE FUNCTION webhook_outbox_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_outbox (tenant_id, event_id, platform_ids)
    SELECT n.tenant_id, n.id,
        coalesce(array_agg(DISTINCT r.platform_id) FILTER (WHERE r.platform_id IS NOT NULL), '{}')
    FROM new_events n
    LEFT JOIN (user_roles r JOIN platforms p ON p.tenant_id = r.tenant_id
                                              AND p.id = r.platform_id
                                              AND p.webhook_url IS NOT NULL)
        ON r.tenant_id = n.tenant_id AND r.user_id = n.target_id
    WHERE n.target_type = 'User'
        AND n.tenant_id IN (SELECT tenant_id FROM platforms WHERE webhook_url IS NOT NULL)
    GROUP BY n.tenant_id, n.id;
    RETURN NULL;
END
$$;

-- Whether a token still opens the API (0016: a console session ends 7 days after sign-in or
-- 12 hours unused): one definition for the look-up below and `roster token list`.
CREATE FUNCTION roster_token_active(t api_tokens) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT t.revoked_at IS NULL AND (
        t.kind = 'api'
        OR EXISTS (
            SELECT FROM console_sessions s
            WHERE s.tenant_id = t.tenant_id AND s.token_id = t.id AND s.expires_at > now()
                AND s.last_used_at > now() - interval '12 hours'
        )
    )
$$;

-- The paths across organisations.

-- Every request: its token, by its hash, before anyone knows the organisation.
CREATE FUNCTION roster_find_token(wanted bytea)
RETURNS TABLE (id uuid, tenant_id uuid, name text, scope text, kind text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT t.id, t.tenant_id, t.name, t.scope, t.kind FROM api_tokens t
    WHERE t.token_hash = wanted AND roster_token_active(t)
$$;

-- The open WebSockets' tokens, still active or not (roster/revocation.py, every 2 seconds).
CREATE FUNCTION roster_active_tokens(ids uuid[]) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT t.id FROM api_tokens t WHERE t.id = ANY(ids) AND roster_token_active(t) $$;

-- A console sign-in link, by its hash: spent now and its organisation and scope returned, or
-- why it cannot be (LINK_USED, LINK_EXPIRED, LINK_UNKNOWN).
CREATE FUNCTION roster_use_console_link(wanted bytea)
RETURNS TABLE (tenant_id uuid, scope text, refusal text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    used boolean;
BEGIN
    RETURN QUERY
        UPDATE console_links l SET used_at = now()
        WHERE l.link_hash = wanted AND l.used_at IS NULL AND l.expires_at > now()
        RETURNING l.tenant_id, l.scope, NULL::text;
    IF NOT FOUND THEN
        SELECT l.used_at IS NOT NULL INTO used FROM console_links l WHERE l.link_hash = wanted;
        RETURN QUERY SELECT NULL::uuid, NULL::text,
            CASE WHEN used IS NULL THEN 'LINK_UNKNOWN'
                 WHEN used THEN 'LINK_USED' ELSE 'LINK_EXPIRED' END;
    END IF;
END
$$;

-- A set-password link, by its hash (the link names no organisation), used or expired too,
-- with what the page shows of its user.
CREATE FUNCTION roster_find_set_password_link(wanted bytea)
RETURNS TABLE (
    tenant_id uuid, user_id uuid, expires_at timestamptz, used_at timestamptz,
    expired boolean, username text, email text, language text, status text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT t.tenant_id, t.user_id, t.expires_at, t.used_at, t.expires_at <= now(),
        u.username, u.email, u.language, u.status
    FROM set_password_tokens t
    JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
    WHERE t.token_hash = wanted
$$;

-- The organisation of a job the worker was handed (by its id alone), or of an export a signed
-- link names.
CREATE FUNCTION roster_job_tenant(job uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT j.tenant_id FROM jobs j WHERE j.id = job $$;

-- The worker's recovery: every unfinished job, oldest first.
CREATE FUNCTION roster_unfinished_jobs()
RETURNS TABLE (id uuid, tenant_id uuid, kind text, status text, queue_id text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT j.id, j.tenant_id, j.kind, j.status, j.queue_id FROM jobs j
    WHERE j.status IN ('QUEUED', 'RUNNING')
    ORDER BY j.created_at
$$;

-- The worker's sweeps: uploads that never became a job, and exports' files past their expiry.
CREATE FUNCTION roster_delete_abandoned_files(older_than float8) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM files
        WHERE NOT complete AND created_at < now() - make_interval(secs => older_than)
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;

CREATE FUNCTION roster_delete_expired_export_files() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM files f USING jobs j
        WHERE j.kind = 'EXPORT' AND j.file_id IS NOT NULL AND j.expires_at <= now()
            AND f.tenant_id = j.tenant_id AND f.id = j.file_id
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;

-- The webhook dispatcher's round: the organisations with queued events (a loose index scan),
-- each then served as itself.
CREATE FUNCTION roster_outbox_tenants() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH RECURSIVE t AS (
        (SELECT o.tenant_id FROM webhook_outbox o ORDER BY o.tenant_id LIMIT 1)
        UNION ALL
        SELECT (SELECT o.tenant_id FROM webhook_outbox o WHERE o.tenant_id > t.tenant_id
                ORDER BY o.tenant_id LIMIT 1)
        FROM t WHERE t.tenant_id IS NOT NULL
    )
    SELECT t.tenant_id FROM t WHERE t.tenant_id IS NOT NULL
$$;

-- The deliverer's look for webhooks with deliveries due, each then served as its organisation.
CREATE FUNCTION roster_due_platforms() RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT p.tenant_id, p.id
    FROM platforms p
    WHERE p.webhook_url IS NOT NULL AND p.webhook_disabled_at IS NULL AND EXISTS (
        SELECT 1 FROM webhook_deliveries d
        WHERE d.tenant_id = p.tenant_id AND d.platform_id = p.id AND d.status = 'PENDING'
            AND d.next_attempt_at <= now()
    )
    ORDER BY p.tenant_id, p.id
$$;

-- The retention sweeper: the oldest finished deliveries, a batch at a time (0015); rows another
-- worker is deleting are left to it.
CREATE FUNCTION roster_delete_finished_deliveries(older_than float8, batch int) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    WITH old AS (
        SELECT d.tenant_id, d.id FROM webhook_deliveries d
        WHERE d.status <> 'PENDING' AND d.last_attempt_at < now() - make_interval(secs => older_than)
        ORDER BY d.last_attempt_at
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM webhook_deliveries d USING old
        WHERE d.tenant_id = old.tenant_id AND d.id = old.id
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;

-- The dispatcher's fresh statistics of the deliveries (only a table's owner may ANALYZE it).
CREATE FUNCTION roster_analyze_deliveries() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$ BEGIN ANALYZE webhook_deliveries; END $$;

-- The welcome e-mail pass (0008), which holds the mark's lock (roster_app may lock that one
-- row) while it turns requests into jobs, each as its organisation. Open requests: those above
-- the mark whose user is active and has had no e-mail job since.
CREATE FUNCTION roster_open_welcome_requests(after bigint, batch int)
RETURNS TABLE (
    id bigint, tenant_id uuid, user_id uuid, actor_token_id uuid, actor text, source text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT e.id, e.tenant_id, e.target_id, e.actor_token_id, e.actor, e.data->>'job'
    FROM events e
    JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.target_id AND u.status = 'ACTIVE'
    WHERE e.action = 'user.welcome_email_requested' AND e.id > after
      AND NOT EXISTS (
          SELECT 1 FROM email_recipients r
          WHERE r.tenant_id = e.tenant_id AND r.user_id = e.target_id
              AND r.created_at >= e.created_at
      )
    ORDER BY e.id
    LIMIT batch
$$;

-- An event is written by a transaction that may commit after later ids have: the mark moves
-- only past requests older than any transaction that writes events lasts (an import's chunk
-- takes seconds), so none can commit below it afterwards; and no further than `upto`.
CREATE FUNCTION roster_move_welcome_mark(after bigint, upto bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    UPDATE welcome_request_mark SET last_event_id = coalesce((
        SELECT max(e.id) FROM events e
        WHERE e.action = 'user.welcome_email_requested' AND e.id > after
          AND (upto IS NULL OR e.id <= upto)
          AND e.created_at < now() - interval '10 minutes'
    ), last_event_id)
$$;
GRANT SELECT, UPDATE ON welcome_request_mark TO roster_app;

-- How many users every organisation has together, which says whether the sampled trigrams
-- (0012) are still trusted; and the sampling itself, which reads every organisation's users.
CREATE FUNCTION roster_users_total() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$ SELECT coalesce(sum(c.count), 0)::bigint FROM user_counts c $$;
ALTER FUNCTION roster_sample_search_trigrams(boolean)
    SECURITY DEFINER SET search_path = public, pg_temp;

-- An export stops its own COPY from its other connection (jobs/export_file.py), which only a
-- superuser or the backend's own role may signal: a backend of this database and of the
-- caller's login role, and no other.
CREATE FUNCTION roster_cancel_backend(backend int) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    SELECT coalesce((
        SELECT pg_cancel_backend(a.pid) FROM pg_stat_activity a
        WHERE a.pid = backend AND a.datname = current_database() AND a.usename = session_user
    ), false)
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'roster_find_token(bytea)', 'roster_active_tokens(uuid[])',
        'roster_use_console_link(bytea)', 'roster_find_set_password_link(bytea)',
        'roster_job_tenant(uuid)', 'roster_unfinished_jobs()',
        'roster_delete_abandoned_files(float8)', 'roster_delete_expired_export_files()',
        'roster_outbox_tenants()', 'roster_due_platforms()',
        'roster_delete_finished_deliveries(float8, int)', 'roster_analyze_deliveries()',
        'roster_open_welcome_requests(bigint, int)', 'roster_move_welcome_mark(bigint, bigint)',
        'roster_users_total()',
        'roster_sample_search_trigrams(boolean)', 'roster_cancel_backend(int)'
    ] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO roster_app', f);
    END LOOP;
END
$$;
