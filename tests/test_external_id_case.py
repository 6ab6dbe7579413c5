"""External ids are unique per tenant whatever their case, like usernames and e-mails (issue
#27, item 2): the API refuses `hr-1042` beside `HR-1042`, an import matching by EXTERNAL_ID
finds the user whichever case the file writes, and migration 0030 stops, naming the users,
on a database holding two ids that differ only in case."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from db import migrate
from tests.conftest import RUN, Api, create_user, database_url
from tests.test_cli import roster
from tests.test_import_plan import plan, stored
from tests.test_imports import import_csv

CASE_MIGRATION = "0030_external_id_case"
UPDATE = """mutation($id: ID!, $externalId: String) {
  updateUser(id: $id, input: {externalId: $externalId}) { user { externalId } userErrors { code } }
}"""


async def test_the_api_refuses_an_external_id_in_another_case(admin: Api) -> None:
    ana = await create_user(admin, "ana", externalId="HR-1042")
    bob = await create_user(admin, "bob")
    taken = await admin.data(UPDATE, id=bob["id"], externalId="hr-1042")
    assert taken["updateUser"]["userErrors"] == [{"code": "EXTERNAL_ID_TAKEN"}]
    # The user's own id may change case; it is stored as given.
    own = await admin.data(UPDATE, id=ana["id"], externalId="hr-1042")
    assert own["updateUser"] == {"user": {"externalId": "hr-1042"}, "userErrors": []}


def test_a_row_finds_its_user_whatever_the_case(tmp_path: Path) -> None:
    ana = stored("ana", external_id="HR-1042")
    done = plan(
        tmp_path,
        "external_id,email,first_name\nhr-1042,ana@example.com,Anabel\n",
        [ana],
        match_by="EXTERNAL_ID",
        mode="UPDATE",
    )
    assert done.errors == []
    assert done.plans[2].user == ana
    # The file's case is stored, as a new e-mail's would be.
    assert done.plans[2].values == {"external_id": "hr-1042", "first_name": "Anabel"}


def test_another_users_id_in_another_case_is_taken(tmp_path: Path) -> None:
    users = [stored("ana"), stored("bob", external_id="HR-7")]
    done = plan(tmp_path, "username,email,external_id\nnew,new@example.com,hr-7\n", users)
    assert done.errors == [(2, "external_id", "EXTERNAL_ID_TAKEN")]


def test_a_repeat_in_another_case_is_a_duplicate(tmp_path: Path) -> None:
    done = plan(tmp_path, "email,external_id\nann@example.com,HR-1\nbob@example.com,hr-1\n")
    assert done.errors == [(3, "external_id", "DUPLICATE_IN_FILE")]


async def test_an_import_matches_stored_ids_in_the_database_ignoring_case(
    client: httpx.AsyncClient, admin: Api, acme: object, db_url: str
) -> None:
    await create_user(admin, "ana", externalId="HR-1042")
    token = acme.admin_token  # type: ignore[attr-defined]
    body = b"external_id,email,first_name,last_name\nhr-1042,ana@example.com,Anabel,Tester\n"
    job = await import_csv(client, admin, token, db_url, body, matchBy="EXTERNAL_ID")
    assert (job["status"], job["updated"], job["created"], job["failed"]) == (
        "SUCCEEDED",
        1,
        0,
        0,
    )


@pytest.fixture
async def before_0030() -> AsyncIterator[str]:
    """A database migrated up to the migration before 0030, with a tenant."""
    url = database_url(f"roster_case_{RUN}_{uuid.uuid4().hex[:8]}")
    await migrate.create_database(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(migrate.CREATE_MIGRATIONS_TABLE)
        for version, sql in migrate.migration_files():
            if version >= CASE_MIGRATION:
                break
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(migrate.RECORD_VERSION, version)
        await conn.execute("INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme')")
    finally:
        await conn.close()
    try:
        yield url
    finally:
        await migrate.drop_database(url)


async def add_users(url: str, *users: tuple[str, str]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for username, external_id in users:
            await conn.execute(
                "INSERT INTO users (tenant_id, username, email, first_name, last_name, "
                "external_id) SELECT id, $1, $1 || '@example.com', 'A', 'B', $2 FROM tenants",
                username,
                external_id,
            )
    finally:
        await conn.close()


async def test_0030_stops_naming_ids_that_differ_only_in_case(before_0030: str) -> None:
    await add_users(before_0030, ("ana", "HR-1042"), ("bob", "hr-1042"), ("cy", "HR-7"))
    with pytest.raises(asyncpg.RaiseError) as raised:
        await migrate.migrate(before_0030)
    assert "tenant acme: ana (HR-1042), bob (hr-1042)" in str(raised.value)
    assert "HR-7" not in str(raised.value)
    # Nothing changed: the migration is not recorded, the old index stands.
    conn = await asyncpg.connect(before_0030)
    try:
        assert not await conn.fetchval(
            "SELECT 1 FROM schema_migrations WHERE version = $1", CASE_MIGRATION
        )
    finally:
        await conn.close()

    # `roster migrate` says so in a line or two, and exits 1.
    result = await roster(before_0030, "migrate")
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert "ana (HR-1042), bob (hr-1042)" in result.err and "roster migrate again" in result.err

    # Once one of them has another id, it goes through.
    conn = await asyncpg.connect(before_0030)
    try:
        await conn.execute("UPDATE users SET external_id = 'HR-1043' WHERE username = 'bob'")
    finally:
        await conn.close()
    assert CASE_MIGRATION in await migrate.migrate(before_0030)
    with pytest.raises(asyncpg.UniqueViolationError):
        await add_users(before_0030, ("dee", "hr-1043"))
