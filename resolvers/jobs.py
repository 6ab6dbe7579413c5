"""Jobs: startImport, cancelJob, the job and jobs queries, and the job subscription."""

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from redis.exceptions import RedisError
from strawberry.file_uploads import Upload
from strawberry.permission import BasePermission

from db import events, files, jobs
from jobs.progress import channel as progress_channel
from jobs.progress import encode_job
from jobs.queue import enqueue_job
from resolvers.errors import BadRequest
from resolvers.ids import decode_id, encode_id
from resolvers.pagination import decode_cursor, encode_cursor, page_request, paginate
from resolvers.permissions import CanMutate, actor_of, can_mutate
from resolvers.reverts import revert_import
from rules import events as vocabulary
from rules.csvcolumns import DELIMITERS
from rules.errorreport import ErrorReport
from schema.context import Context, Info, Principal
from schema.errors import UserError
from schema.job import (
    TERMINAL_STATUSES,
    ExtraColumns,
    ImportOptions,
    ImportSpeed,
    Job,
    JobConnection,
    JobEdge,
    JobPayload,
    JobStatus,
    job_of,
)

log = logging.getLogger(__name__)

ENCODINGS = {"utf-8", "utf-8-sig", "cp1252", "windows-1252", "latin-1", "iso-8859-1"}
# How long a subscription waits for news before it looks at the database itself.
RECHECK_SECONDS = 5.0
# Failed rows read at a time for the error report.
REPORT_PAGE = 1000


# A job's global id names its type; each type is one kind of job.
KINDS = {"ImportJob": "IMPORT", "EmailJob": "EMAIL", "ExportJob": "EXPORT", "RevertJob": "REVERT"}


def decode_job_id(value: str) -> tuple[UUID, str] | None:
    """The row id and kind inside a job's global id, or None (treated as unknown)."""
    for type_name, kind in KINDS.items():
        job_id = decode_id(value, type_name)
        if job_id is not None:
            return job_id, kind
    return None


async def _load_job(ctx: Context, global_id: str) -> Any:
    """The caller's job with this global id (of the right type), or None."""
    ref = decode_job_id(global_id)
    row = await ctx.loaders.jobs.load(ref[0]) if ref else None
    return row if row is not None and ref is not None and row["kind"] == ref[1] else None


def _options(options: ImportOptions) -> tuple[dict[str, Any], list[UserError]]:
    errors = []
    if options.delimiter is not None and options.delimiter not in DELIMITERS:
        errors.append(
            UserError(
                field=["options", "delimiter"],
                code="INVALID_DELIMITER",
                message="The delimiter is one of , ; or a tab.",
            )
        )
    encoding = options.encoding.strip().lower() if options.encoding else None
    if encoding is not None and encoding not in ENCODINGS:
        errors.append(
            UserError(
                field=["options", "encoding"],
                code="INVALID_ENCODING",
                message=f"Encodings: {', '.join(sorted(ENCODINGS))}.",
            )
        )
    return {
        "mode": options.mode.value,
        "match_by": options.match_by.value,
        "roles_mode": options.roles_mode.value,
        "send_welcome_email": options.send_welcome_email,
        "encoding": encoding,
        "delimiter": options.delimiter,
        "extra_columns_as_attributes": options.extra_columns == ExtraColumns.ATTRIBUTES,
    }, errors


async def start_import(
    ctx: Context,
    *,
    content: AsyncIterator[bytes] | None,
    name: str,
    options: ImportOptions | None,
    dry_run_job_id: str | None = None,
    max_bytes: int,
) -> JobPayload:
    """Stores the file (streamed, in chunks) or takes a dry run's, records the job and queues
    it; the upload mutation and POST /imports both come here. A dry run applied without
    options of its own is applied with the dry run's, so that it does what the dry run
    planned."""
    inherit = options is None and content is None
    options = options or ImportOptions()
    values, errors = _options(options)
    if errors:
        return JobPayload(job=None, user_errors=errors)
    file_id = None
    try:
        if content is not None:
            # Stored chunk by chunk, each committed on a connection of its own: a slow upload
            # holds no connection and no transaction open.
            file_id = await _store(ctx.pool, ctx.tenant_id, name, content, max_bytes)
        async with ctx.pool.acquire() as conn:
            async with conn.transaction():
                row = await _record_import(
                    ctx, conn, file_id, options, values, dry_run_job_id, inherit
                )
            try:
                await enqueue_job(ctx.redis, conn, row["id"], "IMPORT")
            except RedisError:
                # The job is recorded: the workers' recovery queues it once Redis is back.
                log.warning("could not queue job %s now; recovery will", row["id"])
    except _Refused as refused:
        return JobPayload(job=None, user_errors=[refused.error])
    return JobPayload(job=job_of(row))


class _Refused(Exception):
    def __init__(self, error: UserError) -> None:
        self.error = error


async def _record_import(
    ctx: Context,
    conn: Any,
    file_id: UUID | None,
    options: ImportOptions,
    values: dict[str, Any],
    dry_run_job_id: str | None,
    inherit: bool,
) -> Any:
    """Records the job for an uploaded file (or the dry run's); raises _Refused."""
    if file_id is not None:
        await files.complete_file(conn, file_id)
    else:
        source = await _dry_run(conn, ctx.tenant_id, dry_run_job_id)
        if isinstance(source, UserError):
            raise _Refused(source)
        file_id = source["file_id"]
        if inherit:
            values = dict(source["options"])
        values = {**values, jobs.APPLIES_DRY_RUN: str(source["id"])}
    row = await jobs.create_job(
        conn,
        ctx.tenant_id,
        "IMPORT",
        file_id=file_id,
        options=values,
        dry_run=options.dry_run,
        actor=actor_of(ctx),
    )
    await events.record_events(
        conn,
        ctx.tenant_id,
        actor_of(ctx),
        [(row["id"], vocabulary.import_started(options.dry_run, values))],
    )
    return row


async def _store(
    pool: Any, tenant_id: UUID, name: str, content: AsyncIterator[bytes], max_bytes: int
) -> UUID:
    """Stores an upload; a refused or broken one (too large, empty, the client gone) is
    deleted again."""
    async with pool.acquire() as conn:
        file_id: UUID = await files.create_file(conn, tenant_id, name)
    try:
        size, seq, buffer = 0, 0, bytearray()
        async for data in content:
            size += len(data)
            if size > max_bytes:
                raise _Refused(
                    UserError(
                        field=["file"],
                        code="FILE_TOO_LARGE",
                        message=f"The file is larger than {max_bytes:,} bytes.",
                    )
                )
            buffer += data
            while len(buffer) >= files.CHUNK_SIZE:
                async with pool.acquire() as conn:
                    await files.add_chunk(conn, file_id, seq, bytes(buffer[: files.CHUNK_SIZE]))
                del buffer[: files.CHUNK_SIZE]
                seq += 1
        if size == 0:
            raise _Refused(
                UserError(field=["file"], code="EMPTY_FILE", message="The file is empty.")
            )
        if buffer:
            async with pool.acquire() as conn:
                await files.add_chunk(conn, file_id, seq, bytes(buffer))
        async with pool.acquire() as conn:
            await files.set_size(conn, file_id, size)
    except BaseException:
        async with pool.acquire() as conn:
            await files.delete_file(conn, file_id)
        raise
    return file_id


async def _dry_run(conn: Any, tenant_id: UUID, global_id: str | None) -> Any:
    """The finished dry run `global_id`, or a UserError."""
    job_id = decode_id(global_id or "", "ImportJob")
    found = await jobs.get_jobs(conn, tenant_id, [job_id]) if job_id else []
    if not found:
        return UserError(field=["dryRunJobId"], code="NOT_FOUND", message="No such import.")
    job = found[0]
    if not job["dry_run"]:
        return _not_a_finished_dry_run("This import is not a dry run.")
    if job["status"] != "SUCCEEDED":
        return _not_a_finished_dry_run(
            f"This dry run is {job['status']}: only a dry run that succeeded can be applied."
        )
    applied = await jobs.applied_by(conn, tenant_id, job["id"])
    if applied is not None:
        return UserError(
            field=["dryRunJobId"],
            code="DRY_RUN_APPLIED",
            message=f"This dry run was applied already, by import "
            f"{encode_id('ImportJob', applied['id'])} ({applied['status']}).",
        )
    if job["file_id"] is None:
        return _not_a_finished_dry_run("This dry run's file is no longer stored.")
    return job


def _not_a_finished_dry_run(message: str) -> UserError:
    return UserError(field=["dryRunJobId"], code="NOT_A_FINISHED_DRY_RUN", message=message)


async def _upload_chunks(upload: Any) -> AsyncIterator[bytes]:
    while data := await upload.read(files.CHUNK_SIZE):
        yield data


@strawberry.type
class JobQuery:
    @strawberry.field
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        row = await _load_job(info.context, id)
        return job_of(row) if row else None

    @strawberry.field(
        description="How fast this organisation's imports ran: what a file's duration is "
        "estimated from."
    )
    async def import_speed(self, info: Info) -> ImportSpeed:
        async with info.context.pool.acquire() as conn:
            speeds = await jobs.import_speed(conn, info.context.tenant_id)
        applied, dry = speeds.get(False), speeds.get(True)
        return ImportSpeed(
            rows_per_second=applied[1] if applied else None,
            dry_run_rows_per_second=dry[1] if dry else None,
            imports_measured=sum(count for count, _ in speeds.values()),
        )

    @strawberry.field(description="Newest first.")
    async def jobs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: JobStatus | None = None,
    ) -> JobConnection:
        page = page_request(first, after, None, None)
        before = None
        if page.cursor:
            payload = decode_cursor(info.context.cursor_key, page.cursor, "jobs")
            try:
                before = (datetime.fromisoformat(payload["t"]), UUID(payload["i"]))
            except (KeyError, ValueError, TypeError, AttributeError) as e:
                raise BadRequest("This cursor is not valid here.", "INVALID_CURSOR") from e
        async with info.context.pool.acquire() as conn:
            rows = await jobs.list_jobs(
                conn,
                info.context.tenant_id,
                status=status.value if status else None,
                before=before,
                limit=page.size + 1,
            )
        edges, page_info = paginate(
            page,
            rows,
            lambda r: JobEdge(
                cursor=encode_cursor(
                    info.context.cursor_key, {"k": "jobs", "t": r["created_at"], "i": r["id"]}
                ),
                node=job_of(r),
            ),
        )
        return JobConnection(edges=edges, page_info=page_info)


def may_cancel(caller: Principal, job: Any) -> bool:
    """The one rule for cancelling: whoever may start a job may cancel the jobs they started.
    An admin token may start any job, so it cancels any of its tenant's; a read token may start
    exports only, so it cancels those it started itself."""
    return can_mutate(caller) or (
        caller.token_id is not None and job["actor_token_id"] == caller.token_id
    )


class CanCancel(BasePermission):
    message = "This token is read-only: it may cancel only the exports it started."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # A job the caller cannot see is the resolver's NOT_FOUND, not a refusal. The job is
        # loaded through the request's DataLoader: the resolver's own load costs no query.
        job = await _load_job(info.context, kwargs["id"])
        return job is None or may_cancel(info.context.caller, job)


@strawberry.type
class JobMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Imports a CSV (GraphQL multipart upload), or the file of a finished dry run "
        "(`dryRunJobId`). Returns at once with the queued job; follow it with the `job` "
        "subscription.",
    )
    async def start_import(
        self,
        info: Info,
        file: Upload | None = None,
        options: ImportOptions | None = None,
        dry_run_job_id: strawberry.ID | None = None,
    ) -> JobPayload:
        if (file is None) == (dry_run_job_id is None):
            return JobPayload(
                job=None,
                user_errors=[
                    UserError(
                        field=["file"],
                        code="INVALID_ARGUMENTS",
                        message="Pass either a file or the id of a dry run.",
                    )
                ],
            )
        return await start_import(
            info.context,
            content=_upload_chunks(file) if file is not None else None,
            name=getattr(file, "filename", None) or "upload.csv",
            options=options,
            dry_run_job_id=dry_run_job_id,
            max_bytes=info.context.max_upload_bytes,
        )

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Undoes an applied import (`id`: its ImportJob id): users it created are "
        "deleted, fields and roles it changed put back, users it disabled enabled; users it "
        "deleted cannot come back. A change made to a user after the import wins (row error "
        "CHANGED_LATER), and so does another user's username, e-mail or external id taken "
        "since (IDENTIFIER_TAKEN). Returns at once with the queued RevertJob; `dryRun` only "
        "plans. "
        "Reverting an import again returns its revert; a running import is refused.",
    )
    async def revert_import(
        self, info: Info, id: strawberry.ID, dry_run: bool | None = None
    ) -> JobPayload:
        ctx = info.context
        return await revert_import(ctx, await _load_job(ctx, id), bool(dry_run))

    @strawberry.mutation(
        permission_classes=[CanCancel],
        description="Stops a job at its next chunk: what an import applied stays applied; an "
        "export's partial file is removed. Whoever may start a job may cancel the jobs they "
        "started: an admin token cancels any job of its tenant, a read token the exports it "
        "started (another job: FORBIDDEN).",
    )
    async def cancel_job(self, info: Info, id: strawberry.ID) -> JobPayload:
        ctx = info.context
        known = await _load_job(ctx, id)
        job_id = known["id"] if known else None
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await jobs.request_cancel(conn, ctx.tenant_id, job_id) if job_id else None
            if row is None:
                found = await jobs.get_jobs(conn, ctx.tenant_id, [job_id]) if job_id else []
                if not found:
                    return JobPayload(
                        job=None,
                        user_errors=[
                            UserError(field=["id"], code="NOT_FOUND", message="No such job.")
                        ],
                    )
                return JobPayload(
                    job=job_of(found[0]),
                    user_errors=[
                        UserError(
                            field=["id"], code="JOB_FINISHED", message="The job has ended already."
                        )
                    ],
                )
            await events.record_events(
                conn,
                ctx.tenant_id,
                actor_of(ctx),
                [(row["id"], vocabulary.job_cancel_requested(type(job_of(row)).__name__))],
            )
        if row["status"] == "CANCELLED":
            # Never started: no worker will report its end, so tell the subscribers here.
            await ctx.redis.publish(progress_channel(row["id"]), encode_job(row))
        return JobPayload(job=job_of(row))


@strawberry.type
class JobSubscription:
    @strawberry.subscription(
        description="The job's state at once, then every change; ends after the job ends.",
    )
    async def job(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Job, None]:
        ctx = info.context
        ref = decode_job_id(id)
        if ref is None:
            raise BadRequest("No such job.", "NOT_FOUND")
        job_id, kind = ref
        # Listen first, then read: a change between the two is not lost. Nudged (None) when
        # the job has published nothing for a while.
        async with ctx.relay.listen(job_id, nudge_after=RECHECK_SECONDS) as queue:
            async with ctx.pool.acquire() as conn:
                found = await jobs.get_jobs(conn, ctx.tenant_id, [job_id])
            if not found or found[0]["kind"] != kind:
                raise BadRequest("No such job.", "NOT_FOUND")
            state: Any = found[0]
            yield job_of(state)
            while JobStatus(state["status"]) not in TERMINAL_STATUSES:
                # Not a timeout of its own: a thousand subscribers of a job each armed and
                # cancelled a timer for each of its states.
                latest = await queue.get()
                if latest is None:
                    # A state can be lost (a worker killed between commit and publish, Redis
                    # restarting): the database has the truth.
                    async with ctx.pool.acquire() as conn:
                        found = await jobs.get_jobs(conn, ctx.tenant_id, [job_id])
                    latest = found[0] if found else state
                    if latest["updated_at"] <= state["updated_at"]:
                        continue
                if latest["updated_at"] < state["updated_at"]:
                    continue  # published before the state already sent
                state = latest
                yield _shared_job(state)


# The Job of each state the relay fans out lately, by the state's identity: every subscriber
# of a job gets the same dict from the relay, and the same Job from here, whose answer the
# execution engine then works out once for all of them (roster/execution/subscriptions.py).
_SHARED_JOBS: dict[int, tuple[Any, Job]] = {}
_SHARED_JOBS_MAX = 256


def _shared_job(state: Any) -> Job:
    found = _SHARED_JOBS.get(id(state))
    if found is not None and found[0] is state:
        return found[1]
    job = job_of(state)
    if len(_SHARED_JOBS) >= _SHARED_JOBS_MAX:
        _SHARED_JOBS.pop(next(iter(_SHARED_JOBS)))
    # The state is held with its Job, so that its id is not another's while it is here.
    _SHARED_JOBS[id(state)] = (state, job)
    return job


async def error_report(ctx: Context, global_id: str) -> AsyncIterator[list[str]] | None:
    """The error report of an import as CSV records (rules/errorreport.py), streamed from the
    database a page at a time; None for a job the caller cannot see."""
    job_id = decode_id(global_id, "ImportJob")
    row = await ctx.loaders.jobs.load(job_id) if job_id else None
    if row is None or job_id is None:
        return None
    report = ErrorReport(row["checkpoint"].get("header", []))

    async def records() -> AsyncIterator[list[str]]:
        yield report.header
        after = 0
        while True:
            async with ctx.pool.acquire() as conn:
                rows = await jobs.error_report_rows(
                    conn, job_id, after_row=after, limit=REPORT_PAGE
                )
            for r in rows:
                problems = zip(r["column_names"], r["codes"], r["messages"], strict=True)
                yield report.row(r["cells"], problems)
            if len(rows) < REPORT_PAGE:
                return
            after = rows[-1]["row"]

    return records()
