"""Each API process keeps the tokens it has seen, and a token revoked in any way is still refused
on its next request, on every instance; while a process cannot hear PostgreSQL's notifications
it asks PostgreSQL on every request instead."""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from db import tokens
from db.pool import connect
from roster.app import create_app
from roster.auth import new_token, token_hash
from roster.settings import Settings
from roster.tokencache import TokenCache
from tests.conftest import Tenant

QUERY = "{ users { totalCount } }"


@dataclass
class Instance:
    client: httpx.AsyncClient
    cache: TokenCache

    async def status(self, token: str) -> int:
        response = await self.client.post(
            "/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {token}"}
        )
        return response.status_code


@pytest.fixture
async def instances(settings: Settings) -> AsyncIterator[tuple[Instance, Instance]]:
    """Two API instances on the same database and Redis, each with its own cache."""
    async with (
        LifespanManager(create_app(settings)) as one,
        LifespanManager(create_app(settings)) as two,
    ):
        made = []
        for manager in (one, two):
            transport = httpx.ASGITransport(app=manager.app)
            client = httpx.AsyncClient(transport=transport, base_url="http://roster.test")
            made.append(Instance(client, manager._state["tokens"]))
        try:
            yield made[0], made[1]
        finally:
            for instance in made:
                await instance.client.aclose()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The token hashes looked up in PostgreSQL, in order."""
    seen: list[bytes] = []
    find = tokens.find_active_token

    async def counted(conn: Any, digest: bytes) -> Any:
        seen.append(digest)
        return await find(conn, digest)

    monkeypatch.setattr(tokens, "find_active_token", counted)
    return seen


async def execute(db_url: str, sql: str, *args: Any) -> None:
    """As an operator would, on a connection of their own, committed when this returns."""
    conn = await connect(db_url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def admin_token_id(db_url: str, tenant: Tenant) -> Any:
    conn = await connect(db_url)
    try:
        return await conn.fetchval(
            "SELECT id FROM api_tokens WHERE tenant_id = $1 AND scope = 'admin'", tenant.id
        )
    finally:
        await conn.close()


async def revoke_like_the_cli(db_url: str, tenant: Tenant) -> None:
    token_id = await admin_token_id(db_url, tenant)
    conn = await connect(db_url)
    try:
        assert await tokens.revoke_token(conn, token_id)
    finally:
        await conn.close()


async def wait_for(condition: Any, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.01)


async def heard(instances: tuple[Instance, ...], change: Awaitable[None]) -> None:
    """Makes the change, then waits for every instance to hear of it: PostgreSQL notifies at
    commit, and the notification takes a moment (under a millisecond, a few on a loaded
    machine) to reach the process, which could serve a request meanwhile."""
    before = [instance.cache.generation for instance in instances]
    await change
    await wait_for(
        lambda: all(i.cache.generation != g for i, g in zip(instances, before, strict=True)),
        within=1.0,
    )


async def test_a_token_seen_once_needs_no_query_again(
    instances: tuple[Instance, Instance], acme: Tenant, lookups: list[bytes]
) -> None:
    one, _ = instances
    for _ in range(5):
        assert await one.status(acme.admin_token) == 200
    assert lookups == [token_hash(acme.admin_token)]


async def test_revoked_by_the_cli_after_use_is_refused_next_on_every_instance(
    instances: tuple[Instance, Instance], acme: Tenant, db_url: str, lookups: list[bytes]
) -> None:
    for instance in instances:
        assert await instance.status(acme.admin_token) == 200
        assert await instance.status(acme.admin_token) == 200
    assert len(lookups) == 2  # once per instance: both now hold it
    await heard(instances, revoke_like_the_cli(db_url, acme))
    for instance in instances:
        assert await instance.status(acme.admin_token) == 401
    # The tenant's other token is untouched.
    assert await instances[0].status(acme.read_token) == 200


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = $1",
        "DELETE FROM tenants WHERE id = $1",
    ],
    ids=["revoked-by-hand", "tenant-deleted"],
)
async def test_changed_by_plain_sql_after_use_is_refused_next_on_every_instance(
    instances: tuple[Instance, Instance], acme: Tenant, db_url: str, sql: str
) -> None:
    for instance in instances:
        assert await instance.status(acme.admin_token) == 200
    await heard(instances, execute(db_url, sql, acme.id))
    for instance in instances:
        assert await instance.status(acme.admin_token) == 401


async def test_a_token_refused_once_works_as_soon_as_it_exists(
    instances: tuple[Instance, Instance], acme: Tenant, db_url: str
) -> None:
    one, _ = instances
    token = new_token()
    assert await one.status(token) == 401
    conn = await connect(db_url)
    try:
        await tokens.insert_token(conn, acme.id, "late", "read", token_hash(token))
    finally:
        await conn.close()
    assert await one.status(token) == 200


async def test_without_its_listener_an_instance_asks_postgresql_every_time(
    instances: tuple[Instance, Instance],
    acme: Tenant,
    db_url: str,
    lookups: list[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, _ = instances
    assert await one.status(acme.admin_token) == 200
    assert await one.status(acme.read_token) == 200
    listening = tokens.listen_for_changes

    async def refused(*args: Any) -> None:
        raise OSError("PostgreSQL is restarting")

    # The listener is cut, and cannot listen again until PostgreSQL "is back".
    monkeypatch.setattr(tokens, "listen_for_changes", refused)
    assert one.cache.listener is not None
    await execute(db_url, "SELECT pg_terminate_backend($1)", one.cache.listener.get_server_pid())
    await wait_for(lambda: not one.cache.usable)
    # A revocation this instance cannot hear of is still refused...
    await revoke_like_the_cli(db_url, acme)
    assert await one.status(acme.admin_token) == 401
    # ...because every request asks PostgreSQL, the tokens it held before too.
    before = len(lookups)
    for _ in range(3):
        assert await one.status(acme.read_token) == 200
    assert len(lookups) == before + 3

    monkeypatch.setattr(tokens, "listen_for_changes", listening)
    await wait_for(lambda: one.cache.usable)
    before = len(lookups)
    for _ in range(3):
        assert await one.status(acme.read_token) == 200
    assert len(lookups) == before + 1
    assert await one.status(acme.admin_token) == 401


async def test_the_oldest_token_goes_first_past_the_limit(
    instances: tuple[Instance, Instance], acme: Tenant, lookups: list[bytes]
) -> None:
    one, _ = instances
    one.cache.max_entries = 1
    assert await one.status(acme.admin_token) == 200
    assert await one.status(acme.read_token) == 200  # pushes the admin token out
    assert await one.status(acme.read_token) == 200
    assert await one.status(acme.admin_token) == 200
    admin, read = token_hash(acme.admin_token), token_hash(acme.read_token)
    assert lookups == [admin, read, admin]
    assert len(one.cache.entries) == 1


async def test_a_token_is_looked_up_again_after_max_age(
    instances: tuple[Instance, Instance], acme: Tenant, lookups: list[bytes]
) -> None:
    one, _ = instances
    one.cache.max_age = 0.2
    assert await one.status(acme.admin_token) == 200
    assert await one.status(acme.admin_token) == 200
    await asyncio.sleep(0.3)
    assert await one.status(acme.admin_token) == 200
    assert len(lookups) == 2


async def test_before_the_migration_that_announces_changes_nothing_is_cached(
    settings: Settings, acme: Tenant, db_url: str, lookups: list[bytes]
) -> None:
    """New code started on a database that `roster migrate` has not brought up to date."""
    await execute(db_url, "DROP TRIGGER api_tokens_changed ON api_tokens")
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            one = Instance(c, manager._state["tokens"])
            for _ in range(3):
                assert await one.status(acme.admin_token) == 200
            assert len(lookups) == 3
            await execute(db_url, "UPDATE api_tokens SET revoked_at = now()")
            assert await one.status(acme.admin_token) == 401


async def test_a_lookup_overtaken_by_a_revocation_is_not_kept(
    instances: tuple[Instance, Instance],
    acme: Tenant,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The token is revoked, and the process hears of it, between its look-up and the answer."""
    one, _ = instances
    find = tokens.find_active_token

    async def overtaken(conn: Any, digest: bytes) -> Any:
        row = await find(conn, digest)
        heard = one.cache.generation
        await revoke_like_the_cli(db_url, acme)
        await wait_for(lambda: one.cache.generation != heard)
        return row

    monkeypatch.setattr(tokens, "find_active_token", overtaken)
    assert await one.status(acme.admin_token) == 200  # as the token was when looked up
    monkeypatch.setattr(tokens, "find_active_token", find)
    assert await one.status(acme.admin_token) == 401
