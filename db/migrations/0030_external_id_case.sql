-- External ids are unique per tenant whatever their case, as usernames and e-mails are: an HR
-- export that writes HR-1042 one year and hr-1042 the next names one person, whom an import
-- matching by EXTERNAL_ID must find (issue #27). Ids keep the case they were given.
--
-- Two users of a tenant whose external ids differ only in case cannot both keep them, and
-- which one should is not the database's to guess: the migration stops, naming every such
-- pair, and changes nothing. Give one of each another external id (updateUser, or an import
-- matching by e-mail), then run `roster migrate` again.
DO $$
DECLARE
    clashes text;
BEGIN
    SELECT string_agg(format('tenant %s: %s', t.slug, c.users), '; ' ORDER BY t.slug, c.key)
    INTO clashes
    FROM (
        SELECT tenant_id, lower(external_id) AS key,
               string_agg(format('%s (%s)', username, external_id), ', ' ORDER BY username)
                   AS users
        FROM users
        WHERE external_id IS NOT NULL
        GROUP BY tenant_id, lower(external_id)
        HAVING count(*) > 1
    ) c
    JOIN tenants t ON t.id = c.tenant_id;
    IF clashes IS NOT NULL THEN
        RAISE EXCEPTION '0030_external_id_case: users whose external ids differ only in case, '
            'which are one id from now on: %', clashes
            USING HINT = 'Give one user of each group another external id, then run roster '
                'migrate again.';
    END IF;
END
$$;

DROP INDEX users_tenant_external_id_key;
CREATE UNIQUE INDEX users_tenant_external_id_key ON users (tenant_id, lower(external_id))
    WHERE external_id IS NOT NULL;
