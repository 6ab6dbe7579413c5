"""Signing in to the console from a one-time link, signing out, and a revoked session: as an
administrator meets them, each checked against the server."""

import asyncio
import os
import sys
from asyncio.subprocess import PIPE

import httpx
from playwright.async_api import Page, expect

from db.pool import connect
from roster.auth import SESSION_COOKIE
from tests.conftest import REDIS_URL, Api, Tenant
from tests.console.checks import assert_accessible
from tests.console.people import add_users
from tests.console.session import console_link, sign_in

GRAPHQL = {"query": "{ platforms { key } }"}


async def session_cookie(page: Page) -> str:
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    return cookie["value"]


async def graphql_with(server: str, cookie: str) -> httpx.Response:
    """A GraphQL request carrying only the console's cookie, as the page's own would."""
    async with httpx.AsyncClient(base_url=server) as http:
        return await http.post(
            "/graphql",
            json=GRAPHQL,
            headers={"origin": server, "cookie": f"{SESSION_COOKIE}={cookie}"},
        )


async def test_a_link_signs_in_and_its_secret_leaves_the_address_bar(
    page: Page, server: str, db_url: str, acme: Tenant
) -> None:
    link = await console_link(db_url, server, acme.slug)
    secret = link.split("#", 1)[1]
    await sign_in(page, link)
    assert secret not in page.url and "#" not in page.url
    await expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The cookie is out of the page's scripts' reach, and opens the API.
    assert SESSION_COOKIE not in await page.evaluate("document.cookie")
    response = await graphql_with(server, await session_cookie(page))
    assert response.status_code == 200 and "errors" not in response.json()
    await assert_accessible(page, "users-empty")


async def test_a_used_link_says_how_to_get_a_new_one(
    page: Page, server: str, db_url: str, acme: Tenant
) -> None:
    link = await console_link(db_url, server, acme.slug)
    await sign_in(page, link)
    other = await page.context.browser.new_context(base_url=server)  # type: ignore[union-attr]
    try:
        tab = await other.new_page()
        await tab.goto(link)
        await expect(
            tab.get_by_role("heading", name="This sign-in link no longer works")
        ).to_be_visible()
        await expect(tab.get_by_text("used already")).to_be_visible()
        await expect(tab.get_by_text("roster console-link --tenant")).to_be_visible()
        assert "#" not in tab.url
        assert not [c for c in await other.cookies() if c["name"] == SESSION_COOKIE]
        await assert_accessible(tab, "sign-in-link-used")
    finally:
        await other.close()


async def test_an_expired_link_says_how_to_get_a_new_one(
    page: Page, server: str, db_url: str, acme: Tenant
) -> None:
    link = await console_link(db_url, server, acme.slug)
    conn = await connect(db_url)
    try:
        await conn.execute("UPDATE console_links SET expires_at = now() - interval '1 second'")
    finally:
        await conn.close()
    await page.goto(link)
    await expect(
        page.get_by_role("heading", name="This sign-in link no longer works")
    ).to_be_visible()
    await expect(page.get_by_text("has expired")).to_be_visible()
    await expect(page.get_by_text("roster console-link --tenant")).to_be_visible()
    await assert_accessible(page, "sign-in-link-expired")


async def test_sign_out_ends_the_session_on_the_server(console: Page, server: str) -> None:
    cookie = await session_cookie(console)
    await console.get_by_role("button", name="Sign out").click()
    await expect(console.get_by_role("heading", name="Signed out")).to_be_visible()
    assert console.url.endswith("/console/signed-out")
    # A copy of the cookie taken before opens nothing any more.
    assert (await graphql_with(server, cookie)).status_code == 401
    await assert_accessible(console, "signed-out")


async def roster_cli(db_url: str, *args: str) -> str:
    """Runs the `roster` command, as an operator does, while the server goes on serving."""
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "roster.cli", *args, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def revoke_console_sessions(db_url: str, slug: str) -> None:
    """`roster token revoke` of every console session `roster token list` shows."""
    listed = await roster_cli(db_url, "token", "list", "--tenant", slug)
    for line in listed.splitlines():
        if line.split()[1:3] == ["console", "admin"] and " active " in line:
            await roster_cli(db_url, "token", "revoke", line.split()[0])


async def test_a_revoked_session_ends_the_open_console(
    console: Page, db_url: str, acme: Tenant
) -> None:
    await revoke_console_sessions(db_url, acme.slug)
    # The console learns it from its next request (the users list holds no socket open).
    await console.get_by_role("searchbox", name="Search users").fill("anyone")
    await expect(console.get_by_role("heading", name="Signed out")).to_be_visible()
    await expect(console.get_by_role("button", name="Sign out")).to_have_count(0)


async def test_a_revocation_reaches_an_open_subscription_at_once(
    console: Page, db_url: str, acme: Tenant, admin: Api
) -> None:
    await add_users(admin, {"username": "ann"})
    await console.reload()
    await console.get_by_role("checkbox", name="Select ann").check()
    # No worker runs: the export stays queued, and the console follows it over its WebSocket.
    async with console.expect_websocket() as opened:
        await console.get_by_role("button", name="Export").click()
    socket = await opened.value
    await expect(console.get_by_role("status")).to_have_text("Exporting 1 user…")
    await revoke_console_sessions(db_url, acme.slug)
    # Nothing is done in the page: the socket's closing tells it.
    await expect(console.get_by_role("heading", name="Signed out")).to_be_visible()
    assert socket.is_closed()
