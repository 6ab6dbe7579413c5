-- Webhook delivery: the outbox queue the events fill, one delivery per (event, platform), and
-- what a platform needs to receive them (a secret being rotated out, a disabled webhook, batches).

ALTER TABLE platforms
    -- The secret replaced by rotateWebhookSecret: deliveries are signed with it too until then.
    ADD COLUMN webhook_previous_secret text,
    ADD COLUMN webhook_previous_secret_until timestamptz,
    -- Set when the receiver answered 410 Gone; setting the URL again clears it.
    ADD COLUMN webhook_disabled_at timestamptz,
    ADD COLUMN webhook_disabled_reason text,
    -- Events per POST: 1 is one event per request; more is an array of events in one request.
    ADD COLUMN webhook_batch_size int NOT NULL DEFAULT 1
        CHECK (webhook_batch_size BETWEEN 1 AND 100);

-- The user events not yet turned into deliveries, filled by a trigger in the transaction that
-- writes the event, with the platforms (with a webhook) the user has a role on at that moment:
-- by the time the event is dispatched, the user may have lost them, or be gone. Event ids do not follow commit order across transactions, so a reader that
-- paged the events by id would skip an id committed late; a row here is taken (deleted) when
-- dispatched instead, whenever it became visible. No foreign keys: an import adds a row per
-- user, and a row whose event or tenant is gone is simply dropped by the dispatcher.
CREATE TABLE webhook_outbox (
    tenant_id uuid NOT NULL,
    event_id bigint NOT NULL,
    platform_ids uuid[] NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);

-- Only tenants with a webhook somewhere pay for the queue.
CREATE FUNCTION webhook_outbox_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_outbox (tenant_id, event_id, platform_ids)
    SELECT n.tenant_id, n.id,
        coalesce(array_agg(DISTINCT r.platform_id) FILTER (WHERE r.platform_id IS NOT NULL), '{}')
    FROM new_events n
    LEFT JOIN (user_roles r JOIN platforms p ON p.id = r.platform_id AND p.webhook_url IS NOT NULL)
        ON r.user_id = n.target_id
    WHERE n.target_type = 'User'
        AND n.tenant_id IN (SELECT tenant_id FROM platforms WHERE webhook_url IS NOT NULL)
    GROUP BY n.tenant_id, n.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_webhook_outbox AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_outbox_fill();

-- One row per (event, platform), or a test ping (no event, no user). Only ids, the action and
-- the receiver's status code are kept: the body is built when sending, from the user as they
-- are then, so a deleted user's data survives in no queued or failed delivery.
CREATE TABLE webhook_deliveries (
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    -- Creation order, for paging the list.
    seq bigint GENERATED ALWAYS AS IDENTITY,
    platform_id uuid NOT NULL REFERENCES platforms ON DELETE CASCADE,
    event_id bigint,
    action text NOT NULL,
    user_id uuid,
    status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    attempts int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status_code int,
    last_error text,
    last_latency_ms int,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Retries stop this long after it: the creation, or the last redelivery asked for.
    retry_from timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, event_id, platform_id)
);
-- What is due, per platform; and each user's queue on a platform, oldest event first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, platform_id, next_attempt_at)
    WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (tenant_id, platform_id, user_id, event_id)
    WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (tenant_id, seq);
CREATE INDEX webhook_deliveries_user ON webhook_deliveries (tenant_id, user_id, seq);
