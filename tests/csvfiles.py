"""What the CSV tests share: platforms, and a file written and read the way the import does."""

from pathlib import Path

from jobs.csvrows import ImportRow, read_rows
from jobs.csvsniff import FileShape, inspect_file, read_header
from rules.csvcolumns import ColumnMap, PlatformInfo, map_header

PLATFORMS = [
    PlatformInfo("learningcloud", ("lcloud",), ("student", "teacher", "Admin")),
    PlatformInfo("lcentral", (), ("manager", "viewer")),
    PlatformInfo("socialcloud", ("lsocial",), ("member", "moderator")),
]
LEGACY_HEADER = (
    "Operation,Username,Name,e-mail,Surname,Active,Password,Language,Time Zone,Office Phone,"
    "Mobile Phone,Interests,About me,Location,lcloud,lcentral,lsocial"
)


def write(tmp_path: Path, content: str | bytes, encoding: str = "utf-8") -> str:
    path = tmp_path / "users.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return str(path)


def load(
    path: str, *, extra: bool = False, start_after: int = 0, min_length: int = 15
) -> tuple[FileShape, ColumnMap, list[ImportRow]]:
    shape = inspect_file(path)
    columns = map_header(read_header(path, shape), PLATFORMS, extra_columns_as_attributes=extra)
    rows = list(
        read_rows(
            path,
            shape,
            columns,
            PLATFORMS,
            min_password_length=min_length,
            start_after=start_after,
        )
    )
    return shape, columns, rows


def one_row(tmp_path: Path, content: str) -> ImportRow:
    _, _, rows = load(write(tmp_path, content))
    assert len(rows) == 1
    return rows[0]


def codes(row: ImportRow) -> list[tuple[str | None, str]]:
    return [(p.column, p.code) for p in row.problems]
