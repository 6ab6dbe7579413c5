"""Platforms through the GraphQL endpoint: the defaults of a new tenant, and the external apps an
admin registers, changes and deletes."""

import base64
from typing import Any

from db.pool import connect
from tests.conftest import Api, create_user

PLATFORMS = "{ platforms { id key aliases name kind roles webhookUrl } }"

CREATE_PLATFORM = """
mutation($input: CreatePlatformInput!) {
  createPlatform(input: $input) {
    platform { id key aliases name kind roles webhookUrl }
    webhookSecret
    userErrors { field message code }
  }
}
"""

UPDATE_PLATFORM = """
mutation($id: ID!, $input: UpdatePlatformInput!) {
  updatePlatform(id: $id, input: $input) {
    platform { id key aliases name kind roles webhookUrl }
    webhookSecret
    userErrors { field message code }
  }
}
"""

DELETE_PLATFORM = """
mutation($id: ID!) {
  deletePlatform(id: $id) { deletedId userErrors { field message code } }
}
"""

UPDATE_USER_ROLES = """
mutation($id: ID!, $roles: [PlatformRoleInput!]) {
  updateUser(id: $id, input: {roles: $roles}) {
    user { id roles { role platform { key } } }
    userErrors { field message code }
  }
}
"""

USER_ROLES = "query($id: ID!) { node(id: $id) { ... on User { roles { role platform { key } } } } }"

AUDIT = """
{ auditEvents(first: 100) { edges { node { action targetType targetId data actor } } } }
"""


async def platforms_by_key(api: Api) -> dict[str, dict[str, Any]]:
    data = await api.data(PLATFORMS)
    return {p["key"]: p for p in data["platforms"]}


async def create_platform(api: Api, **fields: Any) -> dict[str, Any]:
    """The createPlatform payload; the input defaults to a valid external app."""
    payload = {"key": "crm", "name": "CRM", "roles": ["viewer", "agent"], **fields}
    data = await api.data(CREATE_PLATFORM, input=payload)
    result: dict[str, Any] = data["createPlatform"]
    return result


async def created(api: Api, **fields: Any) -> dict[str, Any]:
    result = await create_platform(api, **fields)
    assert result["userErrors"] == [], result["userErrors"]
    platform: dict[str, Any] = result["platform"]
    return platform


async def update_platform(api: Api, platform_id: str, **fields: Any) -> dict[str, Any]:
    data = await api.data(UPDATE_PLATFORM, id=platform_id, input=fields)
    result: dict[str, Any] = data["updatePlatform"]
    return result


async def delete_platform(api: Api, platform_id: str) -> dict[str, Any]:
    data = await api.data(DELETE_PLATFORM, id=platform_id)
    result: dict[str, Any] = data["deletePlatform"]
    return result


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["userErrors"]]


def role_pairs(user: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["platform"]["key"], r["role"]) for r in user["roles"]}


async def audit_actions(api: Api) -> list[dict[str, Any]]:
    data = await api.data(AUDIT)
    return [e["node"] for e in data["auditEvents"]["edges"]]


# --- the platforms a tenant starts with ------------------------------------------------------


async def test_new_tenant_has_learningcloud_and_contentcloud(admin: Api) -> None:
    platforms = await platforms_by_key(admin)
    assert set(platforms) == {"learningcloud", "contentcloud"}
    lc = platforms["learningcloud"]
    assert lc["aliases"] == ["lcloud"]
    assert lc["kind"] == "LEARNING_CLOUD"
    assert lc["name"] == "LearningCloud"
    assert set(lc["roles"]) == {"student", "teacher", "tutor", "manager", "administrator"}
    cc = platforms["contentcloud"]
    assert cc["aliases"] == []
    assert cc["kind"] == "CONTENT_CLOUD"
    assert set(cc["roles"]) == {"author", "editor", "reviewer", "publisher", "administrator"}
    assert lc["webhookUrl"] is None and cc["webhookUrl"] is None


async def test_read_token_lists_platforms(reader: Api) -> None:
    assert set(await platforms_by_key(reader)) == {"learningcloud", "contentcloud"}


async def test_platforms_node_round_trip(admin: Api) -> None:
    lc = (await platforms_by_key(admin))["learningcloud"]
    data = await admin.data(
        "query($id: ID!) { node(id: $id) { id ... on Platform { key kind } } }", id=lc["id"]
    )
    assert data["node"] == {"id": lc["id"], "key": "learningcloud", "kind": "LEARNING_CLOUD"}


# --- createPlatform --------------------------------------------------------------------------


async def test_create_platform_without_webhook_has_no_secret(admin: Api, db_url: str) -> None:
    result = await create_platform(admin, key="crm", name="CRM", aliases=["sales"])
    assert result["userErrors"] == []
    assert result["webhookSecret"] is None
    platform = result["platform"]
    assert platform["key"] == "crm"
    assert platform["aliases"] == ["sales"]
    assert platform["name"] == "CRM"
    assert platform["kind"] == "EXTERNAL_APP"
    assert platform["roles"] == ["viewer", "agent"]
    assert platform["webhookUrl"] is None
    listed = await platforms_by_key(admin)
    assert set(listed) == {"learningcloud", "contentcloud", "crm"}
    assert listed["crm"] == platform
    conn = await connect(db_url)
    try:
        stored = await conn.fetchrow(
            "SELECT webhook_url, webhook_secret FROM platforms WHERE key = 'crm'"
        )
    finally:
        await conn.close()
    assert stored is not None
    assert stored["webhook_url"] is None and stored["webhook_secret"] is None


async def test_create_platform_with_webhook_returns_secret_once(admin: Api, db_url: str) -> None:
    result = await create_platform(admin, webhookUrl="https://crm.example.com/hooks/roster")
    assert result["userErrors"] == []
    secret = result["webhookSecret"]
    assert isinstance(secret, str) and secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    assert 24 <= len(key) <= 64
    assert result["platform"]["webhookUrl"] == "https://crm.example.com/hooks/roster"

    # The secret is kept for signing, but never shown again: no field of Platform carries it.
    body = await admin("{ platforms { key webhookSecret } }")
    assert "errors" in body
    listed = await platforms_by_key(admin)
    assert secret not in repr(listed)
    # An update that leaves the webhook alone does not hand it out again.
    again = await update_platform(admin, result["platform"]["id"], name="CRM 2")
    assert again["userErrors"] == []
    assert again["webhookSecret"] is None
    conn = await connect(db_url)
    try:
        stored = await conn.fetchval("SELECT webhook_secret FROM platforms WHERE key = 'crm'")
    finally:
        await conn.close()
    assert stored == secret


async def test_two_platforms_get_different_secrets(admin: Api) -> None:
    a = await create_platform(admin, key="a-app", webhookUrl="https://a.example.com/h")
    b = await create_platform(admin, key="b-app", webhookUrl="https://b.example.com/h")
    assert a["webhookSecret"] and b["webhookSecret"]
    assert a["webhookSecret"] != b["webhookSecret"]


async def test_create_platform_normalises_names(admin: Api) -> None:
    platform = await created(
        admin, key=" CRM ", aliases=["Sales", "sales", "crm"], roles=["Viewer", "viewer", "x.y"]
    )
    assert platform["key"] == "crm"
    # Duplicates go, and an alias equal to the key is dropped.
    assert platform["aliases"] == ["sales"]
    assert platform["roles"] == ["viewer", "x.y"]


async def test_invalid_key_is_a_user_error(admin: Api) -> None:
    for key in ("", "-crm", "has space", "crm!", "a" * 64, "ünï"):
        result = await create_platform(admin, key=key)
        assert result["platform"] is None
        assert codes(result) == ["INVALID_NAME"], (key, result)
        assert result["userErrors"][0]["field"] == ["input", "key"]
    assert set(await platforms_by_key(admin)) == {"learningcloud", "contentcloud"}


async def test_invalid_alias_is_a_user_error(admin: Api) -> None:
    result = await create_platform(admin, aliases=["ok", "not ok"])
    assert result["platform"] is None
    assert codes(result) == ["INVALID_NAME"]
    assert result["userErrors"][0]["field"] == ["input", "aliases", "1"]


async def test_invalid_role_names_are_user_errors(admin: Api) -> None:
    result = await create_platform(admin, roles=["viewer", "bad role", "", "-x"])
    assert result["platform"] is None
    assert codes(result) == ["INVALID_NAME"] * 3
    assert [e["field"] for e in result["userErrors"]] == [
        ["input", "roles", "1"],
        ["input", "roles", "2"],
        ["input", "roles", "3"],
    ]
    assert set(await platforms_by_key(admin)) == {"learningcloud", "contentcloud"}


async def test_empty_roles_is_a_user_error(admin: Api) -> None:
    result = await create_platform(admin, roles=[])
    assert result["platform"] is None
    assert codes(result) == ["REQUIRED"]
    assert result["userErrors"][0]["field"] == ["input", "roles"]


async def test_blank_name_is_a_user_error(admin: Api) -> None:
    result = await create_platform(admin, name="   ")
    assert result["platform"] is None
    assert codes(result) == ["REQUIRED"]
    assert result["userErrors"][0]["field"] == ["input", "name"]


async def test_non_http_webhook_url_is_a_user_error(admin: Api) -> None:
    for url in ("ftp://crm.example.com/h", "javascript:alert(1)", "crm.example.com", "https://"):
        result = await create_platform(admin, webhookUrl=url)
        assert result["platform"] is None, url
        assert result["webhookSecret"] is None
        assert codes(result) == ["INVALID_URL"], (url, result)
        assert result["userErrors"][0]["field"] == ["input", "webhookUrl"]
    assert set(await platforms_by_key(admin)) == {"learningcloud", "contentcloud"}


async def test_several_errors_at_once(admin: Api) -> None:
    result = await create_platform(admin, key="Bad Key", roles=[], webhookUrl="mailto:x@y")
    assert sorted(codes(result)) == ["INVALID_NAME", "INVALID_URL", "REQUIRED"]


async def test_name_taken_by_key_or_alias(admin: Api) -> None:
    await created(admin, key="crm", aliases=["sales"])
    clashes = [
        {"key": "learningcloud"},  # another platform's key
        {"key": "lcloud"},  # another platform's alias
        {"key": "crm"},
        {"key": "sales"},
        {"key": "fresh", "aliases": ["contentcloud"]},  # an alias that is another's key
        {"key": "fresh", "aliases": ["LCloud"]},  # an alias that is another's alias
        {"key": "fresh", "aliases": ["sales"]},
    ]
    for fields in clashes:
        result = await create_platform(admin, **fields)
        assert result["platform"] is None, fields
        assert codes(result) == ["PLATFORM_NAME_TAKEN"], (fields, result)
    assert set(await platforms_by_key(admin)) == {"learningcloud", "contentcloud", "crm"}


async def test_names_are_per_tenant(admin: Api, other_admin: Api) -> None:
    mine = await created(admin, key="crm")
    theirs = await created(other_admin, key="crm")
    assert mine["id"] != theirs["id"]
    assert set(await platforms_by_key(other_admin)) == {"learningcloud", "contentcloud", "crm"}
    # Another tenant's platform cannot be changed or deleted.
    result = await update_platform(other_admin, mine["id"], name="Hijacked")
    assert codes(result) == ["NOT_FOUND"]
    result = await delete_platform(other_admin, mine["id"])
    assert codes(result) == ["NOT_FOUND"]
    assert (await platforms_by_key(admin))["crm"]["name"] == "CRM"


async def test_read_token_cannot_change_platforms(admin: Api, reader: Api) -> None:
    body = await reader(CREATE_PLATFORM, input={"key": "crm", "name": "CRM", "roles": ["x"]})
    assert body.get("errors")
    assert not (body.get("data") or {}).get("createPlatform")
    lc = (await platforms_by_key(admin))["learningcloud"]
    body = await reader(UPDATE_PLATFORM, id=lc["id"], input={"name": "Mine"})
    assert body.get("errors")
    assert set(await platforms_by_key(admin)) == {"learningcloud", "contentcloud"}
    assert (await platforms_by_key(admin))["learningcloud"]["name"] == "LearningCloud"


async def test_users_get_roles_on_a_new_platform_by_key_and_alias(admin: Api) -> None:
    await created(admin, key="crm", aliases=["sales"], roles=["viewer", "agent"])
    by_key = await create_user(admin, "ana", roles=[{"platform": "crm", "role": "agent"}])
    assert role_pairs(by_key) == {("crm", "agent")}
    by_alias = await create_user(
        admin,
        "bob",
        roles=[{"platform": "SALES", "role": "viewer"}, {"platform": "lcloud", "role": "student"}],
    )
    assert role_pairs(by_alias) == {("crm", "viewer"), ("learningcloud", "student")}
    # A role the platform does not accept is refused.
    data = await admin.data(
        UPDATE_USER_ROLES, id=by_key["id"], roles=[{"platform": "crm", "role": "teacher"}]
    )
    assert codes(data["updateUser"]) == ["UNKNOWN_ROLE"]


# --- updatePlatform --------------------------------------------------------------------------


async def test_update_changes_name_aliases_roles_and_webhook(admin: Api) -> None:
    platform = await created(admin, key="crm", aliases=["sales"], roles=["viewer", "agent"])
    result = await update_platform(
        admin,
        platform["id"],
        name="Customer Relations",
        aliases=["customers", "clients"],
        roles=["viewer", "agent", "supervisor"],
    )
    assert result["userErrors"] == []
    updated = result["platform"]
    assert updated["id"] == platform["id"]
    assert updated["key"] == "crm"
    assert updated["name"] == "Customer Relations"
    assert updated["aliases"] == ["customers", "clients"]
    assert updated["roles"] == ["viewer", "agent", "supervisor"]
    assert updated["kind"] == "EXTERNAL_APP"
    assert (await platforms_by_key(admin))["crm"] == updated

    # The old alias is free again, the new ones name the platform.
    user = await create_user(admin, "ana", roles=[{"platform": "clients", "role": "supervisor"}])
    assert role_pairs(user) == {("crm", "supervisor")}
    await created(admin, key="sales")

    # Adding a webhook hands out a new secret; removing it with null clears the URL.
    result = await update_platform(admin, platform["id"], webhookUrl="https://crm.example.com/h")
    assert result["userErrors"] == []
    assert result["platform"]["webhookUrl"] == "https://crm.example.com/h"
    assert result["webhookSecret"] and result["webhookSecret"].startswith("whsec_")
    result = await update_platform(admin, platform["id"], webhookUrl=None)
    assert result["userErrors"] == []
    assert result["platform"]["webhookUrl"] is None
    assert result["platform"]["name"] == "Customer Relations"


async def test_update_validates_like_create(admin: Api) -> None:
    platform = await created(admin)
    for fields, code in [
        ({"roles": []}, "REQUIRED"),
        ({"roles": ["Bad Role"]}, "INVALID_NAME"),
        ({"aliases": ["bad alias"]}, "INVALID_NAME"),
        ({"webhookUrl": "ftp://x.example.com"}, "INVALID_URL"),
        ({"aliases": ["lcloud"]}, "PLATFORM_NAME_TAKEN"),
        ({"key": "contentcloud"}, "PLATFORM_NAME_TAKEN"),
    ]:
        result = await update_platform(admin, platform["id"], **fields)
        assert result["platform"] is None, fields
        assert codes(result) == [code], (fields, result)
    assert (await platforms_by_key(admin))["crm"] == platform


async def test_update_keeping_own_names_is_not_a_clash(admin: Api) -> None:
    platform = await created(admin, key="crm", aliases=["sales"])
    result = await update_platform(admin, platform["id"], key="crm", aliases=["sales", "deals"])
    assert result["userErrors"] == []
    assert result["platform"]["aliases"] == ["sales", "deals"]


async def test_update_refuses_removing_a_role_in_use(admin: Api) -> None:
    platform = await created(admin, roles=["viewer", "agent", "unused"])
    user = await create_user(admin, "ana", roles=[{"platform": "crm", "role": "agent"}])
    result = await update_platform(admin, platform["id"], roles=["viewer"])
    assert result["platform"] is None
    assert codes(result) == ["ROLE_IN_USE"]
    assert "agent" in result["userErrors"][0]["message"]
    assert "unused" not in result["userErrors"][0]["message"]
    assert (await platforms_by_key(admin))["crm"]["roles"] == ["viewer", "agent", "unused"]

    # Unused roles can go.
    result = await update_platform(admin, platform["id"], roles=["viewer", "agent"])
    assert result["userErrors"] == []
    assert result["platform"]["roles"] == ["viewer", "agent"]

    # Once nobody holds it, the role can be removed too.
    data = await admin.data(
        UPDATE_USER_ROLES, id=user["id"], roles=[{"platform": "crm", "role": "viewer"}]
    )
    assert data["updateUser"]["userErrors"] == []
    result = await update_platform(admin, platform["id"], roles=["viewer"])
    assert result["userErrors"] == []
    assert result["platform"]["roles"] == ["viewer"]


async def test_update_built_in_platform_roles_in_use(admin: Api) -> None:
    lc = (await platforms_by_key(admin))["learningcloud"]
    await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "tutor"}])
    result = await update_platform(admin, lc["id"], roles=["student", "teacher"])
    assert codes(result) == ["ROLE_IN_USE"]
    result = await update_platform(admin, lc["id"], roles=["student", "teacher", "tutor"])
    assert result["userErrors"] == []
    assert result["platform"]["kind"] == "LEARNING_CLOUD"


async def test_update_unknown_id(admin: Api) -> None:
    for bad in ("nonsense", "UGxhdGZvcm06bm9wZQ=="):
        result = await update_platform(admin, bad, name="X")
        assert codes(result) == ["NOT_FOUND"]


# --- deletePlatform --------------------------------------------------------------------------


async def test_delete_refuses_built_in_platforms(admin: Api) -> None:
    for key in ("learningcloud", "contentcloud"):
        platform = (await platforms_by_key(admin))[key]
        result = await delete_platform(admin, platform["id"])
        assert result["deletedId"] is None
        assert codes(result) == ["PLATFORM_BUILT_IN"]
    assert set(await platforms_by_key(admin)) == {"learningcloud", "contentcloud"}


async def test_delete_external_app_with_its_roles(admin: Api, db_url: str) -> None:
    platform = await created(admin, key="crm", roles=["viewer", "agent"])
    ana = await create_user(
        admin,
        "ana",
        roles=[{"platform": "crm", "role": "agent"}, {"platform": "lcloud", "role": "student"}],
    )
    bob = await create_user(admin, "bob", roles=[{"platform": "crm", "role": "viewer"}])
    result = await delete_platform(admin, platform["id"])
    assert result == {"deletedId": platform["id"], "userErrors": []}
    assert set(await platforms_by_key(admin)) == {"learningcloud", "contentcloud"}

    # The users stay, without the roles they had on it.
    data = await admin.data(USER_ROLES, id=ana["id"])
    assert role_pairs(data["node"]) == {("learningcloud", "student")}
    data = await admin.data(USER_ROLES, id=bob["id"])
    assert data["node"]["roles"] == []
    conn = await connect(db_url)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM user_roles r JOIN platforms p ON p.id = r.platform_id "
            "WHERE p.key = 'crm'"
        )
        platforms_left = await conn.fetchval("SELECT count(*) FROM platforms WHERE key = 'crm'")
    finally:
        await conn.close()
    assert left == 0 and platforms_left == 0

    # Its key is free again; the new platform has nothing of the old one.
    again = await created(admin, key="crm")
    assert again["id"] != platform["id"]
    data = await admin.data(USER_ROLES, id=bob["id"])
    assert data["node"]["roles"] == []

    # Deleting it twice: not found.
    result = await delete_platform(admin, platform["id"])
    assert result["deletedId"] is None
    assert codes(result) == ["NOT_FOUND"]


# --- audit -----------------------------------------------------------------------------------


async def test_platform_changes_are_audited(admin: Api) -> None:
    platform = await created(admin, key="crm")
    await update_platform(admin, platform["id"], name="CRM 2", roles=["viewer", "agent", "boss"])
    await create_user(admin, "ana", roles=[{"platform": "crm", "role": "boss"}])
    await delete_platform(admin, platform["id"])
    events = [e for e in await audit_actions(admin) if e["targetType"] == "Platform"]
    # Newest first.
    assert [e["action"] for e in events] == [
        "platform.deleted",
        "platform.updated",
        "platform.created",
    ]
    assert all(e["targetId"] == platform["id"] for e in events)
    assert all(e["actor"] == "admin token" for e in events)
    deleted, updated, created_event = events
    assert created_event["data"] == {"key": "crm"}
    assert sorted(updated["data"]["changed"]) == ["name", "roles"]
    assert deleted["data"] == {"key": "crm", "usersWithRoles": 1}


async def test_refused_and_empty_changes_are_not_audited(admin: Api) -> None:
    await create_platform(admin, key="bad key")
    lc = (await platforms_by_key(admin))["learningcloud"]
    await delete_platform(admin, lc["id"])
    platform = await created(admin, key="crm")
    # An update that changes nothing writes no event.
    result = await update_platform(admin, platform["id"], name="CRM")
    assert result["userErrors"] == []
    actions = [e["action"] for e in await audit_actions(admin) if e["targetType"] == "Platform"]
    assert actions == ["platform.created"]


async def test_audit_is_per_tenant(admin: Api, other_admin: Api) -> None:
    await created(admin, key="crm")
    theirs = [e for e in await audit_actions(other_admin) if e["targetType"] == "Platform"]
    assert theirs == []


async def test_platform_names_that_a_csv_header_would_confuse_are_refused(admin: Api) -> None:
    create = """mutation($input: CreatePlatformInput!) { createPlatform(input: $input) {
        platform { key } userErrors { code message } } }"""
    made = await admin.data(create, input={"key": "my-app", "name": "Mine", "roles": ["user"]})
    assert made["createPlatform"]["userErrors"] == []
    for key, aliases in (("myapp", []), ("other", ["My_App"]), ("status", []), ("x", ["e-mail"])):
        data = await admin.data(
            create, input={"key": key, "name": "X", "roles": ["user"], "aliases": aliases}
        )
        assert data["createPlatform"]["platform"] is None, key
        assert [e["code"] for e in data["createPlatform"]["userErrors"]] == [
            "PLATFORM_NAME_TAKEN"
        ], key
