-- Long work (imports first) as jobs: stored files, job state with its checkpoint, row errors,
-- the dry run's plan, and the keys an import has claimed (to find duplicates inside one file).

-- Uploaded and exported files live here, in chunks, so that every API instance and every
-- worker reaches them.
CREATE TABLE files (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    name text NOT NULL,
    size bigint NOT NULL DEFAULT 0,
    complete boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE file_chunks (
    file_id uuid NOT NULL REFERENCES files ON DELETE CASCADE,
    seq int NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (file_id, seq)
);
-- Stored as sent: compressing megabytes of CSV on every chunk costs more CPU than it saves.
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('IMPORT', 'EXPORT', 'EMAIL')),
    status text NOT NULL DEFAULT 'QUEUED'
        CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    file_id uuid REFERENCES files ON DELETE SET NULL,
    options jsonb NOT NULL DEFAULT '{}',
    dry_run boolean NOT NULL DEFAULT false,
    total int,
    processed int NOT NULL DEFAULT 0,
    created int NOT NULL DEFAULT 0,
    updated int NOT NULL DEFAULT 0,
    deleted int NOT NULL DEFAULT 0,
    -- Rows that change nothing (and blank records).
    skipped int NOT NULL DEFAULT 0,
    failed int NOT NULL DEFAULT 0,
    -- What the first run found out about the file, so that a resumed run reads it the same
    -- way: its encoding, delimiter and records (total), the rows per chunk (where chunks end)
    -- and the header (for the error report). Where a run resumes is in job_chunks (0005).
    checkpoint jsonb NOT NULL DEFAULT '{}',
    error text,
    cancel_requested boolean NOT NULL DEFAULT false,
    -- The queue's id of the latest enqueueing (job id and attempt); a recovered job is
    -- enqueued under a new one.
    queue_id text,
    attempts int NOT NULL DEFAULT 0,
    actor_token_id uuid REFERENCES api_tokens ON DELETE SET NULL,
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at DESC, id DESC);
CREATE INDEX jobs_unfinished ON jobs (created_at) WHERE status IN ('QUEUED', 'RUNNING');

CREATE TABLE job_row_errors (
    job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
    row int NOT NULL,
    seq smallint NOT NULL,
    column_name text,
    code text NOT NULL,
    message text NOT NULL,
    -- The record as it was in the file (on the first problem of a row), for the error report.
    cells jsonb,
    PRIMARY KEY (job_id, row, seq)
);

CREATE TABLE job_row_plans (
    job_id uuid NOT NULL REFERENCES jobs ON DELETE CASCADE,
    row int NOT NULL,
    action text NOT NULL CHECK (action IN ('CREATE', 'UPDATE', 'DELETE', 'NOOP')),
    user_id uuid,
    changes jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, row)
);

-- The keys claimed by the rows an import has read so far (those without problems): username
-- ('u') and e-mail ('e') in lower case, external id ('x'), each with the number of the first row
-- that had it; a later row with the same key is a duplicate. Scratch space of a running import,
-- emptied when it ends; no foreign key: checking one for each of the 10,000 keys of a chunk cost
-- a fifth of the time the check takes.
CREATE TABLE job_keys (
    job_id uuid NOT NULL,
    kind text NOT NULL,
    key text NOT NULL,
    row int NOT NULL,
    PRIMARY KEY (job_id, kind, key)
);
