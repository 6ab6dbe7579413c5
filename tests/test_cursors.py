"""Cursors are opaque and tamper-evident: no one reads a name in them, and no one makes one."""

import base64
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from db.user_search import UserSearch
from resolvers.search import search_fingerprint
from roster.app import create_app
from roster.settings import Settings
from tests.conftest import Api, Tenant, create_user

USERS = """
query($after: String, $order: UserOrder) {
  users(first: 1, after: $after, orderBy: $order) { edges { cursor node { lastName } } }
}
"""
BY_LAST_NAME = {"field": "LAST_NAME", "direction": "ASC"}


def code(body: dict[str, object]) -> object:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return errors[0]["extensions"]["code"]


def unpadded_b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def last_name_cursor(admin: Api) -> str:
    await create_user(admin, "ana", lastName="Garc\u00eda L\u00f3pez")
    await create_user(admin, "bob", lastName="Zubizarreta")
    edges = (await admin.data(USERS, order=BY_LAST_NAME))["users"]["edges"]
    cursor: str = edges[0]["cursor"]
    return cursor


async def test_a_cursor_holds_no_readable_personal_data(admin: Api) -> None:
    cursor = await last_name_cursor(admin)
    raw = unpadded_b64decode(cursor)
    for text in ("garc", "Garc", "l\u00f3pez", "LAST_NAME", '"v"'):
        assert text.encode() not in raw
    # And it still works.
    page = await admin.data(USERS, after=cursor, order=BY_LAST_NAME)
    assert page["users"]["edges"][0]["node"]["lastName"] == "Zubizarreta"


async def test_an_altered_cursor_is_refused(admin: Api) -> None:
    cursor = await last_name_cursor(admin)
    raw = bytearray(unpadded_b64decode(cursor))
    for position in (0, len(raw) // 2, len(raw) - 1):
        altered = bytearray(raw)
        altered[position] ^= 1
        forged = base64.urlsafe_b64encode(bytes(altered)).decode().rstrip("=")
        assert code(await admin(USERS, after=forged, order=BY_LAST_NAME)) == "INVALID_CURSOR"
    shortened = cursor[:-4]
    assert code(await admin(USERS, after=shortened, order=BY_LAST_NAME)) == "INVALID_CURSOR"


async def test_a_crafted_cursor_with_nul_is_refused_cleanly(admin: Api) -> None:
    await create_user(admin, "ana")
    # Right in every way a cursor was checked before it was sealed, with a NUL in its value.
    payload = {
        "k": "users",
        "o": "LAST_NAME",
        "d": False,
        "f": search_fingerprint(UserSearch()),
        "v": "a\x00",
        "i": str(uuid.uuid4()),
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    crafted = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert code(await admin(USERS, after=crafted, order=BY_LAST_NAME)) == "INVALID_CURSOR"


@pytest.fixture
async def clients_with_secret(
    settings: Settings,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient]]:
    """Two instances sharing ROSTER_CURSOR_SECRET, and one with another secret."""
    shared = dataclasses.replace(settings, cursor_secret="one secret shared by every instance")
    other = dataclasses.replace(settings, cursor_secret="another secret")
    apps = [create_app(shared), create_app(shared), create_app(other)]
    managers = [LifespanManager(app) for app in apps]
    entered = [await m.__aenter__() for m in managers]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url="http://roster.test")
        for m in entered
    ]
    try:
        yield clients[0], clients[1], clients[2]
    finally:
        for c in clients:
            await c.aclose()
        for m in reversed(managers):
            await m.__aexit__(None, None, None)


async def test_instances_sharing_the_secret_accept_each_others_cursors(
    clients_with_secret: tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient],
    acme: Tenant,
) -> None:
    first, second, stranger = (Api(c, acme.admin_token) for c in clients_with_secret)
    cursor = await last_name_cursor(first)
    page = await second.data(USERS, after=cursor, order=BY_LAST_NAME)
    assert page["users"]["edges"][0]["node"]["lastName"] == "Zubizarreta"
    assert code(await stranger(USERS, after=cursor, order=BY_LAST_NAME)) == "INVALID_CURSOR"


async def test_instances_without_a_secret_agree_through_the_database(
    settings: Settings, acme: Tenant
) -> None:
    """No ROSTER_CURSOR_SECRET: every instance on the same database reads the same secret."""
    assert settings.cursor_secret is None
    apps = [create_app(settings), create_app(settings)]
    async with LifespanManager(apps[0]) as one, LifespanManager(apps[1]) as two:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=one.app), base_url="http://r") as a,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=two.app), base_url="http://r") as b,
        ):
            cursor = await last_name_cursor(Api(a, acme.admin_token))
            page = await Api(b, acme.admin_token).data(USERS, after=cursor, order=BY_LAST_NAME)
            assert page["users"]["edges"][0]["node"]["lastName"] == "Zubizarreta"
