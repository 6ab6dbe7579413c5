"""Welcome e-mails: the sendWelcomeEmail mutation, and the e-mail job createUser asks for."""

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import strawberry
from redis.exceptions import RedisError

from db import emails, events, users
from db.pool import Conn
from jobs.queue import enqueue_job
from resolvers.id_lists import too_many_selected
from resolvers.ids import decode_id
from resolvers.permissions import CanMutate, actor_of
from rules import events as vocabulary
from schema.context import Context, Info
from schema.errors import UserError
from schema.job import JobPayload, job_of

log = logging.getLogger(__name__)


async def record_welcome_job(ctx: Context, conn: Conn, user_ids: Sequence[UUID]) -> Any:
    """The e-mail job to `user_ids`, in the caller's transaction; `queue_welcome_job` after
    the commit."""
    return await emails.record_email_job(conn, ctx.tenant_id, actor_of(ctx), user_ids)


async def queue_welcome_job(ctx: Context, job: Any) -> None:
    try:
        async with ctx.pool.acquire() as conn:
            await enqueue_job(ctx.redis, conn, job["id"], emails.JOB_KIND)
    except RedisError:
        # The job is recorded: the workers' recovery queues it once Redis is back.
        log.warning("could not queue job %s now; recovery will", job["id"])


def _refusal(index: int, code: str, message: str) -> UserError:
    return UserError(field=["ids", str(index)], code=code, message=message)


@strawberry.type
class EmailMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Sends the welcome e-mail, with a new set-password link, to the selected "
        "users: one job, paced, followed with the `job` subscription. If any user is unknown "
        "or disabled, nothing is sent.",
    )
    async def send_welcome_email(self, info: Info, ids: list[strawberry.ID]) -> JobPayload:
        ctx = info.context
        refused = too_many_selected(ids, ["ids"])
        if refused is not None:
            return JobPayload(job=None, user_errors=[refused])
        decoded = [decode_id(g, "User") for g in ids]
        wanted = list(dict.fromkeys(u for u in decoded if u is not None))
        errors: list[UserError] = []
        if not ids:
            errors.append(
                UserError(field=["ids"], code="REQUIRED", message="Select at least one user.")
            )
        async with ctx.pool.acquire() as conn, conn.transaction():
            found = {r["id"]: r for r in await users.lock_users(conn, ctx.tenant_id, wanted)}
            for i, user_id in enumerate(decoded):
                row = found.get(user_id) if user_id is not None else None
                if row is None:
                    errors.append(_refusal(i, "NOT_FOUND", "No such user."))
                elif row["status"] != "ACTIVE":
                    errors.append(_refusal(i, "USER_DISABLED", f"{row['username']} is disabled."))
            if errors:
                return JobPayload(job=None, user_errors=errors)
            job = await record_welcome_job(ctx, conn, wanted)
            event = vocabulary.user_welcome_email_requested()
            await events.record_events(
                conn, ctx.tenant_id, actor_of(ctx), [(u, event) for u in wanted]
            )
        await queue_welcome_job(ctx, job)
        return JobPayload(job=job_of(job))
