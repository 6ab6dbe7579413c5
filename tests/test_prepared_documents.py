"""A document sent again runs without Strawberry's extension hooks (roster/prepared.py): the
second answer must be the first one — data, errors, masking, hidden suggestions — and nothing
the hooks refuse may pass the second time."""

from typing import Any

import httpx
import pytest

from db import users
from roster.graphql_schema import RosterSchema
from tests.conftest import Api, create_user

TYPO_ENUM_VARIABLE = (
    "query($s: UserStatus) { users(first: 2, filter: {status: $s}) { totalCount } }"
)


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
    first = await api.post(query, variables)
    second = await api.post(query, variables)
    return (first.status_code, first.json()), (second.status_code, second.json())


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
