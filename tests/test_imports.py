"""CSV imports end to end: upload, a real arq worker, the database afterwards."""

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from arq.connections import RedisSettings
from arq.worker import create_worker
from asgi_lifespan import LifespanManager
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from redis.asyncio import Redis

from db import migrate
from db.pool import connect
from jobs import imports, progress
from jobs.import_writer import ChunkWriter
from jobs.worker import WorkerSettings
from resolvers.ids import decode_id
from roster.app import create_app
from roster.settings import Settings
from tests.conftest import REDIS_URL, Api, create_user, database_url, make_tenant

JOB = """
query($id: ID!) { job(id: $id) { id status total processed error
  ... on ImportJob { created updated deleted skipped failed dryRun errorReportUrl
    rowErrors(first: 100) { edges { node { row column code message } } }
    plan(first: 100) { edges { node { row action fields rolesAdded rolesRemoved
                                      user { username } } } } } } }
"""


async def run_worker(db_url: str) -> None:
    """Runs queued jobs to the end in this event loop, as a worker process would."""
    worker = create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(REDIS_URL),
        ctx={"database_url": db_url, "hash_workers": 1},
        burst=True,
        poll_delay=0,
        cron_jobs=[],
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()


async def post_csv(
    client: httpx.AsyncClient, token: str, body: bytes, **params: str
) -> httpx.Response:
    return await client.post(
        "/imports", content=body, params=params, headers={"authorization": f"Bearer {token}"}
    )


async def import_csv(
    client: httpx.AsyncClient, api: Api, token: str, db_url: str, body: bytes, **params: str
) -> dict[str, Any]:
    response = await post_csv(client, token, body, **params)
    assert response.status_code == 202, response.text
    await run_worker(db_url)
    job: dict[str, Any] = (await api.data(JOB, id=response.json()["id"]))["job"]
    return job


@pytest.fixture
def token(acme: Any) -> str:
    return str(acme.admin_token)


USERS = """
query { users(first: 100) { totalCount edges { node { username email firstName lastName status
  roles { role platform { key } } } } } }
"""


async def test_import_creates_users(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    body = (
        "email,first_name,last_name,roles\n"
        "ana@example.com,Ana,García,learningcloud:teacher|contentcloud:author\n"
        "bob@example.com,Bob,Núñez,\n"
    ).encode()
    job = await import_csv(client, admin, token, db_url, body)
    assert job["status"] == "SUCCEEDED", job
    assert (job["total"], job["processed"], job["created"], job["failed"]) == (2, 2, 2, 0)
    users = (await admin.data(USERS))["users"]
    assert users["totalCount"] == 2
    ana = users["edges"][0]["node"]
    assert ana["username"] == "ana@example.com"
    assert sorted(r["role"] for r in ana["roles"]) == ["author", "teacher"]
    # The users doubled (from none): which search words are rare was sampled again.
    sampled = await sql(db_url, "SELECT users FROM search_trigrams_sampled")
    assert [r["users"] for r in sampled] == [2]
    assert await sql(db_url, "SELECT 1 FROM search_trigrams WHERE trigram = 'gar'")


# --- Helpers ----------------------------------------------------------------------------------

START_IMPORT = """
mutation($file: Upload, $options: ImportOptions, $dryRunJobId: ID) {
  startImport(file: $file, options: $options, dryRunJobId: $dryRunJobId) {
    job { id status ... on ImportJob { dryRun } }
    userErrors { field code message }
  }
}
"""
CANCEL_JOB = """
mutation($id: ID!) { cancelJob(id: $id) {
  job { id status processed ... on ImportJob { created cancelRequested } }
  userErrors { field code message } } }
"""
CREATE_PLATFORM = """
mutation($input: CreatePlatformInput!) {
  createPlatform(input: $input) { platform { key } userErrors { code message } } }
"""
DISABLE = """
mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code message } } }
"""
USER = """
query($email: String!) { user(email: $email) { id username email firstName lastName language
  externalId status attributes roles { role platform { key } } } }
"""


async def sql(db_url: str, query: str, *args: Any) -> list[Any]:
    conn = await connect(db_url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def upload(
    client: httpx.AsyncClient,
    token: str | None,
    body: bytes,
    options: dict[str, Any] | None = None,
    name: str = "users.csv",
) -> httpx.Response:
    """startImport through the GraphQL multipart request spec."""
    operations = {"query": START_IMPORT, "variables": {"file": None, "options": options}}
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (name, body, "text/csv")},
        headers=headers,
    )


def reconciled(job: dict[str, Any]) -> dict[str, Any]:
    """Checks a finished import's counters add up, and returns it."""
    parts = job["created"] + job["updated"] + job["deleted"] + job["skipped"] + job["failed"]
    assert job["processed"] == job["total"] == parts, job
    return job


async def finished(
    client: httpx.AsyncClient, api: Api, db_url: str, body: bytes, **params: str
) -> dict[str, Any]:
    """Imports `body` with the api's token through POST /imports; the job, reconciled."""
    assert api.token is not None
    job = await import_csv(client, api, api.token, db_url, body, **params)
    assert job["status"] == "SUCCEEDED", job
    return reconciled(job)


def errors_of(job: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [
        (e["node"]["row"], e["node"]["column"], e["node"]["code"])
        for e in job["rowErrors"]["edges"]
    ]


async def user(api: Api, email: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await api.data(USER, email=email))["user"]
    return found


def roles_of(found: dict[str, Any] | None) -> set[str]:
    assert found is not None
    return {f"{r['platform']['key']}:{r['role']}" for r in found["roles"]}


async def snapshot(db_url: str) -> dict[str, Any]:
    """What an import may change: users, roles, events (by action), files aside."""
    users = await sql(
        db_url,
        "SELECT username, email, first_name, last_name, status, language, external_id, "
        "attributes::text AS attributes, password_hash FROM users ORDER BY username",
    )
    roles = await sql(
        db_url,
        "SELECT u.username, p.key, r.role FROM user_roles r JOIN users u ON u.id = r.user_id "
        "JOIN platforms p ON p.id = r.platform_id ORDER BY 1, 2, 3",
    )
    events = await sql(
        db_url,
        "SELECT action, count(*) FROM events WHERE action NOT IN ('import.started') "
        "GROUP BY action ORDER BY action",
    )
    return {
        "users": [tuple(u) for u in users],
        "roles": [tuple(r) for r in roles],
        "events": [tuple(e) for e in events],
    }


# --- Upload, both ways -------------------------------------------------------------------------


async def test_multipart_upload_returns_the_queued_job(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    response = await upload(
        client, token, b"email,first_name\nana@example.com,Ana\n", {"mode": "CREATE"}
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["startImport"]
    assert payload["userErrors"] == []
    assert payload["job"]["status"] == "QUEUED" and payload["job"]["dryRun"] is False
    await run_worker(db_url)
    job = reconciled((await admin.data(JOB, id=payload["job"]["id"]))["job"])
    assert (job["status"], job["created"]) == ("SUCCEEDED", 1)
    assert (await user(admin, "ana@example.com")) is not None


async def test_post_imports_returns_202_with_the_queued_job(
    client: httpx.AsyncClient, admin: Api, token: str
) -> None:
    response = await post_csv(client, token, b"email\nana@example.com\n", mode="CREATE")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "QUEUED"
    job = (await admin.data(JOB, id=response.json()["id"]))["job"]
    assert job["status"] == "QUEUED"


async def test_uploads_need_an_admin_token_of_the_tenant(
    client: httpx.AsyncClient,
    admin: Api,
    other_admin: Api,
    acme: Any,
    token: str,
    db_url: str,
) -> None:
    body = b"email\nana@example.com\n"
    assert (await post_csv(client, "", body)).status_code == 401
    assert (await client.post("/imports", content=body)).status_code == 401
    assert (await post_csv(client, "rst_not-a-token", body)).status_code == 401
    assert (await post_csv(client, acme.read_token, body)).status_code == 403
    assert (await upload(client, None, body)).status_code == 401
    refused = await upload(client, acme.read_token, body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert (await sql(db_url, "SELECT count(*) FROM jobs"))[0][0] == 0
    # Tenant-scoped: globex neither sees nor cancels acme's job.
    job_id = (await post_csv(client, token, body)).json()["id"]
    assert (await other_admin.data(JOB, id=job_id))["job"] is None
    cancel = (await other_admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert [e["code"] for e in cancel["userErrors"]] == ["NOT_FOUND"]
    await run_worker(db_url)
    assert (await other_admin.data(USERS))["users"]["totalCount"] == 0
    assert (await admin.data(USERS))["users"]["totalCount"] == 1


@pytest.fixture
async def small_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, max_upload_bytes=64))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            yield c


async def test_too_large_and_empty_files_are_refused_and_store_nothing(
    small_client: httpx.AsyncClient, token: str, db_url: str
) -> None:
    big = b"email\n" + b"".join(b"user%d@example.com\n" % i for i in range(10))
    response = await post_csv(small_client, token, big)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"
    payload = (await upload(small_client, token, big)).json()["data"]["startImport"]
    assert payload["job"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["FILE_TOO_LARGE"]

    response = await post_csv(small_client, token, b"")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "EMPTY_FILE"
    payload = (await upload(small_client, token, b"")).json()["data"]["startImport"]
    assert [e["code"] for e in payload["userErrors"]] == ["EMPTY_FILE"]

    assert (await sql(db_url, "SELECT count(*) FROM jobs"))[0][0] == 0
    assert (await sql(db_url, "SELECT count(*) FROM files"))[0][0] == 0
    assert (await sql(db_url, "SELECT count(*) FROM file_chunks"))[0][0] == 0
    # Under the limit it works.
    response = await post_csv(small_client, token, b"email\nana@example.com\n")
    assert response.status_code == 202, response.text


# --- Encodings, delimiters, shapes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "params"),
    [
        ("email,first_name,last_name\nana@example.com,José,Núñez €\n".encode(), {}),
        (
            b"\xef\xbb\xbf"
            + "email,first_name,last_name\r\nana@example.com,José,Núñez €\r\n".encode(),
            {},
        ),
        ("email;first_name;last_name\r\nana@example.com;José;Núñez €\r\n".encode("cp1252"), {}),
        ("email\tfirst_name\tlast_name\nana@example.com\tJosé\tNúñez €\n".encode(), {}),
        (
            "email;first_name;last_name\nana@example.com;José;Núñez €\n".encode("cp1252"),
            {"encoding": "windows-1252", "delimiter": ";"},
        ),
    ],
    ids=["utf8", "utf8-bom-crlf", "cp1252-semicolon", "tab", "given"],
)
async def test_encodings_and_delimiters(
    client: httpx.AsyncClient, admin: Api, db_url: str, body: bytes, params: dict[str, str]
) -> None:
    job = await finished(client, admin, db_url, body, **params)
    assert (job["created"], job["failed"]) == (1, 0), job
    found = await user(admin, "ana@example.com")
    assert found is not None
    assert (found["firstName"], found["lastName"]) == ("José", "Núñez €")


async def test_quoted_newlines_keep_spreadsheet_row_numbers(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    # A quoted line break is part of its cell (stored as LF), and the record goes on.
    body = (
        b"email,first_name,attr:address\r\n"
        b'ana@example.com,Ana,"Calle Mayor 1\r\nMadrid\r\nSpain"\r\n'
        b"\r\n"
        b'not-an-email,Bad,"two\nlines"\r\n'
        b'bob@example.com,"Bob ""the"" builder",Sevilla\r\n'
    )
    job = await finished(client, admin, db_url, body)
    # Records: row 2 ana, row 3 blank, row 4 the bad one, row 5 bob.
    assert errors_of(job) == [(4, "email", "INVALID_EMAIL")]
    assert (job["total"], job["created"], job["skipped"], job["failed"]) == (4, 2, 1, 1)
    ana = await sql(db_url, "SELECT attributes FROM users WHERE email = 'ana@example.com'")
    assert ana[0][0] == {"address": "Calle Mayor 1\nMadrid\nSpain"}
    bob = await user(admin, "bob@example.com")
    assert bob is not None and bob["firstName"] == 'Bob "the" builder'


async def test_the_replaced_products_header(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    for key, roles in (("lcentral", ["member", "admin"]), ("lsocial", ["user", "moderator"])):
        made = await admin.data(
            CREATE_PLATFORM, input={"key": key, "name": key.title(), "roles": roles}
        )
        assert made["createPlatform"]["userErrors"] == [], made
    body = (
        "Operation,Username,Name,e-mail,Surname,Active,Password,Language,Time Zone,"
        "Office Phone,Mobile Phone,Interests,About me,Location,lcloud,lcentral,lsocial\r\n"
        "C,jgarcia,Juana,juana@example.com,García,1,,es,Europe/Madrid,+34 911 234 567,"
        "+34 600 123 456,Chess,Teacher of maths,Madrid,student|tutor,member,user\r\n"
        "C,pperez,Pedro,pedro@example.com,Pérez,0,,en,,,,,,,teacher,,moderator\r\n"
    ).encode("cp1252")
    job = await finished(client, admin, db_url, body)
    assert (job["created"], job["failed"]) == (2, 0), job
    juana = await user(admin, "juana@example.com")
    assert juana is not None
    assert (juana["username"], juana["firstName"], juana["lastName"]) == (
        "jgarcia",
        "Juana",
        "García",
    )
    assert (juana["status"], juana["language"]) == ("ACTIVE", "es")
    assert juana["attributes"] == {"interests": "Chess", "about_me": "Teacher of maths"}
    assert roles_of(juana) == {
        "learningcloud:student",
        "learningcloud:tutor",
        "lcentral:member",
        "lsocial:user",
    }
    pedro = await user(admin, "pedro@example.com")
    assert pedro is not None and pedro["status"] == "DISABLED"
    assert roles_of(pedro) == {"learningcloud:teacher", "lsocial:moderator"}


# --- File errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"email,first_name,favourite_colour\nana@example.com,Ana,red\n", "favourite_colour"),
        (b"username,first_name\nana,Ana\n", "e-mail column"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4, "not a CSV"),
        (bytes(range(1, 32)) * 40, "binary"),
        (b'email,first_name\nana@example.com,"Ana\n', "not valid CSV"),
    ],
    ids=["unknown-column", "no-email", "xlsx", "binary", "open-quote"],
)
async def test_file_errors_fail_the_job_and_change_nothing(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str, body: bytes, expected: str
) -> None:
    before = await snapshot(db_url)
    job = await import_csv(client, admin, token, db_url, body)
    assert job["status"] == "FAILED", job
    assert expected in (job["error"] or ""), job["error"]
    assert (job["created"], job["updated"], job["deleted"]) == (0, 0, 0)
    assert await snapshot(db_url) == before


# --- Row errors --------------------------------------------------------------------------------


async def test_every_row_error_kind(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> None:
    await sql(db_url, "UPDATE tenants SET min_password_length = 12 WHERE id = $1", acme.id)
    await create_user(admin, "olga")
    gone = await create_user(admin, "gone")
    await create_user(admin, "keep")
    assert (await admin.data(DISABLE, ids=[gone["id"]]))["disableUsers"]["userErrors"] == []
    argon = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
    body = (
        "operation,username,email,first_name,roles,password,password_hash\n"
        ",new1,new1@example.com,New,learningcloud:student,,\n"  # 2 created
        ",noemail,,Nobody,,,\n"  # 3 REQUIRED
        ",bad,not-an-email,Bad,,,\n"  # 4 INVALID_EMAIL
        ",dupe,NEW1@example.com,Dupe,,,\n"  # 5 duplicate e-mail of row 2
        ",New1,other@example.com,Other,,,\n"  # 6 duplicate username of row 2
        ",x,x@example.com,X,nowhere:student,,\n"  # 7 UNKNOWN_PLATFORM
        ",y,y@example.com,Y,learningcloud:wizard,,\n"  # 8 UNKNOWN_ROLE
        ",z,z@example.com,Z,,short-pw1,\n"  # 9 PASSWORD_TOO_SHORT (tenant minimum 12)
        ",w,w@example.com,W,,,not-a-hash\n"  # 10 INVALID_PASSWORD_HASH
        f',h,h@example.com,H,,,"{argon}"\n'  # 11 created with that hash
        ",p,p@example.com,P,,Long enough pass 42,\n"  # 12 created with a password
        "D,,olga@example.com,,,,\n"  # 13 USER_ACTIVE
        "D,,gone@example.com,,,,\n"  # 14 deleted
        "U,,nobody@example.com,,,,\n"  # 15 NOT_FOUND
        "C,,keep@example.com,,,,\n"  # 16 USER_EXISTS
        "X,,q@example.com,,,,\n"  # 17 INVALID_OPERATION
    ).encode()
    job = await finished(client, admin, db_url, body)
    errors = errors_of(job)
    assert [(row, code) for row, _, code in errors] == [
        (3, "REQUIRED"),
        (4, "INVALID_EMAIL"),
        (5, "DUPLICATE_IN_FILE"),
        (6, "DUPLICATE_IN_FILE"),
        (7, "UNKNOWN_PLATFORM"),
        (8, "UNKNOWN_ROLE"),
        (9, "PASSWORD_TOO_SHORT"),
        (10, "INVALID_PASSWORD_HASH"),
        (13, "USER_ACTIVE"),
        (15, "NOT_FOUND"),
        (16, "USER_EXISTS"),
        (17, "INVALID_OPERATION"),
    ]
    columns = {row: column for row, column, _ in errors}
    assert columns[3] == columns[4] == "email"
    assert (columns[7], columns[8], columns[9], columns[10]) == (
        "roles",
        "roles",
        "password",
        "password_hash",
    )
    messages = {e["node"]["row"]: e["node"]["message"] for e in job["rowErrors"]["edges"]}
    assert "Row 2" in messages[5] and "Row 2" in messages[6]
    assert all(messages.values())
    assert (job["created"], job["deleted"], job["failed"], job["total"]) == (3, 1, 12, 16)
    assert await user(admin, "gone@example.com") is None
    assert await user(admin, "olga@example.com") is not None
    hashes = dict(
        (r[0], r[1]) for r in await sql(db_url, "SELECT username, password_hash FROM users")
    )
    assert hashes["h"] == argon
    assert hashes["p"] is not None and hashes["p"].startswith("$argon2id$")
    assert hashes["new1"] is None
    assert job["errorReportUrl"]


async def test_duplicates_across_chunks_name_the_first_row(
    client: httpx.AsyncClient, admin: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    body = (
        b"username,email\n"
        b"a,a@example.com\n"  # 2
        b"b,b@example.com\n"  # 3
        b"c,A@example.com\n"  # 4: e-mail of row 2 (next chunk)
        b"B,d@example.com\n"  # 5: username of row 3
        b"e,e@example.com\n"  # 6
        b"f,a@EXAMPLE.com\n"  # 7: e-mail of row 2 again
        b"e,g@example.com\n"  # 8: username of row 6, same chunk-pair boundary
        b"h,h@example.com\n"  # 9
    )
    job = await finished(client, admin, db_url, body)
    messages = {e["node"]["row"]: e["node"]["message"] for e in job["rowErrors"]["edges"]}
    assert sorted(messages) == [4, 5, 7, 8]
    assert messages[4].startswith("Row 2 has the same e-mail;")
    assert messages[5].startswith("Row 3 has the same username;")
    assert messages[7].startswith("Row 2 has the same e-mail;")
    assert messages[8].startswith("Row 6 has the same username;")
    assert (job["created"], job["failed"]) == (4, 4)
    assert not await sql(db_url, "SELECT * FROM job_keys")
    assert not await sql(db_url, "SELECT * FROM job_chunks")


async def test_modes(client: httpx.AsyncClient, admin: Api, db_url: str) -> None:
    await create_user(admin, "old", firstName="Old")
    create = b"email,first_name\nold@example.com,Changed\nnew@example.com,New\n"
    job = await finished(client, admin, db_url, create, mode="CREATE")
    assert errors_of(job) == [(2, None, "USER_EXISTS")]
    assert (job["created"], job["updated"], job["failed"]) == (1, 0, 1)
    assert (await user(admin, "old@example.com") or {})["firstName"] == "Old"

    update = b"email,first_name\nold@example.com,Changed\nunknown@example.com,X\n"
    job = await finished(client, admin, db_url, update, mode="UPDATE")
    assert errors_of(job) == [(3, None, "NOT_FOUND")]
    assert (job["created"], job["updated"], job["failed"]) == (0, 1, 1)
    assert (await user(admin, "old@example.com") or {})["firstName"] == "Changed"
    assert await user(admin, "unknown@example.com") is None

    upsert = b"email,first_name\nold@example.com,Again\nnew@example.com,New\nthird@example.com,T\n"
    job = await finished(client, admin, db_url, upsert, mode="UPSERT")
    assert errors_of(job) == []
    # new@example.com is unchanged: a row that changes nothing is skipped.
    assert (job["created"], job["updated"], job["skipped"]) == (1, 1, 1)


async def test_match_by_username_and_external_id(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    await create_user(admin, "ana", externalId="EXT-1")
    await create_user(admin, "bob")
    by_username = b"username,email\nana,ana.new@example.com\n"
    job = await finished(client, admin, db_url, by_username, matchBy="USERNAME")
    assert (job["updated"], job["created"]) == (1, 0), job
    ana = await user(admin, "ana.new@example.com")
    assert ana is not None and ana["username"] == "ana"
    # By e-mail the same row is a new user whose username is taken.
    again = b"username,email\nbob,bob.other@example.com\n"
    job = await finished(client, admin, db_url, again, matchBy="EMAIL")
    assert errors_of(job) == [(2, "username", "USERNAME_TAKEN")]

    by_external = (
        b"external_id,email,first_name\n"
        b"EXT-1,ana.ext@example.com,Anita\n"
        b",nobody@example.com,No\n"
        b"EXT-2,bob@example.com,Bob\n"
    )
    job = await finished(client, admin, db_url, by_external, matchBy="EXTERNAL_ID", mode="UPDATE")
    assert errors_of(job) == [(3, "external_id", "REQUIRED"), (4, None, "NOT_FOUND")]
    ana = await user(admin, "ana.ext@example.com")
    assert ana is not None and (ana["username"], ana["firstName"]) == ("ana", "Anita")


async def test_update_merges_roles_and_status(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    await create_user(
        admin,
        "ana",
        firstName="Ana",
        lastName="García",
        language="es",
        roles=[{"platform": "learningcloud", "role": "student"}],
    )
    body = b"operation,email,first_name,last_name,language,roles\nU,ana@example.com,,Gil,,\n"
    job = await finished(client, admin, db_url, body)
    assert job["updated"] == 1
    ana = await user(admin, "ana@example.com")
    assert ana is not None
    assert (ana["firstName"], ana["lastName"], ana["language"]) == ("Ana", "Gil", "es")
    assert roles_of(ana) == {"learningcloud:student"}

    merge = b"email,roles\nana@example.com,contentcloud:author\n"
    await finished(client, admin, db_url, merge, rolesMode="MERGE")
    assert roles_of(await user(admin, "ana@example.com")) == {
        "learningcloud:student",
        "contentcloud:author",
    }
    replace = b"email,roles\nana@example.com,contentcloud:editor|lcloud:tutor\n"
    job = await finished(client, admin, db_url, replace, rolesMode="REPLACE")
    assert job["updated"] == 1
    assert roles_of(await user(admin, "ana@example.com")) == {
        "contentcloud:editor",
        "learningcloud:tutor",
    }
    job = await finished(client, admin, db_url, replace, rolesMode="REPLACE")
    assert (job["updated"], job["skipped"]) == (0, 1)

    job = await finished(client, admin, db_url, b"email,status\nana@example.com,DISABLED\n")
    assert job["updated"] == 1
    assert (await user(admin, "ana@example.com") or {})["status"] == "DISABLED"
    job = await finished(client, admin, db_url, "email,active\nana@example.com,sí\n".encode())
    assert job["updated"] == 1
    assert (await user(admin, "ana@example.com") or {})["status"] == "ACTIVE"
    actions = {r[0] for r in await sql(db_url, "SELECT action FROM events")}
    assert {"user.disabled", "user.enabled", "user.roles_changed", "user.updated"} <= actions


# --- Dry run -----------------------------------------------------------------------------------


async def test_dry_run_changes_nothing_then_applies_the_same_file(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    await create_user(admin, "old", firstName="Old")
    gone = await create_user(admin, "gone")
    await create_user(admin, "same", firstName="Same", lastName="Tester")
    await admin.data(DISABLE, ids=[gone["id"]])
    body = (
        b"operation,email,first_name,last_name,roles\n"
        b",new@example.com,New,One,learningcloud:student\n"
        b",old@example.com,Olga,,contentcloud:author\n"
        b"D,gone@example.com,,,\n"
        b",same@example.com,Same,Tester,\n"
        b",broken,X,,\n"
        b"C,old2@example.com,,,nowhere:x\n"
    )
    before = await snapshot(db_url)
    dry = await finished(client, admin, db_url, body, dryRun="true", mode="UPSERT")
    assert dry["dryRun"] is True
    assert await snapshot(db_url) == before
    assert (dry["created"], dry["updated"], dry["deleted"], dry["skipped"], dry["failed"]) == (
        1,
        1,
        1,
        1,
        2,
    )
    assert errors_of(dry) == [(6, "email", "INVALID_EMAIL"), (7, "roles", "UNKNOWN_PLATFORM")]
    plan = {p["node"]["row"]: p["node"] for p in dry["plan"]["edges"]}
    assert sorted(plan) == [2, 3, 4, 5]
    assert plan[2]["action"] == "CREATE" and plan[2]["user"] is None
    assert {"email", "first_name", "last_name", "username"} <= set(plan[2]["fields"])
    assert plan[3]["action"] == "UPDATE" and plan[3]["user"]["username"] == "old"
    assert plan[3]["fields"] == ["first_name"]
    assert plan[3]["rolesAdded"] == ["contentcloud:author"]
    assert plan[4]["action"] == "DELETE" and plan[4]["user"]["username"] == "gone"
    assert plan[5]["action"] == "NOOP"

    payload = (await admin.data(START_IMPORT, dryRunJobId=dry["id"]))["startImport"]
    assert payload["userErrors"] == [] and payload["job"]["status"] == "QUEUED"
    assert payload["job"]["dryRun"] is False
    await run_worker(db_url)
    real = reconciled((await admin.data(JOB, id=payload["job"]["id"]))["job"])
    assert real["status"] == "SUCCEEDED"
    counters = ("total", "processed", "created", "updated", "deleted", "skipped", "failed")
    assert [real[c] for c in counters] == [dry[c] for c in counters]
    assert errors_of(real) == errors_of(dry)
    assert real["plan"]["edges"] == []
    assert await user(admin, "gone@example.com") is None
    old = await user(admin, "old@example.com")
    assert old is not None and old["firstName"] == "Olga"
    assert roles_of(old) == {"contentcloud:author"}
    # A job that is not a dry run cannot be applied.
    again = (await admin.data(START_IMPORT, dryRunJobId=real["id"]))["startImport"]
    assert again["userErrors"] == [
        {
            "field": ["dryRunJobId"],
            "code": "NOT_A_FINISHED_DRY_RUN",
            "message": "This import is not a dry run.",
        }
    ]
    # Nor can the dry run twice: the answer names the import that applied it.
    twice = (await admin.data(START_IMPORT, dryRunJobId=dry["id"]))["startImport"]
    assert twice["job"] is None
    assert twice["userErrors"] == [
        {
            "field": ["dryRunJobId"],
            "code": "DRY_RUN_APPLIED",
            "message": f"This dry run was applied already, by import {real['id']} (SUCCEEDED).",
        }
    ]


# --- Cancel ------------------------------------------------------------------------------------


async def test_cancel_a_queued_job(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    job_id = (await post_csv(client, token, b"email\nana@example.com\n")).json()["id"]
    cancelled = (await admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert cancelled["userErrors"] == []
    assert cancelled["job"]["status"] == "CANCELLED"
    await run_worker(db_url)
    job = (await admin.data(JOB, id=job_id))["job"]
    assert (job["status"], job["processed"]) == ("CANCELLED", 0)
    assert (await admin.data(USERS))["users"]["totalCount"] == 0
    again = (await admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert [e["code"] for e in again["userErrors"]] == ["JOB_FINISHED"]


async def test_cancel_a_running_job_stops_at_the_next_chunk(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    monkeypatch.setattr(imports, "WRITERS", 1)  # so that "the second chunk" is one chunk
    body = b"email\n" + b"".join(b"u%d@example.com\n" % i for i in range(7))
    job_id = (await post_csv(client, token, body)).json()["id"]
    write = ChunkWriter.write
    calls = 0

    async def write_then_cancel(self: Any, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        result = await write(self, *args)
        if calls == 2:
            cancelled = (await admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
            assert cancelled["userErrors"] == []
            assert cancelled["job"]["status"] == "RUNNING"
            assert cancelled["job"]["cancelRequested"] is True
        return result

    monkeypatch.setattr(ChunkWriter, "write", write_then_cancel)
    await run_worker(db_url)
    job = (await admin.data(JOB, id=job_id))["job"]
    assert (job["status"], job["processed"], job["created"], job["total"]) == (
        "CANCELLED",
        4,
        4,
        7,
    )
    assert calls == 3  # the third chunk met the request and wrote nothing
    assert (await admin.data(USERS))["users"]["totalCount"] == 4
    again = (await admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert [e["code"] for e in again["userErrors"]] == ["JOB_FINISHED"]
    assert not await sql(db_url, "SELECT * FROM job_keys")
    assert not await sql(db_url, "SELECT * FROM job_chunks")


# --- Subscription ------------------------------------------------------------------------------

SUBSCRIBE = """
subscription($id: ID!) { job(id: $id) { status processed total
  ... on ImportJob { created failed } } }
"""


@contextlib.asynccontextmanager
async def ws_session(app: Any, token: str) -> AsyncIterator[Any]:
    transport = ASGIWebSocketTransport(app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://roster.test") as http,
        aconnect_ws("/graphql", http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        )
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        yield ws


async def receive_until_complete(ws: Any, sub_id: str) -> list[dict[str, Any]]:
    states = []
    while True:
        message = await ws.receive_json(timeout=10)
        assert message["id"] == sub_id, message
        if message["type"] == "complete":
            return states
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        states.append(message["payload"]["data"]["job"])


@pytest.fixture
async def ws_apps(settings: Settings) -> AsyncIterator[tuple[Any, Any]]:
    """Two API instances on the same database and Redis."""
    async with (
        LifespanManager(create_app(settings)) as one,
        LifespanManager(create_app(settings)) as two,
    ):
        yield one.app, two.app


async def test_subscription_follows_the_job_on_every_instance(
    ws_apps: tuple[Any, Any],
    client: httpx.AsyncClient,
    acme: Any,
    globex: Any,
    token: str,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    monkeypatch.setattr(imports, "WRITERS", 1)  # chunks commit in order: progress 2, 4, 6
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0)
    body = b"email\n" + b"".join(b"u%d@example.com\n" % i for i in range(6)) + b"bad\n"
    job_id = (await post_csv(client, token, body)).json()["id"]
    subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}
    subscribe["payload"]["variables"] = {"id": job_id}  # type: ignore[index]
    async with (
        ws_session(ws_apps[0], token) as first,
        ws_session(ws_apps[1], acme.read_token) as second,
    ):
        for ws in (first, second):
            await ws.send_json(subscribe)
            current = await ws.receive_json(timeout=5)
            assert current["type"] == "next", current
            assert current["payload"]["data"]["job"]["status"] == "QUEUED"
        await run_worker(db_url)
        for ws in (first, second):
            states = await receive_until_complete(ws, "1")
            assert states[-1] == {
                "status": "SUCCEEDED",
                "processed": 7,
                "total": 7,
                "created": 6,
                "failed": 1,
            }
            assert "RUNNING" in [s["status"] for s in states]
            progress_seen = [s["processed"] for s in states if s["status"] == "RUNNING"]
            assert [2, 4, 6] == [p for p in progress_seen if p in (2, 4, 6)], states
            assert progress_seen == sorted(progress_seen)

    # A finished job: its state, then complete.
    async with ws_session(ws_apps[0], token) as ws:
        await ws.send_json(subscribe)
        states = await receive_until_complete(ws, "1")
        assert [s["status"] for s in states] == ["SUCCEEDED"]
    # Another tenant's job is not found.
    async with ws_session(ws_apps[1], globex.admin_token) as ws:
        await ws.send_json(subscribe)
        message = await ws.receive_json(timeout=5)
        assert message["type"] in ("next", "error"), message
        if message["type"] == "next":
            assert message["payload"]["errors"], message
            assert message["payload"].get("data") is None, message
        assert "acme" not in json.dumps(message)


# --- Recovery ----------------------------------------------------------------------------------


async def test_a_job_lost_from_redis_is_recovered_at_worker_startup(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str, redis: Redis
) -> None:
    job_id = (await post_csv(client, token, b"email\nana@example.com\n")).json()["id"]
    await redis.flushdb()
    await run_worker(db_url)
    job = reconciled((await admin.data(JOB, id=job_id))["job"])
    assert (job["status"], job["created"]) == ("SUCCEEDED", 1)


async def test_applying_a_dry_run_keeps_its_options(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    await create_user(admin, "old", firstName="Old")
    body = b"email,first_name\nold@example.com,Changed\nnew@example.com,New\n"
    dry = await finished(client, admin, db_url, body, dryRun="true", mode="UPDATE")
    assert errors_of(dry) == [(3, None, "NOT_FOUND")]
    payload = (await admin.data(START_IMPORT, dryRunJobId=dry["id"]))["startImport"]
    assert payload["userErrors"] == []
    await run_worker(db_url)
    real = reconciled((await admin.data(JOB, id=payload["job"]["id"]))["job"])
    assert errors_of(real) == [(3, None, "NOT_FOUND")]
    assert (real["updated"], real["created"]) == (1, 0)
    assert await user(admin, "new@example.com") is None


# --- Crash safety ------------------------------------------------------------------------------

CRASH_ROWS = 20_000
COUNTERS = ("status", "total", "processed", "created", "updated", "deleted", "skipped", "failed")


def big_file(rows: int) -> bytes:
    """Mostly new users, with roles and statuses, and invalid rows and in-file duplicates
    spread over many chunks."""
    lines = ["username,email,first_name,last_name,status,roles"]
    for i in range(rows):
        if i % 997 == 500:
            lines.append(f"bad{i},not-an-email-{i},Bad,Row,,")
        elif i % 1499 == 1200:
            lines.append(f"again{i},user{i - 1100}@example.com,Dup,Row,,")  # a chunk before
        else:
            status = "DISABLED" if i % 7 == 0 else "ACTIVE"
            role = ("learningcloud:student", "contentcloud:author|lcloud:tutor", "")[i % 3]
            lines.append(f"user{i},user{i}@example.com,First{i},Last{i},{status},{role}")
    return ("\n".join(lines) + "\n").encode()


async def end_state(db_url: str, job_id: uuid.UUID) -> dict[str, Any]:
    state = await snapshot(db_url)
    job = (await sql(db_url, "SELECT * FROM jobs WHERE id = $1", job_id))[0]
    state["job"] = tuple(job[c] for c in COUNTERS)
    errors = await sql(
        db_url, "SELECT row, code FROM job_row_errors WHERE job_id = $1 ORDER BY row", job_id
    )
    state["errors"] = [tuple(e) for e in errors]
    return state


async def job_row(db_url: str, job_id: uuid.UUID) -> Any:
    return (await sql(db_url, "SELECT status, processed, total FROM jobs WHERE id = $1", job_id))[0]


def start_worker(db_url: str, log: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL}
    return subprocess.Popen(
        [sys.executable, "-m", "roster.cli", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: kill -9 reaches its children too
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.parametrize("claims_lost", [False, True], ids=["worker", "worker-and-database"])
async def test_a_worker_killed_mid_import_resumes_with_the_same_end_state(
    claims_lost: bool,
    client: httpx.AsyncClient,
    settings: Settings,
    template_db: str,
    acme: Any,
    token: str,
    db_url: str,
    tmp_path: Any,
) -> None:
    body = big_file(CRASH_ROWS)

    # The reference: the same file imported without interruption into a fresh database.
    reference_url = database_url(f"roster_test_ref_{uuid.uuid4().hex[:8]}")
    await migrate.create_database(reference_url, template=template_db)
    try:
        reference_tenant = await make_tenant(reference_url, "acme")
        app = create_app(dataclasses.replace(settings, database_url=reference_url))
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ref.test") as ref:
                posted = await post_csv(ref, reference_tenant.admin_token, body)
                assert posted.status_code == 202, posted.text
        await run_worker(reference_url)
        reference_id = decode_id(posted.json()["id"], "ImportJob")
        assert reference_id is not None
        expected = await end_state(reference_url, reference_id)
    finally:
        await migrate.drop_database(reference_url)
    assert expected["job"][0] == "SUCCEEDED", expected["job"]
    assert expected["job"][1] == CRASH_ROWS

    posted = await post_csv(client, token, body)
    assert posted.status_code == 202, posted.text
    job_id = decode_id(posted.json()["id"], "ImportJob")
    assert job_id is not None
    with open(tmp_path / "worker.log", "wb") as log:
        first = start_worker(db_url, log)
        second = None
        try:
            deadline = time.monotonic() + 120
            while True:
                status, processed, total = await job_row(db_url, job_id)
                if total and 0 < processed < total:
                    break
                assert status in ("QUEUED", "RUNNING"), status
                assert time.monotonic() < deadline, "the worker made no progress"
                await asyncio.sleep(0.005)
            stop(first, signal.SIGKILL)
            status, killed_at, total = await job_row(db_url, job_id)
            assert status == "RUNNING" and 0 < killed_at < total
            if claims_lost:
                # What a crash of the database does to the claims (UNLOGGED, 0042): the rows
                # repeating one of a chunk written before are still found on resuming.
                assert await sql(db_url, "SELECT 1 FROM job_keys LIMIT 1")
                await sql(db_url, "DELETE FROM job_keys")

            second = start_worker(db_url, log)
            deadline = time.monotonic() + 180
            while (await job_row(db_url, job_id))[0] in ("QUEUED", "RUNNING"):
                assert time.monotonic() < deadline, "the job was not resumed"
                await asyncio.sleep(0.1)
        finally:
            stop(first, signal.SIGKILL)
            if second is not None:
                stop(second)
    actual = await end_state(db_url, job_id)
    assert actual["job"] == expected["job"]
    assert actual["errors"] == expected["errors"]
    assert actual["events"] == expected["events"]
    assert actual["roles"] == expected["roles"]
    assert actual["users"] == expected["users"]
    assert not await sql(db_url, "SELECT * FROM job_keys")
    assert not await sql(db_url, "SELECT * FROM job_chunks")


async def test_a_failed_try_is_retried_from_its_checkpoint(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str, monkeypatch: Any
) -> None:
    """A passing failure (here: the database connection dropping once) costs one retry."""
    import db.imports
    import jobs.worker

    monkeypatch.setattr(jobs.worker, "RETRY_SECONDS", 0)
    original = db.imports.insert_users
    calls = 0

    async def drops_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("connection reset by peer")
        return await original(*args, **kwargs)

    monkeypatch.setattr(db.imports, "insert_users", drops_once)
    body = b"email\nann@example.com\nbob@example.com\n"
    job = await import_csv(client, admin, token, db_url, body)
    assert (job["status"], job["created"], job["failed"], calls) == ("SUCCEEDED", 2, 0, 2)


async def test_chunks_written_at_once_end_as_the_file_reads_top_to_bottom(
    client: httpx.AsyncClient, admin: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row that renames (or deletes) a user frees a username for a later row in another
    chunk: the later chunk, written at the same time, waits for it."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 1)
    await create_user(admin, "olga")
    gone = await create_user(admin, "gone")
    assert (await admin.data(DISABLE, ids=[gone["id"]]))["disableUsers"]["userErrors"] == []
    body = (
        b"operation,username,email\n"
        b",olga.new,olga@example.com\n"  # olga's username becomes olga.new
        b",olga,new.olga@example.com\n"  # a new user takes "olga"
        b"D,,gone@example.com\n"  # gone is deleted
        b",gone,gone@example.org\n"  # a new user takes "gone"
    )
    job = await finished(client, admin, db_url, body)
    assert errors_of(job) == []
    assert (job["created"], job["updated"], job["deleted"]) == (2, 1, 1)
    assert (await user(admin, "olga@example.com") or {}).get("username") == "olga.new"
    assert (await user(admin, "new.olga@example.com") or {}).get("username") == "olga"
    assert (await user(admin, "gone@example.org") or {}).get("username") == "gone"


async def test_a_chunk_commits_after_an_earlier_one_that_looked_up_what_it_frees(
    client: httpx.AsyncClient, admin: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 2 wants the username "olga", taken; row 3, in the next chunk, renames olga. Row 2's
    chunk fails once after planning (as when a user is created meanwhile) and is planned again:
    row 3's chunk must not have committed the rename meanwhile, or the second plan would give
    "olga" to row 2, which a run one chunk after another never does."""
    import db.jobs

    monkeypatch.setattr(imports, "CHUNK_ROWS", 1)
    await create_user(admin, "olga")
    record_chunk = db.jobs.record_chunk
    tries = 0

    async def first_try_fails(
        conn: Any, tenant_id: Any, job_id: Any, after: int, last: int
    ) -> None:
        """Records a chunk as written, in its transaction, after it planned; row 2's chunk
        (the first) fails its first try here instead."""
        nonlocal tries
        if after == 0:
            tries += 1
            if tries == 1:
                await asyncio.sleep(0.5)  # time for the next chunk to commit, were it let
                raise asyncpg.UniqueViolationError("a user created meanwhile")
        await record_chunk(conn, tenant_id, job_id, after, last)

    monkeypatch.setattr(db.jobs, "record_chunk", first_try_fails)
    body = b"username,email\nolga,new.olga@example.com\nolga.new,olga@example.com\n"
    job = await finished(client, admin, db_url, body)
    assert tries == 2
    assert [(row, code) for row, _, code in errors_of(job)] == [(2, "USERNAME_TAKEN")]
    assert (await user(admin, "olga@example.com") or {}).get("username") == "olga.new"
    assert await user(admin, "new.olga@example.com") is None


async def test_a_repeated_external_id_is_a_row_error(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    body = b"email,external_id\nann@example.com,HR-1\nbob@example.com,HR-1\ncy@example.com,HR-2\n"
    job = await import_csv(client, admin, token, db_url, body)
    assert (job["status"], job["created"], job["failed"]) == ("SUCCEEDED", 2, 1), job
    [error] = [e["node"] for e in job["rowErrors"]["edges"]]
    assert (error["row"], error["code"]) == (3, "DUPLICATE_IN_FILE")
    assert "Row 2" in error["message"]


async def test_a_folder_of_time_zones_is_a_row_error_not_a_crash(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    body = b"email,time_zone\nann@example.com,Europe\nbob@example.com,Europe/Madrid\n"
    job = await import_csv(client, admin, token, db_url, body)
    assert (job["status"], job["created"], job["failed"]) == ("SUCCEEDED", 1, 1), job
    assert job["rowErrors"]["edges"][0]["node"]["code"] == "INVALID_TIME_ZONE"


async def test_passwords_are_kept_neither_in_errors_nor_in_the_stored_file(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    body = (
        b"email,password\n"
        b"ann@example.com,a perfectly fine passphrase\n"
        b"not-an-email,another secret passphrase\n"
    )
    job = await import_csv(client, admin, token, db_url, body)
    assert (job["created"], job["failed"]) == (1, 1), job
    report = await client.get(
        f"/jobs/{job['id']}/errors.csv", headers={"authorization": f"Bearer {token}"}
    )
    assert report.status_code == 200
    assert "secret" not in report.text and "not-an-email" in report.text
    conn = await connect(db_url)
    try:
        # An applied import's upload is gone with it; nothing else holds the passwords.
        assert await conn.fetchval("SELECT count(*) FROM file_chunks") == 0
        assert await conn.fetchval("SELECT count(*) FROM files") == 0
        assert not await conn.fetchval(
            "SELECT count(*) FROM job_row_errors WHERE cells::text LIKE '%secret%'"
        )
    finally:
        await conn.close()


async def test_a_dry_run_keeps_its_file_for_the_real_run(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    job = await import_csv(client, admin, token, db_url, b"email\nann@example.com\n", dryRun="true")
    assert (job["status"], job["dryRun"]) == ("SUCCEEDED", True)
    conn = await connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM files WHERE complete") == 1
    finally:
        await conn.close()


async def test_several_imports_at_once_all_finish(
    client: httpx.AsyncClient, admin: Api, token: str, db_url: str
) -> None:
    """More jobs than a worker runs at a time, each holding a lock connection while it runs."""
    ids = []
    for n in range(6):
        response = await post_csv(client, token, f"email\nu{n}@example.com\n".encode())
        assert response.status_code == 202
        ids.append(response.json()["id"])
    await asyncio.wait_for(run_worker(db_url), timeout=60)
    for job_id in ids:
        job = (await admin.data(JOB, id=job_id))["job"]
        assert (job["status"], job["created"]) == ("SUCCEEDED", 1)
