"""The `roster` command, run as a subprocess against a real database, the way an operator uses
it."""

import asyncio
import hashlib
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from db import migrate
from tests.conftest import RUN, Tenant, database_url

TOKEN_LINE = re.compile(r"^# token ([0-9a-f-]{36}) \((admin|read)\) for tenant (\S+);")


@dataclass
class Result:
    code: int
    out: str
    err: str


def roster_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "roster")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "roster.cli"]


async def roster(db_url: str, *args: str, **env_vars: str) -> Result:
    env = {**os.environ, "DATABASE_URL": db_url, **env_vars}
    process = await asyncio.create_subprocess_exec(
        *roster_command(),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


async def ok(db_url: str, *args: str) -> Result:
    result = await roster(db_url, *args)
    assert result.code == 0, result
    return result


async def fetch(db_url: str, sql: str, *params: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetch(sql, *params)
    finally:
        await conn.close()


async def make_token(db_url: str, slug: str, scope: str, name: str) -> tuple[str, str]:
    """(token id, token) made by `roster token create`."""
    result = await ok(db_url, "token", "create", "--tenant", slug, "--scope", scope, "--name", name)
    lines = result.out.splitlines()
    assert len(lines) == 1, result  # stdout is the token alone, for scripts
    match = TOKEN_LINE.match(result.err.strip())
    assert match, result.err
    assert match.group(2) == scope and match.group(3) == slug
    return match.group(1), lines[0]


# --- tenants ---------------------------------------------------------------------------------


async def test_tenant_create_makes_tenant_and_platforms(db_url: str) -> None:
    result = await ok(db_url, "tenant", "create", "acme", "--name", "Acme Corp")
    assert "acme" in result.out
    rows = await fetch(db_url, "SELECT slug, name, min_password_length FROM tenants")
    assert [(r["slug"], r["name"], r["min_password_length"]) for r in rows] == [
        ("acme", "Acme Corp", 15)
    ]
    platforms = await fetch(
        db_url,
        "SELECT p.key, p.aliases, p.kind FROM platforms p JOIN tenants t ON t.id = p.tenant_id "
        "WHERE t.slug = 'acme' ORDER BY p.key",
    )
    assert [(p["key"], p["aliases"], p["kind"]) for p in platforms] == [
        ("contentcloud", [], "CONTENT_CLOUD"),
        ("learningcloud", ["lcloud"], "LEARNING_CLOUD"),
    ]


async def test_tenant_create_twice(db_url: str) -> None:
    await ok(db_url, "tenant", "create", "acme", "--name", "Acme")
    again = await roster(db_url, "tenant", "create", "acme", "--name", "Other")
    assert again.code == 1
    assert "exists" in again.err
    exist_ok = await roster(db_url, "tenant", "create", "acme", "--name", "Other", "--exist-ok")
    assert exist_ok.code == 0, exist_ok
    rows = await fetch(db_url, "SELECT name FROM tenants")
    assert [r["name"] for r in rows] == ["Acme"]  # unchanged
    count = await fetch(db_url, "SELECT count(*) AS n FROM platforms")
    assert count[0]["n"] == 2  # no second set of platforms


async def test_tenant_create_invalid_slug(db_url: str) -> None:
    for slug in ("Not A Slug", "Bad Slug!", "acme_corp", "a" * 64):
        result = await roster(db_url, "tenant", "create", slug)
        assert result.code == 1, result
        assert result.err.startswith("error: the slug"), result
        assert "password" not in result.err  # only the rule that was broken
        assert "Traceback" not in result.err
    assert await fetch(db_url, "SELECT * FROM tenants") == []


async def test_tenant_create_refused_leaves_nothing_behind(db_url: str) -> None:
    for refused in ("5", "7", "65"):
        result = await roster(
            db_url, "tenant", "create", "acme", "--name", "Acme", "--min-password-length", refused
        )
        assert result.code == 1, result
        assert result.err.strip() == "error: the minimum password length is 8 to 64", result
        assert "created" not in result.out
    assert await fetch(db_url, "SELECT * FROM tenants") == []
    assert await fetch(db_url, "SELECT * FROM platforms") == []
    both = await roster(db_url, "tenant", "create", "Bad Slug!", "--min-password-length", "5")
    assert both.code == 1
    assert both.err.splitlines() == [
        "error: the slug is 1 to 63 lower-case letters, digits and '-', not starting with '-'",
        "error: the minimum password length is 8 to 64",
    ]
    # The slug is free: the refused attempts took nothing.
    await ok(db_url, "tenant", "create", "acme", "--name", "Acme", "--min-password-length", "8")
    rows = await fetch(db_url, "SELECT name, min_password_length FROM tenants")
    assert [tuple(r) for r in rows] == [("Acme", 8)]


async def test_tenant_create_with_min_password_length(db_url: str) -> None:
    await ok(db_url, "tenant", "create", "acme", "--min-password-length", "12")
    rows = await fetch(db_url, "SELECT min_password_length FROM tenants WHERE slug = 'acme'")
    assert rows[0]["min_password_length"] == 12


async def test_tenant_update_min_password_length(db_url: str) -> None:
    await ok(db_url, "tenant", "create", "acme")
    result = await ok(db_url, "tenant", "update", "acme", "--min-password-length", "8")
    assert "8" in result.out
    rows = await fetch(db_url, "SELECT min_password_length FROM tenants WHERE slug = 'acme'")
    assert rows[0]["min_password_length"] == 8

    for refused in ("7", "65"):
        result = await roster(db_url, "tenant", "update", "acme", "--min-password-length", refused)
        assert result.code == 1, result
        assert "8 to 64" in result.err
        assert "Traceback" not in result.err
    rows = await fetch(db_url, "SELECT min_password_length FROM tenants WHERE slug = 'acme'")
    assert rows[0]["min_password_length"] == 8

    missing = await roster(db_url, "tenant", "update", "nobody", "--min-password-length", "10")
    assert missing.code == 1
    assert "nobody" in missing.err


# --- tokens ----------------------------------------------------------------------------------


async def test_token_create_prints_it_once_and_stores_only_its_hash(db_url: str) -> None:
    await ok(db_url, "tenant", "create", "acme")
    token_id, token = await make_token(db_url, "acme", "admin", "deploy")
    assert token.startswith("rst_") and len(token) > 40
    rows = await fetch(db_url, "SELECT * FROM api_tokens")
    assert len(rows) == 1
    row = rows[0]
    assert str(row["id"]) == token_id
    assert row["scope"] == "admin" and row["name"] == "deploy"
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    # No column holds the token, in any form but its hash.
    secret_part = token.removeprefix("rst_")
    for column, value in dict(row).items():
        text = value.hex() if isinstance(value, bytes) else str(value)
        assert token not in text and secret_part not in text, column
    # Nor any other table (the audit event of its creation included).
    dump = await fetch(
        db_url,
        "SELECT t::text AS row FROM tenants t UNION ALL SELECT e::text FROM events e "
        "UNION ALL SELECT p::text FROM platforms p",
    )
    assert all(secret_part not in r["row"] for r in dump)
    events = await fetch(db_url, "SELECT action, actor, data FROM events")
    assert [(e["action"], e["actor"].startswith("cli:")) for e in events] == [
        ("token.created", True)
    ]

    # Listing shows the token but never its secret.
    listed = await ok(db_url, "token", "list", "--tenant", "acme")
    assert token_id in listed.out and "deploy" in listed.out and "active" in listed.out
    assert secret_part not in listed.out

    # Each token is new.
    _, second = await make_token(db_url, "acme", "admin", "deploy")
    assert second != token


async def test_token_create_for_unknown_tenant(db_url: str) -> None:
    result = await roster(
        db_url, "token", "create", "--tenant", "nobody", "--scope", "admin", "--name", "x"
    )
    assert result.code == 1
    assert result.out == ""
    assert await fetch(db_url, "SELECT * FROM api_tokens") == []


async def test_token_create_refuses_unknown_scope(db_url: str) -> None:
    await ok(db_url, "tenant", "create", "acme")
    result = await roster(db_url, "token", "create", "--tenant", "acme", "--scope", "root")
    assert result.code == 2  # argparse
    assert result.out == ""
    assert await fetch(db_url, "SELECT * FROM api_tokens") == []


async def test_token_revoke_and_list(db_url: str) -> None:
    await ok(db_url, "tenant", "create", "acme")
    await ok(db_url, "tenant", "create", "globex")
    keep_id, _ = await make_token(db_url, "acme", "read", "reporting")
    drop_id, _ = await make_token(db_url, "acme", "admin", "old deploy")
    other_id, _ = await make_token(db_url, "globex", "admin", "theirs")

    result = await ok(db_url, "token", "revoke", drop_id)
    assert drop_id in result.out
    listed = (await ok(db_url, "token", "list", "--tenant", "acme")).out.splitlines()
    assert len(listed) == 2
    by_id = {line.split()[0]: line for line in listed}
    assert set(by_id) == {keep_id, drop_id}
    assert "active" in by_id[keep_id] and "read" in by_id[keep_id]
    assert "revoked" in by_id[drop_id] and "old deploy" in by_id[drop_id]
    assert other_id not in "\n".join(listed)

    again = await roster(db_url, "token", "revoke", drop_id)
    assert again.code == 1
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        result = await roster(db_url, "token", "revoke", bad)
        assert result.code == 1, result
        assert "Traceback" not in result.err
    rows = await fetch(db_url, "SELECT id FROM api_tokens WHERE revoked_at IS NULL ORDER BY id")
    assert sorted(str(r["id"]) for r in rows) == sorted([keep_id, other_id])

    missing = await roster(db_url, "token", "list", "--tenant", "nobody")
    assert missing.code == 1


async def test_cli_token_works_against_the_api(db_url: str, client: httpx.AsyncClient) -> None:
    await ok(db_url, "tenant", "create", "acme")
    token_id, token = await make_token(db_url, "acme", "admin", "api")
    _, read_token = await make_token(db_url, "acme", "read", "reader")
    headers = {"Authorization": f"Bearer {token}"}
    query = {"query": "{ platforms { key } }"}
    response = await client.post("/graphql", json=query, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert {p["key"] for p in body["data"]["platforms"]} == {"learningcloud", "contentcloud"}

    mutation = {
        "query": 'mutation { createPlatform(input: {key: "crm", name: "CRM", roles: ["x"]}) '
        "{ platform { key } userErrors { code } } }"
    }
    response = await client.post(
        "/graphql", json=mutation, headers={"Authorization": f"Bearer {read_token}"}
    )
    assert response.status_code == 200
    assert response.json().get("errors"), response.json()  # a read token cannot mutate
    response = await client.post("/graphql", json=mutation, headers=headers)
    assert response.json()["data"]["createPlatform"]["platform"] == {"key": "crm"}

    await ok(db_url, "token", "revoke", token_id)
    response = await client.post("/graphql", json=query, headers=headers)
    assert response.status_code == 401


# --- schema and migrate ----------------------------------------------------------------------


async def test_schema_prints_sdl(db_url: str) -> None:
    result = await ok(db_url, "schema")
    assert "type User implements Node" in result.out
    assert re.search(r"^type User\b", result.out, re.MULTILINE)
    assert "createUser(input: CreateUserInput!): UserPayload!" in result.out
    assert "createPlatform(" in result.out
    assert "type Query {" in result.out and "type Mutation {" in result.out


@pytest.fixture
async def empty_url() -> AsyncIterator[str]:
    url = database_url(f"roster_cli_{RUN}_{uuid.uuid4().hex[:8]}")
    try:
        yield url
    finally:
        await migrate.drop_database(url)


async def test_migrate_creates_and_migrates_a_database(empty_url: str) -> None:
    versions = [v for v, _ in migrate.migration_files()]
    result = await ok(empty_url, "migrate")
    assert "created database" in result.out
    assert all(v in result.out for v in versions)
    rows = await fetch(empty_url, "SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in rows] == versions

    again = await ok(empty_url, "migrate")
    assert "up to date" in again.out
    assert "created" not in again.out

    # The migrated database is ready for the rest of the CLI.
    await ok(empty_url, "tenant", "create", "acme")


async def test_migrate_an_existing_empty_database(empty_url: str) -> None:
    await migrate.create_database(empty_url)
    result = await ok(empty_url, "migrate")
    assert "created database" not in result.out
    rows = await fetch(empty_url, "SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in rows] == [v for v, _ in migrate.migration_files()]


async def test_no_command_is_a_usage_error(db_url: str) -> None:
    result = await roster(db_url)
    assert result.code == 2
    assert "usage" in result.err


# --- a newcomer's mistakes: one clear line, no traceback ------------------------------------


def one_error_line(result: Result) -> str:
    assert result.code == 1, result
    assert "Traceback" not in result.err and "KeyError" not in result.err, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.parametrize(
    "args", [("tenant", "list"), ("token", "list", "--tenant", "acme"), ("migrate",), ("worker",)]
)
async def test_unreachable_postgres(args: tuple[str, ...]) -> None:
    result = await roster("postgresql://postgres@127.0.0.1:1/roster", *args)
    line = one_error_line(result)
    assert (
        line == "error: cannot reach PostgreSQL at 127.0.0.1:1 (DATABASE_URL): connection refused"
    )


@pytest.mark.parametrize("args", [("tenant", "list"), ("tenant", "create", "acme"), ("serve",)])
async def test_missing_database(args: tuple[str, ...]) -> None:
    url = database_url(f"roster_missing_{RUN}")
    line = one_error_line(await roster(url, *args))
    assert f"has no database 'roster_missing_{RUN}'" in line
    assert "`roster migrate` creates it" in line


async def test_database_not_migrated(empty_url: str) -> None:
    await migrate.create_database(empty_url)
    line = one_error_line(await roster(empty_url, "tenant", "list"))
    assert "not migrated: run `roster migrate`" in line


@pytest.mark.parametrize("args", [("tenant", "list"), ("migrate",), ("serve",)])
async def test_a_database_url_of_another_kind(args: tuple[str, ...]) -> None:
    line = one_error_line(await roster("mysql://me:s3cret@localhost/roster", *args))
    assert line == "error: DATABASE_URL must be a postgresql:// URL, not mysql://"


@pytest.mark.parametrize(
    "command",
    [
        ("worker",),
        ("serve",),
        ("export", "--tenant", "acme", "--out", "x.csv"),
        ("import", "--tenant", "acme", "x"),
    ],
    ids=["worker", "serve", "export", "import"],
)
async def test_unreachable_redis(db_url: str, command: tuple[str, ...]) -> None:
    result = await roster(db_url, *command, REDIS_URL="redis://127.0.0.1:1/0")
    line = one_error_line(result)
    assert line.startswith("error: cannot reach Redis at 127.0.0.1:1 (REDIS_URL)"), line


@pytest.mark.parametrize(
    "command",
    [("export", "--tenant", "acme", "--out", "x.csv"), ("import", "--tenant", "acme", "x")],
)
async def test_a_redis_url_of_another_kind_is_one_line(
    db_url: str, command: tuple[str, ...]
) -> None:
    line = one_error_line(await roster(db_url, *command, REDIS_URL="http://127.0.0.1:1/"))
    assert line.startswith("error: ") and "REDIS_URL" in line, line


async def test_version(db_url: str) -> None:
    result = await ok(db_url, "--version")
    assert re.fullmatch(r"roster \d+\.\d+\.\d+\S*\n", result.out), result.out


async def test_tenant_list(db_url: str) -> None:
    assert (await ok(db_url, "tenant", "list")).out == ""
    await ok(db_url, "tenant", "create", "globex", "--name", "Globex Inc")
    await ok(db_url, "tenant", "create", "acme", "--name", "Acme", "--min-password-length", "12")
    lines = (await ok(db_url, "tenant", "list")).out.splitlines()
    assert [line.split()[0] for line in lines] == ["acme", "globex"]
    assert lines[0].split()[1:3] == ["0", "users"]
    assert "min password 12" in lines[0] and lines[0].endswith("Acme")
    assert lines[1].endswith("Globex Inc")


@pytest.mark.parametrize(
    "command",
    [
        ("serve",),
        ("tenant", "create"),
        ("tenant", "update"),
        ("token", "create"),
        ("token", "revoke"),
        ("token", "list"),
    ],
)
async def test_every_option_is_explained(db_url: str, command: tuple[str, ...]) -> None:
    """In `--help`, every argument and option has a description next to it or under it."""
    lines = (await ok(db_url, *command, "--help")).out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith(("arguments:", "options:")))
    arguments = [line for line in lines[start:] if line and not line.endswith(":")]
    for i, line in enumerate(arguments):
        if not re.match(r"^  \S", line):
            continue  # a description's own line
        explained = re.search(r"\S  +\S", line.strip()) or (
            i + 1 < len(arguments) and re.match(r"^ {4,}\S", arguments[i + 1])
        )
        assert explained, f"{' '.join(command)}: {line.strip()} has no help"


async def test_migrate_gives_users_stored_before_skeletons_theirs(
    db_url: str, acme: Tenant
) -> None:
    """Users written before 0006 have no skeletons: `roster migrate` computes them, and
    leaves (and names) the second of two stored look-alikes, for an administrator to rename."""
    conn = await asyncpg.connect(db_url)
    try:
        ids = {}
        for username in ("admin", "\u0430dmin", "bob"):  # the second with a Cyrillic а
            ids[username] = await conn.fetchval(
                "INSERT INTO users (tenant_id, username, email, first_name, last_name)"
                " VALUES ($1, $2, $2 || '@example.com', 'A', 'B') RETURNING id",
                acme.id,
                username,
            )
    finally:
        await conn.close()
    result = await ok(db_url, "migrate")
    rows = await fetch(db_url, "SELECT id, username_skeleton, email_skeleton FROM users")
    skeletons = {r["id"]: (r["username_skeleton"], r["email_skeleton"]) for r in rows}
    first, second = sorted([ids["admin"], ids["\u0430dmin"]])
    assert skeletons[first][0] is not None and skeletons[ids["bob"]][0] is not None
    assert skeletons[second] == (None, None)
    assert str(second) in result.out
    assert "look" in result.out
    # Done once: nothing left to give but the look-alike.
    again = await ok(db_url, "migrate")
    assert str(second) in again.out


@pytest.mark.parametrize(
    "variable",
    [
        {"ROSTER_WEBHOOK_RETENTION": "soon"},
        {"ROSTER_WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/33"},
        {"ROSTER_TRUSTED_PROXIES": "proxy.internal"},
    ],
)
async def test_a_setting_that_is_not_valid_is_one_line(variable: dict[str, str]) -> None:
    # Every command reads the settings first: no traceback for an operator's typo.
    (name,) = variable
    result = await roster(database_url("postgres"), "schema", **variable)
    assert result.code == 1, result
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert name in result.err and "Traceback" not in result.err
