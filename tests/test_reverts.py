"""Undoing an import (revertImport, jobs/reverts.py): real PostgreSQL, Redis and the worker."""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from jobs.webhooks import WebhookLoop
from roster.settings import Settings
from rules.addresses import parse_networks
from tests.conftest import Api, create_user
from tests.receiver import Receiver
from tests.test_imports import import_csv, run_worker, sql
from tests.test_webhooks import FAST, LOOPBACK, of_user, user_on, webhook_platform

REVERT = """
mutation($id: ID!, $dryRun: Boolean) { revertImport(id: $id, dryRun: $dryRun) {
  job { id status ... on RevertJob { dryRun reverts { id } } }
  userErrors { field code message } } }
"""
REVERT_JOB = """
query($id: ID!) { job(id: $id) { id status total processed error
  ... on RevertJob { created updated deleted skipped failed dryRun errorReportUrl
    reverts { id }
    rowErrors(first: 100) { edges { node { row code message user { username } } } }
    plan(first: 100) { edges { node { row action fields rolesAdded rolesRemoved irreversible
                                      user { username } } } } } } }
"""
IMPORT_PLAN = """
query($id: ID!) { job(id: $id) { ... on ImportJob {
  plan(first: 100) { edges { node { row action irreversible } } } } } }
"""
UPDATE_USER = """
mutation($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { userErrors { code message } } }
"""
DISABLE = """
mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code message } } }
"""
# Every column of a user but the time of its last change, and every role: the state a revert
# puts back, row by row.
USERS = """
SELECT id, username, email, first_name, last_name, language, time_zone, office_phone,
       mobile_phone, location, external_id, status, attributes, password_hash,
       password_changed_at, welcome_email_sent_at, created_at, disabled_at,
       username_skeleton, email_skeleton
FROM users ORDER BY id
"""
ROLES = "SELECT user_id, platform_id, role FROM user_roles ORDER BY 1, 2, 3"

FILE = (
    b"email,first_name,last_name,status,roles,operation\n"
    b"new@example.com,New,Person,,learningcloud:teacher,\n"
    b"ana@example.com,Anabel,Tester,,contentcloud:author,\n"
    b"bob@example.com,Bob,Tester,DISABLED,,\n"
    b"carl@example.com,,,,,D\n"
    b"dana@example.com,Daniela,Newname,,,\n"
)


async def _state(db_url: str) -> tuple[dict[Any, dict[str, Any]], list[tuple[Any, ...]]]:
    users = {r["id"]: dict(r) for r in await sql(db_url, USERS)}
    return users, [tuple(r) for r in await sql(db_url, ROLES)]


async def _seed(admin: Api) -> dict[str, dict[str, Any]]:
    made = {
        name: await create_user(admin, name, email=f"{name}@example.com")
        for name in ("ana", "bob", "carl", "dana")
    }
    data = await admin.data(DISABLE, ids=[made["carl"]["id"]])
    assert data["disableUsers"]["userErrors"] == []
    return made


async def _revert(admin: Api, db_url: str, job_id: str, dry_run: bool = False) -> dict[str, Any]:
    payload = (await admin.data(REVERT, id=job_id, dryRun=dry_run))["revertImport"]
    assert payload["userErrors"] == [], payload
    await run_worker(db_url)
    job: dict[str, Any] = (await admin.data(REVERT_JOB, id=payload["job"]["id"]))["job"]
    return job


async def test_a_revert_puts_the_directory_back_but_for_later_changes_and_deletions(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> None:
    made = await _seed(admin)
    users_before, roles_before = await _state(db_url)
    imported = await import_csv(client, admin, str(acme.admin_token), db_url, FILE)
    assert imported["status"] == "SUCCEEDED", imported
    assert (imported["created"], imported["updated"], imported["deleted"]) == (1, 3, 1)
    # A change by the API after the import: it wins over the revert.
    data = await admin.data(UPDATE_USER, id=made["dana"]["id"], input={"firstName": "Dani"})
    assert data["updateUser"]["userErrors"] == []

    dry = await _revert(admin, db_url, imported["id"], dry_run=True)
    assert dry["status"] == "SUCCEEDED" and dry["dryRun"], dry
    plan = {e["node"]["row"]: e["node"] for e in dry["plan"]["edges"]}
    assert plan[2]["action"] == "DELETE" and plan[2]["irreversible"]
    assert plan[3] == {
        "row": 3,
        "action": "UPDATE",
        "fields": ["first_name"],
        "rolesAdded": [],
        "rolesRemoved": ["contentcloud:author"],
        "irreversible": False,
        "user": {"username": "ana"},
    }
    assert plan[4]["fields"] == ["status"] and plan[6]["fields"] == ["last_name"]
    errors = {e["node"]["row"]: e["node"] for e in dry["rowErrors"]["edges"]}
    assert errors[5]["code"] == "IMPORT_DELETED"
    assert errors[6]["code"] == "CHANGED_LATER" and "firstName" in errors[6]["message"]
    assert "user.updated" in errors[6]["message"]
    # The dry run changed nothing.
    assert (await _state(db_url))[0][made_id(made, "dana")]["last_name"] == "Newname"

    reverted = await _revert(admin, db_url, imported["id"])
    assert reverted["status"] == "SUCCEEDED", reverted
    assert reverted["reverts"]["id"] == imported["id"]
    counts = [reverted[k] for k in ("total", "processed", "deleted", "updated", "failed")]
    assert counts == [5, 5, 1, 3, 1]
    codes = {e["node"]["row"]: e["node"]["code"] for e in reverted["rowErrors"]["edges"]}
    assert codes == {5: "IMPORT_DELETED", 6: "CHANGED_LATER"}

    users_after, roles_after = await _state(db_url)
    carl = made_id(made, "carl")
    dana = made_id(made, "dana")
    expected = {k: dict(v) for k, v in users_before.items() if k != carl}
    expected[dana]["first_name"] = "Dani"
    assert users_after == expected
    assert roles_after == roles_before

    # Apps see the revert's changes as any others, marked with the revert job.
    revert_job = reverted["id"]
    events = await sql(
        db_url,
        "SELECT action, target_id, data FROM events WHERE data->>'job' = $1 ORDER BY id",
        revert_job,
    )
    actions = {(e["action"], e["target_id"]) for e in events}
    assert ("user.updated", dana) in actions
    assert ("user.enabled", made_id(made, "bob")) in actions
    assert ("user.roles_changed", made_id(made, "ana")) in actions
    assert [e["action"] for e in events].count("user.deleted") == 1

    # Twice: the same revert, nothing more done.
    again = (await admin.data(REVERT, id=imported["id"]))["revertImport"]
    assert again["userErrors"] == [] and again["job"]["id"] == revert_job
    await run_worker(db_url)
    assert await _state(db_url) == (users_after, roles_after)

    # A revert of a revert is refused.
    refused = (await admin.data(REVERT, id=revert_job))["revertImport"]
    assert [e["code"] for e in refused["userErrors"]] == ["REVERT_OF_REVERT"]


def made_id(made: dict[str, dict[str, Any]], name: str) -> Any:
    import uuid

    from resolvers.ids import decode_id

    user_id = decode_id(made[name]["id"], "User")
    assert isinstance(user_id, uuid.UUID)
    return user_id


async def test_the_import_dry_run_says_deletions_cannot_be_undone(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> None:
    await _seed(admin)
    job = await import_csv(client, admin, str(acme.admin_token), db_url, FILE, dryRun="true")
    plan = (await admin.data(IMPORT_PLAN, id=job["id"]))["job"]["plan"]["edges"]
    irreversible = {e["node"]["row"] for e in plan if e["node"]["irreversible"]}
    assert irreversible == {5}
    # And a dry run is not reverted: it changed nothing.
    refused = (await admin.data(REVERT, id=job["id"]))["revertImport"]
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_APPLIED"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The API's, with loopback allowed for webhooks (the receiver listens there)."""
    return dataclasses.replace(settings, webhook_allowed_networks=parse_networks(LOOPBACK))


@pytest.fixture
async def deliveries(db_url: str) -> AsyncIterator[WebhookLoop]:
    loop = await WebhookLoop.start(db_url, FAST)
    try:
        yield loop
    finally:
        await loop.stop()


async def test_apps_get_the_reverts_changes_as_webhooks_marked_with_it(
    client: httpx.AsyncClient,
    admin: Api,
    acme: Any,
    db_url: str,
    receiver: Receiver,
    deliveries: WebhookLoop,
) -> None:
    await webhook_platform(admin, receiver.url, "crm")
    ana = await user_on(admin, "ana", "crm")
    await receiver.wait_for(1)
    body = b"email,first_name,roles\nana@example.com,Anabel,\nnew@example.com,New,crm:agent\n"
    imported = await import_csv(client, admin, str(acme.admin_token), db_url, body)
    assert (imported["created"], imported["updated"]) == (1, 1), imported
    received = await receiver.wait_for(3)
    new_id = next(
        e["userId"] for e in received if e["type"] == "user.created" and e is not received[0]
    )
    reverted = await _revert(admin, db_url, imported["id"])
    assert reverted["status"] == "SUCCEEDED", reverted
    received = await receiver.wait_for(5)
    assert of_user(received, ana["id"]) == ["user.created", "user.updated", "user.updated"]
    assert of_user(received, new_id) == ["user.created", "user.deleted"]
    for event in received[-2:]:
        assert event["data"]["job"] == reverted["id"], event
