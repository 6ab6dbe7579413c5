"""revertImport: queues the job that undoes an import (jobs/reverts.py), or says why not."""

import logging
from typing import Any

from redis.exceptions import RedisError

from db import import_undo, jobs
from jobs.queue import enqueue_job
from resolvers.permissions import actor_of
from schema.context import Context
from schema.errors import UserError
from schema.job import JobPayload, job_of

log = logging.getLogger(__name__)

UNDONE = ("QUEUED", "RUNNING", "SUCCEEDED")


def _refused(code: str, message: str, job: Any = None) -> JobPayload:
    return JobPayload(
        job=job_of(job) if job is not None else None,
        user_errors=[UserError(field=["id"], code=code, message=message)],
    )


async def revert_import(ctx: Context, job: Any, dry_run: bool) -> JobPayload:
    """`job`: the caller's job the id names (None when unknown). A revert of an import that is
    reverted already, or being reverted, is that revert: reverting twice does nothing more."""
    if job is None:
        return _refused("NOT_FOUND", "No such import.")
    if job["kind"] == "REVERT":
        return _refused(
            "REVERT_OF_REVERT",
            "A revert cannot be reverted: import the file again instead.",
            job,
        )
    if job["dry_run"]:
        return _refused("NOT_APPLIED", "A dry run changed nothing: there is nothing to undo.", job)
    if job["status"] in ("QUEUED", "RUNNING"):
        return _refused(
            "IMPORT_RUNNING",
            "The import is still running: cancel it (cancelJob) and revert it once it has "
            "ended; what it applied until then is undone.",
            job,
        )
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            earlier = await import_undo.lock_reverts_of(conn, ctx.tenant_id, job["id"])
            done = [r for r in earlier if not r["dry_run"] and r["status"] in UNDONE]
            if done and not dry_run:
                return JobPayload(job=job_of(done[0]))
            actor = actor_of(ctx)
            row = await jobs.create_job(
                conn,
                ctx.tenant_id,
                "REVERT",
                file_id=None,
                options={"reverts": str(job["id"])},
                dry_run=dry_run,
                actor=actor,
            )
        try:
            await enqueue_job(ctx.redis, conn, row["id"], "REVERT")
        except RedisError:
            # The job is recorded: the workers' recovery queues it once Redis is back.
            log.warning("could not queue job %s now; recovery will", row["id"])
    return JobPayload(job=job_of(row))
