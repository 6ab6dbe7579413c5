-- New users get time-ordered ids (UUID version 7, RFC 9562: 48 bits of Unix milliseconds, then
-- random bits). A million-row import then adds its users at the right edge of every index keyed
-- by user id (users, user_roles, events by target) instead of at a random page each, which costs
-- a read of that page once the indexes outgrow memory. The creation time an id reveals is
-- public already (User.createdAt). PostgreSQL 15 has no uuidv7() (it came in 18).
CREATE FUNCTION roster_uuid7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(
            set_bit(
                overlay(
                    uuid_send(gen_random_uuid())
                    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6
                ),
                52, 1
            ),
            53, 1
        ),
        'hex'
    )::uuid
$$;

ALTER TABLE users ALTER COLUMN id SET DEFAULT roster_uuid7();
