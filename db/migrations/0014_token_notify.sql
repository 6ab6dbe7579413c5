-- Every API process keeps the tokens it has seen in memory and LISTENs on this channel: a token
-- changed or deleted in any way (`roster token revoke`, an UPDATE typed by hand, its tenant
-- deleted) reaches every process at commit, with nothing for the one who revokes to remember.
-- The payload is the token's id; an empty one (TRUNCATE) means every token.
CREATE FUNCTION api_tokens_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('roster_api_tokens', '');
    ELSE
        PERFORM pg_notify('roster_api_tokens', OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_changed AFTER UPDATE OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION api_tokens_notify();
CREATE TRIGGER api_tokens_truncated AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_notify();
