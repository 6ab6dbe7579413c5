"""No operation runs without a caller. Both transports refuse a request without a valid token
first (HTTP 401, graphql-transport-ws 4401: tests/test_security.py); the schema refuses any
other way in, before any resolver runs, with every way it executes."""

from typing import Any

from graphql import parse

from roster.graphql_schema import build_schema
from roster.settings import Settings
from schema.context import Context

REFUSED = {"message": "A valid token is required.", "extensions": {"code": "UNAUTHENTICATED"}}


def no_caller() -> Context:
    # Nothing to reach the database with: a resolver that ran would fail otherwise.
    nothing: Any = None
    return Context(
        request=nothing,
        response=None,
        pool=nothing,
        redis=nothing,
        executor=nothing,
        public_url="http://localhost",
        max_upload_bytes=1,
        count_bound=1,
        relay=None,
        cursor_key=b"",
    )


def refused(result: Any) -> bool:
    errors = [{"message": e.message, "extensions": e.extensions} for e in result.errors or []]
    return result.data is None and errors == [REFUSED]


async def test_queries_and_mutations_are_refused() -> None:
    schema = build_schema(Settings())
    for query in (
        "{ users(first: 1) { totalCount } }",
        "{ __typename }",
        "mutation { disableUsers(ids: []) { users { id } } }",
    ):
        assert refused(await schema.execute(query, context_value=no_caller())), query


async def test_a_prepared_document_is_refused() -> None:
    # The execution engine's prepared path, whatever ROSTER_PLAIN_EXECUTION says.
    schema = build_schema(Settings(plain_execution=True, prepared_documents=True))
    query = "{ users(first: 1) { totalCount } }"
    assert schema.prepared is not None
    schema.prepared.remember(query, parse(query))
    prepared = schema.prepared.get(query)
    assert prepared is not None
    assert refused(await schema.execute(query, context_value=no_caller()))
    assert refused(await schema.execute_prepared(prepared, query, None, no_caller(), None, None))


async def test_a_subscription_is_refused() -> None:
    schema = build_schema(Settings())
    stream = await schema.stream('subscription { job(id: "x") { id } }', context_value=no_caller())
    results = [result async for result in stream]
    assert len(results) == 1 and refused(results[0])
