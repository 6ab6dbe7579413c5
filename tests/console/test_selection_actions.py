"""The actions on a selection of users, from the list: Disable and Enable three, Export them as
a CSV, and Delete them once disabled, after the confirmation; each checked through the API."""

import csv
import io

from playwright.async_api import Page, expect

from tests.conftest import Api
from tests.console.checks import assert_accessible
from tests.console.people import add_users, shown, status_of
from tests.mailbox import SmtpServer

FIVE = ("ann", "bob", "cid", "dee", "eve")


async def select(page: Page, *usernames: str) -> None:
    for username in usernames:
        await page.get_by_role("checkbox", name=f"Select {username}", exact=True).check()
    await expect(page.get_by_text(f"{len(usernames)} selected")).to_be_visible()


async def test_three_selected_are_disabled_then_enabled(console: Page, admin: Api) -> None:
    await add_users(admin, *({"username": u} for u in FIVE))
    await console.reload()
    await shown(console, *FIVE)
    await select(console, "ann", "cid", "eve")
    await console.get_by_role("button", name="Disable").click()
    await expect(console.get_by_role("status")).to_have_text("3 users disabled")
    assert await status_of(admin, *FIVE) == {
        "ann": "DISABLED",
        "bob": "ACTIVE",
        "cid": "DISABLED",
        "dee": "ACTIVE",
        "eve": "DISABLED",
    }
    await assert_accessible(console, "users-selection")

    await console.get_by_role("button", name="Enable").click()
    await expect(console.get_by_role("status")).to_have_text("3 users enabled")
    assert set((await status_of(admin, *FIVE)).values()) == {"ACTIVE"}

    await console.get_by_role("checkbox", name="Select all on this page").check()
    await expect(console.get_by_text("5 selected")).to_be_visible()


async def test_an_export_of_the_selection_downloads_those_users(
    console: Page, admin: Api, worker: SmtpServer
) -> None:
    await add_users(admin, *({"username": u} for u in FIVE))
    await console.reload()
    await shown(console, *FIVE)
    await select(console, "bob", "dee", "eve")
    async with console.expect_download() as started:
        await console.get_by_role("button", name="Export").click()
    download = await started.value
    await expect(console.get_by_role("status")).to_contain_text("Export ready: 3 users")
    path = await download.path()
    records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert sorted(r["username"] for r in records) == ["bob", "dee", "eve"]


async def test_the_welcome_email_goes_to_the_selection(
    console: Page, admin: Api, worker: SmtpServer
) -> None:
    await add_users(admin, *({"username": u} for u in FIVE))
    await console.reload()
    await shown(console, *FIVE)
    await select(console, "ann", "eve")
    await console.get_by_role("button", name="Send welcome e-mail").click()
    await expect(console.get_by_role("status")).to_have_text("Welcome e-mail sent to 2 users.")
    assert sorted(r.to for r in worker.mailbox.received) == ["ann@example.com", "eve@example.com"]


async def test_delete_asks_first_and_only_once_they_are_disabled(console: Page, admin: Api) -> None:
    await add_users(admin, *({"username": u} for u in FIVE))
    await console.reload()
    await shown(console, *FIVE)
    await select(console, "ann", "bob")
    delete = console.get_by_role("button", name="Delete")
    await expect(delete).to_have_attribute("aria-disabled", "true")
    await delete.click(force=True)  # refused while they are active: nothing opens
    await expect(console.get_by_role("dialog")).to_have_count(0)

    await console.get_by_role("button", name="Disable").click()
    await expect(console.get_by_role("status")).to_have_text("2 users disabled")
    await expect(delete).not_to_have_attribute("aria-disabled", "true")
    await delete.click()
    dialog = console.get_by_role("dialog", name="Delete 2 users?")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("cannot be undone")
    await expect(dialog).to_contain_text("reaches every app")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await assert_accessible(console, "delete-confirmation")

    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    assert await status_of(admin, "ann", "bob") == {"ann": "DISABLED", "bob": "DISABLED"}

    await delete.click()
    await dialog.get_by_role("button", name="Delete 2 users").click()
    await expect(console.get_by_role("status")).to_have_text("2 users deleted")
    await shown(console, "cid", "dee", "eve")
    assert await status_of(admin, *FIVE) == {
        "ann": None,
        "bob": None,
        "cid": "ACTIVE",
        "dee": "ACTIVE",
        "eve": "ACTIVE",
    }
