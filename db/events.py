"""The events table: audit log and webhook outbox, written in the transaction of each change."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record

from db.pool import Conn


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a token (id and name), or an operator at the command line."""

    token_id: UUID | None
    name: str


# unnest yields the arrays in order: event ids follow the order given, so one target's events
# list in the order they happened.
INSERT_EVENTS = """
INSERT INTO events (tenant_id, actor_token_id, actor, target_id, action, target_type, data)
SELECT $1, $2, $3, * FROM unnest($4::uuid[], $5::text[], $6::text[], $7::jsonb[])
"""
LIST_EVENTS = """
SELECT * FROM events
WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::uuid IS NULL OR target_id = $3)
    AND ($5::text IS NULL OR target_type = $5)
    AND ($6::text[] IS NULL OR action = ANY($6))
    AND ($7::timestamptz IS NULL OR created_at >= $7)
    AND ($8::timestamptz IS NULL OR created_at < $8)
ORDER BY id DESC
LIMIT $4
"""


async def record_events(
    conn: Conn,
    tenant_id: UUID,
    actor: Actor,
    targets: Iterable[tuple[UUID | None, tuple[str, str, dict[str, Any]]]],
) -> None:
    """One event per (target id, (action, target type, data)) — the events rules.events
    builds — in one statement."""
    pairs = list(targets)
    if not pairs:
        return
    await conn.execute(
        INSERT_EVENTS,
        tenant_id,
        actor.token_id,
        actor.name,
        [target_id for target_id, _ in pairs],
        [action for _, (action, _, _) in pairs],
        [target_type for _, (_, target_type, _) in pairs],
        [data for _, (_, _, data) in pairs],
    )


async def list_events(
    conn: Conn,
    tenant_id: UUID,
    *,
    before_id: int | None,
    target_id: UUID | None,
    limit: int,
    target_type: str | None = None,
    actions: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Record]:
    """Newest first, keyset-paged on the event id; `target_type` with `target_id`, since ids of
    different types may coincide (or be made to); `actions`, `since` (inclusive) and `until`
    (exclusive) narrow them."""
    return await conn.fetch(
        LIST_EVENTS,
        tenant_id,
        before_id,
        target_id,
        limit,
        target_type,
        list(actions) if actions is not None else None,
        since,
        until,
    )
