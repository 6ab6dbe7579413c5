"""The audit log: `auditEvents`, and the actions it can be narrowed to."""

from datetime import datetime

import strawberry
from asyncpg import Record

from db import events
from resolvers.errors import BadRequest
from resolvers.ids import decode_id, encode_id
from resolvers.pagination import decode_cursor, encode_cursor, page_request, paginate
from resolvers.search import check_moment
from rules.echoes import quoted
from rules.events import ACTIONS
from schema.audit import AuditEvent, AuditEventConnection, AuditEventEdge
from schema.context import Info
from schema.node import NO_SUCH_ID


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Administrative actions, newest first. `userId` narrows to one user's, "
        "`actions` to these actions (see auditActions), `since` (inclusive) and `until` "
        "(exclusive) to a time.",
    )
    async def audit_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        user_id: strawberry.ID | None = None,
        actions: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AuditEventConnection:
        _check_narrowing(actions, since, until)
        page = page_request(first, after, None, None)
        before_id = None
        if page.cursor:
            before_id = decode_cursor(info.context.cursor_key, page.cursor, "events").get("i")
            if not isinstance(before_id, int) or isinstance(before_id, bool):
                raise BadRequest("This cursor is not valid here.", "INVALID_CURSOR")
        target = None
        if user_id is not None:
            target = decode_id(user_id, "User") or NO_SUCH_ID
        async with info.context.pool.acquire() as conn:
            rows = await events.list_events(
                conn,
                info.context.tenant_id,
                before_id=before_id,
                target_id=target,
                limit=page.size + 1,
                target_type="User" if target is not None else None,
                actions=actions,
                since=since,
                until=until,
            )
        key = info.context.cursor_key
        edges, page_info = paginate(page, rows, lambda row: _event_edge(key, row))
        return AuditEventConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="Every action an audit event may have (docs/events.md).")
    def audit_actions(self) -> list[str]:
        return list(ACTIONS)


def _check_narrowing(
    actions: list[str] | None, since: datetime | None, until: datetime | None
) -> None:
    for action in actions or ():
        if action not in ACTIONS:
            raise BadRequest(
                f"Unknown action {quoted(action)}; auditActions lists them.", "UNKNOWN_ACTION"
            )
    check_moment("since", since)
    check_moment("until", until)


def _event_edge(key: bytes, row: Record) -> AuditEventEdge:
    return AuditEventEdge(
        cursor=encode_cursor(key, {"k": "events", "i": row["id"]}),
        node=AuditEvent(
            id=strawberry.ID(str(row["id"])),
            action=row["action"],
            actor=row["actor"],
            target_type=row["target_type"],
            target_id=strawberry.ID(encode_id(row["target_type"], row["target_id"]))
            if row["target_id"]
            else None,
            data=row["data"],
            created_at=row["created_at"],
        ),
    )
