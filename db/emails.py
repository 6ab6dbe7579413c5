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
WHERE tenant_id = $1 AND job_id = $2 AND state = 'PENDING' AND position > $3
ORDER BY position LIMIT $4
"""
# Left SENDING by a run that died between handing the message over and recording the answer.
# Nobody knows whether the server took it: at most once, so it is not sent again.
TAKE_UNKNOWN = """
UPDATE email_recipients SET state = 'FAILED', last_error = 'DELIVERY_UNKNOWN'
WHERE tenant_id = $1 AND job_id = $2 AND state = 'SENDING'
RETURNING position, user_id
"""
SET_STATE = """
UPDATE email_recipients SET state = $4, last_error = $5,
    attempts = attempts + CASE WHEN $4 = 'SENDING' THEN 1 ELSE 0 END,
    sent_at = CASE WHEN $4 = 'SENT' THEN now() ELSE sent_at END
WHERE tenant_id = $1 AND job_id = $2 AND position = $3
"""
FAIL_PENDING = """
UPDATE email_recipients SET state = 'FAILED', last_error = $3
WHERE tenant_id = $1 AND job_id = $2 AND state = 'PENDING'
RETURNING position, user_id
"""
COUNT_STATES = """
SELECT state, count(*) AS n FROM email_recipients WHERE tenant_id = $1 AND job_id = $2
GROUP BY state
"""
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
WITHDRAW_TOKEN = """
DELETE FROM set_password_tokens WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL
"""
# A link names no organisation: found through 0018's function, which looks at every one.
FIND_TOKEN = """
SELECT tenant_id, user_id, expires_at, used_at, expired, username, email, language, status
FROM roster_find_set_password_link($1)
"""
# As the organisation find_token named.
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
# Every organisation's requests (0018: the statements are in its functions).
OPEN_REQUESTS = """
SELECT id, tenant_id, user_id, actor_token_id, actor, source
FROM roster_open_welcome_requests($1, $2)
"""
MOVE_MARK = "SELECT roster_move_welcome_mark($1, $2)"


async def add_recipients(
    conn: Conn, tenant_id: UUID, job_id: UUID, user_ids: Sequence[UUID]
) -> None:
    """The job's recipients, numbered from 1 in the order given."""
    await conn.execute(ADD_RECIPIENTS, tenant_id, job_id, list(user_ids))


async def next_pending(
    conn: Conn, tenant_id: UUID, job_id: UUID, *, after: int, limit: int
) -> list[Record]:
    return await conn.fetch(NEXT_PENDING, tenant_id, job_id, after, limit)


async def take_unknown(conn: Conn, tenant_id: UUID, job_id: UUID) -> list[Record]:
    """Recipients a dead run left SENDING, now FAILED; returns them."""
    return await conn.fetch(TAKE_UNKNOWN, tenant_id, job_id)


async def set_state(
    conn: Conn,
    tenant_id: UUID,
    job_id: UUID,
    position: int,
    state: str,
    error: str | None = None,
) -> None:
    await conn.execute(SET_STATE, tenant_id, job_id, position, state, error)


async def fail_pending(conn: Conn, tenant_id: UUID, job_id: UUID, error: str) -> list[Record]:
    return await conn.fetch(FAIL_PENDING, tenant_id, job_id, error)


async def count_states(conn: Conn, tenant_id: UUID, job_id: UUID) -> dict[str, int]:
    return {r["state"]: r["n"] for r in await conn.fetch(COUNT_STATES, tenant_id, job_id)}


async def mark_sent_user(conn: Conn, tenant_id: UUID, user_id: UUID) -> None:
    await conn.execute(MARK_SENT_USER, tenant_id, user_id)


async def issue_token(
    conn: Conn, tenant_id: UUID, user_id: UUID, token_hash: bytes, ttl_seconds: int
) -> None:
    """The user's new link; the one before stops working."""
    await conn.execute(ISSUE_TOKEN, tenant_id, user_id, token_hash, float(ttl_seconds))


async def withdraw_token(conn: Conn, tenant_id: UUID, token_hash: bytes) -> None:
    """A link whose e-mail was never accepted."""
    await conn.execute(WITHDRAW_TOKEN, tenant_id, token_hash)


async def find_token(conn: Conn, token_hash: bytes) -> Record | None:
    """The link and its user (any tenant: the link names none), used or expired too."""
    return await conn.fetchrow(FIND_TOKEN, token_hash)


async def use_token(conn: Conn, token_hash: bytes) -> Record | None:
    """Spends a valid link of the working organisation (the one find_token named); None when
    it is unknown, spent or expired."""
    return await conn.fetchrow(USE_TOKEN, token_hash)


async def use_user_token(conn: Conn, tenant_id: UUID, user_id: UUID) -> None:
    """Spends the user's link, if any: a password set otherwise makes it pointless."""
    await conn.execute(USE_USER_TOKEN, tenant_id, user_id)


async def take_requests(conn: Conn, limit: int) -> list[Record]:
    """Up to `limit` open welcome e-mail requests of every organisation, oldest first, under the
    mark's lock (so two workers never both take one), moving the mark on no further than the
    last one returned; the caller's transaction makes their jobs, each as its organisation
    (db.tenancy.switch_tenant), before it commits."""
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
