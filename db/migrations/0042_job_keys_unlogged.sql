-- An import's claims (job_keys, 0003) kept at half the rows and without WAL (issue #26): they were
-- a fifth of the database's time in an import of a million rows.
--
-- One row per e-mail and username, keyed by its confusable skeleton with the exact (lower case)
-- value beside it, and one per external id: the pair says both whether a later row repeats an
-- earlier one and whether it only looks like it (jobs/import_plan.py, KeyClaims), where a row of
-- each had said it before.
--
-- UNLOGGED: the claims are scratch space that the import's file holds as well. A crash of the
-- database (or a failover to a standby, where an unlogged table is empty) leaves the table
-- empty; an import that finds none of its claims there reads its file again from the first
-- record, claiming each chunk's keys again without writing the chunks written already
-- (jobs/imports.py). The claims of imports running while this migrates go the same way: the
-- workers are stopped for a migration, and each import resumes so.
DELETE FROM job_keys;
ALTER TABLE job_keys ADD COLUMN exact text;
ALTER TABLE job_keys SET UNLOGGED;
