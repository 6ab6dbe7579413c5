"""The CSV column contract (DESIGN.md section 5), shared by the API, the import and the export:
the column names and their aliases, how a header maps to fields, platforms and attributes, the
words a cell may hold, and the neutralising of cells against formula injection."""

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rules.echoes import quoted
from rules.userfields import EMAIL_RE, MAX_ATTRIBUTES, TEXT_FIELDS

# The delimiters Roster reads (and an import may name): comma, semicolon, tab.
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
# The column an error report adds; an import ignores it, so a corrected report imports again.
ERROR_COLUMN = "error"
# A cell starting with one of these is neutralised (OWASP CSV injection) with a leading "'".
FORMULA_START = frozenset("=+-@\t\r\n\x00")

# Every name is compared in its header_name form.
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
class ColumnMap:
    header: tuple[str, ...]
    fields: dict[int, str]
    platforms: dict[int, str]
    attributes: dict[int, str]


class CsvDialect(csv.excel):
    """How Roster writes CSV (error reports, exports): every field quoted, so that a neutralised
    cell is quoted as OWASP's CSV injection rule asks, with the CRLF line ends of spreadsheets."""

    quoting = csv.QUOTE_ALL


# A file's rows name the same few platforms in their roles cells, a header name each time.
@lru_cache(maxsize=1024)
def header_name(name: str) -> str:
    """The form a CSV header is matched in: case, accents, spaces, '_' and '-' ignored."""
    decomposed = unicodedata.normalize("NFKD", name.replace("\ufeff", "").casefold())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_\-]+", "", folded)


def _table(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {header_name(alias): target for target, aliases in names.items() for alias in aliases}


_FIELD_ALIASES = _table(_FIELD_NAMES) | {header_name(f): f for f in FIELDS}
_ATTRIBUTE_ALIASES = _table(_ATTRIBUTE_NAMES)
_STATUS = {header_name(w): v for w, v in _STATUS_WORDS.items()}
_BOOLEAN = {header_name(w): "true" for w in _TRUE} | {header_name(w): "false" for w in _FALSE}


def names_a_field(name: str) -> bool:
    """Whether a CSV header with this name would be read as a user field or attribute (and so
    could not name a platform's role column)."""
    normal = header_name(name)
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
# Cells


def neutralise_cell(value: str) -> str:
    """For writing: a cell starting with = + - @ TAB CR LF NUL gets a leading ' (OWASP CSV
    injection); `unneutralised` removes it again. Write it with CsvDialect, which quotes it."""
    if value and value[0] in FORMULA_START:
        return "'" + value
    return value


def unneutralised(cell: str) -> str:
    """For reading: `cell` without the prefix `neutralise_cell` adds."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START:
        return cell[1:]
    return cell


def status_word(cell: str) -> str | None:
    """ACTIVE or DISABLED for the words a status cell may hold (yes/no, activo…), else None."""
    text = cell.strip().casefold()
    return _STATUS.get(text) or _STATUS.get(header_name(text))


def boolean_word(cell: str) -> bool | None:
    """True or False for the words a yes/no cell may hold (true/false, 1/0, sí/no…), else None."""
    text = cell.strip().casefold()
    word = _BOOLEAN.get(text) or _BOOLEAN.get(header_name(text))
    return None if word is None else word == "true"


def operation_word(cell: str) -> str | None:
    """C, U or D for the words an operation cell may hold (create, borrar…), else None."""
    text = cell.strip().casefold()
    return _OPERATIONS.get(text) or _OPERATIONS.get(header_name(text))


# ---------------------------------------------------------------------------------------------
# The header


def header_text(cell: str) -> str:
    """A header cell as its column is named: without a byte-order mark, surrounding spaces or
    the neutralising of a file Roster wrote (an error report's header keeps the file's own)."""
    return unneutralised(cell.replace("\ufeff", "").strip())


def platform_names(platforms: Sequence[PlatformInfo]) -> dict[str, str]:
    """Each platform's key by the header_name of its key and of each of its aliases."""
    names: dict[str, str] = {}
    for platform in platforms:
        for name in (platform.key, *platform.aliases):
            names.setdefault(header_name(name), platform.key)
    return names


def map_header(
    header: Sequence[str],
    platforms: Sequence[PlatformInfo],
    *,
    extra_columns_as_attributes: bool = False,
) -> ColumnMap:
    """Headers matched by name, never position, case- and accent-insensitively, ignoring spaces,
    '_' and '-' differences, with English and Spanish aliases and the header of the product Roster
    replaces (DESIGN.md section 5). Raises FileError naming the column for: an unknown column
    (unless extra_columns_as_attributes), no email column, the same field twice, an empty header
    cell. Trailing empty header cells (spreadsheets write them) and a column headed `error` (the
    one error reports add) are ignored."""
    names = platform_names(platforms)
    found: dict[str, dict[int, str]] = {"field": {}, "platform": {}, "attribute": {}}
    seen: dict[tuple[str, str], int] = {}
    filled = [i for i, cell in enumerate(header) if header_text(cell)]
    if not filled:
        raise FileError("The file has no header: its first row is empty.")
    for index, cell in enumerate(header):
        text = header_text(cell)
        where = f"column {column_letter(index)}"
        if not text:
            if index > filled[-1]:
                continue
            raise FileError(
                f"The header of {where} is empty: every column needs a name (or delete the "
                f"empty column)."
            )
        target = _target(text, where, names, platforms, extra_columns_as_attributes)
        if target is None:
            continue
        if target in seen:
            first = seen[target]
            what = {"field": "the field", "attribute": "the attribute", "platform": "roles on"}
            raise FileError(
                f"Columns {quoted(header[first].strip())} (column {column_letter(first)}) and "
                f"{quoted(text)} ({where}) both give {what[target[0]]} {quoted(target[1])}; "
                "keep only one."
            )
        seen[target] = index
        found[target[0]][index] = target[1]
    if "email" not in found["field"].values():
        raise FileError(
            "The file has no e-mail column: 'email' (or 'e-mail', 'correo') is required."
        )
    if len(found["attribute"]) > MAX_ATTRIBUTES:
        raise FileError(
            f"At most {MAX_ATTRIBUTES} attribute columns; the file has {len(found['attribute'])}."
        )
    return ColumnMap(tuple(header), found["field"], found["platform"], found["attribute"])


def _target(
    text: str,
    where: str,
    names: dict[str, str],
    platforms: Sequence[PlatformInfo],
    extra_columns_as_attributes: bool,
) -> tuple[str, str] | None:
    """What a named column gives, as ("field" | "platform" | "attribute", name); None for the
    error column. Raises FileError for a column that gives nothing."""
    name = header_name(text)
    if text[:5].casefold() == "attr:":
        key = text[5:].strip()
        if not key or len(key) > 100:
            raise FileError(
                f"Column {quoted(text)} ({where}) needs an attribute name of 1 to 100 characters "
                f"after 'attr:'."
            )
        return ("attribute", key)
    if name in _FIELD_ALIASES:
        return ("field", _FIELD_ALIASES[name])
    if name in _ATTRIBUTE_ALIASES:
        return ("attribute", _ATTRIBUTE_ALIASES[name])
    if name in names:
        return ("platform", names[name])
    if name == ERROR_COLUMN:
        return None
    if EMAIL_RE.fullmatch(text):
        raise FileError(
            f"The first row must be the header, but {where} holds {quoted(text)}, an e-mail "
            f"address. Add a header row such as: email,first_name,last_name"
        )
    if extra_columns_as_attributes and len(text) <= 100:
        return ("attribute", text)
    known = ", ".join(FIELDS)
    codes = ", ".join(sorted({k for p in platforms for k in (p.key, *p.aliases)}))
    raise FileError(
        f"Unknown column {quoted(text)} ({where}). Known columns: {known}; attr:<name> for "
        f"an attribute; a platform's roles under its name ({codes or 'no platforms'})."
        f" Rename or remove the column, or import extra columns as attributes."
    )
