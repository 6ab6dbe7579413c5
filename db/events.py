"""The events table: audit log and webhook outbox, written in the transaction of each change."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from asyncpg import Record

from db.pool import Conn


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a token (id and name), or an operator at the command line."""

    token_id: UUID | None
    name: str


INSERT_EVENTS = """
INSERT INTO events (tenant_id, actor_token_id, actor, action, target_type, target_id, data)
SELECT $1, $2, $3, $4, $5, * FROM unnest($6::uuid[], $7::jsonb[])
"""
LIST_EVENTS = """
SELECT * FROM events
WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::uuid IS NULL OR target_id = $3)
    AND ($5::text IS NULL OR target_type = $5)
ORDER BY id DESC
LIMIT $4
"""


async def record_events(
    conn: Conn,
    tenant_id: UUID,
    actor: Actor,
    action: str,
    target_type: str,
    targets: Iterable[tuple[UUID | None, Mapping[str, Any]]],
) -> None:
    """One event per (target id, data) pair, all with the same action, in one statement."""
    pairs = list(targets)
    if not pairs:
        return
    await conn.execute(
        INSERT_EVENTS,
        tenant_id,
        actor.token_id,
        actor.name,
        action,
        target_type,
        [target_id for target_id, _ in pairs],
        [dict(data) for _, data in pairs],
    )


async def list_events(
    conn: Conn,
    tenant_id: UUID,
    *,
    before_id: int | None,
    target_id: UUID | None,
    limit: int,
    target_type: str | None = None,
) -> list[Record]:
    """Newest first, keyset-paged on the event id; `target_type` with `target_id`, since ids of
    different types may coincide (or be made to)."""
    return await conn.fetch(LIST_EVENTS, tenant_id, before_id, target_id, limit, target_type)
