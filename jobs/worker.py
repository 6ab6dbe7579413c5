"""arq's WorkerSettings and the worker that runs Roster's jobs. arq stays here and in
jobs/queue.py, which queues jobs (the API uses that one alone, and loads no job code)."""

import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import arq.worker
from arq import Retry, cron, func
from arq.connections import RedisSettings
from asyncpg import Record
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from db import emails, files, jobs
from db import exports as export_files
from db.pool import Conn, create_pool
from db.tenancy import APP_ROLE, acting_for
from jobs import exports, imports, reverts, welcome
from jobs.hashpool import hashing_pool
from jobs.lifecycle import TryAgain
from jobs.mail import MailConfig
from jobs.queue import HEARTBEAT_KEY, IN_PROGRESS, QUEUE, Queue, enqueue_job
from jobs.scratch import make_scratch_dir, remove_scratch_dir
from jobs.webhooks import WebhookConfig, WebhookLoop

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
MAX_TRIES = 5
ABANDONED_UPLOAD_SECONDS = 24 * 3600
RETRY_SECONDS = 5
# Waits between polls while Redis is unreachable: doubling from the first to the last.
REDIS_BACKOFF = (0.5, 10.0)
# A worker starting while Redis is down waits this many times that long for it.
STARTUP_CONNECT_TRIES, STARTUP_CONNECT_DELAY = 30, 2
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


async def import_users(ctx: dict[str, Any], job_id: str) -> None:
    async with _retried(ctx):
        await imports.import_users(ctx, job_id, last_try=_last_try(ctx))
    # The users it created with a welcome e-mail get it now, in one job.
    await queue_welcome_requests(ctx)


async def revert_import(ctx: dict[str, Any], job_id: str) -> None:
    async with _retried(ctx):
        await reverts.revert_import(ctx, job_id, last_try=_last_try(ctx))


async def send_welcome_emails(ctx: dict[str, Any], job_id: str) -> None:
    async with _retried(ctx):
        await welcome.send_welcome_emails(ctx, job_id, last_try=_last_try(ctx))


async def export_users(ctx: dict[str, Any], job_id: str) -> None:
    async with _retried(ctx):
        await exports.export_users(ctx, job_id, last_try=_last_try(ctx))


def _last_try(ctx: dict[str, Any]) -> bool:
    return bool(ctx["job_try"] >= MAX_TRIES)


@contextlib.asynccontextmanager
async def _retried(ctx: dict[str, Any]) -> AsyncIterator[None]:
    """A job's TryAgain as arq's Retry (arq retries on nothing else), with a growing wait: an
    SMTP server or a database that is down gets longer and longer to come back. The next try
    resumes from the job's checkpoint."""
    try:
        yield
    except TryAgain as e:
        raise Retry(defer=RETRY_SECONDS * ctx["job_try"]) from e


async def queue_welcome_requests(ctx: dict[str, Any]) -> None:
    """Welcome e-mail requests no job has taken up (also those recorded before e-mails were
    sent at all) become e-mail jobs, queued here."""
    made = await welcome.take_requests(ctx["pool"])
    async with ctx["pool"].acquire() as conn:
        for tenant_id, job_id in made:
            with acting_for(tenant_id):
                await enqueue_job(ctx["redis"], conn, job_id, emails.JOB_KIND)


async def remove_expired_exports(ctx: dict[str, Any]) -> int:
    """Deletes the files of exports past their expiry (ROSTER_EXPORT_TTL); returns how many."""
    async with ctx["pool"].acquire() as conn:
        removed = await export_files.delete_expired_files(conn)
    return removed


async def recover_jobs(ctx: dict[str, Any]) -> None:
    """Queues again every unfinished job, of any organisation, that is neither queued in Redis
    nor held by a live worker: after a worker was killed, or Redis restarted and lost its
    queue."""
    redis: Queue = ctx["redis"]
    async with ctx["pool"].acquire() as conn:
        # Uploads that never became a job (their API instance died midway).
        await files.delete_abandoned_files(conn, ABANDONED_UPLOAD_SECONDS)
        for job in await jobs.unfinished_jobs(conn):
            with acting_for(job["tenant_id"]):
                await _recover(redis, conn, job)


async def _recover(redis: Queue, conn: Conn, job: Record) -> None:
    """Queues the job again unless it waits for a worker or a live worker runs it."""
    queued = job["queue_id"] and await redis.zscore(QUEUE, job["queue_id"]) is not None
    # A delivery taken by a worker that was killed stays in the queue, marked in progress
    # until arq's timeout (hours): arq would not hand it out again before.
    taken = queued and await redis.exists(IN_PROGRESS + job["queue_id"])
    if queued and not taken:
        return  # waiting for a worker
    if not await jobs.try_lock_job(conn, job["id"]):
        return  # a live worker runs it
    await jobs.unlock_job(conn, job["id"])
    if taken:
        # Taken but unlocked: its worker died (or is just about to lock it, in which case the
        # new delivery finds the job locked or ended and returns).
        await redis.zrem(QUEUE, job["queue_id"])
    await enqueue_job(redis, conn, job["id"], job["kind"])


async def startup(ctx: dict[str, Any]) -> None:
    # The command that starts the worker puts the database URL into ctx.
    # Each running import holds a connection for its lock, one for each chunk it writes and
    # one to read ahead.
    per_import = 1 + imports.WRITERS + 1
    ctx["pool"] = await create_pool(
        ctx["database_url"],
        min_size=1,
        max_size=per_import * WorkerSettings.max_jobs + 2,
        role=APP_ROLE,
    )
    ctx["executor"] = hashing_pool(ctx.get("hash_workers"))
    ctx["scratch"] = make_scratch_dir()
    await worker_heartbeat(ctx)
    await recover_jobs(ctx)
    await queue_welcome_requests(ctx)
    # Webhook delivery runs beside the jobs for as long as the worker does.
    ctx["webhooks"] = await WebhookLoop.start(
        ctx["database_url"], ctx.get("webhooks_config") or WebhookConfig()
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    # Also after a startup that failed midway: its own error is the one to report, not a
    # KeyError for what it did not get to create.
    if "webhooks" in ctx:
        await ctx["webhooks"].stop()
    if "executor" in ctx:
        ctx["executor"].shutdown(cancel_futures=True)
    if "scratch" in ctx:
        remove_scratch_dir(ctx["scratch"])
    if "pool" in ctx:
        await ctx["pool"].close()


async def worker_heartbeat(ctx: dict[str, Any]) -> None:
    await ctx["redis"].set(HEARTBEAT_KEY, "1", ex=HEARTBEAT_SECONDS * 3)


class WorkerSettings:
    # Jobs resume from their checkpoint, so a retry after a crash or a timeout costs only the
    # chunk in flight.
    functions = [
        func(import_users, max_tries=MAX_TRIES, timeout=6 * 3600),
        # 50,000 e-mails at 10 a second take 83 minutes; a retry resumes where it stopped.
        func(send_welcome_emails, max_tries=MAX_TRIES, timeout=24 * 3600),
        func(export_users, max_tries=MAX_TRIES, timeout=6 * 3600),
        func(revert_import, max_tries=MAX_TRIES, timeout=6 * 3600),
    ]
    # Imports are heavy (a chunk's transaction, a hashing pool on every core): a few at a time
    # per worker; more workers for more.
    max_jobs = 4
    cron_jobs = [
        cron(recover_jobs, second={15, 45}, unique=True, run_at_startup=False),
        cron(queue_welcome_requests, second={20, 50}, unique=True, run_at_startup=False),
        cron(remove_expired_exports, minute=set(range(0, 60, 5)), second=30, unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown


class Worker(arq.worker.Worker):
    """arq's worker, kept running through Redis outages and refreshing the heartbeat.

    arq ends its worker on the first failed poll: a Redis restart, even of seconds while the
    worker was idle, stopped it, and the imports it was running with it. Here a failed poll is
    logged once per outage and tried again with a growing wait; running jobs go on meanwhile
    (they need only PostgreSQL; their progress messages are skipped). A job lost with Redis's
    queue is queued again by `recover_jobs`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.down_since: float | None = None
        self.backoff = REDIS_BACKOFF[0]
        self.beaten = 0.0

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_DOWN as e:
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.warning("Redis unavailable (%r): running jobs go on; retrying", e)
            await asyncio.sleep(self.backoff)
            self.backoff = min(self.backoff * 2, REDIS_BACKOFF[1])
            return
        if self.down_since is not None:
            log.warning("Redis is back after %.0f s", time.monotonic() - self.down_since)
            self.down_since = None
            self.backoff = REDIS_BACKOFF[0]

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            if self.job_counter >= self.max_jobs:
                return
            try:
                await super().start_jobs([job_id])
            except REDIS_DOWN:
                # arq counts a job as started before it marks it in Redis, and uncounts it only
                # when its task ends: a failed mark would keep its place taken for good.
                self._release_sem_dec_counter_on_complete()
                raise

    async def heart_beat(self) -> None:
        await super().heart_beat()
        # Here, not as a queued job: a worker running its most jobs at once beats too.
        now = time.monotonic()
        if now - self.beaten >= HEARTBEAT_SECONDS:
            await worker_heartbeat(self.ctx)
            self.beaten = now


def run_worker(
    *,
    redis_url: str,
    database_url: str,
    hash_workers: int,
    max_record_size: int,
    mail: MailConfig | None,
    webhooks: WebhookConfig,
) -> None:
    """Runs a worker in this process until it is stopped (SIGINT, SIGTERM)."""
    # An import holds a few chunks of rows (some 400,000 objects) for seconds at a time:
    # with the default thresholds the cycle collector scanned them again and again, a
    # fifth of the worker's time. Nothing in an import makes cycles that need collecting
    # soon; what the modules loaded is frozen out of the scans altogether.
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)
    redis_settings = dataclasses.replace(
        RedisSettings.from_dsn(redis_url),
        conn_retries=STARTUP_CONNECT_TRIES,
        conn_retry_delay=STARTUP_CONNECT_DELAY,
    )
    worker = Worker(
        **arq.worker.get_kwargs(WorkerSettings),  # type: ignore[arg-type]
        redis_settings=redis_settings,
        ctx={
            "database_url": database_url,
            "hash_workers": hash_workers,
            "max_record_size": max_record_size,
            "mail": mail,
            "webhooks_config": webhooks,
        },
    )
    worker.run()
