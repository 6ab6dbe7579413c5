"""Users and their roles."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg import Record

from db import jobs
from db.pool import Conn

# What a user row reads as, by the name it has in the row: the password hash never leaves the
# database.
USER_FIELDS = {
    "id": "id",
    "tenant_id": "tenant_id",
    "username": "username",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "language": "language",
    "time_zone": "time_zone",
    "office_phone": "office_phone",
    "mobile_phone": "mobile_phone",
    "location": "location",
    "external_id": "external_id",
    "status": "status",
    "attributes": "attributes",
    "has_password": "password_hash IS NOT NULL AS has_password",
    "password_changed_at": "password_changed_at",
    "welcome_email_sent_at": "welcome_email_sent_at",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "disabled_at": "disabled_at",
}
USER_COLUMNS = ", ".join(USER_FIELDS.values())


def user_columns(fields: Collection[str]) -> str:
    """The columns of a user row with only these of USER_FIELDS (and the id): for a page whose
    query asks a few fields, which then reads and decodes only those."""
    return ", ".join(
        column for name, column in USER_FIELDS.items() if name == "id" or name in fields
    )


# The profile columns, in the order inputs and files list them; the ones an administrator
# may write are the only names ever put into SQL text here.
PROFILE_COLUMNS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "language",
    "time_zone",
    "office_phone",
    "mobile_phone",
    "location",
    "external_id",
    "attributes",
)
# The confusable skeletons of username and e-mail (0006_identifiers.sql), written beside them.
SKELETON_COLUMNS = ("username_skeleton", "email_skeleton")
EDITABLE_COLUMNS = frozenset(PROFILE_COLUMNS + SKELETON_COLUMNS)

# Which field a unique index guards, and whether it is the field's look (its skeleton), for
# the error a user sees.
_UNIQUE_FIELDS = {
    "users_tenant_username_key": ("username", False),
    "users_tenant_email_key": ("email", False),
    "users_tenant_external_id_key": ("external_id", False),
    "users_tenant_username_skeleton_key": ("username", True),
    "users_tenant_email_skeleton_key": ("email", True),
}


class UniqueConflict(Exception):
    """Another user of the tenant already has this username, e-mail or external id, or (when
    `look_alike`) one that looks the same."""

    def __init__(self, field: str, look_alike: bool = False) -> None:
        super().__init__(field)
        self.field = field
        self.look_alike = look_alike


GET_USERS = f"SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])"
GET_USERS_FOR_UPDATE = f"{GET_USERS} ORDER BY id FOR UPDATE"
GET_USER_BY_USERNAME = (
    f"SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND lower(username) = lower($2)"
)
GET_USER_BY_EMAIL = (
    f"SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND lower(email) = lower($2)"
)
DISABLE_USERS = """
UPDATE users SET status = 'DISABLED', disabled_at = now(), updated_at = now()
WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'ACTIVE'
RETURNING id
"""
ENABLE_USERS = """
UPDATE users SET status = 'ACTIVE', disabled_at = NULL, updated_at = now()
WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'DISABLED'
RETURNING id
"""
# The roles are read in the same statement, from the snapshot before the cascade removes them:
# the deletion event keeps which platforms the user was on, and nothing else. $3: the disabled
# ones only (an administrator's deletion, an import's); a revert deletes what its import
# created, whatever its status.
DELETE_USERS = """
WITH gone AS (
    DELETE FROM users
    WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND (NOT $3 OR status = 'DISABLED')
    RETURNING id, lower(username) AS username, lower(email) AS email
)
SELECT gone.id, gone.username, gone.email,
       coalesce(array_agg(DISTINCT r.platform_id) FILTER (WHERE r.platform_id IS NOT NULL), '{}')
           AS platform_ids
FROM gone LEFT JOIN user_roles r ON r.tenant_id = $1 AND r.user_id = gone.id
GROUP BY gone.id, gone.username, gone.email
"""
SET_PASSWORD_HASH = f"""
UPDATE users SET password_hash = $3, password_changed_at = now(), updated_at = now()
WHERE tenant_id = $1 AND id = $2
RETURNING {USER_COLUMNS}
"""
GET_ROLES = """
SELECT user_id, platform_id, role, granted_at FROM user_roles
WHERE tenant_id = $1 AND user_id = ANY($2::uuid[])
ORDER BY user_id, platform_id, role
"""
REPLACE_ROLES = """
WITH wanted AS (
    SELECT DISTINCT * FROM unnest($3::uuid[], $4::text[]) AS w(platform_id, role)
), removed AS (
    DELETE FROM user_roles r
    WHERE r.tenant_id = $1 AND r.user_id = $2 AND NOT EXISTS (
        SELECT 1 FROM wanted w WHERE w.platform_id = r.platform_id AND w.role = r.role
    )
    RETURNING platform_id, role
), added AS (
    INSERT INTO user_roles (tenant_id, user_id, platform_id, role)
    SELECT $1, $2, platform_id, role FROM wanted
    ON CONFLICT DO NOTHING
    RETURNING platform_id, role
)
SELECT true AS added, platform_id, role FROM added
UNION ALL
SELECT false, platform_id, role FROM removed
"""
ADD_ROLES = """
INSERT INTO user_roles (tenant_id, user_id, platform_id, role)
SELECT $1, $2, * FROM unnest($3::uuid[], $4::text[])
ON CONFLICT DO NOTHING
"""


# Users stored before their skeletons were (0006_identifiers.sql), of every organisation (for
# `roster migrate`), in key order, after the key (tenant_id, id) `after`.
USERS_WITHOUT_SKELETONS = """
SELECT id, tenant_id, username, email, username_skeleton, email_skeleton FROM users
WHERE (username_skeleton IS NULL OR email_skeleton IS NULL) AND (tenant_id, id) > ($1, $2)
ORDER BY tenant_id, id LIMIT $3
"""
# Gives skeletons to users without one, unless another user of the tenant has it already.
SET_SKELETONS = """
UPDATE users u SET {column} = s.skeleton
FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS s(tenant_id, id, skeleton)
WHERE u.tenant_id = s.tenant_id AND u.id = s.id AND u.{column} IS NULL AND NOT EXISTS (
    SELECT 1 FROM users o WHERE o.tenant_id = u.tenant_id AND o.{column} = s.skeleton
)
RETURNING u.id
"""


def _unique_conflict(error: asyncpg.UniqueViolationError) -> UniqueConflict:
    return UniqueConflict(*_UNIQUE_FIELDS.get(error.constraint_name or "", ("username", False)))


def _checked_columns(fields: Mapping[str, Any]) -> list[str]:
    columns = list(fields)
    unknown = set(columns) - EDITABLE_COLUMNS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    return columns


async def get_user(
    conn: Conn, tenant_id: UUID, user_id: UUID, fields: Collection[str] | None = None
) -> Record | None:
    """One of the tenant's users, with only the `fields` of USER_FIELDS (and the id) if given."""
    columns = USER_COLUMNS if fields is None else user_columns(fields)
    return await conn.fetchrow(
        f"SELECT {columns} FROM users WHERE tenant_id = $1 AND id = $2", tenant_id, user_id
    )


async def get_users(conn: Conn, tenant_id: UUID, ids: Sequence[UUID]) -> list[Record]:
    return await conn.fetch(GET_USERS, tenant_id, ids)


async def lock_users(conn: Conn, tenant_id: UUID, ids: Sequence[UUID]) -> list[Record]:
    """The tenant's users among `ids`, locked until the transaction ends (in id order, so that
    two bulk changes over overlapping selections cannot deadlock)."""
    return await conn.fetch(GET_USERS_FOR_UPDATE, tenant_id, ids)


async def get_user_by_username(conn: Conn, tenant_id: UUID, username: str) -> Record | None:
    return await conn.fetchrow(GET_USER_BY_USERNAME, tenant_id, username)


async def get_user_by_email(conn: Conn, tenant_id: UUID, email: str) -> Record | None:
    return await conn.fetchrow(GET_USER_BY_EMAIL, tenant_id, email)


async def insert_user(
    conn: Conn, tenant_id: UUID, fields: Mapping[str, Any], password_hash: str | None
) -> Record:
    columns = _checked_columns(fields)
    values = [fields[c] for c in columns]
    if password_hash is not None:
        columns += ["password_hash", "password_changed_at"]
        values += [password_hash, datetime.now().astimezone()]
    placeholders = ", ".join(f"${i}" for i in range(2, len(values) + 2))
    sql = (
        f"INSERT INTO users (tenant_id, {', '.join(columns)}) VALUES ($1, {placeholders})"
        f" RETURNING {USER_COLUMNS}"
    )
    try:
        row = await conn.fetchrow(sql, tenant_id, *values)
    except asyncpg.UniqueViolationError as e:
        raise _unique_conflict(e) from e
    assert row is not None
    return row


async def update_user(
    conn: Conn, tenant_id: UUID, user_id: UUID, changes: Mapping[str, Any]
) -> Record | None:
    columns = _checked_columns(changes)
    assignments = [f"{c} = ${i}" for i, c in enumerate(columns, start=3)]
    assignments.append("updated_at = now()")
    sql = (
        f"UPDATE users SET {', '.join(assignments)}"
        f" WHERE tenant_id = $1 AND id = $2 RETURNING {USER_COLUMNS}"
    )
    try:
        return await conn.fetchrow(sql, tenant_id, user_id, *(changes[c] for c in columns))
    except asyncpg.UniqueViolationError as e:
        raise _unique_conflict(e) from e


async def disable_users(conn: Conn, tenant_id: UUID, ids: Sequence[UUID]) -> list[UUID]:
    """Disables the active ones among `ids`; returns those it changed."""
    return [r["id"] for r in await conn.fetch(DISABLE_USERS, tenant_id, ids)]


async def enable_users(conn: Conn, tenant_id: UUID, ids: Sequence[UUID]) -> list[UUID]:
    """Enables the disabled ones among `ids`; returns those it changed."""
    return [r["id"] for r in await conn.fetch(ENABLE_USERS, tenant_id, ids)]


async def delete_users(
    conn: Conn, tenant_id: UUID, ids: Sequence[UUID], *, only_disabled: bool
) -> dict[UUID, list[UUID]]:
    """Deletes these users (with `only_disabled`, the disabled ones among them), roles
    included, and what imports' row errors and before-images kept of them; returns, for each
    deleted user, the platforms it had roles on."""
    if not ids:
        return {}
    rows = await conn.fetch(DELETE_USERS, tenant_id, list(ids), only_disabled)
    names = [r[column] for r in rows for column in ("username", "email")]
    await jobs.redact_row_errors(conn, tenant_id, [r["id"] for r in rows], names)
    return {r["id"]: list(r["platform_ids"]) for r in rows}


async def set_password_hash(
    conn: Conn, tenant_id: UUID, user_id: UUID, password_hash: str
) -> Record | None:
    return await conn.fetchrow(SET_PASSWORD_HASH, tenant_id, user_id, password_hash)


async def get_roles(conn: Conn, tenant_id: UUID, user_ids: Sequence[UUID]) -> list[Record]:
    return await conn.fetch(GET_ROLES, tenant_id, user_ids)


async def add_roles(
    conn: Conn, tenant_id: UUID, user_id: UUID, roles: Sequence[tuple[UUID, str]]
) -> None:
    await conn.execute(ADD_ROLES, tenant_id, user_id, [p for p, _ in roles], [r for _, r in roles])


async def replace_roles(
    conn: Conn, tenant_id: UUID, user_id: UUID, roles: Sequence[tuple[UUID, str]]
) -> tuple[list[tuple[UUID, str]], list[tuple[UUID, str]]]:
    """Makes `roles` the user's roles; returns (added, removed) as (platform id, role) pairs."""
    rows = await conn.fetch(
        REPLACE_ROLES, tenant_id, user_id, [p for p, _ in roles], [r for _, r in roles]
    )
    added = [(r["platform_id"], r["role"]) for r in rows if r["added"]]
    removed = [(r["platform_id"], r["role"]) for r in rows if not r["added"]]
    return added, removed


async def users_without_skeletons(conn: Conn, after: tuple[UUID, UUID], limit: int) -> list[Record]:
    """Up to `limit` users lacking a skeleton after the key (tenant id, id) `after`, in key
    order: any organisation's."""
    return await conn.fetch(USERS_WITHOUT_SKELETONS, *after, limit)


async def set_skeletons(
    conn: Conn, column: str, skeletons: Sequence[tuple[UUID, UUID, str]]
) -> set[UUID]:
    """Gives each user its skeleton in `column` (one of SKELETON_COLUMNS) where it has none
    and no other user of its tenant has it; returns the users given one. One user meanwhile
    given the same skeleton by another writer: the statement is tried again, and sees it.
    `skeletons`: (tenant id, user id, skeleton) each."""
    if column not in SKELETON_COLUMNS:
        raise ValueError(f"not a skeleton column: {column}")
    sql = SET_SKELETONS.format(column=column)
    tenant_ids = [t for t, _, _ in skeletons]
    ids, values = [u for _, u, _ in skeletons], [v for _, _, v in skeletons]
    while True:
        try:
            return {r["id"] for r in await conn.fetch(sql, tenant_ids, ids, values)}
        except asyncpg.UniqueViolationError:
            continue
