"""The chunk writer of the import job: plans a chunk's rows and (unless a dry run) writes them,
each chunk in one transaction with its events, row errors, progress and checkpoint."""

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg import Record

from db import events, import_undo, imports, jobs, users
from db.events import Actor
from db.pool import Conn
from jobs.csvrows import ImportRow
from jobs.import_before import before_images
from jobs.import_chunk import Chunk
from jobs.import_plan import (
    PROFILE,
    ErrorColumns,
    Existing,
    Identifiers,
    Options,
    Planned,
    RowProblems,
    freed,
    plan_rows,
    valid_rows,
)
from jobs.joblock import JobLock, LockLost
from jobs.lifecycle import Cancelled
from rules import events as vocabulary
from rules.csvcolumns import ColumnMap
from rules.ids import encode_id
from rules.passwords import hash_password

TRIES = 3
# Passwords hashed between two looks at the job's cancel flag: a chunk's 5,000 take minutes.
# The next batch is queued while one is hashed, so no core waits for the look.
HASH_BATCH = 32
# Users an import creates before it first refreshes the table's statistics: a chunk's.
ANALYZE_AFTER = 5000


@dataclass
class Counters:
    """A job's counters, or what one chunk adds to them."""

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


class ChunkWriter:
    """Plans and (unless a dry run) writes chunks of one import job, each in one transaction
    with its events, row errors, progress and checkpoint."""

    def __init__(
        self,
        executor: Executor,
        job: Record,
        options: Options,
        platform_ids: dict[str, UUID],
        columns: ColumnMap,
        lock: JobLock,
    ) -> None:
        self.executor = executor
        self.lock = lock
        self.job_id: UUID = job["id"]
        self.tenant_id: UUID = job["tenant_id"]
        self.dry_run: bool = job["dry_run"]
        self.options = options
        self.platform_ids = platform_ids
        self.platform_keys = {v: k for k, v in platform_ids.items()}
        # Whether this run has refreshed the users table's statistics.
        self.analyzed = False
        self.actor = Actor(token_id=job["actor_token_id"], name=job["actor"])
        self.error_columns = ErrorColumns.of(columns)

    async def write(self, conn: Conn, chunk: Chunk) -> Record:
        """Writes the chunk (or its plan) with the job's progress, in one transaction; returns
        the job. Raises Cancelled when the job's cancel was requested before it, LockLost when
        this run no longer holds the job."""
        self.lock.check()
        # Hashing takes seconds for a chunk with passwords: done before the transaction opens,
        # and done once whatever the retries.
        hashes = await self._hash_passwords(conn, chunk.rows) if not self.dry_run else {}
        await chunk.previous_planned()
        # After the chunk before it has looked: when it saw the request, this one sees it too,
        # so the chunks written stay the first ones of the file.
        if await jobs.cancel_requested(conn, self.job_id):
            raise Cancelled
        chunk.check_earlier()
        for attempt in range(TRIES):
            self.lock.check()
            try:
                async with conn.transaction():
                    job = await self._write_chunk(conn, chunk, hashes)
            except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
                # A user created or renamed meanwhile through the API (or, rarely, by the chunk
                # written beside this one): plan the chunk again.
                if attempt == TRIES - 1:
                    raise
                continue
            await self._analyze_once_filled(conn, job["created"])
            return job
        raise AssertionError("unreachable")

    async def _analyze_once_filled(self, conn: Conn, created: int) -> None:
        """The look-up of the stored users (imports.find_existing) needs statistics of a table
        that holds some: the plan PostgreSQL keeps for it, made while the table was near empty
        (a dry run's, first), checked every user of the organisation against each of a chunk's
        25,000 keys in turn (8 s a chunk at 80,000 users: 100,000 rows imported in 274 s instead
        of 15). Autovacuum analyzes late, or not at all where it is off: so the import does,
        once it has created a chunk's worth of users. Once is enough: the planner scales what
        they say of a unique key with the table's size."""
        if not self.analyzed and created >= ANALYZE_AFTER:
            self.analyzed = True  # before the wait: the chunk written beside this one skips
            await imports.analyze_users(conn)

    async def _hash_passwords(self, conn: Conn, chunk_rows: list[ImportRow]) -> dict[int, str]:
        """argon2id hashes of the valid rows' passwords, by row number, on all cores, in
        batches; raises Cancelled when the job's cancel is requested meanwhile."""
        rows = [r for r in chunk_rows if not r.problems and "password" in r.values]
        batches = [rows[i : i + HASH_BATCH] for i in range(0, len(rows), HASH_BATCH)]
        hashing = [(batch, self._hash(batch)) for batch in batches[:2]]
        queued = len(hashing)
        hashes: dict[int, str] = {}
        try:
            while hashing:
                batch, digests = hashing.pop(0)
                hashes.update(zip((r.number for r in batch), await digests, strict=True))
                if queued < len(batches):
                    hashing.append((batches[queued], self._hash(batches[queued])))
                    queued += 1
                self.lock.check()
                if hashing and await jobs.cancel_requested(conn, self.job_id):
                    raise Cancelled
        finally:
            for _, digests in hashing:
                digests.cancel()  # those not started yet leave the pool's queue
            await asyncio.gather(*(digests for _, digests in hashing), return_exceptions=True)
        return hashes

    def _hash(self, batch: list[ImportRow]) -> "asyncio.Future[list[str]]":
        return asyncio.gather(
            *(hash_password(self.executor, str(r.values["password"])) for r in batch)
        )

    async def _write_chunk(self, conn: Conn, chunk: Chunk, hashes: dict[int, str]) -> Record:
        """One try, in the caller's transaction: plans the chunk when its turn comes, writes it
        and adds its progress; returns the job."""
        problems = RowProblems(self.error_columns)
        valid = valid_rows(chunk.rows, chunk.duplicates, problems, chunk.look_alikes)
        await chunk.wait_for_freed_keys()
        existing = await self._existing(conn, valid)
        plans = plan_rows(valid, existing, self.options, self.platform_ids, problems)
        chunk.has_planned(freed(plans))
        await chunk.wait_for_lookups()
        # Before the writes: a row deleting a user deletes what these errors keep of the user.
        known = len(problems.errors)
        await jobs.add_row_errors(
            conn, self.tenant_id, self.job_id, problems.errors, problems.about
        )
        if self.dry_run:
            await jobs.add_plans(
                conn, self.tenant_id, self.job_id, [self._plan_row(p) for p in plans]
            )
            done = {a: sum(p.action == a for p in plans) for a in ("CREATE", "UPDATE", "DELETE")}
        else:
            done = await self._write(conn, plans, problems, hashes)
        last = chunk.rows[-1].number - 1
        counts = Counters(
            processed=last - chunk.after,
            created=done["CREATE"],
            updated=done["UPDATE"],
            deleted=done["DELETE"],
            failed=len(problems.rows),
        )
        # Blank records are read but never yielded as rows: skipped, as rows that change nothing.
        blank = counts.processed - len(chunk.rows)
        counts.skipped = blank + sum(p.action == "NOOP" for p in plans)
        await jobs.add_row_errors(
            conn, self.tenant_id, self.job_id, problems.errors[known:], problems.about
        )
        await jobs.record_chunk(conn, self.tenant_id, self.job_id, chunk.after, last)
        job = await jobs.add_progress(conn, self.job_id, counts.as_dict(), self.lock.fence)
        if job is None:
            raise LockLost  # a later run has the job: all of this chunk is rolled back
        return job

    async def _existing(self, conn: Conn, rows: list[ImportRow]) -> Existing:
        """The stored users the rows name, with their roles."""
        wanted = Identifiers.of(rows)
        found = await imports.find_existing(
            conn,
            self.tenant_id,
            usernames=wanted.usernames,
            emails=wanted.emails,
            external_ids=wanted.external_ids,
            username_skeletons=wanted.username_skeletons,
            email_skeletons=wanted.email_skeletons,
        )
        roles = await users.get_roles(conn, self.tenant_id, [u["id"] for u in found])
        return Existing.of(found, roles)

    def _role_names(self, roles: Sequence[tuple[UUID, str]]) -> list[str]:
        return [f"{self.platform_keys[p]}:{r}" for p, r in roles]

    def _plan_row(self, plan: Planned) -> tuple[int, str, UUID | None, dict[str, Any]]:
        """A plan as a dry run keeps it, for the API to show."""
        changes: dict[str, Any] = {}
        if plan.action == "CREATE":
            changes = {
                "fields": sorted(k for k in plan.values if k in PROFILE or k == "attributes"),
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
        self, conn: Conn, plans: list[Planned], problems: RowProblems, hashes: dict[int, str]
    ) -> dict[str, int]:
        """Creates, updates and deletes the planned users with their roles and events; returns
        how many of each it did."""
        for plan in plans:
            if plan.row.number in hashes and plan.action in ("CREATE", "UPDATE"):
                plan.values["password_hash"] = hashes[plan.row.number]
        creates = [p for p in plans if p.action == "CREATE"]
        updates = [p for p in plans if p.action == "UPDATE"]
        deletes = [p for p in plans if p.action == "DELETE"]

        created_ids = await imports.insert_users(conn, self.tenant_id, [p.values for p in creates])
        made = [(plan, created_ids[str(plan.values["email"]).lower()]) for plan in creates]
        await imports.add_roles(
            conn,
            self.tenant_id,
            [(uid, p, r) for plan, uid in made for p, r in plan.roles or []],
            new_users=True,
        )

        update_ids = [p.user["id"] for p in updates if p.user is not None]
        await imports.update_users(conn, self.tenant_id, update_ids, [p.values for p in updates])
        if self.options.roles_mode == "REPLACE":
            replaced = [p for p in updates if p.roles is not None and p.user is not None]
            await imports.replace_roles(
                conn,
                self.tenant_id,
                [p.user["id"] for p in replaced if p.user is not None],
                [(p.user["id"], pid, r) for p in replaced if p.user for pid, r in p.roles or []],
            )
        else:
            await imports.add_roles(
                conn,
                self.tenant_id,
                [(p.user["id"], pid, r) for p in updates if p.user for pid, r in p.roles_added],
            )

        deleted = await users.delete_users(
            conn,
            self.tenant_id,
            [p.user["id"] for p in deletes if p.user is not None],
            only_disabled=True,
        )
        for plan in deletes:
            if plan.user is not None and plan.user["id"] not in deleted:
                problems.add(
                    plan.row, None, "USER_ACTIVE", "The user was enabled meanwhile.", plan.user
                )

        await self._record(conn, made, updates, deleted)
        await import_undo.record_before_images(
            conn, self.tenant_id, self.job_id, before_images(made, updates, deletes, deleted)
        )
        return {"CREATE": len(made), "UPDATE": len(updates), "DELETE": len(deleted)}

    async def _record(
        self,
        conn: Conn,
        made: list[tuple[Planned, UUID]],
        updates: list[Planned],
        deleted: dict[UUID, list[UUID]],
    ) -> None:
        job = encode_id(vocabulary.IMPORT_JOB, self.job_id)
        welcome = self.options.send_welcome_email
        recorded: list[tuple[UUID, vocabulary.Event]] = []
        for p, uid in made:
            made_events = vocabulary.user_creation(
                p.values,
                p.roles or [],
                password_set="password_hash" in p.values,
                welcome_email=welcome or bool(p.row.values.get("welcome_email")),
                disabled=p.values["status"] == "DISABLED",
                job=job,
            )
            recorded += [(uid, e) for e in made_events]
        for p in updates:
            if p.user is not None:
                changes = vocabulary.user_changes(
                    p.changed,
                    added=p.roles_added,
                    removed=p.roles_removed,
                    status=p.values.get("status"),
                    job=job,
                )
                recorded += [(p.user["id"], e) for e in changes]
        recorded += [(uid, vocabulary.user_deleted(ps, job)) for uid, ps in deleted.items()]
        await events.record_events(conn, self.tenant_id, self.actor, recorded)
