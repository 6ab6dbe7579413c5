"""Every row knows its organisation (issue #24): the schema's keys lead with tenant_id and every
per-organisation table holds roster_app to its organisation, read off PostgreSQL's catalogue of
the migrated database; and what roster_app sees and may write, with an organisation named by its
transaction, with another's, and with none."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest

from db import migrate, user_counts
from db.pool import connect, create_pool
from db.tenancy import APP_ROLE, SETTING, acting_for, switch_tenant
from tests.conftest import Tenant

OPERATIONS = Path(__file__).parent.parent / "docs" / "operations.md"

# Tables of no organisation: the organisations themselves, what every instance shares, and the
# search statistics and welcome e-mail mark, which are of every organisation at once.
GLOBAL_TABLES = {
    "tenants",
    "app_secrets",
    "schema_migrations",
    "search_trigrams",
    "search_trigrams_sampled",
    "welcome_request_mark",
}
# Indexes of the paths that find rows before anyone knows their organisation, each used by one
# of CROSS_TENANT_FUNCTIONS (or the operator's CLI, as the owner).
CROSS_TENANT_INDEXES = {
    "api_tokens_hash": "a request's token, by its hash",
    "api_tokens_id": "the open sockets' tokens, by id; roster token revoke",
    "console_links_hash": "a console sign-in link, by its hash",
    "set_password_tokens_hash": "a set-password link, by its hash",
    "jobs_id": "the job a worker is handed, by its id",
    "jobs_unfinished": "the worker's recovery of unfinished jobs",
    "jobs_expiring": "the sweep of expired exports",
    "events_welcome_requested": "the welcome e-mail pass",
    "webhook_deliveries_finished": "the sweep of old deliveries",
}
# GIN indexes hold an entry per trigram or key, not per row: the rows they find are narrowed to
# the organisation after (on Citus, each shard has its own index of its organisations' rows).
NOT_BTREE = {"users_search_trgm", "job_row_errors_user_keys"}
# The functions that may look across organisations (migration 0018 and later), each SECURITY
# DEFINER.
CROSS_TENANT_FUNCTIONS = {
    "roster_find_token",
    "roster_active_tokens",
    "roster_use_console_link",
    "roster_find_set_password_link",
    "roster_job_tenant",
    "roster_unfinished_jobs",
    "roster_delete_abandoned_files",
    "roster_delete_expired_export_files",
    "roster_outbox_tenants",
    "roster_due_platforms",
    "roster_delete_finished_deliveries",
    "roster_analyze_deliveries",
    "roster_analyze_users",
    "roster_open_welcome_requests",
    "roster_move_welcome_mark",
    "roster_users_total",
    "roster_sample_search_trigrams",
    "roster_cancel_backend",
}
ORGANISATION_POLICY = "(tenant_id = ( SELECT roster_tenant_id() AS roster_tenant_id))"

TABLES = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
    EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
            AND NOT a.attisdropped AND a.attnotnull) AS has_tenant
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY 1
"""
POLICIES = """
SELECT tablename, policyname, roles, cmd, permissive, qual, with_check FROM pg_policies
WHERE schemaname = 'public'
"""
# Keys and indexes with their columns in order (an expression counts as no column).
INDEXES = """
SELECT t.relname AS tbl, c.relname AS name, am.amname, i.indisunique,
    array(SELECT coalesce(a.attname, '(expression)')
          FROM unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, n)
          LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          ORDER BY k.n) AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_am am ON am.oid = c.relam
WHERE t.relnamespace = 'public'::regnamespace
"""
FOREIGN_KEYS = """
SELECT k.conrelid::regclass::text AS tbl, k.conname,
    array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS c(attnum, n)
          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = c.attnum
          ORDER BY c.n) AS columns,
    array(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS c(attnum, n)
          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = c.attnum
          ORDER BY c.n) AS referenced,
    k.confrelid::regclass::text AS parent
FROM pg_constraint k
WHERE k.connamespace = 'public'::regnamespace AND k.contype = 'f'
"""
DEFINERS = """
SELECT p.proname, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE') AS public,
    has_function_privilege($1, p.oid, 'EXECUTE') AS app
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
"""


async def _catalogue(db_url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await connect(db_url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def _organisation_tables(db_url: str) -> list[str]:
    return [
        r["relname"] for r in await _catalogue(db_url, TABLES) if r["relname"] not in GLOBAL_TABLES
    ]


# --- The static check: the migrations' schema, from the catalogue ------------------------------


async def test_every_table_is_global_or_holds_its_organisation(db_url: str) -> None:
    tables = await _catalogue(db_url, TABLES)
    names = {t["relname"] for t in tables}
    assert GLOBAL_TABLES <= names, GLOBAL_TABLES - names
    for table in tables:
        if table["relname"] in GLOBAL_TABLES:
            continue
        name = table["relname"]
        assert table["has_tenant"], f"{name}: no tenant_id NOT NULL column"
        assert table["relrowsecurity"], f"{name}: row-level security is not enabled"
        assert table["relforcerowsecurity"], f"{name}: row-level security is not forced"


async def test_every_organisation_table_has_the_organisation_policy(db_url: str) -> None:
    policies: dict[str, list[asyncpg.Record]] = {}
    for p in await _catalogue(db_url, POLICIES):
        policies.setdefault(p["tablename"], []).append(p)
    for table in await _organisation_tables(db_url):
        mine = [p for p in policies.get(table, []) if APP_ROLE in p["roles"]]
        assert len(mine) == 1, f"{table}: {len(mine)} policies for {APP_ROLE}"
        policy = mine[0]
        assert policy["cmd"] == "ALL" and policy["permissive"] == "PERMISSIVE", table
        assert policy["qual"] == ORGANISATION_POLICY, (table, policy["qual"])
        assert policy["with_check"] == ORGANISATION_POLICY, (table, policy["with_check"])
        # No other policy reaches roster_app (a PUBLIC one would widen what it sees).
        others = [p for p in policies[table] if p is not policy]
        assert all("public" not in p["roles"] for p in others), table


async def test_tenant_id_leads_every_key_and_index(db_url: str) -> None:
    organisation = set(await _organisation_tables(db_url))
    found = set()
    for index in await _catalogue(db_url, INDEXES):
        if index["tbl"] not in organisation:
            continue
        name, columns = index["name"], index["columns"]
        found.add(name)
        if name in CROSS_TENANT_INDEXES or name in NOT_BTREE:
            assert not index["indisunique"], f"{name}: a unique key must lead with tenant_id"
            continue
        assert index["amname"] == "btree", f"{name}: {index['amname']}, not listed in NOT_BTREE"
        assert columns[0] == "tenant_id", f"{name} on {index['tbl']}: {columns}"
    listed = set(CROSS_TENANT_INDEXES) | NOT_BTREE
    assert listed <= found, f"listed but gone: {listed - found}"
    for key in await _catalogue(db_url, FOREIGN_KEYS):
        if key["tbl"] not in organisation:
            continue
        assert key["columns"][0] == "tenant_id", (key["conname"], key["columns"])
        referenced = key["referenced"][0]
        expected = "id" if key["parent"] == "tenants" else "tenant_id"
        assert referenced == expected, (key["conname"], key["referenced"])


async def test_the_paths_across_organisations_are_the_listed_functions(db_url: str) -> None:
    definers = {r["proname"]: r for r in await _catalogue(db_url, DEFINERS, APP_ROLE)}
    assert set(definers) == CROSS_TENANT_FUNCTIONS
    for name, function in definers.items():
        assert any(setting.startswith("search_path=") for setting in function["proconfig"] or []), (
            f"{name}: no fixed search_path"
        )
        assert not function["public"], f"{name}: executable by PUBLIC"
        assert function["app"], f"{name}: not executable by {APP_ROLE}"
    # The operator's documentation names each of them.
    documented = set(re.findall(r"`(roster_[a-z_]+)`", OPERATIONS.read_text(encoding="utf-8")))
    assert CROSS_TENANT_FUNCTIONS <= documented, CROSS_TENANT_FUNCTIONS - documented


async def test_the_application_role_owns_nothing_and_cannot_bypass(db_url: str) -> None:
    role = (
        await _catalogue(
            db_url,
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles"
            " WHERE rolname = $1",
            APP_ROLE,
        )
    )[0]
    assert not any(role.values()), dict(role)
    owned = await _catalogue(db_url, migrate.APP_ROLE_OWNS, APP_ROLE)
    assert owned[0][0] is False
    # No table's TRUNCATE (which no policy holds), REFERENCES or TRIGGER; not the migrations.
    granted = await _catalogue(
        db_url,
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
        " WHERE grantee = $1",
        APP_ROLE,
    )
    assert not [g for g in granted if g["privilege_type"] in ("TRUNCATE", "REFERENCES", "TRIGGER")]
    assert "schema_migrations" not in {g["table_name"] for g in granted}


# --- What roster_app sees and writes --------------------------------------------------------------


@pytest.fixture
async def app_conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection acting as roster_app, as the API's and the worker's do, on a superuser's
    URL (the tests' own)."""
    conn = await connect(db_url, role=APP_ROLE)
    try:
        yield conn
    finally:
        await conn.close()


async def _add_user(db_url: str, tenant: Tenant, username: str) -> UUID:
    conn = await connect(db_url)  # the owner: any organisation
    try:
        user_id: UUID = await conn.fetchval(
            "INSERT INTO users (tenant_id, username, email, first_name, last_name)"
            " VALUES ($1, $2, $2 || '@example.com', 'A', 'B') RETURNING id",
            tenant.id,
            username,
        )
    finally:
        await conn.close()
    return user_id


async def test_a_query_that_omits_the_organisation_returns_nothing(
    db_url: str, acme: Tenant, globex: Tenant, app_conn: asyncpg.Connection
) -> None:
    await _add_user(db_url, acme, "ana")
    await _add_user(db_url, globex, "gus")
    assert await app_conn.fetchval("SELECT current_user") == APP_ROLE
    # No organisation named: no row of any per-organisation table, however it is asked (or no
    # right to ask at all, for a table roster_app does not use).
    for table in await _organisation_tables(db_url):
        if await app_conn.fetchval("SELECT has_table_privilege($1, 'SELECT')", table):
            assert await app_conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
        else:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app_conn.fetchval(f"SELECT count(*) FROM {table}")
    assert await app_conn.fetchval("SELECT count(*) FROM users WHERE tenant_id = $1", acme.id) == 0
    # Named: that organisation's rows alone, though the query names none.
    with acting_for(acme.id):
        assert await app_conn.fetch("SELECT username FROM users") == [("ana",)]
        assert (
            await app_conn.fetchval("SELECT count(*) FROM users WHERE tenant_id = $1", globex.id)
            == 0
        )
        async with app_conn.transaction():
            assert await app_conn.fetchval("SELECT count(*) FROM platforms") == 2
    # The setting lasted as long as each transaction.
    assert not app_conn.is_in_transaction()
    assert not await app_conn.fetchval(f"SELECT current_setting('{SETTING}', true)")


async def test_a_write_with_another_organisations_id_fails(
    db_url: str, acme: Tenant, globex: Tenant, app_conn: asyncpg.Connection
) -> None:
    gus = await _add_user(db_url, globex, "gus")
    insert = (
        "INSERT INTO users (tenant_id, username, email, first_name, last_name)"
        " VALUES ($1, 'eve', 'eve@example.com', 'E', 'V')"
    )
    with acting_for(acme.id):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await app_conn.execute(insert, globex.id)
        # Another organisation's rows are not there to change or delete.
        assert await app_conn.execute("UPDATE users SET first_name = 'X' WHERE id = $1", gus) == (
            "UPDATE 0"
        )
        assert await app_conn.execute("DELETE FROM users WHERE tenant_id = $1", globex.id) == (
            "DELETE 0"
        )
        # Nor to move one's own rows into.
        await app_conn.execute(insert, acme.id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await app_conn.execute(
                "UPDATE users SET tenant_id = $1 WHERE username = 'eve'", globex.id
            )
    # A transaction that names no organisation can write none.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await app_conn.execute(insert, acme.id)
    owner = await connect(db_url)
    try:
        rows = await owner.fetch("SELECT tenant_id, username, first_name FROM users ORDER BY 2")
    finally:
        await owner.close()
    assert [tuple(r) for r in rows] == [(acme.id, "eve", "E"), (globex.id, "gus", "A")]


async def test_a_switch_within_a_transaction_holds_until_it_ends(
    db_url: str, acme: Tenant, globex: Tenant, app_conn: asyncpg.Connection
) -> None:
    await _add_user(db_url, acme, "ana")
    await _add_user(db_url, globex, "gus")
    async with app_conn.transaction():
        assert await app_conn.fetchval("SELECT count(*) FROM users") == 0
        await switch_tenant(app_conn, globex.id)
        assert await app_conn.fetchval("SELECT username FROM users") == "gus"
    assert await app_conn.fetchval("SELECT count(*) FROM users") == 0
    with pytest.raises(RuntimeError):
        await switch_tenant(app_conn, acme.id)


async def test_the_pools_role_outlives_a_reset(db_url: str, acme: Tenant) -> None:
    """A pool's connections act as roster_app from their first statement, and a RESET ALL
    (asyncpg's reset on release) or RESET ROLE leaves them so."""
    pool = await create_pool(db_url, min_size=1, max_size=1, role=APP_ROLE)
    try:
        for reset in ("RESET ALL", "RESET ROLE"):
            async with pool.acquire() as conn:
                await conn.execute(reset)
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT current_user") == APP_ROLE
                assert await conn.fetchval("SELECT count(*) FROM tenants") == 1
                assert await conn.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await pool.close()


async def test_lookups_use_the_indexes_under_the_policies(
    db_url: str, acme: Tenant, app_conn: asyncpg.Connection
) -> None:
    """The functions of the indexed expressions are LEAKPROOF (`roster migrate`): PostgreSQL
    uses them in an index condition ahead of the policy, as it does with no policy at all (the
    search's LIKE too, which a table of a few thousand users reads faster without its index)."""
    marked = await _catalogue(db_url, migrate.NOT_LEAKPROOF, list(migrate.LEAKPROOF))
    assert marked == []
    owner = await connect(db_url)
    try:
        await owner.execute(
            "INSERT INTO users (tenant_id, username, email, first_name, last_name)"
            " SELECT $1, 'user' || n, 'user' || n || '@example.com', 'A', 'B'"
            " FROM generate_series(1, 5000) n",
            acme.id,
        )
        await owner.execute("ANALYZE users")
        # (what the index condition holds, the query, the plans it may not take instead)
        queries = [
            ("lower(username)", "lower(username) = 'user17'", "seqscan"),
            (
                "ROW((lower(username)), id) >",
                f"(lower(username), id) > ('user4', '{uuid4()}')"
                " ORDER BY lower(username), id LIMIT 10",
                "seqscan",
            ),
            (
                "split_part(email",
                "roster_fold(split_part(email, '@', 2)) LIKE 'zz%'",
                "seqscan, bitmapscan",
            ),
        ]
        explained = [
            (needle, f"EXPLAIN SELECT id FROM users WHERE tenant_id = $1 AND {condition}", refused)
            for needle, condition, refused in queries
        ]
        # A role's holders, counted from the (tenant, platform, role, user) index.
        holders = (
            user_counts.COUNT_HOLDERS.format(
                distinct="DISTINCT", platforms=user_counts.TENANT_PLATFORMS
            )
            .replace("$2::text", "'teacher'::text")
            .replace("role = $2", "role = 'teacher'")
        )
        explained.append(("role = 'teacher'", f"EXPLAIN {holders}", "seqscan"))
        with acting_for(acme.id):
            for needle, query, refused in explained:
                plans = [
                    await _conditions(conn, query, acme.id, refused) for conn in (owner, app_conn)
                ]
                assert any(needle in line for line in plans[0]), plans[0]
                assert plans[1] == plans[0], plans
    finally:
        await owner.close()


async def _conditions(
    conn: asyncpg.Connection, explain: str, tenant_id: UUID, refused: str
) -> list[str]:
    """The index conditions of the plan, with the planner kept from the `refused` methods."""
    async with conn.transaction():
        for method in refused.split(", "):
            await conn.execute(f"SET LOCAL enable_{method} = off")
        rows = await conn.fetch(explain, tenant_id)
    return [r[0].strip() for r in rows if "Index Cond" in r[0]]
