from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum

import strawberry
from asyncpg import Record
from strawberry import relay

from schema.context import Info
from schema.errors import UserError
from schema.node import node_uuids


@strawberry.enum
class PlatformKind(Enum):
    LEARNING_CLOUD = "LEARNING_CLOUD"
    CONTENT_CLOUD = "CONTENT_CLOUD"
    EXTERNAL_APP = "EXTERNAL_APP"


@strawberry.type
class Platform(relay.Node):
    id: relay.NodeID[str]
    # Made once per row, as User's: see there.
    _id: strawberry.ID = strawberry.field(
        name="id", description="The Globally Unique ID of this object"
    )
    key: str = strawberry.field(description="Names the platform in inputs and CSV columns.")
    aliases: list[str] = strawberry.field(
        description="Other names a CSV column for this platform may carry."
    )
    name: str
    kind: PlatformKind
    roles: list[str] = strawberry.field(description="The roles this platform accepts.")
    webhook_url: str | None
    webhook_batch_size: int = strawberry.field(
        description="Events per webhook request: 1 sends each alone; more sends an array."
    )
    webhook_disabled_at: datetime | None = strawberry.field(
        description="When the receiver answered 410 Gone, which stopped deliveries; setting "
        "the webhook URL again resumes them."
    )
    webhook_disabled_reason: str | None
    webhook_previous_secret_until: datetime | None = strawberry.field(
        description="After rotateWebhookSecret: until when deliveries are signed by the "
        "previous secret too (24 hours after the rotation); null when there is none."
    )

    @classmethod
    def from_row(cls, row: Record) -> "Platform":
        return cls(
            id=str(row["id"]),
            _id=strawberry.ID(relay.to_base64("Platform", row["id"])),
            key=row["key"],
            aliases=list(row["aliases"]),
            name=row["name"],
            kind=PlatformKind(row["kind"]),
            roles=list(row["roles"]),
            webhook_url=row["webhook_url"],
            webhook_batch_size=row["webhook_batch_size"],
            webhook_disabled_at=row["webhook_disabled_at"],
            webhook_disabled_reason=row["webhook_disabled_reason"],
            webhook_previous_secret_until=_still_valid(row.get("webhook_previous_secret_until")),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list["Platform | None"]:
        rows = await info.context.loaders.platforms.load_many(node_uuids(node_ids))
        return [cls.from_row(r) if r is not None else None for r in rows]


@strawberry.input
class CreatePlatformInput:
    key: str
    name: str
    roles: list[str]
    aliases: list[str] | None = None
    webhook_url: str | None = None
    webhook_batch_size: int = strawberry.field(
        default=1, description="Events per webhook request (1 to 100): more sends arrays."
    )


@strawberry.input
class UpdatePlatformInput:
    key: str | None = None
    name: str | None = None
    roles: list[str] | None = strawberry.field(
        default=None, description="When given, replaces the accepted roles."
    )
    aliases: list[str] | None = None
    webhook_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="null removes the webhook; setting it resumes a disabled webhook.",
    )
    webhook_batch_size: int | None = None


@strawberry.type
class PlatformPayload:
    platform: Platform | None
    webhook_secret: str | None = strawberry.field(
        default=None,
        description="The webhook signing secret (whsec_…): given once, when the platform "
        "gets a webhook URL or its secret is rotated.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePlatformPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _still_valid(until: datetime | None) -> datetime | None:
    return until if until is not None and until > datetime.now(UTC) else None
