"""The console's sign-in and session: a one-time link opens a session (a token of kind
'console' sent as an HttpOnly, SameSite=Strict cookie), taken only from the console's own
origin; the session ends by sign-out, revocation, 12 hours idle or 7 days, and the API treats it
as any token of its scope."""

import asyncio
import contextlib
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from db.events import Actor
from db.pool import connect
from roster.app import create_app
from roster.console_links import create_link
from roster.settings import Settings
from tests.conftest import Tenant
from tests.test_imports import sql

ORIGIN = {"origin": "http://roster.test"}
EVIL = {"origin": "https://evil.example"}
ME = "{ users(first: 1) { count { value } } }"
CREATE = """mutation { createUser(input: {username: "ana", email: "ana@example.com",
  firstName: "Ana", lastName: "Lima"}) { user { username } userErrors { code } } }"""


async def make_link(db_url: str, slug: str = "acme", scope: str = "admin") -> str:
    conn = await connect(db_url)
    try:
        link, _ = await create_link(conn, "http://roster.test", slug, scope, Actor(None, "test"))
    finally:
        await conn.close()
    return link


def secret_of(link: str) -> str:
    assert link.startswith("http://roster.test/console/sign-in#"), link
    return link.partition("#")[2]


async def sign_in(client: httpx.AsyncClient, link: str) -> httpx.Response:
    return await client.post("/console/session", json={"link": secret_of(link)}, headers=ORIGIN)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, acme: Tenant, db_url: str) -> httpx.AsyncClient:
    answer = await sign_in(client, await make_link(db_url))
    assert answer.status_code == 201, answer.text
    return client


async def test_a_link_signs_in_once_with_a_cookie_scripts_cannot_read(
    client: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    link = await make_link(db_url)
    answer = await sign_in(client, link)
    assert answer.status_code == 201, answer.text
    assert answer.json()["tenant"] == {"slug": "acme", "name": "Acme"}
    assert answer.json()["scope"] == "admin"
    cookie = answer.headers["set-cookie"].lower()
    assert "roster_console=rst_" in cookie
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "max-age=604800" in cookie  # 7 days at most
    # The session is a token of its own kind, listed with the others.
    rows = await sql(db_url, "SELECT kind, scope FROM api_tokens WHERE kind = 'console'")
    assert [(r["kind"], r["scope"]) for r in rows] == [("console", "admin")]
    # It works for GraphQL, queries and mutations alike, from the console's own origin.
    assert (await client.post("/graphql", json={"query": CREATE}, headers=ORIGIN)).json() == {
        "data": {"createUser": {"user": {"username": "ana"}, "userErrors": []}}
    }
    session = await client.get("/console/session")
    assert session.status_code == 200 and session.json()["scope"] == "admin"
    # Once only.
    client.cookies.clear()
    again = await sign_in(client, link)
    assert again.status_code == 410 and again.json()["error"]["code"] == "LINK_USED"
    assert (await client.get("/console/session")).status_code == 401


async def test_an_expired_or_unknown_link_says_so(
    client: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    link = await make_link(db_url)
    await sql(db_url, "UPDATE console_links SET expires_at = now() - interval '1 second'")
    expired = await sign_in(client, link)
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "LINK_EXPIRED"
    assert "15 minutes" in expired.json()["error"]["message"]
    unknown = await client.post("/console/session", json={"link": "nope"}, headers=ORIGIN)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "LINK_UNKNOWN"
    bad = await client.post("/console/session", content=b"link=x", headers=ORIGIN)
    assert bad.status_code == 400
    assert "set-cookie" not in expired.headers and "set-cookie" not in unknown.headers


async def test_another_site_cannot_sign_a_browser_in(
    client: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    link = await make_link(db_url)
    for headers in (EVIL, {}):
        refused = await client.post(
            "/console/session", json={"link": secret_of(link)}, headers=headers
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "CROSS_ORIGIN"
    # Refused before the link was looked at: it still signs in from the console's page.
    assert (await sign_in(client, link)).status_code == 201


async def test_the_cookie_changes_nothing_from_another_origin(
    signed_in: httpx.AsyncClient, db_url: str
) -> None:
    for headers in (EVIL, {}):
        refused = await signed_in.post("/graphql", json={"query": CREATE}, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "CROSS_ORIGIN"
    assert await sql(db_url, "SELECT 1 FROM users") == []
    # Reading with GET needs no Origin (a browser sends the SameSite=Strict cookie on no
    # request another site starts, and GraphQL over GET runs no mutation).
    read = await signed_in.get("/graphql", params={"query": ME})
    assert read.json() == {"data": {"users": {"count": {"value": 0}}}}


async def test_a_read_session_reads_and_changes_nothing(
    client: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    answer = await sign_in(client, await make_link(db_url, scope="read"))
    assert answer.json()["scope"] == "read"
    refused = (await client.post("/graphql", json={"query": CREATE}, headers=ORIGIN)).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await sql(db_url, "SELECT 1 FROM users") == []


async def test_sign_out_ends_the_session_on_the_server(
    signed_in: httpx.AsyncClient, db_url: str
) -> None:
    cookie = signed_in.cookies["roster_console"]
    refused = await signed_in.delete("/console/session", headers=EVIL)
    assert refused.status_code == 403
    out = await signed_in.delete("/console/session", headers=ORIGIN)
    assert out.status_code == 204
    assert "roster_console=" in out.headers["set-cookie"] and "Max-Age=0" in out.headers[
        "set-cookie"
    ].replace("max-age", "Max-Age")
    # A copy of the old cookie opens nothing more.
    signed_in.cookies.set("roster_console", cookie)
    again = await signed_in.post("/graphql", json={"query": ME}, headers=ORIGIN)
    assert again.status_code == 401
    actions = [r["action"] for r in await sql(db_url, "SELECT action FROM events ORDER BY id")]
    assert actions == ["console.link_created", "console.signed_in", "console.signed_out"]


@pytest.mark.parametrize(
    "ended",
    [
        "UPDATE console_sessions SET last_used_at = now() - interval '12 hours 1 minute'",
        "UPDATE console_sessions SET expires_at = now() - interval '1 second'",
    ],
    ids=["12 hours idle", "7 days after sign-in"],
)
async def test_a_session_ends_by_itself(
    client: httpx.AsyncClient, acme: Tenant, db_url: str, ended: str
) -> None:
    assert (await sign_in(client, await make_link(db_url))).status_code == 201
    await sql(db_url, ended)
    assert (await client.post("/graphql", json={"query": ME}, headers=ORIGIN)).status_code == 401
    assert (await client.get("/console/session")).status_code == 401


async def test_use_keeps_a_session_alive(
    signed_in: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    await sql(db_url, "UPDATE console_sessions SET last_used_at = now() - interval '11 hours'")
    assert (await signed_in.get("/console/session")).status_code == 200
    [row] = await sql(db_url, "SELECT now() - last_used_at AS idle FROM console_sessions")
    assert row["idle"].total_seconds() < 60


async def session_cookie(settings: Settings, db_url: str) -> str:
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as http:
            assert (await sign_in(http, await make_link(db_url))).status_code == 201
            return str(http.cookies["roster_console"])


@contextlib.asynccontextmanager
async def console_socket(
    settings: Settings, cookie: str, headers: dict[str, str]
) -> AsyncIterator[Any]:
    """A graphql-transport-ws socket opened with the session's cookie, connection_init sent."""
    async with LifespanManager(create_app(settings)) as manager:
        transport = ASGIWebSocketTransport(manager.app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://roster.test") as http,
            aconnect_ws(
                "/graphql",
                http,
                subprotocols=["graphql-transport-ws"],
                headers={"cookie": f"roster_console={cookie}", **headers},
            ) as ws,
        ):
            await ws.send_json({"type": "connection_init", "payload": {}})
            yield ws


async def close_code(settings: Settings, cookie: str, headers: dict[str, str]) -> int:
    """The code the server closes the socket with, at the handshake or after connection_init
    (httpx_ws's transport raises either in a group)."""
    with pytest.raises(ExceptionGroup) as group:
        async with console_socket(settings, cookie, headers) as ws:
            await ws.receive_json(timeout=5)
    matched, _ = group.value.split(WebSocketDisconnect)
    assert matched is not None, group.value
    while isinstance(matched, BaseExceptionGroup):
        [matched] = matched.exceptions
    assert isinstance(matched, WebSocketDisconnect)
    return int(matched.code)


async def test_a_socket_opens_with_the_cookie_from_the_console_only(
    settings: Settings, acme: Tenant, db_url: str
) -> None:
    cookie = await session_cookie(settings, db_url)
    async with console_socket(settings, cookie, ORIGIN) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
    # Another site's page: the handshake itself is refused (Strawberry's own check, 1008).
    # Without an Origin, as no browser opens one, the socket opens but the cookie is not
    # taken: 4401.
    assert await close_code(settings, cookie, EVIL) == 1008
    assert await close_code(settings, cookie, {}) == 4401


async def test_revoking_a_session_closes_its_open_console(
    settings: Settings, acme: Tenant, db_url: str
) -> None:
    cookie = await session_cookie(settings, db_url)
    async with console_socket(settings, cookie, ORIGIN) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        [row] = await sql(db_url, "SELECT id FROM api_tokens WHERE kind = 'console'")
        revoked = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "roster.cli", "token", "revoke", str(row["id"])],
            env=_cli_env(settings),
            capture_output=True,
            text=True,
        )
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=10)
        assert closed.value.code == 4401


def _cli_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "PUBLIC_URL": "https://roster.example.org",
    }


async def test_the_cli_prints_a_link_and_lists_sessions(
    settings: Settings, signed_in: httpx.AsyncClient
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "roster.cli", *args],
            env=_cli_env(settings),
            capture_output=True,
            text=True,
        )

    made = await asyncio.to_thread(cli, "console-link", "--tenant", "acme", "--scope", "read")
    assert made.returncode == 0, made.stderr
    [link] = made.stdout.splitlines()
    assert link.startswith("https://roster.example.org/console/sign-in#")
    assert "opens once" in made.stderr
    unknown = await asyncio.to_thread(cli, "console-link", "--tenant", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: no tenant 'nope'"
    listed = await asyncio.to_thread(cli, "token", "list", "--tenant", "acme")
    kinds = [line.split()[1] for line in listed.stdout.splitlines()]
    assert sorted(kinds) == ["api", "api", "console"]


async def test_the_console_page_allows_no_inline_script(client: httpx.AsyncClient) -> None:
    for path in ("/console", "/console/users", "/console/users/VXNlcjox?x=1"):
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy
        assert "frame-ancestors 'none'" in policy
        [app] = re.findall(r'<script type="module" src="([^"]+/app.js)"></script>', page.text)
    script = await client.get(app.replace("app.js", "console.js"))
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


async def test_the_password_verdict_is_the_policys(signed_in: httpx.AsyncClient) -> None:
    query = """query($p: String!, $u: String, $e: String) {
      passwordVerdict(password: $p, username: $u, email: $e) { acceptable code message } }"""

    async def verdict(password: str, **who: str) -> dict[str, Any]:
        variables = {"p": password, **who}
        answer = await signed_in.post(
            "/graphql", json={"query": query, "variables": variables}, headers=ORIGIN
        )
        result: dict[str, Any] = answer.json()["data"]["passwordVerdict"]
        return result

    assert (await verdict("short"))["code"] == "PASSWORD_TOO_SHORT"
    assert (await verdict("ana.lima.1990.password", u="ana.lima"))[
        "code"
    ] == "PASSWORD_CONTAINS_IDENTIFIER"
    assert (await verdict("aaaaaaaaaaaaaaaaaaaa"))["code"] == "PASSWORD_TOO_WEAK"
    assert await verdict("correct violet staple ferry") == {
        "acceptable": True,
        "code": None,
        "message": None,
    }
