"""Exports: startExport (and `roster export`), and finding an export's file for a download."""

import logging
from dataclasses import fields
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from asyncpg import Pool, Record
from redis.exceptions import RedisError

from db import events, files, jobs, platforms, tokens, users
from db.events import Actor
from db.pool import Conn
from db.user_search import search_options
from jobs.queue import enqueue_job
from resolvers.errors import BadRequest
from resolvers.id_lists import too_many_selected
from resolvers.ids import decode_id
from resolvers.permissions import actor_of
from resolvers.search import SEARCH_TOO_LONG, user_search
from rules import events as vocabulary
from rules.echoes import quoted
from rules.events import Event
from rules.exportcolumns import column_problems
from schema.context import Context, Info, Principal
from schema.errors import UserError
from schema.job import ExportJob, JobPayload
from schema.pagination import OrderDirection
from schema.user import UserFilter, UserOrder, UserOrderField

log = logging.getLogger(__name__)

# The actor of a download through a signed link, which carries no token.
SIGNED_LINK_ACTOR = "signed link"


class StarterRevoked(Exception):
    """A signed link to an export whose starting token is revoked or gone: the link stands for
    that token, and dies with it."""


def _selection(ids: list[strawberry.ID] | None, filter: UserFilter | None) -> UserFilter | None:
    """`ids` as the filter's own `ids` (an export of a selection is a search by ids)."""
    if ids is None:
        return filter
    given = _given(filter)
    given["ids"] = list(ids)
    return UserFilter(**given)


def _given(filter: UserFilter | None) -> dict[str, Any]:
    """The filter's fields that were given."""
    if filter is None:
        return {}
    values = {f.name: getattr(filter, f.name) for f in fields(filter)}
    return {name: value for name, value in values.items() if value is not None}


async def start_export(
    ctx: Context,
    *,
    ids: list[strawberry.ID] | None = None,
    search: str | None = None,
    filter: UserFilter | None = None,
    order_by: UserOrder | None = None,
    columns: list[str] | None = None,
) -> JobPayload:
    """Records the export and queues it; returns at once. The users it covers are decided when
    a worker starts it, from one snapshot."""
    refused = too_many_selected(ids, ["ids"]) if ids is not None else None
    if refused is not None:
        return JobPayload(job=None, user_errors=[refused])
    if columns is not None:
        columns = [c.strip() for c in columns]
        problems = column_problems(columns)
        if problems:
            return JobPayload(
                job=None,
                user_errors=[
                    UserError(field=["columns", str(p.position)], code=p.code, message=p.message)
                    for p in problems
                ],
            )
    criteria_filter = _selection(ids, filter)
    async with ctx.pool.acquire() as conn:
        tenant_platforms = await platforms.list_platforms(conn, ctx.tenant_id)
        try:
            criteria = user_search(search, criteria_filter, tenant_platforms)
        except BadRequest as e:
            code = str((e.extensions or {}).get("code", "INVALID_FILTER"))
            field = ["search"] if code == SEARCH_TOO_LONG else ["filter"]
            return JobPayload(
                job=None, user_errors=[UserError(field=field, code=code, message=e.message)]
            )
        if ids is not None:
            missing = await _unknown_ids(conn, ctx.tenant_id, ids, criteria.ids or ())
            if missing:
                return JobPayload(job=None, user_errors=missing)
        order = order_by.field if order_by else UserOrderField.USERNAME
        options = {
            "search": search_options(criteria),
            "order": order.value,
            "descending": bool(order_by and order_by.direction == OrderDirection.DESC),
            "columns": columns,
            "ttl_seconds": ctx.export_ttl,
        }
        event = vocabulary.export_started(
            selected=len(ids) if ids is not None else None,
            search=bool(criteria.words),
            filters=list(_given(filter)),
            columns=columns,
        )
        async with conn.transaction():
            row = await _record(conn, ctx.tenant_id, actor_of(ctx), options, event)
        try:
            await enqueue_job(ctx.redis, conn, row["id"], "EXPORT")
        except RedisError:
            log.warning("could not queue job %s now; recovery will", row["id"])
    return JobPayload(job=ExportJob.from_row(row))


async def _record(
    conn: Conn, tenant_id: UUID, actor: Actor, options: dict[str, Any], event: Event
) -> Record:
    row = await jobs.create_job(
        conn,
        tenant_id,
        "EXPORT",
        file_id=None,
        options=options,
        dry_run=False,
        actor=actor,
    )
    await events.record_events(conn, tenant_id, actor, [(row["id"], event)])
    return row


async def _unknown_ids(
    conn: Conn, tenant_id: UUID, given: list[strawberry.ID], wanted: tuple[UUID, ...]
) -> list[UserError]:
    """An error for each id that names no user of the tenant: a selection is exported whole."""
    found = {r["id"] for r in await users.get_users(conn, tenant_id, list(wanted))}
    return [
        UserError(field=["ids", str(i)], code="NOT_FOUND", message=f"No user {quoted(value)}.")
        for i, value in enumerate(given)
        if decode_id(value, "User") not in found
    ]


@strawberry.type
class ExportMutation:
    @strawberry.mutation(
        description="Exports users as CSV (the import's format): the `ids` given, or everyone "
        "`search` and `filter` match as `users` would, or the whole organisation. Returns at "
        "once with the queued ExportJob; follow it with the `job` subscription. Read-only "
        "tokens may export.",
    )
    async def start_export(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        search: str | None = None,
        filter: UserFilter | None = None,
        order_by: UserOrder | None = None,
        columns: Annotated[
            list[str] | None,
            strawberry.argument(
                description="CSV columns, in order (default: every column but the passwords, "
                "then an attr:<key> column per attribute key the users have)."
            ),
        ] = None,
    ) -> JobPayload:
        return await start_export(
            info.context,
            ids=ids,
            search=search,
            filter=filter,
            order_by=order_by,
            columns=columns,
        )


async def export_download(
    pool: Pool, global_id: str, *, tenant_id: UUID | None, actor: Principal | None
) -> tuple[UUID, int] | None:
    """The file (id, size) of a finished, unexpired export, its download recorded; None when
    there is none. `tenant_id`: the caller's (None for a signed link, which names one export
    and is checked already); `actor`: the token (None for a signed link). Raises
    StarterRevoked for a signed link once the token that started the export is no longer
    active."""
    job_id = decode_id(global_id, "ExportJob")
    if job_id is None:
        return None
    async with pool.acquire() as conn:
        if tenant_id is None:
            job = await jobs.get_job(conn, job_id)
        else:
            found = await jobs.get_jobs(conn, tenant_id, [job_id])
            job = found[0] if found else None
        if job is not None and actor is None and not await _starter_active(conn, job):
            raise StarterRevoked(global_id)
        if (
            job is None
            or job["kind"] != "EXPORT"
            or job["status"] != "SUCCEEDED"
            or job["file_id"] is None
            or job["expires_at"] is None
            or job["expires_at"] <= datetime.now(UTC)
        ):
            return None
        file = await files.get_file(conn, job["file_id"])
        if file is None:
            return None
        who = (
            Actor(token_id=actor.token_id, name=actor.token_name)
            if actor is not None
            else Actor(token_id=None, name=SIGNED_LINK_ACTOR)
        )
        event = vocabulary.export_downloaded(signed_link=actor is None)
        await events.record_events(conn, job["tenant_id"], who, [(job_id, event)])
    return job["file_id"], file["size"]


async def _starter_active(conn: Conn, job: Record) -> bool:
    """Whether the token that started the job is still active. A job no token started (an
    operator's `roster export`), or whose token was deleted, has none."""
    starter: UUID | None = job["actor_token_id"]
    return starter is not None and bool(await tokens.active_among(conn, [starter]))
