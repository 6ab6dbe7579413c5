from datetime import datetime

import strawberry
from strawberry.scalars import JSON


@strawberry.type(description="One administrative action: who did what, when, on whom.")
class AuditEvent:
    id: strawberry.ID
    action: str = strawberry.field(description="e.g. user.created, user.disabled, user.deleted.")
    actor: str = strawberry.field(description="Name of the token (or CLI operator) that acted.")
    target_type: str
    target_id: strawberry.ID | None = strawberry.field(
        description="Global id of the target; it stays when the target is deleted."
    )
    data: JSON = strawberry.field(description="Changed field names and ids; never personal data.")
    created_at: datetime


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: strawberry.relay.PageInfo
