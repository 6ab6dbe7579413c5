"""Webhook delivery during an import, as a ratio to the receiver's own maximum (the target
Roster sets itself: >= 50%, and another tenant's change delivered within seconds):

- a fast asyncio HTTP receiver in its own process, answering 200 at once;
- its maximum: the same payloads POSTed to it by a bare `httpx` loop (as many at once as Roster
  sends);
- Roster: an import of N users with a role on a platform whose webhook is that receiver, through
  an API and a worker process; deliveries/s from the first to the last delivery, and end to end
  from the upload; meanwhile a second tenant changes one user, and the delay until that change
  is delivered is measured (event written -> delivered, from the database). On a busy machine
  the import makes users more slowly than they can be delivered, and this measures the import;
- so also Roster draining a queue: D users.created deliveries queued (users written by SQL, no
  import) and then delivered by a worker alone, deliveries/s from the first to the last.

    .venv/bin/python bench/webhooks.py [--users 100000] [--drain 20000]

Uses its own database on the server of DATABASE_URL and Redis database 13.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import log_file, start, start_app, stop, wait_up  # noqa: E402
from db import migrate, tenants, tokens  # noqa: E402
from db.pool import connect  # noqa: E402
from jobs.webhooks import WebhookConfig  # noqa: E402
from roster.auth import new_token, token_hash  # noqa: E402
from rules.webhooks import new_secret  # noqa: E402

SERVER = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/roster")
REDIS = "redis://localhost:6379/13"
PORT = 8767
RECEIVER_PORT = 8768
HOOK = f"http://127.0.0.1:{RECEIVER_PORT}/hook"
LOOPBACK = "127.0.0.0/8"
# What the worker keeps in flight to one webhook: its cap per endpoint (jobs/webhooks.py).
IN_FLIGHT = WebhookConfig().endpoint_concurrency
CREATE_PLATFORM = """
mutation($url: String!) { createPlatform(input: {key: "crm", name: "CRM", roles: ["agent"],
  webhookUrl: $url}) { webhookSecret userErrors { message } } }
"""
CREATE_USER = """
mutation { createUser(input: {username: "late", email: "late@example.com", firstName: "Late",
  lastName: "Comer", roles: [{platform: "crm", role: "agent"}]}) { userErrors { message } } }
"""


async def serve(port: int) -> None:
    """The receiver: reads each request, answers 200 with no body, keeps the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def payload(n: int) -> bytes:
    """A body the size and shape of Roster's user.created."""
    user = f"user{n}"
    return json.dumps(
        {
            "id": f"msg_{n:032x}",
            "event": str(n),
            "type": "user.created",
            "timestamp": "2026-11-27T12:00:00+00:00",
            "tenant": "bench",
            "data": {"fields": ["email", "firstName", "lastName", "username"], "roles": []},
            "userId": "VXNlcjowMWEyMWRkNy1hNDg1LTdlNWQtOTExMC00OTcxYzc4ZWI2ZDk=",
            "user": {"username": user, "email": f"{user}@example.com", "firstName": "F"},
        }
    ).encode()


async def baseline(count: int) -> float:
    """POSTs/s of a bare httpx loop to the receiver, IN_FLIGHT at once."""
    bodies = [payload(n) for n in range(count)]
    headers = {"content-type": "application/json", "webhook-id": "x", "webhook-signature": "x"}
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(limits=limits) as client:
        queue = iter(bodies)

        async def lane() -> None:
            for body in queue:
                response = await client.post(HOOK, content=body, headers=headers)
                assert response.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))
        return count / (time.perf_counter() - started)


async def tenant_with_webhook(conn: Any, slug: str, client: httpx.AsyncClient) -> str:
    tenant = await tenants.create_tenant(conn, slug, slug.title())
    assert tenant is not None
    token = new_token()
    await tokens.insert_token(conn, tenant["id"], "bench", "admin", token_hash(token))
    body = await graphql(client, token, CREATE_PLATFORM, url=HOOK)
    assert body["createPlatform"]["userErrors"] == [], body
    return token


async def graphql(client: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    return response.json()["data"]


FILL_QUEUE = """
WITH made AS (
    INSERT INTO users (tenant_id, username, email, first_name, last_name)
    SELECT $1, 'user' || n, 'user' || n || '@example.com', 'First' || n, 'Last' || n
    FROM generate_series(1, $3) n
    RETURNING id
), roles AS (
    INSERT INTO user_roles (tenant_id, user_id, platform_id, role)
    SELECT $1, id, $2, 'agent' FROM made
    RETURNING user_id
)
-- An event id each, as user events have (a user's deliveries go in its order); no events row:
-- the body then carries no event data, which is all it would hold of the event.
INSERT INTO webhook_deliveries (tenant_id, platform_id, action, user_id, event_id)
SELECT $1, $2, 'user.created', user_id, row_number() OVER () FROM roles
"""


async def drain(count: int) -> float:
    """Deliveries/s of a worker sending `count` queued user.created deliveries, and nothing
    else."""
    url = migrate._with_database(SERVER, "roster_bench_webhooks_drain")
    await migrate.drop_database(url)
    await migrate.create_database(url)
    await migrate.migrate(url)
    conn = await connect(url)
    worker = None
    try:
        tenant = await tenants.create_tenant(conn, "bench", "Bench")
        assert tenant is not None
        platform = await conn.fetchval(
            """INSERT INTO platforms (tenant_id, key, name, kind, roles, webhook_url,
                                      webhook_secret)
               VALUES ($1, 'crm', 'CRM', 'EXTERNAL_APP', '{agent}', $2, $3) RETURNING id""",
            tenant["id"],
            HOOK,
            new_secret(),
        )
        await conn.execute(FILL_QUEUE, tenant["id"], platform, count)
        await conn.execute("ANALYZE")
        env = {"DATABASE_URL": url, "REDIS_URL": REDIS, "ROSTER_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK}
        worker = start(["roster.cli", "worker"], env, log_file("webhooks-drain"))
        done = "SELECT count(*) FROM webhook_deliveries WHERE status = 'SUCCEEDED'"
        while await conn.fetchval(done) < count:
            await asyncio.sleep(0.2)
        first, last = await conn.fetchrow(
            "SELECT min(delivered_at), max(delivered_at) FROM webhook_deliveries"
        )
        return count / (last - first).total_seconds()
    finally:
        if worker is not None:
            stop(worker)
        await conn.close()
        await migrate.drop_database(url)


def csv_body(users: int) -> bytes:
    lines = ["email,username,first_name,last_name,roles"]
    lines += [f"user{n}@example.com,user{n},First{n},Last{n},crm:agent" for n in range(users)]
    return ("\n".join(lines) + "\n").encode()


async def roster(users: int) -> dict[str, float]:
    url = migrate._with_database(SERVER, "roster_bench_webhooks")
    await migrate.drop_database(url)
    await migrate.create_database(url)
    await migrate.migrate(url)
    conn = await connect(url)
    # The receiver is on loopback, which webhooks reach only where an operator allows it; the
    # address check runs at every attempt all the same.
    env = {"DATABASE_URL": url, "REDIS_URL": REDIS, "ROSTER_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK}
    log = log_file("webhooks")
    api = start_app("roster.app:create_app()", PORT, env, log)
    worker = None
    try:
        await wait_up(f"http://127.0.0.1:{PORT}/healthz")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=600) as client:
            bulk = await tenant_with_webhook(conn, "bench", client)
            other = await tenant_with_webhook(conn, "other", client)
            worker = start(["roster.cli", "worker"], env, log)
            started = time.perf_counter()
            response = await client.post(
                "/imports", content=csv_body(users), headers={"authorization": f"Bearer {bulk}"}
            )
            assert response.status_code == 202, response.text
            # The second tenant's change, once the bulk is being delivered.
            while not await conn.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'SUCCEEDED'"
            ):
                await asyncio.sleep(0.05)
            await asyncio.sleep(1)
            assert (await graphql(client, other, CREATE_USER))["createUser"]["userErrors"] == []
            while (
                await conn.fetchval(
                    "SELECT count(*) FROM webhook_deliveries WHERE status = 'SUCCEEDED'"
                )
                < users + 1
            ):
                await asyncio.sleep(0.2)
            end_to_end = time.perf_counter() - started
        first, last = await conn.fetchrow(
            "SELECT min(delivered_at), max(delivered_at) FROM webhook_deliveries"
        )
        delay, queued, latency = await conn.fetchrow(
            """SELECT extract(epoch FROM d.delivered_at - e.created_at),
                      extract(epoch FROM d.created_at - e.created_at), d.last_latency_ms
               FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
               JOIN tenants t ON t.id = d.tenant_id WHERE t.slug = 'other'"""
        )
        behind = await conn.fetchval(
            """SELECT count(*) FROM webhook_deliveries d JOIN tenants t ON t.id = d.tenant_id
               WHERE t.slug = 'bench' AND d.delivered_at > (
                   SELECT delivered_at FROM webhook_deliveries d2
                   JOIN tenants t2 ON t2.id = d2.tenant_id WHERE t2.slug = 'other')"""
        )
        return {
            "rate": users / (last - first).total_seconds(),
            "end_to_end": users / end_to_end,
            "delay": float(delay),
            "latency": latency / 1000,
            "queued": float(queued),
            "behind": float(behind),
        }
    finally:
        stop(api, *([worker] if worker else []))
        await conn.close()
        await migrate.drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--drain", type=int, default=20_000, help="queued deliveries; 0: none")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        await serve(args.receiver)
        return
    receiver = start(["bench.webhooks", "--receiver", str(RECEIVER_PORT)], {}, log_file("hook"))
    try:
        await asyncio.sleep(1)
        await baseline(2000)  # warm up
        maximum = await baseline(min(args.users, 50_000))
        print(f"baseline: bare httpx loop to the receiver: {maximum:8.0f} POSTs/s")
        result = await roster(args.users)
        drained = await drain(args.drain) if args.drain else None
    finally:
        stop(receiver)
    print(
        f"roster, import of {args.users:,} users: {result['rate']:8.0f} deliveries/s "
        f"(first to last delivery)  ratio {result['rate'] / maximum:.0%}  (target >= 50%)\n"
        f"  end to end, upload to last delivery: {result['end_to_end']:8.0f} users/s\n"
        f"  another tenant's change, written -> delivered: {result['delay']:.2f} s, of which "
        f"{result['queued']:.2f} s until it was a delivery, "
        f"{result['latency']:.2f} s waiting for the receiver's answer "
        f"({result['behind']:.0f} of the bulk's deliveries went after it)"
    )
    if drained is not None:
        print(
            f"roster, {args.drain:,} queued deliveries drained: {drained:8.0f} deliveries/s  "
            f"ratio {drained / maximum:.0%}"
        )


if __name__ == "__main__":
    asyncio.run(main())
