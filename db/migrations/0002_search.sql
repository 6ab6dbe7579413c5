-- Search: every word typed must match, as a substring, ignoring case and accents, somewhere in
-- username, e-mail, first or last name. One folded copy of those four fields per user, with a
-- trigram index, lets PostgreSQL find substrings without reading every row.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is only STABLE (its dictionary could change); naming the dictionary explicitly makes
-- the result fixed, which index expressions and generated columns require.
CREATE FUNCTION roster_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

-- Fields are joined by a line feed, which no search word contains and unaccent never produces
-- (it does produce spaces: ½ becomes " 1/2"), so no match spans two fields.
ALTER TABLE users ADD COLUMN search_text text GENERATED ALWAYS AS (
    roster_fold(username || E'\n' || email || E'\n' || first_name || E'\n' || last_name)
) STORED;

CREATE INDEX users_search_trgm ON users USING gin (search_text gin_trgm_ops);
-- INCLUDE the column an expression reads, so that counting can use the index alone.
CREATE INDEX users_tenant_email_domain ON users (tenant_id, lower(split_part(email, '@', 2)))
    INCLUDE (email);
CREATE INDEX users_tenant_status ON users (tenant_id, status);

-- Filters of the advanced search that a directory of a million users asks often enough to
-- deserve an index of their own.
CREATE INDEX users_tenant_language ON users (tenant_id, lower(language)) INCLUDE (language);
CREATE INDEX users_tenant_no_password ON users (tenant_id) WHERE password_hash IS NULL;
CREATE INDEX users_tenant_no_welcome ON users (tenant_id) WHERE welcome_email_sent_at IS NULL;
-- (platform, role, user) lets "users with a role on a platform" be counted from the index alone.
DROP INDEX user_roles_platform;
CREATE INDEX user_roles_platform ON user_roles (platform_id, role, user_id);

-- How many users each tenant has, per status, kept by statement triggers: the users list shows
-- its total on every page, and counting a million index entries each time costs ~80 ms.
-- No foreign key: rows go with their tenant's users, and a tenant being deleted must not trip
-- over its own counter.
CREATE TABLE user_counts (
    tenant_id uuid NOT NULL,
    status text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (tenant_id, status)
);

CREATE FUNCTION user_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- One upsert, in key order, so that concurrent statements lock counters in the same order.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_counts AS c (tenant_id, status, count)
        SELECT tenant_id, status, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (tenant_id, status) DO UPDATE SET count = c.count + excluded.count;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO user_counts AS c (tenant_id, status, count)
        SELECT tenant_id, status, -count(*) FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (tenant_id, status) DO UPDATE SET count = c.count + excluded.count;
    ELSE
        INSERT INTO user_counts AS c (tenant_id, status, count)
        SELECT tenant_id, status, sum(delta) FROM (
            SELECT tenant_id, status, -1 AS delta FROM old_rows
            UNION ALL
            SELECT tenant_id, status, 1 FROM new_rows
        ) changes
        -- Most updates change no status: they upsert nothing and lock no counter.
        GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
        ON CONFLICT (tenant_id, status) DO UPDATE SET count = c.count + excluded.count;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_counted_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_apply();
CREATE TRIGGER users_counted_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION user_counts_apply();
CREATE TRIGGER users_counted_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION user_counts_apply();

INSERT INTO user_counts (tenant_id, status, count)
SELECT tenant_id, status, count(*) FROM users GROUP BY 1, 2;
