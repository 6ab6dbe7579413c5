"""The CSV import job: validates every row, applies valid ones in chunks (or only plans them, in
a dry run), resumes from its checkpoint after a crash, and publishes its progress.

The job runs here (lock, start, finish, reconcile); what a row does is decided in
jobs/import_plan.py, a chunk is written by jobs/import_writer.py, and chunks go through
jobs/import_pipeline.py, written several at once in file order (jobs/import_chunk.py)."""

import asyncio
import contextlib
import logging
import os
import tempfile
from typing import Any
from uuid import UUID

from asyncpg import Pool, Record

from db import files, jobs, platforms, search_trigrams, tenants
from db.pool import Conn
from jobs.csvrecords import MAX_RECORD
from jobs.csvrows import read_rows
from jobs.csvsniff import FileShape, inspect_file, read_header
from jobs.import_pipeline import ChunkPipeline
from jobs.import_plan import Options
from jobs.import_writer import Cancelled, ChunkWriter, Counters
from jobs.joblock import JobLock, LockLost, holding
from jobs.progress import Publisher
from rules.csvcolumns import ColumnMap, FileError, PlatformInfo, map_header

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000
# Chunks written at once, each in its own transaction on its own connection: PostgreSQL writes
# one on each core while the worker reads and plans.
WRITERS = 2


class TryAgain(Exception):
    """An unexpected failure that a later try, resuming from the checkpoint, may not meet."""


async def import_users(ctx: dict[str, Any], job_id: str, *, last_try: bool = True) -> None:
    """Runs an import job. Whoever holds the job's lock runs it; a second delivery of the same
    job (a retry, recovery after a crash) finds it locked or finished and returns. An unexpected
    error raises TryAgain, unless this is the last try: then the job fails, saying so."""
    async with holding(ctx["pool"], UUID(job_id)) as lock:
        if lock is not None:
            await _run(ctx, lock, last_try)


async def _run(ctx: dict[str, Any], lock: JobLock, last_try: bool) -> None:
    pool: Pool = ctx["pool"]
    job_id = lock.job_id
    publisher = Publisher(ctx["redis"])
    async with pool.acquire() as conn:
        job = await jobs.start_job(conn, job_id)
    if job is None:
        return  # ended already (finished, failed or cancelled)
    lock.fence = job["fence"]
    await publisher.publish(job, final=True)
    # In the worker's own scratch directory (0700; the file 0600): swept if the worker dies.
    handle, path = tempfile.mkstemp(prefix="roster-import-", suffix=".csv", dir=ctx["scratch"])
    try:
        with os.fdopen(handle, "wb") as spool:
            async with pool.acquire() as conn:
                async for chunk in files.read_chunks(conn, job["file_id"]):
                    await asyncio.to_thread(spool.write, chunk)
        async with pool.acquire() as conn:
            job = await _import(ctx, conn, job, path, publisher, lock)
    except LockLost as e:
        # Another run may have the job now; if none has, the next try (or recover_jobs)
        # resumes it from the checkpoint. Not failed, even on the last try.
        log.warning("import %s: this run lost the job's lock; it stops here", job_id)
        raise TryAgain from e
    except FileError as e:
        job = await _finish(pool, lock, "FAILED", str(e))
    except Cancelled:
        job = await _finish(pool, lock, "CANCELLED", None)
    except Exception as e:
        if not last_try:
            log.warning("import %s: %r; trying again from the checkpoint", job_id, e)
            raise TryAgain from e
        log.exception("import %s failed", job_id)
        job = await _finish(pool, lock, "FAILED", f"Internal error ({type(e).__name__}).")
    finally:
        os.unlink(path)
    if job is not None:
        await publisher.publish(job, final=True)
    # An import is how a directory grows by much at once: which search words are rare is
    # sampled again once the users have doubled (a second at a million users, after the job).
    async with pool.acquire() as conn:
        await search_trigrams.sample_trigrams(conn)


async def _finish(pool: Pool, lock: JobLock, status: str, error: str | None) -> Record | None:
    # On a connection of its own: the job's may be the reason it failed.
    async with pool.acquire() as conn, conn.transaction():
        return await _close(conn, lock, status, error)


async def _close(conn: Conn, lock: JobLock, status: str, error: str | None) -> Record | None:
    """Ends the job: its scratch rows and (unless a dry run) its stored file go with it. None
    when it had ended already, or a later run has it."""
    job = await jobs.finish_job(conn, lock.job_id, status, error, lock.fence)
    if job is not None:
        await jobs.forget_scratch(conn, lock.job_id)
        await jobs.release_file(conn, lock.job_id)
    return job


async def _import(
    ctx: dict[str, Any], conn: Conn, job: Record, path: str, publisher: Publisher, lock: JobLock
) -> Record:
    """Writes the chunks not written yet and ends the job, reconciled; returns it."""
    options = Options.from_json(job["options"])
    max_record = ctx.get("max_record_size") or MAX_RECORD
    job, shape = await _shape(conn, job, path, options, publisher, max_record)
    tenant_platforms = await platforms.list_platforms(conn, job["tenant_id"])
    tenant = await tenants.get_tenant(conn, job["tenant_id"])
    assert tenant is not None
    infos = [
        PlatformInfo(key=p["key"], aliases=tuple(p["aliases"]), roles=tuple(p["roles"]))
        for p in tenant_platforms
    ]
    job, columns = await _columns(conn, job, path, shape, options, infos)
    written = await jobs.written_chunks(conn, job["id"])
    start = 0
    while start in written:
        start = written[start]
    rows = read_rows(
        path,
        shape,
        columns,
        infos,
        min_password_length=tenant["min_password_length"],
        start_after=start,
    )
    platform_ids = {p["key"]: p["id"] for p in tenant_platforms}
    pipeline = ChunkPipeline(
        ChunkWriter(ctx["executor"], job, options, platform_ids, columns, lock),
        publisher,
        rows,
        chunk_rows=job["checkpoint"].get("chunk_rows", CHUNK_ROWS),
        start_after=start,
        written=written,
    )
    async with contextlib.AsyncExitStack() as connections:
        pool: Pool = ctx["pool"]
        keys_conn = await connections.enter_async_context(pool.acquire())
        others = [await connections.enter_async_context(pool.acquire()) for _ in range(WRITERS - 1)]
        await pipeline.run(keys_conn, [conn, *others])
    return await _reconcile(conn, lock, shape.total)


async def _shape(
    conn: Conn, job: Record, path: str, options: Options, publisher: Publisher, max_record: int
) -> tuple[Record, FileShape]:
    """The file's encoding, delimiter and number of records: found by the first try, kept in
    the checkpoint for the next ones."""
    checkpoint = dict(job["checkpoint"])
    if "encoding" not in checkpoint:
        shape = await asyncio.to_thread(
            inspect_file,
            path,
            encoding=options.encoding,
            delimiter=options.delimiter,
            max_record=max_record,
        )
        checkpoint.update(
            encoding=shape.encoding,
            delimiter=shape.delimiter,
            total=shape.total,
            # Where chunks end, and which records are too long, must not change when a resumed
            # job runs on a newer worker or one configured otherwise.
            chunk_rows=CHUNK_ROWS,
            max_record=shape.max_record,
        )
        job = await jobs.set_shape(conn, job["id"], shape.total, checkpoint)
        await publisher.publish(job, final=True)
    shape = FileShape(
        encoding=checkpoint["encoding"],
        delimiter=checkpoint["delimiter"],
        total=checkpoint["total"],
        max_record=checkpoint.get("max_record", MAX_RECORD),
    )
    return job, shape


async def _columns(
    conn: Conn,
    job: Record,
    path: str,
    shape: FileShape,
    options: Options,
    infos: list[PlatformInfo],
) -> tuple[Record, ColumnMap]:
    """What the header's columns hold; the header is kept in the checkpoint by the first try."""
    header = await asyncio.to_thread(read_header, path, shape)
    columns = map_header(
        header, infos, extra_columns_as_attributes=options.extra_columns_as_attributes
    )
    checkpoint = dict(job["checkpoint"])
    if "header" not in checkpoint:
        # Kept for the error report, which gives failed rows back under their own header.
        checkpoint["header"] = list(columns.header)
        job = await jobs.set_shape(conn, job["id"], shape.total, checkpoint)
    return job, columns


async def _reconcile(conn: Conn, lock: JobLock, total: int) -> Record:
    """Ends the job once its chunks are written: succeeded when every record of the file is
    accounted for exactly once, failed saying so otherwise."""
    job_id = lock.job_id
    written_job = await jobs.get_job(conn, job_id)
    assert written_job is not None
    counters = Counters.of(written_job)
    # Blank records at the end of the file are read but never yielded: skipped.
    blank = max(total - counters.processed, 0)
    tail = Counters(processed=blank, skipped=blank)
    counters.processed += blank
    counters.skipped += blank
    # Reconcile before reporting success: every record read is accounted for exactly once.
    accounted = counters.created + counters.updated + counters.deleted + counters.skipped
    accounted += counters.failed
    status, message = "SUCCEEDED", None
    if counters.processed != total or accounted != counters.processed:
        status = "FAILED"
        message = (
            f"Reconciliation failed: {total} records in the file, {counters.processed} "
            f"read, {accounted} accounted for; nothing is reported as done that was not."
        )
    lock.check()
    async with conn.transaction():
        if await jobs.add_progress(conn, job_id, tail.as_dict(), lock.fence) is None:
            raise LockLost
        finished = await _close(conn, lock, status, message)
    assert finished is not None
    return finished
