-- Tenants, tokens, platforms, users, roles and the event log: the foundation every capability uses.

CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name text NOT NULL,
    -- NIST SP 800-63B rev 4: 15 by default; a tenant may lower it, never below 8.
    min_password_length int NOT NULL DEFAULT 15 CHECK (min_password_length BETWEEN 8 AND 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    name text NOT NULL,
    scope text NOT NULL CHECK (scope IN ('admin', 'read')),
    -- SHA-256 of the token: tokens are long random strings, so a fast hash is enough and
    -- lets every request look its token up by index.
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE platforms (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    key text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    aliases text[] NOT NULL DEFAULT '{}',
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('LEARNING_CLOUD', 'CONTENT_CLOUD', 'EXTERNAL_APP')),
    roles text[] NOT NULL CHECK (cardinality(roles) > 0),
    webhook_url text,
    webhook_secret text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, key)
);

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    username text NOT NULL,
    email text NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    language text,
    time_zone text,
    office_phone text,
    mobile_phone text,
    location text,
    external_id text,
    status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
    attributes jsonb NOT NULL DEFAULT '{}',
    password_hash text,
    password_changed_at timestamptz,
    welcome_email_sent_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- Uniqueness is case-insensitive; the same expressions serve the sort orders (keyset pagination
-- needs (tenant, sort key, id) indexes so a deep page costs what the first one does).
CREATE UNIQUE INDEX users_tenant_username_key ON users (tenant_id, lower(username));
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, lower(email));
CREATE UNIQUE INDEX users_tenant_external_id_key ON users (tenant_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX users_order_username ON users (tenant_id, lower(username), id);
CREATE INDEX users_order_email ON users (tenant_id, lower(email), id);
CREATE INDEX users_order_first_name ON users (tenant_id, lower(first_name), id);
CREATE INDEX users_order_last_name ON users (tenant_id, lower(last_name), id);
CREATE INDEX users_order_created_at ON users (tenant_id, created_at, id);
CREATE INDEX users_order_updated_at ON users (tenant_id, updated_at, id);

CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    platform_id uuid NOT NULL REFERENCES platforms ON DELETE CASCADE,
    role text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, platform_id, role)
);
CREATE INDEX user_roles_platform ON user_roles (platform_id, role);

-- One row per change, written in the change's transaction: the audit log, and the outbox that
-- webhook delivery reads. Rows keep ids, action and changed field names, never personal data,
-- so deleting a user leaves nothing of them here but their id.
CREATE TABLE events (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    actor_token_id uuid REFERENCES api_tokens ON DELETE SET NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target_type text NOT NULL,
    target_id uuid,
    data jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_tenant_target ON events (tenant_id, target_id, id);
