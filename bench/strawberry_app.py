"""The stock-execution floor of the users page benchmark: a plain Strawberry schema of Roster's
shape (User, its roles, a connection of edges) over the same rows, every field a plain
attribute, no authentication, and no extensions but the parser and validation caches (without
them, parsing and validating each request would dominate): what graphql-core's and Strawberry's
per-field machinery costs alone. Run with uvicorn by bench/users_page.py."""

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import asyncpg
import strawberry
from graphql import FieldNode, SelectionSetNode
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.scalars import JSON

from bench.baseline_app import FULL_PAGE, ONE, ROLES

ALL_PAGE = FULL_PAGE.replace("LIMIT 100", "LIMIT $2")


@strawberry.enum
class UserStatus(Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@strawberry.type
class Platform:
    key: str


@strawberry.type
class PlatformRole:
    platform: Platform
    role: str


@strawberry.type
class User:
    id: strawberry.ID
    username: str
    email: str
    first_name: str
    last_name: str
    language: str | None
    time_zone: str | None
    office_phone: str | None
    mobile_phone: str | None
    location: str | None
    external_id: str | None
    status: UserStatus
    attributes: JSON
    has_password: bool
    password_changed_at: datetime | None
    welcome_email_sent_at: datetime | None
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None
    roles: list[PlatformRole]


@strawberry.type
class UserEdge:
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]


def _user(record: asyncpg.Record, roles: list[PlatformRole]) -> User:
    # user(id:) reads only the columns of its 7 fields.
    r: dict[str, Any] = dict(record)
    return User(
        id=strawberry.ID(base64.b64encode(f"User:{r['id']}".encode()).decode()),
        username=r["username"],
        email=r["email"],
        first_name=r["first_name"],
        last_name=r["last_name"],
        language=r.get("language"),
        time_zone=r.get("time_zone"),
        office_phone=r.get("office_phone"),
        mobile_phone=r.get("mobile_phone"),
        location=r.get("location"),
        external_id=r.get("external_id"),
        status=UserStatus(r["status"]),
        attributes=r.get("attributes"),
        has_password=r.get("has_password"),
        password_changed_at=r.get("password_changed_at"),
        welcome_email_sent_at=r.get("welcome_email_sent_at"),
        created_at=r["created_at"],
        updated_at=r.get("updated_at"),
        disabled_at=r.get("disabled_at"),
        roles=roles,
    )


def _asks(selections: SelectionSetNode | None, name: str) -> bool:
    return selections is not None and any(
        isinstance(s, FieldNode) and (s.name.value == name or _asks(s.selection_set, name))
        for s in selections.selections
    )


@strawberry.type
class Query:
    @strawberry.field
    async def users(self, info: strawberry.Info, first: int = 50) -> UserConnection:
        state = info.context["request"].state
        async with state.pool.acquire() as conn:
            rows = await conn.fetch(ALL_PAGE, state.tenant_id, first)
            roles: dict[UUID, list[PlatformRole]] = {r["id"]: [] for r in rows}
            if _asks(info._raw_info.field_nodes[0].selection_set, "roles"):
                for role in await conn.fetch(ROLES, state.tenant_id, list(roles)):
                    roles[role["user_id"]].append(
                        PlatformRole(platform=Platform(key=role["key"]), role=role["role"])
                    )
        return UserConnection(edges=[UserEdge(node=_user(r, roles[r["id"]])) for r in rows])

    @strawberry.field
    async def user(self, info: strawberry.Info, id: strawberry.ID) -> User | None:
        state = info.context["request"].state
        row_id = UUID(base64.b64decode(id).decode().partition(":")[2])
        async with state.pool.acquire() as conn:
            row = await conn.fetchrow(ONE, state.tenant_id, row_id)
        return _user(row, []) if row is not None else None


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


SCHEMA = strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])
app = Starlette(
    routes=[Route("/graphql", GraphQL(SCHEMA), methods=["POST"])],
    lifespan=lifespan,
)
