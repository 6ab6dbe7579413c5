"""Introspection and "Did you mean" suggestions: for admin tokens (GraphiQL's users) and in
development; not for read tokens (the internal services) in production, unless
ROSTER_INTROSPECTION=on."""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from roster.app import create_app
from roster.settings import Settings
from tests.conftest import Api, Tenant

SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "User") { fields { name } } }'
TYPO_FIELD = "{ users { totalCont } }"
TYPO_ENUM = "{ users(filter: {status: ACTIV}) { totalCount } }"


def messages(body: dict[str, Any]) -> str:
    return " ".join(e["message"] for e in body["errors"])


async def test_a_read_token_cannot_introspect(reader: Api) -> None:
    for document in (SCHEMA, TYPE):
        body = await reader(document)
        assert body.get("data") is None, body
        assert "introspection" in messages(body).lower()
    assert await reader.data("{ __typename users { __typename } }") == {
        "__typename": "Query",
        "users": {"__typename": "UserConnection"},
    }


async def test_a_read_token_gets_no_suggestions(reader: Api) -> None:
    for document, mistake in ((TYPO_FIELD, "totalCont"), (TYPO_ENUM, "ACTIV")):
        body = await reader(document)
        assert mistake in messages(body)
        assert "Did you mean" not in messages(body)
        assert "totalCount" not in messages(body) and "'ACTIVE'" not in messages(body)


async def test_an_admin_token_introspects_and_gets_suggestions(admin: Api) -> None:
    assert await admin.data(SCHEMA) == {"__schema": {"queryType": {"name": "Query"}}}
    fields = (await admin.data(TYPE))["__type"]["fields"]
    assert "email" in {f["name"] for f in fields}
    assert "Did you mean 'totalCount'?" in messages(await admin(TYPO_FIELD))
    assert "Did you mean" in messages(await admin(TYPO_ENUM))


async def test_the_same_document_for_both_tokens(admin: Api, reader: Api) -> None:
    """Validation is cached per document: what one token was told does not reach the other."""
    for _ in range(2):
        assert "introspection" in messages(await reader(SCHEMA)).lower()
        assert await admin.data(SCHEMA)
        assert "Did you mean" not in messages(await reader(TYPO_FIELD))
        assert "Did you mean" in messages(await admin(TYPO_FIELD))


@pytest.fixture(params=["introspection", "debug"])
async def open_client(
    settings: Settings, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, **{request.param: True}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            yield c


async def test_on_or_in_development_every_token_introspects(
    open_client: httpx.AsyncClient, acme: Tenant
) -> None:
    reader = Api(open_client, acme.read_token)
    assert await reader.data(SCHEMA) == {"__schema": {"queryType": {"name": "Query"}}}
    assert "Did you mean 'totalCount'?" in messages(await reader(TYPO_FIELD))
