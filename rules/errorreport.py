"""The error report of an import (DESIGN.md section 5): the rows that failed, as uploaded, each
with its problems, to fix in a spreadsheet and import again."""

from collections.abc import Iterable, Sequence

from rules.csvcolumns import ERROR_COLUMN, header_name, header_text, neutralise_cell

# One problem of a row: (column, code, message); the column is None for the row as a whole.
Problem = tuple[str | None, str, str]


class ErrorReport:
    """The report's records for one file: `header`, then `row(...)` for each failed row.

    Every cell a row is given is kept (the import gives those the header names: cells beyond
    it are a row error, left out), and an `error` column holds the row's problems, one a line,
    each starting with its code. A file that has an error column already (a corrected report,
    imported again) keeps it, with the new problems; else it goes after the last named column,
    where an import of the report ignores it. Every cell is neutralised against formula
    injection: write the records quoted (CsvDialect)."""

    def __init__(self, header: Sequence[str]) -> None:
        self.width = len(header)
        names = [header_name(header_text(cell)) for cell in header]
        self.reused = ERROR_COLUMN in names
        if self.reused:
            self.error_at = names.index(ERROR_COLUMN)
        else:
            # Before trailing empty header cells, which must stay trailing to be ignored.
            self.error_at = max((i + 1 for i, name in enumerate(names) if name), default=0)
        columns = list(header)
        if not self.reused:
            columns.insert(self.error_at, ERROR_COLUMN)
        self.header = [neutralise_cell(cell) for cell in columns]

    def row(self, cells: Sequence[str], problems: Iterable[Problem]) -> list[str]:
        """The record of a failed row: its cells as uploaded, its problems in the error
        column."""
        record = [*cells, *[""] * (self.width - len(cells))]
        text = "\n".join(
            f"[{code}] {column}: {message}" if column else f"[{code}] {message}"
            for column, code, message in problems
        )
        if self.reused:
            record[self.error_at] = text
        else:
            record.insert(self.error_at, text)
        return [neutralise_cell(cell) for cell in record]
