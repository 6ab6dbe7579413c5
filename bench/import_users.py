"""CSV import throughput, end to end (upload to SUCCEEDED), as ratios to raw baselines
(the targets Roster sets itself):

- 1,000,000 rows without passwords, against COPY of the same rows into the same indexed
  `users` table, run before and after the import (target >= 80% of their mean); with the CPU
  each row took in PostgreSQL and in each of Roster's processes, for both. Twice: COPY of the
  file's columns, leaving the skeleton columns empty (the figure this script has always given),
  and COPY of the rows as the import stores them, their usernames' and e-mails' skeletons
  filled in (computed before COPY starts: computing them is Roster's work, storing them and
  keeping their unique indexes is the table's);
- 20,000 rows with plaintext passwords, against raw argon2id hashes/s on all cores
  (target >= 95%);
- peak RSS of the API and the worker processes (target < 300 MB, flat);
- with --revert, the revert of the 1,000,000 rows' import (revertImport to SUCCEEDED, every
  user it created deleted), against the import itself (issue #25: target >= 100%).

    .venv/bin/python bench/import_users.py [--rows 1000000] [--password-rows 20000]
        [--revert]

Uses its own databases on the server of DATABASE_URL and Redis database 14.
"""

import argparse
import asyncio
import csv
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import (  # noqa: E402
    cpu_seconds,
    log_file,
    postgres_cpu_seconds,
    start,
    start_app,
    stop,
    wait_up,
)
from bench.seed import FIRST_NAMES, ascii_fold  # noqa: E402
from db import migrate, tenants, tokens  # noqa: E402
from db.pool import connect  # noqa: E402
from roster.auth import new_token, token_hash  # noqa: E402
from rules.identifiers import skeleton  # noqa: E402
from rules.passwords import hash_password_sync  # noqa: E402

SERVER = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/roster")
REDIS = "redis://localhost:6379/14"
PORT = 8766
ROOT = Path(__file__).resolve().parent.parent
LAST = ["García", "Núñez", "López", "Smith", "O'Brien", "Martínez", "Brown", "Pérez"]


def write_csv(path: Path, rows: int, passwords: bool) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "email",
                "username",
                "first_name",
                "last_name",
                "language",
                "roles",
                *(["password"] if passwords else []),
            ]
        )
        for n in range(rows):
            first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST[n % len(LAST)]
            user = f"{ascii_fold(first)}.{ascii_fold(last)}{n}"
            out.writerow(
                [
                    f"{user}@example.com",
                    user,
                    first,
                    last,
                    "es",
                    "learningcloud:student",
                    *([f"correct horse battery {n} staple"] if passwords else []),
                ]
            )


async def fresh_database(name: str) -> tuple[str, Any]:
    url = migrate._with_database(SERVER, name)
    await migrate.drop_database(url)
    await migrate.create_database(url)
    await migrate.migrate(url)
    conn = await connect(url)
    tenant = await tenants.create_tenant(conn, "bench", "Bench")
    assert tenant is not None
    return url, (conn, tenant["id"])


class CpuMeter:
    """CPU used from its making on by the named processes and by every PostgreSQL process."""

    def __init__(self, **pids: int) -> None:
        self.pids = pids
        self.start = self._now()

    def _now(self) -> dict[str, float]:
        return {
            **{name: cpu_seconds(pid) for name, pid in self.pids.items()},
            "postgres": postgres_cpu_seconds(),
        }

    def per_row(self, rows: int) -> str:
        """Microseconds a row for each, and in all."""
        used = {k: v - self.start[k] for k, v in self._now().items()}
        parts = [f"{name} {seconds / rows * 1e6:.0f}" for name, seconds in used.items()]
        return f"{', '.join(parts)}; all {sum(used.values()) / rows * 1e6:.0f} µs"


async def copy_baseline(path: Path, *, stored: bool = False) -> float:
    """rows/s of COPY of the file's rows into the indexed users table; `stored`: with the
    skeleton columns the import fills in."""
    url, (conn, tenant_id) = await fresh_database("roster_bench_copy")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            next(reader)
            records = [(tenant_id, r[1], r[0], r[2], r[3], r[4]) for r in reader]
        columns = ["tenant_id", "username", "email", "first_name", "last_name", "language"]
        if stored:
            records = [(*r, skeleton(r[1]), skeleton(r[2])) for r in records]
            columns += ["username_skeleton", "email_skeleton"]
        started, cpu = time.perf_counter(), CpuMeter(client=os.getpid())
        await conn.copy_records_to_table("users", records=records, columns=columns)
        rate = len(records) / (time.perf_counter() - started)
        print(f"  COPY's CPU a row: {cpu.per_row(len(records))}")
        return rate
    finally:
        await conn.close()
        await migrate.drop_database(url)


def hashes_per_second(count: int) -> float:
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(hash_password_sync, ["warm up the pool"] * workers))
        started = time.perf_counter()
        list(pool.map(hash_password_sync, [f"password number {i} here" for i in range(count)]))
        return count / (time.perf_counter() - started)


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident memory) of a process; the worker's password-hashing processes are
    apart, each bounded by argon2's 64 MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


JOB = (
    "query($id: ID!) { job(id: $id) { status processed error "
    "... on ImportJob { created updated deleted failed } "
    "... on RevertJob { updated deleted failed } } }"
)
REVERT = (
    "mutation($id: ID!) { revertImport(id: $id) { job { id status } userErrors { code message } } }"
)


async def finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """The job once it has ended, polled every half second."""
    while True:
        await asyncio.sleep(0.5)
        response = await client.post("/graphql", json={"query": JOB, "variables": {"id": job_id}})
        job: dict[str, Any] = response.json()["data"]["job"]
        if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return job


async def roster_revert(client: httpx.AsyncClient, url: str, import_id: str, rows: int) -> float:
    """rows/s of the import's revert, from revertImport to SUCCEEDED; checks that it deleted
    every user the import created."""
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": REVERT, "variables": {"id": import_id}})
    payload = response.json()["data"]["revertImport"]
    if payload["userErrors"]:
        raise SystemExit(f"revertImport refused: {payload['userErrors']}")
    job = await finished(client, payload["job"]["id"])
    elapsed = time.perf_counter() - started
    if job["status"] != "SUCCEEDED" or job["deleted"] != rows:
        raise SystemExit(f"revert did not succeed: {job}")
    conn = await connect(url)
    try:
        left = await conn.fetchval("SELECT count(*) FROM users")
    finally:
        await conn.close()
    if left:
        raise SystemExit(f"revert left {left} users")
    return rows / elapsed


async def roster_import(
    path: Path, rows: int, revert: bool = False
) -> tuple[float, float, float, float | None]:
    """rows/s from upload to SUCCEEDED, and peak RSS (MB) of API and worker; with `revert`,
    then rows/s of its revert (roster_revert)."""
    url, (conn, tenant_id) = await fresh_database("roster_bench_import")
    token = new_token()
    await tokens.insert_token(conn, tenant_id, "bench", "admin", token_hash(token))
    await conn.close()
    env = {"DATABASE_URL": url, "REDIS_URL": REDIS}
    log = log_file("import")
    api = start_app("roster.app:create_app()", PORT, env, log)
    worker = start(["roster.cli", "worker"], env, log)
    try:
        await wait_up(f"http://127.0.0.1:{PORT}/healthz")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{PORT}",
            timeout=600,
            headers={"authorization": f"Bearer {token}"},
        ) as client:

            async def body() -> Any:
                with path.open("rb") as f:
                    while chunk := f.read(1 << 20):
                        yield chunk

            started = time.perf_counter()
            cpu = CpuMeter(api=api.pid, worker=worker.pid, client=os.getpid())
            response = await client.post("/imports", content=body())
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
            job = await finished(client, job_id)
            elapsed = time.perf_counter() - started
            print(f"  the import's CPU a row: {cpu.per_row(rows)}")
            if job["status"] != "SUCCEEDED" or job["created"] != rows:
                raise SystemExit(f"import did not succeed: {job}")
            # Read before the revert, whose own peaks would count as the import's.
            api_mb, worker_mb = peak_rss_mb(api.pid), peak_rss_mb(worker.pid)
            reverted = await roster_revert(client, url, job_id, rows) if revert else None
            return rows / elapsed, api_mb, worker_mb, reverted
    finally:
        stop(api, worker)
        await migrate.drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="0: the password run only")
    parser.add_argument("--password-rows", type=int, default=20_000, help="0: the --rows run only")
    parser.add_argument(
        "--revert",
        action="store_true",
        help="then revert the --rows import (revertImport) and compare its rows/s with it",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, secret = Path(tmp) / "plain.csv", Path(tmp) / "passwords.csv"
        write_csv(plain, args.rows, passwords=False)
        write_csv(secret, args.password_rows, passwords=True)
        print(f"files: {plain.stat().st_size / 1e6:.0f} MB, {secret.stat().st_size / 1e6:.1f} MB")

        if args.rows:
            # COPY before and after the import, against the mean: this machine's speed moves
            # by a third within minutes, and one COPY before would favour or blame the import.
            # The two baselines in mirror order around it, so that neither is nearer the import.
            copy_before = await copy_baseline(plain)
            print(f"baseline COPY into indexed users: {copy_before:10.0f} rows/s")
            stored_before = await copy_baseline(plain, stored=True)
            print(f"  the same with skeletons:        {stored_before:10.0f} rows/s")
            rate, api_mb, worker_mb, reverted = await roster_import(plain, args.rows, args.revert)
            stored_after = await copy_baseline(plain, stored=True)
            print(f"  the same with skeletons, after: {stored_after:10.0f} rows/s")
            copy_after = await copy_baseline(plain)
            print(f"baseline COPY again, after it:    {copy_after:10.0f} rows/s")
            copy_rate = (copy_before + copy_after) / 2
            stored_rate = (stored_before + stored_after) / 2
            print(
                f"roster import, {args.rows:,} rows: {rate:10.0f} rows/s  "
                f"ratio {rate / copy_rate:.0%} of the two COPYs' mean  (target >= 80%), "
                f"{rate / stored_rate:.0%} of COPY's with skeletons  "
                f"peak RSS api {api_mb:.0f} MB, worker {worker_mb:.0f} MB"
            )
            if reverted is not None:
                print(
                    f"roster revert of that import:     {reverted:10.0f} rows/s  "
                    f"ratio to the import {reverted / rate:.0%}  (target >= 100%)"
                )

        if not args.password_rows:
            return
        hash_rate = hashes_per_second(max(200, args.password_rows // 20))
        print(f"baseline argon2id on all cores:   {hash_rate:10.1f} hashes/s")
        rate, api_mb, worker_mb, _ = await roster_import(secret, args.password_rows)
        print(
            f"roster import with passwords:     {rate:10.1f} rows/s  ratio {rate / hash_rate:.0%}"
            f"  (target >= 95%)  peak RSS api {api_mb:.0f} MB, worker {worker_mb:.0f} MB"
        )


if __name__ == "__main__":
    asyncio.run(main())
