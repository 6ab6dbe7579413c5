from datetime import datetime
from enum import Enum
from uuid import UUID

import strawberry

from schema.context import Info
from schema.errors import UserError
from schema.platform import Platform

DELIVERY = "WebhookDelivery"


@strawberry.enum
class DeliveryStatus(Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@strawberry.type(description="One event (or test ping) to one platform's webhook.")
class WebhookDelivery:
    id: strawberry.ID
    platform_id: strawberry.Private[UUID]
    webhook_id: str = strawberry.field(
        description="The `webhook-id` header: the receiver's idempotency key, the same on "
        "every attempt."
    )
    event_type: str = strawberry.field(description="e.g. user.created, or webhook.test.")
    event_id: strawberry.ID | None = strawberry.field(description="The audit event's id.")
    user_id: strawberry.ID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(description="While PENDING.")
    last_attempt_at: datetime | None
    last_response_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null when it got no answer."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed: a status, a timeout, a refused connection."
    )
    latency_ms: int | None = strawberry.field(description="Of the last attempt.")
    delivered_at: datetime | None
    created_at: datetime

    @strawberry.field
    async def platform(self, info: Info) -> Platform:
        row = await info.context.loaders.platforms.load(self.platform_id)
        assert row is not None  # a platform's deliveries are deleted with it
        return Platform.from_row(row)


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: strawberry.relay.PageInfo


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
