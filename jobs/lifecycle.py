"""One run of a job, the same for imports, exports and e-mail jobs: the job's lock, its start and
fencing token, its published states, and how it ends.

Whoever holds the job's lock runs it: a second delivery of the same job (a retry, recovery after a
crash) finds it held, or ended, and does nothing. A run that loses its lock stops and commits
nothing more; an unexpected failure is tried again (TryAgain: the worker queues the job once more,
and the next try resumes from the job's checkpoint), unless this was the last try: then the job
fails, saying so. What differs between kinds of job is a JobKind: the work, and what goes with
the job when it ends."""

import logging
from typing import Any
from uuid import UUID

from asyncpg import Pool, Record

from db import jobs
from db.pool import Conn
from db.tenancy import acting_for
from jobs.joblock import JobLock, LockLost, holding
from jobs.progress import Publisher

log = logging.getLogger(__name__)


class TryAgain(Exception):
    """A failure a later try may not meet: the job is queued again, and resumes from its
    checkpoint."""


class Cancelled(Exception):
    """Someone asked for the job to be cancelled: the run stops, the job ends CANCELLED."""


class Run:
    """One run of one job: its lock and fencing token, its published states."""

    def __init__(
        self, ctx: dict[str, Any], lock: JobLock, kind: "JobKind", job: Record, last_try: bool
    ) -> None:
        self.ctx = ctx
        self.pool: Pool = ctx["pool"]
        self.publisher = Publisher(ctx["redis"])
        self.lock = lock
        self.kind = kind
        # The job as this run started it.
        self.job = job
        self.last_try = last_try

    @property
    def job_id(self) -> UUID:
        return self.lock.job_id

    @property
    def tenant_id(self) -> UUID:
        tenant_id: UUID = self.job["tenant_id"]
        return tenant_id

    @property
    def fence(self) -> int:
        return self.lock.fence

    def __str__(self) -> str:
        return f"{self.kind.label} {self.job_id}"

    async def progress(self, conn: Conn, counts: dict[str, int]) -> Record:
        """Adds to the job's counters (in the caller's transaction) and publishes them; raises
        LockLost when a later run has the job."""
        job = await jobs.add_progress(conn, self.job_id, counts, self.fence)
        if job is None:
            raise LockLost
        await self.publisher.publish(job)
        return job

    async def close(self, conn: Conn, status: str, error: str | None) -> Record | None:
        """Ends the job in the caller's transaction, with what goes with it (the kind's
        `clean_up`). None when it had ended already, or a later run has it."""
        job = await jobs.finish_job(conn, self.job_id, status, error, self.fence)
        if job is not None:
            await self.kind.clean_up(conn, self.tenant_id, self.job_id, status)
        return job

    async def end(self, status: str, error: str | None) -> Record | None:
        """Ends the job on a connection of its own: the run's may be the reason it ends."""
        async with self.pool.acquire() as conn, conn.transaction():
            return await self.close(conn, status, error)


class JobKind:
    """What one kind of job does; the run around it is the same for every kind."""

    # How the log names a run: "import 0b6f…".
    label = "job"

    async def started(self, conn: Conn, job: Record) -> None:
        """Right after the job is started, before its state is published."""

    async def work(self, run: Run) -> Record | None:
        """Does the job and ends it (`run.close`, `run.end`); returns the job as it ended, None
        when it had ended already. Raises Cancelled, LockLost or TryAgain to stop."""
        raise NotImplementedError

    async def clean_up(self, conn: Conn, tenant_id: UUID, job_id: UUID, status: str) -> None:
        """In the transaction that ends the job: what goes with it."""

    async def after(self, run: Run) -> None:
        """Once the job has ended and its end is published."""


async def run_job(ctx: dict[str, Any], job_id: str, kind: JobKind, *, last_try: bool) -> None:
    """Runs one delivery of a job, unless another run holds it or it has ended: as the job's
    organisation, which the queue does not say (any organisation's job: 0018)."""
    async with ctx["pool"].acquire() as conn:
        tenant_id = await jobs.job_tenant(conn, UUID(job_id))
    if tenant_id is None:
        return  # gone with its organisation
    with acting_for(tenant_id):
        await _run_job(ctx, UUID(job_id), kind, last_try)


async def _run_job(ctx: dict[str, Any], job_id: UUID, kind: JobKind, last_try: bool) -> None:
    async with holding(ctx["pool"], job_id) as lock:
        if lock is None:
            return
        run = await _start(ctx, lock, kind, last_try)
        if run is None:
            return
        ended = await _work(run)
        if ended is not None:
            await run.publisher.publish(ended, final=True)
        await kind.after(run)


async def _start(ctx: dict[str, Any], lock: JobLock, kind: JobKind, last_try: bool) -> Run | None:
    async with ctx["pool"].acquire() as conn:
        job = await jobs.start_job(conn, lock.job_id)
        if job is None:
            return None  # ended already (finished, failed or cancelled)
        lock.fence = job["fence"]
        await kind.started(conn, job)
    run = Run(ctx, lock, kind, job, last_try)
    await run.publisher.publish(job, final=True)
    return run


async def _work(run: Run) -> Record | None:
    try:
        return await run.kind.work(run)
    except TryAgain:
        raise
    except LockLost as e:
        # Another run may have the job now; if none has, the next try (or the worker's
        # recovery) resumes it. Not failed, even on the last try.
        log.warning("%s: this run lost the job's lock; it stops here", run)
        raise TryAgain from e
    except Cancelled:
        return await run.end("CANCELLED", None)
    except Exception as e:
        if not run.last_try:
            log.warning("%s: %r; trying again from its checkpoint", run, e)
            raise TryAgain from e
        log.exception("%s failed", run)
        return await run.end("FAILED", f"Internal error ({type(e).__name__}).")
