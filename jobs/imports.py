"""The CSV import job: validates every row, applies valid ones in chunks (or only plans them, in
a dry run), resumes from its checkpoint after a crash, and publishes its progress.

The job's work and its reconciled end are here; the run around it (lock, start, retries, end) is
jobs/lifecycle.py's. What a row does is decided in jobs/import_plan.py, a chunk is written by
jobs/import_writer.py, and chunks go through jobs/import_pipeline.py, written several at once in
file order (jobs/import_chunk.py)."""

import asyncio
import contextlib
import os
import tempfile
from typing import Any
from uuid import UUID

from asyncpg import Record

from db import files, jobs, platforms, search_trigrams, tenants
from db.pool import Conn
from jobs.csvrecords import MAX_RECORD
from jobs.csvrows import read_rows
from jobs.csvsniff import FileShape, inspect_file, read_header
from jobs.import_pipeline import ChunkPipeline
from jobs.import_plan import Options
from jobs.import_writer import ChunkWriter, Counters
from jobs.joblock import LockLost
from jobs.lifecycle import JobKind, Run, run_job
from jobs.progress import Publisher
from rules.csvcolumns import ColumnMap, FileError, PlatformInfo, map_header

CHUNK_ROWS = 5000
# Chunks written at once, each in its own transaction on its own connection: PostgreSQL writes
# one on each core while the worker reads and plans.
WRITERS = 2


class ImportKind(JobKind):
    label = "import"

    async def work(self, run: Run) -> Record | None:
        # In the worker's own scratch directory (0700; the file 0600): swept if the worker dies.
        handle, path = tempfile.mkstemp(
            prefix="roster-import-", suffix=".csv", dir=run.ctx["scratch"]
        )
        try:
            with os.fdopen(handle, "wb") as spool:
                async with run.pool.acquire() as conn:
                    async for chunk in files.read_chunks(conn, run.job["file_id"]):
                        await asyncio.to_thread(spool.write, chunk)
            async with run.pool.acquire() as conn:
                return await _import(run, conn, path)
        except FileError as e:
            return await run.end("FAILED", str(e))
        finally:
            os.unlink(path)

    async def clean_up(self, conn: Conn, tenant_id: UUID, job_id: UUID, status: str) -> None:
        # Its scratch rows and (unless a dry run) its stored file go with it.
        await jobs.forget_scratch(conn, tenant_id, job_id)
        await jobs.release_file(conn, tenant_id, job_id)

    async def after(self, run: Run) -> None:
        # An import is how a directory grows by much at once: which search words are rare is
        # sampled again once the users have doubled (a second at a million users, after the
        # job).
        async with run.pool.acquire() as conn:
            await search_trigrams.sample_trigrams(conn)


IMPORT = ImportKind()


async def import_users(ctx: dict[str, Any], job_id: str, *, last_try: bool = True) -> None:
    """Runs an import job (jobs/lifecycle.py): on the last try an unexpected error fails it,
    saying so; before, the next try resumes from the checkpoint."""
    await run_job(ctx, job_id, IMPORT, last_try=last_try)


async def _import(run: Run, conn: Conn, path: str) -> Record:
    """Writes the chunks not written yet and ends the job, reconciled; returns it."""
    ctx, job = run.ctx, run.job
    options = Options.from_json(job["options"])
    max_record = ctx.get("max_record_size") or MAX_RECORD
    job, shape = await _shape(conn, job, path, options, run.publisher, max_record)
    tenant_platforms = await platforms.list_platforms(conn, job["tenant_id"])
    tenant = await tenants.get_tenant(conn, job["tenant_id"])
    assert tenant is not None
    infos = [
        PlatformInfo(key=p["key"], aliases=tuple(p["aliases"]), roles=tuple(p["roles"]))
        for p in tenant_platforms
    ]
    job, columns = await _columns(conn, job, path, shape, options, infos)
    written = await jobs.written_chunks(conn, job["tenant_id"], job["id"])
    start = 0
    # Without its claims (job_keys is UNLOGGED: a database crash empties it), the file is read
    # from the first record again, to claim the keys of the chunks written before.
    if await jobs.has_keys(conn, job["tenant_id"], job["id"]):
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
        ChunkWriter(ctx["executor"], job, options, platform_ids, columns, run.lock),
        run.publisher,
        rows,
        chunk_rows=job["checkpoint"].get("chunk_rows", CHUNK_ROWS),
        start_after=start,
        written=written,
    )
    async with contextlib.AsyncExitStack() as connections:
        pool = run.pool
        keys_conn = await connections.enter_async_context(pool.acquire())
        others = [await connections.enter_async_context(pool.acquire()) for _ in range(WRITERS - 1)]
        await pipeline.run(keys_conn, [conn, *others])
    return await _reconcile(run, conn, shape.total)


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


async def _reconcile(run: Run, conn: Conn, total: int) -> Record:
    """Ends the job once its chunks are written: succeeded when every record of the file is
    accounted for exactly once, failed saying so otherwise."""
    job_id, lock = run.job_id, run.lock
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
        finished = await run.close(conn, status, message)
    assert finished is not None
    return finished
