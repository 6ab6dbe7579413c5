"""An argument given as `null`, left out, or given by a variable that is null reaches its
resolver alike (roster/execution/arguments.py leaves graphql-core's nulls out before Strawberry
converts them), and a resolver it calls directly receives what Strawberry's wrapper would have
handed it."""

from enum import Enum

import strawberry
from graphql import GraphQLObjectType

from roster.execution.arguments import hand_over_arguments_lightly
from roster.graphql_schema import build_schema
from roster.settings import Settings
from tests.conftest import Api, create_user


async def test_null_arguments_are_the_defaults(admin: Api) -> None:
    for name in ("alice", "bob", "carol"):
        await create_user(admin, name)
    left_out = await admin.data("{ users(first: 2) { edges { node { username } } } }")
    given_null = await admin.data(
        "{ users(first: 2, after: null, search: null, filter: null, orderBy: null)"
        " { edges { node { username } } } }"
    )
    by_variables = await admin.data(
        "query($s: String, $f: UserFilter) { users(first: 2, search: $s, filter: $f)"
        " { edges { node { username } } } }",
        s=None,
        f=None,
    )
    assert left_out == given_null == by_variables
    assert [e["node"]["username"] for e in left_out["users"]["edges"]] == ["alice", "bob"]


async def test_a_required_argument_is_still_checked(admin: Api) -> None:
    body = await admin("{ user(id: null, username: null, email: null) { id } }")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENTS"


def test_only_arguments_defaulting_to_none_are_left_out() -> None:
    """A field whose arguments all must be given keeps Strawberry's resolver as it is; one
    whose arguments Strawberry converts all default to None is called directly (and through
    Strawberry's wrapper when a call gives one of them)."""
    schema = build_schema(Settings(plain_execution=True))._schema
    query = schema.query_type
    assert isinstance(query, GraphQLObjectType)
    assert query.fields["users"].resolve.__name__ == "resolve_async"
    assert query.fields["nodes"].resolve.__name__ == "_async_resolver"
    assert query.fields["job"].resolve.__name__ != "resolve_given"
    # A subscription's `resolve` hands on its events: it is not the field's resolver.
    subscription = schema.subscription_type
    assert isinstance(subscription, GraphQLObjectType)
    assert subscription.fields["job"].resolve.__name__ not in ("resolve", "resolve_async")
    # Mutations keep Strawberry's wrapper: their permission is an extension.
    mutation = schema.mutation_type
    assert isinstance(mutation, GraphQLObjectType)
    assert mutation.fields["createUser"].resolve.__name__ == "_async_resolver"
    assert mutation.fields["startImport"].resolve.__name__ == "resolve_given"


@strawberry.input
class Bounds:
    low: int = 0
    high: int = 10


@strawberry.enum
class Tone(Enum):
    SOFT = "soft"
    LOUD = "loud"


@strawberry.type
class _Query:
    """Resolvers taking the source, the info and plain scalars every way Strawberry allows."""

    label: strawberry.Private[str] = "root"

    @strawberry.field
    def echo(  # noqa: PLR0913, PLR0917
        self,
        info: strawberry.Info,
        text: str,
        times: int = 1,
        loud: bool | None = None,
        ratio: float | None = None,
        some_id: strawberry.ID | None = None,
    ) -> str:
        word = f"{self.label}:{info.field_name}:{text * times}:{ratio}:{some_id}"
        return word.upper() if loud else word

    @strawberry.field
    async def later(root: "_Query", number: int, note: str | None = "kept") -> str:  # noqa: N805
        return f"{root.label}:{number}:{note}"

    @strawberry.field
    def of_parent(self, parent: strawberry.Parent["_Query"], name: str = "x") -> str:
        return f"{parent.label}:{name}"

    @strawberry.field
    def listed(self, names: list[str]) -> str:
        return ",".join(names)

    @strawberry.field
    def ranged(
        self, label: str = "r", bounds: Bounds | None = None, tone: Tone | None = None
    ) -> str:
        # Called directly but where a call gives bounds or tone, which Strawberry converts.
        return f"{label}:{bounds}:{tone}"


_CALLS = [
    '{ echo(text: "ab") }',
    '{ echo(text: "ab", times: 2, loud: true, ratio: 0.5, someId: "VXNlcjox") }',
    '{ echo(text: "ab", loud: null, ratio: null, someId: null) }',
    "query($t: String!, $l: Boolean) { echo(text: $t, loud: $l) }",
    "{ later(number: 3) }",
    "{ later(number: 3, note: null) }",
    '{ later(number: 3, note: "given") }',
    '{ ofParent(name: "y") ofParent2: ofParent }',
    '{ listed(names: ["a", "b"]) }',
    "{ echo }",
    "{ echo(text: 5) }",
    "{ ranged }",
    '{ ranged(label: "x", bounds: null, tone: null) }',
    "{ ranged(bounds: {low: 1}) }",
    "{ ranged(tone: LOUD) }",
    "query($b: Bounds, $tone: Tone) { ranged(bounds: $b, tone: $tone) }",
    "{ ranged(bounds: {low: true}) }",
]


async def test_resolvers_called_directly_receive_what_strawberry_gives_them() -> None:
    stock = strawberry.Schema(query=_Query)
    light = strawberry.Schema(query=_Query)
    hand_over_arguments_lightly(light)
    fields = light._schema.query_type.fields  # type: ignore[union-attr]
    assert fields["echo"].resolve.__name__ == "resolve"
    assert fields["later"].resolve.__name__ == "resolve_async"
    assert fields["listed"].resolve.__name__ != "resolve"  # a list is Strawberry's to copy
    assert fields["ranged"].resolve.__name__ == "resolve"
    for query in _CALLS:
        variables = {"t": "v", "l": None, "b": {"high": 3}, "tone": "LOUD"}
        root = _Query(label="source")
        expected = await stock.execute(query, variable_values=variables, root_value=root)
        got = await light.execute(query, variable_values=variables, root_value=root)
        assert (got.data, got.errors) == (expected.data, expected.errors), query
        if "echo }" not in query and "text: 5" not in query and "true" not in query:
            assert got.errors is None, query
