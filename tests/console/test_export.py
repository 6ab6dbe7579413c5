"""The Export screen: the list's selection with the columns picked, the list's current search,
and everyone; each file downloaded from the page holds those users and columns, and the page
says until when it is kept."""

import csv
import io
import re

from playwright.async_api import Locator, Page, expect

from tests.conftest import Api
from tests.console.checks import assert_accessible
from tests.console.people import add_users, shown
from tests.mailbox import SmtpServer

FIVE = ("ann", "anna", "bob", "cid", "dee")
KEPT = ("username", "email", "last_name")


def column(page: Page, name: str) -> Locator:
    """The column picker's checkbox of CSV column `name` (its label: the name, then words)."""
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(name)} "))


async def open_export(page: Page) -> None:
    await page.get_by_role("link", name="Export to CSV…").click()
    await expect(page.get_by_role("heading", name="Export users", level=1)).to_be_visible()


async def export(page: Page, count: int) -> list[dict[str, str]]:
    """Starts the export as chosen, waits for its file and downloads it: its records."""
    await page.get_by_role("button", name="Start export").click()
    region = page.get_by_role("region", name="Export", exact=True)
    await expect(region.get_by_role("progressbar", name="Export: progress")).to_have_attribute(
        "aria-valuenow", "100"
    )
    noun = "user" if count == 1 else "users"
    await expect(region.get_by_role("status")).to_have_text(f"Export ready: {count} {noun}.")
    await expect(region.get_by_text(re.compile(r"^The file is kept until \S"))).to_be_visible()
    async with page.expect_download() as started:
        await region.get_by_role("link", name="Download the CSV file").click()
    text = (await (await started.value).path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_selection_with_the_columns_picked(
    console: Page, admin: Api, worker: SmtpServer
) -> None:
    await add_users(admin, *({"username": u} for u in FIVE))
    await console.reload()
    await shown(console, *FIVE)
    for username in ("bob", "dee"):
        await console.get_by_role("checkbox", name=f"Select {username}", exact=True).check()
    await open_export(console)
    selection = console.get_by_role("radio", name="The 2 users selected in the list")
    await expect(selection).to_be_checked()
    await console.get_by_role("radio", name="Choose the columns").check()
    boxes = console.locator(".column-picker").get_by_role("checkbox")
    for box in await boxes.all():
        await box.uncheck()
    for name in KEPT:
        await column(console, name).check()
    # "email" is not "welcome_email": each box is its own column's.
    await expect(column(console, "welcome_email")).not_to_be_checked()
    await assert_accessible(console, "export")

    records = await export(console, 2)
    assert tuple(records[0]) == KEPT
    assert [(r["username"], r["email"]) for r in records] == [
        ("bob", "bob@example.com"),
        ("dee", "dee@example.com"),
    ]
    region = console.get_by_role("region", name="Export", exact=True)
    await expect(region).to_contain_text("Columns: username, email, last_name.")
    await assert_accessible(console, "export-done")


async def test_the_current_search_then_everyone(
    console: Page, admin: Api, worker: SmtpServer
) -> None:
    await add_users(admin, *({"username": u} for u in FIVE))
    await console.get_by_role("searchbox", name="Search users").fill("ann")
    await shown(console, "ann", "anna")
    await open_export(console)
    selection = console.get_by_role("radio", name="The users selected in the list")
    await expect(selection).to_be_disabled()
    found = console.get_by_role("radio", name="Everyone the list’s search and filters find")
    await expect(found).to_be_checked()
    await expect(found).to_have_accessible_description("“ann”")
    records = await export(console, 2)
    assert [r["username"] for r in records] == ["ann", "anna"]
    # Every column (passwords are never exported).
    assert {"username", "email", "first_name", "roles", "status"} <= set(records[0])
    assert not any("password" in name for name in records[0])

    await console.get_by_role("link", name="Users", exact=True).click()
    await console.get_by_role("searchbox", name="Search users").fill("")
    await shown(console, *FIVE)
    await open_export(console)
    await expect(found).to_be_disabled()
    await console.get_by_role("radio", name="Everyone in the organisation").check()
    assert [r["username"] for r in await export(console, 5)] == list(FIVE)
