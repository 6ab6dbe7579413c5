"""Sniffing CSV files (jobs/csvsniff.py): encodings, delimiters, line endings, what is not a CSV."""

from pathlib import Path

import pytest

from jobs.csvrows import read_rows
from jobs.csvsniff import FileShape, inspect_file, read_header
from rules.csvcolumns import FileError, map_header
from tests.csvfiles import PLATFORMS, codes, load, write


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("email,last_name\nana@example.com,Núñez\n".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "email,last_name\nana@example.com,Núñez\n".encode(), "utf-8-sig"),
        ("email,last_name\nana@example.com,Núñez – €\n".encode("cp1252"), "cp1252"),
        # Latin-1 text that cp1252 reads the same way: detected as cp1252, same characters.
        ("email,last_name\nana@example.com,Núñez\n".encode("latin-1"), "cp1252"),
    ],
)
def test_encodings(tmp_path: Path, data: bytes, encoding: str) -> None:
    shape, columns, rows = load(write(tmp_path, data))
    assert shape == FileShape(encoding, ",", 1)
    assert columns.header == ("email", "last_name")
    assert rows[0].values["last_name"] in ("Núñez", "Núñez – €")
    assert rows[0].problems == []


def test_latin1_when_bytes_cp1252_leaves_undefined(tmp_path: Path) -> None:
    data = "email,last_name,location\nana@example.com,Núñez,x\x8dy\n".encode("latin-1")
    shape, _, rows = load(write(tmp_path, data))
    assert shape.encoding == "latin-1"
    assert rows[0].values["last_name"] == "Núñez"
    # \x8d, undefined in cp1252, is a C1 control in Latin-1: read as such, and refused.
    assert codes(rows[0]) == [("location", "INVALID_CHARACTERS")]


def test_utf8_is_checked_over_the_whole_file(tmp_path: Path) -> None:
    # The first 300 KB are ASCII; one cp1252 byte at the end makes the file cp1252.
    lines = "".join(f"user{i}@example.com,Ana\n" for i in range(15_000))
    data = ("email,first_name\n" + lines).encode() + "zoe@example.com,Zoë\n".encode("cp1252")
    shape, _, rows = load(write(tmp_path, data))
    assert len(data) > 300_000
    assert shape == FileShape("cp1252", ",", 15_001)
    assert rows[-1].values["first_name"] == "Zoë"


def test_utf8_with_a_few_bad_bytes_fails_naming_the_first(tmp_path: Path) -> None:
    """Read as Windows-1252, every accented name of the file would come out garbled."""
    lines = "".join(f"user{i}@example.com,José,Núñez\n" for i in range(300))
    data = b"email,first_name,last_name\n" + lines.encode()
    data += b"zoe@example.com,Zo\xeb,Smith\n"  # one byte of another encoding
    path = write(tmp_path, data + "ana@example.com,Ana,Peña\n".encode())
    with pytest.raises(FileError) as raised:
        inspect_file(path)
    message = str(raised.value)
    assert f"byte {data.index(b'Zo') + 2} (line 302)" in message, message
    assert "UTF-8" in message and "encoding" in message
    # Told the encoding, it is read that way.
    assert inspect_file(path, encoding="cp1252").total == 302


@pytest.mark.parametrize(
    ("utf8_rows", "cp1252_rows", "utf8_first"),
    [(1, 1, True), (1, 1, False), (1, 300, True), (300, 1, False), (2, 40, False)],
)
def test_utf8_mixed_with_cp1252_fails_whatever_the_numbers(
    tmp_path: Path, utf8_rows: int, cp1252_rows: int, utf8_first: bool
) -> None:
    """However few characters of either kind, and in whichever order: read as Windows-1252,
    the UTF-8 ones would be garbled (MÃ¼ller), and read as UTF-8 the others would not decode
    (issue #27, item 3)."""
    utf8 = "".join(f"u{i}@example.com,Müller\n" for i in range(utf8_rows)).encode()
    cp1252 = "".join(f"c{i}@example.com,Müller\n" for i in range(cp1252_rows)).encode("cp1252")
    body = utf8 + cp1252 if utf8_first else cp1252 + utf8
    path = write(tmp_path, b"email,last_name\n" + body)
    with pytest.raises(FileError) as raised:
        inspect_file(path)
    message = str(raised.value)
    utf8_line, cp1252_line = (2, 2 + utf8_rows) if utf8_first else (2 + cp1252_rows, 2)
    assert f"line {utf8_line} has 'ü' written in UTF-8" in message, message
    first = len(b"email,last_name\n") + (len(utf8) if utf8_first else 0) + len("c0@example.com,M")
    assert f"the first at byte {first} (line {cp1252_line}): FC" in message, message
    assert f"{cp1252_rows} byte" in message and "'Ã¼'" in message and "encoding" in message
    # Told the encoding, it is read that way.
    assert inspect_file(path, encoding="cp1252").total == utf8_rows + cp1252_rows


def test_cp1252_that_forms_a_utf8_sequence_is_refused_until_told(tmp_path: Path) -> None:
    # "Ã©" in Windows-1252 is C3 A9, the UTF-8 of "é": no count of the other bytes can tell
    # this file from one mixing encodings, so it is refused too, naming both; given the
    # encoding, it is read as it is.
    data = "email,first_name,last_name\nana@example.com,Ã©,Núñez\nbo@example.com,Zoë,Peña\n"
    path = write(tmp_path, data.encode("cp1252"))
    with pytest.raises(FileError, match="line 2 has 'é' written in UTF-8"):
        inspect_file(path)
    shape = inspect_file(path, encoding="cp1252")
    columns = map_header(read_header(path, shape), PLATFORMS)
    rows = list(read_rows(path, shape, columns, PLATFORMS, min_password_length=15))
    assert [row.values["first_name"] for row in rows] == ["Ã©", "Zoë"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    header = delimiter.join(["email", "first_name", "location"])
    record = delimiter.join(["ana@example.com", "Ana", '"Madrid, Spain; Europe\tEU"'])
    shape, _, rows = load(write(tmp_path, f"{header}\n{record}\n"))
    assert shape.delimiter == delimiter
    # The other delimiters and the tab stayed inside the quoted field (a location may hold tabs
    # and lines).
    assert rows[0].values == {
        "email": "ana@example.com",
        "username": "ana@example.com",
        "first_name": "Ana",
        "location": "Madrid, Spain; Europe\tEU",
    }
    assert rows[0].problems == []


def test_delimiter_comes_from_the_header_outside_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, '"attr:a,b,c";email\nx;ana@example.com\n')
    shape, columns, rows = load(path)
    assert shape.delimiter == ";"
    assert columns.attributes == {0: "a,b,c"}
    assert rows[0].values["attributes"] == {"a,b,c": "x"}


def test_given_encoding_and_delimiter_are_used(tmp_path: Path) -> None:
    path = write(tmp_path, "email|first_name\nana@example.com|Núñez\n", "cp1252")
    shape = inspect_file(path, encoding="latin-1", delimiter="|")
    assert shape == FileShape("latin-1", "|", 1)
    columns = map_header(read_header(path, shape), PLATFORMS)
    [row] = read_rows(path, shape, columns, PLATFORMS, min_password_length=15)
    assert row.values["first_name"] == "Núñez"


def test_crlf_and_quoted_newlines_keep_row_numbers(tmp_path: Path) -> None:
    content = (
        "email,first_name,attr:address,location\r\n"
        'ana@example.com,Ana,"Calle Mayor 1,\r\n2º B\r\nMadrid",\r\n'
        'bob@example.com,"Bob ""the builder""",,Sevilla\r\n'
        "not-an-email,Carl,,Bilbao\r\n"
    )
    shape, _, rows = load(write(tmp_path, content))
    assert shape == FileShape("utf-8", ",", 3)
    assert [row.number for row in rows] == [2, 3, 4]
    # Line breaks are kept in attributes, as LF (single-line fields refuse them).
    assert rows[0].values["attributes"] == {"address": "Calle Mayor 1,\n2º B\nMadrid"}
    assert rows[1].values["first_name"] == 'Bob "the builder"'
    assert rows[1].values["location"] == "Sevilla"
    assert codes(rows[2]) == [("email", "INVALID_EMAIL")]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "NUL"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel workbook"),
        (b"email,first_name\nana@example.com,An\x00a\n", "NUL"),
        (bytes(range(1, 32)) * 20, "binary"),
        ("email\n".encode("utf-16"), "UTF-16"),
        (b"\n\nemail\nana@example.com\n", "no header"),
        (b" , \nana@example.com\n", "no header"),
        (b'email,first_name\nana@example.com,"Ana\n', "not valid CSV"),
        (b'email,first_name\nana@example.com,"Ana" B\n', "Row 2"),
    ],
)
def test_not_a_csv(tmp_path: Path, data: bytes, words: str) -> None:
    with pytest.raises(FileError, match=words):
        inspect_file(write(tmp_path, data))


def test_wrong_or_unknown_given_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "email,last_name\nana@example.com,Núñez\n", "cp1252")
    with pytest.raises(FileError, match="not valid utf-8"):
        inspect_file(path, encoding="utf-8")
    with pytest.raises(FileError, match="Unknown encoding 'klingon'"):
        inspect_file(path, encoding="klingon")
    with pytest.raises(FileError, match="delimiter"):
        inspect_file(path, delimiter='"')
    nul = write(tmp_path, "email\nana@exa\x00mple.com\n")
    with pytest.raises(FileError, match="line 2 contains NUL"):
        inspect_file(nul, encoding="utf-8")


def test_bom_with_invalid_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfemail,last_name\nana@example.com,N\xfa\xf1ez\n")
    with pytest.raises(FileError, match="byte-order mark but is not valid UTF-8"):
        inspect_file(path)


def test_header_only_file(tmp_path: Path) -> None:
    shape, _, rows = load(write(tmp_path, "email;first_name\r\n"))
    assert shape == FileShape("utf-8", ";", 0)
    assert rows == []
