"""The DataLoaders of one request, scoped to the caller's tenant."""

from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from asyncpg import Pool, Record
from strawberry.dataloader import DataLoader

from db import platforms, users
from schema.context import Loaders


def make_loaders(pool: Pool, tenant_id: UUID) -> Loaders:
    async def load_users(ids: Sequence[UUID]) -> list[Record | None]:
        async with pool.acquire() as conn:
            rows = await users.get_users(conn, tenant_id, ids)
        by_id = {r["id"]: r for r in rows}
        return [by_id.get(i) for i in ids]

    async def load_roles(user_ids: Sequence[UUID]) -> list[list[Record]]:
        # Only ever asked for users the users loader (tenant-scoped) has returned.
        async with pool.acquire() as conn:
            rows = await users.get_roles(conn, user_ids)
        by_user: dict[UUID, list[Record]] = defaultdict(list)
        for r in rows:
            by_user[r["user_id"]].append(r)
        return [by_user.get(i, []) for i in user_ids]

    async def load_platforms(ids: Sequence[UUID]) -> list[Record | None]:
        async with pool.acquire() as conn:
            rows = await platforms.get_platforms(conn, tenant_id, ids)
        by_id = {r["id"]: r for r in rows}
        return [by_id.get(i) for i in ids]

    return Loaders(
        users=DataLoader(load_fn=load_users),
        roles=DataLoader(load_fn=load_roles),
        platforms=DataLoader(load_fn=load_platforms),
    )
