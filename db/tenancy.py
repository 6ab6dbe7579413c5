"""Which organisation a task works for, and the connections that tell PostgreSQL so in every
transaction (migration 0018: row-level security).

Every per-organisation table lets the role `roster_app` see and write only the rows of the
organisation named by the setting `roster.tenant_id`, which lives as long as the transaction
that set it. The API and the worker run as `roster_app`; a task says once whom it works for
(`act_for`: the API when it has the caller, the worker when it has the job), and every
transaction of a TenantConnection it then opens sets that organisation first, at no cost in round
trips where it can: an explicit transaction in the round trip of its BEGIN, a lone SELECT
within itself (`_lone_select`); any other lone statement in a transaction of its own around it.
A task that works for nobody sets nothing, and `roster_app` sees no row of any organisation and
can write none: the few paths that span organisations go through the functions migration 0018
names.

A task's organisation is a context variable, so the tasks it starts (DataLoaders, a page's
counts, an import's writers) work for the same one, and nothing else does."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from asyncpg import Connection, Record

# The role the API and the worker act as (migration 0018, `roster migrate`): it owns nothing
# and cannot bypass row-level security, whatever role DATABASE_URL names.
APP_ROLE = "roster_app"
SETTING = "roster.tenant_id"

# The organisation's id as text, as statements give it to set_config.
_working_for: ContextVar[str | None] = ContextVar("roster_tenant", default=None)


def _text(tenant_id: UUID) -> str:
    if not isinstance(tenant_id, UUID):
        # It goes into SQL text (_set_sql): a UUID's text is hex digits and dashes only.
        raise TypeError(f"an organisation is a UUID, not {type(tenant_id).__name__}")
    return str(tenant_id)


def act_for(tenant_id: UUID) -> None:
    """From here on, this task and the tasks it starts work for `tenant_id`."""
    _working_for.set(_text(tenant_id))


@contextmanager
def acting_for(tenant_id: UUID | None) -> Iterator[None]:
    """Works for `tenant_id` (None: for nobody) while the block runs."""
    token = _working_for.set(None if tenant_id is None else _text(tenant_id))
    try:
        yield
    finally:
        _working_for.reset(token)


def _set_sql(tenant: str) -> str:
    return f"SELECT set_config('{SETTING}', '{tenant}', true)"


# A lone SELECT that sets the organisation of its own (implicit) transaction before it reads: the
# setting is the first side of a join, and the query its LATERAL second side, which refers to the
# first and so runs only after it has produced its row (a nested loop, the query's rows in the
# query's order). OFFSET 0 keeps PostgreSQL from merging either side into the other, which could
# move the query's scans, and the policies' conditions with them, ahead of the setting. One round
# trip, as the statement alone: in a transaction of its own, a lone read takes two more, which
# made a page of users cost the API a third more CPU (bench/users_page.py).
_LONE_SELECT = (
    "SELECT roster_q.* FROM (SELECT set_config('" + SETTING + "', ${n}, true) AS tenant OFFSET 0)"
    " AS roster_as CROSS JOIN LATERAL (SELECT * FROM ({query}) AS roster_read"
    " WHERE roster_as.tenant IS NOT NULL OFFSET 0) AS roster_q"
)


@lru_cache(maxsize=1024)
def _lone_select(query: str, args: int) -> str | None:
    """The SELECT `query` (of `args` parameters), as one that names the organisation (one more
    parameter) before it reads; None for any other statement."""
    text = query.strip()
    if text[:6].upper() != "SELECT":
        return None
    return _LONE_SELECT.format(n=args + 1, query=text.rstrip(";"))


SET_TENANT = f"SELECT set_config('{SETTING}', $1, true)"


async def switch_tenant(conn: Any, tenant_id: UUID) -> None:
    """Within the caller's transaction, works for `tenant_id` from here on: for the paths that
    span organisations in one transaction (a console sign-in, the welcome e-mail pass)."""
    if not conn.is_in_transaction():
        raise RuntimeError("switch_tenant outside a transaction would last one statement")
    await conn.execute(SET_TENANT, str(tenant_id))


if TYPE_CHECKING:
    _Connection = Connection[Record]
else:
    _Connection = Connection


class TenantConnection(_Connection):
    """An asyncpg connection whose every transaction, while its task works for an organisation,
    sets `roster.tenant_id` first: a transaction asyncpg begins, in the round trip of its BEGIN;
    a lone SELECT (fetch, fetchrow, fetchval), within itself; any other lone statement in a
    transaction of its own (two more round trips: BEGIN with the setting, COMMIT). Working for
    nobody, it is a plain asyncpg connection."""

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
        tenant = _working_for.get()
        if tenant is None or self.is_in_transaction():
            return await super().execute(query, *args, **kwargs)
        if not args and query.startswith("BEGIN"):
            # asyncpg's Transaction.start, which sends its BEGIN through execute.
            return await super().execute(f"{query}; {_set_sql(tenant)}", **kwargs)
        async with self.transaction():
            return await super().execute(query, *args, **kwargs)

    async def executemany(self, command: str, args: Any, **kwargs: Any) -> None:
        if _working_for.get() is None or self.is_in_transaction():
            return await super().executemany(command, args, **kwargs)
        async with self.transaction():
            return await super().executemany(command, args, **kwargs)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> Any:
        tenant = _working_for.get()
        if tenant is None or self.is_in_transaction():
            return await super().fetch(query, *args, **kwargs)
        lone = _lone_select(query, len(args))
        if lone is not None:
            return await super().fetch(lone, *args, tenant, **kwargs)
        async with self.transaction():
            return await super().fetch(query, *args, **kwargs)

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        tenant = _working_for.get()
        if tenant is None or self.is_in_transaction():
            return await super().fetchrow(query, *args, **kwargs)
        lone = _lone_select(query, len(args))
        if lone is not None:
            return await super().fetchrow(lone, *args, tenant, **kwargs)
        async with self.transaction():
            return await super().fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        tenant = _working_for.get()
        if tenant is None or self.is_in_transaction():
            return await super().fetchval(query, *args, **kwargs)
        lone = _lone_select(query, len(args))
        if lone is not None:
            return await super().fetchval(lone, *args, tenant, **kwargs)
        async with self.transaction():
            return await super().fetchval(query, *args, **kwargs)

    async def copy_from_query(self, query: str, *args: Any, **kwargs: Any) -> str:
        if _working_for.get() is None or self.is_in_transaction():
            return await super().copy_from_query(query, *args, **kwargs)
        async with self.transaction():
            return await super().copy_from_query(query, *args, **kwargs)

    async def copy_records_to_table(self, table_name: str, **kwargs: Any) -> str:
        if _working_for.get() is None or self.is_in_transaction():
            return await super().copy_records_to_table(table_name, **kwargs)
        async with self.transaction():
            return await super().copy_records_to_table(table_name, **kwargs)

    async def reset(self, *, timeout: float | None = None) -> None:
        # A pool's reset on release runs in the releasing task: its statements are the
        # session's own, in no organisation's transaction.
        with acting_for(None):
            await super().reset(timeout=timeout)
