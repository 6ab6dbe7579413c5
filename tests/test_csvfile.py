"""The CSV layer of the user import (jobs/csvfile.py), on real files."""

import csv
import tracemalloc
from pathlib import Path

import pytest

from jobs.csvfile import (
    ColumnMap,
    FileError,
    FileShape,
    ImportRow,
    PlatformInfo,
    column_letter,
    error_report_header,
    error_report_row,
    inspect_file,
    map_header,
    neutralise_cell,
    read_header,
    read_rows,
)

PLATFORMS = [
    PlatformInfo("learningcloud", ("lcloud",), ("student", "teacher", "Admin")),
    PlatformInfo("lcentral", (), ("manager", "viewer")),
    PlatformInfo("socialcloud", ("lsocial",), ("member", "moderator")),
]
LEGACY_HEADER = (
    "Operation,Username,Name,e-mail,Surname,Active,Password,Language,Time Zone,Office Phone,"
    "Mobile Phone,Interests,About me,Location,lcloud,lcentral,lsocial"
)
ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
BCRYPT = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
GOOD_PASSWORD = "tangerine koala violin 47"


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


# ---------------------------------------------------------------------------------------------
# Encodings, delimiters, line endings, quoting


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


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    header = delimiter.join(["email", "first_name", "location"])
    record = delimiter.join(["ana@example.com", "Ana", '"Madrid, Spain; Europe\tEU"'])
    shape, _, rows = load(write(tmp_path, f"{header}\n{record}\n"))
    assert shape.delimiter == delimiter
    assert rows[0].values == {
        "email": "ana@example.com",
        "username": "ana@example.com",
        "first_name": "Ana",
    }
    # The quoted tab stayed in its field, which refuses it as it refuses every control.
    assert [(p.column, p.code) for p in rows[0].problems] == [("location", "INVALID_CHARACTERS")]


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
    # Line breaks are kept in attributes (single-line fields refuse them).
    assert rows[0].values["attributes"] == {"address": "Calle Mayor 1,\r\n2º B\r\nMadrid"}
    assert rows[1].values["first_name"] == 'Bob "the builder"'
    assert rows[1].values["location"] == "Sevilla"
    assert codes(rows[2]) == [("email", "INVALID_EMAIL")]


def test_blank_records_are_skipped_but_numbered(tmp_path: Path) -> None:
    shape, _, rows = load(
        write(tmp_path, "email,first_name\n\nana@example.com,Ana\n , \n,\nb@x.es\n")
    )
    assert shape.total == 5
    assert [(row.number, row.values["email"]) for row in rows] == [
        (3, "ana@example.com"),
        (6, "b@x.es"),
    ]
    # Fewer cells than the header: the missing ones are blank.
    assert rows[1].values == {"email": "b@x.es", "username": "b@x.es"}
    assert rows[1].problems == []


# ---------------------------------------------------------------------------------------------
# What is not a CSV


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


# ---------------------------------------------------------------------------------------------
# The header


def test_legacy_product_header_maps_completely() -> None:
    header = LEGACY_HEADER.split(",")
    columns = map_header(header, PLATFORMS)
    assert columns.header == tuple(header)
    assert columns.fields == {
        0: "operation",
        1: "username",
        2: "first_name",
        3: "email",
        4: "last_name",
        5: "status",
        6: "password",
        7: "language",
        8: "time_zone",
        9: "office_phone",
        10: "mobile_phone",
        13: "location",
    }
    assert columns.attributes == {11: "interests", 12: "about_me"}
    assert columns.platforms == {14: "learningcloud", 15: "lcentral", 16: "socialcloud"}


def test_legacy_product_export_imports(tmp_path: Path) -> None:
    content = (
        LEGACY_HEADER
        + "\nC,ana,Ana,ana@example.com,Núñez,yes,"
        + GOOD_PASSWORD
        + ",es,Europe/Madrid,+34 910 000 000,600 000 000,chess|music,Hi!,Madrid,"
        + "student|teacher,manager,member\n"
    )
    row = one_row(tmp_path, content)
    assert row.problems == []
    assert row.operation == "C"
    assert row.username_from_email is False
    assert row.values == {
        "username": "ana",
        "email": "ana@example.com",
        "first_name": "Ana",
        "last_name": "Núñez",
        "status": "ACTIVE",
        "password": GOOD_PASSWORD,
        "language": "es",
        "time_zone": "Europe/Madrid",
        "office_phone": "+34 910 000 000",
        "mobile_phone": "600 000 000",
        "location": "Madrid",
        "attributes": {"interests": "chess|music", "about_me": "Hi!"},
    }
    assert row.roles == [
        ("learningcloud", "student"),
        ("learningcloud", "teacher"),
        ("lcentral", "manager"),
        ("socialcloud", "member"),
    ]


def test_spanish_and_english_aliases() -> None:
    header = [
        "Operación",
        "Usuario",
        "Correo electrónico",
        "Nombre",
        "Apellidos",
        "Idioma",
        "Zona horaria",
        "Teléfono",
        "Móvil",
        "Ubicación",
        "ID externo",
        "Estado",
        "Roles",
        "Contraseña",
        "Password hash",
        "Bienvenida",
        "Sobre mí",
        "Intereses",
    ]
    columns = map_header(header, PLATFORMS)
    assert list(columns.fields.values()) == [
        "operation",
        "username",
        "email",
        "first_name",
        "last_name",
        "language",
        "time_zone",
        "office_phone",
        "mobile_phone",
        "location",
        "external_id",
        "status",
        "roles",
        "password",
        "password_hash",
        "welcome_email",
    ]
    assert columns.attributes == {16: "about_me", 17: "interests"}
    english = ["E-Mail", "first name", "LAST_NAME", "user name", "time-zone", "External Id"]
    assert list(map_header(english, []).fields.values()) == [
        "email",
        "first_name",
        "last_name",
        "username",
        "time_zone",
        "external_id",
    ]
    other = ["correo", "surname", "activo", "office phone", "mobile phone", "welcome email"]
    assert list(map_header(other, []).fields.values()) == [
        "email",
        "last_name",
        "status",
        "office_phone",
        "mobile_phone",
        "welcome_email",
    ]


def test_canonical_header_with_bom_attributes_and_platform_keys() -> None:
    header = ["\ufeffemail", " attr:Department ", "LearningCloud", "lsocial", "Lcentral"]
    columns = map_header(header, PLATFORMS)
    assert columns.fields == {0: "email"}
    assert columns.attributes == {1: "Department"}
    assert columns.platforms == {2: "learningcloud", 3: "socialcloud", 4: "lcentral"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["email", "first_name", "Shoe size"], r"Unknown column 'Shoe size' \(column C\)"),
        (["username", "first_name"], "no e-mail column"),
        (["email", "Name", "first name"], r"'Name' \(column B\) and 'first name' \(column C\)"),
        (["e-mail", "correo"], "both give the field 'email'"),
        (["email", "lcloud", "learningcloud"], "both give roles on 'learningcloud'"),
        (["email", "interests", "attr:interests"], "both give the attribute 'interests'"),
        (["email", "", "first_name"], "header of column B is empty"),
        (["email", "attr:"], "attribute name"),
        (["ana@example.com", "Ana"], "must be the header"),
        (["", " "], "no header"),
    ],
)
def test_header_errors(header: list[str], message: str) -> None:
    with pytest.raises(FileError, match=message):
        map_header(header, PLATFORMS)


def test_extra_columns_as_attributes() -> None:
    columns = map_header(["email", "Shoe size", "Team"], [], extra_columns_as_attributes=True)
    assert columns.attributes == {1: "Shoe size", 2: "Team"}
    with pytest.raises(FileError, match="no e-mail column"):
        map_header(["Shoe size"], [], extra_columns_as_attributes=True)


def test_trailing_empty_header_cells_and_error_column_are_ignored(tmp_path: Path) -> None:
    columns = map_header(["email", "first_name", "error", "", ""], [])
    assert columns.fields == {0: "email", 1: "first_name"}
    assert columns.attributes == {} and columns.platforms == {}
    row = one_row(tmp_path, "email,first_name,,\nana@example.com,Ana,,\n")
    assert row.problems == []


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


# ---------------------------------------------------------------------------------------------
# Rows


def test_username_defaults_to_email_and_blanks_are_absent(tmp_path: Path) -> None:
    content = (
        "email,username,first_name,language,status,welcome_email,lcloud,roles\n"
        " Ana@Example.com ,,  , ,,,,\n"
        "bob@example.com, bob ,Bob,en-GB,no,sí,,\n"
    )
    _, _, (ana, bob) = load(write(tmp_path, content))
    # The domain in lower case; the username, taken from the e-mail, all in lower case.
    assert ana.values == {"email": "Ana@example.com", "username": "ana@example.com"}
    assert ana.username_from_email is True
    assert ana.roles is None and ana.operation is None and ana.problems == []
    assert bob.values == {
        "email": "bob@example.com",
        "username": "bob",
        "first_name": "Bob",
        "language": "en-GB",
        "status": "DISABLED",
        "welcome_email": True,
    }
    assert bob.username_from_email is False
    assert bob.cells == ["bob@example.com", " bob ", "Bob", "en-GB", "no", "sí", "", ""]


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("ACTIVE", "ACTIVE"),
        ("disabled", "DISABLED"),
        ("True", "ACTIVE"),
        ("false", "DISABLED"),
        ("YES", "ACTIVE"),
        ("no", "DISABLED"),
        ("1", "ACTIVE"),
        ("0", "DISABLED"),
        ("Sí", "ACTIVE"),
        ("si", "ACTIVE"),
        ("Activo", "ACTIVE"),
        ("inactivo", "DISABLED"),
        ("Enabled", "ACTIVE"),
    ],
)
def test_status_words(tmp_path: Path, word: str, status: str) -> None:
    row = one_row(tmp_path, f"email,active\nana@example.com,{word}\n")
    assert row.values["status"] == status


@pytest.mark.parametrize(
    ("word", "flag"),
    [("true", True), ("FALSE", False), ("yes", True), ("No", False), ("1", True), ("0", False)]
    + [("sí", True), ("Si", True), ("no", False)],
)
def test_welcome_email_words(tmp_path: Path, word: str, flag: bool) -> None:
    row = one_row(tmp_path, f"email,welcome_email\nana@example.com,{word}\n")
    assert row.values["welcome_email"] is flag


@pytest.mark.parametrize(
    ("word", "operation"),
    [("C", "C"), ("u", "U"), ("d", "D"), ("Create", "C"), ("update", "U"), ("DELETE", "D")]
    + [("crear", "C"), ("Actualizar", "U"), ("borrar", "D"), ("", None)],
)
def test_operations(tmp_path: Path, word: str, operation: str | None) -> None:
    row = one_row(tmp_path, f"operation,email\n{word},ana@example.com\n")
    assert row.operation == operation
    assert row.problems == []


def test_roles_column_and_platform_columns_combine(tmp_path: Path) -> None:
    content = (
        "email,roles,lcloud,lcentral\n"
        'ana@example.com,"LCloud:Student | socialcloud:MEMBER|learningcloud:admin|",'
        '"student, teacher",Viewer\n'
    )
    row = one_row(tmp_path, content)
    assert row.problems == []
    assert row.roles == [
        ("learningcloud", "student"),
        ("socialcloud", "member"),
        ("learningcloud", "Admin"),
        ("learningcloud", "teacher"),
        ("lcentral", "viewer"),
    ]


def test_password_hashes_accepted(tmp_path: Path) -> None:
    content = (
        f'email,password_hash\na@example.com,"{ARGON2}"\nb@example.com,{BCRYPT}\n'
        f'c@example.com,"{ARGON2.replace("argon2id", "argon2i")}"\n'
    )
    _, _, rows = load(write(tmp_path, content))
    assert len(BCRYPT) == 60
    assert [row.values["password_hash"] for row in rows] == [
        ARGON2,
        BCRYPT,
        ARGON2.replace("argon2id", "argon2i"),
    ]
    assert all(row.problems == [] for row in rows)


@pytest.mark.parametrize(
    ("header", "cells", "column", "code"),
    [
        ("email,first_name", ",Ana", "email", "REQUIRED"),
        ("email", "ana@", "email", "INVALID_EMAIL"),
        ("email,status", "ana@example.com,maybe", "status", "INVALID_STATUS"),
        ("email,roles", "ana@example.com,moodle:student", "roles", "UNKNOWN_PLATFORM"),
        ("email,roles", "ana@example.com,lcloud:janitor", "roles", "UNKNOWN_ROLE"),
        ("email,roles", "ana@example.com,student", "roles", "INVALID_ROLES"),
        ("email,lsocial", "ana@example.com,member|janitor", "lsocial", "UNKNOWN_ROLE"),
        ("Operation,email", "X,ana@example.com", "Operation", "INVALID_OPERATION"),
        (
            "email,password hash",
            "ana@example.com,$md5$abc",
            "password hash",
            "INVALID_PASSWORD_HASH",
        ),
        (
            "email,password_hash",
            f"ana@example.com,{BCRYPT[:-1]}",
            "password_hash",
            "INVALID_PASSWORD_HASH",
        ),
        ("email,password", "ana@example.com,short", "password", "PASSWORD_TOO_SHORT"),
        ("email,password", f"ana@example.com,{'x' * 300}", "password", "PASSWORD_TOO_LONG"),
        ("email,password", "ana@example.com,qwerty123456789", "password", "PASSWORD_TOO_COMMON"),
        (
            "email,password",
            "anabel@example.com,my name is anabel!!",
            "password",
            "PASSWORD_CONTAINS_IDENTIFIER",
        ),
        (
            "email,password,password_hash",
            f"a@example.com,{GOOD_PASSWORD},{BCRYPT}",
            "password_hash",
            "PASSWORD_AND_HASH",
        ),
        ("email", "ana@example.com,extra", None, "TOO_MANY_COLUMNS"),
        ("email,welcome_email", "ana@example.com,perhaps", "welcome_email", "INVALID_BOOLEAN"),
        ("email,username", "ana@example.com,ana maría", "username", "INVALID_USERNAME"),
        ("email,first_name", f"ana@example.com,{'A' * 101}", "first_name", "TOO_LONG"),
        ("email,idioma", "ana@example.com,spanish!", "idioma", "INVALID_LANGUAGE"),
        ("email,mobile phone", "ana@example.com,call me", "mobile phone", "INVALID_PHONE"),
        ("email,time zone", "ana@example.com,Mars/Olympus", "time zone", "INVALID_TIME_ZONE"),
        ("email,attr:bio", f"ana@example.com,{'b' * 2001}", "attr:bio", "INVALID_ATTRIBUTES"),
    ],
)
def test_row_problem_codes(
    tmp_path: Path, header: str, cells: str, column: str | None, code: str
) -> None:
    row = one_row(tmp_path, f"{header}\n{cells}\n")
    assert codes(row) == [(column, code)]
    assert row.problems[0].message


def test_a_row_collects_all_its_problems(tmp_path: Path) -> None:
    content = "email,status,lcloud,welcome_email\nnope,maybe,janitor,perhaps,extra\n"
    row = one_row(tmp_path, content)
    assert codes(row) == [
        (None, "TOO_MANY_COLUMNS"),
        ("email", "INVALID_EMAIL"),
        ("status", "INVALID_STATUS"),
        ("lcloud", "UNKNOWN_ROLE"),
        ("welcome_email", "INVALID_BOOLEAN"),
    ]
    assert "janitor" in row.problems[3].message and "student" in row.problems[3].message


def test_extra_blank_cells_are_not_too_many_columns(tmp_path: Path) -> None:
    row = one_row(tmp_path, "email\nana@example.com,, \n")
    assert row.problems == []


# ---------------------------------------------------------------------------------------------
# Formula injection: an export imports back unchanged


def test_neutralise_cell() -> None:
    for value in ("=1+1", "+34 600", "-5", "@SUM(A1)", "\tx", "\rx", "\nx", "\x00x"):
        assert neutralise_cell(value) == "'" + value
    for value in ("", "Ana", "'=quoted", "1-2", " =x"):
        assert neutralise_cell(value) == value


def test_formula_prefix_round_trip(tmp_path: Path) -> None:
    original = {
        "email": "ana@example.com",
        "first_name": '=HYPERLINK("http://evil")',
        "last_name": "-Núñez",
        "office_phone": "+34 910 000 000",
        "location": "@home",
        "attr:note": "\tindented",
        "attr:formula": "=1+2",
        "attr:quote": "'kept",
    }
    path = tmp_path / "export.csv"
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(original.keys())
        writer.writerow([neutralise_cell(value) for value in original.values()])
    assert "'=HYPERLINK" in path.read_text(encoding="utf-8")
    _, _, [row] = load(str(path))
    assert row.problems == []
    assert row.values == {
        "email": "ana@example.com",
        "username": "ana@example.com",
        "first_name": '=HYPERLINK("http://evil")',
        "last_name": "-Núñez",
        "office_phone": "+34 910 000 000",
        "location": "@home",
        "attributes": {"note": "\tindented", "formula": "=1+2", "quote": "'kept"},
    }


def test_error_report(tmp_path: Path) -> None:
    content = "email,first_name\nnope,=cmd\nana@example.com,Ana,extra\n,\n"
    _, columns, rows = load(write(tmp_path, content))
    assert error_report_header(columns) == ["email", "first_name", "error"]
    assert error_report_row(columns, rows[0]) == [
        "nope",
        "'=cmd",
        "email: 'nope' is not a valid e-mail address. [INVALID_EMAIL]",
    ]
    assert error_report_row(columns, rows[1])[2:] == [
        "The row has 3 cells but the header names only 2 columns. [TOO_MANY_COLUMNS]",
        "extra",
    ]
    # A corrected error report imports again, and its report reuses the error column.
    report = write(tmp_path, "email,first_name,error\nnope,Ana,old message\n")
    _, columns, [row] = load(report)
    assert error_report_header(columns) == ["email", "first_name", "error"]
    assert error_report_row(columns, row)[2].endswith("[INVALID_EMAIL]")


# ---------------------------------------------------------------------------------------------
# Resuming and streaming


def test_start_after_skips_records(tmp_path: Path) -> None:
    content = (
        "email,location\n"
        'a@example.com,"one\ntwo"\n'
        "\n"
        "c@example.com,x\n"
        'd@example.com,"3\n4"\n'
        "e@example.com,y\n"
    )
    path = write(tmp_path, content)
    _, _, rows = load(path, start_after=2)
    assert [(row.number, row.values["email"]) for row in rows] == [
        (4, "c@example.com"),
        (5, "d@example.com"),
        (6, "e@example.com"),
    ]
    _, _, all_rows = load(path)
    assert [row.number for row in all_rows] == [2, 4, 5, 6]
    assert load(path, start_after=5)[2] == []
    assert load(path, start_after=50)[2] == []


def test_a_large_file_streams_in_flat_memory(tmp_path: Path) -> None:
    total = 200_000
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write("e-mail;Name;attr:team\r\n")
        for i in range(total):
            file.write(f'user{i}@example.com;Ana Núñez {i};"team\n{i % 7}"\r\n')
    tracemalloc.start()
    try:
        shape = inspect_file(str(path))
        columns = map_header(read_header(str(path), shape), PLATFORMS)
        count = 0
        last = None
        for row in read_rows(str(path), shape, columns, PLATFORMS, min_password_length=15):
            count += 1
            last = row
            assert not row.problems
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert path.stat().st_size > 8_000_000
    assert shape == FileShape("utf-8", ";", total)
    assert count == total
    assert last is not None and last.number == total + 1
    assert last.values["attributes"] == {"team": f"team\n{(total - 1) % 7}"}
    assert peak < 3_000_000, peak
