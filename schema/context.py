"""What every resolver receives: the caller, the shared clients and per-request DataLoaders."""

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol
from uuid import UUID

import strawberry
from asyncpg import Pool, Record
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

if TYPE_CHECKING:
    # For annotations only: schema/ depends on no other layer when it runs.
    from jobs.addresses import AddressPolicy
    from jobs.queue import Queue
    from schema.job import PlannedRowConnection, RowErrorConnection, RowErrorCount

Scope = Literal["admin", "read"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the token it presented and the tenant that token belongs to."""

    tenant_id: UUID
    token_id: UUID | None
    token_name: str
    scope: Scope
    # A console session (a token of kind 'console', sent as a cookie) rather than an API token.
    console: bool = False


class JobRows(Protocol):
    """Pages of a job's rows (errors, plan), for the fields of ImportJob."""

    async def row_errors(
        self, job_id: str, first: int | None, after: str | None, code: str | None
    ) -> "RowErrorConnection": ...

    async def error_codes(self, job_id: str) -> "list[RowErrorCount]": ...

    async def plan(
        self, job_id: str, first: int | None, after: str | None, action: str | None
    ) -> "PlannedRowConnection": ...


class Loaders(Protocol):
    """One DataLoader per key, fresh for each request and scoped to the caller's tenant."""

    @property
    def users(self) -> DataLoader[UUID, Record | None]: ...
    @property
    def roles(self) -> DataLoader[UUID, list[Record]]: ...
    @property
    def platforms(self) -> DataLoader[UUID, Record | None]: ...
    @property
    def jobs(self) -> DataLoader[UUID, Record | None]: ...
    @property
    def job_rows(self) -> JobRows: ...
    async def load_roles(self, user_ids: Sequence[UUID]) -> list[list[Record]]:
        """The roles loader's batch: each user's roles, in one query."""


class NotAuthenticated(Exception):
    """No valid token came with the request or the WebSocket connection."""


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    pool: Pool
    # The job queue's client, a Redis client too (it publishes job progress).
    redis: "Queue"
    executor: Executor
    public_url: str
    max_upload_bytes: int
    # Where a connection's `count` stops counting (Settings.count_bound).
    count_bound: int
    # Relays job progress from Redis to this process's subscribers (jobs.progress.JobRelay).
    relay: Any
    # Seals page cursors (resolvers.pagination.cursor_key).
    cursor_key: bytes
    # A signed link to download an export (global id, the file's expiry) → URL; made by
    # roster.downloads, which holds the signing key.
    export_link: Callable[[str, datetime], str | None] = lambda job_id, expires_at: None
    # How long an export's file is kept, in seconds (ROSTER_EXPORT_TTL).
    export_ttl: float = 7 * 24 * 3600
    # Where webhooks may go (jobs.addresses.AddressPolicy): a URL is checked when registered.
    webhook_addresses: "AddressPolicy | None" = None
    principal: Principal | None = None
    _loaders: Loaders | None = None
    # Strawberry stores the graphql-transport-ws connection_init payload here.
    connection_params: dict[str, Any] | None = field(default=None)

    def authenticate(self, principal: Principal, loaders: Loaders) -> None:
        self.principal = principal
        self._loaders = loaders

    @property
    def caller(self) -> Principal:
        if self.principal is None:
            raise NotAuthenticated("No valid token.")
        return self.principal

    @property
    def tenant_id(self) -> UUID:
        return self.caller.tenant_id

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            raise NotAuthenticated("No valid token.")
        return self._loaders


# What resolvers and permissions receive as `info`.
Info = strawberry.Info[Context, None]

# The metadata key of a field whose resolver returns this attribute of its object whenever the
# attribute is not None (e.g. roles a page preloaded): plain data then, completed without the
# resolver by roster/execution/plain_execution.py, which leaves the object to the resolver
# otherwise.
PLAIN_ATTRIBUTE = "roster.plain_attribute"
