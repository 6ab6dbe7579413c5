"""Signing a tab in to the console as an administrator would: a link from
`roster console-link` (its Python entry point), opened in the browser."""

from playwright.async_api import Page, expect

from db.events import Actor
from db.pool import connect
from roster.console_links import create_link


async def console_link(db_url: str, server: str, slug: str, scope: str = "admin") -> str:
    """A one-time sign-in link to the tenant's console on `server`."""
    conn = await connect(db_url)
    try:
        link, _ = await create_link(conn, server, slug, scope, Actor(token_id=None, name="tests"))
    finally:
        await conn.close()
    return link


async def sign_in(page: Page, link: str) -> None:
    """Opens the link; returns once the console shows its users list."""
    await page.goto(link)
    await page.wait_for_url("**/console/users*")
    await list_loaded(page)


async def list_loaded(page: Page) -> None:
    """Waits for the users list to show the rows of its latest search."""
    await expect(page.locator("table.users")).to_have_attribute("aria-busy", "false")
