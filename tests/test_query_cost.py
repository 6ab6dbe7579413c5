"""The query cost budget: big pages multiplied by aliases are refused before they run, while
every query of the README and the largest page with every field pass."""

import dataclasses
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import GraphQLSchema, parse
from graphql import build_schema as schema_from_sdl

from resolvers.id_lists import MAX_NODE_IDS
from roster.app import create_app
from roster.graphql_schema import build_schema
from roster.query_cost import ROW_COST, query_cost
from roster.settings import Settings
from tests.conftest import Api, Tenant, create_user

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
SEVEN_FIELDS = "id username email firstName lastName status createdAt"
EVERY_USER_FIELD = """id username email firstName lastName language timeZone officePhone
  mobilePhone location externalId status attributes hasPassword passwordChangedAt
  welcomeEmailSentAt createdAt updatedAt disabledAt
  roles { role grantedAt platform { id key aliases name kind roles } }"""
LARGEST_PAGE = f"""{{ users(first: 100) {{ totalCount pageInfo {{ hasNextPage endCursor }}
  edges {{ cursor node {{ {EVERY_USER_FIELD} }} }} }} }}"""


def sdl_schema() -> GraphQLSchema:
    return schema_from_sdl(build_schema(Settings()).as_str())


def aliased_pages(selection: str, count: int = 30) -> str:
    return (
        "{ " + " ".join(f"a{i}: users(first: 100) {{ {selection} }}" for i in range(count)) + " }"
    )


@pytest.mark.parametrize(
    "document",
    [
        aliased_pages(f"edges {{ node {{ {SEVEN_FIELDS} }} }}"),
        aliased_pages("edges { node { id } }"),
        aliased_pages("totalCount"),
        aliased_pages("count { value exact }"),
    ],
    ids=["seven fields", "ids", "counts", "bounded counts"],
)
async def test_thirty_big_pages_are_refused_before_they_run(admin: Api, document: str) -> None:
    response = await admin.post(document, accept=GRAPHQL_RESPONSE_JSON)
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    extensions = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COSTLY"
    assert extensions["budget"] == 20_000 < extensions["cost"]
    assert f"costs {extensions['cost']:,}" in error["message"]
    assert "budget of 20,000" in error["message"]


async def test_the_largest_page_with_every_field_passes(admin: Api) -> None:
    await create_user(
        admin,
        "alice",
        roles=[
            {"platform": "lcloud", "role": "student"},
            {"platform": "contentcloud", "role": "author"},
        ],
    )
    data = await admin.data(LARGEST_PAGE)
    (edge,) = data["users"]["edges"]
    assert len(edge["node"]["roles"]) == 2


async def test_hot_paths_cost_little() -> None:
    schema = sdl_schema()
    page = parse(f"{{ users(first: 50) {{ edges {{ node {{ {SEVEN_FIELDS} }} }} }} }}")
    assert query_cost(schema, page) < Settings().max_query_cost // 10


def test_the_bounded_count_costs_what_its_fields_do() -> None:
    """`count` reads no rows of its own: asking it beside a page adds its three fields."""
    schema = sdl_schema()
    page = f"edges {{ node {{ {SEVEN_FIELDS} }} }}"
    plain = query_cost(schema, parse(f"{{ users(first: 50) {{ {page} }} }}"))
    counted = f"{{ users(first: 50) {{ count {{ value exact relation }} {page} }} }}"
    assert query_cost(schema, parse(counted)) == plain + 4
    assert query_cost(schema, parse("{ users(first: 0) { count { value exact } } }")) == 4


@pytest.fixture
async def frugal(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(settings, max_query_cost=50))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            yield c


async def test_the_budget_is_configurable(frugal: httpx.AsyncClient, acme: Tenant) -> None:
    api = Api(frugal, acme.read_token)
    body = await api("{ users(first: 5) { edges { node { id } } } }")
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 62,
        "budget": 50,
    }
    assert (await api.data("{ platforms { key } }"))["platforms"]


def test_every_documented_example_is_within_the_budget() -> None:
    schema = sdl_schema()
    root = Path(__file__).parent.parent
    docs = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    text = "\n".join(path.read_text() for path in docs)
    blocks = re.findall(r"```graphql\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 10
    for block in blocks:
        assert query_cost(schema, parse(block)) <= Settings().max_query_cost, block


def test_variables_and_fragments_do_not_hide_a_page() -> None:
    schema = sdl_schema()
    plain = query_cost(schema, parse("{ users(first: 100) { edges { node { id } } } }"))
    assert plain == query_cost(
        schema,
        parse(
            "query($n: Int) { users(first: $n) { ...Page } } "
            "fragment Page on UserConnection { edges { node { ... on User { id } } } }"
        ),
    )
    # A variable is costed at the largest page, default or not: the request may send 100.
    defaulted = "query($n: Int = 5) { users(first: $n) { edges { node { id } } } }"
    assert query_cost(schema, parse(defaulted)) == plain


def test_nodes_are_costed_by_their_ids() -> None:
    """Each id is a row read, inline or in a variable (costed at the most it may hold)."""
    schema = sdl_schema()
    three = '{ nodes(ids: ["a", "b", "c"]) { id } }'
    assert query_cost(schema, parse(three)) == 1 + 3 * (ROW_COST + 1)
    variable = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert query_cost(schema, parse(variable)) == 1 + MAX_NODE_IDS * (ROW_COST + 1)
    defaulted = 'query($ids: [ID!]! = ["a"]) { nodes(ids: $ids) { id } }'
    assert query_cost(schema, parse(defaulted)) == query_cost(schema, parse(variable))


async def test_aliases_of_nodes_add_up(reader: Api) -> None:
    selection = "id ... on User { username roles { platform { key } } }"
    aliases = " ".join(f"a{i}: nodes(ids: $ids) {{ {selection} }}" for i in range(10))
    response = await reader.post(
        f"query($ids: [ID!]!) {{ {aliases} }}", {"ids": []}, accept=GRAPHQL_RESPONSE_JSON
    )
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_fragments_spread_again_and_again_are_costed_at_once() -> None:
    """Each fragment spreads the next twice: 2**40 fields, costed without expanding them."""
    schema = sdl_schema()
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    document = parse("{ ...F0 } " + fragments + " fragment F40 on Query { platforms { key } }")
    started = time.perf_counter()
    assert query_cost(schema, document) == 2**40 * 11
    assert time.perf_counter() - started < 0.5
