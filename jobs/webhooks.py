"""Webhook delivery, the loop every worker runs beside its jobs: queued user events become one
delivery per platform concerned (Dispatcher), and due deliveries are POSTed, signed, to the
platforms' URLs (Deliverer), round-robin across the platforms of every tenant.

State lives in PostgreSQL alone: a delivery is claimed under a row lock held while it is sent,
so several workers never send the same attempt at once, and one killed mid-send leaves the
delivery pending for the next. Redis is not involved: its loss loses nothing.
"""

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from asyncpg import Pool, Record

from db import webhooks
from db.pool import create_pool
from rules import webhooks as rules

log = logging.getLogger(__name__)

GONE = 410
GONE_REASON = "The receiver answered 410 Gone: it no longer wants these webhooks."


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    timeout: float = 15.0
    # Retries: doubling from retry_base seconds up to retry_cap, given up retry_window seconds
    # after the delivery was queued.
    retry_base: float = 10.0
    retry_cap: float = 3600.0
    retry_window: float = 24 * 3600.0
    # Seconds between looks at the queues when they were empty.
    poll_interval: float = 0.5
    # Deliveries sent at once: `lanes` claims of up to `claim_size` POSTs each.
    lanes: int = 4
    claim_size: int = 50
    # Queued events one dispatch turns into deliveries, per tenant and round.
    dispatch_size: int = 2000


# Deliveries made before the dispatcher first refreshes the table's statistics.
ANALYZE_AFTER = 1000


class Dispatcher:
    """Turns queued user events into deliveries: one per platform with a webhook that the user
    has a role on (or had, for a role removal or a deletion)."""

    def __init__(self, pool: Pool, config: WebhookConfig) -> None:
        self.pool = pool
        self.config = config
        # Deliveries this dispatcher made, and how many it had made at its last ANALYZE.
        self.made = 0
        self.analyzed = 0

    async def dispatch_once(self) -> int:
        """One round over the tenants with queued events, a bounded share each, so that a
        million-row import does not hold back another tenant's change. Returns the events
        taken."""
        async with self.pool.acquire() as conn:
            tenants = await webhooks.outbox_tenants(conn)
        taken = 0
        for tenant_id in tenants:
            taken += await self._dispatch_tenant(tenant_id)
        return taken

    async def _dispatch_tenant(self, tenant_id: UUID) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            if not await webhooks.try_lock_tenant_outbox(conn, tenant_id):
                return 0  # another worker's dispatcher has it
            queued = await webhooks.take_outbox(conn, tenant_id, self.config.dispatch_size)
            listening = await webhooks.listening_platforms(conn, tenant_id)
            rows = []
            for event in queued:
                user_id = event["target_id"]
                if user_id is None:
                    continue
                reached = rules.platforms_to_reach(
                    event["action"], event["data"], event["platform_ids"]
                )
                rows += [
                    (event["id"], event["action"], user_id, p) for p in sorted(reached & listening)
                ]
            await webhooks.insert_deliveries(conn, tenant_id, rows)
        self.made += len(rows)
        await self._analyze_when_grown()
        return len(queued)

    async def _analyze_when_grown(self) -> None:
        """The claim's plan needs the queue's real size: planned on statistics of a near-empty
        table, it read every pending delivery of a platform for each one it claimed (250 ms a
        claim at 65,000 pending, 0.4 ms with statistics). Autovacuum analyzes late, or not at
        all where it is off: so the dispatcher does, each time what it made has doubled."""
        if self.made - self.analyzed >= max(ANALYZE_AFTER, self.analyzed):
            async with self.pool.acquire() as conn:
                await webhooks.analyze_deliveries(conn)
            self.analyzed = self.made


@dataclass(frozen=True, slots=True)
class Post:
    """One signed request: a delivery, or a batch of them for a platform that asked for it."""

    deliveries: list[Record]
    body: bytes


class Deliverer:
    """Sends what is due, a batch to every platform with something due in each round; every
    lane of a worker runs one."""

    def __init__(self, pool: Pool, client: httpx.AsyncClient, config: WebhookConfig) -> None:
        self.pool = pool
        self.client = client
        self.config = config

    async def deliver_once(self) -> int:
        """One round over the platforms with deliveries due; returns the deliveries sent."""
        async with self.pool.acquire() as conn:
            due = await webhooks.due_platforms(conn)
        # All at once: a platform with one change due does not wait behind another's batch.
        return sum(await asyncio.gather(*(self.deliver_to(p) for p in due)))

    async def deliver_to(self, platform: Record) -> int:
        limit = self.config.claim_size * platform["webhook_batch_size"]
        async with self.pool.acquire() as conn, conn.transaction():
            claimed = await webhooks.claim_due(conn, platform["tenant_id"], platform["id"], limit)
            if not claimed:
                return 0
            posts = await self._posts(conn, platform, claimed)
            outcomes = await asyncio.gather(*(self._send(platform, p) for p in posts))
            attempts = [a for post_attempts in outcomes for a in post_attempts]
            await webhooks.record_attempts(conn, platform["tenant_id"], attempts)
            if any(a.code == GONE for a in attempts):
                await webhooks.disable_webhook(
                    conn, platform["tenant_id"], platform["id"], GONE_REASON
                )
        return len(claimed)

    async def _posts(self, conn: Any, platform: Record, claimed: list[Record]) -> list[Post]:
        """The bodies, built now from the users as they are: nothing personal is stored with a
        delivery, so a deleted user's data is in none."""
        events = await webhooks.get_events(conn, [d["event_id"] for d in claimed if d["event_id"]])
        user_ids = [d["user_id"] for d in claimed if d["user_id"] is not None]
        users = await webhooks.get_users(conn, platform["tenant_id"], user_ids)
        roles = await webhooks.roles_on_platform(conn, platform["id"], user_ids)
        now = datetime.now(UTC)
        messages = []
        for d in claimed:
            event = events.get(d["event_id"])
            messages.append(
                rules.message(
                    delivery_id=d["id"],
                    event_id=d["event_id"],
                    action=d["action"],
                    created_at=event["created_at"] if event else now,
                    tenant=platform["tenant"],
                    user_id=d["user_id"],
                    user=dict(users[d["user_id"]]) if d["user_id"] in users else None,
                    roles=roles.get(d["user_id"], []),
                    data=event["data"] if event else {},
                )
            )
        size = platform["webhook_batch_size"]
        if size == 1:
            return [Post([d], _json(m)) for d, m in zip(claimed, messages, strict=True)]
        return [
            Post(claimed[i : i + size], _json(messages[i : i + size]))
            for i in range(0, len(claimed), size)
        ]

    async def _send(self, platform: Record, post: Post) -> list[webhooks.Attempt]:
        msg_id = rules.webhook_id([d["id"] for d in post.deliveries])
        timestamp = int(time.time())
        secrets = [platform["webhook_secret"]]
        if platform["previous_valid"] and platform["webhook_previous_secret"]:
            secrets.append(platform["webhook_previous_secret"])
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": rules.sign(secrets, msg_id, timestamp, post.body),
        }
        started = time.monotonic()
        code: int | None = None
        error: str | None = None
        try:
            # httpx follows no redirect unless told to: a 3xx is a failed attempt.
            response = await self.client.post(
                platform["webhook_url"], content=post.body, headers=headers
            )
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"[:300] if str(e) else type(e).__name__
        latency_ms = round((time.monotonic() - started) * 1000)
        return [self._attempt(d, code, error, latency_ms) for d in post.deliveries]

    def _attempt(
        self, delivery: Record, code: int | None, error: str | None, latency_ms: int
    ) -> webhooks.Attempt:
        now = datetime.now(UTC)
        status, next_at = "SUCCEEDED", now
        if error is not None:
            delay = rules.retry_delay(
                delivery["attempts"] + 1, self.config.retry_base, self.config.retry_cap
            )
            next_at = now + timedelta(seconds=delay)
            give_up = delivery["retry_from"] + timedelta(seconds=self.config.retry_window)
            status = "FAILED" if code == GONE or next_at > give_up else "PENDING"
        return webhooks.Attempt(delivery["id"], status, next_at, code, error, latency_ms)


class WebhookLoop:
    """The dispatcher and the delivery lanes of one worker, with their own small pool (so that
    imports never starve them of connections) and one HTTP client."""

    def __init__(self, pool: Pool, client: httpx.AsyncClient, config: WebhookConfig) -> None:
        self.pool = pool
        self.client = client
        self.config = config
        self.tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def start(cls, database_url: str, config: WebhookConfig) -> "WebhookLoop":
        pool = await create_pool(database_url, min_size=1, max_size=config.lanes * 2 + 2)
        client = httpx.AsyncClient(
            timeout=config.timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=config.lanes * config.claim_size),
        )
        loop = cls(pool, client, config)
        dispatcher = Dispatcher(pool, config)
        loop.tasks.append(asyncio.create_task(loop._forever(dispatcher.dispatch_once)))
        for _ in range(config.lanes):
            deliverer = Deliverer(pool, client, config)
            loop.tasks.append(asyncio.create_task(loop._forever(deliverer.deliver_once)))
        return loop

    async def stop(self) -> None:
        """Stops at once: a delivery in flight rolls back and stays pending."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
        await self.pool.close()

    async def _forever(self, step: Any) -> None:
        while True:
            try:
                done = await step()
            except Exception:
                # The database went away, most likely: the deliveries wait in it, pending, and
                # the loop tries again once it may be back.
                log.exception("webhook delivery paused")
                done = 0
            if not done:
                await asyncio.sleep(self.config.poll_interval)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()
