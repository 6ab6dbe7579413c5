-- Undoing an import (issue #25): what each applied row of an import changed, written by the
-- import in the chunk's own transaction, and read back by a revert job (kind REVERT).
--
-- One row per applied row of the file: CREATE (the new user: deleting it undoes the row),
-- UPDATE (the values of the fields it changed as they were just before, and the roles it
-- granted and took away) and DELETE (nothing of the user: a deleted user cannot come back, and
-- the row is kept only to say so). Per organisation, tenant_id leading every key.
--
-- No foreign keys: one checked for each of a chunk's rows costs the import much of what the
-- images cost (job_keys, 0003, found the same). The images go with their job instead (the trigger below), as the job's
-- row errors do (ON DELETE CASCADE), and a user's deletion removes its images, as it redacts
-- its row errors (db/import_undo.py, in the deletion's transaction).
CREATE TABLE import_before_images (
    tenant_id uuid NOT NULL,
    job_id uuid NOT NULL,
    row int NOT NULL,
    action text NOT NULL CHECK (action IN ('CREATE', 'UPDATE', 'DELETE')),
    -- NULL for DELETE.
    user_id uuid,
    -- UPDATE: {"fields": {name: value before}, "added": [[platform, role]], "removed": [...]}.
    before jsonb,
    PRIMARY KEY (tenant_id, job_id, row)
);
-- Only images holding personal data (UPDATE's) need finding by user, when the user is deleted:
-- creations, most of a large import, are not indexed twice.
CREATE INDEX import_before_images_user ON import_before_images (tenant_id, user_id)
    WHERE before IS NOT NULL;

CREATE FUNCTION import_before_images_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM import_before_images WHERE tenant_id = OLD.tenant_id AND job_id = OLD.id;
    RETURN OLD;
END
$$;
CREATE TRIGGER jobs_forget_before_images AFTER DELETE ON jobs
    FOR EACH ROW WHEN (OLD.kind = 'IMPORT') EXECUTE FUNCTION import_before_images_forget();

-- A revert is a job like any other: REVERT, its import in options->>'reverts'.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('IMPORT', 'EXPORT', 'EMAIL', 'REVERT'));
CREATE INDEX jobs_reverts ON jobs (tenant_id, (options->>'reverts')) WHERE kind = 'REVERT';
