"""The asyncpg pool, with the codecs every connection needs."""

import json
from typing import Any, TypeAlias

import asyncpg
import orjson
from asyncpg import Connection, Pool, Record
from asyncpg.pool import PoolConnectionProxy

from db.tenancy import TenantConnection

# What db/ functions take: a plain connection or one borrowed from the pool.
Conn: TypeAlias = "Connection[Record] | PoolConnectionProxy[Record]"


def _json_loads(text: str) -> Any:
    # orjson, several times faster on every user's attributes; json for what orjson refuses
    # and PostgreSQL allows (numbers past 64 bits).
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _json_dumps(value: Any) -> str:
    # orjson, ten times faster on an event's data (an import writes one a row); json for what
    # orjson refuses (numbers past 64 bits, keys that are not strings). The text differs in
    # its spaces only, which jsonb does not keep (and in a float NaN, which orjson writes as
    # null where PostgreSQL refused json's NaN: no such value reaches here, attributes are
    # strings and events are built from checked fields).
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


# The array types db/ passes as parameters. asyncpg knows text[] but looks each of these up in
# the catalogue the first time a statement uses it on a connection, some 13 ms a lookup: a
# filter's first count on a fresh connection (`platform_id = ANY($2::uuid[])`) took 30 ms
# instead of 15. One statement naming them all makes that a single lookup, when the connection
# opens rather than within a request.
_ARRAY_PARAMETERS = "SELECT " + ", ".join(
    f"${i}::{t}[] IS NULL"
    for i, t in enumerate(("uuid", "int", "bigint", "smallint", "jsonb", "timestamptz"), 1)
)


async def _init_connection(conn: Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=_json_dumps, decoder=_json_loads, schema="pg_catalog"
        )
    # After the codecs: jsonb[] is looked up with jsonb's own.
    await conn.fetchrow(_ARRAY_PARAMETERS, *[None] * _ARRAY_PARAMETERS.count("$"))


async def _keep_session(conn: Connection) -> None:
    """Instead of asyncpg's reset query on release (advisory locks, cursors, LISTEN, settings),
    for a pool whose users leave none of these behind: an open transaction is still rolled
    back by asyncpg itself."""


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    custom_plans: bool = False,
    session_state: bool = True,
    role: str | None = None,
) -> Pool:
    """`custom_plans` for the API, whose searches need them; not for bulk writes: PostgreSQL's
    foreign key checks run through the plan cache too, and planning each row's check again made
    inserting 5,000 roles take 130 ms instead of 40.

    `session_state=False` for the API, which takes no session advisory lock, LISTENs on Redis
    rather than PostgreSQL, and sets nothing per session: its connections then go back to the
    pool without a reset query, a round trip on every release (~7% of a page's CPU with the
    token look-up).

    No pool compiles with JIT: a statement's estimated cost can pass jit_above_cost where it
    runs in milliseconds, and compiling then takes far longer. A search's (counting a filtered
    search in a sample is costed at 500,000): 420 ms of a 20 ms statement; a revert's look-up
    of a page's later events, costed as the events an import adds grow unanalysed: 130 to 260
    ms of a 10 ms statement, on each of a million-row revert's 500 pages.

    `role` (db.tenancy.APP_ROLE for the API and the worker): the role every connection acts as,
    whatever role the DSN names, from its first statement (a startup parameter: RESET ALL or
    RESET ROLE go back to it, not to the DSN's)."""
    settings = {"jit": "off"}
    if custom_plans:
        settings["plan_cache_mode"] = "force_custom_plan"
    if role is not None:
        settings["role"] = role
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=None if session_state else _keep_session,
        # asyncpg prepares every statement, and after five runs PostgreSQL may switch to a
        # generic plan that ignores the values: for `search_text LIKE '%' || $2 || '%'` that
        # plan cannot use the trigram index and reads the whole table (6 ms -> 100 ms).
        server_settings=settings,
        # Each transaction names the organisation its task works for (db.tenancy).
        connection_class=TenantConnection,
    )
    assert pool is not None
    return pool


async def connect(dsn: str, *, role: str | None = None) -> Connection:
    """One connection with the pool's codecs, for commands that need no pool; acting as `role`
    when given (see create_pool)."""
    conn = await asyncpg.connect(
        dsn,
        connection_class=TenantConnection,
        server_settings={"role": role} if role is not None else None,
    )
    await _init_connection(conn)
    return conn


PING = "SELECT 1"


async def ping(conn: Connection) -> None:
    """One round trip to the server."""
    await conn.fetchval(PING)
