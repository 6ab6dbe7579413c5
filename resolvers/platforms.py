"""Platforms: the `platforms` query and the mutations that register external apps."""

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import strawberry
from asyncpg import Record

from db import events, platforms, webhooks
from resolvers.ids import decode_id
from resolvers.permissions import CanMutate, actor_of
from resolvers.webhooks import address_errors
from rules import events as vocabulary
from rules.csvcolumns import header_name, names_a_field
from rules.echoes import quoted
from rules.identifiers import has_refused, nfc
from rules.webhooks import new_secret, url_problem
from schema.context import Context, Info
from schema.errors import UserError
from schema.platform import (
    CreatePlatformInput,
    DeletePlatformPayload,
    Platform,
    PlatformKind,
    PlatformPayload,
    UpdatePlatformInput,
)

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
ROLE_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


def _names(
    values: Sequence[str], pattern: re.Pattern[str], path: list[str], what: str
) -> tuple[list[str], list[UserError]]:
    # A dict keeps the first of each name in order: a list's `in` made it quadratic (20,000
    # roles held the event loop 3 s).
    cleaned: dict[str, None] = {}
    errors: list[UserError] = []
    for i, value in enumerate(values):
        name = value.strip().lower()
        if not pattern.fullmatch(name):
            errors.append(
                UserError(
                    field=[*path, str(i)],
                    message=f"{quoted(value)} is not a valid {what}: lower-case letters, "
                    "digits, '-' and '_', up to 63 characters.",
                    code="INVALID_NAME",
                )
            )
        else:
            cleaned.setdefault(name)
    return list(cleaned), errors


def _check(
    *,
    key: str,
    name: str,
    aliases: Sequence[str],
    roles: Sequence[str],
    webhook_url: str | None,
    webhook_batch_size: int,
) -> tuple[dict[str, Any], list[UserError]]:
    errors: list[UserError] = []
    keys, key_errors = _names([key], NAME_RE, ["input", "key"], "key")
    errors += [
        UserError(field=["input", "key"], message=e.message, code=e.code) for e in key_errors
    ]
    clean_aliases, alias_errors = _names(aliases, NAME_RE, ["input", "aliases"], "alias")
    clean_roles, role_errors = _names(roles, ROLE_RE, ["input", "roles"], "role")
    errors += alias_errors + role_errors
    if not clean_roles and not role_errors:
        errors.append(
            UserError(
                field=["input", "roles"],
                message="A platform needs at least one role.",
                code="REQUIRED",
            )
        )
    name = nfc(name.strip())
    if not name or len(name) > 100:
        errors.append(
            UserError(
                field=["input", "name"], message="A name of 1 to 100 characters.", code="REQUIRED"
            )
        )
    elif has_refused(name):
        errors.append(
            UserError(
                field=["input", "name"],
                message="A name cannot hold control characters, line breaks or characters that "
                "change the direction of text.",
                code="INVALID_CHARACTERS",
            )
        )
    url = (webhook_url or "").strip() or None
    problem = url_problem(url) if url is not None else None
    if problem is not None:
        errors.append(UserError(field=["input", "webhookUrl"], message=problem, code="INVALID_URL"))
    if not 1 <= webhook_batch_size <= 100:
        errors.append(
            UserError(
                field=["input", "webhookBatchSize"],
                message="From 1 (one event per request) to 100.",
                code="OUT_OF_RANGE",
            )
        )
    clean_key = keys[0] if keys else key
    return {
        "key": clean_key,
        "aliases": [a for a in clean_aliases if a != clean_key],
        "name": name,
        "roles": clean_roles,
        "webhook_url": url,
        "webhook_batch_size": webhook_batch_size,
    }, errors


async def _name_clash(
    conn: Any, tenant_id: UUID, wanted: Sequence[str], platform_id: UUID | None
) -> UserError | None:
    """A key or alias must name one column of a CSV file only: not a user field (`status`,
    `e-mail`), and not another platform, also as a CSV header reads it (`my-app` is `myapp`)."""
    fields = [n for n in wanted if names_a_field(n)]
    if fields:
        return UserError(
            field=["input"],
            message=f"{', '.join(map(repr, fields))} would read as a user field in CSV files.",
            code="PLATFORM_NAME_TAKEN",
        )
    normal = {header_name(n): n for n in wanted}
    for other in await platforms.list_platforms(conn, tenant_id):
        if other["id"] == platform_id:
            continue
        same = sorted(
            normal[header_name(n)]
            for n in (other["key"], *other["aliases"])
            if header_name(n) in normal
        )
        if same:
            return UserError(
                field=["input"],
                message=f"{other['name']} already answers to {', '.join(map(repr, same))}.",
                code="PLATFORM_NAME_TAKEN",
            )
    return None


def _no_such_platform() -> PlatformPayload:
    return PlatformPayload(
        platform=None,
        user_errors=[UserError(field=["id"], message="No such platform.", code="NOT_FOUND")],
    )


def _merged(input: UpdatePlatformInput, current: Record) -> dict[str, Any]:
    """The platform as the update would leave it: what the input gives, else what it has."""
    return {
        "key": input.key if input.key is not None else current["key"],
        "name": input.name if input.name is not None else current["name"],
        "aliases": input.aliases if input.aliases is not None else current["aliases"],
        "roles": input.roles if input.roles is not None else current["roles"],
        "webhook_url": current["webhook_url"]
        if input.webhook_url is strawberry.UNSET
        else input.webhook_url,
        "webhook_batch_size": current["webhook_batch_size"]
        if input.webhook_batch_size is None
        else input.webhook_batch_size,
    }


async def _update_conflicts(
    conn: Any, tenant_id: UUID, current: Record, values: dict[str, Any]
) -> list[UserError]:
    """What the update would break, read under the tenant's platforms lock: a name another
    platform answers to, a role some user still holds."""
    wanted = [values["key"], *values["aliases"]]
    clash = await _name_clash(conn, tenant_id, wanted, current["id"])
    if clash:
        return [clash]
    dropped = sorted(set(current["roles"]) - set(values["roles"]))
    in_use = await platforms.roles_in_use(conn, tenant_id, current["id"], dropped)
    if not in_use:
        return []
    return [
        UserError(
            field=["input", "roles"],
            message=f"Users still hold {', '.join(map(quoted, in_use))}: change their roles first.",
            code="ROLE_IN_USE",
        )
    ]


async def _apply_update(
    conn: Any, ctx: Context, current: Record, values: dict[str, Any], *, url_given: bool
) -> PlatformPayload:
    """Writes the checked update and its event; a first webhook URL gets a secret (shown once
    in the payload), and a URL given again enables a webhook a 410 had disabled."""
    platform_id = current["id"]
    secret = current["webhook_secret"]
    given_secret = None
    if values["webhook_url"] and not secret:
        secret = given_secret = new_secret()
    row = await platforms.update_platform(
        conn, ctx.tenant_id, platform_id, webhook_secret=secret, **values
    )
    if url_given and current["webhook_disabled_at"]:
        # Setting the URL again is how an administrator says the receiver is back.
        await webhooks.enable_webhook(conn, ctx.tenant_id, platform_id)
        row = (await platforms.get_platforms(conn, ctx.tenant_id, [platform_id]))[0]
    assert row is not None
    changed = [k for k in values if current[k] != row[k]]
    if changed:
        await events.record_events(
            conn,
            ctx.tenant_id,
            actor_of(ctx),
            [(platform_id, vocabulary.platform_updated(changed))],
        )
    return PlatformPayload(platform=Platform.from_row(row), webhook_secret=given_secret)


@strawberry.type
class PlatformQuery:
    @strawberry.field
    async def platforms(self, info: Info) -> list[Platform]:
        async with info.context.pool.acquire() as conn:
            rows = await platforms.list_platforms(conn, info.context.tenant_id)
        return [Platform.from_row(r) for r in rows]


@strawberry.type
class PlatformMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Registers an external app. With a webhook URL, the payload carries the "
        "signing secret, once.",
    )
    async def create_platform(self, info: Info, input: CreatePlatformInput) -> PlatformPayload:
        ctx = info.context
        values, errors = _check(
            key=input.key,
            name=input.name,
            aliases=input.aliases or [],
            roles=input.roles,
            webhook_url=input.webhook_url,
            webhook_batch_size=input.webhook_batch_size,
        )
        errors += await address_errors(info, values["webhook_url"])
        if errors:
            return PlatformPayload(platform=None, user_errors=errors)
        secret = new_secret() if values["webhook_url"] else None
        async with ctx.pool.acquire() as conn, conn.transaction():
            await platforms.lock_tenant_platforms(conn, ctx.tenant_id)
            wanted = [values["key"], *values["aliases"]]
            clash = await _name_clash(conn, ctx.tenant_id, wanted, None)
            if clash:
                return PlatformPayload(platform=None, user_errors=[clash])
            row = await platforms.insert_platform(
                conn,
                ctx.tenant_id,
                kind=PlatformKind.EXTERNAL_APP.value,
                webhook_secret=secret,
                **values,
            )
            await events.record_events(
                conn,
                ctx.tenant_id,
                actor_of(ctx),
                [(row["id"], vocabulary.platform_created(row["key"]))],
            )
        return PlatformPayload(platform=Platform.from_row(row), webhook_secret=secret)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Changes a platform. A role some user holds cannot be removed.",
    )
    async def update_platform(
        self, info: Info, id: strawberry.ID, input: UpdatePlatformInput
    ) -> PlatformPayload:
        ctx = info.context
        platform_id = decode_id(id, "Platform")
        if platform_id is None:
            return _no_such_platform()
        # Before the transaction: it may wait for DNS.
        new_url = input.webhook_url if isinstance(input.webhook_url, str) else None
        refused = await address_errors(info, new_url)
        async with ctx.pool.acquire() as conn, conn.transaction():
            await platforms.lock_tenant_platforms(conn, ctx.tenant_id)
            found = await platforms.get_platforms(conn, ctx.tenant_id, [platform_id])
            if not found:
                return _no_such_platform()
            current = found[0]
            values, errors = _check(**_merged(input, current))
            errors += refused
            if not errors:
                errors = await _update_conflicts(conn, ctx.tenant_id, current, values)
            if errors:
                return PlatformPayload(platform=None, user_errors=errors)
            url_given = input.webhook_url is not strawberry.UNSET
            return await _apply_update(conn, ctx, current, values, url_given=url_given)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Deletes an external app and every role on it. LearningCloud and "
        "ContentCloud cannot be deleted.",
    )
    async def delete_platform(self, info: Info, id: strawberry.ID) -> DeletePlatformPayload:
        ctx = info.context
        platform_id = decode_id(id, "Platform")
        async with ctx.pool.acquire() as conn, conn.transaction():
            await platforms.lock_tenant_platforms(conn, ctx.tenant_id)
            found = (
                await platforms.get_platforms(conn, ctx.tenant_id, [platform_id])
                if platform_id
                else []
            )
            if not found or platform_id is None:
                return DeletePlatformPayload(
                    deleted_id=None,
                    user_errors=[
                        UserError(field=["id"], message="No such platform.", code="NOT_FOUND")
                    ],
                )
            if found[0]["kind"] != PlatformKind.EXTERNAL_APP.value:
                return DeletePlatformPayload(
                    deleted_id=None,
                    user_errors=[
                        UserError(
                            field=["id"],
                            message=f"{found[0]['name']} is part of the learning cloud and "
                            "cannot be deleted.",
                            code="PLATFORM_BUILT_IN",
                        )
                    ],
                )
            holders = await platforms.count_users_with_roles(conn, ctx.tenant_id, platform_id)
            await platforms.delete_platform(conn, ctx.tenant_id, platform_id)
            await events.record_events(
                conn,
                ctx.tenant_id,
                actor_of(ctx),
                [(platform_id, vocabulary.platform_deleted(found[0]["key"], holders))],
            )
        return DeletePlatformPayload(deleted_id=id)
