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

-- Fields are joined by a space, which no search word contains, so no match spans two fields.
ALTER TABLE users ADD COLUMN search_text text GENERATED ALWAYS AS (
    roster_fold(username || ' ' || email || ' ' || first_name || ' ' || last_name)
) STORED;

CREATE INDEX users_search_trgm ON users USING gin (search_text gin_trgm_ops);
CREATE INDEX users_tenant_email_domain ON users (tenant_id, lower(split_part(email, '@', 2)));
CREATE INDEX users_tenant_status ON users (tenant_id, status);
