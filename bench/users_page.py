"""Server CPU per request of Roster's hottest reads, against a bare Starlette + asyncpg route
returning the same JSON and a plain Strawberry schema of the same shape (the floor of stock
GraphQL execution). Target: Roster at most 2x the bare route's CPU per request (a ratio of 50%
or better), and for the 7-field page at most half of the plain Strawberry schema's.

    .venv/bin/python bench/users_page.py [--seconds 10] [--rounds 3] [--connections 8]
        [--profile DIR] [--case TEXT]

The load comes from `wrk` (a C load generator; installed with apt-get when missing), one server
at a time. CPU per request is the server process's user + system time from /proc/<pid>/stat,
before and after, divided by the requests wrk got answered; the three servers run in turn,
`--rounds` times, and each one's median is reported: on a shared machine this moves far
less than requests/s, which is printed too. Seeds its own database (roster_bench_users_page,
10,000 users) on the server of DATABASE_URL unless it is there already. With --profile, py-spy
records Roster under the same load: collapsed stacks per case (flamegraph.pl or speedscope
read them).
"""

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import cpu_seconds, log_file, start_app, stop, wait_up  # noqa: E402
from bench.search import SERVER, admin_token, build  # noqa: E402
from db import migrate  # noqa: E402
from db.pool import connect  # noqa: E402

DB_URL = migrate._with_database(SERVER, "roster_bench_users_page")
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
BARE, PLAIN, ROSTER = 8771, 8772, 8773
SHORT = "id username email firstName lastName status createdAt"
FULL = (
    "id username email firstName lastName language timeZone officePhone mobilePhone location "
    "externalId status attributes hasPassword passwordChangedAt welcomeEmailSentAt createdAt "
    "updatedAt disabledAt roles { platform { key } role }"
)


@dataclass(frozen=True)
class Case:
    name: str
    bare_path: str
    query: str
    variables: dict[str, Any]


@dataclass(frozen=True)
class Run:
    cpu_ms: float  # server CPU per request
    rps: float


def cases(user_id: str, global_id: str) -> list[Case]:
    return [
        Case(
            "users(first: 50), 7 fields",
            "/users",
            f"{{ users(first: 50) {{ edges {{ node {{ {SHORT} }} }} }} }}",
            {},
        ),
        Case(
            "users(first: 100), every field + roles",
            "/users/full",
            f"{{ users(first: 100) {{ edges {{ node {{ {FULL} }} }} }} }}",
            {},
        ),
        Case(
            "user(id:), 7 fields",
            f"/user?id={user_id}",
            f"query($id: ID!) {{ user(id: $id) {{ {SHORT} }} }}",
            {"id": global_id},
        ),
    ]


def ensure_wrk() -> str:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    wrk = shutil.which("wrk")
    assert wrk is not None
    return wrk


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wrk_script(body: str | None, token: str | None) -> str:
    """A Lua script for wrk: POST `body` as JSON with the token, or a plain GET."""
    lines = []
    if body is not None:
        lines += ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    if token is not None:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def hammer(wrk: str, pid: int, url: str, script: str, seconds: int, connections: int) -> Run:
    before = cpu_seconds(pid)
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    used = cpu_seconds(pid) - before
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failures on {url}:\n{out}")
    match = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match and rps, out
    requests = int(match.group(1))
    return Run(used * 1000 / requests, float(rps.group(1)))


async def same_answers(case: Case, token: str) -> None:
    """The three servers answer the case with the same JSON, or the comparison is void."""
    async with httpx.AsyncClient(timeout=30) as http:
        bare = (await http.get(f"http://127.0.0.1:{BARE}{case.bare_path}")).json()
        body = {"query": case.query, "variables": case.variables}
        plain = (await http.post(f"http://127.0.0.1:{PLAIN}/graphql", json=body)).json()
        roster = (
            await http.post(
                f"http://127.0.0.1:{ROSTER}/graphql",
                json=body,
                headers={"authorization": f"Bearer {token}"},
            )
        ).json()
    for name, answer in (("plain Strawberry", plain), ("Roster", roster)):
        if answer != bare:
            raise SystemExit(f"{case.name}: {name} answers otherwise than the bare route")


async def seeded_token() -> str:
    try:
        # The seeded data stays; migrations added since apply to it (0014's token notifications,
        # without which Roster runs without its token cache).
        await migrate.migrate(DB_URL)
        return await admin_token(DB_URL)
    except (asyncpg.InvalidCatalogNameError, AssertionError):
        return await build(10_000, DB_URL)


async def first_user() -> tuple[str, str]:
    conn = await connect(DB_URL)
    try:
        user_id = await conn.fetchval(
            "SELECT u.id FROM users u JOIN tenants t ON t.id = u.tenant_id"
            " WHERE t.slug = 'bench' ORDER BY lower(username), u.id LIMIT 1"
        )
    finally:
        await conn.close()
    return str(user_id), base64.b64encode(f"User:{user_id}".encode()).decode()


def profile(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [str(py_spy), "record", "-p", str(pid), "-d", str(seconds), "--format", "raw"]
        + ["-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def median_run(runs: list[Run]) -> Run:
    return Run(statistics.median(r.cpu_ms for r in runs), statistics.median(r.rps for r in runs))


def report(case: Case, bare: Run, plain: Run, roster: Run) -> None:
    print(f"\n{case.name}")
    for name, run in (("bare route", bare), ("plain Strawberry", plain), ("Roster", roster)):
        print(f"  {name:17} {run.cpu_ms:7.3f} ms CPU/request  {run.rps:8.0f} req/s")
    print(
        f"  Roster vs bare:    {bare.cpu_ms / roster.cpu_ms:6.0%} (target >= 50%)"
        f"   Roster vs plain Strawberry: {plain.cpu_ms / roster.cpu_ms:6.0%}"
        f"   plain Strawberry vs bare: {bare.cpu_ms / plain.cpu_ms:6.0%}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each server, in turn")
    parser.add_argument("--profile", type=Path, help="py-spy profiles of Roster go here")
    parser.add_argument(
        "--case", default="", help="only the cases whose name holds this text, e.g. 'user(id'"
    )
    args = parser.parse_args()
    wrk = ensure_wrk()
    token = await seeded_token()
    user_id, global_id = await first_user()

    log = log_file("users-page")
    env = {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL}
    bare = start_app("bench.baseline_app:app", BARE, env, log)
    plain = start_app("bench.strawberry_app:app", PLAIN, env, log)
    roster = start_app("roster.app:create_app()", ROSTER, env, log)
    print(f"load average at start: {load_average()}")
    try:
        await wait_up(f"http://127.0.0.1:{BARE}/users")
        await wait_up(f"http://127.0.0.1:{PLAIN}/graphql")
        await wait_up(f"http://127.0.0.1:{ROSTER}/healthz")
        for case in [c for c in cases(user_id, global_id) if args.case in c.name]:
            await same_answers(case, token)
            body = json.dumps({"query": case.query, "variables": case.variables})
            targets = [
                (bare.pid, f"http://127.0.0.1:{BARE}{case.bare_path}", wrk_script(None, None)),
                (plain.pid, f"http://127.0.0.1:{PLAIN}/graphql", wrk_script(body, None)),
                (roster.pid, f"http://127.0.0.1:{ROSTER}/graphql", wrk_script(body, token)),
            ]
            for pid, url, script in targets:
                hammer(wrk, pid, url, script, 2, args.connections)  # warm: pools, caches, plans
            # Rounds of the three in turn, and each server's median: this machine's speed drifts
            # within minutes (a shared host), which one run each would take for a difference.
            rounds: list[list[Run]] = []
            for n in range(args.rounds):
                runs = []
                for pid, url, script in targets:
                    spy = None
                    if args.profile and pid == roster.pid and n == 0:
                        args.profile.mkdir(parents=True, exist_ok=True)
                        name = re.sub(r"\W+", "-", case.name).strip("-") + ".txt"
                        spy = profile(pid, args.seconds, args.profile / name)
                    runs.append(hammer(wrk, pid, url, script, args.seconds, args.connections))
                    if spy is not None:
                        spy.wait()
                rounds.append(runs)
            report(case, *(median_run([r[i] for r in rounds]) for i in range(3)))
            each = ", ".join(f"{bare.cpu_ms / roster.cpu_ms:.0%}" for bare, _, roster in rounds)
            print(f"  Roster vs bare, round by round: {each}")
    finally:
        stop(bare, plain, roster)
    print(f"\nload average at end: {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
