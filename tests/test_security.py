"""Security through the real endpoint: authentication, read-only tokens, tenant isolation,
query limits, masked errors, GraphQL over HTTP status codes, WebSocket auth, health probes."""

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import Lexer, Source, TokenKind
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from strawberry import relay

from db import tokens
from db.pool import connect
from roster.app import create_app
from roster.settings import Settings
from tests.conftest import Api, Tenant, create_user

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
PASSWORD = "Quiet-Lantern-Orbit-4821"


def gid(type_name: str, row_id: Any) -> str:
    return str(relay.GlobalID(type_name, str(row_id)))


def uuid_of(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


def missing(type_name: str = "User") -> str:
    """A well-formed global id of no row at all."""
    return gid(type_name, uuid.uuid4())


async def snapshot(db_url: str, tenant_id: uuid.UUID | None = None) -> dict[str, list[Any]]:
    """Every row a mutation could touch (of one tenant, or of all), comparable by ==."""
    where = "" if tenant_id is None else "WHERE tenant_id = $1"
    args = [] if tenant_id is None else [tenant_id]
    conn = await connect(db_url)
    try:
        return {
            "users": [
                dict(r) for r in await conn.fetch(f"SELECT * FROM users {where} ORDER BY id", *args)
            ],
            "roles": [
                dict(r)
                for r in await conn.fetch(
                    "SELECT r.* FROM user_roles r JOIN users u ON u.id = r.user_id "
                    f"{where.replace('tenant_id', 'u.tenant_id')} "
                    "ORDER BY r.user_id, r.platform_id, r.role",
                    *args,
                )
            ],
            "platforms": [
                dict(r)
                for r in await conn.fetch(f"SELECT * FROM platforms {where} ORDER BY id", *args)
            ],
            "events": [
                dict(r)
                for r in await conn.fetch(f"SELECT * FROM events {where} ORDER BY id", *args)
            ],
        }
    finally:
        await conn.close()


def only_error_code(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body["errors"]
    code: str = body["errors"][0]["extensions"]["code"]
    return code


# --- Authentication -------------------------------------------------------------------------

QUERY = "{ users { totalCount } }"


async def test_a_valid_token_gets_data(admin: Api) -> None:
    assert await admin.data(QUERY) == {"users": {"totalCount": 0}}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer rst_not-a-real-token",
        "Basic dXNlcjpwYXNz",
        "rst_not-a-real-token",
    ],
)
async def test_no_valid_token_is_401(
    client: httpx.AsyncClient, acme: Tenant, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert response.status_code == 401
    assert "totalCount" not in response.text


async def test_a_token_with_another_scheme_or_a_suffix_is_401(
    client: httpx.AsyncClient, acme: Tenant
) -> None:
    for value in (f"Token {acme.admin_token}", f"Bearer {acme.admin_token}x"):
        response = await client.post(
            "/graphql", json={"query": QUERY}, headers={"authorization": value}
        )
        assert response.status_code == 401


async def test_a_revoked_token_is_401(client: httpx.AsyncClient, acme: Tenant, db_url: str) -> None:
    admin = Api(client, acme.admin_token)
    assert (await admin.post(QUERY)).status_code == 200
    conn = await connect(db_url)
    try:
        token_id = await conn.fetchval(
            "SELECT id FROM api_tokens WHERE tenant_id = $1 AND scope = 'admin'", acme.id
        )
        assert await tokens.revoke_token(conn, token_id)
    finally:
        await conn.close()
    response = await admin.post(QUERY)
    assert response.status_code == 401
    # The other token of the tenant still works.
    assert (await Api(client, acme.read_token).post(QUERY)).status_code == 200


async def test_get_queries_need_a_token_too(client: httpx.AsyncClient, acme: Tenant) -> None:
    response = await client.get(
        "/graphql", params={"query": QUERY}, headers={"accept": "application/json"}
    )
    assert response.status_code == 401
    response = await client.get(
        "/graphql",
        params={"query": QUERY},
        headers={"accept": "application/json", "authorization": f"Bearer {acme.read_token}"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"users": {"totalCount": 0}}}


async def test_graphiql_page_is_served_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


# --- Read-only tokens -----------------------------------------------------------------------

USER_PAYLOAD = "user { id } userErrors { code }"
USERS_PAYLOAD = "users { id } userErrors { code }"
PLATFORM_PAYLOAD = "platform { id } userErrors { code }"

MUTATIONS: dict[str, str] = {
    "createUser": f"""mutation {{ createUser(input: {{username: "mallory",
        email: "mallory@example.com", firstName: "M", lastName: "M"}}) {{ {USER_PAYLOAD} }} }}""",
    "updateUser": f"""mutation($user: ID!) {{
        updateUser(id: $user, input: {{firstName: "Changed"}}) {{ {USER_PAYLOAD} }} }}""",
    "enableUsers": f"""mutation($disabled: ID!) {{
        enableUsers(ids: [$disabled]) {{ {USERS_PAYLOAD} }} }}""",
    "disableUsers": f"""mutation($user: ID!) {{
        disableUsers(ids: [$user]) {{ {USERS_PAYLOAD} }} }}""",
    "deleteUsers": """mutation($disabled: ID!) {
        deleteUsers(ids: [$disabled]) { deletedIds userErrors { code } } }""",
    "setPassword": f"""mutation($user: ID!, $password: String!) {{
        setPassword(id: $user, password: $password) {{ {USER_PAYLOAD} }} }}""",
    "createPlatform": f"""mutation {{ createPlatform(input: {{key: "evilapp", name: "Evil",
        roles: ["member"]}}) {{ {PLATFORM_PAYLOAD} }} }}""",
    "updatePlatform": f"""mutation($platform: ID!) {{
        updatePlatform(id: $platform, input: {{name: "Renamed"}}) {{ {PLATFORM_PAYLOAD} }} }}""",
    "deletePlatform": """mutation($platform: ID!) {
        deletePlatform(id: $platform) { deletedId userErrors { code } } }""",
}


def variables_for(document: str, ids: dict[str, str]) -> dict[str, str]:
    chosen = {name: value for name, value in ids.items() if f"${name}" in document}
    if "$password" in document:
        chosen["password"] = PASSWORD
    return chosen


async def make_targets(admin: Api) -> dict[str, str]:
    """An active user with a role, a disabled user and an external app, all of acme."""
    user = await create_user(admin, "alice", roles=[{"platform": "lcloud", "role": "student"}])
    disabled = await create_user(admin, "bob")
    data = await admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code } } }",
        ids=[disabled["id"]],
    )
    assert data["disableUsers"]["userErrors"] == []
    data = await admin.data(
        """mutation { createPlatform(input: {key: "acmeapp", name: "Acme App",
           roles: ["member"], webhookUrl: "https://hooks.example.com/acme"}) {
           platform { id } userErrors { code } } }"""
    )
    assert data["createPlatform"]["userErrors"] == []
    return {
        "user": user["id"],
        "disabled": disabled["id"],
        "platform": data["createPlatform"]["platform"]["id"],
    }


async def test_read_token_can_query(admin: Api, reader: Api) -> None:
    ids = await make_targets(admin)
    data = await reader.data(
        "query($id: ID!) { user(id: $id) { username } users { totalCount } platforms { key } }",
        id=ids["user"],
    )
    assert data["user"] == {"username": "alice"}
    assert data["users"]["totalCount"] == 2
    assert "acmeapp" in {p["key"] for p in data["platforms"]}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_read_token_cannot_mutate(
    admin: Api, reader: Api, db_url: str, mutation: str
) -> None:
    ids = await make_targets(admin)
    document = MUTATIONS[mutation]
    before = await snapshot(db_url)
    body = await reader(document, **variables_for(document, ids))
    assert only_error_code(body) == "FORBIDDEN"
    assert body["errors"][0]["path"] == [mutation]
    assert await snapshot(db_url) == before
    # Control: the document is valid, and with the admin token it does change something.
    data = await admin.data(document, **variables_for(document, ids))
    assert data[mutation]["userErrors"] == []
    assert await snapshot(db_url) != before


# --- Tenant isolation -----------------------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { id } }"
USER_BY_ID = "query($id: ID!) { user(id: $id) { id username } }"
AUDIT = "query($id: ID!) { auditEvents(first: 50, userId: $id) { edges { node { action } } } }"

# Per operation: the document, the variable it takes a foreign id in, the kind of id.
FOREIGN_ID_OPERATIONS = [
    ("node user", NODE, "id", "user"),
    ("node platform", NODE, "id", "platform"),
    ("node builtin platform", NODE, "id", "builtin"),
    ("user", USER_BY_ID, "id", "user"),
    ("auditEvents", AUDIT, "id", "user"),
    ("updateUser", MUTATIONS["updateUser"], "user", "user"),
    ("enableUsers", MUTATIONS["enableUsers"], "disabled", "disabled"),
    ("disableUsers", MUTATIONS["disableUsers"], "user", "user"),
    ("deleteUsers disabled", MUTATIONS["deleteUsers"], "disabled", "disabled"),
    ("deleteUsers active", MUTATIONS["deleteUsers"], "disabled", "user"),
    ("setPassword", MUTATIONS["setPassword"], "user", "user"),
    ("updatePlatform", MUTATIONS["updatePlatform"], "platform", "platform"),
    ("deletePlatform", MUTATIONS["deletePlatform"], "platform", "platform"),
    ("deletePlatform builtin", MUTATIONS["deletePlatform"], "platform", "builtin"),
    ("updatePlatform builtin", MUTATIONS["updatePlatform"], "platform", "builtin"),
]


def assert_not_found(body: dict[str, Any]) -> None:
    """null for queries; a NOT_FOUND userError and nothing else for mutations."""
    assert "errors" not in body, body
    (value,) = body["data"].values()
    if value is None:
        return
    if "edges" in value:
        assert value["edges"] == []
        return
    assert [e["code"] for e in value["userErrors"]] == ["NOT_FOUND"], value
    assert all(not v for k, v in value.items() if k != "userErrors"), value


async def acme_with_builtin(admin: Api) -> dict[str, str]:
    ids = await make_targets(admin)
    platforms = await admin.data("{ platforms { id key } }")
    ids["builtin"] = next(p["id"] for p in platforms["platforms"] if p["key"] == "learningcloud")
    return ids


@pytest.mark.parametrize(
    ("document", "variable", "kind"),
    [op[1:] for op in FOREIGN_ID_OPERATIONS],
    ids=[op[0] for op in FOREIGN_ID_OPERATIONS],
)
async def test_another_tenants_id_behaves_as_a_missing_one(
    admin: Api,
    other_admin: Api,
    acme: Tenant,
    db_url: str,
    document: str,
    variable: str,
    kind: str,
) -> None:
    ids = await acme_with_builtin(admin)
    await create_user(other_admin, "gina")
    type_name = "Platform" if kind in ("platform", "builtin") else "User"
    before = await snapshot(db_url, acme.id)

    foreign = variables_for(document, {**ids, variable: ids[kind]})
    absent = variables_for(document, {**ids, variable: missing(type_name)})
    foreign_body = await other_admin(document, **foreign)
    absent_body = await other_admin(document, **absent)
    assert foreign_body == absent_body
    assert_not_found(foreign_body)
    assert await snapshot(db_url, acme.id) == before

    # Control: for acme itself, the same id is found.
    own_body = await admin(document, **foreign)
    assert own_body != foreign_body


async def test_lookups_by_username_and_email_stay_in_the_tenant(
    admin: Api, other_admin: Api
) -> None:
    await make_targets(admin)
    query = "query($u: String, $e: String) { user(username: $u, email: $e) { username } }"
    assert await admin.data(query, u="alice") == {"user": {"username": "alice"}}
    assert await admin.data(query, e="ALICE@example.com") == {"user": {"username": "alice"}}
    assert await other_admin.data(query, u="alice") == {"user": None}
    assert await other_admin.data(query, u="ALICE") == {"user": None}
    assert await other_admin.data(query, e="alice@example.com") == {"user": None}


async def test_lists_stay_in_the_tenant(admin: Api, other_admin: Api, db_url: str) -> None:
    ids = await make_targets(admin)
    gina = await create_user(other_admin, "gina")
    listed = await other_admin.data(
        "{ users { totalCount edges { node { id } } } platforms { id key } "
        "auditEvents(first: 100) { edges { node { targetId } } } }"
    )
    assert listed["users"]["totalCount"] == 1
    assert [e["node"]["id"] for e in listed["users"]["edges"]] == [gina["id"]]
    platform_ids = {p["id"] for p in listed["platforms"]}
    assert ids["platform"] not in platform_ids
    assert {p["key"] for p in listed["platforms"]} == {"learningcloud", "contentcloud"}
    acme_platforms = await admin.data("{ platforms { id } }")
    assert not platform_ids & {p["id"] for p in acme_platforms["platforms"]}
    targets = {e["node"]["targetId"] for e in listed["auditEvents"]["edges"]}
    assert targets == {gina["id"]}
    acme_targets = await admin.data("{ auditEvents(first: 100) { edges { node { targetId } } } }")
    assert {e["node"]["targetId"] for e in acme_targets["auditEvents"]["edges"]} >= set(
        ids.values()
    )


async def test_bulk_mutation_with_one_foreign_id_changes_nothing(
    admin: Api, other_admin: Api, acme: Tenant, globex: Tenant, db_url: str
) -> None:
    ids = await make_targets(admin)
    gina = await create_user(other_admin, "gina")
    before = await snapshot(db_url)
    data = await other_admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { users { id } "
        "userErrors { field code } } }",
        ids=[gina["id"], ids["user"]],
    )
    assert data["disableUsers"] == {
        "users": [],
        "userErrors": [{"field": ["ids", "1"], "code": "NOT_FOUND"}],
    }
    assert await snapshot(db_url) == before


def malformed_ids(platform_id: str, user_id: str) -> list[str]:
    return [
        platform_id,  # a Platform where a User is expected
        gid("User", uuid_of(platform_id)),  # a User id carrying a platform's row id
        gid("User", "not-a-uuid"),
        gid("User", ""),
        gid("Userx", uuid_of(user_id)),
        "garbage",
        "",
        str(uuid_of(user_id)),  # the raw row id, not a global id
    ]


async def test_wrong_type_and_malformed_user_ids_are_not_found(admin: Api, db_url: str) -> None:
    ids = await make_targets(admin)
    before = await snapshot(db_url)
    for bad in malformed_ids(ids["platform"], ids["user"]):
        assert await admin.data(USER_BY_ID, id=bad) == {"user": None}, bad
        for name in ("updateUser", "setPassword", "enableUsers", "disableUsers", "deleteUsers"):
            document = MUTATIONS[name]
            variables = variables_for(document, {"user": bad, "disabled": bad})
            body = await admin(document, **variables)
            assert_not_found(body)
        audit = await admin.data(AUDIT, id=bad)
        assert audit == {"auditEvents": {"edges": []}}, bad
    assert await snapshot(db_url) == before


async def test_user_ids_are_not_platform_ids(admin: Api, db_url: str) -> None:
    ids = await make_targets(admin)
    before = await snapshot(db_url)
    for bad in (ids["user"], gid("Platform", uuid_of(ids["user"])), "garbage"):
        for name in ("updatePlatform", "deletePlatform"):
            body = await admin(MUTATIONS[name], platform=bad)
            assert_not_found(body)
    assert await snapshot(db_url) == before


async def test_node_of_a_wrong_or_malformed_id_is_null(admin: Api) -> None:
    ids = await make_targets(admin)
    assert await admin.data(NODE, id=ids["platform"]) == {"node": {"id": ids["platform"]}}
    assert await admin.data(NODE, id=ids["user"]) == {"node": {"id": ids["user"]}}
    for bad in (
        gid("User", uuid_of(ids["platform"])),
        gid("Platform", uuid_of(ids["user"])),
        gid("User", "not-a-uuid"),
    ):
        assert await admin.data(NODE, id=bad) == {"node": None}, bad


@pytest.mark.parametrize(
    "bad", ["garbage", "", gid("Foo", uuid.uuid4()), gid("UserError", uuid.uuid4())]
)
async def test_node_of_an_unusable_id_is_a_clear_error(admin: Api, bad: str) -> None:
    """Not a server error: null, with a message about the id (never "Unexpected error.")."""
    await make_targets(admin)
    body = await admin(NODE, id=bad)
    assert body["data"] == {"node": None}
    messages = [e["message"] for e in body["errors"]]
    assert len(messages) == 1
    assert "GlobalID" in messages[0], messages


# --- Query limits ---------------------------------------------------------------------------


def nested(levels: int) -> str:
    """A selection `levels` fields deep, under real fields as far as the schema goes."""
    inner = "leaf"
    for i in range(levels - 6, 0, -1):
        inner = f"f{i} {{ {inner} }}"
    return f"{{ users {{ edges {{ node {{ roles {{ platform {{ {inner} }} }} }} }} }} }}"


async def test_deep_queries_are_rejected(admin: Api) -> None:
    # No real field of the schema nests this deep, so the documents name unknown fields below
    # Platform; the depth limiter still measures them. Depth counts the levels below the root
    # field: 12 levels of fields are a depth of 11.
    body = await admin(nested(12))
    assert body.get("data") is None
    assert any("maximum operation depth of 10" in e["message"] for e in body["errors"]), body
    # At the limit, the same kind of document fails only on its unknown fields.
    body = await admin(nested(11))
    assert body.get("data") is None
    assert not any("depth" in e["message"] for e in body["errors"]), body


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: platforms {{ key }}" for i in range(count)) + " }"


async def test_too_many_aliases_are_rejected(admin: Api) -> None:
    data = await admin.data(aliased(30))
    assert len(data) == 30
    body = await admin(aliased(31))
    assert body.get("data") is None
    assert any("alias" in e["message"].lower() for e in body["errors"]), body


def many_tokens(total: int) -> str:
    """A valid document of exactly `total` lexical tokens (a mutation: no query argument takes
    a list, and repeating a field trips graphql-core's own overlap check first)."""
    head = "mutation { disableUsers(ids: ["
    tail = "]) { userErrors { code } } }"
    document = head + " ".join(['"x"'] * (total - 16)) + tail
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    assert count == total
    return document


async def test_too_many_tokens_are_rejected(admin: Api, db_url: str) -> None:
    before = await snapshot(db_url)
    data = await admin.data(many_tokens(2000))
    # Run, and refused by the mutation itself: 1,984 ids are more than a selection holds.
    assert [e["code"] for e in data["disableUsers"]["userErrors"]] == ["TOO_MANY_IDS"]
    body = await admin(many_tokens(2001))
    assert body.get("data") is None
    assert any("token" in e["message"].lower() for e in body["errors"]), body
    assert await snapshot(db_url) == before


# --- Masked errors --------------------------------------------------------------------------

ROLES_QUERY = "{ users { edges { node { username roles { role } } } } }"


async def drop_user_roles(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        await conn.execute("DROP TABLE user_roles CASCADE")
    finally:
        await conn.close()


async def test_unexpected_errors_are_masked(admin: Api, db_url: str) -> None:
    await create_user(admin, "alice", roles=[{"platform": "lcloud", "role": "student"}])
    assert (await admin.data(ROLES_QUERY))["users"]["edges"][0]["node"]["roles"]
    await drop_user_roles(db_url)
    response = await admin.post(ROLES_QUERY)
    assert response.status_code == 200
    body = response.json()
    assert [e["message"] for e in body["errors"]] == ["Unexpected error."]
    text = response.text.lower()
    for leak in ("user_roles", "relation", "traceback", "asyncpg", "undefined", "select", ".py"):
        assert leak not in text, leak


@pytest.fixture
async def debug_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, debug=True))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            yield c


async def test_debug_mode_shows_the_error(
    debug_client: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    """The same failure unmasked, so the test above depends on masking and not on luck."""
    api = Api(debug_client, acme.admin_token)
    await create_user(api, "alice")
    await drop_user_roles(db_url)
    body = await api(ROLES_QUERY)
    assert "user_roles" in body["errors"][0]["message"]


# --- GraphQL over HTTP ----------------------------------------------------------------------

BAD_DOCUMENTS = ["{ users { totalCount }", "{ nope }", "{ users { totalCount(x: 1) } }", "query"]


@pytest.mark.parametrize("document", BAD_DOCUMENTS)
async def test_invalid_documents_are_400_with_graphql_response_json(
    admin: Api, document: str
) -> None:
    response = await admin.post(document, accept=GRAPHQL_RESPONSE_JSON)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body
    assert body["errors"]


@pytest.mark.parametrize("body", [b"{", b'{"query": "{ users { totalCount } }"', b"\xff", b"[1"])
async def test_a_body_that_is_not_json_is_a_clear_400(admin: Api, body: bytes) -> None:
    response = await admin.client.post(
        "/graphql",
        content=body,
        headers={"authorization": f"Bearer {admin.token}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unable to parse request body as JSON"


@pytest.mark.parametrize("document", BAD_DOCUMENTS)
async def test_invalid_documents_are_200_with_json(admin: Api, document: str) -> None:
    response = await admin.post(document, accept="application/json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


async def test_limits_are_400_with_graphql_response_json(admin: Api) -> None:
    for document in (nested(12), aliased(31), many_tokens(2001)):
        response = await admin.post(document, accept=GRAPHQL_RESPONSE_JSON)
        assert response.status_code == 400
        assert "data" not in response.json()


async def test_valid_query_with_graphql_response_json(admin: Api) -> None:
    response = await admin.post(QUERY, accept=GRAPHQL_RESPONSE_JSON)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert response.json() == {"data": {"users": {"totalCount": 0}}}


async def test_field_errors_still_200_with_graphql_response_json(admin: Api) -> None:
    """A request that executed has data (here null) and stays 2xx."""
    response = await admin.post(
        "{ users(first: 101) { totalCount } }", accept=GRAPHQL_RESPONSE_JSON
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" in body and body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION"


# --- WebSocket ------------------------------------------------------------------------------


@pytest.fixture
async def ws_app(settings: Settings) -> AsyncIterator[Any]:
    """The app through its lifespan. The WebSocket transport runs a task group, which must be
    entered and left in one task: each test makes its own client around this app."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        yield manager.app


async def ws_init(app: Any, payload: dict[str, Any] | None) -> Any:
    """Sends connection_init; returns the first message, or the close code as an int."""
    message: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:
        message["payload"] = payload
    transport = ASGIWebSocketTransport(app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://roster.test") as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json(message)
        try:
            return await ws.receive_json(timeout=5)
        except WebSocketDisconnect as closed:
            return closed.code


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"authorization": "Bearer rst_not-a-real-token"},
        {"authorization": "rst_not-a-real-token"},
        {"authorization": 42},
        {"token": "x"},
    ],
)
async def test_websocket_without_a_valid_token_closes_4401(
    ws_app: Any, acme: Tenant, payload: dict[str, Any] | None
) -> None:
    assert await ws_init(ws_app, payload) == 4401


async def test_websocket_with_a_token_is_acknowledged(ws_app: Any, acme: Tenant) -> None:
    for token in (acme.admin_token, acme.read_token):
        reply = await ws_init(ws_app, {"authorization": f"Bearer {token}"})
        assert isinstance(reply, dict) and reply["type"] == "connection_ack", reply


async def test_websocket_with_a_revoked_token_closes_4401(
    ws_app: Any, acme: Tenant, db_url: str
) -> None:
    conn = await connect(db_url)
    try:
        await conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE tenant_id = $1", acme.id)
    finally:
        await conn.close()
    assert await ws_init(ws_app, {"authorization": f"Bearer {acme.admin_token}"}) == 4401


# --- Health ---------------------------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["postgres"] == "ok"
    assert body["redis"] == "ok"
