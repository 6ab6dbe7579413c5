"""The API's pool: connections ready for the statements db/ sends, before a request uses them."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from asyncpg import Connection

from db.pool import create_pool


async def test_array_parameters_need_no_lookup_within_a_request(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # asyncpg looks an array type up in the catalogue on its first use on a connection
    # (13 ms): a pool connection has done so when it opens, not in a request's first filter.
    pool = await create_pool(db_url, min_size=1, max_size=1, custom_plans=True)
    lookups: list[Any] = []
    original = Connection._introspect_types

    async def counted(self: Connection, *args: Any, **kwargs: Any) -> Any:
        lookups.append(args[0])
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "_introspect_types", counted)
    try:
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT $1::uuid[] AS ids, $2::int[] AS ns, $3::jsonb[] AS docs,"
                " $4::timestamptz[] AS times, $5::bigint[] AS bigs, $6::smallint[] AS smalls",
                [uuid.UUID(int=1)],
                [1],
                [{"a": [1]}],
                [datetime(2026, 1, 1, tzinfo=UTC)],
                [2**40],
                [3],
            )
    finally:
        await pool.close()
    assert row is not None
    assert row["ids"] == [uuid.UUID(int=1)] and row["docs"] == [{"a": [1]}]
    assert lookups == []
