"""The CSV column contract (rules/csvcolumns.py): header mapping, aliases, neutralised cells."""

from pathlib import Path

import pytest

from rules.csvcolumns import (
    FileError,
    column_letter,
    header_name,
    map_header,
    names_a_field,
    neutralise_cell,
    unneutralised,
)
from tests.csvfiles import LEGACY_HEADER, PLATFORMS, one_row


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


def test_neutralise_cell() -> None:
    for value in ("=1+1", "+34 600", "-5", "@SUM(A1)", "\tx", "\rx", "\nx", "\x00x"):
        assert neutralise_cell(value) == "'" + value
    for value in ("", "Ana", "'=quoted", "1-2", " =x"):
        assert neutralise_cell(value) == value


def test_header_names_fold_case_accents_spaces_and_dashes() -> None:
    assert header_name("\ufeff Correo_Electrónico ") == header_name("correo-electronico")
    assert header_name("Time Zone") == "timezone"
    # What a platform may not be called: a field's or attribute's name, or the error column.
    assert [names_a_field(n) for n in ("E-Mail", "Intereses", "Error", "lcloud", "Shoe")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_unneutralised_takes_back_only_the_neutralising_quote() -> None:
    for value in ("=1+1", "+34 600", "-5", "@SUM(A1)", "\tx", "\rx", "\nx", "\x00x"):
        assert unneutralised(neutralise_cell(value)) == value
    for value in ("", "'", "Ana", "'kept", "''=x", " '=x"):
        assert unneutralised(value) == value


def test_a_neutralised_header_names_the_column_it_neutralised() -> None:
    # Roster writes header cells neutralised too (an error report keeps the file's header).
    columns = map_header(["email", "'@handle", "'=x"], [], extra_columns_as_attributes=True)
    assert columns.attributes == {1: "@handle", 2: "=x"}
