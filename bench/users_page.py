"""`users(first: 50)` requests/s through Roster, as a ratio to a bare Starlette + asyncpg endpoint
returning the same rows as JSON (target >= 50%).

    .venv/bin/python bench/users_page.py [--seconds 10] [--concurrency 8]

Uses the database bench/search.py seeds (run that first), or seeds 10,000 users itself when it
is missing. Each server is one uvicorn process; the load comes from one client process with
`--concurrency` connections, the same for both.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import log_file, start_app, stop, wait_up
from bench.search import DB_URL, admin_token, build  # noqa: E402

QUERY = (
    "{ users(first: 50) { edges { node { id username email firstName lastName status "
    "createdAt } } } }"
)
QUERY_COUNT = (
    "{ users(first: 50) { totalCount edges { node { id username email firstName "
    "lastName status createdAt } } } }"
)


async def load(url: str, seconds: float, concurrency: int, **request: object) -> float:
    """Requests per second that `concurrency` clients get out of the server for `seconds`."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        async with httpx.AsyncClient(timeout=30) as http:
            while time.perf_counter() < deadline:
                response = await http.request(url=url, **request)  # type: ignore[arg-type]
                if response.status_code != 200 or b'"errors"' in response.content[:20]:
                    raise SystemExit(f"failed: {response.status_code} {response.text[:300]}")
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    try:
        token = await admin_token()
    except (asyncpg.InvalidCatalogNameError, AssertionError):
        token = await build(10_000)

    log = log_file("users-page")
    baseline = start_app("bench.baseline_app:app", 8771, {"DATABASE_URL": DB_URL}, log)
    roster = start_app("roster.app:create_app()", 8772, {"DATABASE_URL": DB_URL}, log)
    try:
        await wait_up("http://127.0.0.1:8771/users")
        await wait_up("http://127.0.0.1:8772/healthz")
        graphql = {
            "method": "POST",
            "headers": {"authorization": f"Bearer {token}"},
        }
        # Warm both (pools, caches, plans).
        await load("http://127.0.0.1:8771/users", 2, args.concurrency, method="GET")
        await load(
            "http://127.0.0.1:8772/graphql", 2, args.concurrency, json={"query": QUERY}, **graphql
        )
        raw = await load(
            "http://127.0.0.1:8771/users", args.seconds, args.concurrency, method="GET"
        )
        page = await load(
            "http://127.0.0.1:8772/graphql",
            args.seconds,
            args.concurrency,
            json={"query": QUERY},
            **graphql,
        )
        counted = await load(
            "http://127.0.0.1:8772/graphql",
            args.seconds,
            args.concurrency,
            json={"query": QUERY_COUNT},
            **graphql,
        )
    finally:
        stop(baseline, roster)
    print(f"baseline (Starlette + asyncpg, same rows as JSON): {raw:8.0f} req/s")
    print(
        f"roster users(first: 50):                         {page:8.0f} req/s"
        f"  ratio {page / raw:.0%}  (target >= 50%)"
    )
    print(
        f"roster users(first: 50) with totalCount:         {counted:8.0f} req/s"
        f"  ratio {counted / raw:.0%}"
    )


if __name__ == "__main__":
    asyncio.run(main())
