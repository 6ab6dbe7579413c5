"""totalCount comes from counters kept by triggers, or from the role index, when no other
criteria apply: they must agree with the rows whatever changes them."""

from typing import Any

from db.pool import connect
from tests.conftest import Api, Tenant, create_user

COUNT = "query($f: UserFilter) { users(first: 0, filter: $f) { totalCount } }"


async def counts(api: Api) -> dict[str, int]:
    filters: dict[str, dict[str, Any] | None] = {
        "all": None,
        "active": {"status": "ACTIVE"},
        "disabled": {"status": "DISABLED"},
        "lcloud": {"platform": "lcloud"},
        "teachers": {"platform": "learningcloud", "role": "teacher"},
        "administrators": {"role": "administrator"},
    }
    return {
        name: (await api.data(COUNT, f=f))["users"]["totalCount"] for name, f in filters.items()
    }


async def test_counts_follow_every_change(admin: Api, other_admin: Api, db_url: str) -> None:
    lcloud_admin = [{"platform": "lcloud", "role": "administrator"}]
    both_admin = [*lcloud_admin, {"platform": "contentcloud", "role": "administrator"}]
    ana = await create_user(admin, "ana", roles=[{"platform": "lcloud", "role": "teacher"}])
    bob = await create_user(admin, "bob", roles=both_admin)
    await create_user(admin, "cy", roles=[*lcloud_admin, {"platform": "lcloud", "role": "tutor"}])
    await create_user(other_admin, "dee", roles=lcloud_admin)
    assert await counts(admin) == {
        "all": 3,
        "active": 3,
        "disabled": 0,
        "lcloud": 3,
        "teachers": 1,
        "administrators": 2,
    }

    await admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { users { id } } }",
        ids=[ana["id"], bob["id"]],
    )
    await admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { users { id } } }", ids=[ana["id"]]
    )
    assert await counts(admin) == {
        "all": 3,
        "active": 1,
        "disabled": 2,
        "lcloud": 3,
        "teachers": 1,
        "administrators": 2,
    }

    await admin.data(
        "mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { deletedIds } }", ids=[bob["id"]]
    )
    assert await counts(admin) == {
        "all": 2,
        "active": 1,
        "disabled": 1,
        "lcloud": 2,
        "teachers": 1,
        "administrators": 1,
    }


async def test_counts_follow_bulk_sql(admin: Api, acme: Tenant, db_url: str) -> None:
    """Imports write with set-based SQL; the counters are kept by the database itself."""
    conn = await connect(db_url)
    try:
        await conn.execute(
            """INSERT INTO users (tenant_id, username, email, first_name, last_name, status)
               SELECT $1, 'u' || n, 'u' || n || '@example.com', 'U', 'N',
                      CASE WHEN n % 4 = 0 THEN 'DISABLED' ELSE 'ACTIVE' END
               FROM generate_series(1, 200) n""",
            acme.id,
        )
        await conn.execute("UPDATE users SET status = 'DISABLED' WHERE username IN ('u1', 'u2')")
        await conn.execute("DELETE FROM users WHERE username IN ('u4', 'u8', 'u3')")
    finally:
        await conn.close()
    result = await counts(admin)
    assert (result["all"], result["active"], result["disabled"]) == (197, 147, 50)
