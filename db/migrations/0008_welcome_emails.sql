-- Welcome e-mails: who each e-mail job writes to and how far it got, the set-password links
-- (hashed), and how far the worker has read the welcome e-mail requests.

-- Users may share ids across tenants only in theory; the foreign keys below name the tenant too.
CREATE UNIQUE INDEX users_tenant_id_key ON users (tenant_id, id);

-- One row per recipient of an e-mail job, written with the job. `state` is the at-most-once
-- record: SENDING is committed before the message goes to the SMTP server and SENT after it
-- accepted it, so a worker killed in between leaves SENDING behind, and the next run reports
-- that recipient as DELIVERY_UNKNOWN instead of writing to them again.
CREATE TABLE email_recipients (
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
    -- The recipient's place in the selection (from 1): the `row` of its row error.
    position int NOT NULL,
    -- No foreign key: a user deleted before the job reaches them is skipped, not an error.
    user_id uuid NOT NULL,
    state text NOT NULL DEFAULT 'PENDING'
        CHECK (state IN ('PENDING', 'SENDING', 'SENT', 'FAILED', 'SKIPPED')),
    attempts int NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    PRIMARY KEY (tenant_id, job_id, position)
);
CREATE INDEX email_recipients_pending ON email_recipients (job_id, position)
    WHERE state IN ('PENDING', 'SENDING');
-- Whether a user's welcome e-mail request has been taken up by a job since it was made.
CREATE INDEX email_recipients_user ON email_recipients (tenant_id, user_id, created_at);

-- The link of a user's latest welcome e-mail: one per user, so a newer e-mail replaces (and so
-- invalidates) the older link. Only the SHA-256 of the token is kept: the token has 256 random
-- bits, so a fast hash loses nothing, and a copy of this table opens no account.
CREATE TABLE set_password_tokens (
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- The link carries the token alone: it is found by its hash.
CREATE UNIQUE INDEX set_password_tokens_hash ON set_password_tokens (token_hash);

-- The welcome e-mail requests (`user.welcome_email_requested` events) the worker has read up
-- to: one row. Requests above it are looked at on every pass; it moves only past requests old
-- enough that no transaction still writing events can commit one below them.
CREATE TABLE welcome_request_mark (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_event_id bigint NOT NULL DEFAULT 0
);
INSERT INTO welcome_request_mark DEFAULT VALUES;
CREATE INDEX events_welcome_requested ON events (id)
    WHERE action = 'user.welcome_email_requested';

-- A row error of an e-mail job names the user who did not get the e-mail: in
-- job_row_errors.user_id, which 0006 added for every job's row errors.
