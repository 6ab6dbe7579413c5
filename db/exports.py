"""CSV exports: the users a search covers, streamed as CSV by PostgreSQL's COPY, their expiry,
and the key that signs download links."""

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from db.pool import Conn
from db.user_search import ORDER_KEYS, UserSearch, search_condition
from db.users import PROFILE_COLUMNS

# The user columns an export may write as they are; "attributes" goes out one key at a time.
PLAIN_COLUMNS = frozenset((*PROFILE_COLUMNS, "status")) - {"attributes"}
# A user's roles as the `roles` column holds them: platform:role pairs, sorted, joined by |.
# Lateral, so that the value is computed once however often the cell expression names it.
ROLES_JOIN = """
LEFT JOIN LATERAL (
    SELECT string_agg(p.key || ':' || r.role, '|' ORDER BY p.key, r.role) AS roles_cell
    FROM user_roles r JOIN platforms p ON p.tenant_id = r.tenant_id AND p.id = r.platform_id
    WHERE r.tenant_id = users.tenant_id AND r.user_id = users.id
) AS export_roles ON true
"""

# Where COPY's bytes go, as they come.
Sink = Callable[[bytes], Coroutine[Any, Any, None]]

ATTACH_FILE = "UPDATE jobs SET file_id = $2, updated_at = now() WHERE id = $1"
SET_EXPIRY = """
UPDATE jobs SET expires_at = now() + make_interval(secs => $2), updated_at = now() WHERE id = $1
"""
# Every organisation's (0018).
DELETE_EXPIRED_FILES = "SELECT roster_delete_expired_export_files()"
# Only a superuser or the backend's own login role may cancel it: through 0018's function.
CANCEL_QUERY = "SELECT roster_cancel_backend($1)"


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: a user column (`field`: one of PLAIN_COLUMNS, or "roles"), one key
    of the attributes (`attribute`), or neither: a column written empty."""

    field: str | None = None
    attribute: str | None = None

    def __post_init__(self) -> None:
        if self.field is not None and self.field not in PLAIN_COLUMNS | {"roles"}:
            raise ValueError(f"not exportable: {self.field}")


def _cell(column: Column, param: Callable[[Any], str]) -> str:
    if column.attribute is not None:
        return f"coalesce(users.attributes ->> {param(column.attribute)}, '')"
    if column.field == "roles":
        return "coalesce(export_roles.roles_cell, '')"
    if column.field is None:
        return "''"
    return f"coalesce(users.{column.field}, '')"


def _neutralised(cell: str, starts: str) -> str:
    # ascii() is the first character's code point (0 for ''): integer comparisons, cheap on a
    # million rows.
    return f"CASE WHEN ascii({cell}) = ANY({starts}::int[]) THEN '''' || {cell} ELSE {cell} END"


def export_query(
    tenant_id: UUID,
    search: UserSearch,
    columns: Sequence[Column],
    *,
    order: str,
    descending: bool,
    neutralise: Sequence[str],
) -> tuple[str, list[Any]]:
    """The SELECT of the export (SQL and its $n values): one text cell per column, never NULL
    (so that COPY quotes every cell, as Roster's CSV dialect does), and a cell starting with
    one of the `neutralise` characters prefixed with '."""
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    where = search_condition(tenant_id, search, params)
    starts = param([ord(c) for c in neutralise])
    cells = [_neutralised(_cell(c, param), starts) for c in columns]
    joins = ROLES_JOIN if any(c.field == "roles" for c in columns) else ""
    key = ORDER_KEYS[order]
    direction = "DESC" if descending else "ASC"
    sql = (
        f"SELECT {', '.join(cells)} FROM users {joins} WHERE {where}"
        f" ORDER BY {key} {direction}, users.id {direction}"
    )
    return sql, params


async def copy_csv(
    conn: Conn,
    sql: str,
    params: Sequence[Any],
    output: Sink,
) -> int:
    """Runs `sql` (from export_query) through COPY … TO STDOUT as CSV, every cell quoted,
    handing the bytes to `output` as they come (output applies back-pressure: PostgreSQL waits
    while it works). Returns the number of rows PostgreSQL says it wrote."""
    status = await conn.copy_from_query(
        sql, *params, output=output, format="csv", force_quote=True, encoding="UTF8"
    )
    return int(status.split()[-1])


async def cancel_query(conn: Conn, pid: int) -> None:
    """Cancels the statement backend `pid` runs (a COPY of copy_csv), if it still runs one."""
    await conn.execute(CANCEL_QUERY, pid)


async def attribute_keys(conn: Conn, tenant_id: UUID, search: UserSearch) -> list[str]:
    """The attribute keys the users `search` covers have, sorted."""
    params: list[Any] = []
    where = search_condition(tenant_id, search, params)
    rows = await conn.fetch(
        f"SELECT DISTINCT k FROM users, jsonb_object_keys(users.attributes) AS k WHERE {where}"
        " ORDER BY k",
        *params,
    )
    return [r["k"] for r in rows]


async def attach_file(conn: Conn, job_id: UUID, file_id: UUID) -> None:
    await conn.execute(ATTACH_FILE, job_id, file_id)


async def set_expiry(conn: Conn, job_id: UUID, ttl_seconds: float) -> None:
    """The job's file expires `ttl_seconds` from now."""
    await conn.execute(SET_EXPIRY, job_id, ttl_seconds)


async def delete_expired_files(conn: Conn) -> int:
    """Deletes the files of exports past their expiry, any organisation's; returns how many."""
    deleted: int = await conn.fetchval(DELETE_EXPIRED_FILES)
    return deleted
