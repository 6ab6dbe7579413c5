"""The console's one-time sign-in links and the sessions they open (migration 0016)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from asyncpg import Record

from db.pool import Conn

# A used or expired link is kept a day, so that opening it again says which it was; the
# organisation's own are pruned when it gets a new one.
INSERT_LINK = """
WITH pruned AS (
    DELETE FROM console_links WHERE tenant_id = $2 AND expires_at < now() - interval '1 day'
)
INSERT INTO console_links (link_hash, tenant_id, scope, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
RETURNING expires_at
"""
# By its hash alone, before anyone knows the organisation (0018).
USE_LINK = "SELECT tenant_id, scope, refusal FROM roster_use_console_link($1)"
INSERT_SESSION = """
WITH token AS (
    INSERT INTO api_tokens (tenant_id, name, scope, token_hash, kind)
    VALUES ($1, 'console', $2, $3, 'console')
    RETURNING id
)
INSERT INTO console_sessions (tenant_id, token_id, expires_at)
SELECT $1, id, now() + make_interval(secs => $4) FROM token
RETURNING token_id, expires_at
"""
# At most once a minute: a session's idle clock needs no finer grain, and an API process asks
# PostgreSQL about a token it holds only once a minute anyway (roster.tokencache).
TOUCH_SESSION = """
UPDATE console_sessions SET last_used_at = now()
WHERE tenant_id = $1 AND token_id = $2 AND last_used_at < now() - interval '1 minute'
"""
GET_SESSION = """
SELECT s.expires_at, t.scope, n.slug, n.name
FROM console_sessions s
JOIN api_tokens t ON t.tenant_id = s.tenant_id AND t.id = s.token_id
JOIN tenants n ON n.id = t.tenant_id
WHERE s.tenant_id = $1 AND s.token_id = $2
"""

LinkRefusal = Literal["LINK_USED", "LINK_EXPIRED", "LINK_UNKNOWN"]


async def insert_link(
    conn: Conn, link_hash: bytes, tenant_id: UUID, scope: str, ttl_seconds: float
) -> datetime:
    expires_at: datetime = await conn.fetchval(
        INSERT_LINK, link_hash, tenant_id, scope, ttl_seconds
    )
    return expires_at


async def use_link(conn: Conn, link_hash: bytes) -> Record | LinkRefusal:
    """The link's tenant and scope, the link spent; else why it cannot be used. Any
    organisation's link."""
    row = await conn.fetchrow(USE_LINK, link_hash)
    assert row is not None  # the function returns one row either way
    refusal: LinkRefusal | None = row["refusal"]
    return row if refusal is None else refusal


async def insert_session(
    conn: Conn, tenant_id: UUID, scope: str, token_hash: bytes, ttl_seconds: float
) -> Record:
    """A console token and its session: its id and when it ends at the latest."""
    row = await conn.fetchrow(INSERT_SESSION, tenant_id, scope, token_hash, ttl_seconds)
    assert row is not None  # an INSERT … SELECT of the row just inserted
    return row


async def touch_session(conn: Conn, tenant_id: UUID, token_id: UUID) -> None:
    await conn.execute(TOUCH_SESSION, tenant_id, token_id)


async def get_session(conn: Conn, tenant_id: UUID, token_id: UUID) -> Record | None:
    return await conn.fetchrow(GET_SESSION, tenant_id, token_id)
