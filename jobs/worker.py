"""arq's WorkerSettings, the queue connection and the enqueueing of Roster's jobs: the
arq-specific code stays here, and the rest of Roster reaches arq only through this module."""

import gc
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeAlias
from uuid import UUID

import arq.worker
from arq import Retry, cron, func
from arq.connections import ArqRedis, RedisSettings
from arq.connections import create_pool as create_arq_pool
from arq.constants import default_queue_name as QUEUE
from arq.constants import in_progress_key_prefix as IN_PROGRESS

from db import exports as export_files
from db import files, jobs
from db.pool import create_pool
from jobs import exports, imports

HEARTBEAT_SECONDS = 10
# Set by whichever worker takes the heartbeat job off the queue: while it exists, jobs are being
# consumed (a worker that is up but stuck would not refresh it).
HEARTBEAT_KEY = "roster:worker:heartbeat"
FUNCTIONS = {"IMPORT": "import_users", "EXPORT": "export_users"}
MAX_TRIES = 5
ABANDONED_UPLOAD_SECONDS = 24 * 3600
RETRY_SECONDS = 5

# The job queue's client. It is a redis.asyncio client too: one client serves the queue,
# pub/sub and health checks.
Queue: TypeAlias = ArqRedis


async def connect_queue(redis_url: str) -> Queue:
    return await create_arq_pool(RedisSettings.from_dsn(redis_url))


async def close_queue(queue: Queue) -> None:
    await queue.aclose()


async def import_users(ctx: dict[str, Any], job_id: str) -> None:
    try:
        await imports.import_users(ctx, job_id, last_try=ctx["job_try"] >= MAX_TRIES)
    except imports.TryAgain as e:
        # arq retries only on Retry; the next try resumes from the checkpoint.
        raise Retry(defer=RETRY_SECONDS * ctx["job_try"]) from e


async def export_users(ctx: dict[str, Any], job_id: str) -> None:
    try:
        await exports.export_users(ctx, job_id, last_try=ctx["job_try"] >= MAX_TRIES)
    except exports.TryAgain as e:
        raise Retry(defer=RETRY_SECONDS * ctx["job_try"]) from e


async def remove_expired_exports(ctx: dict[str, Any]) -> int:
    """Deletes the files of exports past their expiry (ROSTER_EXPORT_TTL); returns how many."""
    async with ctx["pool"].acquire() as conn:
        removed = await export_files.delete_expired_files(conn)
    return removed


async def enqueue_job(queue: Queue, pool_conn: Any, job_id: UUID, kind: str) -> None:
    """Queues a job under a new arq id (job id and attempt), recorded on the job: a recovered
    job must not collide with the arq id of a delivery that died with its worker."""
    attempt = await jobs.next_attempt(pool_conn, job_id)
    queue_id = f"{job_id}:{attempt}"
    await queue.enqueue_job(FUNCTIONS[kind], str(job_id), _job_id=queue_id)
    await jobs.set_queue_id(pool_conn, job_id, queue_id)


async def recover_jobs(ctx: dict[str, Any]) -> None:
    """Queues again every unfinished job that is neither queued in Redis nor held by a live
    worker: after a worker was killed, or Redis restarted and lost its queue."""
    redis: Queue = ctx["redis"]
    async with ctx["pool"].acquire() as conn:
        # Uploads that never became a job (their API instance died midway).
        await files.delete_abandoned_files(conn, ABANDONED_UPLOAD_SECONDS)
        for job in await jobs.unfinished_jobs(conn):
            queued = job["queue_id"] and await redis.zscore(QUEUE, job["queue_id"]) is not None
            # A delivery taken by a worker that was killed stays in the queue, marked in
            # progress until arq's timeout (hours): arq would not hand it out again before.
            taken = queued and await redis.exists(IN_PROGRESS + job["queue_id"])
            if queued and not taken:
                continue  # waiting for a worker
            if not await jobs.try_lock_job(conn, job["id"]):
                continue  # a live worker runs it
            await jobs.unlock_job(conn, job["id"])
            if taken:
                # Taken but unlocked: its worker died (or is just about to lock it, in which
                # case the new delivery finds the job locked or ended and returns).
                await redis.zrem(QUEUE, job["queue_id"])
            await enqueue_job(redis, conn, job["id"], job["kind"])


async def startup(ctx: dict[str, Any]) -> None:
    # The command that starts the worker puts the database URL into ctx.
    # Each running import holds a connection for its lock, one for each chunk it writes and
    # one to read ahead.
    per_import = 1 + imports.WRITERS + 1
    ctx["pool"] = await create_pool(
        ctx["database_url"], min_size=1, max_size=per_import * WorkerSettings.max_jobs + 2
    )
    ctx["executor"] = ProcessPoolExecutor(max_workers=ctx.get("hash_workers") or os.cpu_count())
    await worker_heartbeat(ctx)
    await recover_jobs(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    ctx["executor"].shutdown(cancel_futures=True)
    await ctx["pool"].close()


async def worker_heartbeat(ctx: dict[str, Any]) -> None:
    await ctx["redis"].set(HEARTBEAT_KEY, "1", ex=HEARTBEAT_SECONDS * 3)


class WorkerSettings:
    # Jobs resume from their checkpoint, so a retry after a crash or a timeout costs only the
    # chunk in flight.
    functions = [
        func(import_users, max_tries=MAX_TRIES, timeout=6 * 3600),
        func(export_users, max_tries=MAX_TRIES, timeout=6 * 3600),
    ]
    # Imports are heavy (a chunk's transaction, a hashing pool on every core): a few at a time
    # per worker; more workers for more.
    max_jobs = 4
    cron_jobs = [
        cron(
            worker_heartbeat,
            second=set(range(0, 60, HEARTBEAT_SECONDS)),
            unique=True,
            run_at_startup=False,
        ),
        cron(recover_jobs, second={15, 45}, unique=True, run_at_startup=False),
        cron(remove_expired_exports, minute=set(range(0, 60, 5)), second=30, unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown


def run_worker(*, redis_url: str, database_url: str, hash_workers: int) -> None:
    """Runs a worker in this process until it is stopped (SIGINT, SIGTERM)."""
    # An import holds a few chunks of rows (some 400,000 objects) for seconds at a time:
    # with the default thresholds the cycle collector scanned them again and again, a
    # fifth of the worker's time. Nothing in an import makes cycles that need collecting
    # soon; what the modules loaded is frozen out of the scans altogether.
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)
    arq.worker.run_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(redis_url),
        ctx={"database_url": database_url, "hash_workers": hash_workers},
    )
