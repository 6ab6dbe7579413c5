"""The Audit log screen: the organisation's events narrowed by user, kind of event and time,
each filter kept in the address (a reload or a bookmark shows the same events)."""

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

from playwright.async_api import Page, expect

from db.pool import connect
from resolvers.ids import decode_id
from tests.conftest import Api
from tests.console.checks import assert_accessible
from tests.console.people import add_users

UPDATE = """
mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) {
  userErrors { message } } }
"""
EVERYTHING = (
    ("Profile changed", "ann"),
    ("Created", "bob"),
    ("Created", "ann"),
    ("Signed in to the console", "An API token"),  # the console's session is a token
    ("Sign-in link created", "A sign-in link"),
)
BACKDATE = """
UPDATE events SET created_at = now() - interval '3 days' WHERE target_id = $1 AND action = $2
"""


def local(moment: datetime) -> str:
    """A time as a datetime-local field takes it (the browser's zone is this machine's)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


async def shown(page: Page, *expected: tuple[str, str]) -> None:
    """Waits until the table shows these events (kind, target), newest first."""
    rows = page.locator("table.audit-log tbody tr")
    await expect(rows.locator("td:nth-child(2)")).to_have_text([kind for kind, _ in expected])
    await expect(rows.locator("td:nth-child(4)")).to_have_text([on for _, on in expected])


async def apply(page: Page, **fields: str) -> None:
    """Fills the filters given (by label) and presses Search."""
    for label, value in fields.items():
        await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_role("button", name="Search", exact=True).click()


async def test_the_audit_log_by_user_kind_and_time(console: Page, admin: Api, db_url: str) -> None:
    ids = await add_users(admin, {"username": "ann"}, {"username": "bob"})
    changed = await admin.data(UPDATE, id=ids["ann"], input={"lastName": "Changed"})
    assert changed["updateUser"]["userErrors"] == []
    # Ann was created three days ago, as far as the log knows.
    conn = await connect(db_url)
    try:
        await conn.execute(BACKDATE, decode_id(ids["ann"], "User"), "user.created")
    finally:
        await conn.close()

    nav = console.get_by_role("navigation", name="Console")
    await nav.get_by_role("link", name="Audit log").click()
    await expect(console.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    await shown(console, *EVERYTHING)
    await assert_accessible(console, "audit-log")

    await apply(console, **{"User (username)": "ann"})
    await shown(console, ("Profile changed", "ann"), ("Created", "ann"))
    assert parse_qs(urlparse(console.url).query) == {"user": ["ann"]}

    await console.get_by_label("Kind of event").select_option(label="Created")
    await apply(console)
    await shown(console, ("Created", "ann"))

    # Time: until two days ago finds ann's creation; from then on, nothing of the kind.
    two_days_ago = local(datetime.now() - timedelta(days=2))
    await apply(console, Until=two_days_ago)
    await shown(console, ("Created", "ann"))
    await apply(console, From=two_days_ago, Until="")
    await expect(console.get_by_role("cell", name="No events.")).to_be_visible()
    await console.get_by_label("Kind of event").select_option(label="Any event")
    await apply(console, **{"User (username)": ""})
    await shown(console, *(e for e in EVERYTHING if e != ("Created", "ann")))

    # Every filter is in the address: a reload shows the same search.
    await console.get_by_label("Kind of event").select_option(label="Created")
    await apply(console, **{"User (username)": "ann", "From": "", "Until": two_days_ago})
    await shown(console, ("Created", "ann"))
    assert parse_qs(urlparse(console.url).query) == {
        "user": ["ann"],
        "action": ["user.created"],
        "until": [two_days_ago],
    }
    await console.reload()
    await expect(console.get_by_label("User (username)")).to_have_value("ann")
    await expect(console.get_by_label("Kind of event")).to_have_value("user.created")
    await expect(console.get_by_label("Until", exact=True)).to_have_value(two_days_ago)
    await shown(console, ("Created", "ann"))

    await console.get_by_role("button", name="Clear filters").click()
    await shown(console, *EVERYTHING)
    assert urlparse(console.url).query == ""
