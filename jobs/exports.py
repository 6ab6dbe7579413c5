"""The CSV export job: the users a search covered when the job started, from one snapshot,
written by PostgreSQL's COPY into a stored file, reconciled before it is called a success.

Not resumable: a retry (after a crash, a lost connection) starts again from a fresh snapshot,
removing the partial file first; an export is a read, so starting over changes nothing."""

import dataclasses
import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Pool, Record
from asyncpg.exceptions import QueryCanceledError

from db import exports, files, jobs, user_counts
from db.exports import Column
from db.pool import Conn
from db.user_search import UserSearch
from jobs.export_file import Cancelled, ExportFile
from jobs.joblock import JobLock, LockLost, holding
from jobs.progress import Publisher
from rules.exportcolumns import INSTRUCTIONS, NEUTRALISED_STARTS, attribute_key, default_columns

log = logging.getLogger(__name__)

FILE_NAME = "users.csv"


class TryAgain(Exception):
    """An unexpected failure that a later try, from a new snapshot, may not meet."""


class ReconciliationError(Exception):
    """The file does not hold exactly the rows counted when the export started."""


def search_options(search: UserSearch) -> dict[str, Any]:
    """A search as JSON, for the job's options."""
    values = dataclasses.asdict(search)
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = value.isoformat()
        elif isinstance(value, UUID):
            values[name] = str(value)
        elif isinstance(value, tuple):
            values[name] = [str(v) for v in value]
    return values


def search_from_options(values: dict[str, Any]) -> UserSearch:
    given = dict(values)
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        if given.get(name) is not None:
            given[name] = datetime.fromisoformat(given[name])
    if given.get("platform_id") is not None:
        given["platform_id"] = UUID(given["platform_id"])
    if given.get("ids") is not None:
        given["ids"] = tuple(UUID(i) for i in given["ids"])
    given["words"] = tuple(given.get("words", ()))
    return UserSearch(**given)


def _column(name: str) -> Column:
    key = attribute_key(name)
    if key is not None:
        return Column(attribute=key)
    return Column() if name in INSTRUCTIONS else Column(field=name)


async def export_users(ctx: dict[str, Any], job_id: str, *, last_try: bool = True) -> None:
    """Runs an export job; whoever holds the job's lock runs it (see jobs.imports)."""
    pool: Pool = ctx["pool"]
    async with holding(pool, UUID(job_id)) as lock:
        if lock is not None:
            await _run(pool, Publisher(ctx["redis"]), lock, last_try)


async def _run(pool: Pool, publisher: Publisher, lock: JobLock, last_try: bool) -> None:
    job_id = lock.job_id
    async with pool.acquire() as conn:
        job = await jobs.start_job(conn, job_id)
        if job is None:
            return  # ended already
        lock.fence = job["fence"]
        # A file an earlier try left half written.
        await jobs.release_file(conn, job_id)
    await publisher.publish(job, final=True)
    ended: Record | None
    try:
        ended = await _export(pool, job, publisher, lock.fence)
    except Cancelled:
        ended = await _end(pool, lock, "CANCELLED", None)
    except ReconciliationError as e:
        log.error("export %s: %s", job_id, e)
        ended = await _end(pool, lock, "FAILED", str(e))
    except LockLost as e:
        # A later run has the job (and starts its file again): this one stops here.
        log.warning("export %s: this run lost the job's lock; it stops here", job_id)
        raise TryAgain from e
    except Exception as e:
        if not last_try:
            log.warning("export %s: %r; trying again", job_id, e)
            async with pool.acquire() as conn:
                await jobs.release_file(conn, job_id)
            raise TryAgain from e
        log.exception("export %s failed", job_id)
        ended = await _end(pool, lock, "FAILED", f"Internal error ({type(e).__name__}).")
    if ended is not None:
        await publisher.publish(ended, final=True)


async def _end(pool: Pool, lock: JobLock, status: str, error: str | None) -> Record | None:
    """Ends an export that did not succeed: its partial file goes."""
    async with pool.acquire() as conn, conn.transaction():
        await jobs.release_file(conn, lock.job_id)
        return await jobs.finish_job(conn, lock.job_id, status, error, lock.fence)


async def _export(pool: Pool, job: Record, publisher: Publisher, fence: int) -> Record:
    """Writes the file from one snapshot and ends the job, reconciled; returns it."""
    options = job["options"]
    search = search_from_options(options["search"])
    async with pool.acquire() as read, pool.acquire() as write:
        out, written = await _write(read, write, job, search, publisher, fence)
        try:
            await out.close()
        finally:
            await out.abandon()
        _reconcile(out.total, written, out.records)
        return await _succeed(write, job["id"], out.file_id, options["ttl_seconds"], fence)


async def _write(
    read: Conn, write: Conn, job: Record, search: UserSearch, publisher: Publisher, fence: int
) -> tuple[ExportFile, int]:
    """Counts the users and streams them into the file, all from one snapshot: one REPEATABLE
    READ transaction, whatever changes meanwhile. Returns the file and the rows COPY wrote
    (0 when the export was cancelled, which stops the COPY)."""
    options = job["options"]
    tenant_id: UUID = job["tenant_id"]
    out: ExportFile | None = None
    try:
        async with read.transaction(isolation="repeatable_read", readonly=True):
            total = await user_counts.count_users(read, tenant_id, search)
            names = options.get("columns") or default_columns(
                await exports.attribute_keys(read, tenant_id, search)
            )
            started = await jobs.set_shape(write, job["id"], total, {"columns": names})
            await publisher.publish(started, final=True)
            file_id = await files.create_file(write, tenant_id, FILE_NAME)
            await exports.attach_file(write, job["id"], file_id)
            out = ExportFile(
                write,
                job["id"],
                file_id,
                names,
                publisher,
                total=total,
                copy_pid=read.get_server_pid(),
                fence=fence,
            )
            sql, params = exports.export_query(
                tenant_id,
                search,
                [_column(n) for n in names],
                order=options["order"],
                descending=options["descending"],
                neutralise=NEUTRALISED_STARTS,
            )
            written = await exports.copy_csv(read, sql, params, out.write)
    except QueryCanceledError:
        if out is None:
            raise
        await out.abandon()
        if not out.cancelled and out.error is None:
            raise
        return out, 0  # close() raises why the COPY was stopped
    except BaseException:
        if out is not None:
            await out.abandon()  # before its connection goes back to the pool
        raise
    return out, written


def _reconcile(counted: int, written: int, stored: int) -> None:
    if not counted == written == stored:
        raise ReconciliationError(
            f"Reconciliation failed: {counted} users matched when the export started, "
            f"{written} rows were written, the file holds {stored}; the file is removed."
        )


async def _succeed(
    conn: Conn, job_id: UUID, file_id: UUID, ttl_seconds: float, fence: int
) -> Record:
    async with conn.transaction():
        await files.complete_file(conn, file_id)
        await exports.set_expiry(conn, job_id, ttl_seconds)
        finished = await jobs.finish_job(conn, job_id, "SUCCEEDED", None, fence)
        if finished is None:
            raise LockLost  # a later run has the job: the file is not this run's to complete
    return finished
