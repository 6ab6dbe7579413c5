"""The CSV export job: the users a search covered when the job started, from one snapshot,
written by PostgreSQL's COPY into a stored file, reconciled before it is called a success.

Not resumable: a retry (after a crash, a lost connection) starts again from a fresh snapshot,
removing the partial file first; an export is a read, so starting over changes nothing."""

import logging
from typing import Any
from uuid import UUID

from asyncpg import Record
from asyncpg.exceptions import QueryCanceledError

from db import exports, files, jobs, user_counts
from db.exports import Column
from db.pool import Conn
from db.user_search import UserSearch, search_from_options
from jobs.export_file import ExportFile
from jobs.joblock import LockLost
from jobs.lifecycle import JobKind, Run, run_job
from jobs.progress import Publisher
from rules.exportcolumns import INSTRUCTIONS, NEUTRALISED_STARTS, attribute_key, default_columns

log = logging.getLogger(__name__)

FILE_NAME = "users.csv"


class ReconciliationError(Exception):
    """The file does not hold exactly the rows counted when the export started."""


def _column(name: str) -> Column:
    key = attribute_key(name)
    if key is not None:
        return Column(attribute=key)
    return Column() if name in INSTRUCTIONS else Column(field=name)


class ExportKind(JobKind):
    label = "export"

    async def started(self, conn: Conn, job: Record) -> None:
        # A file an earlier try left half written.
        await jobs.release_file(conn, job["tenant_id"], job["id"])

    async def work(self, run: Run) -> Record | None:
        try:
            return await _export(run)
        except ReconciliationError as e:
            log.error("%s: %s", run, e)
            return await run.end("FAILED", str(e))

    async def clean_up(self, conn: Conn, tenant_id: UUID, job_id: UUID, status: str) -> None:
        if status != "SUCCEEDED":
            await jobs.release_file(conn, tenant_id, job_id)  # its partial file goes


EXPORT = ExportKind()


async def export_users(ctx: dict[str, Any], job_id: str, *, last_try: bool = True) -> None:
    """Runs an export job (jobs/lifecycle.py); a retry starts from a new snapshot."""
    await run_job(ctx, job_id, EXPORT, last_try=last_try)


async def _export(run: Run) -> Record:
    """Writes the file from one snapshot and ends the job, reconciled; returns it."""
    job, publisher, fence = run.job, run.publisher, run.fence
    options = job["options"]
    search = search_from_options(options["search"])
    async with run.pool.acquire() as read, run.pool.acquire() as write:
        out, written = await _write(read, write, job, search, publisher, fence)
        try:
            await out.close()
        finally:
            await out.abandon()
        _reconcile(out.total, written, out.records)
        return await _succeed(run, write, out.file_id, options["ttl_seconds"])


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
                tenant_id,
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


async def _succeed(run: Run, conn: Conn, file_id: UUID, ttl_seconds: float) -> Record:
    async with conn.transaction():
        await files.complete_file(conn, file_id)
        await exports.set_expiry(conn, run.job_id, ttl_seconds)
        finished = await run.close(conn, "SUCCEEDED", None)
        if finished is None:
            raise LockLost  # a later run has the job: the file is not this run's to complete
    return finished
