"""What an import records of each row it applies, so that a revert can undo it: the values
before of what the row changed (db/import_undo.py stores them in the chunk's transaction)."""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from db.users import SKELETON_COLUMNS
from jobs.import_plan import Planned, Role

# The skeletons change with the username and e-mail they are made from.
_SKELETON_OF = {"username": "username_skeleton", "email": "email_skeleton"}
assert set(_SKELETON_OF.values()) == set(SKELETON_COLUMNS)

Image = tuple[int, str, UUID | None, dict[str, Any] | None]


def before_images(
    made: Sequence[tuple[Planned, UUID]],
    updates: Sequence[Planned],
    deletes: Sequence[Planned],
    deleted: Mapping[UUID, Any],
) -> list[Image]:
    """(row, action, user, before) of each row applied: the user created; the fields an update
    changed as they were (from the user the chunk read in its transaction) and the roles it
    granted and took away; a deletion, with nothing of the user."""
    images: list[Image] = [(p.row.number, "CREATE", uid, None) for p, uid in made]
    images += [
        (p.row.number, "UPDATE", p.user["id"], update_image(p))
        for p in updates
        if p.user is not None
    ]
    images += [
        (p.row.number, "DELETE", None, None)
        for p in deletes
        if p.user is not None and p.user["id"] in deleted
    ]
    return images


def update_image(plan: Planned) -> dict[str, Any]:
    assert plan.user is not None
    user = plan.user
    fields = {f: user[f] for f in plan.changed if f != "password"}
    for name, column in _SKELETON_OF.items():
        if name in fields:
            fields[column] = user[column]
    return {
        "fields": fields,
        "added": _roles(plan.roles_added),
        "removed": _roles(plan.roles_removed),
    }


def _roles(roles: Sequence[Role]) -> list[list[str]]:
    return [[str(p), r] for p, r in roles]
