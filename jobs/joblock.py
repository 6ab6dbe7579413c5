"""A run's hold on its job: the job's lock, and the fencing token that keeps a run that lost
the lock from committing beside the one that took the job over."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg import Pool

from db import jobs
from db.pool import Conn


class LockLost(Exception):
    """This run no longer holds its job: its lock's connection ended, or a later run started
    the job. It must commit nothing more."""


class JobLock:
    """The job's session lock, on a connection that does nothing else, and the run's fencing
    token.

    Whoever holds the lock runs the job; but the lock lives as long as its connection, and when
    the connection dies (a network failure, pg_terminate_backend) another worker may take the
    job up. So this run notices its connection ending and stops before its next chunk (`check`),
    and each chunk commits only while the run's token (`fence`, from `jobs.start_job`) is still
    the job's: a run that has not noticed yet commits nothing after another has started."""

    def __init__(self, conn: Conn, job_id: UUID) -> None:
        self.conn = conn
        self.job_id = job_id
        self.fence = 0  # set when the run starts the job
        self.lost = False
        self._listener: Callable[[Any], None] = self._ended

    async def take(self) -> bool:
        """Takes the lock unless another run holds it."""
        if not await jobs.try_lock_job(self.conn, self.job_id):
            return False
        self.conn.add_termination_listener(self._listener)
        return True

    async def release(self) -> None:
        if self.lost:
            return  # it went with its connection
        self.conn.remove_termination_listener(self._listener)
        try:
            await jobs.unlock_job(self.conn, self.job_id)
        except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
            # The connection failed meanwhile: the lock went with it (and a connection that
            # goes back to the pool is reset, its session locks released).
            pass

    def check(self) -> None:
        """Raises LockLost when the lock's connection has ended."""
        if self.lost:
            raise LockLost

    def _ended(self, conn: Any) -> None:
        self.lost = True


@asynccontextmanager
async def holding(pool: Pool, job_id: UUID) -> AsyncIterator[JobLock | None]:
    """The job's lock while the block runs, on a connection that does nothing else (a failure
    of the job's work leaves it held); None when another run holds it. Whoever holds the lock
    runs the job: a second delivery of the same job (a retry, recovery after a crash) finds it
    held, or finished, and does nothing."""
    async with pool.acquire() as conn:
        lock = JobLock(conn, job_id)
        if not await lock.take():
            yield None
            return
        try:
            yield lock
        finally:
            await lock.release()
