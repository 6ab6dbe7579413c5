"""Webhook delivery, the loop every worker runs beside its jobs: queued user events become one
delivery per platform concerned (Dispatcher), due deliveries are POSTed, signed, to the
platforms' URLs (Deliverer), and finished ones are deleted once old (Sweeper).

State lives in PostgreSQL alone. A delivery is claimed in a short transaction that leases it
(its next attempt moved past the end of this one) and commits; it is sent with no transaction
open and no row locked; what came of it is recorded in another short transaction. So several
workers never send the same attempt at once, a receiver never holds a lock or a connection of
the database, and a worker killed mid-send leaves the delivery to be retried when its lease
ends. Redis is not involved: its loss loses nothing.

Each platform with deliveries due is served by its own task, so a slow receiver holds up no
other: the caps on requests in flight (per worker, per tenant, per endpoint) keep one tenant's
receivers from taking all of a worker's.
"""

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from asyncpg import Pool, Record

from db import webhooks
from db.pool import create_pool
from db.tenancy import APP_ROLE, acting_for
from jobs.addresses import AddressPolicy
from jobs.webhook_client import delivery_client, post
from rules import webhooks as rules

log = logging.getLogger(__name__)

GONE = 410
GONE_REASON = "The receiver answered 410 Gone: it no longer wants these webhooks."
# Seconds a lease lasts beyond an attempt's deadline: for recording what came of it.
LEASE_MARGIN = 10.0
# Connections of a worker's webhook loop: claims, records, the dispatcher and the sweeper.
POOL_SIZE = 10
# Seconds between two full batches of the sweeper.
SWEEP_PAUSE = 1.0


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    # One attempt's deadline, all told: look-up, connection, sending and reading the answer.
    timeout: float = 15.0
    # Retries: doubling from retry_base seconds up to retry_cap, given up retry_window seconds
    # after the delivery was queued.
    retry_base: float = 10.0
    retry_cap: float = 3600.0
    retry_window: float = 24 * 3600.0
    # Seconds between looks for platforms with deliveries due (and at the outbox when it was
    # empty).
    poll_interval: float = 0.5
    # Requests in flight at once: in this worker, to one tenant's webhooks, to one webhook. A
    # tenant's cap below the worker's leaves room for the other tenants, however slow its
    # receivers.
    concurrency: int = 200
    tenant_concurrency: int = 100
    endpoint_concurrency: int = 50
    # Requests one claim takes at most: a webhook has several claims in flight, each recorded
    # when its last answer has come.
    claim_size: int = 10
    # Queued events one dispatch turns into deliveries, per tenant and round.
    dispatch_size: int = 2000
    # Where webhooks may go (public addresses, and networks allowed), and how hosts resolve.
    addresses: AddressPolicy = field(default_factory=AddressPolicy)
    # Finished deliveries are deleted this many seconds after their last attempt, sweep_size a
    # statement, looked for every sweep_interval seconds.
    retention: float = 30 * 24 * 3600.0
    sweep_size: int = 1000
    sweep_interval: float = 60.0

    @property
    def lease(self) -> float:
        """Seconds a claimed delivery is kept from other claims: its attempt's deadline, and
        time to record what came of it."""
        return self.timeout + LEASE_MARGIN


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
        with acting_for(tenant_id):
            return await self._dispatch(tenant_id)

    async def _dispatch(self, tenant_id: UUID) -> int:
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


@dataclass(frozen=True, slots=True)
class Claim:
    """Deliveries leased to this worker, as the requests that send them."""

    platform: Record
    posts: list[Post]


class Slots:
    """Requests one scope (the worker, a tenant, an endpoint) may have in flight."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0

    @property
    def free(self) -> int:
        return self.size - self.used


class Deliverer:
    """Sends what is due: every platform with deliveries due is served by one task of this
    worker, which claims a few requests' worth at a time, as many at once as the caps allow, and
    goes on while there are some. No round waits for the slowest platform."""

    def __init__(self, pool: Pool, client: httpx.AsyncClient, config: WebhookConfig) -> None:
        self.pool = pool
        self.client = client
        self.config = config
        self.total = Slots(config.concurrency)
        self.tenants: dict[UUID, Slots] = {}
        self.endpoints: dict[UUID, Slots] = {}
        # Set, and replaced, whenever requests end: what a platform short of slots waits for.
        self.freed = asyncio.Event()
        # The task serving each platform, and every claim being sent.
        self.serving: dict[UUID, asyncio.Task[None]] = {}
        self.sending: set[asyncio.Task[None]] = set()

    async def deliver_once(self) -> int:
        """Starts serving the platforms with deliveries due that this worker does not serve
        yet; returns how many."""
        async with self.pool.acquire() as conn:
            due = await webhooks.due_platforms(conn)
        started = 0
        for platform in due:
            if platform["id"] in self.serving:
                continue
            task = asyncio.create_task(self._serve(platform["tenant_id"], platform["id"]))
            self.serving[platform["id"]] = task
            task.add_done_callback(functools.partial(self._served, platform["id"]))
            started += 1
        return started

    async def stop(self) -> None:
        """Cancels every attempt under way: their deliveries are retried when their leases
        end."""
        tasks = [*self.serving.values(), *self.sending]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, tenant_id: UUID, platform_id: UUID) -> None:
        """Claims and sends the platform's due deliveries until none is left, as its
        organisation (and so are the tasks that send them)."""
        with acting_for(tenant_id):
            await self._serve_platform(tenant_id, platform_id)

    async def _serve_platform(self, tenant_id: UUID, platform_id: UUID) -> None:
        mine: set[asyncio.Task[None]] = set()
        try:
            while True:
                taken = self._take(tenant_id, platform_id, self.config.claim_size)
                if not taken:
                    await self.freed.wait()
                    continue
                claim = None
                try:
                    claim = await self._claim(tenant_id, platform_id, taken)
                finally:
                    # What the claim does not use goes back, also when it failed.
                    used = len(claim.posts) if claim else 0
                    self._give(tenant_id, platform_id, taken - used)
                if claim is not None:
                    task = asyncio.create_task(self._send_claim(claim, used))
                    mine.add(task)
                    self.sending.add(task)
                    task.add_done_callback(mine.discard)
                    task.add_done_callback(self.sending.discard)
                elif mine:
                    # A user's next delivery is due once the one in flight is recorded.
                    await asyncio.wait(mine, return_when=asyncio.FIRST_COMPLETED)
                else:
                    return
        except Exception:
            # The database went away, most likely: the deliveries wait in it, and the next
            # look at what is due serves the platform again.
            log.exception("webhook delivery paused")

    def _served(self, platform_id: UUID, task: "asyncio.Task[None]") -> None:
        self.serving.pop(platform_id, None)

    def _take(self, tenant_id: UUID, platform_id: UUID, wanted: int) -> int:
        """Up to `wanted` requests' slots, within every cap; 0 when one is full."""
        tenant = self.tenants.setdefault(tenant_id, Slots(self.config.tenant_concurrency))
        endpoint = self.endpoints.setdefault(platform_id, Slots(self.config.endpoint_concurrency))
        taken = max(0, min(wanted, self.total.free, tenant.free, endpoint.free))
        for slots in (self.total, tenant, endpoint):
            slots.used += taken
        return taken

    def _give(self, tenant_id: UUID, platform_id: UUID, count: int) -> None:
        if not count:
            return
        self.total.used -= count
        for scopes, key in ((self.tenants, tenant_id), (self.endpoints, platform_id)):
            scopes[key].used -= count
            if not scopes[key].used:
                del scopes[key]  # made again when next needed: no entry per tenant for ever
        self.freed.set()
        self.freed = asyncio.Event()

    async def _claim(self, tenant_id: UUID, platform_id: UUID, requests: int) -> Claim | None:
        """Leases up to `requests` requests' worth of the platform's due deliveries, with
        their bodies, in one short transaction; None when nothing is due."""
        async with self.pool.acquire() as conn, conn.transaction():
            platform = await webhooks.sending_platform(conn, tenant_id, platform_id)
            if platform is None:
                return None  # its webhook was removed, or disabled, meanwhile
            size = platform["webhook_batch_size"]
            claimed = await webhooks.claim_due(
                conn, tenant_id, platform_id, requests * size, self.config.lease
            )
            if not claimed:
                return None
            return Claim(platform, await self._posts(conn, platform, claimed))

    async def _send_claim(self, claim: Claim, slots: int) -> None:
        """Sends a claim's requests at once, then records what came of them."""
        platform = claim.platform
        try:
            outcomes = await asyncio.gather(*(self._send(platform, p) for p in claim.posts))
            attempts = [a for post_attempts in outcomes for a in post_attempts]
            async with self.pool.acquire() as conn, conn.transaction():
                await webhooks.record_attempts(conn, platform["tenant_id"], attempts)
                if any(a.code == GONE for a in attempts):
                    await webhooks.disable_webhook(
                        conn, platform["tenant_id"], platform["id"], GONE_REASON
                    )
        except Exception:
            # Not recorded: the deliveries are tried again when their leases end.
            log.exception("webhook delivery paused")
        finally:
            self._give(platform["tenant_id"], platform["id"], slots)

    async def _posts(self, conn: Any, platform: Record, claimed: list[Record]) -> list[Post]:
        """The bodies, built now from the users as they are: nothing personal is stored with a
        delivery, so a deleted user's data is in none."""
        tenant_id = platform["tenant_id"]
        events = await webhooks.get_events(
            conn, tenant_id, [d["event_id"] for d in claimed if d["event_id"]]
        )
        user_ids = [d["user_id"] for d in claimed if d["user_id"] is not None]
        users = await webhooks.get_users(conn, tenant_id, user_ids)
        roles = await webhooks.roles_on_platform(conn, tenant_id, platform["id"], user_ids)
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

    async def _send(self, platform: Record, post_: Post) -> list[webhooks.Attempt]:
        msg_id = rules.webhook_id([d["id"] for d in post_.deliveries])
        timestamp = int(time.time())
        secrets = [platform["webhook_secret"]]
        if platform["previous_valid"] and platform["webhook_previous_secret"]:
            secrets.append(platform["webhook_previous_secret"])
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": rules.sign(secrets, msg_id, timestamp, post_.body),
        }
        started = time.monotonic()
        outcome = await post(
            self.client,
            self.config.addresses,
            platform["webhook_url"],
            post_.body,
            headers,
            self.config.timeout,
        )
        latency_ms = round((time.monotonic() - started) * 1000)
        return [
            self._attempt(d, outcome.code, outcome.error, outcome.refused, latency_ms)
            for d in post_.deliveries
        ]

    def _attempt(
        self,
        delivery: Record,
        code: int | None,
        error: str | None,
        refused: bool,
        latency_ms: int,
    ) -> webhooks.Attempt:
        now = datetime.now(UTC)
        status, next_at = "SUCCEEDED", now
        if error is not None:
            delay = rules.retry_delay(
                delivery["attempts"] + 1, self.config.retry_base, self.config.retry_cap
            )
            next_at = now + timedelta(seconds=delay)
            give_up = delivery["retry_from"] + timedelta(seconds=self.config.retry_window)
            # A refused address stays refused: retrying would only ask again.
            failed = refused or code == GONE or next_at > give_up
            status = "FAILED" if failed else "PENDING"
        return webhooks.Attempt(
            delivery["id"], status, next_at, code, error, latency_ms, delivery["leased_until"]
        )


class Sweeper:
    """Deletes finished deliveries older than the retention, a batch at a time."""

    def __init__(self, pool: Pool, config: WebhookConfig) -> None:
        self.pool = pool
        self.config = config

    async def sweep_once(self) -> int:
        """One batch; returns the deliveries deleted."""
        async with self.pool.acquire() as conn:
            return await webhooks.delete_finished(
                conn, self.config.retention, self.config.sweep_size
            )


class WebhookLoop:
    """The dispatcher, the deliverer and the sweeper of one worker, with their own small pool
    (so that imports never starve them of connections) and one HTTP client."""

    def __init__(self, pool: Pool, client: httpx.AsyncClient, config: WebhookConfig) -> None:
        self.pool = pool
        self.client = client
        self.config = config
        self.dispatcher = Dispatcher(pool, config)
        self.deliverer = Deliverer(pool, client, config)
        self.sweeper = Sweeper(pool, config)
        self.tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def start(cls, database_url: str, config: WebhookConfig) -> "WebhookLoop":
        # Connections are held for short transactions only, never while a request is out.
        pool = await create_pool(database_url, min_size=1, max_size=POOL_SIZE, role=APP_ROLE)
        client = delivery_client(config.concurrency, config.timeout)
        loop = cls(pool, client, config)
        for step in (loop._dispatch, loop._deliver, loop._sweep):
            loop.tasks.append(asyncio.create_task(loop._forever(step)))
        return loop

    async def stop(self) -> None:
        """Stops at once: a delivery in flight stays pending, retried when its lease ends."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.deliverer.stop()
        await self.client.aclose()
        await self.pool.close()

    async def _dispatch(self) -> float:
        taken = await self.dispatcher.dispatch_once()
        return 0 if taken else self.config.poll_interval

    async def _deliver(self) -> float:
        # The platforms it started serving go on by themselves; new ones are looked for again
        # after a pause.
        await self.deliverer.deliver_once()
        return self.config.poll_interval

    async def _sweep(self) -> float:
        deleted = await self.sweeper.sweep_once()
        # A full batch: more are likely waiting, deleted after a breath, not in one long run.
        return SWEEP_PAUSE if deleted >= self.config.sweep_size else self.config.sweep_interval

    async def _forever(self, step: Callable[[], Awaitable[float]]) -> None:
        """Runs `step` again and again, resting as long as it says between runs."""
        while True:
            try:
                rest = await step()
            except Exception:
                # The database went away, most likely: the deliveries wait in it, pending, and
                # the loop tries again once it may be back.
                log.exception("webhook delivery paused")
                rest = self.config.poll_interval
            if rest > 0:
                await asyncio.sleep(rest)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()
