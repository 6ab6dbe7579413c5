"""CSV exports end to end: startExport, a real arq worker, the file downloaded as a user would."""

import csv
import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from db import user_counts
from db.pool import create_pool
from jobs import export_file, progress
from jobs.export_file import ExportFile, RecordEnds
from jobs.worker import remove_expired_exports
from roster.app import create_app
from roster.settings import Settings
from rules.csvcolumns import CsvDialect, neutralise_cell
from tests.conftest import Api, Tenant, create_user
from tests.test_imports import (
    SUBSCRIBE,
    finished,
    receive_until_complete,
    run_worker,
    sql,
    ws_session,
)

START_EXPORT = """
mutation($ids: [ID!], $search: String, $filter: UserFilter, $orderBy: UserOrder,
         $columns: [String!]) {
  startExport(ids: $ids, search: $search, filter: $filter, orderBy: $orderBy, columns: $columns) {
    job { id status ... on ExportJob { columns rowCount downloadUrl } }
    userErrors { field code message }
  }
}
"""
JOB = """
query($id: ID!) { job(id: $id) { id status total processed error
  ... on ExportJob { rowCount downloadUrl expiresAt columns cancelRequested } } }
"""
CANCEL_JOB = """
mutation($id: ID!) { cancelJob(id: $id) { job { status } userErrors { code } } }
"""
BOM = "\ufeff".encode()
PEOPLE = (
    "username,email,first_name,last_name,language,external_id,status,roles,attr:team,attr:floor\n"
    "ana,ana@example.com,Ana,García,es,A-1,ACTIVE,learningcloud:teacher|contentcloud:author,"
    "red,3\n"
    'bob,bob@example.com,Bob,"Núñez, Jr.",en,,DISABLED,learningcloud:student,blue,\n'
    # Names refuse line breaks; attributes keep them.
    'carla,carla@other.org,Carla,"Say ""hi"" there",,,ACTIVE,,"one\ntwo",\n'
    "dan,dan@example.com,'=HYPERLINK(1),'-5,,,ACTIVE,contentcloud:author,'@sum,\n"
)


async def export(api: Api, db_url: str, **arguments: Any) -> dict[str, Any]:
    """Starts an export, runs the worker; the job as it ended."""
    payload = (await api.data(START_EXPORT, **arguments))["startExport"]
    assert payload["userErrors"] == [], payload["userErrors"]
    assert payload["job"]["status"] == "QUEUED"
    assert payload["job"]["downloadUrl"] is None
    await run_worker(db_url)
    job: dict[str, Any] = (await api.data(JOB, id=payload["job"]["id"]))["job"]
    return job


async def download(client: httpx.AsyncClient, job: dict[str, Any], token: str | None) -> bytes:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.get(f"/exports/{job['id']}.csv", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.content


def records(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body[len(BOM) :].decode(), newline="")))


def written(rows: list[list[str]]) -> bytes:
    """The file Roster's CSV dialect writes for `rows`, cells neutralised."""
    text = io.StringIO()
    csv.writer(text, dialect=CsvDialect).writerows([[neutralise_cell(c) for c in r] for r in rows])
    return BOM + text.getvalue().encode()


@pytest.fixture
async def people(client: httpx.AsyncClient, admin: Api, db_url: str) -> None:
    await finished(client, admin, db_url, PEOPLE.encode())


ALL_COLUMNS = [
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
    "welcome_email",
    "attr:floor",
    "attr:team",
]


# --- What is exported --------------------------------------------------------------------------


async def test_everything_in_the_import_format(
    client: httpx.AsyncClient, admin: Api, db_url: str, people: None
) -> None:
    job = await export(admin, db_url)
    assert (job["status"], job["total"], job["processed"], job["rowCount"]) == (
        "SUCCEEDED",
        4,
        4,
        4,
    )
    assert job["columns"] == ALL_COLUMNS
    body = await download(client, job, admin.token)
    blank = [""] * 7
    # Byte for byte what Python's csv module writes with Roster's dialect: BOM, every cell
    # quoted, CRLF after each record (a line break inside a cell stays as it is).
    assert body == written(
        [
            ALL_COLUMNS,
            ["", "ana", "ana@example.com", "Ana", "García", "es", "", "", "", "", "A-1",
             "ACTIVE", "contentcloud:author|learningcloud:teacher", "", "3", "red"],
            ["", "bob", "bob@example.com", "Bob", "Núñez, Jr.", "en", "", "", "", "", "",
             "DISABLED", "learningcloud:student", "", "", "blue"],
            ["", "carla", "carla@other.org", "Carla", 'Say "hi" there', *blank[:5], "",
             "ACTIVE", "", "", "", "one\ntwo"],
            ["", "dan", "dan@example.com", "=HYPERLINK(1)", "-5", *blank[:5], "", "ACTIVE",
             "contentcloud:author", "", "", "@sum"],
        ]
    )  # fmt: skip
    assert b'"\'=HYPERLINK(1)","\'-5"' in body and b'"\'@sum"\r\n' in body
    assert b'"one\ntwo"' in body and b"\r\n" in body
    assert b"password" not in body


async def test_a_selection_exports_exactly_those_users(
    client: httpx.AsyncClient, admin: Api, db_url: str, people: None
) -> None:
    found = await admin.data("query { users(first: 10) { edges { node { id username } } } }")
    ids = {e["node"]["username"]: e["node"]["id"] for e in found["users"]["edges"]}
    job = await export(
        admin,
        db_url,
        ids=[ids["dan"], ids["ana"]],
        columns=["email", "username", "attr:team"],
        orderBy={"field": "EMAIL", "direction": "DESC"},
    )
    assert job["columns"] == ["email", "username", "attr:team"]
    assert records(await download(client, job, admin.token)) == [
        ["email", "username", "attr:team"],
        ["dan@example.com", "dan", "'@sum"],
        ["ana@example.com", "ana", "red"],
    ]


async def test_a_selection_with_an_unknown_user_is_refused(
    admin: Api, other_admin: Api, db_url: str, people: None
) -> None:
    theirs = await create_user(other_admin, "zed")
    payload = (await admin.data(START_EXPORT, ids=[theirs["id"]]))["startExport"]
    assert payload["job"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["ids", "0"], "NOT_FOUND")]


async def test_a_search_exports_what_users_finds(
    client: httpx.AsyncClient, admin: Api, db_url: str, people: None
) -> None:
    job = await export(admin, db_url, search="nunez", columns=["username"])
    assert records(await download(client, job, admin.token)) == [["username"], ["bob"]]


async def test_a_filter_exports_what_users_finds(
    client: httpx.AsyncClient, admin: Api, db_url: str, people: None
) -> None:
    job = await export(
        admin,
        db_url,
        filter={"status": "ACTIVE", "emailDomain": "example.com"},
        columns=["username", "status"],
    )
    assert records(await download(client, job, admin.token)) == [
        ["username", "status"],
        ["ana", "ACTIVE"],
        ["dan", "ACTIVE"],
    ]
    job = await export(admin, db_url, filter={"platform": "learningcloud"}, columns=["username"])
    assert records(await download(client, job, admin.token)) == [["username"], ["ana"], ["bob"]]
    payload = (await admin.data(START_EXPORT, filter={"platform": "nope"}))["startExport"]
    assert [e["code"] for e in payload["userErrors"]] == ["UNKNOWN_PLATFORM"]


async def test_columns_are_checked(admin: Api) -> None:
    payload = (
        await admin.data(
            START_EXPORT, columns=["email", "password", "shoe_size", "email", "password_hash"]
        )
    )["startExport"]
    assert payload["job"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["columns", "1"], "NOT_EXPORTABLE"),
        (["columns", "2"], "UNKNOWN_COLUMN"),
        (["columns", "3"], "DUPLICATE_COLUMN"),
        (["columns", "4"], "NOT_EXPORTABLE"),
    ]


async def test_an_empty_tenant_exports_a_header(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    job = await export(admin, db_url)
    assert (job["status"], job["rowCount"]) == ("SUCCEEDED", 0)
    assert records(await download(client, job, admin.token)) == [ALL_COLUMNS[:14]]


# --- Round trip --------------------------------------------------------------------------------


async def test_an_export_imports_into_another_tenant_and_exports_the_same(
    client: httpx.AsyncClient, admin: Api, other_admin: Api, db_url: str, people: None
) -> None:
    first = await download(client, await export(admin, db_url), admin.token)
    await finished(client, other_admin, db_url, first, mode="CREATE")
    again = await download(client, await export(other_admin, db_url), other_admin.token)
    assert again == first
    # And the imported users are the exported ones, a formula's text included.
    dan = await other_admin.data('query { user(username: "dan") { firstName lastName } }')
    assert dan["user"] == {"firstName": "=HYPERLINK(1)", "lastName": "-5"}


# --- Consistency and reconciliation --------------------------------------------------------------


async def test_the_rows_are_those_that_matched_when_the_export_started(
    client: httpx.AsyncClient,
    admin: Api,
    db_url: str,
    people: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export_file.files, "CHUNK_SIZE", 64)
    write = ExportFile.write
    changed = False

    async def change_meanwhile(self: ExportFile, data: bytes) -> None:
        nonlocal changed
        if not changed:
            changed = True
            await create_user(admin, "aaron")
            await sql(db_url, "DELETE FROM users WHERE username = 'dan'")
        await write(self, data)

    monkeypatch.setattr(ExportFile, "write", change_meanwhile)
    job = await export(admin, db_url, columns=["username"])
    assert changed and job["status"] == "SUCCEEDED", job
    assert records(await download(client, job, admin.token)) == [
        ["username"],
        ["ana"],
        ["bob"],
        ["carla"],
        ["dan"],
    ]


async def test_a_count_mismatch_fails_the_export_loudly(
    client: httpx.AsyncClient,
    admin: Api,
    db_url: str,
    people: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    count = user_counts.count_users

    async def one_more(*args: Any, **kwargs: Any) -> int:
        return await count(*args, **kwargs) + 1

    monkeypatch.setattr(user_counts, "count_users", one_more)
    job = await export(admin, db_url)
    assert job["status"] == "FAILED"
    assert job["error"].startswith("Reconciliation failed: 5 users matched"), job
    assert job["downloadUrl"] is None
    response = await client.get(
        f"/exports/{job['id']}.csv", headers={"authorization": f"Bearer {admin.token}"}
    )
    assert response.status_code == 404
    assert not await sql(db_url, "SELECT 1 FROM files")


# --- Cancel and progress -------------------------------------------------------------------------


async def test_cancel_stops_between_chunks_and_removes_the_file(
    admin: Api, db_url: str, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_file.files, "CHUNK_SIZE", 64)
    store = ExportFile._store
    stored = 0
    job_id = ""

    async def store_then_cancel(self: ExportFile, chunk: bytes, records: int) -> None:
        nonlocal stored
        stored += 1
        if stored == 1:
            cancelled = (await admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
            assert cancelled == {"job": {"status": "RUNNING"}, "userErrors": []}
        await store(self, chunk, records)

    monkeypatch.setattr(ExportFile, "_store", store_then_cancel)
    payload = (await admin.data(START_EXPORT))["startExport"]
    job_id = payload["job"]["id"]
    await run_worker(db_url)
    job = (await admin.data(JOB, id=job_id))["job"]
    assert (job["status"], job["cancelRequested"], job["downloadUrl"]) == ("CANCELLED", True, None)
    # The request was met right after the chunk it came during; the file has many more.
    assert stored == 1
    assert not await sql(db_url, "SELECT 1 FROM files")
    assert not await sql(db_url, "SELECT 1 FROM file_chunks")
    events = await sql(db_url, "SELECT action, target_type FROM events WHERE action LIKE 'job.%'")
    assert [tuple(e) for e in events] == [("job.cancel_requested", "ExportJob")]


async def test_the_job_subscription_follows_an_export(
    settings: Settings,
    admin: Api,
    acme: Tenant,
    db_url: str,
    people: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export_file.files, "CHUNK_SIZE", 64)
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0)
    job_id = (await admin.data(START_EXPORT))["startExport"]["job"]["id"]
    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": SUBSCRIBE.replace("ImportJob { created failed }", "ExportJob { rowCount }"),
            "variables": {"id": job_id},
        },
    }
    async with LifespanManager(create_app(settings)) as manager:
        async with ws_session(manager.app, acme.read_token) as ws:
            await ws.send_json(subscribe)
            first = await ws.receive_json(timeout=5)
            assert first["payload"]["data"]["job"]["status"] == "QUEUED"
            await run_worker(db_url)
            states = await receive_until_complete(ws, "1")
    assert states[-1] == {"status": "SUCCEEDED", "processed": 4, "total": 4, "rowCount": 4}
    running = [s["processed"] for s in states if s["status"] == "RUNNING"]
    # The count first, then the rows as each chunk is stored.
    assert running == sorted(running) and {0, 4} <= set(running), states
    assert any(s["status"] == "RUNNING" and s["total"] == 4 for s in states), states


# --- Downloads -----------------------------------------------------------------------------------


async def test_downloads_need_a_token_of_the_tenant_or_the_signed_link(
    client: httpx.AsyncClient,
    admin: Api,
    other_admin: Api,
    db_url: str,
    people: None,
) -> None:
    job = await export(admin, db_url, columns=["username"])
    path = f"/exports/{job['id']}.csv"
    assert (await client.get(path)).status_code == 401
    theirs = await client.get(path, headers={"authorization": f"Bearer {other_admin.token}"})
    assert theirs.status_code == 404
    assert (await client.get(path, headers={"authorization": "Bearer rst_nope"})).status_code == 401

    link = urlsplit(job["downloadUrl"])
    assert f"{link.scheme}://{link.netloc}" == "http://localhost:8000"  # PUBLIC_URL, not Host
    assert link.path == path
    by_link = await client.get(f"{link.path}?{link.query}")
    assert by_link.status_code == 200
    assert records(by_link.content)[1:] == [["ana"], ["bob"], ["carla"], ["dan"]]
    assert by_link.headers["cache-control"] == "no-store"
    tampered = link.query.replace("signature=", "signature=0")
    assert (await client.get(f"{link.path}?{tampered}")).status_code == 403
    later = link.query.replace("expires=", "expires=9")
    assert (await client.get(f"{link.path}?{later}")).status_code == 403

    downloads = await sql(
        db_url,
        "SELECT actor, data::text FROM events WHERE action = 'export.downloaded' ORDER BY id",
    )
    assert [(d["actor"], json.loads(d["data"])) for d in downloads] == [
        ("signed link", {"signedLink": True})
    ]


async def test_a_signed_link_expires(
    client: httpx.AsyncClient, admin: Api, db_url: str, people: None
) -> None:
    job = await export(admin, db_url, columns=["username"])
    link = urlsplit(job["downloadUrl"])
    expires = int(dict(p.split("=") for p in link.query.split("&"))["expires"])
    assert time.time() + 3500 < expires <= time.time() + 3600  # ROSTER_EXPORT_LINK_TTL
    past = link.query.replace(f"expires={expires}", f"expires={int(time.time()) - 1}")
    assert (await client.get(f"{link.path}?{past}")).status_code == 403


async def test_a_read_token_exports_and_downloads(
    client: httpx.AsyncClient, reader: Api, db_url: str, people: None
) -> None:
    job = await export(reader, db_url, columns=["email"])
    assert job["status"] == "SUCCEEDED"
    assert len(records(await download(client, job, reader.token))) == 5
    started = await sql(
        db_url, "SELECT actor, data::text FROM events WHERE action = 'export.started'"
    )
    assert [(s["actor"], json.loads(s["data"])) for s in started] == [
        ("read token", {"selected": None, "search": False, "filter": [], "columns": ["email"]})
    ]


@pytest.fixture
async def expiring_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(replace(settings, export_ttl=0))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            yield c


async def test_files_expire_and_the_worker_removes_them(
    client: httpx.AsyncClient,
    expiring_client: httpx.AsyncClient,
    admin: Api,
    db_url: str,
    people: None,
) -> None:
    kept = await export(admin, db_url, columns=["email"])
    expired = await export(Api(expiring_client, admin.token), db_url, columns=["email"])
    assert expired["status"] == "SUCCEEDED" and expired["downloadUrl"] is None
    response = await client.get(
        f"/exports/{expired['id']}.csv", headers={"authorization": f"Bearer {admin.token}"}
    )
    assert response.status_code == 404
    assert len(await sql(db_url, "SELECT 1 FROM files")) == 2
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        assert await remove_expired_exports({"pool": pool}) == 1
    finally:
        await pool.close()
    assert len(await sql(db_url, "SELECT 1 FROM files")) == 1
    assert len(records(await download(client, kept, admin.token))) == 5
    assert (await admin.data(JOB, id=expired["id"]))["job"]["downloadUrl"] is None


# --- The CSV stream ------------------------------------------------------------------------------


def test_record_ends_keep_line_breaks_inside_cells() -> None:
    rows = [["a", 'say "hi"\n"there"', ""], ["x\r\n", '"', 'end"\n'], ["", "", ""]]
    lf = io.StringIO()
    csv.writer(lf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    crlf = io.StringIO()
    csv.writer(crlf, dialect=CsvDialect).writerows(rows)
    source = lf.getvalue().encode()
    for size in (1, 2, 3, 7, len(source)):
        ends = RecordEnds()
        out = b"".join(ends.feed(source[i : i + size]) for i in range(0, len(source), size))
        ends.close()
        assert (out, ends.records) == (crlf.getvalue().encode(), 3), size
