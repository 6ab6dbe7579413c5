"""The CSV layer of the user import (DESIGN.md section 5): pure, synchronous and streaming.

`inspect_file` detects the encoding and delimiter and counts the records, `map_header` maps the
header's columns to fields, platforms and attributes, and `read_rows` streams the records as
validated `ImportRow`s. Nothing here reads a whole file into memory.
"""

import codecs
import csv
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from rules.passwords import check_password
from rules.userfields import EMAIL_RE, MAX_ATTRIBUTES, TEXT_FIELDS, check_field

ENCODINGS = ("utf-8-sig", "utf-8", "cp1252", "latin-1")
DELIMITERS = (",", ";", "\t")
FIELDS = (
    "operation",
    *TEXT_FIELDS,
    "status",
    "roles",
    "password",
    "password_hash",
    "welcome_email",
)
ERROR_COLUMN = "error"

_CHUNK = 1 << 18  # bytes read at a time by the detection pass
_HEADER_LIMIT = 1 << 20  # characters scanned for the header line when detecting the delimiter
# A cell an export neutralised (OWASP CSV injection) starts with one of these after a "'".
_FORMULA_START = frozenset("=+-@\t\r\n\x00")
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f]")
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
)
_ARGON2 = re.compile(
    r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+(?:,[a-z]+=[^$,]*)*"
    r"\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}"
)
_BCRYPT = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")
_SEPARATORS = re.compile(r"[|,]")

# Every name is compared after _norm: case and accents folded, spaces, "_" and "-" removed.
_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "operation": ("operation", "operación", "op", "action", "acción"),
    "username": (
        "username",
        "user",
        "usuario",
        "nombre de usuario",
        "login",
    ),
    "email": (
        "email",
        "mail",
        "email address",
        "correo",
        "correo electrónico",
        "dirección de correo",
    ),
    "first_name": ("first name", "name", "given name", "nombre", "nombres"),
    "last_name": ("last name", "surname", "family name", "apellidos", "apellido"),
    "language": ("language", "lang", "locale", "idioma", "lengua"),
    "time_zone": ("time zone", "timezone", "tz", "zona horaria", "huso horario"),
    "office_phone": (
        "office phone",
        "phone",
        "work phone",
        "teléfono",
        "teléfono oficina",
        "teléfono de oficina",
        "teléfono fijo",
    ),
    "mobile_phone": (
        "mobile phone",
        "mobile",
        "cell phone",
        "móvil",
        "teléfono móvil",
        "celular",
    ),
    "location": ("location", "ubicación", "localización", "ciudad"),
    "external_id": ("external id", "id externo", "identificador externo"),
    "status": ("status", "active", "enabled", "estado", "activo"),
    "roles": ("roles", "role", "rol"),
    "password": ("password", "contraseña", "clave"),
    "password_hash": (
        "password hash",
        "hashed password",
        "hash",
        "hash de contraseña",
        "contraseña hash",
    ),
    "welcome_email": (
        "welcome email",
        "welcome",
        "send welcome email",
        "bienvenida",
        "correo de bienvenida",
        "email de bienvenida",
        "enviar bienvenida",
    ),
}
# Columns of the product Roster replaces that go to attributes.
_ATTRIBUTE_NAMES: dict[str, tuple[str, ...]] = {
    "interests": ("interests", "intereses"),
    "about_me": ("about me", "sobre mí", "acerca de mí"),
}
_TRUE = ("true", "yes", "y", "1", "sí", "si", "verdadero", "t")
_FALSE = ("false", "no", "n", "0", "falso", "f")
_STATUS_WORDS = {
    **dict.fromkeys((*_TRUE, "active", "activo", "activa", "enabled", "habilitado"), "ACTIVE"),
    **dict.fromkeys(
        (
            *_FALSE,
            "disabled",
            "inactive",
            "inactivo",
            "inactiva",
            "deshabilitado",
            "desactivado",
        ),
        "DISABLED",
    ),
}
_OPERATIONS = {
    **dict.fromkeys(("c", "create", "crear", "alta"), "C"),
    **dict.fromkeys(("u", "update", "actualizar", "modificar"), "U"),
    **dict.fromkeys(("d", "delete", "borrar", "eliminar", "baja"), "D"),
}


class FileError(Exception):
    """A problem with the file as a whole; its str() is a clear message for the administrator
    naming what is wrong (e.g. the unknown column)."""


@dataclass(frozen=True)
class PlatformInfo:
    key: str
    aliases: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True)
class FileShape:
    encoding: str
    delimiter: str
    total: int  # data records after the header, blank ones included


@dataclass(frozen=True)
class ColumnMap:
    header: tuple[str, ...]
    fields: dict[int, str]
    platforms: dict[int, str]
    attributes: dict[int, str]


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


def _norm(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.replace("\ufeff", "").casefold())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_\-]+", "", folded)


def _table(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_norm(alias): target for target, aliases in names.items() for alias in aliases}


_FIELD_ALIASES = _table(_FIELD_NAMES) | {_norm(f): f for f in FIELDS}
_ATTRIBUTE_ALIASES = _table(_ATTRIBUTE_NAMES)
_STATUS = {_norm(w): v for w, v in _STATUS_WORDS.items()}
_BOOLEAN = {_norm(w): "true" for w in _TRUE} | {_norm(w): "false" for w in _FALSE}


def header_name(name: str) -> str:
    """The form a CSV header is matched in: case, accents, spaces, '_' and '-' ignored."""
    return _norm(name)


def names_a_field(name: str) -> bool:
    """Whether a CSV header with this name would be read as a user field or attribute (and so
    could not name a platform's role column)."""
    normal = _norm(name)
    return normal in _FIELD_ALIASES or normal in _ATTRIBUTE_ALIASES or normal == ERROR_COLUMN


def column_letter(index: int) -> str:
    """The spreadsheet name of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# ---------------------------------------------------------------------------------------------
# The file as a whole


def inspect_file(
    path: str, *, encoding: str | None = None, delimiter: str | None = None
) -> FileShape:
    """First fast pass over a local file: detect encoding (BOM → utf-8-sig; valid UTF-8 over the
    WHOLE file → utf-8; else cp1252, or latin-1 when the bytes include ones cp1252 leaves
    undefined), detect the delimiter among , ; TAB from the header line (respecting quotes), and
    count records with the csv module. Raises FileError for what is not a CSV. Given
    encoding/delimiter are used as they are."""
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise FileError(f"{delimiter!r} cannot be a CSV delimiter: use ',', ';' or a tab.")
    if encoding is None:
        encoding = _detect_encoding(path)
        check_nul = False  # the detection pass has checked the bytes
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise FileError(f"Unknown encoding {encoding!r}.") from None
        check_nul = True
    try:
        if delimiter is None:
            with open(path, encoding=encoding, newline="") as file:
                delimiter = _header_delimiter(file)
        with open(path, encoding=encoding, newline="") as file:
            lines: Iterable[str] = _without_nul(file) if check_nul else file
            records = _records(lines, delimiter)
            header = next(records, None)
            if header is None:
                raise FileError("The file is empty.")
            if not any(cell.strip() for cell in header):
                raise FileError(
                    "The file has no header: its first row is empty. The first row must name "
                    "the columns (for example email,first_name,last_name)."
                )
            total = sum(1 for _ in records)
    except UnicodeDecodeError as error:
        raise FileError(
            f"The file is not valid {encoding} (byte {error.object[error.start : error.end]!r} "
            f"cannot be decoded). Save it as 'CSV UTF-8' and upload it again."
        ) from None
    return FileShape(encoding=encoding, delimiter=delimiter, total=total)


def read_header(path: str, shape: FileShape) -> list[str]:
    """The header cells of a file `inspect_file` accepted, for `map_header`."""
    with open(path, encoding=shape.encoding, newline="") as file:
        return next(_records(file, shape.delimiter), [])


def _detect_encoding(path: str) -> str:
    with open(path, "rb") as file:
        head = file.read(_CHUNK)
        if not head or head == codecs.BOM_UTF8:
            raise FileError("The file is empty.")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileError(
                "The file is UTF-16 text (Excel's 'Unicode Text'); save it as 'CSV UTF-8' and "
                "upload it again."
            )
        for signature, what in _SIGNATURES:
            if head.startswith(signature):
                raise FileError(
                    f"This is not a CSV file: it looks like {what}. Save it as 'CSV UTF-8' and "
                    f"upload that."
                )
        sample = head[:65536]
        if len(_CONTROL_BYTES.findall(sample)) > max(8, len(sample) // 100):
            raise FileError("This is not a CSV file: it contains binary data.")
        bom = head.startswith(codecs.BOM_UTF8)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8_error: str | None = None
        undefined = False
        offset = 0
        chunk = head
        while chunk:
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise FileError(
                    f"This is not a CSV file: it contains NUL bytes (the first at byte "
                    f"{offset + nul}), which text never has."
                )
            if utf8_error is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    utf8_error = f"byte {offset + error.start}"
            if not undefined:
                undefined = _CP1252_UNDEFINED.search(chunk) is not None
            offset += len(chunk)
            chunk = file.read(_CHUNK)
        if utf8_error is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_error = "the end of the file"
    if bom:
        if utf8_error is not None:
            raise FileError(
                f"The file starts with a UTF-8 byte-order mark but is not valid UTF-8 (at "
                f"{utf8_error}). Save it as 'CSV UTF-8' and upload it again."
            )
        return "utf-8-sig"
    if utf8_error is None:
        return "utf-8"
    return "latin-1" if undefined else "cp1252"


def _header_delimiter(file: TextIO) -> str:
    """The most frequent of , ; TAB outside quotes in the first record (',' on a tie or none)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    read = 0
    while read < _HEADER_LIMIT:
        chunk = file.read(8192)
        if not chunk:
            break
        read += len(chunk)
        for char in chunk:
            if char == '"':
                quoted = not quoted
            elif quoted:
                continue
            elif char in "\r\n":
                break
            elif char in counts:
                counts[char] += 1
        else:
            continue
        break
    return max(DELIMITERS, key=counts.__getitem__)


def _without_nul(lines: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(lines, 1):
        if "\x00" in line:
            raise FileError(
                f"This is not a CSV file: line {number} contains NUL characters, which text "
                f"never has."
            )
        yield line


def _records(lines: Iterable[str], delimiter: str, first_row: int = 1) -> Iterator[list[str]]:
    """csv records, strictly parsed: a malformed quote is a FileError naming the row."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    row = first_row
    try:
        for record in reader:
            yield record
            row += 1
    except csv.Error as error:
        raise FileError(
            f"Row {row} (line {reader.line_num}) is not valid CSV: {error}. A field that "
            f'starts with a double quote must end with one, and quotes inside it are doubled ("").'
        ) from None


# ---------------------------------------------------------------------------------------------
# The header


def map_header(
    header: list[str], platforms: list[PlatformInfo], *, extra_columns_as_attributes: bool = False
) -> ColumnMap:
    """Headers matched by name, never position, case- and accent-insensitively, ignoring spaces,
    '_' and '-' differences, with English and Spanish aliases and the header of the product Roster
    replaces (DESIGN.md section 5). Raises FileError naming the column for: an unknown column
    (unless extra_columns_as_attributes), no email column, the same field twice, an empty header
    cell. Trailing empty header cells (spreadsheets write them) and a column headed `error` (the
    one error reports add) are ignored."""
    platform_names = _platform_names(platforms)
    fields: dict[int, str] = {}
    platform_columns: dict[int, str] = {}
    attributes: dict[int, str] = {}
    seen: dict[tuple[str, str], int] = {}
    filled = [i for i, cell in enumerate(header) if _header_text(cell)]
    if not filled:
        raise FileError("The file has no header: its first row is empty.")
    for index, cell in enumerate(header):
        text = _header_text(cell)
        where = f"column {column_letter(index)}"
        if not text:
            if index > filled[-1]:
                continue
            raise FileError(
                f"The header of {where} is empty: every column needs a name (or delete the "
                f"empty column)."
            )
        name = _norm(text)
        target: tuple[str, str]
        if text[:5].casefold() == "attr:":
            key = text[5:].strip()
            if not key or len(key) > 100:
                raise FileError(
                    f"Column {text!r} ({where}) needs an attribute name of 1 to 100 characters "
                    f"after 'attr:'."
                )
            target = ("attribute", key)
        elif name in _FIELD_ALIASES:
            target = ("field", _FIELD_ALIASES[name])
        elif name in _ATTRIBUTE_ALIASES:
            target = ("attribute", _ATTRIBUTE_ALIASES[name])
        elif name in platform_names:
            target = ("platform", platform_names[name])
        elif name == ERROR_COLUMN:
            continue
        elif EMAIL_RE.fullmatch(text):
            raise FileError(
                f"The first row must be the header, but {where} holds {text!r}, an e-mail "
                f"address. Add a header row such as: email,first_name,last_name"
            )
        elif extra_columns_as_attributes and len(text) <= 100:
            target = ("attribute", text)
        else:
            known = ", ".join(FIELDS)
            codes = ", ".join(sorted({k for p in platforms for k in (p.key, *p.aliases)}))
            raise FileError(
                f"Unknown column {text!r} ({where}). Known columns: {known}; attr:<name> for "
                f"an attribute; a platform's roles under its name ({codes or 'no platforms'})."
                f" Rename or remove the column, or import extra columns as attributes."
            )
        if target in seen:
            first = seen[target]
            what = {"field": "the field", "attribute": "the attribute", "platform": "roles on"}
            raise FileError(
                f"Columns {header[first].strip()!r} (column {column_letter(first)}) and "
                f"{text!r} ({where}) both give {what[target[0]]} {target[1]!r}; keep only one."
            )
        seen[target] = index
        kind, value = target
        {"field": fields, "platform": platform_columns, "attribute": attributes}[kind][index] = (
            value
        )
    if "email" not in fields.values():
        raise FileError(
            "The file has no e-mail column: 'email' (or 'e-mail', 'correo') is required."
        )
    if len(attributes) > MAX_ATTRIBUTES:
        raise FileError(
            f"At most {MAX_ATTRIBUTES} attribute columns; the file has {len(attributes)}."
        )
    return ColumnMap(tuple(header), fields, platform_columns, attributes)


def _header_text(cell: str) -> str:
    return cell.replace("\ufeff", "").strip()


def _platform_names(platforms: list[PlatformInfo]) -> dict[str, str]:
    names: dict[str, str] = {}
    for platform in platforms:
        for name in (platform.key, *platform.aliases):
            names.setdefault(_norm(name), platform.key)
    return names


# ---------------------------------------------------------------------------------------------
# The rows


def read_rows(
    path: str,
    shape: FileShape,
    columns: ColumnMap,
    platforms: list[PlatformInfo],
    *,
    min_password_length: int,
    start_after: int = 0,
) -> Iterator[ImportRow]:
    """Streams the file's records (after the header) as ImportRows, skipping the first
    `start_after` records quickly (resuming after a crash). Each row is validated on its own;
    a record whose cells are all blank is not yielded but keeps its number."""
    reader = _RowReader(columns, platforms, min_password_length)
    with open(path, encoding=shape.encoding, newline="") as file:
        records = _records(file, shape.delimiter)
        next(records, None)  # the header
        if start_after:
            next(itertools.islice(records, start_after, start_after), None)
        for number, cells in enumerate(records, start_after + 2):
            if cells and "".join(cells).strip():
                yield reader.row(number, cells)


# How each mapped column is read (see _RowReader.row).
_TEXT, _STATUS_KIND, _BOOL, _OPERATION, _ROLES, _PLATFORM, _ATTRIBUTE, _PASSWORD, _HASH = range(9)
_KINDS = {
    "status": _STATUS_KIND,
    "welcome_email": _BOOL,
    "operation": _OPERATION,
    "roles": _ROLES,
    "password": _PASSWORD,
    "password_hash": _HASH,
}


def _word(table: dict[str, str], raw: str) -> str | None:
    text = raw.strip().casefold()
    return table.get(text) or table.get(_norm(text))


class _RowReader:
    """Validates one record at a time; everything about the columns is worked out once."""

    def __init__(
        self, columns: ColumnMap, platforms: list[PlatformInfo], min_password_length: int
    ) -> None:
        self.header = [_header_text(cell) for cell in columns.header]
        self.width = len(self.header)
        by_field = {field: index for index, field in columns.fields.items()}
        self.email = by_field["email"]
        self.username = by_field.get("username")
        plan: list[tuple[int, str, int, str]] = []
        for index, field in columns.fields.items():
            if field not in ("email", "username"):
                plan.append((index, self.header[index], _KINDS.get(field, _TEXT), field))
        for index, key in columns.platforms.items():
            plan.append((index, self.header[index], _PLATFORM, key))
        for index, key in columns.attributes.items():
            plan.append((index, self.header[index], _ATTRIBUTE, key))
        self.plan = sorted(plan)
        self.min_password_length = min_password_length
        self.platform_names = _platform_names(platforms)
        self.platform_roles = {p.key: {r.strip().casefold(): r for r in p.roles} for p in platforms}

    def row(self, number: int, cells: list[str]) -> ImportRow:
        problems: list[RowProblem] = []
        values: dict[str, object] = {}
        count = len(cells)
        width = self.width
        if count < width:
            padded = cells + [""] * (width - count)
        else:
            padded = cells
            if count > width and any(not c.isspace() for c in cells[width:] if c):
                problems.append(
                    RowProblem(
                        None,
                        "TOO_MANY_COLUMNS",
                        f"The row has {count} cells but the header names only {width} columns.",
                    )
                )

        raw = _unprefixed(padded[self.email])
        if raw is None:
            problems.append(
                RowProblem(self.header[self.email], "REQUIRED", "The e-mail address is required.")
            )
        else:
            self._text(values, problems, self.header[self.email], "email", raw)
        username_from_email = True
        if self.username is not None and (raw := _unprefixed(padded[self.username])) is not None:
            username_from_email = False
            self._text(values, problems, self.header[self.username], "username", raw)
        elif "email" in values:
            self._text(values, problems, self.header[self.email], "username", str(values["email"]))

        operation: str | None = None
        roles: list[tuple[str, str]] | None = None
        attributes: dict[str, str] = {}
        password_column: str | None = None
        hash_column: str | None = None
        for index, column, kind, key in self.plan:
            cell = padded[index]
            if not cell or cell.isspace():
                continue
            if kind == _PASSWORD:
                # Taken exactly as typed: exports never hold a password to un-neutralise.
                password_column = column
                violation = check_password(
                    cell,
                    min_length=self.min_password_length,
                    username=str(values.get("username", "")),
                    email=str(values.get("email", "")),
                )
                if violation is not None:
                    problems.append(RowProblem(column, violation.code, violation.message))
                else:
                    values["password"] = cell
                continue
            if cell[0] == "'" and len(cell) > 1 and cell[1] in _FORMULA_START:
                cell = cell[1:]
            if kind == _TEXT:
                self._text(values, problems, column, key, cell)
            elif kind == _ATTRIBUTE:
                attributes[key] = cell
            elif kind == _PLATFORM:
                roles = [] if roles is None else roles
                for role in _SEPARATORS.split(cell):
                    if role and not role.isspace():
                        self._role(roles, problems, column, key, role)
            elif kind == _ROLES:
                roles = [] if roles is None else roles
                self._pairs(roles, problems, column, cell)
            elif kind == _STATUS_KIND:
                status = _word(_STATUS, cell)
                if status is None:
                    problems.append(
                        RowProblem(
                            column,
                            "INVALID_STATUS",
                            f"{cell.strip()!r} is not a status: use ACTIVE or DISABLED "
                            f"(or yes/no, true/false, 1/0, sí/no).",
                        )
                    )
                else:
                    values["status"] = status
            elif kind == _BOOL:
                flag = _word(_BOOLEAN, cell)
                if flag is None:
                    problems.append(
                        RowProblem(
                            column,
                            "INVALID_BOOLEAN",
                            f"{cell.strip()!r} is not yes or no: use true/false, yes/no, 1/0 "
                            f"or sí/no.",
                        )
                    )
                else:
                    values["welcome_email"] = flag == "true"
            elif kind == _OPERATION:
                operation = _word(_OPERATIONS, cell)
                if operation is None:
                    problems.append(
                        RowProblem(
                            column,
                            "INVALID_OPERATION",
                            f"{cell.strip()!r} is not an operation: use C (create), U (update), "
                            f"D (delete) or leave it blank.",
                        )
                    )
            else:  # _HASH
                hash_column = column
                digest = cell.strip()
                if _ARGON2.fullmatch(digest) or _BCRYPT.fullmatch(digest):
                    values["password_hash"] = digest
                else:
                    problems.append(
                        RowProblem(
                            column,
                            "INVALID_PASSWORD_HASH",
                            "Not an argon2 hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$hash)"
                            " or a bcrypt hash ($2b$12$…).",
                        )
                    )

        if password_column is not None and hash_column is not None:
            problems.append(
                RowProblem(
                    hash_column,
                    "PASSWORD_AND_HASH",
                    f"Give either a password ({password_column}) or a password hash, not both.",
                )
            )
        if attributes:
            cleaned, wrong = check_field("attributes", attributes)
            if wrong is None:
                values["attributes"] = cleaned
            else:  # name the column(s) at fault
                for _, column, kind, key in self.plan:
                    if kind == _ATTRIBUTE and key in attributes:
                        _, wrong_cell = check_field("attributes", {key: attributes[key]})
                        if wrong_cell is not None:
                            problems.append(RowProblem(column, wrong_cell.code, wrong_cell.message))
        return ImportRow(
            number=number,
            operation=operation,
            values=values,
            roles=None if roles is None else list(dict.fromkeys(roles)),
            username_from_email=username_from_email,
            problems=problems,
            cells=cells,
        )

    @staticmethod
    def _text(
        values: dict[str, object], problems: list[RowProblem], column: str, field: str, raw: str
    ) -> None:
        cleaned, wrong = check_field(field, raw)
        if wrong is not None:
            problems.append(RowProblem(column, wrong.code, wrong.message))
        elif cleaned is not None:
            values[field] = cleaned

    def _pairs(
        self, roles: list[tuple[str, str]], problems: list[RowProblem], column: str, raw: str
    ) -> None:
        for piece in _SEPARATORS.split(raw):
            if not (piece := piece.strip()):
                continue
            name, colon, role = piece.partition(":")
            if not colon:
                problems.append(
                    RowProblem(
                        column,
                        "INVALID_ROLES",
                        f"{piece!r} is not platform:role (e.g. learningcloud:student); "
                        f"separate pairs with |.",
                    )
                )
                continue
            key = self.platform_names.get(_norm(name))
            if key is None:
                problems.append(
                    RowProblem(
                        column, "UNKNOWN_PLATFORM", f"There is no platform {name.strip()!r}."
                    )
                )
                continue
            self._role(roles, problems, column, key, role)

    def _role(
        self,
        roles: list[tuple[str, str]],
        problems: list[RowProblem],
        column: str,
        key: str,
        role: str,
    ) -> None:
        accepted = self.platform_roles[key]
        canonical = accepted.get(role.strip().casefold())
        if canonical is None:
            choices = ", ".join(accepted.values()) or "none"
            problems.append(
                RowProblem(
                    column,
                    "UNKNOWN_ROLE",
                    f"{key} has no role {role.strip()!r} (its roles: {choices}).",
                )
            )
        else:
            roles.append((key, canonical))


def _unprefixed(cell: str) -> str | None:
    """`cell` without an export's formula-injection prefix, or None when it is blank."""
    if not cell or cell.isspace():
        return None
    if cell[0] == "'" and len(cell) > 1 and cell[1] in _FORMULA_START:
        return cell[1:]
    return cell


# ---------------------------------------------------------------------------------------------
# Error reports and export


def error_report_header(columns: ColumnMap) -> list[str]:
    """The header of the downloadable error report: the original header plus "error" (kept as
    it is when the file is itself a corrected error report)."""
    header = list(columns.header)
    if _error_index(columns) is None:
        header.append(ERROR_COLUMN)
    return [neutralise_cell(cell) for cell in header]


def error_report_row(columns: ColumnMap, row: ImportRow) -> list[str]:
    """One line of the error report, under `error_report_header`: the row's original cells,
    neutralised, with its problems in the error column."""
    message = "; ".join(
        f"{p.column}: {p.message} [{p.code}]" if p.column else f"{p.message} [{p.code}]"
        for p in row.problems
    )
    width = len(columns.header)
    cells = row.cells[:width] + [""] * (width - len(row.cells))
    error_index = _error_index(columns)
    if error_index is None:
        cells.append(message)
    else:
        cells[error_index] = message
    cells.extend(row.cells[width:])
    return [neutralise_cell(cell) for cell in cells]


def _error_index(columns: ColumnMap) -> int | None:
    mapped = columns.fields.keys() | columns.platforms.keys() | columns.attributes.keys()
    for index, cell in enumerate(columns.header):
        if index not in mapped and _norm(cell) == ERROR_COLUMN:
            return index
    return None


def neutralise_cell(value: str) -> str:
    """For export: a cell starting with = + - @ TAB CR LF NUL gets a leading ' (OWASP CSV
    injection); an import removes it again."""
    if value and value[0] in _FORMULA_START:
        return "'" + value
    return value
