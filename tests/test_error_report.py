"""The error report users download, GET /jobs/<id>/errors.csv, after real imports: the failed
rows as uploaded, their problems, and the corrected report imported again."""

import csv
import io
from typing import Any

import httpx

from tests.conftest import Api
from tests.test_imports import finished, roles_of, user

PASSWORD = "tangerine koala violin 47"


async def report(client: httpx.AsyncClient, job: dict[str, Any], token: str) -> str:
    path = httpx.URL(job["errorReportUrl"]).path
    assert path == f"/jobs/{job['id']}/errors.csv"
    response = await client.get(path, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


def records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


async def test_the_report_keeps_every_cell_and_lists_every_problem(
    client: httpx.AsyncClient, admin: Api, acme: Any, globex: Any, db_url: str
) -> None:
    body = (
        "email;first_name;Language;roles;password\r\n"
        "ana@example.com;Ana;es;learningcloud:student;\r\n"
        f"not-an-email;=cmd();english please;nowhere:student;{PASSWORD}\r\n"
        "bob@example.com;@Bob;en;learningcloud:wizard;;extra;-1\r\n"
        "ANA@example.com;+Ana;es;;\r\n"
    ).encode()
    job = await finished(client, admin, db_url, body)
    assert (job["created"], job["failed"]) == (1, 3)
    path = httpx.URL(job["errorReportUrl"]).path
    assert (await client.get(path)).status_code == 401
    other = await client.get(path, headers={"authorization": f"Bearer {globex.admin_token}"})
    assert other.status_code == 404

    text = await report(client, job, acme.read_token)
    assert records(text) == [
        ["email", "first_name", "Language", "roles", "password", "error"],
        [
            "not-an-email",
            "'=cmd()",
            "english please",
            "nowhere:student",
            "",  # a password is never kept
            "[INVALID_EMAIL] email: 'not-an-email' is not a valid e-mail address.\n"
            "[INVALID_LANGUAGE] Language: 'english please' is not a language tag such as 'es' "
            "or 'en-GB'.\n"
            "[UNKNOWN_PLATFORM] roles: There is no platform 'nowhere'.",
        ],
        [
            "bob@example.com",
            "'@Bob",
            "en",
            "learningcloud:wizard",
            "",
            # The header decides how wide a row is: cells beyond it are left out.
            "[TOO_MANY_COLUMNS] The row has 7 cells but the header names only 5 columns; the "
            "error report keeps the first 5.\n"
            "[UNKNOWN_ROLE] roles: learningcloud has no role 'wizard' (its roles: student, "
            "teacher, tutor, manager, administrator).",
        ],
        [
            "ANA@example.com",
            "'+Ana",
            "es",
            "",
            "",
            "[DUPLICATE_IN_FILE] email: Row 2 has the same e-mail; only the first one is imported.",
        ],
    ]
    # Neutralised cells are quoted (so is every cell), line ends are CRLF.
    lines = text.split("\r\n")
    assert lines[0] == '"email","first_name","Language","roles","password","error"'
    assert lines[1].startswith('"not-an-email","\'=cmd()","english please",')
    assert PASSWORD not in text


async def test_a_corrected_report_imports_again_and_reports_in_its_own_error_column(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> None:
    body = (
        b"email,first_name,Language,roles\r\n"
        b"not-an-email,=cmd(),english please,nowhere:student\r\n"
        b"bob@example.com,Bob,en,learningcloud:wizard,extra\r\n"
        b"dan@example.com,Dan,klingon!,\r\n"
    )
    job = await finished(client, admin, db_url, body)
    first = records(await report(client, job, acme.admin_token))
    assert first[0] == ["email", "first_name", "Language", "roles", "error"]
    # Fixed in a spreadsheet: each row's cells, the error column left as it was.
    fixed = [
        first[0],
        ["carla@example.com", *first[1][1:2], "es", "learningcloud:student", first[1][4]],
        ["bob@example.com", "Bob", "en", "learningcloud:tutor", first[2][4]],  # extra cell gone
        first[3],  # not fixed
    ]
    assert fixed[1][1] == "'=cmd()"
    again = await finished(client, admin, db_url, as_csv(fixed))
    assert (again["created"], again["failed"]) == (2, 1), again
    carla = await user(admin, "carla@example.com")
    assert carla is not None and carla["firstName"] == "=cmd()"
    assert roles_of(await user(admin, "bob@example.com")) == {"learningcloud:tutor"}
    # The report of the corrected file has the same columns: its error column holds the new
    # problems, not the old ones.
    second = records(await report(client, again, acme.admin_token))
    assert second == [
        ["email", "first_name", "Language", "roles", "error"],
        [
            "dan@example.com",
            "Dan",
            "klingon!",
            "",
            "[INVALID_LANGUAGE] Language: 'klingon!' is not a language tag such as 'es' or "
            "'en-GB'.",
        ],
    ]


async def test_trailing_empty_columns_and_neutralised_headers_import_again(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> None:
    """Spreadsheets write empty header cells after the last column: the error column goes
    before them, where an import still ignores them. A header the report neutralises (an
    extra column imported as an attribute) names the same attribute when imported again."""
    body = b"email,@handle,,\r\nnot-an-email,@ana,,\r\n"
    job = await finished(client, admin, db_url, body, extraColumns="ATTRIBUTES")
    first = records(await report(client, job, acme.admin_token))
    assert first == [
        ["email", "'@handle", "error", "", ""],
        [
            "not-an-email",
            "'@ana",
            "[INVALID_EMAIL] email: 'not-an-email' is not a valid e-mail address.",
            "",
            "",
        ],
    ]
    fixed = [first[0], ["ana@example.com", *first[1][1:]]]
    again = await finished(client, admin, db_url, as_csv(fixed), extraColumns="ATTRIBUTES")
    assert (again["created"], again["failed"]) == (1, 0), again
    ana = await user(admin, "ana@example.com")
    assert ana is not None and ana["attributes"] == {"@handle": "@ana"}
