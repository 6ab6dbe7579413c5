"""`roster export` and `roster import`: the job queued as an operator, its progress shown live
(the job's own progress, relayed through Redis like the `job` subscription), the exit code
saying how it ended. A worker (`roster worker`) runs the job: these commands only queue and
follow it."""

import asyncio
import getpass
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any, cast
from uuid import UUID

from asyncpg import Pool
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from db import files, jobs, tenants
from db.pool import create_pool
from jobs.progress import JobRelay
from jobs.queue import HEARTBEAT_KEY, Queue, close_queue, connect_queue
from resolvers.exports import start_export
from resolvers.ids import encode_id
from resolvers.jobs import start_import
from resolvers.loaders import make_loaders
from roster.app import load_cursor_key
from roster.cli_public_url import link_origin
from roster.settings import Settings
from schema.context import Context, Principal
from schema.job import ImportOptions, JobPayload

# How often the database is read when no progress came through Redis.
RECHECK_SECONDS = 2.0
TERMINAL = set(jobs.TERMINAL)

# Messages carry file names and cells: no markup read in them, no wrapping of long ones.
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)


async def _operator(settings: Settings, pool: Pool, queue: Queue, slug: str) -> Context | None:
    """A context acting for an operator at the command line, on tenant `slug`."""
    async with pool.acquire() as conn:
        tenant = await tenants.get_tenant_by_slug(conn, slug)
    if tenant is None:
        err.print(f"error: no tenant {slug!r}")
        return None
    key = await load_cursor_key(settings, pool)
    context = Context(
        # No HTTP request: the resolvers these commands call use the clients and the caller.
        request=cast(Any, None),
        response=None,
        pool=pool,
        redis=queue,
        executor=cast(Any, None),
        public_url=settings.public_url,
        max_upload_bytes=settings.max_upload_bytes,
        relay=None,
        export_ttl=settings.export_ttl,
        cursor_key=key,
        count_bound=settings.count_bound,
    )
    principal = Principal(tenant["id"], None, f"cli:{getpass.getuser()}", "admin")
    context.authenticate(principal, make_loaders(pool, tenant["id"], key))
    return context


async def _follow(pool: Pool, queue: Queue, job_id: UUID, label: str) -> Any:
    """Shows the job's progress until it ends; returns its last state."""
    if not await queue.exists(HEARTBEAT_KEY):
        err.print(
            "no worker seen: the job waits in the queue until `roster worker` runs", style="yellow"
        )
    relay = JobRelay(queue)
    await relay.start()
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        async with relay.listen(job_id) as updates:
            async with pool.acquire() as conn:
                state: Any = await jobs.get_job(conn, job_id)
            with Progress(*columns, console=err, transient=False) as bar:
                task = bar.add_task(label, total=None)
                while state["status"] not in TERMINAL:
                    bar.update(task, total=state["total"], completed=state["processed"])
                    try:
                        state = await asyncio.wait_for(updates.get(), RECHECK_SECONDS)
                    except TimeoutError:
                        async with pool.acquire() as conn:
                            state = await jobs.get_job(conn, job_id)
                # The final state from the database: a relayed one may lag behind it.
                async with pool.acquire() as conn:
                    state = await jobs.get_job(conn, job_id)
                bar.update(task, total=state["total"], completed=state["processed"])
    finally:
        await relay.stop()
    return state


async def _session(settings: Settings, stack: AsyncExitStack) -> tuple[Pool, Queue]:
    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    stack.push_async_callback(pool.close)
    queue = await connect_queue(settings.redis_url)
    stack.push_async_callback(close_queue, queue)
    return pool, queue


def _refused(payload: JobPayload) -> bool:
    for error in payload.user_errors:
        where = ".".join(error.field or [])
        err.print(f"error: {where + ': ' if where else ''}{error.message} ({error.code})")
    return payload.job is None


def _ended(state: Any) -> int:
    if state["status"] == "SUCCEEDED":
        return 0
    err.print(f"error: the job ended {state['status']}: {state['error'] or 'cancelled'}")
    return 1


async def export_command(
    settings: Settings, slug: str, search: str | None, columns: list[str] | None, out: str
) -> int:
    async with AsyncExitStack() as stack:
        pool, queue = await _session(settings, stack)
        context = await _operator(settings, pool, queue, slug)
        if context is None:
            return 1
        payload = await start_export(context, search=search, columns=columns)
        if _refused(payload) or payload.job is None:
            return 2
        job_id = UUID(str(payload.job.id))
        state = await _follow(pool, queue, job_id, "export")
        if state["status"] == "SUCCEEDED":
            await _save(pool, state["file_id"], out)
            err.print(f"{state['processed']} users written to {out}")
        return _ended(state)


async def _save(pool: Pool, file_id: UUID, out: str) -> None:
    partial = f"{out}.part"
    async with pool.acquire() as conn:
        with open(partial, "wb") as target:
            async for chunk in files.read_chunks(conn, file_id):
                await asyncio.to_thread(target.write, chunk)
    os.replace(partial, out)


async def _read(path: str) -> AsyncIterator[bytes]:
    with open(path, "rb") as source:
        while data := await asyncio.to_thread(source.read, files.CHUNK_SIZE):
            yield data


async def import_command(settings: Settings, slug: str, path: str, dry_run: bool) -> int:
    if not os.path.isfile(path):
        err.print(f"error: no file {path!r}")
        return 1
    async with AsyncExitStack() as stack:
        pool, queue = await _session(settings, stack)
        context = await _operator(settings, pool, queue, slug)
        if context is None:
            return 1
        payload = await start_import(
            context,
            content=_read(path),
            name=os.path.basename(path),
            options=ImportOptions(dry_run=dry_run),
            max_bytes=settings.max_upload_bytes,
        )
        if _refused(payload) or payload.job is None:
            return 2
        state = await _follow(pool, queue, UUID(str(payload.job.id)), "import")
        counts = ", ".join(
            f"{state[c]} {c}" for c in ("created", "updated", "deleted", "skipped", "failed")
        )
        err.print(f"{'dry run: ' if dry_run else ''}{state['processed']} rows: {counts}")
        if state["failed"]:
            global_id = encode_id("ImportJob", state["id"])
            err.print(
                f"rows with errors: {settings.public_url}/jobs/{global_id}/errors.csv (with an "
                f"admin token), or the job's rowErrors\n({link_origin(settings)})"
            )
        return _ended(state)
