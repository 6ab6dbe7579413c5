"""How many ids an operation takes at once: `nodes(ids:)` at most 100, refused with a code
whether the list is inline or in a variable; a selection of users (enable, disable, delete,
welcome e-mails, exports, a filter's `ids`) at most 1,000, refused with a userError (a GraphQL
error for the `users` query's filter) and nothing changed."""

import base64
import uuid
from typing import Any

import pytest

from resolvers.id_lists import MAX_NODE_IDS, MAX_SELECTED_IDS
from tests.conftest import Api, create_user

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# The look-up: every user's roles and their platforms.
NODES = """query($ids: [ID!]!) {
  nodes(ids: $ids) { id ... on User { username roles { platform { key } } } }
}"""


def unknown_ids(count: int) -> list[str]:
    return [base64.b64encode(f"User:{uuid.uuid4()}".encode()).decode() for _ in range(count)]


def inline_nodes(ids: list[str]) -> str:
    listed = ", ".join(f'"{i}"' for i in ids)
    return f"{{ nodes(ids: [{listed}]) {{ id ... on User {{ username }} }} }}"


async def test_nodes_takes_a_hundred_ids_from_a_variable(reader: Api, admin: Api) -> None:
    ana = await create_user(admin, "ana")
    ids = [ana["id"], *unknown_ids(MAX_NODE_IDS - 1)]
    nodes = (await reader.data(NODES, ids=ids))["nodes"]
    assert len(nodes) == MAX_NODE_IDS
    assert nodes[0]["username"] == "ana"


async def test_nodes_refuses_more_ids_from_a_variable(reader: Api) -> None:
    # Run once, the document is one Roster has validated: it takes the fast path from now on.
    assert (await reader.data(NODES, ids=unknown_ids(1)))["nodes"] == [None]
    body = await reader(NODES, ids=unknown_ids(MAX_NODE_IDS + 1))
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_IDS"
    assert "101 ids given; at most 100" in error["message"]


async def test_each_alias_of_nodes_is_refused(reader: Api) -> None:
    document = """query($ids: [ID!]!) {
      a: nodes(ids: $ids) { id } b: nodes(ids: $ids) { id } c: nodes(ids: $ids) { id }
    }"""
    body = await reader(document, ids=unknown_ids(MAX_NODE_IDS + 1))
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"TOO_MANY_IDS"}


async def test_nodes_refuses_a_long_inline_list_before_it_runs(reader: Api) -> None:
    response = await reader.post(
        inline_nodes(unknown_ids(MAX_NODE_IDS + 1)), accept=GRAPHQL_RESPONSE_JSON
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_IDS", "count": 101, "limit": 100}
    # An inline list of the most ids it takes runs.
    nodes = (await reader.data(inline_nodes(unknown_ids(MAX_NODE_IDS))))["nodes"]
    assert nodes == [None] * MAX_NODE_IDS


USERS = "query($ids: [ID!]) { users(filter: {ids: $ids}) { totalCount } }"
ENABLE = "mutation($ids: [ID!]!) { enableUsers(ids: $ids) { userErrors { field code message } } }"
DISABLE = "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { field code message } } }"
DELETE = """mutation($ids: [ID!]!) {
  deleteUsers(ids: $ids) { deletedIds userErrors { field code message } }
}"""
WELCOME = """mutation($ids: [ID!]!) {
  sendWelcomeEmail(ids: $ids) { job { id } userErrors { field code message } }
}"""
EXPORT = """mutation($ids: [ID!]) {
  startExport(ids: $ids) { job { id } userErrors { field code message } }
}"""
STATUS = "query($id: ID!) { user(id: $id) { status } }"


def refused_as_too_many(payload: dict[str, Any]) -> None:
    (error,) = payload["userErrors"]
    assert error["field"] == ["ids"]
    assert error["code"] == "TOO_MANY_IDS"
    assert f"{MAX_SELECTED_IDS + 1:,} ids given; at most {MAX_SELECTED_IDS:,}" in error["message"]


async def status_of(api: Api, user: dict[str, Any]) -> str | None:
    found = (await api.data(STATUS, id=user["id"]))["user"]
    return found["status"] if found else None


async def test_status_changes_take_a_thousand_ids(admin: Api) -> None:
    ana = await create_user(admin, "ana")
    over, within = [ana["id"]] * (MAX_SELECTED_IDS + 1), [ana["id"]] * MAX_SELECTED_IDS
    refused_as_too_many((await admin.data(DISABLE, ids=over))["disableUsers"])
    assert await status_of(admin, ana) == "ACTIVE"
    assert (await admin.data(DISABLE, ids=within))["disableUsers"]["userErrors"] == []
    assert await status_of(admin, ana) == "DISABLED"
    refused_as_too_many((await admin.data(ENABLE, ids=over))["enableUsers"])
    assert await status_of(admin, ana) == "DISABLED"
    refused_as_too_many((await admin.data(DELETE, ids=over))["deleteUsers"])
    assert await status_of(admin, ana) == "DISABLED"
    deleted = (await admin.data(DELETE, ids=within))["deleteUsers"]
    assert deleted == {"deletedIds": [ana["id"]], "userErrors": []}
    assert await status_of(admin, ana) is None


@pytest.mark.parametrize(
    ("document", "name"),
    [(WELCOME, "sendWelcomeEmail"), (EXPORT, "startExport")],
    ids=["sendWelcomeEmail", "startExport"],
)
async def test_jobs_take_a_thousand_ids(admin: Api, document: str, name: str) -> None:
    ana = await create_user(admin, "ana")
    payload = (await admin.data(document, ids=[ana["id"]] * (MAX_SELECTED_IDS + 1)))[name]
    refused_as_too_many(payload)
    assert payload["job"] is None
    payload = (await admin.data(document, ids=[ana["id"]] * MAX_SELECTED_IDS))[name]
    assert payload["userErrors"] == [] and payload["job"]["id"]


async def test_a_filter_takes_a_thousand_ids(reader: Api, admin: Api) -> None:
    ana = await create_user(admin, "ana")
    body = await reader(USERS, ids=[ana["id"]] * (MAX_SELECTED_IDS + 1))
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_IDS"
    data = await reader.data(USERS, ids=[ana["id"]] * MAX_SELECTED_IDS)
    assert data["users"]["totalCount"] == 1


async def test_a_search_longer_than_a_search_box_holds_is_refused(reader: Api) -> None:
    # 500,000 characters in one word ran a trigram query for minutes; the refusal comes first.
    from resolvers.search import MAX_SEARCH_LENGTH

    document = "query($s: String) { users(search: $s) { totalCount } }"
    fits = await reader(document, s="a" * MAX_SEARCH_LENGTH)
    assert "errors" not in fits, fits
    for text in ("a" * (MAX_SEARCH_LENGTH + 1), "k" * 500_000):
        (error,) = (await reader(document, s=text))["errors"]
        assert error["extensions"]["code"] == "SEARCH_TOO_LONG"
    export = """mutation($s: String) {
      startExport(search: $s) { job { id } userErrors { field code } } }"""
    payload = (await reader.data(export, s="k" * 500_000))["startExport"]
    assert payload == {
        "job": None,
        "userErrors": [{"field": ["search"], "code": "SEARCH_TOO_LONG"}],
    }
