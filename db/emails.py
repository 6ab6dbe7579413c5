"""Welcome e-mails: each e-mail job's recipients and their state, and the welcome e-mail
requests the worker takes up."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from asyncpg import Record

from db import jobs
from db.events import Actor
from db.pool import Conn

# The kind of job that sends welcome e-mails.
JOB_KIND = "EMAIL"

ADD_RECIPIENTS = """
INSERT INTO email_recipients (tenant_id, job_id, position, user_id)
SELECT $1, $2, p, u FROM unnest($3::uuid[]) WITH ORDINALITY AS r(u, p)
"""
NEXT_PENDING = """
SELECT position, user_id FROM email_recipients
WHERE job_id = $1 AND state = 'PENDING' AND position > $2
ORDER BY position LIMIT $3
"""
# Left SENDING by a run that died between handing the message over and recording the answer.
# Nobody knows whether the server took it: at most once, so it is not sent again.
TAKE_UNKNOWN = """
UPDATE email_recipients SET state = 'FAILED', last_error = 'DELIVERY_UNKNOWN'
WHERE job_id = $1 AND state = 'SENDING'
RETURNING position, user_id
"""
SET_STATE = """
UPDATE email_recipients SET state = $3, last_error = $4,
    attempts = attempts + CASE WHEN $3 = 'SENDING' THEN 1 ELSE 0 END,
    sent_at = CASE WHEN $3 = 'SENT' THEN now() ELSE sent_at END
WHERE job_id = $1 AND position = $2
"""
FAIL_PENDING = """
UPDATE email_recipients SET state = 'FAILED', last_error = $2
WHERE job_id = $1 AND state = 'PENDING'
RETURNING position, user_id
"""
COUNT_STATES = "SELECT state, count(*) AS n FROM email_recipients WHERE job_id = $1 GROUP BY state"
MARK_SENT_USER = """
UPDATE users SET welcome_email_sent_at = now(), updated_at = now()
WHERE tenant_id = $1 AND id = $2
"""

ISSUE_TOKEN = """
INSERT INTO set_password_tokens (tenant_id, user_id, token_hash, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
ON CONFLICT (tenant_id, user_id) DO UPDATE
    SET token_hash = excluded.token_hash, expires_at = excluded.expires_at, used_at = NULL,
        created_at = now()
"""
WITHDRAW_TOKEN = "DELETE FROM set_password_tokens WHERE token_hash = $1 AND used_at IS NULL"
FIND_TOKEN = """
SELECT t.tenant_id, t.user_id, t.expires_at, t.used_at, t.expires_at <= now() AS expired,
    u.username, u.email, u.language, u.status
FROM set_password_tokens t JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
WHERE t.token_hash = $1
"""
USE_TOKEN = """
UPDATE set_password_tokens SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING tenant_id, user_id
"""
USE_USER_TOKEN = """
UPDATE set_password_tokens SET used_at = now()
WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL
"""

LOCK_MARK = "SELECT last_event_id FROM welcome_request_mark FOR UPDATE"
# Requests above the mark whose user is active and has had no e-mail job since.
OPEN_REQUESTS = """
SELECT e.id, e.tenant_id, e.target_id AS user_id, e.actor_token_id, e.actor,
    e.data->>'job' AS source
FROM events e
JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.target_id AND u.status = 'ACTIVE'
WHERE e.action = 'user.welcome_email_requested' AND e.id > $1
  AND NOT EXISTS (
      SELECT 1 FROM email_recipients r
      WHERE r.tenant_id = e.tenant_id AND r.user_id = e.target_id AND r.created_at >= e.created_at
  )
ORDER BY e.id
LIMIT $2
"""
# An event is written by a transaction that may commit after later ids have: the mark moves
# only past requests older than any transaction that writes events lasts (an import's chunk
# takes seconds), so none can commit below it afterwards.
MOVE_MARK = """
UPDATE welcome_request_mark SET last_event_id = coalesce((
    SELECT max(id) FROM events
    WHERE action = 'user.welcome_email_requested' AND id > $1
      AND ($2::bigint IS NULL OR id <= $2)
      AND created_at < now() - interval '10 minutes'
), last_event_id)
"""


async def add_recipients(
    conn: Conn, tenant_id: UUID, job_id: UUID, user_ids: Sequence[UUID]
) -> None:
    """The job's recipients, numbered from 1 in the order given."""
    await conn.execute(ADD_RECIPIENTS, tenant_id, job_id, list(user_ids))


async def next_pending(conn: Conn, job_id: UUID, *, after: int, limit: int) -> list[Record]:
    return await conn.fetch(NEXT_PENDING, job_id, after, limit)


async def take_unknown(conn: Conn, job_id: UUID) -> list[Record]:
    """Recipients a dead run left SENDING, now FAILED; returns them."""
    return await conn.fetch(TAKE_UNKNOWN, job_id)


async def set_state(
    conn: Conn, job_id: UUID, position: int, state: str, error: str | None = None
) -> None:
    await conn.execute(SET_STATE, job_id, position, state, error)


async def fail_pending(conn: Conn, job_id: UUID, error: str) -> list[Record]:
    return await conn.fetch(FAIL_PENDING, job_id, error)


async def count_states(conn: Conn, job_id: UUID) -> dict[str, int]:
    return {r["state"]: r["n"] for r in await conn.fetch(COUNT_STATES, job_id)}


async def mark_sent_user(conn: Conn, tenant_id: UUID, user_id: UUID) -> None:
    await conn.execute(MARK_SENT_USER, tenant_id, user_id)


async def issue_token(
    conn: Conn, tenant_id: UUID, user_id: UUID, token_hash: bytes, ttl_seconds: int
) -> None:
    """The user's new link; the one before stops working."""
    await conn.execute(ISSUE_TOKEN, tenant_id, user_id, token_hash, float(ttl_seconds))


async def withdraw_token(conn: Conn, token_hash: bytes) -> None:
    """A link whose e-mail was never accepted."""
    await conn.execute(WITHDRAW_TOKEN, token_hash)


async def find_token(conn: Conn, token_hash: bytes) -> Record | None:
    """The link and its user (any tenant: the link names none), used or expired too."""
    return await conn.fetchrow(FIND_TOKEN, token_hash)


async def use_token(conn: Conn, token_hash: bytes) -> Record | None:
    """Spends a valid link; None when it is unknown, spent or expired."""
    return await conn.fetchrow(USE_TOKEN, token_hash)


async def use_user_token(conn: Conn, tenant_id: UUID, user_id: UUID) -> None:
    """Spends the user's link, if any: a password set otherwise makes it pointless."""
    await conn.execute(USE_USER_TOKEN, tenant_id, user_id)


async def take_requests(conn: Conn, limit: int) -> list[Record]:
    """Up to `limit` open welcome e-mail requests, oldest first, under the mark's lock (so two
    workers never both take one), moving the mark on no further than the last one returned;
    the caller's transaction makes their jobs before it commits."""
    mark: int = await conn.fetchval(LOCK_MARK)
    requests = await conn.fetch(OPEN_REQUESTS, mark, limit)
    upto = requests[-1]["id"] if len(requests) == limit else None
    await conn.execute(MOVE_MARK, mark, upto)
    return requests


async def record_email_job(
    conn: Conn,
    tenant_id: UUID,
    actor: Actor,
    user_ids: Sequence[UUID],
    options: dict[str, Any] | None = None,
) -> Record:
    """An e-mail job to `user_ids`, in the caller's transaction; queue it after the commit."""
    job = await jobs.create_job(
        conn, tenant_id, JOB_KIND, file_id=None, options=options or {}, dry_run=False, actor=actor
    )
    await add_recipients(conn, tenant_id, job["id"], user_ids)
    shaped = await jobs.set_shape(conn, job["id"], len(user_ids), {})
    return shaped
