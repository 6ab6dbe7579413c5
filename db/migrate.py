"""Numbered .sql files in db/migrations, applied in order, once, under an advisory lock."""

from importlib import resources
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

# Any constant works, as long as nothing else in the database uses it for another lock.
MIGRATION_LOCK = 7_406_811_001

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
APPLIED_VERSIONS = "SELECT version FROM schema_migrations"
RECORD_VERSION = "INSERT INTO schema_migrations (version) VALUES ($1)"


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration, in the order they apply."""
    folder = resources.files("db") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def migrate(dsn: str) -> list[str]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    conn = await asyncpg.connect(dsn)
    try:
        # A session lock, so that two deploys starting at once take turns; the second one
        # then finds everything applied and does nothing.
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(CREATE_MIGRATIONS_TABLE)
            applied = {r["version"] for r in await conn.fetch(APPLIED_VERSIONS)}
            done = []
            for version, sql in migration_files():
                if version in applied:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(RECORD_VERSION, version)
                done.append(version)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    finally:
        await conn.close()


def _quote_ident(name: str) -> str:
    # Identifiers cannot be query parameters: quote them the way PostgreSQL does.
    return '"' + name.replace('"', '""') + '"'


def _with_database(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + quote(database)))


async def create_database(dsn: str, *, template: str | None = None) -> None:
    """Creates the database the DSN names (from `template` when given)."""
    admin = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        sql = f"CREATE DATABASE {_quote_ident(database_name(dsn))}"
        if template is not None:
            sql += f" TEMPLATE {_quote_ident(template)}"
        await admin.execute(sql)
    finally:
        await admin.close()


async def drop_database(dsn: str) -> None:
    admin = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        await admin.execute(
            f"DROP DATABASE IF EXISTS {_quote_ident(database_name(dsn))} WITH (FORCE)"
        )
    finally:
        await admin.close()


async def create_database_if_missing(dsn: str) -> bool:
    """Creates the database the DSN names when it does not exist yet; True if it did."""
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        await conn.close()
        return False
    try:
        await create_database(dsn)
    except asyncpg.DuplicateDatabaseError:
        return False
    except asyncpg.UniqueViolationError as error:
        # Two processes creating it at the same moment: the loser trips over the catalog's
        # unique index instead of getting DuplicateDatabaseError.
        if error.constraint_name != "pg_database_datname_index":
            raise
        return False
    return True


def database_name(dsn: str) -> str:
    """The database a postgresql:// URL names."""
    return unquote(urlsplit(dsn).path.lstrip("/")) or "postgres"
