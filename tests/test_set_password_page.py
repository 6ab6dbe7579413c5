"""The set-password page in a real headless Chromium, served by a real HTTP server: the form as
the browser renders it, then the form posted as the browser would (form-urlencoded), and the
success and refusal pages rendered again by the browser."""

import asyncio
import dataclasses
import logging
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from db import emails
from db.pool import connect
from roster.app import create_app
from roster.settings import Settings
from rules.welcome import new_token, token_hash
from tests.browser import CHROMIUM, Page, dump_dom, screenshot
from tests.conftest import Api, create_user
from tests.mailbox import free_port

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

GOOD_PASSWORD = "correct horse battery staple"
# Screenshots are kept here when set, for a person to look at.
SHOTS = os.environ.get("ROSTER_TEST_SCREENSHOTS")


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[str]:
    """The app on a real port, its PUBLIC_URL pointing at itself."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(dataclasses.replace(settings, public_url=url))
    server = uvicorn.Server(
        # log_config=None: uvicorn's loggers propagate to pytest's, and nothing is reconfigured.
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, ws="none")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        await task


async def issue_link(db_url: str, tenant_id: Any, user_id: str) -> str:
    """A link as a welcome e-mail carries it (the e-mail itself is tested elsewhere)."""
    token = new_token()
    conn = await connect(db_url)
    try:
        uid = await conn.fetchval(
            "SELECT id FROM users WHERE tenant_id = $1 AND username = $2", tenant_id, user_id
        )
        await emails.issue_token(conn, tenant_id, uid, token_hash(token), 3600)
    finally:
        await conn.close()
    return token


async def shoot(url: str, path: Path) -> None:
    await screenshot(url, path)
    assert path.stat().st_size > 0
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SHOTS) / path.name)


async def rendered(html: str, path: Path) -> str:
    """A page received by POST, rendered by the browser (from a file: a POST's answer cannot
    be opened by URL) and photographed."""
    path.with_suffix(".html").write_text(html, encoding="utf-8")
    await shoot(path.with_suffix(".html").as_uri(), path)
    return await dump_dom(path.with_suffix(".html").as_uri())


async def test_the_page_in_a_browser_sets_the_password_once(
    live: str, acme: Any, db_url: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live) as http:
        admin = Api(http, acme.admin_token)
        await create_user(admin, "ana", language="es-MX")
        token = await issue_link(db_url, acme.id, "ana")
        link = f"{live}/set-password?token={token}"

        dom = await dump_dom(link)
        assert '<html lang="es">' in dom
        assert "<h1>Elige tu contraseña</h1>" in dom
        assert '<label for="password">Contraseña nueva</label>' in dom
        assert 'autocomplete="new-password"' in dom and 'type="password"' in dom
        assert f'action="{live}/set-password"' in dom and 'method="post"' in dom
        assert "<script" not in dom and "http" not in dom.replace(live, "")
        await shoot(link, tmp_path / "set-password-form.png")

        # The browser posts the form: form-urlencoded, the token as its hidden field.
        form = {"token": token, "username": "ana", "password": "ana-password", "confirm": "x"}
        refused = await http.post("/set-password", data=form)
        assert refused.status_code == 422
        dom = await rendered(refused.text, tmp_path / "set-password-refused.png")
        assert 'role="alert"' in dom and "no coinciden" in dom

        form = {**form, "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
        done = await http.post("/set-password", data=form)
        assert done.status_code == 200
        assert done.headers["referrer-policy"] == "no-referrer"
        assert "no-store" in done.headers["cache-control"]
        dom = await rendered(done.text, tmp_path / "set-password-done.png")
        assert "Tu contraseña está guardada" in dom

        used = await http.get("/set-password", params={"token": token})
        assert used.status_code == 410
        dom = await dump_dom(link)
        assert "Este enlace no sirve" in dom and "ya se ha usado" in dom
        await shoot(link, tmp_path / "set-password-used.png")

        unknown = await http.get(
            "/set-password", params={"token": "x"}, headers={"accept-language": "en-GB,en"}
        )
        assert unknown.status_code == 404 and "This link does not work" in unknown.text


async def test_a_person_fills_the_form_in_the_browser(live: str, acme: Any, db_url: str) -> None:
    """Chromium types the password twice and presses the button, as a person would: the
    browser's own form submission, not a request made for it."""
    async with httpx.AsyncClient(base_url=live) as http:
        admin = Api(http, acme.admin_token)
        user = await create_user(admin, "eva")
        token = await issue_link(db_url, acme.id, "eva")
    async with Page() as page:
        await page.goto(f"{live}/set-password?token={token}")
        assert await page.evaluate("document.documentElement.lang") == "en"
        await page.evaluate(
            f"""document.getElementById("password").value = {GOOD_PASSWORD!r};
            document.getElementById("confirm").value = {GOOD_PASSWORD!r};
            document.querySelector('button[type="submit"]').click();"""
        )
        text = await page.wait_for(
            "document.readyState === 'complete' && !document.getElementById('confirm') "
            "&& document.body.innerText"
        )
    assert "Your password is set" in text, text
    async with httpx.AsyncClient(base_url=live) as http:
        query = "query($id: ID!) { node(id: $id) { ... on User { hasPassword } } }"
        found = await Api(http, acme.admin_token).data(query, id=user["id"])
    assert found["node"]["hasPassword"] is True


async def test_the_link_never_follows_the_host_header(live: str, acme: Any, db_url: str) -> None:
    async with httpx.AsyncClient(base_url=live) as http:
        await create_user(Api(http, acme.admin_token), "bob")
        token = await issue_link(db_url, acme.id, "bob")
        page = await http.get(
            "/set-password", params={"token": token}, headers={"host": "evil.example"}
        )
    assert page.status_code == 200
    assert f'action="{live}/set-password"' in page.text and "evil.example" not in page.text


async def test_the_access_log_never_holds_a_link_token(
    live: str, acme: Any, db_url: str, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with httpx.AsyncClient(base_url=live) as http:
        await create_user(Api(http, acme.admin_token), "bob")
        token = await issue_link(db_url, acme.id, "bob")
        assert (await http.get(f"/set-password?token={token}&x=1")).status_code == 200
    assert "/set-password?… HTTP/1.1" in caplog.text
    assert token not in caplog.text
