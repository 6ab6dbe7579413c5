"""Which users a search box and an advanced filter cover: the WHERE clause, pages of them in
any order, and how many they are, exactly or up to a bound."""

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record

from db.pool import Conn
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


def _where(
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
    """The conditions of `search` (as _where): those on tenant_id and search_text alone, which
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
        role_clauses = ["r.user_id = users.id"]
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


# Each word's trigrams of three letters or digits (those the sample of 0012 counted), rarest
# first, with the users the rarest are on, estimated in every tenant together. Counted no
# longer once the users have doubled since the sample.
_TRIGRAMS = """
SELECT w.n, c.trigram, counted.trusted,
       coalesce((SELECT share FROM search_trigrams s WHERE s.trigram = c.trigram), 0)
           * counted.users AS users
FROM unnest($1::text[]) WITH ORDINALITY AS w(word, n)
CROSS JOIN LATERAL (
    SELECT DISTINCT substr(f.folded, p, 3) AS trigram
    FROM (SELECT roster_fold(w.word) AS folded) f, generate_series(1, length(f.folded) - 2) p
) c
CROSS JOIN (
    SELECT coalesce(sum(count), 0) AS users,
           coalesce(sum(count), 0) < 2 * (SELECT users FROM search_trigrams_sampled) AS trusted
    FROM user_counts
) counted
WHERE c.trigram ~ '^[a-z0-9]{3}$'
ORDER BY w.n, users, c.trigram
"""
# A word is looked up by this many of its rarest trigrams, when it has more than twice as many:
# a short one ("garcia") is read almost as fast whole, and every probe is one more pattern
# each row found is checked against.
_PROBES = 3
SAMPLE_TRIGRAMS = "SELECT roster_sample_search_trigrams($1)"


@dataclass(frozen=True, slots=True)
class _Trigrams:
    """What the trigram statistics say of a search's words."""

    # The LIKE patterns of the rarest trigrams of each long word.
    probes: dict[str, tuple[str, ...]]
    # At most about how many users (of every tenant) match every word, from the rarest trigram
    # of the rarest word; None when no word has a trigram or the statistics are stale.
    most_matches: float | None


async def _trigrams(conn: Conn, words: Sequence[str]) -> _Trigrams:
    rows = await conn.fetch(_TRIGRAMS, list(words)) if words else []
    by_word: dict[int, list[Record]] = {}
    for row in rows:
        by_word.setdefault(row["n"], []).append(row)
    probes = {
        words[n - 1]: tuple(f"%{r['trigram']}%" for r in found[:_PROBES])
        for n, found in by_word.items()
        if len(found) > 2 * _PROBES
    }
    trusted = bool(rows) and rows[0]["trusted"]
    most = min((found[0]["users"] for found in by_word.values()), default=None)
    return _Trigrams(probes, most if trusted else None)


async def sample_trigrams(conn: Conn, *, force: bool = False) -> bool:
    """Samples which trigrams are rare again, if the users have doubled since the last time
    (or `force`); whether it did. A second or so at a million users."""
    sampled: bool = await conn.fetchval(SAMPLE_TRIGRAMS, force)
    return sampled


COUNT_FROM_COUNTERS = """
SELECT coalesce(sum(count), 0)::bigint FROM user_counts
WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
"""
# Roles only ever point at users of their platform's tenant, so the platform (or the tenant's
# platforms) alone scopes the count, and the (platform, role, user) index answers it.
COUNT_HOLDERS = """
SELECT count({distinct} user_id) FROM user_roles
WHERE platform_id = ANY(coalesce($2::uuid[], ARRAY(SELECT id FROM platforms WHERE tenant_id = $1)))
  AND ($3::text IS NULL OR role = $3)
"""


async def count_users(conn: Conn, tenant_id: UUID, search: UserSearch = UserSearch()) -> int:
    count: int
    if replace(search, status=None) == UserSearch():
        count = await conn.fetchval(COUNT_FROM_COUNTERS, tenant_id, search.status)
        return count
    if replace(search, platform_id=None, role=None) == UserSearch():
        # One row per (user, platform, role): with both given, no user is counted twice.
        distinct = "" if search.platform_id and search.role else "DISTINCT"
        platform_ids = [search.platform_id] if search.platform_id else None
        count = await conn.fetchval(
            COUNT_HOLDERS.format(distinct=distinct), tenant_id, platform_ids, search.role
        )
        return count
    params: list[Any] = []
    where = _where(tenant_id, search, params, (await _trigrams(conn, search.words)).probes)
    count = await conn.fetchval(f"SELECT count(*) FROM users WHERE {where}", *params)
    return count


@dataclass(frozen=True, slots=True)
class BoundedCount:
    """How many users match, counted no further than a bound: exactly `value` (EQ), at least
    `value` (GTE: counting stopped at the bound), or about `value` (ESTIMATE: from a sample,
    well above the bound)."""

    value: int
    relation: str


# The same counts as above, stopping once they pass the bound: a console shows "10,000+"
# at once where an exact count of 500,000 users would read them all.
COUNT_HOLDERS_UP_TO = """
SELECT count(DISTINCT user_id) AS users, count(*) AS roles FROM (
    SELECT user_id FROM user_roles
    WHERE platform_id = ANY(
        coalesce($2::uuid[], ARRAY(SELECT id FROM platforms WHERE tenant_id = $1))
    ) AND ($3::text IS NULL OR role = $3)
    LIMIT $4
) held
"""
# A user holds a few roles at most: this many role rows name more than the bound's users.
_ROLES_READ_PER_USER = 2
# Words, unlike filters, have no index that yields matches one by one: counting 10,000 García
# out of 84,000 still rechecks 10,000 rows in the table (a trigram match is lossy), some 4,000
# pages. So a search's matches are first counted in a fixed sample of the table's pages
# (~800, 2% of a million users, ~23,000 rows; the same pages each time, so the figure does not
# flicker), and only a search the sample cannot place well above the bound is counted for real.
# PostgreSQL's own guess cannot stand in: it matches the words against 100 sampled values,
# and finds none of a word on 1% of the users one time in three.
_SAMPLE = """
SELECT count(*) FILTER (WHERE {where}) AS matched,
       count(*) FILTER (WHERE tenant_id = $1) AS sampled,
       (SELECT coalesce(sum(count), 0) FROM user_counts WHERE tenant_id = $1) AS users
FROM users TABLESAMPLE SYSTEM ((
    SELECT least(100, {pages} * 100 / greatest(relpages, 1)::real) FROM pg_class
    WHERE oid = 'users'::regclass
)) REPEATABLE (0)
"""
# A quarter of the pages first (the same seed samples a subset of the same pages): enough to
# place a common surname well above the bound, or a rare pair of words well below it, at a
# quarter of the cost (~20 ms a sample at a million users); the rest only when it cannot tell.
_SAMPLE_PAGES = (200, 800)
# Fewer of the tenant's users than this in the sample say too little: count for real.
_SAMPLED_ENOUGH = 1000
# Matches in a sample vary by about their square root: an estimate stands only when it is
# this many of those above the bound, so that a count below the bound is exact in practice.
_MARGIN = 4


async def count_users_up_to(
    conn: Conn, tenant_id: UUID, search: UserSearch, bound: int
) -> BoundedCount:
    """The count of `search`, exact up to `bound` and `bound` as a lower bound above it; exact
    above it too where counters answer without reading users. (For words, estimate_matches
    first: this counts every match up to the bound.)"""
    if replace(search, status=None) == UserSearch():
        return BoundedCount(await count_users(conn, tenant_id, search), "EQ")
    if replace(search, platform_id=None, role=None) == UserSearch():
        return await _count_holders_up_to(conn, tenant_id, search, bound)
    params: list[Any] = []
    where = _where(tenant_id, search, params, (await _trigrams(conn, search.words)).probes)
    params.append(bound + 1)
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM (SELECT FROM users WHERE {where} LIMIT ${len(params)}) matched",
        *params,
    )
    return bounded_count(count, bound)


async def estimate_matches(
    conn: Conn, tenant_id: UUID, search: UserSearch, bound: int
) -> BoundedCount | None:
    """How many users `search` covers, estimated from a sample of the table, when the sample
    places them well above `bound`; None when they must be counted. Without the sample when
    the words' rarest trigrams are on too few users for that."""
    most = (await _trigrams(conn, search.words)).most_matches
    if most is not None and most <= bound / 2:
        return None
    params: list[Any] = []
    where = _where(tenant_id, search, params)
    for pages in _SAMPLE_PAGES:
        row = await conn.fetchrow(_SAMPLE.format(where=where, pages=pages), *params)
        assert row is not None
        matched, sampled = row["matched"], row["sampled"]
        if sampled < _SAMPLED_ENOUGH or not row["users"]:
            continue
        at_bound = bound * sampled / row["users"]
        spread = _MARGIN * math.sqrt(matched)
        if matched - spread > at_bound:
            return BoundedCount(_significant(matched * row["users"] / sampled), "ESTIMATE")
        if matched + spread < at_bound:
            return None
    return None


async def _count_holders_up_to(
    conn: Conn, tenant_id: UUID, search: UserSearch, bound: int
) -> BoundedCount:
    platform_ids = [search.platform_id] if search.platform_id else None
    read = (bound + 1) * _ROLES_READ_PER_USER
    row = await conn.fetchrow(COUNT_HOLDERS_UP_TO, tenant_id, platform_ids, search.role, read)
    assert row is not None
    if row["users"] > bound:
        return BoundedCount(bound, "GTE")
    if row["roles"] < read:
        return BoundedCount(row["users"], "EQ")
    # Few users with many roles each: count them for real.
    return bounded_count(await count_users(conn, tenant_id, search), bound)


def bounded_count(count: int, bound: int) -> BoundedCount:
    """An exact count, as a count up to `bound` reads it."""
    return BoundedCount(count, "EQ") if count <= bound else BoundedCount(bound, "GTE")


def _significant(estimate: float) -> int:
    """Two significant digits: 83,412.7 reads 83,000, which claims no more than it knows."""
    digits = max(len(str(int(estimate))) - 2, 0)
    return int(round(estimate, -digits))


# The trigram index is only ever read through bitmaps; the walk is an index scan. Within
# OFFSET 0 the walk is planned as if every match were read, not 51: PostgreSQL, its guess of
# the matches of '%alvarez%' 300 times too low, then read the whole table and sorted it
# (550 ms), or split the walk between workers (25 ms instead of 4). A walk needs none of these.
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

    `many`, whether many users match the words (as a count or a guess of it says), chooses how
    the page is read. Many: by walking the sort key's index and checking the words on each
    row, which meets a page of García within the first few thousand rows. Few: by looking every
    match up in the trigram index and sorting them, where a walk could read the whole tenant
    before it met 51 "maria garcia" (8 s: PostgreSQL guesses the matches of a substring from
    100 sampled values, and guessed 4,000, not 1,076). None: as PostgreSQL plans it.

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
    probes = (await _trigrams(conn, search.words)).probes if many is False else None
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
    else:
        sql = (
            f"SELECT {columns}, {key} AS sort_key"
            f"{', count(*) OVER () AS matched' if count_matches else ''} FROM users"
            f" WHERE {' AND '.join(in_index + on_row)} ORDER BY {order_by} LIMIT ${len(params)}"
        )
    if many is None:
        return await conn.fetch(sql, *params)
    async with conn.transaction():
        await conn.execute(_WALK if many else _LOOK_UP)
        return await conn.fetch(sql, *params)


def search_condition(tenant_id: UUID, search: UserSearch, params: list[Any]) -> str:
    """The WHERE condition of `search` over `users`, for other modules' queries over the same
    users (the export): one search, the values appended to `params` as $n placeholders."""
    return _where(tenant_id, search, params)
