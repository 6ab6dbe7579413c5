"""Sniffing a CSV file (DESIGN.md section 5): its encoding, its delimiter and how many records
it holds, in a first streaming pass that rejects with a FileError what is not a CSV."""

import codecs
import re
from dataclasses import dataclass
from typing import TextIO

from jobs.csvrecords import MAX_RECORD, Oversized, records
from rules.csvcolumns import DELIMITERS, FileError
from rules.echoes import quoted

_CHUNK = 1 << 18  # bytes read at a time by the detection pass
_HEADER_LIMIT = 1 << 20  # characters scanned for the header line when detecting the delimiter
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f]")
# A character UTF-8 writes in several bytes (U+FFFD stands for the bytes it does not allow).
_BEYOND_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
)


@dataclass(frozen=True)
class FileShape:
    encoding: str
    delimiter: str
    total: int  # data records after the header, blank ones included
    max_record: int = MAX_RECORD  # characters; a longer record is a row error


def inspect_file(
    path: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_record: int = MAX_RECORD,
) -> FileShape:
    """First fast pass over a local file: detect encoding (BOM → utf-8-sig; valid UTF-8 over the
    WHOLE file → utf-8; UTF-8 characters and bytes UTF-8 does not allow, however many of each →
    a FileError naming the first of both; else cp1252, or latin-1 when the bytes include ones
    cp1252 leaves undefined), detect the delimiter among
    , ; TAB from the header line (respecting quotes), and count records with the csv module.
    Raises FileError for what is not a CSV. Given encoding/delimiter are used as they are."""
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise FileError(f"{quoted(delimiter)} cannot be a CSV delimiter: use ',', ';' or a tab.")
    if encoding is None:
        encoding = _detect_encoding(path)
        check_nul = False  # the detection pass has checked the bytes
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise FileError(f"Unknown encoding {quoted(encoding)}.") from None
        check_nul = True
    try:
        if delimiter is None:
            with open(path, encoding=encoding, newline="") as file:
                delimiter = _header_delimiter(file)
        with open(path, encoding=encoding, newline="") as file:
            parsed = records(file, delimiter, max_record=max_record, check_nul=check_nul)
            header = next(parsed, None)
            if header is None:
                raise FileError("The file is empty.")
            if isinstance(header, Oversized):
                raise FileError(
                    f"The header (the first row) is longer than {max_record:,} characters, "
                    f"the most a row may hold. The first row must name the columns."
                )
            if not any(cell.strip() for cell in header):
                raise FileError(
                    "The file has no header: its first row is empty. The first row must name "
                    "the columns (for example email,first_name,last_name)."
                )
            total = sum(1 for _ in parsed)
    except UnicodeDecodeError as error:
        raise FileError(
            f"The file is not valid {encoding} (byte {error.object[error.start : error.end]!r} "
            f"cannot be decoded). Save it as 'CSV UTF-8' and upload it again."
        ) from None
    return FileShape(encoding=encoding, delimiter=delimiter, total=total, max_record=max_record)


def read_header(path: str, shape: FileShape) -> list[str]:
    """The header cells of a file `inspect_file` accepted, for `map_header`."""
    with open(path, encoding=shape.encoding, newline="") as file:
        return next(records(file, shape.delimiter, max_record=shape.max_record), [])


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
        utf8 = _Utf8Check()
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
            utf8.feed(chunk, offset)
            if not undefined:
                undefined = _CP1252_UNDEFINED.search(chunk) is not None
            offset += len(chunk)
            chunk = file.read(_CHUNK)
        utf8.feed(b"", offset, final=True)
    if bom:
        if utf8.first_error is not None:
            raise FileError(
                f"The file starts with a UTF-8 byte-order mark but is not valid UTF-8 (at "
                f"{utf8.where()}). Save it as 'CSV UTF-8' and upload it again."
            )
        return "utf-8-sig"
    if utf8.first_error is None:
        return "utf-8"
    if utf8.first_character is not None:
        raise FileError(_mixed(utf8))
    return "latin-1" if undefined else "cp1252"


def _mixed(utf8: "_Utf8Check") -> str:
    """Why a file with both UTF-8 characters and bytes UTF-8 does not allow is refused."""
    char, line = utf8.first_character or ("", 0)
    count = f"{utf8.invalid} byte{'s' if utf8.invalid > 1 else ''}"
    byte = bytes([utf8.first_byte])
    return (
        f"The file mixes UTF-8 with another encoding: line {line} has {char!r} written in "
        f"UTF-8, and {count} UTF-8 does not allow, the first at {utf8.where()}: "
        f"{byte.hex().upper()}, {byte.decode('cp1252', 'replace')!r} in Windows-1252. Read "
        f"as either, part of the file comes out garbled ({char!r} as Windows-1252 is "
        f"{char.encode().decode('cp1252', 'replace')!r}). Correct those bytes and upload the "
        f"file again; if the whole file is in another encoding, give it as the import's "
        f"encoding option."
    )


class _Utf8Check:
    """Reads a file's bytes, in order, as UTF-8: where the first byte UTF-8 does not allow is
    (0-based, and its line), how many such bytes there are, and the first character beyond
    ASCII (with its line). A file with both is refused whatever their numbers: Windows-1252
    text hardly ever forms a UTF-8 sequence by chance (an accented capital followed by a
    symbol), and a file with one UTF-8 character and one byte of another encoding is as
    mixed as one with thousands of each."""

    def __init__(self) -> None:
        self.strict = codecs.getincrementaldecoder("utf-8")()
        self.lenient: codecs.IncrementalDecoder | None = None
        self.first_error: int | None = None
        self.first_byte = 0
        self.line = 1  # of the first error, once there is one
        self.lines = 1  # of the text decoded, until a character beyond ASCII is found
        self.first_character: tuple[str, int] | None = None
        self.invalid = 0

    def feed(self, chunk: bytes, offset: int, *, final: bool = False) -> None:
        """The next chunk, starting at byte `offset` of the file."""
        if self.lenient is not None:
            self._read(self.lenient.decode(chunk, final))
            return
        try:
            text = self.strict.decode(chunk, final)
        except UnicodeDecodeError as error:
            # The decoder's input is the end of a sequence the last chunk began, then `chunk`.
            data = error.object
            start = error.start - (len(data) - len(chunk))
            self.first_error = offset + start
            self.first_byte = data[error.start]
            self.line += chunk.count(b"\n", 0, max(start, 0))
            self.lenient = codecs.getincrementaldecoder("utf-8")(errors="replace")
            self._read(self.lenient.decode(data, final))
        else:
            self.line += chunk.count(b"\n")
            self._read(text)

    def where(self) -> str:
        if self.first_error is None:
            return "no byte"
        return f"byte {self.first_error} (line {self.line})"

    def _read(self, text: str) -> None:
        self.invalid += text.count("\ufffd")  # one for each invalid sequence
        if self.first_character is not None:
            return
        found = _BEYOND_ASCII.search(text)
        if found is None:
            self.lines += text.count("\n")
        else:
            line = self.lines + text.count("\n", 0, found.start())
            self.first_character = (found.group(), line)


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
