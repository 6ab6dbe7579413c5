-- A search word holding an @ ("@colegio-wright143.es", "ana@acme") is looked up in the trigram
-- index by all its trigrams, among them very common ones (`col`, `.es`) whose posting lists
-- cover most users (35-100 ms). Where the word's @ is an e-mail's, the rest of the word begins
-- the e-mail's domain; where it is the first @ of a username (often an e-mail address itself),
-- it begins what follows that @. Both are prefixes, which a btree finds by range
-- (text_pattern_ops: by code point, whatever the database's collation). Any other @ — a second
-- one in a username, one in a name — is rare, and its users are listed by a third index.
-- The expressions fold as search_text does, and are written exactly as db/users.py queries them.
CREATE INDEX users_tenant_folded_domain
    ON users (tenant_id, roster_fold(split_part(email, '@', 2)) text_pattern_ops);
CREATE INDEX users_tenant_folded_username_domain
    ON users (tenant_id, split_part(roster_fold(username), '@', 2) text_pattern_ops);
-- Whether a user has an @ in a name or a second one in the username, as one boolean column:
-- PostgreSQL keeps statistics on an index's expressions (it knows how rare true is), not on a
-- partial index's condition (it would cost it as the whole tenant).
CREATE INDEX users_tenant_other_at ON users (
    tenant_id,
    (strpos(
        roster_fold(first_name || last_name)
            || substr(roster_fold(username), strpos(roster_fold(username), '@') + 1),
        '@'
    ) > 0)
);
