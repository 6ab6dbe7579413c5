"""Reading a CSV file's records as validated `ImportRow`s (DESIGN.md section 5), streaming.

When the header is mapped, each column gets a reader for its kind — a profile text field, the
status, a yes/no field, the operation, the roles column, a platform's column, the password, the
password hash; the attribute columns one reader together — so a record costs no more than
handing each non-blank cell to its column's reader.
"""

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from jobs.csvrecords import Oversized, records
from jobs.csvsniff import FileShape
from rules.csvcolumns import (
    ColumnMap,
    PlatformInfo,
    boolean_word,
    header_name,
    header_text,
    operation_word,
    platform_names,
    status_word,
    unneutralised,
)
from rules.echoes import quoted
from rules.passwords import check_password
from rules.userfields import check_field

_ARGON2 = re.compile(
    r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+(?:,[a-z]+=[^$,]*)*"
    r"\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}"
)
_BCRYPT = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")
_SEPARATORS = re.compile(r"[|,]")


@dataclass
class RowProblem:
    column: str | None
    code: str
    message: str


@dataclass
class ImportRow:
    number: int
    operation: str | None
    values: dict[str, object]
    roles: list[tuple[str, str]] | None
    username_from_email: bool
    problems: list[RowProblem]
    cells: list[str]
    # The skeletons of its username and e-mail, once asked for (import_plan.row_skeletons).
    skeletons: tuple[str, str] | None = dataclass_field(default=None, repr=False, compare=False)


def read_rows(
    path: str,
    shape: FileShape,
    columns: ColumnMap,
    platforms: Sequence[PlatformInfo],
    *,
    min_password_length: int,
    start_after: int = 0,
) -> Iterator[ImportRow]:
    """Streams the file's records (after the header) as ImportRows, skipping the first
    `start_after` records quickly (resuming after a crash). Each row is validated on its own;
    a record whose cells are all blank is not yielded but keeps its number."""
    reader = RowReader(columns, platforms, min_password_length)
    with open(path, encoding=shape.encoding, newline="") as file:
        parsed = records(file, shape.delimiter, max_record=shape.max_record)
        next(parsed, None)  # the header
        if start_after:
            next(itertools.islice(parsed, start_after, start_after), None)
        for number, cells in enumerate(parsed, start_after + 2):
            if isinstance(cells, Oversized):
                yield reader.oversized(number, cells, shape.max_record)
            elif cells and "".join(cells).strip():
                yield reader.read(number, cells)


def _blank(cell: str) -> bool:
    return not cell or cell.isspace()


# ---------------------------------------------------------------------------------------------
# A reader for each kind of column: `read(row, cell)` takes one non-blank cell of its column
# into the row, as a value, roles or a problem. The readers of several columns together (the
# attributes, the password or its hash) take all the row's cells.

Read = Callable[[ImportRow, str], None]
ReadTogether = Callable[[ImportRow, list[str]], None]


class _Text:
    """A profile text field: trimmed and checked by the field rules."""

    def __init__(self, column: str, field: str) -> None:
        self.column = column
        self.field = field

    def read(self, row: ImportRow, cell: str) -> None:
        cleaned, wrong = check_field(self.field, cell)
        if wrong is not None:
            row.problems.append(RowProblem(self.column, wrong.code, wrong.message))
        elif cleaned is not None:
            row.values[self.field] = cleaned


class _Status:
    def __init__(self, column: str) -> None:
        self.column = column

    def read(self, row: ImportRow, cell: str) -> None:
        status = status_word(cell)
        if status is None:
            row.problems.append(
                RowProblem(
                    self.column,
                    "INVALID_STATUS",
                    f"{quoted(cell.strip())} is not a status: use ACTIVE or DISABLED "
                    f"(or yes/no, true/false, 1/0, sí/no).",
                )
            )
        else:
            row.values["status"] = status


class _Boolean:
    def __init__(self, column: str, field: str) -> None:
        self.column = column
        self.field = field

    def read(self, row: ImportRow, cell: str) -> None:
        flag = boolean_word(cell)
        if flag is None:
            row.problems.append(
                RowProblem(
                    self.column,
                    "INVALID_BOOLEAN",
                    f"{quoted(cell.strip())} is not yes or no: use true/false, yes/no, 1/0 or "
                    "sí/no.",
                )
            )
        else:
            row.values[self.field] = flag


class _Operation:
    def __init__(self, column: str) -> None:
        self.column = column

    def read(self, row: ImportRow, cell: str) -> None:
        row.operation = operation_word(cell)
        if row.operation is None:
            row.problems.append(
                RowProblem(
                    self.column,
                    "INVALID_OPERATION",
                    f"{quoted(cell.strip())} is not an operation: use C (create), U (update), "
                    f"D (delete) or leave it blank.",
                )
            )


class _PlatformRoles:
    """What the roles columns share: the platforms by name and the roles each accepts."""

    def __init__(self, platforms: Sequence[PlatformInfo]) -> None:
        self.names = platform_names(platforms)
        self.accepted = {p.key: {r.strip().casefold(): r for r in p.roles} for p in platforms}

    @staticmethod
    def started(row: ImportRow) -> list[tuple[str, str]]:
        """The row's roles, started: a row with a roles cell gives roles, even none valid."""
        if row.roles is None:
            row.roles = []
        return row.roles

    def add(
        self, row: ImportRow, roles: list[tuple[str, str]], column: str, key: str, role: str
    ) -> None:
        accepted = self.accepted[key]
        canonical = accepted.get(role.strip().casefold())
        if canonical is None:
            choices = ", ".join(accepted.values()) or "none"
            row.problems.append(
                RowProblem(
                    column,
                    "UNKNOWN_ROLE",
                    f"{key} has no role {quoted(role.strip())} (its roles: {choices}).",
                )
            )
        else:
            roles.append((key, canonical))


class _RolesColumn:
    """The `roles` column: platform:role pairs."""

    def __init__(self, column: str, roles: _PlatformRoles) -> None:
        self.column = column
        self.roles = roles

    def read(self, row: ImportRow, cell: str) -> None:
        roles = _PlatformRoles.started(row)
        for piece in _SEPARATORS.split(cell):
            if not (piece := piece.strip()):
                continue
            name, colon, role = piece.partition(":")
            if not colon:
                row.problems.append(
                    RowProblem(
                        self.column,
                        "INVALID_ROLES",
                        f"{quoted(piece)} is not platform:role (e.g. learningcloud:student); "
                        f"separate pairs with |.",
                    )
                )
                continue
            key = self.roles.names.get(header_name(name))
            if key is None:
                row.problems.append(
                    RowProblem(
                        self.column,
                        "UNKNOWN_PLATFORM",
                        f"There is no platform {quoted(name.strip())}.",
                    )
                )
                continue
            self.roles.add(row, roles, self.column, key, role)


class _PlatformColumn:
    """A platform's own column: its roles."""

    def __init__(self, column: str, key: str, roles: _PlatformRoles) -> None:
        self.column = column
        self.key = key
        self.roles = roles

    def read(self, row: ImportRow, cell: str) -> None:
        roles = _PlatformRoles.started(row)
        for role in _SEPARATORS.split(cell):
            if role and not role.isspace():
                self.roles.add(row, roles, self.column, self.key, role)


class _Password:
    """Taken exactly as typed: exports never hold a password to un-neutralise."""

    def __init__(self, column: str, min_length: int) -> None:
        self.column = column
        self.min_length = min_length

    def read(self, row: ImportRow, cell: str) -> None:
        violation = check_password(
            cell,
            min_length=self.min_length,
            username=str(row.values.get("username", "")),
            email=str(row.values.get("email", "")),
        )
        if violation is not None:
            row.problems.append(RowProblem(self.column, violation.code, violation.message))
        else:
            row.values["password"] = cell


class _PasswordHash:
    def __init__(self, column: str) -> None:
        self.column = column

    def read(self, row: ImportRow, cell: str) -> None:
        digest = cell.strip()
        if _ARGON2.fullmatch(digest) or _BCRYPT.fullmatch(digest):
            row.values["password_hash"] = digest
        else:
            row.problems.append(
                RowProblem(
                    self.column,
                    "INVALID_PASSWORD_HASH",
                    "Not an argon2 hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$hash)"
                    " or a bcrypt hash ($2b$12$…).",
                )
            )


class _Attributes:
    """The attribute columns, read together after the others: their rules are on the set."""

    def __init__(self, columns: list[tuple[int, str, str]]) -> None:
        self.columns = columns  # (index, column, key)

    def read(self, row: ImportRow, padded: list[str]) -> None:
        found: dict[str, str] = {}
        for index, _, key in self.columns:
            cell = padded[index]
            if cell and not cell.isspace():
                found[key] = unneutralised(cell) if cell[0] == "'" else cell
        if not found:
            return
        cleaned, wrong = check_field("attributes", found)
        if wrong is None:
            row.values["attributes"] = cleaned  # NFC
            return
        for _, column, key in self.columns:  # name the column(s) at fault
            if key in found:
                _, wrong_cell = check_field("attributes", {key: found[key]})
                if wrong_cell is not None:
                    row.problems.append(RowProblem(column, wrong_cell.code, wrong_cell.message))


class _PasswordOrHash:
    """The password and password hash columns: one or the other."""

    def __init__(self, password: tuple[int, str], password_hash: tuple[int, str]) -> None:
        self.password_at, self.password_column = password
        self.hash_at, self.hash_column = password_hash

    def read(self, row: ImportRow, padded: list[str]) -> None:
        if not _blank(padded[self.password_at]) and not _blank(padded[self.hash_at]):
            row.problems.append(
                RowProblem(
                    self.hash_column,
                    "PASSWORD_AND_HASH",
                    f"Give either a password ({self.password_column}) or a password hash, not "
                    f"both.",
                )
            )


# ---------------------------------------------------------------------------------------------
# A record


class RowReader:
    """Validates one record at a time; everything about the columns is worked out once."""

    def __init__(
        self, columns: ColumnMap, platforms: Sequence[PlatformInfo], min_password_length: int
    ) -> None:
        header = [header_text(cell) for cell in columns.header]
        self.width = len(header)
        at = {field: (index, header[index]) for index, field in columns.fields.items()}
        self.email_at = at["email"][0]
        self.email = _Text(at["email"][1], "email")
        self.username = (
            (at["username"][0], _Text(at["username"][1], "username")) if "username" in at else None
        )
        roles = _PlatformRoles(platforms)
        # (index, read, whether the cell is read as typed), in column order.
        plan: list[tuple[int, Read, bool]] = []
        for index, field in columns.fields.items():
            column = header[index]
            if field == "password":
                plan.append((index, _Password(column, min_password_length).read, True))
            elif field not in ("email", "username"):
                plan.append((index, _reader(column, field, roles), False))
        for index, key in columns.platforms.items():
            plan.append((index, _PlatformColumn(header[index], key, roles).read, False))
        self.plan = sorted(plan, key=lambda step: step[0])
        # Readers of several columns together, after the others.
        self.together: list[ReadTogether] = []
        if "password" in at and "password_hash" in at:
            self.together.append(_PasswordOrHash(at["password"], at["password_hash"]).read)
        if columns.attributes:
            attributes = sorted((i, header[i], key) for i, key in columns.attributes.items())
            self.together.append(_Attributes(attributes).read)

    def read(self, number: int, cells: list[str]) -> ImportRow:
        row = ImportRow(number, None, {}, None, True, [], cells)
        padded = self._padded(row, cells)
        self._identity(row, padded)
        for index, read, as_typed in self.plan:
            cell = padded[index]
            if not cell or cell.isspace():
                continue
            if cell[0] == "'" and not as_typed:  # only then: this runs for every cell
                cell = unneutralised(cell)
            read(row, cell)
        for read_together in self.together:
            read_together(row, padded)
        if row.roles is not None:
            row.roles = list(dict.fromkeys(row.roles))
        return row

    def oversized(self, number: int, start: list[str], limit: int) -> ImportRow:
        """A record longer than `limit` characters, of which `start` holds the first cells: a
        row error, with the cells the header names for the error report."""
        problem = RowProblem(
            None,
            "ROW_TOO_LONG",
            f"The row is longer than {limit:,} characters, the most a row may hold: it is not "
            f"read, and the error report keeps only the cells of the columns the header names.",
        )
        cells = start[: self.width]
        return ImportRow(number, None, {}, None, True, [problem], cells)

    def _padded(self, row: ImportRow, cells: list[str]) -> list[str]:
        """The cells, as many as the header names at least; more is a problem unless blank.
        The row keeps (for the error report) those the header names, no more: the header
        decides how wide a row is."""
        count, width = len(cells), self.width
        if count < width:
            return cells + [""] * (width - count)
        if count > width:
            row.cells = cells[:width]
            if any(not c.isspace() for c in cells[width:] if c):
                row.problems.append(
                    RowProblem(
                        None,
                        "TOO_MANY_COLUMNS",
                        f"The row has {count} cells but the header names only {width} "
                        f"columns; the error report keeps the first {width}.",
                    )
                )
        return cells

    def _identity(self, row: ImportRow, padded: list[str]) -> None:
        """E-mail (required) and username (the e-mail when blank), read before the columns
        whose rules depend on them."""
        email = padded[self.email_at]
        if not email or email.isspace():
            row.problems.append(
                RowProblem(self.email.column, "REQUIRED", "The e-mail address is required.")
            )
        else:
            self.email.read(row, unneutralised(email) if email[0] == "'" else email)
        if self.username is not None:
            username_at, reader = self.username
            username = padded[username_at]
            if username and not username.isspace():
                row.username_from_email = False
                reader.read(row, unneutralised(username))
                return
        if "email" in row.values:
            # A username made from the e-mail follows the username rules (PRECIS: lower case).
            _Text(self.email.column, "username").read(row, str(row.values["email"]))


def _reader(column: str, field: str, roles: _PlatformRoles) -> Read:
    """The reader of a field's column (password, e-mail and username aside)."""
    if field == "status":
        return _Status(column).read
    if field == "welcome_email":
        return _Boolean(column, field).read
    if field == "operation":
        return _Operation(column).read
    if field == "roles":
        return _RolesColumn(column, roles).read
    if field == "password_hash":
        return _PasswordHash(column).read
    return _Text(column, field).read
