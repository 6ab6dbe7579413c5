"""The `job` subscription answers alike on every path: stock Strawberry (the engine off), the
engine's first run of a document (Strawberry's way), and its prepared subscriptions
(roster/execution/subscriptions.py), whose event answers are shared by the subscribers that
get the same state; every message each sends, in order, must be the same. The job's states are
written and published here, as a worker would, so that all three follow the same ones."""

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from redis.asyncio import Redis

from db import jobs
from db.events import Actor
from db.pool import connect
from jobs import progress
from resolvers import jobs as job_resolvers
from resolvers.ids import decode_id, encode_id
from roster.app import create_app
from roster.execution import engine, subscriptions
from roster.settings import Settings
from tests.conftest import Tenant

SUBSCRIBE = (
    "subscription($id: ID!) { job(id: $id) { __typename status processed total error"
    " ... on ImportJob { created failed } } }"
)
# A field with a resolver of its own under the job: its answers are the subscriber's own.
WITH_ROW_ERRORS = (
    "subscription($id: ID!) { job(id: $id) { status ... on ImportJob {"
    " rowErrors(first: 2) { edges { node { row code } } } } } }"
)
STEPS = [("RUNNING", 2), ("RUNNING", 4), ("SUCCEEDED", 6)]


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subscriptions the engine ran itself, by document."""
    runs: list[str] = []
    run = engine.run_subscription

    def counted(engine_: Any, handler: Any, operation: Any, prepared: Any) -> Any:
        runs.append(operation.query)
        return run(engine_, handler, operation, prepared)

    monkeypatch.setattr(engine, "run_subscription", counted)
    return runs


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The event answers a prepared subscription took from another's."""
    found: list[Any] = []

    class Counted(subscriptions._Answered):
        def __init__(self, result: Any) -> None:
            found.append(result)
            super().__init__(result)

    monkeypatch.setattr(subscriptions, "_Answered", Counted)
    return found


@pytest.fixture
async def apps(settings: Settings) -> AsyncIterator[tuple[Any, Any]]:
    """Stock Strawberry and the engine, on the same database and Redis."""
    stock = dataclasses.replace(settings, plain_execution=False)
    on = dataclasses.replace(settings, plain_execution=True, prepared_documents=True)
    async with LifespanManager(create_app(stock)) as off, LifespanManager(create_app(on)) as app:
        yield off.app, app.app


@contextlib.asynccontextmanager
async def subscription(app: Any, token: str, query: str, variables: Any) -> AsyncIterator[Any]:
    """A connection with one subscription sent (id "1")."""
    transport = ASGIWebSocketTransport(app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://roster.test") as http,
        aconnect_ws("/graphql", http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send_json(init)
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        payload = {"query": query, "variables": variables}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        yield ws


async def messages(ws: Any) -> list[Any]:
    """Every message until the subscription ends."""
    found = []
    while True:
        message = await ws.receive_json(timeout=10)
        found.append(message)
        if message["type"] in ("complete", "error"):
            return found


async def new_job(db_url: str, tenant: Tenant) -> str:
    conn = await connect(db_url)
    try:
        row = await jobs.create_job(
            conn,
            tenant.id,
            "IMPORT",
            file_id=None,
            options={},
            dry_run=False,
            actor=Actor(token_id=None, name="test"),
        )
    finally:
        await conn.close()
    return encode_id("ImportJob", row["id"])


async def step(db_url: str, redis: Redis, job_id: str, status: str, processed: int) -> Any:
    """The job's next state, written and published as a worker would."""
    row_id = decode_id(job_id, "ImportJob")
    conn = await connect(db_url)
    try:
        row = await conn.fetchrow(
            "UPDATE jobs SET status = $2, processed = $3, created = $3, total = 6,"
            " updated_at = clock_timestamp() WHERE id = $1 RETURNING *",
            row_id,
            status,
            processed,
        )
    finally:
        await conn.close()
    assert row is not None
    await redis.publish(progress.channel(row["id"]), progress.encode_job(row))
    return row


async def follow(
    apps: tuple[Any, Any], token: str, query: str, variables: Any, drive: Callable[..., Any]
) -> list[list[Any]]:
    """The messages of three subscriptions open at once: stock, the engine's first (which
    prepares the document), the engine's prepared one; `drive` moves the job meanwhile."""
    stock, app = apps
    async with (
        subscription(stock, token, query, variables) as one,
        subscription(app, token, query, variables) as two,
    ):
        first = [await one.receive_json(timeout=5), await two.receive_json(timeout=5)]
        async with subscription(app, token, query, variables) as three:
            first.append(await three.receive_json(timeout=5))
            if first[0]["type"] == "next" and not first[0]["payload"].get("errors"):
                await drive()
            rest = await asyncio.gather(
                *(rest_of(ws, head) for ws, head in zip((one, two, three), first, strict=True))
            )
    return [[head, *tail] for head, tail in zip(first, rest, strict=True)]


async def rest_of(ws: Any, head: Any) -> list[Any]:
    return [] if head["type"] in ("complete", "error") else await messages(ws)


async def test_every_path_sends_every_state_alike(
    apps: tuple[Any, Any],
    acme: Tenant,
    db_url: str,
    redis: Redis,
    engine_runs: list[str],
    shared: list[Any],
) -> None:
    job_id = await new_job(db_url, acme)

    async def drive() -> None:
        for status, processed in STEPS:
            await step(db_url, redis, job_id, status, processed)

    for token in (acme.admin_token, acme.read_token):
        if token == acme.read_token:
            job_id = await new_job(db_url, acme)
        stock, first, prepared = await follow(apps, token, SUBSCRIBE, {"id": job_id}, drive)
        assert first == stock and prepared == stock
        states = [m["payload"]["data"]["job"] for m in stock if m["type"] == "next"]
        assert [(s["status"], s["processed"]) for s in states] == [("QUEUED", 0), *STEPS]
        assert stock[-1] == {"id": "1", "type": "complete"}
    # The engine's first subscription prepared the document: it ran the three others, and
    # the two at once (the read token's) shared each state's answer.
    assert engine_runs == [SUBSCRIBE] * 3
    assert len(shared) == len(STEPS)


async def test_a_field_with_its_own_resolver_is_answered_per_subscriber(
    apps: tuple[Any, Any],
    acme: Tenant,
    db_url: str,
    redis: Redis,
    engine_runs: list[str],
    shared: list[Any],
) -> None:
    job_id = await new_job(db_url, acme)

    async def drive() -> None:
        await step(db_url, redis, job_id, "RUNNING", 2)
        await step(db_url, redis, job_id, "FAILED", 2)

    stock, first, prepared = await follow(
        apps, acme.admin_token, WITH_ROW_ERRORS, {"id": job_id}, drive
    )
    assert first == stock and prepared == stock
    assert [m["payload"]["data"]["job"]["status"] for m in stock[:-1]] == [
        "QUEUED",
        "RUNNING",
        "FAILED",
    ]
    assert engine_runs == [WITH_ROW_ERRORS]
    assert shared == []


@pytest.mark.parametrize(
    "variables",
    [
        {"id": "SW1wb3J0Sm9iOm5vdC1hLWpvYg=="},  # a job id of no job: NOT_FOUND, in a `next`
        {"id": "RXhwb3J0Sm9iOjA4ZWU4MTcyLTIxNTctNDg2YS04N2UwLTJjODk5OTJjY2IwZQ=="},
        {},  # a required variable left out: an `error` before the stream
        {"id": ["not", "an", "id"]},
    ],
    ids=["no-such-job", "other-kind", "no-variable", "wrong-variable"],
)
async def test_errors_are_sent_alike(
    apps: tuple[Any, Any], acme: Tenant, variables: dict[str, Any], engine_runs: list[str]
) -> None:
    async def drive() -> None:
        raise AssertionError("no state to follow")

    for token in (acme.admin_token, acme.read_token):
        stock, first, prepared = await follow(apps, token, SUBSCRIBE, variables, drive)
        assert first == stock and prepared == stock
        assert stock[0]["type"] == "error" or stock[0]["payload"]["errors"]
    assert engine_runs == [SUBSCRIBE] * 3


async def test_an_unexpected_error_is_masked_alike(
    apps: tuple[Any, Any],
    acme: Tenant,
    db_url: str,
    engine_runs: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = await new_job(db_url, acme)

    async def broken(*args: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(jobs, "get_jobs", broken)

    async def drive() -> None:
        raise AssertionError("no state to follow")

    stock, first, prepared = await follow(apps, acme.read_token, SUBSCRIBE, {"id": job_id}, drive)
    assert first == stock and prepared == stock
    assert [e["message"] for e in stock[0]["payload"]["errors"]] == ["Unexpected error."]
    assert "fire" not in json.dumps(stock)
    assert engine_runs == [SUBSCRIBE]


async def test_a_state_never_published_is_read_from_the_database(
    apps: tuple[Any, Any],
    acme: Tenant,
    db_url: str,
    redis: Redis,
    engine_runs: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker killed between its commit and its publish: the subscribers read the job once
    the relay has nudged them, its channel quiet for RECHECK_SECONDS."""
    monkeypatch.setattr(job_resolvers, "RECHECK_SECONDS", 0.3)
    monkeypatch.setattr(progress, "RECHECK_EVERY", 0.05)
    job_id = await new_job(db_url, acme)

    async def drive() -> None:
        await step(db_url, redis, job_id, "RUNNING", 2)
        # Written, not published: the end comes from the database.
        row_id = decode_id(job_id, "ImportJob")
        conn = await connect(db_url)
        try:
            await conn.execute(
                "UPDATE jobs SET status = 'SUCCEEDED', processed = 6, updated_at ="
                " clock_timestamp() WHERE id = $1",
                row_id,
            )
        finally:
            await conn.close()

    stock, first, prepared = await follow(apps, acme.admin_token, SUBSCRIBE, {"id": job_id}, drive)
    assert first == stock and prepared == stock
    states = [m["payload"]["data"]["job"] for m in stock if m["type"] == "next"]
    assert [(s["status"], s["processed"]) for s in states] == [
        ("QUEUED", 0),
        ("RUNNING", 2),
        ("SUCCEEDED", 6),
    ]
    assert engine_runs == [SUBSCRIBE]
