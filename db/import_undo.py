"""Undoing an import: the before-images an import records with each chunk, and what a revert
job reads and writes to put users back (0040_import_undo.sql)."""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from asyncpg import Record

from db.imports import IMPORT_COLUMNS
from db.pool import Conn

INSERT_IMAGES = """
INSERT INTO import_before_images (tenant_id, job_id, row, action, user_id, before)
SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::uuid[], $6::jsonb[])
"""
IMAGES_PAGE = """
SELECT row, action, user_id, before FROM import_before_images
WHERE tenant_id = $1 AND job_id = $2 AND row > $3
ORDER BY row
LIMIT $4
"""
# The events of each user after the last one the import (or a revert of it) recorded: changes
# made later, by anyone else. Both look-ups per user, through (tenant_id, target_id, id) (OFFSET
# 0 keeps the second one a look-up): events is never analysed while an import grows it, and a
# plan taking it for small read every event of the organisation for each page of users.
LATER_EVENTS = """
SELECT e.target_id, e.action, e.actor, e.created_at, e.data
FROM unnest($2::uuid[]) AS u(id)
CROSS JOIN LATERAL (
    SELECT max(m.id) AS last FROM events m
    WHERE m.tenant_id = $1 AND m.target_id = u.id AND m.data->>'job' = ANY($3::text[])
) ours
CROSS JOIN LATERAL (
    SELECT e.id, e.target_id, e.action, e.actor, e.created_at, e.data FROM events e
    WHERE e.tenant_id = $1 AND e.target_id = u.id AND e.id > ours.last
        AND NOT (coalesce(e.data->>'job', '') = ANY($3::text[])) AND e.action = ANY($4::text[])
    OFFSET 0
) e
ORDER BY e.id
"""
# Each user's fields from a JSON object of the values before: a field it does not name stays.
_RESTORED = [c for c in IMPORT_COLUMNS if c != "password_hash"]
_sets = ",\n    ".join(
    f"{c} = CASE WHEN s.f ? '{c}' THEN s.f->'{c}' ELSE u.{c} END"
    if c == "attributes"
    else f"{c} = CASE WHEN s.f ? '{c}' THEN s.f->>'{c}' ELSE u.{c} END"
    for c in _RESTORED
)
RESTORE_USERS = f"""
UPDATE users u SET
    {_sets},
    disabled_at = CASE
        WHEN s.f->>'status' = 'DISABLED' AND u.status = 'ACTIVE' THEN now()
        WHEN s.f->>'status' = 'ACTIVE' THEN NULL
        ELSE u.disabled_at END,
    updated_at = now()
FROM unnest($2::uuid[], $3::jsonb[]) AS s(id, f)
WHERE u.tenant_id = $1 AND u.id = s.id
"""
REMOVE_ROLES = """
DELETE FROM user_roles r
USING unnest($2::uuid[], $3::uuid[], $4::text[]) AS w(user_id, platform_id, role)
WHERE r.tenant_id = $1 AND r.user_id = w.user_id AND r.platform_id = w.platform_id
    AND r.role = w.role
"""
# Who holds each identifier a revert would put back, by every unique index of a user's
# identifiers (0001, 0006, 0030): (kind, the value as given, the user holding it). By the value
# given rather than its lower case, so the caller finds it back whatever lower() makes of it.
_HOLDERS_BY = {
    "username": "lower(u.username) = lower(k.value)",
    "email": "lower(u.email) = lower(k.value)",
    "external_id": "lower(u.external_id) = lower(k.value) AND u.external_id IS NOT NULL",
    "username_skeleton": "u.username_skeleton = k.value",
    "email_skeleton": "u.email_skeleton = k.value",
}
IDENTIFIER_KINDS = tuple(_HOLDERS_BY)
IDENTIFIER_HOLDERS = "\nUNION ALL\n".join(
    f"SELECT '{kind}' AS kind, k.value, u.id FROM unnest(${i}::text[]) AS k(value)\n"
    f"JOIN users u ON u.tenant_id = $1 AND {condition}"
    for i, (kind, condition) in enumerate(_HOLDERS_BY.items(), start=2)
)
COUNT_IMAGES = "SELECT count(*) FROM import_before_images WHERE tenant_id = $1 AND job_id = $2"
LOCK_IMPORT = "SELECT id FROM jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
REVERTS_OF = """
SELECT * FROM jobs
WHERE tenant_id = $1 AND kind = 'REVERT' AND options->>'reverts' = $2
ORDER BY created_at
"""


async def record_before_images(
    conn: Conn,
    tenant_id: UUID,
    job_id: UUID,
    images: Sequence[tuple[int, str, UUID | None, Mapping[str, Any] | None]],
) -> None:
    """(row, action, user, before) of each applied row, in the caller's (the chunk's)
    transaction."""
    if images:
        rows, actions, users, befores = (list(c) for c in zip(*images, strict=True))
        await conn.execute(INSERT_IMAGES, tenant_id, job_id, rows, actions, users, befores)


async def images_page(
    conn: Conn, tenant_id: UUID, job_id: UUID, *, after_row: int, limit: int
) -> list[Record]:
    """The import's before-images after row `after_row`, in row order."""
    return await conn.fetch(IMAGES_PAGE, tenant_id, job_id, after_row, limit)


async def later_events(
    conn: Conn,
    tenant_id: UUID,
    user_ids: Sequence[UUID],
    ours: Sequence[str],
    actions: Sequence[str],
) -> list[Record]:
    """Events of `actions` about these users recorded after the last event of the jobs `ours`
    (global ids) about each, by anyone else: the later changes, oldest first."""
    if not user_ids:
        return []
    return await conn.fetch(LATER_EVENTS, tenant_id, list(user_ids), list(ours), list(actions))


async def restore_users(
    conn: Conn, tenant_id: UUID, values: Sequence[tuple[UUID, Mapping[str, Any]]]
) -> None:
    """Sets each user's fields named in its values (IMPORT_COLUMNS but the password hash)."""
    if values:
        await conn.execute(
            RESTORE_USERS, tenant_id, [u for u, _ in values], [dict(v) for _, v in values]
        )


async def remove_roles(
    conn: Conn, tenant_id: UUID, roles: Sequence[tuple[UUID, UUID, str]]
) -> None:
    """(user id, platform id, role) triples."""
    if roles:
        await conn.execute(REMOVE_ROLES, tenant_id, *(list(c) for c in zip(*roles, strict=True)))


async def identifier_holders(
    conn: Conn, tenant_id: UUID, values: Mapping[str, Sequence[str]]
) -> list[Record]:
    """The users holding any of these identifiers, by kind (IDENTIFIER_KINDS: username,
    e-mail and external id ignoring case, and the skeletons): (kind, value, id) each."""
    if not any(values.values()):
        return []
    return await conn.fetch(
        IDENTIFIER_HOLDERS, tenant_id, *(list(values.get(k, ())) for k in IDENTIFIER_KINDS)
    )


async def reverts_of(conn: Conn, tenant_id: UUID, import_id: UUID) -> list[Record]:
    """The revert jobs of an import, oldest first."""
    return await conn.fetch(REVERTS_OF, tenant_id, str(import_id))


async def lock_reverts_of(conn: Conn, tenant_id: UUID, import_id: UUID) -> list[Record]:
    """The revert jobs of an import, the import's row locked until the transaction ends: two
    requests to revert it take turns, and the second finds the first."""
    await conn.execute(LOCK_IMPORT, tenant_id, import_id)
    return await reverts_of(conn, tenant_id, import_id)


async def count_images(conn: Conn, tenant_id: UUID, import_id: UUID) -> int:
    count: int = await conn.fetchval(COUNT_IMAGES, tenant_id, import_id)
    return count
