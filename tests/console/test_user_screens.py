"""A user's screens: New user with roles (a userError beside its field), the details page (edit
and save, a new password, the audit events), and a deletion reaching an app's webhook."""

import re

from playwright.async_api import Page, expect

from tests.conftest import Api
from tests.console.checks import assert_accessible
from tests.console.people import add_users, shown, user_named
from tests.mailbox import SmtpServer
from tests.receiver import Receiver

CREATE_PLATFORM = """
mutation($input: CreatePlatformInput!) {
  createPlatform(input: $input) { platform { id } userErrors { message } } }
"""


async def open_user(page: Page, username: str) -> None:
    """From the list, as a person does: the user's name opens the user's page."""
    await page.get_by_role("searchbox", name="Search users").fill(username)
    await shown(page, username)
    await page.get_by_role("link", name=username, exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"({username})")


async def test_a_new_user_with_roles_and_an_error_beside_its_field(
    console: Page, admin: Api
) -> None:
    await add_users(admin, {"username": "taken"})
    await console.get_by_role("button", name="New user").click()
    await expect(console.get_by_role("heading", name="New user", level=1)).to_be_visible()
    await assert_accessible(console, "new-user")

    await console.get_by_label("Username", exact=True).fill("taken")
    await console.get_by_label("E-mail", exact=True).fill("maria@example.com")
    await console.get_by_label("First name", exact=True).fill("María")
    await console.get_by_label("Last name", exact=True).fill("Pérez")
    await console.get_by_label("LearningCloud").select_option("teacher")
    await console.get_by_label("ContentCloud").select_option("author")
    await console.get_by_role("button", name="Save").click()

    # The API's userError is shown beside the field, read with it, and the field has focus.
    username = console.get_by_label("Username", exact=True)
    await expect(username).to_have_attribute("aria-invalid", "true")
    await expect(username).to_have_accessible_description(re.compile(r"\S"))
    await expect(username).to_be_focused()
    await assert_accessible(console, "new-user-error")
    assert await user_named(admin, "maria") is None

    await username.fill("maria")
    await console.get_by_role("button", name="Save").click()
    await expect(console.get_by_role("heading", level=1)).to_contain_text("(maria)")
    await expect(console.get_by_role("status")).to_contain_text("maria")
    created = await user_named(admin, "maria")
    assert created is not None
    assert (created["firstName"], created["lastName"]) == ("María", "Pérez")
    assert sorted((r["platform"]["key"], r["role"]) for r in created["roles"]) == [
        ("contentcloud", "author"),
        ("learningcloud", "teacher"),
    ]


async def test_details_edit_a_new_password_and_the_audit_events(console: Page, admin: Api) -> None:
    await add_users(admin, {"username": "lucia", "firstName": "Lucia", "lastName": "Diaz"})
    await open_user(console, "lucia")
    await assert_accessible(console, "user")

    await console.get_by_role("button", name="Edit").click()
    await console.get_by_label("First name", exact=True).fill("Lucía")
    await console.get_by_label("Last name", exact=True).fill("Díaz")
    await console.get_by_role("button", name="Save").click()
    await expect(console.get_by_role("status")).to_have_text("Changes saved.")
    await expect(console.get_by_role("heading", level=1)).to_contain_text("Lucía Díaz")
    saved = await user_named(admin, "lucia")
    assert saved is not None and (saved["firstName"], saved["lastName"]) == ("Lucía", "Díaz")

    # A password the policy refuses: the API's verdict as one types, then its userError.
    password = console.get_by_label("Password", exact=True)
    await password.fill("lucia")
    set_password = console.get_by_role("button", name="Set password")
    await set_password.click()
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(password).to_have_accessible_description(re.compile(r"\S"))
    assert (await user_named(admin, "lucia") or {})["hasPassword"] is False

    await password.fill("amber kettle harbour drift")
    await expect(console.get_by_text("This password is acceptable.")).to_be_visible()
    await set_password.click()
    await expect(console.get_by_role("status")).to_have_text("Password set.")
    assert (await user_named(admin, "lucia") or {})["hasPassword"] is True

    history = console.get_by_role("region", name="History")
    for action in ("Created", "Profile changed", "Password set"):
        await expect(history.get_by_role("cell", name=action, exact=True)).to_be_visible()


async def test_a_deletion_reaches_the_apps_webhook(
    console: Page, admin: Api, receiver: Receiver, worker: SmtpServer
) -> None:
    data = await admin.data(
        CREATE_PLATFORM,
        input={"key": "crm", "name": "CRM", "roles": ["agent"], "webhookUrl": receiver.url},
    )
    assert data["createPlatform"]["userErrors"] == []
    ids = await add_users(
        admin, {"username": "gone", "roles": [{"platform": "crm", "role": "agent"}]}
    )
    await console.reload()
    await open_user(console, "gone")
    await console.get_by_role("button", name="Disable").click()
    await expect(console.get_by_role("status")).to_have_text("1 user disabled")
    await console.get_by_role("button", name="Delete").click()
    dialog = console.get_by_role("dialog", name="Delete 1 user?")
    await expect(dialog).to_contain_text("CRM")
    await dialog.get_by_role("button", name="Delete 1 user").click()

    propagation = console.get_by_role("region", name="The deletion in each app")
    crm = propagation.get_by_role("row", name=re.compile("^CRM"))
    await expect(crm).to_contain_text("Delivered", timeout=20_000)
    await expect(propagation.get_by_role("row", name=re.compile("^LearningCloud"))).to_contain_text(
        "No webhook"
    )
    await assert_accessible(console, "user-deleted")
    assert await user_named(admin, "gone") is None
    deleted = [e for e in receiver.events() if e["type"] == "user.deleted"]
    assert [e["userId"] for e in deleted] == [ids["gone"]]
    history = console.get_by_role("region", name="History")
    await expect(history.get_by_role("cell", name="Deleted", exact=True)).to_be_visible()
