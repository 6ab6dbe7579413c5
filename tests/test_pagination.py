"""Connections through /graphql: `users` keyset-paged in every order and direction, with ties,
limits, cursors bound to their order, and tenant isolation; the forward-only ones (jobs, audit
events, a job's row errors and plan) paged through to the end."""

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strawberry import relay

from db import users
from db.pool import connect
from resolvers.pagination import encode_cursor
from schema.user import User, UserStatus
from tests.conftest import Api, Tenant, app_cursor_key, create_user

USERS = """
query($first: Int, $after: String, $last: Int, $before: String, $orderBy: UserOrder) {
  users(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id username } }
  }
}
"""

FIELDS = ["USERNAME", "EMAIL", "FIRST_NAME", "LAST_NAME", "CREATED_AT", "UPDATED_AT"]
COLUMNS = {
    "USERNAME": "username",
    "EMAIL": "email",
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
}
FIRST_NAMES = ["Ana", "ana", "Ben", "ANA", "Cleo", "ben", "Zoe"]
LAST_NAMES = ["Smith", "smith", "Jones", "SMITH", "Brown", "jones", "Öberg"]
PAGE = 7

INSERT = """
INSERT INTO users (tenant_id, username, email, first_name, last_name)
VALUES ($1, $2, $3, $4, $5)
"""
INSERT_AT = """
INSERT INTO users (tenant_id, username, email, first_name, last_name, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


def _username(i: int) -> str:
    # Mixed case, so that only a case-insensitive order agrees with the expected one.
    base = f"user{i:02d}"
    return base.upper() if i % 3 == 0 else base.title() if i % 3 == 1 else base


async def seed(db_url: str, tenant: Tenant, count: int = 33, prefix: str = "") -> None:
    """`count` users of `tenant` by direct SQL, with ties on names and timestamps: the first
    two thirds in two transactions (each sharing its now()), the rest at set instants, some
    of them equal, some a microsecond apart."""
    rows = [
        (
            tenant.id,
            prefix + _username(i),
            f"{prefix}{'Mail' if i % 2 else 'mail'}{i:02d}@Example.com",
            FIRST_NAMES[i % len(FIRST_NAMES)],
            LAST_NAMES[(i * 5) % len(LAST_NAMES)],
        )
        for i in range(count)
    ]
    third = count // 3
    base = datetime(2021, 6, 1, 12, 0, 0, tzinfo=UTC)
    conn = await connect(db_url)
    try:
        async with conn.transaction():
            await conn.executemany(INSERT, rows[:third])
        async with conn.transaction():
            await conn.executemany(INSERT, rows[third : 2 * third])
        timed = [
            (
                *row,
                base + timedelta(microseconds=i % 3),
                base + timedelta(days=i % 2, microseconds=(i * 7) % 4),
            )
            for i, row in enumerate(rows[2 * third :])
        ]
        await conn.executemany(INSERT_AT, timed)
    finally:
        await conn.close()


async def expected_order(db_url: str, tenant: Tenant, field: str, direction: str) -> list[str]:
    """The tenant's user ids in the order the contract promises: the case-insensitive key,
    then the id, both in the same direction."""
    conn = await connect(db_url)
    try:
        rows = await conn.fetch("SELECT * FROM users WHERE tenant_id = $1", tenant.id)
    finally:
        await conn.close()
    column = COLUMNS[field]

    def key(row: Any) -> tuple[Any, uuid.UUID]:
        value = row[column]
        return (value.lower() if isinstance(value, str) else value, row["id"])

    ordered = sorted(rows, key=key, reverse=direction == "DESC")
    return [str(r["id"]) for r in ordered]


def node_uuid(global_id: str) -> str:
    parsed = relay.GlobalID.from_id(global_id)
    assert parsed.type_name == "User"
    return parsed.node_id


def error_code(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body["errors"]
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def page_forward(api: Api, order: dict[str, str], total: int) -> list[str]:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = (await api.data(USERS, first=PAGE, after=after, orderBy=order))["users"]
        pages += 1
        assert pages <= total // PAGE + 2, "paging forward never ends"
        info = data["pageInfo"]
        edges = data["edges"]
        assert data["totalCount"] == total
        assert info["hasPreviousPage"] is (after is not None)
        if edges:
            assert info["startCursor"] == edges[0]["cursor"]
            assert info["endCursor"] == edges[-1]["cursor"]
        seen += [node_uuid(e["node"]["id"]) for e in edges]
        if not info["hasNextPage"]:
            assert len(edges) == total - PAGE * (pages - 1)
            return seen
        assert len(edges) == PAGE
        after = info["endCursor"]


async def page_backward(api: Api, order: dict[str, str], total: int) -> list[str]:
    seen: list[str] = []
    before = None
    pages = 0
    while True:
        data = (await api.data(USERS, last=PAGE, before=before, orderBy=order))["users"]
        pages += 1
        assert pages <= total // PAGE + 2, "paging backward never ends"
        info = data["pageInfo"]
        edges = data["edges"]
        assert data["totalCount"] == total
        assert info["hasNextPage"] is (before is not None)
        if edges:
            assert info["startCursor"] == edges[0]["cursor"]
            assert info["endCursor"] == edges[-1]["cursor"]
        seen = [node_uuid(e["node"]["id"]) for e in edges] + seen
        if not info["hasPreviousPage"]:
            assert len(edges) == total - PAGE * (pages - 1)
            return seen
        assert len(edges) == PAGE
        before = info["startCursor"]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", FIELDS)
async def test_pages_cover_every_order_exactly_once(
    admin: Api, acme: Tenant, globex: Tenant, db_url: str, field: str, direction: str
) -> None:
    await seed(db_url, acme, 33)
    await seed(db_url, globex, 9, prefix="g")
    expected = await expected_order(db_url, acme, field, direction)
    assert len(expected) == 33
    order = {"field": field, "direction": direction}

    forward = await page_forward(admin, order, 33)
    assert forward == expected

    backward = await page_backward(admin, order, 33)
    assert backward == expected

    # One page of everything agrees too, and a page around a cursor from the middle.
    whole = (await admin.data(USERS, first=100, orderBy=order))["users"]
    assert [node_uuid(e["node"]["id"]) for e in whole["edges"]] == expected
    assert whole["pageInfo"]["hasNextPage"] is False
    assert whole["pageInfo"]["hasPreviousPage"] is False
    middle = whole["edges"][15]["cursor"]
    after = (await admin.data(USERS, first=4, after=middle, orderBy=order))["users"]
    assert [node_uuid(e["node"]["id"]) for e in after["edges"]] == expected[16:20]
    before = (await admin.data(USERS, last=4, before=middle, orderBy=order))["users"]
    assert [node_uuid(e["node"]["id"]) for e in before["edges"]] == expected[11:15]
    assert before["pageInfo"]["hasPreviousPage"] is True
    assert before["pageInfo"]["hasNextPage"] is True


async def test_default_order_is_username_ascending(admin: Api, acme: Tenant, db_url: str) -> None:
    await seed(db_url, acme, 20)
    expected = await expected_order(db_url, acme, "USERNAME", "ASC")
    data = (await admin.data(USERS, first=100))["users"]
    assert [node_uuid(e["node"]["id"]) for e in data["edges"]] == expected
    # A cursor of the default order is the same as one of an explicit USERNAME ASC.
    cursor = data["edges"][4]["cursor"]
    explicit = await admin.data(
        USERS, first=3, after=cursor, orderBy={"field": "USERNAME", "direction": "ASC"}
    )
    assert [node_uuid(e["node"]["id"]) for e in explicit["users"]["edges"]] == expected[5:8]


async def test_default_page_size_is_50(admin: Api, acme: Tenant, db_url: str) -> None:
    await seed(db_url, acme, 57)
    expected = await expected_order(db_url, acme, "USERNAME", "ASC")
    data = (await admin.data(USERS))["users"]
    assert data["totalCount"] == 57
    assert [node_uuid(e["node"]["id"]) for e in data["edges"]] == expected[:50]
    assert data["pageInfo"]["hasNextPage"] is True
    rest = (await admin.data(USERS, after=data["pageInfo"]["endCursor"]))["users"]
    assert [node_uuid(e["node"]["id"]) for e in rest["edges"]] == expected[50:]
    assert rest["pageInfo"]["hasNextPage"] is False
    # `last` alone pages from the end, also 50 by default when `before` alone is given.
    tail = (await admin.data(USERS, before=rest["edges"][-1]["cursor"]))["users"]
    assert [node_uuid(e["node"]["id"]) for e in tail["edges"]] == expected[6:56]


async def test_page_size_of_100_is_allowed(admin: Api, acme: Tenant, db_url: str) -> None:
    await seed(db_url, acme, 105)
    data = (await admin.data(USERS, first=100))["users"]
    assert len(data["edges"]) == 100
    assert data["pageInfo"]["hasNextPage"] is True
    data = (await admin.data(USERS, last=100))["users"]
    assert len(data["edges"]) == 100
    assert data["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    "arguments",
    [
        {"first": 101},
        {"last": 101},
        {"first": 1000000},
        {"first": -1},
        {"last": -1},
        {"first": 5, "last": 5},
    ],
)
async def test_bad_page_sizes_are_refused(
    admin: Api, acme: Tenant, db_url: str, arguments: dict[str, int]
) -> None:
    await seed(db_url, acme, 3)
    assert error_code(await admin(USERS, **arguments)) == "INVALID_PAGINATION"


async def test_mixed_directions_are_refused(admin: Api, acme: Tenant, db_url: str) -> None:
    await seed(db_url, acme, 5)
    cursor = (await admin.data(USERS, first=2))["users"]["edges"][0]["cursor"]
    assert error_code(await admin(USERS, first=2, before=cursor)) == "INVALID_PAGINATION"
    assert error_code(await admin(USERS, last=2, after=cursor)) == "INVALID_PAGINATION"


@pytest.mark.parametrize(
    "other",
    [
        {"field": "EMAIL", "direction": "ASC"},
        {"field": "USERNAME", "direction": "DESC"},
        {"field": "CREATED_AT", "direction": "ASC"},
        {"field": "FIRST_NAME", "direction": "DESC"},
    ],
)
async def test_cursor_of_another_order_is_refused(
    admin: Api, acme: Tenant, db_url: str, other: dict[str, str]
) -> None:
    await seed(db_url, acme, 6)
    username_asc = {"field": "USERNAME", "direction": "ASC"}
    cursor = (await admin.data(USERS, first=2, orderBy=username_asc))["users"]["edges"][1]["cursor"]
    # The same cursor is fine with its own order, forward and backward.
    await admin.data(USERS, first=2, after=cursor, orderBy=username_asc)
    await admin.data(USERS, last=2, before=cursor, orderBy=username_asc)
    assert error_code(await admin(USERS, first=2, after=cursor, orderBy=other)) == "INVALID_CURSOR"
    assert error_code(await admin(USERS, last=2, before=cursor, orderBy=other)) == "INVALID_CURSOR"


@dataclass(frozen=True)
class Sealed:
    """A payload the test seals with the app's key: a cursor that passes the seal, so that
    what it holds is what gets checked."""

    payload: Any


def _cursor(payload: Any) -> Sealed:
    return Sealed(payload)


def _users_cursor(order: str, value: Any, row_id: Any) -> Sealed:
    return _cursor({"k": "users", "o": order, "d": False, "v": value, "i": row_id})


SOME_ID = str(uuid.uuid4())
GARBAGE = [
    ("garbage", "USERNAME"),
    ("", "USERNAME"),
    ("!!!!", "USERNAME"),
    ("é", "USERNAME"),
    (base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(), "USERNAME"),
    (_cursor([1, 2, 3]), "USERNAME"),
    (_cursor("users"), "USERNAME"),
    (_cursor({"k": "events", "i": 5}), "USERNAME"),
    (_cursor({"k": "users", "o": "USERNAME", "d": False}), "USERNAME"),
    (_users_cursor("USERNAME", 5, SOME_ID), "USERNAME"),
    (_users_cursor("USERNAME", None, SOME_ID), "USERNAME"),
    (_users_cursor("USERNAME", "a", "not-a-uuid"), "USERNAME"),
    (_users_cursor("USERNAME", "a", 7), "USERNAME"),
    (_users_cursor("CREATED_AT", "yesterday", SOME_ID), "CREATED_AT"),
    (_users_cursor("CREATED_AT", None, SOME_ID), "CREATED_AT"),
    (_users_cursor("CREATED_AT", 1700000000, SOME_ID), "CREATED_AT"),
]


@pytest.mark.parametrize(("garbage", "field"), GARBAGE)
async def test_garbage_cursor_is_refused(
    admin: Api, acme: Tenant, db_url: str, garbage: str | Sealed, field: str
) -> None:
    await seed(db_url, acme, 3)
    cursor = garbage
    if isinstance(garbage, Sealed):
        cursor = encode_cursor(await app_cursor_key(db_url), garbage.payload)
    order = {"field": field, "direction": "ASC"}
    assert error_code(await admin(USERS, first=2, after=cursor, orderBy=order)) == "INVALID_CURSOR"
    assert error_code(await admin(USERS, last=2, before=cursor, orderBy=order)) == "INVALID_CURSOR"


async def test_cursor_from_another_connection_is_refused(
    admin: Api, acme: Tenant, db_url: str
) -> None:
    await seed(db_url, acme, 2)
    users = (await admin.data(USERS, first=1))["users"]["edges"]
    await admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code } } }",
        ids=[users[0]["node"]["id"]],
    )
    events = await admin.data("{ auditEvents(first: 5) { edges { cursor } } }")
    cursor = events["auditEvents"]["edges"][0]["cursor"]
    assert error_code(await admin(USERS, first=2, after=cursor)) == "INVALID_CURSOR"


async def test_other_tenants_users_never_appear(
    admin: Api, other_admin: Api, acme: Tenant, globex: Tenant, db_url: str
) -> None:
    await seed(db_url, acme, 12)
    # Same usernames in globex, interleaved with acme's in every order.
    await seed(db_url, globex, 12)
    acme_ids = set(await expected_order(db_url, acme, "USERNAME", "ASC"))
    globex_ids = set(await expected_order(db_url, globex, "USERNAME", "ASC"))
    assert len(acme_ids) == len(globex_ids) == 12
    for api, own in ((admin, acme_ids), (other_admin, globex_ids)):
        for field in FIELDS:
            for direction in ("ASC", "DESC"):
                order = {"field": field, "direction": direction}
                assert set(await page_forward(api, order, 12)) == own
                assert set(await page_backward(api, order, 12)) == own


async def test_a_cursor_does_not_reach_into_another_tenant(
    admin: Api, other_admin: Api, acme: Tenant, globex: Tenant, db_url: str
) -> None:
    await seed(db_url, acme, 10)
    await seed(db_url, globex, 10, prefix="g")
    globex_ids = set(await expected_order(db_url, globex, "USERNAME", "ASC"))
    # A cursor is only a position: used by acme, it still lists acme's users only.
    cursor = (await other_admin.data(USERS, first=3))["users"]["edges"][2]["cursor"]
    for arguments in ({"first": 100, "after": cursor}, {"last": 100, "before": cursor}):
        data = (await admin.data(USERS, **arguments))["users"]
        assert not {node_uuid(e["node"]["id"]) for e in data["edges"]} & globex_ids
        assert data["totalCount"] == 10


# --- the forward-only connections: jobs, audit events, a job's row errors and plan ------------

PAGE_FIELDS = "{ pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } }"
FORWARD = {
    "jobs": "query($first: Int, $after: String) { connection: jobs(first: $first, after: $after) "
    + PAGE_FIELDS
    + " }",
    "auditEvents": "query($first: Int, $after: String) { connection: auditEvents(first: $first, "
    "after: $after) " + PAGE_FIELDS + " }",
    "rowErrors": "query($first: Int, $after: String, $job: ID!) { job(id: $job) { ... on "
    "ImportJob { connection: rowErrors(first: $first, after: $after) " + PAGE_FIELDS + " } } }",
    "plan": "query($first: Int, $after: String, $job: ID!) { job(id: $job) { ... on ImportJob "
    "{ connection: plan(first: $first, after: $after) " + PAGE_FIELDS + " } } }",
}


async def seed_forward(db_url: str, tenant: Tenant, count: int) -> None:
    """`count` jobs, events, row errors and planned rows (the latter two on the oldest job)."""
    conn = await connect(db_url)
    try:
        job_ids = [
            await conn.fetchval(
                "INSERT INTO jobs (tenant_id, kind, actor, created_at) "
                "VALUES ($1, 'IMPORT', 'test', now() + make_interval(secs => $2)) RETURNING id",
                tenant.id,
                i,
            )
            for i in range(count)
        ]
        await conn.executemany(
            "INSERT INTO events (tenant_id, actor, action, target_type) "
            "VALUES ($1, 'test', 'user.updated', 'User')",
            [(tenant.id,)] * count,
        )
        await conn.executemany(
            "INSERT INTO job_row_errors (tenant_id, job_id, row, seq, code, message) "
            "VALUES ($1, $2, $3, 0, 'INVALID_EMAIL', 'bad')",
            [(tenant.id, job_ids[0], row) for row in range(2, count + 2)],
        )
        await conn.executemany(
            "INSERT INTO job_row_plans (tenant_id, job_id, row, action)"
            " VALUES ($1, $2, $3, 'NOOP')",
            [(tenant.id, job_ids[0], row) for row in range(2, count + 2)],
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("name", list(FORWARD))
async def test_forward_connections_page_through_everything_once(
    admin: Api, acme: Tenant, db_url: str, name: str
) -> None:
    await seed_forward(db_url, acme, 5)
    oldest = (await admin.data("{ jobs(first: 100) { edges { node { id } } } }"))["jobs"]
    job = oldest["edges"][-1]["node"]["id"]
    query = FORWARD[name]
    variables: dict[str, Any] = {"job": job} if "$job" in query else {}

    async def page(first: int, after: str | None) -> dict[str, Any]:
        data = await admin.data(query, first=first, after=after, **variables)
        connection: dict[str, Any] = (data.get("job") or data)["connection"]
        return connection

    whole = await page(100, None)
    everything = [e["cursor"] for e in whole["edges"]]
    assert len(everything) == 5
    assert whole["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": everything[0],
        "endCursor": everything[-1],
    }
    seen: list[str] = []
    after = None
    while True:
        connection = await page(2, after)
        cursors = [e["cursor"] for e in connection["edges"]]
        seen += cursors
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["hasNextPage"] is (len(seen) < 5)
        assert (info["startCursor"], info["endCursor"]) == (cursors[0], cursors[-1])
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == everything
    empty = await page(0, None)
    assert empty["edges"] == []
    assert empty["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


USER_FIELDS = (
    "id username email firstName lastName language timeZone officePhone mobilePhone location"
    " externalId status attributes hasPassword passwordChangedAt welcomeEmailSentAt createdAt"
    " updatedAt disabledAt"
).split()


async def test_a_page_asking_some_fields_answers_them_as_the_whole_user(admin: Api) -> None:
    """A page, and `user(id:)`, read only the columns of the fields their query asks: each
    field, asked alone or beside others, through fragments, comes out as it does when every
    field is asked."""
    for n in range(3):
        await create_user(
            admin,
            f"field{n}",
            language="es",
            timeZone="Europe/Madrid",
            officePhone="+34 91 000 00 0" + str(n),
            externalId=f"x{n}",
            attributes={"team": str(n)},
        )
    whole = "{ " + " ".join(USER_FIELDS) + " }"
    expected = []
    for edge in (await admin.data("{ users(first: 3) { edges { node { id } } } }"))["users"][
        "edges"
    ]:
        found = await admin.data(
            f"query($id: ID!) {{ user(id: $id) {whole} }}", id=edge["node"]["id"]
        )
        expected.append(found["user"])
    for fields in [[f] for f in USER_FIELDS] + [USER_FIELDS[3:9], ["roles { role }", "email"]]:
        asked = " ".join(fields)
        for query in (
            f"{{ users(first: 3) {{ edges {{ node {{ {asked} }} }} }} }}",
            f"{{ users(first: 3) {{ edges {{ ... on UserEdge {{ node {{ ...F }} }} }} }} }}"
            f" fragment F on User {{ {asked} }}",
        ):
            page = await admin.data(query)
            nodes = [edge["node"] for edge in page["users"]["edges"]]
            names = [f for f in fields if f in USER_FIELDS]
            assert [{n: node[n] for n in names} for node in nodes] == [
                {n: user[n] for n in names} for user in expected
            ], query
        one = f"query($id: ID!) {{ user(id: $id) {{ {asked} }} }}"
        for user in expected:
            alone = (await admin.data(one, id=user["id"]))["user"]
            assert {n: alone[n] for n in names} == {n: user[n] for n in names}, one


async def test_a_user_from_a_row_is_the_user_init_makes(
    admin: Api, acme: Tenant, db_url: str
) -> None:
    """User.from_row skips __init__ for speed: what it makes must equal what __init__ makes."""

    created = await create_user(admin, "rowan", language="fr", attributes={"k": "v"})
    conn = await connect(db_url)
    try:
        (row,) = await users.get_users(
            conn, acme.id, [relay.GlobalID.from_id(created["id"]).node_id]
        )
    finally:
        await conn.close()
    made = User.from_row(row)
    expected = User(
        id=str(row["id"]),
        _id=created["id"],
        **{k: row[k] for k in row.keys() if k not in ("id", "tenant_id", "status")},
        status=UserStatus(row["status"]),
    )
    assert made == expected
    assert made.preloaded_roles is None and callable(made.roles)
