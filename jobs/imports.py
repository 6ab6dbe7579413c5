"""The CSV import job: validates every row, applies valid ones in chunks (or only plans them, in
a dry run), resumes from its checkpoint after a crash, and publishes its progress."""

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg import Pool, Record

from db import events, files, imports, jobs, platforms, tenants, users
from db.events import Actor
from db.pool import Conn
from jobs.csvrows import ImportRow, read_rows
from jobs.csvsniff import FileShape, inspect_file, read_header
from jobs.progress import Publisher
from rules.csvcolumns import ColumnMap, FileError, PlatformInfo, map_header
from rules.passwords import hash_password
from rules.userfields import camel

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000
# Chunks written at once, each in its own transaction on its own connection: PostgreSQL writes
# one on each core while the worker reads and plans.
WRITERS = 2
MODES = ("CREATE", "UPSERT", "UPDATE")
MATCH_BY = ("EMAIL", "USERNAME", "EXTERNAL_ID")
ROLES_MODES = ("MERGE", "REPLACE")
# What a row can change of a user, besides attributes, password and roles.
PROFILE = (*(c for c in users.PROFILE_COLUMNS if c != "attributes"), "status")


@dataclass(frozen=True, slots=True)
class Options:
    mode: str = "UPSERT"
    match_by: str = "EMAIL"
    roles_mode: str = "MERGE"
    send_welcome_email: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    extra_columns_as_attributes: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Options":
        return cls(**{k: v for k, v in data.items() if k in cls.__slots__})


@dataclass
class Counters:
    processed: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0

    @classmethod
    def of(cls, job: Record) -> "Counters":
        return cls(**{name: job[name] for name in jobs.COUNTERS})

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in jobs.COUNTERS}


@dataclass
class Planned:
    """What one valid row does."""

    row: ImportRow
    action: str  # CREATE, UPDATE, DELETE or NOOP
    user: Record | None = None
    values: dict[str, Any] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    roles_added: list[tuple[UUID, str]] = field(default_factory=list)
    roles_removed: list[tuple[UUID, str]] = field(default_factory=list)
    roles: list[tuple[UUID, str]] | None = None


@dataclass(eq=False)
class _Part:
    """A chunk of the file to write: the record before it, its rows, those of them that repeat
    an earlier row (with that row), and the chunks before it being written at the same time.

    Chunks written at once end as they would one after another: they plan in file order; a
    chunk whose rows need a username, e-mail or external id that an earlier one takes from a
    user (renaming or deleting the user) waits for that one to commit before planning, and a
    chunk that takes one that an earlier chunk's rows looked up waits for it before writing;
    when an earlier chunk fails, the later ones do not commit."""

    after: int
    rows: list[ImportRow]
    duplicates: dict[int, int]
    earlier: list["_Part"] = field(default_factory=list)
    planned: asyncio.Event = field(default_factory=asyncio.Event)
    written: asyncio.Event = field(default_factory=asyncio.Event)
    failed: bool = False
    freed: set[tuple[str, str]] = field(default_factory=set)

    def keys(self) -> set[tuple[str, str]]:
        """The usernames, e-mails and external ids its rows look up."""
        return {
            key
            for row in self.rows
            if not row.problems and row.number not in self.duplicates
            for key in _keys(row)
        }

    async def committed(self) -> None:
        """Waits until it has committed; raises when it failed instead."""
        await self.written.wait()
        if self.failed:
            raise _EarlierChunkFailed


class _EarlierChunkFailed(Exception):
    """A chunk before this one failed: this one must not commit what may depend on it."""


class Cancelled(Exception):
    pass


class TryAgain(Exception):
    """An unexpected failure that a later try, resuming from the checkpoint, may not meet."""


async def import_users(ctx: dict[str, Any], job_id: str, *, last_try: bool = True) -> None:
    """Runs an import job. Whoever holds the job's lock runs it; a second delivery of the same
    job (a retry, recovery after a crash) finds it locked or finished and returns. An unexpected
    error raises TryAgain, unless this is the last try: then the job fails, saying so."""
    pool: Pool = ctx["pool"]
    job_uuid = UUID(job_id)
    # The lock's connection does nothing else: a failure of the job's work leaves it held.
    async with pool.acquire() as lock_conn:
        if not await jobs.try_lock_job(lock_conn, job_uuid):
            return
        try:
            await _run(ctx, job_uuid, last_try)
        finally:
            await jobs.unlock_job(lock_conn, job_uuid)


async def _run(ctx: dict[str, Any], job_id: UUID, last_try: bool) -> None:
    pool: Pool = ctx["pool"]
    publisher = Publisher(ctx["redis"])
    async with pool.acquire() as conn:
        job = await jobs.start_job(conn, job_id)
    if job is None:
        return  # ended already (finished, failed or cancelled)
    await publisher.publish(job, final=True)
    handle, path = tempfile.mkstemp(prefix="roster-import-", suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as spool:
            async with pool.acquire() as conn:
                async for chunk in files.read_chunks(conn, job["file_id"]):
                    await asyncio.to_thread(spool.write, chunk)
        async with pool.acquire() as conn:
            job = await _import(ctx, conn, job, path, publisher)
    except FileError as e:
        job = await _finish(pool, job_id, "FAILED", str(e))
    except Cancelled:
        job = await _finish(pool, job_id, "CANCELLED", None)
    except Exception as e:
        if not last_try:
            log.warning("import %s: %r; trying again from the checkpoint", job_id, e)
            raise TryAgain from e
        log.exception("import %s failed", job_id)
        job = await _finish(pool, job_id, "FAILED", f"Internal error ({type(e).__name__}).")
    finally:
        os.unlink(path)
    if job is not None:
        await publisher.publish(job, final=True)


async def _finish(pool: Pool, job_id: UUID, status: str, error: str | None) -> Record | None:
    # On a connection of its own: the job's may be the reason it failed.
    async with pool.acquire() as conn, conn.transaction():
        return await _close(conn, job_id, status, error)


async def _close(conn: Conn, job_id: UUID, status: str, error: str | None) -> Record | None:
    """Ends the job: its scratch rows and (unless a dry run) its stored file go with it."""
    await jobs.forget_scratch(conn, job_id)
    await jobs.release_file(conn, job_id)
    return await jobs.finish_job(conn, job_id, status, error)


async def _import(
    ctx: dict[str, Any], conn: Conn, job: Record, path: str, publisher: Publisher
) -> Record:
    pool: Pool = ctx["pool"]
    options = Options.from_json(job["options"])
    checkpoint = dict(job["checkpoint"])
    if "encoding" not in checkpoint:
        shape = await asyncio.to_thread(
            inspect_file, path, encoding=options.encoding, delimiter=options.delimiter
        )
        checkpoint.update(
            encoding=shape.encoding,
            delimiter=shape.delimiter,
            total=shape.total,
            # Where chunks end must not change when a resumed job runs on a newer worker.
            chunk_rows=CHUNK_ROWS,
        )
        job = await jobs.set_shape(conn, job["id"], shape.total, checkpoint)
        await publisher.publish(job, final=True)
    shape = FileShape(
        encoding=checkpoint["encoding"],
        delimiter=checkpoint["delimiter"],
        total=checkpoint["total"],
    )
    tenant_platforms = await platforms.list_platforms(conn, job["tenant_id"])
    tenant = await tenants.get_tenant(conn, job["tenant_id"])
    assert tenant is not None
    infos = [
        PlatformInfo(key=p["key"], aliases=tuple(p["aliases"]), roles=tuple(p["roles"]))
        for p in tenant_platforms
    ]
    header = await asyncio.to_thread(read_header, path, shape)
    columns = map_header(
        header, infos, extra_columns_as_attributes=options.extra_columns_as_attributes
    )
    if "header" not in checkpoint:
        # Kept for the error report, which gives failed rows back under their own header.
        checkpoint["header"] = list(columns.header)
        job = await jobs.set_shape(conn, job["id"], shape.total, checkpoint)
    written = await jobs.written_chunks(conn, job["id"])
    if not written and checkpoint.get("row"):
        # Started by a worker that wrote chunks one at a time and kept where it was.
        written = {0: checkpoint["row"]}
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
    chunk_rows = checkpoint.get("chunk_rows", CHUNK_ROWS)
    platform_ids = {p["key"]: p["id"] for p in tenant_platforms}
    chunk = _Chunk(ctx, job, options, platform_ids, columns)
    async with contextlib.AsyncExitStack() as connections:
        keys_conn = await connections.enter_async_context(pool.acquire())
        free: asyncio.Queue[Conn] = asyncio.Queue()
        free.put_nowait(conn)
        for _ in range(WRITERS - 1):
            free.put_nowait(await connections.enter_async_context(pool.acquire()))
        position = start

        async def read_ahead() -> _Part:
            nonlocal position
            after = position
            batch = await asyncio.to_thread(_take, rows, chunk_rows)
            if batch:
                position = batch[-1].number - 1
            return _Part(after, batch, await chunk.find_duplicates(keys_conn, batch))

        async def write(part: _Part) -> None:
            writer_conn = await free.get()
            try:
                written_job = await chunk.apply(writer_conn, part)
            except BaseException:
                part.failed = True
                raise
            finally:
                # Also when it failed: the chunks after it learn so. What they need of it is
                # kept on it; the chunks before it go, or every chunk would keep them all.
                part.planned.set()
                part.written.set()
                part.earlier = []
                free.put_nowait(writer_conn)
            await publisher.publish(written_job)

        def check(writing: list[tuple[_Part, asyncio.Future[None]]]) -> None:
            for _, w in writing:
                if w.done():
                    w.result()  # a chunk's error ends the job

        # The next chunk is read (in a thread) and checked for duplicates (on a connection of
        # its own) while chunks are written.
        ahead = asyncio.ensure_future(read_ahead())
        writing: list[tuple[_Part, asyncio.Future[None]]] = []
        try:
            while True:
                part = await ahead
                if not part.rows:
                    break
                ahead = asyncio.ensure_future(read_ahead())
                if part.after in written:
                    continue  # written before the job was interrupted
                check(writing)
                while len(writing) == WRITERS:
                    await asyncio.wait([w for _, w in writing], return_when="FIRST_COMPLETED")
                    check(writing)
                    writing = [(p, w) for p, w in writing if not w.done()]
                part.earlier = [p for p, _ in writing]
                writing.append((part, asyncio.ensure_future(write(part))))
            await asyncio.gather(*(w for _, w in writing))
        finally:
            # A reading thread cannot be stopped: it finishes its chunk, and its result goes.
            # Chunks being written finish (or fail) before the job ends either way.
            ahead.cancel()
            await asyncio.gather(ahead, *(w for _, w in writing), return_exceptions=True)
    written_job = await jobs.get_job(conn, job["id"])
    assert written_job is not None
    counters = Counters.of(written_job)
    # Blank records at the end of the file are read but never yielded: skipped.
    blank = max(shape.total - counters.processed, 0)
    tail = Counters(processed=blank, skipped=blank)
    counters.processed += blank
    counters.skipped += blank
    # Reconcile before reporting success: every record read is accounted for exactly once.
    accounted = counters.created + counters.updated + counters.deleted + counters.skipped
    accounted += counters.failed
    status, message = "SUCCEEDED", None
    if counters.processed != shape.total or accounted != counters.processed:
        status = "FAILED"
        message = (
            f"Reconciliation failed: {shape.total} records in the file, {counters.processed} "
            f"read, {accounted} accounted for; nothing is reported as done that was not."
        )
    async with conn.transaction():
        await jobs.add_progress(conn, job["id"], tail.as_dict())
        finished = await _close(conn, job["id"], status, message)
    assert finished is not None
    return finished


def _take(rows: Iterator[ImportRow], n: int) -> list[ImportRow]:
    return list(itertools.islice(rows, n))


class _Chunk:
    """Validates, plans and (unless a dry run) applies chunks of rows, each chunk in one
    transaction with its events, row errors and the job's checkpoint."""

    def __init__(
        self,
        ctx: dict[str, Any],
        job: Record,
        options: Options,
        platform_ids: dict[str, UUID],
        columns: ColumnMap,
    ) -> None:
        self.executor = ctx["executor"]
        self.job_id: UUID = job["id"]
        self.tenant_id: UUID = job["tenant_id"]
        self.dry_run: bool = job["dry_run"]
        self.options = options
        self.platform_ids = platform_ids
        self.platform_keys = {v: k for k, v in platform_ids.items()}
        self.actor = Actor(token_id=job["actor_token_id"], name=job["actor"])
        names = {canonical: columns.header[i] for i, canonical in columns.fields.items()}
        self.column = {name: names.get(name, names.get("email")) for name in (*PROFILE, "roles")}
        # Never kept in row errors (nor so in the downloadable report).
        self.secret_columns = {i for i, name in columns.fields.items() if name == "password"}

    async def apply(self, conn: Conn, part: _Part) -> Record:
        """Writes the chunk (or its plan) with the job's progress, in one transaction; returns
        the job."""
        # Hashing takes seconds for a chunk with passwords: done before the transaction opens,
        # and done once whatever the retries.
        hashes = await self._hash_passwords(part.rows) if not self.dry_run else {}
        if part.earlier:
            await part.earlier[-1].planned.wait()
        # After the chunk before it has looked: when it saw the request, this one sees it too,
        # so the chunks written stay the first ones of the file.
        if await jobs.cancel_requested(conn, self.job_id):
            raise Cancelled
        if any(p.failed for p in part.earlier):
            raise _EarlierChunkFailed
        for attempt in range(3):
            try:
                async with conn.transaction():
                    return await self._apply(conn, part, hashes)
            except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
                # A user created or renamed meanwhile through the API (or, rarely, by the chunk
                # written beside this one): plan the chunk again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _hash_passwords(self, batch: list[ImportRow]) -> dict[int, str]:
        """argon2id hashes of the valid rows' passwords, by row number, on all cores."""
        rows = [r for r in batch if not r.problems and "password" in r.values]
        hashes = await asyncio.gather(
            *(hash_password(self.executor, str(r.values["password"])) for r in rows)
        )
        return {r.number: h for r, h in zip(rows, hashes, strict=True)}

    async def _apply(self, conn: Conn, part: _Part, hashes: dict[int, str]) -> Record:
        batch, duplicates = part.rows, part.duplicates
        problems = _Problems(self.secret_columns)
        valid = []
        for row in batch:
            for p in row.problems:
                problems.add(row, p.column, p.code, p.message)
            if row.number in duplicates:
                problems.duplicate(row, duplicates[row.number], self.column)
            elif not row.problems:
                valid.append(row)
        if any(p.freed for p in part.earlier):
            keys = part.keys()
            for earlier in part.earlier:
                if earlier.freed & keys:
                    await earlier.committed()
        plans = await self._plan(conn, valid, problems)
        # A union over tries: a chunk after this one may have seen what an earlier try freed.
        part.freed |= _freed(plans)
        part.planned.set()
        for earlier in part.earlier:
            if not earlier.written.is_set() and part.freed & earlier.keys():
                await earlier.committed()  # it planned with what this chunk frees
        last = batch[-1].number - 1
        counts = Counters(processed=last - part.after)
        blank = counts.processed - len(batch)
        if self.dry_run:
            await jobs.add_plans(conn, self.job_id, [self._plan_row(p) for p in plans])
            done = {a: sum(p.action == a for p in plans) for a in ("CREATE", "UPDATE", "DELETE")}
        else:
            done = await self._write(conn, plans, problems, hashes)
        counts.created = done["CREATE"]
        counts.updated = done["UPDATE"]
        counts.deleted = done["DELETE"]
        counts.skipped = blank + sum(p.action == "NOOP" for p in plans)
        counts.failed = len(problems.rows)
        await jobs.add_row_errors(conn, self.job_id, problems.errors)
        await jobs.record_chunk(conn, self.job_id, part.after, last)
        return await jobs.add_progress(conn, self.job_id, counts.as_dict())

    async def find_duplicates(self, conn: Conn, rows: list[ImportRow]) -> dict[int, int]:
        """The rows (without problems of their own) whose username, e-mail or external id an
        earlier row had, each with that earlier row. Earlier chunks' rows are remembered in
        job_keys, committed at once: a chunk read again after a crash meets its own rows
        there, which are no duplicates."""
        firsts: dict[tuple[str, str], int] = {}
        duplicates: dict[int, int] = {}
        kept = []
        for row in rows:
            if row.problems:
                continue
            keys = _keys(row)
            first = next((firsts[k] for k in keys if k in firsts), None)
            if first is not None:
                duplicates[row.number] = first
                continue
            firsts.update({k: row.number for k in keys})
            kept.append((row.number, keys))
        earlier = await jobs.claim_keys(
            conn, self.job_id, [(kind, key, n) for (kind, key), n in firsts.items()]
        )
        if earlier:
            for number, keys in kept:
                first = next((earlier[k] for k in keys if k in earlier), None)
                if first is not None and first != number:
                    duplicates[number] = first
        return duplicates

    async def _plan(
        self, conn: Conn, rows: list[ImportRow], problems: "_Problems"
    ) -> list[Planned]:
        existing = await imports.find_existing(
            conn,
            self.tenant_id,
            usernames=[_username(r).lower() for r in rows],
            emails=[str(r.values["email"]).lower() for r in rows],
            external_ids=[str(r.values["external_id"]) for r in rows if "external_id" in r.values],
        )
        by_username = {u["username"].lower(): u for u in existing}
        by_email = {u["email"].lower(): u for u in existing}
        by_external = {u["external_id"]: u for u in existing if u["external_id"]}
        current_roles: dict[UUID, set[tuple[UUID, str]]] = {u["id"]: set() for u in existing}
        for r in await users.get_roles(conn, [u["id"] for u in existing]):
            current_roles[r["user_id"]].add((r["platform_id"], r["role"]))
        mode_operation = {"CREATE": "C", "UPDATE": "U"}.get(self.options.mode)
        plans = []
        for row in rows:
            username, email = _username(row).lower(), str(row.values["email"]).lower()
            external_id = row.values.get("external_id")
            if self.options.match_by == "EMAIL":
                user = by_email.get(email)
            elif self.options.match_by == "USERNAME":
                user = by_username.get(username)
            elif external_id is None:
                problems.add(
                    row,
                    self.column["external_id"],
                    "REQUIRED",
                    "Rows are matched by external id, and this one has none.",
                )
                continue
            else:
                user = by_external.get(str(external_id))
            operation = row.operation or mode_operation
            if operation is None:
                operation = "U" if user is not None else "C"
            roles = self._role_ids(row)
            if operation == "D":
                if user is None:
                    problems.add(row, None, "NOT_FOUND", "No user matches this row to delete.")
                elif user["status"] == "ACTIVE":
                    problems.add(
                        row,
                        self.column["status"],
                        "USER_ACTIVE",
                        f"{user['username']} is active: disable the user before deleting.",
                    )
                else:
                    plans.append(Planned(row=row, action="DELETE", user=user))
                continue
            if operation == "C":
                if user is not None:
                    problems.add(
                        row,
                        None,
                        "USER_EXISTS",
                        f"{user['username']} exists already; use operation U or mode UPSERT.",
                    )
                    continue
                taken = _taken(
                    None, username, email, external_id, by_username, by_email, by_external
                )
                if taken:
                    problems.taken(row, taken, self.column)
                    continue
                values = {
                    "first_name": "",
                    "last_name": "",
                    "status": "ACTIVE",
                    **{k: v for k, v in row.values.items() if k != "welcome_email"},
                    "username": _username(row),
                }
                plans.append(Planned(row=row, action="CREATE", values=values, roles=roles or []))
                continue
            if user is None:
                problems.add(row, None, "NOT_FOUND", "No user matches this row to update.")
                continue
            given = dict(row.values)
            if row.username_from_email:
                given.pop("username", None)  # no username column: keep the stored one
            taken = _taken(
                user["id"],
                str(given["username"]).lower() if "username" in given else None,
                email,
                external_id,
                by_username,
                by_email,
                by_external,
            )
            if taken:
                problems.taken(row, taken, self.column)
                continue
            plans.append(self._update_plan(row, user, given, roles, current_roles[user["id"]]))
        return plans

    def _update_plan(
        self,
        row: ImportRow,
        user: Record,
        given: dict[str, Any],
        roles: list[tuple[UUID, str]] | None,
        current: set[tuple[UUID, str]],
    ) -> Planned:
        changed = [f for f in PROFILE if f in given and given[f] != user[f]]
        values = {f: given[f] for f in changed}
        attributes = given.get("attributes")
        if attributes and {**user["attributes"], **attributes} != user["attributes"]:
            changed.append("attributes")
            values["attributes"] = attributes
        if "password" in given or "password_hash" in given:
            changed.append("password")
            values.update({k: given[k] for k in ("password", "password_hash") if k in given})
        added: list[tuple[UUID, str]] = []
        removed: list[tuple[UUID, str]] = []
        if roles is not None:
            added = [r for r in roles if r not in current]
            if self.options.roles_mode == "REPLACE":
                removed = sorted(current - set(roles), key=str)
        action = "UPDATE" if changed or added or removed else "NOOP"
        return Planned(
            row=row,
            action=action,
            user=user,
            values=values,
            changed=changed,
            roles_added=added,
            roles_removed=removed,
            roles=roles if action == "UPDATE" else None,
        )

    def _role_ids(self, row: ImportRow) -> list[tuple[UUID, str]] | None:
        if row.roles is None:
            return None
        return [(self.platform_ids[key], role) for key, role in row.roles]

    def _role_names(self, roles: Sequence[tuple[UUID, str]]) -> list[str]:
        return [f"{self.platform_keys[p]}:{r}" for p, r in roles]

    def _plan_row(self, plan: Planned) -> tuple[int, str, UUID | None, dict[str, Any]]:
        changes: dict[str, Any] = {}
        if plan.action == "CREATE":
            changes = {
                "fields": sorted(k for k in plan.values if k not in ("password", "password_hash")),
                "roles": self._role_names(plan.roles or []),
            }
        elif plan.action == "UPDATE":
            changes = {
                "fields": plan.changed,
                "rolesAdded": self._role_names(plan.roles_added),
                "rolesRemoved": self._role_names(plan.roles_removed),
            }
        user_id = plan.user["id"] if plan.user is not None else None
        return plan.row.number, plan.action, user_id, changes

    async def _write(
        self, conn: Conn, plans: list[Planned], problems: "_Problems", hashes: dict[int, str]
    ) -> dict[str, int]:
        for plan in plans:
            if plan.row.number in hashes and plan.action in ("CREATE", "UPDATE"):
                plan.values["password_hash"] = hashes[plan.row.number]
        creates = [p for p in plans if p.action == "CREATE"]
        updates = [p for p in plans if p.action == "UPDATE"]
        deletes = [p for p in plans if p.action == "DELETE"]

        created_ids = await imports.insert_users(conn, self.tenant_id, [p.values for p in creates])
        made = [(plan, created_ids[str(plan.values["email"]).lower()]) for plan in creates]
        await imports.add_roles(
            conn, [(uid, p, r) for plan, uid in made for p, r in plan.roles or []]
        )

        update_ids = [p.user["id"] for p in updates if p.user is not None]
        await imports.update_users(conn, self.tenant_id, update_ids, [p.values for p in updates])
        if self.options.roles_mode == "REPLACE":
            replaced = [p for p in updates if p.roles is not None and p.user is not None]
            await imports.replace_roles(
                conn,
                [p.user["id"] for p in replaced if p.user is not None],
                [(p.user["id"], pid, r) for p in replaced if p.user for pid, r in p.roles or []],
            )
        else:
            await imports.add_roles(
                conn,
                [(p.user["id"], pid, r) for p in updates if p.user for pid, r in p.roles_added],
            )

        deleted = await users.delete_disabled_users(
            conn, self.tenant_id, [p.user["id"] for p in deletes if p.user is not None]
        )
        for plan in deletes:
            if plan.user is not None and plan.user["id"] not in deleted:
                problems.add(plan.row, None, "USER_ACTIVE", "The user was enabled meanwhile.")

        await self._record(conn, made, updates, deleted)
        return {"CREATE": len(made), "UPDATE": len(updates), "DELETE": len(deleted)}

    async def _record(
        self,
        conn: Conn,
        made: list[tuple[Planned, UUID]],
        updates: list[Planned],
        deleted: dict[UUID, list[UUID]],
    ) -> None:
        job = str(self.job_id)

        async def record(action: str, targets: list[tuple[UUID, dict[str, Any]]]) -> None:
            if targets:
                await events.record_events(
                    conn, self.tenant_id, self.actor, action, "User", targets
                )

        def role_data(roles: Sequence[tuple[UUID, str]]) -> list[dict[str, str]]:
            return [{"platform": str(p), "role": r} for p, r in roles]

        await record(
            "user.created",
            [
                (
                    uid,
                    {
                        "fields": _field_names(tuple(p.values)),
                        "roles": role_data(p.roles or []),
                        "job": job,
                    },
                )
                for p, uid in made
            ],
        )
        await record(
            "user.welcome_email_requested",
            [
                (uid, {"job": job})
                for p, uid in made
                if self.options.send_welcome_email or p.row.values.get("welcome_email")
            ],
        )
        await record(
            "user.updated",
            [
                (p.user["id"], {"changed": sorted(camel(c) for c in p.changed), "job": job})
                for p in updates
                if p.user is not None and p.changed
            ],
        )
        for status, action in (("DISABLED", "user.disabled"), ("ACTIVE", "user.enabled")):
            await record(
                action,
                [
                    (p.user["id"], {"job": job})
                    for p in updates
                    if p.user is not None and p.values.get("status") == status
                ],
            )
        await record(
            "user.roles_changed",
            [
                (
                    p.user["id"],
                    {
                        "added": role_data(p.roles_added),
                        "removed": role_data(p.roles_removed),
                        "job": job,
                    },
                )
                for p in updates
                if p.user is not None and (p.roles_added or p.roles_removed)
            ],
        )
        await record(
            "user.deleted",
            [
                (uid, {"platforms": [str(p) for p in platform_ids], "job": job})
                for uid, platform_ids in deleted.items()
            ],
        )


class _Problems:
    """Row errors of a chunk: (row, seq, column, code, message, cells), the cells with the
    first problem of each row."""

    def __init__(self, secret_columns: set[int]) -> None:
        self.errors: list[tuple[int, int, str | None, str, str, list[str] | None]] = []
        self.rows: dict[int, int] = {}
        self.secret_columns = secret_columns

    def add(self, row: ImportRow, column: str | None, code: str, message: str) -> None:
        seq = self.rows.get(row.number, 0)
        self.rows[row.number] = seq + 1
        cells = None
        if seq == 0:
            cells = ["" if i in self.secret_columns else c for i, c in enumerate(row.cells)]
        self.errors.append((row.number, seq, column, code, message, cells))

    def taken(self, row: ImportRow, field: str, column: dict[str, str | None]) -> None:
        self.add(
            row,
            column[field],
            f"{field.upper()}_TAKEN",
            f"Another user already has this {field.replace('_', ' ')}.",
        )

    def duplicate(self, row: ImportRow, first: int, column: dict[str, str | None]) -> None:
        self.add(
            row,
            column["email"],
            "DUPLICATE_IN_FILE",
            f"Row {first} has the same username, e-mail or external id; only the first one is "
            "imported.",
        )


@functools.cache
def _field_names(names: tuple[str, ...]) -> list[str]:
    """The API's names of the fields a row set, sorted; rows of one file set the same few
    sets of fields, so each set is worked out once."""
    return sorted(camel(name) for name in names if name != "password")


def _keys(row: ImportRow) -> list[tuple[str, str]]:
    """What makes a row's user unique: e-mail and username (lower case), external id."""
    keys = [("e", str(row.values["email"]).lower()), ("u", _username(row).lower())]
    if row.values.get("external_id"):
        keys.append(("x", str(row.values["external_id"])))
    return keys


def _freed(plans: list[Planned]) -> set[tuple[str, str]]:
    """The usernames, e-mails and external ids (as _keys gives them) that these plans take
    from their users: changed by an update, or all of a deleted user's."""
    freed = set()
    for plan in plans:
        if plan.user is None or plan.action not in ("UPDATE", "DELETE"):
            continue
        user = plan.user
        for kind, name in (("u", "username"), ("e", "email"), ("x", "external_id")):
            if user[name] and (plan.action == "DELETE" or name in plan.changed):
                freed.add((kind, user[name] if kind == "x" else user[name].lower()))
    return freed


def _username(row: ImportRow) -> str:
    return str(row.values.get("username") or row.values["email"])


def _taken(
    user_id: UUID | None,
    username: str | None,
    email: str,
    external_id: Any,
    by_username: dict[str, Record],
    by_email: dict[str, Record],
    by_external: dict[str, Record],
) -> str | None:
    """Which identifier of a row another user (not `user_id`) has already."""
    for name, index, key in (
        ("username", by_username, username),
        ("email", by_email, email),
        ("external_id", by_external, str(external_id) if external_id else None),
    ):
        other = index.get(key) if key is not None else None
        if other is not None and other["id"] != user_id:
            return name
    return None
