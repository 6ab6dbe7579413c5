"""Tenants (organisations), created with the platforms every organisation starts with."""

from uuid import UUID

from asyncpg import Record

from db.pool import Conn

# Every new organisation gets the two platforms of the learning cloud.
DEFAULT_PLATFORMS: list[tuple[str, list[str], str, str, list[str]]] = [
    (
        "learningcloud",
        ["lcloud"],
        "LearningCloud",
        "LEARNING_CLOUD",
        ["student", "teacher", "tutor", "manager", "administrator"],
    ),
    (
        "contentcloud",
        [],
        "ContentCloud",
        "CONTENT_CLOUD",
        ["author", "editor", "reviewer", "publisher", "administrator"],
    ),
]

INSERT_TENANT = """
INSERT INTO tenants (slug, name) VALUES ($1, $2)
ON CONFLICT (slug) DO NOTHING
RETURNING *
"""
INSERT_DEFAULT_PLATFORM = """
INSERT INTO platforms (tenant_id, key, aliases, name, kind, roles) VALUES ($1, $2, $3, $4, $5, $6)
"""
GET_TENANT = "SELECT * FROM tenants WHERE id = $1"
GET_TENANT_BY_SLUG = "SELECT * FROM tenants WHERE slug = $1"
LIST_TENANTS = """
SELECT t.*, (SELECT count(*) FROM users u WHERE u.tenant_id = t.id) AS user_count
FROM tenants t ORDER BY t.slug
"""
SET_MIN_PASSWORD_LENGTH = """
UPDATE tenants SET min_password_length = $2 WHERE slug = $1 RETURNING *
"""


async def create_tenant(conn: Conn, slug: str, name: str) -> Record | None:
    """The new tenant with its default platforms, or None when the slug is taken."""
    async with conn.transaction():
        tenant = await conn.fetchrow(INSERT_TENANT, slug, name)
        if tenant is None:
            return None
        await conn.executemany(
            INSERT_DEFAULT_PLATFORM, [(tenant["id"], *p) for p in DEFAULT_PLATFORMS]
        )
        return tenant


async def get_tenant(conn: Conn, tenant_id: UUID) -> Record | None:
    return await conn.fetchrow(GET_TENANT, tenant_id)


async def get_tenant_by_slug(conn: Conn, slug: str) -> Record | None:
    return await conn.fetchrow(GET_TENANT_BY_SLUG, slug)


async def list_tenants(conn: Conn) -> list[Record]:
    """Every tenant by slug, with its number of users."""
    return await conn.fetch(LIST_TENANTS)


async def set_min_password_length(conn: Conn, slug: str, length: int) -> Record | None:
    return await conn.fetchrow(SET_MIN_PASSWORD_LENGTH, slug, length)


ANY_TENANT = "SELECT 1 FROM tenants LIMIT 1"


async def check_tenants_table(conn: Conn) -> None:
    """Raises (asyncpg's UndefinedTableError) unless the database holds Roster's tables."""
    await conn.fetchval(ANY_TENANT)
