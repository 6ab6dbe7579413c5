"""Look-alike identifiers and characters no one types: what the API and the import refuse, store
and find."""

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import CREATE_USER, Api, create_user
from tests.test_imports import errors_of, finished, sql

UPDATE_USER = """
mutation($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) {
    user { username email firstName } userErrors { field code message } }
}
"""


def user_input(username: str, **fields: Any) -> dict[str, Any]:
    return {
        "username": username,
        "email": fields.pop("email", f"{username}@example.com"),
        "firstName": fields.pop("firstName", "Ann"),
        "lastName": fields.pop("lastName", "Lee"),
        **fields,
    }


async def create(admin: Api, username: str, **fields: Any) -> dict[str, Any]:
    """The createUser payload."""
    data = await admin.data(CREATE_USER, input=user_input(username, **fields))
    payload: dict[str, Any] = data["createUser"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


# --- Look-alikes (Unicode TS #39 skeletons) ---------------------------------------------------


@pytest.mark.parametrize(
    "look_alike",
    [
        "\u0430dmin",  # Cyrillic а
        "\u0251dmin",  # Latin alpha
        "adrnin",  # rn reads as m
    ],
)
async def test_a_username_that_looks_like_another_users_is_refused(
    admin: Api, look_alike: str
) -> None:
    await create_user(admin, "admin")
    payload = await create(admin, look_alike, email="other@example.com")
    assert payload["user"] is None
    assert codes(payload) == ["USERNAME_CONFUSABLE"]
    error = payload["userErrors"][0]
    assert error["field"] == ["input", "username"]
    # It says no more than USERNAME_TAKEN does: not whose, not which.
    assert "admin" not in error["message"]


async def test_fullwidth_maps_to_ascii_and_nfd_to_nfc(admin: Api) -> None:
    await create_user(admin, "admin")
    assert codes(await create(admin, "\uff41dmin", email="x@example.com")) == ["USERNAME_TAKEN"]
    made = await create(admin, "jose\u0301", email="jose@example.com", firstName="Jose\u0301")
    assert made["user"]["username"] == "jos\u00e9"
    assert made["user"]["firstName"] == "Jos\u00e9"
    # The same name typed precomposed is the same username, not a second one.
    assert codes(await create(admin, "jos\u00e9", email="j2@example.com")) == ["USERNAME_TAKEN"]


async def test_compatibility_characters_are_not_usernames(admin: Api) -> None:
    assert codes(await create(admin, "\ufb01le", email="f@example.com")) == ["INVALID_USERNAME"]


async def test_an_email_that_looks_like_another_users_is_refused(admin: Api) -> None:
    await create_user(admin, "ana", email="ana@example.com")
    payload = await create(admin, "ana2", email="\u0430na@example.com")
    assert codes(payload) == ["EMAIL_CONFUSABLE"]
    assert payload["userErrors"][0]["field"] == ["input", "email"]


async def test_email_domains_are_lower_case_and_may_not_imitate(admin: Api) -> None:
    made = await create(admin, "ana", email="Ana.Garcia@Example.COM")
    assert made["user"]["email"] == "Ana.Garcia@example.com"
    # The last one is аррӏе.com (all Cyrillic) in its ASCII form.
    for domain in ("gm\u0430il.com", "\u0430pple.com", "\u0261mail.com", "xn--80ak6aa92e.com"):
        payload = await create(admin, "bob", email=f"bob@{domain}")
        assert codes(payload) == ["INVALID_EMAIL"], domain
    # A domain in one script other than Latin is a real domain.
    for n, domain in enumerate(("\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "例え.jp")):
        payload = await create(admin, f"eve{n}", email=f"eve@{domain}")
        assert payload["userErrors"] == [], domain


async def test_update_user_to_a_look_alike_is_refused(admin: Api) -> None:
    await create_user(admin, "admin")
    other = await create_user(admin, "zed")
    data = await admin.data(UPDATE_USER, id=other["id"], input={"username": "\u0430dmin"})
    assert codes(data["updateUser"]) == ["USERNAME_CONFUSABLE"]
    # Its own name in another case is no look-alike of itself.
    data = await admin.data(UPDATE_USER, id=other["id"], input={"username": "Zed"})
    assert data["updateUser"]["userErrors"] == []


async def test_the_database_refuses_look_alikes_whoever_writes(admin: Api, db_url: str) -> None:
    """A write that skipped every check (a race, another path) still meets the unique index."""
    await create_user(admin, "admin")
    rows = await sql(db_url, "SELECT tenant_id, username_skeleton FROM users")
    tenant_id, skeleton = rows[0]
    with pytest.raises(asyncpg.UniqueViolationError, match="users_tenant_username_skeleton_key"):
        await sql(
            db_url,
            "INSERT INTO users (tenant_id, username, email, first_name, last_name,"
            " username_skeleton, email_skeleton) VALUES ($1, 'x', 'x@x.org', 'X', 'X', $2, 'x')",
            tenant_id,
            skeleton,
        )


# --- Characters refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("firstName", "Ana\x00"),
        ("lastName", "Garc\u00eda\x1b[31m"),
        ("lastName", "\u202eacr\u00e1G"),
        ("firstName", "Ana\u2066x"),
        ("lastName", "Garc\u00eda\nL\u00f3pez"),
        ("lastName", "Garc\u00eda\u2028L\u00f3pez"),
        ("username", "ana\x00"),
        ("email", "ana\x00@example.com"),
        ("location", "Madrid\x1bX"),
        ("externalId", "HR\x00-1"),
    ],
)
async def test_control_and_bidi_characters_are_refused(admin: Api, field: str, value: str) -> None:
    fields = {"username": "ana", "email": "ana@example.com", field: value}
    payload = await create(admin, **fields)
    assert codes(payload) == ["INVALID_CHARACTERS"], payload
    assert payload["userErrors"][0]["field"] == ["input", field]


async def test_nul_in_attributes_is_refused(admin: Api) -> None:
    for attributes in ({"dept": "Ma\x00ths"}, {"de\x00pt": "Maths"}):
        payload = await create(admin, "ana", attributes=attributes)
        assert codes(payload) == ["INVALID_CHARACTERS"], payload


@pytest.mark.parametrize(
    ("arguments", "value"),
    [
        ("search: $v", "an\x00a"),
        ("search: $v", "ana \u202e"),
        ("filter: {emailDomain: $v}", "example.com\x00"),
        ("filter: {language: $v}", "es\x00"),
        ("filter: {platform: $v}", "lcloud\x00"),
    ],
)
async def test_searches_with_nul_find_nothing(admin: Api, arguments: str, value: str) -> None:
    await create_user(admin, "ana", language="es")
    query = f"query($v: String) {{ users({arguments}) {{ totalCount edges {{ node {{ id }} }} }} }}"
    data = await admin.data(query, v=value)
    assert data["users"] == {"totalCount": 0, "edges": []}


async def test_lookups_with_nul_find_nobody(admin: Api) -> None:
    await create_user(admin, "ana")
    for argument in ("username", "email"):
        data = await admin.data(
            f"query($v: String) {{ user({argument}: $v) {{ id }} }}", v="ana\x00"
        )
        assert data["user"] is None


# --- The import -------------------------------------------------------------------------------


async def test_the_import_refuses_look_alikes_and_control_characters(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    await create_user(admin, "admin", email="admin@example.com")
    body = (
        "username,email,first_name,last_name\n"
        "\u0430dmin,a1@example.com,A,B\n"  # row 2: looks like the stored admin
        "bob,\u0430dmin@example.com,A,B\n"  # row 3: e-mail looks like the stored admin's
        "carl,carl@example.com,A,B\n"  # row 4: fine
        "c\u0430rl,c2@example.com,A,B\n"  # row 5: looks like row 4
        "dan,dan@gm\u0430il.com,A,B\n"  # row 6: an imitating domain
        'eve,eve@example.com,"E\u202eve",B\n'  # row 7: a direction override
        "\uff46red,fred@example.com,A,B\n"  # row 8: fullwidth, stored in ASCII
    ).encode()
    job = await finished(client, admin, db_url, body)
    assert errors_of(job) == [
        (2, "username", "USERNAME_CONFUSABLE"),
        (3, "email", "EMAIL_CONFUSABLE"),
        (5, "username", "USERNAME_CONFUSABLE"),
        (6, "email", "INVALID_EMAIL"),
        (7, "first_name", "INVALID_CHARACTERS"),
    ]
    messages = [e["node"]["message"] for e in job["rowErrors"]["edges"]]
    assert "Row 4" in messages[2]
    stored = await sql(db_url, "SELECT username FROM users ORDER BY username")
    assert [r["username"] for r in stored] == ["admin", "carl", "fred"]
    skeletons = await sql(db_url, "SELECT count(*) FROM users WHERE username_skeleton IS NULL")
    assert skeletons[0][0] == 0


CREATE_PLATFORM = """
mutation($name: String!, $url: String) {
  createPlatform(input: {key: "moodle", name: $name, roles: ["student"], webhookUrl: $url}) {
    platform { name } userErrors { field code }
  }
}
"""


async def test_platform_names_and_urls_refuse_control_characters(admin: Api) -> None:
    data = await admin.data(CREATE_PLATFORM, name="Moo\x00dle\u202e", url=None)
    assert data["createPlatform"]["userErrors"] == [
        {"field": ["input", "name"], "code": "INVALID_CHARACTERS"}
    ]
    data = await admin.data(CREATE_PLATFORM, name="Moodle", url="https://m.example.com/\x00")
    assert data["createPlatform"]["userErrors"] == [
        {"field": ["input", "webhookUrl"], "code": "INVALID_URL"}
    ]
    data = await admin.data(CREATE_PLATFORM, name="Moodle\u0301", url=None)
    assert data["createPlatform"]["platform"] == {"name": "Moodl\u00e9"}
