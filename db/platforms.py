"""Platforms of a tenant: LearningCloud, ContentCloud and registered external apps."""

from collections.abc import Sequence
from uuid import UUID

from asyncpg import Record

from db.pool import Conn

LIST_PLATFORMS = "SELECT * FROM platforms WHERE tenant_id = $1 ORDER BY key"
GET_PLATFORMS = "SELECT * FROM platforms WHERE tenant_id = $1 AND id = ANY($2::uuid[])"
LOCK_TENANT_PLATFORMS = "SELECT pg_advisory_xact_lock(hashtextextended('platforms:' || $1, 0))"
INSERT_PLATFORM = """
INSERT INTO platforms (
    tenant_id, key, aliases, name, kind, roles, webhook_url, webhook_secret, webhook_batch_size
)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *
"""
UPDATE_PLATFORM = """
UPDATE platforms SET key = $3, aliases = $4, name = $5, roles = $6, webhook_url = $7,
    webhook_secret = $8, webhook_batch_size = $9, updated_at = now()
WHERE tenant_id = $1 AND id = $2
RETURNING *
"""
DELETE_PLATFORM = """
DELETE FROM platforms WHERE tenant_id = $1 AND id = $2
RETURNING id
"""
ROLES_IN_USE = """
SELECT DISTINCT role FROM user_roles
WHERE tenant_id = $1 AND platform_id = $2 AND role = ANY($3::text[])
ORDER BY role
"""
COUNT_USERS_WITH_ROLES = """
SELECT count(DISTINCT user_id) FROM user_roles WHERE tenant_id = $1 AND platform_id = $2
"""


async def list_platforms(conn: Conn, tenant_id: UUID) -> list[Record]:
    return await conn.fetch(LIST_PLATFORMS, tenant_id)


async def get_platforms(conn: Conn, tenant_id: UUID, ids: Sequence[UUID]) -> list[Record]:
    return await conn.fetch(GET_PLATFORMS, tenant_id, ids)


async def lock_tenant_platforms(conn: Conn, tenant_id: UUID) -> None:
    """Serialise changes to one tenant's platforms until the transaction ends, so that two
    concurrent changes cannot both claim the same key or alias."""
    await conn.execute(LOCK_TENANT_PLATFORMS, str(tenant_id))


async def insert_platform(
    conn: Conn,
    tenant_id: UUID,
    *,
    key: str,
    aliases: list[str],
    name: str,
    kind: str,
    roles: list[str],
    webhook_url: str | None,
    webhook_secret: str | None,
    webhook_batch_size: int = 1,
) -> Record:
    row = await conn.fetchrow(
        INSERT_PLATFORM,
        tenant_id,
        key,
        aliases,
        name,
        kind,
        roles,
        webhook_url,
        webhook_secret,
        webhook_batch_size,
    )
    assert row is not None
    return row


async def update_platform(
    conn: Conn,
    tenant_id: UUID,
    platform_id: UUID,
    *,
    key: str,
    aliases: list[str],
    name: str,
    roles: list[str],
    webhook_url: str | None,
    webhook_secret: str | None,
    webhook_batch_size: int = 1,
) -> Record | None:
    return await conn.fetchrow(
        UPDATE_PLATFORM,
        tenant_id,
        platform_id,
        key,
        aliases,
        name,
        roles,
        webhook_url,
        webhook_secret,
        webhook_batch_size,
    )


async def delete_platform(conn: Conn, tenant_id: UUID, platform_id: UUID) -> bool:
    return await conn.fetchval(DELETE_PLATFORM, tenant_id, platform_id) is not None


async def roles_in_use(
    conn: Conn, tenant_id: UUID, platform_id: UUID, roles: list[str]
) -> list[str]:
    """Which of `roles` some user holds on the platform."""
    return [r["role"] for r in await conn.fetch(ROLES_IN_USE, tenant_id, platform_id, roles)]


async def count_users_with_roles(conn: Conn, tenant_id: UUID, platform_id: UUID) -> int:
    count: int = await conn.fetchval(COUNT_USERS_WITH_ROLES, tenant_id, platform_id)
    return count
