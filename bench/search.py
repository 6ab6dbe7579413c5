"""Search and advanced search at 1,000,000 users: p50/p95/max per query class, through the
GraphQL endpoint over HTTP. Target (the targets Roster sets itself): p95 <= 50 ms for every class.

    .venv/bin/python bench/search.py [--users 1000000] [--reuse]

Seeds its own database (roster_bench_search on the server of DATABASE_URL) with COPY: one
tenant of --users users and a second of a tenth of that, to show isolation costs nothing.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import log_file, start_app, stop, wait_up
from bench.seed import COMMON_LAST_NAMES, ascii_fold, seed_users  # noqa: E402
from db import migrate, tenants, tokens  # noqa: E402
from db.pool import connect  # noqa: E402
from roster.auth import new_token, token_hash  # noqa: E402

SERVER = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/roster")
# Its own name, so that two people benchmarking on one server do not drop each other's data.
DB_URL = migrate._with_database(
    SERVER, os.environ.get("BENCH_SEARCH_DATABASE", "roster_bench_search")
)
PORT = 8765

# What a console asks: the first page with the count it shows ("1-50 of about 80,000").
QUERY = """
query($search: String, $filter: UserFilter, $after: String, $order: UserOrder) {
  users(first: 50, search: $search, filter: $filter, after: $after, orderBy: $order) {
    count { value relation }
    pageInfo { hasNextPage endCursor }
    edges { node { id username email firstName lastName status } }
  }
}
"""
# What a client that needs the exact figure asks: no target, reported apart.
EXACT_QUERY = """
query($search: String) {
  users(first: 50, search: $search) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id username email firstName lastName status } }
  }
}
"""


async def build(users: int, db_url: str = DB_URL) -> str:
    await migrate.drop_database(db_url)
    await migrate.create_database(db_url)
    await migrate.migrate(db_url)
    conn = await connect(db_url)
    try:
        main = await tenants.create_tenant(conn, "bench", "Bench")
        other = await tenants.create_tenant(conn, "other", "Other")
        assert main is not None and other is not None
        started = time.perf_counter()
        await seed_users(conn, main["id"], users, seed=1)
        await seed_users(conn, other["id"], users // 10, seed=2)
        print(f"seeded {users + users // 10:,} users in {time.perf_counter() - started:.0f} s")
        await conn.execute("VACUUM ANALYZE users")
        await conn.execute("VACUUM ANALYZE user_roles")
    finally:
        await conn.close()
    return await admin_token(db_url)


async def admin_token(db_url: str = DB_URL) -> str:
    conn = await connect(db_url)
    try:
        tenant = await tenants.get_tenant_by_slug(conn, "bench")
        assert tenant is not None
        token = new_token()
        await tokens.insert_token(conn, tenant["id"], "bench", "admin", token_hash(token))
        return token
    finally:
        await conn.close()


async def sample_values() -> dict[str, list[str]]:
    conn = await connect(DB_URL)
    try:
        rare = await conn.fetch(
            """SELECT last_name FROM users u JOIN tenants t ON t.id = u.tenant_id
               WHERE t.slug = 'bench' AND last_name NOT LIKE '% %'
               GROUP BY last_name HAVING count(*) BETWEEN 1 AND 20 LIMIT 40"""
        )
        emails = await conn.fetch(
            """SELECT email FROM users u JOIN tenants t ON t.id = u.tenant_id
               WHERE t.slug = 'bench' ORDER BY random() LIMIT 40"""
        )
        domains = await conn.fetch(
            """SELECT split_part(email, '@', 2) AS d FROM users TABLESAMPLE SYSTEM (1)
               GROUP BY 1 ORDER BY count(*) LIMIT 20"""
        )
    finally:
        await conn.close()
    return {
        "rare": [r["last_name"] for r in rare],
        "email": [r["email"][: max(6, r["email"].index("@") - 2)] for r in emails],
        "domain": [r["d"] for r in domains],
    }


def classes(values: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(7)
    common = [ascii_fold(n) for n in COMMON_LAST_NAMES[:8]]
    firsts = ["maria", "jose", "angel", "ines", "inigo", "sofia", "zoe", "jesus"]
    return {
        "list, first page": [{} for _ in range(20)],
        "common surname": [{"search": rng.choice(common)} for _ in range(20)],
        "rare surname": [{"search": n} for n in values["rare"][:20]],
        "e-mail prefix": [{"search": e} for e in values["email"][:20]],
        "domain": [{"search": "@" + d} for d in values["domain"][:20]],
        "accent-free": [
            {
                "search": rng.choice(
                    ["nunez", "garcia", "lopez", "martinez", "gomez", "perez", "alvarez", "diaz"]
                )
            }
            for _ in range(20)
        ],
        "two words": [{"search": f"{rng.choice(firsts)} {rng.choice(common)}"} for _ in range(20)],
        # Twenty queries a class, over the values a console offers: big and small sets alike.
        "filter: status": [{"filter": {"status": s}} for s in ["DISABLED", "ACTIVE"] * 10],
        "filter: platform": [
            {"filter": {"platform": p}} for p in ["contentcloud", "learningcloud", "lcloud"] * 7
        ][:20],
        "filter: role": [
            {"filter": {"platform": p, "role": r}}
            for p, r in [
                ("lcloud", "teacher"),
                ("lcloud", "tutor"),
                ("learningcloud", "manager"),
                ("learningcloud", "student"),
                ("contentcloud", "author"),
                ("contentcloud", "editor"),
                ("contentcloud", "reviewer"),
                ("contentcloud", "publisher"),
                ("lcloud", "administrator"),
                ("contentcloud", "administrator"),
            ]
            * 2
        ],
        "filter: role, any platform": [
            {"filter": {"role": r}}
            for r in ["tutor", "teacher", "manager", "author", "editor", "student", "publisher"] * 3
        ][:20],
        "filter: e-mail domain": [{"filter": {"emailDomain": d}} for d in values["domain"][:20]],
        "filter: language": [{"filter": {"language": x}} for x in ["fr", "ca", "en", "es"] * 5],
        "filter: created range": [
            {
                "filter": {
                    "createdAfter": f"{2023 + month // 12}-{month % 12 + 1:02}-01T00:00:00Z",
                    "createdBefore": f"{2023 + month // 12}-{month % 12 + 1:02}-15T00:00:00Z",
                }
            }
            for month in range(0, 36, 2)
        ]
        + [{"filter": {"createdAfter": "2025-06-01T00:00:00Z"}} for _ in range(2)],
        "filter: updated after": [
            {"filter": {"updatedAfter": f"{2023 + month // 12}-{month % 12 + 1:02}-01T00:00:00Z"}}
            for month in range(0, 40, 2)
        ],
        "filter: welcome e-mail sent": [
            {"filter": {"welcomeEmailSent": sent}} for sent in [False, True] * 10
        ],
        "filter: password set": [{"filter": {"hasPassword": has}} for has in [False, True] * 10],
        "filters + search": [
            {
                "search": rng.choice(common),
                "filter": {
                    "status": "ACTIVE",
                    "platform": "lcloud",
                    "role": "student",
                    "language": "es",
                },
            }
            for _ in range(20)
        ],
        "sorted by last name": [
            {"search": rng.choice(common), "order": {"field": "LAST_NAME"}} for _ in range(10)
        ],
    }


async def timed(
    client: httpx.AsyncClient, variables: dict[str, Any], query: str = QUERY
) -> tuple[float, Any]:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    elapsed = (time.perf_counter() - started) * 1000
    body = response.json()
    if response.status_code != 200 or "errors" in body:
        raise SystemExit(f"query failed: {variables}: {response.status_code} {body}")
    return elapsed, body["data"]["users"]


def report(
    name: str, times: list[float], counts: Collection[tuple[int, str]] = (), target: bool = True
) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    mark = ("ok" if p95 <= 50 else "MISS") if target else "(no target)"
    shown = sorted(counts)
    seen = ""
    if shown:
        low, high = shown[0], shown[-1]
        seen = f"  count {low[0]:,} {low[1]}" + (
            f" .. {high[0]:,} {high[1]}" if high != low else ""
        )
    print(
        f"{name:28} n={len(times):4}  p50={statistics.median(times):7.1f}  "
        f"p95={p95:7.1f}  max={times[-1]:7.1f} ms  {mark}{seen}"
    )


# Every table and index of the database, read into the operating system's cache.
PREWARM = """
SELECT count(*), coalesce(sum(pg_prewarm(c.oid, 'read')), 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'm')
"""


async def warm_cache(*, say: bool = False) -> None:
    """A console's database keeps what it serves in memory; this machine's host pages out the
    page cache nothing has touched for a minute (DAMON), after which the same queries read
    from disk and take 10 to 50 times as long: an index only one class uses (last names) was
    gone by the time that class ran. So each class starts with the database read into the
    cache, as it would be on a server in use."""
    conn = await connect(DB_URL)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        started = time.perf_counter()
        relations, blocks = await conn.fetchrow(PREWARM)
    finally:
        await conn.close()
    if say:
        print(
            f"read {relations} tables and indexes ({blocks * 8 // 1024:,} MB) into the cache"
            f" in {time.perf_counter() - started:.1f} s, and again before each class"
        )


async def run(token: str) -> None:
    await warm_cache(say=True)
    server = start_app(
        "roster.app:create_app()", PORT, {"DATABASE_URL": DB_URL}, log_file("search-server")
    )
    try:
        await wait_up(f"http://127.0.0.1:{PORT}/healthz")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{PORT}",
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        ) as client:
            all_times: list[float] = []
            values = await sample_values()
            # Warm the server (connections, plans) and PostgreSQL's cache on neutral queries.
            for _ in range(10):
                await timed(client, {"search": "zzzz"})
            print(f"{'class':28} (each: first 50 with count, over HTTP, sequential)")
            for name, queries in classes(values).items():
                await warm_cache()
                times = []
                counts = set()
                for variables in queries:
                    elapsed, users = await timed(client, variables)
                    times.append(elapsed)
                    counts.add((users["count"]["value"], users["count"]["relation"]))
                report(name, times, counts)
                all_times += times
            # A deep page, reached by following cursors page after page.
            await warm_cache()
            times = []
            after = None
            for _ in range(40):
                elapsed, users = await timed(client, {"search": "garcia", "after": after})
                times.append(elapsed)
                after = users["pageInfo"]["endCursor"]
            report("deep page by cursor (40)", times)
            all_times += times
            report("overall", all_times)
            await warm_cache()
            times = []
            for variables in classes(values)["common surname"]:
                elapsed, _ = await timed(client, variables, EXACT_QUERY)
                times.append(elapsed)
            report("exact totalCount, common", times, target=False)
    finally:
        stop(server)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    args = parser.parse_args()
    if args.reuse:
        # The seeded data stays; migrations added since apply to it (new indexes, say).
        await migrate.migrate(DB_URL)
        token = await admin_token()
    else:
        token = await build(args.users)
    await run(token)


if __name__ == "__main__":
    asyncio.run(main())
