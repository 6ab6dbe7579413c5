"""What `roster migrate` computes after the SQL migrations: values that come from Python rules,
for rows stored before the columns holding them existed."""

import uuid
from uuid import UUID

from db import users
from db.pool import Conn
from rules.identifiers import skeleton
from rules.userfields import SKELETONS

BATCH = 5000


async def backfill_skeletons(conn: Conn) -> list[tuple[UUID, str]]:
    """Gives the users stored before 0006_identifiers.sql the skeletons of their username and
    e-mail. Of two stored users that look alike, the second (in id order) keeps none, as the
    unique index allows only one: returns (user id, field) for each of those, to rename."""
    left: list[tuple[UUID, str]] = []
    after = (uuid.UUID(int=0), uuid.UUID(int=0))
    while rows := await users.users_without_skeletons(conn, after, BATCH):
        after = (rows[-1]["tenant_id"], rows[-1]["id"])
        for name, column in SKELETONS.items():
            lacking = [r for r in rows if r[column] is None]
            # One per skeleton and tenant in a statement: the first; the others are look-alikes.
            wanted: dict[tuple[UUID, str], UUID] = {}
            for r in lacking:
                wanted.setdefault((r["tenant_id"], skeleton(r[name])), r["id"])
            given = await users.set_skeletons(
                conn,
                column,
                [(tenant_id, user_id, key) for (tenant_id, key), user_id in wanted.items()],
            )
            left += [(r["id"], name) for r in lacking if r["id"] not in given]
    return left
