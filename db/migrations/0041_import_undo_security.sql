-- The before-images of 0040 are an organisation's rows like any other (0018): roster_app sees and
-- writes only those of the organisation its transaction names; the owner spans them.
ALTER TABLE import_before_images ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY roster_organisation ON import_before_images TO roster_app
    USING (tenant_id = (SELECT roster_tenant_id()))
    WITH CHECK (tenant_id = (SELECT roster_tenant_id()));
CREATE POLICY roster_owner ON import_before_images TO CURRENT_USER USING (true);
-- An import writes them, a revert reads them, a user's deletion deletes its own.
GRANT SELECT, INSERT, DELETE ON import_before_images TO roster_app;
