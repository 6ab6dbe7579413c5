-- The console's sign-in: one-time links, and the sessions they open.
--
-- A console session is a token of its own kind, so that everything that knows tokens knows it:
-- `roster token list` shows it, `roster token revoke` ends it (and, through migration 0014's
-- trigger, every open console and subscription of it), and its scope is checked as any other.
ALTER TABLE api_tokens ADD COLUMN kind text NOT NULL DEFAULT 'api'
    CHECK (kind IN ('api', 'console'));

-- When a console session ends by itself: `expires_at` (7 days after sign-in) or 12 hours after
-- `last_used_at`. A table of its own because `last_used_at` moves while the console is used,
-- and an UPDATE of api_tokens would tell every API process to forget the token (0014).
CREATE TABLE console_sessions (
    token_id uuid PRIMARY KEY REFERENCES api_tokens ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL DEFAULT now()
);

-- A sign-in link's secret, as a SHA-256 hash like a token's: good once, for 15 minutes.
CREATE TABLE console_links (
    link_hash bytea PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    scope text NOT NULL CHECK (scope IN ('admin', 'read')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX console_links_expired ON console_links (expires_at);
