"""Spanish for a browser that prefers it, or when chosen; and a read-only session that offers
no action but Export."""

from playwright.async_api import Browser, Page, expect

from tests.conftest import Api, Tenant
from tests.console.checks import assert_accessible
from tests.console.conftest import new_context
from tests.console.people import add_users, shown
from tests.console.session import console_link, sign_in

ACTIONS = ("New user", "Enable", "Disable", "Send welcome e-mail", "Delete", "Edit", "Save")


async def test_a_browser_that_prefers_spanish_gets_spanish(
    browser: Browser, server: str, db_url: str, acme: Tenant, admin: Api
) -> None:
    await add_users(admin, {"username": "ana"})
    context = await new_context(browser, server, locale="es-ES")
    try:
        page = await context.new_page()
        await sign_in(page, await console_link(db_url, server, acme.slug))
        await expect(page.get_by_role("heading", name="Usuarios", level=1)).to_be_visible()
        await expect(page.get_by_role("searchbox", name="Buscar usuarios")).to_be_visible()
        await expect(page.get_by_role("button", name="Nuevo usuario")).to_be_visible()
        await expect(page.get_by_role("checkbox", name="Seleccionar ana")).to_be_visible()
        await expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
        assert await page.evaluate("document.documentElement.lang") == "es"
        await assert_accessible(page, "users-es")
    finally:
        await context.close()


async def test_the_language_chosen_is_kept(console: Page) -> None:
    await console.get_by_label("Language").select_option(label="Español")
    await expect(console.get_by_role("heading", name="Usuarios", level=1)).to_be_visible()
    await console.reload()
    await expect(console.get_by_role("searchbox", name="Buscar usuarios")).to_be_visible()
    await console.get_by_label("Idioma").select_option(label="English")
    await expect(console.get_by_role("searchbox", name="Search users")).to_be_visible()


async def test_a_read_session_shows_no_action_but_export(
    page: Page, server: str, db_url: str, acme: Tenant, admin: Api
) -> None:
    await add_users(admin, {"username": "ana"}, {"username": "bob"})
    await sign_in(page, await console_link(db_url, server, acme.slug, scope="read"))
    await shown(page, "ana", "bob")
    await expect(page.get_by_text("Read only")).to_be_visible()
    await page.get_by_role("checkbox", name="Select ana").check()
    await expect(page.get_by_role("button", name="Export")).to_be_visible()
    for name in ACTIONS:
        await expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    await assert_accessible(page, "users-read-only")

    await page.get_by_role("link", name="ana", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("(ana)")
    await expect(page.get_by_role("region", name="History")).to_be_visible()
    for name in (*ACTIONS, "Set password"):
        await expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    await expect(page.get_by_label("Password", exact=True)).to_have_count(0)

    # The address of New user, typed in, offers no form either.
    await page.goto("/console/users/new")
    await expect(page.get_by_text("read-only")).to_be_visible()
    await expect(page.get_by_role("button", name="Save")).to_have_count(0)
