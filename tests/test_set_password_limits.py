"""The set-password page's limits as someone probing it meets them: the client address they
count by (X-Forwarded-For only from ROSTER_TRUSTED_PROXIES, through the app and through a real
`roster serve`), unknown links looked at with GET, and forms that are not UTF-8."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from starlette.types import ASGIApp

from db import emails
from db.pool import connect
from roster.app import create_app
from roster.set_password import ADDRESS_ATTEMPTS
from roster.settings import Settings
from rules.addresses import parse_networks
from rules.welcome import new_token, token_hash
from tests.conftest import REDIS_URL, Api, Tenant, create_user
from tests.mailbox import free_port
from tests.test_cli import roster_command

GOOD_PASSWORD = "correct horse battery staple"
HAS_PASSWORD = "query($id: ID!) { node(id: $id) { ... on User { hasPassword } } }"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[ASGIApp]:
    async with LifespanManager(create_app(settings)) as manager:
        yield manager.app


def http(app: ASGIApp, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of the app whose connection comes from `peer`."""
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://roster.test")


async def issue_link(db_url: str, tenant: Tenant, username: str) -> str:
    """A link as a welcome e-mail carries it (the e-mail itself is tested elsewhere)."""
    token = new_token()
    conn = await connect(db_url)
    try:
        user_id = await conn.fetchval(
            "SELECT id FROM users WHERE tenant_id = $1 AND username = $2", tenant.id, username
        )
        await emails.issue_token(conn, tenant.id, user_id, token_hash(token), 3600)
    finally:
        await conn.close()
    return token


async def stored_password_is(db_url: str, username: str, password: str) -> bool:
    conn = await connect(db_url)
    try:
        stored = await conn.fetchval(
            "SELECT password_hash FROM users WHERE username = $1", username
        )
    finally:
        await conn.close()
    try:
        return bool(await asyncio.to_thread(PasswordHasher().verify, stored, password))
    except VerificationError:
        return False


async def guess(client: httpx.AsyncClient, forwarded_for: str | None = None) -> int:
    """One POST of the form with a link that does not exist; its status."""
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    form = {"token": new_token(), "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    return (await client.post("/set-password", data=form, headers=headers)).status_code


async def look(client: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    return await client.get("/set-password", params={"token": token}, headers=headers)


# --- The client address ------------------------------------------------------------------------


async def test_a_changing_x_forwarded_for_does_not_escape_the_address_limit(
    settings: Settings,
) -> None:
    async with running(settings) as app, http(app) as client:
        codes = [await guess(client, f"203.0.113.{i}") for i in range(ADDRESS_ATTEMPTS + 1)]
    assert codes == [404] * ADDRESS_ATTEMPTS + [429]


async def test_a_trusted_proxy_forwards_the_clients_address(settings: Settings) -> None:
    trusting = replace(settings, trusted_proxies=parse_networks("10.0.0.0/8, 127.0.0.1"))
    async with running(trusting) as app, http(app) as proxy:
        # Behind the proxy, one client's attempts are its own, whatever it writes itself:
        # the proxy appends the address it saw, and that one is read.
        codes = [
            await guess(proxy, f"198.51.100.{i}, 203.0.113.7, 10.1.2.3")
            for i in range(ADDRESS_ATTEMPTS + 1)
        ]
        assert codes == [404] * ADDRESS_ATTEMPTS + [429]
        # Another client behind the same proxy has a budget of its own.
        assert await guess(proxy, "203.0.113.8") == 404
        # So does the proxy itself, for what it sends without the header.
        assert await guess(proxy) == 404
        # A peer that is not a trusted proxy is counted as itself, whatever it forwards.
        async with http(app, "192.0.2.50") as stranger:
            codes = [await guess(stranger, f"203.0.113.{i}") for i in range(ADDRESS_ATTEMPTS + 1)]
        assert codes == [404] * ADDRESS_ATTEMPTS + [429]


@asynccontextmanager
async def serve(db_url: str, **env: str) -> AsyncIterator[str]:
    """`roster serve` on a loopback port, as an operator starts it; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **{k: v for k, v in os.environ.items() if k != "ROSTER_TRUSTED_PROXIES"},
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "PUBLIC_URL": base,
        "ROSTER_HASH_WORKERS": "1",
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        *roster_command(),
        *("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(600):
                assert process.returncode is None, "roster serve ended"
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=30)


async def test_roster_serve_believes_x_forwarded_for_only_from_trusted_proxies(
    db_url: str, redis: Redis
) -> None:
    async with serve(db_url) as base, httpx.AsyncClient(base_url=base) as client:
        codes = [await guess(client, f"203.0.113.{i}") for i in range(ADDRESS_ATTEMPTS + 1)]
    assert codes == [404] * ADDRESS_ATTEMPTS + [429]
    await redis.flushdb()

    async with (
        serve(db_url, ROSTER_TRUSTED_PROXIES="127.0.0.1, ::1") as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        codes = [await guess(client, "203.0.113.1") for _ in range(ADDRESS_ATTEMPTS + 1)]
        assert codes == [404] * ADDRESS_ATTEMPTS + [429]
        assert await guess(client, "203.0.113.2") == 404


async def test_roster_serve_refuses_a_trusted_proxy_that_is_not_an_address(db_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *roster_command(),
        *("serve", "--host", "127.0.0.1", "--port", str(free_port())),
        env={
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": REDIS_URL,
            "ROSTER_TRUSTED_PROXIES": "10.0.0.1, proxy.internal",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:  # it served instead of refusing
            process.kill()
            await process.wait()
    assert process.returncode == 1
    assert err.decode().strip() == (
        "error: ROSTER_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network "
        "(e.g. 10.1.2.3, 10.0.0.0/8, ::1/128)"
    )


# --- Looking at links --------------------------------------------------------------------------


async def test_unknown_links_looked_at_spend_the_address_budget(
    settings: Settings, client: httpx.AsyncClient, admin: Api, acme: Tenant, db_url: str
) -> None:
    await create_user(admin, "ana", language="es")
    token = await issue_link(db_url, acme, "ana")
    async with running(settings) as app, http(app, "192.0.2.1") as prober:
        # Looking at a valid link (a person reloading the page) costs nothing.
        for _ in range(ADDRESS_ATTEMPTS + 1):
            assert (await look(prober, token)).status_code == 200
        unknown = [(await look(prober, new_token())).status_code for _ in range(ADDRESS_ATTEMPTS)]
        assert unknown == [404] * ADDRESS_ATTEMPTS
        # Past the budget, a valid link and an invalid one get the same answer, in the
        # browser's language rather than the user's.
        over = await look(prober, new_token(), **{"accept-language": "en"})
        valid = await look(prober, token, **{"accept-language": "en"})
        assert (over.status_code, valid.status_code) == (429, 429)
        assert over.text == valid.text and "Too many attempts" in valid.text
        # The form counts against the same budget.
        assert await guess(prober) == 429
        async with http(app, "192.0.2.2") as someone_else:
            assert (await look(someone_else, token)).status_code == 200


# --- Forms that are not UTF-8 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "confirm"),
    [
        (b"violet%FFtractor-staple-horse", b"violet%FEtractor-staple-horse"),
        (b"violet\xfftractor-staple-horse", b"violet\xfetractor-staple-horse"),
    ],
    ids=["percent-encoded", "raw"],
)
async def test_a_form_that_is_not_utf8_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    admin: Api,
    acme: Tenant,
    db_url: str,
    password: bytes,
    confirm: bytes,
) -> None:
    ana = await create_user(admin, "ana")
    token = await issue_link(db_url, acme, "ana")
    body = b"token=" + token.encode() + b"&password=" + password + b"&confirm=" + confirm
    refused = await client.post("/set-password", content=body, headers=FORM)
    assert refused.status_code == 400
    assert "UTF-8" in refused.text and "Traceback" not in refused.text
    assert (await admin.data(HAS_PASSWORD, id=ana["id"]))["node"]["hasPassword"] is False
    conn = await connect(db_url)
    try:
        attempts = await conn.fetchval(
            "SELECT count(*) FROM events WHERE action LIKE 'user.password_set%'"
        )
    finally:
        await conn.close()
    assert attempts == 0
    # The link still works, and sets exactly the password typed.
    assert (await look(client, token)).status_code == 200
    form: dict[str, Any] = {"token": token, "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    assert (await client.post("/set-password", data=form)).status_code == 200
    assert await stored_password_is(db_url, "ana", GOOD_PASSWORD)


async def test_a_form_in_utf8_with_any_character_is_read(
    client: httpx.AsyncClient, admin: Api, acme: Tenant, db_url: str
) -> None:
    await create_user(admin, "ana")
    token = await issue_link(db_url, acme, "ana")
    typed = "violeta tractor ñandú grapa"
    form = {"token": token, "password": typed, "confirm": typed}
    assert (await client.post("/set-password", data=form)).status_code == 200
    assert await stored_password_is(db_url, "ana", typed)
