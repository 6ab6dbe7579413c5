"""Set-based writes of one chunk of an import: look up, insert, update, roles."""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from asyncpg import Record

from db.pool import Conn
from db.users import PROFILE_COLUMNS, SKELETON_COLUMNS, USER_COLUMNS

# What a CSV row can set, in the order the arrays below carry them.
IMPORT_COLUMNS = (
    *(c for c in PROFILE_COLUMNS if c != "attributes"),
    "status",
    "attributes",
    "password_hash",
    *SKELETON_COLUMNS,
)
_TYPES = ["jsonb" if c == "attributes" else "text" for c in IMPORT_COLUMNS]

# Only the table's owner may (0043's function).
ANALYZE_USERS = "SELECT roster_analyze_users()"
FIND_EXISTING = f"""
SELECT {USER_COLUMNS}, {", ".join(SKELETON_COLUMNS)} FROM users
WHERE tenant_id = $1
  AND (lower(username) = ANY($2::text[]) OR lower(email) = ANY($3::text[])
       OR lower(external_id) = ANY($4::text[])
       OR username_skeleton = ANY($5::text[]) OR email_skeleton = ANY($6::text[]))
"""

_unnest = ", ".join(f"${i + 2}::{t}[]" for i, t in enumerate(_TYPES))
_names = ", ".join(IMPORT_COLUMNS)
_values = ", ".join(
    "coalesce(attributes, '{}')" if c == "attributes" else c for c in IMPORT_COLUMNS
)
INSERT_USERS = f"""
INSERT INTO users (tenant_id, {_names}, password_changed_at, disabled_at)
SELECT $1, {_values},
       CASE WHEN password_hash IS NOT NULL THEN now() END,
       CASE WHEN status = 'DISABLED' THEN now() END
FROM unnest({_unnest}) AS s({_names})
RETURNING id, lower(email) AS email_key
"""
# Blank cells arrive as NULL and leave the stored value as it is; attributes merge key by key.
# Every column of IMPORT_COLUMNS is written, so a new one cannot be read and then ignored.
_sets = ",\n    ".join(
    f"{c} = u.attributes || coalesce(s.attributes, '{{}}')"
    if c == "attributes"
    else f"{c} = coalesce(s.{c}, u.{c})"
    for c in IMPORT_COLUMNS
)
UPDATE_USERS = f"""
UPDATE users u SET
    {_sets},
    disabled_at = CASE
        WHEN s.status = 'DISABLED' AND u.status = 'ACTIVE' THEN now()
        WHEN s.status = 'ACTIVE' THEN NULL
        ELSE u.disabled_at END,
    password_changed_at = CASE WHEN s.password_hash IS NOT NULL THEN now()
        ELSE u.password_changed_at END,
    updated_at = now()
FROM unnest($2::uuid[], {", ".join(f"${i + 3}::{t}[]" for i, t in enumerate(_TYPES))})
    AS s(id, {_names})
WHERE u.tenant_id = $1 AND u.id = s.id
RETURNING u.id
"""
# A user created in the same transaction holds no role yet, and a row's roles are distinct: the
# roles of new users go in without ON CONFLICT, whose speculative insertion costs a seventh more a
# row (one backend, 300,000 roles in chunks of 5,000: 11-14 µs of CPU a row against 13-15).
INSERT_ROLES = """
INSERT INTO user_roles (tenant_id, user_id, platform_id, role)
SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[])
"""
ADD_ROLES = INSERT_ROLES + "ON CONFLICT DO NOTHING\n"
REMOVE_OTHER_ROLES = """
DELETE FROM user_roles r
WHERE r.tenant_id = $1 AND r.user_id = ANY($2::uuid[])
  AND NOT EXISTS (
      SELECT 1 FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS w(user_id, platform_id, role)
      WHERE w.user_id = r.user_id AND w.platform_id = r.platform_id AND w.role = r.role
  )
"""


async def find_existing(
    conn: Conn,
    tenant_id: UUID,
    *,
    usernames: Sequence[str],
    emails: Sequence[str],
    external_ids: Sequence[str],
    username_skeletons: Sequence[str],
    email_skeletons: Sequence[str],
) -> list[Record]:
    """Users of the tenant with any of these usernames or e-mails (lower case), external ids
    or skeletons of username or e-mail; with their skeletons."""
    return await conn.fetch(
        FIND_EXISTING,
        tenant_id,
        usernames,
        emails,
        external_ids,
        username_skeletons,
        email_skeletons,
    )


async def analyze_users(conn: Conn) -> None:
    """Fresh statistics of the users table, for the planner."""
    await conn.execute(ANALYZE_USERS)


def _arrays(rows: Sequence[Mapping[str, Any]]) -> list[list[Any] | None]:
    """One array per column; NULL for a column no row sets, which unnest pads with NULLs (and
    which costs no encoding: most files set a few of the columns)."""
    arrays = ([row.get(c) for row in rows] for c in IMPORT_COLUMNS)
    return [a if any(v is not None for v in a) else None for a in arrays]


async def insert_users(
    conn: Conn, tenant_id: UUID, rows: Sequence[Mapping[str, Any]]
) -> dict[str, UUID]:
    """Creates users from IMPORT_COLUMNS values; returns the new ids by lower-case e-mail.
    A user created meanwhile with the same username or e-mail fails the statement
    (UniqueViolationError): no ON CONFLICT, which costs a seventh of the insert."""
    if not rows:
        return {}
    created = await conn.fetch(INSERT_USERS, tenant_id, *_arrays(rows))
    return {r["email_key"]: r["id"] for r in created}


async def update_users(
    conn: Conn, tenant_id: UUID, ids: Sequence[UUID], rows: Sequence[Mapping[str, Any]]
) -> list[UUID]:
    """Merges the values given (None leaves a field unchanged) into users `ids`."""
    if not rows:
        return []
    updated = await conn.fetch(UPDATE_USERS, tenant_id, list(ids), *_arrays(rows))
    return [r["id"] for r in updated]


async def add_roles(
    conn: Conn,
    tenant_id: UUID,
    roles: Sequence[tuple[UUID, UUID, str]],
    *,
    new_users: bool = False,
) -> None:
    """(user id, platform id, role) triples; ones a user has already are skipped. With
    `new_users`, every user is one created in this transaction and the triples are distinct:
    none is held already, and a repeated one fails the statement."""
    if roles:
        query = INSERT_ROLES if new_users else ADD_ROLES
        await conn.execute(query, tenant_id, *(list(c) for c in zip(*roles, strict=True)))


async def replace_roles(
    conn: Conn,
    tenant_id: UUID,
    user_ids: Sequence[UUID],
    roles: Sequence[tuple[UUID, UUID, str]],
) -> None:
    """Makes `roles` the only roles of `user_ids`."""
    if not user_ids:
        return
    columns: list[list[Any]] = [list(c) for c in zip(*roles, strict=True)] or [[], [], []]
    await conn.execute(REMOVE_OTHER_ROLES, tenant_id, list(user_ids), *columns)
    await add_roles(conn, tenant_id, roles)
