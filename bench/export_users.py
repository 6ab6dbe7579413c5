"""CSV export throughput, end to end (startExport to downloadable), as a ratio to the raw
baseline (the target Roster sets itself):

- N users (1,000,000 by default) with roles, against `COPY (SELECT the same columns) TO STDOUT`
  of the same rows in the same order, read by a client that keeps nothing (target >= 50%);
- peak RSS of the API and the worker processes (target: flat, whatever N).

    .venv/bin/python bench/export_users.py [--users 1000000]

Uses its own database on the server of DATABASE_URL and Redis database 13.
"""

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_users import peak_rss_mb  # noqa: E402
from bench.processes import log_file, start, start_app, stop, wait_up  # noqa: E402
from bench.seed import seed_users  # noqa: E402
from db import migrate, tenants, tokens  # noqa: E402
from db.pool import connect  # noqa: E402
from roster.auth import new_token, token_hash  # noqa: E402

SERVER = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/roster")
REDIS = "redis://localhost:6379/13"
PORT = 8767
# The columns an export writes by default (the seeded users have no attributes), as plain SQL.
BASELINE = """
SELECT '' AS operation, username, email, first_name, last_name, language, time_zone,
    office_phone, mobile_phone, location, external_id, status,
    (SELECT string_agg(p.key || ':' || r.role, '|' ORDER BY p.key, r.role)
     FROM user_roles r JOIN platforms p ON p.tenant_id = r.tenant_id AND p.id = r.platform_id
     WHERE r.tenant_id = users.tenant_id AND r.user_id = users.id)
        AS roles,
    '' AS welcome_email
FROM users WHERE tenant_id = '{tenant}'
ORDER BY lower(username), id
"""
START = """
mutation { startExport { job { id } userErrors { code message } } }
"""
JOB = """
query($id: ID!) { job(id: $id) { status processed error ... on ExportJob { rowCount } } }
"""


async def prepare(users: int) -> tuple[str, str, Any]:
    """A fresh database with `users` users; its URL, an admin token and the tenant id."""
    url = migrate._with_database(SERVER, "roster_bench_export")
    await migrate.drop_database(url)
    await migrate.create_database(url)
    await migrate.migrate(url)
    conn = await connect(url)
    try:
        tenant = await tenants.create_tenant(conn, "bench", "Bench")
        assert tenant is not None
        token = new_token()
        await tokens.insert_token(conn, tenant["id"], "bench", "admin", token_hash(token))
        await seed_users(conn, tenant["id"], users)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return url, token, tenant["id"]


async def copy_baseline(url: str, tenant_id: Any) -> tuple[float, int]:
    """rows/s of the raw COPY, and the rows it wrote."""
    conn = await connect(url)
    size = 0

    async def discard(data: bytes) -> None:
        nonlocal size
        size += len(data)

    try:
        started = time.perf_counter()
        status = await conn.copy_from_query(
            BASELINE.format(tenant=tenant_id), output=discard, format="csv"
        )
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    rows = int(status.split()[-1])
    print(f"baseline: {rows:,} rows, {size / 1e6:.0f} MB in {elapsed:.2f} s")
    return rows / elapsed, rows


async def roster_export(url: str, token: str, rows: int) -> tuple[float, float, float]:
    """rows/s from startExport to SUCCEEDED (downloadable), and peak RSS (MB) of API and
    worker; the file is downloaded afterwards to check it."""
    env = {"DATABASE_URL": url, "REDIS_URL": REDIS}
    log = log_file("export")
    api = start_app("roster.app:create_app()", PORT, env, log)
    worker = start(["roster.cli", "worker"], env, log)
    try:
        await wait_up(f"http://127.0.0.1:{PORT}/healthz")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{PORT}",
            timeout=600,
            headers={"authorization": f"Bearer {token}"},
        ) as client:
            started = time.perf_counter()
            response = (await client.post("/graphql", json={"query": START})).json()
            job_id = response["data"]["startExport"]["job"]["id"]
            while True:
                await asyncio.sleep(0.05)
                job = (
                    await client.post("/graphql", json={"query": JOB, "variables": {"id": job_id}})
                ).json()["data"]["job"]
                if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                    break
            elapsed = time.perf_counter() - started
            if job["status"] != "SUCCEEDED" or job["rowCount"] != rows:
                raise SystemExit(f"export did not succeed: {job}")
            lines = 0
            async with client.stream("GET", f"/exports/{job_id}.csv") as download:
                async for chunk in download.aiter_bytes():
                    lines += chunk.count(b"\n")  # the seeded users' cells hold no line breaks
            print(f"downloaded: {lines - 1:,} rows")
            return rows / elapsed, peak_rss_mb(api.pid), peak_rss_mb(worker.pid)
    finally:
        stop(api, worker)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()
    url, token, tenant_id = await prepare(args.users)
    try:
        copy_rate, rows = await copy_baseline(url, tenant_id)
        print(f"baseline COPY (SELECT …) TO STDOUT: {copy_rate:10.0f} rows/s")
        rate, api_mb, worker_mb = await roster_export(url, token, rows)
        print(
            f"roster export, {rows:,} users:  {rate:10.0f} rows/s  ratio {rate / copy_rate:.0%}"
            f"  (target >= 50%)  peak RSS api {api_mb:.0f} MB, worker {worker_mb:.0f} MB"
        )
    finally:
        await migrate.drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
