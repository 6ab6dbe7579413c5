"""User mutations and the audit log, through /graphql against real PostgreSQL: what an
administrator sees in the payloads, and what is (or is not) left in the database."""

import gzip
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import argon2
import pytest
from argon2.exceptions import VerifyMismatchError
from strawberry import relay

from db import tenants
from db.pool import connect
from tests.conftest import CREATE_USER, Api, create_user

USER = """
id username email firstName lastName language timeZone officePhone mobilePhone location
externalId status attributes hasPassword passwordChangedAt welcomeEmailSentAt createdAt
updatedAt disabledAt roles { role platform { key } }
"""
PAYLOAD = f"user {{ {USER} }} userErrors {{ field message code }}"

CREATE = f"""
mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {PAYLOAD} }} }}
"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateUserInput!) {{
  updateUser(id: $id, input: $input) {{ {PAYLOAD} }}
}}
"""
DISABLE = f"""
mutation($ids: [ID!]!) {{
  disableUsers(ids: $ids) {{ users {{ {USER} }} userErrors {{ field message code }} }}
}}
"""
ENABLE = f"""
mutation($ids: [ID!]!) {{
  enableUsers(ids: $ids) {{ users {{ {USER} }} userErrors {{ field message code }} }}
}}
"""
DELETE = """
mutation($ids: [ID!]!) {
  deleteUsers(ids: $ids) { deletedIds userErrors { field message code } }
}
"""
SET_PASSWORD = f"""
mutation($id: ID!, $password: String!) {{
  setPassword(id: $id, password: $password) {{ {PAYLOAD} }}
}}
"""
GET_USER = f"query($id: ID!) {{ user(id: $id) {{ {USER} }} }}"
AUDIT = """
query($first: Int, $after: String, $userId: ID) {
  auditEvents(first: $first, after: $after, userId: $userId) {
    edges { cursor node { id action actor targetType targetId data createdAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

COMMON_PASSWORDS = Path(__file__).parents[1] / "rules" / "data" / "common-passwords.txt.gz"
GOOD_PASSWORD = "violet staple orbit canyon"  # 26 characters, no identifier, not common


# --- helpers -------------------------------------------------------------------------------


def common_passwords(min_length: int = 15) -> list[str]:
    lines = gzip.decompress(COMMON_PASSWORDS.read_bytes()).decode("utf-8").splitlines()
    return [p for p in lines if len(p) >= min_length]


def row_id(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


def user_global_id(user_id: uuid.UUID) -> str:
    return str(relay.GlobalID("User", str(user_id)))


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def role_set(user: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["platform"]["key"], r["role"]) for r in user["roles"]}


def error_list(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def fetch(db_url: str, query: str, *args: Any) -> list[Any]:
    conn = await connect(db_url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def fetchval(db_url: str, query: str, *args: Any) -> Any:
    conn = await connect(db_url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def counts(db_url: str) -> tuple[int, int, int]:
    """(users, user_roles, events) rows in the whole database."""
    conn = await connect(db_url)
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM users"),
            await conn.fetchval("SELECT count(*) FROM user_roles"),
            await conn.fetchval("SELECT count(*) FROM events"),
        )
    finally:
        await conn.close()


async def events_text(db_url: str) -> list[str]:
    """Every events row, each as the text of the whole row."""
    return [r["t"] for r in await fetch(db_url, "SELECT e::text AS t FROM events e")]


async def get_user(api: Api, user_id: str) -> dict[str, Any] | None:
    user: dict[str, Any] | None = (await api.data(GET_USER, id=user_id))["user"]
    return user


async def audit(api: Api, user_id: str | None = None, first: int = 100) -> list[dict[str, Any]]:
    data = await api.data(AUDIT, first=first, userId=user_id)
    assert data["auditEvents"]["pageInfo"]["hasNextPage"] is False
    return [e["node"] for e in data["auditEvents"]["edges"]]


async def actions(api: Api, user_id: str) -> list[str]:
    return [e["action"] for e in await audit(api, user_id)]


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(CREATE, input=fields))["createUser"]
    return payload


async def update(api: Api, user_id: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(UPDATE, id=user_id, input=fields))["updateUser"]
    return payload


async def disable(api: Api, *ids: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(DISABLE, ids=list(ids)))["disableUsers"]
    return payload


async def enable(api: Api, *ids: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(ENABLE, ids=list(ids)))["enableUsers"]
    return payload


async def delete(api: Api, *ids: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(DELETE, ids=list(ids)))["deleteUsers"]
    return payload


async def set_password(api: Api, user_id: str, password: str) -> dict[str, Any]:
    data = await api.data(SET_PASSWORD, id=user_id, password=password)
    payload: dict[str, Any] = data["setPassword"]
    return payload


async def password_hash(db_url: str, user_id: str) -> str | None:
    value: str | None = await fetchval(
        db_url, "SELECT password_hash FROM users WHERE id = $1", row_id(user_id)
    )
    return value


async def platform_ids(api: Api) -> dict[str, str]:
    """The platforms' ids as the API gives them, by key: the ids events name them by."""
    data = await api.data("{ platforms { id key } }")
    return {p["key"]: p["id"] for p in data["platforms"]}


def base_input(name: str, /, **fields: Any) -> dict[str, Any]:
    return {
        "username": name,
        "email": f"{name}@example.com",
        "firstName": name.title(),
        "lastName": "Tester",
        **fields,
    }


# --- createUser ----------------------------------------------------------------------------


async def test_create_user_with_roles_profile_and_attributes(admin: Api, db_url: str) -> None:
    payload = await create(
        admin,
        username="  maria.garcia ",
        email="Maria.Garcia@Example.com",
        firstName="María",
        lastName="García",
        language="es-ES",
        timeZone="Europe/Madrid",
        officePhone="+34 91 123 45 67",
        mobilePhone="+34 600 000 000",
        location="Madrid HQ",
        externalId="EMP-0042",
        attributes={"department": "Sales", "employeeNo": "42"},
        roles=[
            {"platform": "learningcloud", "role": "teacher"},
            {"platform": "lcloud", "role": "student"},
            {"platform": "LCLOUD", "role": "Student"},  # the same role again, by alias
            {"platform": "contentcloud", "role": "editor"},
        ],
    )
    assert payload["userErrors"] == []
    created = payload["user"]
    assert created["username"] == "maria.garcia"  # trimmed
    assert created["email"] == "Maria.Garcia@example.com"  # the domain in lower case
    assert role_set(created) == {
        ("learningcloud", "teacher"),
        ("learningcloud", "student"),
        ("contentcloud", "editor"),
    }
    assert len(created["roles"]) == 3

    # What a later read shows, not just the mutation's echo.
    user = await get_user(admin, created["id"])
    assert user is not None
    assert {k: user[k] for k in user if k != "roles"} == {
        k: created[k] for k in created if k != "roles"
    }
    assert role_set(user) == role_set(created)
    assert user["firstName"] == "María" and user["lastName"] == "García"
    assert user["language"] == "es-ES"
    assert user["timeZone"] == "Europe/Madrid"
    assert user["officePhone"] == "+34 91 123 45 67"
    assert user["mobilePhone"] == "+34 600 000 000"
    assert user["location"] == "Madrid HQ"
    assert user["externalId"] == "EMP-0042"
    assert user["attributes"] == {"department": "Sales", "employeeNo": "42"}
    assert user["status"] == "ACTIVE"
    assert user["hasPassword"] is False and user["passwordChangedAt"] is None
    assert user["disabledAt"] is None
    assert ts(user["createdAt"]) == ts(user["updatedAt"])

    # Found by username and e-mail, case-insensitively.
    by_name = await admin.data('{ user(username: "MARIA.GARCIA") { id } }')
    by_mail = await admin.data('{ user(email: "maria.garcia@example.COM") { id } }')
    assert by_name["user"]["id"] == by_mail["user"]["id"] == created["id"]

    events = await audit(admin, created["id"])
    assert [e["action"] for e in events] == ["user.created"]
    event = events[0]
    assert event["actor"] == "admin token"
    assert event["targetType"] == "User"
    assert event["targetId"] == created["id"]
    ids = await platform_ids(admin)
    assert sorted((r["platform"], r["role"]) for r in event["data"]["roles"]) == sorted(
        [
            (ids["learningcloud"], "teacher"),
            (ids["learningcloud"], "student"),
            (ids["contentcloud"], "editor"),
        ]
    )
    assert "maria" not in str(event["data"]).lower()


async def test_same_username_and_email_allowed_in_another_tenant(
    admin: Api, other_admin: Api
) -> None:
    mine = await create_user(admin, "ana")
    theirs = await create_user(other_admin, "ana")
    assert mine["id"] != theirs["id"]
    assert await get_user(other_admin, mine["id"]) is None


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"username": ""}, ["input", "username"], "REQUIRED"),
        ({"username": "   "}, ["input", "username"], "REQUIRED"),
        ({"username": "two words"}, ["input", "username"], "INVALID_USERNAME"),
        ({"email": ""}, ["input", "email"], "REQUIRED"),
        ({"firstName": ""}, ["input", "firstName"], "REQUIRED"),
        ({"lastName": " "}, ["input", "lastName"], "REQUIRED"),
        ({"email": "not-an-email"}, ["input", "email"], "INVALID_EMAIL"),
        ({"email": "ana@example"}, ["input", "email"], "INVALID_EMAIL"),
        ({"email": "ana@@example.com"}, ["input", "email"], "INVALID_EMAIL"),
        ({"language": "english!"}, ["input", "language"], "INVALID_LANGUAGE"),
        ({"language": "e"}, ["input", "language"], "INVALID_LANGUAGE"),
        ({"timeZone": "Mars/Olympus_Mons"}, ["input", "timeZone"], "INVALID_TIME_ZONE"),
        ({"timeZone": "../../etc/passwd"}, ["input", "timeZone"], "INVALID_TIME_ZONE"),
        ({"officePhone": "call me"}, ["input", "officePhone"], "INVALID_PHONE"),
        ({"firstName": "x" * 101}, ["input", "firstName"], "TOO_LONG"),
        ({"attributes": {"level": 3}}, ["input", "attributes"], "INVALID_ATTRIBUTES"),
        ({"attributes": ["a"]}, ["input", "attributes"], "INVALID_ATTRIBUTES"),
        (
            {"roles": [{"platform": "moodle", "role": "student"}]},
            ["input", "roles", "0", "platform"],
            "UNKNOWN_PLATFORM",
        ),
        (
            {
                "roles": [
                    {"platform": "lcloud", "role": "student"},
                    {"platform": "learningcloud", "role": "author"},
                ]
            },
            ["input", "roles", "1", "role"],
            "UNKNOWN_ROLE",
        ),
        ({"password": "short"}, ["input", "password"], "PASSWORD_TOO_SHORT"),
        ({"password": "ana-" + "x" * 20}, ["input", "password"], "PASSWORD_CONTAINS_IDENTIFIER"),
    ],
)
async def test_create_user_invalid_input_is_a_user_error_and_writes_nothing(
    admin: Api, db_url: str, fields: dict[str, Any], path: list[str], code: str
) -> None:
    payload = await create(admin, **base_input("ana", **fields))
    assert payload["user"] is None
    assert error_list(payload) == [(path, code)]
    assert payload["userErrors"][0]["message"]
    assert await counts(db_url) == (0, 0, 0)
    assert await audit(admin) == []


async def test_create_user_reports_every_problem_at_once(admin: Api, db_url: str) -> None:
    payload = await create(
        admin,
        **base_input(
            "",
            firstName="Ana",
            email="nope",
            timeZone="Nowhere/Land",
            roles=[{"platform": "contentcloud", "role": "student"}],
        ),
    )
    assert payload["user"] is None
    assert sorted(error_list(payload)) == sorted(
        [
            (["input", "username"], "REQUIRED"),
            (["input", "email"], "INVALID_EMAIL"),
            (["input", "timeZone"], "INVALID_TIME_ZONE"),
            (["input", "roles", "0", "role"], "UNKNOWN_ROLE"),
        ]
    )
    assert await counts(db_url) == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        (
            {"username": "ANA", "email": "other@example.com"},
            ["input", "username"],
            "USERNAME_TAKEN",
        ),
        ({"username": "bob", "email": "ANA@EXAMPLE.com"}, ["input", "email"], "EMAIL_TAKEN"),
        (
            {"username": "bob", "email": "bob@example.com", "externalId": "EMP-1"},
            ["input", "externalId"],
            "EXTERNAL_ID_TAKEN",
        ),
    ],
)
async def test_create_user_conflicts_write_nothing(
    admin: Api, db_url: str, fields: dict[str, Any], path: list[str], code: str
) -> None:
    ana = await create_user(
        admin, "ana", externalId="EMP-1", roles=[{"platform": "lcloud", "role": "student"}]
    )
    before = await counts(db_url)
    assert before == (1, 1, 1)

    payload = await create(
        admin,
        **base_input(
            "x",
            firstName="Bob",
            roles=[{"platform": "contentcloud", "role": "author"}],
            password=GOOD_PASSWORD,
            **fields,
        ),
    )
    assert payload["user"] is None
    assert error_list(payload) == [(path, code)]
    assert await counts(db_url) == before
    assert await fetchval(db_url, "SELECT count(*) FROM users WHERE first_name = 'Bob'") == 0
    assert [e["targetId"] for e in await audit(admin)] == [ana["id"]]


async def test_create_user_with_password(admin: Api, db_url: str) -> None:
    payload = await create(admin, **base_input("ana", password=GOOD_PASSWORD))
    assert payload["userErrors"] == []
    user = payload["user"]
    assert user["hasPassword"] is True
    assert user["passwordChangedAt"] is not None
    stored = await password_hash(db_url, user["id"])
    assert stored is not None and stored.startswith("$argon2id$")
    assert argon2.PasswordHasher().verify(stored, GOOD_PASSWORD)
    assert all(GOOD_PASSWORD not in row for row in await events_text(db_url))
    [event] = await audit(admin, user["id"])
    assert event["data"]["passwordSet"] is True


async def test_read_token_cannot_mutate(admin: Api, reader: Api, db_url: str) -> None:
    ana = await create_user(admin, "ana")
    before = await counts(db_url)
    attempts = [
        (CREATE, {"input": base_input("bob")}),
        (UPDATE, {"id": ana["id"], "input": {"firstName": "Changed"}}),
        (DISABLE, {"ids": [ana["id"]]}),
        (SET_PASSWORD, {"id": ana["id"], "password": GOOD_PASSWORD}),
    ]
    for query, variables in attempts:
        body = await reader(query, **variables)
        assert body["errors"], body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await counts(db_url) == before
    user = await get_user(reader, ana["id"])
    assert user is not None
    assert user["firstName"] == "Ana" and user["status"] == "ACTIVE"
    assert user["hasPassword"] is False


# --- updateUser ----------------------------------------------------------------------------


async def test_update_is_partial_and_null_clears(admin: Api) -> None:
    created = await create_user(
        admin,
        "ana",
        language="es",
        timeZone="Europe/Madrid",
        officePhone="+34 91 000 00 00",
        location="Madrid",
        attributes={"team": "blue"},
        roles=[{"platform": "lcloud", "role": "student"}],
    )
    before = await get_user(admin, created["id"])
    assert before is not None

    payload = await update(admin, created["id"], firstName="Anabel")
    assert payload["userErrors"] == []
    after = payload["user"]
    assert after["firstName"] == "Anabel"
    unchanged = set(before) - {"firstName", "updatedAt"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert ts(after["updatedAt"]) > ts(before["updatedAt"])
    assert after["createdAt"] == before["createdAt"]

    payload = await update(admin, created["id"], timeZone=None, officePhone="", location=None)
    assert payload["userErrors"] == []
    cleared = await get_user(admin, created["id"])
    assert cleared is not None
    assert cleared["timeZone"] is None
    assert cleared["officePhone"] is None
    assert cleared["location"] is None
    assert cleared["language"] == "es"
    assert cleared["firstName"] == "Anabel"
    assert cleared["attributes"] == {"team": "blue"}
    assert role_set(cleared) == {("learningcloud", "student")}

    events = await audit(admin, created["id"])
    assert [e["action"] for e in events] == ["user.updated", "user.updated", "user.created"]
    assert sorted(events[0]["data"]["changed"]) == ["location", "officePhone", "timeZone"]
    assert events[1]["data"]["changed"] == ["firstName"]
    assert {e["actor"] for e in events} == {"admin token"}


async def test_update_required_field_cannot_be_cleared(admin: Api, db_url: str) -> None:
    ana = await create_user(admin, "ana")
    for field in ("username", "email", "firstName", "lastName"):
        for value in (None, "  "):
            payload = await update(admin, ana["id"], **{field: value, "location": "Lisbon"})
            assert payload["user"] is None
            assert error_list(payload) == [(["input", field], "REQUIRED")]
    user = await get_user(admin, ana["id"])
    assert user is not None and user["location"] is None
    assert await actions(admin, ana["id"]) == ["user.created"]


async def test_update_roles_replace_or_keep(admin: Api, db_url: str) -> None:
    ana = await create_user(
        admin,
        "ana",
        roles=[
            {"platform": "lcloud", "role": "student"},
            {"platform": "contentcloud", "role": "author"},
        ],
    )
    # Omitted: kept.
    payload = await update(admin, ana["id"], lastName="Smith")
    assert payload["userErrors"] == []
    assert role_set(payload["user"]) == {("learningcloud", "student"), ("contentcloud", "author")}

    # Given: they replace every role.
    before = await get_user(admin, ana["id"])
    assert before is not None
    payload = await update(
        admin, ana["id"], roles=[{"platform": "learningcloud", "role": "teacher"}]
    )
    assert payload["userErrors"] == []
    assert role_set(payload["user"]) == {("learningcloud", "teacher")}
    user = await get_user(admin, ana["id"])
    assert user is not None
    assert role_set(user) == {("learningcloud", "teacher")}
    assert user["lastName"] == "Smith"
    assert ts(user["updatedAt"]) > ts(before["updatedAt"])

    ids = await platform_ids(admin)
    events = await audit(admin, ana["id"])
    assert [e["action"] for e in events] == ["user.roles_changed", "user.updated", "user.created"]
    changed = events[0]["data"]
    assert changed["added"] == [{"platform": ids["learningcloud"], "role": "teacher"}]
    assert sorted((r["platform"], r["role"]) for r in changed["removed"]) == sorted(
        [(ids["learningcloud"], "student"), (ids["contentcloud"], "author")]
    )

    # An empty list removes them all.
    payload = await update(admin, ana["id"], roles=[])
    assert payload["userErrors"] == []
    assert payload["user"]["roles"] == []
    rows = await fetch(db_url, "SELECT 1 FROM user_roles WHERE user_id = $1", row_id(ana["id"]))
    assert rows == []

    # A bad role in the list changes nothing, the other fields of the update included.
    payload = await update(
        admin,
        ana["id"],
        firstName="Changed",
        roles=[{"platform": "lcloud", "role": "tutor"}, {"platform": "nope", "role": "x"}],
    )
    assert error_list(payload) == [(["input", "roles", "1", "platform"], "UNKNOWN_PLATFORM")]
    user = await get_user(admin, ana["id"])
    assert user is not None and user["roles"] == [] and user["firstName"] == "Ana"


async def test_update_with_same_values_changes_nothing(admin: Api) -> None:
    ana = await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "student"}])
    payload = await update(
        admin,
        ana["id"],
        firstName="Ana",
        roles=[{"platform": "learningcloud", "role": "student"}],
    )
    assert payload["userErrors"] == []
    assert await actions(admin, ana["id"]) == ["user.created"]


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"username": "ANA"}, ["input", "username"], "USERNAME_TAKEN"),
        ({"email": "Ana@Example.COM"}, ["input", "email"], "EMAIL_TAKEN"),
        ({"externalId": "EMP-1"}, ["input", "externalId"], "EXTERNAL_ID_TAKEN"),
    ],
)
async def test_update_conflict_changes_nothing(
    admin: Api, db_url: str, fields: dict[str, Any], path: list[str], code: str
) -> None:
    await create_user(admin, "ana", externalId="EMP-1")
    bob = await create_user(admin, "bob", roles=[{"platform": "lcloud", "role": "student"}])
    before = await get_user(admin, bob["id"])

    payload = await update(
        admin,
        bob["id"],
        firstName="Robert",
        roles=[{"platform": "contentcloud", "role": "author"}],
        **fields,
    )
    assert payload["user"] is None
    assert error_list(payload) == [(path, code)]
    assert await get_user(admin, bob["id"]) == before
    assert await actions(admin, bob["id"]) == ["user.created"]


async def test_update_own_username_case_is_not_a_conflict(admin: Api) -> None:
    bob = await create_user(admin, "bob")
    payload = await update(admin, bob["id"], username="Bob", email="BOB@example.com")
    assert payload["userErrors"] == []
    # Usernames are kept case-mapped (RFC 8265), e-mail addresses as typed.
    assert payload["user"]["username"] == "bob"
    assert payload["user"]["email"] == "BOB@example.com"


async def test_update_unknown_user_is_not_found(admin: Api, other_admin: Api, db_url: str) -> None:
    theirs = await create_user(other_admin, "zed")
    for unknown in (user_global_id(uuid.uuid4()), theirs["id"], "not-an-id"):
        payload = await update(admin, unknown, firstName="Hacked")
        assert payload["user"] is None
        assert error_list(payload) == [(["id"], "NOT_FOUND")]
    still = await get_user(other_admin, theirs["id"])
    assert still is not None and still["firstName"] == "Zed"
    assert await actions(other_admin, theirs["id"]) == ["user.created"]


# --- enableUsers / disableUsers ------------------------------------------------------------


async def test_disable_and_enable_a_selection(admin: Api) -> None:
    a, b, c = [await create_user(admin, name) for name in ("ana", "bob", "cid")]

    payload = await disable(admin, a["id"], b["id"])
    assert payload["userErrors"] == []
    assert [u["id"] for u in payload["users"]] == [a["id"], b["id"]]
    assert all(u["status"] == "DISABLED" and u["disabledAt"] for u in payload["users"])
    first_disabled = {u["id"]: u["disabledAt"] for u in payload["users"]}
    other = await get_user(admin, c["id"])
    assert other is not None and other["status"] == "ACTIVE" and other["disabledAt"] is None

    # Idempotent: disabling again keeps the first disabledAt and records nothing new.
    payload = await disable(admin, a["id"], b["id"], c["id"])
    assert payload["userErrors"] == []
    again = {u["id"]: u for u in payload["users"]}
    assert again[a["id"]]["disabledAt"] == first_disabled[a["id"]]
    assert again[b["id"]]["disabledAt"] == first_disabled[b["id"]]
    assert again[c["id"]]["status"] == "DISABLED"
    assert await actions(admin, a["id"]) == ["user.disabled", "user.created"]
    assert await actions(admin, c["id"]) == ["user.disabled", "user.created"]

    # Enable clears disabledAt; an already active user is left alone.
    payload = await enable(admin, a["id"])
    assert payload["userErrors"] == []
    [enabled] = payload["users"]
    assert enabled["status"] == "ACTIVE" and enabled["disabledAt"] is None
    payload = await enable(admin, a["id"], b["id"])
    assert payload["userErrors"] == []
    assert [u["status"] for u in payload["users"]] == ["ACTIVE", "ACTIVE"]
    fresh = await get_user(admin, b["id"])
    assert fresh is not None and fresh["status"] == "ACTIVE" and fresh["disabledAt"] is None
    assert await actions(admin, a["id"]) == ["user.enabled", "user.disabled", "user.created"]
    assert await actions(admin, b["id"]) == ["user.enabled", "user.disabled", "user.created"]
    events = await audit(admin)
    assert {e["actor"] for e in events} == {"admin token"}


@pytest.mark.parametrize("mutation", ["disable", "enable"])
async def test_status_change_with_an_unknown_id_changes_nothing(
    admin: Api, other_admin: Api, db_url: str, mutation: str
) -> None:
    ana = await create_user(admin, "ana")
    bob = await create_user(admin, "bob")
    theirs = await create_user(other_admin, "zed")
    if mutation == "enable":
        await disable(admin, ana["id"], bob["id"])
        await disable(other_admin, theirs["id"])
    before = {u["id"]: await get_user(admin, u["id"]) for u in (ana, bob)}
    events_before = await counts(db_url)
    change = disable if mutation == "disable" else enable

    for unknown in (user_global_id(uuid.uuid4()), theirs["id"], "garbage"):
        payload = await change(admin, ana["id"], unknown, bob["id"])
        assert payload["users"] == []
        assert error_list(payload) == [(["ids", "1"], "NOT_FOUND")]

    assert {u["id"]: await get_user(admin, u["id"]) for u in (ana, bob)} == before
    assert await counts(db_url) == events_before
    theirs_now = await get_user(other_admin, theirs["id"])
    assert theirs_now is not None
    assert theirs_now["status"] == ("DISABLED" if mutation == "enable" else "ACTIVE")


# --- deleteUsers ---------------------------------------------------------------------------


async def test_delete_refuses_active_users(admin: Api, db_url: str) -> None:
    active = await create_user(admin, "ana")
    disabled = await create_user(admin, "bob", roles=[{"platform": "lcloud", "role": "student"}])
    await disable(admin, disabled["id"])
    before = await counts(db_url)

    payload = await delete(admin, active["id"])
    assert payload["deletedIds"] == []
    assert error_list(payload) == [(["ids", "0"], "USER_ACTIVE")]

    payload = await delete(admin, disabled["id"], active["id"])
    assert payload["deletedIds"] == []
    assert error_list(payload) == [(["ids", "1"], "USER_ACTIVE")]

    assert await counts(db_url) == before
    assert await get_user(admin, active["id"]) is not None
    kept = await get_user(admin, disabled["id"])
    assert kept is not None and role_set(kept) == {("learningcloud", "student")}
    assert await actions(admin, disabled["id"]) == ["user.disabled", "user.created"]


async def test_delete_unknown_id_is_not_found(admin: Api, other_admin: Api, db_url: str) -> None:
    bob = await create_user(admin, "bob")
    await disable(admin, bob["id"])
    theirs = await create_user(other_admin, "zed")
    await disable(other_admin, theirs["id"])
    for unknown in (user_global_id(uuid.uuid4()), theirs["id"], "garbage"):
        payload = await delete(admin, bob["id"], unknown)
        assert payload["deletedIds"] == []
        assert error_list(payload) == [(["ids", "1"], "NOT_FOUND")]
    assert await get_user(admin, bob["id"]) is not None
    assert await get_user(other_admin, theirs["id"]) is not None


async def test_delete_disabled_user_removes_personal_data(admin: Api, db_url: str) -> None:
    username, email = "zelda.quixote", "zq.private-mailbox@example.org"
    first, last, phone = "Zeldarina", "Quixotesca", "+34 699 123 987"
    zelda = await create_user(
        admin,
        username,
        email=email,
        firstName=first,
        lastName=last,
        officePhone=phone,
        externalId="EXT-ZQ-77",
        attributes={"badge": "ZQ-badge-991"},
        roles=[
            {"platform": "lcloud", "role": "student"},
            {"platform": "learningcloud", "role": "tutor"},
            {"platform": "contentcloud", "role": "reviewer"},
        ],
    )
    keep = await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "student"}])
    await update(admin, zelda["id"], location="Toboso", username="zelda.q")
    await update(admin, zelda["id"], username=username)
    await set_password(admin, zelda["id"], GOOD_PASSWORD)
    await disable(admin, zelda["id"])

    payload = await delete(admin, zelda["id"])
    assert payload["userErrors"] == []
    assert payload["deletedIds"] == [zelda["id"]]

    assert await get_user(admin, zelda["id"]) is None
    gone = await admin.data(f'{{ user(username: "{username}") {{ id }} }}')
    assert gone["user"] is None
    zid = row_id(zelda["id"])
    assert await fetch(db_url, "SELECT 1 FROM users WHERE id = $1", zid) == []
    assert await fetch(db_url, "SELECT 1 FROM user_roles WHERE user_id = $1", zid) == []
    # The other user is untouched.
    other = await get_user(admin, keep["id"])
    assert other is not None and role_set(other) == {("learningcloud", "student")}

    events = await audit(admin, zelda["id"])
    assert events[0]["action"] == "user.deleted"
    assert events[0]["targetId"] == zelda["id"]
    assert events[0]["actor"] == "admin token"
    ids = await platform_ids(admin)
    assert set(events[0]["data"]) == {"platforms"}
    assert sorted(events[0]["data"]["platforms"]) == sorted(
        [ids["learningcloud"], ids["contentcloud"]]
    )

    # Nothing personal anywhere in the events table, in any row.
    rows = await events_text(db_url)
    assert len(rows) >= 7
    secrets = [username, email, email.split("@")[0], first, last, phone, "EXT-ZQ-77"]
    secrets += ["ZQ-badge-991", "Toboso", GOOD_PASSWORD]
    for row in rows:
        for secret in secrets:
            assert secret.lower() not in row.lower(), (secret, row)
    for secret in (username, email, first, last):
        hits = await fetchval(
            db_url,
            "SELECT count(*) FROM events WHERE data::text ILIKE '%' || $1 || '%'",
            secret,
        )
        assert hits == 0

    # Deleting it again: it no longer exists.
    payload = await delete(admin, zelda["id"])
    assert error_list(payload) == [(["ids", "0"], "NOT_FOUND")]


async def test_delete_a_selection(admin: Api, db_url: str) -> None:
    users = [await create_user(admin, n) for n in ("ana", "bob", "cid")]
    await disable(admin, users[0]["id"], users[1]["id"])
    payload = await delete(admin, users[0]["id"], users[1]["id"], users[0]["id"])
    assert payload["userErrors"] == []
    assert sorted(payload["deletedIds"]) == sorted([users[0]["id"], users[1]["id"]])
    assert await fetchval(db_url, "SELECT count(*) FROM users") == 1
    for u in users[:2]:
        assert await actions(admin, u["id"]) == ["user.deleted", "user.disabled", "user.created"]
        assert (await audit(admin, u["id"]))[0]["data"] == {"platforms": []}


# --- setPassword ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("", "PASSWORD_TOO_SHORT"),
        ("a8#Kq2!vLm9@Xz4", "ACCEPTED"),  # exactly 15
        ("a8#Kq2!vLm9@Xz", "PASSWORD_TOO_SHORT"),  # 14
        ("y" * 3 + "q7" * 30 + "!", "ACCEPTED"),  # 64
        ("correct horse battery staple " * 4, "ACCEPTED"),  # 116
        ("violet staple orbit canyon " + "b7" * 114 + "c", "ACCEPTED"),  # 256
        ("b7" * 128 + "c", "PASSWORD_TOO_LONG"),  # 257
        ("éàüñçøåß€îôûëïÿœ", "ACCEPTED"),  # 16 characters, 33 bytes
        ("123456789987654321", "PASSWORD_TOO_COMMON"),
        ("1Q2W3E4R5T6Y7U8I9O0P", "PASSWORD_TOO_COMMON"),  # case does not help
        ("friend of emily", "PASSWORD_TOO_COMMON"),  # list entries may contain spaces
        # Long enough and in no list, yet guessed at once: words with digits, a sequence, a
        # keyboard walk, a repetition.
        ("password1234567890", "PASSWORD_TOO_WEAK"),
        ("123456789012345678", "PASSWORD_TOO_WEAK"),
        ("qwertyuiopasdfghjkl", "PASSWORD_TOO_WEAK"),
        ("é" * 16, "PASSWORD_TOO_WEAK"),
        ("b7" * 128, "PASSWORD_TOO_WEAK"),
        ("summer2024summer2024", "PASSWORD_TOO_WEAK"),
        ("my zorro.hidalgo secret", "PASSWORD_CONTAINS_IDENTIFIER"),
        ("MY ZORRO.HIDALGO SECRET", "PASSWORD_CONTAINS_IDENTIFIER"),
        ("xx-zh.mailbox@example.net-xx", "PASSWORD_CONTAINS_IDENTIFIER"),
        ("prefix zh.mailbox suffix", "PASSWORD_CONTAINS_IDENTIFIER"),  # the e-mail's local part
    ],
)
async def test_password_policy(admin: Api, db_url: str, password: str, code: str) -> None:
    user = await create_user(admin, "zorro.hidalgo", email="zh.mailbox@example.net")
    before = await get_user(admin, user["id"])
    payload = await set_password(admin, user["id"], password)
    stored = await password_hash(db_url, user["id"])
    if code == "ACCEPTED":
        assert payload["userErrors"] == []
        assert payload["user"]["hasPassword"] is True
        assert stored is not None and argon2.PasswordHasher().verify(stored, password)
        assert await actions(admin, user["id"]) == ["user.password_set", "user.created"]
    else:
        assert payload["user"] is None
        assert error_list(payload) == [(["password"], code)]
        assert stored is None
        after = await get_user(admin, user["id"])
        assert after == before
        assert after is not None and after["hasPassword"] is False
        assert await actions(admin, user["id"]) == ["user.created"]


async def test_a_weak_password_is_refused_saying_why(admin: Api) -> None:
    user = await create_user(admin, "ana")
    payload = await set_password(admin, user["id"], "aaaaaaaaaaaaaaaaaaaa")
    [error] = payload["userErrors"]
    assert error["code"] == "PASSWORD_TOO_WEAK"
    assert error["message"].startswith("This password is too easy to guess.")
    assert 'Repeats like "aaa" are easy to guess.' in error["message"]
    created = await admin.data(
        CREATE_USER,
        input={
            "username": "bea",
            "email": "bea@example.com",
            "firstName": "Bea",
            "lastName": "Tester",
            "password": "qwertyuiopasdfghjkl",
        },
    )
    assert [e["code"] for e in created["createUser"]["userErrors"]] == ["PASSWORD_TOO_WEAK"]
    assert created["createUser"]["userErrors"][0]["field"] == ["input", "password"]


async def test_every_long_common_password_is_refused(admin: Api) -> None:
    listed = common_passwords(15)
    assert len(listed) > 10
    user = await create_user(admin, "ana")
    for password in listed:
        payload = await set_password(admin, user["id"], password)
        assert error_list(payload) == [(["password"], "PASSWORD_TOO_COMMON")], password
    after = await get_user(admin, user["id"])
    assert after is not None and after["hasPassword"] is False


async def test_tenant_minimum_length_of_eight(admin: Api, db_url: str) -> None:
    user = await create_user(admin, "ana")
    payload = await set_password(admin, user["id"], "tq8#Lm2v")
    assert error_list(payload) == [(["password"], "PASSWORD_TOO_SHORT")]

    conn = await connect(db_url)
    try:
        assert await tenants.set_min_password_length(conn, "acme", 8) is not None
    finally:
        await conn.close()

    for password in ("tq8#Lm2v", "tq8#Lm2vR4w!z", "tq8#Lm2vR4w!zP"):  # 8, 13, 14
        payload = await set_password(admin, user["id"], password)
        assert payload["userErrors"] == [], password
        stored = await password_hash(db_url, user["id"])
        assert stored is not None and argon2.PasswordHasher().verify(stored, password)
    payload = await set_password(admin, user["id"], "tq8#Lm2")
    assert error_list(payload) == [(["password"], "PASSWORD_TOO_SHORT")]
    assert "8" in payload["userErrors"][0]["message"]
    # The blocklist still applies to short passwords.
    payload = await set_password(admin, user["id"], "password1")
    assert error_list(payload) == [(["password"], "PASSWORD_TOO_COMMON")]


async def test_set_password_stores_a_strong_argon2id_hash(admin: Api, db_url: str) -> None:
    user = await create_user(admin, "ana")
    payload = await set_password(admin, user["id"], GOOD_PASSWORD)
    assert payload["userErrors"] == []
    updated = payload["user"]
    assert updated["hasPassword"] is True
    changed_at = ts(updated["passwordChangedAt"])
    assert ts(updated["createdAt"]) < changed_at
    assert ts(updated["updatedAt"]) == changed_at

    stored = await password_hash(db_url, user["id"])
    assert stored is not None and stored.startswith("$argon2id$")
    hasher = argon2.PasswordHasher()
    assert hasher.verify(stored, GOOD_PASSWORD)
    with pytest.raises(VerifyMismatchError):
        hasher.verify(stored, GOOD_PASSWORD + "x")
    params = argon2.extract_parameters(stored)
    assert params.type is argon2.Type.ID
    assert params.memory_cost >= 19456
    assert params.time_cost >= 2
    assert params.salt_len >= 16

    fresh = await get_user(admin, user["id"])
    assert fresh is not None and fresh["hasPassword"] is True
    assert fresh["passwordChangedAt"] == updated["passwordChangedAt"]

    # A second password: a new salted hash, a later passwordChangedAt.
    second = "another quiet lantern afternoon"
    payload = await set_password(admin, user["id"], second)
    assert payload["userErrors"] == []
    assert ts(payload["user"]["passwordChangedAt"]) > changed_at
    restored = await password_hash(db_url, user["id"])
    assert restored is not None and restored != stored
    assert hasher.verify(restored, second)

    events = await audit(admin, user["id"])
    assert [e["action"] for e in events] == [
        "user.password_set",
        "user.password_set",
        "user.created",
    ]
    assert events[0]["data"] == {}
    for row in await events_text(db_url):
        assert GOOD_PASSWORD not in row and second not in row
        assert "$argon2" not in row


async def test_set_password_unknown_user(admin: Api, other_admin: Api, db_url: str) -> None:
    theirs = await create_user(other_admin, "zed")
    for unknown in (user_global_id(uuid.uuid4()), theirs["id"], "garbage"):
        payload = await set_password(admin, unknown, GOOD_PASSWORD)
        assert payload["user"] is None
        assert error_list(payload) == [(["id"], "NOT_FOUND")]
    assert await password_hash(db_url, theirs["id"]) is None


# --- the audit log -------------------------------------------------------------------------


async def test_audit_log_of_a_user_lifecycle(admin: Api, reader: Api, other_admin: Api) -> None:
    ana = await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "student"}])
    await update(admin, ana["id"], firstName="Anabel")
    await update(admin, ana["id"], roles=[{"platform": "lcloud", "role": "teacher"}])
    await update(
        admin, ana["id"], lastName="Nuñez", roles=[{"platform": "lcloud", "role": "tutor"}]
    )
    await disable(admin, ana["id"])
    await enable(admin, ana["id"])
    await set_password(admin, ana["id"], GOOD_PASSWORD)
    await disable(admin, ana["id"])
    await delete(admin, ana["id"])

    expected = [
        "user.deleted",
        "user.disabled",
        "user.password_set",
        "user.enabled",
        "user.disabled",
        "user.roles_changed",
        "user.updated",
        "user.roles_changed",
        "user.updated",
        "user.created",
    ]
    events = await audit(admin, ana["id"])
    assert [e["action"] for e in events] == expected
    assert all(e["actor"] == "admin token" for e in events)
    assert all(e["targetId"] == ana["id"] and e["targetType"] == "User" for e in events)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids, reverse=True)
    times = [ts(e["createdAt"]) for e in events]
    assert times == sorted(times, reverse=True)

    # A read token may read the log; another tenant sees none of it.
    assert await audit(reader, ana["id"]) == events
    assert await audit(other_admin) == []
    assert await audit(other_admin, ana["id"]) == []


async def test_audit_log_pages_without_gaps_or_repeats(admin: Api) -> None:
    users = [await create_user(admin, n) for n in ("ana", "bob", "cid")]
    for i in range(3):
        for u in users:
            await update(admin, u["id"], location=f"Office {i}")
    await disable(admin, *(u["id"] for u in users))  # one event per user
    everything = await audit(admin)
    assert len(everything) == 3 * 5

    for size in (1, 4, 7):
        seen: list[dict[str, Any]] = []
        after = None
        for _ in range(100):
            data = await admin.data(AUDIT, first=size, after=after)
            connection = data["auditEvents"]
            page = [e["node"] for e in connection["edges"]]
            assert len(page) <= size
            seen += page
            assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
            if not connection["pageInfo"]["hasNextPage"]:
                break
            assert len(page) == size
            after = connection["pageInfo"]["endCursor"]
            assert after == connection["edges"][-1]["cursor"]
        assert seen == everything, size

    # Paging one user's events.
    bob_events = await audit(admin, users[1]["id"])
    assert [e["action"] for e in bob_events] == ["user.disabled"] + ["user.updated"] * 3 + [
        "user.created"
    ]
    first = await admin.data(AUDIT, first=2, userId=users[1]["id"])
    rest = await admin.data(
        AUDIT,
        first=10,
        after=first["auditEvents"]["pageInfo"]["endCursor"],
        userId=users[1]["id"],
    )
    paged = [e["node"] for e in first["auditEvents"]["edges"] + rest["auditEvents"]["edges"]]
    assert paged == bob_events
    assert rest["auditEvents"]["pageInfo"]["hasNextPage"] is False


# --- one transaction for the change and its event ------------------------------------------

REFUSE_EVENTS = """
CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'events are refused for this test'; END $$;
CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW
EXECUTE FUNCTION refuse_events();
"""


async def test_a_change_whose_event_fails_is_rolled_back(admin: Api, db_url: str) -> None:
    """When the event cannot be written, the change is not made either."""
    ana = await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "student"}])
    bob = await create_user(admin, "bob")
    await disable(admin, bob["id"])
    before = {u["id"]: await get_user(admin, u["id"]) for u in (ana, bob)}
    before_counts = await counts(db_url)

    conn = await connect(db_url)
    try:
        await conn.execute(REFUSE_EVENTS)
    finally:
        await conn.close()

    attempts = [
        (CREATE, {"input": base_input("cid", roles=[{"platform": "lcloud", "role": "tutor"}])}),
        (UPDATE, {"id": ana["id"], "input": {"firstName": "Changed"}}),
        (UPDATE, {"id": ana["id"], "input": {"roles": []}}),
        (DISABLE, {"ids": [ana["id"]]}),
        (ENABLE, {"ids": [bob["id"]]}),
        (SET_PASSWORD, {"id": ana["id"], "password": GOOD_PASSWORD}),
        (DELETE, {"ids": [bob["id"]]}),
    ]
    for query, variables in attempts:
        body = await admin(query, **variables)
        assert body.get("errors"), (query, body)

    assert {u["id"]: await get_user(admin, u["id"]) for u in (ana, bob)} == before
    assert await counts(db_url) == before_counts
    assert await password_hash(db_url, ana["id"]) is None
