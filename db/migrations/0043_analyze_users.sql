-- An import's fresh statistics of the users table (only a table's owner may ANALYZE it), as
-- the webhook dispatcher has for its deliveries (0018): jobs/import_writer.py calls it once an
-- import has created a chunk's worth of users. Planned on the statistics of a near-empty table,
-- the plan PostgreSQL keeps for the import's look-up of stored users checked every user of the
-- organisation against each of a chunk's keys in turn, and autovacuum analyzes late, or not at
-- all where it is off.
CREATE FUNCTION roster_analyze_users() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$ BEGIN ANALYZE users; END $$;

REVOKE ALL ON FUNCTION roster_analyze_users() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION roster_analyze_users() TO roster_app;
