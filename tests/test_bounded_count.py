"""`count`, the count a console shows: exact up to the bound (ROSTER_COUNT_BOUND, 4 here), the
bound flagged as a lower bound above it, whichever way it is counted (search, role holders,
other filters), or an estimate for a search well above it; `totalCount` exact beside it; and
pages that read the same users whether the count found many matches or few, in every order,
forward and backward."""

import dataclasses
from typing import Any

import pytest

from db.pool import connect
from roster.settings import Settings
from tests.conftest import Api, Tenant, create_user
from tests.test_search import (
    DAY,
    LC,
    ORDER_FIELDS,
    T0,
    Seed,
    expected,
    generic_users,
    named_users,
    seed,
)

BOUND = 4
COUNTS = """
query($search: String, $filter: UserFilter) {
  users(first: 0, search: $search, filter: $filter) {
    totalCount count { value exact relation }
  }
}
"""
PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $search: String,
      $filter: UserFilter, $orderBy: UserOrder) {
  users(first: $first, after: $after, last: $last, before: $before, search: $search,
        filter: $filter, orderBy: $orderBy) {
    count { value exact relation }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { username } }
  }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, count_bound=BOUND)


@pytest.fixture
async def acme_users(db_url: str, acme: Tenant) -> list[Seed]:
    return await seed(db_url, acme, named_users() + generic_users())


def bounded(count: int) -> dict[str, Any]:
    if count <= BOUND:
        return {"value": count, "exact": True, "relation": "EQ"}
    return {"value": BOUND, "exact": False, "relation": "GTE"}


async def test_count_is_exact_up_to_the_bound_and_flagged_above_it(
    admin: Api, acme_users: list[Seed]
) -> None:
    cases: list[tuple[str | None, dict[str, Any] | None]] = [
        ("zzz", None),
        ("maria", None),
        ("maria lopez", None),
        ("garcia", None),
        ("an", None),
        ("@acme.es", None),
        ("an", {"status": "ACTIVE", "platform": "lcloud"}),
        (None, {"platform": "lcloud"}),
        (None, {"platform": "contentcloud", "role": "administrator"}),
        (None, {"platform": "contentcloud", "role": "author"}),
        (None, {"role": "administrator"}),
        (None, {"hasPassword": False}),
        (None, {"emailDomain": "correo.es"}),
    ]
    sizes = set()
    for search, f in cases:
        want = len(expected(acme_users, search, f))
        sizes.add(want)
        data = (await admin.data(COUNTS, search=search, filter=f))["users"]
        assert data == {"totalCount": want, "count": bounded(want)}, (search, f)
    # Below, at and above the bound.
    assert {0, 1, BOUND - 1} <= sizes and max(sizes) > BOUND


async def test_counters_answer_exactly_above_the_bound(admin: Api, acme_users: list[Seed]) -> None:
    """Counting everyone, or by status, reads trigger-kept counters: exact at any size."""
    for f in [None, {"status": "ACTIVE"}, {"status": "DISABLED"}]:
        want = len(expected(acme_users, None, f))
        assert want > BOUND
        count = (await admin.data(COUNTS, filter=f))["users"]["count"]
        assert count == {"value": want, "exact": True, "relation": "EQ"}, f


async def test_few_users_with_many_roles_are_counted_exactly(admin: Api) -> None:
    """Role holders are counted from role rows: two users holding every role of a platform
    fill more rows than the bound allows for, and still count as two."""
    every_role = [
        {"platform": "lcloud", "role": r}
        for r in ("student", "teacher", "tutor", "manager", "administrator")
    ]
    for name in ("ana", "bea"):
        await create_user(admin, name, roles=every_role)
    data = (await admin.data(COUNTS, filter={"platform": "lcloud"}))["users"]
    assert data == {"totalCount": 2, "count": {"value": 2, "exact": True, "relation": "EQ"}}


@pytest.mark.parametrize(
    ("search", "f"),
    [
        ("an", {"status": "ACTIVE"}),
        ("garcia", None),
        ("maria", None),
        # Filters alone: those few users pass are looked up and sorted, the others walked.
        ("", {"platform": "lcloud", "role": "teacher"}),
        ("", {"platform": "contentcloud", "role": "editor", "status": "ACTIVE"}),
        ("", {"language": "es", "hasPassword": True}),
    ],
    ids=[
        "many matches",
        "some matches",
        "few matches",
        "filter, many",
        "filters, few",
        "filters, some",
    ],
)
async def test_pages_read_the_same_users_above_and_below_the_bound(
    admin: Api, acme_users: list[Seed], search: str, f: dict[str, Any] | None
) -> None:
    for order in ORDER_FIELDS:
        for desc in (False, True):
            want = expected(acme_users, search, f, order, desc)
            order_by = {"field": order, "direction": "DESC" if desc else "ASC"}
            where = f"{search} {order} {'DESC' if desc else 'ASC'}"
            variables = {"search": search, "filter": f, "orderBy": order_by}

            forward: list[str] = []
            after = None
            while True:
                connection = (await admin.data(PAGE, first=2, after=after, **variables))["users"]
                assert connection["count"] == bounded(len(want)), where
                forward += [e["node"]["username"] for e in connection["edges"]]
                if not connection["pageInfo"]["hasNextPage"]:
                    break
                after = connection["pageInfo"]["endCursor"]
            assert forward == want, where

            backward: list[str] = []
            before = None
            while True:
                connection = (await admin.data(PAGE, last=2, before=before, **variables))["users"]
                assert connection["count"] == bounded(len(want)), where
                backward = [e["node"]["username"] for e in connection["edges"]] + backward
                if not connection["pageInfo"]["hasPreviousPage"]:
                    break
                before = connection["pageInfo"]["startCursor"]
            assert backward == want, where


async def test_a_search_well_above_the_bound_is_estimated(
    admin: Api, acme: Tenant, db_url: str
) -> None:
    """A tenant big enough for the sample to say something: 3,000 users share a surname. The
    estimate says so (the sample is the whole table here, so it is right), and pages of them
    walk the order without a count of them all."""
    conn = await connect(db_url)
    try:
        await conn.execute(
            """INSERT INTO users (tenant_id, username, email, first_name, last_name)
               SELECT $1, 'u' || n, 'u' || n || '@example.com', 'Ann', 'Commonname'
               FROM generate_series(1, 3000) n""",
            acme.id,
        )
    finally:
        await conn.close()
    data = (await admin.data(COUNTS, search="commonname"))["users"]
    assert data == {
        "totalCount": 3000,
        "count": {"value": 3000, "exact": False, "relation": "ESTIMATE"},
    }
    usernames = sorted(f"u{n}" for n in range(1, 3001))
    first = await admin.data(PAGE, first=100, search="commonname")
    assert [e["node"]["username"] for e in first["users"]["edges"]] == usernames[:100]
    after = first["users"]["pageInfo"]["endCursor"]
    second = await admin.data(PAGE, first=100, after=after, search="commonname")
    assert [e["node"]["username"] for e in second["users"]["edges"]] == usernames[100:200]
    before = second["users"]["pageInfo"]["startCursor"]
    back = await admin.data(PAGE, last=100, before=before, search="commonname")
    assert [e["node"]["username"] for e in back["users"]["edges"]] == usernames[:100]
    last = await admin.data(PAGE, last=100, search="commonname")
    assert [e["node"]["username"] for e in last["users"]["edges"]] == usernames[-100:]
    # A rarer word among them is counted exactly.
    rare = (await admin.data(COUNTS, search="u2999"))["users"]["count"]
    assert rare == {"value": 1, "exact": True, "relation": "EQ"}


async def test_walks_read_the_same_users_with_filters_in_every_order(
    admin: Api, acme: Tenant, db_url: str
) -> None:
    """Searches the sample places above the bound are paged by walking the order's index, the
    plain words checked on its entries (0013) and the rest (filters, an @ word) on the users
    they hold: the same users, in every order, both ways, page after page."""
    users = await seed(
        db_url,
        acme,
        [
            Seed(
                f"u{n:04d}",
                f"u{n:04d}@{'acme.es' if n % 2 else 'other.org'}",
                "Ann" if n % 3 else "Bob",
                "Commonname" if n % 3 else "Rarename",
                status="DISABLED" if n % 4 == 0 else "ACTIVE",
                roles=[(LC, "teacher")] if n % 5 == 0 else [],
                created=T0 + (n % 7) * DAY,
                updated=T0 + (n % 11) * DAY,
            )
            for n in range(1500)
        ],
    )
    cases: list[tuple[str, dict[str, Any] | None]] = [
        ("commonname", {"status": "ACTIVE", "platform": "lcloud", "role": "teacher"}),
        ("commonname @acme", None),
        ("ann", {"status": "ACTIVE"}),
    ]
    for search, f in cases:
        for order in ORDER_FIELDS:
            for desc in (False, True):
                where = (search, f, order, desc)
                want = expected(users, search, f, order, desc)[:60]
                order_by = {"field": order, "direction": "DESC" if desc else "ASC"}
                variables = {"search": search, "filter": f, "orderBy": order_by}
                first = (await admin.data(PAGE, first=30, **variables))["users"]
                assert first["count"]["relation"] == "ESTIMATE", where
                after = first["pageInfo"]["endCursor"]
                second = (await admin.data(PAGE, first=30, after=after, **variables))["users"]
                got = [e["node"]["username"] for e in first["edges"] + second["edges"]]
                assert got == want, where


async def test_a_search_near_the_bound_is_counted_after_the_whole_sample(
    admin: Api, acme: Tenant, db_url: str
) -> None:
    """A few more matches than the bound among many users: neither part of the sample can
    place them well above the bound, so they are counted, up to it, and paged."""
    await seed(
        db_url,
        acme,
        [
            Seed(f"u{n:04d}", f"u{n:04d}@example.org", "Ann", "Zebra" if n % 150 == 7 else "Other")
            for n in range(1500)
        ],
    )
    zebras = [f"u{n:04d}" for n in range(1500) if n % 150 == 7]
    assert len(zebras) == 10
    first = (await admin.data(PAGE, first=6, search="zebra"))["users"]
    assert first["count"] == bounded(10)
    after = first["pageInfo"]["endCursor"]
    second = (await admin.data(PAGE, first=6, after=after, search="zebra"))["users"]
    assert second["count"] == bounded(10)
    got = [e["node"]["username"] for e in first["edges"] + second["edges"]]
    assert got == zebras
