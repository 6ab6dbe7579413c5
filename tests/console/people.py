"""What the console tests set up and check through the API (never through the page): users made
in a few requests, and what the API says of them afterwards; and what the list shows."""

from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.conftest import Api

CREATE = """createUser(input: %s) { user { id username } userErrors { field message } }"""
USER = """
query($username: String!) { user(username: $username) {
  id username email firstName lastName status hasPassword
  roles { role platform { key } } } }
"""
BATCH = 25  # the API takes 30 aliases a document


def _literal(value: Any) -> str:
    """A GraphQL literal of plain data (the input objects these tests make)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


async def add_users(api: Api, *people: dict[str, Any]) -> dict[str, str]:
    """Creates each user ({username, and any CreateUserInput field}); their ids by username."""
    ids: dict[str, str] = {}
    for start in range(0, len(people), BATCH):
        fields = []
        for i, person in enumerate(people[start : start + BATCH]):
            username = person["username"]
            full = {
                "email": f"{username}@example.com",
                "firstName": username.title(),
                "lastName": "Tester",
                **person,
            }
            fields.append(f"u{i}: " + CREATE % _literal(full))
        data = await api.data("mutation { " + "\n".join(fields) + " }")
        for payload in data.values():
            assert payload["userErrors"] == [], payload
            ids[payload["user"]["username"]] = payload["user"]["id"]
    return ids


async def user_named(api: Api, username: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await api.data(USER, username=username))["user"]
    return found


async def status_of(api: Api, *usernames: str) -> dict[str, str | None]:
    """Each user's status, None for one that no longer exists."""
    found = {}
    for username in usernames:
        user = await user_named(api, username)
        found[username] = user["status"] if user else None
    return found


def rows(page: Page) -> Locator:
    """The rows of the users table (a user each; none while "No users match")."""
    return page.locator("table.users tbody tr").filter(has=page.get_by_role("checkbox"))


async def shown(page: Page, *usernames: str) -> None:
    """Waits until the table shows exactly these users, in this order."""
    await expect(rows(page).get_by_role("link")).to_have_text(list(usernames))
