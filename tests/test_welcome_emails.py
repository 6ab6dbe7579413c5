"""Welcome e-mails end to end: the mutation, a real arq worker, a real SMTP server (aiosmtpd)
in this process, and the set-password link the e-mail carries."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import jobs.worker
from db.pool import connect
from tests.conftest import REDIS_URL, Api, create_user
from tests.mailbox import PUBLIC_URL, SmtpServer, free_port, mail_config, run_worker

SEND = """
mutation($ids: [ID!]!) { sendWelcomeEmail(ids: $ids) {
  job { id status total ... on EmailJob { sent failed } } userErrors { field code message } } }
"""
JOB = """
query($id: ID!) { job(id: $id) { id status total processed error
  ... on EmailJob { sent failed skipped
    rowErrors(first: 100) { edges { node { row code message user { username } } } } } } }
"""
USER = "query($id: ID!) { node(id: $id) { ... on User { welcomeEmailSentAt hasPassword } } }"
GOOD_PASSWORD = "correct horse battery staple"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


async def sql(db_url: str, query: str, *args: Any) -> list[Any]:
    conn = await connect(db_url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def send(admin: Api, *ids: str) -> str:
    data = await admin.data(SEND, ids=list(ids))
    assert data["sendWelcomeEmail"]["userErrors"] == []
    job_id: str = data["sendWelcomeEmail"]["job"]["id"]
    return job_id


async def job(admin: Api, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await admin.data(JOB, id=job_id))["job"]
    return found


async def actions(db_url: str, action_prefix: str) -> list[tuple[str, str, Any]]:
    rows = await sql(
        db_url,
        "SELECT action, actor, data FROM events WHERE action LIKE $1 ORDER BY id",
        action_prefix + "%",
    )
    return [(r["action"], r["actor"], r["data"]) for r in rows]


async def test_the_e_mail_in_the_users_language_with_text_html_and_a_link(
    admin: Api, db_url: str, smtp: SmtpServer
) -> None:
    ana = await create_user(admin, "ana", firstName="Ana", language="es-MX")
    bob = await create_user(admin, "bob", firstName="Bob", language="en")
    eve = await create_user(admin, "eve", firstName="Ève <b>", language="fr")
    job_id = await send(admin, ana["id"], bob["id"], eve["id"])
    await run_worker(db_url, mail_config(smtp.url))

    done = await job(admin, job_id)
    assert (done["status"], done["total"], done["sent"], done["failed"]) == ("SUCCEEDED", 3, 3, 0)
    assert done["error"] is None
    [to_ana] = smtp.mailbox.to("ana@example.com")
    [to_bob] = smtp.mailbox.to("bob@example.com")
    [to_eve] = smtp.mailbox.to("eve@example.com")
    assert to_ana.message.get_content_type() == "multipart/alternative"
    assert to_ana.message["From"] == "Roster <roster@example.com>"
    assert "bienvenida" in to_ana.message["Subject"].lower()
    assert "Hola, Ana" in to_ana.part("plain") and "contraseña" in to_ana.part("html")
    assert "Welcome" in to_bob.message["Subject"] and "Hello Bob" in to_bob.part("plain")
    # French has no templates: English. Names are escaped in the HTML.
    assert "Welcome" in to_eve.message["Subject"]
    assert "Ève &lt;b&gt;" in to_eve.part("html") and "Ève <b>" in to_eve.part("plain")
    link = f"{PUBLIC_URL}/set-password?token={to_ana.token}"
    assert link in to_ana.part("plain") and link in to_ana.part("html")
    assert len({to_ana.token, to_bob.token, to_eve.token}) == 3
    assert len(to_ana.token) >= 43  # 32 random bytes

    user = (await admin.data(USER, id=ana["id"]))["node"]
    assert user["welcomeEmailSentAt"] is not None and user["hasPassword"] is False
    sent = await actions(db_url, "user.welcome_email_sent")
    assert len(sent) == 3 and all(data == {"job": job_id} for _, _, data in sent)
    # Only the hash of a link is stored.
    stored = await sql(db_url, "SELECT token_hash FROM set_password_tokens")
    assert len(stored) == 3 and all(to_ana.token.encode() not in r[0] for r in stored)


async def test_a_selection_with_an_unknown_or_disabled_user_is_refused_whole(
    admin: Api, reader: Api, db_url: str
) -> None:
    ana = await create_user(admin, "ana")
    bob = await create_user(admin, "bob")
    await admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { users { id } } }", ids=[bob["id"]]
    )
    data = await admin.data(SEND, ids=[ana["id"], bob["id"], "VXNlcjpub3Bl"])
    payload = data["sendWelcomeEmail"]
    assert payload["job"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["ids", "1"], "USER_DISABLED"),
        (["ids", "2"], "NOT_FOUND"),
    ]
    assert await sql(db_url, "SELECT * FROM jobs") == []
    assert await actions(db_url, "user.welcome_email_requested") == []

    body = await reader(SEND, ids=[ana["id"]])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await sql(db_url, "SELECT * FROM jobs") == []


async def test_the_link_works_once_and_says_why_it_no_longer_does(
    client: httpx.AsyncClient, admin: Api, db_url: str, smtp: SmtpServer
) -> None:
    ana = await create_user(admin, "ana", language="es")
    await send(admin, ana["id"])
    await run_worker(db_url, mail_config(smtp.url))
    token = smtp.mailbox.to("ana@example.com")[0].token

    page = await client.get("/set-password", params={"token": token})
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.text and "Elige tu contraseña" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"

    form = {"token": token, "password": "short", "confirm": "short"}
    refused = await client.post("/set-password", data=form)
    assert refused.status_code == 422
    assert "al menos 15 caracteres" in refused.text
    form = {"token": token, "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD + "x"}
    assert (await client.post("/set-password", data=form)).status_code == 422

    form = {"token": token, "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    done = await client.post("/set-password", data=form)
    assert done.status_code == 200 and "Se ha guardado tu contraseña" in done.text
    assert "set-cookie" not in done.headers  # it logs nobody in
    assert (await admin.data(USER, id=ana["id"]))["node"]["hasPassword"] is True

    again = await client.post("/set-password", data=form)
    assert again.status_code == 410 and "ya se ha usado" in again.text
    assert (await client.get("/set-password", params={"token": token})).status_code == 410
    unknown = await client.get("/set-password", params={"token": "nope"})
    assert unknown.status_code == 404 and "Traceback" not in unknown.text

    assert [(a, actor, data) for a, actor, data in await actions(db_url, "user.password_set")] == [
        ("user.password_set_failed", "set-password-link", {"reason": "PASSWORD_TOO_SHORT"}),
        ("user.password_set_failed", "set-password-link", {"reason": "PASSWORDS_DIFFER"}),
        ("user.password_set", "set-password-link", {}),
        ("user.password_set_failed", "set-password-link", {"reason": "LINK_USED"}),
    ]


async def test_expired_links_and_links_replaced_by_a_newer_e_mail_or_set_password(
    client: httpx.AsyncClient, admin: Api, db_url: str, smtp: SmtpServer
) -> None:
    ana = await create_user(admin, "ana")
    bob = await create_user(admin, "bob")
    cid = await create_user(admin, "cid")
    await send(admin, ana["id"], bob["id"], cid["id"])
    await run_worker(db_url, mail_config(smtp.url))
    await send(admin, bob["id"])
    await run_worker(db_url, mail_config(smtp.url))
    first_bob, second_bob = (r.token for r in smtp.mailbox.to("bob@example.com"))

    # Ana's link expires.
    await sql(db_url, "UPDATE set_password_tokens SET expires_at = now() - interval '1 second'")
    ana_token = smtp.mailbox.to("ana@example.com")[0].token
    expired = await client.get("/set-password", params={"token": ana_token})
    assert expired.status_code == 410 and "expired" in expired.text
    form = {"token": ana_token, "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    assert (await client.post("/set-password", data=form)).status_code == 410
    assert (await admin.data(USER, id=ana["id"]))["node"]["hasPassword"] is False

    # Bob's newer e-mail replaced his first link (and its expiry with its own).
    await sql(db_url, "UPDATE set_password_tokens SET expires_at = now() + interval '1 hour'")
    assert (await client.get("/set-password", params={"token": first_bob})).status_code == 404
    assert (await client.get("/set-password", params={"token": second_bob})).status_code == 200

    # An administrator's setPassword spends Cid's link.
    cid_token = smtp.mailbox.to("cid@example.com")[0].token
    data = await admin.data(
        "mutation($id: ID!, $p: String!) { setPassword(id: $id, password: $p) "
        "{ userErrors { code } } }",
        id=cid["id"],
        p=GOOD_PASSWORD,
    )
    assert data["setPassword"]["userErrors"] == []
    assert (await client.get("/set-password", params={"token": cid_token})).status_code == 410


async def test_attempts_are_limited_per_link(
    client: httpx.AsyncClient, admin: Api, db_url: str, smtp: SmtpServer
) -> None:
    ana = await create_user(admin, "ana")
    await send(admin, ana["id"])
    await run_worker(db_url, mail_config(smtp.url))
    token = smtp.mailbox.to("ana@example.com")[0].token
    wrong = {"token": token, "password": GOOD_PASSWORD, "confirm": "not the same"}
    codes = [(await client.post("/set-password", data=wrong)).status_code for _ in range(11)]
    assert codes == [422] * 10 + [429]
    # Even the right password waits now.
    right = {"token": token, "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    assert (await client.post("/set-password", data=right)).status_code == 429
    assert (await admin.data(USER, id=ana["id"]))["node"]["hasPassword"] is False


async def test_create_user_an_import_and_older_requests_use_the_same_job(
    client: httpx.AsyncClient, admin: Api, acme: Any, db_url: str, smtp: SmtpServer
) -> None:
    await create_user(admin, "ana", sendWelcomeEmail=True)
    await create_user(admin, "bob")
    kinds = await sql(db_url, "SELECT kind, status FROM jobs")
    assert [tuple(k) for k in kinds] == [("EMAIL", "QUEUED")]

    csv = "username,email,welcome_email\ncid,cid@example.com,yes\ndan,dan@example.com,no\n"
    posted = await client.post(
        "/imports", content=csv.encode(), headers={"authorization": f"Bearer {acme.admin_token}"}
    )
    assert posted.status_code == 202, posted.text
    # A request recorded before e-mails were sent at all: just the event.
    await sql(
        db_url,
        "INSERT INTO events (tenant_id, actor, action, target_type, target_id) "
        "SELECT tenant_id, 'old release', 'user.welcome_email_requested', 'User', id "
        "FROM users WHERE username = 'bob'",
    )
    await run_worker(db_url, mail_config(smtp.url))

    assert sorted(r.to for r in smtp.mailbox.received) == [
        "ana@example.com",
        "bob@example.com",
        "cid@example.com",
    ]
    rows = await sql(db_url, "SELECT kind, status, options FROM jobs ORDER BY created_at")
    assert [r["kind"] for r in rows] == ["EMAIL", "IMPORT", "EMAIL", "EMAIL"]
    assert all(r["status"] == "SUCCEEDED" for r in rows)
    # The import's users get one job that names it.
    assert any(r["options"].get("requested_by", "").strip() for r in rows)

    # Nothing is sent twice when the worker looks again.
    await run_worker(db_url, mail_config(smtp.url))
    assert smtp.mailbox.count() == 3


async def test_a_refused_recipient_is_listed_and_the_others_get_it(
    admin: Api, db_url: str, smtp: SmtpServer
) -> None:
    ana = await create_user(admin, "ana")
    bob = await create_user(admin, "bob")
    smtp.mailbox.refused.add("bob@example.com")
    job_id = await send(admin, ana["id"], bob["id"])
    await run_worker(db_url, mail_config(smtp.url))

    done = await job(admin, job_id)
    assert (done["status"], done["sent"], done["failed"]) == ("SUCCEEDED", 1, 1)
    assert "1 of 2 users did not get the e-mail" in done["error"]
    [error] = [e["node"] for e in done["rowErrors"]["edges"]]
    assert (error["row"], error["code"], error["user"]) == (2, "SMTP_REFUSED", {"username": "bob"})
    assert "550" in error["message"]
    failed = await actions(db_url, "user.welcome_email_failed")
    assert [data for _, _, data in failed] == [{"reason": "SMTP_REFUSED", "job": job_id}]


async def test_an_smtp_server_down_then_up_is_retried(
    admin: Api, db_url: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(jobs.worker, "RETRY_SECONDS", 1)
    ana = await create_user(admin, "ana")
    job_id = await send(admin, ana["id"])
    server = SmtpServer(free_port())  # not started: connections are refused
    worker = asyncio.create_task(run_worker(db_url, mail_config(server.url)))
    try:
        deadline = time.monotonic() + 30
        while not await sql(db_url, "SELECT 1 FROM email_recipients WHERE last_error IS NOT NULL"):
            assert time.monotonic() < deadline, "the job never tried"
            await asyncio.sleep(0.05)
        server.start()
        await asyncio.wait_for(worker, 60)
    finally:
        worker.cancel()
        server.stop()
    done = await job(admin, job_id)
    assert (done["status"], done["sent"], done["failed"]) == ("SUCCEEDED", 1, 0)
    assert len(server.mailbox.to("ana@example.com")) == 1


async def test_an_smtp_server_that_stays_down_fails_the_job_naming_the_users(
    admin: Api, db_url: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(jobs.worker, "RETRY_SECONDS", 0)
    ana = await create_user(admin, "ana")
    bob = await create_user(admin, "bob")
    job_id = await send(admin, ana["id"], bob["id"])
    await run_worker(db_url, mail_config(f"smtp://127.0.0.1:{free_port()}"))

    done = await job(admin, job_id)
    assert (done["status"], done["sent"], done["failed"]) == ("FAILED", 0, 2)
    assert "No e-mail was sent" in done["error"]
    errors = [e["node"] for e in done["rowErrors"]["edges"]]
    assert [(e["code"], e["user"]["username"]) for e in errors] == [
        ("SMTP_UNAVAILABLE", "ana"),
        ("SMTP_UNAVAILABLE", "bob"),
    ]
    attempts = await sql(db_url, "SELECT attempts FROM email_recipients ORDER BY position")
    assert [a[0] for a in attempts] == [jobs.worker.MAX_TRIES, 0]
    # No link was left working for an e-mail that never left.
    assert await sql(db_url, "SELECT * FROM set_password_tokens") == []


async def test_sending_is_paced(admin: Api, db_url: str, smtp: SmtpServer) -> None:
    ids = [(await create_user(admin, f"user{i}"))["id"] for i in range(6)]
    await send(admin, *ids)
    await run_worker(db_url, mail_config(smtp.url, rate=10))
    times = sorted(r.at for r in smtp.mailbox.received)
    assert len(times) == 6
    # Five intervals of a tenth of a second at least.
    assert times[-1] - times[0] >= 0.45
    assert all(b - a >= 0.07 for a, b in zip(times, times[1:], strict=False))


async def test_a_cancelled_job_stops_sending(admin: Api, db_url: str, smtp: SmtpServer) -> None:
    ids = [(await create_user(admin, f"user{i}"))["id"] for i in range(20)]
    job_id = await send(admin, *ids)
    worker = asyncio.create_task(run_worker(db_url, mail_config(smtp.url, rate=10)))
    try:
        while smtp.mailbox.count() < 2:
            assert not worker.done()
            await asyncio.sleep(0.01)
        data = await admin.data(
            "mutation($id: ID!) { cancelJob(id: $id) { job { id } userErrors { code } } }",
            id=job_id,
        )
        assert data["cancelJob"]["userErrors"] == []
        await asyncio.wait_for(worker, 30)
    finally:
        worker.cancel()
    done = await job(admin, job_id)
    assert done["status"] == "CANCELLED"
    assert done["sent"] == smtp.mailbox.count() < 20
    cancelled = await actions(db_url, "job.cancel_requested")
    assert len(cancelled) == 1


def start_worker(db_url: str, smtp_url: str, log: Any) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "SMTP_URL": smtp_url,
        "ROSTER_MAIL_RATE": "25",
        "PUBLIC_URL": PUBLIC_URL,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "roster.cli", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


async def test_a_worker_killed_mid_send_resumes_and_nobody_gets_two(
    admin: Api, db_url: str, smtp: SmtpServer, tmp_path: Any
) -> None:
    users = [await create_user(admin, f"user{i:02}") for i in range(40)]
    job_id = await send(admin, *(u["id"] for u in users))
    with open(tmp_path / "worker.log", "wb") as log:
        first = start_worker(db_url, smtp.url, log)
        second = None
        try:
            deadline = time.monotonic() + 60
            while smtp.mailbox.count() < 10:
                assert time.monotonic() < deadline, "the worker sent nothing"
                await asyncio.sleep(0.01)
            stop(first, signal.SIGKILL)
            killed_at = smtp.mailbox.count()
            assert killed_at < len(users)
            second = start_worker(db_url, smtp.url, log)
            deadline = time.monotonic() + 90
            while (await job(admin, job_id))["status"] in ("QUEUED", "RUNNING"):
                assert time.monotonic() < deadline, "the job was not resumed"
                await asyncio.sleep(0.1)
        finally:
            stop(first, signal.SIGKILL)
            if second is not None:
                stop(second)

    received = Counter(r.to for r in smtp.mailbox.received)
    assert max(received.values()) == 1, "someone got the e-mail twice"
    done = await job(admin, job_id)
    unknown = [e["node"]["user"]["username"] for e in done["rowErrors"]["edges"]]
    # Killed between handing a message over and recording it: reported, not sent again.
    assert len(unknown) <= 1
    assert all(e["node"]["code"] == "DELIVERY_UNKNOWN" for e in done["rowErrors"]["edges"])
    assert done["sent"] + done["failed"] == len(users) == done["total"] == done["processed"]
    assert done["status"] == "SUCCEEDED"
    got = {u["username"] for u in users if received[u["email"]]}
    assert got | set(unknown) == {u["username"] for u in users}
    assert len(got) >= done["sent"]
