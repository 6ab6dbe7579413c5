"""API tokens, stored as hashes."""

from collections.abc import Callable
from uuid import UUID

from asyncpg import Connection, Record

from db.pool import Conn

# Where migration 0014's trigger announces every change to a token: its id, or '' for all.
CHANGES_CHANNEL = "roster_api_tokens"
CHANGES_ANNOUNCED = """
SELECT EXISTS (
    SELECT FROM pg_trigger WHERE tgrelid = 'api_tokens'::regclass AND tgname = 'api_tokens_changed'
)
"""
PING = "SELECT 1"

INSERT_TOKEN = """
INSERT INTO api_tokens (tenant_id, name, scope, token_hash) VALUES ($1, $2, $3, $4)
RETURNING id
"""
# Before anyone knows the organisation (row-level security, 0018): by its hash, and the open
# sockets' tokens by id, each through a function that may look at every organisation's.
# Active: not revoked, and a console session 7 days after sign-in or 12 hours unused at most
# (roster_token_active, 0018).
FIND_ACTIVE_TOKEN = "SELECT id, tenant_id, name, scope, kind FROM roster_find_token($1)"
REVOKE_TOKEN = """
UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id
"""
ACTIVE_AMONG = "SELECT id FROM roster_active_tokens($1::uuid[]) AS id"
LIST_TOKENS = """
SELECT t.id, t.name, t.scope, t.kind, t.created_at, t.revoked_at, roster_token_active(t) AS active
FROM api_tokens t WHERE t.tenant_id = $1
ORDER BY t.created_at, t.id
"""


async def insert_token(
    conn: Conn, tenant_id: UUID, name: str, scope: str, token_hash: bytes
) -> UUID:
    token_id: UUID = await conn.fetchval(INSERT_TOKEN, tenant_id, name, scope, token_hash)
    return token_id


async def find_active_token(conn: Conn, token_hash: bytes) -> Record | None:
    return await conn.fetchrow(FIND_ACTIVE_TOKEN, token_hash)


async def revoke_token(conn: Conn, token_id: UUID) -> bool:
    """Revokes any organisation's token (`roster token revoke`, as the owner), or the working
    organisation's (a console's sign-out)."""
    return await conn.fetchval(REVOKE_TOKEN, token_id) is not None


async def active_among(conn: Conn, token_ids: list[UUID]) -> set[UUID]:
    """Those of the tokens that are still active (neither revoked nor gone)."""
    return {r["id"] for r in await conn.fetch(ACTIVE_AMONG, token_ids)}


async def list_tokens(conn: Conn, tenant_id: UUID) -> list[Record]:
    return await conn.fetch(LIST_TOKENS, tenant_id)


async def listen_for_changes(conn: Connection, changed: Callable[[UUID | None], None]) -> bool:
    """Calls `changed` with the id of every token updated or deleted from now on (None: any
    token may have changed), once its transaction commits. False when the database announces
    no change (it lacks migration 0014): nothing will be heard."""

    def deliver(_conn: Conn, _pid: int, _channel: str, payload: object) -> None:
        changed(UUID(str(payload)) if payload else None)

    await conn.add_listener(CHANGES_CHANNEL, deliver)
    announced: bool = await conn.fetchval(CHANGES_ANNOUNCED)
    return announced


async def ping(conn: Connection) -> None:
    """One round trip: fails when the server is gone."""
    await conn.execute(PING)
