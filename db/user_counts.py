"""How many users a search covers: exactly, or exactly up to a bound and flagged above it, or
estimated from a sample."""

import math
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from db.pool import Conn
from db.search_trigrams import word_trigrams
from db.user_search import UserSearch, where_clause

# No search: every user of the tenant.
_EVERY_USER = UserSearch()

COUNT_FROM_COUNTERS = """
SELECT coalesce(sum(count), 0)::bigint FROM user_counts
WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
"""
# The (tenant, platform, role, user) index answers it. The platforms are the one given or all the
# tenant's, chosen here rather than by coalesce(): under row-level security PostgreSQL uses no
# condition in an index that holds a coalesce() (it does not know that it cannot fail).
COUNT_HOLDERS = """
SELECT count({distinct} user_id) FROM user_roles
WHERE tenant_id = $1 AND platform_id = ANY({platforms}) AND ($2::text IS NULL OR role = $2)
"""
TENANT_PLATFORMS = "ARRAY(SELECT id FROM platforms WHERE tenant_id = $1)"


def _platforms(search: UserSearch, args: list[Any]) -> str:
    """Where a count of role holders looks: the platform given (one more of `args`) or every
    platform of the tenant."""
    if search.platform_id is None:
        return TENANT_PLATFORMS
    args.append([search.platform_id])
    return f"${len(args)}::uuid[]"


async def count_users(conn: Conn, tenant_id: UUID, search: UserSearch = _EVERY_USER) -> int:
    count: int
    if replace(search, status=None) == UserSearch():
        count = await conn.fetchval(COUNT_FROM_COUNTERS, tenant_id, search.status)
        return count
    if replace(search, platform_id=None, role=None) == UserSearch():
        # One row per (user, platform, role): with both given, no user is counted twice.
        distinct = "" if search.platform_id and search.role else "DISTINCT"
        args: list[Any] = [tenant_id, search.role]
        sql = COUNT_HOLDERS.format(distinct=distinct, platforms=_platforms(search, args))
        count = await conn.fetchval(sql, *args)
        return count
    params: list[Any] = []
    where = where_clause(
        tenant_id, search, params, (await word_trigrams(conn, search.words)).probes
    )
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
    WHERE tenant_id = $1 AND platform_id = ANY({platforms}) AND ($2::text IS NULL OR role = $2)
    LIMIT $3
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
    where = where_clause(
        tenant_id, search, params, (await word_trigrams(conn, search.words)).probes
    )
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
    most = (await word_trigrams(conn, search.words)).most_matches
    if most is not None and most <= bound / 2:
        return None
    params: list[Any] = []
    where = where_clause(tenant_id, search, params)
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
    read = (bound + 1) * _ROLES_READ_PER_USER
    args: list[Any] = [tenant_id, search.role, read]
    sql = COUNT_HOLDERS_UP_TO.format(platforms=_platforms(search, args))
    row = await conn.fetchrow(sql, *args)
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
