"""Which columns an export writes (DESIGN.md section 5): the import's format, so that a file
Roster exports imports back unchanged; never a password."""

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rules.csvcolumns import FIELDS, FORMULA_START
from rules.echoes import quoted

NEVER_EXPORTED = frozenset(("password", "password_hash"))
# Import instructions rather than data: exported as empty cells, which an import reads as "do
# what the job's options say" and "send no e-mail".
INSTRUCTIONS = frozenset(("operation", "welcome_email"))
EXPORT_FIELDS = tuple(f for f in FIELDS if f not in NEVER_EXPORTED)
ATTRIBUTE_PREFIX = "attr:"
MAX_ATTRIBUTE_KEY = 100
# What PostgreSQL can hold of FORMULA_START (its text has no NUL, so no cell starts with one).
NEUTRALISED_STARTS = "".join(sorted(FORMULA_START - {"\x00"}))


class ColumnProblem(NamedTuple):
    position: int
    code: str
    message: str


def default_columns(attribute_keys: Iterable[str]) -> list[str]:
    """Every field but the passwords, then one attr:<key> column per attribute key."""
    return [*EXPORT_FIELDS, *(ATTRIBUTE_PREFIX + key for key in sorted(attribute_keys))]


def attribute_key(column: str) -> str | None:
    """The attribute an `attr:<key>` column holds; None for a field's column."""
    if column[: len(ATTRIBUTE_PREFIX)].casefold() == ATTRIBUTE_PREFIX:
        return column[len(ATTRIBUTE_PREFIX) :]
    return None


def column_problems(columns: Sequence[str]) -> list[ColumnProblem]:
    """What is wrong with a requested list of columns: none given, a password, an unknown
    name, a column twice."""
    if not columns:
        return [ColumnProblem(0, "NO_COLUMNS", "Name at least one column, or leave it out.")]
    problems = []
    seen: set[str] = set()
    for index, column in enumerate(columns):
        key = attribute_key(column)
        if column in NEVER_EXPORTED:
            problems.append(
                ColumnProblem(index, "NOT_EXPORTABLE", f"{quoted(column)} is never exported.")
            )
        elif key is not None and not 0 < len(key.strip()) <= MAX_ATTRIBUTE_KEY:
            problems.append(
                ColumnProblem(
                    index,
                    "INVALID_COLUMN",
                    f"{quoted(column)}: attr: takes an attribute name of 1 to "
                    f"{MAX_ATTRIBUTE_KEY} characters.",
                )
            )
        elif key is None and column not in EXPORT_FIELDS:
            problems.append(
                ColumnProblem(
                    index,
                    "UNKNOWN_COLUMN",
                    f"Unknown column {quoted(column)}. Columns: {', '.join(EXPORT_FIELDS)}, and "
                    f"attr:<name> for an attribute.",
                )
            )
        elif column in seen:
            problems.append(
                ColumnProblem(index, "DUPLICATE_COLUMN", f"{quoted(column)} is named twice.")
            )
        seen.add(column)
    return problems
