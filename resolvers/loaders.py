"""The DataLoaders of one request, scoped to the caller's tenant."""

from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property
from uuid import UUID

from asyncpg import Pool, Record
from strawberry.dataloader import DataLoader

from db import jobs, platforms, users
from resolvers.errors import BadRequest
from resolvers.pagination import decode_cursor, encode_cursor, page_request, paginate
from schema.context import Loaders
from schema.job import (
    PlanAction,
    PlannedRow,
    PlannedRowConnection,
    PlannedRowEdge,
    RowError,
    RowErrorConnection,
    RowErrorCount,
    RowErrorEdge,
)


def make_loaders(pool: Pool, tenant_id: UUID, cursor_key: bytes) -> Loaders:
    return TenantLoaders(pool, tenant_id, cursor_key)


class TenantLoaders:
    """The loaders of one request, each made when first used: most requests use one or none,
    and making them all cost more than a small query's own work."""

    def __init__(self, pool: Pool, tenant_id: UUID, cursor_key: bytes) -> None:
        self.pool = pool
        self.tenant_id = tenant_id
        self.cursor_key = cursor_key

    @cached_property
    def users(self) -> DataLoader[UUID, Record | None]:
        return DataLoader(load_fn=self.load_users)

    @cached_property
    def roles(self) -> DataLoader[UUID, list[Record]]:
        return DataLoader(load_fn=self.load_roles)

    @cached_property
    def platforms(self) -> DataLoader[UUID, Record | None]:
        return DataLoader(load_fn=self.load_platforms)

    @cached_property
    def jobs(self) -> DataLoader[UUID, Record | None]:
        return DataLoader(load_fn=self.load_jobs)

    @cached_property
    def job_rows(self) -> "JobRowPages":
        return JobRowPages(self.pool, self.tenant_id, self.cursor_key)

    async def load_users(self, ids: Sequence[UUID]) -> list[Record | None]:
        async with self.pool.acquire() as conn:
            rows = await users.get_users(conn, self.tenant_id, ids)
        return _in_order(rows, ids)

    async def load_roles(self, user_ids: Sequence[UUID]) -> list[list[Record]]:
        # Only ever asked for users the users loader (tenant-scoped) has returned.
        async with self.pool.acquire() as conn:
            rows = await users.get_roles(conn, self.tenant_id, user_ids)
        by_user: dict[UUID, list[Record]] = defaultdict(list)
        for r in rows:
            by_user[r["user_id"]].append(r)
        return [by_user.get(i, []) for i in user_ids]

    async def load_platforms(self, ids: Sequence[UUID]) -> list[Record | None]:
        async with self.pool.acquire() as conn:
            rows = await platforms.get_platforms(conn, self.tenant_id, ids)
        return _in_order(rows, ids)

    async def load_jobs(self, ids: Sequence[UUID]) -> list[Record | None]:
        async with self.pool.acquire() as conn:
            rows = await jobs.get_jobs(conn, self.tenant_id, ids)
        return _in_order(rows, ids)


def _in_order(rows: Sequence[Record], ids: Sequence[UUID]) -> list[Record | None]:
    """The rows by `ids`, in their order, None for an id without one: a loader's answer."""
    by_id = {r["id"]: r for r in rows}
    return [by_id.get(i) for i in ids]


class JobRowPages:
    """Pages of a job's row errors and plan. Only reached through an ImportJob the caller's
    tenant can see, so the job id is already checked."""

    def __init__(self, pool: Pool, tenant_id: UUID, cursor_key: bytes) -> None:
        self.pool = pool
        self.tenant_id = tenant_id
        self.cursor_key = cursor_key

    async def row_errors(
        self, job_id: str, first: int | None, after: str | None, code: str | None
    ) -> RowErrorConnection:
        page = page_request(first, after, None, None)
        position = (0, -1)
        if page.cursor:
            payload = decode_cursor(self.cursor_key, page.cursor, "rowerrors")
            position = (_int(payload.get("r")), _int(payload.get("s")))
        async with self.pool.acquire() as conn:
            rows = await jobs.list_row_errors(
                conn,
                self.tenant_id,
                UUID(job_id),
                after=position,
                limit=page.size + 1,
                code=code,
            )
        edges, page_info = paginate(page, rows, lambda r: _row_error_edge(self.cursor_key, r))
        return RowErrorConnection(edges=edges, page_info=page_info)

    async def error_codes(self, job_id: str) -> list[RowErrorCount]:
        async with self.pool.acquire() as conn:
            rows = await jobs.row_error_codes(conn, self.tenant_id, UUID(job_id))
        return [RowErrorCount(code=r["code"], rows=r["rows"]) for r in rows]

    async def plan(
        self, job_id: str, first: int | None, after: str | None, action: str | None
    ) -> PlannedRowConnection:
        page = page_request(first, after, None, None)
        after_row = 0
        if page.cursor:
            after_row = _int(decode_cursor(self.cursor_key, page.cursor, "plan").get("r"))
        async with self.pool.acquire() as conn:
            rows = await jobs.list_plans(
                conn,
                self.tenant_id,
                UUID(job_id),
                after_row=after_row,
                limit=page.size + 1,
                action=action,
            )
        edges, page_info = paginate(page, rows, lambda r: _planned_row_edge(self.cursor_key, r))
        return PlannedRowConnection(edges=edges, page_info=page_info)


def _row_error_edge(key: bytes, row: Record) -> RowErrorEdge:
    return RowErrorEdge(
        cursor=encode_cursor(key, {"k": "rowerrors", "r": row["row"], "s": row["seq"]}),
        node=RowError(
            row=row["row"],
            column=row["column_name"],
            code=row["code"],
            message=row["message"],
            user_id=row["user_id"],
        ),
    )


def _planned_row_edge(key: bytes, row: Record) -> PlannedRowEdge:
    changes = row["changes"]
    return PlannedRowEdge(
        cursor=encode_cursor(key, {"k": "plan", "r": row["row"]}),
        node=PlannedRow(
            row=row["row"],
            action=PlanAction(row["action"]),
            user_id=row["user_id"],
            fields=changes.get("fields", []),
            roles_added=changes.get("rolesAdded", changes.get("roles", [])),
            roles_removed=changes.get("rolesRemoved", []),
        ),
    )


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest("This cursor is not valid here.", "INVALID_CURSOR")
    return value
