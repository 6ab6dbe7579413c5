"""Which users a search box and an advanced filter cover: the WHERE clause and pages of them in
any order (db/user_counts.py counts them)."""

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record

from db.pool import Conn
from db.search_trigrams import word_trigrams
from db.users import USER_COLUMNS, user_columns

# Sort keys of the users connection; each has a (tenant_id, key, id) index.
ORDER_KEYS = {
    "USERNAME": "lower(username)",
    "EMAIL": "lower(email)",
    "FIRST_NAME": "lower(first_name)",
    "LAST_NAME": "lower(last_name)",
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
}


@dataclass(frozen=True, slots=True)
class UserSearch:
    """Which users a list or count covers: every word must match (see 0002_search.sql), and
    every filter given."""

    words: tuple[str, ...] = ()
    status: str | None = None
    platform_id: UUID | None = None
    # With platform_id: the role on that platform; without: on any platform.
    role: str | None = None
    email_domain: str | None = None
    language: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    welcome_email_sent: bool | None = None
    has_password: bool | None = None
    ids: tuple[UUID, ...] | None = None


def search_options(search: UserSearch) -> dict[str, Any]:
    """A search as JSON, for the job's options."""
    values = dataclasses.asdict(search)
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = value.isoformat()
        elif isinstance(value, UUID):
            values[name] = str(value)
        elif isinstance(value, tuple):
            values[name] = [str(v) for v in value]
    return values


def search_from_options(values: dict[str, Any]) -> UserSearch:
    """The search that `search_options` wrote."""
    given = dict(values)
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        if given.get(name) is not None:
            given[name] = datetime.fromisoformat(given[name])
    if given.get("platform_id") is not None:
        given["platform_id"] = UUID(given["platform_id"])
    if given.get("ids") is not None:
        given["ids"] = tuple(UUID(i) for i in given["ids"])
    given["words"] = tuple(given.get("words", ()))
    return UserSearch(**given)


# A search word as a LIKE pattern: folded first, escaped after, because folding can turn a
# character into a wildcard (full-width ％, ＿ and ＼ become %, _ and \), which must still match
# literally.
_ESCAPED = "replace(replace(replace({}, '\\', '\\\\'), '%', '\\%'), '_', '\\_')"
_LIKE_WORD = "'%' || " + _ESCAPED.format("roster_fold({})") + " || '%'"
# A word holding an @ matches where the rest of the word begins an e-mail's domain, or what
# follows a username's first @, or else in a user with another @ (see 0011_search_at_words.sql):
# three indexes that find few users, where the trigram index would read the long posting lists
# of `.es` or `col`. The word itself is then checked on those users only: written so (`|| ''`)
# that no index serves it, or PostgreSQL would still intersect them with the trigram index.
_AT_WORD = (
    "search_text || '' LIKE {pattern}"
    " AND (roster_fold(split_part(email, '@', 2)) LIKE {prefix}"
    " OR split_part(roster_fold(username), '@', 2) LIKE {prefix}"
    " OR strpos(roster_fold(first_name || last_name)"
    " || substr(roster_fold(username), strpos(roster_fold(username), '@') + 1), '@') > 0)"
)


# A long word looked up by its rarest trigrams (`probes`, each a LIKE pattern the word implies:
# see 0012_search_rare_trigrams.sql), and checked whole on the rows they find, written so
# (`|| ''`) that no index serves the check, or PostgreSQL would read all its trigrams again.
_PROBED_WORD = "{probes} AND search_text || '' LIKE {pattern}"


def where_clause(
    tenant_id: UUID,
    search: UserSearch,
    params: list[Any],
    probes: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The WHERE clause for `search`, its values appended to `params` as $n placeholders;
    the words in `probes` looked up in the trigram index by those patterns only."""
    in_index, on_row = _conditions(tenant_id, search, params, probes)
    return " AND ".join(in_index + on_row)


def _conditions(
    tenant_id: UUID,
    search: UserSearch,
    params: list[Any],
    probes: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[str], list[str]]:
    """The conditions of `search` (as where_clause): those on tenant_id and search_text alone, which
    the walked order indexes hold (0013_search_walks_in_index.sql), and the others."""

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    in_index = [f"tenant_id = {param(tenant_id)}"]
    clauses: list[str] = []
    # Checked after the plain filters, in this order: a sample evaluates the conditions as
    # written, and a role check is an index probe per row (the sample of a filtered search
    # took 17-21 ms with it before the language, 12 ms after).
    costly: list[str] = []
    for word in search.words:
        pattern = _LIKE_WORD.format(param(word))
        _, at, domain = word.partition("@")
        if at and domain:
            prefix = _ESCAPED.format(f"roster_fold({param(domain)})") + " || '%'"
            costly.append(_AT_WORD.format(prefix=prefix, pattern=pattern))
        elif probes and word in probes:
            probe = " AND ".join(f"search_text LIKE {param(p)}" for p in probes[word])
            in_index.append(_PROBED_WORD.format(probes=probe, pattern=pattern))
        else:
            in_index.append(f"search_text LIKE {pattern}")
    if search.status is not None:
        clauses.append(f"status = {param(search.status)}")
    if search.platform_id is not None or search.role is not None:
        role_clauses = ["r.tenant_id = users.tenant_id", "r.user_id = users.id"]
        if search.platform_id is not None:
            role_clauses.append(f"r.platform_id = {param(search.platform_id)}")
        if search.role is not None:
            role_clauses.append(f"r.role = {param(search.role)}")
        costly.append(f"EXISTS (SELECT 1 FROM user_roles r WHERE {' AND '.join(role_clauses)})")
    if search.email_domain is not None:
        clauses.append(f"lower(split_part(email, '@', 2)) = lower({param(search.email_domain)})")
    if search.language is not None:
        clauses.append(f"lower(language) = lower({param(search.language)})")
    for column, bound, operator in (
        ("created_at", search.created_after, ">"),
        ("created_at", search.created_before, "<"),
        ("updated_at", search.updated_after, ">"),
        ("updated_at", search.updated_before, "<"),
    ):
        if bound is not None:
            clauses.append(f"{column} {operator} {param(bound)}")
    if search.welcome_email_sent is not None:
        negation = "NOT " if search.welcome_email_sent else ""
        clauses.append(f"welcome_email_sent_at IS {negation}NULL")
    if search.has_password is not None:
        clauses.append(f"password_hash IS {'NOT ' if search.has_password else ''}NULL")
    if search.ids is not None:
        clauses.append(f"id = ANY({param(list(search.ids))}::uuid[])")
    return in_index, clauses + costly


_WALK = "; ".join(
    f"SET LOCAL {setting}"
    for setting in (
        "enable_bitmapscan = off",
        "enable_seqscan = off",
        "enable_sort = off",
        "max_parallel_workers_per_gather = 0",
    )
)
_LOOK_UP = "SET LOCAL enable_indexscan = off"
# A filtered page, as PostgreSQL plans it but in one process: walking an order index in
# parallel for a filter that one user in sixty passes, each worker read ahead of the page on
# its own, 15,800 users and role look-ups for 51 rows (100 ms instead of 15).
_SERIAL = "SET LOCAL max_parallel_workers_per_gather = 0"


async def list_users(
    conn: Conn,
    tenant_id: UUID,
    *,
    search: UserSearch = UserSearch(),
    order: str,
    descending: bool,
    after: tuple[Any, UUID] | None,
    limit: int,
    many: bool | None = None,
    count_matches: bool = False,
    fields: Collection[str] | None = None,
) -> list[Record]:
    """A page of the users `search` covers in (sort key, id) order, starting after the key
    `after`; each row carries its `sort_key`, from which the caller builds cursors.

    `many`, whether many users match the words or filters (as a count or a guess of it says),
    chooses how the page is read. Many: by walking the sort key's index and checking the words
    on each row, which meets a page of García within the first few thousand rows. Few: by
    looking every match up in the trigram index (or, for filters alone, the filters' indexes)
    and sorting them, where a walk could read the whole tenant before it met 51 "maria garcia"
    (8 s: PostgreSQL guesses the matches of a substring from 100 sampled values, and guessed
    4,000, not 1,076), or 12,000 users before 51 updated since March (25-70 ms, 8 the few
    matches' way). None: as PostgreSQL plans it, without parallel workers where filters are
    checked.

    `fields`: the names of USER_FIELDS the caller needs, where not all (the id always comes).

    `count_matches`, for a first page read the "few" way: each row also carries `matched`, how
    many users the search covers, counted from the matches that plan reads anyway (rather than
    by a second lookup of them all)."""
    if count_matches and (many is not False or after is not None):
        raise ValueError("count_matches needs a first page read the few matches' way")
    key = ORDER_KEYS[order]
    direction, compare = ("DESC", "<") if descending else ("ASC", ">")
    params: list[Any] = []
    # Only a plan that looks the matches up in the trigram index gains by probes; a walk would
    # check them on every row it reads.
    probes = (await word_trigrams(conn, search.words)).probes if many is False else None
    in_index, on_row = _conditions(tenant_id, search, params, probes)
    words_in_index = len(in_index) > 1
    if after is not None:
        params.extend(after)
        in_index.append(f"({key}, id) {compare} (${len(params) - 1}, ${len(params)})")
    params.append(limit)
    order_by = f"{key} {direction}, id {direction}"
    columns = USER_COLUMNS if fields is None else user_columns(fields)
    if many and words_in_index:
        # The walk checks the words on the sort key's index entries alone, where the index
        # holds search_text (0013): only the users that hold them are read from the table,
        # and checked against the rest there. OFFSET 0 keeps the walk a query of its own.
        sql = (
            f"SELECT {columns}, walked.sort_key FROM ("
            f"SELECT id, {key} AS sort_key FROM users WHERE {' AND '.join(in_index)}"
            f" ORDER BY {order_by} OFFSET 0) walked JOIN users USING (id)"
            f" WHERE {' AND '.join(on_row) or 'true'}"
            f" ORDER BY walked.sort_key {direction}, walked.id {direction} LIMIT ${len(params)}"
        )
    elif many is False and not search.words:
        # Filters few users pass: all of them, through the filters' indexes, then sorted.
        # OFFSET 0 keeps the planner from walking the order's index for them instead.
        sql = (
            f"SELECT * FROM (SELECT {columns}, {key} AS sort_key FROM users"
            f" WHERE {' AND '.join(in_index + on_row)} OFFSET 0) few"
            f" ORDER BY sort_key {direction}, id {direction} LIMIT ${len(params)}"
        )
    else:
        sql = (
            f"SELECT {columns}, {key} AS sort_key"
            f"{', count(*) OVER () AS matched' if count_matches else ''} FROM users"
            f" WHERE {' AND '.join(in_index + on_row)} ORDER BY {order_by} LIMIT ${len(params)}"
        )
    if many is None and not on_row:
        return await conn.fetch(sql, *params)
    async with conn.transaction():
        if many:
            await conn.execute(_WALK)
        elif many is False and search.words:
            await conn.execute(_LOOK_UP)
        else:
            await conn.execute(_SERIAL)
        return await conn.fetch(sql, *params)


def search_condition(tenant_id: UUID, search: UserSearch, params: list[Any]) -> str:
    """The WHERE condition of `search` over `users`, for other modules' queries over the same
    users (the export): one search, the values appended to `params` as $n placeholders."""
    return where_clause(tenant_id, search, params)
