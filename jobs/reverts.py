"""The revert job: undoes what one import did, from the before-images the import recorded
(db/import_undo.py), a page of rows at a time, each page in one transaction with its events,
row errors, progress and checkpoint; or, in a dry run, only says what it would do.

Users the import created are deleted, fields and roles it changed are put back, users it
disabled are enabled; users it deleted cannot come back. A change made to a user after the
import, by anyone, wins: those fields are left and reported (jobs/revert_plan.py); so does a
username, e-mail or external id another user has taken since."""

from typing import Any
from uuid import UUID

import asyncpg
from asyncpg import Record

from db import events, import_undo, imports, jobs, platforms, users
from db.events import Actor
from db.pool import Conn
from jobs.joblock import LockLost
from jobs.lifecycle import Cancelled, JobKind, Run, TryAgain, run_job
from jobs.revert_plan import CHANGES, Decisions, Key, decide, identifier_keys, withhold_taken
from rules import events as vocabulary
from rules.ids import encode_id

# Rows of the import undone in one transaction.
PAGE_ROWS = 2000
# Writes of a page before it is left to a later try of the job.
WRITE_TRIES = 5


class RevertKind(JobKind):
    label = "revert"

    async def work(self, run: Run) -> Record | None:
        async with run.pool.acquire() as conn:
            return await _Revert(run, conn).revert()


REVERT = RevertKind()


async def revert_import(ctx: dict[str, Any], job_id: str, *, last_try: bool = True) -> None:
    """Runs a revert job (jobs/lifecycle.py); a later try resumes after its last page."""
    await run_job(ctx, job_id, REVERT, last_try=last_try)


class _Revert:
    def __init__(self, run: Run, conn: Conn) -> None:
        self.run = run
        self.conn = conn
        job = run.job
        self.job_id: UUID = job["id"]
        self.tenant_id: UUID = job["tenant_id"]
        self.import_id = UUID(job["options"]["reverts"])
        self.dry_run: bool = job["dry_run"]
        self.actor = Actor(token_id=job["actor_token_id"], name=job["actor"])
        self.job_gid = encode_id(vocabulary.REVERT_JOB, self.job_id)
        self.platform_keys: dict[UUID, str] = {}
        self.ours: list[str] = []

    async def revert(self) -> Record | None:
        conn = self.conn
        tenant_platforms = await platforms.list_platforms(conn, self.tenant_id)
        self.platform_keys = {p["id"]: p["key"] for p in tenant_platforms}
        # The import's events and those of its reverts (an earlier, cancelled one) are not
        # later changes: what they changed is this revert's to put back.
        reverts = await import_undo.reverts_of(conn, self.tenant_id, self.import_id)
        self.ours = [encode_id(vocabulary.IMPORT_JOB, self.import_id)] + [
            encode_id(vocabulary.REVERT_JOB, r["id"]) for r in reverts if not r["dry_run"]
        ]
        job = self.run.job
        if job["total"] is None:
            total = await import_undo.count_images(conn, self.tenant_id, self.import_id)
            job = await jobs.set_shape(conn, self.job_id, total, {"after_row": 0})
            await self.run.publisher.publish(job, final=True)
        after = job["checkpoint"].get("after_row", 0)
        while True:
            if await jobs.cancel_requested(conn, self.job_id):
                raise Cancelled
            self.run.lock.check()
            async with conn.transaction():
                page = await import_undo.images_page(
                    conn, self.tenant_id, self.import_id, after_row=after, limit=PAGE_ROWS
                )
                if not page:
                    ended = await self.run.close(conn, "SUCCEEDED", None)
                    return ended
                job = await self._page(page, job["total"])
            after = page[-1]["row"]
            await self.run.publisher.publish(job)

    async def _page(self, page: list[Record], total: int) -> Record:
        """Undoes (or plans) one page in the caller's transaction; returns the job."""
        conn, tenant_id = self.conn, self.tenant_id
        ids = [r["user_id"] for r in page if r["user_id"] is not None]
        current = {u["id"]: u for u in await users.lock_users(conn, tenant_id, ids)}
        held: dict[UUID, set[tuple[UUID, str]]] = {u: set() for u in current}
        for r in await users.get_roles(conn, tenant_id, list(current)):
            held[r["user_id"]].add((r["platform_id"], r["role"]))
        later = await import_undo.later_events(conn, tenant_id, list(current), self.ours, CHANGES)
        decided = decide(page, current, held, later)
        await self._withhold_taken(decided)
        if self.dry_run:
            await jobs.add_plans(conn, tenant_id, self.job_id, self._plans(decided))
        else:
            await self._write_page(decided)
        await jobs.add_user_row_errors(conn, tenant_id, self.job_id, decided.errors)
        counts = {
            "processed": len(page),
            "created": 0,
            "updated": len(decided.restores),
            "deleted": len(decided.deletes),
            "skipped": len(decided.skipped),
            "failed": decided.failed,
        }
        job = await jobs.add_progress(conn, self.job_id, counts, self.run.fence)
        if job is None:
            raise LockLost  # a later run has the job: this page is rolled back
        return await jobs.set_shape(conn, self.job_id, total, {"after_row": page[-1]["row"]})

    async def _withhold_taken(self, decided: Decisions) -> None:
        """Leaves the identifiers other users hold now as they are (jobs/revert_plan.py)."""
        keys = identifier_keys(decided.restores)
        if not keys:
            return
        values: dict[str, list[str]] = {}
        for kind, value in keys:
            values.setdefault(kind, []).append(value)
        holders: dict[Key, set[UUID]] = {}
        for r in await import_undo.identifier_holders(self.conn, self.tenant_id, values):
            holders.setdefault((r["kind"], r["value"]), set()).add(r["id"])
        withhold_taken(decided, holders)

    async def _write_page(self, decided: Decisions) -> None:
        """Writes the page's decisions; a user that took one of the identifiers it puts back
        after the plan looked (committed while the page ran) undoes them, in a savepoint, and
        the plan leaves that identifier too. Each try sees one more such user: a page whose
        users are taken from under it this often is tried again later, from its start."""
        for _ in range(WRITE_TRIES):
            try:
                async with self.conn.transaction():
                    await self._write(decided)
                return
            except asyncpg.UniqueViolationError:
                await self._withhold_taken(decided)
        raise TryAgain

    async def _write(self, decided: Decisions) -> None:
        conn, tenant_id = self.conn, self.tenant_id
        deleted = await users.delete_users(
            conn, tenant_id, [u for _, u in decided.deletes], only_disabled=False
        )
        restores = decided.restores
        await import_undo.restore_users(conn, tenant_id, [(r.user_id, r.values) for r in restores])
        await import_undo.remove_roles(
            conn, tenant_id, [(r.user_id, p, role) for r in restores for p, role in r.remove]
        )
        await imports.add_roles(
            conn, tenant_id, [(r.user_id, p, role) for r in restores for p, role in r.add]
        )
        recorded: list[tuple[UUID, vocabulary.Event]] = []
        for r in restores:
            changes = vocabulary.user_changes(
                r.fields,
                added=r.add,
                removed=r.remove,
                status=r.values.get("status"),
                job=self.job_gid,
            )
            recorded += [(r.user_id, e) for e in changes]
        recorded += [(u, vocabulary.user_deleted(ps, self.job_gid)) for u, ps in deleted.items()]
        await events.record_events(conn, tenant_id, self.actor, recorded)

    def _plans(self, decided: Decisions) -> list[tuple[int, str, UUID | None, dict[str, Any]]]:
        plans: list[tuple[int, str, UUID | None, dict[str, Any]]] = [
            (row, "DELETE", user_id, {}) for row, user_id in decided.deletes
        ]
        plans += [
            (
                r.row,
                "UPDATE",
                r.user_id,
                {
                    "fields": r.fields,
                    "rolesAdded": self._names(r.add),
                    "rolesRemoved": self._names(r.remove),
                },
            )
            for r in decided.restores
        ]
        plans += [(row, "NOOP", user_id, {}) for row, user_id in decided.skipped]
        return sorted(plans, key=lambda p: p[0])

    def _names(self, roles: list[tuple[UUID, str]]) -> list[str]:
        return [f"{self.platform_keys.get(p, p)}:{r}" for p, r in roles]
