"""A CSV file's records, strictly parsed and held to a size: what the sniffing pass counts and
the row reading validates.

A record longer than the limit is not read whole (one row of 50 million cells once took a worker
to 6 GB): its first characters' cells stand for it, as an `Oversized` record, the rest of its
line is skipped, and the next record starts on the next line."""

import csv
import io
from collections.abc import Iterator
from typing import TextIO

from rules.csvcolumns import FileError

# The most characters a record may hold, by default (ROSTER_MAX_RECORD_SIZE): 1 MiB of text is
# thousands of times what a user's row needs.
MAX_RECORD = 1 << 20
_SKIP = 1 << 16  # characters read at a time while skipping the rest of a long line


class Oversized(list[str]):
    """A record longer than the limit: the cells its first characters hold (the last one may be
    cut short)."""


class _TooLong(Exception):
    def __init__(self, start: str) -> None:
        self.start = start


class _Lines:
    """A text file's lines for csv.reader, each record held to `limit` characters: past that
    the rest of the line is skipped and _TooLong raised, with the record's first line (cut at
    the limit). Called for every line: kept lean."""

    def __init__(self, file: TextIO, limit: int, check_nul: bool) -> None:
        self.file = file
        self.readline = file.readline
        self.check_nul = check_nul
        self.full = limit + 1
        self.room = self.full  # what the record being read may still take, plus one
        self.first = ""  # its first line
        self.number = 0  # lines read

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.readline(self.room)
        if not line:
            raise StopIteration
        self.number += 1
        if self.check_nul and "\x00" in line:
            raise FileError(
                f"This is not a CSV file: line {self.number} contains NUL characters, which "
                f"text never has."
            )
        if self.room == self.full:
            self.first = line
        self.room -= len(line)
        if self.room <= 0:
            first = self.first
            self.record_ended()
            self._skip_line(line)
            raise _TooLong(first)
        return line

    def record_ended(self) -> None:
        self.room = self.full

    def _skip_line(self, read: str) -> None:
        """Reads past the end of the line whose start was `read`."""
        while read and read[-1] not in "\r\n":
            read = self.readline(_SKIP)
        if read.endswith("\r"):
            # Cut between CR and LF, the LF would read as a line of its own.
            at = self.file.tell()
            if self.file.read(1) != "\n":
                self.file.seek(at)


def records(
    file: TextIO,
    delimiter: str,
    *,
    max_record: int = MAX_RECORD,
    check_nul: bool = False,
    first_row: int = 1,
) -> Iterator[list[str]]:
    """The file's csv records, strictly parsed: a malformed quote is a FileError naming the
    row; one longer than `max_record` characters comes as an `Oversized` record. With
    `check_nul`, a NUL character is a FileError too (text never has one)."""
    if csv.field_size_limit() < max_record:
        csv.field_size_limit(max_record)  # no field is longer than its record
    lines = _Lines(file, max_record, check_nul)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    row = first_row
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except _TooLong as too_long:
            record = Oversized(_cells(too_long.start, delimiter))
        except csv.Error as error:
            raise FileError(
                f"Row {row} (line {lines.number}) is not valid CSV: {error}. A field that "
                f"starts with a double quote must end with one, and quotes inside it are "
                f'doubled ("").'
            ) from None
        lines.record_ended()
        yield record
        row += 1


def _cells(start: str, delimiter: str) -> list[str]:
    """The cells of the start of a record, leniently: it ends anywhere, in a quote too."""
    try:
        return next(csv.reader(io.StringIO(start), delimiter=delimiter), [])
    except csv.Error:
        return start.split(delimiter)
