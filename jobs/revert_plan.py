"""What a revert does with each row its import applied: pure decisions over the row's
before-image, the user as it is now, its roles and the changes made to it since the import. No
database here: jobs/reverts.py reads and writes."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from jobs.import_plan import Stored
from rules import events as vocabulary
from rules.ids import encode_id
from rules.userfields import camel

Role = tuple[UUID, str]

CHANGED_LATER = "CHANGED_LATER"
IMPORT_DELETED = "IMPORT_DELETED"
IDENTIFIER_TAKEN = "IDENTIFIER_TAKEN"
# The events that change what a revert puts back; a welcome e-mail sent changes nothing.
CHANGES = (
    vocabulary.USER_UPDATED,
    vocabulary.USER_ROLES_CHANGED,
    vocabulary.USER_ENABLED,
    vocabulary.USER_DISABLED,
    vocabulary.USER_PASSWORD_SET,
    vocabulary.USER_DELETED,
)
_SKELETONS = {"username": "username_skeleton", "email": "email_skeleton"}
# The fields no two users of an organisation may share (ignoring case), nor, for username and
# e-mail, share the look of (their skeletons).
IDENTIFIERS = ("username", "email", "external_id")
# (kind, value): an identifier as db.import_undo.identifier_holders looks it up, the kind one
# of the fields above or a skeleton column.
Key = tuple[str, str]


@dataclass
class Restore:
    """What the revert puts back of one user an import updated."""

    row: int
    user_id: UUID
    values: dict[str, Any] = field(default_factory=dict)
    add: list[Role] = field(default_factory=list)
    remove: list[Role] = field(default_factory=list)

    @property
    def fields(self) -> list[str]:
        return sorted(f for f in self.values if f not in _SKELETONS.values())


@dataclass
class Decisions:
    """A page of before-images decided: users to delete (row, id), users to restore, row
    errors (row, user, code, message) and the rows with nothing left to do."""

    deletes: list[tuple[int, UUID]] = field(default_factory=list)
    restores: list[Restore] = field(default_factory=list)
    errors: list[tuple[int, UUID | None, str, str]] = field(default_factory=list)
    skipped: list[tuple[int, UUID | None]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Rows with an error and nothing done."""
        done = {r for r, _ in self.deletes} | {r.row for r in self.restores}
        return len({row for row, *_ in self.errors} - done)


def decide(
    images: Sequence[Stored],
    current: Mapping[UUID, Stored],
    roles: Mapping[UUID, set[Role]],
    later: Iterable[Stored],
) -> Decisions:
    """`images`: (row, action, user_id, before) in row order; `current`: those users as they
    are now (deleted ones missing); `roles`: their roles now; `later`: the events of these
    users since the import (CHANGES only), oldest first."""
    since: dict[UUID, list[Stored]] = {}
    for event in later:
        since.setdefault(event["target_id"], []).append(event)
    decided = Decisions()
    for image in images:
        row, user_id = image["row"], image["user_id"]
        if image["action"] == "DELETE":
            decided.errors.append((row, None, IMPORT_DELETED, _DELETED))
        elif user_id not in current:
            decided.skipped.append((row, user_id))  # deleted since, or by a revert before
        elif image["action"] == "CREATE":
            _created(decided, row, user_id, since.get(user_id, []))
        else:
            _updated(decided, image, current[user_id], roles.get(user_id, set()), since)
    return decided


_DELETED = "The import deleted this user: a deleted user cannot come back."


def _created(decided: Decisions, row: int, user_id: UUID, since: list[Stored]) -> None:
    if since:
        decided.errors.append(
            (row, user_id, CHANGED_LATER, f"Created by the import, then {_named(since[-1])}: kept.")
        )
    else:
        decided.deletes.append((row, user_id))


def _updated(
    decided: Decisions,
    image: Stored,
    user: Stored,
    roles_now: set[Role],
    since: Mapping[UUID, list[Stored]],
) -> None:
    row, user_id, before = image["row"], image["user_id"], image["before"]
    later = since.get(user_id, [])
    touched = _touched(later)
    restore = Restore(row, user_id)
    kept = []
    for name, value in before["fields"].items():
        if name in _SKELETONS.values():
            continue
        if name in touched:
            kept.append(name)
        elif user[name] != value:
            restore.values[name] = value
            if name in _SKELETONS:
                restore.values[_SKELETONS[name]] = before["fields"][_SKELETONS[name]]
    added = [(UUID(p), r) for p, r in before["added"]]
    removed = [(UUID(p), r) for p, r in before["removed"]]
    if (added or removed) and "roles" in touched:
        kept.append("roles")
    elif added or removed:
        restore.remove = [r for r in added if r in roles_now]
        restore.add = [r for r in removed if r not in roles_now]
    if kept:
        event = next(e for e in reversed(later) if _touched([e]) & set(kept))
        names = ", ".join(camel(k) for k in sorted(kept))
        message = f"{names}: {_named(event)}, after the import; the later change is kept."
        decided.errors.append((row, user_id, CHANGED_LATER, message))
    if restore.values or restore.add or restore.remove:
        decided.restores.append(restore)
    elif not kept:
        decided.skipped.append((row, user_id))


def _touched(events: Iterable[Stored]) -> set[str]:
    """The fields (by column name, and "roles") these events changed."""
    names: set[str] = set()
    for e in events:
        action = e["action"]
        if action == vocabulary.USER_UPDATED:
            names.update(_snake(n) for n in e["data"].get("changed", []))
        elif action in (vocabulary.USER_ENABLED, vocabulary.USER_DISABLED):
            names.add("status")
        elif action == vocabulary.USER_ROLES_CHANGED:
            names.add("roles")
    return names


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _named(event: Stored) -> str:
    """A later change as a row error names it: what, by whom, when."""
    by = event["data"].get("job") or event["actor"]
    return f"{event['action']} by {by} at {event['created_at'].isoformat(timespec='seconds')}"


def identifier_keys(restores: Iterable[Restore]) -> list[Key]:
    """The identifiers these restores would put back, and their skeletons."""
    return [key for r in restores for name in IDENTIFIERS for key in _keys(r, name)]


def withhold_taken(decided: Decisions, holders: Mapping[Key, Iterable[UUID]]) -> None:
    """Leaves as they are the identifiers a restore would put back that another user holds
    now (`holders`, by identifier_keys), or that an earlier row of the page puts back for
    another user, and reports each as IDENTIFIER_TAKEN: the rest of the user is restored, as
    with a field changed later. A user the page deletes holds nothing (deleted first)."""
    leaving = {user_id for _, user_id in decided.deletes}
    claimed: dict[Key, tuple[int, UUID]] = {}
    restores = []
    for restore in decided.restores:
        for name in IDENTIFIERS:
            taken = _taken(restore, name, holders, leaving, claimed)
            if taken is None:
                continue
            decided.errors.append((restore.row, restore.user_id, IDENTIFIER_TAKEN, taken))
            restore.values.pop(name)
            restore.values.pop(_SKELETONS.get(name, ""), None)
        claimed.update(
            (_claim(k), (restore.row, restore.user_id)) for k in identifier_keys([restore])
        )
        if restore.values or restore.add or restore.remove:
            restores.append(restore)
    decided.restores = restores


def _keys(restore: Restore, name: str) -> list[Key]:
    values = restore.values
    keys = [(name, values[name])] if values.get(name) is not None else []
    skeleton = _SKELETONS.get(name)
    if keys and skeleton is not None and values.get(skeleton) is not None:
        keys.append((skeleton, values[skeleton]))
    return keys


def _claim(key: Key) -> Key:
    """An identifier as its unique index compares it (skeletons are in lower case already)."""
    kind, value = key
    return (kind, value.lower()) if kind in IDENTIFIERS else key


def _taken(
    restore: Restore,
    name: str,
    holders: Mapping[Key, Iterable[UUID]],
    leaving: set[UUID],
    claimed: Mapping[Key, tuple[int, UUID]],
) -> str | None:
    """Why the restore cannot put `name` back (a row error's message), or None."""
    what = camel(name)
    for kind, value in _keys(restore, name):
        looks = "one that looks the same" if kind != name else "it"
        others = sorted(set(holders.get((kind, value), ())) - leaving - {restore.user_id})
        if others:
            # Its global id, which tells only a caller allowed to read that user who it is.
            holder = encode_id(vocabulary.USER, others[0])
            return f"{what}: another user ({holder}) has {looks} now; the import's value is kept."
        if _claim((kind, value)) in claimed:
            row, user_id = claimed[_claim((kind, value))]
            holder = encode_id(vocabulary.USER, user_id)
            return (
                f"{what}: row {row} gives {looks} back to another user ({holder}); the import's "
                "value is kept."
            )
    return None
