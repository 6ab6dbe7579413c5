"""Real PostgreSQL and Redis: one template database built by the migrations, a fresh database
per test made from it, Redis on its own logical database, the app through its lifespan."""

import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from db import migrate, tenants, tokens
from db.pool import connect
from roster.app import create_app
from roster.auth import new_token, token_hash
from roster.settings import Settings
from tests.receiver import Receiver

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@localhost:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15")
RUN = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"


def database_url(name: str) -> str:
    return migrate._with_database(SERVER_URL, name)


@pytest.fixture(scope="session")
async def template_db() -> AsyncIterator[str]:
    name = f"roster_test_tpl_{RUN}"
    url = database_url(name)
    await migrate.create_database(url)
    try:
        await migrate.migrate(url)
        yield name
    finally:
        await migrate.drop_database(url)


@pytest.fixture
async def db_url(template_db: str) -> AsyncIterator[str]:
    url = database_url(f"roster_test_{RUN}_{uuid.uuid4().hex[:8]}")
    await migrate.create_database(url, template=template_db)
    try:
        yield url
    finally:
        await migrate.drop_database(url)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


async def no_names(host: str, port: int) -> list[Any]:
    """The webhook resolver of tests: it knows no name, so a URL such as
    https://crm.example.com/h is registered (a name without addresses yet is checked again at
    each attempt) and nothing asks DNS, whose server is not on loopback. Tests that need a
    name resolved give their own resolver."""
    raise socket.gaierror(socket.EAI_NONAME, f"tests resolve no names ({host})")


@pytest.fixture
def settings(db_url: str, redis: Redis) -> Settings:
    return Settings(
        database_url=db_url,
        redis_url=REDIS_URL,
        hash_workers=2,
        debug=False,
        webhook_resolver=no_names,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            yield c


async def app_cursor_key(db_url: str) -> bytes:
    """The key an app without ROSTER_CURSOR_SECRET seals its cursors with: from the secret
    the migrations made for its database."""
    from db.secrets import get_secret
    from resolvers.pagination import cursor_key

    conn = await connect(db_url)
    try:
        secret = await get_secret(conn, "cursor")
    finally:
        await conn.close()
    assert secret is not None
    return cursor_key(secret)


@dataclass
class Tenant:
    id: uuid.UUID
    slug: str
    admin_token: str
    read_token: str


async def make_tenant(db_url: str, slug: str) -> Tenant:
    conn = await connect(db_url)
    try:
        tenant = await tenants.create_tenant(conn, slug, slug.title())
        assert tenant is not None
        made = {}
        for scope in ("admin", "read"):
            made[scope] = new_token()
            await tokens.insert_token(
                conn, tenant["id"], f"{scope} token", scope, token_hash(made[scope])
            )
    finally:
        await conn.close()
    return Tenant(tenant["id"], slug, made["admin"], made["read"])


@pytest.fixture
async def acme(db_url: str) -> Tenant:
    return await make_tenant(db_url, "acme")


@pytest.fixture
async def globex(db_url: str) -> Tenant:
    return await make_tenant(db_url, "globex")


class Api:
    """Sends GraphQL over HTTP with one token, as a client of Roster would."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.token = token

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        if self.token is not None:
            headers.setdefault("authorization", f"Bearer {self.token}")
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        """The response body of a request that reached execution."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a request that must succeed without GraphQL errors."""
        body = await self(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def admin(client: httpx.AsyncClient, acme: Tenant) -> Api:
    return Api(client, acme.admin_token)


@pytest.fixture
def reader(client: httpx.AsyncClient, acme: Tenant) -> Api:
    return Api(client, acme.read_token)


@pytest.fixture
def other_admin(client: httpx.AsyncClient, globex: Tenant) -> Api:
    return Api(client, globex.admin_token)


CREATE_USER = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) {
    user { id username email firstName lastName status hasPassword
           roles { role platform { key } } }
    userErrors { field message code }
  }
}
"""


async def create_user(api: Api, username: str, **fields: Any) -> dict[str, Any]:
    """Creates a user through the API; returns it (id, username, email, …)."""
    payload = {
        "username": username,
        "email": fields.pop("email", f"{username}@example.com"),
        "firstName": fields.pop("firstName", username.title()),
        "lastName": fields.pop("lastName", "Tester"),
        **fields,
    }
    data = await api.data(CREATE_USER, input=payload)
    assert data["createUser"]["userErrors"] == [], data["createUser"]["userErrors"]
    user: dict[str, Any] = data["createUser"]["user"]
    return user


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver listening on loopback (tests/receiver.py)."""
    r = await Receiver().start()
    try:
        yield r
    finally:
        await r.stop()
