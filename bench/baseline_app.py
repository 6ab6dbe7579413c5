"""The raw baseline of the users page benchmark: bare Starlette + asyncpg, one query per table,
the same JSON as Roster's response, built by hand. Run with uvicorn by bench/users_page.py.

    /users       7 fields of the first 50 users
    /users/full  every field and roles (platform key, role) of the first 100 users
    /user?id=    7 fields of one user, by row id
"""

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PAGE = """
SELECT id, username, email, first_name, last_name, status, created_at FROM users
WHERE tenant_id = $1 ORDER BY lower(username), id LIMIT 50
"""
FULL_PAGE = """
SELECT id, username, email, first_name, last_name, language, time_zone, office_phone,
mobile_phone, location, external_id, status, attributes, password_hash IS NOT NULL AS has_password,
password_changed_at, welcome_email_sent_at, created_at, updated_at, disabled_at
FROM users WHERE tenant_id = $1 ORDER BY lower(username), id LIMIT 100
"""
ROLES = """
SELECT r.user_id, p.key, r.role
FROM user_roles r JOIN platforms p ON p.tenant_id = r.tenant_id AND p.id = r.platform_id
WHERE r.tenant_id = $1 AND r.user_id = ANY($2::uuid[]) ORDER BY r.user_id, r.platform_id, r.role
"""
ONE = """
SELECT id, username, email, first_name, last_name, status, created_at FROM users
WHERE tenant_id = $1 AND id = $2
"""


def _global_id(row_id: UUID) -> str:
    return base64.b64encode(f"User:{row_id}".encode()).decode()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _short(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": _global_id(r["id"]),
        "username": r["username"],
        "email": r["email"],
        "firstName": r["first_name"],
        "lastName": r["last_name"],
        "status": r["status"],
        "createdAt": r["created_at"].isoformat(),
    }


def _full(r: asyncpg.Record, roles: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": _global_id(r["id"]),
        "username": r["username"],
        "email": r["email"],
        "firstName": r["first_name"],
        "lastName": r["last_name"],
        "language": r["language"],
        "timeZone": r["time_zone"],
        "officePhone": r["office_phone"],
        "mobilePhone": r["mobile_phone"],
        "location": r["location"],
        "externalId": r["external_id"],
        "status": r["status"],
        "attributes": r["attributes"],
        "hasPassword": r["has_password"],
        "passwordChangedAt": _time(r["password_changed_at"]),
        "welcomeEmailSentAt": _time(r["welcome_email_sent_at"]),
        "createdAt": r["created_at"].isoformat(),
        "updatedAt": r["updated_at"].isoformat(),
        "disabledAt": _time(r["disabled_at"]),
        "roles": roles,
    }


async def users(request: Request) -> JSONResponse:
    async with request.state.pool.acquire() as conn:
        rows = await conn.fetch(PAGE, request.state.tenant_id)
    edges = [{"node": _short(r)} for r in rows]
    return JSONResponse({"data": {"users": {"edges": edges}}})


async def users_full(request: Request) -> JSONResponse:
    async with request.state.pool.acquire() as conn:
        rows = await conn.fetch(FULL_PAGE, request.state.tenant_id)
        role_rows = await conn.fetch(ROLES, request.state.tenant_id, [r["id"] for r in rows])
    roles: dict[UUID, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    for role in role_rows:
        roles[role["user_id"]].append({"platform": {"key": role["key"]}, "role": role["role"]})
    edges = [{"node": _full(r, roles[r["id"]])} for r in rows]
    return JSONResponse({"data": {"users": {"edges": edges}}})


async def user(request: Request) -> JSONResponse:
    async with request.state.pool.acquire() as conn:
        row = await conn.fetchrow(ONE, request.state.tenant_id, UUID(request.query_params["id"]))
    return JSONResponse({"data": {"user": _short(row) if row is not None else None}})


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=2, max_size=10, init=_init_connection
    )
    tenant_id = await pool.fetchval("SELECT id FROM tenants WHERE slug = 'bench'")
    yield {"pool": pool, "tenant_id": tenant_id}
    await pool.close()


app = Starlette(
    routes=[Route("/users", users), Route("/users/full", users_full), Route("/user", user)],
    lifespan=lifespan,
)
