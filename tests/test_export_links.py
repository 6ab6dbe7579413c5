"""Who an export belongs to: its signed download links work only while the token that started
it is active, and the one rule for cancelling a job (whoever may start it cancels what they
started; an admin token cancels any)."""

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.conftest import Api, Tenant
from tests.test_cli import roster
from tests.test_exports import CANCEL_JOB, JOB, START_EXPORT, export, records
from tests.test_imports import post_csv, sql


async def token_id(db_url: str, name: str) -> str:
    found = await sql(db_url, "SELECT id FROM api_tokens WHERE name = $1", name)
    return str(found[0]["id"])


async def by_link(client: httpx.AsyncClient, job: dict[str, Any]) -> httpx.Response:
    link = urlsplit(job["downloadUrl"])
    return await client.get(f"{link.path}?{link.query}")


# --- Signed links --------------------------------------------------------------------------------


async def test_a_revoked_tokens_links_answer_403(
    client: httpx.AsyncClient, admin: Api, reader: Api, db_url: str
) -> None:
    mine = await export(reader, db_url, columns=["username"])
    theirs = await export(admin, db_url, columns=["username"])
    # Both links come from the reader, who may see every job of the tenant.
    theirs = (await reader.data(JOB, id=theirs["id"]))["job"]
    assert (await by_link(client, mine)).status_code == 200

    revoked = await roster(db_url, "token", "revoke", await token_id(db_url, "read token"))
    assert revoked.code == 0, revoked

    refused = await by_link(client, mine)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert "token that started the export" in refused.json()["error"]["message"]
    assert refused.headers["content-type"] == "application/json"
    # Another token's export keeps its links; the file itself is still there for a token.
    assert (await by_link(client, theirs)).status_code == 200
    with_token = await client.get(
        f"/exports/{mine['id']}.csv", headers={"authorization": f"Bearer {admin.token}"}
    )
    assert with_token.status_code == 200 and records(with_token.content) == [["username"]]
    downloads = await sql(db_url, "SELECT count(*) FROM events WHERE action = 'export.downloaded'")
    assert downloads[0][0] == 3  # the refused download is not one


async def test_a_deleted_tokens_links_answer_403(
    client: httpx.AsyncClient, admin: Api, reader: Api, db_url: str
) -> None:
    job = await export(reader, db_url, columns=["username"])
    await sql(db_url, "DELETE FROM api_tokens WHERE name = 'read token'")
    assert (await by_link(client, job)).status_code == 403


# --- Cancelling ----------------------------------------------------------------------------------


async def started(api: Api) -> str:
    """An export queued by `api`'s token (no worker runs: it stays QUEUED)."""
    payload = (await api.data(START_EXPORT, columns=["username"]))["startExport"]
    assert payload["userErrors"] == []
    job_id: str = payload["job"]["id"]
    return job_id


async def status(api: Api, job_id: str) -> str:
    found: str = (await api.data(JOB, id=job_id))["job"]["status"]
    return found


async def test_a_read_token_cancels_the_exports_it_started(reader: Api) -> None:
    job_id = await started(reader)
    cancelled = (await reader.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert cancelled == {"job": {"status": "CANCELLED"}, "userErrors": []}
    again = (await reader.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert [e["code"] for e in again["userErrors"]] == ["JOB_FINISHED"]


async def test_a_read_token_cancels_no_other_job(
    client: httpx.AsyncClient, admin: Api, reader: Api, acme: Tenant, db_url: str
) -> None:
    export_id = await started(admin)
    posted = await post_csv(client, acme.admin_token, b"email\nana@example.com\n")
    assert posted.status_code == 202, posted.text
    import_id = posted.json()["id"]
    for job_id in (export_id, import_id):
        body = await reader(CANCEL_JOB, id=job_id)
        assert body["data"] is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        assert await status(admin, job_id) == "QUEUED"
    assert not await sql(db_url, "SELECT 1 FROM events WHERE action = 'job.cancel_requested'")


async def test_an_admin_token_cancels_any_job_of_its_tenant(
    admin: Api, reader: Api, other_admin: Api
) -> None:
    job_id = await started(reader)
    theirs = (await other_admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert [e["code"] for e in theirs["userErrors"]] == ["NOT_FOUND"]
    cancelled = (await admin.data(CANCEL_JOB, id=job_id))["cancelJob"]
    assert cancelled == {"job": {"status": "CANCELLED"}, "userErrors": []}
