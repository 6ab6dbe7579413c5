"""A revoked token stops working on WebSockets that were already open, on every API instance,
and a socket's scope applies to each operation sent on it."""

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from wsproto.utilities import LocalProtocolError

from db import tokens
from db.pool import connect
from roster.app import create_app
from roster.settings import Settings
from tests.conftest import Tenant

CREATE = """mutation($name: String!) { createUser(input: {username: $name,
  email: "x@example.com", firstName: "X", lastName: "Y"}) { user { username } } }"""
JOB = "subscription($id: ID!) { job(id: $id) { status } }"


@pytest.fixture
async def apps(settings: Settings) -> AsyncIterator[tuple[Any, Any]]:
    """Two API instances on the same database and Redis."""
    async with (
        LifespanManager(create_app(settings)) as one,
        LifespanManager(create_app(settings)) as two,
    ):
        yield one.app, two.app


@contextlib.asynccontextmanager
async def session(app: Any, token: str) -> AsyncIterator[Any]:
    """A graphql-transport-ws socket, acknowledged."""
    transport = ASGIWebSocketTransport(app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://roster.test") as http,
        aconnect_ws("/graphql", http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        )
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        yield ws


async def operate(ws: Any, op_id: str, query: str, **variables: Any) -> dict[str, Any]:
    """Sends one operation; its `next` payload (the socket must then complete it)."""
    payload = {"query": query, "variables": variables}
    await ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
    message = await ws.receive_json(timeout=5)
    assert message["type"] == "next", message
    assert (await ws.receive_json(timeout=5)) == {"id": op_id, "type": "complete"}
    result: dict[str, Any] = message["payload"]
    return result


async def close_code(ws: Any, within: float) -> int:
    """The code the server closes the socket with, waiting at most `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            await ws.receive_json(timeout=max(deadline - time.monotonic(), 0.01))
        except WebSocketDisconnect as closed:
            return int(closed.code)


async def revoke(db_url: str, tenant: Tenant, scope: str) -> None:
    conn = await connect(db_url)
    try:
        token_id = await conn.fetchval(
            "SELECT id FROM api_tokens WHERE tenant_id = $1 AND scope = $2", tenant.id, scope
        )
        assert await tokens.revoke_token(conn, token_id)
    finally:
        await conn.close()


async def count_users(db_url: str) -> int:
    conn = await connect(db_url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM users")
        return count
    finally:
        await conn.close()


async def test_an_operation_after_revocation_closes_the_socket(
    apps: tuple[Any, Any], acme: Tenant, db_url: str
) -> None:
    async with session(apps[0], acme.admin_token) as ws:
        done = await operate(ws, "1", CREATE, name="ana")
        assert done == {"data": {"createUser": {"user": {"username": "ana"}}}}
        await revoke(db_url, acme, "admin")
        payload = {"query": CREATE, "variables": {"name": "mallory"}}
        # The process hears of the revocation and closes the socket at once: the operation
        # may meet a socket already closing, or be refused by its own check; either way it
        # runs nothing and the socket ends with 4401.
        with contextlib.suppress(LocalProtocolError):
            await ws.send_json({"id": "2", "type": "subscribe", "payload": payload})
        assert await close_code(ws, within=1) == 4401
    assert await count_users(db_url) == 1


async def test_revocation_closes_open_sockets_on_every_instance(
    apps: tuple[Any, Any], client: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    queued = await client.post(
        "/imports",
        content=b"email\nana@example.com\n",
        headers={"authorization": f"Bearer {acme.admin_token}"},
    )
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["id"]
    async with (
        session(apps[0], acme.admin_token) as following,
        session(apps[1], acme.admin_token) as idle,
        session(apps[1], acme.read_token) as other,
    ):
        payload = {"query": JOB, "variables": {"id": job_id}}
        await following.send_json({"id": "job", "type": "subscribe", "payload": payload})
        first = await following.receive_json(timeout=5)
        assert first["payload"]["data"]["job"]["status"] == "QUEUED", first
        started = time.monotonic()
        await revoke(db_url, acme, "admin")
        assert await close_code(following, within=5) == 4401
        assert await close_code(idle, within=5) == 4401
        assert time.monotonic() - started < 5
        # The tenant's other token keeps its socket.
        result = await operate(other, "1", "{ users { totalCount } }")
        assert result == {"data": {"users": {"totalCount": 0}}}


async def test_a_read_token_socket_cannot_mutate_operation_after_operation(
    apps: tuple[Any, Any], acme: Tenant, db_url: str
) -> None:
    async with session(apps[0], acme.read_token) as ws:
        for n in range(3):
            refused = await operate(ws, f"m{n}", CREATE, name=f"mallory{n}")
            assert refused["data"] is None
            assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
            read = await operate(ws, f"q{n}", "{ users { totalCount } }")
            assert read == {"data": {"users": {"totalCount": 0}}}
    assert await count_users(db_url) == 0
