"""db.migrate against real PostgreSQL: each numbered file applied once, recorded, and serialised
by the advisory lock when two deploys start at once."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db import migrate
from tests.conftest import RUN, database_url

EXPECTED_TABLES = {
    "tenants",
    "api_tokens",
    "platforms",
    "users",
    "user_roles",
    "events",
    "schema_migrations",
}


@pytest.fixture
async def fresh_url() -> AsyncIterator[str]:
    """The URL of a database that does not exist yet; dropped after the test if it was made."""
    url = database_url(f"roster_mig_{RUN}_{uuid.uuid4().hex[:8]}")
    try:
        yield url
    finally:
        await migrate.drop_database(url)


async def exists(url: str) -> bool:
    admin = await asyncpg.connect(migrate._with_database(url, "postgres"))
    try:
        found = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", migrate.database_name(url)
        )
    finally:
        await admin.close()
    return found is not None


async def snapshot(url: str) -> tuple[list[tuple[str, object]], list[str]]:
    """The recorded migrations and the public tables of a database."""
    conn = await asyncpg.connect(url)
    try:
        versions = [
            (r["version"], r["applied_at"])
            for r in await conn.fetch(
                "SELECT version, applied_at FROM schema_migrations ORDER BY version"
            )
        ]
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
    finally:
        await conn.close()
    return versions, tables


def test_migration_files_are_numbered_and_ordered() -> None:
    files = migrate.migration_files()
    assert files, "no migrations found in db/migrations"
    versions = [v for v, _ in files]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    for version, sql in files:
        number, _, name = version.partition("_")
        assert number.isdigit() and len(number) == 4 and name, version
        assert sql.strip()
    assert versions[0].startswith("0001")


async def test_migrate_applies_every_file_once(fresh_url: str) -> None:
    await migrate.create_database(fresh_url)
    expected = [v for v, _ in migrate.migration_files()]
    assert await migrate.migrate(fresh_url) == expected
    versions, tables = await snapshot(fresh_url)
    assert [v for v, _ in versions] == expected
    assert EXPECTED_TABLES <= set(tables)


async def test_second_migrate_does_nothing(fresh_url: str) -> None:
    await migrate.create_database(fresh_url)
    await migrate.migrate(fresh_url)
    before = await snapshot(fresh_url)
    assert await migrate.migrate(fresh_url) == []
    assert await snapshot(fresh_url) == before


async def test_recorded_versions_are_not_run_again(fresh_url: str) -> None:
    """Versions already in schema_migrations are skipped, including ones this code has no file
    for (a newer deploy ran them)."""
    await migrate.create_database(fresh_url)
    await migrate.migrate(fresh_url)
    conn = await asyncpg.connect(fresh_url)
    try:
        await conn.execute("INSERT INTO schema_migrations (version) VALUES ('9999_future')")
    finally:
        await conn.close()
    assert await migrate.migrate(fresh_url) == []
    versions, _ = await snapshot(fresh_url)
    assert [v for v, _ in versions] == [v for v, _ in migrate.migration_files()] + ["9999_future"]


async def test_failing_migration_is_not_recorded(fresh_url: str) -> None:
    """Each file runs in a transaction with its record: a file that fails leaves no trace, so
    the next run tries it again. Here the schema already has a table the first file creates."""
    await migrate.create_database(fresh_url)
    conn = await asyncpg.connect(fresh_url)
    try:
        await conn.execute("CREATE TABLE tenants (id int)")
    finally:
        await conn.close()
    with pytest.raises(asyncpg.DuplicateTableError):
        await migrate.migrate(fresh_url)
    versions, tables = await snapshot(fresh_url)
    assert versions == []
    assert "users" not in tables
    # The lock was released: a migrate after fixing the database goes through.
    conn = await asyncpg.connect(fresh_url)
    try:
        await conn.execute("DROP TABLE tenants")
    finally:
        await conn.close()
    assert await migrate.migrate(fresh_url) == [v for v, _ in migrate.migration_files()]


async def test_concurrent_migrations_take_turns(fresh_url: str) -> None:
    await migrate.create_database(fresh_url)
    expected = [v for v, _ in migrate.migration_files()]
    results = await asyncio.gather(*(migrate.migrate(fresh_url) for _ in range(4)))
    # Exactly one run applied everything; the others found it done.
    assert sorted(results, key=len, reverse=True) == [expected, [], [], []]
    conn = await asyncpg.connect(fresh_url)
    try:
        counts = await conn.fetch(
            "SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version"
        )
        # The lock is not left held by anyone.
        held = await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    finally:
        await conn.close()
    assert [(r["version"], r["n"]) for r in counts] == [(v, 1) for v in expected]
    assert held == 0


async def test_create_database_if_missing(fresh_url: str) -> None:
    assert not await exists(fresh_url)
    assert await migrate.create_database_if_missing(fresh_url) is True
    assert await exists(fresh_url)
    assert await migrate.create_database_if_missing(fresh_url) is False
    assert await exists(fresh_url)


async def test_create_database_if_missing_concurrently(fresh_url: str) -> None:
    results = await asyncio.gather(
        *(migrate.create_database_if_missing(fresh_url) for _ in range(3))
    )
    assert sorted(results) == [False, False, True]
    assert await exists(fresh_url)


async def test_create_database_from_template(fresh_url: str, template_db: str) -> None:
    await migrate.create_database(fresh_url, template=template_db)
    versions, tables = await snapshot(fresh_url)
    assert [v for v, _ in versions] == [v for v, _ in migrate.migration_files()]
    assert EXPECTED_TABLES <= set(tables)
    assert await migrate.migrate(fresh_url) == []


async def test_drop_database(fresh_url: str) -> None:
    await migrate.create_database(fresh_url)
    assert await exists(fresh_url)
    conn = await asyncpg.connect(fresh_url)  # an open connection does not stop the drop
    try:
        await migrate.drop_database(fresh_url)
    finally:
        await conn.close()
    assert not await exists(fresh_url)
    await migrate.drop_database(fresh_url)  # dropping what is not there is fine


def test_database_name() -> None:
    assert migrate.database_name("postgresql://u@h:5432/roster") == "roster"
    assert migrate.database_name("postgresql://u@h:5432/") == "postgres"
    assert migrate.database_name("postgresql://u@h/we%20ird") == "we ird"
    url = migrate._with_database("postgresql://u:p@h:5432/a?sslmode=disable", "b c")
    assert url == "postgresql://u:p@h:5432/b%20c?sslmode=disable"
    assert migrate.database_name(url) == "b c"
