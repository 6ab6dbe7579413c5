"""Reading CSV rows (jobs/csvrows.py) on real files: the values, roles and problems of each
kind of column; resuming and streaming."""

import csv
import tracemalloc
from pathlib import Path

import pytest

from jobs.csvrows import ImportRow, read_rows
from jobs.csvsniff import FileShape, inspect_file, read_header
from rules.csvcolumns import FileError, map_header, neutralise_cell
from tests.csvfiles import LEGACY_HEADER, PLATFORMS, codes, load, one_row, write

ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
BCRYPT = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
GOOD_PASSWORD = "tangerine koala violin 47"


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
        ("email,password", "ana@example.com,password1234567890", "password", "PASSWORD_TOO_WEAK"),
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


def test_multi_line_cells_keep_their_lines_in_location_and_attributes(tmp_path: Path) -> None:
    content = (
        "email,first_name,location,attr:address\r\n"
        'ana@example.com,Ana,"Calle Mayor 1\r\nMadrid","Piso 3\rPuerta B"\r\n'
        'bob@example.com,Bob,"\'-1 S\u00f3tano\nEdificio\tB",\r\n'  # as an export writes it
        'carla@example.com,"Car\nla","Plaza 2\nSevilla",\r\n'
        'dan@example.com,Dan,"Plaza 2\x1b[2J\nSevilla","x\u202ey"\r\n'
    )
    _, _, [ana, bob, carla, dan] = load(write(tmp_path, content))
    assert (ana.problems, bob.problems) == ([], [])
    assert ana.values["location"] == "Calle Mayor 1\nMadrid"
    assert ana.values["attributes"] == {"address": "Piso 3\nPuerta B"}
    assert bob.values["location"] == "-1 S\u00f3tano\nEdificio\tB"
    # One row's line break in a single-line field fails that row alone.
    assert codes(carla) == [("first_name", "INVALID_CHARACTERS")]
    assert carla.values["location"] == "Plaza 2\nSevilla"
    assert codes(dan) == [
        ("location", "INVALID_CHARACTERS"),
        ("attr:address", "INVALID_CHARACTERS"),
    ]


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


def read_limited(path: str, max_record: int) -> tuple[FileShape, list[ImportRow]]:
    shape = inspect_file(path, max_record=max_record)
    columns = map_header(read_header(path, shape), PLATFORMS)
    return shape, list(read_rows(path, shape, columns, PLATFORMS, min_password_length=15))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_row_over_the_size_limit_is_a_row_error_and_reading_goes_on(
    tmp_path: Path, newline: str
) -> None:
    long_row = "ana@example.com,Ana," + ",".join("x" * 10 for _ in range(100))
    lines = ["email,first_name", long_row, "bob@example.com,Bob", '"cy@example.com","Cy"']
    path = write(tmp_path, newline.join(lines) + newline)
    shape, rows = read_limited(path, max_record=200)
    assert shape.total == 3
    assert [r.number for r in rows] == [2, 3, 4]
    too_long, bob, cy = rows
    assert codes(too_long) == [(None, "ROW_TOO_LONG")]
    assert "200" in too_long.problems[0].message
    assert too_long.cells == ["ana@example.com", "Ana"]  # the header's columns, no more
    assert (bob.problems, bob.values["first_name"]) == ([], "Bob")
    assert (cy.problems, cy.values["first_name"]) == ([], "Cy")


def test_a_row_cut_between_its_cr_and_lf_at_the_limit(tmp_path: Path) -> None:
    """The limit falls between the CR and the LF ending a long line: no blank row follows."""
    long_row = "ana@example.com," + "x" * (200 - len("ana@example.com,"))
    path = write(tmp_path, f"email,first_name\r\n{long_row}\r\nbob@example.com,Bob\r\n")
    shape, rows = read_limited(path, max_record=200)
    assert shape.total == 2
    assert [(r.number, codes(r)) for r in rows] == [(2, [(None, "ROW_TOO_LONG")]), (3, [])]


def test_a_header_over_the_size_limit_fails_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, ",".join(f"attr:a{i}" for i in range(100)) + "\nana@example.com\n")
    with pytest.raises(FileError, match="header"):
        inspect_file(path, max_record=200)


def test_a_row_wider_than_the_header_keeps_the_header_width(tmp_path: Path) -> None:
    row = one_row(tmp_path, "email,first_name\nana@example.com,Ana," + ",".join("x" * 5000))
    assert codes(row) == [(None, "TOO_MANY_COLUMNS")]
    assert "5002 cells" in row.problems[0].message
    assert row.cells == ["ana@example.com", "Ana"]


def test_a_field_longer_than_csv_s_default_limit_is_read(tmp_path: Path) -> None:
    """csv refuses fields over 128 KiB unless told otherwise: a row error, not a failed file."""
    row = one_row(tmp_path, f"email,location\nana@example.com,{'y' * 200_000}\n")
    assert codes(row) == [("location", "TOO_LONG")]
