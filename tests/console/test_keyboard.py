"""One run by keyboard alone (Tab, Space and Enter to move and press, the keys of the letters
to type; no click): create a user, disable and delete them. Each control reached shows where
focus is."""

from playwright.async_api import Locator, Page, expect

from tests.conftest import Api
from tests.console.checks import assert_accessible
from tests.console.people import user_named

MOST_TABS = 80


async def tab_to(page: Page, target: Locator) -> None:
    """Presses Tab until `target` has focus, then checks that focus is visible on it."""
    await target.wait_for()
    for _ in range(MOST_TABS):
        if await target.evaluate("e => e === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    else:
        raise AssertionError(f"Tab never reached {target}")
    visible = await target.evaluate(
        """e => e.matches(':focus-visible') && (getComputedStyle(e).outlineStyle !== 'none'
                || getComputedStyle(e).boxShadow !== 'none')"""
    )
    assert visible, f"no visible focus on {target}"


async def type_into(page: Page, field: Locator, text: str) -> None:
    await tab_to(page, field)
    await page.keyboard.type(text)


async def test_create_disable_and_delete_by_keyboard_alone(console: Page, admin: Api) -> None:
    await tab_to(console, console.get_by_role("button", name="New user"))
    await console.keyboard.press("Enter")
    await expect(console.get_by_role("heading", name="New user", level=1)).to_be_focused()

    await type_into(console, console.get_by_label("Username", exact=True), "keyes")
    await type_into(console, console.get_by_label("E-mail", exact=True), "keyes@example.com")
    await type_into(console, console.get_by_label("First name", exact=True), "Kay")
    await type_into(console, console.get_by_label("Last name", exact=True), "Keyes")
    await tab_to(console, console.get_by_role("button", name="Save"))
    await console.keyboard.press("Enter")
    await expect(console.get_by_role("heading", level=1)).to_contain_text("(keyes)")
    created = await user_named(admin, "keyes")
    assert created is not None and created["status"] == "ACTIVE"

    await tab_to(console, console.get_by_role("button", name="Disable"))
    await console.keyboard.press("Space")
    await expect(console.get_by_role("status")).to_have_text("1 user disabled")
    # Offered with the notice, not once the user is read again: Enter on it opens the dialog.
    assert await console.get_by_role("button", name="Delete").is_enabled()
    assert (await user_named(admin, "keyes") or {})["status"] == "DISABLED"

    await tab_to(console, console.get_by_role("button", name="Delete"))
    await console.keyboard.press("Enter")
    dialog = console.get_by_role("dialog", name="Delete 1 user?")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await tab_to(console, dialog.get_by_role("button", name="Delete 1 user"))
    await console.keyboard.press("Enter")
    await expect(console.get_by_role("status")).to_have_text("1 user deleted")
    assert await user_named(admin, "keyes") is None
    await assert_accessible(console, "user-deleted-by-keyboard", picture=False)
