"""The raw baseline of the users page benchmark: bare Starlette + asyncpg, one query, the same
rows as JSON. Run with uvicorn by bench/users_page.py."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PAGE = """
SELECT id, username, email, first_name, last_name, status, created_at FROM users
WHERE tenant_id = $1 ORDER BY lower(username), id LIMIT 50
"""


async def users(request: Request) -> JSONResponse:
    async with request.state.pool.acquire() as conn:
        rows = await conn.fetch(PAGE, request.state.tenant_id)
    return JSONResponse(
        [{**dict(r), "id": str(r["id"]), "created_at": r["created_at"].isoformat()} for r in rows]
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
    tenant_id = await pool.fetchval("SELECT id FROM tenants WHERE slug = 'bench'")
    yield {"pool": pool, "tenant_id": tenant_id}
    await pool.close()


app = Starlette(routes=[Route("/users", users)], lifespan=lifespan)
