"""`nodes(ids:)`: many objects by global id, in order, null for what the caller cannot see."""

import base64
import uuid

from tests.conftest import Api, create_user

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) { __typename id ... on User { username } ... on Platform { key } }
}
"""


async def test_nodes_keeps_order_across_types(admin: Api) -> None:
    ana = await create_user(admin, "ana")
    bo = await create_user(admin, "bo")
    platforms = (await admin.data("{ platforms { id key } }"))["platforms"]
    lc = next(p for p in platforms if p["key"] == "learningcloud")
    ids = [bo["id"], lc["id"], ana["id"], bo["id"]]
    nodes = (await admin.data(NODES, ids=ids))["nodes"]
    assert [(n["__typename"], n["id"]) for n in nodes] == [
        ("User", bo["id"]),
        ("Platform", lc["id"]),
        ("User", ana["id"]),
        ("User", bo["id"]),
    ]
    assert [n.get("username") or n.get("key") for n in nodes] == [
        "bo",
        "learningcloud",
        "ana",
        "bo",
    ]


async def test_nodes_are_null_for_unknown_malformed_and_foreign_ids(
    admin: Api, other_admin: Api
) -> None:
    mine = await create_user(admin, "mine")
    theirs = await create_user(other_admin, "theirs")
    ids = [
        theirs["id"],
        base64.b64encode(f"User:{uuid.uuid4()}".encode()).decode(),
        "not a global id",
        base64.b64encode(b"Job:00000000-0000-0000-0000-000000000000").decode(),
        base64.b64encode(b"Nope:1").decode(),
        mine["id"],
    ]
    body = await admin(NODES, ids=ids)
    assert "errors" not in body, body
    nodes = body["data"]["nodes"]
    assert nodes[:5] == [None] * 5
    assert nodes[5]["id"] == mine["id"]
