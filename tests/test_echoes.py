"""Values quoted back in error messages are cut: an error names the start of what was sent,
never all of it (a 500,000-character key made a 500 KB answer)."""

from pathlib import Path
from typing import Any

import pytest

from jobs.csvsniff import inspect_file
from rules.csvcolumns import FileError, map_header
from rules.echoes import ECHO_LIMIT, quoted
from tests.conftest import CREATE_USER, Api
from tests.csvfiles import one_row

HUGE = "k" * 500_000

CREATE_PLATFORM = """mutation($input: CreatePlatformInput!) {
  createPlatform(input: $input) { platform { id } userErrors { field code message } }
}"""


def test_quoted_cuts_long_values_and_keeps_short_ones() -> None:
    assert quoted("my-app") == "'my-app'"
    assert quoted("k" * ECHO_LIMIT) == repr("k" * ECHO_LIMIT)
    cut = quoted("k" * (ECHO_LIMIT + 1))
    assert cut == repr("k" * (ECHO_LIMIT - 1) + "…")


def short(message: str) -> bool:
    """Whether the message quotes HUGE cut (its words around it may be long: a list of the
    columns a file may have)."""
    return "k" * ECHO_LIMIT not in message and len(message) < 2_000


async def test_a_huge_platform_key_is_not_echoed_whole(admin: Api) -> None:
    platform: dict[str, Any] = {"key": HUGE, "name": "App", "roles": ["user", HUGE]}
    response = await admin.post(CREATE_PLATFORM, {"input": platform})
    assert len(response.content) < 2_000, len(response.content)
    errors = response.json()["data"]["createPlatform"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        (["input", "key"], "INVALID_NAME"),
        (["input", "roles", "1"], "INVALID_NAME"),
    ]
    assert all(short(e["message"]) and "kkkk…'" in e["message"] for e in errors)


async def test_a_huge_filter_value_is_not_echoed_whole(reader: Api) -> None:
    document = "query($f: UserFilter) { users(filter: $f) { totalCount } }"
    for filter, code in (
        ({"platform": HUGE}, "UNKNOWN_PLATFORM"),
        ({"role": HUGE}, "UNKNOWN_ROLE"),
    ):
        (error,) = (await reader(document, f=filter))["errors"]
        assert error["extensions"]["code"] == code
        assert short(error["message"]), len(error["message"])


async def test_a_huge_unknown_id_is_not_echoed_whole(reader: Api) -> None:
    document = "mutation($ids: [ID!]) { startExport(ids: $ids) { userErrors { code message } } }"
    payload = (await reader.data(document, ids=[HUGE]))["startExport"]
    (error,) = payload["userErrors"]
    assert error["code"] == "NOT_FOUND"
    assert short(error["message"]), len(error["message"])


@pytest.mark.parametrize(
    "header",
    [
        ["email", HUGE],
        ["email", f"attr:{HUGE}"],
        [f"{HUGE}@example.com"],
        ["email", f"{HUGE}x", f"{HUGE}X"],
    ],
    ids=["unknown", "attribute", "e-mail", "twice"],
)
def test_a_huge_header_cell_is_not_echoed_whole(header: list[str]) -> None:
    with pytest.raises(FileError) as refused:
        map_header(header, [], extra_columns_as_attributes=header[-1] != f"{HUGE}X")
    assert short(str(refused.value)), len(str(refused.value))


@pytest.mark.parametrize("option", ["encoding", "delimiter"])
def test_a_huge_file_option_is_not_echoed_whole(tmp_path: Path, option: str) -> None:
    path = tmp_path / "users.csv"
    path.write_text("email\nana@example.com\n")
    with pytest.raises(FileError) as refused:
        inspect_file(str(path), **{option: HUGE})
    assert short(str(refused.value)), len(str(refused.value))


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("status", HUGE),
        ("welcome_email", HUGE),
        ("roles", f"learningcloud:{HUGE}"),
        ("roles", f"{HUGE}:student"),
        ("roles", HUGE),
        ("language", HUGE),
    ],
)
def test_a_huge_cell_is_not_echoed_whole_in_its_row_error(
    tmp_path: Path, column: str, cell: str
) -> None:
    row = one_row(tmp_path, f"email,first_name,{column}\nana@example.com,Ana,{cell}\n")
    assert row.problems, "the cell is refused"
    assert all(short(p.message) for p in row.problems), [len(p.message) for p in row.problems]


def test_a_huge_email_is_not_echoed_whole_in_its_row_error(tmp_path: Path) -> None:
    row = one_row(tmp_path, f"email,first_name\n{HUGE}@,Ana\n")
    assert row.problems and all(short(p.message) for p in row.problems)


async def test_a_huge_export_column_is_not_echoed_whole(reader: Api) -> None:
    document = (
        "mutation($c: [String!]) { startExport(columns: $c) { userErrors { code message } } }"
    )
    for columns in ([HUGE], [f"attr:{HUGE}"], ["email", "email", HUGE]):
        payload = (await reader.data(document, c=columns))["startExport"]
        assert payload["userErrors"], columns
        assert all(short(e["message"]) for e in payload["userErrors"])


async def test_a_huge_role_or_platform_of_a_new_user_is_not_echoed_whole(admin: Api) -> None:
    for role in (
        {"platform": HUGE, "role": "student"},
        {"platform": "learningcloud", "role": HUGE},
    ):
        payload = {"username": "ana", "email": "ana@example.com", "firstName": "Ana",
                   "lastName": "Ruiz", "roles": [role]}  # fmt: skip
        response = await admin.post(CREATE_USER, {"input": payload})
        errors = response.json()["data"]["createUser"]["userErrors"]
        assert [e["code"] for e in errors] in (["UNKNOWN_PLATFORM"], ["UNKNOWN_ROLE"])
        assert len(response.content) < 2_000, len(response.content)


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (
            "query($d: DateTime) { users(filter: {createdAfter: $d}) { totalCount } }",
            {"d": HUGE},
        ),
        ("query($f: UserFilter) { users(filter: $f) { totalCount } }", {"f": {"status": HUGE}}),
        (
            "query($o: UserOrder) { users(orderBy: $o) { totalCount } }",
            {"o": {"field": HUGE, "direction": "ASC"}},
        ),
    ],
    ids=["scalar", "enum in an input", "enum"],
)
async def test_a_huge_variable_is_not_echoed_whole_by_graphql(
    reader: Api, document: str, variables: dict[str, Any]
) -> None:
    # graphql-core's own messages quote a wrong variable's whole value (twice for a scalar).
    response = await reader.post(document, variables)
    (error,) = response.json()["errors"]
    assert short(error["message"]), len(error["message"])
    assert "kkkk…" in error["message"]
    assert len(response.content) < 2_000, len(response.content)
