"""What each row of an import does: pure decisions over a chunk's rows, the import's options and
the stored users the rows name. No database and no waiting here: the chunk writer looks the users
up and writes what is decided, the pipeline orders chunks by the keys decided here."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from jobs.csvrows import ImportRow
from rules.csvcolumns import ColumnMap
from rules.identifiers import skeleton
from rules.userfields import SKELETONS, TEXT_FIELDS, Problem, look_alike

# What a row can change of a user, besides attributes, password and roles.
PROFILE = (*TEXT_FIELDS, "status")

# What makes a user unique, tagged by kind: ("u", username), ("e", e-mail), ("x", external id),
# and what makes one look unique: ("su", skeleton of the username), ("se", of the e-mail).
Key = tuple[str, str]
# A row repeating an earlier one: (the earlier row, the field of the key they share).
Duplicate = tuple[int, str]
KEY_FIELDS = {"e": "email", "u": "username", "x": "external_id"}
# The field whose look a key of each skeleton kind is.
LOOK_ALIKE_KINDS = {"su": "username", "se": "email"}
Role = tuple[UUID, str]  # (platform id, role)


class Stored(Protocol):
    """A row read from the database (an asyncpg Record; a dict does as well), by column."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Options:
    mode: str = "UPSERT"
    match_by: str = "EMAIL"
    roles_mode: str = "MERGE"
    send_welcome_email: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    extra_columns_as_attributes: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Options":
        return cls(**{k: v for k, v in data.items() if k in cls.__slots__})


@dataclass
class Planned:
    """What one valid row does."""

    row: ImportRow
    action: str  # CREATE, UPDATE, DELETE or NOOP
    user: Stored | None = None
    values: dict[str, Any] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    roles_added: list[Role] = field(default_factory=list)
    roles_removed: list[Role] = field(default_factory=list)
    roles: list[Role] | None = None


@dataclass(frozen=True, slots=True)
class ErrorColumns:
    """Where a file's row errors point: the header of each field's column (the e-mail's when
    the file has none for it), and the columns never kept in row errors (nor so in the
    downloadable report)."""

    of_field: dict[str, str | None]
    secret: frozenset[int]

    @classmethod
    def of(cls, columns: ColumnMap) -> "ErrorColumns":
        names = {canonical: columns.header[i] for i, canonical in columns.fields.items()}
        return cls(
            of_field={name: names.get(name, names.get("email")) for name in (*PROFILE, "roles")},
            secret=frozenset(i for i, name in columns.fields.items() if name == "password"),
        )


class RowProblems:
    """Row errors of a chunk: (row, seq, column, code, message, cells), the cells with the
    first problem of each row; and whom each row is about (`about`: the user it matched, if
    any, and its username and e-mail in lower case), so that deleting them deletes the cells."""

    def __init__(self, columns: ErrorColumns) -> None:
        self.errors: list[tuple[int, int, str | None, str, str, list[str] | None]] = []
        self.rows: dict[int, int] = {}
        self.about: dict[int, tuple[UUID | None, list[str]]] = {}
        self.column = columns.of_field
        self.secret_columns = columns.secret

    def add(
        self,
        row: ImportRow,
        column: str | None,
        code: str,
        message: str,
        user: Stored | None = None,
    ) -> None:
        seq = self.rows.get(row.number, 0)
        self.rows[row.number] = seq + 1
        cells = None
        if seq == 0:
            cells = ["" if i in self.secret_columns else c for i, c in enumerate(row.cells)]
            names = {str(row.values[f]).lower() for f in ("username", "email") if f in row.values}
            self.about[row.number] = (user["id"] if user is not None else None, sorted(names))
        self.errors.append((row.number, seq, column, code, message, cells))

    def problem(self, row: ImportRow, field: str, problem: Problem) -> None:
        self.add(row, self.column[field], problem.code, problem.message)

    def taken(self, row: ImportRow, field: str, looks_alike: bool = False) -> None:
        """Another user has the row's `field`, or (`looks_alike`) one that looks the same."""
        if looks_alike:
            self.problem(row, field, look_alike(field))
            return
        self.add(
            row,
            self.column[field],
            f"{field.upper()}_TAKEN",
            f"Another user already has this {field.replace('_', ' ')}.",
        )

    def duplicate(
        self, row: ImportRow, first: int, field: str, look_alike_of: str | None = None
    ) -> None:
        """A row repeating row `first`, on the column of the repeated value (a username made
        from the e-mail: the e-mail's); or, with `look_alike_of`, whose username or e-mail
        looks like that row's."""
        if look_alike_of is not None:
            problem = look_alike(look_alike_of)
            self.add(
                row,
                self.column[look_alike_of],
                problem.code,
                f"Row {first} has a {look_alike_of.replace('email', 'e-mail')} that looks the "
                "same; only the first one is imported.",
            )
            return
        named = {"email": "e-mail", "external_id": "external id"}.get(field, field)
        self.add(
            row,
            self.column[field],
            "DUPLICATE_IN_FILE",
            f"Row {first} has the same {named}; only the first one is imported.",
        )


def valid_rows(
    rows: Sequence[ImportRow],
    duplicates: dict[int, Duplicate],
    problems: RowProblems,
    look_alikes: Mapping[int, str] | None = None,
) -> list[ImportRow]:
    """The rows to plan. The others go to `problems`: with their own problems, or as repeating
    the earlier row `duplicates` gives them (or looking like it: `look_alikes` gives which of
    its fields does)."""
    valid = []
    for row in rows:
        for p in row.problems:
            problems.add(row, p.column, p.code, p.message)
        if row.number in duplicates:
            looks = look_alikes.get(row.number) if look_alikes else None
            problems.duplicate(row, *duplicates[row.number], looks)
        elif not row.problems:
            valid.append(row)
    return valid


@dataclass(frozen=True, slots=True)
class Identifiers:
    """What rows name their users by, as the look-up of stored users takes them: usernames,
    e-mails and external ids in lower case, and the skeletons of usernames and e-mails."""

    usernames: list[str]
    emails: list[str]
    external_ids: list[str]
    username_skeletons: list[str]
    email_skeletons: list[str]

    @classmethod
    def of(cls, rows: Sequence[ImportRow]) -> "Identifiers":
        return cls(
            usernames=[_username(r).lower() for r in rows],
            emails=[str(r.values["email"]).lower() for r in rows],
            external_ids=[
                str(r.values["external_id"]).lower() for r in rows if "external_id" in r.values
            ],
            username_skeletons=[row_skeletons(r)[0] for r in rows],
            email_skeletons=[row_skeletons(r)[1] for r in rows],
        )


@dataclass(frozen=True, slots=True)
class Existing:
    """The stored users that rows name, by lower-case username, e-mail and external id and
    the skeletons of username and e-mail, and the roles each of them holds."""

    by_username: dict[str, Stored]
    by_email: dict[str, Stored]
    by_external: dict[str, Stored]
    by_username_skeleton: dict[str, Stored]
    by_email_skeleton: dict[str, Stored]
    roles: dict[UUID, set[Role]]

    @classmethod
    def of(cls, users: Sequence[Stored], roles: Iterable[Stored]) -> "Existing":
        """From the users found (with their stored skeletons) and their roles (user_id,
        platform_id, role)."""
        current: dict[UUID, set[Role]] = {u["id"]: set() for u in users}
        for r in roles:
            current[r["user_id"]].add((r["platform_id"], r["role"]))
        return cls(
            by_username={u["username"].lower(): u for u in users},
            by_email={u["email"].lower(): u for u in users},
            by_external={u["external_id"].lower(): u for u in users if u["external_id"]},
            # A user stored before skeletons were has none until `roster migrate` gives it one.
            by_username_skeleton={
                u["username_skeleton"]: u for u in users if u["username_skeleton"]
            },
            by_email_skeleton={u["email_skeleton"]: u for u in users if u["email_skeleton"]},
            roles=current,
        )


def plan_rows(
    rows: Sequence[ImportRow],
    existing: Existing,
    options: Options,
    platform_ids: dict[str, UUID],
    problems: RowProblems,
) -> list[Planned]:
    """What each of these valid rows does (CREATE, UPDATE, DELETE or NOOP), in their order; a
    row that can do none of these gets its problem instead."""
    return _Planner(existing, options, platform_ids, problems).plan(rows)


class _Planner:
    def __init__(
        self,
        existing: Existing,
        options: Options,
        platform_ids: dict[str, UUID],
        problems: RowProblems,
    ) -> None:
        self.existing = existing
        self.options = options
        self.platform_ids = platform_ids
        self.problems = problems

    def plan(self, rows: Sequence[ImportRow]) -> list[Planned]:
        existing, problems = self.existing, self.problems
        match_by = self.options.match_by
        mode_operation = {"CREATE": "C", "UPDATE": "U"}.get(self.options.mode)
        plans = []
        for row in rows:
            name = _username(row)
            username, email = name.lower(), str(row.values["email"]).lower()
            external_id = row.values.get("external_id")
            if match_by == "EMAIL":
                user = existing.by_email.get(email)
            elif match_by == "USERNAME":
                user = existing.by_username.get(username)
            elif external_id is None:
                problems.add(
                    row,
                    problems.column["external_id"],
                    "REQUIRED",
                    "Rows are matched by external id, and this one has none.",
                )
                continue
            else:
                user = existing.by_external.get(str(external_id).lower())
            operation = row.operation or mode_operation
            if operation is None:
                operation = "U" if user is not None else "C"
            if operation == "D":
                plan = self._delete(row, user)
            elif operation == "C":
                plan = self._create(row, user, name, username, email, external_id)
            else:
                plan = self._update(row, user, email, external_id)
            if plan is not None:
                plans.append(plan)
        return plans

    def _delete(self, row: ImportRow, user: Stored | None) -> Planned | None:
        if user is None:
            self.problems.add(row, None, "NOT_FOUND", "No user matches this row to delete.")
            return None
        if user["status"] == "ACTIVE":
            self.problems.add(
                row,
                self.problems.column["status"],
                "USER_ACTIVE",
                f"{user['username']} is active: disable the user before deleting.",
                user,
            )
            return None
        return Planned(row=row, action="DELETE", user=user)

    def _create(
        self,
        row: ImportRow,
        user: Stored | None,
        name: str,
        username: str,
        email: str,
        external_id: Any,
    ) -> Planned | None:
        if user is not None:
            self.problems.add(
                row,
                None,
                "USER_EXISTS",
                f"{user['username']} exists already; use operation U or mode UPSERT.",
                user,
            )
            return None
        username_skeleton, email_skeleton = row_skeletons(row)
        taken = _taken(
            self.existing, None, (username, username_skeleton), (email, email_skeleton), external_id
        )
        if taken:
            self.problems.taken(row, *taken)
            return None
        values = {
            "first_name": "",
            "last_name": "",
            "status": "ACTIVE",
            **{k: v for k, v in row.values.items() if k != "welcome_email"},
            "username": name,
        }
        values.update(_stored_skeletons(row, values))
        return Planned(row=row, action="CREATE", values=values, roles=self._role_ids(row) or [])

    def _update(
        self, row: ImportRow, user: Stored | None, email: str, external_id: Any
    ) -> Planned | None:
        if user is None:
            self.problems.add(row, None, "NOT_FOUND", "No user matches this row to update.")
            return None
        given: dict[str, Any] = dict(row.values)
        if row.username_from_email:
            given.pop("username", None)  # no username column: keep the stored one
        username_skeleton, email_skeleton = row_skeletons(row)
        username = (
            (str(given["username"]).lower(), username_skeleton) if "username" in given else None
        )
        taken = _taken(self.existing, user["id"], username, (email, email_skeleton), external_id)
        if taken:
            self.problems.taken(row, *taken)
            return None
        changed = [f for f in PROFILE if f in given and given[f] != user[f]]
        values = {f: given[f] for f in changed}
        values.update(_stored_skeletons(row, values))
        attributes = given.get("attributes")
        if attributes and {**user["attributes"], **attributes} != user["attributes"]:
            changed.append("attributes")
            values["attributes"] = attributes
        if "password" in given or "password_hash" in given:
            changed.append("password")
            values.update({k: given[k] for k in ("password", "password_hash") if k in given})
        roles = self._role_ids(row)
        added: list[Role] = []
        removed: list[Role] = []
        if roles is not None:
            current = self.existing.roles[user["id"]]
            added = [r for r in roles if r not in current]
            if self.options.roles_mode == "REPLACE":
                removed = sorted(current - set(roles), key=str)
        action = "UPDATE" if changed or added or removed else "NOOP"
        return Planned(
            row=row,
            action=action,
            user=user,
            values=values,
            changed=changed,
            roles_added=added,
            roles_removed=removed,
            roles=roles if action == "UPDATE" else None,
        )

    def _role_ids(self, row: ImportRow) -> list[Role] | None:
        if row.roles is None:
            return None
        return [(self.platform_ids[key], role) for key, role in row.roles]


def keys(row: ImportRow) -> list[Key]:
    """What makes a row's user unique: e-mail, username and external id (lower case); then
    what makes it look unique: the skeletons of e-mail and username."""
    email, username = str(row.values["email"]), _username(row)
    found = [("e", email.lower()), ("u", username.lower())]
    if row.values.get("external_id"):
        found.append(("x", str(row.values["external_id"]).lower()))
    username_skeleton, email_skeleton = row_skeletons(row)
    found += [("se", email_skeleton), ("su", username_skeleton)]
    return found


def row_skeletons(row: ImportRow) -> tuple[str, str]:
    """The skeletons of a row's username and e-mail. Computed once a row and kept on it: the
    import asks at each step of the row's chunk (claims, look-up, plan), and a cache of texts
    holds fewer than the chunks being read and written ask for."""
    if row.skeletons is None:
        row.skeletons = (skeleton(_username(row)), skeleton(str(row.values["email"])))
    return row.skeletons


def _stored_skeletons(row: ImportRow, fields: Mapping[str, Any]) -> dict[str, str]:
    """The skeleton columns of the username and e-mail among `fields` (the row's own values),
    as `rules.userfields.skeletons` gives them, from the row's (row_skeletons)."""
    username_skeleton, email_skeleton = row_skeletons(row)
    of = {"username": username_skeleton, "email": email_skeleton}
    return {column: of[name] for name, column in SKELETONS.items() if name in fields}


# The keys of a stored user, by kind: the column each is read from, and whether it is compared
# in lower case.
_STORED_KEYS = (
    ("u", "username", True),
    ("e", "email", True),
    ("x", "external_id", True),
    ("su", "username_skeleton", False),
    ("se", "email_skeleton", False),
)


def freed(plans: Iterable[Planned]) -> set[Key]:
    """The usernames, e-mails and external ids and their skeletons (as `keys` gives them) that
    these plans take from their users: changed by an update, or all of a deleted user's."""
    gone = set()
    for plan in plans:
        if plan.user is None or plan.action not in ("UPDATE", "DELETE"):
            continue
        user = plan.user
        for kind, column, lower in _STORED_KEYS:
            name = column.removesuffix("_skeleton")
            if user[column] and (plan.action == "DELETE" or name in plan.changed):
                gone.add((kind, user[column].lower() if lower else user[column]))
    return gone


# How a chunk's claims are kept by the job: the skeleton of each e-mail and username, with the
# exact (lower case) value beside it, and the external id. Exact values equal in lower case have
# equal skeletons (the skeleton folds case), and no two rows kept claim one skeleton, so the
# pair tells both whether a later row repeats an earlier one and whether it only looks like it,
# with half the rows a claim of each key apart would take.
_EXACT_OF_SKELETON = {"se": "e", "su": "u"}
Claim = tuple[str, str, int, str | None]  # (kind, key, row, exact value)


class KeyClaims:
    """The keys a chunk's rows (those without problems of their own) claim, each by the first
    row that has it, and the rows that repeat an earlier row of the chunk. The earlier chunks'
    claims are kept by the job (committed at once, so a chunk read again after a crash meets
    its own rows there, which are no duplicates)."""

    def __init__(self, rows: Iterable[ImportRow]) -> None:
        self.firsts: dict[Key, int] = {}
        self.duplicates: dict[int, Duplicate] = {}
        # The repeating rows that only look like the earlier one: the field that does.
        self.look_alikes: dict[int, str] = {}
        self.kept: list[tuple[int, list[Key]]] = []
        for row in rows:
            if row.problems:
                continue
            row_keys = keys(row)
            if not self._repeats(row.number, row_keys, self.firsts):
                self.firsts.update({k: row.number for k in row_keys})
                self.kept.append((row.number, row_keys))

    def _repeats(self, number: int, row_keys: list[Key], firsts: dict[Key, int]) -> bool:
        # The keys come exact ones first: a row both equal to and looking like an earlier
        # one is a duplicate.
        key = next((k for k in row_keys if k in firsts and firsts[k] != number), None)
        if key is None:
            return False
        kind = key[0]
        if kind in LOOK_ALIKE_KINDS:
            self.look_alikes[number] = LOOK_ALIKE_KINDS[kind]
        self.duplicates[number] = (firsts[key], KEY_FIELDS.get(kind) or LOOK_ALIKE_KINDS[kind])
        return True

    def claimed(self) -> list[Claim]:
        """What the kept rows claim, as the job keeps it (_EXACT_OF_SKELETON)."""
        found: list[Claim] = []
        for number, row_keys in self.kept:
            by_kind = dict(row_keys)
            for kind, key in row_keys:
                if kind in _EXACT_OF_SKELETON:
                    found.append((kind, key, number, by_kind[_EXACT_OF_SKELETON[kind]]))
                elif kind == "x":
                    found.append((kind, key, number, None))
        return found

    def duplicates_given(self, earlier: dict[Key, tuple[int, str | None]]) -> dict[int, Duplicate]:
        """The rows repeating an earlier row, each with that row and the field they share,
        given the claims of earlier chunks' rows that this chunk's keys meet (by kind and key:
        the row and the exact value, as `claimed` gives them)."""
        if earlier:
            firsts: dict[Key, int] = {}
            for (kind, key), (number, exact) in earlier.items():
                firsts[(kind, key)] = number
                if kind in _EXACT_OF_SKELETON and exact is not None:
                    firsts[(_EXACT_OF_SKELETON[kind], exact)] = number
            for number, row_keys in self.kept:
                self._repeats(number, row_keys, firsts)
        return self.duplicates


def _username(row: ImportRow) -> str:
    return str(row.values.get("username") or row.values["email"])


def _taken(
    existing: Existing,
    user_id: UUID | None,
    username: tuple[str, str] | None,
    email: tuple[str, str],
    external_id: Any,
) -> tuple[str, bool] | None:
    """Which identifier of a row another user (not `user_id`) has already, and whether only
    one that looks the same. `username` (unless kept as stored) and `email` come in lower
    case, each with its skeleton."""
    for name, index, key, looks in (
        ("username", existing.by_username, username and username[0], False),
        ("email", existing.by_email, email[0], False),
        ("external_id", existing.by_external, external_id and str(external_id).lower(), False),
        ("username", existing.by_username_skeleton, username and username[1], True),
        ("email", existing.by_email_skeleton, email[1], True),
    ):
        other = index.get(key) if key is not None else None
        if other is not None and other["id"] != user_id:
            return name, looks
    return None
