"""Webhooks end to end: changes made through the API reach a real HTTP receiver on localhost,
signed so that the `standardwebhooks` package verifies them, retried, in order per user, and
listed, redelivered and pinged through GraphQL."""

import asyncio
import dataclasses
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from db.pool import connect, create_pool
from jobs.addresses import AddressPolicy
from jobs.webhooks import Sweeper, WebhookConfig, WebhookLoop
from roster.settings import Settings
from rules import webhooks as rules
from rules.addresses import parse_networks
from tests.conftest import Api, create_user
from tests.receiver import Received, Receiver, Reply
from tests.test_imports import start_worker, stop

# The receivers of these tests listen on loopback, which webhooks may reach only when an
# operator allows it (tests/test_webhook_addresses.py checks the refusals).
LOOPBACK = "127.0.0.0/8"
FAST = WebhookConfig(
    timeout=2,
    retry_base=0.1,
    retry_cap=0.4,
    retry_window=60,
    poll_interval=0.05,
    claim_size=20,
    addresses=AddressPolicy(parse_networks(LOOPBACK)),
)

CREATE_PLATFORM = """
mutation($input: CreatePlatformInput!) {
  createPlatform(input: $input) {
    platform { id key } webhookSecret userErrors { field message code } } }
"""
UPDATE_PLATFORM = """
mutation($id: ID!, $input: UpdatePlatformInput!) {
  updatePlatform(id: $id, input: $input) {
    platform { webhookUrl webhookDisabledAt webhookDisabledReason }
    webhookSecret userErrors { field message code } } }
"""
PLATFORM = """
query($id: ID!) { node(id: $id) { ... on Platform {
  webhookUrl webhookDisabledAt webhookDisabledReason webhookBatchSize } } }
"""
DELIVERIES = """
query($platform: ID, $status: DeliveryStatus, $userId: ID, $first: Int, $after: String) {
  webhookDeliveries(platform: $platform, status: $status, userId: $userId, first: $first,
                    after: $after) {
    edges { cursor node { id webhookId eventType eventId userId status attempts nextAttemptAt
                          lastResponseCode lastError latencyMs deliveredAt platform { key } } }
    pageInfo { hasNextPage endCursor } } }
"""
REDELIVER = """
mutation($id: ID!) { redeliverWebhook(id: $id) {
  delivery { id status } userErrors { code message } } }
"""
PING = """
mutation($id: ID!) { sendTestWebhook(platformId: $id) {
  delivery { id eventType status webhookId } userErrors { code message } } }
"""
ROTATE = """
mutation($id: ID!) { rotateWebhookSecret(platformId: $id) {
  platform { key webhookPreviousSecretUntil } webhookSecret userErrors { code message } } }
"""
UPDATE_USER = """
mutation($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { userErrors { code message } } }
"""
DISABLE = "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code message } } }"
DELETE = "mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { userErrors { code message } } }"
SET_PASSWORD = """
mutation($id: ID!) { setPassword(id: $id, password: "amber kettle harbour drift") {
  userErrors { code } } }
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The API's, with loopback allowed for webhooks."""
    return dataclasses.replace(settings, webhook_allowed_networks=parse_networks(LOOPBACK))


@pytest.fixture
async def worker(db_url: str) -> AsyncIterator[WebhookLoop]:
    """The delivery loop a worker runs, with retries fast enough for tests."""
    loop = await WebhookLoop.start(db_url, FAST)
    try:
        yield loop
    finally:
        await loop.stop()


async def webhook_platform(api: Api, url: str, key: str = "crm", **fields: Any) -> dict[str, Any]:
    """An external app with a webhook: its id, key and secret."""
    data = await api.data(
        CREATE_PLATFORM,
        input={"key": key, "name": key.upper(), "roles": ["agent"], "webhookUrl": url, **fields},
    )
    payload = data["createPlatform"]
    assert payload["userErrors"] == [], payload
    return {**payload["platform"], "secret": payload["webhookSecret"]}


async def user_on(api: Api, name: str, *keys: str) -> dict[str, Any]:
    roles = [{"platform": k, "role": "agent"} for k in keys]
    return await create_user(api, name, roles=roles)


async def mutate(api: Api, query: str, **variables: Any) -> None:
    data = await api.data(query, **variables)
    (payload,) = data.values()
    assert payload["userErrors"] == [], payload


async def deliveries(api: Api, **filters: Any) -> list[dict[str, Any]]:
    data = await api.data(DELIVERIES, first=100, **filters)
    return [e["node"] for e in data["webhookDeliveries"]["edges"]]


async def settled(
    api: Api, count: int, timeout: float = 15, **filters: Any
) -> list[dict[str, Any]]:
    """The deliveries, once `count` of them are no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        found = await deliveries(api, **filters)
        done = [d for d in found if d["status"] != "PENDING"]
        if len(done) >= count:
            return found
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)


def of_user(received: list[dict[str, Any]], user_id: str) -> list[str]:
    return [e["type"] for e in received if e.get("userId") == user_id]


async def test_a_change_arrives_signed_as_standard_webhooks_verifies_it(
    admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    crm = await webhook_platform(admin, receiver.url)
    assert crm["secret"].startswith("whsec_")
    alice = await user_on(admin, "alice", "crm")
    await create_user(admin, "bob")  # no role on crm: none of its changes go there
    await mutate(admin, SET_PASSWORD, id=alice["id"])  # Roster's business, not the app's

    (event,) = await receiver.wait_for(1)
    (request,) = receiver.requests
    verified = Webhook(crm["secret"]).verify(request.body, request.headers)
    assert verified == event
    assert event["type"] == "user.created"
    assert event["tenant"] == "acme"
    assert event["userId"] == alice["id"]
    assert event["user"]["email"] == "alice@example.com"
    assert event["user"]["roles"] == ["agent"]
    assert event["data"]["fields"] == ["email", "firstName", "lastName", "username"]
    assert request.headers["webhook-id"] == event["id"]

    (delivery,) = await settled(admin, 1)
    assert delivery["status"] == "SUCCEEDED"
    assert delivery["attempts"] == 1 and delivery["lastResponseCode"] == 200
    assert delivery["webhookId"] == event["id"] and delivery["userId"] == alice["id"]
    assert delivery["latencyMs"] is not None and delivery["nextAttemptAt"] is None
    await asyncio.sleep(0.3)
    assert len(receiver.requests) == 1


async def test_a_deletion_reaches_exactly_the_users_platforms_with_ids_only(
    admin: Api, receiver: Receiver, db_url: str, worker: WebhookLoop
) -> None:
    other = await Receiver().start()
    try:
        await webhook_platform(admin, receiver.url, "crm")
        await webhook_platform(admin, other.url, "wiki")
        carol = await user_on(admin, "carol", "crm")
        await receiver.wait_for(1)
        await mutate(admin, DISABLE, ids=[carol["id"]])
        await mutate(admin, DELETE, ids=[carol["id"]])
        received = await receiver.wait_for(3)
        await asyncio.sleep(0.3)
        assert other.requests == []
    finally:
        await other.stop()
    assert of_user(received, carol["id"]) == ["user.created", "user.disabled", "user.deleted"]
    deleted = received[-1]
    assert deleted["user"] is None
    assert deleted["data"] == {"platforms": [await _platform_id(admin, "crm")]}
    body = receiver.requests[-1].body.decode()
    assert "carol" not in body.lower() and "example.com" not in body
    # Nothing of hers is kept with the deliveries either.
    conn = await connect(db_url)
    try:
        rows = await conn.fetch("SELECT row_to_json(d)::text AS r FROM webhook_deliveries d")
    finally:
        await conn.close()
    assert rows and not any("carol" in r["r"].lower() for r in rows)


async def tried_twice_more(db_url: str) -> None:
    """Until a delivery has been attempted twice more: two rounds, the second begun after the
    first ended, so after this was called (a round under way may have built its bodies just
    before, from the users as they were then). A user's later deliveries wait behind the
    first, unclaimed, their bodies not built."""
    conn = await connect(db_url)
    try:
        query = "SELECT id, attempts FROM webhook_deliveries"
        # The events may not be deliveries yet (the dispatcher's round comes first): counted
        # from when the first one is.
        before: dict[Any, int] = {}
        for _ in range(600):
            now = {r["id"]: r["attempts"] for r in await conn.fetch(query)}
            if not before:
                before = now
            elif any(now[i] >= n + 2 for i, n in before.items()):
                return
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    raise AssertionError("the deliveries were not attempted again")


async def test_a_queued_delivery_of_a_user_deleted_since_carries_no_personal_data(
    admin: Api, receiver: Receiver, db_url: str, worker: WebhookLoop
) -> None:
    down = Receiver()  # not started: nothing listens on its port yet
    await webhook_platform(admin, down.url)
    dave = await user_on(admin, "dave", "crm")
    await mutate(admin, UPDATE_USER, id=dave["id"], input={"lastName": "Secretname"})
    await mutate(admin, DISABLE, ids=[dave["id"]])
    await mutate(admin, DELETE, ids=[dave["id"]])
    # A round under way built its bodies before the deletion committed, rightly with her data
    # (a CI run once received one sent just after the receiver started): this test is about
    # deliveries still queued when she is deleted.
    await tried_twice_more(db_url)
    await down.start()
    try:
        received = await down.wait_for(4)
    finally:
        await down.stop()
    assert [e["type"] for e in received] == [
        "user.created",
        "user.updated",
        "user.disabled",
        "user.deleted",
    ]
    assert all(e["user"] is None for e in received)
    assert not any(b"Secretname" in r.body or b"dave@" in r.body for r in down.requests)


async def test_a_failed_attempt_is_retried_with_the_same_webhook_id(
    admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    answers = iter([500, 200])

    async def answer(request: Received) -> int:
        return next(answers, 200)

    receiver.answer = answer
    await webhook_platform(admin, receiver.url)
    await user_on(admin, "erin", "crm")
    await receiver.wait_for(1)
    first, second = receiver.requests
    assert (first.status, second.status) == (500, 200)
    assert first.webhook_id == second.webhook_id
    assert first.body == second.body
    (delivery,) = await settled(admin, 1)
    assert delivery["status"] == "SUCCEEDED" and delivery["attempts"] == 2


async def test_a_receiver_down_then_up_gets_everything(
    admin: Api, worker: WebhookLoop, receiver: Receiver
) -> None:
    later = Receiver()
    await webhook_platform(admin, later.url)
    frank = await user_on(admin, "frank", "crm")
    deadline = time.monotonic() + 10
    while not (found := await deliveries(admin)) or found[0]["attempts"] < 2:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)
    assert found[0]["status"] == "PENDING" and found[0]["nextAttemptAt"]
    assert found[0]["lastResponseCode"] is None
    assert found[0]["lastError"] == "connection failed"  # a category, not httpx's text
    await later.start()
    try:
        (event,) = await later.wait_for(1)
    finally:
        await later.stop()
    assert event["userId"] == frank["id"]


async def test_a_users_events_wait_behind_a_failing_one_while_others_flow(
    admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    failures: dict[str, int] = {}
    gina_id = ""

    async def answer(request: Received) -> int:
        event = request.json
        if event["userId"] == gina_id and event["type"] == "user.created":
            failures[request.webhook_id] = failures.get(request.webhook_id, 0) + 1
            if failures[request.webhook_id] <= 3:
                return 503
        return 200

    receiver.answer = answer
    await webhook_platform(admin, receiver.url)
    # Gina's first delivery fails three times: the rest of hers waits, Hugo's do not.
    gina_id = (await user_on(admin, "gina", "crm"))["id"]
    await mutate(admin, UPDATE_USER, id=gina_id, input={"lastName": "Two"})
    await mutate(admin, DISABLE, ids=[gina_id])
    hugo = await user_on(admin, "hugo", "crm")
    received = await receiver.wait_for(4)
    assert of_user(received, gina_id) == ["user.created", "user.updated", "user.disabled"]
    assert of_user(received, hugo["id"]) == ["user.created"]
    assert received[0]["userId"] == hugo["id"]  # not held up by Gina's
    asked = [r.json["type"] for r in receiver.requests if r.json["userId"] == gina_id]
    assert asked == ["user.created"] * 4 + ["user.updated", "user.disabled"]


async def test_a_delivery_failing_past_its_window_fails_and_the_next_goes(
    admin: Api, receiver: Receiver, db_url: str
) -> None:
    async def answer(request: Received) -> int:
        return 500 if request.json["type"] == "user.created" else 200

    receiver.answer = answer
    loop = await WebhookLoop.start(db_url, dataclasses.replace(FAST, retry_window=0.5))
    try:
        await webhook_platform(admin, receiver.url)
        ivan = await user_on(admin, "ivan", "crm")
        await mutate(admin, DISABLE, ids=[ivan["id"]])
        (event,) = await receiver.wait_for(1)
    finally:
        await loop.stop()
    assert event["type"] == "user.disabled"
    failed = await deliveries(admin, status="FAILED")
    assert [d["eventType"] for d in failed] == ["user.created"]
    assert failed[0]["lastResponseCode"] == 500 and failed[0]["attempts"] >= 2


async def test_410_gone_disables_the_webhook_until_its_url_is_set_again(
    admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    async def gone(request: Received) -> int:
        return 410

    receiver.answer = gone
    crm = await webhook_platform(admin, receiver.url)
    await user_on(admin, "judy", "crm")
    (delivery,) = await settled(admin, 1)
    assert delivery["status"] == "FAILED" and delivery["lastResponseCode"] == 410
    platform = (await admin.data(PLATFORM, id=crm["id"]))["node"]
    assert platform["webhookDisabledAt"] is not None
    assert "410" in platform["webhookDisabledReason"]

    receiver.answer = _ok
    await user_on(admin, "kim", "crm")  # while disabled: not sent
    await asyncio.sleep(0.4)
    assert len(receiver.requests) == 1
    data = await admin.data(UPDATE_PLATFORM, id=crm["id"], input={"webhookUrl": receiver.url})
    assert data["updatePlatform"]["platform"]["webhookDisabledAt"] is None
    leo = await user_on(admin, "leo", "crm")
    (event,) = await receiver.wait_for(1)
    assert event["userId"] == leo["id"]


async def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(
    admin: Api, receiver: Receiver, db_url: str, worker: WebhookLoop
) -> None:
    crm = await webhook_platform(admin, receiver.url)
    old = crm["secret"]
    payload = (await admin.data(ROTATE, id=crm["id"]))["rotateWebhookSecret"]
    new = payload["webhookSecret"]
    assert new.startswith("whsec_") and new != old
    # What the console shows beside the new secret: how long the old one keeps working.
    until = datetime.fromisoformat(payload["platform"]["webhookPreviousSecretUntil"])
    assert timedelta(hours=23, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=24)
    await user_on(admin, "mia", "crm")
    await receiver.wait_for(1)
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)

    conn = await connect(db_url)  # a day later
    try:
        await conn.execute("UPDATE platforms SET webhook_previous_secret_until = now()")
    finally:
        await conn.close()
    await user_on(admin, "ned", "crm")
    await receiver.wait_for(2)
    request = receiver.requests[-1]
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(old).verify(request.body, request.headers)


async def test_two_workers_never_send_the_same_delivery_at_once(
    admin: Api, receiver: Receiver, db_url: str, worker: WebhookLoop
) -> None:
    in_flight: set[str] = set()
    overlaps: list[str] = []

    async def slow(request: Received) -> int:
        if request.webhook_id in in_flight:
            overlaps.append(request.webhook_id)
        in_flight.add(request.webhook_id)
        await asyncio.sleep(0.02)
        in_flight.discard(request.webhook_id)
        return 200

    receiver.answer = slow
    second = await WebhookLoop.start(db_url, FAST)
    try:
        await webhook_platform(admin, receiver.url)
        users = [await user_on(admin, f"user{i}", "crm") for i in range(40)]
        await receiver.wait_for(len(users))
        await asyncio.sleep(0.3)
    finally:
        await second.stop()
    ids = [r.webhook_id for r in receiver.requests]
    assert overlaps == [] and len(ids) == len(set(ids)) == len(users)


async def test_a_worker_killed_mid_delivery_leaves_it_to_the_next(
    admin: Api, receiver: Receiver, db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker processes read these: loopback allowed, and a lease (the deadline and ten
    # seconds) short enough for the second worker to retry within the test's wait.
    monkeypatch.setenv("ROSTER_WEBHOOK_ALLOWED_NETWORKS", LOOPBACK)
    monkeypatch.setenv("ROSTER_WEBHOOK_TIMEOUT", "2")
    release = asyncio.Event()

    async def hang_first(request: Received) -> int:
        if len(receiver.requests) == 1:
            await release.wait()
            return 500
        return 200

    receiver.answer = hang_first
    await webhook_platform(admin, receiver.url)
    olga = await user_on(admin, "olga", "crm")
    with open(tmp_path / "worker.log", "wb") as log:
        first = start_worker(db_url, log)
        second = None
        try:
            async with asyncio.timeout(30):
                while not receiver.requests:
                    await asyncio.sleep(0.05)
            stop(first, signal.SIGKILL)
            (pending,) = await deliveries(admin)
            assert pending["status"] == "PENDING"
            second = start_worker(db_url, log)
            (event,) = await receiver.wait_for(1, timeout=30)
        finally:
            release.set()
            stop(first, signal.SIGKILL)
            if second is not None:
                stop(second)
    assert event["userId"] == olga["id"]
    assert receiver.requests[0].webhook_id == receiver.requests[-1].webhook_id


async def test_deliveries_are_tenant_isolated_and_read_tokens_only_list(
    admin: Api, reader: Api, other_admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    crm = await webhook_platform(admin, receiver.url)
    await user_on(admin, "pat", "crm")
    (delivery,) = await settled(admin, 1)
    assert await deliveries(reader) == [delivery]
    assert await deliveries(other_admin) == []
    assert await deliveries(other_admin, platform=crm["id"]) == []
    data = await other_admin.data(REDELIVER, id=delivery["id"])
    assert data["redeliverWebhook"]["userErrors"][0]["code"] == "NOT_FOUND"
    data = await other_admin.data(PING, id=crm["id"])
    assert data["sendTestWebhook"]["userErrors"][0]["code"] == "NOT_FOUND"
    data = await other_admin.data(ROTATE, id=crm["id"])
    assert data["rotateWebhookSecret"]["userErrors"][0]["code"] == "NOT_FOUND"
    body = await reader(REDELIVER, id=delivery["id"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await asyncio.sleep(0.2)
    assert len(receiver.requests) == 1


async def test_redelivery_ping_and_filters(
    admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    crm = await webhook_platform(admin, receiver.url)
    quinn = await user_on(admin, "quinn", "crm")
    await user_on(admin, "rita", "crm")
    await settled(admin, 2)
    (mine,) = await deliveries(admin, userId=quinn["id"])
    data = await admin.data(REDELIVER, id=mine["id"])
    assert data["redeliverWebhook"]["delivery"]["status"] == "PENDING"
    await receiver.wait_for(3)
    assert receiver.requests[-1].webhook_id == mine["webhookId"]

    ping = (await admin.data(PING, id=crm["id"]))["sendTestWebhook"]["delivery"]
    assert ping["eventType"] == "webhook.test"
    await receiver.wait_for(4)
    last = receiver.requests[-1]
    assert Webhook(crm["secret"]).verify(last.body, last.headers)["type"] == "webhook.test"

    assert len(await settled(admin, 3, platform=crm["id"], status="SUCCEEDED")) == 3
    assert await deliveries(admin, status="FAILED") == []
    page = (await admin.data(DELIVERIES, first=2))["webhookDeliveries"]
    rest = await admin.data(DELIVERIES, first=2, after=page["pageInfo"]["endCursor"])
    assert page["pageInfo"]["hasNextPage"]
    assert len(rest["webhookDeliveries"]["edges"]) == 1
    assert rest["webhookDeliveries"]["edges"][0]["node"]["eventType"] == "user.created"


async def test_a_receiver_may_take_events_in_signed_batches(
    admin: Api, receiver: Receiver, db_url: str
) -> None:
    crm = await webhook_platform(admin, receiver.url, webhookBatchSize=10)
    platform = (await admin.data(PLATFORM, id=crm["id"]))["node"]
    assert platform["webhookBatchSize"] == 10
    # Created before a worker looks: they go out together.
    made = [await user_on(admin, f"batch{i}", "crm") for i in range(15)]
    loop = await WebhookLoop.start(db_url, FAST)
    try:
        received = await receiver.wait_for(15)
    finally:
        await loop.stop()
    assert sorted(e["userId"] for e in received) == sorted(u["id"] for u in made)
    assert [len(r.json) for r in receiver.requests] == [10, 5]
    for r in receiver.requests:
        assert Webhook(crm["secret"]).verify(r.body, r.headers) == r.json


async def test_webhook_urls_with_credentials_or_other_schemes_are_refused(admin: Api) -> None:
    for url in ("ftp://example.com/h", "https://user:pw@example.com/h", "https://:80x/"):
        data = await admin.data(
            CREATE_PLATFORM,
            input={"key": "crm", "name": "CRM", "roles": ["agent"], "webhookUrl": url},
        )
        assert data["createPlatform"]["userErrors"][0]["code"] == "INVALID_URL", url


async def test_a_redirect_is_not_followed_but_retried(
    admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    answers = iter([307, 200])

    async def answer(request: Received) -> int:
        return next(answers, 200)

    receiver.answer = answer
    await webhook_platform(admin, receiver.url)
    await user_on(admin, "sam", "crm")
    await receiver.wait_for(1)
    assert [r.status for r in receiver.requests] == [307, 200]
    (delivery,) = await settled(admin, 1)
    assert delivery["attempts"] == 2


async def test_one_deadline_bounds_an_attempt_however_slowly_the_answer_drips(
    admin: Api, receiver: Receiver, db_url: str
) -> None:
    async def drip(request: Received) -> Reply:
        # A byte every half second, for half a minute: each within httpx's read timeout.
        return Reply(200, size=60, chunk=1, pause=0.5)

    receiver.answer = drip
    loop = await WebhookLoop.start(
        db_url, dataclasses.replace(FAST, timeout=1, retry_base=30, retry_cap=30)
    )
    try:
        crm = await webhook_platform(admin, receiver.url)
        await mutate(admin, PING, id=crm["id"])
        (delivery,) = await settled_or_tried(admin)
    finally:
        await loop.stop()
    assert delivery["status"] == "PENDING" and delivery["attempts"] == 1
    assert delivery["lastError"] == "timeout" and delivery["nextAttemptAt"]
    assert receiver.requests[0].sent < 60


async def settled_or_tried(api: Api, timeout: float = 20) -> list[dict[str, Any]]:
    """The deliveries, once each has been attempted at least once."""
    deadline = time.monotonic() + timeout
    while True:
        found = await deliveries(api)
        if found and all(d["attempts"] for d in found):
            return found
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)


async def test_a_huge_answer_is_read_no_further_than_64_kib(
    admin: Api, receiver: Receiver, worker: WebhookLoop
) -> None:
    size = 64 << 20

    async def huge(request: Received) -> Reply:
        return Reply(200, size=size)

    receiver.answer = huge
    crm = await webhook_platform(admin, receiver.url)
    await mutate(admin, PING, id=crm["id"])
    (delivery,) = await settled(admin, 1)
    assert delivery["status"] == "SUCCEEDED" and delivery["lastResponseCode"] == 200
    assert delivery["lastError"] is None
    # The worker hung up after 64 KiB: the receiver could not write the rest (the sockets'
    # buffers hold a few MB at most).
    (request,) = receiver.requests
    async with asyncio.timeout(10):
        while not request.cut:
            await asyncio.sleep(0.05)
    assert request.sent < size // 4


async def test_one_tenants_hanging_receivers_hold_up_no_other_tenant(
    admin: Api, other_admin: Api, db_url: str
) -> None:
    """Acme's two webhooks never answer, with a hundred deliveries queued for each; Globex's
    test ping, asked for while they hang, arrives before any of Acme's attempts has ended, and
    Acme never has more requests out than its caps."""
    release = asyncio.Event()

    async def hang(request: Received) -> int:
        await release.wait()
        return 200

    crm, wiki, globex = Receiver(), Receiver(), Receiver()
    for r in (crm, wiki, globex):
        await r.start()
    crm.answer = wiki.answer = hang
    config = dataclasses.replace(FAST, timeout=30, tenant_concurrency=3, endpoint_concurrency=2)
    loop = None
    try:
        await webhook_platform(admin, crm.url, "crm")
        await webhook_platform(admin, wiki.url, "wiki")
        theirs = await webhook_platform(other_admin, globex.url, "crm")
        await queue_pings(db_url, "acme", 100)
        loop = await WebhookLoop.start(db_url, config)
        async with asyncio.timeout(10):
            while len(crm.requests) + len(wiki.requests) < 3:
                await asyncio.sleep(0.05)
        await mutate(other_admin, PING, id=theirs["id"])
        await globex.wait_for(1)
        assert await attempted(db_url, "acme") == 0  # every one of Acme's is still out
        assert len(crm.requests) + len(wiki.requests) == 3  # the tenant's cap
        assert len(crm.requests) <= 2 and len(wiki.requests) <= 2  # each endpoint's
    finally:
        release.set()
        if loop is not None:
            await loop.stop()
        for r in (crm, wiki, globex):
            await r.stop()


async def attempted(db_url: str, tenant: str) -> int:
    """The tenant's deliveries with an attempt recorded."""
    conn = await connect(db_url)
    try:
        found: int = await conn.fetchval(
            """SELECT count(*) FROM webhook_deliveries d JOIN tenants t ON t.id = d.tenant_id
               WHERE t.slug = $1 AND d.attempts > 0""",
            tenant,
        )
    finally:
        await conn.close()
    return found


async def queue_pings(db_url: str, tenant: str, count: int) -> None:
    """`count` test pings to each of the tenant's webhooks, queued at once."""
    conn = await connect(db_url)
    try:
        await conn.execute(
            """INSERT INTO webhook_deliveries (tenant_id, platform_id, action)
               SELECT p.tenant_id, p.id, 'webhook.test'
               FROM platforms p JOIN tenants t ON t.id = p.tenant_id, generate_series(1, $2)
               WHERE t.slug = $1 AND p.webhook_url IS NOT NULL""",
            tenant,
            count,
        )
    finally:
        await conn.close()


async def test_no_lock_is_held_while_a_receiver_keeps_the_worker_waiting(
    admin: Api, receiver: Receiver, db_url: str, worker: WebhookLoop
) -> None:
    release = asyncio.Event()

    async def hang(request: Received) -> int:
        await release.wait()
        return 200

    receiver.answer = hang
    crm = await webhook_platform(admin, receiver.url)
    await mutate(admin, PING, id=crm["id"])
    conn = await connect(db_url)
    try:
        async with asyncio.timeout(10):
            while not receiver.requests:
                await asyncio.sleep(0.05)
        # Claimed and committed: the row is free (redeliverWebhook, the dispatcher and other
        # workers' claims do not queue behind the receiver), and no transaction is open.
        async with conn.transaction():
            locked = await conn.fetch(
                "SELECT id FROM webhook_deliveries WHERE status = 'PENDING' FOR UPDATE NOWAIT"
            )
        idle = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%'"
        )
    finally:
        release.set()
        await conn.close()
    assert len(locked) == 1 and idle == 0


async def test_test_pings_are_limited_per_platform(admin: Api, receiver: Receiver) -> None:
    crm = await webhook_platform(admin, receiver.url, "crm")
    wiki = await webhook_platform(admin, receiver.url, "wiki")
    for _ in range(rules.TEST_PINGS):
        await mutate(admin, PING, id=crm["id"])
    payload = (await admin.data(PING, id=crm["id"]))["sendTestWebhook"]
    assert payload["delivery"] is None
    (error,) = payload["userErrors"]
    assert error["code"] == "RATE_LIMITED" and "try again in" in error["message"]
    await mutate(admin, PING, id=wiki["id"])  # another platform's pings are its own
    assert len(await deliveries(admin)) == rules.TEST_PINGS + 1


async def test_finished_deliveries_are_deleted_after_the_retention_in_batches(
    admin: Api, receiver: Receiver, db_url: str
) -> None:
    await webhook_platform(admin, receiver.url)
    await queue_pings(db_url, "acme", 7)
    conn = await connect(db_url)
    try:
        # Five finished 31 days ago, one pending as long, one finished yesterday.
        await conn.execute(
            """WITH numbered AS (SELECT id, row_number() OVER (ORDER BY seq) AS n
                                 FROM webhook_deliveries)
               UPDATE webhook_deliveries d SET
                   status = CASE WHEN n <= 3 THEN 'SUCCEEDED' WHEN n <= 5 THEN 'FAILED'
                                 WHEN n = 6 THEN 'PENDING' ELSE 'SUCCEEDED' END,
                   next_attempt_at = now() + interval '1 day',
                   last_attempt_at = now() - CASE WHEN n <= 6 THEN interval '31 days'
                                                  ELSE interval '1 day' END
               FROM numbered WHERE numbered.id = d.id"""
        )
    finally:
        await conn.close()
    config = dataclasses.replace(FAST, retention=30 * 86400, sweep_size=2, sweep_interval=0.05)
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        assert await Sweeper(pool, config).sweep_once() == 2  # a batch at most
    finally:
        await pool.close()
    loop = await WebhookLoop.start(db_url, config)
    try:
        deadline = time.monotonic() + 10
        while len(await deliveries(admin)) > 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        await loop.stop()
    kept = await deliveries(admin)
    assert sorted(d["status"] for d in kept) == ["PENDING", "SUCCEEDED"]


def test_retry_delays_double_with_jitter_up_to_the_cap() -> None:
    for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (10, 3600), (30, 3600)):
        delays = [rules.retry_delay(attempts, 10, 3600) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempts, delays)
        assert len(set(delays)) > 1


async def _ok(request: Received) -> int:
    return 200


async def _platform_id(api: Api, key: str) -> str:
    data = await api.data("{ platforms { id key } }")
    found: str = next(p["id"] for p in data["platforms"] if p["key"] == key)
    return found
