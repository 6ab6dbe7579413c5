-- A long search word ("maria.garcia.l", "antonio.garcia9928") is looked up in the trigram index
-- by every trigram of its pattern, common ones (`ari`, `gar`) among them, whose posting lists
-- cover much of the table: 744 index pages for one user. db/user_search.py looks such a word up
-- by a few of its rarest trigrams instead (14 pages), and checks the whole word on the rows
-- they find. Which trigrams are rare is read here: the share of users whose search_text holds
-- each one, in a sample of the users of every tenant. Only the speed of a search depends on
-- it: a stale or empty table picks worse trigrams, never other users.
CREATE TABLE search_trigrams (
    trigram text PRIMARY KEY,
    share real NOT NULL
);

-- How many users there were (in every tenant) when the sample was taken: shares from a table
-- that has since doubled are not trusted to call a word rare.
CREATE TABLE search_trigrams_sampled (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    users bigint NOT NULL
);
INSERT INTO search_trigrams_sampled (users) VALUES (0);

-- Samples the users again when they have doubled since the last sample (or always, with
-- `force`); returns whether it did. ~400 pages (11,000 users, 0.6 s at a million users):
-- enough to tell a trigram on 1% of users from one on 0.01%, which is all a choice needs.
-- pg_trgm's own trigrams of each value (show_trgm): those of three letters or digits, as the
-- search's probes are; not the padded ones at word ends, nor the hashed ones of other scripts.
CREATE FUNCTION roster_sample_search_trigrams(force boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    users_now bigint;
BEGIN
    -- One sample at a time; searches read the table meanwhile.
    LOCK TABLE search_trigrams IN EXCLUSIVE MODE;
    SELECT coalesce(sum(count), 0) INTO users_now FROM user_counts;
    IF NOT force AND users_now < 2 * (SELECT users FROM search_trigrams_sampled) THEN
        RETURN false;
    END IF;
    DELETE FROM search_trigrams;
    WITH sampled AS MATERIALIZED (
        SELECT search_text FROM users TABLESAMPLE SYSTEM ((
            SELECT least(100, 40000 / greatest(relpages, 1)::real) FROM pg_class
            WHERE oid = 'users'::regclass
        ))
    )
    INSERT INTO search_trigrams (trigram, share)
    SELECT t, count(*)::real / (SELECT count(*) FROM sampled)
    FROM sampled, unnest(show_trgm(search_text)) AS t
    WHERE length(t) = 3 AND strpos(t, ' ') = 0
    GROUP BY t;
    UPDATE search_trigrams_sampled SET users = users_now;
    RETURN true;
END
$$;

SELECT roster_sample_search_trigrams(true);
