"""Webhooks: the `webhookDeliveries` query, redelivery, test pings and secret rotation; and the
check of a webhook URL's addresses when a platform is given one."""

import asyncio
from urllib.parse import urlsplit

import strawberry
from asyncpg import Record

from db import events, platforms, webhooks
from resolvers.errors import BadRequest
from resolvers.ids import decode_id
from resolvers.pagination import decode_cursor, encode_cursor, page_request, paginate
from resolvers.permissions import CanMutate, actor_of
from rules import events as vocabulary
from rules.ids import encode_id
from rules.webhooks import (
    SECRET_OVERLAP_SECONDS,
    TEST_ACTION,
    TEST_PING_WINDOW,
    TEST_PINGS,
    new_secret,
    url_problem,
    webhook_id,
)
from schema.context import Info
from schema.errors import UserError
from schema.node import NO_SUCH_ID
from schema.platform import Platform, PlatformPayload
from schema.webhook import (
    DELIVERY,
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDeliveryPayload,
)

NO_SUCH_PLATFORM = UserError(field=["platformId"], message="No such platform.", code="NOT_FOUND")
NO_WEBHOOK = UserError(
    field=["platformId"], message="This platform has no webhook URL.", code="NO_WEBHOOK"
)
# Seconds a registration waits for a host name's addresses; a name that has none by then is
# accepted, and checked again at every attempt.
LOOKUP_SECONDS = 5.0
DEFAULT_PORTS = {"http": 80, "https": 443}


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="Webhook deliveries, newest first, narrowed by platform, status or user.",
    )
    async def webhook_deliveries(
        self,
        info: Info,
        platform: strawberry.ID | None = None,
        status: DeliveryStatus | None = None,
        user_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> WebhookDeliveryConnection:
        page = page_request(first, after, None, None)
        before_seq = None
        if page.cursor:
            before_seq = decode_cursor(info.context.cursor_key, page.cursor, "deliveries").get("s")
            if not isinstance(before_seq, int) or isinstance(before_seq, bool):
                raise BadRequest("This cursor is not valid here.", "INVALID_CURSOR")
        platform_id = decode_id(platform, "Platform") or NO_SUCH_ID if platform else None
        user = decode_id(user_id, "User") or NO_SUCH_ID if user_id else None
        async with info.context.pool.acquire() as conn:
            rows = await webhooks.list_deliveries(
                conn,
                info.context.tenant_id,
                before_seq=before_seq,
                platform_id=platform_id,
                status=status.value if status else None,
                user_id=user,
                limit=page.size + 1,
            )
        key = info.context.cursor_key
        edges, page_info = paginate(page, rows, lambda row: _edge(key, row))
        return WebhookDeliveryConnection(edges=edges, page_info=page_info)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Sends a delivery again, now, with the same webhook-id; retries start over.",
    )
    async def redeliver_webhook(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        ctx = info.context
        delivery_id = decode_id(id, DELIVERY) or NO_SUCH_ID
        async with ctx.pool.acquire() as conn:
            row = await webhooks.redeliver(conn, ctx.tenant_id, delivery_id)
        if row is None:
            error = UserError(field=["id"], message="No such delivery.", code="NOT_FOUND")
            return WebhookDeliveryPayload(delivery=None, user_errors=[error])
        return WebhookDeliveryPayload(delivery=_delivery(row))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Queues a signed `webhook.test` ping to the platform's webhook: at most 5 a "
        "minute to a platform (RATE_LIMITED past that).",
    )
    async def send_test_webhook(
        self, info: Info, platform_id: strawberry.ID
    ) -> WebhookDeliveryPayload:
        ctx = info.context
        found = await _platform(info, platform_id)
        if found is None or not found["webhook_url"]:
            error = NO_SUCH_PLATFORM if found is None else NO_WEBHOOK
            return WebhookDeliveryPayload(delivery=None, user_errors=[error])
        async with ctx.pool.acquire() as conn, conn.transaction():
            await webhooks.lock_test_pings(conn, found["id"])
            sent, wait = await webhooks.recent_test_pings(
                conn, ctx.tenant_id, found["id"], TEST_PING_WINDOW
            )
            if sent >= TEST_PINGS:
                return WebhookDeliveryPayload(delivery=None, user_errors=[_rate_limited(wait)])
            row = await webhooks.insert_test_delivery(conn, ctx.tenant_id, found["id"], TEST_ACTION)
        return WebhookDeliveryPayload(delivery=_delivery(row))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Gives the platform a new webhook secret, shown once in the payload. For 24 "
        "hours deliveries carry signatures by both the old and the new secret.",
    )
    async def rotate_webhook_secret(
        self, info: Info, platform_id: strawberry.ID
    ) -> PlatformPayload:
        ctx = info.context
        found = await _platform(info, platform_id)
        if found is None or not found["webhook_secret"]:
            error = NO_SUCH_PLATFORM if found is None else NO_WEBHOOK
            return PlatformPayload(platform=None, user_errors=[error])
        secret = new_secret()
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await webhooks.rotate_secret(
                conn, ctx.tenant_id, found["id"], secret, SECRET_OVERLAP_SECONDS
            )
            if row is None:  # its webhook was removed meanwhile
                return PlatformPayload(platform=None, user_errors=[NO_WEBHOOK])
            await events.record_events(
                conn,
                ctx.tenant_id,
                actor_of(ctx),
                [(row["id"], vocabulary.platform_updated(["webhook_secret"]))],
            )
        return PlatformPayload(platform=Platform.from_row(row), webhook_secret=secret)


async def address_errors(info: Info, url: str | None) -> list[UserError]:
    """A userError (ADDRESS_NOT_ALLOWED) when the webhook URL's host is, or resolves to, an
    address webhooks may not go to; none for a URL whose form is wrong (INVALID_URL says so),
    nor for a name without addresses yet (every attempt checks again). Call it outside any
    transaction: it may wait for DNS."""
    url = (url or "").strip()
    if not url or url_problem(url) is not None:
        return []
    parts = urlsplit(url)
    policy = info.context.webhook_addresses
    if policy is None:
        return []  # a context made without the app (none checks URLs)
    try:
        async with asyncio.timeout(LOOKUP_SECONDS):
            refused = await policy.refusal(
                parts.hostname or "", parts.port or DEFAULT_PORTS[parts.scheme]
            )
    except TimeoutError:
        return []
    if refused is None:
        return []
    return [UserError(field=["input", "webhookUrl"], message=refused, code="ADDRESS_NOT_ALLOWED")]


def _rate_limited(wait: float) -> UserError:
    return UserError(
        field=["platformId"],
        message=f"At most {TEST_PINGS} test webhooks to a platform in {TEST_PING_WINDOW:.0f} s: "
        f"try again in {max(1, round(wait))} s.",
        code="RATE_LIMITED",
    )


async def _platform(info: Info, platform_id: strawberry.ID) -> Record | None:
    found = decode_id(platform_id, "Platform")
    if found is None:
        return None
    async with info.context.pool.acquire() as conn:
        rows = await platforms.get_platforms(conn, info.context.tenant_id, [found])
    return rows[0] if rows else None


def _edge(key: bytes, row: Record) -> WebhookDeliveryEdge:
    return WebhookDeliveryEdge(
        cursor=encode_cursor(key, {"k": "deliveries", "s": row["seq"]}),
        node=_delivery(row),
    )


def _delivery(row: Record) -> WebhookDelivery:
    pending = row["status"] == DeliveryStatus.PENDING.value
    return WebhookDelivery(
        id=strawberry.ID(encode_id(DELIVERY, row["id"])),
        platform_id=row["platform_id"],
        webhook_id=webhook_id([row["id"]]),
        event_type=row["action"],
        event_id=strawberry.ID(str(row["event_id"])) if row["event_id"] else None,
        user_id=strawberry.ID(encode_id("User", row["user_id"])) if row["user_id"] else None,
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"] if pending else None,
        last_attempt_at=row["last_attempt_at"],
        last_response_code=row["last_status_code"],
        last_error=row["last_error"],
        latency_ms=row["last_latency_ms"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
    )
