"""Jobs (imports, exports, bulk work): state, checkpoints, row errors, plans, seen keys."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record, UniqueViolationError

from db.events import Actor
from db.pool import Conn

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
COUNTERS = ("processed", "created", "updated", "deleted", "skipped", "failed")

INSERT_JOB = """
INSERT INTO jobs (tenant_id, kind, file_id, options, dry_run, actor_token_id, actor)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *
"""
GET_JOBS = "SELECT * FROM jobs WHERE tenant_id = $1 AND id = ANY($2::uuid[])"
# A job's own statements name it by its id alone (jobs_id, 0017): the worker and the queue are
# handed nothing else, and act as the job's organisation once they know it.
GET_JOB = "SELECT * FROM jobs WHERE id = $1"
JOB_TENANT = "SELECT roster_job_tenant($1)"
LOCK_JOB_ROW = "SELECT id FROM jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
# The import that applies a dry run names it in its options (APPLIES_DRY_RUN).
APPLIED_BY = """
SELECT * FROM jobs
WHERE tenant_id = $1 AND kind = 'IMPORT' AND NOT dry_run AND options->>'applies_dry_run' = $2
ORDER BY created_at
LIMIT 1
"""
APPLIES_DRY_RUN = "applies_dry_run"
LIST_JOBS = """
SELECT * FROM jobs
WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
  AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
ORDER BY created_at DESC, id DESC
LIMIT $5
"""
# Rows a second of the tenant's latest finished imports (dry runs apart: they write nothing),
# over the time they ran; imports of fewer than 1,000 rows say more about the queue than the
# speed.
IMPORT_SPEED = """
SELECT dry_run, count(*) AS imports,
    sum(processed) / sum(extract(epoch FROM finished_at - started_at)) AS rows_per_second
FROM (
    SELECT dry_run, processed, started_at, finished_at FROM jobs
    WHERE tenant_id = $1 AND kind = 'IMPORT' AND status = 'SUCCEEDED' AND processed >= 1000
      AND finished_at > started_at
    ORDER BY created_at DESC
    LIMIT 40
) latest
GROUP BY dry_run
"""
SET_QUEUE_ID = "UPDATE jobs SET queue_id = $2, updated_at = now() WHERE id = $1"
NEXT_ATTEMPT = "UPDATE jobs SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts"
# Each run takes the next fencing token (0008): the writes of runs before it stop committing.
START_JOB = """
UPDATE jobs SET status = 'RUNNING', started_at = coalesce(started_at, now()), updated_at = now(),
    fence = fence + 1
WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')
RETURNING *
"""
SET_SHAPE = """
UPDATE jobs SET total = $2, checkpoint = checkpoint || $3::jsonb, updated_at = now()
WHERE id = $1
RETURNING *
"""
# Added to, not set: chunks written at once each add their own counts. Only by the job's
# latest run (its fencing token): the row lock taken here also orders a chunk's commit and the
# start of a run that replaces its own.
ADD_PROGRESS = """
UPDATE jobs SET processed = processed + $2, created = created + $3, updated = updated + $4,
    deleted = deleted + $5, skipped = skipped + $6, failed = failed + $7, updated_at = now()
WHERE id = $1 AND fence = $8
RETURNING *
"""
RECORD_CHUNK = """
INSERT INTO job_chunks (tenant_id, job_id, after_record, last_record) VALUES ($1, $2, $3, $4)
"""
WRITTEN_CHUNKS = """
SELECT after_record, last_record FROM job_chunks WHERE tenant_id = $1 AND job_id = $2
"""
FINISH_JOB = """
UPDATE jobs SET status = $2, error = $3, finished_at = now(), updated_at = now()
WHERE id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND fence = $4
RETURNING *
"""
# A queued job that no worker has started is cancelled at once; a running one at its next chunk.
REQUEST_CANCEL = """
UPDATE jobs SET cancel_requested = true, updated_at = now(),
    status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED' ELSE status END,
    finished_at = CASE WHEN status = 'QUEUED' THEN now() ELSE finished_at END
WHERE tenant_id = $1 AND id = $2 AND status IN ('QUEUED', 'RUNNING')
RETURNING *
"""
CANCEL_REQUESTED = "SELECT cancel_requested FROM jobs WHERE id = $1"
# Every organisation's (0018).
UNFINISHED_JOBS = "SELECT id, tenant_id, kind, status, queue_id FROM roster_unfinished_jobs()"
TRY_LOCK_JOB = "SELECT pg_try_advisory_lock(hashtextextended('job:' || $1::text, 0))"
UNLOCK_JOB = "SELECT pg_advisory_unlock(hashtextextended('job:' || $1::text, 0))"

# The cells travel as JSON text: a list of lists given as jsonb[] would be taken as a
# two-dimensional array (or refused when the rows differ in length).
INSERT_ROW_ERRORS = """
INSERT INTO job_row_errors (
    tenant_id, job_id, row, seq, column_name, code, message, cells, user_id, user_keys
)
SELECT $1, $2, r, s, c, k, m, j::jsonb, u, CASE WHEN n <> '' THEN string_to_array(n, E'\\n') END
FROM unnest(
    $3::int[], $4::smallint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::uuid[],
    $10::text[]
) AS e(r, s, c, k, m, j, u, n)
"""
INSERT_USER_ROW_ERRORS = """
INSERT INTO job_row_errors (tenant_id, job_id, row, seq, code, message, user_id)
SELECT $1, $2, r, s, k, m, u
FROM unnest($3::int[], $4::smallint[], $5::uuid[], $6::text[], $7::text[]) AS e(r, s, u, k, m)
ON CONFLICT DO NOTHING
"""
# Deleting users deletes what row errors kept of them (in the deletion's transaction): the
# errors of rows that matched one of them, or named one by username or e-mail, keep their row,
# column and code, and lose their cells and message.
REDACT_ROW_ERRORS = """
UPDATE job_row_errors e
SET cells = NULL, message = $4, user_id = NULL, user_keys = NULL
WHERE e.tenant_id = $1 AND (e.user_id = ANY($2::uuid[]) OR e.user_keys && $3::text[])
"""
REDACTED = "Removed: the user this row was about has been deleted."
# And the values imports changed (0040_import_undo.sql): nothing of a deleted user is kept.
FORGET_BEFORE_IMAGES = """
DELETE FROM import_before_images
WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND before IS NOT NULL
"""
LIST_ROW_ERRORS = """
SELECT row, seq, column_name, code, message, user_id FROM job_row_errors
WHERE tenant_id = $1 AND job_id = $2 AND (row, seq) > ($3, $4) AND ($6::text IS NULL OR code = $6)
ORDER BY row, seq
LIMIT $5
"""
ROW_ERROR_CODES = """
SELECT code, count(*) AS rows FROM job_row_errors WHERE tenant_id = $1 AND job_id = $2
GROUP BY code ORDER BY code
"""
# The cells come with a row's first problem only (seq 0): group by row alone, or the other
# problems (cells NULL) would form groups of their own and drop out of the report. By the job's
# id, as its organisation (row-level security puts the organisation first in the key).
ERROR_REPORT_ROWS = """
SELECT row, (array_agg(cells ORDER BY seq))[1] AS cells,
    array_agg(column_name ORDER BY seq) AS column_names,
    array_agg(code ORDER BY seq) AS codes,
    array_agg(message ORDER BY seq) AS messages
FROM job_row_errors WHERE job_id = $1 AND row > $2
GROUP BY row HAVING (array_agg(cells ORDER BY seq))[1] IS NOT NULL
ORDER BY row
LIMIT $3
"""
INSERT_PLANS = """
INSERT INTO job_row_plans (tenant_id, job_id, row, action, user_id, changes)
SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::uuid[], $6::jsonb[])
"""
LIST_PLANS = """
SELECT row, action, user_id, changes FROM job_row_plans
WHERE tenant_id = $1 AND job_id = $2 AND row > $3 AND ($5::text IS NULL OR action = $5)
ORDER BY row LIMIT $4
"""
# One job claims its keys one chunk at a time (it holds the job's lock), and a chunk's keys are
# distinct. The claims already there are probed first, each by its key (LIMIT 1 keeps it a probe
# of the primary key per wanted key: the table is never analysed while it grows, and a plan
# guessing it small scanned every claim of the job for each key wanted, quadratic in the file's
# rows); only the keys not found are inserted, by a plain INSERT. ON CONFLICT DO NOTHING would
# say the same, but its speculative insertion of every key made the claim a third dearer (issue
# #26). Only a worker fenced out of the job and still claiming the same chunk can insert a key
# between the probe and the insert: claim_keys then claims again, and finds it.
CLAIM_KEYS = """
WITH wanted AS (
    SELECT * FROM unnest($3::text[], $4::text[], $5::int[], $6::text[]) AS w(kind, key, row, exact)
), found AS (
    SELECT k.kind, k.key, k.row, k.exact FROM wanted w CROSS JOIN LATERAL (
        SELECT k.kind, k.key, k.row, k.exact FROM job_keys k
        WHERE k.tenant_id = $1 AND k.job_id = $2 AND k.kind = w.kind AND k.key = w.key
        LIMIT 1
    ) k
), claimed AS (
    INSERT INTO job_keys (tenant_id, job_id, kind, key, row, exact)
    SELECT $1, $2, w.kind, w.key, w.row, w.exact FROM wanted w
    WHERE NOT EXISTS (SELECT FROM found f WHERE f.kind = w.kind AND f.key = w.key)
)
SELECT * FROM found
"""
HAS_KEYS = "SELECT EXISTS (SELECT FROM job_keys WHERE tenant_id = $1 AND job_id = $2)"
FORGET_KEYS = "DELETE FROM job_keys WHERE tenant_id = $1 AND job_id = $2"
FORGET_CHUNKS = "DELETE FROM job_chunks WHERE tenant_id = $1 AND job_id = $2"
# A dry run's file stays, to be applied later; an applied one goes (it may hold passwords).
RELEASE_FILE = """
DELETE FROM files WHERE tenant_id = $1
    AND id = (SELECT file_id FROM jobs WHERE tenant_id = $1 AND id = $2 AND NOT dry_run)
"""


async def create_job(
    conn: Conn,
    tenant_id: UUID,
    kind: str,
    *,
    file_id: UUID | None,
    options: Mapping[str, Any],
    dry_run: bool,
    actor: Actor,
) -> Record:
    row = await conn.fetchrow(
        INSERT_JOB, tenant_id, kind, file_id, dict(options), dry_run, actor.token_id, actor.name
    )
    assert row is not None
    return row


async def get_jobs(conn: Conn, tenant_id: UUID, ids: Sequence[UUID]) -> list[Record]:
    return await conn.fetch(GET_JOBS, tenant_id, ids)


async def applied_by(conn: Conn, tenant_id: UUID, dry_run_id: UUID) -> Record | None:
    """The import that applied the dry run `dry_run_id`, if any. Within a transaction the dry
    run's row stays locked until it ends: two requests to apply it take turns, and the second
    finds the first."""
    await conn.execute(LOCK_JOB_ROW, tenant_id, dry_run_id)
    return await conn.fetchrow(APPLIED_BY, tenant_id, str(dry_run_id))


async def get_job(conn: Conn, job_id: UUID) -> Record | None:
    """The job, by its id alone: as its organisation (or as the owner, from the CLI)."""
    return await conn.fetchrow(GET_JOB, job_id)


async def job_tenant(conn: Conn, job_id: UUID) -> UUID | None:
    """The organisation of any organisation's job: for the worker, handed a job id alone."""
    tenant_id: UUID | None = await conn.fetchval(JOB_TENANT, job_id)
    return tenant_id


async def list_jobs(
    conn: Conn,
    tenant_id: UUID,
    *,
    status: str | None,
    before: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Record]:
    """Newest first, keyset-paged on (created_at, id)."""
    created, job_id = before if before else (None, None)
    return await conn.fetch(LIST_JOBS, tenant_id, status, created, job_id, limit)


async def next_attempt(conn: Conn, job_id: UUID) -> int:
    attempt: int = await conn.fetchval(NEXT_ATTEMPT, job_id)
    return attempt


async def set_queue_id(conn: Conn, job_id: UUID, queue_id: str) -> None:
    await conn.execute(SET_QUEUE_ID, job_id, queue_id)


async def start_job(conn: Conn, job_id: UUID) -> Record | None:
    """Marks the job running (again, when resumed) under a new fencing token (its `fence`);
    None when it has ended already."""
    return await conn.fetchrow(START_JOB, job_id)


async def set_shape(conn: Conn, job_id: UUID, total: int, checkpoint: Mapping[str, Any]) -> Record:
    row = await conn.fetchrow(SET_SHAPE, job_id, total, dict(checkpoint))
    assert row is not None
    return row


async def add_progress(
    conn: Conn, job_id: UUID, counts: Mapping[str, int], fence: int
) -> Record | None:
    """Adds `counts` (one for each of COUNTERS) to the job's; returns the job. None, adding
    nothing, when `fence` is no longer the job's token: a later run has started it."""
    return await conn.fetchrow(ADD_PROGRESS, job_id, *(counts[c] for c in COUNTERS), fence)


async def record_chunk(
    conn: Conn, tenant_id: UUID, job_id: UUID, after_record: int, last_record: int
) -> None:
    """Records a chunk as written, in the transaction that writes it."""
    await conn.execute(RECORD_CHUNK, tenant_id, job_id, after_record, last_record)


async def written_chunks(conn: Conn, tenant_id: UUID, job_id: UUID) -> dict[int, int]:
    """The last record of every chunk written, by the record before its first."""
    rows = await conn.fetch(WRITTEN_CHUNKS, tenant_id, job_id)
    return {r["after_record"]: r["last_record"] for r in rows}


async def finish_job(
    conn: Conn, job_id: UUID, status: str, error: str | None, fence: int
) -> Record | None:
    """Ends the job; None when it has ended already or `fence` is no longer its token."""
    return await conn.fetchrow(FINISH_JOB, job_id, status, error, fence)


async def request_cancel(conn: Conn, tenant_id: UUID, job_id: UUID) -> Record | None:
    """The job after the request, or None when it is unknown or has ended."""
    return await conn.fetchrow(REQUEST_CANCEL, tenant_id, job_id)


async def cancel_requested(conn: Conn, job_id: UUID) -> bool:
    return bool(await conn.fetchval(CANCEL_REQUESTED, job_id))


async def unfinished_jobs(conn: Conn) -> list[Record]:
    """Every organisation's queued and running jobs, oldest first."""
    return await conn.fetch(UNFINISHED_JOBS)


async def try_lock_job(conn: Conn, job_id: UUID) -> bool:
    """Takes the job's session lock: whoever holds it runs the job. PostgreSQL releases it when
    the holder's connection ends, so a worker killed mid-job frees it by dying."""
    return bool(await conn.fetchval(TRY_LOCK_JOB, str(job_id)))


async def unlock_job(conn: Conn, job_id: UUID) -> None:
    await conn.execute(UNLOCK_JOB, str(job_id))


async def add_row_errors(
    conn: Conn,
    tenant_id: UUID,
    job_id: UUID,
    errors: Sequence[tuple[int, int, str | None, str, str, Sequence[str] | None]],
    about: Mapping[int, tuple[UUID | None, Sequence[str]]] | None = None,
) -> None:
    """(row, seq, column, code, message, cells) for each problem; a row's original cells go
    with its first problem (seq 0), None with the others; and with them whom the row is about,
    from `about` by row: the user it matched (or None), its username and e-mail in lower case."""
    if not errors:
        return
    rows, seqs, columns, codes, messages, cells = zip(*errors, strict=True)
    about = about or {}
    # Only the first problem of a row says whom it is about, as only it has the cells.
    subjects = [
        about.get(r, (None, ())) if c is not None else (None, ())
        for r, c in zip(rows, cells, strict=True)
    ]
    await conn.execute(
        INSERT_ROW_ERRORS,
        tenant_id,
        job_id,
        list(rows),
        list(seqs),
        list(columns),
        list(codes),
        list(messages),
        [json.dumps(list(c)) if c is not None else None for c in cells],
        [user_id for user_id, _ in subjects],
        # One text per row: an array of arrays must be rectangular.
        ["\n".join(keys) for _, keys in subjects],
    )


async def add_user_row_errors(
    conn: Conn,
    tenant_id: UUID,
    job_id: UUID,
    errors: Sequence[tuple[int, UUID | None, str, str]],
) -> None:
    """(row, user, code, message): a job over users (an e-mail job) names the user of each
    row; a row's errors are numbered in the order given; a row already recorded is kept as it
    is (a retried job records it once)."""
    if not errors:
        return
    rows, users, codes, messages = (list(c) for c in zip(*errors, strict=True))
    seen: dict[int, int] = {}
    seqs = []
    for row in rows:
        seqs.append(seen.get(row, 0))
        seen[row] = seqs[-1] + 1
    await conn.execute(
        INSERT_USER_ROW_ERRORS, tenant_id, job_id, rows, seqs, users, codes, messages
    )


async def redact_row_errors(
    conn: Conn, tenant_id: UUID, user_ids: Sequence[UUID], keys: Sequence[str]
) -> None:
    """Removes the cells and messages of the tenant's row errors about these users (matched,
    or named by one of `keys`: usernames and e-mails in lower case), and the values imports
    changed of these users, kept to undo the imports."""
    if user_ids or keys:
        await conn.execute(REDACT_ROW_ERRORS, tenant_id, list(user_ids), list(keys), REDACTED)
    if user_ids:
        await conn.execute(FORGET_BEFORE_IMAGES, tenant_id, list(user_ids))


async def list_row_errors(
    conn: Conn,
    tenant_id: UUID,
    job_id: UUID,
    *,
    after: tuple[int, int],
    limit: int,
    code: str | None = None,
) -> list[Record]:
    return await conn.fetch(LIST_ROW_ERRORS, tenant_id, job_id, after[0], after[1], limit, code)


async def row_error_codes(conn: Conn, tenant_id: UUID, job_id: UUID) -> list[Record]:
    """Each error code of the job's rows, with how many problems have it."""
    return await conn.fetch(ROW_ERROR_CODES, tenant_id, job_id)


async def error_report_rows(
    conn: Conn, job_id: UUID, *, after_row: int, limit: int
) -> list[Record]:
    """Failed rows by row number: `cells` as uploaded (passwords blanked), and each problem's
    column (None for the row as a whole), code and message in `column_names`, `codes` and
    `messages`, in the order they were found."""
    return await conn.fetch(ERROR_REPORT_ROWS, job_id, after_row, limit)


async def add_plans(
    conn: Conn,
    tenant_id: UUID,
    job_id: UUID,
    plans: Sequence[tuple[int, str, UUID | None, Mapping[str, Any]]],
) -> None:
    if not plans:
        return
    rows, actions, users, changes = zip(*plans, strict=True)
    await conn.execute(
        INSERT_PLANS,
        tenant_id,
        job_id,
        list(rows),
        list(actions),
        list(users),
        [dict(c) for c in changes],
    )


async def list_plans(
    conn: Conn,
    tenant_id: UUID,
    job_id: UUID,
    *,
    after_row: int,
    limit: int,
    action: str | None = None,
) -> list[Record]:
    return await conn.fetch(LIST_PLANS, tenant_id, job_id, after_row, limit, action)


async def claim_keys(
    conn: Conn, tenant_id: UUID, job_id: UUID, keys: Sequence[tuple[str, str, int, str | None]]
) -> dict[tuple[str, str], tuple[int, str | None]]:
    """Records (kind, key, row, exact) claims; returns the (kind, key) pairs some earlier row
    had claimed already, each with that earlier row and the exact value it claimed."""
    if not keys:
        return {}
    kinds, values, rows, exact = (list(c) for c in zip(*keys, strict=True))
    try:
        found = await conn.fetch(CLAIM_KEYS, tenant_id, job_id, kinds, values, rows, exact)
    except UniqueViolationError:
        found = await conn.fetch(CLAIM_KEYS, tenant_id, job_id, kinds, values, rows, exact)
    return {(r["kind"], r["key"]): (r["row"], r["exact"]) for r in found}


async def has_keys(conn: Conn, tenant_id: UUID, job_id: UUID) -> bool:
    """Whether the job's claims are there: a database crash empties job_keys (UNLOGGED)."""
    return bool(await conn.fetchval(HAS_KEYS, tenant_id, job_id))


async def forget_scratch(conn: Conn, tenant_id: UUID, job_id: UUID) -> None:
    """Forgets what only a running import needs: the keys it has met, the chunks it wrote."""
    await conn.execute(FORGET_KEYS, tenant_id, job_id)
    await conn.execute(FORGET_CHUNKS, tenant_id, job_id)


async def release_file(conn: Conn, tenant_id: UUID, job_id: UUID) -> None:
    await conn.execute(RELEASE_FILE, tenant_id, job_id)


async def import_speed(conn: Conn, tenant_id: UUID) -> dict[bool, tuple[int, float]]:
    """{dry_run: (imports measured, rows a second)} of the tenant's latest imports."""
    return {
        r["dry_run"]: (r["imports"], float(r["rows_per_second"]))
        for r in await conn.fetch(IMPORT_SPEED, tenant_id)
    }
