"""The execution engine (roster/execution/) answers exactly as stock Strawberry: queries
generated from Roster's schema, and queries written by hand for what generation rarely reaches
(fragments, aliases, @skip/@include, interfaces), run through both over the same data, with
debug and as served (errors masked, suggestions hidden); what a client sees (data, errors with
their messages, locations, paths and codes) must be the same. Once over regular data and once
over objects with wrong values in them (nulls in non-null fields, values a scalar or enum cannot
serialise, an id a resolver fails on): the stock path's null propagation and errors must come
out unchanged."""

import dataclasses
import gc
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import (
    ArgumentNode,
    FieldNode,
    IntValueNode,
    NameNode,
    OperationDefinitionNode,
    StringValueNode,
    parse,
    print_ast,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from hypothesis_graphql.nodes import String

from db import jobs, users
from db.events import Actor
from db.pool import create_pool
from resolvers.loaders import make_loaders
from resolvers.pagination import cursor_key
from roster.execution.compiled import CompiledOperation
from roster.execution.plain_execution import PlainDataExecutionContext
from roster.graphql_schema import RosterSchema, build_schema
from roster.settings import Settings
from schema.context import Context, Principal
from schema.user import User, UserStatus
from tests.conftest import Api, Tenant, create_user

# Bounded and derandomized: the same queries on every run, in a few seconds.
GENERATED = 60

BY_HAND = [
    "{ users(first: 5) { edges { cursor node { id username email status createdAt attributes"
    " roles { role grantedAt platform { key aliases kind } } } } pageInfo { hasNextPage"
    " endCursor } totalCount } }",
    "{ users(first: 3) { edges { node { ...U } } } } fragment U on User { __typename id"
    " nick: username ... on User { email } lastName @skip(if: true) firstName @include(if: true)"
    " }",
    "query($s: Boolean!) { users(first: 4) { edges { node { id username @include(if: $s)"
    " email @skip(if: $s) status } } } }",
    "{ a: users(first: 2) { edges { node { id } } } b: users(last: 2) { edges { node { id"
    " disabledAt welcomeEmailSentAt passwordChangedAt hasPassword } } } }",
    "{ users(first: 101) { edges { node { id } } } }",
    "{ platforms { __typename id key aliases name kind roles } }",
    "query($id: ID!) { node(id: $id) { __typename id ... on User { email roles { platform"
    " { id } } } } }",
    "query($id: ID!) { user(id: $id) { id firstName lastName roles { role platform { key } } } }",
    "query($job: ID!) { job(id: $job) { __typename id status total processed createdAt"
    " ... on ImportJob { created updated skipped failed dryRun errorReportUrl"
    " rowErrors(first: 2) { edges { cursor node { row column code message } } } } } }",
    "query($job: ID!) { node(id: $job) { id ... on Job { status } } }",
    "{ jobs(first: 3) { edges { node { id status ... on ImportJob { dryRun } } } } }",
    '{ user(username: "nobody") { id } }',
    # An error in a non-null root field nulls the whole answer; beside another root field too.
    "{ users(first: 500) { totalCount } }",
    "{ platforms { key } a: users(first: 500) { totalCount } b: users(first: 1) { totalCount } }",
    # What the compiled path works out once: variables of each kind (given, null, left out, with
    # a default), literal arguments, `__typename` and aliases at the root, a root field twice.
    "query($n: Int, $none: Int, $left: String) { a: users(first: $n, after: $left) { edges {"
    " node { id } } } b: users(first: $none) { totalCount } }",
    "query($n: Int = 2) { users(first: $n) { edges { node { username } } } }",
    "query($status: JobStatus) { jobs(first: 2, status: $status) { edges { node { id } } } }",
    "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { username } } }",
    "query($f: UserFilter) { users(first: 3, filter: $f) { edges { node { username status } } } }",
    "{ users(first: 2, orderBy: {field: EMAIL, direction: DESC}) { edges { node { email } } } }",
    "{ __typename t: __typename importSpeed { __typename } auditActions platforms { key } }",
    "query($id: ID!) { user(id: $id) { id } again: user(id: $id) { username } bogus: user(id:"
    ' "VXNlcjpubw==") { id } }',
    "query($none: ID) { user(id: $none) { id } }",
    # An error in a non-null root field's resolver, beside other root fields.
    "query($x: String!) { platforms { key } passwordVerdict(password: $x) { acceptable } }",
]
# The variables the queries above read (those of `world` besides).
VARIABLES = {
    "s": True,
    "n": 3,
    "none": None,
    "status": "SUCCEEDED",
    "f": {"status": "ACTIVE"},
    "x": "hunter2",
}


def generated_queries(count: int) -> list[str]:
    """Queries from Roster's schema, the same ones on every run."""
    schema = build_schema(Settings(debug=True)).as_str()
    found: list[str] = []
    scalars = {
        "DateTime": st.just(StringValueNode(value="2025-01-01T00:00:00+00:00")),
        "JSON": st.just(String("{}")),
        "Upload": st.just(String("")),
    }

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(queries(schema, custom_scalars=scalars, allow_x00=False))
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return found


def grounded(query: str, world: dict[str, Any]) -> str:
    """The query with root arguments that find data (generated ones rarely do): its selections
    then run over real users, platforms and jobs."""
    arguments = {
        "users": {"first": IntValueNode(value="8")},
        "jobs": {"first": IntValueNode(value="3")},
        "auditEvents": {"first": IntValueNode(value="5")},
        "user": {"id": StringValueNode(value=world["id"])},
        "node": {"id": StringValueNode(value=world["id"])},
        "job": {"id": StringValueNode(value=world["job"])},
    }
    document = parse(query)
    operations = []
    for definition in document.definitions:
        assert isinstance(definition, OperationDefinitionNode)
        fields = []
        for field in definition.selection_set.selections:
            assert isinstance(field, FieldNode)
            given = arguments.get(field.name.value)
            if given is not None:
                field = dataclasses.replace(
                    field,
                    arguments=tuple(
                        ArgumentNode(name=NameNode(value=name), value=value)
                        for name, value in given.items()
                    ),
                )
            fields.append(field)
        selections = dataclasses.replace(definition.selection_set, selections=tuple(fields))
        operations.append(dataclasses.replace(definition, selection_set=selections))
    document = dataclasses.replace(document, definitions=tuple(operations))
    return print_ast(document)


def corrupted(from_row: Callable[[Any], User]) -> Callable[[Any], User]:
    """User.from_row, with wrong values in some users: what the stock path turns into errors
    and nulls, which the plans must leave to it."""

    def wrong(row: Any) -> User:
        user = from_row(row)
        n = row["id"].int  # the row may hold only the columns the query asks
        if n % 4 == 1:
            user = dataclasses.replace(user, email=None)  # non-null field: null propagates
        elif n % 4 == 2:
            user = dataclasses.replace(user, status="NOT_A_STATUS", created_at="yesterday")
        elif n % 4 == 3:
            user = dataclasses.replace(user, id="not-a-uuid", language=7)  # roles() raises
        return user

    return wrong


@pytest.fixture
async def world(admin: Api, acme: Tenant, db_url: str) -> dict[str, Any]:
    """Users (some with roles, some disabled), a job; the ids of some of them."""
    users = []
    for n in range(8):
        roles = [{"platform": "learningcloud", "role": "student"}] if n % 2 else []
        fields: dict[str, Any] = {"roles": roles}
        if n % 3 == 0:
            fields.update(language="es", attributes={"team": f"t{n}"}, externalId=f"x{n}")
        users.append(await create_user(admin, f"user{n}", **fields))
    await admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { users { id } } }",
        ids=[users[0]["id"]],
    )
    pool = await create_pool(db_url)
    try:
        async with pool.acquire() as conn:
            job = await jobs.create_job(
                conn,
                acme.id,
                "IMPORT",
                file_id=None,
                options={},
                dry_run=True,
                actor=Actor(token_id=None, name="test"),
            )
    finally:
        await pool.close()
    return {"id": users[3]["id"], "job": strawberry.relay.to_base64("ImportJob", job["id"])}


# Both executors seal and read cursors alike: any key does, the same for both.
CURSOR_KEY = cursor_key(b"plain execution tests")


@pytest.fixture(params=[True, False], ids=["debug", "as-served"])
def debug(request: pytest.FixtureRequest) -> bool:
    """With debug, or as Roster is served (errors masked)."""
    return bool(request.param)


@pytest.fixture
async def executors(
    debug: bool, db_url: str, acme: Tenant, compiled_runs: list[str]
) -> AsyncIterator[Callable[..., Any]]:
    """Runs a query through stock Strawberry (the engine off), then three times through the
    engine: the first time Strawberry's way with plans, the second as a prepared document
    (roster/execution/prepared.py) without compiling it, the third compiled where it can be
    (roster/execution/compiled.py); returns what a client would see of the four answers. With
    debug, for an admin; as served, for a read token: unexpected errors masked, suggestions
    hidden."""
    settings = Settings(
        database_url=db_url, debug=debug, plain_execution=True, prepared_documents=True
    )
    plain = build_schema(settings)
    stock = build_schema(dataclasses.replace(settings, plain_execution=False))
    assert stock.engine is None and plain.engine is not None
    pool = await create_pool(db_url, custom_plans=True, session_state=False)
    scope = "admin" if debug else "read"
    principal = Principal(tenant_id=acme.id, token_id=None, token_name="test", scope=scope)

    def context() -> Context:
        ctx = Context(
            request=None,  # type: ignore[arg-type]
            response=None,
            pool=pool,
            redis=None,  # type: ignore[arg-type]
            executor=None,  # type: ignore[arg-type]
            public_url="http://roster.test",
            max_upload_bytes=0,
            relay=None,
            count_bound=settings.count_bound,
            cursor_key=CURSOR_KEY,
        )
        ctx.authenticate(principal, make_loaders(pool, acme.id, CURSOR_KEY))
        return ctx

    async def run(query: str, variables: dict[str, Any]) -> list[Any]:
        answers = []
        assert plain.engine is not None
        for schema, compiled in ((stock, False), (plain, False), (plain, False), (plain, True)):
            plain.engine.compiled = compiled
            result = await schema.execute(query, variable_values=variables, context_value=context())
            # As the response holds them: message, locations, path, extensions.
            errors = sorted(
                json.dumps(e.formatted, sort_keys=True, default=str) for e in result.errors or []
            )
            answers.append((result.data, errors, result.extensions or {}))
        return answers

    try:
        yield run
    finally:
        await pool.close()
    # The second runs took the prepared way: the valid documents were remembered.
    assert isinstance(plain, RosterSchema) and plain.prepared is not None
    assert plain.prepared.documents
    assert compiled_runs


@pytest.fixture
def compiled_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations that ran compiled, as text."""
    runs: list[str] = []
    run = CompiledOperation.run

    def counted(self: CompiledOperation, *args: Any) -> Any:
        runs.append(print_ast(self.operation))
        return run(self, *args)

    monkeypatch.setattr(CompiledOperation, "run", counted)
    return runs


@pytest.mark.parametrize("wrong_values", [False, True], ids=["regular", "wrong-values"])
async def test_plain_execution_answers_as_stock_execution(
    world: dict[str, Any],
    executors: Callable[..., Any],
    wrong_values: bool,
    monkeypatch: pytest.MonkeyPatch,
    compiled_runs: list[str],
) -> None:
    if wrong_values:
        monkeypatch.setattr(User, "from_row", corrupted(User.from_row))
    variables = {**world, **VARIABLES, "ids": [world["id"], world["job"]]}
    erred = 0
    generated = generated_queries(GENERATED)
    queries = BY_HAND + generated + [grounded(q, world) for q in generated]
    for query in queries:
        stock, plain, prepared, compiled = await executors(query, variables)
        assert plain == stock, query
        assert prepared == stock, query
        assert compiled == stock, query
        erred += bool(stock[1])
    if wrong_values:
        assert erred >= 5  # the wrong values did reach the answers
    # Every query compiled but those whose @skip or @include reads a variable.
    assert len(compiled_runs) == len([q for q in queries if "(if: $" not in q])


async def test_unexpected_errors_are_masked_alike(
    world: dict[str, Any],
    executors: Callable[..., Any],
    debug: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As served, an unexpected error reads "Unexpected error." on every path; a coded one
    keeps its message and code."""

    async def broken(*args: Any) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(users, "get_user_by_username", broken)
    unexpected = '{ user(username: "alice") { id } }'
    coded = "{ users(first: 500) { totalCount } }"
    errors = {}
    for query in (unexpected, coded):
        stock, plain, prepared, compiled = await executors(query, {})
        assert plain == stock == prepared == compiled, query
        errors[query] = [json.loads(e) for e in stock[1]]
    assert [e["message"] for e in errors[unexpected]] == [
        "the disk is on fire" if debug else "Unexpected error."
    ]
    assert [e["extensions"]["code"] for e in errors[coded]] == ["INVALID_PAGINATION"]


async def test_plain_execution_completes_enums_and_datetimes(
    world: dict[str, Any], executors: Callable[..., Any]
) -> None:
    query = "{ users(first: 8) { edges { node { status createdAt attributes } } } }"
    stock, plain, prepared, compiled = await executors(query, {})
    assert plain == stock == prepared == compiled
    nodes = [e["node"] for e in plain[0]["users"]["edges"]]
    assert {n["status"] for n in nodes} == {s.value for s in UserStatus}
    assert all(datetime.fromisoformat(n["createdAt"]) < datetime.now(UTC) for n in nodes)
    assert {"team": "t0"} in [n["attributes"] for n in nodes]


async def test_an_operation_leaves_nothing_for_the_garbage_collector(
    world: dict[str, Any], executors: Callable[..., Any]
) -> None:
    """What an operation held (executor, context, request) is freed when it ends, not by the
    garbage collector's next pass: graphql-core's helpers made a cycle of every executor."""
    query = "query($id: ID!) { user(id: $id) { id username status createdAt } }"
    variables = {"id": world["id"]}
    await executors(query, variables)  # remembered: the runs below take the prepared way
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await executors(query, variables)
        gc.collect()
        # Strawberry's own executor, which the stock run takes, still makes one.
        left = [o for o in gc.garbage if isinstance(o, PlainDataExecutionContext)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
