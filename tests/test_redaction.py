"""Deleting a user deletes what earlier imports kept of that user in their row errors."""

import httpx

from tests.conftest import Api, create_user
from tests.test_imports import finished, sql

DISABLE = "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code } } }"
DELETE = "mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { userErrors { code } } }"

# Rows 2 to 4 name Ana (by e-mail, in another case; by e-mail, matched; by username, taken);
# row 5 names nobody that is deleted.
FAILING = (
    b"operation,username,email,first_name,language\n"
    b",,ANA@example.com,Ana,not a language\n"
    b"C,,ana@example.com,Ana,es\n"
    b",ana,someone@example.com,Some,es\n"
    b",,bob@example.com,Bob,not a language\n"
)


async def failed_import_about_ana(client: httpx.AsyncClient, admin: Api, db_url: str) -> str:
    ana = await create_user(admin, "ana", email="ana@example.com")
    job = await finished(client, admin, db_url, FAILING)
    assert job["failed"] == 4, job
    await admin.data(DISABLE, ids=[ana["id"]])
    return str(ana["id"])


async def row_errors(db_url: str) -> list[tuple[int, bool, str]]:
    rows = await sql(db_url, "SELECT row, cells, message FROM job_row_errors ORDER BY row, seq")
    return [(r["row"], r["cells"] is not None, r["message"]) for r in rows]


def mentions(errors: list[tuple[int, bool, str]], text: str) -> list[int]:
    return [row for row, _, message in errors if text in message.lower()]


async def kept_cells(db_url: str) -> str:
    rows = await sql(
        db_url, "SELECT coalesce(string_agg(cells::text, ' '), '') FROM job_row_errors"
    )
    return str(rows[0][0]).lower()


async def test_deleting_through_the_api_removes_the_users_cells_from_row_errors(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    ana_id = await failed_import_about_ana(client, admin, db_url)
    assert "ana@example.com" in await kept_cells(db_url)
    data = await admin.data(DELETE, ids=[ana_id])
    assert data["deleteUsers"]["userErrors"] == []
    errors = await row_errors(db_url)
    assert [row for row, has_cells, _ in errors if has_cells] == [5]
    assert "ana" not in await kept_cells(db_url)
    assert mentions(errors, "ana") == []
    # What failed is still counted and listed, without whom it was about.
    assert [row for row, _, _ in errors] == [2, 3, 4, 5]


async def test_a_delete_row_removes_the_users_cells_from_row_errors(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    await failed_import_about_ana(client, admin, db_url)
    job = await finished(client, admin, db_url, b"operation,email\nD,ana@example.com\n")
    assert job["deleted"] == 1, job
    errors = await row_errors(db_url)
    assert [row for row, has_cells, _ in errors if has_cells] == [5]
    assert "ana" not in await kept_cells(db_url)
    assert mentions(errors, "ana") == []


async def test_a_delete_row_also_clears_its_own_chunks_row_errors(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    ana = await create_user(admin, "ana", email="ana@example.com")
    await admin.data(DISABLE, ids=[ana["id"]])
    body = b"operation,email,language\nU,ana@example.com,not a language\nD,ana@example.com,\n"
    job = await finished(client, admin, db_url, body)
    assert (job["failed"], job["deleted"]) == (1, 1), job
    assert "ana" not in await kept_cells(db_url)
