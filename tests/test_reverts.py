"""Undoing an import (revertImport, jobs/reverts.py): real PostgreSQL, Redis and the worker."""

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import pytest

from db.pool import connect
from jobs.webhooks import WebhookLoop
from roster.settings import Settings
from rules.addresses import parse_networks
from rules.ids import encode_id
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


# Each row changes an identifier (and a name) of a user found by external id; one creates.
RENAMES = (
    b"external_id,username,email,first_name\n"
    b"E1,ana,ana.new@example.com,Anabel\n"
    b"E2,robert,bob@example.com,Roberto\n"
    b"E3,carlos,carl.new@example.com,Carlos\n"
    b"E4,new,new@example.com,New\n"
)
State = tuple[dict[Any, dict[str, Any]], list[tuple[Any, ...]]]


async def _renamed(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> tuple[dict[str, Any], dict[str, Any], State]:
    """Ana, Bob and Carl, then RENAMES imported: their ids by name, the import's job and the
    state before it."""
    made = {
        name: await create_user(admin, name, externalId=f"E{i}")
        for i, name in enumerate(("ana", "bob", "carl"), start=1)
    }
    before = await _state(db_url)
    imported = await import_csv(
        client, admin, str(acme.admin_token), db_url, RENAMES, matchBy="EXTERNAL_ID"
    )
    assert imported["status"] == "SUCCEEDED", imported
    assert (imported["created"], imported["updated"]) == (1, 3), imported
    return {name: made_id(made, name) for name in made}, imported, before


def _put_back_but(
    before: State, now: State, takers: list[Any], kept: Mapping[Any, Sequence[str]]
) -> State:
    """The state a revert leaves: the users as before the import, the `takers` (made since)
    as they are `now`, but for the `kept` columns of some users, as they are `now`."""
    users = {**before[0], **{t: now[0][t] for t in takers}}
    for user_id, columns in kept.items():
        users[user_id] = {**users[user_id], **{c: now[0][user_id][c] for c in columns}}
    return users, before[1]


async def test_identifiers_taken_since_the_import_are_row_errors_and_the_rest_is_put_back(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> None:
    ids, imported, before = await _renamed(client, admin, acme, db_url)
    # Through the API, other users take Ana's old e-mail, Carl's old username, and a username
    # that looks like Bob's old one ("b0b" beside "bob"); Carl's old e-mail is free.
    thief = await create_user(admin, "thief", email="ANA@example.com")
    lookalike = await create_user(admin, "b0b", email="zed@example.com")
    carl2 = await create_user(admin, "carl", email="carl2@example.com")
    now = await _state(db_url)

    dry = await _revert(admin, db_url, imported["id"], dry_run=True)
    assert dry["status"] == "SUCCEEDED", dry
    errors = [e["node"] for e in dry["rowErrors"]["edges"]]
    assert [(e["row"], e["code"], e["user"]["username"]) for e in errors] == [
        (2, "IDENTIFIER_TAKEN", "ana"),
        (3, "IDENTIFIER_TAKEN", "robert"),
        (4, "IDENTIFIER_TAKEN", "carlos"),
    ]
    assert errors[0]["message"] == (
        f"email: another user ({thief['id']}) has it now; the import's value is kept."
    )
    assert errors[1]["message"].startswith(
        f"username: another user ({lookalike['id']}) has one that looks the same now"
    )
    assert errors[2]["message"].startswith(f"username: another user ({carl2['id']}) has it")
    plan = {e["node"]["row"]: e["node"] for e in dry["plan"]["edges"]}
    assert {row: (p["action"], p["fields"]) for row, p in plan.items()} == {
        2: ("UPDATE", ["first_name"]),
        3: ("UPDATE", ["first_name"]),
        4: ("UPDATE", ["email", "first_name"]),
        5: ("DELETE", []),
    }
    assert await _state(db_url) == now

    reverted = await _revert(admin, db_url, imported["id"])
    assert reverted["status"] == "SUCCEEDED", reverted
    counts = [reverted[k] for k in ("processed", "deleted", "updated", "failed")]
    assert counts == [4, 1, 3, 0]
    assert [(e["node"]["row"], e["node"]["code"]) for e in reverted["rowErrors"]["edges"]] == [
        (2, "IDENTIFIER_TAKEN"),
        (3, "IDENTIFIER_TAKEN"),
        (4, "IDENTIFIER_TAKEN"),
    ]
    takers = [made_id({"u": u}, "u") for u in (thief, lookalike, carl2)]
    kept = {
        ids["ana"]: ("email", "email_skeleton"),
        ids["bob"]: ("username", "username_skeleton"),
        ids["carl"]: ("username", "username_skeleton"),
    }
    assert await _state(db_url) == _put_back_but(before, now, takers, kept)


# A statement (the revert's) waiting for another transaction: the user it writes, or the
# organisation's count of users, which an insertion holds until it commits.
WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def test_a_user_taking_an_identifier_while_the_revert_writes_it_is_a_row_error_too(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str
) -> None:
    ids, imported, before = await _renamed(client, admin, acme, db_url)
    conn = await connect(db_url)
    try:
        # Another user with Ana's old e-mail, not yet committed: the revert's plan does not
        # see it, and its write waits for it, then meets it.
        taking = conn.transaction()
        await taking.start()
        holder = await conn.fetchval(
            "INSERT INTO users (tenant_id, username, email, first_name, last_name)"
            " VALUES ($1, 'late', 'ana@example.com', 'Late', 'Comer') RETURNING id",
            acme.id,
        )
        now = ({r["id"]: dict(r) for r in await conn.fetch(USERS)}, before[1])
        revert = asyncio.create_task(_revert(admin, db_url, imported["id"]))
        deadline = time.monotonic() + 30
        while not (await sql(db_url, WAITING))[0][0]:
            assert time.monotonic() < deadline and not revert.done(), "the revert never waited"
            await asyncio.sleep(0.05)
        await taking.commit()
        reverted = await revert
    finally:
        await conn.close()

    assert reverted["status"] == "SUCCEEDED", reverted
    assert [reverted[k] for k in ("processed", "deleted", "updated", "failed")] == [4, 1, 3, 0]
    errors = [e["node"] for e in reverted["rowErrors"]["edges"]]
    assert [(e["row"], e["code"], e["user"]["username"]) for e in errors] == [
        (2, "IDENTIFIER_TAKEN", "ana")
    ]
    assert errors[0]["message"] == (
        f"email: another user ({encode_id('User', holder)}) has it now; the import's value is kept."
    )
    # Nothing of the first write is left: Ana's e-mail as the import left it, the rest put
    # back, one event each.
    kept = {ids["ana"]: ("email", "email_skeleton")}
    assert await _state(db_url) == _put_back_but(before, now, [holder], kept)
    events = await sql(
        db_url,
        "SELECT target_id, data FROM events WHERE data->>'job' = $1 AND action = 'user.updated'"
        " ORDER BY id",
        reverted["id"],
    )
    changed = {e["target_id"]: e["data"]["changed"] for e in events}
    assert changed == {
        ids["ana"]: ["firstName"],
        ids["bob"]: ["firstName", "username"],
        ids["carl"]: ["email", "firstName", "username"],
    }
