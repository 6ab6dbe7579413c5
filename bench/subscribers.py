"""1,000 `job` subscribers on one API process during an import: whether every subscriber gets
every state the worker publishes, and how long after its publish the last one has it (target:
p95 over the states <= 200 ms).

    .venv/bin/python bench/subscribers.py [--subscribers 1000] [--rows 200000] [--seconds 300]

How it measures, all on this machine's clock (time.time() in each process):

- publish: this process subscribes to the job's Redis channel itself (one connection, nothing
  else to do) and notes when each state arrives: within a millisecond of the worker's
  PUBLISH, which is the moment the API's relay can have it too;
- receipt: the subscribers run in a process of their own (bench/subscriber_client.py:
  connections to 127.0.0.1 only, a WebSocket client that does little more per message than
  note when its bytes arrived), which notes when each `next` message arrives;
- a state is matched across the two by its status and `processed` count (the Job type has no
  updatedAt to send, and the row's updated_at would be the start of the transaction that wrote
  the chunk, some hundreds of milliseconds before the publish); where two states share both,
  the first one's publish counts. For each state the figure is the last subscriber's receipt
  minus the publish; p50, p95 and max over the states are printed, with the share of
  (subscriber, state) pairs delivered.

The import is queued before the worker starts, and the worker starts once every subscriber has
the job's first state: every state published afterwards must reach all of them. Everything is
bounded: at most --subscribers connections (4,000 at most), --seconds in all. Uses its own
database on the server of DATABASE_URL (dropped afterwards) and Redis database 12.
"""

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_users import fresh_database, write_csv  # noqa: E402
from bench.processes import cpu_seconds, log_file, start, start_app, stop, wait_up  # noqa: E402
from db import migrate, tokens  # noqa: E402
from roster.auth import new_token, token_hash  # noqa: E402

REDIS = os.environ.get("BENCH_SUBSCRIBERS_REDIS", "redis://localhost:6379/12")
PORT = 8769
MAX_SUBSCRIBERS = 4000
CLIENT = Path(__file__).resolve().parent / "subscriber_client.py"


# --- The run ------------------------------------------------------------------------------


async def listen(job_uuid: str, published: list[tuple[float, dict[str, Any]]]) -> None:
    """The job's states as the worker publishes them, with when they arrived here."""
    connection = redis.from_url(REDIS)
    pubsub = connection.pubsub()
    await pubsub.subscribe(f"roster:job:{job_uuid}")
    try:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None and message["type"] == "message":
                published.append((time.time(), json.loads(message["data"])))
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await connection.aclose()


def reaped_children_cpu_seconds() -> float:
    """User and system CPU of this process's reaped children: a process that has ended is
    read from its parent."""
    usage = os.times()
    return usage.children_user + usage.children_system


def job_uuid(global_id: str) -> str:
    return base64.b64decode(global_id).decode().partition(":")[2]


async def upload(path: Path, token: str) -> str:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{PORT}",
        timeout=600,
        headers={"authorization": f"Bearer {token}"},
    ) as http:
        response = await http.post("/imports", content=path.read_bytes())
    assert response.status_code == 202, response.text
    global_id: str = response.json()["id"]
    return global_id


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(
    published: list[tuple[float, dict[str, Any]]], results: dict[str, Any], subscribers: int
) -> None:
    received: list[list[list[Any]]] = results["received"]
    sent_at: dict[tuple[str, int], float] = {}
    for at, job in published:
        sent_at.setdefault((job["status"], job["processed"]), at)
    last: dict[tuple[str, int], float] = {}
    delivered = 0
    for states in received:
        # The first state is the one read when subscribing, before the worker started.
        got = {(status, processed): at for at, status, processed in reversed(states[1:])}
        for key, at in got.items():
            if key in sent_at:
                delivered += 1
                last[key] = max(last.get(key, 0.0), at)
    expected = subscribers * len(sent_at)
    lags = [(last[key] - sent_at[key]) * 1000 for key in last]
    print(f"states published during the run: {len(published)} ({len(sent_at)} distinct)")
    print(
        f"delivered: {delivered:,} of {expected:,} (subscriber, state) pairs"
        f" ({delivered / max(expected, 1):.2%}); unfinished subscribers"
        f" {results['unfinished']}, failed {results['failed']}"
    )
    if lags:
        print(
            f"publish -> last subscriber's receipt, per state: p50"
            f" {statistics.median(lags):.0f} ms  p95 {percentile(lags, 0.95):.0f} ms"
            f"  max {max(lags):.0f} ms  (target p95 <= 200 ms)"
        )


async def run(subscribers: int, rows: int, seconds: float) -> None:
    url, (conn, tenant_id) = await fresh_database("roster_bench_subscribers")
    token = new_token()
    await tokens.insert_token(conn, tenant_id, "bench", "admin", token_hash(token))
    await conn.close()
    env = {"DATABASE_URL": url, "REDIS_URL": REDIS}
    log = log_file("subscribers")
    api = start_app("roster.app:create_app()", PORT, env, log)
    worker = None
    client_process = None
    listener = None
    started = time.monotonic()
    try:
        await wait_up(f"http://127.0.0.1:{PORT}/healthz")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "users.csv"
            write_csv(path, rows, passwords=False)
            job_id = await upload(path, token)  # queued: no worker yet
            published: list[tuple[float, dict[str, Any]]] = []
            listener = asyncio.create_task(listen(job_uuid(job_id), published))
            out = Path(tmp) / "received.json"
            client_process = subprocess.Popen(
                [sys.executable, str(CLIENT), "127.0.0.1", str(PORT), token, job_id]
                + [str(subscribers), str(seconds), str(out)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert client_process.stdout is not None
            line = await asyncio.to_thread(client_process.stdout.readline)
            if line.strip() != "ready":
                raise SystemExit("the subscribers did not all subscribe")
            print(
                f"{subscribers} subscribers ready after {time.monotonic() - started:.1f} s;"
                f" the worker starts on {rows:,} rows"
            )
            cpu = {"API": cpu_seconds(api.pid), "client": cpu_seconds(client_process.pid)}
            worker = start(["roster.cli", "worker"], env, log)
            remaining = max(1.0, seconds - (time.monotonic() - started))
            await asyncio.to_thread(client_process.wait, remaining + 10)
            cpu["client"] = reaped_children_cpu_seconds() - cpu["client"]
            await asyncio.sleep(0.5)  # the last publish is in
            cpu["API"] = cpu_seconds(api.pid) - cpu["API"]
            listener.cancel()
            report(published, json.loads(out.read_text()), subscribers)
            states = max(len(published), 1)
            print(
                "CPU per state published: "
                + ", ".join(f"{name} {spent / states * 1000:.0f} ms" for name, spent in cpu.items())
                + f" ({cpu['API'] / states / subscribers * 1e6:.0f} µs a subscriber in the API)"
            )
    finally:
        if listener is not None:
            listener.cancel()
        if client_process is not None and client_process.poll() is None:
            client_process.kill()
        stop(api, *([worker] if worker is not None else []))
        await migrate.drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=300, help="the whole run at most")
    args = parser.parse_args()
    if not 0 < args.subscribers <= MAX_SUBSCRIBERS:
        raise SystemExit(f"--subscribers: 1 to {MAX_SUBSCRIBERS}")
    asyncio.run(run(args.subscribers, args.rows, args.seconds))


if __name__ == "__main__":
    main()
