"""A document sent again runs without Strawberry's extension hooks
(roster/execution/prepared.py): the second answer must be the first one — data, errors, masking,
hidden suggestions — and nothing the hooks refuse may pass the second time; and the prepared
path knows what each of the schema's extensions does."""

import dataclasses
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from db import users
from roster.execution.engine import SKIPPED_EXTENSIONS, Engine, extension_classes
from roster.execution.prepared import RememberValidDocuments
from roster.graphql_schema import RosterSchema, build_schema
from roster.introspection import IntrospectionForAdmins
from roster.settings import Settings
from tests.conftest import Api, create_user

TYPO_ENUM_VARIABLE = (
    "query($s: UserStatus) { users(first: 2, filter: {status: $s}) { totalCount } }"
)
# The schema's extensions as Roster is served, in order: a prepared document runs without any
# of their hooks, so the prepared path has to do what each does (SKIPPED_EXTENSIONS says how).
EXTENSIONS = [
    MaxTokensLimiter,
    ParserCache,
    AddValidationRules,
    ValidationCache,
    RememberValidDocuments,
    IntrospectionForAdmins,
    MaskErrors,
]
ENGINE_ON = {"plain_execution": True, "prepared_documents": True}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The engine on, whatever ROSTER_PLAIN_EXECUTION says: these are its tests."""
    return dataclasses.replace(settings, **ENGINE_ON)


@pytest.fixture
def prepared_runs(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The documents that ran the prepared way, in order."""
    runs: list[str | None] = []
    execute_prepared = RosterSchema.execute_prepared

    async def counted(self: RosterSchema, prepared: Any, query: str | None, *args: Any) -> Any:
        runs.append(query)
        return await execute_prepared(self, prepared, query, *args)

    monkeypatch.setattr(RosterSchema, "execute_prepared", counted)
    return runs


async def twice(api: Api, query: str, **variables: Any) -> tuple[Any, Any]:
    """Status, media type and body of the first answer (Strawberry's way) and of the second
    (roster.graphql_view's answer to a prepared document)."""
    answers = []
    for _ in range(2):
        response = await api.post(query, variables)
        answers.append((response.status_code, response.headers["content-type"], response.json()))
    first, second = answers
    return (first[0], first[2]), (second[0], second[2]) if first[1] == second[1] else "other type"


@pytest.mark.parametrize(
    ("who", "query", "variables"),
    [
        ("admin", "{ users(first: 5) { edges { node { id username status createdAt } } } }", {}),
        ("reader", "{ users(first: 5) { edges { cursor node { id roles { role } } } } }", {}),
        # Variable errors come from execution: "Did you mean" for admins only.
        ("admin", TYPO_ENUM_VARIABLE, {"s": "ACTIV"}),
        ("reader", TYPO_ENUM_VARIABLE, {"s": "ACTIV"}),
        # A BadRequest, kept; and a userError.
        ("admin", "{ users(first: 500) { totalCount } }", {}),
        (
            "admin",
            'mutation { createUser(input: {username: "", email: "x@example.com", firstName: "A",'
            ' lastName: "B"}) { userErrors { code field } } }',
            {},
        ),
    ],
    ids=["data", "reader-data", "admin-enum", "reader-enum", "bad-request", "user-error"],
)
async def test_a_document_sent_again_gets_the_same_answer(
    admin: Api,
    reader: Api,
    prepared_runs: list[str | None],
    who: str,
    query: str,
    variables: dict[str, Any],
) -> None:
    for n in range(3):
        await create_user(admin, f"user{n}")
    prepared_runs.clear()
    api = admin if who == "admin" else reader
    first, second = await twice(api, query, **variables)
    assert second == first
    assert prepared_runs == [query]
    if "ACTIV" in str(variables):
        assert ("Did you mean" in str(first[1])) == (who == "admin")


@pytest.mark.parametrize(
    "accept", ["application/json", "application/graphql-response+json", "text/html, */*"]
)
async def test_the_prepared_answer_is_the_same_over_http(
    admin: Api, prepared_runs: list[str | None], accept: str
) -> None:
    await create_user(admin, "alice")
    query = "query($n: Int) { users(first: $n) { edges { node { username } } } }"
    answers = []
    for _ in range(2):
        response = await admin.post(query, {"n": 2}, accept=accept)
        answers.append((response.status_code, dict(response.headers), response.content))
    assert answers[1] == answers[0]
    assert answers[0][1]["content-type"] == (
        "application/graphql-response+json" if "graphql-response" in accept else "application/json"
    )
    assert prepared_runs == [query]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        # What Strawberry refuses stays refused, the document being prepared or not.
        ({"variables": "n=2"}, 400),
        ({"extensions": []}, 400),
        ({"operationName": 5}, 400),
        # What it answers otherwise, it still answers: extensions go through its hooks.
        ({"extensions": {"trace": True}}, 200),
    ],
    ids=["variables-string", "extensions-list", "operation-name-number", "extensions"],
)
async def test_a_request_other_than_a_plain_post_of_a_prepared_document_goes_to_strawberry(
    admin: Api,
    client: httpx.AsyncClient,
    prepared_runs: list[str | None],
    body: dict[str, Any],
    status: int,
) -> None:
    query = "{ users(first: 1) { totalCount } }"
    await admin.data(query)
    await admin.data(query)
    prepared_runs.clear()
    response = await client.post(
        "/graphql",
        json={"query": query, **body},
        headers={"authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == status, response.text
    assert prepared_runs == []


MANY_OPERATIONS = (
    "query Few { users(first: 1) { ...Page } } query More($n: Int) { users(first: $n) { ...Page"
    " } } fragment Page on UserConnection { edges { node { username } } }"
)


@pytest.mark.parametrize(
    ("operation", "variables"),
    [("Few", {}), ("More", {"n": 3}), ("More", {"n": "three"}), ("Other", {}), (None, {})],
)
async def test_each_operation_of_a_prepared_document_runs_as_it_did(
    admin: Api,
    client: httpx.AsyncClient,
    prepared_runs: list[str | None],
    operation: str | None,
    variables: dict[str, Any],
) -> None:
    """By its name, with its fragments and its variables, the second time as the first (which
    Strawberry answered); an unknown name or none (with two operations) refused alike."""
    for n in range(4):
        await create_user(admin, f"user{n}")
    body = {"query": MANY_OPERATIONS, "operationName": operation, "variables": variables}
    headers = {"authorization": f"Bearer {admin.token}"}
    prepared_runs.clear()
    answers = []
    for _ in range(2):
        response = await client.post("/graphql", json=body, headers=headers)
        answers.append((response.status_code, response.json()))
    assert answers[1] == answers[0]
    assert prepared_runs == ([MANY_OPERATIONS] if operation in ("Few", "More") else [])
    if variables.get("n") == 3:
        assert len(answers[0][1]["data"]["users"]["edges"]) == 3


async def test_a_prepared_document_without_a_token_is_refused(
    admin: Api, client: httpx.AsyncClient
) -> None:
    query = "{ users(first: 1) { totalCount } }"
    await admin.data(query)
    await admin.data(query)
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def test_an_unexpected_error_is_masked_and_logged_the_second_time_too(
    admin: Api,
    prepared_runs: list[str | None],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: Any) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(users, "get_user_by_username", broken)
    query = '{ user(username: "alice") { id } }'
    first, second = await twice(admin, query)
    assert second == first
    assert first[1]["errors"][0]["message"] == "Unexpected error."
    assert "the disk is on fire" not in str(first[1])
    assert prepared_runs == [query]
    logged = [r.getMessage() for r in caplog.records if r.name == "roster.graphql"]
    assert len(logged) == 2 and all("the disk is on fire" in m for m in logged)


async def test_a_mutation_prepared_by_post_is_still_refused_over_get(
    admin: Api, client: httpx.AsyncClient, prepared_runs: list[str | None]
) -> None:
    query = "mutation { disableUsers(ids: []) { users { id } } }"
    await admin.data(query)
    await admin.data(query)
    response = await client.get(
        "/graphql", params={"query": query}, headers={"authorization": f"Bearer {admin.token}"}
    )
    assert response.status_code in (400, 405)
    assert "mutation" in response.text.lower()
    assert prepared_runs == [query]


async def test_introspection_is_never_prepared(
    admin: Api, reader: Api, prepared_runs: list[str | None]
) -> None:
    schema = "{ __schema { queryType { name } } }"
    for _ in range(2):
        assert await admin.data(schema)
    body = await reader(schema)
    assert "introspection" in body["errors"][0]["message"].lower()
    assert prepared_runs == []


async def test_an_invalid_document_stays_invalid(
    admin: Api, prepared_runs: list[str | None]
) -> None:
    first, second = await twice(admin, "{ users { totalCont } }")
    assert second == first and "errors" in first[1]
    assert prepared_runs == []


def test_the_prepared_path_knows_each_extension_of_the_schema() -> None:
    served = extension_classes(
        build_schema(Settings(debug=False, introspection=False, **ENGINE_ON))
    )
    assert served == EXTENSIONS, (
        "The schema's extensions changed, and a prepared document runs without their hooks: make "
        "roster/execution/engine.py do for prepared documents what each new one does (as it masks "
        "errors for MaskErrors), add it to SKIPPED_EXTENSIONS saying how, then to EXTENSIONS here."
    )
    assert set(served) <= set(SKIPPED_EXTENSIONS)
    debug = extension_classes(build_schema(Settings(debug=True, **ENGINE_ON)))
    assert set(debug) < set(served)


def test_an_extension_the_prepared_path_does_not_know_is_refused() -> None:
    class Tracing(SchemaExtension):
        pass

    @strawberry.type
    class Query:
        answer: int = 42

    schema = strawberry.Schema(query=Query, extensions=[Tracing])
    engine = Engine(prepared_documents=True, mask=None, hide_schema=False)
    with pytest.raises(TypeError, match="Tracing"):
        engine.install(schema)
    # Without prepared documents every request goes through the hooks: nothing is skipped.
    Engine(prepared_documents=False, mask=None, hide_schema=False).install(schema)
