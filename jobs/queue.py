"""The job queue as the API and the worker both see it: connecting to it, and queueing a job by
name. The API reaches arq only through this module, which imports no job code; the worker runs
the queued jobs in jobs/worker.py, the only other module that imports arq."""

from typing import Any, TypeAlias
from uuid import UUID

from arq.connections import ArqRedis, RedisSettings
from arq.connections import create_pool as create_arq_pool
from arq.constants import default_queue_name as QUEUE
from arq.constants import in_progress_key_prefix as IN_PROGRESS

from db import jobs

# The queue's client. It is a redis.asyncio client too: one client serves the queue, pub/sub
# and health checks.
Queue: TypeAlias = ArqRedis

# The function a worker runs for each kind of job (arq finds it by this name).
FUNCTIONS = {
    "IMPORT": "import_users",
    "EMAIL": "send_welcome_emails",
    "EXPORT": "export_users",
    "REVERT": "revert_import",
}

# Refreshed by each worker's polling loop: while it exists, some worker is taking jobs (one that
# is up but stuck would not refresh it), busy or not.
HEARTBEAT_KEY = "roster:worker:heartbeat"

__all__ = ["FUNCTIONS", "HEARTBEAT_KEY", "IN_PROGRESS", "QUEUE", "Queue"]


async def connect_queue(redis_url: str) -> Queue:
    return await create_arq_pool(RedisSettings.from_dsn(redis_url))


async def close_queue(queue: Queue) -> None:
    await queue.aclose()


async def enqueue_job(queue: Queue, pool_conn: Any, job_id: UUID, kind: str) -> None:
    """Queues a job under a new arq id (job id and attempt), recorded on the job: a recovered
    job must not collide with the arq id of a delivery that died with its worker."""
    attempt = await jobs.next_attempt(pool_conn, job_id)
    queue_id = f"{job_id}:{attempt}"
    await queue.enqueue_job(FUNCTIONS[kind], str(job_id), _job_id=queue_id)
    await jobs.set_queue_id(pool_conn, job_id, queue_id)
